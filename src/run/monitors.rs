//! The monitors a run keeps on its density, and their thresholds.
//!
//! Every step: non-finite values or growth of the L1 norm h Σ|P| beyond a multiple of
//! the initial mass (a blow-up: the run stops as `diverged`), and the most negative
//! value against the largest (`negative`). At every snapshot: grid-scale oscillation,
//! a run of consecutive cells that alternate up and down (a sawtooth), which is how a
//! dispersive or unstable scheme rings (`oscillating`). Also at every snapshot after
//! t = 0, a warning that does not change the outcome: more than a fraction of the mass
//! in the outermost cell next to a zero-flux wall (`mass_at_wall`).

use serde::Serialize;

use super::report::{Moments, Wall};
use crate::space::grid::Grid;

/// Thresholds of the monitors.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Monitors {
    /// A value below −negative_tol · max P counts as negative (default 1e-8).
    pub negative_tol: f64,
    /// Diverged when h Σ|P| exceeds this multiple of the initial mass (default 10).
    pub growth_bound: f64,
    /// Oscillating when a snapshot has a run of more than this many consecutive
    /// grid-scale extrema, i.e. a sawtooth (default 3; see [`longest_zigzag`]).
    pub max_zigzag: usize,
    /// Also oscillating when a snapshot has more than this many grid-scale extrema in
    /// all (default `usize::MAX`: off, since sharp but genuine features such as the
    /// seed's pit and the dip where S² vanishes make isolated extrema).
    pub max_extrema: usize,
    /// Warn (`mass_at_wall`) when a snapshot after t = 0 has more than this fraction of
    /// its mass in the outermost cell next to a zero-flux wall (default 1e-3). The cell
    /// mass scales with the cell width, so a smooth density that merely reaches the
    /// wall fires this only on coarse grids (a uniform density on fewer than 1000
    /// cells); mass piled against the wall fires it on any grid.
    pub wall_mass: f64,
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors {
            negative_tol: 1e-8,
            growth_bound: 10.0,
            max_zigzag: 3,
            max_extrema: usize::MAX,
            wall_mass: 1e-3,
        }
    }
}

impl Monitors {
    /// Why a snapshot counts as oscillating, if it does.
    pub fn oscillation(&self, m: &Moments) -> Option<String> {
        if m.zigzag > self.max_zigzag {
            Some(format!(
                "sawtooth of {} consecutive grid-scale extrema at t = {}",
                m.zigzag, m.t
            ))
        } else if m.extrema > self.max_extrema {
            Some(format!("{} grid-scale extrema at t = {}", m.extrema, m.t))
        } else {
            None
        }
    }
}

impl Monitors {
    /// Which wall has more than `wall_mass` of the snapshot's mass `mass` in its
    /// outermost cell of `grid`, with the mass h·P there; the fuller wall when both
    /// do. Meant for zero-flux walls (the caller checks the boundary).
    pub fn mass_at_wall(&self, p: &[f64], grid: &Grid, mass: f64) -> Option<(Wall, f64)> {
        let (first, last) = (*p.first()?, *p.last()?);
        let (first, last) = (first * grid.width(0), last * grid.width(grid.n - 1));
        let (wall, cell) = if first >= last {
            (Wall::Left, first)
        } else {
            (Wall::Right, last)
        };
        (mass > 0.0 && cell > self.wall_mass * mass).then_some((wall, cell))
    }
}

/// Longest run of consecutive cells that are all grid-scale extrema (alternating up
/// and down: a sawtooth). An isolated peak or dip counts 1; a spike next to a dip, 2
/// or 3; a grid-scale oscillation, many.
pub fn longest_zigzag(p: &[f64]) -> usize {
    let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-6;
    let (mut run, mut best) = (0, 0);
    for w in p.windows(3) {
        let (d1, d2) = (w[1] - w[0], w[2] - w[1]);
        if d1 * d2 < 0.0 && d1.abs() > scale && d2.abs() > scale {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Number of grid-scale extrema: interior cells where the successive differences
/// change sign and both exceed 1e-6 · max|P| in size.
pub fn count_extrema(p: &[f64]) -> usize {
    let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-6;
    p.windows(3)
        .filter(|w| {
            let (d1, d2) = (w[1] - w[0], w[2] - w[1]);
            d1 * d2 < 0.0 && d1.abs() > scale && d2.abs() > scale
        })
        .count()
}

/// One pass over a density after a step: what the per-step monitors look at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scan {
    /// Smallest value.
    pub lo: f64,
    /// Largest value.
    pub hi: f64,
    /// Σ h_i |P_i|: the L1 norm.
    pub l1: f64,
    /// Every value finite.
    pub finite: bool,
}

/// Scan `p` on `grid` once for the per-step monitors.
///
/// Four independent running minima, maxima and sums (lanes i mod 4), combined at the
/// end: the scan runs every step, and one running sum would make it wait on the
/// latency of each addition. The minimum and maximum are exact; Σ h_i |P_i| differs from
/// a left-to-right sum by rounding.
pub fn scan(p: &[f64], grid: &Grid) -> Scan {
    match grid.uniform_h() {
        Some(h) => {
            let mut s = scan_lanes(p, |_| 1.0);
            s.l1 *= h;
            s
        }
        None => scan_lanes(p, |i| grid.width(i)),
    }
}

/// [`scan`] with the cell widths `width(i)` (inlined per grid kind).
#[inline(always)]
fn scan_lanes(p: &[f64], width: impl Fn(usize) -> f64) -> Scan {
    const L: usize = 4;
    let (mut lo, mut hi, mut l1) = ([f64::INFINITY; L], [f64::NEG_INFINITY; L], [0.0; L]);
    let mut finite = true;
    for (i, &v) in p.iter().enumerate() {
        let k = i % L;
        finite &= v.is_finite();
        lo[k] = lo[k].min(v);
        hi[k] = hi[k].max(v);
        l1[k] += v.abs() * width(i);
    }
    Scan {
        lo: lo.iter().fold(f64::INFINITY, |a, &b| a.min(b)),
        hi: hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b)),
        l1: (l1[0] + l1[1]) + (l1[2] + l1[3]),
        finite,
    }
}

impl Monitors {
    /// Why a step counts as a blow-up, if it does: non-finite values, or Σ h_i |P_i|
    /// beyond `growth_bound` times the initial mass `mass0`.
    pub fn blow_up(&self, s: &Scan, mass0: f64) -> Option<String> {
        if !s.finite {
            Some("non-finite density values".to_string())
        } else if s.l1 > self.growth_bound * mass0 {
            Some(format!(
                "L1 norm grew to {:.3e} × the initial mass",
                s.l1 / mass0
            ))
        } else {
            None
        }
    }

    /// Why a step counts as negative, if it does: its smallest value below
    /// −`negative_tol` times its largest (or 0).
    pub fn negative(&self, s: &Scan) -> Option<String> {
        (s.lo < -self.negative_tol * s.hi.max(0.0))
            .then(|| format!("density {:.3e} < 0 (max {:.3e})", s.lo, s.hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four-lane scan gives the exact minimum and maximum, Σ h_i |P_i| to rounding,
    /// and catches a non-finite value in any lane, on uniform and graded grids of every
    /// length modulo 4.
    #[test]
    fn the_lane_scan_matches_the_plain_one() {
        for n in [3usize, 4, 5, 6, 7, 8, 9, 501] {
            let p: Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 11) as f64 - 3.0) * (1.0 + 0.1 * i as f64))
                .collect();
            let edges: Vec<f64> = (0..=n).map(|i| (i as f64 / n as f64).powi(2)).collect();
            for grid in [
                Grid::new(0.0, 1.0, n).unwrap(),
                Grid::from_edges(edges, "test").unwrap(),
            ] {
                let s = scan(&p, &grid);
                let lo = p.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let l1: f64 = p
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.abs() * grid.width(i))
                    .sum();
                assert_eq!((s.lo, s.hi), (lo, hi), "n = {n}");
                assert!((s.l1 - l1).abs() <= 1e-14 * l1, "n = {n}: {} vs {l1}", s.l1);
                assert!(s.finite);
                for k in 0..n.min(5) {
                    let mut q = p.clone();
                    q[k] = f64::NAN;
                    assert!(!scan(&q, &grid).finite, "NaN at {k}, n = {n}");
                    q[k] = f64::NEG_INFINITY;
                    assert!(!scan(&q, &grid).finite, "-inf at {k}, n = {n}");
                }
            }
        }
    }
}
