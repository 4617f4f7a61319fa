//! The 2-D operator dP/dt = A P advanced by diffsol's BDF (Robinson et al., "diffsol",
//! JOSS 2024): variable-order (1–5), variable-step backward differentiation formulas
//! in the NDF form of Shampine and Reichelt (1997), with local error control
//! ‖err‖ ≤ 1 in the weighted norm with weights rtol·|P_i| + atol.
//!
//! The Jacobian is A itself, handed to diffsol as a sparse (CSC) faer matrix with the
//! operator's nine-point pattern, so the Newton iterations on I − hγA converge in one
//! step with a current matrix and the factorisations are faer's sparse LU; no dense
//! matrix is formed. Mass is conserved to rounding (1ᵀA = 0 with zero-flux walls, and
//! every update is a combination of A times vectors); positivity is not guaranteed.
//! A panic inside diffsol ends the call as a solver failure.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use diffsol::{
    ConstantOp, FaerContext, FaerSparseLU, FaerSparseMat, FaerVec, Matrix, NonLinearOp,
    NonLinearOpJacobian, OdeBuilder, OdeEquations, OdeEquationsRef, OdeSolverMethod,
    OdeSolverStopReason, Op, ParameterisedOp, UnitCallable, Vector,
};

use super::Stats2;
use crate::error::{Error, Result};
use crate::space::two::Operator2;

type M = FaerSparseMat<f64>;
type Ls = FaerSparseLU<f64>;

/// Most accepted BDF steps in one call before it gives up.
pub const MAX_BDF_STEPS: usize = 1_000_000;

/// Tolerances of the adaptive 2-D BDF card.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Tolerances2 {
    /// Relative tolerance (default 1e-6).
    pub rtol: f64,
    /// Absolute tolerance (default 1e-9).
    pub atol: f64,
}

impl Default for Tolerances2 {
    fn default() -> Self {
        Tolerances2 {
            rtol: 1e-6,
            atol: 1e-9,
        }
    }
}

impl Tolerances2 {
    /// Check that both tolerances are finite and > 0.
    pub fn validate(&self) -> Result<()> {
        for (what, v) in [("rtol", self.rtol), ("atol", self.atol)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidValue {
                    what: what.into(),
                    value: v.to_string(),
                    why: "must be finite and > 0".into(),
                    origin: " (2-D BDF tolerances)".into(),
                });
            }
        }
        Ok(())
    }
}

/// Advance `p` through the increasing stop times `stops` (from t = 0) with diffsol's
/// adaptive BDF; `observe(t, p)` is called at every stop (diffsol lands on each stop
/// exactly). The returned record counts accepted steps, linear-solver set-ups
/// (factorisations) and the smallest value after any accepted step.
pub fn propagate_bdf(
    op: &Operator2,
    tol: Tolerances2,
    p: &mut [f64],
    stops: &[f64],
    mut observe: impl FnMut(f64, &[f64]),
) -> Result<Stats2> {
    tol.validate()?;
    let fail = |t: f64, reason: String| Error::SolverFailed {
        t,
        reason: format!("bdf: {reason}"),
    };
    let ode = Ode2::new(op, p.to_vec()).map_err(|e| fail(0.0, e))?;
    let problem = OdeBuilder::<M>::new()
        .t0(0.0)
        .rtol(tol.rtol)
        .atol([tol.atol])
        .build_from_eqn(ode)
        .map_err(|e| fail(0.0, format!("could not build the diffsol problem: {e}")))?;
    let mut stats = Stats2 {
        min_p: p.iter().copied().fold(f64::INFINITY, f64::min),
        ..Stats2::default()
    };
    let started = Instant::now();
    let mut t_reached = 0.0;
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let mut solver = problem
            .bdf::<Ls>()
            .map_err(|e| fail(0.0, format!("could not create the solver: {e}")))?;
        for &stop in stops {
            if t_reached < stop {
                solver
                    .set_stop_time(stop)
                    .map_err(|e| fail(t_reached, format!("diffsol: {e}")))?;
                loop {
                    if stats.steps >= MAX_BDF_STEPS {
                        return Err(fail(
                            t_reached,
                            format!("more than {MAX_BDF_STEPS} steps before t = {stop}"),
                        ));
                    }
                    let reached = match solver.step() {
                        Ok(OdeSolverStopReason::TstopReached) => true,
                        Ok(_) => false,
                        Err(e) => return Err(fail(solver.state().t, format!("diffsol: {e}"))),
                    };
                    stats.steps += 1;
                    let st = solver.state();
                    for (i, x) in p.iter_mut().enumerate() {
                        *x = st.y[i];
                    }
                    t_reached = if reached { stop } else { st.t };
                    let mn = p.iter().copied().fold(f64::INFINITY, f64::min);
                    if !mn.is_finite() {
                        return Err(fail(t_reached, "the density is not finite".into()));
                    }
                    if mn < 0.0 {
                        stats.negative_steps += 1;
                    }
                    stats.min_p = stats.min_p.min(mn);
                    if reached {
                        break;
                    }
                }
            }
            observe(stop, p);
        }
        stats.factorisations = solver.get_statistics().number_of_linear_solver_setups;
        Ok(())
    }));
    stats.solve_seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(r) => r.map(|()| stats),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(fail(t_reached, format!("diffsol panicked: {msg}")))
        }
    }
}

/// dP/dt = A P for diffsol, with the exact sparse Jacobian A.
struct Ode2 {
    op: Operator2,
    y0: Vec<f64>,
    jac: M,
    sparsity: <M as Matrix>::Sparsity,
    ctx: FaerContext,
    calls: Cell<usize>,
}

impl Ode2 {
    fn new(op: &Operator2, y0: Vec<f64>) -> std::result::Result<Self, String> {
        let n = op.len();
        let ctx = FaerContext::default();
        let t = op.triplets(0.0, 1.0);
        let idx: Vec<(usize, usize)> = t.iter().map(|&(r, c, _)| (r, c)).collect();
        let val: Vec<f64> = t.iter().map(|&(_, _, v)| v).collect();
        let jac = M::try_from_triplets(n, n, idx, val, ctx)
            .map_err(|e| format!("could not assemble the sparse Jacobian: {e}"))?;
        let sparsity = jac
            .sparsity()
            .ok_or_else(|| "the sparse Jacobian has no sparsity pattern".to_string())?
            .to_owned()
            .map_err(|e| format!("{e:?}"))?;
        Ok(Ode2 {
            op: op.clone(),
            y0,
            jac,
            sparsity,
            ctx,
            calls: Cell::new(0),
        })
    }
}

struct Rhs2<'a>(&'a Ode2);
struct Init2<'a>(&'a Ode2);

macro_rules! ode2_op {
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
                $ode.op.len()
            }
            fn nout(&$s) -> usize {
                $ode.op.len()
            }
            fn nparams(&$s) -> usize {
                0
            }
        }
    };
}
ode2_op!(Ode2, self => self);
ode2_op!(Rhs2<'_>, self => self.0);
ode2_op!(Init2<'_>, self => self.0);

impl NonLinearOp for Rhs2<'_> {
    fn call_inplace(&self, x: &FaerVec<f64>, _t: f64, y: &mut FaerVec<f64>) {
        let ode = self.0;
        ode.calls.set(ode.calls.get() + 1);
        y.for_each_batch_host([x], |y, [x], _lane| ode.op.apply(x, y));
    }
}

impl NonLinearOpJacobian for Rhs2<'_> {
    fn jac_mul_inplace(&self, _x: &FaerVec<f64>, _t: f64, v: &FaerVec<f64>, y: &mut FaerVec<f64>) {
        let ode = self.0;
        y.for_each_batch_host([v], |y, [v], _lane| ode.op.apply(v, y));
    }
    fn jacobian_sparsity(&self) -> Option<<M as Matrix>::Sparsity> {
        Some(self.0.sparsity.clone())
    }
    fn jacobian_inplace(&self, _x: &FaerVec<f64>, _t: f64, y: &mut M) {
        y.copy_from(&self.0.jac);
    }
}

impl ConstantOp for Init2<'_> {
    fn call_inplace(&self, _t: f64, y: &mut FaerVec<f64>) {
        y.for_each_batch_host([], |y, [], _lane| y.copy_from_slice(&self.0.y0));
    }
}

impl<'a> OdeEquationsRef<'a> for Ode2 {
    type Rhs = Rhs2<'a>;
    type Init = Init2<'a>;
    type Mass = ParameterisedOp<'a, UnitCallable<M>>;
    type Root = ParameterisedOp<'a, UnitCallable<M>>;
    type Out = ParameterisedOp<'a, UnitCallable<M>>;
    type Reset = ParameterisedOp<'a, UnitCallable<M>>;
}

impl OdeEquations for Ode2 {
    fn rhs(&self) -> Rhs2<'_> {
        Rhs2(self)
    }
    fn init(&self) -> Init2<'_> {
        Init2(self)
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
