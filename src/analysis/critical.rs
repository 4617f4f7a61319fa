//! Critical points of the SGD flow: the zeros of the mean gradient G, the zeros of the
//! noise (S², hence D = T² S² f / 2), and the linear stability of one SGD step.
//!
//! The drift of the Fokker–Planck model is −T·G, so a zero W* of G is stable when G
//! changes sign from − to + (G′ > 0) and a barrier top when it changes from + to −.
//! Linearised at W*, the Ornstein–Uhlenbeck process dX = −T G′ X dt + √(2D) dB has the
//! stationary standard deviation σ* = √(D(W*)/(T G′(W*))); when σ* is numerically zero
//! the minimum is *interpolating* (every datapoint is fitted there) and holds a point
//! mass. One SGD step on datapoint j multiplies an offset from W* by 1 − T l_j″(W*); the
//! mean log-modulus of these multipliers is the Lyapunov exponent of the random linear
//! map, positive where SGD is thrown out of a minimum that gradient descent keeps.

use serde::Serialize;

use crate::model::problem::Problem;

/// A stable zero of G is a point mass when its local width σ* is below this fraction
/// of the domain length.
pub const ATOM_WIDTH: f64 = 1e-12;

/// What a zero of G is for the flow −T·G and for the noise there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriticalKind {
    /// Stable (G′ > 0) with numerically zero noise: an interpolating minimum, a point mass.
    PointMass,
    /// Stable (G′ > 0) with noise: a minimum with a smooth local density.
    NoisyMinimum,
    /// Unstable (G′ < 0): a barrier top.
    Barrier,
}

impl CriticalKind {
    /// Lower-case label.
    pub fn as_str(&self) -> &'static str {
        match self {
            CriticalKind::PointMass => "point mass (interpolating minimum)",
            CriticalKind::NoisyMinimum => "noisy minimum",
            CriticalKind::Barrier => "barrier",
        }
    }
}

/// A zero of the mean gradient G.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CriticalPoint {
    /// Location W*.
    pub w: f64,
    /// G′(W*).
    pub g_prime: f64,
    /// Effective gradient variance S²(W*).
    pub s2: f64,
    /// Diffusion coefficient D(W*).
    pub d: f64,
    /// Local width σ* = √(D / (T |G′|)) (∞ where G′ = 0).
    pub width: f64,
    /// Classification.
    pub kind: CriticalKind,
}

/// Zeros of G in [lo, hi]: sign changes on `scan` intervals refined by bisection to
/// full precision, classified by the sign change (− to + is stable for −T·G) and, for
/// stable ones, by the local width against [`ATOM_WIDTH`]·(b − a).
pub fn critical_points(problem: &Problem, lo: f64, hi: f64, scan: usize) -> Vec<CriticalPoint> {
    let g = |w: f64| problem.coeffs(w).g;
    let scan = scan.max(2);
    let xs: Vec<f64> = (0..=scan)
        .map(|k| lo + (hi - lo) * k as f64 / scan as f64)
        .collect();
    let gs: Vec<f64> = xs.iter().map(|&x| g(x)).collect();
    let len = problem.b - problem.a;
    let mut out = Vec::new();
    for k in 0..scan {
        let (g0, g1) = (gs[k], gs[k + 1]);
        let stable = g0 < 0.0 && g1 >= 0.0;
        let unstable = g0 > 0.0 && g1 <= 0.0;
        if !(stable || unstable) {
            continue;
        }
        let (mut a, mut b) = (xs[k], xs[k + 1]);
        for _ in 0..200 {
            let m = 0.5 * (a + b);
            if m <= a || m >= b {
                break;
            }
            if (g(m) < 0.0) == stable {
                a = m;
            } else {
                b = m;
            }
        }
        // the end with the smaller |G|
        let w = if g(a).abs() <= g(b).abs() { a } else { b };
        let c = problem.coeffs(w);
        let width = if c.g_prime != 0.0 {
            (c.d / (problem.lr * c.g_prime.abs())).sqrt()
        } else {
            f64::INFINITY
        };
        let kind = if unstable {
            CriticalKind::Barrier
        } else if width <= ATOM_WIDTH * len {
            CriticalKind::PointMass
        } else {
            CriticalKind::NoisyMinimum
        };
        out.push(CriticalPoint {
            w,
            g_prime: c.g_prime,
            s2: c.s2,
            d: c.d,
            width,
            kind,
        });
    }
    out
}

/// Zero of G in [lo, hi] by 200 bisections (G must change sign; `None` otherwise).
pub fn zero_of_g(problem: &Problem, lo: f64, hi: f64) -> Option<f64> {
    let g = |w: f64| problem.landscape.stats(w).g;
    let (mut a, mut b) = (lo, hi);
    let (ga, gb) = (g(a), g(b));
    if ga * gb > 0.0 {
        return None;
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if (g(m) > 0.0) == (ga > 0.0) {
            a = m;
        } else {
            b = m;
        }
    }
    Some(0.5 * (a + b))
}

/// Stable points of gradient descent (G = 0, G′ > 0) in the domain, left to right: a
/// sign scan of G on 6000 intervals (− at the left end, ≥ 0 at the right) refined by
/// [`zero_of_g`].
pub fn minima_of_g(problem: &Problem) -> Vec<f64> {
    let m = 6000;
    let x = |i: usize| problem.a + (problem.b - problem.a) * i as f64 / m as f64;
    let g = |w: f64| problem.landscape.stats(w).g;
    let mut out = vec![];
    for i in 0..m {
        let (a, b) = (x(i), x(i + 1));
        if g(a) < 0.0 && g(b) >= 0.0 {
            if let Some(w) = zero_of_g(problem, a, b) {
                out.push(w);
            }
        }
    }
    out
}

/// The first point going from `start` toward `end` where the noise vanishes: a node of a
/// `scan`-interval scan where D ≤ 10⁻¹⁴ max D, or a local minimum of D that golden-section
/// refinement drives below that. `None` when D stays positive.
pub fn noise_zero(problem: &Problem, start: f64, end: f64, scan: usize) -> Option<f64> {
    let scan = scan.max(4);
    let xs: Vec<f64> = (0..=scan)
        .map(|k| start + (end - start) * k as f64 / scan as f64)
        .collect();
    let ds: Vec<f64> = xs.iter().map(|&x| problem.coeffs(x).d).collect();
    let dmax = ds.iter().cloned().fold(0.0f64, f64::max);
    if dmax <= 0.0 {
        return Some(start);
    }
    let tiny = 1e-14 * dmax;
    for k in 0..=scan {
        if ds[k] <= tiny {
            return Some(xs[k]);
        }
        if k > 0 && k < scan && ds[k] <= ds[k - 1] && ds[k] <= ds[k + 1] && ds[k] < 1e-3 * dmax {
            let (xm, dm) = min_of_d(problem, xs[k - 1], xs[k + 1]);
            if dm <= tiny {
                return Some(xm);
            }
        }
    }
    None
}

/// Golden-section search for the minimum of D between `x0` and `x1` (either order),
/// to a few ulps: the location and the value there.
fn min_of_d(problem: &Problem, x0: f64, x1: f64) -> (f64, f64) {
    let (mut a, mut b) = (x0.min(x1), x0.max(x1));
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let d = |x: f64| problem.coeffs(x).d;
    let (mut c, mut e) = (b - r * (b - a), a + r * (b - a));
    let (mut dc, mut de) = (d(c), d(e));
    for _ in 0..200 {
        if b - a <= 4.0 * f64::EPSILON * b.abs().max(a.abs()).max(1e-300) {
            break;
        }
        if dc <= de {
            b = e;
            e = c;
            de = dc;
            c = b - r * (b - a);
            dc = d(c);
        } else {
            a = c;
            c = e;
            dc = de;
            e = a + r * (b - a);
            de = d(e);
        }
    }
    if dc <= de {
        (c, dc)
    } else {
        (e, de)
    }
}

/// Per-datapoint multipliers 1 − T l_j″(W) of one SGD step linearised at `w`, and
/// their mean log-modulus (the Lyapunov exponent of the random linear map: positive
/// means SGD with batch size one is thrown out of `w`, whatever gradient descent does).
pub fn multipliers(problem: &Problem, w: f64) -> (Vec<f64>, f64) {
    let l = &problem.landscape;
    let m: Vec<f64> = (0..l.len())
        .map(|j| 1.0 - problem.lr * l.curv(j, w))
        .collect();
    let lyap = m.iter().map(|x| x.abs().ln()).sum::<f64>() / m.len() as f64;
    (m, lyap)
}
