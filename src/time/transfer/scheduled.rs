//! The transfer models under a learning-rate or batch schedule: step k (from W_k to
//! W_{k+1}) applies the Markov matrix of the problem frozen at T(k), B(k).
//!
//! The matrix is rebuilt when (T(k), B(k)) changes value and the last few are kept
//! by value, so a step decay builds one matrix per level; a schedule that changes
//! every step (cosine, exponential) builds one matrix per step, each costing what the
//! constant model's one build costs.

use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::space::grid::Grid;
use crate::stats::Stats;
use crate::time::transfer::{MarkovMatrix, Transfer, TransferKind, TransferOptions};
use crate::time::{check_len, Stepper};

/// Matrices kept by value.
const KEEP: usize = 4;

/// The scheduled transfer stepper (name `markov-step`, step 1).
#[derive(Clone, Debug)]
pub struct ScheduledMarkov {
    problem: Problem,
    grid: Grid,
    kind: TransferKind,
    options: TransferOptions,
    cache: Vec<((u64, usize), MarkovMatrix)>,
    next: Vec<f64>,
    /// Number of matrices built so far.
    pub builds: u64,
}

impl ScheduledMarkov {
    /// The stepper of `kind` for `problem` (with its schedule) on `grid`.
    pub fn new(
        problem: &Problem,
        grid: Grid,
        kind: TransferKind,
        options: &TransferOptions,
    ) -> Self {
        ScheduledMarkov {
            problem: problem.clone(),
            grid,
            kind,
            options: *options,
            cache: Vec::new(),
            next: vec![],
            builds: 0,
        }
    }

    /// Keep `transfer`, already built for the problem frozen at step `k`, as that
    /// step's matrix.
    pub fn with_built(mut self, k: f64, transfer: &Transfer) -> Self {
        let frozen = self.problem.frozen_at(k);
        self.cache
            .push(((frozen.lr.to_bits(), frozen.batch), transfer.matrix.clone()));
        self.builds += 1;
        self
    }

    /// The index in the cache of the matrix of step `k`, built if needed.
    fn matrix(&mut self, k: f64, stats: &mut Stats) -> Result<usize> {
        let frozen = self.problem.frozen_at(k);
        let key = (frozen.lr.to_bits(), frozen.batch);
        if let Some(i) = self.cache.iter().position(|(c, _)| *c == key) {
            return Ok(i);
        }
        let t = Transfer::build(&frozen, self.grid.clone(), self.kind, &self.options)
            .map_err(|e| e.with_origin(&format!("the schedule at step {k}")))?;
        self.builds += 1;
        stats.jacobian_evals += 1;
        if self.cache.len() >= KEEP {
            self.cache.remove(0);
        }
        self.cache.push((key, t.matrix));
        Ok(self.cache.len() - 1)
    }
}

impl Stepper for ScheduledMarkov {
    fn name(&self) -> &str {
        "markov-step"
    }

    fn dt(&self) -> f64 {
        1.0
    }

    fn start(&mut self, n: usize, _stats: &mut Stats) -> Result<()> {
        check_len(n, self.grid.n)?;
        self.next = vec![0.0; n];
        Ok(())
    }

    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        self.advance_at(p, 0.0, h, stats)
    }

    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        if (h - 1.0).abs() > 1e-9 {
            return Err(Error::invalid(
                "step",
                h,
                "a transfer model advances by whole SGD steps: stop times must be whole \
                 numbers of steps apart",
            ));
        }
        let i = self.matrix(t.round(), stats)?;
        self.cache[i].1.apply(p, &mut self.next);
        stats.rhs_evals += 1;
        p.copy_from_slice(&self.next);
        Ok(())
    }
}
