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

/// Powers of two between which the leading minors of the division-free factorisation
/// are kept (rescaled exactly, by a power of two, when they leave the range).
const MINOR_BIG: f64 = 1.0e150;
const MINOR_SMALL: f64 = 1.0e-150;

/// Rescale the pair of consecutive minors (q1 the newer) when q1 left the safe range.
#[inline(always)]
fn rescale(q1: &mut f64, q0: &mut f64) {
    let m = q1.abs();
    if m > MINOR_BIG {
        *q1 *= MINOR_SMALL;
        *q0 *= MINOR_SMALL;
    } else if m < MINOR_SMALL && m > 0.0 {
        *q1 *= MINOR_BIG;
        *q0 *= MINOR_BIG;
    }
}

/// Twisted ("burn at both ends") factorisation of I − c A for one tridiagonal A,
/// stored so that both substitution sweeps are one multiply-add per row.
///
/// Rows 0..k are eliminated downward (LU pivots π_i), rows k+1..n upward (UL pivots
/// ρ_i), and row k, the twist, takes both (Meurant, SIAM J. Matrix Anal. Appl. 13
/// (1992) 707–728; Dhillon & Parlett, Linear Algebra Appl. 387 (2004) 1–28). The two
/// halves are independent recurrences, so a sweep runs them side by side and its
/// dependency chain is half as long as the Thomas algorithm's; with k = n/2 each sweep
/// waits on n/2 multiply-adds instead of n.
///
/// The pivots are ratios of leading (trailing) principal minors, π_i = q_i / q_{i−1}
/// with q_i = a_i q_{i−1} − b_i q_{i−2} (a_i = 1 − c A_ii, b_i = c² A_{i,i−1} A_{i−1,i};
/// the pivots of elimination are ratios of leading principal minors, and the minors
/// of a tridiagonal matrix obey this three-term continuant recurrence), so the chain
/// carries one fused multiply-add per row (the product b_i q_{i−2} is ready a row
/// early) and the
/// divisions 1/π_i = q_{i−1}/q_i are off it (independent, they pipeline); the minors
/// are rescaled by a power of two when they leave [1e-150, 1e150]. For the
/// Fokker–Planck operators (A an M-matrix whose columns sum to zero against the cell
/// widths: I − cA is then, after the diagonal similarity by the widths, column
/// diagonally dominant with diagonal ≥ 1) the pivots are ≥ 1 and the minors only
/// grow; the ratio π_i = a_i − b_i / π_{i−1} that the minors reproduce has error
/// amplification b_i / π_{i−1}² ≤ 1, the same as the Thomas algorithm's. Should the
/// minors give a zero or non-finite pivot anyway, the pivots are recomputed by the
/// ratio recurrence before a failure is reported.
#[derive(Clone, Debug)]
struct Twisted {
    /// The twist row.
    k: usize,
    /// 1 / pivot of each row (LU pivots above k, UL pivots below, γ_k at k).
    inv: Vec<f64>,
    /// Coefficient of the neighbour in the first sweep, divided by the pivot:
    /// c A_{i,i−1} / π_i above k, c A_{i,i+1} / ρ_i below k, c A_{k,k−1} / γ_k at k.
    first: Vec<f64>,
    /// Coefficient of the neighbour in the second sweep: c A_{i,i+1} / π_i above k,
    /// c A_{i,i−1} / ρ_i below k, c A_{k,k+1} / γ_k at k.
    second: Vec<f64>,
}

impl Twisted {
    fn new(n: usize) -> Self {
        Twisted {
            k: n / 2,
            inv: vec![0.0; n],
            first: vec![0.0; n],
            second: vec![0.0; n],
        }
    }

    /// Factorise I − c A (division-free chain; ratio recurrence as fallback).
    fn factor(&mut self, a: &Tridiag, c: f64) -> Result<()> {
        self.factor_minors(a, c);
        if self.pivots_ok() {
            return Ok(());
        }
        self.factor_ratios(a, c);
        if self.pivots_ok() {
            return Ok(());
        }
        let i = (0..a.n())
            .find(|&i| !(self.inv[i].is_finite() && self.inv[i] != 0.0))
            .unwrap_or(0);
        Err(Error::SolverFailed {
            t: f64::NAN,
            reason: format!(
                "tridiagonal factorisation: pivot {} in row {i}",
                1.0 / self.inv[i]
            ),
        })
    }

    /// Whether every 1/pivot is finite and non-zero (one branch-free pass).
    fn pivots_ok(&self) -> bool {
        let mut bad = 0_u32;
        for v in &self.inv {
            let m = v.abs();
            bad += u32::from(!(m < f64::INFINITY && m > 0.0));
        }
        bad == 0
    }

    /// The pivots from the minors (see the type's documentation).
    fn factor_minors(&mut self, a: &Tridiag, c: f64) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: only requires FMA, detected just above.
            return unsafe { self.factor_minors_fma(a, c) };
        }
        self.factor_minors_body(a, c);
    }

    /// [`Twisted::factor_minors`] compiled with FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn factor_minors_fma(&mut self, a: &Tridiag, c: f64) {
        self.factor_minors_body(a, c);
    }

    /// The body of [`Twisted::factor_minors`]: the recurrences are written with fused
    /// multiply-adds (one rounding; the same result with or without FMA hardware).
    #[inline(always)]
    fn factor_minors_body(&mut self, a: &Tridiag, c: f64) {
        let n = a.n();
        let k = self.k;
        // the coefficients of each row first (independent, vectorised): a_i = 1 − c A_ii
        // in `inv`, c times the sub- and super-diagonal in `first` and `second` (in the
        // order the sweeps use them); each is then divided by the pivot in place
        for (v, d) in self.inv.iter_mut().zip(&a.diag) {
            *v = 1.0 - c * d;
        }
        let (ft, fb) = self.first.split_at_mut(k);
        let (st, sb) = self.second.split_at_mut(k);
        for ((f, s), (l, u)) in ft
            .iter_mut()
            .zip(st.iter_mut())
            .zip(a.lower.iter().zip(&a.upper))
        {
            *f = c * l;
            *s = c * u;
        }
        let (fb, sb) = (&mut fb[1..], &mut sb[1..]);
        let (lb, ub) = (&a.lower[k + 1..], &a.upper[k + 1..]);
        for ((f, s), (l, u)) in fb.iter_mut().zip(sb.iter_mut()).zip(lb.iter().zip(ub)) {
            *f = c * u;
            *s = c * l;
        }
        // top: q_{i−2}, q_{i−1} and c A_{i−1,i}; bottom: r_{i+2}, r_{i+1} and c A_{i+1,i}
        let (mut q0, mut q1, mut cu) = (0.0_f64, 1.0_f64, 0.0_f64);
        let (mut r0, mut r1, mut cl) = (0.0_f64, 1.0_f64, 0.0_f64);
        let (it, rest) = self.inv.split_at_mut(k);
        let ib = &mut rest[1..];
        let top = it.iter_mut().zip(ft.iter_mut()).zip(st.iter_mut());
        let bot = ib.iter_mut().zip(fb.iter_mut()).zip(sb.iter_mut()).rev();
        let common = top.len().min(bot.len());
        let mut top_row = |((v, f), s): ((&mut f64, &mut f64), &mut f64)| {
            // q_i = a_i q_{i−1} − c² A_{i,i−1} A_{i−1,i} q_{i−2}
            let q = v.mul_add(q1, -((*f * cu) * q0));
            let iv = q1 / q;
            *v = iv;
            cu = *s;
            *f *= iv;
            *s *= iv;
            q0 = q1;
            q1 = q;
            rescale(&mut q1, &mut q0);
        };
        let mut bot_row = |((v, f), s): ((&mut f64, &mut f64), &mut f64)| {
            let r = v.mul_add(r1, -((*f * cl) * r0));
            let iv = r1 / r;
            *v = iv;
            cl = *s;
            *f *= iv;
            *s *= iv;
            r0 = r1;
            r1 = r;
            rescale(&mut r1, &mut r0);
        };
        let (mut top, mut bot) = (top, bot);
        for _ in 0..common {
            if let (Some(x), Some(y)) = (top.next(), bot.next()) {
                top_row(x);
                bot_row(y);
            }
        }
        top.for_each(&mut top_row);
        bot.for_each(&mut bot_row);
        // the twist: γ_k = a_k − b_k / π_{k−1} − b'_k / ρ_{k+1}
        let mut g = 1.0 - c * a.diag[k];
        if k > 0 {
            g -= c * a.lower[k] * cu * q0 / q1;
        }
        if k + 1 < n {
            g -= c * a.upper[k] * cl * r0 / r1;
        }
        self.set_twist(a, c, g);
    }

    /// The pivots by the ratio recurrences π_i = a_i − b_i / π_{i−1} (the Thomas
    /// algorithm's, one division on the chain per row).
    fn factor_ratios(&mut self, a: &Tridiag, c: f64) {
        let n = a.n();
        let k = self.k;
        let c2 = c * c;
        let mut piv = f64::INFINITY;
        for i in 0..k {
            let bi = if i > 0 {
                c2 * a.lower[i] * a.upper[i - 1]
            } else {
                0.0
            };
            piv = (1.0 - c * a.diag[i]) - bi / piv;
            let iv = 1.0 / piv;
            self.inv[i] = iv;
            self.first[i] = c * a.lower[i] * iv;
            self.second[i] = c * a.upper[i] * iv;
        }
        let mut g = 1.0 - c * a.diag[k];
        if k > 0 {
            g -= c2 * a.lower[k] * a.upper[k - 1] / piv;
        }
        let mut piv = f64::INFINITY;
        for i in (k + 1..n).rev() {
            let bi = if i + 1 < n {
                c2 * a.upper[i] * a.lower[i + 1]
            } else {
                0.0
            };
            piv = (1.0 - c * a.diag[i]) - bi / piv;
            let iv = 1.0 / piv;
            self.inv[i] = iv;
            self.first[i] = c * a.upper[i] * iv;
            self.second[i] = c * a.lower[i] * iv;
        }
        if k + 1 < n {
            g -= c2 * a.upper[k] * a.lower[k + 1] / piv;
        }
        self.set_twist(a, c, g);
    }

    fn set_twist(&mut self, a: &Tridiag, c: f64, g: f64) {
        let k = self.k;
        let iv = 1.0 / g;
        self.inv[k] = iv;
        self.first[k] = c * a.lower[k] * iv;
        self.second[k] = c * a.upper[k] * iv;
        // the end rows have no outer neighbour (their unused entries may be anything)
        let n = a.n();
        // row 0: its first-sweep neighbour would be row −1 (also when it is the twist)
        self.first[0] = 0.0;
        if k + 1 < n {
            // row n − 1 is a bottom row: its first-sweep neighbour would be row n
            self.first[n - 1] = 0.0;
        } else {
            // the twist is row n − 1: no row n in its second-sweep term
            self.second[k] = 0.0;
        }
    }

    /// x ← (I − c A)⁻¹ x with the factors of the last `factor`.
    #[cfg(test)]
    fn solve(&self, x: &mut [f64]) {
        self.solve_with(x, |_, v| v);
    }

    /// x ← (I − c A)⁻¹ b with b_i = rhs(i, x_i): the right-hand side is formed row by
    /// row inside the first sweep (off its dependency chain), not in a pass of its own;
    /// `rhs` is called once per row, in the sweep's order.
    fn solve_with<R: FnMut(usize, f64) -> f64>(&self, x: &mut [f64], rhs: R) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: only requires FMA, detected just above.
            return unsafe { self.solve_fma(x, rhs) };
        }
        self.solve_body(x, rhs);
    }

    /// [`Twisted::solve_with`] compiled with FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn solve_fma<R: FnMut(usize, f64) -> f64>(&self, x: &mut [f64], rhs: R) {
        self.solve_body(x, rhs);
    }

    /// The body of [`Twisted::solve`]: each sweep's recurrence is one fused
    /// multiply-add per row (the same result with or without FMA hardware).
    #[inline(always)]
    fn solve_body<R: FnMut(usize, f64) -> f64>(&self, x: &mut [f64], mut rhs: R) {
        let n = x.len();
        let k = self.k;
        let (inv, first) = (&self.inv[..n], &self.first[..n]);
        let common = k.min(n - 1 - k);
        // first sweep: downward over the top, upward over the bottom, side by side
        let (mut yt, mut yb) = (0.0_f64, 0.0_f64);
        for j in 0..common {
            let i = j;
            yt = first[i].mul_add(yt, rhs(i, x[i]) * inv[i]);
            x[i] = yt;
            let i = n - 1 - j;
            yb = first[i].mul_add(yb, rhs(i, x[i]) * inv[i]);
            x[i] = yb;
        }
        for i in common..k {
            yt = first[i].mul_add(yt, rhs(i, x[i]) * inv[i]);
            x[i] = yt;
        }
        for i in (k + 1..n - common).rev() {
            yb = first[i].mul_add(yb, rhs(i, x[i]) * inv[i]);
            x[i] = yb;
        }
        // the twist row
        x[k] = rhs(k, x[k]) * inv[k] + first[k] * yt + self.second[k] * yb;
        let (xt, rest) = x.split_at_mut(k);
        let (xk, xb) = rest.split_at_mut(1);
        let (st, sb) = (&self.second[..k], &self.second[k + 1..n]);
        let xk = &mut xk[0];
        // second sweep: outward from the twist
        let (mut ut, mut ub) = (*xk, *xk);
        let tl = xt.len();
        let bl = xb.len();
        {
            let top = xt.iter_mut().zip(st).rev();
            let bot = xb.iter_mut().zip(sb);
            for ((x, &s), (z, &r)) in top.zip(bot) {
                ut = s.mul_add(ut, *x);
                *x = ut;
                ub = r.mul_add(ub, *z);
                *z = ub;
            }
        }
        if tl > common {
            for (x, &s) in xt.iter_mut().zip(st).rev().skip(common) {
                ut = s.mul_add(ut, *x);
                *x = ut;
            }
        }
        if bl > common {
            for (z, &r) in xb.iter_mut().zip(sb).skip(common) {
                ub = r.mul_add(ub, *z);
                *z = ub;
            }
        }
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

    /// A small deterministic generator (xorshift64*) for the random matrices.
    struct Gen(u64);
    impl Gen {
        fn unit(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
        /// 10^u with u uniform in [lo, hi].
        fn log(&mut self, lo: f64, hi: f64) -> f64 {
            10f64.powf(lo + (hi - lo) * self.unit())
        }
    }

    /// A finite-volume operator from random two-point fluxes J = α P_i − β P_{i+1} on
    /// cells of widths spread over five decades (an M-matrix whose columns sum to zero
    /// against the widths, like the assembled ones), and the widths.
    fn random_fv(g: &mut Gen, n: usize) -> (Tridiag, Vec<f64>) {
        let h: Vec<f64> = (0..n).map(|_| g.log(-4.0, 1.0)).collect();
        let mut a = Tridiag::zeros(n);
        for i in 0..n.saturating_sub(1) {
            let (al, be) = (g.log(-3.0, 3.0), g.log(-3.0, 3.0));
            a.diag[i] -= al / h[i];
            a.lower[i + 1] += al / h[i + 1];
            a.diag[i + 1] -= be / h[i + 1];
            a.upper[i] += be / h[i];
        }
        (a, h)
    }

    /// A random tridiagonal with entries of both signs, diagonally dominant by rows.
    fn random_dominant(g: &mut Gen, n: usize) -> Tridiag {
        let mut a = Tridiag::zeros(n);
        for i in 0..n {
            let s = g.log(-2.0, 2.0);
            if i > 0 {
                a.lower[i] = s * (2.0 * g.unit() - 1.0) * 0.45;
            }
            if i + 1 < n {
                a.upper[i] = s * (2.0 * g.unit() - 1.0) * 0.45;
            }
            a.diag[i] = -s;
        }
        a
    }

    /// (I − c A)⁻¹ b by the Thomas algorithm.
    fn direct(a: &Tridiag, c: f64, b: &[f64]) -> Vec<f64> {
        let n = a.n();
        let mut m = Tridiag::zeros(n);
        for i in 0..n {
            m.lower[i] = -c * a.lower[i];
            m.diag[i] = 1.0 - c * a.diag[i];
            m.upper[i] = -c * a.upper[i];
        }
        let mut x = b.to_vec();
        crate::space::linalg::TridiagLu::factor(&m)
            .unwrap()
            .solve_in_place(&mut x);
        x
    }

    fn check_twisted(a: &Tridiag, c: f64, b: &[f64], what: &str) {
        let n = a.n();
        let mut t = Twisted::new(n);
        // the division-free path itself succeeds (no fallback to the ratios)
        t.factor_minors(a, c);
        assert!(t.pivots_ok(), "{what}: minors failed, n = {n}, c = {c}");
        if what == "dominant" {
            // no cancellation in π_i = a_i − b_i / π_{i−1} (|b_i / π_{i−1}| ≤ 0.2 |a_i|):
            // the minors give the pivots of the ratio recurrence to rounding
            let mut r = Twisted::new(n);
            r.factor_ratios(a, c);
            for i in 0..n {
                let rel = (t.inv[i] - r.inv[i]).abs() / r.inv[i].abs();
                assert!(rel < 1e-13, "{what}: pivot {i} of {n}, c = {c}: {rel:e}");
            }
        }
        let mut x = b.to_vec();
        t.solve(&mut x);
        let y = direct(a, c, b);
        // componentwise backward error (the solutions themselves may differ by the
        // condition number times the rounding: I − cA is ill-conditioned for large c
        // on widths over five decades); the Thomas algorithm's is the yardstick
        let (et, ed) = (backward_error(a, c, &x, b), backward_error(a, c, &y, b));
        assert!(
            et <= 1e-14_f64.max(10.0 * ed),
            "{what}: n = {n}, c = {c}: backward error {et:e} (Thomas {ed:e})"
        );
    }

    /// max_i |((I − cA) x − b)_i| / (|(I − cA)| |x| + |b|)_i.
    fn backward_error(a: &Tridiag, c: f64, x: &[f64], b: &[f64]) -> f64 {
        let n = a.n();
        let mut worst = 0.0_f64;
        for i in 0..n {
            let mut r = (1.0 - c * a.diag[i]) * x[i] - b[i];
            let mut s = ((1.0 - c * a.diag[i]) * x[i]).abs() + b[i].abs();
            if i > 0 {
                r -= c * a.lower[i] * x[i - 1];
                s += (c * a.lower[i] * x[i - 1]).abs();
            }
            if i + 1 < n {
                r -= c * a.upper[i] * x[i + 1];
                s += (c * a.upper[i] * x[i + 1]).abs();
            }
            if s > 0.0 {
                worst = worst.max(r.abs() / s);
            }
        }
        worst
    }

    /// The twisted, division-free factorisation solves like the Thomas algorithm, on
    /// finite-volume operators with widely varying cell widths (shifts from 1e-6 to
    /// 1e4: minors far beyond the floating-point range, rescaled) and on general
    /// diagonally dominant tridiagonals, for every size parity and the smallest sizes.
    #[test]
    fn the_twisted_factorisation_matches_the_direct_one() {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        for n in [1, 2, 3, 4, 5, 8, 51, 500, 501] {
            for _ in 0..4 {
                let b: Vec<f64> = (0..n).map(|_| g.unit() - 0.3).collect();
                let c = g.log(-6.0, 4.0);
                let (a, _) = random_fv(&mut g, n);
                check_twisted(&a, c, &b, "finite volume");
                let a = random_dominant(&mut g, n);
                check_twisted(&a, c.min(10.0), &b, "dominant");
            }
        }
    }

    /// Minors that overflow without rescaling: 400 rows with pivots ≈ 1e12.
    #[test]
    fn the_minors_are_rescaled() {
        let n = 400;
        let mut a = Tridiag::zeros(n);
        for i in 0..n {
            a.diag[i] = -2.0;
            if i > 0 {
                a.lower[i] = 1.0;
            }
            if i + 1 < n {
                a.upper[i] = 1.0;
            }
        }
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        check_twisted(&a, 1e12, &b, "stiff");
        check_twisted(&a, 1e-14, &b, "near identity");
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
