//! Monte Carlo of SGD with heavy-ball momentum: β = 0 is plain SGD bit for bit, the
//! results do not depend on the thread count, the effective Fokker–Planck model
//! (learning rate T/(1 − β)) matches the particles on `ou` at small T, and bad momentum
//! settings are errors.

use probcurrent::analysis::montecarlo::{simulate, McReport, McSettings};
use probcurrent::model::momentum::effective_problem;
use probcurrent::Problem;

fn mc(p: &Problem, momentum: Option<f64>, nesterov: bool) -> McReport {
    simulate(
        p,
        &McSettings {
            particles: 6_000,
            seed: 7,
            t_end: Some(100.0),
            every: Some(50.0),
            momentum,
            nesterov,
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap()
}

fn same(a: &McReport, b: &McReport) {
    let bits = |v: &[f64]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
    for (x, y) in a.moments.iter().zip(&b.moments) {
        assert_eq!(x.mean.to_bits(), y.mean.to_bits());
        assert_eq!(x.sd.to_bits(), y.sd.to_bits());
        assert_eq!(bits(&x.regions), bits(&y.regions));
    }
    for (x, y) in a.histograms.iter().zip(&b.histograms) {
        assert_eq!(bits(&x.positions), bits(&y.positions));
    }
}

/// β = 0 (heavy ball, and Nesterov, whose look-ahead W + 0·v is W) goes through the
/// velocity update v ← 0·v − T ĝ, W ← W + v, and gives exactly the positions of the
/// plain step W ← W − T ĝ, walls included.
#[test]
fn beta_zero_is_plain_sgd_exactly() {
    for name in ["seed", "ou"] {
        let p = Problem::builtin(name).unwrap();
        let plain = mc(&p, None, false);
        same(&plain, &mc(&p, Some(0.0), false));
        same(&plain, &mc(&p, Some(0.0), true));
    }
}

/// Momentum changes the process (a check that the velocity is used at all).
#[test]
fn momentum_changes_the_process() {
    let p = Problem::builtin("seed").unwrap();
    let (a, b) = (mc(&p, None, false), mc(&p, Some(0.5), false));
    let (x, y) = (&a.moments[1], &b.moments[1]);
    assert!(x.mean.to_bits() != y.mean.to_bits() || x.sd.to_bits() != y.sd.to_bits());
}

/// The same seed gives bit-identical results on one thread and on two, with momentum
/// (heavy ball and Nesterov).
#[test]
fn bit_identical_across_thread_counts_with_momentum() {
    let p = Problem::builtin("seed").unwrap();
    for nesterov in [false, true] {
        let go = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| mc(&p, Some(0.9), nesterov))
        };
        same(&go(1), &go(2));
    }
}

/// On `ou` (G = c W, S² = a²) at T = 0.002 and β = 0.5 the effective model is the
/// Ornstein–Uhlenbeck process at rate T/(1 − β) = 0.004, whose mean and variance are
/// known exactly (`Problem::exact_moments` of the effective problem). After four and
/// six relaxation times 1/(c T/(1 − β)) = 250 steps — when the velocity's lag of about
/// β/(1 − β) steps no longer shows in the mean — the particles' mean and standard
/// deviation agree with it within 4 standard errors. (The model is first order: the
/// stationary variance of heavy ball differs from it by a relative O(Tλ) ≈ 0.2 %,
/// below the 0.6 % standard error of the standard deviation here.)
#[test]
fn effective_model_matches_monte_carlo_on_ou_at_small_lr() {
    let mut p = Problem::builtin("ou").unwrap();
    p.lr = 0.002;
    let beta = 0.5;
    let eff = effective_problem(&p, beta).unwrap();
    let r = simulate(
        &p,
        &McSettings {
            particles: 20_000,
            seed: 11,
            t_end: Some(1500.0),
            every: Some(500.0),
            momentum: Some(beta),
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap();
    for t in [1000.0, 1500.0] {
        let m = r.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
        let (mean, var) = eff.exact_moments(t).unwrap();
        let zm = (m.mean - mean).abs() / m.mean_se;
        let zs = (m.sd - var.sqrt()).abs() / m.sd_se;
        assert!(
            zm < 4.0 && zs < 4.0,
            "t {t}: mean {} vs {mean} (z {zm:.1}), sd {} vs {} (z {zs:.1})",
            m.mean,
            m.sd,
            var.sqrt()
        );
    }
}

#[test]
fn bad_momentum_settings_are_errors() {
    let p = Problem::builtin("seed").unwrap();
    for (momentum, nesterov) in [(Some(1.0), false), (Some(-0.1), false), (None, true)] {
        let s = McSettings {
            particles: 100,
            t_end: Some(10.0),
            every: Some(10.0),
            momentum,
            nesterov,
            ..McSettings::default()
        };
        let e = simulate(&p, &s, &|_, _| {}).unwrap_err().to_string();
        assert!(e.contains("momentum") || e.contains("nesterov"), "{e}");
    }
    assert!(effective_problem(&p, 1.0).is_err());
}
