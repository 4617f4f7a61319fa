//! The Markov matrix of a transfer model in compressed sparse row form, and the
//! propagator that applies it once per SGD step.
//!
//! Column j of M holds the fractions of cell j's mass that one step carries to each
//! cell, so P_{t+1} = M P_t on cell averages (equal cells: masses and averages move
//! alike). Every entry is non-negative and every column sums to one with reflecting
//! walls (at most one with absorbing walls): M is column-stochastic, and a step can
//! neither create negative density nor mass. On cells of unequal widths h_i the stored
//! matrix acts on cell averages, A_ij = M_ij h_j / h_i, so that Σ_i h_i A_ij = h_j Σ_i M_ij:
//! the width-weighted column sums are the kept fractions.

use crate::error::{Error, Result};
use crate::stats::Stats;
use crate::time::{check_len, Stepper};

/// A sparse Markov matrix in compressed sparse row form: y = M x moves cell masses.
///
/// Row i holds the fractions of each source cell's mass that land in cell i; every
/// column sums to one with reflecting walls (at most one with absorbing walls), and
/// every stored entry is positive.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkovMatrix {
    n: usize,
    row_ptr: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
}

impl MarkovMatrix {
    /// Build from columns: `columns[j]` lists (row, value) with rows ascending. Entries
    /// that are exactly zero (a Gaussian tail that underflowed) are not transitions and
    /// are not stored (a negative one would be a bug, and is kept for the tests to see).
    pub(super) fn from_columns(n: usize, columns: &[Vec<(u32, f64)>]) -> MarkovMatrix {
        let mut count = vec![0usize; n + 1];
        for c in columns {
            for &(i, _) in c.iter().filter(|e| e.1.abs() > 0.0) {
                count[i as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let nnz = count[n];
        let mut next = count.clone();
        let mut col = vec![0u32; nnz];
        let mut val = vec![0.0; nnz];
        for (j, c) in columns.iter().enumerate() {
            for &(i, v) in c.iter().filter(|e| e.1.abs() > 0.0) {
                let k = next[i as usize];
                col[k] = j as u32;
                val[k] = v;
                next[i as usize] += 1;
            }
        }
        MarkovMatrix {
            n,
            row_ptr: count,
            col,
            val,
        }
    }

    /// Build from columns of cell-mass fractions on cells of the given widths: the
    /// stored entry is M_ij h_j / h_i, the same step on cell averages.
    pub(super) fn from_mass_columns(widths: &[f64], columns: &[Vec<(u32, f64)>]) -> MarkovMatrix {
        let scaled: Vec<Vec<(u32, f64)>> = columns
            .iter()
            .enumerate()
            .map(|(j, c)| {
                c.iter()
                    .map(|&(i, v)| (i, v * widths[j] / widths[i as usize]))
                    .collect()
            })
            .collect();
        MarkovMatrix::from_columns(widths.len(), &scaled)
    }

    /// Size n (the number of cells).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.val.len()
    }

    /// y = M x (one step of the chain on cell averages or cell masses).
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        for (i, yi) in y.iter_mut().enumerate().take(self.n) {
            let (s, e) = (self.row_ptr[i], self.row_ptr[i + 1]);
            let mut acc = 0.0;
            for k in s..e {
                acc += self.val[k] * x[self.col[k] as usize];
            }
            *yi = acc;
        }
    }

    /// Sum of each column (on a uniform grid, the fraction of each cell's mass that stays
    /// in the domain; on graded cells see [`super::Transfer::kept_fractions`]).
    pub fn column_sums(&self) -> Vec<f64> {
        let mut s = vec![0.0; self.n];
        for (c, v) in self.col.iter().zip(&self.val) {
            s[*c as usize] += v;
        }
        s
    }

    /// Smallest stored entry (+∞ for an empty matrix).
    pub fn min_entry(&self) -> f64 {
        self.val.iter().cloned().fold(f64::INFINITY, f64::min)
    }

    /// Entries of row `i` as (column, value).
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (s, e) = (self.row_ptr[i], self.row_ptr[i + 1]);
        self.col[s..e]
            .iter()
            .zip(&self.val[s..e])
            .map(|(c, v)| (*c as usize, *v))
    }
}

/// The transfer models' time stepper: one matrix–vector product P ← M P per SGD step
/// (name `markov-step`, step 1). Stop times must be whole numbers of steps from t0.
#[derive(Clone, Debug)]
pub struct MarkovStep {
    matrix: MarkovMatrix,
    next: Vec<f64>,
}

impl MarkovStep {
    /// The stepper of `matrix`.
    pub fn new(matrix: MarkovMatrix) -> Self {
        MarkovStep {
            matrix,
            next: vec![],
        }
    }

    /// The matrix it applies.
    pub fn matrix(&self) -> &MarkovMatrix {
        &self.matrix
    }
}

impl Stepper for MarkovStep {
    fn name(&self) -> &str {
        "markov-step"
    }

    fn dt(&self) -> f64 {
        1.0
    }

    /// Counts the matrix, built once, as one Jacobian evaluation.
    fn start(&mut self, n: usize, stats: &mut Stats) -> Result<()> {
        check_len(n, self.matrix.n())?;
        self.next = vec![0.0; n];
        stats.jacobian_evals += 1;
        Ok(())
    }

    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        if (h - 1.0).abs() > 1e-9 {
            return Err(Error::invalid(
                "step",
                h,
                "a transfer model advances by whole SGD steps: stop times must be whole \
                 numbers of steps apart",
            ));
        }
        self.matrix.apply(p, &mut self.next);
        stats.rhs_evals += 1;
        p.copy_from_slice(&self.next);
        Ok(())
    }
}
