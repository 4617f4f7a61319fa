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
pub fn scan(p: &[f64], grid: &Grid) -> Scan {
    let (mut lo, mut hi, mut l1, mut finite) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, true);
    let uniform = grid.uniform_h();
    for (i, &v) in p.iter().enumerate() {
        finite &= v.is_finite();
        lo = lo.min(v);
        hi = hi.max(v);
        l1 += match uniform {
            Some(_) => v.abs(),
            None => v.abs() * grid.width(i),
        };
    }
    l1 *= uniform.unwrap_or(1.0);
    Scan { lo, hi, l1, finite }
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
