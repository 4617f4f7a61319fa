//! The time-dependent operator A(t) of a problem with a learning-rate or batch schedule.
//!
//! With T(t) = T₀ m_T(t) and B(t) = round(B₀ m_B(t)) the Fokker–Planck coefficients
//! are v = −T(t) G and D = T(t)² S² f(B(t)) / 2: the drift scales as m_T and the
//! diffusion as m_T² f(t)/f₀. The fitted fluxes (Scharfetter–Gummel, Chang–Cooper)
//! are not linear in (v, D) separately — they depend on the Péclet number v h / D,
//! which changes as 1/(m_T f) — so A(t) is re-assembled face by face through the
//! flux from face data sampled once at T = √2, B = 1 (k = T² f / 2 = 1): G, S², D′
//! and ∫ G/S² dW scale exactly, D = k(t) S², v = −T(t) G, and the drift integral is
//! −T(t) ∫ G/S² dW / k(t), so no landscape is evaluated per step. The operator of the
//! last values is kept (a step-decay schedule re-assembles only when it steps down),
//! and so are the factorisations of I − c A(t) of the last two (values, c) pairs.

use std::sync::Arc;

use crate::error::Result;
use crate::model::problem::Problem;
use crate::model::schedule::Schedules;
use crate::space::flux::{FaceData, Flux};
use crate::space::grid::Grid;
use crate::space::linalg::TridiagLu;
use crate::space::operator::{FaceSet, Operator, Tridiag};
use crate::stats::Stats;

/// A(t) of one problem on one grid with one flux, re-assembled when (T(t), B(t))
/// changes value.
#[derive(Clone, Debug)]
pub struct TimeOperator {
    problem: Problem,
    grid: Grid,
    flux: Arc<dyn Flux>,
    unit: Option<FaceSet>,
    key: Option<(u64, usize)>,
    version: u64,
    a: Tridiag,
    lus: Vec<(u64, u64, TridiagLu)>,
    /// Number of assemblies so far.
    pub assemblies: u64,
}

impl TimeOperator {
    /// The scheduled operator of `problem` (its `schedule`, base `lr` and `batch`) on
    /// `grid` with `flux`.
    pub fn new(problem: &Problem, grid: Grid, flux: Box<dyn Flux>) -> Self {
        let n = grid.n;
        TimeOperator {
            problem: problem.clone(),
            grid,
            flux: Arc::from(flux),
            unit: None,
            key: None,
            version: 0,
            a: Tridiag::zeros(n),
            lus: Vec::new(),
            assemblies: 0,
        }
    }

    /// Size n.
    pub fn n(&self) -> usize {
        self.grid.n
    }

    /// (T(t), B(t)).
    pub fn values(&self, t: f64) -> (f64, usize) {
        let s = &self.problem.schedule;
        (s.lr(self.problem.lr, t), s.batch(self.problem.batch, t))
    }

    /// The problem frozen at time t: lr = T(t), batch = B(t), constant schedule.
    pub fn frozen(&self, t: f64) -> Problem {
        self.problem.frozen_at(t)
    }

    /// The full operator (with diagnostics) at time t.
    pub fn operator_at(&self, t: f64) -> Result<Operator> {
        Operator::assemble(&self.frozen(t), self.grid.clone(), self.flux.as_ref())
    }

    /// The operator with the smallest explicit step limit among the times
    /// 0, t_end/64, …, t_end and the end of a warm-up (the largest |A_ii| of the run,
    /// up to what those samples miss).
    pub fn stiffest(&self, t_end: f64) -> Result<Operator> {
        let mut times: Vec<f64> = (0..=64).map(|k| t_end * k as f64 / 64.0).collect();
        for s in [&self.problem.schedule.lr, &self.problem.schedule.batch] {
            if s.warmup > 0.0 && s.warmup < t_end {
                times.push(s.warmup);
            }
        }
        let mut best = self.operator_at(0.0)?;
        for t in times {
            let op = self.operator_at(t)?;
            if op.explicit_limit() < best.explicit_limit() {
                best = op;
            }
        }
        Ok(best)
    }

    /// A(t), re-assembled when (T(t), B(t)) differs from the last call's.
    pub fn at(&mut self, t: f64) -> Result<&Tridiag> {
        let (lr, batch) = self.values(t);
        let key = (lr.to_bits(), batch);
        if self.key != Some(key) {
            self.a = self.assemble(lr, self.frozen(t).variance_factor() * lr * lr / 2.0)?;
            self.key = Some(key);
            self.version += 1;
            self.assemblies += 1;
        }
        Ok(&self.a)
    }

    /// The face data at k = T² f / 2 = 1, T = √2, sampled on first use (which checks
    /// every coefficient and names it).
    fn unit_faces(&mut self) -> Result<&FaceSet> {
        let faces = match self.unit.take() {
            Some(f) => f,
            None => {
                let mut unit = self.problem.clone();
                unit.lr = std::f64::consts::SQRT_2;
                unit.batch = 1;
                unit.sampling = crate::model::problem::Sampling::WithReplacement;
                unit.schedule = Schedules::default();
                FaceSet::sample(&unit, &self.grid, self.flux.wants_drift_integral())?
            }
        };
        Ok(self.unit.insert(faces))
    }

    /// A at learning rate `lr` and diffusion factor k = lr² f / 2, from the unit face
    /// data scaled exactly (the operator's own face loop, [`FaceSet::matrix`]).
    fn assemble(&mut self, lr: f64, k: f64) -> Result<Tridiag> {
        let absorbing = self.problem.boundary == crate::model::problem::Boundary::Absorbing;
        let flux = Arc::clone(&self.flux);
        let grid = self.grid.clone();
        let faces = self.unit_faces()?;
        let rv = lr / std::f64::consts::SQRT_2;
        let scaled = |f: &FaceData| FaceData {
            h: f.h,
            v: rv * f.v,
            d_prime: k * f.d_prime,
            d_left: k * f.d_left,
            d_right: k * f.d_right,
            d_face: k * f.d_face,
            // where D = 0 there is no integral (the fitted fluxes are upwind there)
            drift_integral: f.drift_integral.filter(|_| k > 0.0).map(|x| rv * x / k),
        };
        faces
            .matrix(&grid, flux.as_ref(), absorbing, scaled)
            .map_err(|e| e.with_origin(&format!(" (lr {lr}, D factor {k})")))
    }

    /// y = A(t) x.
    pub fn apply(&mut self, t: f64, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.at(t)?.apply(x, y);
        Ok(())
    }

    /// x ← (I − c A(t))⁻¹ x, factorising unless the factorisation of the same
    /// operator and c is held (the last two are kept).
    pub fn solve(&mut self, t: f64, c: f64, x: &mut [f64], stats: &mut Stats) -> Result<()> {
        self.at(t)?;
        let (v, cb) = (self.version, c.to_bits());
        let k = match self.lus.iter().position(|e| e.0 == v && e.1 == cb) {
            Some(k) => k,
            None => {
                let a = &self.a;
                let mut m = Tridiag::zeros(a.n());
                for i in 0..a.n() {
                    m.lower[i] = -c * a.lower[i];
                    m.diag[i] = 1.0 - c * a.diag[i];
                    m.upper[i] = -c * a.upper[i];
                }
                let lu = TridiagLu::factor(&m)?;
                stats.factorizations += 1;
                if self.lus.len() >= 2 {
                    self.lus.remove(0);
                }
                self.lus.push((v, cb, lu));
                self.lus.len() - 1
            }
        };
        self.lus[k].2.solve_in_place(x);
        stats.linear_solves += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schedule::{Schedule, Shape};

    fn seed_with(shape: Shape) -> Problem {
        let mut p = Problem::builtin("seed").unwrap();
        p.schedule.lr = Schedule::new(shape).unwrap();
        p
    }

    #[test]
    fn step_decay_reassembles_only_when_it_steps() {
        let p = seed_with(Shape::Step {
            every: 10.0,
            factor: 0.5,
        });
        let grid = Grid::new(p.a, p.b, 50).unwrap();
        let flux = crate::space::flux::by_name("scharfetter-gummel").unwrap();
        let mut top = TimeOperator::new(&p, grid.clone(), flux);
        for k in 0..30 {
            top.at(k as f64).unwrap();
        }
        assert_eq!(top.assemblies, 3);
        // A(25) is the operator of the problem at lr/4
        let mut q = p.clone();
        q.lr = p.lr * 0.25;
        q.schedule = Schedules::default();
        let direct = Operator::assemble(
            &q,
            grid,
            crate::space::flux::by_name("scharfetter-gummel")
                .unwrap()
                .as_ref(),
        )
        .unwrap();
        // A(t) comes from the unit face data scaled exactly; the drift integrals are
        // approximated to 1e-12 in the exponent at each problem's own scale, so entries
        // agree to 1e-12 of their row's scale (max |A_ij| in the row): an entry e^{−x}
        // with x ≈ 250 carries that exponent's relative error times x.
        let a = top.at(25.0).unwrap().clone();
        let d = &direct.a;
        for i in 0..d.n() {
            let scale = d.lower[i].abs().max(d.diag[i].abs()).max(d.upper[i].abs());
            for (u, v) in [
                (a.lower[i], d.lower[i]),
                (a.diag[i], d.diag[i]),
                (a.upper[i], d.upper[i]),
            ] {
                assert!((u - v).abs() <= 1e-12 * scale, "row {i}: {u} vs {v}");
            }
        }
    }
}
