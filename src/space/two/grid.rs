//! A uniform rectangular grid of nx × ny cells on [a1, b1] × [a2, b2]; cell (i, j) has
//! its centre at (a1 + (i + ½) h1, a2 + (j + ½) h2) and index j·nx + i (w1 fastest).
//! Also the initial density as exact cell averages of the (truncated) normal.

use crate::error::{Error, Result};
use crate::model::two::Problem2;

/// A uniform nx × ny grid on a rectangle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid2 {
    /// Cells along w1.
    pub nx: usize,
    /// Cells along w2.
    pub ny: usize,
    /// [a1, b1].
    pub x: [f64; 2],
    /// [a2, b2].
    pub y: [f64; 2],
}

/// Largest number of cells along one axis.
pub const MAX_CELLS_PER_AXIS: usize = 4096;

impl Grid2 {
    /// An nx × ny grid on `x` × `y`; at least 2 and at most [`MAX_CELLS_PER_AXIS`] cells
    /// per axis.
    pub fn new(nx: usize, ny: usize, x: [f64; 2], y: [f64; 2]) -> Result<Grid2> {
        for (what, n) in [("cells along w1", nx), ("cells along w2", ny)] {
            if !(2..=MAX_CELLS_PER_AXIS).contains(&n) {
                return Err(Error::InvalidValue {
                    what: what.into(),
                    value: n.to_string(),
                    why: format!("must be between 2 and {MAX_CELLS_PER_AXIS}"),
                    origin: String::new(),
                });
            }
        }
        Ok(Grid2 { nx, ny, x, y })
    }

    /// The problem's rectangle with `n` cells per axis.
    pub fn for_problem(problem: &Problem2, n: usize) -> Result<Grid2> {
        Grid2::new(n, n, problem.x, problem.y)
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }
    /// Whether the grid has no cells (never true for a valid grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Cell width along w1.
    pub fn hx(&self) -> f64 {
        (self.x[1] - self.x[0]) / self.nx as f64
    }
    /// Cell width along w2.
    pub fn hy(&self) -> f64 {
        (self.y[1] - self.y[0]) / self.ny as f64
    }
    /// Cell area.
    pub fn area(&self) -> f64 {
        self.hx() * self.hy()
    }
    /// Centre of column i.
    pub fn xc(&self, i: usize) -> f64 {
        self.x[0] + (i as f64 + 0.5) * self.hx()
    }
    /// Centre of row j.
    pub fn yc(&self, j: usize) -> f64 {
        self.y[0] + (j as f64 + 0.5) * self.hy()
    }
    /// Flat index of cell (i, j).
    pub fn idx(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }

    /// Mass Σ p·area.
    pub fn mass(&self, p: &[f64]) -> f64 {
        p.iter().sum::<f64>() * self.area()
    }

    /// Mean vector and covariance of a density on this grid (cell-centre quadrature,
    /// divided by the mass).
    pub fn moments(&self, p: &[f64]) -> ([f64; 2], [[f64; 2]; 2]) {
        let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for j in 0..self.ny {
            for i in 0..self.nx {
                let v = p[self.idx(i, j)];
                m0 += v;
                m1 += v * self.xc(i);
                m2 += v * self.yc(j);
            }
        }
        let mean = [m1 / m0, m2 / m0];
        let (mut c11, mut c12, mut c22) = (0.0, 0.0, 0.0);
        for j in 0..self.ny {
            for i in 0..self.nx {
                let v = p[self.idx(i, j)];
                let (dx, dy) = (self.xc(i) - mean[0], self.yc(j) - mean[1]);
                c11 += v * dx * dx;
                c12 += v * dx * dy;
                c22 += v * dy * dy;
            }
        }
        (mean, [[c11 / m0, c12 / m0], [c12 / m0, c22 / m0]])
    }

    /// Mass in the rectangle `rx` × `ry` (cells whose centre lies inside).
    pub fn mass_in(&self, p: &[f64], rx: [f64; 2], ry: [f64; 2]) -> f64 {
        let mut m = 0.0;
        for j in 0..self.ny {
            for i in 0..self.nx {
                let (x, y) = (self.xc(i), self.yc(j));
                if x >= rx[0] && x <= rx[1] && y >= ry[0] && y <= ry[1] {
                    m += p[self.idx(i, j)];
                }
            }
        }
        m * self.area()
    }

    /// Exact cell averages of the problem's initial normal (a product of 1-D normal
    /// CDF differences), normalised to mass one on the rectangle.
    pub fn initial_density(&self, problem: &Problem2) -> Result<Vec<f64>> {
        let init = problem.initial;
        let axis = |n: usize, [a, b]: [f64; 2], m: f64, s: f64| -> Vec<f64> {
            let h = (b - a) / n as f64;
            let cdf = |x: f64| 0.5 * (1.0 + libm::erf((x - m) / (s * std::f64::consts::SQRT_2)));
            (0..n)
                .map(|i| cdf(a + (i + 1) as f64 * h) - cdf(a + i as f64 * h))
                .collect()
        };
        let px = axis(self.nx, self.x, init.mean[0], init.sd[0]);
        let py = axis(self.ny, self.y, init.mean[1], init.sd[1]);
        let mut p = Vec::with_capacity(self.len());
        for &vy in &py {
            for &vx in &px {
                p.push(vx * vy);
            }
        }
        let mass = self.mass(&p);
        if !(mass.is_finite() && mass > 0.0) {
            return Err(Error::InvalidValue {
                what: "initial density".into(),
                value: format!("mass {mass}"),
                why: "has no mass on the rectangle".into(),
                origin: format!(" ({})", problem.origin),
            });
        }
        p.iter_mut().for_each(|v| *v /= mass);
        Ok(p)
    }
}
