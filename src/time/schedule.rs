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
//!
//! The integrators that choose their own steps also need to know where A(t) is not
//! smooth ([`TimeOperator::breakpoints`]): the jumps of a step decay (t = warm-up +
//! k·every), the kinks at the end of a warm-up and of a cosine period, and the jumps of
//! the rounded batch size B(t) (located by sampling B at 4096 points of the span and
//! bisecting each change to 1e-12 relative; a change that reverts between two samples
//! is missed). A formula is taken to be smooth: its kinks are not found. Between two
//! breakpoints [`TimeOperator::at_within`] evaluates A as the limit from the left at
//! the segment's end, so a step over [t_k, b] sees the value before the jump at b.

use std::sync::Arc;

use crate::error::Result;
use crate::model::problem::Problem;
use crate::model::schedule::{Schedule, Schedules};
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

    /// A counter that changes whenever the operator [`TimeOperator::at`] returns does.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// A(t) on a segment that ends at a breakpoint `end`: A(t) for t well before `end`,
    /// the limit from the left for t near or past it (evaluated at `end` − 2e-12·max(1,
    /// |end|), below the bisection tolerance of [`TimeOperator::breakpoints`]).
    pub fn at_within(&mut self, t: f64, end: f64) -> Result<&Tridiag> {
        let left = end - 2e-12 * end.abs().max(1.0);
        self.at(if t > left { left } else { t })
    }

    /// The times in the open interval (lo, hi) where A(t) jumps or has a kink, sorted
    /// (see the module documentation for which are found).
    pub fn breakpoints(&self, lo: f64, hi: f64) -> Vec<f64> {
        let s = &self.problem.schedule;
        let mut out = shape_breakpoints(&s.lr, lo, hi);
        if !s.batch.is_constant() {
            let mut cand = shape_breakpoints(&s.batch, lo, hi);
            cand.extend((0..=4096).map(|k| lo + (hi - lo) * k as f64 / 4096.0));
            cand.sort_by(f64::total_cmp);
            let b = |t: f64| s.batch(self.problem.batch, t);
            for w in cand.windows(2) {
                let (mut x, mut y) = (w[0], w[1]);
                let bx = b(x);
                if bx == b(y) {
                    continue;
                }
                while y - x > 1e-12 * y.abs().max(1.0) {
                    let mid = 0.5 * (x + y);
                    if b(mid) == bx {
                        x = mid;
                    } else {
                        y = mid;
                    }
                }
                out.push(y);
            }
        }
        out.retain(|&t| t > lo && t < hi);
        out.sort_by(f64::total_cmp);
        out.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * a.abs().max(1.0));
        out
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

/// The jumps and kinks of one multiplier in [lo, hi]: the end of its warm-up, the
/// decays of a step shape, the end of a cosine period (at most 10⁶ decays are listed).
fn shape_breakpoints(s: &Schedule, lo: f64, hi: f64) -> Vec<f64> {
    use crate::model::schedule::Shape;
    let mut out = Vec::new();
    if s.warmup > 0.0 {
        out.push(s.warmup);
    }
    match &s.shape {
        Shape::Step { every, .. } => {
            let first = ((lo - s.warmup) / every).floor().max(1.0) as u64;
            for k in first..first + 1_000_000 {
                let t = s.warmup + k as f64 * every;
                if t >= hi {
                    break;
                }
                out.push(t);
            }
        }
        Shape::Cosine { period, .. } => out.push(s.warmup + period),
        _ => {}
    }
    out
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

    #[test]
    fn breakpoints_are_the_decays_the_period_end_and_the_batch_jumps() {
        let p = seed_with(Shape::Step {
            every: 10.0,
            factor: 0.5,
        });
        let grid = Grid::new(p.a, p.b, 20).unwrap();
        let flux = || crate::space::flux::by_name("scharfetter-gummel").unwrap();
        let top = TimeOperator::new(&p, grid.clone(), flux());
        assert_eq!(top.breakpoints(5.0, 35.0), vec![10.0, 20.0, 30.0]);
        assert_eq!(top.breakpoints(10.0, 20.0), Vec::<f64>::new());
        let mut q = seed_with(Shape::Cosine {
            period: 100.0,
            floor: 0.0,
        });
        // batch 4 → round(4 · (1 + t/100)): jumps where 4 t/100 crosses k + ½
        q.batch = 4;
        q.schedule.batch = Schedule::new(Shape::Formula {
            formula: "1 + t/100".into(),
        })
        .unwrap();
        let top = TimeOperator::new(&q, grid, flux());
        let b = top.breakpoints(0.0, 150.0);
        let want = [12.5, 37.5, 62.5, 87.5, 100.0, 112.5, 137.5];
        assert_eq!(b.len(), want.len(), "{b:?}");
        for (x, y) in b.iter().zip(want) {
            assert!((x - y).abs() < 1e-9, "{b:?}");
        }
        // left of a jump the old batch, at it the new one
        assert_eq!(top.values(b[0] - 2e-12 * b[0]).1, 4);
        assert_eq!(top.values(b[0]).1, 5);
    }
}
