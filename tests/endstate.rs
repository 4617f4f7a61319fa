//! End states, point masses and escape times (docs/validation.md, against exact solutions):
//!
//! * `ou`: the closed-form stationary density is the Gaussian of the exact variance
//!   T S²/(2B G′), and the batch enters through D;
//! * the null vector of the exact-exponent Scharfetter–Gummel operator equals the closed
//!   form to rounding, the midpoint-exponent one converges at O(h²);
//! * the mean first-passage time by the double-integral formula agrees with Monte Carlo
//!   of the Gaussian-kick model within 4 standard errors on a moderate barrier, with the
//!   discrete operator to O(h²), and (GTH elimination) still at a barrier of ΔΦ ≈ 40;
//! * `seed`: one point mass, at W = 2, holding all the mass, whatever the start.

use std::sync::Arc;

use probcurrent::analysis::critical::CriticalKind;
use probcurrent::analysis::endstate::{escape, stationary, Chain, EscapeOptions, PDE_FLUX};
use probcurrent::analysis::montecarlo::McMode;
use probcurrent::model::wide_narrow::wide_narrow_problem;
use probcurrent::{space::flux, ClosureLandscape, Grid, Initial, Operator, Problem};

/// A symmetric double well with constant noise: datapoints c(W⁴/4 − W²/2) ± a W, so
/// G = c(W³ − W), S² = a²; minima ±1 (G′ = 2c), barrier 0 (G′ = −c), and
/// ΔΦ = c/(2 T a²/B).
fn double_well(c: f64, a: f64, lr: f64) -> Problem {
    let land = ClosureLandscape::new()
        .datapoint(
            "c(w^4/4 - w^2/2) + a w",
            move |w| c * (w.powi(4) / 4.0 - w * w / 2.0) + a * w,
            move |w| c * (w.powi(3) - w) + a,
            move |w| c * (3.0 * w * w - 1.0),
        )
        .datapoint(
            "c(w^4/4 - w^2/2) - a w",
            move |w| c * (w.powi(4) / 4.0 - w * w / 2.0) - a * w,
            move |w| c * (w.powi(3) - w) - a,
            move |w| c * (3.0 * w * w - 1.0),
        );
    let mut p = Problem::builtin("ou").unwrap();
    p.name = "double-well".into();
    p.landscape = Arc::new(land);
    p.lr = lr;
    p.a = -2.2;
    p.b = 2.2;
    p.exact = None;
    p.regions.clear();
    p
}

#[test]
fn ou_stationary_density_is_the_gaussian_of_the_exact_variance() {
    for (lr, batch) in [(0.02, 1usize), (0.01, 2)] {
        let mut p = Problem::builtin("ou").unwrap();
        p.lr = lr;
        p.batch = batch;
        let r = stationary(&p, 1200).unwrap();
        // G = W, S² = 1: variance T S² / (2 B G′)
        let var = lr / (2.0 * batch as f64);
        let gauss =
            |x: f64| (-x * x / (2.0 * var)).exp() / (2.0 * std::f64::consts::PI * var).sqrt();
        let f = r
            .formula
            .as_ref()
            .expect("D > 0 on the domain: the closed form exists");
        let sg = r
            .null_vectors
            .iter()
            .find(|c| c.flux == "scharfetter-gummel")
            .and_then(|c| c.p.clone())
            .unwrap();
        let (mut dev_f, mut dev_sg) = (0.0f64, 0.0f64);
        for (i, x) in r.grid.centres().into_iter().enumerate() {
            let g = gauss(x);
            if g > 1e-12 {
                dev_f = dev_f.max((f[i] / g - 1.0).abs());
                dev_sg = dev_sg.max((sg[i] / g - 1.0).abs());
            }
        }
        eprintln!("ou T = {lr}, B = {batch}: formula vs Gaussian {dev_f:.2e}, SG null vector {dev_sg:.2e}");
        // the Gaussian is cut at ≥ 10 sd by the domain: only quadrature and rounding remain
        assert!(dev_f < 1e-9 && dev_sg < 1e-9, "{dev_f:e} {dev_sg:e}");
        let m = &r.minima[0];
        assert!(m.w.abs() < 1e-12 && (m.formula.unwrap() / gauss(0.0) - 1.0).abs() < 1e-9);
        assert!(r.point_masses.is_empty() && r.closed_classes == 1);
        // the relaxation rate of OU is T G′ (discrete: to O(h²))
        let rate = r.relaxation_rate.unwrap();
        assert!((rate / lr - 1.0).abs() < 1e-3, "λ₁ = {rate}");
    }
}

#[test]
fn sg_null_vector_equals_the_formula() {
    let p = wide_narrow_problem();
    let dev = |cells: usize, flux: &str| {
        let r = stationary(&p, cells).unwrap();
        r.null_vectors
            .iter()
            .find(|c| c.flux == flux)
            .and_then(|c| c.max_log_dev)
            .unwrap()
    };
    let exact = dev(1200, "scharfetter-gummel");
    eprintln!(
        "wide-narrow: exact-exponent SG null vector vs formula: max |ln ratio| = {exact:.2e}"
    );
    assert!(exact < 1e-11, "{exact:e}");
    // the midpoint exponent: second order
    let (d1, d2) = (
        dev(400, "scharfetter-gummel-midpoint"),
        dev(800, "scharfetter-gummel-midpoint"),
    );
    let order = (d1 / d2).log2();
    eprintln!("midpoint SG: {d1:.3e} (400 cells), {d2:.3e} (800 cells), order {order:.2}");
    assert!((1.8..2.2).contains(&order), "order {order}");
    // `stationary` prints the density ratio at the two centres from formula and PDE
    let r = stationary(&p, 1200).unwrap();
    let (w1, w2, f, pde) = r.ratios()[0];
    assert!((w1 + 1.0).abs() < 1e-9 && (w2 - 1.0).abs() < 1e-9);
    let (f, pde) = (f.unwrap(), pde.unwrap());
    eprintln!("P(1)/P(−1): formula {f:.6}, PDE ({PDE_FLUX}) {pde:.6}");
    assert!((pde / f - 1.0).abs() < 1e-2 && f > 2.0);
    let text = r.text();
    assert!(text.contains("density ratio P(1.0000)/P(-1.0000): formula"));
}

#[test]
fn mfpt_formula_agrees_with_gaussian_kick_monte_carlo() {
    // ΔΦ = c/(2 T a²) = 2, T G′ = 0.01 at the minimum: the kick model's discrete-time bias
    // is ~ΔΦ·T·G′/2 ≈ 1%, below the standard error of 4000 particles (≈ 1.6%)
    let p = double_well(1.0, 50f64.sqrt(), 0.005);
    let t = std::time::Instant::now();
    let e = escape(
        &p,
        -1.0,
        0.5,
        &EscapeOptions {
            particles: 4000,
            modes: vec![McMode::Gaussian],
            seed: 11,
            ..EscapeOptions::default()
        },
    )
    .unwrap();
    eprint!("{}", e.text());
    eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
    let f = e.formula.as_ref().unwrap();
    assert!(f.rel_error < 1e-6);
    let mc = &e.mc[0];
    assert_eq!(mc.censored, 0);
    let z = (mc.mean - f.tau) / mc.se;
    eprintln!("z = (MC − formula)/s.e. = {z:+.2}");
    assert!(z.abs() < 4.0, "z = {z}");
    // the discrete operator: backward equation and ∫ survival dt agree with the formula
    assert!(
        (e.pde.tau / f.tau - 1.0).abs() < 1e-3,
        "{} {}",
        e.pde.tau,
        f.tau
    );
    assert!((e.pde.tau_survival / e.pde.tau - 1.0).abs() < 1e-6);
    // Kramers: ΔΦ = 2 exactly, within 30% at so low a barrier
    let k = e.kramers.as_ref().unwrap();
    assert!((k.delta_phi - 2.0).abs() < 1e-6 && (k.tau / f.tau - 1.0).abs() < 0.3);
    // escape to the left from +1 is the mirror image
    let l = escape(
        &p,
        1.0,
        -0.5,
        &EscapeOptions {
            particles: 0,
            ..EscapeOptions::default()
        },
    )
    .unwrap();
    let fl = l.formula.unwrap();
    assert!((fl.tau / f.tau - 1.0).abs() < 1e-9, "{} {}", fl.tau, f.tau);
    assert!((l.pde.tau / e.pde.tau - 1.0).abs() < 1e-9);
}

#[test]
fn high_barrier_mfpt_keeps_its_accuracy() {
    // ΔΦ = 40: τ ~ 1e20 steps; GTH elimination never subtracts, so the discrete operator's
    // τ and escape rate keep their relative accuracy
    let p = double_well(1.0, 2.5f64.sqrt(), 0.005);
    let e = escape(
        &p,
        -1.0,
        0.5,
        &EscapeOptions {
            particles: 0,
            cells: 4000,
            ..EscapeOptions::default()
        },
    )
    .unwrap();
    eprint!("{}", e.text());
    let f = e.formula.unwrap();
    assert!(f.tau > 1e18);
    assert!(
        (e.pde.tau / f.tau - 1.0).abs() < 1e-3,
        "{} {}",
        e.pde.tau,
        f.tau
    );
    assert!((e.pde.tau_survival / e.pde.tau - 1.0).abs() < 1e-6);
    let rate = e.pde.escape_rate.unwrap();
    assert!((rate * f.tau - 1.0).abs() < 1e-3, "λ₀ τ = {}", rate * f.tau);
    // Kramers is accurate at a high barrier (correction O(1/ΔΦ))
    let k = e.kramers.unwrap();
    assert!((k.tau / f.tau - 1.0).abs() < 0.05, "{} {}", k.tau, f.tau);
}

#[test]
fn point_mass_detected_on_seed() {
    let p = Problem::builtin("seed").unwrap();
    let r = stationary(&p, 1200).unwrap();
    print!("{}", r.text());
    assert!(r.formula.is_none() && r.formula_gap.is_some());
    assert!(r.null_vectors.iter().all(|c| c.p.is_none()));
    assert_eq!(r.point_masses.len(), 1);
    let pm = &r.point_masses[0];
    assert!((pm.w - 2.0).abs() < 1e-9, "{}", pm.w);
    assert!(pm.mass > 1.0 - 1e-9, "{}", pm.mass);
    let kinds: Vec<CriticalKind> = r.critical.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            CriticalKind::NoisyMinimum,
            CriticalKind::Barrier,
            CriticalKind::PointMass
        ]
    );
    assert!((r.critical[0].w - 1.00745).abs() < 1e-5 && (r.critical[1].w - 1.17431).abs() < 1e-5);
    assert_eq!(r.closed_classes, 1);
    let t = r.arrival_time.unwrap();
    assert!(t.is_finite() && t > 100.0, "{t}");
    assert!(r
        .text()
        .contains("point mass at W = 2.000000 holding mass 1.000000"));
    // whatever the start: from the basin side, or uniform
    for init in [Initial::Normal { mean: 2.6, sd: 0.1 }, Initial::Uniform] {
        let mut q = p.clone();
        q.initial = init;
        let r = stationary(&q, 600).unwrap();
        assert!(r.point_masses.len() == 1 && r.point_masses[0].mass > 1.0 - 1e-9);
    }
    // with a noise floor the closed form exists and there is no point mass
    let mut q = p.clone();
    q.noise_floor = 1e-6;
    let r = stationary(&q, 1200).unwrap();
    assert!(r.formula.is_some() && r.point_masses.is_empty());
}

#[test]
fn chain_solves_and_eigenvalues_are_exact_on_a_two_state_chain() {
    // cells 0 ⇄ 1 with rates a = 0.3 (0→1), b = 0.7 (1→0), kill k = 0.1 at cell 1
    let c = Chain {
        up: vec![0.3, 0.0],
        down: vec![0.0, 0.7],
        kill: vec![0.0, 0.1],
    };
    // −A = [[0.3, −0.7], [−0.3, 0.8]]: eigenvalues (1.1 ± √(1.21 − 4·0.03))/2
    let disc = (1.1f64 * 1.1 - 4.0 * (0.3 * 0.8 - 0.7 * 0.3)).sqrt();
    let (l0, l1) = ((1.1 - disc) / 2.0, (1.1 + disc) / 2.0);
    assert!((c.eigenvalue(0).unwrap() / l0 - 1.0).abs() < 1e-10);
    assert!((c.eigenvalue(1).unwrap() / l1 - 1.0).abs() < 1e-10);
    // (−Aᵀ) τ = 1: τ0 = 1/0.3 + τ1, 0.8 τ1 − 0.7 τ0 = 1 → τ1 = (1 + 0.7/0.3)/0.1
    let tau = c.solve_backward(&[1.0, 1.0]).unwrap();
    let t1 = (1.0 + 0.7 / 0.3) / 0.1;
    assert!((tau[1] / t1 - 1.0).abs() < 1e-12 && (tau[0] / (t1 + 1.0 / 0.3) - 1.0).abs() < 1e-12);
    // a zero-flux operator's chain: long-time limit = null vector
    let p = Problem::builtin("ou").unwrap();
    let grid = Grid::new(p.a, p.b, 300).unwrap();
    let op = Operator::assemble(
        &p,
        grid.clone(),
        flux::by_name("scharfetter-gummel").unwrap().as_ref(),
    )
    .unwrap();
    let chain = Chain::from_operator(&op).unwrap();
    let m0 = vec![1.0 / 300.0; 300];
    let (m, classes) = chain.long_time_limit(&m0).unwrap();
    assert_eq!(classes.len(), 1);
    let nv = op.null_vector().unwrap();
    let h = grid.width(0);
    for (a, b) in m.iter().zip(&nv) {
        assert!((a / h - b).abs() <= 1e-10 * b.max(1e-300));
    }
}

#[test]
fn bad_inputs_are_errors() {
    let p = wide_narrow_problem();
    let o = EscapeOptions {
        particles: 0,
        ..EscapeOptions::default()
    };
    assert!(escape(&p, -1.0, 5.0, &o).is_err());
    assert!(escape(&p, -1.0, -1.0, &o).is_err());
    assert!(escape(&p, f64::NAN, 0.5, &o).is_err());
    assert!(escape(
        &p,
        -1.0,
        0.5,
        &EscapeOptions {
            wall: Some(0.0),
            ..o.clone()
        }
    )
    .is_err());
    assert!(escape(
        &p,
        -1.0,
        0.5,
        &EscapeOptions {
            cells: 2,
            ..o.clone()
        }
    )
    .is_err());
    assert!(stationary(&p, 2).is_err());
    let mut q = p.clone();
    q.noise_floor = 1.0;
    let e = escape(
        &q,
        -1.0,
        0.5,
        &EscapeOptions {
            particles: 10,
            modes: vec![McMode::Sgd],
            ..EscapeOptions::default()
        },
    );
    assert!(e.is_err(), "SGD cannot represent a modified S²");
}
