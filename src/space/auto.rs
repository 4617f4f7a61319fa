//! The `auto` grid: cells equidistributing a monitor function built from the landscape,
//! and the one place that turns a problem's grid choice into a [`Grid`].
//!
//! De Boor's equidistribution principle (de Boor 1973; Huang & Russell, *Adaptive
//! Moving Mesh Methods*, Springer 2011, ch. 2): faces x_0 < … < x_n are placed so that
//! every cell carries the same share of ∫ M dW, for a monitor M > 0 that is large where
//! the solution needs small cells. Here
//!
//!   M(W) = (1 − s)/(b − a) + Σ_k c_k / (σ_k + |W − W_k|),   s = [`FEATURE_SHARE`],
//!
//! with W_k the zeros of G (minima and barrier tops of the loss, found as sign changes
//! on max(4 n, 8000) equally spaced samples of G alone), σ_k = √(D/(T |G′|)) there the
//! width of the local profile of the density (0 where S² vanishes too: a point mass;
//! floored at 1e-7 (b − a)), and c_k giving each feature the same share s/K of ∫ M.
//! The cells grow linearly away from a feature and the uniform share 1 − s keeps every
//! region resolved (docs/schemes.md explains the choice). ∫ M is in closed form (one
//! logarithm per feature), and the faces follow in one sweep by safeguarded Newton
//! steps on it ([`equidistribute`]).

use crate::error::Result;
use crate::model::grid_choice::{GridChoice, GridKind};
use crate::model::landscape::Form;
use crate::model::problem::Problem;
use crate::space::grid::Grid;

/// The grid of `problem` with `cells` cells: `kind` (a `--grid` flag) when given,
/// else the problem's own choice. Explicit edges fix the cell count themselves.
pub fn grid_for(problem: &Problem, kind: Option<GridKind>, cells: usize) -> Result<Grid> {
    let choice = kind.map_or_else(|| problem.grid.clone(), GridChoice::from);
    let origin = |e: crate::error::Error| e.with_origin(&problem.origin);
    match choice {
        GridChoice::Uniform => Grid::new(problem.a, problem.b, cells).map_err(origin),
        GridChoice::Auto => auto_grid(problem, cells).map_err(origin),
        GridChoice::Edges(e) => {
            Grid::from_edges_on(problem.a, problem.b, e.to_vec(), "[grid]").map_err(origin)
        }
    }
}

/// Fraction of ∫ M given to the features (the rest is the uniform floor).
pub const FEATURE_SHARE: f64 = 0.6;
/// Growth of the cell width away from a feature: h ∝ σ + `GRADING` · |W − W*|.
pub const GRADING: f64 = 1.0;
/// Most features kept (the narrowest).
pub const MAX_FEATURES: usize = 16;

/// A zero of G: where it is and its width σ = √(D / (T |G′|)) (floored).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    /// Position W* (G(W*) = 0).
    pub w: f64,
    /// Width σ of the local Gaussian (stable) or barrier (unstable) profile.
    pub sigma: f64,
}

/// G(W) alone (no S², no derivatives): in closed form for a built-in landscape
/// ([`Form`], `form` being the landscape's, looked up once per sweep), else the mean
/// of the per-datapoint gradients.
fn mean_gradient(problem: &Problem, form: Option<Form>, w: f64) -> f64 {
    match form {
        Some(Form::Seed { k }) => {
            let (u, x) = (w - 2.0, w - 1.0);
            2.0 * u * (-u * u).exp() + k * x * (-k * x * x).exp()
        }
        Some(Form::Ou { c, m, .. }) => c * (w - m),
        Some(Form::Spreading { .. }) => 0.0,
        Some(Form::VanishingNoise) => w - 1.0,
        None => {
            let l = &problem.landscape;
            (0..l.len()).map(|j| l.grad(j, w)).sum::<f64>() / l.len() as f64
        }
    }
}

/// The sign of G(w) where it is certain without evaluating G: `Some(true)` for
/// G < 0, `Some(false)` for G > 0 (the computed value non-zero with that sign, or
/// not finite), `None` otherwise.
///
/// `seed`: G = 2u e^{−u²} + k x e^{−kx²} with u = W − 2, x = W − 1. Where u and x are
/// non-zero with one sign (W < 1 or W > 2), k ≥ 0 and u² < 700 (so e^{−u²} is a
/// normal number and 2u e^{−u²} is non-zero), the first term has the sign of u and the
/// second is zero or of the same sign, so their rounded sum is non-zero with the sign
/// of u (rounding is monotone), or ±∞/NaN where k x overflows, which [`features`]
/// skips anyway. Other forms: `None` (their G costs no exponential).
fn certain_sign(form: Option<Form>, w: f64) -> Option<bool> {
    match form {
        Some(Form::Seed { k }) => {
            let (u, x) = (w - 2.0, w - 1.0);
            let same = u != 0.0 && x != 0.0 && (u < 0.0) == (x < 0.0);
            (same && k >= 0.0 && u * u < 700.0).then_some(u < 0.0)
        }
        _ => None,
    }
}

/// The zeros of G on `m` equally spaced samples of [a, b], with their widths
/// σ = √(D/(T |G′|)), floored at 1e-7 (b − a) (a zero where S² vanishes too is a
/// point mass: σ = 0); the [`MAX_FEATURES`] narrowest.
pub fn features(problem: &Problem, m: usize) -> Vec<Feature> {
    let (a, b) = (problem.a, problem.b);
    let delta = (b - a) / (m - 1) as f64;
    let floor = 1e-7 * (b - a);
    let form = problem.landscape.form();
    let at = |j: usize| a + j as f64 * delta;
    // G is evaluated only at the ends of intervals whose sign is not certain from the
    // form alone (an interval with one certain sign at both ends has no sign change,
    // no zero at its left end, and is skipped as before)
    let signs: Vec<Option<bool>> = (0..m).map(|j| certain_sign(form, at(j))).collect();
    let mut cache: Vec<Option<f64>> = vec![None; m];
    let mut g = |j: usize| *cache[j].get_or_insert_with(|| mean_gradient(problem, form, at(j)));
    let mut out = Vec::new();
    for j in 0..m - 1 {
        if matches!((signs[j], signs[j + 1]), (Some(s0), Some(s1)) if s0 == s1) {
            continue;
        }
        let (g0, g1) = (g(j), g(j + 1));
        if !(g0.is_finite() && g1.is_finite()) || (g1 - g0).abs() < f64::MIN_POSITIVE {
            continue;
        }
        // a sign change within [x_j, x_{j+1}), or an exact zero at x_j
        if (g0 < 0.0) != (g1 < 0.0) || g0 == 0.0 {
            let x0 = a + j as f64 * delta;
            let w = x0 + delta * g0 / (g0 - g1);
            let c = problem.coeffs(w);
            let slope = (g1 - g0) / delta;
            let sigma = (c.d.max(0.0) / (problem.lr * slope.abs())).sqrt();
            let sigma = if sigma.is_finite() {
                sigma.max(floor)
            } else {
                floor
            };
            out.push(Feature { w, sigma });
        }
    }
    out.sort_by(|x, y| x.sigma.total_cmp(&y.sigma));
    out.truncate(MAX_FEATURES);
    out
}

/// The monitor M(W) = floor + Σ_k c_k / (σ_k + β |W − W_k|) (module documentation).
#[derive(Clone, Debug)]
pub struct Monitor {
    a: f64,
    b: f64,
    floor: f64,
    /// (feature, weight c_k, ∫_a^{W_k} of its unit term).
    terms: Vec<(Feature, f64, f64)>,
}

impl Monitor {
    /// The monitor of `problem`, its features found on `m` samples.
    pub fn of_problem(problem: &Problem, m: usize) -> Monitor {
        let (a, b) = (problem.a, problem.b);
        let feats = features(problem, m);
        let share = if feats.is_empty() { 0.0 } else { FEATURE_SHARE };
        let terms = feats
            .iter()
            .map(|f| {
                // each feature carries the same share of ∫ M
                let left = side(f, f.w - a);
                let total = left + side(f, b - f.w);
                (*f, share / (feats.len() as f64 * total), left)
            })
            .collect();
        Monitor {
            a,
            b,
            floor: (1.0 - share) / (b - a),
            terms,
        }
    }

    /// M(W).
    pub fn at(&self, w: f64) -> f64 {
        self.floor
            + self
                .terms
                .iter()
                .map(|(f, c, _)| c / (f.sigma + GRADING * (w - f.w).abs()))
                .sum::<f64>()
    }

    /// M′(W) (one-sided at a feature, where M has a kink: the right derivative).
    pub fn slope(&self, w: f64) -> f64 {
        self.terms
            .iter()
            .map(|(f, c, _)| {
                let d = w - f.w;
                let q = f.sigma + GRADING * d.abs();
                let s = if d < 0.0 { 1.0 } else { -1.0 };
                s * GRADING * c / (q * q)
            })
            .sum()
    }

    /// ∫_a^W M, in closed form (increasing from 0 at a to 1 at b): one logarithm per
    /// feature.
    pub fn cumulative(&self, w: f64) -> f64 {
        let mut s = self.floor * (w - self.a);
        for (f, c, left) in &self.terms {
            // ∫_a^W of one term: the part left of W* less what lies beyond W, or the
            // whole left part plus the part right of W*
            s += c * if w <= f.w {
                left - side(f, f.w - w)
            } else {
                left + side(f, w - f.w)
            };
        }
        s
    }

    /// The features, with their weights.
    pub fn features(&self) -> impl Iterator<Item = &Feature> {
        self.terms.iter().map(|(f, _, _)| f)
    }
}

/// ∫_0^d 1/(σ + β x) dx (0 for d ≤ 0).
fn side(f: &Feature, d: f64) -> f64 {
    (GRADING * d.max(0.0) / f.sigma).ln_1p() / GRADING
}

/// Faces x_0 = a < … < x_n = b equidistributing `mon`: ∫_{x_i}^{x_{i+1}} M = ∫M / n.
///
/// One sweep from a to b: each face is the root of C(x) = target of the closed-form
/// cumulative C = ∫_a^x M, found by Newton's method (C′ = M is known in closed form)
/// from the face before it, safeguarded by a bracket [lo, hi] that every evaluation
/// narrows (a step leaving it is replaced by its midpoint), to a step of 1e-14 (b − a).
/// The first step needs no evaluation of C (one logarithm per feature): at the face
/// before, C equals the previous target to within that face's own tolerance, so the
/// first step is Halley's (third order: the root of the quadratic Taylor model
/// C + M h + M′ h²/2, with M′ in closed form), which leaves about (M″/M) h³ of a
/// cell width h; one or two Newton steps from there reach the tolerance. C is
/// increasing and M is smooth between features, and the result agrees with bisection
/// to full precision (to the tolerance, whatever the first step).
pub fn equidistribute(mon: &Monitor, n: usize) -> Vec<f64> {
    let (a, b) = (mon.a, mon.b);
    let total = mon.cumulative(b);
    let tol = 1e-14 * (b - a);
    let mut edges = Vec::with_capacity(n + 1);
    edges.push(a);
    let mut x = a;
    let mut prev_target = 0.0;
    for i in 1..n {
        let target = total * i as f64 / n as f64;
        let (mut lo, mut hi) = (x, b);
        // Halley's step from the face before (no evaluation of C), Newton's where the
        // quadratic model bends too much to be trusted
        let (m, dm) = (mon.at(x), mon.slope(x));
        let newton = (target - prev_target) / m;
        let bend = 1.0 + 0.5 * dm * newton / m;
        let h = if bend > 0.5 { newton / bend } else { newton };
        x = if x + h > lo && x + h < hi {
            x + h
        } else {
            0.5 * (lo + hi)
        };
        prev_target = target;
        for _ in 0..200 {
            let r = mon.cumulative(x) - target;
            if r < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            if r == 0.0 {
                break;
            }
            let newton = x - r / mon.at(x);
            let next = if newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            let done = (next - x).abs() <= tol || hi - lo <= tol;
            x = next;
            if done {
                break;
            }
        }
        edges.push(x);
    }
    edges.push(b);
    edges
}

/// The equidistributing grid of `cells` cells for `problem` (module documentation).
pub fn auto_grid(problem: &Problem, cells: usize) -> Result<Grid> {
    crate::limits::cells(cells)?;
    // the domain itself is checked by the uniform constructor (same errors)
    Grid::new(problem.a, problem.b, cells)?;
    let mon = Monitor::of_problem(problem, (4 * cells).max(8000));
    Grid::from_edges(equidistribute(&mon, cells), "auto grid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::landscape::seed_landscape;
    use crate::model::problem::BUILTINS;
    use std::sync::Arc;

    /// [`features`] as it was before signs were taken from the form: every sample
    /// evaluated.
    fn features_evaluating_every_sample(problem: &Problem, m: usize) -> Vec<Feature> {
        let (a, b) = (problem.a, problem.b);
        let delta = (b - a) / (m - 1) as f64;
        let floor = 1e-7 * (b - a);
        let form = problem.landscape.form();
        let g: Vec<f64> = (0..m)
            .map(|j| mean_gradient(problem, form, a + j as f64 * delta))
            .collect();
        let mut out = Vec::new();
        for j in 0..m - 1 {
            let (g0, g1) = (g[j], g[j + 1]);
            if !(g0.is_finite() && g1.is_finite()) || (g1 - g0).abs() < f64::MIN_POSITIVE {
                continue;
            }
            if (g0 < 0.0) != (g1 < 0.0) || g0 == 0.0 {
                let w = a + j as f64 * delta + delta * g0 / (g0 - g1);
                let c = problem.coeffs(w);
                let sigma = (c.d.max(0.0) / (problem.lr * ((g1 - g0) / delta).abs())).sqrt();
                let sigma = if sigma.is_finite() {
                    sigma.max(floor)
                } else {
                    floor
                };
                out.push(Feature { w, sigma });
            }
        }
        out.sort_by(|x, y| x.sigma.total_cmp(&y.sigma));
        out.truncate(MAX_FEATURES);
        out
    }

    /// Skipping the intervals of certain sign changes no feature: bit-identical to
    /// evaluating every sample, on every built-in problem and on `seed` with other
    /// pit sharpnesses and domains (far wings where e^{−(W−2)²} underflows, W = 1 and
    /// W = 2 on samples, a k whose k(W − 1) overflows).
    #[test]
    fn certain_signs_change_no_feature() {
        for bt in BUILTINS {
            let p = Problem::builtin(bt.name).unwrap();
            assert_eq!(
                features(&p, 8000),
                features_evaluating_every_sample(&p, 8000)
            );
        }
        let mut p = Problem::builtin("seed").unwrap();
        for (k, a, b) in [
            (100.0, 0.0, 3.0),
            (1.0, -40.0, 40.0),
            (0.0, 0.0, 3.0),
            (1e4, 0.5, 2.5),
            (1e300, -3.0, 3.0),
            (100.0, 1.0, 2.0),
        ] {
            p.landscape = Arc::new(seed_landscape(k));
            (p.a, p.b) = (a, b);
            for m in [8000, 4001] {
                let (got, want) = (features(&p, m), features_evaluating_every_sample(&p, m));
                assert_eq!(got, want, "k = {k} on [{a}, {b}], {m} samples");
            }
        }
        assert_eq!(certain_sign(Some(Form::Seed { k: 100.0 }), 0.5), Some(true));
        assert_eq!(
            certain_sign(Some(Form::Seed { k: 100.0 }), 2.5),
            Some(false)
        );
        assert_eq!(certain_sign(Some(Form::Seed { k: 100.0 }), 1.5), None);
    }

    /// The faces solve C(x_i) = i/n · C(b) to the tolerance: against bisection on C,
    /// for every built-in problem with features, and M′ is the derivative of M.
    #[test]
    fn faces_agree_with_bisection_and_the_slope_with_a_difference() {
        for bt in BUILTINS {
            let p = Problem::builtin(bt.name).unwrap();
            let mon = Monitor::of_problem(&p, 8000);
            let n = 500;
            let edges = equidistribute(&mon, n);
            let total = mon.cumulative(p.b);
            let len = p.b - p.a;
            for (i, &x) in edges.iter().enumerate().take(n).skip(1) {
                let target = total * i as f64 / n as f64;
                let (mut lo, mut hi) = (p.a, p.b);
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if mon.cumulative(mid) < target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                assert!(
                    (x - lo).abs() <= 1e-13 * len,
                    "{} face {i}: {x} vs {lo}",
                    bt.name
                );
            }
            for j in 1..300 {
                let w = p.a + len * (j as f64 + 0.37) / 300.0;
                let h = 1e-6 * len;
                if mon.features().any(|f| (f.w - w).abs() < 2.0 * h) {
                    continue;
                }
                let fd = (mon.at(w + h) - mon.at(w - h)) / (2.0 * h);
                let scale = mon.slope(w).abs().max(mon.at(w) / len);
                assert!(
                    (mon.slope(w) - fd).abs() <= 1e-4 * scale,
                    "{} at {w}: {} vs {fd}",
                    bt.name,
                    mon.slope(w)
                );
            }
        }
    }
}
