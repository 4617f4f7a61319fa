//! Fixed-step TR-BDF2 (Bank, Coughran, Fichtner, Grosse, Rose & Smith, IEEE Trans.
//! Electron Devices 32 (1985) 1992–2007; Hosea & Shampine, Appl. Numer. Math. 20
//! (1996) 21–37) for dP/dt = A P.
//!
//! One step of length h is a trapezoidal stage to t + γh followed by a BDF2 stage
//! through t, t + γh and t + h:
//!
//!   (I − (γh/2) A) P_γ = (I + (γh/2) A) P_n,
//!   (I − d h A) P_{n+1} = [P_γ − (1 − γ)² P_n] / (γ (2 − γ)),   d = (1 − γ)/(2 − γ).
//!
//! With γ = 2 − √2 the two implicit matrices coincide, γ/2 = (1 − γ)/(2 − γ) =
//! 1 − 1/√2 = d, so a step costs one product A·P and two substitutions with a single
//! tridiagonal factorisation of I − d h A, computed once per distinct step length (the
//! main step and the shorter remainder before a stop) and reused.
//!
//! Order 2, L-stable (the stability function R(z) = [1 + (1 − 2d) z]/(1 − d z)² tends to
//! 0 as z → −∞), so stiff modes are damped rather than reflected as by
//! Crank–Nicolson. Not positivity preserving: the trapezoidal stage multiplies by
//! I + d h A, whose diagonal 1 + d h A_ii turns negative once h > 1/(d max|A_ii|), and
//! the BDF2 combination subtracts (1 − γ)² P_n. Each stage keeps 1ᵀP (the columns of A
//! sum to zero, and the BDF2 weights 1/(γ(2 − γ)) − (1 − γ)²/(γ(2 − γ)) sum to one), so
//! mass is conserved to rounding.
//!
//! Under a schedule (A(t), [`TimeOperator`]) the stages use A(t) on the explicit side,
//! A(t + γh) and A(t + h) on the implicit sides: two factorisations per step while
//! A changes, still one while it does not (a step decay between its steps).

use super::{check_len, Stepper, TimeOperator};
use crate::error::Result;
use crate::space::linalg::ShiftedLu;
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

/// γ = 2 − √2: the fraction of the step taken by the trapezoidal stage.
pub const GAMMA: f64 = 2.0 - std::f64::consts::SQRT_2;

/// d = γ/2 = (1 − γ)/(2 − γ) = 1 − 1/√2: the implicit coefficient of both stages.
pub const DIAG: f64 = 1.0 - std::f64::consts::FRAC_1_SQRT_2;

/// Fixed-step TR-BDF2 (implicit, order 2, L-stable, not positivity preserving).
#[derive(Clone, Debug)]
pub struct TrBdf2 {
    a: Tridiag,
    dt: f64,
    /// Factorisations of I − d h A keyed by h: the main step first, then at most one
    /// other (the remainder before a stop).
    cache: ShiftedLu,
    ap: Vec<f64>,
    p0: Vec<f64>,
    scheduled: Option<TimeOperator>,
}

impl TrBdf2 {
    /// TR-BDF2 on the operator `op` with step `dt` (validated by the scheme).
    pub fn new(op: &Operator, dt: f64) -> Self {
        TrBdf2 {
            a: op.a.clone(),
            dt,
            cache: ShiftedLu::new(1),
            ap: Vec::new(),
            p0: Vec::new(),
            scheduled: None,
        }
    }
}

impl Stepper for TrBdf2 {
    fn name(&self) -> &str {
        TrBdf2::INFO.kind
    }

    fn dt(&self) -> f64 {
        self.dt
    }

    fn start(&mut self, n: usize, stats: &mut Stats) -> Result<()> {
        check_len(n, self.a.n())?;
        self.ap = vec![0.0; n];
        self.p0 = vec![0.0; n];
        self.cache.clear();
        if self.scheduled.is_none() {
            self.cache
                .get(&self.a, DIAG * self.dt, &mut stats.factorizations)?;
        }
        Ok(())
    }

    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        let Some(top) = self.scheduled.as_mut() else {
            return self.advance(p, h, stats);
        };
        self.p0.copy_from_slice(p);
        top.apply(t, p, &mut self.ap)?;
        stats.rhs_evals += 1;
        let c = DIAG * h;
        for (x, d) in p.iter_mut().zip(&self.ap) {
            *x += c * d;
        }
        top.solve(t + GAMMA * h, c, p, stats)?;
        let s = 1.0 / (GAMMA * (2.0 - GAMMA));
        let r = (1.0 - GAMMA) * (1.0 - GAMMA) * s;
        for (x, x0) in p.iter_mut().zip(&self.p0) {
            *x = s * *x - r * x0;
        }
        top.solve(t + h, c, p, stats)
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        self.scheduled = Some(op);
        Ok(())
    }

    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        self.p0.copy_from_slice(p);
        // trapezoidal stage: (I − d h A) P_γ = P_n + d h A P_n
        self.a.apply(p, &mut self.ap);
        stats.rhs_evals += 1;
        let c = DIAG * h;
        for (x, d) in p.iter_mut().zip(&self.ap) {
            *x += c * d;
        }
        let lu = self.cache.get(&self.a, c, &mut stats.factorizations)?;
        lu.solve_in_place(p);
        // BDF2 stage: (I − d h A) P_{n+1} = [P_γ − (1 − γ)² P_n] / (γ (2 − γ))
        let s = 1.0 / (GAMMA * (2.0 - GAMMA));
        let r = (1.0 - GAMMA) * (1.0 - GAMMA) * s;
        for (x, x0) in p.iter_mut().zip(&self.p0) {
            *x = s * *x - r * x0;
        }
        lu.solve_in_place(p);
        stats.linear_solves += 2;
        Ok(())
    }
}

impl TrBdf2 {
    /// Description of fixed-step TR-BDF2 for the scheme catalogue (card
    /// `kind = "tr-bdf2"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "tr-bdf2",
        summary: "fixed-step TR-BDF2, γ = 2 − √2: trapezoidal stage to t + γ dt, BDF2 to t + dt, one factorisation of I − (1 − 1/√2) dt A reused (L-stable, conservative, not positivity preserving)",
        order: "2",
        keys: &[("dt", "default step (default 1)")],
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_stage_matrices_coincide() {
        assert!((GAMMA / 2.0 - DIAG).abs() < 2e-16);
        assert!(((1.0 - GAMMA) / (2.0 - GAMMA) - DIAG).abs() < 2e-16);
        // the BDF2 weights sum to one (conservation)
        let s = 1.0 / (GAMMA * (2.0 - GAMMA));
        assert!((s - (1.0 - GAMMA).powi(2) * s - 1.0).abs() < 1e-15);
    }

    /// On the scalar problem y' = λ y one step multiplies by the stability function
    /// R(z) = (1 + (1 − 2d) z) / (1 − d z)², z = λ h, which agrees with e^z to O(z³)
    /// and tends to 0 as z → −∞ (L-stability).
    #[test]
    fn scalar_step_is_the_stability_function() {
        let op_for = |lam: f64| {
            let mut a = Tridiag::zeros(1);
            a.diag[0] = lam;
            a
        };
        for z in [-1e-3, -0.1, -1.0, -10.0, -1e6] {
            let mut m = TrBdf2 {
                a: op_for(z),
                dt: 1.0,
                cache: ShiftedLu::new(1),
                ap: vec![],
                p0: vec![],
                scheduled: None,
            };
            let mut stats = Stats::default();
            m.start(1, &mut stats).unwrap();
            let mut y = [1.0];
            m.advance(&mut y, 1.0, &mut stats).unwrap();
            let r = (1.0 + (1.0 - 2.0 * DIAG) * z) / (1.0 - DIAG * z).powi(2);
            assert!((y[0] - r).abs() < 1e-14, "z = {z}: {} vs {r}", y[0]);
            if z.abs() < 0.2 {
                // local error O(z³)
                assert!((y[0] - z.exp()).abs() < 0.1 * z.abs().powi(3), "z = {z}");
            }
        }
        // L-stable: |R(z)| → 0
        let z: f64 = -1e6;
        let r = (1.0 + (1.0 - 2.0 * DIAG) * z) / (1.0 - DIAG * z).powi(2);
        assert!(r.abs() < 1e-5);
    }
}
