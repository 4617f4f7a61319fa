//! The `auto` grid: cells equidistributing a monitor function built from the landscape,
//! and the one place that turns a problem's grid choice into a [`Grid`].
//!
//! De Boor's equidistribution principle (de Boor 1973; Huang & Russell, *Adaptive
//! Moving Mesh Methods*, Springer 2011, ch. 2): faces x_0 < … < x_n are placed so that
//! every cell carries the same share of ∫ M dW, for a monitor M > 0 that is large where
//! the solution needs small cells. Here the solution is governed by the exponent
//! q(W) = (T G + D′)/D = −d ln P_s/dW, the drift relative to diffusion: the
//! Scharfetter–Gummel flux is exact where q is constant across a face, and its error
//! grows with the change of q across it. The monitor is
//!
//!   M(W) = α + min(√|q′(W)|, M_cap),
//!
//! √|q′| having the units of an inverse length (the local length scale of ln P). It is
//! large at minima of the loss where S² is small (q changes sign steeply: the pit
//! spike of `seed`) and near points where G and S² vanish together (q ∝ 1/(W − W*):
//! the point mass at W* = 2 of `seed`), and small where drift and diffusion change
//! slowly. The floor α, the mean of the second term over the domain, gives about half
//! the cells a uniform spacing so that no region starves (the density travels through
//! regions that are smooth in the end); the cap M_cap = 1/(4δ), with δ the spacing of
//! the sampling below, keeps cells no smaller than the sampling can see. q is sampled
//! at max(16 n, 8000) equally spaced points, q′ by central differences (D = 0 at a
//! sample counts as the cap), and M is smoothed by three passes of the (1, 2, 1)/4
//! filter before ∫ M is inverted piecewise linearly, so neighbouring cells differ by a
//! bounded ratio.

use crate::error::Result;
use crate::model::grid_choice::{GridChoice, GridKind};
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

/// The zeros of G on `m` equally spaced samples of [a, b], with their widths
/// σ = √(D/(T |G′|)), floored at 1e-7 (b − a) (a zero where S² vanishes too is a
/// point mass: σ = 0); the [`MAX_FEATURES`] narrowest.
pub fn features(problem: &Problem, m: usize) -> Vec<Feature> {
    let (a, b) = (problem.a, problem.b);
    let delta = (b - a) / (m - 1) as f64;
    let floor = 1e-7 * (b - a);
    let g: Vec<f64> = (0..m)
        .map(|j| problem.drift_diffusion(a + j as f64 * delta).0)
        .collect();
    let mut out = Vec::new();
    for j in 0..m - 1 {
        let (g0, g1) = (g[j], g[j + 1]);
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
    /// (feature, weight c_k).
    terms: Vec<(Feature, f64)>,
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
                let total = side(f, f.w - a) + side(f, b - f.w);
                (*f, share / (feats.len() as f64 * total))
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
                .map(|(f, c)| c / (f.sigma + GRADING * (w - f.w).abs()))
                .sum::<f64>()
    }

    /// ∫_a^W M, in closed form (increasing from 0 at a to 1 at b).
    pub fn cumulative(&self, w: f64) -> f64 {
        let mut s = self.floor * (w - self.a);
        for (f, c) in &self.terms {
            // ∫_a^W of one term: the part left of W* plus the part right of it
            let left = side(f, f.w - self.a) - side(f, f.w - w);
            let right = side(f, w - f.w);
            s += c * if w <= f.w {
                left
            } else {
                side(f, f.w - self.a) + right
            };
        }
        s
    }

    /// The features, with their weights.
    pub fn features(&self) -> impl Iterator<Item = &Feature> {
        self.terms.iter().map(|(f, _)| f)
    }
}

/// ∫_0^d 1/(σ + β x) dx (0 for d ≤ 0).
fn side(f: &Feature, d: f64) -> f64 {
    (GRADING * d.max(0.0) / f.sigma).ln_1p() / GRADING
}

/// Faces x_0 = a < … < x_n = b equidistributing `mon`: ∫_{x_i}^{x_{i+1}} M = ∫M / n,
/// each face found by bisection on the closed-form cumulative integral.
pub fn equidistribute(mon: &Monitor, n: usize) -> Vec<f64> {
    let (a, b) = (mon.a, mon.b);
    let total = mon.cumulative(b);
    let mut edges = Vec::with_capacity(n + 1);
    edges.push(a);
    for i in 1..n {
        let target = total * i as f64 / n as f64;
        let (mut lo, mut hi) = (*edges.last().unwrap_or(&a), b);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if mon.cumulative(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        edges.push(hi);
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
