//! A rational exponential integrator for dP/dt = A P with A constant: the exact
//! solution P(t) = e^{(t − t0)A} P(t0), with the exponential replaced by a rational
//! approximation r accurate on the negative real axis ([`Rational`]):
//!
//!   e^{τA} v ≈ r(τA) v = c0 v + 2 Re Σ_{k=1}^{n/2} c_k (τA − z_k I)⁻¹ v.
//!
//! Each evaluation costs n/2 complex tridiagonal solves with row pivoting
//! ([`ComplexTridiagLu`]), and n/2 factorisations for each distinct span τ (kept and
//! reused while τ repeats, as it does between equally spaced snapshots). There is no
//! time step in the usual sense: an evaluation may span any τ. The card's `dt` is the
//! largest span of one evaluation, so with the default (1e6) every snapshot interval
//! is one evaluation. With `from = "previous"` (default) each evaluation starts from
//! the last evaluated density, P(t_{k+1}) = r((t_{k+1} − t_k)A) P(t_k); with
//! `from = "start"` each is taken from the initial density, P(t_k) = r((t_k − t0)A)
//! P(t0), so errors do not accumulate but every span is new (n/2 factorisations per
//! evaluation).
//!
//! For a normal A the error is at most max_{x ≤ 0} |r(x) − e^x| (≈ 2e-16 for `cf`
//! of degree 16). A from a Fokker–Planck operator is similar to a symmetric matrix
//! (real spectrum in (−∞, 0]) but the similarity is the diagonal of √(stationary
//! density), whose condition number is astronomically large at high cell Péclet
//! numbers; what then bounds the error is the pseudospectrum, not the spectrum, and
//! rounding in the shifted solves is amplified accordingly. Not positivity
//! preserving (r(x) changes sign on (−∞, 0)); mass: 1ᵀ(τA − zI)⁻¹ = −1ᵀ/z because the
//! columns of A sum to zero, so 1ᵀ r(τA) v = r(0) 1ᵀ v and the mass changes by the
//! factor r(0) per evaluation (|r(0) − 1| ≤ the uniform error) plus rounding.
//!
//! Under a learning-rate or batch schedule (A(t), [`TimeOperator`]) the propagator of
//! dP/dt = A(t) P is replaced by the exponential midpoint rule, the second-order
//! Magnus integrator P(t + τ) = e^{τ A(t + τ/2)} P(t) (Magnus 1954; Blanes, Casas,
//! Oteo & Ros, "The Magnus expansion and some of its applications", Phys. Rep. 2009),
//! each span no longer than the card's `dt` and split at the schedule's breakpoints
//! (where A(t) jumps or kinks), with A evaluated as the limit from the left at a
//! breakpoint. The local error is O(τ³) — the midpoint quadrature of ∫A (τ³A″/24)
//! and the first commutator term (τ³[A, A′]/12) — so the global error is O(dt²) on
//! top of the rational approximation's; the default `dt` (1e6) makes one span per
//! snapshot interval, which under a schedule is usually too coarse: give `--dt`.
//! Each distinct A(t + τ/2) costs n/2 new factorisations (every span for a smooth
//! schedule, once per decay for a step decay). `from = "start"` needs a constant A
//! and is refused. Mass: every A(t) has zero column sums, so each span changes it by
//! the factor r(0) as above.

mod rational;

pub use rational::{Approximation, Rational, MAX_TALBOT_DEGREE};

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use super::{check_len, Stepper, TimeOperator};
use crate::error::Error;
use crate::error::Result;
use crate::space::linalg::ComplexTridiagLu;
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

/// Where each evaluation of the exponential starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpOrigin {
    /// From the last evaluated density: P(t_{k+1}) = r((t_{k+1} − t_k)A) P(t_k).
    #[default]
    Previous,
    /// From the initial density: P(t_k) = r((t_k − t0)A) P(t0).
    Start,
}

/// How many spans' factorisations are kept (the first and the most recent others).
const KEPT_SPANS: usize = 3;

/// The rational exponential integrator (see the module documentation).
#[derive(Clone, Debug)]
pub struct RationalExp {
    a: Tridiag,
    rational: Rational,
    dt: f64,
    origin: ExpOrigin,
    /// Factorisations of τA − z_k I for each kept span τ.
    cache: Vec<(f64, Vec<ComplexTridiagLu>)>,
    work: Vec<Complex64>,
    acc: Vec<f64>,
    /// The density at the start of the run (origin `start`).
    p0: Vec<f64>,
    /// The density an evaluation starts from (scratch).
    from: Vec<f64>,
    /// Time since the start of the run.
    elapsed: f64,
    /// A(t) under a schedule, and the version of it held in `a`.
    scheduled: Option<(TimeOperator, Option<u64>)>,
}

impl RationalExp {
    /// The integrator on `op` with approximation `rational`, largest span `dt` and
    /// evaluations from `origin` (validated by the scheme).
    pub fn new(op: &Operator, rational: Rational, dt: f64, origin: ExpOrigin) -> Self {
        RationalExp::on_matrix(op.a.clone(), rational, dt, origin)
    }

    /// The integrator on the matrix `a` itself.
    pub fn on_matrix(a: Tridiag, rational: Rational, dt: f64, origin: ExpOrigin) -> Self {
        RationalExp {
            a,
            rational,
            dt,
            origin,
            cache: Vec::new(),
            work: Vec::new(),
            acc: Vec::new(),
            p0: Vec::new(),
            from: Vec::new(),
            elapsed: 0.0,
            scheduled: None,
        }
    }

    /// The approximation in use.
    pub fn rational(&self) -> &Rational {
        &self.rational
    }

    /// Row interchanges made by the factorisations held now (all kept spans).
    pub fn interchanges(&self) -> usize {
        self.cache
            .iter()
            .flat_map(|(_, lus)| lus.iter().map(ComplexTridiagLu::interchanges))
            .sum()
    }

    /// The factorisations for span `tau`, computed now (n/2 of them, counted) unless kept.
    fn factors(&mut self, tau: f64, stats: &mut Stats) -> Result<usize> {
        if let Some(k) = self
            .cache
            .iter()
            .position(|(t, _)| t.to_bits() == tau.to_bits())
        {
            return Ok(k);
        }
        let lus = self
            .rational
            .poles
            .iter()
            .map(|&z| ComplexTridiagLu::factor_shifted(&self.a, tau, z))
            .collect::<Result<Vec<_>>>()?;
        stats.factorizations += lus.len() as u64;
        if self.cache.len() >= KEPT_SPANS {
            self.cache.remove(1);
        }
        self.cache.push((tau, lus));
        Ok(self.cache.len() - 1)
    }

    /// `p` ← r(τA) `v`, counting factorisations and solves into `stats`.
    pub fn apply(&mut self, tau: f64, v: &[f64], p: &mut [f64], stats: &mut Stats) -> Result<()> {
        let n = self.a.n();
        check_len(v.len(), n)?;
        check_len(p.len(), n)?;
        let k = self.factors(tau, stats)?;
        self.work.resize(n, Complex64::new(0.0, 0.0));
        self.acc.clear();
        self.acc.extend(v.iter().map(|x| self.rational.c0 * x));
        for (lu, c) in self.cache[k].1.iter().zip(&self.rational.residues) {
            for (w, x) in self.work.iter_mut().zip(v) {
                *w = Complex64::new(*x, 0.0);
            }
            lu.solve_in_place(&mut self.work);
            stats.linear_solves += 1;
            for (y, w) in self.acc.iter_mut().zip(&self.work) {
                *y += 2.0 * (c * w).re;
            }
        }
        p.copy_from_slice(&self.acc);
        Ok(())
    }
}

impl Stepper for RationalExp {
    fn name(&self) -> &str {
        RationalExp::INFO.kind
    }

    fn dt(&self) -> f64 {
        self.dt
    }

    fn start(&mut self, n: usize, _stats: &mut Stats) -> Result<()> {
        check_len(n, self.a.n())?;
        self.cache.clear();
        self.p0.clear();
        self.elapsed = 0.0;
        Ok(())
    }

    /// One evaluation over the span `h`: from the last density, or (origin `start`)
    /// from the initial one over the whole time elapsed.
    fn advance(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<()> {
        if self.p0.is_empty() {
            self.p0.extend_from_slice(p);
        }
        self.elapsed += h;
        // the density the evaluation starts from (one copy: cheap beside n/2 solves)
        let mut from = std::mem::take(&mut self.from);
        from.clear();
        let tau = match self.origin {
            ExpOrigin::Previous => {
                from.extend_from_slice(p);
                h
            }
            ExpOrigin::Start => {
                from.extend_from_slice(&self.p0);
                self.elapsed
            }
        };
        let r = self.apply(tau, &from, p, stats);
        self.from = from;
        r
    }

    /// Under a schedule, exponential midpoint steps over [t, t + h] split at the
    /// breakpoints; otherwise [`Stepper::advance`].
    fn advance_at(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<()> {
        let Some((top, _)) = &self.scheduled else {
            return self.advance(p, h, stats);
        };
        let mut ends = top.breakpoints(t, t + h);
        ends.push(t + h);
        let mut from = std::mem::take(&mut self.from);
        let mut a = t;
        let mut r = Ok(());
        for b in ends {
            r = self.midpoint_span(p, a, b, &mut from, stats);
            if r.is_err() {
                break;
            }
            a = b;
        }
        self.from = from;
        r
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        if self.origin == ExpOrigin::Start {
            return Err(Error::invalid(
                "from",
                "start",
                "evaluates e^{(t − t0)A} from the initial density, which needs a constant \
                 operator A: use from = \"previous\" (exponential midpoint steps) under a \
                 schedule",
            ));
        }
        self.scheduled = Some((op, None));
        Ok(())
    }
}

impl RationalExp {
    /// One exponential midpoint step P ← r((b − a) A((a + b)/2)) P, A(t) continuous on
    /// [a, b); the factorisations are renewed when the midpoint operator changes.
    fn midpoint_span(
        &mut self,
        p: &mut [f64],
        a: f64,
        b: f64,
        from: &mut Vec<f64>,
        stats: &mut Stats,
    ) -> Result<()> {
        if let Some((top, held)) = &mut self.scheduled {
            let mid = 0.5 * (a + b);
            top.at_within(mid, b)?;
            if *held != Some(top.version()) {
                self.a = top.at_within(mid, b)?.clone();
                self.cache.clear();
                *held = Some(top.version());
            }
        }
        from.clear();
        from.extend_from_slice(p);
        self.apply(b - a, from, p, stats)
    }
}

impl RationalExp {
    /// Description of the rational exponential integrator for the scheme catalogue
    /// (card `kind = "rational-exp"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "rational-exp",
        summary: "P(t) = e^{τA} P by a rational approximation on (−∞, 0] as a sum of shifted complex tridiagonal solves (best/CRAM type (n, n), or Talbot contour quadrature): no time-step error, n/2 solves per evaluation; not positive, and on strongly non-normal operators (stationary density spanning more than ~e^100) the error of r(τA) can be amplified without bound",
        order: "none for a constant A (error set by the approximation's degree); 2 under a schedule (exponential midpoint e^{τA(t+τ/2)}, τ ≤ dt, split at the schedule's breakpoints)",
        keys: &[
            ("approximation", "cf (best approximation, degree 14 or 16) or talbot (any even degree ≤ 64) (default cf)"),
            ("degree", "number of poles n (default 16)"),
            ("from", "previous (each evaluation from the last density) or start (each from the initial density) (default previous)"),
            ("dt", "largest span of one evaluation (default 1e6)"),
        ],
    };
}
