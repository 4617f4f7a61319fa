//! Distances between densities on a grid.
//!
//! The primary error measure of the testbed is the Wasserstein-1 distance
//! W1(P, Q) = ∫ |F_P(W) − F_Q(W)| dW, the integral of the difference of the cumulative
//! distributions (Vallender 1974). It suits densities that concentrate into spikes
//! narrower than a cell, where the L1 distance only measures how a spike falls between
//! cells: moving a point mass m by δ costs m·δ, however the spike is resolved.

use crate::error::{Error, Result};
use crate::space::grid::Grid;

/// Wasserstein-1 distance ∫ |F_p − F_q| dW between two cell-average densities on
/// the same grid (exact for piecewise-constant densities).
///
/// Within a cell each density is constant, so F_p − F_q is linear there and its
/// absolute value is integrated exactly (with the crossing point when it changes
/// sign). The densities are not normalised: for equal masses this is W1; if the masses
/// differ, the mass difference m contributes m times the distance from where it
/// arises to the right end `b`. An error if either length differs from `grid.n`.
pub fn wasserstein1(grid: &Grid, p: &[f64], q: &[f64]) -> Result<f64> {
    for (what, v) in [("p", p), ("q", q)] {
        if v.len() != grid.n {
            return Err(Error::invalid(
                format!("length of density {what}"),
                v.len(),
                format!("must equal the number of cells {}", grid.n),
            ));
        }
    }
    Ok(w1_between(grid, p, grid, q))
}

/// Cumulative distribution of a cell-average density at the faces of its grid.
fn cdf(grid: &Grid, p: &[f64]) -> Vec<f64> {
    let h = grid.h();
    let mut f = Vec::with_capacity(grid.n + 1);
    let mut acc = 0.0;
    f.push(0.0);
    for v in p {
        acc += v * h;
        f.push(acc);
    }
    f
}

fn cdf_at(grid: &Grid, f: &[f64], x: f64) -> f64 {
    let s = ((x - grid.a) / grid.h()).clamp(0.0, grid.n as f64);
    let i = (s.floor() as usize).min(grid.n - 1);
    f[i] + (s - i as f64) * (f[i + 1] - f[i])
}

/// Wasserstein-1 distance ∫|F_p − F_q| between densities on two grids of the same
/// domain (exact for piecewise-constant densities: integrated between the union of
/// both grids' faces, where F_p − F_q is linear).
pub fn w1_between(gp: &Grid, p: &[f64], gq: &Grid, q: &[f64]) -> f64 {
    let (fp, fq) = (cdf(gp, p), cdf(gq, q));
    let mut xs: Vec<f64> = (0..=gp.n)
        .map(|i| gp.face(i))
        .chain((0..=gq.n).map(|i| gq.face(i)))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-14 * (1.0 + b.abs()));
    let mut sum = 0.0;
    let mut d0 = cdf_at(gp, &fp, xs[0]) - cdf_at(gq, &fq, xs[0]);
    for w in xs.windows(2) {
        let d1 = cdf_at(gp, &fp, w[1]) - cdf_at(gq, &fq, w[1]);
        let len = w[1] - w[0];
        sum += if (d0 >= 0.0) == (d1 >= 0.0) {
            0.5 * len * (d0.abs() + d1.abs())
        } else {
            0.5 * len * (d0 * d0 + d1 * d1) / (d0.abs() + d1.abs())
        };
        d0 = d1;
    }
    sum
}

/// Masses of a density in `bins` equal bins of [a, b] (exact: cells split by overlap).
pub fn bin_masses(grid: &Grid, p: &[f64], bins: usize) -> Vec<f64> {
    let bw = (grid.b - grid.a) / bins as f64;
    let h = grid.h();
    let mut out = vec![0.0; bins];
    for (i, v) in p.iter().enumerate() {
        let (l, r) = (grid.face(i), grid.face(i + 1));
        let k0 = (((l - grid.a) / bw).floor().max(0.0) as usize).min(bins - 1);
        let k1 = (((r - grid.a) / bw).ceil().max(1.0) as usize).min(bins);
        for (k, o) in out.iter_mut().enumerate().take(k1).skip(k0) {
            let lo = grid.a + k as f64 * bw;
            *o += v * h * grid.overlap(i, lo, lo + bw);
        }
    }
    out
}

/// L1 distance of two densities on a histogram of `bins` equal bins of the domain,
/// Σ_k |m_p,k − m_q,k| with the bin masses of [`bin_masses`] (exact: cells are split by
/// overlap, so the two densities may live on different grids of the same domain).
pub fn binned_l1(gp: &Grid, p: &[f64], gq: &Grid, q: &[f64], bins: usize) -> f64 {
    bin_masses(gp, p, bins)
        .iter()
        .zip(bin_masses(gq, q, bins))
        .map(|(a, b)| (a - b).abs())
        .sum()
}

/// Bins of the coarse histogram of the testbed's L1 distance: 60 equal bins of the
/// domain, coarse enough that a spike's position within a cell does not matter.
pub const COARSE_BINS: usize = 60;

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn moving_a_cell_of_mass_costs_mass_times_distance() {
        let grid = Grid::new(0.0, 1.0, 10).unwrap();
        let h = grid.h();
        // all mass in cell 2, then in cell 5: W1 = 3h exactly
        let mut p = vec![0.0; 10];
        let mut q = vec![0.0; 10];
        p[2] = 1.0 / h;
        q[5] = 1.0 / h;
        assert_relative_eq!(
            wasserstein1(&grid, &p, &q).unwrap(),
            3.0 * h,
            epsilon = 1e-15
        );
        // symmetric, zero on itself
        assert_relative_eq!(
            wasserstein1(&grid, &q, &p).unwrap(),
            3.0 * h,
            epsilon = 1e-15
        );
        assert_relative_eq!(wasserstein1(&grid, &p, &p).unwrap(), 0.0, epsilon = 1e-300);
    }

    #[test]
    fn neighbouring_cells_and_sign_change() {
        // p uniform, q uniform on the left half at double height: F_p − F_q = −x on [0, ½]
        // and x − 1 on [½, 1], so W1 = 2 · ½ · ½ · ½ = ¼ (the crossing lies on a face).
        let grid = Grid::new(0.0, 1.0, 4).unwrap();
        let w = wasserstein1(&grid, &[1.0; 4], &[2.0, 2.0, 0.0, 0.0]).unwrap();
        assert_relative_eq!(w, 0.25, epsilon = 1e-15);
        let grid = Grid::new(0.0, 3.0, 3).unwrap();
        // here the crossing lies inside the middle cell: F_p − F_q is 0, ⅓, −⅓, 0 at the
        // faces; cell 0 gives ½·⅓ = 1/6, cell 1 two triangles ½·(1/9 + 1/9)/(2/3) = 1/6,
        // cell 2 gives 1/6: W1 = ½.
        let w = wasserstein1(&grid, &[1.0 / 3.0; 3], &[0.0, 1.0, 0.0]).unwrap();
        assert_relative_eq!(w, 0.5, epsilon = 1e-15);
    }

    #[test]
    fn wrong_length_is_an_error() {
        let grid = Grid::new(0.0, 1.0, 4).unwrap();
        assert!(wasserstein1(&grid, &[1.0; 3], &[1.0; 4]).is_err());
    }
}
