//! Cell-centred finite-volume grids on [a, b], uniform or given by their edges.
//!
//! Cell i (0 ≤ i < n) is [x_i, x_{i+1}] with faces a = x_0 < x_1 < … < x_n = b, width
//! h_i = x_{i+1} − x_i and centre c_i = (x_i + x_{i+1})/2. Faces are numbered 0..=n;
//! face i is the left face of cell i. A density on the grid is a vector of cell
//! averages P_i; its mass is Σ h_i P_i. A uniform grid (h_i = (b − a)/n) stores no
//! edges; a non-uniform one keeps them in a shared array, so cloning is cheap.

use std::sync::Arc;

use crate::error::{Error, Result};

/// A cell-centred grid of `n` cells on [a, b]: uniform, or given by its edges.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "GridSpec", into = "GridSpec")]
pub struct Grid {
    /// Left end of the domain.
    pub a: f64,
    /// Right end of the domain.
    pub b: f64,
    /// Number of cells.
    pub n: usize,
    /// The n + 1 faces of a non-uniform grid; `None` for a uniform grid.
    edges: Option<Arc<[f64]>>,
}

/// How a grid is written to `run.json`: `kind = "uniform"` with a, b, n, or
/// `kind = "edges"` with the faces as well.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GridSpec {
    /// Uniform cells.
    Uniform {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
        /// Number of cells.
        n: usize,
    },
    /// Cells given by their faces.
    Edges {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
        /// Number of cells.
        n: usize,
        /// The n + 1 faces.
        edges: Vec<f64>,
    },
}

impl From<Grid> for GridSpec {
    fn from(g: Grid) -> Self {
        match &g.edges {
            None => GridSpec::Uniform {
                a: g.a,
                b: g.b,
                n: g.n,
            },
            Some(e) => GridSpec::Edges {
                a: g.a,
                b: g.b,
                n: g.n,
                edges: e.to_vec(),
            },
        }
    }
}

impl TryFrom<GridSpec> for Grid {
    type Error = Error;
    fn try_from(s: GridSpec) -> Result<Grid> {
        match s {
            GridSpec::Uniform { a, b, n } => Grid::new(a, b, n),
            GridSpec::Edges { edges, .. } => Grid::from_edges(edges, "run.json grid"),
        }
    }
}

fn too_fine(n: usize, h: f64, a: f64, b: f64) -> Error {
    Error::invalid(
        "cells",
        n,
        format!(
            "cells of width {} on [{}, {}] are below the resolution of the \
             floats there: use fewer cells or a wider domain",
            crate::error::num(h),
            crate::error::num(a),
            crate::error::num(b)
        ),
    )
}

impl Grid {
    /// A uniform grid of `n ≥ 3` cells on the finite interval a < b: the width b − a
    /// must be a normal float, `n` at most [`crate::limits::MAX_CELLS`], and the cell
    /// width large enough to move a face off both ends.
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
            return Err(too_fine(n, h, a, b));
        }
        Ok(Grid {
            a,
            b,
            n,
            edges: None,
        })
    }

    /// A grid with the given faces x_0 < x_1 < … < x_n: every face finite, strictly
    /// increasing, at least 3 cells (at most [`crate::limits::MAX_CELLS`]), every
    /// width a normal float. `origin` names where the edges came from in errors.
    pub fn from_edges(edges: Vec<f64>, origin: &str) -> Result<Self> {
        let bad = |what: String, value: String, why: String| {
            Error::invalid(what, value, why).with_origin(origin)
        };
        if edges.len() < 4 {
            return Err(bad(
                "grid edges".into(),
                format!("{} edges", edges.len()),
                "need at least 4 edges (3 cells)".into(),
            ));
        }
        let n = edges.len() - 1;
        crate::limits::cells(n).map_err(|e| e.with_origin(origin))?;
        for (k, &x) in edges.iter().enumerate() {
            if !x.is_finite() {
                return Err(bad(
                    format!("grid edge {k}"),
                    format!("{x}"),
                    "must be finite".into(),
                ));
            }
        }
        for k in 0..n {
            let h = edges[k + 1] - edges[k];
            if h <= 0.0 || !h.is_normal() {
                return Err(bad(
                    format!("grid edges {k} and {}", k + 1),
                    format!("{} and {}", edges[k], edges[k + 1]),
                    "must be strictly increasing, with a width that is a normal float".into(),
                ));
            }
        }
        let (a, b) = (edges[0], edges[n]);
        if !(b - a).is_normal() {
            return Err(Error::BadDomain {
                a,
                b,
                origin: origin.into(),
            });
        }
        Ok(Grid {
            a,
            b,
            n,
            edges: Some(edges.into()),
        })
    }

    /// [`Grid::from_edges`], also checking that the edges span exactly [a, b] (the
    /// problem's domain, to a relative 1e-12 of its width; the ends are then set to a, b).
    pub fn from_edges_on(a: f64, b: f64, mut edges: Vec<f64>, origin: &str) -> Result<Self> {
        let tol = 1e-12 * (b - a).abs();
        if let (Some(&first), Some(&last)) = (edges.first(), edges.last()) {
            if (first - a).abs() > tol || (last - b).abs() > tol {
                return Err(Error::invalid(
                    "grid edges",
                    format!("[{first}, {last}]"),
                    format!("must span the problem's domain [{a}, {b}]"),
                )
                .with_origin(origin));
            }
            let n = edges.len() - 1;
            edges[0] = a;
            edges[n] = b;
        }
        Grid::from_edges(edges, origin)
    }

    /// Whether the cells are uniform (no stored edges).
    pub fn is_uniform(&self) -> bool {
        self.edges.is_none()
    }

    /// The common cell width of a uniform grid; `None` for a grid given by edges.
    pub fn uniform_h(&self) -> Option<f64> {
        match self.edges {
            None => Some((self.b - self.a) / self.n as f64),
            Some(_) => None,
        }
    }

    /// Width h_i of cell `i`.
    #[inline]
    pub fn width(&self, i: usize) -> f64 {
        match &self.edges {
            None => (self.b - self.a) / self.n as f64,
            Some(e) => e[i + 1] - e[i],
        }
    }

    /// All cell widths.
    pub fn widths(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.width(i)).collect()
    }

    /// Centre of cell `i`.
    #[inline]
    pub fn centre(&self, i: usize) -> f64 {
        match &self.edges {
            None => self.a + (i as f64 + 0.5) * (self.b - self.a) / self.n as f64,
            Some(e) => 0.5 * (e[i] + e[i + 1]),
        }
    }

    /// Position of face `i` (0 ..= n).
    #[inline]
    pub fn face(&self, i: usize) -> f64 {
        match &self.edges {
            None => self.a + i as f64 * (self.b - self.a) / self.n as f64,
            Some(e) => e[i],
        }
    }

    /// All cell centres.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.centre(i)).collect()
    }

    /// All n + 1 faces.
    pub fn faces(&self) -> Vec<f64> {
        (0..=self.n).map(|i| self.face(i)).collect()
    }

    /// Mass Σ h_i P_i of cell averages `p`.
    pub fn mass(&self, p: &[f64]) -> f64 {
        match self.uniform_h() {
            Some(h) => p.iter().sum::<f64>() * h,
            None => p.iter().enumerate().map(|(i, v)| v * self.width(i)).sum(),
        }
    }

    /// The cell containing `x` (clamped to 0 ..= n − 1 outside [a, b]).
    pub fn locate(&self, x: f64) -> usize {
        match &self.edges {
            None => {
                let s = (x - self.a) / (self.b - self.a) * self.n as f64;
                if s.is_nan() || s <= 0.0 {
                    0
                } else {
                    (s as usize).min(self.n - 1)
                }
            }
            Some(e) => e.partition_point(|&f| f <= x).clamp(1, self.n) - 1,
        }
    }

    /// Fraction of cell `i` lying inside [lo, hi] (piecewise-constant reconstruction).
    pub fn overlap(&self, i: usize, lo: f64, hi: f64) -> f64 {
        let (l, r) = (self.face(i), self.face(i + 1));
        ((hi.min(r) - lo.max(l)) / (r - l)).clamp(0.0, 1.0)
    }

    /// The grid with every cell split in two at its centre (2n cells; a uniform grid
    /// stays uniform).
    pub fn refined(&self) -> Result<Grid> {
        match &self.edges {
            None => Grid::new(self.a, self.b, 2 * self.n),
            Some(e) => {
                let mut out = Vec::with_capacity(2 * self.n + 1);
                for i in 0..self.n {
                    out.push(e[i]);
                    out.push(0.5 * (e[i] + e[i + 1]));
                }
                out.push(e[self.n]);
                Grid::from_edges(out, "refined grid")
            }
        }
    }

    /// (index, width) of the smallest and of the largest cell.
    pub fn extreme_cells(&self) -> ((usize, f64), (usize, f64)) {
        let (mut lo, mut hi) = ((0, self.width(0)), (0, self.width(0)));
        for i in 1..self.n {
            let h = self.width(i);
            if h < lo.1 {
                lo = (i, h);
            }
            if h > hi.1 {
                hi = (i, h);
            }
        }
        (lo, hi)
    }

    /// Short description: `uniform` or `edges`.
    pub fn kind(&self) -> &'static str {
        if self.is_uniform() {
            "uniform"
        } else {
            "edges"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_validated_and_round_trip() {
        assert!(Grid::from_edges(vec![0.0, 1.0, 2.0], "t").is_err());
        assert!(Grid::from_edges(vec![0.0, 1.0, 1.0, 2.0], "t").is_err());
        assert!(Grid::from_edges(vec![0.0, 1.0, f64::NAN, 2.0], "t").is_err());
        let g = Grid::from_edges(vec![0.0, 0.1, 0.5, 2.0], "t").unwrap();
        assert_eq!((g.a, g.b, g.n), (0.0, 2.0, 3));
        assert_eq!(g.locate(0.3), 1);
        assert_eq!(g.locate(-1.0), 0);
        assert_eq!(g.locate(5.0), 2);
        assert!((g.mass(&[1.0, 1.0, 1.0]) - 2.0).abs() < 1e-15);
        let s = serde_json::to_string(&g).unwrap();
        let back: Grid = serde_json::from_str(&s).unwrap();
        assert_eq!(back, g);
        let u = Grid::new(0.0, 1.0, 4).unwrap();
        let back: Grid = serde_json::from_str(&serde_json::to_string(&u).unwrap()).unwrap();
        assert_eq!(back, u);
        assert_eq!(u.locate(0.26), 1);
        let r = g.refined().unwrap();
        assert_eq!(r.n, 6);
        assert!((r.face(1) - 0.05).abs() < 1e-15);
    }
}
