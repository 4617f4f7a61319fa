//! Monte Carlo of the discrete process against the density models, reproducibility,
//! and the minibatch variance.

use probcurrent::analysis::montecarlo::{simulate, McMode, McSettings};
use probcurrent::{run, FormulaLandscape, Initial, Problem, RunSettings, Sampling, Scheme};
use std::sync::Arc;

fn mc(
    problem: &Problem,
    particles: usize,
    mode: McMode,
    cells: usize,
) -> probcurrent::analysis::montecarlo::McReport {
    simulate(
        problem,
        &McSettings {
            particles,
            seed: 7,
            mode,
            cells,
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .expect("monte carlo")
}

fn pde(problem: &Problem, cells: usize, dt: f64) -> probcurrent::RunReport {
    let scheme = Scheme::resolve("scharfetter-gummel").unwrap();
    run(
        problem,
        &scheme,
        &RunSettings {
            cells,
            dt: Some(dt),
            ..RunSettings::default()
        },
    )
    .expect("pde")
}

/// Gradient descent is the drift-only flow's discrete twin: on seed-drift their means
/// agree to 1e-2 (docs/validation.md, drift only). The PDE on 2400 cells at dt = 0.1 carries
/// numerical diffusion of order h|v| + dt v², far below that.
#[test]
fn gradient_descent_matches_drift_only_pde() {
    let p = Problem::builtin("seed-drift").unwrap();
    let m = mc(&p, 20_000, McMode::Gd, 600);
    let d = pde(&p, 2400, 0.1);
    for t in [100.0, 250.0, 500.0] {
        let a = m.moments.iter().find(|r| r.t == t).unwrap();
        let b = d.moments.iter().find(|r| r.t == t).unwrap();
        eprintln!("t = {t}: GD mean {:.5}, PDE mean {:.5}", a.mean, b.mean);
        assert!(
            (a.mean - b.mean).abs() < 1e-2,
            "t = {t}: {} vs {}",
            a.mean,
            b.mean
        );
    }
}

/// Gaussian kicks against the PDE where both describe the same process closely: OU at
/// a small learning rate (T = 0.002, so the discrete-time bias of the kick model,
/// relative k (T c)²/2 ≈ 2e-4 after k = 100 steps, stays below the Monte Carlo
/// standard error), with S² scaled by 25 so the stationary sd (≈ 0.16) is well
/// resolved. The PDE's own error is estimated from two grids and must be below the
/// standard error for the test to mean anything.
#[test]
fn gaussian_kicks_match_the_pde_on_ou() {
    let mut p = Problem::builtin("ou").unwrap();
    p.lr = 0.002;
    p.noise_scale = 25.0;
    p.t_end = 500.0;
    p.every = 100.0;
    let m = mc(&p, 200_000, McMode::Gaussian, 600);
    let fine = pde(&p, 2400, 0.1);
    let coarse = pde(&p, 1200, 0.2);
    for (k, row) in m.moments.iter().enumerate().skip(1) {
        let (f, c) = (&fine.moments[k], &coarse.moments[k]);
        assert_eq!(f.t, row.t);
        let pde_err = (f.mean - c.mean).abs().max((f.sd - c.sd).abs());
        assert!(
            pde_err < row.mean_se.min(row.sd_se),
            "PDE error {pde_err} not below the s.e."
        );
        let zm = (row.mean - f.mean) / row.mean_se;
        let zs = (row.sd - f.sd) / row.sd_se;
        eprintln!("t = {}: z(mean) = {zm:+.2}, z(sd) = {zs:+.2}", row.t);
        assert!(
            zm.abs() < 4.0 && zs.abs() < 4.0,
            "t = {}: z = {zm}, {zs}",
            row.t
        );
    }
}

/// On seed the Gaussian-kick model agrees with the Fokker–Planck density only where
/// the step is small against the pit: at T = 0.002 (equal T·t = 2 as the canonical run
/// at t = 100) mean and sd agree within 4 s.e.
#[test]
fn gaussian_kicks_match_the_pde_on_seed_at_small_lr() {
    let mut p = Problem::builtin("seed").unwrap();
    p.lr = 0.002;
    p.t_end = 1000.0;
    p.every = 250.0;
    let m = mc(&p, 100_000, McMode::Gaussian, 1200);
    let fine = pde(&p, 9600, 0.25);
    let coarse = pde(&p, 4800, 0.5);
    for (k, row) in m.moments.iter().enumerate().skip(1) {
        let (f, c) = (&fine.moments[k], &coarse.moments[k]);
        let pde_err = (f.mean - c.mean).abs().max((f.sd - c.sd).abs());
        let zm = (row.mean - f.mean) / row.mean_se;
        let zs = (row.sd - f.sd) / row.sd_se;
        eprintln!(
            "t = {}: PDE two-grid error {pde_err:.2e}, s.e. {:.2e}; z(mean) = {zm:+.2}, z(sd) = {zs:+.2}",
            row.t, row.mean_se
        );
        assert!(pde_err < row.mean_se.min(row.sd_se));
        assert!(
            zm.abs() < 4.0 && zs.abs() < 4.0,
            "t = {}: z = {zm}, {zs}",
            row.t
        );
    }
}

/// The same seed gives bit-identical statistics on one thread and on two.
#[test]
fn bit_identical_across_thread_counts() {
    let p = Problem::builtin("seed").unwrap();
    let settings = McSettings {
        particles: 10_000,
        seed: 3,
        t_end: Some(200.0),
        ..McSettings::default()
    };
    let go = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&p, &settings, &|_, _| {}).unwrap())
    };
    let (a, b) = (go(1), go(2));
    for (x, y) in a.moments.iter().zip(&b.moments) {
        assert_eq!(x.mean.to_bits(), y.mean.to_bits());
        assert_eq!(x.sd.to_bits(), y.sd.to_bits());
        assert_eq!(x.regions, y.regions);
    }
    for (x, y) in a.histograms.iter().zip(&b.histograms) {
        assert_eq!(x.p, y.p);
        let bits = |v: &[f64]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x.positions), bits(&y.positions));
    }
}

/// One SGD step from (almost) a point: Var(W₁) = T² S²/B with replacement and
/// T² S²/B · (n − B)/(n − 1) without (docs/model.md). Five datapoints with constant
/// gradients 1..5 (S² = 2); the relative s.e. of a sample variance of N draws is
/// about √(2/N) (less for these bounded gradients), so 4 s.e. at N = 400 000 is ≈ 0.9%.
#[test]
fn minibatch_variance_scales_with_batch_size() {
    let losses: Vec<String> = (1..=5).map(|k| format!("{k}*w")).collect();
    let land = FormulaLandscape::from_formulas(&losses, "").unwrap();
    for (batch, sampling) in [
        (1, Sampling::WithReplacement),
        (2, Sampling::WithReplacement),
        (4, Sampling::WithReplacement),
        (2, Sampling::WithoutReplacement),
        (4, Sampling::WithoutReplacement),
    ] {
        let mut p = Problem::builtin("spreading").unwrap();
        p.landscape = Arc::new(land.clone());
        p.initial = Initial::Normal {
            mean: 0.0,
            sd: 1e-7,
        };
        p.batch = batch;
        p.sampling = sampling;
        p.t_end = 1.0;
        p.every = 1.0;
        let n = 400_000;
        let r = simulate(
            &p,
            &McSettings {
                particles: n,
                seed: 11,
                ..McSettings::default()
            },
            &|_, _| {},
        )
        .unwrap();
        let var = r.moments[1].sd.powi(2);
        let mut expect = p.lr * p.lr * 2.0 / batch as f64;
        if sampling == Sampling::WithoutReplacement {
            expect *= (5.0 - batch as f64) / 4.0;
        }
        let rel = (var - expect) / expect;
        eprintln!("B = {batch} {sampling:?}: var {var:.4e}, expected {expect:.4e} ({rel:+.2e})");
        assert!(
            rel.abs() < 4.0 * (2.0 / n as f64).sqrt(),
            "B = {batch}: {rel}"
        );
        // and the PDE's diffusion coefficient uses the same factor: D = T²S²f/2
        let d = p.coeffs(0.0).d;
        assert!((2.0 * d - expect).abs() < 1e-15);
    }
}

/// Bad settings are errors, not panics: zero particles, fractional steps, SGD on a
/// problem whose S² was modified.
#[test]
fn bad_monte_carlo_settings_are_errors() {
    let p = Problem::builtin("seed").unwrap();
    let e = simulate(
        &p,
        &McSettings {
            particles: 0,
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("particles"));
    let e = simulate(
        &p,
        &McSettings {
            every: Some(2.5),
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("2.5"), "{e}");
    let d = Problem::builtin("seed-drift").unwrap();
    let e = simulate(&d, &McSettings::default(), &|_, _| {}).unwrap_err();
    assert!(e.to_string().contains("noise_scale"), "{e}");
    assert!(McMode::parse("langevin")
        .unwrap_err()
        .to_string()
        .contains("langevin"));
}

/// The exact sample W1 ([`w1_sample`]) of `compare` bounds the mean difference, as any
/// W1 must: on seed-drift (S² = 0) gradient descent against the drift-only
/// Fokker–Planck model, W1 ≥ |Δmean| at every snapshot. The W1 of the particles binned
/// onto the model's grid cannot see errors below the cell width and fell far below it.
#[test]
fn sample_w1_bounds_the_mean_difference_on_drift_only() {
    use probcurrent::analysis::compare::compare;
    use probcurrent::analysis::metrics::{w1_sample, wasserstein1};
    let p = Problem::builtin("seed-drift").unwrap();
    let m = mc(&p, 20_000, McMode::Gd, 1200);
    let d = pde(&p, 1200, 0.25);
    let cmp = compare(&d, &m).unwrap();
    assert!(cmp.rows.len() >= 3, "only {} rows", cmp.rows.len());
    let last = cmp.rows.len() - 1;
    for (j, r) in cmp.rows.iter().enumerate() {
        let k = m.histograms.iter().position(|h| h.t == r.t).unwrap();
        let hist = &m.histograms[k];
        let snap = d.snapshots.iter().find(|s| s.t == r.t).unwrap();
        let binned = wasserstein1(&d.grid, &snap.p, &hist.p).unwrap();
        let dmean = (r.model.mean - r.mc.mean).abs();
        eprintln!(
            "t = {}: W1 sample {:.3e}, W1 binned {:.3e}, |Δmean| {:.3e}",
            r.t, r.w1, binned, dmean
        );
        assert_eq!(
            r.w1.to_bits(),
            w1_sample(&d.grid, &snap.p, &hist.positions).to_bits()
        );
        assert_eq!(hist.positions.len() as f64, m.moments[k].mass * 20_000.0);
        assert!(
            r.w1 >= dmean * (1.0 - 1e-9) - 1e-12,
            "t = {}: W1 {} < |Δmean| {dmean}",
            r.t,
            r.w1
        );
        if j == last {
            // the binned W1 missed the sub-cell error by two orders of magnitude
            assert!(binned < 0.1 * dmean, "binned {binned} vs |Δmean| {dmean}");
        }
    }
}
