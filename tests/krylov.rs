//! The Krylov exponential integrator (card `scharfetter-gummel-krylov`): against a
//! dense matrix exponential on a small operator, on OU against the exact moments, on
//! seed against a time-converged reference, and how its work grows with the stiffness.
//!
//! The integrator's tolerance bounds the L1 error at the last stop relative to ‖P₀‖₁
//! (per-step estimates that add up under the L1 contraction exp(tA)); these tests
//! check that bound where a reference is known to far better accuracy.

use probcurrent::analysis::metrics::wasserstein1;
use probcurrent::scheme::{IntegratorSpec, KrylovSpec};
use probcurrent::time::{Flow, Krylov, Observer, Propagator};
use probcurrent::{run, Grid, Operator, Outcome, Problem, RunReport, RunSettings, Scheme, Stats};

const CARD: &str = "scharfetter-gummel-krylov";

fn card(rtol: f64, m: usize) -> Scheme {
    let mut s = Scheme::resolve(CARD).unwrap();
    s.integrator = IntegratorSpec::Krylov(KrylovSpec { rtol, m });
    s
}

fn solve(p: &Problem, scheme: &Scheme, cells: usize, dt: Option<f64>, t_end: f64) -> RunReport {
    let r = run(
        p,
        scheme,
        &RunSettings {
            cells,
            dt,
            t_end: Some(t_end),
            every: Some(t_end),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        !matches!(r.outcome, Outcome::Diverged | Outcome::Failed),
        "{}: {:?} {:?}",
        scheme.name,
        r.outcome,
        r.reason
    );
    r
}

fn last(r: &RunReport) -> Vec<f64> {
    r.snapshots.last().unwrap().p.clone()
}

fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

/// Keeps nothing: the propagation runs to its last stop.
struct Quiet;
impl Observer for Quiet {
    fn stop(&mut self, _: f64, _: &[f64], _: &Stats) -> Flow {
        Flow::Continue
    }
}

/// exp(tA) of a dense row-major n × n matrix: Taylor series of degree 40 on tA / 2ˢ
/// with ‖tA / 2ˢ‖₁ ≤ ¼, then s squarings (independent of the module's Padé code).
fn dense_exp(a: &[f64], n: usize, t: f64) -> Vec<f64> {
    let norm = (0..n)
        .map(|j| (0..n).map(|i| a[i * n + j].abs()).sum::<f64>())
        .fold(0.0, f64::max)
        * t;
    let s = (norm / 0.25).log2().ceil().max(0.0) as i32;
    let x: Vec<f64> = a.iter().map(|v| v * t / 2f64.powi(s)).collect();
    let mul = |p: &[f64], q: &[f64]| {
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for k in 0..n {
                for j in 0..n {
                    c[i * n + j] += p[i * n + k] * q[k * n + j];
                }
            }
        }
        c
    };
    let mut e: Vec<f64> = (0..n * n)
        .map(|i| i.is_multiple_of(n + 1) as u8 as f64)
        .collect();
    let mut term = e.clone();
    for k in 1..=40 {
        term = mul(&term, &x).iter().map(|v| v / k as f64).collect();
        e.iter_mut().zip(&term).for_each(|(a, b)| *a += b);
    }
    for _ in 0..s {
        e = mul(&e, &e);
    }
    e
}

/// OU on 24 cells with the Scharfetter–Gummel flux: a small operator, as a dense matrix.
fn small_ou() -> (Operator, Vec<f64>) {
    let ou = Problem::builtin("ou").unwrap();
    let n = 24;
    let grid = Grid::new(ou.a, ou.b, n).unwrap();
    let flux = probcurrent::space::flux::by_name("scharfetter-gummel").unwrap();
    let op = Operator::assemble(&ou, grid.clone(), flux.as_ref()).unwrap();
    let mut dense = vec![0.0; n * n];
    for i in 0..n {
        dense[i * n + i] = op.a.diag[i];
        if i > 0 {
            dense[i * n + i - 1] = op.a.lower[i];
        }
        if i + 1 < n {
            dense[i * n + i + 1] = op.a.upper[i];
        }
    }
    (op, dense)
}

/// Order m in time: one step of length τ (a tolerance so loose that the whole span is
/// one step) with Krylov dimension m = 2, 3, 4 on the small OU operator has local error
/// O(τ^{m+1}) — the polynomial of degree m in τA matches exp to that order. Measured
/// by halving τ = 1, ½, ¼: every ratio of L1 errors is 2^{m+1 ± 0.3}.
#[test]
fn one_step_has_local_order_m_plus_one() {
    let (op, dense) = small_ou();
    let n = op.a.n();
    let p0: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7) % 5) as f64).collect();
    for m in [2, 3, 4] {
        let mut errs = vec![];
        for tau in [1.0, 0.5, 0.25] {
            let e = dense_exp(&dense, n, tau);
            let want: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| e[i * n + j] * p0[j]).sum())
                .collect();
            let mut k = Krylov::new(&op, 1e300, m);
            let (mut p, mut stats) = (p0.clone(), Stats::default());
            k.propagate(&mut p, 0.0, &[tau], &mut Quiet, &mut stats)
                .unwrap();
            assert_eq!(stats.steps, 1);
            errs.push(l1(&p, &want));
        }
        let orders: Vec<f64> = errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("m {m}: one-step errors {errs:?}, local orders {orders:.3?}");
        for o in &orders {
            assert!(
                (o - (m + 1) as f64).abs() <= 0.3,
                "m {m}: {orders:?} {errs:?}"
            );
        }
    }
}

/// A small operator (OU, 24 cells, Scharfetter–Gummel): exp(tA)P₀ from the
/// dense exponential against the Krylov propagation with m = 3 (many steps, the basis
/// far smaller than the operator) and m = 30 (larger than the operator: the space is
/// exhausted). The L1 error at t = 5, 20, 60 stays within the tolerance's bound
/// rtol ‖P₀‖₁, and mass is conserved to rounding.
#[test]
fn matches_a_dense_exponential_on_a_small_operator() {
    let (op, dense) = small_ou();
    let n = op.a.n();
    // a rough start: every cell positive, uneven
    let p0: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7) % 5) as f64).collect();
    let norm0: f64 = p0.iter().sum();
    for t in [5.0, 20.0, 60.0] {
        let e = dense_exp(&dense, n, t);
        let want: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| e[i * n + j] * p0[j]).sum())
            .collect();
        for (m, rtol) in [(3, 1e-6), (3, 1e-9), (30, 1e-6), (30, 1e-10)] {
            let mut k = Krylov::new(&op, rtol, m);
            let mut p = p0.clone();
            let mut stats = Stats::default();
            let reached = k
                .propagate(&mut p, 0.0, &[t], &mut Quiet, &mut stats)
                .unwrap();
            assert_eq!(reached, t);
            let err = l1(&p, &want) / norm0;
            let mass = (p.iter().sum::<f64>() - norm0).abs() / norm0;
            eprintln!(
                "t {t} m {m} rtol {rtol:e}: relative L1 error {err:.2e}, mass {mass:.1e}, {} steps, {} rejected, {} products",
                stats.steps, stats.rejected_steps, stats.rhs_evals
            );
            assert!(err <= rtol, "t {t} m {m} rtol {rtol:e}: error {err:e}");
            assert!(mass < 1e-14, "mass {mass:e}");
        }
    }
}

/// OU against its exact moments (mean e^{−Tt}, variance 0.01) at t = 100 on N = 100,
/// 200, 400 at rtol 1e-8: the moment errors are the Scharfetter–Gummel semi-discrete
/// ones and fall at order 2 ± 0.3 in h (the time error does not show), and the
/// density agrees with a time-converged reference to within the tolerance: Crank–Nicolson
/// at dt = 0.01 and 0.005, Richardson-extrapolated (CN's error expands in even powers of
/// dt, so what remains is O(dt⁴); CN at dt = 0.01 alone differs by 3.7e-8 in L1).
#[test]
fn ou_moments_show_only_the_spatial_error() {
    let ou = Problem::builtin("ou").unwrap();
    let t_end = 100.0;
    let (mean, var) = ou.exact_moments(t_end).unwrap();
    let cn = Scheme::resolve("scharfetter-gummel-cn").unwrap();
    let (mut em, mut ev) = (vec![], vec![]);
    let ns = [100, 200, 400];
    for &n in &ns {
        let r = solve(&ou, &card(1e-8, 30), n, None, t_end);
        let mo = r.moments.last().unwrap();
        em.push((mo.mean - mean).abs());
        ev.push((mo.sd * mo.sd - var).abs());
        let c1 = last(&solve(&ou, &cn, n, Some(0.01), t_end));
        let c2 = last(&solve(&ou, &cn, n, Some(0.005), t_end));
        let reference: Vec<f64> = c1
            .iter()
            .zip(&c2)
            .map(|(x, y)| (4.0 * y - x) / 3.0)
            .collect();
        let h = (ou.b - ou.a) / n as f64;
        let diff = l1(&last(&r), &reference) * h;
        eprintln!(
            "OU N {n}: mean error {:.3e}, variance error {:.3e}, L1 to the reference {diff:.2e}, {} steps, {} products, mass error {:.1e}",
            em.last().unwrap(),
            ev.last().unwrap(),
            r.stats.steps,
            r.stats.rhs_evals,
            r.mass_error.unwrap()
        );
        // rtol bounds the L1 error relative to ‖P₀‖₁ = 1/h (mass one)
        assert!(diff <= 1e-8, "N {n}: {diff:e}");
    }
    for e in [&em, &ev] {
        for k in 1..e.len() {
            let order = (e[k - 1] / e[k]).log2();
            assert!((order - 2.0).abs() <= 0.3, "orders of {e:?}");
        }
    }
}

/// Seed at 2400 cells, t = 500, the card as shipped (m = 30) at rtol 1e-4: the W1
/// and L1 time errors against the same operator integrated by TR-BDF2 at dt = 0.02
/// and 0.01, Richardson-extrapolated (its difference to dt = 0.01 is 6e-12 in W1), are
/// below the bound rtol; mass is conserved to 1e-12; and the density dips below zero
/// (the polynomial approximation is not positivity preserving) by far less than rtol
/// times the peak. Measured: W1 3.8e-8, L1 1.1e-7, 5714 steps, 177 134 products with A,
/// min P −1.2e-8 against a peak of ~130.
#[test]
fn seed_time_error_against_a_converged_reference() {
    let seed = Problem::builtin("seed").unwrap();
    let (cells, t_end, rtol) = (2400, 500.0, 1e-4);
    let grid = Grid::new(seed.a, seed.b, cells).unwrap();
    let tr = Scheme::resolve("scharfetter-gummel-trbdf2").unwrap();
    let a = last(&solve(&seed, &tr, cells, Some(0.02), t_end));
    let b = last(&solve(&seed, &tr, cells, Some(0.01), t_end));
    let reference: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (4.0 * y - x) / 3.0).collect();
    let r = solve(&seed, &card(rtol, 30), cells, None, t_end);
    let q = last(&r);
    let w1 = wasserstein1(&grid, &q, &reference).unwrap();
    let err = l1(&q, &reference) * grid.width(0);
    let peak = q.iter().cloned().fold(0.0, f64::max);
    eprintln!(
        "seed 2400 cells t 500 rtol {rtol:e}: W1 {w1:.3e}, L1 {err:.3e}, stats {:?}, min_p {:.3e}, peak {peak:.3e}, mass error {:.2e}, wall {:.2} s",
        r.stats,
        r.min_p,
        r.mass_error.unwrap(),
        r.wall_s
    );
    assert!(err <= rtol, "L1 {err:e}");
    assert!(w1 <= rtol, "W1 {w1:e}");
    assert!(r.mass_error.unwrap().abs() < 1e-12);
    assert!(r.min_p > -rtol * peak, "min_p {:e}", r.min_p);
}

/// The cost of a polynomial method on a stiff operator. Seed, t = 50, rtol 1e-6:
/// the mean accepted step measured in units of 1/‖A‖₁, τ‖A‖, against the Krylov
/// dimension m and the grid (‖A‖ grows like N²). The step is set by the spectrum,
/// not by the density: at fixed m, τ‖A‖ stays within a factor 2 as N (and ‖A‖) grows
/// 16-fold, so the number of steps grows like ‖A‖ t; at fixed N, τ‖A‖ grows with m
/// faster than m and at most like m² (the √‖τA‖ law of polynomial approximation of
/// exp on a real interval).
#[test]
fn step_sizes_follow_the_spectrum() {
    let seed = Problem::builtin("seed").unwrap();
    let t_end = 50.0;
    let norm = |cells: usize| {
        let grid = Grid::new(seed.a, seed.b, cells).unwrap();
        let flux = probcurrent::space::flux::by_name("scharfetter-gummel").unwrap();
        let op = Operator::assemble(&seed, grid.clone(), flux.as_ref()).unwrap();
        (0..cells)
            .map(|j| {
                op.a.diag[j].abs()
                    + if j > 0 { op.a.upper[j - 1].abs() } else { 0.0 }
                    + if j + 1 < cells {
                        op.a.lower[j + 1].abs()
                    } else {
                        0.0
                    }
            })
            .fold(0.0, f64::max)
    };
    let tau_norm = |cells: usize, m: usize| {
        let r = solve(&seed, &card(1e-6, m), cells, None, t_end);
        let x = t_end / r.stats.steps as f64 * norm(cells);
        eprintln!(
            "seed N {cells} m {m}: ‖A‖₁ {:.3e}, {} steps, {} rejected, {} products, {} vector ops, mean τ‖A‖ {x:.1} = {:.2} m²",
            norm(cells),
            r.stats.steps,
            r.stats.rejected_steps,
            r.stats.rhs_evals,
            r.stats.vector_ops,
            x / (m * m) as f64
        );
        x
    };
    let by_n: Vec<f64> = [300, 600, 1200].iter().map(|&n| tau_norm(n, 30)).collect();
    let lo = by_n.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = by_n.iter().cloned().fold(0.0, f64::max);
    assert!(hi / lo < 2.0, "τ‖A‖ at m = 30 over N: {by_n:?}");
    let ms = [10, 20, 40, 80];
    let by_m: Vec<f64> = ms.iter().map(|&m| tau_norm(600, m)).collect();
    for k in 1..ms.len() {
        let growth = (by_m[k] / by_m[k - 1]).log2();
        assert!(growth > 1.0 && growth <= 2.0, "τ‖A‖ against m: {by_m:?}");
    }
}

/// Card errors name the bad value: a Krylov dimension outside 2 … 200, a
/// non-positive rtol, and an explicit step for this adaptive card.
#[test]
fn bad_parameters_are_refused_by_name() {
    let good = probcurrent::scheme::CATALOGUE
        .iter()
        .find(|(f, _)| *f == "scharfetter-gummel-krylov.toml")
        .unwrap()
        .1;
    let origin = std::path::Path::new("k.toml");
    for (from, to, want) in [
        ("m = 30", "m = 1", "m"),
        ("m = 30", "m = 500", "500"),
        ("rtol = 1e-6", "rtol = -1e-6", "rtol"),
        ("m = 30", "m = 30\ndt = 1.0", "dt"),
    ] {
        let msg = Scheme::from_toml(&good.replace(from, to), origin)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(want) && msg.contains("k.toml"), "{msg}");
    }
    let seed = Problem::builtin("seed").unwrap();
    let e = run(
        &seed,
        &Scheme::resolve(CARD).unwrap(),
        &RunSettings {
            cells: 100,
            dt: Some(1.0),
            t_end: Some(1.0),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("dt") && e.contains("rtol"), "{e}");
}
