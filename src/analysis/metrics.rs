//! Distances between densities on a grid.
//!
//! The primary error measure of the testbed is the Wasserstein-1 distance
//! W1(P, Q) = ∫ |F_P(W) − F_Q(W)| dW, the integral of the difference of the cumulative
//! distributions (Vallender 1974). It suits densities that concentrate into spikes
//! narrower than a cell, where the L1 distance only measures how a spike falls between
//! cells: moving a point mass m by δ costs m·δ, however the spike is resolved.
//! Against Monte Carlo, [`w1_sample`] measures it exactly between a density and the
//! particle positions themselves (no histogram, so errors below the cell width count).

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

/// Wasserstein-1 distance between densities on two grids of the same domain (exact
/// for piecewise-constant densities); it lives in the run layer, whose error estimate
/// needs it.
pub use crate::run::estimate::w1_between;

/// Exact Wasserstein-1 distance ∫ |F_model(W) − F_emp(W)| dW between a cell-average
/// density `p` on `grid` and the particle sample `sorted` (positions in increasing
/// order).
///
/// F_model is the cumulative distribution of the piecewise-constant density, linear
/// within each cell; F_emp is the empirical step distribution of the sample. The sample
/// points and the grid faces are merged; between consecutive breakpoints F_model − F_emp
/// is linear and its absolute value is integrated exactly (with the crossing point when
/// it changes sign), so nothing is lost below the cell width: O(N + n).
///
/// Normalisation: each side is normalised to its own mass — the model by h Σ p, the
/// sample by its size (each point weighs 1/N) — so this is the distance between the
/// two distributions *conditional on being in the domain*, the same conditioning as
/// the means of [`crate::run::Moments`] and of the Monte Carlo moments. Hence
/// W1 ≥ |Δmean| holds for the reported means (to rounding). A mass difference
/// (absorption, a non-conservative scheme) is not counted here; compare the masses
/// separately. Both sides empty (zero mass, no points) give 0; exactly one empty
/// gives NaN. Points outside [a, b] are allowed (the model CDF is 0 left of `a` and
/// 1 right of `b`).
pub fn w1_sample(grid: &Grid, p: &[f64], sorted: &[f64]) -> f64 {
    debug_assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "sample not sorted");
    let mass: f64 = grid.mass(p);
    let n_pts = sorted.len();
    match (mass != 0.0, n_pts > 0) {
        (false, false) => return 0.0,
        (true, true) => {}
        _ => return f64::NAN,
    }
    // normalised model CDF at the faces
    let mut f = Vec::with_capacity(grid.n + 1);
    let mut acc = 0.0;
    f.push(0.0);
    for (i, v) in p.iter().enumerate() {
        acc += v * grid.width(i);
        f.push(acc / mass);
    }
    let n = grid.n;
    // model CDF at x, with `ci` the current cell (advanced monotonically)
    let model_at = |x: f64, ci: &mut usize| -> f64 {
        if x <= grid.a {
            return 0.0;
        }
        if x >= grid.b {
            return f[n];
        }
        while *ci + 1 < n && grid.face(*ci + 1) <= x {
            *ci += 1;
        }
        let s = ((x - grid.face(*ci)) / grid.width(*ci)).clamp(0.0, 1.0);
        f[*ci] + s * (f[*ci + 1] - f[*ci])
    };
    let inv = 1.0 / n_pts as f64;
    let (mut i, mut j) = (0usize, 0usize); // next face, next sample point
    let mut ci = 0usize;
    let mut cnt = 0usize; // sample points ≤ the current breakpoint
    let mut prev: Option<(f64, f64)> = None; // (x, F_model(x))
    let mut sum = 0.0;
    while i <= n || j < n_pts {
        let x = if j >= n_pts || (i <= n && grid.face(i) <= sorted[j]) {
            i += 1;
            grid.face(i - 1)
        } else {
            j += 1;
            sorted[j - 1]
        };
        let fm = model_at(x, &mut ci);
        if let Some((x0, fm0)) = prev {
            // on [x0, x) the empirical CDF is cnt/N
            let c = cnt as f64 * inv;
            let (d0, d1) = (fm0 - c, fm - c);
            let len = x - x0;
            sum += if (d0 >= 0.0) == (d1 >= 0.0) {
                0.5 * len * (d0.abs() + d1.abs())
            } else {
                0.5 * len * (d0 * d0 + d1 * d1) / (d0.abs() + d1.abs())
            };
        }
        while cnt < n_pts && sorted[cnt] <= x {
            cnt += 1;
        }
        prev = Some((x, fm));
    }
    sum
}

/// Masses of a density in `bins` equal bins of [a, b] (exact: cells split by overlap).
pub fn bin_masses(grid: &Grid, p: &[f64], bins: usize) -> Vec<f64> {
    let bw = (grid.b - grid.a) / bins as f64;
    let mut out = vec![0.0; bins];
    for (i, v) in p.iter().enumerate() {
        let (l, r) = (grid.face(i), grid.face(i + 1));
        let k0 = (((l - grid.a) / bw).floor().max(0.0) as usize).min(bins - 1);
        let k1 = (((r - grid.a) / bw).ceil().max(1.0) as usize).min(bins);
        for (k, o) in out.iter_mut().enumerate().take(k1).skip(k0) {
            let lo = grid.a + k as f64 * bw;
            *o += v * grid.width(i) * grid.overlap(i, lo, lo + bw);
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
        let h = grid.width(0);
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

    /// Model mean (cell centres, normalised) of a density.
    fn model_mean(grid: &Grid, p: &[f64]) -> f64 {
        let m: f64 = p.iter().sum();
        p.iter()
            .enumerate()
            .map(|(i, v)| v * grid.centre(i))
            .sum::<f64>()
            / m
    }

    #[test]
    fn sample_point_mass_against_a_narrow_cell() {
        // all mass uniform on cell 3 (width h), every particle at its centre: h/4
        let grid = Grid::new(0.0, 1.0, 100).unwrap();
        let mut p = vec![0.0; 100];
        p[3] = 1.0 / grid.width(0);
        let c = grid.centre(3);
        let w = w1_sample(&grid, &p, &[c; 1000]);
        assert_relative_eq!(w, grid.width(0) / 4.0, max_relative = 1e-12);
        // a point mass off-centre at x inside the cell: (u² + (h − u)²)/(2h)
        let u = 0.3 * grid.width(0);
        let w = w1_sample(&grid, &p, &[grid.face(3) + u]);
        let h = grid.width(0);
        assert_relative_eq!(
            w,
            (u * u + (h - u) * (h - u)) / (2.0 * h),
            max_relative = 1e-9
        );
    }

    #[test]
    fn sample_of_the_same_distribution_is_close() {
        // uniform on [0, 1] against its N quantile midpoints: 1/(4N)
        let grid = Grid::new(0.0, 1.0, 7).unwrap();
        let n = 10_000;
        let s: Vec<f64> = (0..n).map(|k| (k as f64 + 0.5) / n as f64).collect();
        let w = w1_sample(&grid, &[1.0; 7], &s);
        assert_relative_eq!(w, 0.25 / n as f64, max_relative = 1e-6);
        // and the normalisation: the model's mass does not matter
        let w2 = w1_sample(&grid, &[3.0; 7], &s);
        assert_relative_eq!(w, w2, max_relative = 1e-9);
    }

    #[test]
    fn shifted_sample_costs_the_shift() {
        // model uniform on [0.1, 0.3]; sample: its quantile midpoints moved by 0.5, all
        // to the right of the support, so W1 is exactly the mean difference = 0.5
        let grid = Grid::new(0.0, 1.0, 10).unwrap();
        let mut p = vec![0.0; 10];
        p[1] = 5.0;
        p[2] = 5.0;
        let n = 1000;
        let s: Vec<f64> = (0..n)
            .map(|k| 0.1 + 0.2 * (k as f64 + 0.5) / n as f64 + 0.5)
            .collect();
        assert_relative_eq!(w1_sample(&grid, &p, &s), 0.5, max_relative = 1e-12);
        // empty on both sides is 0, on one side NaN
        assert_eq!(
            w1_sample(&grid, &[0.0; 10], &[]).to_bits(),
            0.0f64.to_bits()
        );
        assert!(w1_sample(&grid, &p, &[]).is_nan());
    }

    #[test]
    fn sample_w1_bounds_the_mean_difference() {
        // random densities and samples from a small LCG: W1 ≥ |Δmean| always
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..200 {
            let n = 3 + (rnd() * 40.0) as usize;
            let grid = Grid::new(-1.0, 2.0, n).unwrap();
            let p: Vec<f64> = (0..n)
                .map(|_| if rnd() < 0.3 { 0.0 } else { rnd() })
                .collect();
            if p.iter().sum::<f64>() == 0.0 {
                continue;
            }
            let m = 1 + (rnd() * 300.0) as usize;
            let lo = -1.0 + 3.0 * rnd() * 0.5;
            let span = 3.0 * rnd();
            let mut s: Vec<f64> = (0..m).map(|_| (lo + span * rnd()).min(2.0)).collect();
            s.sort_by(f64::total_cmp);
            let mean_s = s.iter().sum::<f64>() / m as f64;
            let d = (model_mean(&grid, &p) - mean_s).abs();
            let w = w1_sample(&grid, &p, &s);
            assert!(
                w >= d - 1e-12 * (1.0 + d),
                "case {case}: W1 {w} < |Δmean| {d}"
            );
            assert!(
                w <= 3.0 + 1e-12,
                "case {case}: W1 {w} beyond the domain width"
            );
        }
    }
}
