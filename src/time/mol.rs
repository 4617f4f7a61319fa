//! Method of lines over diffsol's adaptive integrators: BDF, TR-BDF2, ESDIRK34 and,
//! for contrast, the explicit Tsit45.
//!
//! The spatial discretisation has already turned the Fokker–Planck equation into the
//! linear system dP/dt = A P with a constant tridiagonal A; here diffsol (Robinson et
//! al., "diffsol", JOSS 2024) advances it with local error control, ‖err‖ ≤ 1 in the
//! weighted norm with weights rtol·|P_i| + atol. The methods:
//!
//! - `bdf`: variable-order (1–5), variable-step backward differentiation formulas in
//!   the NDF variant of Shampine & Reichelt (1997) used by ode15s and SciPy's `BDF`,
//!   with Newton iterations on I − h γ A;
//! - `tr-bdf2`: the L-stable, order-2 SDIRK method of Bank et al. (1985) /
//!   Hosea & Shampine (1996);
//! - `esdirk34`: the order-3 ESDIRK method of Jørgensen, Kristensen & Thomsen (2018);
//! - `tsit45`: Tsitouras' (2011) explicit Runge–Kutta 5(4) pair, limited by stability
//!   to steps near the explicit limit — the contrast that shows why stiff methods pay.
//!
//! The Jacobian is A itself, supplied exactly as a sparse (CSC, 3N − 2 entries) faer
//! matrix, so the Newton iterations converge in one step with a current matrix and no
//! dense N × N matrix is ever formed; the LU factorisations are faer's sparse LU.
//! Mass is conserved to rounding by every method here: 1ᵀA = 0 and every stage and
//! Newton update is a combination of A times vectors, so 1ᵀP is untouched even when
//! Newton is stopped early. Positivity is not guaranteed by any of them.
//!
//! # How the stepping works
//!
//! A diffsol solver borrows its problem, so both live on the stack of one
//! [`Propagator::propagate`] call: build the problem and the solver, then for each stop
//! time hand it to diffsol (`set_stop_time`, so every stop lands exactly on the
//! caller's time, never interpolated) and step until it is reached, reporting each of
//! diffsol's accepted steps to the observer with diffsol's counters added to [`Stats`].
//! A panic inside diffsol ends the call as a solver failure instead of unwinding into
//! the caller (the default panic hook still writes its message to stderr).
//!
//! Failures — step size below diffsol's minimum (1e-13), more than
//! [`MAX_NEWTON_FAILS_PER_STEP`] Newton failures or diffsol's 40 error-test failures in
//! one step, or more than [`Mol::max_steps`] steps in one call — end the call with
//! [`Error::SolverFailed`] carrying the time reached and the reason.
//!
//! # Under a schedule
//!
//! With a learning-rate or batch schedule the system is dP/dt = A(t) P: the
//! right-hand side and the Jacobian at (t, P) are A(t) P and A(t), re-assembled from
//! the cached face data by [`TimeOperator`] whenever (T(t), B(t)) changes (every call
//! for a smooth schedule, once per decay for a step decay); the sparsity is the same.
//! The integrators' error control sees the time dependence through the right-hand
//! side; the Jacobian diffsol holds may be that of an earlier time, which costs extra
//! Newton iterations, not accuracy. A(t) is not smooth at the schedule's breakpoints
//! ([`TimeOperator::breakpoints`]: the decays of a step schedule, the ends of a warm-up
//! and of a cosine period, the jumps of the rounded batch size), so the run is split
//! there: the solver lands on each breakpoint exactly (a step, not a reported stop),
//! and a fresh solver restarts from it at order one with its own first step, so no
//! multistep history or error estimate straddles a jump. Within a segment A is
//! evaluated as the limit from the left at the segment's end. Mass stays conserved to
//! rounding (every A(t) has zero column sums).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use diffsol::error::OdeSolverError;
use diffsol::op::OpStatistics;
use diffsol::{
    ConstantOp, DiffsolError, FaerContext, FaerSparseLU, FaerSparseMat, FaerVec, Matrix,
    NonLinearOp, NonLinearOpJacobian, OdeBuilder, OdeEquations, OdeEquationsRef, OdeSolverMethod,
    OdeSolverStopReason, Op, ParameterisedOp, UnitCallable, Vector,
};

use super::{check_len, check_stops, Flow, Observer, Propagator, TimeOperator};
use crate::error::{Error, Result};
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

type M = FaerSparseMat<f64>;
type Ls = FaerSparseLU<f64>;

/// Default of [`Mol::max_steps`]: 2 million accepted steps. Tsit45 on the seed problem
/// at 1200 cells needs 0.65 million steps (about 16 s) to reach t = 1000 and finishes;
/// its step is held near the explicit limit, which shrinks like h², so at 2400 cells it
/// would need 2.6 million and ends after about two minutes as "too many steps" instead
/// of running on for many minutes. The implicit methods need thousands of steps, not
/// millions.
pub const DEFAULT_MAX_STEPS: u64 = 2_000_000;

/// Newton convergence failures allowed within one step before the run fails (as
/// CVODE's default `maxncf`). diffsol's own limit counts failures over the whole run,
/// which would end long runs that recovered from each one; it is re-armed every step.
pub const MAX_NEWTON_FAILS_PER_STEP: usize = 10;

/// The adaptive integrators available through diffsol, with their properties (the
/// `method` key of a card's `[integrator]` table with `kind = "mol"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MolMethod {
    /// Variable-order BDF (implicit, orders 1–5, variable step; not positive).
    Bdf,
    /// TR-BDF2 (implicit SDIRK, order 2, L-stable; not positive).
    TrBdf2,
    /// ESDIRK34 (implicit, order 3, L-stable; not positive).
    Esdirk34,
    /// Tsitouras 5(4) (explicit Runge–Kutta, order 5; step limited by stability).
    Tsit45,
}

impl MolMethod {
    /// All methods, in catalogue order.
    pub const ALL: [MolMethod; 4] = [
        MolMethod::Bdf,
        MolMethod::TrBdf2,
        MolMethod::Esdirk34,
        MolMethod::Tsit45,
    ];

    /// Registry name (`bdf`, `tr-bdf2`, `esdirk34`, `tsit45`).
    pub fn name(self) -> &'static str {
        match self {
            MolMethod::Bdf => "bdf",
            MolMethod::TrBdf2 => "tr-bdf2",
            MolMethod::Esdirk34 => "esdirk34",
            MolMethod::Tsit45 => "tsit45",
        }
    }

    /// Display name, e.g. `TR-BDF2`.
    pub fn label(self) -> &'static str {
        match self {
            MolMethod::Bdf => "variable-order BDF",
            MolMethod::TrBdf2 => "TR-BDF2",
            MolMethod::Esdirk34 => "ESDIRK34",
            MolMethod::Tsit45 => "Tsit45",
        }
    }

    /// Order of the propagated solution (for BDF the largest order it selects).
    pub fn order(self) -> usize {
        match self {
            MolMethod::Bdf => 5,
            MolMethod::TrBdf2 => 2,
            MolMethod::Esdirk34 => 3,
            MolMethod::Tsit45 => 5,
        }
    }

    /// Whether the method solves linear systems (and so is not step-limited by stiffness).
    pub fn implicit(self) -> bool {
        !matches!(self, MolMethod::Tsit45)
    }

    /// The method of a registry name.
    pub fn from_name(name: &str) -> Result<MolMethod> {
        MolMethod::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "method-of-lines integrator".into(),
                name: name.into(),
                known: MolMethod::ALL.map(|m| m.name()).join(", "),
            })
    }
}

/// Method of lines over diffsol (adaptive; implicit BDF / TR-BDF2 / ESDIRK34 of order
/// 1–5 / 2 / 3, or explicit Tsit45 of order 5; conservative, not positive).
#[derive(Clone, Debug)]
pub struct Mol {
    a: Tridiag,
    method: MolMethod,
    rtol: f64,
    atol: f64,
    max_steps: u64,
    /// A(t) under a schedule (`None`: the constant `a`).
    scheduled: Option<TimeOperator>,
}

impl Mol {
    /// A method-of-lines integrator on the operator `op` by method name (`bdf`,
    /// `tr-bdf2`, `esdirk34`, `tsit45`) and tolerances (both finite and > 0), with at
    /// most `DEFAULT_MAX_STEPS` (2 million) steps per propagation.
    pub fn new(op: &Operator, method: &str, rtol: f64, atol: f64) -> Result<Self> {
        Ok(Mol {
            a: op.a.clone(),
            method: MolMethod::from_name(method)?,
            rtol: crate::error::positive("rtol", rtol)?,
            atol: crate::error::positive("atol", atol)?,
            max_steps: DEFAULT_MAX_STEPS,
            scheduled: None,
        })
    }

    /// The same integrator with at most `max_steps` (≥ 1) accepted steps per
    /// propagation; the step after the last ends it with the reason "too many steps".
    pub fn with_max_steps(mut self, max_steps: u64) -> Result<Self> {
        if max_steps == 0 {
            return Err(Error::invalid("max_steps", max_steps, "must be at least 1"));
        }
        self.max_steps = max_steps;
        Ok(self)
    }

    /// The method.
    pub fn method(&self) -> MolMethod {
        self.method
    }

    /// Largest number of accepted steps per propagation (default `DEFAULT_MAX_STEPS`,
    /// 2 million).
    pub fn max_steps(&self) -> u64 {
        self.max_steps
    }
}

impl Propagator for Mol {
    fn name(&self) -> &str {
        self.method.name()
    }

    fn propagate(
        &mut self,
        p: &mut [f64],
        t0: f64,
        stops: &[f64],
        observer: &mut dyn Observer,
        stats: &mut Stats,
    ) -> Result<f64> {
        check_len(p.len(), self.a.n())?;
        check_stops(t0, stops)?;
        let last = stops.last().copied().unwrap_or(t0);
        let (sched, breaks) = match self.scheduled.take() {
            Some(mut top) => {
                // the first assembly samples the face data and checks it
                if let Err(e) = top.at(t0) {
                    self.scheduled = Some(top);
                    return Err(e);
                }
                let breaks = top.breakpoints(t0, last);
                (Some(Rc::new(RefCell::new(top))), breaks)
            }
            None => (None, Vec::new()),
        };
        let mut call = Call {
            p,
            t: t0,
            observer,
            stats,
            counters: Counters::default(),
            method: self.method,
            max_steps: self.max_steps,
            halted: false,
        };
        let result = self.segments(&mut call, sched.as_ref(), t0, stops, &breaks);
        if let Some(rc) = sched {
            // keep the operator's caches (face data, last A) for the next propagation
            self.scheduled =
                Some(Rc::try_unwrap(rc).map_or_else(|rc| rc.borrow().clone(), RefCell::into_inner));
        }
        result
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        self.scheduled = Some(op);
        Ok(())
    }
}

/// A(t) shared by the equations of every segment of one propagation.
type Shared = Rc<RefCell<TimeOperator>>;

impl Mol {
    /// Split `stops` at the breakpoints `breaks` (each strictly inside the span) and run
    /// one fresh solver per segment; a breakpoint that is not a stop is landed on
    /// without being reported.
    fn segments(
        &self,
        call: &mut Call<'_>,
        sched: Option<&Shared>,
        t0: f64,
        stops: &[f64],
        breaks: &[f64],
    ) -> Result<f64> {
        let last = stops.last().copied().unwrap_or(t0);
        let (mut start, mut next) = (t0, 0);
        for k in 0..=breaks.len() {
            let end = breaks.get(k).copied().unwrap_or(last);
            let mut seg: Vec<(f64, bool)> = Vec::new();
            while next < stops.len() && (k == breaks.len() || stops[next] <= end) {
                seg.push((stops[next], true));
                next += 1;
            }
            if seg.last().is_none_or(|s| s.0 < end) {
                seg.push((end, false));
            }
            let t = self.segment(call, sched, start, end, &seg)?;
            if call.halted {
                return Ok(t);
            }
            start = end;
        }
        Ok(call.t)
    }

    /// One diffsol solver from `start` (the density in `call`) through `stops`, all in
    /// [start, end] with A(t) continuous on [start, end).
    fn segment(
        &self,
        call: &mut Call<'_>,
        sched: Option<&Shared>,
        start: f64,
        end: f64,
        stops: &[(f64, bool)],
    ) -> Result<f64> {
        let fail = |reason: String| Error::SolverFailed { t: start, reason };
        let a = match sched {
            Some(top) => top.borrow_mut().at_within(start, end)?.clone(),
            None => self.a.clone(),
        };
        let ode = TridiagOde::new(a, call.p.to_vec(), sched.cloned(), end)
            .map_err(|e| fail(format!("could not assemble the sparse Jacobian: {e}")))?;
        let mut problem = OdeBuilder::<M>::new()
            .t0(start)
            .rtol(self.rtol)
            .atol([self.atol])
            .build_from_eqn(ode)
            .map_err(|e| fail(format!("could not build the diffsol problem: {e}")))?;
        // the per-step Newton limit is re-armed before every step (see `Call::drive`)
        problem.ode_options.max_nonlinear_solver_failures = MAX_NEWTON_FAILS_PER_STEP;
        let method = self.method;
        let created = |e: DiffsolError| {
            fail(format!(
                "could not create the {} solver: {e}",
                method.name()
            ))
        };
        call.counters = Counters::default();
        let outcome = catch_unwind(AssertUnwindSafe(|| match method {
            MolMethod::Bdf => {
                let solver = problem.bdf::<Ls>().map_err(created)?;
                call.drive(solver, stops, |s: &mut _, total| {
                    let s: &mut diffsol::Bdf<'_, TridiagOde, Ls> = s;
                    s.config_mut().maximum_newton_fails = total + MAX_NEWTON_FAILS_PER_STEP;
                })
            }
            MolMethod::TrBdf2 => {
                let solver = problem.tr_bdf2::<Ls>().map_err(created)?;
                call.drive(solver, stops, sdirk_newton_limit)
            }
            MolMethod::Esdirk34 => {
                let solver = problem.esdirk34::<Ls>().map_err(created)?;
                call.drive(solver, stops, sdirk_newton_limit)
            }
            MolMethod::Tsit45 => {
                let solver = problem.tsit45().map_err(created)?;
                call.drive(solver, stops, |_: &mut _, _| {})
            }
        }));
        let result = outcome.unwrap_or_else(|payload| {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::SolverFailed {
                t: call.t,
                reason: format!("diffsol panicked: {msg}"),
            })
        });
        match problem.eqn.failed.take() {
            Some(reason) => Err(Error::SolverFailed {
                t: call.t,
                reason: format!("A(t) could not be assembled: {reason}"),
            }),
            None => result,
        }
    }
}

fn sdirk_newton_limit(s: &mut diffsol::Sdirk<'_, TridiagOde, Ls>, total: usize) {
    s.config_mut().maximum_newton_fails = total + MAX_NEWTON_FAILS_PER_STEP;
}

/// diffsol's cumulative counters at one moment (everything but accepted steps, which
/// [`Call::drive`] counts itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counters {
    error_test_failures: u64,
    newton_iterations: u64,
    newton_failures: u64,
    linear_solver_setups: u64,
    linear_solves: u64,
    rhs_calls: u64,
    jacobian_evals: u64,
}

impl Counters {
    /// The counters of `s`, a solver of `method`.
    fn of<'a, S: OdeSolverMethod<'a, TridiagOde>>(s: &S, method: MolMethod) -> Counters {
        let st = s.get_statistics();
        let op = s.problem().eqn.statistics();
        let u = |x: usize| x as u64;
        let newton_iterations = u(st.number_of_nonlinear_solver_iterations);
        // one LU solve per Newton iteration; the SDIRK methods also filter each error
        // estimate through one solve per completed step attempt (accepted or rejected
        // by the error test)
        let linear_solves = match method {
            MolMethod::Bdf => newton_iterations,
            MolMethod::TrBdf2 | MolMethod::Esdirk34 => {
                newton_iterations + u(st.number_of_steps) + u(st.number_of_error_test_failures)
            }
            MolMethod::Tsit45 => 0,
        };
        Counters {
            error_test_failures: u(st.number_of_error_test_failures),
            newton_iterations,
            newton_failures: u(st.number_of_nonlinear_solver_fails),
            linear_solver_setups: u(st.number_of_linear_solver_setups),
            linear_solves,
            rhs_calls: u(op.number_of_calls),
            jacobian_evals: u(op.number_of_matrix_evals),
        }
    }
}

/// One propagation in progress: the caller's density, observer and counters.
struct Call<'c> {
    p: &'c mut [f64],
    /// Time of the last accepted step (or t0).
    t: f64,
    observer: &'c mut dyn Observer,
    stats: &'c mut Stats,
    /// Counters already added to `stats`.
    counters: Counters,
    method: MolMethod,
    max_steps: u64,
    /// Whether the observer halted the run.
    halted: bool,
}

impl Call<'_> {
    /// Step `solver` through `stops`, reporting every accepted step and every stop
    /// marked to be reported.
    fn drive<'a, S>(
        &mut self,
        mut solver: S,
        stops: &[(f64, bool)],
        newton_limit: impl Fn(&mut S, usize),
    ) -> Result<f64>
    where
        S: OdeSolverMethod<'a, TridiagOde>,
    {
        self.account(Counters::of(&solver, self.method));
        let mut steps: u64 = 0;
        for &(stop, report) in stops {
            if self.t < stop {
                if let Err(e) = solver.set_stop_time(stop) {
                    return Err(self.fail(&solver, describe(&e)));
                }
                loop {
                    if steps >= self.max_steps {
                        let why = format!(
                            "too many steps: {steps} steps taken without reaching t = {stop} \
                             (limit Mol::max_steps = {})",
                            self.max_steps
                        );
                        return Err(self.fail(&solver, why));
                    }
                    let total = solver.get_statistics().number_of_nonlinear_solver_fails;
                    newton_limit(&mut solver, total);
                    let reached = match solver.step() {
                        Ok(OdeSolverStopReason::TstopReached) => true,
                        Ok(_) => false,
                        Err(e) => return Err(self.fail(&solver, describe(&e))),
                    };
                    steps += 1;
                    let st = solver.state();
                    for (i, x) in self.p.iter_mut().enumerate() {
                        *x = st.y[i];
                    }
                    // diffsol lands on the stop time exactly; say so bit for bit
                    self.t = if reached { stop } else { st.t };
                    self.account(Counters::of(&solver, self.method));
                    self.stats.steps += 1;
                    if self.observer.step(self.t, self.p, self.stats) == Flow::Halt {
                        self.halted = true;
                        return Ok(self.t);
                    }
                    if reached {
                        break;
                    }
                }
            }
            if report && self.observer.stop(self.t, self.p, self.stats) == Flow::Halt {
                self.halted = true;
                return Ok(self.t);
            }
        }
        Ok(self.t)
    }

    /// The error for a solver that gave up, with its work added to the counters.
    fn fail<'a, S: OdeSolverMethod<'a, TridiagOde>>(
        &mut self,
        solver: &S,
        reason: String,
    ) -> Error {
        self.account(Counters::of(solver, self.method));
        Error::SolverFailed {
            t: solver.state().t,
            reason,
        }
    }

    /// Add the counters' growth since the last report to the caller's [`Stats`].
    fn account(&mut self, c: Counters) {
        let (o, stats) = (self.counters, &mut *self.stats);
        let d = |new: u64, old: u64| new.saturating_sub(old);
        stats.error_test_failures += d(c.error_test_failures, o.error_test_failures);
        stats.newton_iterations += d(c.newton_iterations, o.newton_iterations);
        stats.newton_failures += d(c.newton_failures, o.newton_failures);
        stats.rejected_steps += d(c.error_test_failures, o.error_test_failures)
            + d(c.newton_failures, o.newton_failures);
        stats.factorizations += d(c.linear_solver_setups, o.linear_solver_setups);
        stats.linear_solves += d(c.linear_solves, o.linear_solves);
        stats.rhs_evals += d(c.rhs_calls, o.rhs_calls);
        stats.jacobian_evals += d(c.jacobian_evals, o.jacobian_evals);
        self.counters = c;
    }
}

/// A short reason for a diffsol error, followed by diffsol's own message.
fn describe(e: &DiffsolError) -> String {
    let short = match e {
        DiffsolError::OdeSolverError(OdeSolverError::StepSizeTooSmall { .. }) => {
            "step size too small".to_string()
        }
        DiffsolError::OdeSolverError(OdeSolverError::TooManyNonlinearSolverFailures { .. }) => {
            format!(
            "Newton failure: more than {MAX_NEWTON_FAILS_PER_STEP} convergence failures in one step"
        )
        }
        DiffsolError::OdeSolverError(OdeSolverError::TooManyErrorTestFailures {
            num_failures,
            ..
        }) => format!("too many error-test failures ({num_failures})"),
        _ => return format!("diffsol: {e}"),
    };
    format!("{short} (diffsol: {e})")
}

// ------------------------------------------------------- dP/dt = A P as diffsol equations

/// dP/dt = A P (or A(t) P on one segment of a schedule) for diffsol, with the exact
/// sparse Jacobian and counters of the right-hand sides and Jacobian evaluations.
struct TridiagOde {
    a: Tridiag,
    y0: Vec<f64>,
    /// A(t) under a schedule, evaluated as the limit from the left at `end`.
    sched: Option<Shared>,
    end: f64,
    /// The first failure to assemble A(t) (the right-hand side is then NaN).
    failed: RefCell<Option<String>>,
    jac: RefCell<M>,
    sparsity: <M as Matrix>::Sparsity,
    ctx: FaerContext,
    calls: Cell<usize>,
    jac_muls: Cell<usize>,
    matrix_evals: Cell<usize>,
}

impl TridiagOde {
    fn new(
        a: Tridiag,
        y0: Vec<f64>,
        sched: Option<Shared>,
        end: f64,
    ) -> std::result::Result<Self, String> {
        let n = a.n();
        let ctx = FaerContext::default();
        let mut idx = Vec::with_capacity(3 * n);
        let mut val = Vec::with_capacity(3 * n);
        // column j holds A[j−1][j] = upper[j−1], A[j][j] = diag[j], A[j+1][j] = lower[j+1]
        for j in 0..n {
            if j > 0 {
                idx.push((j - 1, j));
                val.push(a.upper[j - 1]);
            }
            idx.push((j, j));
            val.push(a.diag[j]);
            if j + 1 < n {
                idx.push((j + 1, j));
                val.push(a.lower[j + 1]);
            }
        }
        let jac = M::try_from_triplets(n, n, idx, val, ctx).map_err(|e| e.to_string())?;
        let sparsity = jac
            .sparsity()
            .ok_or_else(|| "the sparse matrix has no sparsity pattern".to_string())?
            .to_owned()
            .map_err(|e| format!("{e:?}"))?;
        Ok(TridiagOde {
            a,
            y0,
            sched,
            end,
            failed: RefCell::new(None),
            jac: RefCell::new(jac),
            sparsity,
            ctx,
            calls: Cell::new(0),
            jac_muls: Cell::new(0),
            matrix_evals: Cell::new(0),
        })
    }
}

impl TridiagOde {
    /// `f` of A(t) (the constant A without a schedule), or `None` when A(t) could not be
    /// assembled (the reason is kept in `failed`).
    fn with_a<R>(&self, t: f64, f: impl FnOnce(&Tridiag) -> R) -> Option<R> {
        let Some(top) = &self.sched else {
            return Some(f(&self.a));
        };
        let mut top = top.borrow_mut();
        match top.at_within(t, self.end) {
            Ok(a) => Some(f(a)),
            Err(e) => {
                self.failed.borrow_mut().get_or_insert(e.to_string());
                None
            }
        }
    }
}

/// The values of a tridiagonal matrix in the compressed-column order of
/// [`TridiagOde::new`]'s pattern: column j holds rows j − 1, j, j + 1.
fn csc_values(a: &Tridiag, out: &mut [f64]) {
    let n = a.n();
    let mut k = 0;
    for j in 0..n {
        if j > 0 {
            out[k] = a.upper[j - 1];
            k += 1;
        }
        out[k] = a.diag[j];
        k += 1;
        if j + 1 < n {
            out[k] = a.lower[j + 1];
            k += 1;
        }
    }
}

struct TridiagRhs<'a>(&'a TridiagOde);
struct TridiagInit<'a>(&'a TridiagOde);

macro_rules! tridiag_op {
    ($t:ty, $s:ident => $ode:expr) => {
        impl Op for $t {
            type T = f64;
            type V = FaerVec<f64>;
            type M = M;
            type C = FaerContext;
            fn context(&$s) -> &FaerContext {
                &$ode.ctx
            }
            fn nstates(&$s) -> usize {
                $ode.a.n()
            }
            fn nout(&$s) -> usize {
                $ode.a.n()
            }
            fn nparams(&$s) -> usize {
                0
            }
            fn statistics(&$s) -> OpStatistics {
                OpStatistics {
                    number_of_calls: $ode.calls.get(),
                    number_of_jac_muls: $ode.jac_muls.get(),
                    number_of_matrix_evals: $ode.matrix_evals.get(),
                    number_of_jac_adj_muls: 0,
                }
            }
        }
    };
}
tridiag_op!(TridiagOde, self => self);
tridiag_op!(TridiagRhs<'_>, self => self.0);
tridiag_op!(TridiagInit<'_>, self => self.0);

impl NonLinearOp for TridiagRhs<'_> {
    fn call_inplace(&self, x: &FaerVec<f64>, t: f64, y: &mut FaerVec<f64>) {
        let ode = self.0;
        ode.calls.set(ode.calls.get() + 1);
        let done = ode.with_a(t, |a| {
            y.for_each_batch_host([x], |y, [x], _lane| a.apply(x, y));
        });
        if done.is_none() {
            y.for_each_batch_host([], |y, [], _lane| y.fill(f64::NAN));
        }
    }
}

impl NonLinearOpJacobian for TridiagRhs<'_> {
    fn jac_mul_inplace(&self, _x: &FaerVec<f64>, t: f64, v: &FaerVec<f64>, y: &mut FaerVec<f64>) {
        let ode = self.0;
        ode.jac_muls.set(ode.jac_muls.get() + 1);
        let done = ode.with_a(t, |a| {
            y.for_each_batch_host([v], |y, [v], _lane| a.apply(v, y));
        });
        if done.is_none() {
            y.for_each_batch_host([], |y, [], _lane| y.fill(f64::NAN));
        }
    }
    fn jacobian_sparsity(&self) -> Option<<M as Matrix>::Sparsity> {
        Some(self.0.sparsity.clone())
    }
    fn jacobian_inplace(&self, _x: &FaerVec<f64>, t: f64, y: &mut M) {
        let ode = self.0;
        ode.matrix_evals.set(ode.matrix_evals.get() + 1);
        let mut jac = ode.jac.borrow_mut();
        if ode.sched.is_some() {
            // A(t) into the held pattern's values (a failure leaves the last A and is
            // reported after the segment)
            let vals = jac.inner_mut()[0].val_mut();
            ode.with_a(t, |a| csc_values(a, vals));
        }
        y.copy_from(&jac);
    }
}

impl ConstantOp for TridiagInit<'_> {
    fn call_inplace(&self, _t: f64, y: &mut FaerVec<f64>) {
        y.for_each_batch_host([], |y, [], _lane| y.copy_from_slice(&self.0.y0));
    }
}

impl<'a> OdeEquationsRef<'a> for TridiagOde {
    type Rhs = TridiagRhs<'a>;
    type Init = TridiagInit<'a>;
    type Mass = ParameterisedOp<'a, UnitCallable<M>>;
    type Root = ParameterisedOp<'a, UnitCallable<M>>;
    type Out = ParameterisedOp<'a, UnitCallable<M>>;
    type Reset = ParameterisedOp<'a, UnitCallable<M>>;
}

impl OdeEquations for TridiagOde {
    fn rhs(&self) -> TridiagRhs<'_> {
        TridiagRhs(self)
    }
    fn init(&self) -> TridiagInit<'_> {
        TridiagInit(self)
    }
    fn mass(&self) -> Option<ParameterisedOp<'_, UnitCallable<M>>> {
        None
    }
    fn root(&self) -> Option<ParameterisedOp<'_, UnitCallable<M>>> {
        None
    }
    fn out(&self) -> Option<ParameterisedOp<'_, UnitCallable<M>>> {
        None
    }
    fn set_params(&mut self, _p: &FaerVec<f64>) {}
    fn get_params(&self, _p: &mut FaerVec<f64>) {}
}

impl Mol {
    /// Description of the method of lines for the scheme catalogue (card `kind = "mol"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "mol",
        summary: "method of lines over diffsol: adaptive steps chosen by local error control against rtol/atol",
        order: "bdf 1–5, tr-bdf2 2, esdirk34 3, tsit45 5",
        keys: &[
            ("method", "bdf | tr-bdf2 | esdirk34 | tsit45 (required)"),
            ("rtol", "relative tolerance (default 1e-6)"),
            ("atol", "absolute tolerance (default 1e-9)"),
        ],
    };
}
