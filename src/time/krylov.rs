//! Krylov exponential integrator: P(t + τ) = exp(τA) P by Arnoldi with adaptive
//! time-stepping, after Expokit's `dgexpv`/`dgphiv` (R. B. Sidje, ACM Trans. Math.
//! Softw. 24 (1998) 130–156) with the a-posteriori error estimate of Saad (SIAM J.
//! Numer. Anal. 29 (1992) 209–228).
//!
//! A is non-symmetric (upwinded drift), so the Krylov basis is built by Arnoldi (modified
//! Gram–Schmidt), not Lanczos. Each step writes
//!
//!   exp(τA) P = P + τ φ₁(τA) (A P),   φ₁(z) = (eᶻ − 1)/z,
//!
//! and approximates φ₁(τA) u, u = A P, in the Krylov space K_m(A, u) = span{u, Au, …}:
//! with A V_m = V_m H_m + h_{m+1,m} v_{m+1} e_mᵀ and β = ‖u‖₂,
//!
//!   P(t + τ) ≈ P + β τ V_m φ₁(τH_m) e₁.
//!
//! Every vector of K_m(A, AP) lies in the range of A, and 1ᵀA = 0 (zero column sums),
//! so the correction has zero sum and mass is conserved to rounding — the plain
//! approximation β V_m exp(τH_m) e₁ of exp(τA)P is not conservative (its polynomial
//! need not fix the constant mode).
//!
//! The φ-functions of the small (m+2)×(m+2) augmented matrix [[τH, e₁, 0], [0, 0, 1],
//! [0, 0, 0]] — whose exponential holds φ₁(τH)e₁ and φ₂(τH)e₁ in its last two columns
//! (Sidje 1998, Theorem 1) — are computed by scaling and squaring with the diagonal
//! (6, 6) Padé approximant (Expokit's `dgpadm`). The residual of the Krylov
//! approximation is r(s) = −β h_{m+1,m} s (e_mᵀφ₁(sH)e₁) v_{m+1}; exp(sA) is column
//! stochastic for an M-matrix with zero column sums, hence an L1 contraction, so the L1
//! error of a step is at most
//!
//!   err = β τ² |e_mᵀ φ₂(τH) e₁| ‖h_{m+1,m} v_{m+1}‖₁
//!
//! whenever s e_mᵀφ₁(sH)e₁ keeps its sign on [0, τ] (an estimate otherwise). A step is
//! accepted when err ≤ tol ‖P‖₁ τ / (t_end − t0); the L1 errors of accepted steps add
//! at most (the propagator is an L1 contraction), so `tol` bounds the L1 error at the
//! last stop relative to ‖P‖₁. The next step is γ τ (allowed/err)^{1/m}, γ = 0.9, as in
//! Expokit; a rejected step reuses the basis and only recomputes the small exponential.
//!
//! Cost: per step one A·P, m products with A, and ~m²/2 inner products and as many
//! updates of length N for the orthogonalisation (counted in `Stats::vector_ops`), plus
//! O(m³) for the small exponential (independent of N, not counted). A polynomial of
//! degree m in τA resolves exp on a spectrum of width ‖τA‖ only once m ≳ √‖τA‖
//! (Hochbruck & Lubich, SIAM J. Numer. Anal. 34 (1997) 1911–1925): on a stiff operator
//! the steps stay near m²/‖A‖, so the work grows like t ‖A‖ / m — like an explicit
//! method with an m²-times larger step, but never unstable. Not positivity preserving:
//! the Krylov polynomial only approximates the non-negative exp(τA) P, to tolerance.

use super::{check_len, check_stops, Flow, Observer, Propagator, TimeOperator};
use crate::error::{Error, Result};
use crate::space::operator::{Operator, Tridiag};
use crate::stats::Stats;

/// Default Krylov dimension m.
pub const DEFAULT_KRYLOV_DIM: usize = 30;
/// Largest Krylov dimension a card may ask for.
pub const MAX_KRYLOV_DIM: usize = 200;
/// Safety factor of the step-size control.
const GAMMA: f64 = 0.9;
/// Bounds on the ratio of consecutive step sizes.
const SHRINK_MIN: f64 = 0.1;
const GROW_MAX: f64 = 10.0;

/// Krylov (Arnoldi) exponential integrator with adaptive steps (polynomial in A:
/// conservative, not positivity preserving).
#[derive(Clone, Debug)]
pub struct Krylov {
    a: Tridiag,
    tol: f64,
    m: usize,
    /// ‖A‖₁, the largest absolute column sum.
    anorm: f64,
    /// v_1 … v_{m+1} (v_{m+1} only when the space did not break down).
    basis: Vec<Vec<f64>>,
    /// Upper Hessenberg H, row-major (m+1) × m.
    hess: Vec<f64>,
    /// A(t) under a schedule.
    scheduled: Option<TimeOperator>,
}

/// A Krylov space built by [`Krylov::arnoldi`].
#[derive(Clone, Copy, Debug)]
struct Space {
    /// Its dimension (m, or less at a breakdown).
    dim: usize,
    /// β = ‖A P‖₂.
    beta: f64,
    /// ‖h_{dim+1,dim} v_{dim+1}‖₁ (zero at an exact breakdown).
    resid_l1: f64,
}

impl Krylov {
    /// The integrator on `op` with L1 tolerance `tol` (relative to ‖P‖₁, over the whole
    /// propagation) and Krylov dimension `m` (validated by the scheme).
    pub fn new(op: &Operator, tol: f64, m: usize) -> Self {
        let a = op.a.clone();
        let anorm = norm1(&a);
        Krylov {
            a,
            tol,
            m,
            anorm,
            basis: Vec::new(),
            hess: Vec::new(),
            scheduled: None,
        }
    }

    /// Arnoldi on v_1 = A P / β (already in `basis[0]` unnormalised): fills `basis` and
    /// `hess`, counting m products with A and the vector operations.
    fn arnoldi(&mut self, stats: &mut Stats) -> Space {
        let m = self.m;
        let beta = norm2(&self.basis[0]);
        scale(&mut self.basis[0], 1.0 / beta);
        stats.vector_ops += 2;
        self.hess.iter_mut().for_each(|x| *x = 0.0);
        let breakdown = 1e-14 * self.anorm;
        for j in 0..m {
            let (done, rest) = self.basis.split_at_mut(j + 1);
            let w = &mut rest[0];
            self.a.apply(&done[j], w);
            stats.rhs_evals += 1;
            for (i, v) in done.iter().enumerate() {
                let h = dot(w, v);
                axpy(w, -h, v);
                self.hess[i * m + j] = h;
            }
            let hn = norm2(w);
            stats.vector_ops += 2 * (j as u64 + 1) + 2;
            if hn <= breakdown || j + 1 == m {
                // the residual h_{j+2,j+1} v_{j+2} is w itself
                let resid_l1 = if hn <= breakdown { 0.0 } else { l1(w) };
                stats.vector_ops += 1;
                if hn > breakdown {
                    self.hess[(j + 1) * m + j] = hn;
                }
                return Space {
                    dim: j + 1,
                    beta,
                    resid_l1,
                };
            }
            self.hess[(j + 1) * m + j] = hn;
            scale(w, 1.0 / hn);
        }
        unreachable!("the loop returns at j = m − 1")
    }

    /// The step τ on `space`: (error estimate, φ₁(τH)e₁), via the exponential of the
    /// augmented matrix. A non-finite exponential gives an infinite error.
    fn trial(&self, space: &Space, tau: f64) -> (f64, Vec<f64>) {
        let (k, m) = (space.dim, self.m);
        let sz = k + 2;
        let mut f = vec![0.0; sz * sz];
        for i in 0..k {
            for j in 0..k {
                f[i * sz + j] = tau * self.hess[i * m + j];
            }
        }
        f[k] = 1.0;
        f[k * sz + k + 1] = 1.0;
        let e = expm(&f, sz);
        let phi1: Vec<f64> = (0..k).map(|i| e[i * sz + k]).collect();
        let phi2_last = e[(k - 1) * sz + k + 1];
        let err = space.beta * tau * tau * phi2_last.abs() * space.resid_l1;
        if err.is_finite() && phi1.iter().all(|x| x.is_finite()) {
            (err, phi1)
        } else {
            (f64::INFINITY, phi1)
        }
    }

    /// One accepted step from `t` toward `stop` (at most to it), starting from the
    /// proposed step `*proposal` and updating it; `span` is the length of the whole
    /// propagation. Returns the new time.
    fn step(
        &mut self,
        p: &mut [f64],
        t: f64,
        stop: f64,
        span: f64,
        proposal: &mut f64,
        stats: &mut Stats,
    ) -> Result<f64> {
        let rem = stop - t;
        self.a.apply(p, &mut self.basis[0]);
        stats.rhs_evals += 1;
        if self.basis[0].iter().all(|&x| x == 0.0) {
            // A P = 0: P is stationary, exp(τA) P = P for every τ
            return Ok(stop);
        }
        let space = self.arnoldi(stats);
        let pnorm = l1(p);
        stats.vector_ops += 1;
        loop {
            let last = *proposal >= rem * (1.0 - 1e-9);
            let tau = if last { rem } else { *proposal };
            let (err, phi1) = self.trial(&space, tau);
            let allowed = self.tol * pnorm * tau / span;
            let fac = if err > 0.0 {
                GAMMA * (allowed / err).powf(1.0 / space.dim as f64)
            } else {
                GROW_MAX
            };
            if err <= allowed {
                for (v, c) in self.basis.iter().zip(&phi1) {
                    axpy(p, space.beta * tau * c, v);
                }
                stats.vector_ops += space.dim as u64;
                let next = tau * fac.clamp(SHRINK_MIN, GROW_MAX);
                *proposal = if last { proposal.max(next) } else { next };
                return Ok(if last { stop } else { t + tau });
            }
            stats.rejected_steps += 1;
            stats.error_test_failures += 1;
            *proposal = tau * fac.clamp(SHRINK_MIN, 1.0 / GROW_MAX.sqrt());
            if proposal.is_nan() || *proposal <= 1e-14 * t.abs().max(span) {
                return Err(Error::SolverFailed {
                    t,
                    reason: format!(
                        "Krylov step size underflow ({:e}): error estimate {err:e} against {allowed:e}",
                        *proposal
                    ),
                });
            }
        }
    }

    /// One accepted exponential midpoint step from `t` toward `stop` (at most to it, A(t)
    /// continuous on [t, stop)) under the schedule `top`: each trial step τ gets the
    /// operator A(t + τ/2), its own basis, and the Krylov and Magnus error estimates.
    #[allow(clippy::too_many_arguments)]
    fn step_scheduled(
        &mut self,
        top: &mut TimeOperator,
        p: &mut [f64],
        t: f64,
        stop: f64,
        span: f64,
        proposal: &mut f64,
        stats: &mut Stats,
    ) -> Result<f64> {
        let rem = stop - t;
        let pnorm = l1(p);
        loop {
            let last = *proposal >= rem * (1.0 - 1e-9);
            let tau = if last { rem } else { *proposal };
            let (err_m, a_mid) = magnus_estimate(top, p, t, tau, stop, stats)?;
            self.a = a_mid;
            self.anorm = norm1(&self.a);
            self.a.apply(p, &mut self.basis[0]);
            stats.rhs_evals += 1;
            let allowed = self.tol * pnorm * tau / span;
            let (err_k, phi1, dim, beta) = if self.basis[0].iter().all(|&x| x == 0.0) {
                (0.0, Vec::new(), 1, 0.0)
            } else {
                let space = self.arnoldi(stats);
                let (err, phi1) = self.trial(&space, tau);
                (err, phi1, space.dim, space.beta)
            };
            let fac = |err: f64, order: f64| {
                if err > 0.0 {
                    GAMMA * (allowed / err).powf(1.0 / order)
                } else {
                    GROW_MAX
                }
            };
            let f = fac(err_k, dim as f64).min(fac(err_m, 3.0));
            if err_k + err_m <= allowed {
                for (v, c) in self.basis.iter().zip(&phi1) {
                    axpy(p, beta * tau * c, v);
                }
                stats.vector_ops += phi1.len() as u64;
                let next = tau * f.clamp(SHRINK_MIN, GROW_MAX);
                *proposal = if last { proposal.max(next) } else { next };
                return Ok(if last { stop } else { t + tau });
            }
            stats.rejected_steps += 1;
            stats.error_test_failures += 1;
            *proposal = tau * f.clamp(SHRINK_MIN, 1.0 / GROW_MAX.sqrt());
            if proposal.is_nan() || *proposal <= 1e-14 * t.abs().max(span) {
                return Err(Error::SolverFailed {
                    t,
                    reason: format!(
                        "Krylov step size underflow ({:e}) under the schedule: error estimates {err_k:e} (Krylov) + {err_m:e} (Magnus) against {allowed:e}",
                        *proposal
                    ),
                });
            }
        }
    }

    /// The first proposed step: Expokit's a-priori bound for a spectrum in the disk of
    /// radius ‖A‖ (the worst case), (1/‖A‖) (fact · tol / 4)^{1/m} with fact =
    /// ((m+1)/e)^{m+1} √(2π(m+1)), in logarithms.
    fn first_step(&self) -> f64 {
        let m1 = (self.m + 1) as f64;
        let ln_fact = m1 * (m1.ln() - 1.0) + 0.5 * (2.0 * std::f64::consts::PI * m1).ln();
        let ln = (ln_fact + (self.tol / 4.0).ln()) / self.m as f64;
        ln.exp() / self.anorm
    }
}

impl Propagator for Krylov {
    fn name(&self) -> &str {
        Krylov::INFO.kind
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
        let n = self.a.n();
        check_len(p.len(), n)?;
        self.basis = vec![vec![0.0; n]; self.m + 1];
        self.hess = vec![0.0; (self.m + 1) * self.m];
        let span = stops.last().map_or(0.0, |s| s - t0);
        let mut sched = self.scheduled.take();
        let breaks = match &mut sched {
            Some(top) => {
                self.a = top.at(t0)?.clone();
                self.anorm = norm1(&self.a);
                top.breakpoints(t0, t0 + span)
            }
            None => Vec::new(),
        };
        let mut proposal = self.first_step();
        let mut t = t0;
        let r = (|| {
            for &stop in stops {
                while t < stop {
                    // the next breakpoint before the stop, if any, ends the step
                    let end = breaks
                        .iter()
                        .copied()
                        .find(|&b| b > t && b < stop)
                        .unwrap_or(stop);
                    t = match &mut sched {
                        Some(top) => {
                            self.step_scheduled(top, p, t, end, span, &mut proposal, stats)?
                        }
                        None => self.step(p, t, end, span, &mut proposal, stats)?,
                    };
                    stats.steps += 1;
                    if observer.step(t, p, stats) == Flow::Halt {
                        return Ok(t);
                    }
                }
                if observer.stop(t, p, stats) == Flow::Halt {
                    return Ok(t);
                }
            }
            Ok(t)
        })();
        self.scheduled = sched;
        r
    }

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        check_len(op.n(), self.a.n())?;
        self.scheduled = Some(op);
        Ok(())
    }
}

/// The Magnus error estimate of one exponential midpoint step τ from t (see the module
/// documentation): (τ/3) ‖(A_trap − A_mid) P‖₁ + (τ²/12) ‖[A(t), A(t + τ)] P‖₁, with A
/// continuous on [t, end) and A(t + τ) its limit from the left at `end`; returned with
/// the midpoint operator A(t + τ/2).
fn magnus_estimate(
    top: &mut TimeOperator,
    p: &[f64],
    t: f64,
    tau: f64,
    end: f64,
    stats: &mut Stats,
) -> Result<(f64, Tridiag)> {
    let n = p.len();
    let a0 = top.at_within(t, end)?.clone();
    let a1 = top.at_within(t + tau, end)?.clone();
    let a_mid = top.at_within(t + 0.5 * tau, end)?.clone();
    let mut u = vec![0.0; n];
    let mut w = vec![0.0; n];
    a_mid.apply(p, &mut w);
    let (mut x, mut y) = (vec![0.0; n], vec![0.0; n]);
    a0.apply(p, &mut x);
    a1.apply(p, &mut y);
    for i in 0..n {
        u[i] = 0.5 * (x[i] + y[i]) - w[i];
    }
    let quad = tau / 3.0 * l1(&u);
    // [A0, A1] P = A0 (A1 P) − A1 (A0 P)
    a0.apply(&y, &mut u);
    a1.apply(&x, &mut w);
    let comm: f64 = u.iter().zip(&w).map(|(a, b)| (a - b).abs()).sum();
    stats.rhs_evals += 5;
    stats.vector_ops += 4;
    Ok((quad + tau * tau / 12.0 * comm, a_mid))
}

/// ‖A‖₁, the largest absolute column sum of a tridiagonal matrix.
fn norm1(a: &Tridiag) -> f64 {
    let n = a.n();
    let mut col = vec![0.0; n];
    for i in 0..n {
        col[i] += a.diag[i].abs();
        if i > 0 {
            col[i - 1] += a.lower[i].abs();
        }
        if i + 1 < n {
            col[i + 1] += a.upper[i].abs();
        }
    }
    col.iter().cloned().fold(0.0, f64::max)
}

impl Krylov {
    /// Description of the Krylov exponential integrator for the scheme catalogue (card
    /// `kind = "krylov"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "krylov",
        summary: "exp(τA)P = P + τφ₁(τA)AP by Arnoldi in K_m(A, AP) with adaptive steps (Expokit dgexpv/dgphiv): exact in time up to tolerance, conservative, not positivity preserving; steps ~ m²/‖A‖ on stiff operators",
        order: "m for a constant A (local error O(τ^{m+1}); the error is set by rtol); 2 under a schedule (exponential midpoint e^{τA(t+τ/2)}, Magnus error estimated and controlled by rtol, steps split at the schedule's breakpoints)",
        keys: &[
            (
                "rtol",
                "bound on the L1 error at t_end relative to ‖P‖₁ (default 1e-6)",
            ),
            ("m", "Krylov dimension, 2 … 200 (default 30)"),
        ],
    };
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn l1(a: &[f64]) -> f64 {
    a.iter().map(|x| x.abs()).sum()
}

fn scale(a: &mut [f64], c: f64) {
    a.iter_mut().for_each(|x| *x *= c);
}

/// y += c x.
fn axpy(y: &mut [f64], c: f64, x: &[f64]) {
    for (a, b) in y.iter_mut().zip(x) {
        *a += c * b;
    }
}

/// C = A B for row-major n × n matrices.
fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik != 0.0 {
                let (row, brow) = (&mut c[i * n..(i + 1) * n], &b[k * n..(k + 1) * n]);
                axpy(row, aik, brow);
            }
        }
    }
    c
}

/// Solve D X = N in place for row-major n × n matrices (X returned in `rhs`), Gaussian
/// elimination with partial pivoting. D = q(−X) of the Padé approximant is
/// well-conditioned for ‖X‖ ≤ ½, so no pivot vanishes.
fn solve_dense(d: &mut [f64], rhs: &mut [f64], n: usize) {
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| d[i * n + c].abs().total_cmp(&d[j * n + c].abs()))
            .unwrap_or(c);
        if piv != c {
            for k in 0..n {
                d.swap(c * n + k, piv * n + k);
                rhs.swap(c * n + k, piv * n + k);
            }
        }
        let dc = d[c * n + c];
        for r in c + 1..n {
            let f = d[r * n + c] / dc;
            if f != 0.0 {
                for k in c..n {
                    d[r * n + k] -= f * d[c * n + k];
                }
                for k in 0..n {
                    rhs[r * n + k] -= f * rhs[c * n + k];
                }
            }
        }
    }
    for c in (0..n).rev() {
        let dc = d[c * n + c];
        for k in 0..n {
            let mut s = rhs[c * n + k];
            for j in c + 1..n {
                s -= d[c * n + j] * rhs[j * n + k];
            }
            rhs[c * n + k] = s / dc;
        }
    }
}

/// exp(F) of a row-major n × n matrix by scaling and squaring with the diagonal (6, 6)
/// Padé approximant, scaled so that ‖F/2ˢ‖_∞ ≤ ½ (Expokit's `dgpadm`; relative
/// truncation error below 1e-16 there).
pub fn expm(f: &[f64], n: usize) -> Vec<f64> {
    const C: [f64; 7] = [
        1.0,
        1.0 / 2.0,
        5.0 / 44.0,
        1.0 / 66.0,
        1.0 / 792.0,
        1.0 / 15840.0,
        1.0 / 665280.0,
    ];
    let norm = (0..n)
        .map(|i| f[i * n..(i + 1) * n].iter().map(|x| x.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let s = if norm > 0.5 {
        ((norm / 0.5).log2().ceil() as i32).max(0)
    } else {
        0
    };
    let x: Vec<f64> = f.iter().map(|v| v * 0.5f64.powi(s)).collect();
    let x2 = matmul(&x, &x, n);
    let x4 = matmul(&x2, &x2, n);
    let x6 = matmul(&x4, &x2, n);
    let ident = |i: usize| i.is_multiple_of(n + 1) as u8 as f64;
    // even part V = c0 I + c2 X² + c4 X⁴ + c6 X⁶, odd part U = X (c1 I + c3 X² + c5 X⁴)
    let mut v = vec![0.0; n * n];
    let mut odd = vec![0.0; n * n];
    for i in 0..n * n {
        v[i] = C[0] * ident(i) + C[2] * x2[i] + C[4] * x4[i] + C[6] * x6[i];
        odd[i] = C[1] * ident(i) + C[3] * x2[i] + C[5] * x4[i];
    }
    let u = matmul(&x, &odd, n);
    let mut num: Vec<f64> = v.iter().zip(&u).map(|(a, b)| a + b).collect();
    let mut den: Vec<f64> = v.iter().zip(&u).map(|(a, b)| a - b).collect();
    solve_dense(&mut den, &mut num, n);
    let mut e = num;
    for _ in 0..s {
        e = matmul(&e, &e, n);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exp of a 2 × 2 Jordan block [[a, 1], [0, a]] is e^a [[1, 1], [0, 1]]; of a
    /// rotation generator [[0, θ], [−θ, 0]] the rotation by θ; both at several scales.
    #[test]
    fn expm_matches_closed_forms() {
        for a in [0.0, -0.3, 1.0, -40.0, 7.5] {
            let e = expm(&[a, 1.0, 0.0, a], 2);
            let want = [a.exp(), a.exp(), 0.0, a.exp()];
            for (x, y) in e.iter().zip(want) {
                assert!(
                    (x - y).abs() <= 1e-14 * y.abs().max(1e-300) + 1e-300,
                    "{a}: {e:?}"
                );
            }
        }
        for th in [0.1, 1.0, 3.0, 50.0] {
            let e = expm(&[0.0, th, -th, 0.0], 2);
            let want = [th.cos(), th.sin(), -th.sin(), th.cos()];
            for (x, y) in e.iter().zip(want) {
                assert!((x - y).abs() < 1e-12 * th.max(1.0), "{th}: {e:?}");
            }
        }
    }

    /// The augmented matrix holds φ₁ and φ₂: for a scalar H = z, exp([[z, 1, 0], [0, 0,
    /// 1], [0, 0, 0]]) has (e^z − 1)/z and (e^z − 1 − z)/z² in its first row.
    #[test]
    fn augmented_exponential_gives_phi_functions() {
        for z in [-0.05, -0.5, -3.0, -30.0] {
            let f = [z, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
            let e = expm(&f, 3);
            let phi1 = (z.exp() - 1.0) / z;
            let phi2 = (z.exp() - 1.0 - z) / (z * z);
            assert!((e[1] - phi1).abs() < 1e-13, "{z}: {} vs {phi1}", e[1]);
            assert!((e[2] - phi2).abs() < 1e-11, "{z}: {} vs {phi2}", e[2]);
        }
    }
}
