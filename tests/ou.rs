//! Ornstein–Uhlenbeck (built-in `ou`: G = W, S² = 1, T = 0.02, domain [−1, 2],
//! start N(1, 0.1²)): the density's mean and variance against the exact ones, and
//! first-order convergence of explicit upwind as the grid is refined.
//!
//! Exact: mean m(t) = 1·e^{−Tt}, variance v(t) = v₀ e^{−2Tt} + (D/T)(1 − e^{−2Tt}) with
//! D = T²/2 (here v₀ = D/T = 0.01, so the variance stays 0.01 while the mean relaxes).
//! The start is 10 standard deviations from either wall, so truncation is below 1e-20.

use probcurrent::{run, Outcome, Problem, RunSettings, Scheme};

/// Least-squares slope of log(err) against log(1/h) = log(N).
fn loglog_slope(ns: &[usize], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = ns.iter().map(|&n| (n as f64).ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

fn sci(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.3e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// (mean error, variance error) of explicit upwind at the card's default step.
fn errors(problem: &Problem, scheme: &Scheme, cells: usize, t_end: f64) -> (f64, f64) {
    let r = run(
        problem,
        scheme,
        &RunSettings {
            cells,
            t_end: Some(t_end),
            every: Some(t_end / 4.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.outcome, Outcome::Ok, "{cells} cells: {:?}", r.reason);
    // the default step is the card's fraction (0.9) of the explicit limit
    let frac = match &scheme.integrator {
        probcurrent::scheme::IntegratorSpec::ForwardEuler(f) => f.safety,
        other => panic!("{} is not explicit: {other:?}", scheme.name),
    };
    assert!((r.dt_over_limit.unwrap() - frac).abs() < 1e-12);
    let m = r.moments.last().unwrap();
    assert!((m.t - t_end).abs() < 1e-9);
    let (mean, var) = problem.exact_moments(t_end).unwrap();
    ((m.mean - mean).abs(), (m.sd * m.sd - var).abs())
}

#[test]
fn ou_moments_converge_at_first_order_with_explicit_upwind() {
    let ou = Problem::builtin("ou").unwrap();
    let scheme = Scheme::resolve("explicit-upwind").unwrap();
    let t_end = ou.t_end; // 100 steps: the mean relaxes from 1 to e^{-2} ≈ 0.135
    let ns = [50, 100, 200, 400];
    let (mut em, mut ev) = (vec![], vec![]);
    for &n in &ns {
        let (a, b) = errors(&ou, &scheme, n, t_end);
        em.push(a);
        ev.push(b);
    }
    // errors fall as N grows: the order is minus the slope against N
    let (sm, sv) = (-loglog_slope(&ns, &em), -loglog_slope(&ns, &ev));
    eprintln!("OU explicit-upwind, t = {t_end}: N = {ns:?}");
    eprintln!("  |mean error| = {}  order {sm:.3}", sci(&em));
    eprintln!("  |var error|  = {}  order {sv:.3}", sci(&ev));
    // upwind's numerical diffusion |v| h / 2 and forward Euler's O(dt) (dt ∝ h at these
    // Péclet numbers) both make the moments first order in h: order 1 ± 0.3
    assert!((sm - 1.0).abs() <= 0.3, "mean error order {sm}: {em:?}");
    assert!((sv - 1.0).abs() <= 0.3, "variance error order {sv}: {ev:?}");
    // and not only on average: every halving of h divides each error by 2^(1 ± 0.3)
    for e in [&em, &ev] {
        for k in 1..e.len() {
            let ratio = e[k - 1] / e[k];
            assert!(
                (2f64.powf(0.7)..=2f64.powf(1.3)).contains(&ratio),
                "error ratio {ratio} between N = {} and {}: {e:?}",
                ns[k - 1],
                ns[k]
            );
        }
    }
}

#[test]
fn exact_moments_match_the_formula() {
    // the reference itself: at t = 0 the start, as t → ∞ the stationary N(0, D/T)
    let ou = Problem::builtin("ou").unwrap();
    let (m0, v0) = ou.exact_moments(0.0).unwrap();
    assert!((m0 - 1.0).abs() < 1e-15 && (v0 - 0.01).abs() < 1e-15);
    let (m, v) = ou.exact_moments(1e5).unwrap();
    let d = ou.lr * ou.lr / 2.0;
    assert!(m.abs() < 1e-15 && (v - d / ou.lr).abs() < 1e-15, "{m} {v}");
    let (m, _) = ou.exact_moments(50.0).unwrap();
    assert!((m - (-1.0f64).exp()).abs() < 1e-15);
}
