//! Variable-step TR-BDF2 with local error control in the Wasserstein-1 norm, for
//! dP/dt = A P (Bank, Coughran, Fichtner, Grosse, Rose & Smith, IEEE Trans. Electron
//! Devices 32 (1985) 1992–2007; Hosea & Shampine, "Analysis and implementation of
//! TR-BDF2", Appl. Numer. Math. 20 (1996) 21–37), and for dP/dt = A(t) P under a
//! schedule (see "Schedules" below).
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
//!   accepted step, is the next step's f_n (a rejected step leaves f_n valid; a
//!   breakpoint of A(t) does not), so a step costs two products A·P, not three;
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
//! after the stop. (A step that lands on a stop or breakpoint may be shorter than the
//! 1e-14 of the span below which the run otherwise fails as stalled: a breakpoint next
//! to a stop.)
//!
//! Schedules. Under a learning-rate or batch schedule the system is dP/dt = A(t) P
//! ([`TimeOperator`]) and each stage takes A at its own time, as the fixed-step method
//! does: the trapezoidal stage solves (I − c A(t_n + γh)) P_γ = P_n + c A(t_n) P_n, the
//! BDF2 stage uses A(t_n + h), and the estimate's f values are f_n = A(t_n) P_n,
//! f_γ = A(t_n + γh) P_γ, f_{n+1} = A(t_n + h) P_{n+1} (its filter solves with
//! I − c A(t_n + h)). The factorisation is kept for the last (operator version, c): one
//! per stage while A changes (a cosine, a warm-up), one per step length while it does
//! not (a step decay between its decays). A is not smooth at the schedule's
//! breakpoints ([`TimeOperator::breakpoints`]: the decays of a step schedule, the ends
//! of a warm-up and of a cosine period, the jumps of the rounded batch size): a step
//! across a jump would have a local error O(h) against a threshold O(h), which no step
//! length meets. So the breakpoints in (t0, last stop) are stop times the run lands on
//! exactly (as above) without reporting them as stops, and a step never straddles one;
//! within a segment A is evaluated by [`TimeOperator::at_within`], so a stage at the
//! segment's end takes the limit from the left. After a breakpoint f_n = A(t_n⁺) P_n is
//! computed afresh (first same as last would carry A(t_n⁻) P_n) and the controller
//! restarts as at t0: no PI history, the proposal capped at the first trial step
//! (10⁻⁴ of the span), the first accepted step's growth up to 100. A jump starts a new
//! transient (the fast modes of the new A), and keeping the controller's long step
//! instead cost as many trials (328 against 325 at tol 1e-4, 2683 against 2684 at
//! 1e-6, `seed` under ×½ every 60 on 200 cells) but took that transient in a few long
//! steps that the W1 estimate passed while the density dipped to −2e-2 (max 90; `seed`,
//! ×½ every 100, 300 cells, tol 1e-3; −1.4e-6 with the restart, tests/schedule.rs).
//! The error estimate assumes A smooth within a segment (the divided difference of f
//! estimates y'''): a kink the breakpoints miss (one in a formula) costs shorter steps
//! around it; a jump they miss passes the error test only when it is small against
//! tol / T, otherwise the step shrinks until the run fails as stalled.
//!
//! Mass is conserved to rounding (each stage is the fixed-step method's, whose
//! matrices have columns summing to one, also for A(t)). Positivity is not guaranteed
//! (as for the fixed-step method).

use super::{check_len, check_stops, Flow, Observer, Propagator, TimeOperator};
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

/// The operator the stages use: y = A(t) x and x ← (I − c A(t))⁻¹ b. The constant A
/// ignores t; A(t) of a schedule evaluates it within the current segment.
trait Stages {
    /// y = A(t) x.
    fn apply(&mut self, t: f64, x: &[f64], y: &mut [f64], stats: &mut Stats) -> Result<()>;
    /// x ← (I − c A(t))⁻¹ b, b_i = rhs(i, x_i).
    fn solve_shifted<R: FnMut(usize, f64) -> f64>(
        &mut self,
        t: f64,
        c: f64,
        x: &mut [f64],
        rhs: R,
        stats: &mut Stats,
    ) -> Result<()>;
}

/// x ← (I − c A)⁻¹ b, b_i = rhs(i, x_i), with `lu` refactorised only when `key` (what
/// identifies A and c) differs from the `cached` key it was last factorised for (the
/// cached key is cleared while factorising, so a failed factorisation is not reused).
#[allow(clippy::too_many_arguments)]
#[inline]
fn solve_cached<K: PartialEq + Copy, R: FnMut(usize, f64) -> f64>(
    lu: &mut Twisted,
    cached: &mut Option<K>,
    key: K,
    a: &Tridiag,
    c: f64,
    x: &mut [f64],
    rhs: R,
    stats: &mut Stats,
) -> Result<()> {
    if *cached != Some(key) {
        *cached = None;
        lu.factor(a, c)?;
        *cached = Some(key);
        stats.factorizations += 1;
    }
    lu.solve_with(x, rhs);
    stats.linear_solves += 1;
    Ok(())
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
}

impl Stages for ConstantOp {
    #[inline]
    fn apply(&mut self, _t: f64, x: &[f64], y: &mut [f64], stats: &mut Stats) -> Result<()> {
        stats.rhs_evals += 1;
        self.a.apply(x, y);
        Ok(())
    }

    /// Refactorises when c changed.
    #[inline]
    fn solve_shifted<R: FnMut(usize, f64) -> f64>(
        &mut self,
        _t: f64,
        c: f64,
        x: &mut [f64],
        rhs: R,
        stats: &mut Stats,
    ) -> Result<()> {
        solve_cached(
            &mut self.lu,
            &mut self.c_bits,
            c.to_bits(),
            &self.a,
            c,
            x,
            rhs,
            stats,
        )
    }
}

/// A(t) of a schedule on the current segment (A smooth on [start, `end`), `end` the
/// next breakpoint or the last stop), with the twisted factorisation of I − c A(t)
/// for the last (operator version, c): one per stage while A changes, one per step
/// length while it does not (a step decay between its decays).
#[derive(Clone, Debug)]
struct ScheduledOp {
    top: TimeOperator,
    end: f64,
    key: Option<(u64, u64)>,
    lu: Twisted,
}

impl Stages for ScheduledOp {
    fn apply(&mut self, t: f64, x: &[f64], y: &mut [f64], stats: &mut Stats) -> Result<()> {
        stats.rhs_evals += 1;
        self.top.at_within(t, self.end)?.apply(x, y);
        Ok(())
    }

    fn solve_shifted<R: FnMut(usize, f64) -> f64>(
        &mut self,
        t: f64,
        c: f64,
        x: &mut [f64],
        rhs: R,
        stats: &mut Stats,
    ) -> Result<()> {
        // the first call re-assembles A when (T(t), B(t)) changed, which sets the
        // version; the second returns the same matrix
        self.top.at_within(t, self.end)?;
        let key = (self.top.version(), c.to_bits());
        let a = self.top.at_within(t, self.end)?;
        solve_cached(&mut self.lu, &mut self.key, key, a, c, x, rhs, stats)
    }
}

/// The vectors of one step: y_n, f_n, f_γ, f_{n+1}, the error estimate.
#[derive(Clone, Debug)]
struct Work {
    y0: Vec<f64>,
    f0: Vec<f64>,
    fg: Vec<f64>,
    f1: Vec<f64>,
    est: Vec<f64>,
    /// Whether `f0` holds A(t_n) y_n for the current y_n: after an accepted step it is
    /// the f_{n+1} of that step (first same as last), after a rejected one it is
    /// unchanged; after a breakpoint of A(t) it is stale (A(t_n) jumped).
    f0_valid: bool,
}

impl Work {
    fn new(n: usize) -> Self {
        Work {
            y0: vec![0.0; n],
            f0: vec![0.0; n],
            fg: vec![0.0; n],
            f1: vec![0.0; n],
            est: vec![0.0; n],
            f0_valid: false,
        }
    }

    /// One trial step of length `h` from `t` with the operator `ops`: `p` holds y_n on
    /// entry and the candidate y_{n+1} on exit (y_n kept in `y0`); returns the W1 norm
    /// (cell widths `widths`) of the error estimate.
    #[inline]
    fn trial<O: Stages>(
        &mut self,
        ops: &mut O,
        widths: &[f64],
        p: &mut [f64],
        t: f64,
        h: f64,
        stats: &mut Stats,
    ) -> Result<f64> {
        let c = DIAG * h;
        let (tg, t1) = (t + GAMMA * h, t + h);
        if !self.f0_valid {
            ops.apply(t, p, &mut self.f0, stats)?;
            self.f0_valid = true;
        }
        // the right-hand sides are formed inside the solves' first sweeps
        // trapezoidal stage: (I − c A(t + γh)) P_γ = P_n + c A(t) P_n (P_n kept in y0)
        let (y0, f0) = (&mut self.y0, &self.f0);
        let rhs = |i: usize, x: f64| {
            y0[i] = x;
            x + c * f0[i]
        };
        ops.solve_shifted(tg, c, p, rhs, stats)?;
        ops.apply(tg, p, &mut self.fg, stats)?;
        // BDF2 stage: (I − c A(t + h)) P_{n+1} = [P_γ − (1 − γ)² P_n] / (γ (2 − γ))
        let s = 1.0 / (GAMMA * (2.0 - GAMMA));
        let r = (1.0 - GAMMA) * (1.0 - GAMMA) * s;
        let y0 = &self.y0;
        ops.solve_shifted(t1, c, p, |i, x| s * x - r * y0[i], stats)?;
        ops.apply(t1, p, &mut self.f1, stats)?;
        // 2 C h × second divided difference of f at 0, γ, 1 (in units of h)
        let k = 2.0 * error_constant() * h;
        let (w0, wg, w1) = (k / GAMMA, -k / (GAMMA * (1.0 - GAMMA)), k / (1.0 - GAMMA));
        let (f0, fg, f1) = (&self.f0, &self.fg, &self.f1);
        let rhs = |i: usize, _: f64| w0 * f0[i] + wg * fg[i] + w1 * f1[i];
        ops.solve_shifted(t1, c, &mut self.est, rhs, stats)?;
        Ok(w1_norm(&self.est, widths))
    }
}

/// Variable-step TR-BDF2 with W1 local error control (see the module documentation).
#[derive(Clone, Debug)]
pub struct AdaptiveTrBdf2 {
    ops: ConstantOp,
    /// A(t) under a schedule (`None`: the constant `ops`).
    sched: Option<ScheduledOp>,
    widths: Vec<f64>,
    tol: f64,
    work: Work,
}

impl AdaptiveTrBdf2 {
    /// The method on the operator `op` with target W1 time error `tol` over the whole
    /// propagation (validated positive by the scheme).
    pub fn new(op: &Operator, tol: f64) -> Self {
        let n = op.a.n();
        AdaptiveTrBdf2 {
            ops: ConstantOp::new(op.a.clone()),
            sched: None,
            widths: op.grid.widths(),
            tol,
            work: Work::new(n),
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

    /// One trial step of length `h` from `t` (A(t) of the current segment under a
    /// schedule): `p` holds y_n on entry and the candidate y_{n+1} on exit (y_n kept);
    /// returns the W1 norm of the error estimate.
    fn trial(&mut self, p: &mut [f64], t: f64, h: f64, stats: &mut Stats) -> Result<f64> {
        match &mut self.sched {
            Some(s) => self.work.trial(s, &self.widths, p, t, h, stats),
            None => self.work.trial(&mut self.ops, &self.widths, p, t, h, stats),
        }
    }

    /// Accept the last trial: first same as last, its f_{n+1} = A y_{n+1} is the next
    /// step's f_n (no product A y at the start of the next trial).
    fn accept(&mut self) {
        let w = &mut self.work;
        std::mem::swap(&mut w.f0, &mut w.f1);
    }

    /// Reject the last trial: `p` gets y_n back; `f0` still holds A y_n.
    fn reject(&self, p: &mut [f64]) {
        p.copy_from_slice(&self.work.y0);
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
        let t_last = stops.last().copied().unwrap_or(t0);
        let span = t_last - t0;
        // under a schedule: the breakpoints of A(t) in (t0, last stop), each landed on
        let breaks = match &mut self.sched {
            Some(s) => {
                let b = s.top.breakpoints(t0, t_last);
                s.end = b.first().copied().unwrap_or(t_last);
                b
            }
            None => Vec::new(),
        };
        let mut next_break = 0;
        let mut h = span * FIRST_STEP;
        let mut prev_ratio: Option<f64> = None;
        let mut t = t0;
        let start_steps = stats.steps;
        // p comes from outside: A p is computed afresh
        self.work.f0_valid = false;
        for &stop in stops {
            while t < stop {
                // the next breakpoint before the stop, if any, ends the step
                let end = match breaks.get(next_break) {
                    Some(&b) if b < stop => b,
                    _ => stop,
                };
                let (step, last) = clip(h, t, end);
                // (a step landing on a target may be short: a breakpoint next to a stop)
                if !(step > 0.0 && t + step > t) || (step < 1e-14 * span && !last) {
                    return Err(Error::SolverFailed {
                        t,
                        reason: format!(
                            "adaptive TR-BDF2: step {step:e} too small to advance (tol {:e})",
                            self.tol
                        ),
                    });
                }
                let err = self.trial(p, t, step, stats)?;
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
                // the first accepted step (of the run, or after a breakpoint) sets the
                // scale (the first trial is short)
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
                t = if last { end } else { t + step };
                if next_break < breaks.len() && t >= breaks[next_break] {
                    // a breakpoint: A may jump here, so f_n = A(t⁺) P_n is recomputed,
                    // and the controller restarts as at t0 (a new transient sets in):
                    // no PI history, the proposal capped at the first trial step
                    next_break += 1;
                    if let Some(s) = &mut self.sched {
                        s.end = breaks.get(next_break).copied().unwrap_or(t_last);
                    }
                    self.work.f0_valid = false;
                    prev_ratio = None;
                    h = h.min(span * FIRST_STEP);
                }
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

    fn schedule(&mut self, op: TimeOperator) -> Result<()> {
        let n = self.widths.len();
        check_len(op.n(), n)?;
        self.sched = Some(ScheduledOp {
            top: op,
            end: f64::INFINITY,
            key: None,
            lu: Twisted::new(n),
        });
        Ok(())
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
            sched: None,
            widths: vec![1.0],
            tol: 1.0,
            work: Work::new(1),
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
            m.trial(&mut y, 0.0, 1.0, &mut stats).unwrap();
            let true_err = z.exp() - y[0];
            let ratio = m.work.est[0] / true_err;
            assert!(
                (ratio - 1.0).abs() < 0.1,
                "z = {z}: est {} vs {true_err}",
                m.work.est[0]
            );
        }
        // stiff z: the raw estimate grows like z, the filtered one stays O(1)
        for z in [-1e2, -1e6] {
            let mut m = scalar(z);
            let mut stats = Stats::default();
            let mut y = [1.0];
            m.trial(&mut y, 0.0, 1.0, &mut stats).unwrap();
            assert!(m.work.est[0].abs() < 2.0, "z = {z}: est {}", m.work.est[0]);
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
            m.work = Work::new(n);
            m
        };
        let (mut m, mut r) = (new(&a), new(&a));
        let p0: Vec<f64> = (0..n).map(|_| g.unit()).collect();
        let (mut p, mut q) = (p0.clone(), p0);
        let (mut sm, mut sr) = (Stats::default(), Stats::default());
        for (k, h) in [1e-3, 5e-3, 2e-2, 1e-2, 0.1, 0.05].into_iter().enumerate() {
            let em = m.trial(&mut p, 0.0, h, &mut sm).unwrap();
            r.work.f0_valid = false;
            let er = r.trial(&mut q, 0.0, h, &mut sr).unwrap();
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

    /// e^{τA} v by the Carathéodory–Fejér rational approximation of degree 16 (exact to
    /// rounding on the negative real spectrum of these operators).
    fn exp(a: &Tridiag, tau: f64, v: &[f64]) -> Vec<f64> {
        use crate::time::{Approximation, ExpOrigin, Rational, RationalExp};
        let r = Rational::new(Approximation::Cf, 16).unwrap();
        let mut e = RationalExp::on_matrix(a.clone(), r, 1e6, ExpOrigin::Previous);
        let mut out = vec![0.0; v.len()];
        e.apply(tau, v, &mut out, &mut Stats::default()).unwrap();
        out
    }

    struct Stops(Vec<(f64, Vec<f64>)>);
    impl Observer for Stops {
        fn stop(&mut self, t: f64, p: &[f64], _: &Stats) -> Flow {
            self.0.push((t, p.to_vec()));
            Flow::Continue
        }
    }

    /// Under a step decay (A jumps at t = 20) on a small grid the run lands on the jump
    /// and matches the exact solution e^{(t−20) A₂} e^{20 A₁} P₀ to the tolerance; a
    /// step across the jump would have an O(h) error estimate against an O(h) threshold
    /// and fail, and a stale f_n = A₁ P_n after the jump an O(h) error.
    #[test]
    fn a_jump_in_a_is_landed_on_and_followed() {
        use crate::model::problem::Problem;
        use crate::model::schedule::{Schedule, Shape};
        use crate::space::grid::Grid;
        let mut prob = Problem::builtin("ou").unwrap();
        prob.lr = 0.05;
        let shape = Shape::Step {
            every: 20.0,
            factor: 0.25,
        };
        prob.schedule.lr = Schedule::new(shape).unwrap();
        let grid = Grid::new(prob.a, prob.b, 8).unwrap();
        let flux = || crate::space::flux::by_name("scharfetter-gummel").unwrap();
        let mut top = TimeOperator::new(&prob, grid.clone(), flux());
        let op = top.operator_at(0.0).unwrap();
        let (a1, a2) = (top.at(10.0).unwrap().clone(), top.at(30.0).unwrap().clone());
        let widths = grid.widths();
        // unit mass, off the stationary state
        let w = [0.0, 0.1, 0.3, 1.2, 2.0, 0.6, 0.2, 0.0];
        let p0: Vec<f64> = (0..8).map(|i| w[i] / 4.4 / widths[i]).collect();
        let mass = |p: &[f64]| p.iter().zip(&widths).map(|(x, h)| x * h).sum::<f64>();
        let exact = |t: f64| match t <= 20.0 {
            true => exp(&a1, t, &p0),
            false => exp(&a2, t - 20.0, &exp(&a1, 20.0, &p0)),
        };
        // the jump matters: A₁ held throughout would be far off
        let flat = exp(&a1, 35.0, &p0);
        let diff: Vec<f64> = flat.iter().zip(&exact(35.0)).map(|(x, y)| x - y).collect();
        assert!(
            w1_norm(&diff, &widths) > 1e-2,
            "{}",
            w1_norm(&diff, &widths)
        );
        // a stop before the jump, and one on it
        for (tol, stops) in [
            (1e-5, [15.0, 35.0]),
            (1e-7, [15.0, 35.0]),
            (1e-5, [20.0, 35.0]),
        ] {
            let mut m = AdaptiveTrBdf2::new(&op, tol);
            m.schedule(top.clone()).unwrap();
            let (mut p, mut stats, mut seen) = (p0.clone(), Stats::default(), Stops(vec![]));
            let t = m.propagate(&mut p, 0.0, &stops, &mut seen, &mut stats);
            assert_eq!(t.unwrap().to_bits(), 35.0f64.to_bits());
            // only the stops are reported, not the breakpoint
            assert_eq!(seen.0.iter().map(|s| s.0).collect::<Vec<_>>(), stops);
            for (t, got) in &seen.0 {
                let e: Vec<f64> = got.iter().zip(exact(*t)).map(|(x, y)| x - y).collect();
                let err = w1_norm(&e, &widths);
                assert!(err < tol, "tol {tol:e}, t = {t}: W1 error {err:e}");
                let dm = (mass(got) - 1.0).abs();
                assert!(dm < 1e-12, "mass error {dm:e}");
            }
        }
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
