//! Time propagation of a density: dP/dt = A P with a tridiagonal A — constant, or
//! A(t) under a learning-rate or batch schedule ([`TimeOperator`]) — and the
//! discrete-time transfer models P ← M P.
//!
//! Every method sits behind one interface, [`Propagator`]: advance a density from t0
//! through an increasing list of stop times, landing exactly on each, and report every
//! accepted step and every stop to an [`Observer`], which may halt the run. Work is
//! counted into [`Stats`]. The run driver (`crate::run`) is such an observer: it owns
//! the snapshots and the monitors and never sees how the steps are taken.
//!
//! Fixed-step methods — forward Euler, the θ-method, TR-BDF2 and the Ulam Markov step
//! of the transfer models — only say how to take one step ([`Stepper`]); the one loop that
//! walks them through the stop times, taking `dt` or the remainder before a stop, is
//! [`Stepper`]'s blanket [`Propagator`] implementation. The variable-step TR-BDF2
//! ([`AdaptiveTrBdf2`]), the adaptive method of lines ([`Mol`]) and the Krylov
//! exponential integrator ([`Krylov`]) implement [`Propagator`] themselves: they choose
//! their own steps.

mod adaptive_trbdf2;
mod exponential;
mod forward_euler;
mod krylov;
mod mol;
mod schedule;
mod theta;
pub mod transfer;
mod trbdf2;
pub mod two;

pub use adaptive_trbdf2::{w1_norm, AdaptiveTrBdf2, DEFAULT_TOL as DEFAULT_TRBDF2_TOL};
pub use exponential::{Approximation, ExpOrigin, Rational, RationalExp, MAX_TALBOT_DEGREE};
pub use forward_euler::ForwardEuler;
pub use krylov::{Krylov, DEFAULT_KRYLOV_DIM, MAX_KRYLOV_DIM};
pub use mol::{Mol, MolMethod, DEFAULT_MAX_STEPS, MAX_NEWTON_FAILS_PER_STEP};
pub use schedule::TimeOperator;
pub use theta::Theta;
pub use trbdf2::TrBdf2;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::stats::Stats;

/// What an [`Observer`] wants after seeing a step or a stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// End the propagation now; the density stays as it was reported.
    Halt,
}

/// Watches a propagation: every accepted step, then every stop time reached.
///
/// Both methods see the density after the step and the work counted so far, with
/// `stats.steps` already including the step.
pub trait Observer {
    /// An accepted step ended at time `t` with density `p` (default: go on).
    fn step(&mut self, t: f64, p: &[f64], stats: &Stats) -> Flow {
        let _ = (t, p, stats);
        Flow::Continue
    }
    /// The density reached the stop time `t` exactly (after that stop's last step).
    fn stop(&mut self, t: f64, p: &[f64], stats: &Stats) -> Flow;
}

/// Advances a density through a list of stop times.
pub trait Propagator: Send {
    /// Name, e.g. `forward-euler`, `bdf`, `markov-step`.
    fn name(&self) -> &str;

    /// Advance `p` from time `t0` through each of `stops` (non-decreasing, none before
    /// `t0`), landing exactly on each: report each accepted step to
    /// [`Observer::step`] and each stop to [`Observer::stop`] (a stop equal to the
    /// current time is reported without stepping), counting steps and work into
    /// `stats`. Returns the time reached: the last stop, or the time of the step or
    /// stop at which the observer halted (`p` then holds that density).
    ///
    /// Errors: bad stop times or a density of the wrong length, and failures of the
    /// method (a singular factorisation, an adaptive solver giving up); `p` then holds
    /// the last reported density or a later partial one, and `stats` the work done.
    fn propagate(
        &mut self,
        p: &mut [f64],
        t0: f64,
        stops: &[f64],
        observer: &mut dyn Observer,
        stats: &mut Stats,
    ) -> Result<f64>;

    /// Follow a time-dependent operator A(t) (a problem with a learning-rate or batch
    /// schedule) instead of the constant A it was built with. Default: refused, naming
    /// the integrator.
    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        let _ = op;
        Err(constant_only(self.name()))
    }
}

/// The error of an integrator that cannot follow a schedule.
fn constant_only(name: &str) -> Error {
    Error::invalid(
        "integrator",
        name,
        "it assumes a constant operator A and cannot follow a learning-rate or batch \
         schedule: use a forward-euler, theta, tr-bdf2, tr-bdf2-adaptive, mol, rational-exp \
         or krylov card",
    )
}

/// A fixed-step method: one step of length `h` at a time. Every `Stepper` is a
/// [`Propagator`] through the shared loop, which takes steps of [`Stepper::dt`] and
/// shortens the last one before each stop time ([`fixed_step`]).
pub trait Stepper: Send {
    /// Name, e.g. `forward-euler`.
    fn name(&self) -> &str;
    /// The step length between stop times.
    fn dt(&self) -> f64;
    /// Prepare a run on densities of length `n` (allocate, factorise); called once at
    /// the start of every propagation. Default: nothing to prepare.
    fn start(&mut self, n: usize, stats: &mut Stats) -> Result<()> {
        let _ = (n, stats);
        Ok(())
    }
    /// Advance `p` by one step of length `h` (`dt`, or the shorter remainder before a
    /// stop), counting the work into `stats` (not the step itself: the loop counts it).
    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()>;
    /// Advance `p` by one step of length `h` from time `t`; the shared loop calls this.
    /// Default: [`Stepper::advance`] (a method whose operator does not depend on t).
    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        let _ = t;
        self.advance(p, h, stats)
    }
    /// Follow a time-dependent operator A(t) (see [`Propagator::schedule`]); default:
    /// refused.
    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        let _ = op;
        Err(constant_only(Stepper::name(self)))
    }
}

impl<S: Stepper> Propagator for S {
    fn name(&self) -> &str {
        Stepper::name(self)
    }

    fn propagate(
        &mut self,
        p: &mut [f64],
        t0: f64,
        stops: &[f64],
        observer: &mut dyn Observer,
        stats: &mut Stats,
    ) -> Result<f64> {
        check_stops(t0, stops)?;
        self.start(p.len(), stats)?;
        let dt = self.dt();
        let mut t = t0;
        for &stop in stops {
            while t < stop {
                let (h, t_new) = fixed_step(dt, t, stop);
                if t_new <= t {
                    return Err(Error::invalid(
                        "dt",
                        crate::error::num(dt),
                        format!(
                            "a step of this size cannot advance t = {}",
                            crate::error::num(t)
                        ),
                    ));
                }
                self.advance_at(p, t, h, stats)?;
                stats.steps += 1;
                t = t_new;
                if observer.step(t, p, stats) == Flow::Halt {
                    return Ok(t);
                }
            }
            if observer.stop(t, p, stats) == Flow::Halt {
                return Ok(t);
            }
        }
        Ok(t)
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        Stepper::schedule(self, op)
    }
}

/// The step a fixed-step method takes from `t` toward `t_stop`: `dt`, or the remainder
/// when it is within a relative 1e-9 of `dt` or shorter. Returns (step, new time); the
/// new time is `t_stop` exactly when the step reaches it.
pub fn fixed_step(dt: f64, t: f64, t_stop: f64) -> (f64, f64) {
    let rem = t_stop - t;
    if rem <= dt * (1.0 + 1e-9) {
        (rem, t_stop)
    } else {
        (dt, t + dt)
    }
}

/// Check a propagation's times: `t0` finite, stop times finite, non-decreasing and not
/// before `t0`.
pub fn check_stops(t0: f64, stops: &[f64]) -> Result<()> {
    crate::error::finite("t0", t0)?;
    let mut prev = t0;
    for &s in stops {
        if !(s.is_finite() && s >= prev) {
            return Err(Error::invalid(
                "stop time",
                s,
                format!(
                    "stop times must be finite and non-decreasing from t0 = {t0} (previous {prev})"
                ),
            ));
        }
        prev = s;
    }
    Ok(())
}

/// An error unless a density of length `len` fits an operator of size `n`.
pub fn check_len(len: usize, n: usize) -> Result<()> {
    if len == n {
        Ok(())
    } else {
        Err(Error::invalid(
            "density length",
            len,
            format!("must equal the operator's size {n}"),
        ))
    }
}

/// Description of one integrator family (one per file of this module), for the
/// catalogue's tables and the documentation of the card format.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct IntegratorInfo {
    /// The card's `kind` value.
    pub kind: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Order in time.
    pub order: &'static str,
    /// The card keys besides `kind`: (key, meaning and default).
    pub keys: &'static [(&'static str, &'static str)],
}
