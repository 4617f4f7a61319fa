//! Non-uniform grids: property tests over random edge sets (neighbouring cells up to
//! 1000 times apart) that every conservative card keeps the mass Σ h_i P_i and every
//! positivity claim holds; the exact discrete stationary state on a graded grid; the
//! `auto` grid and the `[grid]` table of problem files.

use probcurrent::model::grid_choice::{GridChoice, GridKind};
use probcurrent::scheme::{catalogue, Positivity, StepKind};
use probcurrent::space::auto::{auto_grid, grid_for};
use probcurrent::space::flux;
use probcurrent::{run, Grid, Operator, Outcome, Problem, RunSettings};
use proptest::prelude::*;

/// Faces on [a, b] from cell-width exponents: cell i has width ∝ 1000^{bit_i}·(1 + u_i),
/// so neighbouring cells differ by up to a factor 2000.
fn edges(a: f64, b: f64, bits: &[(bool, f64)]) -> Vec<f64> {
    let w: Vec<f64> = bits
        .iter()
        .map(|&(big, u)| if big { 1000.0 } else { 1.0 } * (1.0 + u))
        .collect();
    let total: f64 = w.iter().sum();
    let mut out = vec![a];
    let mut acc = 0.0;
    for v in &w[..w.len() - 1] {
        acc += v;
        out.push(a + (b - a) * acc / total);
    }
    out.push(b);
    out
}

/// The rounding bound of the mass drift in `steps` fixed steps (as in tests/properties.rs:
/// 4ε(1 + 2 dt max|A_ii|) per step, floor 1e-12).
fn mass_tolerance(op: &Operator, dt: Option<f64>, steps: u64) -> f64 {
    let Some(dt) = dt else { return 1e-12 };
    1e-12 + steps as f64 * 4.0 * f64::EPSILON * (1.0 + 2.0 * dt / op.explicit_limit())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every card claiming conservation keeps Σ h_i P_i to rounding on random edge sets,
    /// and every positivity claim holds (any step for `always`, half the explicit limit
    /// for `below-limit`).
    #[test]
    fn conservative_cards_keep_mass_and_positive_cards_stay_positive(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 8..40),
        which in 0usize..2,
        log_dt in -2.0f64..1.0,
        steps in 1u64..6,
    ) {
        let p = Problem::builtin(["ou", "seed"][which]).unwrap();
        let e = edges(p.a, p.b, &bits);
        let grid = Grid::from_edges(e.clone(), "test").unwrap();
        for scheme in catalogue().unwrap() {
            let op = Operator::assemble(&p, grid.clone(), scheme.build_flux().unwrap().as_ref())
                .unwrap();
            let limit = op.explicit_limit();
            let dt = match scheme.step_kind() {
                StepKind::Explicit => Some(0.5 * limit),
                StepKind::Implicit => Some(10f64.powf(log_dt)),
                _ => None,
            };
            let t_end = dt.map_or(50.0 * limit, |d| steps as f64 * d);
            let settings = RunSettings {
                cells: grid.n,
                edges: Some(e.clone().into()),
                dt,
                t_end: Some(t_end),
                every: Some(t_end),
                ..Default::default()
            };
            let r = run(&p, &scheme, &settings).unwrap();
            prop_assert_eq!(r.grid.n, grid.n);
            if scheme.claims.conservative == Some(true) {
                let me = r.mass_error.unwrap();
                let tol = mass_tolerance(&op, dt, r.stats.steps);
                prop_assert!(me.abs() <= tol, "{}: mass error {:e} > {:e}", scheme.name, me, tol);
            }
            if matches!(scheme.claims.positive, Some(Positivity::Always | Positivity::BelowLimit)) {
                prop_assert!(r.min_p >= 0.0, "{}: min_p {:e}", scheme.name, r.min_p);
                prop_assert!(
                    !matches!(r.outcome, Outcome::Negative | Outcome::Diverged | Outcome::Failed),
                    "{}: {:?} {:?}", scheme.name, r.outcome, r.reason
                );
            }
        }
    }

    /// The h-weighted columns of every M-matrix flux's operator sum to zero and its
    /// off-diagonals are non-negative, on random edge sets.
    #[test]
    fn weighted_columns_sum_to_zero(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 4..60),
    ) {
        let p = Problem::builtin("seed").unwrap();
        let grid = Grid::from_edges(edges(p.a, p.b, &bits), "test").unwrap();
        let h = grid.widths();
        for info in flux::FLUXES.iter().filter(|f| f.m_matrix) {
            let op = Operator::assemble(&p, grid.clone(), (info.build)().as_ref()).unwrap();
            let a = &op.a;
            let n = a.n();
            for j in 0..n {
                let mut s = h[j] * a.diag[j];
                let mut scale = (h[j] * a.diag[j]).abs();
                if j > 0 {
                    s += h[j - 1] * a.upper[j - 1];
                    scale += (h[j - 1] * a.upper[j - 1]).abs();
                    prop_assert!(a.upper[j - 1] >= 0.0);
                }
                if j + 1 < n {
                    s += h[j + 1] * a.lower[j + 1];
                    scale += (h[j + 1] * a.lower[j + 1]).abs();
                    prop_assert!(a.lower[j + 1] >= 0.0);
                }
                prop_assert!(s.abs() <= 1e-13 * scale.max(f64::MIN_POSITIVE),
                    "{}: column {j} sums to {s:e} (scale {scale:e})", info.name);
            }
        }
    }
}

/// On `ou` (D > 0 everywhere) the well-balanced SG operator's null vector on a graded
/// grid is the closed form P_s ∝ (1/D) exp(−T ∫ G/D) at the centres.
#[test]
fn sg_null_vector_is_exact_on_a_graded_grid() {
    let p = Problem::builtin("ou").unwrap();
    let n = 120;
    let e: Vec<f64> = (0..=n)
        .map(|i| {
            let u = i as f64 / n as f64;
            p.a + (p.b - p.a) * (u + 0.15 * (std::f64::consts::TAU * u).sin() / 1.5)
        })
        .collect();
    let grid = Grid::from_edges(e, "test").unwrap();
    let op = Operator::assemble(
        &p,
        grid.clone(),
        flux::by_name("scharfetter-gummel").unwrap().as_ref(),
    )
    .unwrap();
    let q = op.null_vector().unwrap();
    assert!((grid.mass(&q) - 1.0).abs() < 1e-13);
    // closed form: exponent accumulated from the first centre
    let c: Vec<f64> = grid.centres();
    let mut lnp = vec![-p.coeffs(c[0]).d.ln()];
    let mut phi = 0.0;
    for i in 1..n {
        phi += probcurrent::space::operator::drift_integral(&p, c[i - 1], c[i]).unwrap();
        lnp.push(phi - p.coeffs(c[i]).d.ln());
    }
    let r0 = q[0].ln() - lnp[0];
    for i in 0..n {
        let dev = (q[i].ln() - lnp[i] - r0).abs();
        assert!(dev < 1e-8, "cell {i}: log deviation {dev:e}");
    }
}

/// The auto grid of every built-in problem is a valid grid of the requested size on the
/// problem's domain, and on `seed` its smallest cells sit at the pit and at the point
/// mass W = 2.
#[test]
fn auto_grids_are_valid_and_resolve_seed_features() {
    for b in probcurrent::model::problem::BUILTINS {
        let p = Problem::builtin(b.name).unwrap();
        let g = auto_grid(&p, 300).unwrap();
        assert_eq!(g.n, 300, "{}", b.name);
        assert_eq!((g.a, g.b), (p.a, p.b), "{}", b.name);
        assert!(g.widths().iter().all(|h| *h > 0.0), "{}", b.name);
    }
    let seed = Problem::builtin("seed").unwrap();
    let g = auto_grid(&seed, 600).unwrap();
    let ((i_lo, h_lo), (_, h_hi)) = g.extreme_cells();
    assert!(
        (g.centre(i_lo) - 2.0).abs() < 1e-3,
        "smallest at {}",
        g.centre(i_lo)
    );
    assert!(h_hi / h_lo > 100.0);
    let pit = g.width(g.locate(1.0075));
    let uniform = (seed.b - seed.a) / 600.0;
    assert!(
        pit < 0.5 * uniform,
        "pit cell {pit:e} vs uniform {uniform:e}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A `[grid]` table: explicit edges and a CSV load, `--grid` overrides the file, and
/// bad edges are refused naming the problem.
#[test]
fn grid_tables_load_and_bad_edges_are_refused() {
    let dir = std::env::temp_dir().join(format!("probcurrent-grid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = write(
        &dir,
        "ok.toml",
        "base = \"ou\"\n[grid]\nkind = \"edges\"\nedges = [-1.0, 0.0, 0.5, 1.0, 2.0]\n",
    );
    let p = Problem::resolve(ok.to_str().unwrap()).unwrap();
    assert!(matches!(p.grid, GridChoice::Edges(_)));
    let g = grid_for(&p, None, 600).unwrap();
    assert_eq!((g.n, g.width(0)), (4, 1.0));
    assert!(grid_for(&p, Some(GridKind::Uniform), 50)
        .unwrap()
        .is_uniform());
    write(&dir, "e.csv", "edge\n-1\n0\n1\n1.5\n2\n");
    let csv = write(
        &dir,
        "csv.toml",
        "base = \"ou\"\n[grid]\nkind = \"edges\"\ncsv = \"e.csv\"\n",
    );
    let g = grid_for(&Problem::resolve(csv.to_str().unwrap()).unwrap(), None, 1).unwrap();
    assert_eq!(g.faces(), vec![-1.0, 0.0, 1.0, 1.5, 2.0]);
    for (name, table, needle) in [
        (
            "dec.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.5, 0.0, 2.0]",
            "strictly increasing",
        ),
        (
            "span.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.0, 0.5, 1.9]",
            "domain",
        ),
        (
            "few.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.0, 2.0]",
            "at least 4",
        ),
        ("kind.toml", "kind = \"fancy\"", "unknown kind"),
        (
            "both.toml",
            "kind = \"auto\"\nedges = [-1.0, 0.0, 1.0, 2.0]",
            "belong to",
        ),
    ] {
        let path = write(&dir, name, &format!("base = \"ou\"\n[grid]\n{table}\n"));
        let e = Problem::resolve(path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && e.contains(name), "{name}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ---- transfer models, Monte Carlo histograms and `--tol` on graded grids ----

use probcurrent::analysis::compare::compare;
use probcurrent::analysis::metrics::w1_between;
use probcurrent::analysis::montecarlo::snapshot::simulate_on;
use probcurrent::analysis::montecarlo::{simulate, McMode, McSettings};
use probcurrent::run::estimate::solve_to_tolerance;
use probcurrent::{run_transfer, Boundary, Deposit, Transfer, TransferKind, TransferOptions};

/// `steps` transfer steps of `tr` from the density 1 + w on its grid (normalised).
fn transfer_steps(tr: &Transfer, steps: usize) -> Vec<f64> {
    let g = &tr.grid;
    let mut p: Vec<f64> = g.centres().iter().map(|w| 1.0 + w - g.a).collect();
    let m = g.mass(&p);
    p.iter_mut().for_each(|v| *v /= m);
    let mut next = vec![0.0; g.n];
    for _ in 0..steps {
        tr.step(&p, &mut next);
        std::mem::swap(&mut p, &mut next);
    }
    p
}

/// On a uniform grid written as explicit edges, every transfer model and deposit rule
/// (reflecting and absorbing walls) gives the uniform grid's density to rounding after
/// 40 steps: the graded rules are the uniform ones with the real faces and centres.
#[test]
fn transfer_on_uniform_edges_matches_uniform_cells() {
    let mut worst: f64 = 0.0;
    for boundary in [Boundary::ZeroFlux, Boundary::Absorbing] {
        let mut p = Problem::builtin("seed").unwrap();
        p.boundary = boundary;
        let uniform = Grid::new(p.a, p.b, 150).unwrap();
        let edged = Grid::from_edges(uniform.faces(), "test").unwrap();
        assert!(!edged.is_uniform());
        for kind in [TransferKind::Exact, TransferKind::Gaussian] {
            for deposit in [Deposit::Linear, Deposit::Cells] {
                let o = TransferOptions {
                    deposit,
                    ..TransferOptions::default()
                };
                let tu = Transfer::build(&p, uniform.clone(), kind, &o).unwrap();
                let te = Transfer::build(&p, edged.clone(), kind, &o).unwrap();
                let (pu, pe) = (transfer_steps(&tu, 40), transfer_steps(&te, 40));
                let top = pu.iter().cloned().fold(0.0, f64::max);
                let dev = pu
                    .iter()
                    .zip(&pe)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
                    / top;
                eprintln!("{boundary:?} {kind:?} {deposit:?}: max relative deviation {dev:.2e}");
                assert!(dev < 1e-11, "{boundary:?} {kind:?} {deposit:?}: {dev:e}");
                worst = worst.max(dev);
            }
        }
    }
    eprintln!("worst {worst:.2e}");
}

proptest! {
    #![proptest_config(config())]

    /// On random edge sets (neighbours up to 2000 times apart) every transfer matrix is
    /// positive, keeps each cell's mass (reflecting walls) or at most it (absorbing),
    /// and ten steps conserve Σ h_i P_i to 1e-12 and stay non-negative.
    #[test]
    fn transfer_matrices_on_graded_cells_keep_mass_and_positivity(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 6..40),
        which in 0usize..2,
        lr in 0.002f64..0.05,
        absorbing in any::<bool>(),
        gaussian in any::<bool>(),
        cells_deposit in any::<bool>(),
    ) {
        let mut p = Problem::builtin(["ou", "seed"][which]).unwrap();
        p.lr = lr;
        p.boundary = if absorbing { Boundary::Absorbing } else { Boundary::ZeroFlux };
        let grid = Grid::from_edges(edges(p.a, p.b, &bits), "test").unwrap();
        let kind = if gaussian { TransferKind::Gaussian } else { TransferKind::Exact };
        let deposit = if cells_deposit { Deposit::Cells } else { Deposit::Linear };
        let o = TransferOptions { deposit, ..TransferOptions::default() };
        let tr = Transfer::build(&p, grid.clone(), kind, &o).unwrap();
        prop_assert!(tr.matrix.min_entry() > 0.0 || tr.matrix.nnz() == 0);
        for (j, s) in tr.kept_fractions().iter().enumerate() {
            if absorbing {
                prop_assert!(*s >= 0.0 && *s <= 1.0 + 1e-12, "column {j} keeps {s}");
            } else {
                prop_assert!((s - 1.0).abs() < 1e-12, "column {j} keeps {s}");
            }
        }
        let q = transfer_steps(&tr, 10);
        prop_assert!(q.iter().all(|v| *v >= 0.0));
        if !absorbing {
            prop_assert!((grid.mass(&q) - 1.0).abs() < 1e-12, "mass {}", grid.mass(&q));
        } else {
            prop_assert!(grid.mass(&q) <= 1.0 + 1e-12);
        }
    }
}

/// `transfer-exact` on `seed` with `--grid auto` (600 cells) follows Monte Carlo of SGD
/// (100 000 particles, histogram on the same auto grid): mean and basin mass within 4
/// standard errors at t = 50, 100, 250 and 500, mass kept to 1e-12.
#[test]
fn transfer_exact_on_an_auto_grid_follows_sgd_monte_carlo() {
    let p = Problem::builtin("seed").unwrap();
    let s = RunSettings {
        cells: 600,
        grid: Some(GridKind::Auto),
        t_end: Some(500.0),
        every: Some(50.0),
        ..RunSettings::default()
    };
    let model = run_transfer(&p, TransferKind::Exact, &s).unwrap();
    assert!(!model.grid.is_uniform());
    assert!(model.mass_error.unwrap().abs() < 1e-12 && model.min_p >= 0.0);
    let mc_settings = McSettings {
        particles: 100_000,
        seed: 5,
        mode: McMode::Sgd,
        t_end: Some(500.0),
        every: Some(50.0),
        ..McSettings::default()
    };
    let mc = simulate_on(&p, &mc_settings, &model.grid, &|_, _| {}).unwrap();
    assert_eq!(mc.grid, model.grid);
    let cmp = compare(&model, &mc).unwrap();
    let basin = cmp.region_names.iter().position(|n| n == "basin").unwrap();
    for row in cmp
        .rows
        .iter()
        .filter(|r| [50.0, 100.0, 250.0, 500.0].contains(&r.t))
    {
        let z_mean = (row.model.mean - row.mc.mean) / row.mc.mean_se;
        let z_basin = (row.model.regions[basin] - row.mc.regions[basin]) / row.mc.regions_se[basin];
        eprintln!(
            "t = {:>3}: mean {:.5} vs {:.5} ± {:.5} (z {z_mean:+.2}), basin {:.5} vs {:.5} ± {:.5} (z {z_basin:+.2}), W1 to the particles {:.2e}",
            row.t, row.model.mean, row.mc.mean, row.mc.mean_se,
            row.model.regions[basin], row.mc.regions[basin], row.mc.regions_se[basin], row.w1
        );
        assert!(
            z_mean.abs() < 4.0 && z_basin.abs() < 4.0,
            "t = {}: z {z_mean} {z_basin}",
            row.t
        );
    }
}

/// The final density of `transfer-exact` on `seed` at t = 500 on `grid` (kind, cells).
fn seed_exact_final(grid: GridKind, cells: usize) -> (Grid, Vec<f64>) {
    let p = Problem::builtin("seed").unwrap();
    let s = RunSettings {
        cells,
        grid: Some(grid),
        t_end: Some(500.0),
        every: Some(500.0),
        ..RunSettings::default()
    };
    let r = run_transfer(&p, TransferKind::Exact, &s).unwrap();
    let last = r.snapshots.last().unwrap();
    (r.grid.clone(), last.p.clone())
}

/// Fewer cells for the same accuracy: against a 12 000-cell auto-grid solution of
/// `transfer-exact` on `seed` at t = 500 (itself within 2e-6 of 48 000 cells), the
/// auto grid's W1 error at 500 cells is below the uniform grid's at 2000 cells.
#[test]
fn auto_grid_reaches_uniform_accuracy_with_fewer_cells() {
    let (gr, pr) = seed_exact_final(GridKind::Auto, 12_000);
    let w1 = |k: GridKind, n: usize| {
        let (g, p) = seed_exact_final(k, n);
        w1_between(&g, &p, &gr, &pr)
    };
    let auto = w1(GridKind::Auto, 500);
    let uniform = w1(GridKind::Uniform, 2000);
    eprintln!("W1 at t = 500: auto 500 cells {auto:.3e}, uniform 2000 cells {uniform:.3e}");
    assert!(auto < uniform, "auto {auto:e} vs uniform {uniform:e}");
}

/// `mc` histograms on a grid given by edges: each cell's estimate is its count over
/// N h_i (the histogram integrates to the fraction inside), and the problem's `[grid]`
/// choice is the default histogram grid.
#[test]
fn monte_carlo_histograms_use_the_real_cell_widths() {
    let mut p = Problem::builtin("seed").unwrap();
    p.grid = GridChoice::Auto;
    let s = McSettings {
        particles: 4000,
        t_end: Some(20.0),
        every: Some(10.0),
        cells: 80,
        ..McSettings::default()
    };
    let r = simulate(&p, &s, &|_, _| {}).unwrap();
    assert!(!r.grid.is_uniform() && r.grid.n == 80);
    assert_eq!(r.grid, auto_grid(&p, 80).unwrap());
    for (h, m) in r.histograms.iter().zip(&r.moments) {
        assert!((r.grid.mass(&h.p) - m.mass).abs() < 1e-12);
        // the count behind each cell is a whole number
        for (i, v) in h.p.iter().enumerate() {
            let count = v * 4000.0 * r.grid.width(i);
            assert!((count - count.round()).abs() < 1e-6, "cell {i}: {count}");
        }
    }
    let bad = Grid::new(0.0, 2.0, 10).unwrap();
    let e = simulate_on(&p, &s, &bad, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("domain"), "{e}");
}

/// `--tol` on a problem whose `[grid]` fixes the edges refines by halving the cells
/// (the graded widths keep their ratios) until the estimate meets the tolerance.
#[test]
fn tol_refines_a_grid_given_by_edges() {
    let mut p = Problem::builtin("ou").unwrap();
    let n = 60;
    let e: Vec<f64> = (0..=n)
        .map(|i| p.a + (p.b - p.a) * (i as f64 / n as f64).powf(1.5))
        .collect();
    p.grid = GridChoice::Edges(e.clone().into());
    p.t_end = 20.0;
    p.every = 10.0;
    let scheme = probcurrent::Scheme::resolve("scharfetter-gummel").unwrap();
    let (r, c) = solve_to_tolerance(&p, &scheme, &RunSettings::default(), 2e-3, 16_000).unwrap();
    let est = r.error_estimate.as_ref().unwrap();
    eprintln!("{} ({} cells, estimate {:.3e})", c.rule, r.grid.n, est.w1);
    assert!(est.w1 <= 2e-3);
    assert!(r.grid.n > n && r.grid.n % n == 0, "{} cells", r.grid.n);
    // every original face is still a face, and each cell was split evenly
    let k = r.grid.n / n;
    for (i, &x) in e.iter().enumerate() {
        assert!((r.grid.face(i * k) - x).abs() < 1e-12);
    }
    let capped = solve_to_tolerance(&p, &scheme, &RunSettings::default(), 1e-7, 200);
    let e = capped.unwrap_err().to_string();
    assert!(e.contains("halving"), "{e}");
}

proptest! {
    #![proptest_config(config())]

    /// The hat deposits on graded cells keep the mean position exactly: on `ou`
    /// (G = W, so one step maps the mean m to (1 − T) m, for gradient descent and for
    /// the per-step Gaussian rule alike) a density away from the walls has mean
    /// (1 − T) m after one step on random edge sets, to rounding.
    #[test]
    fn graded_hats_keep_the_mean(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 10..60),
        lr in 0.002f64..0.05,
        gaussian in any::<bool>(),
    ) {
        let mut p = Problem::builtin("ou").unwrap();
        p.lr = lr;
        let kind = if gaussian {
            TransferKind::Gaussian
        } else {
            p.noise_scale = 0.0;
            TransferKind::Exact
        };
        let grid = Grid::from_edges(edges(p.a, p.b, &bits), "test").unwrap();
        let tr = Transfer::build(&p, grid.clone(), kind, &TransferOptions::default()).unwrap();
        let c = grid.centres();
        // mass only in cells inside [-0.3, 1.3], well inside [-1, 2]
        let mut q: Vec<f64> = (0..grid.n)
            .map(|i| {
                let inside = grid.face(i) >= -0.3 && grid.face(i + 1) <= 1.3;
                if inside { 1.0 + c[i] } else { 0.0 }
            })
            .collect();
        let m = grid.mass(&q);
        prop_assume!(m > 0.0);
        q.iter_mut().for_each(|v| *v /= m);
        // the mean of the piecewise-constant density: Σ h_i P_i c_i
        let mean = |v: &[f64]| (0..grid.n).map(|i| grid.width(i) * v[i] * c[i]).sum::<f64>();
        let mut next = vec![0.0; grid.n];
        tr.step(&q, &mut next);
        let want = (1.0 - lr) * mean(&q);
        prop_assert!((mean(&next) - want).abs() < 1e-12, "mean {} vs {}", mean(&next), want);
    }
}
