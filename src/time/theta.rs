//! The θ-method: (I − θ dt A) P_{k+1} = (I + (1 − θ) dt A) P_k.
//!
//! θ = ½ is Crank–Nicolson (order 2, A-stable, not L-stable: stiff modes are
//! reflected with amplification → −1, so rough data ring); θ = 1 is backward Euler
//! (order 1, L-stable, positive for an M-matrix A at any dt). Rannacher start-up
//! (Rannacher 1984) replaces the first k steps by two backward-Euler half steps each,
//! damping the stiff modes of rough initial data before Crank–Nicolson takes over.
//! A is constant, so each distinct step size is factorised once and reused. Under a
//! schedule (A(t), [`TimeOperator`]) the step is
//! (I − θ h A(t + h)) P' = (I + (1 − θ) h A(t)) P, re-factorised when A changes.

use super::{check_len, Stepper, TimeOperator};
use crate::error::Result;
use crate::space::linalg::ShiftedLu;
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

/// θ-method (implicit; order 2 at θ = ½, else 1; positive for θ = 1 with an M-matrix).
#[derive(Clone, Debug)]
pub struct Theta {
    a: Tridiag,
    theta: f64,
    dt: f64,
    rannacher_steps: usize,
    steps_taken: usize,
    /// Factorisations of I − θ' h A: the main step, Rannacher half steps and the
    /// last partial step (backward-Euler half steps of Crank–Nicolson share its matrix).
    cache: ShiftedLu,
    ap: Vec<f64>,
    scheduled: Option<TimeOperator>,
}

impl Theta {
    /// θ-method on the operator `op` with step `dt` and `rannacher_steps` start-up
    /// steps (θ, dt validated by the scheme).
    pub fn new(op: &Operator, theta: f64, dt: f64, rannacher_steps: usize) -> Self {
        Theta {
            a: op.a.clone(),
            theta,
            dt,
            rannacher_steps,
            steps_taken: 0,
            cache: ShiftedLu::new(2),
            ap: Vec::new(),
            scheduled: None,
        }
    }

    /// One θ sub-step from t to t + h with A(t) on the explicit and A(t + h) on the
    /// implicit side.
    fn scheduled_substep(
        &mut self,
        p: &mut [f64],
        theta: f64,
        t: f64,
        h: f64,
        stats: &mut Stats,
    ) -> Result<()> {
        let Some(top) = self.scheduled.as_mut() else {
            return self.substep(p, theta, h, stats);
        };
        if theta < 1.0 {
            top.apply(t, p, &mut self.ap)?;
            stats.rhs_evals += 1;
            let c = (1.0 - theta) * h;
            for (x, d) in p.iter_mut().zip(&self.ap) {
                *x += c * d;
            }
        }
        top.solve(t + h, theta * h, p, stats)
    }

    fn substep(&mut self, p: &mut [f64], theta: f64, h: f64, stats: &mut Stats) -> Result<()> {
        if theta < 1.0 {
            self.a.apply(p, &mut self.ap);
            stats.rhs_evals += 1;
            let c = (1.0 - theta) * h;
            for (x, d) in p.iter_mut().zip(&self.ap) {
                *x += c * d;
            }
        }
        let lu = self
            .cache
            .get(&self.a, theta * h, &mut stats.factorizations)?;
        lu.solve_in_place(p);
        stats.linear_solves += 1;
        Ok(())
    }
}

impl Stepper for Theta {
    fn name(&self) -> &str {
        "theta"
    }

    fn dt(&self) -> f64 {
        self.dt
    }

    fn start(&mut self, n: usize, stats: &mut Stats) -> Result<()> {
        check_len(n, self.a.n())?;
        self.ap = vec![0.0; n];
        self.steps_taken = 0;
        self.cache.clear();
        if self.scheduled.is_none() {
            self.cache
                .get(&self.a, self.theta * self.dt, &mut stats.factorizations)?;
        }
        Ok(())
    }

    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        if self.scheduled.is_none() {
            return self.advance(p, h, stats);
        }
        if self.steps_taken < self.rannacher_steps {
            self.scheduled_substep(p, 1.0, t, 0.5 * h, stats)?;
            self.scheduled_substep(p, 1.0, t + 0.5 * h, 0.5 * h, stats)?;
        } else {
            self.scheduled_substep(p, self.theta, t, h, stats)?;
        }
        self.steps_taken += 1;
        Ok(())
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        self.scheduled = Some(op);
        Ok(())
    }

    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        if self.steps_taken < self.rannacher_steps {
            self.substep(p, 1.0, 0.5 * h, stats)?;
            self.substep(p, 1.0, 0.5 * h, stats)?;
        } else {
            self.substep(p, self.theta, h, stats)?;
        }
        self.steps_taken += 1;
        Ok(())
    }
}

impl Theta {
    /// Description of the θ-method for the scheme catalogue (card `kind = "theta"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "theta",
        summary: "(I − θ dt A) P' = (I + (1 − θ) dt A) P: θ = ½ Crank–Nicolson (A-stable), θ = 1 backward Euler (L-stable, positive for an M-matrix at any dt)",
        order: "2 at θ = ½, else 1",
        keys: &[
            ("theta", "θ in [½, 1] (required)"),
            (
                "rannacher_steps",
                "start-up steps taken as two backward-Euler half steps each (default 0)",
            ),
            ("dt", "default step (default 1)"),
        ],
    };
}
