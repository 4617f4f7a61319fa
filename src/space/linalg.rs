//! Tridiagonal linear algebra: the Thomas algorithm with a reusable factorisation,
//! and the spectrum bounds used by the diagnostics.
//!
//! A constant-step implicit method solves (I − θ dt A) x = r every step with the same
//! matrix, so the elimination coefficients are computed once ([`TridiagLu::factor`])
//! and each step only substitutes ([`TridiagLu::solve_in_place`]): about 5n flops and
//! no allocation.

use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::space::operator::Tridiag;

/// LU factors of a tridiagonal matrix without pivoting (Thomas algorithm).
#[derive(Clone, Debug)]
pub struct TridiagLu {
    lower: Vec<f64>,
    /// 1 / pivot of each row.
    inv_pivot: Vec<f64>,
    /// Modified super-diagonal c'_i = c_i / pivot_i.
    upper: Vec<f64>,
}

impl TridiagLu {
    /// Factor `m`. Fails on a zero or non-finite pivot (the matrix is singular or
    /// needs pivoting; never the case for I − θ dt A with A an M-matrix).
    pub fn factor(m: &Tridiag) -> Result<Self> {
        let n = m.n();
        let mut inv_pivot = vec![0.0; n];
        let mut upper = vec![0.0; n];
        let mut prev = 0.0;
        for i in 0..n {
            let piv = m.diag[i] - if i > 0 { m.lower[i] * prev } else { 0.0 };
            if piv == 0.0 || !piv.is_finite() {
                return Err(Error::SolverFailed {
                    t: f64::NAN,
                    reason: format!("tridiagonal factorisation: pivot {piv} in row {i}"),
                });
            }
            inv_pivot[i] = 1.0 / piv;
            upper[i] = if i + 1 < n { m.upper[i] / piv } else { 0.0 };
            prev = upper[i];
        }
        Ok(TridiagLu {
            lower: m.lower.clone(),
            inv_pivot,
            upper,
        })
    }

    /// Solve in place: on entry `x` holds the right-hand side, on exit the solution.
    pub fn solve_in_place(&self, x: &mut [f64]) {
        let n = x.len();
        x[0] *= self.inv_pivot[0];
        for i in 1..n {
            x[i] = (x[i] - self.lower[i] * x[i - 1]) * self.inv_pivot[i];
        }
        for i in (0..n - 1).rev() {
            x[i] -= self.upper[i] * x[i + 1];
        }
    }
}

/// Factorisations of the shifted matrices I − c A of one constant A, keyed by c: an
/// implicit fixed-step method solves with I − c A for c = θ·dt (or γ·dt, …) every
/// step, and with one or two other shifts for start-up and for the shorter last step
/// before a stop time. The first shift factorised (the main step's) is kept; at most
/// `extra` others are kept beside it, the oldest replaced first.
#[derive(Clone, Debug)]
pub struct ShiftedLu {
    entries: Vec<(f64, TridiagLu)>,
    extra: usize,
}

impl ShiftedLu {
    /// An empty cache keeping the first shift and up to `extra` others.
    pub fn new(extra: usize) -> Self {
        ShiftedLu {
            entries: Vec::new(),
            extra,
        }
    }

    /// Forget every factorisation (a new run).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The factorisation of I − c A, factorised now (and counted in `factorizations`)
    /// unless already held.
    pub fn get(&mut self, a: &Tridiag, c: f64, factorizations: &mut u64) -> Result<&TridiagLu> {
        let k = match self
            .entries
            .iter()
            .position(|(cc, _)| cc.to_bits() == c.to_bits())
        {
            Some(k) => k,
            None => {
                let mut m = Tridiag::zeros(a.n());
                for i in 0..a.n() {
                    m.lower[i] = -c * a.lower[i];
                    m.diag[i] = 1.0 - c * a.diag[i];
                    m.upper[i] = -c * a.upper[i];
                }
                let lu = TridiagLu::factor(&m)?;
                *factorizations += 1;
                if self.entries.len() > self.extra {
                    self.entries.remove(1);
                }
                self.entries.push((c, lu));
                self.entries.len() - 1
            }
        };
        Ok(&self.entries[k].1)
    }
}

/// Solve a tridiagonal system from scratch (the Thomas algorithm with no stored
/// factorisation), using `scratch` (length n) for the modified super-diagonal.
/// The floor against which the cost of one implicit step is benchmarked.
pub fn thomas_solve(m: &Tridiag, x: &mut [f64], scratch: &mut [f64]) {
    let n = x.len();
    let mut piv = m.diag[0];
    scratch[0] = m.upper[0] / piv;
    x[0] /= piv;
    for i in 1..n {
        piv = m.diag[i] - m.lower[i] * scratch[i - 1];
        scratch[i] = m.upper[i] / piv;
        x[i] = (x[i] - m.lower[i] * x[i - 1]) / piv;
    }
    for i in (0..n - 1).rev() {
        x[i] -= scratch[i] * x[i + 1];
    }
}

/// Shifts per Sturm sweep of [`kth_largest`].
const LANES: usize = 8;

/// Numbers of eigenvalues below each of the shifts `xs` of the symmetric tridiagonal
/// matrix with diagonal `d` and squared off-diagonals `e2` (Sturm sequence counts), in
/// one sweep: the recurrences of the shifts are independent, so their divisions
/// overlap instead of waiting on one another.
fn sturm_counts(d: &[f64], e2: &[f64], xs: &[f64; LANES]) -> [usize; LANES] {
    let mut count = [0usize; LANES];
    let mut q = [1.0f64; LANES];
    for i in 0..d.len() {
        let e = if i > 0 { e2[i - 1] } else { 0.0 };
        for l in 0..LANES {
            let mut ql = d[i] - xs[l] - e / q[l];
            if ql == 0.0 {
                ql = f64::EPSILON * (d[i].abs() + xs[l].abs()).max(f64::MIN_POSITIVE);
            }
            count[l] += usize::from(ql < 0.0);
            q[l] = ql;
        }
    }
    count
}

/// Eigenvalue number k (0 = largest) of a symmetric tridiagonal matrix, by
/// multisection (Sturm counts at [`LANES`] shifts per sweep, each sweep narrowing the
/// bracket to one of LANES + 1 parts) to a relative 1e-5: on a log scale once the
/// bracket has one sign (so an eigenvalue many orders below the spectral radius costs
/// a few sweeps, not hundreds); eigenvalues below 1e-30 of the bracket count as zero.
fn kth_largest(d: &[f64], e2: &[f64], k: usize, lo: f64, hi: f64) -> f64 {
    let n = d.len();
    let (mut lo, mut hi) = (lo, hi);
    let tiny = 1e-30 * lo.abs().max(hi.abs());
    for _ in 0..400 {
        if (hi - lo) <= 1e-5 * lo.abs().min(hi.abs()) || lo.abs().max(hi.abs()) <= tiny {
            break;
        }
        let xs: [f64; LANES] = std::array::from_fn(|l| {
            let t = (l + 1) as f64 / (LANES + 1) as f64;
            if lo < 0.0 && hi > 0.0 {
                // zero first, then points either side of it
                match l {
                    0 => 0.0,
                    _ if l % 2 == 1 => lo * (1.0 - t),
                    _ => hi * t,
                }
            } else if hi <= 0.0 {
                // from −max(|hi|, tiny) to lo, geometrically
                let (u, v) = (hi.abs().max(tiny).ln(), lo.abs().ln());
                -(u + (v - u) * t).exp()
            } else {
                let (u, v) = (lo.max(tiny).ln(), hi.ln());
                (u + (v - u) * t).exp()
            }
        });
        let counts = sturm_counts(d, e2, &xs);
        let (lo0, hi0) = (lo, hi);
        let mut moved = false;
        for (&x, &c) in xs.iter().zip(&counts) {
            if x <= lo0 || x >= hi0 {
                continue;
            }
            moved = true;
            // eigenvalues ≥ x: n − count(< x)
            if n - c > k {
                lo = lo.max(x);
            } else {
                hi = hi.min(x);
            }
        }
        if !moved {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Stiffness ratio |λ_min| / |λ_slow| of A, where λ_slow is the slowest non-zero mode.
///
/// A two-point-flux operator with lower[i+1]·upper[i] ≥ 0 is similar to a symmetric
/// tridiagonal matrix, so its spectrum is real and Sturm bisection gives eigenvalues
/// exactly. Returns `None` when some product is negative (complex spectrum, e.g.
/// central flux at high Péclet number) or A is zero.
pub fn stiffness_ratio(a: &Tridiag, zero_flux: bool) -> Option<f64> {
    let n = a.n();
    let mut e2 = Vec::with_capacity(n.saturating_sub(1));
    for i in 0..n - 1 {
        let p = a.lower[i + 1] * a.upper[i];
        if p < 0.0 {
            return None;
        }
        e2.push(p);
    }
    // Gershgorin bounds
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..n {
        let r =
            if i > 0 { e2[i - 1].sqrt() } else { 0.0 } + if i + 1 < n { e2[i].sqrt() } else { 0.0 };
        lo = lo.min(a.diag[i] - r);
        hi = hi.max(a.diag[i] + r);
    }
    if lo.is_nan() || hi.is_nan() || lo >= hi || lo.abs() < f64::MIN_POSITIVE {
        return None;
    }
    let fastest = kth_largest(&a.diag, &e2, n - 1, lo, hi);
    let tol = 1e-10 * fastest.abs();
    // skip the (numerically) zero eigenvalues of stationary modes
    let start = usize::from(zero_flux);
    for k in start..n.min(start + 8) {
        let lam = kth_largest(&a.diag, &e2, k, lo, hi);
        if lam.abs() > tol {
            return Some(fastest.abs() / lam.abs());
        }
    }
    None
}

/// LU factors, with partial pivoting, of a complex tridiagonal matrix τA − zI (A real
/// tridiagonal, τ real, z complex): the shifted solves of a rational approximation of
/// the exponential, exp(τA)v ≈ c0 v + Σ_k c_k (τA − z_k I)⁻¹ v.
///
/// Rows are interchanged as in LAPACK's `zgttrf` (Anderson et al., LAPACK Users' Guide,
/// 3rd ed., SIAM 1999): at step i the row with the larger entry in column i becomes the
/// pivot row, which fills one second super-diagonal. Pivoting matters here: for a pole
/// z with Re z < 0 and |τA_ii| large, τA − zI is no longer diagonally dominant by
/// columns, and elimination without interchanges can grow without bound.
#[derive(Clone, Debug)]
pub struct ComplexTridiagLu {
    /// Multipliers of L (one per column).
    mult: Vec<Complex64>,
    /// Diagonal of U.
    d: Vec<Complex64>,
    /// First super-diagonal of U.
    du: Vec<Complex64>,
    /// Second super-diagonal of U (fill from interchanges).
    du2: Vec<Complex64>,
    /// Whether rows i and i + 1 were interchanged at step i.
    swapped: Vec<bool>,
}

impl ComplexTridiagLu {
    /// Factor τA − zI. Fails (naming the row) on a zero or non-finite pivot: τA − zI is
    /// then singular to working precision, which for z off the real axis and A with a
    /// real spectrum means A or τ is not finite.
    pub fn factor_shifted(a: &Tridiag, tau: f64, z: Complex64) -> Result<Self> {
        let n = a.n();
        let mut d: Vec<Complex64> = (0..n).map(|i| tau * a.diag[i] - z).collect();
        // sub-diagonal entry of row i + 1 (column i) and super-diagonal of row i
        let mut mult: Vec<Complex64> = (0..n.saturating_sub(1))
            .map(|i| Complex64::new(tau * a.lower[i + 1], 0.0))
            .collect();
        let mut du: Vec<Complex64> = (0..n.saturating_sub(1))
            .map(|i| Complex64::new(tau * a.upper[i], 0.0))
            .collect();
        let mut du2 = vec![Complex64::new(0.0, 0.0); n.saturating_sub(2)];
        let mut swapped = vec![false; n.saturating_sub(1)];
        for i in 0..n.saturating_sub(1) {
            if d[i].l1_norm() >= mult[i].l1_norm() {
                // no interchange
                if d[i] != Complex64::new(0.0, 0.0) {
                    let f = mult[i] / d[i];
                    mult[i] = f;
                    d[i + 1] -= f * du[i];
                }
            } else {
                // interchange rows i and i + 1
                let f = d[i] / mult[i];
                d[i] = mult[i];
                mult[i] = f;
                let t = du[i];
                du[i] = d[i + 1];
                d[i + 1] = t - f * d[i + 1];
                if i + 2 < n {
                    du2[i] = du[i + 1];
                    du[i + 1] = -f * du[i + 1];
                }
                swapped[i] = true;
            }
        }
        for (i, p) in d.iter().enumerate() {
            if *p == Complex64::new(0.0, 0.0) || !(p.re.is_finite() && p.im.is_finite()) {
                return Err(Error::SolverFailed {
                    t: f64::NAN,
                    reason: format!(
                        "complex tridiagonal factorisation (shift {z}): pivot {p} in row {i}"
                    ),
                });
            }
        }
        Ok(ComplexTridiagLu {
            mult,
            d,
            du,
            du2,
            swapped,
        })
    }

    /// Size n.
    pub fn n(&self) -> usize {
        self.d.len()
    }

    /// Number of row interchanges the factorisation made.
    pub fn interchanges(&self) -> usize {
        self.swapped.iter().filter(|&&s| s).count()
    }

    /// Solve in place: on entry `x` holds the right-hand side, on exit the solution.
    pub fn solve_in_place(&self, x: &mut [Complex64]) {
        let n = self.n();
        // L: apply the interchanges and multipliers in order
        for i in 0..n.saturating_sub(1) {
            if self.swapped[i] {
                let t = x[i];
                x[i] = x[i + 1];
                x[i + 1] = t - self.mult[i] * x[i];
            } else {
                let m = self.mult[i];
                x[i + 1] -= m * x[i];
            }
        }
        // U: upper triangular with two super-diagonals
        for i in (0..n).rev() {
            let mut s = x[i];
            if i + 1 < n {
                s -= self.du[i] * x[i + 1];
            }
            if i + 2 < n {
                s -= self.du2[i] * x[i + 2];
            }
            x[i] = s / self.d[i];
        }
    }
}
