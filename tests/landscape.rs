//! The seed landscape's facts (docs/model.md, k = 100) and the exactness of the
//! formula and dataset landscapes' derivatives.
//!
//! Tolerances: docs/model.md quotes its facts to the digits shown (e.g. "≈ 1.00745",
//! "G′ ≈ 97.6"), so each is checked to half a unit of its last quoted digit. The
//! landscape's own derivatives are analytic, so formula-vs-closed-form comparisons are
//! held to a few hundred ulps (1e-12 relative, with an absolute floor scaled by the
//! size of the terms that cancel).

use approx::assert_abs_diff_eq;
use probcurrent::model::landscape::seed_landscape;
use probcurrent::{FormulaLandscape, Landscape, Problem};
use proptest::prelude::*;

/// Bisection for a sign change of `f` on [lo, hi], to the last bit.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let (flo, fhi) = (f(lo), f(hi));
    assert!(
        flo * fhi < 0.0,
        "no sign change on [{lo}, {hi}]: f = {flo}, {fhi}"
    );
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let fm = f(mid);
        if fm == 0.0 {
            return mid;
        }
        if (fm < 0.0) == (flo < 0.0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// G″ by a central difference of the exact G′: step 1e-5 gives truncation
/// h² |G⁗|/6 ≲ 1e-10 · 1e6 / 6 ≈ 2e-5 and rounding ε|G′|/h ≈ 2e-9 — far below the
/// ±0.5 to which docs/model.md quotes G″ ≈ −442.
fn g_second(p: &Problem, w: f64) -> f64 {
    let h = 1e-5;
    (p.coeffs(w + h).g_prime - p.coeffs(w - h).g_prime) / (2.0 * h)
}

#[test]
fn seed_zeros_of_the_mean_gradient() {
    let p = Problem::builtin("seed").unwrap();
    let g = |w: f64| p.coeffs(w).g;

    // the pit minimum: stable for gradient descent
    let w1 = bisect(g, 1.0, 1.1);
    assert_abs_diff_eq!(w1, 1.00745, epsilon = 5e-6);
    let c1 = p.coeffs(w1);
    assert_abs_diff_eq!(c1.g_prime, 97.6, epsilon = 0.05);
    assert_abs_diff_eq!(g_second(&p, w1), -442.0, epsilon = 0.5);
    // ... but S² ≈ 0.549 does not vanish there, so it is not an SGD equilibrium
    assert!(c1.s2 > 0.5, "S²({w1}) = {}", c1.s2);

    // the barrier
    let w2 = bisect(g, 1.1, 1.5);
    assert_abs_diff_eq!(w2, 1.17431, epsilon = 5e-6);
    assert_abs_diff_eq!(p.coeffs(w2).g_prime, -24.7, epsilon = 0.05);
    // the library's region boundary is this zero to the quoted digits
    assert_abs_diff_eq!(
        w2,
        probcurrent::model::problem::SEED_BARRIER,
        epsilon = 5e-6
    );

    // the basin: G(2) = k e^{-k} ≈ 3.7e-42, so the zero is 2 to the last bit
    let w3 = bisect(g, 1.9, 2.1);
    assert_abs_diff_eq!(w3, 2.0, epsilon = 4.0 * f64::EPSILON);
    // G′(2) = 2 + k(1 − 2k) e^{−k} = 2 up to 1e-39
    assert_abs_diff_eq!(p.coeffs(2.0).g_prime, 2.0, epsilon = 1e-14);

    eprintln!(
        "seed zeros of G: {w1:.8} (G′ {:.4}, G″ {:.2}), {w2:.8} (G′ {:.4}), {w3} (G′ {})",
        c1.g_prime,
        g_second(&p, w1),
        p.coeffs(w2).g_prime,
        p.coeffs(w3).g_prime
    );

    // these are the only zeros on the domain: count sign changes on a fine grid
    let m = 30_000;
    let changes = (0..m)
        .filter(|&i| {
            let (a, b) = (3.0 * i as f64 / m as f64, 3.0 * (i + 1) as f64 / m as f64);
            g(a) * g(b) < 0.0
        })
        .count();
    assert_eq!(changes, 3, "G changes sign {changes} times on [0, 3]");
}

#[test]
fn seed_gradient_variance() {
    let p = Problem::builtin("seed").unwrap();
    let at1 = p.coeffs(1.0);
    // every datapoint has the same gradient at W = 1: S² is exactly zero, not small
    assert_eq!(at1.s2.to_bits(), 0.0f64.to_bits(), "S²(1) = {:e}", at1.s2);
    assert_eq!(at1.d.to_bits(), 0.0f64.to_bits());
    // G(1) = −2/e ≈ −0.736
    assert_abs_diff_eq!(at1.g, -0.736, epsilon = 5e-4);
    assert_abs_diff_eq!(at1.g, -2.0 / std::f64::consts::E, epsilon = 1e-15);

    // peaks of S² = [k x e^{−k x²}]² at x = ±1/√(2k) ≈ ±0.0707, height k/(2e) ≈ 18.39
    let st = |w: f64| p.landscape.stats(w);
    let right = bisect(|w| st(w).s2_prime, 1.03, 1.2);
    let left = bisect(|w| st(w).s2_prime, 0.85, 0.97);
    assert_abs_diff_eq!(right - 1.0, 0.0707, epsilon = 5e-5);
    assert_abs_diff_eq!(1.0 - left, 0.0707, epsilon = 5e-5);
    eprintln!(
        "S² peaks at 1 {:+.6} / 1 {:+.6}: {:.5}; S²(2) = {:e}",
        left - 1.0,
        right - 1.0,
        st(right).s2,
        st(2.0).s2
    );
    for w in [left, right] {
        assert_abs_diff_eq!(st(w).s2, 18.39, epsilon = 5e-3);
        // it is the global maximum
        for i in 0..=3000 {
            let x = i as f64 * 1e-3;
            assert!(st(x).s2 <= st(w).s2 * (1.0 + 1e-14), "S²({x}) > S²({w})");
        }
    }

    // at the basin the noise is gone: S² = (k e^{−k})² ≈ 1.4e-83
    let s2_basin = p.coeffs(2.0).s2;
    assert!(s2_basin < 1e-80, "S²(2) = {s2_basin:e}");
    assert!(s2_basin >= 0.0);
}

/// Relative-or-absolute closeness: |a − b| ≤ rel·max(|a|, |b|, floor).
fn close(a: f64, b: f64, rel: f64, floor: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(floor)
}

/// Compare the loss, gradient and curvature of `f` with the seed closed forms at
/// 601 points of [0, 3] (plus the special points 1 and 2). `floor` is the size of
/// the individual terms that can cancel (the pit's curvature reaches 2k = 200).
fn compare_with_seed(f: &FormulaLandscape, what: &str) {
    let seed = seed_landscape(100.0);
    let mut pts: Vec<f64> = (0..=600).map(|i| i as f64 * 0.005).collect();
    pts.extend([1.0, 2.0, 1.00745, 1.0707]);
    for w in pts {
        for j in 0..2 {
            for (name, a, b, floor) in [
                ("loss", f.loss(j, w), seed.loss(j, w), 1.0),
                ("grad", f.grad(j, w), seed.grad(j, w), 10.0),
                ("curv", f.curv(j, w), seed.curv(j, w), 200.0),
            ] {
                assert!(
                    close(a, b, 1e-12, floor * 1e-3),
                    "{what}: {name} of datapoint {j} at w = {w}: formula {a:e}, closed form {b:e}"
                );
            }
        }
        let (sa, sb) = (f.stats(w), seed.stats(w));
        assert!(close(sa.g, sb.g, 1e-12, 1e-2), "{what}: G at {w}");
        assert!(
            close(sa.g_prime, sb.g_prime, 1e-12, 0.2),
            "{what}: G′ at {w}"
        );
        assert!(close(sa.s2, sb.s2, 1e-11, 1e-4), "{what}: S² at {w}");
        assert!(
            close(sa.s2_prime, sb.s2_prime, 1e-11, 1e-1),
            "{what}: S²′ at {w}"
        );
    }
}

/// The seed's losses spelt with the exponent's sign outside the power: exmex gives
/// unary minus a higher priority than `^` (`-x^2` is `(-x)^2`), so this spelling is
/// the one that means −e^{−(W−2)²} to exmex. Tests the exact differentiation.
#[test]
fn formula_derivatives_match_the_seed_closed_forms() {
    let texts = vec![
        "-exp(0-(w-2)^2)".to_string(),
        "-exp(0-(w-2)^2) - exp(0-100*(w-1)^2)".to_string(),
    ];
    let f = FormulaLandscape::from_formulas(&texts, "").unwrap();
    assert_eq!(f.len(), 2);
    compare_with_seed(&f, "unambiguous spelling");
    // the problem built from it has the seed's coefficients
    let mut p = Problem::builtin("seed").unwrap();
    let q = p.clone();
    p.landscape = std::sync::Arc::new(f);
    for i in 0..=300 {
        let w = i as f64 * 0.01;
        let (a, b) = (p.coeffs(w), q.coeffs(w));
        assert!(close(a.d, b.d, 1e-11, 1e-7), "D at {w}: {} vs {}", a.d, b.d);
        assert!(close(a.d_prime, b.d_prime, 1e-11, 1e-5), "D′ at {w}");
    }
}

/// The spelling of docs/model.md, of the README's problem-file example and of the
/// `LandscapeSpec::Formulas` doc comment: `-exp(-(w-2)^2)`. A user who writes the
/// documented formula must get the documented landscape.
#[test]
fn formula_as_written_in_the_docs_means_the_seed() {
    let texts = vec![
        "-exp(-(w-2)^2)".to_string(),
        "-exp(-(w-2)^2) - exp(-100*(w-1)^2)".to_string(),
    ];
    let f = FormulaLandscape::from_formulas(&texts, "").unwrap();
    compare_with_seed(&f, "documented spelling");
}

#[test]
fn dataset_landscape_matches_hand_computation() {
    let cols = vec!["x".to_string(), "y".to_string()];
    let rows = vec![
        vec![1.0, 2.0],
        vec![2.0, 3.0],
        vec![-1.0, 0.5],
        vec![3.0, -1.0],
        vec![0.5, 0.25],
    ];
    let f = FormulaLandscape::from_dataset("(w*x - y)^2", &cols, &rows, "").unwrap();
    assert_eq!(f.len(), rows.len());
    let n = rows.len() as f64;
    for i in 0..=40 {
        let w = -2.0 + 0.1 * i as f64;
        // per row: l = (wx − y)², g = 2x(wx − y), l″ = 2x²
        let g: Vec<f64> = rows
            .iter()
            .map(|r| 2.0 * r[0] * (w * r[0] - r[1]))
            .collect();
        let c: Vec<f64> = rows.iter().map(|r| 2.0 * r[0] * r[0]).collect();
        for (j, r) in rows.iter().enumerate() {
            assert!(close(f.loss(j, w), (w * r[0] - r[1]).powi(2), 1e-13, 1e-3));
            assert!(close(f.grad(j, w), g[j], 1e-13, 1e-3));
            assert!(close(f.curv(j, w), c[j], 1e-13, 1e-3));
        }
        let gm = g.iter().sum::<f64>() / n;
        let cm = c.iter().sum::<f64>() / n;
        let s2 = g.iter().map(|v| (v - gm).powi(2)).sum::<f64>() / n;
        let s2p = g
            .iter()
            .zip(&c)
            .map(|(v, cc)| 2.0 * (v - gm) * (cc - cm))
            .sum::<f64>()
            / n;
        let st = f.stats(w);
        // the gradients are O(30); cancellation in G is relative to that size
        assert!(close(st.g, gm, 1e-13, 30.0), "G at {w}: {} vs {gm}", st.g);
        assert!(close(st.g_prime, cm, 1e-13, 1.0), "G′ at {w}");
        assert!(close(st.s2, s2, 1e-12, 1.0), "S² at {w}: {} vs {s2}", st.s2);
        assert!(close(st.s2_prime, s2p, 1e-12, 30.0), "S²′ at {w}");
    }
}

/// One term of a random formula: (text, is it smooth and finite for all w in [−3, 3]).
fn term() -> impl Strategy<Value = String> {
    let c = || 0.1f64..2.0;
    prop_oneof![
        (c(), c(), -2.0f64..2.0).prop_map(|(a, b, m)| format!("{a}*exp(0-{b}*(w-({m}))^2)")),
        (c(), -2.0f64..2.0).prop_map(|(a, m)| format!("{a}*(w-({m}))^2")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*sin({b}*w)")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*cos({b}*w+1)")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*ln(1+exp({b}*w))")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*tanh({b}*w)")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*w^3*exp(0-{b}*w^2)")),
        (c(), c()).prop_map(|(a, b)| format!("{a}/(1+{b}*w^2)")),
        (c(), c()).prop_map(|(a, b)| format!("{a}*sqrt(1+{b}*w^2)")),
    ]
}

fn formula() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(term(), 1..4),
        prop::collection::vec(prop::bool::ANY, 3),
    )
        .prop_map(|(ts, signs)| {
            let mut s = ts[0].clone();
            for (t, plus) in ts[1..].iter().zip(signs) {
                s.push_str(if plus { " + " } else { " - " });
                s.push_str(t);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/landscape.txt",
            ),
        )),
        ..ProptestConfig::default()
    })]

    /// exmex's exact first and second derivatives against central differences of the
    /// loss. Every term has |l⁽ᵏ⁾| ≲ 2·4^k·(a few) for k ≤ 4 on [−3, 3] (constants
    /// ≤ 2, Gaussian widths ≥ 1/√2), so with step s:
    /// gradient: truncation s²|l‴|/6 + rounding ε|l|/s; s = 1e-4 → ≲ 1e-7 + 1e-11;
    /// curvature: truncation s²|l⁗|/12 + rounding 4ε|l|/s²; s = 1e-3 → ≲ 1e-5 + 1e-9.
    /// Tolerances 1e-5 and 2e-4, relative to max(1, |value|), sit above those bounds
    /// with margin, and a wrong derivative (a dropped chain factor, a sign) misses by O(1).
    #[test]
    fn formula_derivatives_match_finite_differences(
        texts in prop::collection::vec(formula(), 1..4),
        ws in prop::collection::vec(-3.0f64..3.0, 8),
    ) {
        let f = FormulaLandscape::from_formulas(&texts, "").unwrap();
        prop_assert_eq!(f.len(), texts.len());
        for (j, text) in texts.iter().enumerate() {
            for &w in &ws {
                let l = |x: f64| f.loss(j, x);
                let s1 = 1e-4;
                let fd1 = (l(w + s1) - l(w - s1)) / (2.0 * s1);
                let s2 = 1e-3;
                let fd2 = (l(w + s2) - 2.0 * l(w) + l(w - s2)) / (s2 * s2);
                let (g, c) = (f.grad(j, w), f.curv(j, w));
                prop_assert!((g - fd1).abs() <= 1e-5 * g.abs().max(1.0),
                    "gradient of `{text}` at w = {w}: exmex {g}, FD {fd1}");
                prop_assert!((c - fd2).abs() <= 2e-4 * c.abs().max(1.0),
                    "curvature of `{text}` at w = {w}: exmex {c}, FD {fd2}");
            }
        }
    }
}

/// The seed's S² in closed form: ((g₂ − g₁)/2)² = (k (W−1) e^{−k(W−1)²})², and its
/// derivative 2 (k x e^{−k x²}) · k e^{−k x²} (1 − 2k x²) with x = W − 1.
fn seed_s2_exact(k: f64, w: f64) -> (f64, f64) {
    let x = w - 1.0;
    let e = (-k * x * x).exp();
    let half = k * x * e;
    (half * half, 2.0 * half * k * e * (1.0 - 2.0 * k * x * x))
}

/// Scan [0, 3] with 300 001 points and return the largest relative error of S² and of
/// (S²)′ against the closed forms (where S² is a normal float), with where they occur.
/// (S²)′ = S² (2/x − 4k x) is measured against the size S² (2/|x| + 4k|x|) of its two
/// terms, which cancel at the peaks x = ±1/√(2k).
fn seed_s2_errors(l: &dyn Landscape) -> ((f64, f64), (f64, f64), usize) {
    let m = 300_000;
    let (mut worst_s2, mut worst_s2p, mut normal) = ((0.0f64, 0.0), (0.0f64, 0.0), 0);
    for i in 0..=m {
        let w = 3.0 * i as f64 / m as f64;
        let (s2, s2p) = seed_s2_exact(100.0, w);
        let st = l.stats(w);
        if s2 >= f64::MIN_POSITIVE {
            normal += 1;
            let e = (st.s2 / s2 - 1.0).abs();
            if e > worst_s2.0 {
                worst_s2 = (e, w);
            }
            let x = (w - 1.0).abs();
            let scale = s2 * (2.0 / x + 400.0 * x);
            let ep = (st.s2_prime - s2p).abs() / scale;
            if ep > worst_s2p.0 {
                worst_s2p = (ep, w);
            }
        } else {
            // below the normal range: tiny and never negative
            assert!(
                (0.0..1e-300).contains(&st.s2),
                "S²({w}) = {:e} where the exact value is {s2:e}",
                st.s2
            );
        }
        // the same value by both entry points
        assert_eq!(l.g_s2(w).1.to_bits(), st.s2.to_bits(), "g_s2 at {w}");
    }
    (worst_s2, worst_s2p, normal)
}

/// S² on seed without cancellation: the shared part −e^{−(W−2)²} cancels exactly, so
/// S² = (100 (W−1) e^{−100(W−1)²})² to 1e-12 relative wherever it is a normal float
/// (before, S² was exactly 0 or jumped in steps of ~4e-34 for W ≲ 0.38 and W ≳ 1.62);
/// the same for the formula landscape with `shared`, and G is the mean of the full
/// gradients as before, to rounding.
#[test]
fn seed_gradient_variance_is_exact_down_to_the_smallest_normal_float() {
    let seed = seed_landscape(100.0);
    let (s2, s2p, normal) = seed_s2_errors(&seed);
    eprintln!(
        "seed (closures): max relative error of S² {:.2e} at W = {}, of S²′ {:.2e} at W = {} \
         ({normal} of 300001 points normal)",
        s2.0, s2.1, s2p.0, s2p.1
    );
    assert!(s2.0 <= 1e-12 && s2p.0 <= 1e-12, "{s2:?} {s2p:?}");
    // S² is a normal float on nearly the whole domain, down to W ≈ 2.86
    assert!(normal > 280_000, "{normal}");

    let parts = vec!["0".to_string(), "-exp(-100*(w-1)^2)".to_string()];
    let f = FormulaLandscape::from_formulas(&parts, "")
        .unwrap()
        .with_shared("-exp(-(w-2)^2)", "")
        .unwrap();
    let (fs2, fs2p, _) = seed_s2_errors(&f);
    eprintln!(
        "seed (formulas with shared): max relative error of S² {:.2e} at W = {}, of S²′ {:.2e} at W = {}",
        fs2.0, fs2.1, fs2p.0, fs2p.1
    );
    assert!(fs2.0 <= 1e-12 && fs2p.0 <= 1e-12, "{fs2:?} {fs2p:?}");
    compare_with_seed(&f, "formulas with a shared part");

    // G: the mean of the full gradients l₁′ = s′, l₂′ = s′ + r₂′, to rounding
    for i in 0..=3000 {
        let w = i as f64 * 1e-3;
        let s = 2.0 * (w - 2.0) * (-(w - 2.0).powi(2)).exp();
        let r = 200.0 * (w - 1.0) * (-100.0 * (w - 1.0).powi(2)).exp();
        let g = (s + (s + r)) / 2.0;
        let scale = s.abs().max((s + r).abs());
        for (what, got) in [("closures", seed.stats(w).g), ("formulas", f.stats(w).g)] {
            assert!(
                (got - g).abs() <= 4.0 * f64::EPSILON * scale,
                "{what}: G({w}) = {got:e}, expected {g:e}"
            );
        }
    }
}

/// (S²)′ is the derivative of S²: a central difference of S² with step 1e-7 agrees to
/// 1e-6 relative wherever S² > 1e-250 (truncation (h·|d ln S²/dW|)²/6 ≲ 3e-10 with
/// |d ln S²/dW| ≤ 4k|W − 1| + 2/|W − 1| ≈ 800; rounding ε S² / (h |S²′|) ≲ 1e-9 away
/// from the peaks and zero, which are skipped). The old cancelling S² failed this by
/// orders of magnitude below 1e-30.
#[test]
fn seed_gradient_variance_derivative_matches_a_finite_difference() {
    let seed = seed_landscape(100.0);
    let h = 1e-7;
    let mut checked = 0;
    for i in 0..=30_000 {
        let w = i as f64 * 1e-4;
        let st = seed.stats(w);
        let x = (w - 1.0).abs();
        // skip the zero at W = 1 and the peaks at |W − 1| = 1/√200, where S²′ = 0
        if st.s2 <= 1e-250 || x < 1e-3 || (x - 200f64.sqrt().recip()).abs() < 1e-3 {
            continue;
        }
        let fd = (seed.stats(w + h).s2 - seed.stats(w - h).s2) / (2.0 * h);
        assert!(
            (fd - st.s2_prime).abs() <= 1e-6 * st.s2_prime.abs(),
            "S²′({w}) = {:e}, finite difference {fd:e} (S² = {:e})",
            st.s2_prime,
            st.s2
        );
        checked += 1;
    }
    assert!(checked > 25_000, "{checked}");
}

/// Without a split, S² is computed from the shifted gradients g_j − g₁: datapoints
/// with equal gradients give exactly 0, and a tiny spread on top of large gradients is
/// resolved as well as the given floats allow (exact in their differences).
#[test]
fn shifted_variance_is_exact_in_the_differences() {
    use probcurrent::model::landscape::shifted_variance;
    // three gradients 1e8 + {0, δ, 2δ} with δ = 2⁻²⁰ (exact floats): S² = (2/3) δ²
    let d = 2f64.powi(-20);
    let g = [1e8, 1e8 + d, 1e8 + 2.0 * d];
    let (s2, _) = shifted_variance(3, |j| g[j], None);
    assert!((s2 / (2.0 / 3.0 * d * d) - 1.0).abs() < 1e-15, "{s2:e}");
    // the naive two-pass around the mean loses it: mean = 1e8 + δ rounds
    let eq = [0.3, 0.3, 0.3, 0.3];
    assert_eq!(shifted_variance(4, |j| eq[j], None).0.to_bits(), 0);
    // and the derivative: 2 mean (g_j − G)(c_j − C)
    let c = [1.0, 2.0, 4.0];
    let (_, s2p) = shifted_variance(3, |j| g[j], Some(&|j| c[j]));
    let expected = 2.0 * ((-d) * (1.0 - 7.0 / 3.0) + 0.0 + d * (4.0 - 7.0 / 3.0)) / 3.0;
    assert!(
        (s2p / expected - 1.0).abs() < 1e-14,
        "{s2p:e} vs {expected:e}"
    );

    // a problem file may give the shared part
    let dir = std::env::temp_dir().join(format!("probcurrent-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shared.toml");
    std::fs::write(
        &path,
        "domain = [0.0, 3.0]\nlr = 0.02\nbatch = 1\n\
         [landscape]\nkind = \"formulas\"\nshared = \"-exp(-(w-2)^2)\"\n\
         losses = [\"0\", \"-exp(-100*(w-1)^2)\"]\n[initial]\nkind = \"uniform\"\n",
    )
    .unwrap();
    let p = Problem::resolve(path.to_str().unwrap()).unwrap();
    let (exact, _) = seed_s2_exact(100.0, 0.2);
    assert!((p.landscape.stats(0.2).s2 / exact - 1.0).abs() < 1e-12);
    assert_eq!(p.landscape.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
