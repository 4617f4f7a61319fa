//! Two-parameter landscapes: n per-datapoint losses l_j(w1, w2) with exact gradients
//! ∇l_j, the mean gradient G = mean_j ∇l_j (a vector) and the gradient covariance
//! Σ = mean_j (∇l_j − G)(∇l_j − G)ᵀ (population covariance, a 2×2 matrix).
//!
//! As in one dimension, a landscape may give its losses as l_j = s + r_j (a part s
//! shared by every datapoint plus per-datapoint parts r_j): G is the mean of the full
//! gradients, while Σ is computed from the parts ∇r_j alone, in which the shared
//! gradient has cancelled exactly, by the shifted two-pass method of the 1-D landscapes
//! (component by component, the cross term from the same deviations).

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A 2×2 matrix, row-major: `m[r][c]`.
pub type Mat2 = [[f64; 2]; 2];

/// A two-parameter landscape: n per-datapoint losses with exact gradients.
pub trait Landscape2: Send + Sync + fmt::Debug {
    /// Number of datapoints n (at least one).
    fn len(&self) -> usize;
    /// Loss l_j(w1, w2) of datapoint `j` (shared part included).
    fn loss(&self, j: usize, w1: f64, w2: f64) -> f64;
    /// Gradient ∇l_j(w1, w2) = (∂l_j/∂w1, ∂l_j/∂w2) (shared part included).
    fn grad_j(&self, j: usize, w1: f64, w2: f64) -> [f64; 2];
    /// Per-datapoint part ∇r_j of the gradient when l_j = s + r_j (default: the full
    /// gradient). An override must keep `grad_j − part_grad` the same for every j.
    fn part_grad(&self, j: usize, w1: f64, w2: f64) -> [f64; 2] {
        self.grad_j(j, w1, w2)
    }
    /// Human-readable description of datapoint `j`, used in errors.
    fn describe(&self, j: usize) -> String {
        format!("datapoint {j}")
    }
    /// Whether the landscape has no datapoints (never true for a valid landscape).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mean gradient G(w) = mean_j ∇l_j(w).
    fn mean_grad(&self, w1: f64, w2: f64) -> [f64; 2] {
        let n = self.len() as f64;
        let mut g = [0.0; 2];
        for j in 0..self.len() {
            let gj = self.grad_j(j, w1, w2);
            g[0] += gj[0];
            g[1] += gj[1];
        }
        [g[0] / n, g[1] / n]
    }

    /// Gradient covariance Σ(w) = mean_j (∇r_j − mean)(∇r_j − mean)ᵀ from the
    /// per-datapoint parts, shifted by the first datapoint's part (exact where the
    /// gradients nearly agree), symmetric by construction.
    fn covariance(&self, w1: f64, w2: f64) -> Mat2 {
        let n = self.len();
        if n == 0 {
            return [[0.0; 2]; 2];
        }
        let x0 = self.part_grad(0, w1, w2);
        let shifted = |j: usize| {
            let x = self.part_grad(j, w1, w2);
            [x[0] - x0[0], x[1] - x0[1]]
        };
        let mut m = [0.0; 2];
        for j in 1..n {
            let x = shifted(j);
            m[0] += x[0];
            m[1] += x[1];
        }
        let nf = n as f64;
        m = [m[0] / nf, m[1] / nf];
        let mut c = [0.0; 3];
        for j in 0..n {
            let x = if j == 0 { [0.0, 0.0] } else { shifted(j) };
            let d = [x[0] - m[0], x[1] - m[1]];
            c[0] += d[0] * d[0];
            c[1] += d[0] * d[1];
            c[2] += d[1] * d[1];
        }
        [[c[0] / nf, c[1] / nf], [c[1] / nf, c[2] / nf]]
    }

    /// Check every loss, gradient and gradient part is finite at the points `ws`.
    fn check_finite(&self, ws: &[[f64; 2]]) -> Result<()> {
        for j in 0..self.len() {
            for &[w1, w2] in ws {
                let g = self.grad_j(j, w1, w2);
                let r = self.part_grad(j, w1, w2);
                for (what, v) in [
                    ("loss", self.loss(j, w1, w2)),
                    ("∂/∂w1 of the loss", g[0]),
                    ("∂/∂w2 of the loss", g[1]),
                    ("per-datapoint part of ∂/∂w1", r[0]),
                    ("per-datapoint part of ∂/∂w2", r[1]),
                ] {
                    if !v.is_finite() {
                        return Err(Error::NonFinite {
                            what: format!("{what} of {}", self.describe(j)),
                            w: w1,
                            value: v,
                            origin: format!(" (at w2 = {w2})"),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

type LossFn = Arc<dyn Fn(f64, f64) -> f64 + Send + Sync>;
type GradFn = Arc<dyn Fn(f64, f64) -> [f64; 2] + Send + Sync>;

#[derive(Clone)]
struct Part {
    label: String,
    loss: LossFn,
    grad: GradFn,
}

/// A 2-D landscape from Rust closures: per datapoint a loss and its exact gradient,
/// optionally a shared part s (l_j = s + r_j) so that Σ is computed from the r_j alone.
///
/// ```
/// use probcurrent::model::two::{ClosureLandscape2, Landscape2};
/// // two datapoints ½|w|² ± w1: G = w, Σ = [[1, 0], [0, 0]]
/// let l = ClosureLandscape2::new()
///     .datapoint("0.5*|w|^2 + w1", |a, b| 0.5 * (a * a + b * b) + a, |a, b| [a + 1.0, b])
///     .datapoint("0.5*|w|^2 - w1", |a, b| 0.5 * (a * a + b * b) - a, |a, b| [a - 1.0, b]);
/// assert_eq!(l.mean_grad(0.5, 2.0), [0.5, 2.0]);
/// assert_eq!(l.covariance(0.5, 2.0), [[1.0, 0.0], [0.0, 0.0]]);
/// ```
#[derive(Clone, Default)]
pub struct ClosureLandscape2 {
    shared: Option<Part>,
    points: Vec<Part>,
}

impl fmt::Debug for ClosureLandscape2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.points.iter().map(|p| p.label.as_str()).collect();
        f.debug_struct("ClosureLandscape2")
            .field("shared", &self.shared.as_ref().map(|p| p.label.as_str()))
            .field("datapoints", &labels)
            .finish()
    }
}

impl ClosureLandscape2 {
    /// An empty landscape (add datapoints with [`ClosureLandscape2::datapoint`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a datapoint (its per-datapoint part when a shared part is set): a label, the
    /// loss and its exact gradient.
    pub fn datapoint(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64, f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64, f64) -> [f64; 2] + Send + Sync + 'static,
    ) -> Self {
        self.points.push(Part {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
        });
        self
    }

    /// Set the part s shared by every datapoint (l_j = s + r_j).
    pub fn shared(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64, f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64, f64) -> [f64; 2] + Send + Sync + 'static,
    ) -> Self {
        self.shared = Some(Part {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
        });
        self
    }
}

impl Landscape2 for ClosureLandscape2 {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn loss(&self, j: usize, w1: f64, w2: f64) -> f64 {
        let s = self.shared.as_ref().map_or(0.0, |s| (s.loss)(w1, w2));
        s + (self.points[j].loss)(w1, w2)
    }
    fn grad_j(&self, j: usize, w1: f64, w2: f64) -> [f64; 2] {
        let r = (self.points[j].grad)(w1, w2);
        match &self.shared {
            Some(s) => {
                let g = (s.grad)(w1, w2);
                [g[0] + r[0], g[1] + r[1]]
            }
            None => r,
        }
    }
    fn part_grad(&self, j: usize, w1: f64, w2: f64) -> [f64; 2] {
        (self.points[j].grad)(w1, w2)
    }
    fn describe(&self, j: usize) -> String {
        match &self.shared {
            Some(s) => format!("datapoint {j} (`{}` + `{}`)", s.label, self.points[j].label),
            None => format!("datapoint {j} (`{}`)", self.points[j].label),
        }
    }
}

/// Lower Cholesky factor L of a symmetric positive semi-definite 2×2 matrix (Σ = L Lᵀ);
/// an error names the matrix when it is not positive semi-definite.
pub fn cholesky2(s: Mat2, what: &str) -> Result<Mat2> {
    let l11 = s[0][0].max(0.0).sqrt();
    let sym = (s[0][1] - s[1][0]).abs() <= 1e-12 * (s[0][1].abs() + 1.0);
    let l21 = if l11 > 0.0 { s[0][1] / l11 } else { 0.0 };
    let r = s[1][1] - l21 * l21;
    let ok = sym && s[0][0] >= 0.0 && r >= -1e-12 * s[1][1].abs() && (l11 > 0.0 || s[0][1] == 0.0);
    if !ok || !s.iter().flatten().all(|v| v.is_finite()) {
        return Err(Error::InvalidValue {
            what: what.into(),
            value: format!("{s:?}"),
            why: "must be a symmetric positive semi-definite 2×2 matrix".into(),
            origin: String::new(),
        });
    }
    Ok([[l11, 0.0], [l21, r.max(0.0).sqrt()]])
}

/// The Ornstein–Uhlenbeck landscape in 2-D: four datapoints
/// l_j(w) = ½ wᵀ K w + ξ_j · w with ξ_j = L z_j, z_j ∈ {±√2 e₁, ±√2 e₂} and L the
/// Cholesky factor of Σ: the z_j have mean 0 and population covariance I, so
/// G(w) = K w and Σ(w) = L Lᵀ = Σ exactly (constant). K must be symmetric (it is a
/// Hessian); Σ symmetric positive semi-definite.
pub fn ou2d_landscape(k: Mat2, sigma: Mat2) -> Result<ClosureLandscape2> {
    if (k[0][1] - k[1][0]).abs() > 0.0 || !k.iter().flatten().all(|v| v.is_finite()) {
        return Err(Error::InvalidValue {
            what: "K".into(),
            value: format!("{k:?}"),
            why: "must be a finite symmetric 2×2 matrix (the Hessian of ½ wᵀ K w)".into(),
            origin: String::new(),
        });
    }
    let l = cholesky2(sigma, "Σ")?;
    let s2 = std::f64::consts::SQRT_2;
    let mut out = ClosureLandscape2::new();
    for (sign, col) in [(1.0, 0), (-1.0, 0), (1.0, 1), (-1.0, 1)] {
        let xi = [sign * s2 * l[0][col], sign * s2 * l[1][col]];
        let label = format!("0.5*w'Kw + {:.6}*w1 + {:.6}*w2", xi[0], xi[1]);
        out = out.datapoint(
            label,
            move |a, b| {
                0.5 * (k[0][0] * a * a + 2.0 * k[0][1] * a * b + k[1][1] * b * b)
                    + xi[0] * a
                    + xi[1] * b
            },
            move |a, b| {
                [
                    k[0][0] * a + k[0][1] * b + xi[0],
                    k[1][0] * a + k[1][1] * b + xi[1],
                ]
            },
        );
    }
    Ok(out)
}

/// The seed-2d landscape (two datapoints, pit sharpness `k` along w1 and `q` along w2):
/// the shared wide basin s = −e^{−((w1−2)² + w2²)} and the per-datapoint parts 0 and
/// r₂ = −e^{−k(w1−1)² − q w2²} (a pit at (1, 0), sharp along w1 when k ≫ q, flat along
/// w2). l₁ = s, l₂ = s + r₂. Σ = ¼ ∇r₂ ∇r₂ᵀ (rank one), which vanishes at the pit's
/// centre: the gradient noise is zero exactly where the pit's loss is smallest, as in
/// the 1-D `seed`. The w1-section at w2 = 0 is the 1-D seed landscape.
pub fn seed2d_landscape(k: f64, q: f64) -> ClosureLandscape2 {
    let wide = |a: f64, b: f64| -(-((a - 2.0).powi(2) + b * b)).exp();
    let wide_g = |a: f64, b: f64| {
        let e = (-((a - 2.0).powi(2) + b * b)).exp();
        [2.0 * (a - 2.0) * e, 2.0 * b * e]
    };
    let pit = move |a: f64, b: f64| -(-k * (a - 1.0).powi(2) - q * b * b).exp();
    let pit_g = move |a: f64, b: f64| {
        let e = (-k * (a - 1.0).powi(2) - q * b * b).exp();
        [2.0 * k * (a - 1.0) * e, 2.0 * q * b * e]
    };
    ClosureLandscape2::new()
        .shared("-exp(-((w1-2)^2 + w2^2))", wide, wide_g)
        .datapoint("0", |_, _| 0.0, |_, _| [0.0, 0.0])
        .datapoint(format!("-exp(-{k}*(w1-1)^2 - {q}*w2^2)"), pit, pit_g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou2d_dataset_realises_k_and_sigma() {
        let k = [[1.0, 0.5], [0.5, 2.0]];
        let s = [[1.0, 0.6], [0.6, 1.0]];
        let l = ou2d_landscape(k, s).unwrap();
        let (a, b) = (0.3, -1.2);
        let g = l.mean_grad(a, b);
        assert!((g[0] - (a + 0.5 * b)).abs() < 1e-14);
        assert!((g[1] - (0.5 * a + 2.0 * b)).abs() < 1e-14);
        let c = l.covariance(a, b);
        for r in 0..2 {
            for cc in 0..2 {
                assert!((c[r][cc] - s[r][cc]).abs() < 1e-14, "{c:?}");
            }
        }
        // gradients are exact partials of the losses (central difference check)
        let e = 1e-6;
        for j in 0..4 {
            let gj = l.grad_j(j, a, b);
            let d1 = (l.loss(j, a + e, b) - l.loss(j, a - e, b)) / (2.0 * e);
            let d2 = (l.loss(j, a, b + e) - l.loss(j, a, b - e)) / (2.0 * e);
            assert!((gj[0] - d1).abs() < 1e-7 && (gj[1] - d2).abs() < 1e-7);
        }
    }

    #[test]
    fn seed2d_noise_vanishes_at_the_pit_and_is_rank_one() {
        let l = seed2d_landscape(100.0, 1.0);
        assert_eq!(l.covariance(1.0, 0.0), [[0.0, 0.0], [0.0, 0.0]]);
        let c = l.covariance(1.05, 0.3);
        let det = c[0][0] * c[1][1] - c[0][1] * c[0][1];
        assert!(c[0][0] > 0.0 && det.abs() <= 1e-12 * c[0][0] * c[1][1].max(1e-300));
        // far from the pit Σ is tiny but resolved (no cancellation against the basin)
        let far = l.covariance(2.0, 0.0);
        assert!(far[0][0] > 0.0 && far[0][0] < 1e-80, "{far:?}");
    }

    #[test]
    fn cholesky_refuses_indefinite() {
        assert!(cholesky2([[1.0, 2.0], [2.0, 1.0]], "Σ").is_err());
        assert!(cholesky2([[1.0, 0.6], [0.6, 1.0]], "Σ").is_ok());
    }
}
