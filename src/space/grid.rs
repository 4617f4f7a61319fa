//! Uniform cell-centred finite-volume grid on [a, b].
//!
//! Cell i (0 ≤ i < n) is [a + i h, a + (i+1) h] with centre a + (i + ½) h and
//! h = (b − a)/n. Faces are numbered 0..=n; face i is the left face of cell i.
//! A density on the grid is a vector of cell averages; its mass is h Σ P_i.

use crate::error::{Error, Result};

/// A uniform cell-centred grid of `n` cells on [a, b].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Grid {
    /// Left end of the domain.
    pub a: f64,
    /// Right end of the domain.
    pub b: f64,
    /// Number of cells.
    pub n: usize,
}

impl Grid {
    /// A grid of `n ≥ 3` cells on the finite interval a < b: the width b − a must be a
    /// normal float, `n` at most [`crate::limits::MAX_CELLS`], and the cell width large
    /// enough to move a face off both ends.
    pub fn new(a: f64, b: f64, n: usize) -> Result<Self> {
        if !(a.is_finite() && b.is_finite() && a < b && (b - a).is_normal()) {
            return Err(Error::BadDomain {
                a,
                b,
                origin: String::new(),
            });
        }
        crate::limits::cells(n)?;
        let h = (b - a) / n as f64;
        if !h.is_normal() || a + h <= a || b - h >= b {
            return Err(Error::invalid(
                "cells",
                n,
                format!(
                    "cells of width {} on [{}, {}] are below the resolution of the \
                     floats there: use fewer cells or a wider domain",
                    crate::error::num(h),
                    crate::error::num(a),
                    crate::error::num(b)
                ),
            ));
        }
        Ok(Grid { a, b, n })
    }

    /// Cell width h.
    pub fn h(&self) -> f64 {
        (self.b - self.a) / self.n as f64
    }

    /// Centre of cell `i`.
    pub fn centre(&self, i: usize) -> f64 {
        self.a + (i as f64 + 0.5) * self.h()
    }

    /// Position of face `i` (0 ..= n).
    pub fn face(&self, i: usize) -> f64 {
        self.a + i as f64 * self.h()
    }

    /// All cell centres.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.centre(i)).collect()
    }

    /// Fraction of cell `i` lying inside [lo, hi] (piecewise-constant reconstruction).
    pub fn overlap(&self, i: usize, lo: f64, hi: f64) -> f64 {
        let (l, r) = (self.face(i), self.face(i + 1));
        ((hi.min(r) - lo.max(l)) / (r - l)).clamp(0.0, 1.0)
    }
}
