//! The twisted, division-free factorisation of I − c A for a tridiagonal A (see
//! [`Twisted`]): the linear solves of the variable-step TR-BDF2 card, bound by the
//! latency of their recurrences at a few hundred cells.

use crate::error::{Error, Result};
use crate::space::operator::Tridiag;

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
pub(crate) struct Twisted {
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
    pub(crate) fn new(n: usize) -> Self {
        Twisted {
            k: n / 2,
            inv: vec![0.0; n],
            first: vec![0.0; n],
            second: vec![0.0; n],
        }
    }

    /// Factorise I − c A (division-free chain; ratio recurrence as fallback).
    pub(crate) fn factor(&mut self, a: &Tridiag, c: f64) -> Result<()> {
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
    pub(crate) fn solve(&self, x: &mut [f64]) {
        self.solve_with(x, |_, v| v);
    }

    /// x ← (I − c A)⁻¹ b with b_i = rhs(i, x_i): the right-hand side is formed row by
    /// row inside the first sweep (off its dependency chain), not in a pass of its own;
    /// `rhs` is called once per row, in the sweep's order.
    pub(crate) fn solve_with<R: FnMut(usize, f64) -> f64>(&self, x: &mut [f64], rhs: R) {
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

/// Random operators for tests of the factorisation and of its users.
#[cfg(test)]
pub(crate) mod testing {
    use crate::space::operator::Tridiag;

    /// A small deterministic generator (xorshift64*) for the random matrices.
    pub struct Gen(pub u64);
    impl Gen {
        pub fn unit(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
        /// 10^u with u uniform in [lo, hi].
        pub fn log(&mut self, lo: f64, hi: f64) -> f64 {
            10f64.powf(lo + (hi - lo) * self.unit())
        }
    }

    /// A finite-volume operator from random two-point fluxes J = α P_i − β P_{i+1} on
    /// cells of widths spread over five decades (an M-matrix whose columns sum to zero
    /// against the widths, like the assembled ones), and the widths.
    pub fn random_fv(g: &mut Gen, n: usize) -> (Tridiag, Vec<f64>) {
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
}

#[cfg(test)]
mod tests {
    use super::testing::{random_fv, Gen};
    use super::*;

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
}
