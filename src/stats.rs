//! Work counters of one run, typed and serialisable.

use serde::{Deserialize, Serialize};

/// What a run cost. The propagator counts accepted steps and its own
/// right-hand sides, factorisations, solves and (for adaptive methods) the solver's
/// internal counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Accepted time steps.
    pub steps: u64,
    /// Rejected steps (error-test or Newton failures of adaptive methods).
    pub rejected_steps: u64,
    /// Evaluations of A·P (right-hand sides), including those inside Newton iterations.
    pub rhs_evals: u64,
    /// Jacobian evaluations (A is constant: assembled once, or re-evaluated by an adaptive solver).
    pub jacobian_evals: u64,
    /// LU factorisations of an iteration matrix (I − γ dt A).
    pub factorizations: u64,
    /// Linear solves with a factorised matrix.
    pub linear_solves: u64,
    /// Newton iterations (adaptive implicit methods).
    pub newton_iterations: u64,
    /// Newton convergence failures (adaptive implicit methods).
    pub newton_failures: u64,
    /// Local error-test failures (adaptive methods).
    pub error_test_failures: u64,
    /// Other passes over a length-N vector: inner products, norms and updates of the
    /// Krylov integrator's orthogonalisation and combination (zero for other methods).
    #[serde(default)]
    pub vector_ops: u64,
}
