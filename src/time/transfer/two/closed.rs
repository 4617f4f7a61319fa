//! Closed-form 2-D landscapes for the hot loops of the 2-D transfer build and Monte
//! Carlo: the same per-datapoint gradients as the built-in problems' closure landscapes,
//! as plain structs, so the loops are monomorphised over them and inline the formulas
//! (no dynamic dispatch per gradient).
//!
//! - [`SeedPit2`]: l₁ = s, l₂ = s + r with the wide basin s = −e^{−((w1−2)² + w2²)} and
//!   the pit r = −e^{−k(w1−1)² − q w2²} (the `seed-2d` landscape);
//! - [`Linear2`]: l_j = ½ wᵀ K w + ξ_j · w, gradients K w + ξ_j (the `ou-2d` datasets).

use super::Sgd2;

/// The `seed-2d` landscape in closed form: two datapoints, a wide basin at (2, 0)
/// shared by both and a pit at (1, 0) of sharpness `k` along w1 and `q` along w2 in the
/// second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedPit2 {
    /// Pit sharpness along w1.
    pub k: f64,
    /// Pit sharpness along w2.
    pub q: f64,
}

impl Sgd2 for SeedPit2 {
    fn datapoints(&self) -> usize {
        2
    }

    #[inline]
    fn grad(&self, j: usize, w: [f64; 2]) -> [f64; 2] {
        let (a, b) = (w[0], w[1]);
        let e = (-((a - 2.0).powi(2) + b * b)).exp();
        let wide = [2.0 * (a - 2.0) * e, 2.0 * b * e];
        if j == 0 {
            return wide;
        }
        let p = (-self.k * (a - 1.0).powi(2) - self.q * b * b).exp();
        [
            wide[0] + 2.0 * self.k * (a - 1.0) * p,
            wide[1] + 2.0 * self.q * b * p,
        ]
    }
}

/// A linear-gradient dataset: ∇l_j(w) = K w + ξ_j (a quadratic loss with per-datapoint
/// linear terms), e.g. the Ornstein–Uhlenbeck problems.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear2 {
    /// The Hessian K (row-major).
    pub k: [[f64; 2]; 2],
    /// The offsets ξ_j, one per datapoint (at least one).
    pub xi: Vec<[f64; 2]>,
}

impl Sgd2 for Linear2 {
    fn datapoints(&self) -> usize {
        self.xi.len()
    }

    #[inline]
    fn grad(&self, j: usize, w: [f64; 2]) -> [f64; 2] {
        let x = self.xi[j];
        [
            self.k[0][0] * w[0] + self.k[0][1] * w[1] + x[0],
            self.k[1][0] * w[0] + self.k[1][1] * w[1] + x[1],
        ]
    }
}
