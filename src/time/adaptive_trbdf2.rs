//! Variable-step TR-BDF2 with local error control in the Wasserstein-1 norm, for
//! dP/dt = A P (Bank, Coughran, Fichtner, Grosse, Rose & Smith, IEEE Trans. Electron
//! Devices 32 (1985) 1992–2007; Hosea & Shampine, "Analysis and implementation of
//! TR-BDF2", Appl. Numer. Math. 20 (1996) 21–37).
//!
//! One step of length h from t_n is the fixed-step method's (see `trbdf2`): a
//! trapezoidal stage to t_n + γh and a BDF2 stage to t_n + h, both solving with
//! I − d h A, d = 1 − 1/√2. The step length changes from step to step, so the
//! tridiagonal matrix is refactorised at every new h (O(N), like a substitution).
//!
//! Cost. A step is three solves with I − d h A, one factorisation and two products
//! A·P, all O(N) and, at a few hundred cells, bound by the latency of the recurrences
//! rather than by memory. Hence:
//! - the factorisation is twisted (rows above the middle eliminated downward, rows
//!   below upward, meeting at the middle row; Meurant 1992, Dhillon & Parlett 2004), so
//!   each sweep of a solve runs two independent recurrences of N/2 rows side by side,
//!   each row one fused multiply-add on the chain;
//! - its pivots are ratios of leading (trailing) principal minors, computed by the
//!   three-term minor recurrence with exact power-of-two rescaling, so no division is
//!   on the chain (the divisions q_{i−1}/q_i are independent and pipeline); the ratio
//!   recurrence of the Thomas algorithm is the fallback should a pivot come out zero
//!   or non-finite (see `Twisted`);
//! - first same as last: f_{n+1} = A P_{n+1}, computed for the error estimate of an
//!   accepted step, is the next step's f_n (a rejected step leaves f_n valid), so a
//!   step costs two products A·P, not three;
//! - the W1 norm of the estimate runs its two halves side by side (see [`w1_norm`]);
//! - the stage right-hand sides and the combination of the error estimate are formed
//!   row by row inside the first sweep of each solve (off its chain), not in passes of
//!   their own. (Forming A·P inside the second sweep as well was tried and measured
//!   slower than the separate vectorised product.)
//!
//! The sweeps and minor recurrences are written with `mul_add` and compiled with FMA
//! where the processor has it (one rounding either way: the same results on every
//! machine). Keeping h when the controller proposes a slightly longer step (as RADAU5
//! does for proposals within [1, 1.2] of the last step, Hairer & Wanner, Solving ODEs
//! II, §IV.8) would save factorisations, but here a factorisation costs about one
//! solve, and on the seed problem (500–700 cells) the kept steps added ~30% more
//! steps (95 → 122 at tol 1e-3, 35 → 38 at 1.6e-2): slower overall, and the W1 time
//! error was larger at 500 cells (+8% at tol 1e-3, +26% at 1.6e-2), smaller at 600
//! and 700 (−12% to −29%).
//! The step is therefore always the controller's.
//!
//! Local error. The leading local truncation error is C h³ y''' with
//! C = (−3γ² + 4γ − 2) / (12 (2 − γ)) ≈ −0.0404 (Bank et al. 1985); y''' is estimated by
//! the second divided difference of f = A P at t_n, t_n + γh, t_n + h:
//!
//!   est = 2 C h [ f_n / γ − f_γ / (γ (1 − γ)) + f_{n+1} / (1 − γ) ],
//!
//! and, as Hosea & Shampine recommend for stiff problems, filtered by one more solve
//! with the same matrix, est ← (I − d h A)⁻¹ est, which keeps it bounded for the stiff
//! modes the method damps. The error is measured in the norm the results are scored
//! in, the W1 norm of the error vector: ∫ |E(x)| dx with E the cumulative sum of
//! est_i h_i (cell widths h_i), integrated exactly over each cell.
//!
//! Control. A step is accepted when its estimate is at most tol · h / T ("error per
//! unit step", T the span of the propagation), so the estimated local errors sum to at
//! most tol over the run: `tol` is a target for the W1 time error at the end (the
//! Fokker–Planck flow does not amplify W1 errors of zero-mass perturbations much; the
//! run's estimate checks the achieved error, see `run::estimate`). With
//! r = est / (tol h / T) ∝ h², the next step is h · 0.9 · r_n^(−0.35) · r_{n−1}^(0.2)
//! (the PI controller of Gustafsson 1991 with exponents 0.7/2 and 0.4/2), between 0.2
//! and 5 times the last; a rejected step is retried at h · max(0.2, 0.9 r^(−1/2)).
//! Every stop time is landed on exactly by shortening the step before it (two equal
//! steps when one would leave a sliver); the step the controller proposed is kept for
//! after the stop.
//!
//! Mass is conserved to rounding (each stage is the fixed-step method's, whose
//! matrices have columns summing to one). Positivity is not guaranteed (as for the
//! fixed-step method). Schedules (A(t)) are refused: a step decay makes A jump, the
//! local error of a step across the jump is O(h) against a threshold O(h), and the
//! controller would shrink the step to nothing there; the fixed-step card follows them.

use super::{check_len, check_stops, Flow, Observer, Propagator};
use crate::error::{Error, Result};
use crate::space::operator::{Operator, Tridiag};
use crate::space::twisted::Twisted;
use crate::stats::Stats;

use super::trbdf2::{DIAG, GAMMA};

/// Default target W1 time error of the adaptive card (the `tol` key).
pub const DEFAULT_TOL: f64 = 1e-3;
/// Most accepted steps per propagation before the run fails.
pub const MAX_ADAPTIVE_STEPS: u64 = 2_000_000;
/// First trial step as a fraction of the propagation's span.
const FIRST_STEP: f64 = 1e-4;
const SAFETY: f64 = 0.9;
/// Largest growth after the first accepted step.
const FIRST_GROWTH: f64 = 100.0;
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 5.0;
const K_I: f64 = 0.7 / 2.0;
const K_P: f64 = 0.4 / 2.0;

/// The error constant C of TR-BDF2: local error ≈ C h³ y'''.
pub fn error_constant() -> f64 {
    let g = GAMMA;
    (-3.0 * g * g + 4.0 * g - 2.0) / (12.0 * (2.0 - g))
}

/// The W1 norm of a perturbation `e` of a cell-average density on cells of widths
/// `widths`: ∫ |E| dx with E(x) the integral of e up to x, piecewise linear in each
/// cell; each cell's part is integrated exactly (also where E changes sign).
///
/// E at the middle edge is summed first (four partial sums), then the two halves run
/// side by side, each its own running E and sum: two dependency chains of n/2 cells
/// instead of one of n (the result differs from the left-to-right sum by rounding).
pub fn w1_norm(e: &[f64], widths: &[f64]) -> f64 {
    let n = e.len().min(widths.len());
    let m = n / 2;
    let (el, er) = (&e[..m], &e[m..n]);
    let (hl, hr) = (&widths[..m], &widths[m..n]);
    let mut lanes = [0.0_f64; 4];
    for (ve, vh) in el.chunks_exact(4).zip(hl.chunks_exact(4)) {
        for l in 0..4 {
            lanes[l] += ve[l] * vh[l];
        }
    }
    let mut mid = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (v, h) in el
        .chunks_exact(4)
        .remainder()
        .iter()
        .zip(hl.chunks_exact(4).remainder())
    {
        mid += v * h;
    }
    let (mut fl, mut sl) = (0.0_f64, 0.0_f64);
    let (mut fr, mut sr) = (mid, 0.0_f64);
    for ((vl, hl), (vr, hr)) in el.iter().zip(hl).zip(er.iter().zip(hr)) {
        sl += w1_cell(&mut fl, *vl, *hl);
        sr += w1_cell(&mut fr, *vr, *hr);
    }
    for (v, h) in er.iter().zip(hr).skip(m) {
        sr += w1_cell(&mut fr, *v, *h);
    }
    sl + sr
}

/// ∫ |E| over one cell of width `h` where E goes from `f0` to f0 + v h (returned in `f0`).
#[inline(always)]
fn w1_cell(f0: &mut f64, v: f64, h: f64) -> f64 {
    let a = *f0;
    let b = a + v * h;
    *f0 = b;
    if (a >= 0.0) == (b >= 0.0) {
        0.5 * h * (a.abs() + b.abs())
    } else {
        0.5 * h * (a * a + b * b) / (a.abs() + b.abs())
    }
}

/// The constant A with the twisted factorisation of I − c A for the last c
/// (refactorised in place when c changes: O(N), no allocation).
#[derive(Clone, Debug)]
struct ConstantOp {
    a: Tridiag,
    c_bits: Option<u64>,
    lu: Twisted,
}

impl ConstantOp {
    fn new(a: Tridiag) -> Self {
        let n = a.n();
        ConstantOp {
            a,
            c_bits: None,
            lu: Twisted::new(n),
        }
    }

    fn apply(&self, x: &[f64], y: &mut [f64], stats: &mut Stats) {
        stats.rhs_evals += 1;
        self.a.apply(x, y);
    }

    /// x ← (I − c A)⁻¹ b, b_i = rhs(i, x_i), refactorising when c changed.
    fn solve_shifted<R: FnMut(usize, f64) -> f64>(
        &mut self,
        c: f64,
        x: &mut [f64],
        rhs: R,
        stats: &mut Stats,
    ) -> Result<()> {
        if self.c_bits != Some(c.to_bits()) {
            self.c_bits = None;
            self.lu.factor(&self.a, c)?;
            self.c_bits = Some(c.to_bits());
            stats.factorizations += 1;
        }
        self.lu.solve_with(x, rhs);
        stats.linear_solves += 1;
        Ok(())
    }
}

/// Variable-step TR-BDF2 with W1 local error control (see the module documentation).
#[derive(Clone, Debug)]
pub struct AdaptiveTrBdf2 {
    ops: ConstantOp,
    widths: Vec<f64>,
    tol: f64,
    /// y_n, f_n, f_γ, f_{n+1}, the error estimate.
    y0: Vec<f64>,
    f0: Vec<f64>,
    fg: Vec<f64>,
    f1: Vec<f64>,
    est: Vec<f64>,
    /// Whether `f0` holds A y_n for the current y_n: after an accepted step it is the
    /// f_{n+1} of that step (first same as last), after a rejected one it is unchanged.
    f0_valid: bool,
}

impl AdaptiveTrBdf2 {
    /// The method on the operator `op` with target W1 time error `tol` over the whole
    /// propagation (validated positive by the scheme).
    pub fn new(op: &Operator, tol: f64) -> Self {
        let n = op.a.n();
        AdaptiveTrBdf2 {
            ops: ConstantOp::new(op.a.clone()),
            widths: op.grid.widths(),
            tol,
            y0: vec![0.0; n],
            f0: vec![0.0; n],
            fg: vec![0.0; n],
            f1: vec![0.0; n],
            est: vec![0.0; n],
            f0_valid: false,
        }
    }

    /// Description for the scheme catalogue (card `kind = "tr-bdf2-adaptive"`).
    pub const INFO: super::IntegratorInfo = super::IntegratorInfo {
        kind: "tr-bdf2-adaptive",
        summary: "variable-step TR-BDF2, γ = 2 − √2, local error (Hosea–Shampine estimate) controlled in the W1 norm per unit step, PI step controller, stop times hit exactly (L-stable, conservative, not positivity preserving)",
        order: "2",
        keys: &[(
            "tol",
            "bound on the summed local W1 error estimates, a target for the W1 time error at the end (default 1e-3; --rtol overrides it)",
        )],
    };

    /// One trial step of length `h` from `t`: `p` holds y_n on entry and the candidate
    /// y_{n+1} on exit (y_n kept in `y0`); returns the W1 norm of the error estimate.
    fn trial(&mut self, p: &mut [f64], h: f64, stats: &mut Stats) -> Result<f64> {
        let c = DIAG * h;
        if !self.f0_valid {
            self.ops.apply(p, &mut self.f0, stats);
            self.f0_valid = true;
        }
        // the right-hand sides are formed inside the solves' first sweeps
        // trapezoidal stage: (I − c A) P_γ = P_n + c A P_n (keeping P_n in y0)
        let (y0, f0) = (&mut self.y0, &self.f0);
        let rhs = |i: usize, x: f64| {
            y0[i] = x;
            x + c * f0[i]
        };
        self.ops.solve_shifted(c, p, rhs, stats)?;
        self.ops.apply(p, &mut self.fg, stats);
        // BDF2 stage: (I − c A) P_{n+1} = [P_γ − (1 − γ)² P_n] / (γ (2 − γ))
        let s = 1.0 / (GAMMA * (2.0 - GAMMA));
        let r = (1.0 - GAMMA) * (1.0 - GAMMA) * s;
        let y0 = &self.y0;
        self.ops
            .solve_shifted(c, p, |i, x| s * x - r * y0[i], stats)?;
        self.ops.apply(p, &mut self.f1, stats);
        // 2 C h × second divided difference of f at 0, γ, 1 (in units of h)
        let k = 2.0 * error_constant() * h;
        let (w0, wg, w1) = (k / GAMMA, -k / (GAMMA * (1.0 - GAMMA)), k / (1.0 - GAMMA));
        let (f0, fg, f1) = (&self.f0, &self.fg, &self.f1);
        let rhs = |i: usize, _: f64| w0 * f0[i] + wg * fg[i] + w1 * f1[i];
        self.ops.solve_shifted(c, &mut self.est, rhs, stats)?;
        Ok(w1_norm(&self.est, &self.widths))
    }

    /// Accept the last trial: first same as last, its f_{n+1} = A y_{n+1} is the next
    /// step's f_n (no product A y at the start of the next trial).
    fn accept(&mut self) {
        std::mem::swap(&mut self.f0, &mut self.f1);
    }

    /// Reject the last trial: `p` gets y_n back; `f0` still holds A y_n.
    fn reject(&self, p: &mut [f64]) {
        p.copy_from_slice(&self.y0);
    }
}

/// The step to try from `t` toward `stop` when the controller proposes `h`: the
/// remainder when `h` reaches it, half of it when `h` would leave less than a step.
fn clip(h: f64, t: f64, stop: f64) -> (f64, bool) {
    let rem = stop - t;
    if h >= rem * (1.0 - 1e-12) {
        (rem, true)
    } else if 2.0 * h > rem {
        (0.5 * rem, false)
    } else {
        (h, false)
    }
}

impl Propagator for AdaptiveTrBdf2 {
    fn name(&self) -> &str {
        AdaptiveTrBdf2::INFO.kind
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
        check_len(p.len(), self.widths.len())?;
        let span = stops.last().map_or(0.0, |s| s - t0);
        let mut h = span * FIRST_STEP;
        let mut prev_ratio: Option<f64> = None;
        let mut t = t0;
        let start_steps = stats.steps;
        // p comes from outside: A p is computed afresh
        self.f0_valid = false;
        for &stop in stops {
            while t < stop {
                let (step, last) = clip(h, t, stop);
                if !(step > 0.0 && t + step > t) || step < 1e-14 * span {
                    return Err(Error::SolverFailed {
                        t,
                        reason: format!(
                            "adaptive TR-BDF2: step {step:e} too small to advance (tol {:e})",
                            self.tol
                        ),
                    });
                }
                let err = self.trial(p, step, stats)?;
                let ratio = err / (self.tol * step / span);
                if !ratio.is_finite() || ratio > 1.0 {
                    self.reject(p);
                    stats.rejected_steps += 1;
                    stats.error_test_failures += 1;
                    let f = if ratio.is_finite() {
                        (SAFETY * ratio.powf(-0.5)).max(MIN_FACTOR)
                    } else {
                        MIN_FACTOR
                    };
                    h = step * f.min(0.9);
                    continue;
                }
                let r = ratio.max(1e-10);
                // the first accepted step sets the scale (the first trial is short)
                let proposal = match prev_ratio {
                    Some(rp) => {
                        step * (SAFETY * r.powf(-K_I) * rp.powf(K_P)).clamp(MIN_FACTOR, MAX_FACTOR)
                    }
                    None => step * (SAFETY * r.powf(-0.5)).clamp(MIN_FACTOR, FIRST_GROWTH),
                };
                // a step shortened to meet a stop keeps the controller's longer one
                h = if step < h { proposal.max(h) } else { proposal };
                prev_ratio = Some(r);
                self.accept();
                t = if last { stop } else { t + step };
                stats.steps += 1;
                if observer.step(t, p, stats) == Flow::Halt {
                    return Ok(t);
                }
                if stats.steps - start_steps > MAX_ADAPTIVE_STEPS {
                    return Err(Error::SolverFailed {
                        t,
                        reason: format!(
                            "adaptive TR-BDF2: more than {MAX_ADAPTIVE_STEPS} steps (tol {:e})",
                            self.tol
                        ),
                    });
                }
            }
            if observer.stop(t, p, stats) == Flow::Halt {
                return Ok(t);
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::twisted::testing::{random_fv, Gen};

    fn scalar(lam: f64) -> AdaptiveTrBdf2 {
        let mut a = Tridiag::zeros(1);
        a.diag[0] = lam;
        AdaptiveTrBdf2 {
            ops: ConstantOp::new(a),
            widths: vec![1.0],
            tol: 1.0,
            y0: vec![0.0],
            f0: vec![0.0],
            fg: vec![0.0],
            f1: vec![0.0],
            est: vec![0.0],
            f0_valid: false,
        }
    }

    /// On y' = λ y the estimate matches the true local error e^z y_n − y_{n+1} to
    /// leading order (z = λ h → 0), and stays bounded for stiff z (the filter).
    #[test]
    fn the_estimate_is_the_local_error() {
        for z in [-1e-3, -1e-2, -0.05, 1e-2] {
            let mut m = scalar(z);
            let mut stats = Stats::default();
            let mut y = [1.0];
            m.trial(&mut y, 1.0, &mut stats).unwrap();
            let true_err = z.exp() - y[0];
            let ratio = m.est[0] / true_err;
            assert!(
                (ratio - 1.0).abs() < 0.1,
                "z = {z}: est {} vs {true_err}",
                m.est[0]
            );
        }
        // stiff z: the raw estimate grows like z, the filtered one stays O(1)
        for z in [-1e2, -1e6] {
            let mut m = scalar(z);
            let mut stats = Stats::default();
            let mut y = [1.0];
            m.trial(&mut y, 1.0, &mut stats).unwrap();
            assert!(m.est[0].abs() < 2.0, "z = {z}: est {}", m.est[0]);
        }
    }

    /// First same as last: reusing f_{n+1} as the next f_n gives bit for bit the steps
    /// of recomputing A y_n at every trial, through rejections, with one product A y
    /// per trial fewer.
    #[test]
    fn fsal_matches_recomputing() {
        let mut g = Gen(12345);
        let n = 60;
        let (a, widths) = random_fv(&mut g, n);
        let new = |a: &Tridiag| {
            let mut m = scalar(0.0);
            m.ops = ConstantOp::new(a.clone());
            m.widths = widths.clone();
            for v in [&mut m.y0, &mut m.f0, &mut m.fg, &mut m.f1, &mut m.est] {
                *v = vec![0.0; n];
            }
            m
        };
        let (mut m, mut r) = (new(&a), new(&a));
        let p0: Vec<f64> = (0..n).map(|_| g.unit()).collect();
        let (mut p, mut q) = (p0.clone(), p0);
        let (mut sm, mut sr) = (Stats::default(), Stats::default());
        for (k, h) in [1e-3, 5e-3, 2e-2, 1e-2, 0.1, 0.05].into_iter().enumerate() {
            let em = m.trial(&mut p, h, &mut sm).unwrap();
            r.f0_valid = false;
            let er = r.trial(&mut q, h, &mut sr).unwrap();
            assert_eq!(em.to_bits(), er.to_bits());
            if k == 3 {
                m.reject(&mut p);
                r.reject(&mut q);
            } else {
                m.accept();
                r.accept();
            }
            assert_eq!(p, q);
        }
        assert_eq!(sm.rhs_evals, 1 + 2 * 6);
        assert_eq!(sr.rhs_evals, 3 * 6);
    }

    #[test]
    fn the_w1_norm_integrates_the_cumulative_error() {
        // +1 on the first cell, −1 on the second (widths 1): E rises to 1, falls to 0
        assert!((w1_norm(&[1.0, -1.0], &[1.0, 1.0]) - 1.0).abs() < 1e-15);
        // widths scale both the mass and the length
        assert!((w1_norm(&[1.0, -1.0], &[0.5, 0.5]) - 0.25).abs() < 1e-15);
        // a sign change inside a cell: E from 1 to −1 over width 1 gives ½
        assert!((w1_norm(&[1.0, -2.0, 1.0], &[1.0, 1.0, 1.0]) - (0.5 + 0.5 + 0.5)).abs() < 1e-15);
        assert!((error_constant() + 0.0404).abs() < 1e-4);
    }

    /// The two-halves sum is the left-to-right one to rounding, for every size parity.
    #[test]
    fn the_w1_norm_in_halves_is_the_sequential_one() {
        let mut g = Gen(777);
        for n in [1, 2, 3, 4, 5, 9, 10, 101, 500] {
            let e: Vec<f64> = (0..n).map(|_| g.unit() - 0.5).collect();
            let h: Vec<f64> = (0..n).map(|_| g.log(-3.0, 0.0)).collect();
            let mut f = 0.0;
            let want: f64 = e.iter().zip(&h).map(|(v, w)| w1_cell(&mut f, *v, *w)).sum();
            let got = w1_norm(&e, &h);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "n = {n}: {got} vs {want}"
            );
        }
    }
}
