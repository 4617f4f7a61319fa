//! The exact SGD transfer operator in two dimensions ("transfer-exact" on a rectangle),
//! discretised on the cells of a uniform 2-D grid with bilinear hats (cloud-in-cell).
//!
//! One SGD step sends w = (w1, w2) to φ_k(w) = w − T ĝ_k(w), where ĝ_k is the mean
//! gradient of minibatch k, drawn with probability π_k ([`minibatches`]). The density
//! evolves by the Perron–Frobenius operator P_{t+1}(y) = Σ_k π_k Σ_{φ_k(x) = y}
//! P_t(x)/|det Dφ_k(x)| — linear, positive, mass-preserving, with no diffusion
//! approximation. As in 1-D (Ulam 1960; Li 1976) it is projected onto the cells: the
//! mass of each cell is represented by q × q equal sub-points at the centres of a
//! q × q subdivision of the cell (default q = 4); each sub-point is moved by every
//! minibatch map and its share π_k/q² is deposited on the four nearest cell centres
//! with bilinear hat weights (the cloud-in-cell rule of particle-in-cell codes,
//! Hockney & Eastwood, *Computer Simulation Using Particles*, 1981). The hats keep the
//! mean position of every deposit exactly (away from the walls), so a contracting fixed
//! point is located better than its cell; they add the variance θ(1 − θ)h² of a split
//! per axis per step, the method's numerical diffusion, which falls as h².
//!
//! Walls are those of the 1-D transfer models and of the Monte Carlo engines, applied per
//! axis: at zero-flux walls an image is folded back into the rectangle ([`reflect`],
//! period 2(b − a)); at absorbing walls an image outside the closed rectangle is removed.
//! A hat that reaches past the first or last cell centre folds onto the edge cell, so
//! every entry is non-negative, every column sums to one with zero-flux walls (to the
//! retained fraction with absorbing walls) and mass is conserved to rounding.
//!
//! The landscape enters through the small trait [`Sgd2`] (the number of datapoints and
//! each datapoint's gradient), so the matrix build and the Monte Carlo engine of
//! `analysis::montecarlo::two` are monomorphised over the concrete landscape.

mod closed;
mod problem;

pub use closed::{Linear2, SeedPit2};
pub use problem::{initial_masses, regions_of, Dyn2, Fast2};

use rayon::prelude::*;
use serde::Serialize;

use super::kernels::big_phi;
use super::matrix::MarkovMatrix;
use super::minibatch::{minibatches, Minibatch};
use super::ulam::reflect;
use crate::error::{Error, Result};
use crate::model::problem::Sampling;

/// A two-parameter landscape as SGD sees it: n datapoints, each with its gradient
/// ∇l_j(w1, w2). Implemented by the 2-D problems and by test landscapes.
pub trait Sgd2: Sync {
    /// Number of datapoints n ≥ 1.
    fn datapoints(&self) -> usize;
    /// The gradient of datapoint `j` (0 ≤ j < n) at `w`: [∂l_j/∂w1, ∂l_j/∂w2].
    fn grad(&self, j: usize, w: [f64; 2]) -> [f64; 2];
}

/// An axis-aligned rectangle [lo₁, hi₁] × [lo₂, hi₂].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rect {
    /// Lower corner.
    pub lo: [f64; 2],
    /// Upper corner.
    pub hi: [f64; 2],
}

impl Rect {
    /// The rectangle with corners `lo` and `hi`; an error unless every coordinate is
    /// finite and lo < hi on both axes.
    pub fn new(lo: [f64; 2], hi: [f64; 2]) -> Result<Rect> {
        for ax in 0..2 {
            if !(lo[ax].is_finite() && hi[ax].is_finite() && lo[ax] < hi[ax]) {
                return Err(Error::BadDomain {
                    a: lo[ax],
                    b: hi[ax],
                    origin: format!("axis w{}", ax + 1),
                });
            }
        }
        Ok(Rect { lo, hi })
    }

    /// Whether `w` lies in the closed rectangle.
    #[inline]
    pub fn contains(&self, w: [f64; 2]) -> bool {
        (self.lo[0]..=self.hi[0]).contains(&w[0]) && (self.lo[1]..=self.hi[1]).contains(&w[1])
    }

    /// Where the walls put an image `w`: folded into the rectangle per axis with
    /// zero-flux walls, `None` past an absorbing wall or for a non-finite position.
    #[inline]
    pub fn settle(&self, w: [f64; 2], absorbing: bool) -> Option<[f64; 2]> {
        if self.contains(w) {
            return Some(w);
        }
        if absorbing || !(w[0].is_finite() && w[1].is_finite()) {
            return None;
        }
        Some([
            reflect(w[0], self.lo[0], self.hi[0]),
            reflect(w[1], self.lo[1], self.hi[1]),
        ])
    }
}

/// A uniform grid of n₁ × n₂ cells on a rectangle; cell (i₁, i₂) has index
/// i₂·n₁ + i₁ (w1 varies fastest).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cells2 {
    /// The rectangle.
    pub rect: Rect,
    /// Cells per axis.
    pub n: [usize; 2],
}

impl Cells2 {
    /// n₁ × n₂ cells on `rect`; each axis needs 2 to 65 536 cells.
    pub fn new(rect: Rect, n: [usize; 2]) -> Result<Cells2> {
        for (ax, &m) in n.iter().enumerate() {
            if !(2..=65_536).contains(&m) {
                return Err(Error::invalid(
                    "cells",
                    m,
                    format!("axis w{} needs 2 to 65536 cells", ax + 1),
                ));
            }
        }
        Ok(Cells2 { rect, n })
    }

    /// Number of cells n₁·n₂.
    pub fn len(&self) -> usize {
        self.n[0] * self.n[1]
    }

    /// Always false (a grid has at least 4 cells).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Cell width along `ax`.
    #[inline]
    pub fn h(&self, ax: usize) -> f64 {
        (self.rect.hi[ax] - self.rect.lo[ax]) / self.n[ax] as f64
    }

    /// Centre of cell `i` along `ax`.
    #[inline]
    pub fn centre(&self, ax: usize, i: usize) -> f64 {
        self.rect.lo[ax] + (i as f64 + 0.5) * self.h(ax)
    }

    /// The cell holding `w` (clamped to the grid).
    #[inline]
    pub fn cell_of(&self, w: [f64; 2]) -> usize {
        let idx = |ax: usize| {
            let s = ((w[ax] - self.rect.lo[ax]) / self.h(ax)).floor();
            (s.max(0.0) as usize).min(self.n[ax] - 1)
        };
        idx(1) * self.n[0] + idx(0)
    }

    /// Bilinear (cloud-in-cell) weights of a point `y` inside the rectangle on the four
    /// nearest cell centres: (index, weight) ×4, summing to 1; past the outer centres
    /// the hat folds onto the edge cell.
    #[inline]
    pub fn hats(&self, y: [f64; 2]) -> [(usize, f64); 4] {
        let axis = |ax: usize| {
            let s = (y[ax] - self.rect.lo[ax]) / self.h(ax) - 0.5;
            let m = s.floor();
            let th = s - m;
            let n = self.n[ax] as i64;
            let m = m as i64;
            let fold = |k: i64| k.clamp(0, n - 1) as usize;
            (fold(m), fold(m + 1), th)
        };
        let (a0, a1, t1) = axis(0);
        let (b0, b1, t2) = axis(1);
        let n1 = self.n[0];
        [
            (b0 * n1 + a0, (1.0 - t1) * (1.0 - t2)),
            (b0 * n1 + a1, t1 * (1.0 - t2)),
            (b1 * n1 + a0, (1.0 - t1) * t2),
            (b1 * n1 + a1, t1 * t2),
        ]
    }

    /// Cell masses of independent normals N(mean_ax, sd_ax²) per axis, each truncated
    /// to the rectangle (exact integrals over the cells; they sum to one).
    pub fn normal_masses(&self, mean: [f64; 2], sd: [f64; 2]) -> Result<Vec<f64>> {
        let mut per_axis: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for ax in 0..2 {
            crate::error::finite("initial.mean", mean[ax])?;
            crate::error::positive("initial.sd", sd[ax])?;
            let h = self.h(ax);
            let cdf = |x: f64| big_phi((x - mean[ax]) / sd[ax]);
            let lo = self.rect.lo[ax];
            let m: Vec<f64> = (0..self.n[ax])
                .map(|i| cdf(lo + (i + 1) as f64 * h) - cdf(lo + i as f64 * h))
                .collect();
            let total: f64 = m.iter().sum();
            if total.is_nan() || total <= 0.0 {
                return Err(Error::invalid(
                    "initial normal",
                    format!("mean {}, sd {}", mean[ax], sd[ax]),
                    format!("puts no mass on the grid along w{}", ax + 1),
                ));
            }
            per_axis[ax] = m.into_iter().map(|v| v / total).collect();
        }
        let mut out = Vec::with_capacity(self.len());
        for m2 in &per_axis[1] {
            out.extend(per_axis[0].iter().map(|m1| m1 * m2));
        }
        Ok(out)
    }
}

/// How SGD steps on a 2-D problem: learning rate, batch, sampling and walls.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Step2 {
    /// Learning rate T.
    pub lr: f64,
    /// Minibatch size B.
    pub batch: usize,
    /// With or without replacement.
    pub sampling: Sampling,
    /// The rectangle the weights live in.
    pub rect: Rect,
    /// Absorbing walls (else zero flux).
    pub absorbing: bool,
}

/// The 2-D exact transfer operator on a grid: the Markov matrix and how it was built.
#[derive(Clone, Debug)]
pub struct Transfer2 {
    /// The grid.
    pub cells: Cells2,
    /// Column-stochastic matrix on cell masses (CSR).
    pub matrix: MarkovMatrix,
    /// Sub-points per cell and axis.
    pub subpoints: usize,
    /// Minibatch maps per sub-point.
    pub maps: usize,
}

impl Transfer2 {
    /// Build the matrix of `land` stepped by `step` on `cells` with q = `subpoints`
    /// sub-points per cell and axis (1 to 64), enumerating at most `max_minibatches`
    /// minibatches. In parallel over cells; the result does not depend on the threads.
    pub fn build<L: Sgd2>(
        land: &L,
        step: &Step2,
        cells: Cells2,
        subpoints: usize,
        max_minibatches: usize,
    ) -> Result<Transfer2> {
        if !(1..=64).contains(&subpoints) {
            return Err(Error::invalid(
                "subpoints",
                subpoints,
                "need 1 to 64 per axis",
            ));
        }
        crate::error::positive("lr", step.lr)?;
        if cells.len() > u32::MAX as usize {
            return Err(Error::invalid(
                "cells",
                cells.len(),
                "at most 2^32 - 1 cells",
            ));
        }
        let n = land.datapoints();
        let maps = minibatches(n, step.batch, step.sampling, max_minibatches)?;
        let columns: Vec<Vec<(u32, f64)>> = (0..cells.len())
            .into_par_iter()
            .map_init(Vec::new, |buf, c| {
                column(land, step, &cells, &maps, subpoints, c, buf)
            })
            .collect::<Result<_>>()?;
        Ok(Transfer2 {
            cells,
            matrix: MarkovMatrix::from_columns(cells.len(), &columns),
            subpoints,
            maps: maps.len(),
        })
    }

    /// One SGD step on cell masses: `out` = M `p`.
    pub fn step(&self, p: &[f64], out: &mut [f64]) {
        self.matrix.apply(p, out);
    }

    /// The cell masses at each of the increasing step counts `checkpoints`, starting
    /// from `p0` at step 0 (an error if `p0` has the wrong length).
    pub fn evolve(&self, p0: &[f64], checkpoints: &[u64]) -> Result<Vec<Vec<f64>>> {
        crate::time::check_len(p0.len(), self.cells.len())?;
        let (mut p, mut next) = (p0.to_vec(), vec![0.0; p0.len()]);
        let mut t = 0u64;
        let mut out = Vec::with_capacity(checkpoints.len());
        for &until in checkpoints {
            while t < until {
                self.matrix.apply(&p, &mut next);
                std::mem::swap(&mut p, &mut next);
                t += 1;
            }
            out.push(p.clone());
        }
        Ok(out)
    }
}

/// Column `c`: where one step carries the mass of cell c, as (row, fraction) sorted by
/// row with duplicates merged.
fn column<L: Sgd2>(
    land: &L,
    step: &Step2,
    cells: &Cells2,
    maps: &[Minibatch],
    q: usize,
    c: usize,
    buf: &mut Vec<(u32, f64)>,
) -> Result<Vec<(u32, f64)>> {
    buf.clear();
    let (i1, i2) = (c % cells.n[0], c / cells.n[0]);
    let (h1, h2) = (cells.h(0), cells.h(1));
    let share = 1.0 / (q * q) as f64;
    for s2 in 0..q {
        for s1 in 0..q {
            let x = [
                cells.rect.lo[0] + (i1 as f64 + (s1 as f64 + 0.5) / q as f64) * h1,
                cells.rect.lo[1] + (i2 as f64 + (s2 as f64 + 0.5) / q as f64) * h2,
            ];
            for mb in maps {
                let mut g = [0.0; 2];
                for &(j, cj) in &mb.terms {
                    let gj = land.grad(j, x);
                    g[0] += cj * gj[0];
                    g[1] += cj * gj[1];
                }
                let y = [x[0] - step.lr * g[0], x[1] - step.lr * g[1]];
                if !(y[0].is_finite() && y[1].is_finite()) {
                    return Err(Error::NonFinite {
                        what: "image of one 2-D SGD step".into(),
                        w: x[0],
                        value: if y[0].is_finite() { y[1] } else { y[0] },
                        origin: format!("from ({}, {})", x[0], x[1]),
                    });
                }
                let Some(y) = step.rect.settle(y, step.absorbing) else {
                    continue;
                };
                for (k, v) in cells.hats(y) {
                    if v > 0.0 {
                        buf.push((k as u32, v * mb.weight * share));
                    }
                }
            }
        }
    }
    buf.sort_unstable_by_key(|e| e.0);
    let mut out: Vec<(u32, f64)> = Vec::with_capacity(buf.len());
    for &(k, v) in buf.iter() {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += v,
            _ => out.push((k, v)),
        }
    }
    Ok(out)
}

/// Mass, mean vector and covariance (c₁₁, c₁₂, c₂₂) of cell masses `p` on `cells`,
/// with the mass of each cell placed at its centre.
pub fn cell_moments(cells: &Cells2, p: &[f64]) -> (f64, [f64; 2], [f64; 3]) {
    let (mut m, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for (k, &v) in p.iter().enumerate() {
        let (x, y) = (
            cells.centre(0, k % cells.n[0]),
            cells.centre(1, k / cells.n[0]),
        );
        m += v;
        s1 += v * x;
        s2 += v * y;
    }
    let mean = if m > 0.0 {
        [s1 / m, s2 / m]
    } else {
        [f64::NAN; 2]
    };
    let (mut c11, mut c12, mut c22) = (0.0, 0.0, 0.0);
    for (k, &v) in p.iter().enumerate() {
        let dx = cells.centre(0, k % cells.n[0]) - mean[0];
        let dy = cells.centre(1, k / cells.n[0]) - mean[1];
        c11 += v * dx * dx;
        c12 += v * dx * dy;
        c22 += v * dy * dy;
    }
    let cov = if m > 0.0 {
        [c11 / m, c12 / m, c22 / m]
    } else {
        [f64::NAN; 3]
    };
    (m, mean, cov)
}

/// Mass of `p` in the cells whose centres lie in `region`.
pub fn region_mass(cells: &Cells2, p: &[f64], region: &Rect) -> f64 {
    p.iter()
        .enumerate()
        .filter(|(k, _)| {
            region.contains([
                cells.centre(0, k % cells.n[0]),
                cells.centre(1, k / cells.n[0]),
            ])
        })
        .map(|(_, v)| v)
        .sum()
}
