//! Forward Euler: P ← P + dt A P (explicit, order 1).
//!
//! With an M-matrix A it keeps P non-negative when dt ≤ 1/max|A_ii|, and its
//! amplification becomes unbounded beyond about twice that limit.

use super::{fixed_step, Integrator};
use crate::error::Result;
use crate::space::operator::Operator;
use crate::stats::Stats;

/// Forward Euler (explicit, order 1, positive below the step limit 1/max|A_ii|).
#[derive(Clone, Debug)]
pub struct ForwardEuler {
    dt: f64,
    ap: Vec<f64>,
}

impl ForwardEuler {
    /// Forward Euler with step `dt` (validated by the scheme).
    pub fn new(dt: f64) -> Self {
        ForwardEuler { dt, ap: vec![] }
    }
}

impl Integrator for ForwardEuler {
    fn name(&self) -> &str {
        "forward-euler"
    }

    fn start(&mut self, op: &Operator, _p: &[f64], _t0: f64, _stats: &mut Stats) -> Result<()> {
        self.ap = vec![0.0; op.grid.n];
        Ok(())
    }

    fn step(
        &mut self,
        op: &Operator,
        p: &mut [f64],
        t: f64,
        t_stop: f64,
        stats: &mut Stats,
    ) -> Result<f64> {
        let (h, t_new) = fixed_step(self.dt, t, t_stop);
        op.a.apply(p, &mut self.ap);
        stats.rhs_evals += 1;
        for (x, d) in p.iter_mut().zip(&self.ap) {
            *x += h * d;
        }
        Ok(t_new)
    }
}

impl ForwardEuler {
    /// Description of forward Euler for the scheme catalogue (card `kind = "forward-euler"`).
    pub const INFO: crate::scheme::IntegratorInfo = crate::scheme::IntegratorInfo {
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
