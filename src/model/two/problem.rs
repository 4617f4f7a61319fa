//! Two-parameter problems: a 2-D landscape with learning rate T, batch B, sampling,
//! a rectangle [a1, b1] × [a2, b2] with zero-flux or absorbing walls, an initial normal
//! density and the final time. The Itô Fokker–Planck equation
//! ∂P/∂t = −∇·J, J = −T G P − ∇·(D P), D = T² Σ f / 2,
//! with f = 1/B (with replacement) or (n − B)/((n − 1) B) (without replacement).

use std::sync::Arc;

use super::landscape::{Landscape2, Mat2};
use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Sampling};

/// Initial density of a 2-D problem: a normal with independent axes, truncated to the
/// rectangle and normalised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Initial2 {
    /// Mean vector (before truncation).
    pub mean: [f64; 2],
    /// Standard deviation per axis (before truncation).
    pub sd: [f64; 2],
}

/// A named rectangle [x0, x1] × [y0, y1] whose mass is reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Region2 {
    /// Name, used in the `mass_<name>` column.
    pub name: String,
    /// Range along w1.
    pub x: [f64; 2],
    /// Range along w2.
    pub y: [f64; 2],
}

impl Region2 {
    /// A region [x0, x1] × [y0, y1].
    pub fn new(name: impl Into<String>, x: [f64; 2], y: [f64; 2]) -> Region2 {
        Region2 {
            name: name.into(),
            x,
            y,
        }
    }
}

/// Known exact solutions of 2-D built-ins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exact2 {
    /// G = K w with K symmetric positive definite, Σ constant: a 2-D Ornstein–Uhlenbeck
    /// process, Gaussian at every time with m′ = −T K m and
    /// C′ = −T (K C + C K) + T² Σ f.
    Ou {
        /// The Hessian K.
        k: Mat2,
        /// The gradient covariance Σ.
        sigma: Mat2,
    },
}

/// Mean vector and covariance matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments2 {
    /// Mean (m1, m2).
    pub mean: [f64; 2],
    /// Covariance [[c11, c12], [c12, c22]].
    pub cov: Mat2,
}

/// A complete two-parameter problem.
#[derive(Clone, Debug)]
pub struct Problem2 {
    /// Name (built-in name).
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// The per-datapoint losses.
    pub landscape: Arc<dyn Landscape2>,
    /// Learning rate T.
    pub lr: f64,
    /// Batch size B.
    pub batch: usize,
    /// Minibatch sampling.
    pub sampling: Sampling,
    /// Domain [a1, b1] along w1.
    pub x: [f64; 2],
    /// Domain [a2, b2] along w2.
    pub y: [f64; 2],
    /// Boundary condition on all four walls.
    pub boundary: Boundary,
    /// Initial density.
    pub initial: Initial2,
    /// Named rectangles whose mass is reported.
    pub regions: Vec<Region2>,
    /// Default final time (in SGD steps).
    pub t_end: f64,
    /// Default snapshot interval.
    pub every: f64,
    /// Exact solution, for built-ins that have one.
    pub exact: Option<Exact2>,
    /// How a problem file states the landscape (None when it was given in code).
    pub spec: Option<super::file::Landscape2Spec>,
    /// Where the problem came from, used in error messages.
    pub origin: String,
}

impl Problem2 {
    /// Factor f in D = T² Σ f / 2 (1/B, times (n−B)/(n−1) without replacement).
    pub fn variance_factor(&self) -> f64 {
        let b = self.batch as f64;
        let n = self.landscape.len() as f64;
        match self.sampling {
            Sampling::WithReplacement => 1.0 / b,
            Sampling::WithoutReplacement if n > 1.0 => (n - b) / ((n - 1.0) * b),
            Sampling::WithoutReplacement => 0.0,
        }
    }

    /// Mean gradient G(w).
    pub fn g(&self, w1: f64, w2: f64) -> [f64; 2] {
        self.landscape.mean_grad(w1, w2)
    }

    /// Gradient covariance Σ(w).
    pub fn sigma(&self, w1: f64, w2: f64) -> Mat2 {
        self.landscape.covariance(w1, w2)
    }

    /// Diffusion matrix D(w) = T² Σ(w) f / 2.
    pub fn diffusion(&self, w1: f64, w2: f64) -> Mat2 {
        let k = self.lr * self.lr * self.variance_factor() / 2.0;
        let s = self.sigma(w1, w2);
        [[k * s[0][0], k * s[0][1]], [k * s[1][0], k * s[1][1]]]
    }

    /// Check the settings: positive finite T, B ≥ 1 (≤ n without replacement), a
    /// non-empty finite rectangle, positive sd, finite t_end/every, finite coefficients
    /// on a 9×9 lattice of the rectangle.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, value: String, why: &str| Error::InvalidValue {
            what: what.into(),
            value,
            why: why.into(),
            origin: format!(" ({})", self.origin),
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(bad("lr", self.lr.to_string(), "must be finite and > 0"));
        }
        let n = self.landscape.len();
        if n == 0 {
            return Err(bad("datapoints", "0".into(), "need at least one"));
        }
        if self.batch == 0 || (self.sampling == Sampling::WithoutReplacement && self.batch > n) {
            return Err(bad(
                "batch",
                self.batch.to_string(),
                "must be ≥ 1 (and ≤ n without replacement)",
            ));
        }
        for (axis, [a, b]) in [("w1", self.x), ("w2", self.y)] {
            if !(a.is_finite() && b.is_finite() && b - a >= f64::MIN_POSITIVE) {
                return Err(bad(
                    &format!("domain along {axis}"),
                    format!("[{a}, {b}]"),
                    "need finite a < b",
                ));
            }
        }
        let Initial2 { mean, sd } = self.initial;
        if !(sd.iter().all(|s| s.is_finite() && *s > 0.0) && mean.iter().all(|m| m.is_finite())) {
            return Err(bad(
                "initial",
                format!("{mean:?} sd {sd:?}"),
                "need a finite mean and sd > 0",
            ));
        }
        if !(self.t_end.is_finite()
            && self.t_end >= 0.0
            && self.every.is_finite()
            && self.every > 0.0)
        {
            return Err(bad(
                "t_end/every",
                format!("{}/{}", self.t_end, self.every),
                "need t_end ≥ 0 and every > 0",
            ));
        }
        let mut ws = Vec::with_capacity(81);
        for i in 0..9 {
            for j in 0..9 {
                let s = |[a, b]: [f64; 2], k: usize| a + (b - a) * k as f64 / 8.0;
                ws.push([s(self.x, i), s(self.y, j)]);
            }
        }
        self.landscape.check_finite(&ws)
    }

    /// The exact mean and covariance at time `t` where known (the OU built-ins),
    /// assuming the initial normal is not noticeably truncated by the rectangle.
    pub fn exact_moments(&self, t: f64) -> Option<Moments2> {
        let Exact2::Ou { k, sigma } = self.exact?;
        let init = self.initial;
        let c0 = [[init.sd[0].powi(2), 0.0], [0.0, init.sd[1].powi(2)]];
        Some(ou_moments(
            k,
            sigma,
            self.lr,
            self.variance_factor(),
            init.mean,
            c0,
            t,
        ))
    }

    /// The exact stationary covariance C∞ where known (the OU built-ins):
    /// the solution of T (K C + C K) = T² Σ f.
    pub fn exact_stationary_cov(&self) -> Option<Mat2> {
        let Exact2::Ou { k, sigma } = self.exact?;
        Some(
            ou_moments(
                k,
                sigma,
                self.lr,
                self.variance_factor(),
                [0.0; 2],
                [[0.0; 2]; 2],
                f64::INFINITY,
            )
            .cov,
        )
    }
}

/// Eigen-decomposition of a symmetric 2×2 matrix: eigenvalues (λ1, λ2) and the
/// orthonormal eigenvectors as columns of V (K = V diag(λ) Vᵀ).
pub fn sym_eigen2(k: Mat2) -> ([f64; 2], Mat2) {
    let (a, b, d) = (k[0][0], k[0][1], k[1][1]);
    if b == 0.0 {
        return ([a, d], [[1.0, 0.0], [0.0, 1.0]]);
    }
    let mid = 0.5 * (a + d);
    let rad = (0.25 * (a - d) * (a - d) + b * b).sqrt();
    let (l1, l2) = (mid + rad, mid - rad);
    // eigenvector of l1: (b, l1 − a), normalised; the second is its rotation
    let (vx, vy) = (b, l1 - a);
    let n = (vx * vx + vy * vy).sqrt();
    let (c, s) = (vx / n, vy / n);
    ([l1, l2], [[c, -s], [s, c]])
}

/// Exact moments of the 2-D OU process dm/dt = −T K m,
/// dC/dt = −T (K C + C K) + T² Σ f, K symmetric: in K's eigenbasis (C̃ = Vᵀ C V) every
/// entry decays independently, C̃_ab(t) = C̃_ab(0) e^{−T(λa+λb)t}
/// + T f Σ̃_ab/(λa+λb) · (1 − e^{−T(λa+λb)t}). `t = ∞` gives the stationary moments.
pub fn ou_moments(
    k: Mat2,
    sigma: Mat2,
    lr: f64,
    f: f64,
    m0: [f64; 2],
    c0: Mat2,
    t: f64,
) -> Moments2 {
    let (lam, v) = sym_eigen2(k);
    let rot = |m: Mat2, fwd: bool| {
        // fwd: Vᵀ m V; else V m Vᵀ
        let mut out = [[0.0; 2]; 2];
        for (a, row) in out.iter_mut().enumerate() {
            for (b, o) in row.iter_mut().enumerate() {
                for r in 0..2 {
                    for c in 0..2 {
                        let (va, vb) = if fwd {
                            (v[r][a], v[c][b])
                        } else {
                            (v[a][r], v[b][c])
                        };
                        *o += va * m[r][c] * vb;
                    }
                }
            }
        }
        out
    };
    let decay = |rate: f64| {
        if t.is_infinite() {
            0.0
        } else {
            (-rate * t).exp()
        }
    };
    let ct0 = rot(c0, true);
    let st = rot(sigma, true);
    let mut ct = [[0.0; 2]; 2];
    for a in 0..2 {
        for b in 0..2 {
            let rate = lr * (lam[a] + lam[b]);
            let e = decay(rate);
            ct[a][b] = ct0[a][b] * e + lr * f * st[a][b] / (lam[a] + lam[b]) * (1.0 - e);
        }
    }
    let mt0 = [
        v[0][0] * m0[0] + v[1][0] * m0[1],
        v[0][1] * m0[0] + v[1][1] * m0[1],
    ];
    let mt = [mt0[0] * decay(lr * lam[0]), mt0[1] * decay(lr * lam[1])];
    Moments2 {
        mean: [
            v[0][0] * mt[0] + v[0][1] * mt[1],
            v[1][0] * mt[0] + v[1][1] * mt[1],
        ],
        cov: rot(ct, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_moments_match_a_fine_rk4_of_the_moment_ode() {
        let k = [[1.0, 0.5], [0.5, 2.0]];
        let s = [[1.0, 0.6], [0.6, 1.0]];
        let (lr, f) = (0.1, 1.0);
        let m0 = [1.0, -0.5];
        let c0 = [[0.04, 0.0], [0.0, 0.04]];
        let exact = ou_moments(k, s, lr, f, m0, c0, 20.0);
        // RK4 on (m, C)
        let rhs = |m: [f64; 2], c: Mat2| {
            let km = [
                k[0][0] * m[0] + k[0][1] * m[1],
                k[1][0] * m[0] + k[1][1] * m[1],
            ];
            let mut dc = [[0.0; 2]; 2];
            for a in 0..2 {
                for b in 0..2 {
                    let kc: f64 = (0..2).map(|r| k[a][r] * c[r][b]).sum();
                    let ck: f64 = (0..2).map(|r| c[a][r] * k[r][b]).sum();
                    dc[a][b] = -lr * (kc + ck) + lr * lr * f * s[a][b];
                }
            }
            ([-lr * km[0], -lr * km[1]], dc)
        };
        let (mut m, mut c) = (m0, c0);
        let h = 0.001;
        let add = |m: [f64; 2], c: Mat2, dm: [f64; 2], dc: Mat2, s: f64| {
            (
                [m[0] + s * dm[0], m[1] + s * dm[1]],
                [
                    [c[0][0] + s * dc[0][0], c[0][1] + s * dc[0][1]],
                    [c[1][0] + s * dc[1][0], c[1][1] + s * dc[1][1]],
                ],
            )
        };
        for _ in 0..20000 {
            let (k1m, k1c) = rhs(m, c);
            let (a, b) = add(m, c, k1m, k1c, h / 2.0);
            let (k2m, k2c) = rhs(a, b);
            let (a, b) = add(m, c, k2m, k2c, h / 2.0);
            let (k3m, k3c) = rhs(a, b);
            let (a, b) = add(m, c, k3m, k3c, h);
            let (k4m, k4c) = rhs(a, b);
            for (w, s) in [(k1m, 1.0), (k2m, 2.0), (k3m, 2.0), (k4m, 1.0)] {
                m[0] += h / 6.0 * s * w[0];
                m[1] += h / 6.0 * s * w[1];
            }
            for (w, s) in [(k1c, 1.0), (k2c, 2.0), (k3c, 2.0), (k4c, 1.0)] {
                for a in 0..2 {
                    for b in 0..2 {
                        c[a][b] += h / 6.0 * s * w[a][b];
                    }
                }
            }
        }
        for a in 0..2 {
            assert!((m[a] - exact.mean[a]).abs() < 1e-12);
            for b in 0..2 {
                assert!(
                    (c[a][b] - exact.cov[a][b]).abs() < 1e-12,
                    "{c:?} {:?}",
                    exact.cov
                );
            }
        }
    }
}
