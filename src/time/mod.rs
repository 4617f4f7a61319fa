//! Time integrators for dP/dt = A P with a constant tridiagonal A.
//!
//! An integrator advances the density one step at a time toward a stop time the
//! driver gives it and never past it; the driver owns the loop, the snapshots and the
//! monitors. Fixed-step methods take their step or, for the last step before a stop
//! time, the remainder.

mod forward_euler;
mod mol;
mod theta;
pub mod transfer;

pub use forward_euler::ForwardEuler;
pub use mol::Mol;
pub use theta::Theta;

use crate::error::Result;
use crate::space::operator::Operator;
use crate::stats::Stats;

/// Advances dP/dt = A P step by step.
pub trait Integrator: Send {
    /// Name, e.g. `forward-euler`.
    fn name(&self) -> &str;
    /// Prepare for a run on `op` from density `p` at time `t0` (factorise, allocate).
    fn start(&mut self, op: &Operator, p: &[f64], t0: f64, stats: &mut Stats) -> Result<()>;
    /// Take one step from `t` toward `t_stop` (never past it); update `p` and return the
    /// new time.
    fn step(
        &mut self,
        op: &Operator,
        p: &mut [f64],
        t: f64,
        t_stop: f64,
        stats: &mut Stats,
    ) -> Result<f64>;
}

/// The step a fixed-step method takes from `t` toward `t_stop`: `dt`, or the remainder
/// when it is within a relative 1e-9 of `dt` or shorter.
pub fn fixed_step(dt: f64, t: f64, t_stop: f64) -> (f64, f64) {
    let rem = t_stop - t;
    if rem <= dt * (1.0 + 1e-9) {
        (rem, t_stop)
    } else {
        (dt, t + dt)
    }
}
