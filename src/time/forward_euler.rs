//! Forward Euler: P ← P + dt A P (explicit, order 1).
//!
//! With an M-matrix A it keeps P non-negative when dt ≤ 1/max|A_ii|, and its
//! amplification becomes unbounded beyond about twice that limit. Under a schedule
//! the step is P ← P + dt A(t) P.

use super::{check_len, Stepper, TimeOperator};
use crate::error::Result;
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

/// Forward Euler (explicit, order 1, positive below the step limit 1/max|A_ii|).
#[derive(Clone, Debug)]
pub struct ForwardEuler {
    a: Tridiag,
    dt: f64,
    ap: Vec<f64>,
    scheduled: Option<TimeOperator>,
}

impl ForwardEuler {
    /// Forward Euler on the operator `op` with step `dt` (validated by the scheme).
    pub fn new(op: &Operator, dt: f64) -> Self {
        ForwardEuler {
            a: op.a.clone(),
            dt,
            ap: vec![],
            scheduled: None,
        }
    }
}

impl Stepper for ForwardEuler {
    fn name(&self) -> &str {
        "forward-euler"
    }

    fn dt(&self) -> f64 {
        self.dt
    }

    fn start(&mut self, n: usize, _stats: &mut Stats) -> Result<()> {
        check_len(n, self.a.n())?;
        self.ap = vec![0.0; n];
        Ok(())
    }

    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        self.a.apply(p, &mut self.ap);
        stats.rhs_evals += 1;
        for (x, d) in p.iter_mut().zip(&self.ap) {
            *x += h * d;
        }
        Ok(())
    }

    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        let Some(top) = self.scheduled.as_mut() else {
            return self.advance(p, h, stats);
        };
        top.apply(t, p, &mut self.ap)?;
        stats.rhs_evals += 1;
        for (x, d) in p.iter_mut().zip(&self.ap) {
            *x += h * d;
        }
        Ok(())
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        self.scheduled = Some(op);
        Ok(())
    }
}

impl ForwardEuler {
    /// Description of forward Euler for the scheme catalogue (card `kind = "forward-euler"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "forward-euler",
        summary:
            "P ← P + dt A P: explicit, positive for an M-matrix A below the step limit 1/max|A_ii|",
        order: "1",
        keys: &[(
            "safety",
            "default step as a fraction of the explicit limit, in (0, 1] (default 0.9)",
        )],
    };
}
