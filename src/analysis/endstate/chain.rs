//! The discrete operator read as a continuous-time birth–death Markov chain on the cells.
//!
//! A two-point-flux operator A has A_{i+1,i} (rate of a jump up from cell i) and
//! A_{i−1,i} (down) non-negative when it is an M-matrix, and its interior columns sum to
//! zero, so dP/dt = A P is the master equation of a birth–death chain. Cells joined by
//! faces with both rates positive form communicating classes; a class with no outgoing
//! rate is closed and keeps its mass in its own detailed-balance distribution; a
//! transient class passes its mass on to its neighbours with the gambler's-ruin
//! splitting probabilities (in logarithms). [`Chain::long_time_limit`] is the exact
//! t → ∞ limit of backward Euler on the same operator, without time stepping, so rates
//! of 10⁻³⁰ per step are as good as rates of 1.
//!
//! Eigenvalues and solves use the GTH form of elimination (Grassmann, Taksar & Heyman
//! 1985): pivots are formed from row deficits and positive rates only, never by
//! subtracting, so the smallest eigenvalue and the first-passage times keep their
//! relative accuracy even when they are 10²⁵ times smaller (or larger) than the fastest
//! rates.

use serde::Serialize;

use crate::analysis::endstate::logspace::lae;
use crate::error::{Error, Result};
use crate::model::problem::Boundary;
use crate::space::operator::{Operator, Tridiag};

/// A two-point-flux operator read as a continuous-time birth–death Markov chain on the
/// cells (every scheme's A with non-negative off-diagonals is one).
#[derive(Clone, Debug)]
pub struct Chain {
    /// Rate of a jump from cell i to i + 1 (A_{i+1,i}); zero in the last cell.
    pub up: Vec<f64>,
    /// Rate of a jump from cell i to i − 1 (A_{i−1,i}); zero in the first cell.
    pub down: Vec<f64>,
    /// Rate at which mass leaves the domain from cell i (absorbing walls).
    pub kill: Vec<f64>,
}

/// A communicating class of a [`Chain`]: cells `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Class {
    /// First cell.
    pub lo: usize,
    /// Last cell.
    pub hi: usize,
    /// Whether no rate leads out of it.
    pub closed: bool,
}

impl Chain {
    /// The chain of an assembled operator. Interior columns of A sum to zero by
    /// construction, so their deficit is set to exactly zero; at absorbing walls the
    /// deficit is the wall's rate. Errors on a negative off-diagonal (not an M-matrix:
    /// no Markov chain), naming the cell.
    pub fn from_operator(op: &Operator) -> Result<Chain> {
        let a = &op.a;
        let n = a.n();
        let mut up = vec![0.0; n];
        let mut down = vec![0.0; n];
        // rates per unit mass: A acts on densities, mass m_i = h_i P_i
        let h = op.grid.widths();
        for i in 0..n {
            if i + 1 < n {
                up[i] = a.lower[i + 1] * h[i + 1] / h[i];
            }
            if i > 0 {
                down[i] = a.upper[i - 1] * h[i - 1] / h[i];
            }
            if up[i] < 0.0 || down[i] < 0.0 || !up[i].is_finite() || !down[i].is_finite() {
                return Err(Error::invalid(
                    format!("operator of flux `{}`", op.flux),
                    format!("rates {:e}, {:e}", up[i], down[i]),
                    format!(
                        "negative off-diagonal at w = {}: not an M-matrix, so not a Markov chain",
                        op.grid.centre(i)
                    ),
                ));
            }
        }
        let mut kill = vec![0.0; n];
        if op.boundary == Boundary::Absorbing {
            kill[0] = (-a.diag[0] - up[0] - down[0]).max(0.0);
            kill[n - 1] = (-a.diag[n - 1] - up[n - 1] - down[n - 1]).max(0.0);
        }
        Ok(Chain { up, down, kill })
    }

    /// Number of cells.
    pub fn n(&self) -> usize {
        self.up.len()
    }

    /// The generator A as a tridiagonal matrix.
    pub fn to_tridiag(&self) -> Tridiag {
        let n = self.n();
        let mut t = Tridiag::zeros(n);
        for i in 0..n {
            t.diag[i] = -(self.up[i] + self.down[i] + self.kill[i]);
            if i + 1 < n {
                t.lower[i + 1] = self.up[i];
            }
            if i > 0 {
                t.upper[i - 1] = self.down[i];
            }
        }
        t
    }

    /// GTH pivots of −A − μ I: returns the number of negative pivots (the number of
    /// eigenvalues of −A below μ, by Sylvester's law of inertia on the symmetrised
    /// matrix) and whether a pivot was exactly zero.
    fn inertia(&self, mu: f64) -> (usize, bool) {
        let n = self.n();
        let mut count = 0;
        let mut zero = false;
        let (mut s_prev, mut u_prev, mut up_prev) = (0.0, 1.0, 0.0);
        for i in 0..n {
            let carry = if i == 0 {
                0.0
            } else if up_prev == 0.0 {
                // no rate into cell i−1 from the right's elimination: s = u
                self.down[i]
            } else {
                self.down[i] * s_prev / u_prev
            };
            let s = self.kill[i] - mu + carry;
            let mut u = s + self.up[i];
            if u == 0.0 {
                zero = true;
                u = -f64::MIN_POSITIVE;
            }
            if u < 0.0 {
                count += 1;
            }
            s_prev = s;
            u_prev = u;
            up_prev = self.up[i];
        }
        (count, zero)
    }

    /// Eigenvalue number k (0 = smallest) of −A, by bisection on a logarithmic scale with
    /// the GTH inertia count; relative accuracy ~1e-12 however small. Returns 0 when it
    /// lies below 1e-300 (a closed class's zero eigenvalue).
    pub fn eigenvalue(&self, k: usize) -> Option<f64> {
        let n = self.n();
        if k >= n {
            return None;
        }
        let mut hi = 0.0f64;
        for i in 0..n {
            hi = hi.max(2.0 * (self.up[i] + self.down[i]) + self.kill[i]);
        }
        hi *= 1.01;
        if !(hi > 0.0 && hi.is_finite()) {
            return Some(0.0);
        }
        let mut lo = 1e-300;
        if self.inertia(lo).0 > k {
            return Some(0.0);
        }
        if self.inertia(hi).0 <= k {
            return None;
        }
        for _ in 0..400 {
            let mid = (lo.ln() + 0.5 * (hi.ln() - lo.ln())).exp();
            if !(mid > lo && mid < hi) || hi / lo < 1.0 + 1e-13 {
                break;
            }
            if self.inertia(mid).0 > k {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some((lo * hi).sqrt())
    }

    /// GTH pivots u_i of −A + shift·I (shift ≥ 0), the same for −Aᵀ + shift·I: the row
    /// deficit s_i = kill_i + shift + down_i s_{i−1}/u_{i−1} and u_i = s_i + up_i are sums
    /// of non-negative terms only. `None` on a zero pivot (singular: some cell never leaves).
    fn gth_pivots(&self, shift: f64) -> Option<Vec<f64>> {
        let n = self.n();
        let mut u = vec![0.0; n];
        let mut s_prev = 0.0;
        for i in 0..n {
            let carry = if i == 0 {
                0.0
            } else if self.up[i - 1] == 0.0 {
                self.down[i]
            } else {
                self.down[i] * s_prev / u[i - 1]
            };
            let s = self.kill[i] + shift + carry;
            u[i] = s + self.up[i];
            if !(u[i] > 0.0 && u[i].is_finite()) {
                return None;
            }
            s_prev = s;
        }
        Some(u)
    }

    /// Solve the backward equation (−Aᵀ) x = r by GTH elimination (no subtraction, so
    /// the solution keeps its relative accuracy for r ≥ 0). `None` when −Aᵀ is singular
    /// (some cell can never leave: a zero pivot).
    pub fn solve_backward(&self, r: &[f64]) -> Option<Vec<f64>> {
        let u = self.gth_pivots(0.0)?;
        let n = self.n();
        // (−Aᵀ)_{i,i−1} = −down_i, (−Aᵀ)_{i,i+1} = −up_i
        let mut z = r.to_vec();
        for i in 1..n {
            z[i] += self.down[i] * z[i - 1] / u[i - 1];
        }
        let mut x = vec![0.0; n];
        x[n - 1] = z[n - 1] / u[n - 1];
        for i in (0..n - 1).rev() {
            x[i] = (z[i] + self.up[i] * x[i + 1]) / u[i];
        }
        Some(x)
    }

    /// Backward Euler steps x ← (I − dt A)⁻¹ x = (1/dt)(−A + I/dt)⁻¹ x, by GTH elimination
    /// (accurate however large dt·‖A‖ is); `None` if dt is not positive and finite.
    pub fn backward_euler(&self, dt: f64) -> Option<impl Fn(&mut [f64]) + '_> {
        if !(dt > 0.0 && dt.is_finite()) {
            return None;
        }
        let u = self.gth_pivots(1.0 / dt)?;
        Some(move |x: &mut [f64]| {
            let n = x.len();
            // (−A)_{i,i−1} = −up_{i−1}, (−A)_{i,i+1} = −down_{i+1}; right-hand side x/dt
            x.iter_mut().for_each(|v| *v /= dt);
            for i in 1..n {
                x[i] += self.up[i - 1] * x[i - 1] / u[i - 1];
            }
            x[n - 1] /= u[n - 1];
            for i in (0..n - 1).rev() {
                x[i] = (x[i] + self.down[i + 1] * x[i + 1]) / u[i];
            }
        })
    }

    /// The communicating classes, left to right.
    pub fn classes(&self) -> Vec<Class> {
        let n = self.n();
        let mut out = Vec::new();
        let mut lo = 0;
        for i in 0..n {
            let joined = i + 1 < n && self.up[i] > 0.0 && self.down[i + 1] > 0.0;
            if !joined {
                let exit_l = if lo > 0 { self.down[lo] } else { 0.0 };
                let exit_r = if i + 1 < n { self.up[i] } else { 0.0 };
                let killed = (lo..=i).any(|j| self.kill[j] > 0.0);
                out.push(Class {
                    lo,
                    hi: i,
                    closed: exit_l == 0.0 && exit_r == 0.0 && !killed,
                });
                lo = i + 1;
            }
        }
        out
    }

    /// The sub-chain on cells `lo..=hi`: rates leading out of it become kill rates
    /// (mass entering the neighbours is absorbed).
    fn sub_chain(&self, lo: usize, hi: usize) -> Chain {
        let mut c = Chain {
            up: self.up[lo..=hi].to_vec(),
            down: self.down[lo..=hi].to_vec(),
            kill: self.kill[lo..=hi].to_vec(),
        };
        let m = hi - lo;
        c.kill[0] += c.down[0];
        c.down[0] = 0.0;
        c.kill[m] += c.up[m];
        c.up[m] = 0.0;
        c
    }

    /// Mean time for mass starting in each cell to enter a closed class (0 inside one),
    /// from the backward equation on each run of transient cells with the closed
    /// classes absorbing. `None` if some transient cell can never enter one.
    pub fn arrival_times(&self) -> Option<Vec<f64>> {
        let n = self.n();
        let classes = self.classes();
        let mut closed = vec![false; n];
        for c in classes.iter().filter(|c| c.closed) {
            closed[c.lo..=c.hi].iter_mut().for_each(|x| *x = true);
        }
        let mut t = vec![0.0; n];
        let mut i = 0;
        while i < n {
            if closed[i] {
                i += 1;
                continue;
            }
            let lo = i;
            while i + 1 < n && !closed[i + 1] {
                i += 1;
            }
            let hi = i;
            let sub = self.sub_chain(lo, hi);
            let x = sub.solve_backward(&vec![1.0; hi - lo + 1])?;
            t[lo..=hi].copy_from_slice(&x);
            i += 1;
        }
        Some(t)
    }

    /// Slowest non-zero relaxation rate within the closed classes of at least three
    /// cells (the mixing rate of the end state); `None` if there is no such class.
    pub fn closed_relaxation_rate(&self) -> Option<f64> {
        self.classes()
            .iter()
            .filter(|c| c.closed && c.hi >= c.lo + 2)
            .filter_map(|c| self.sub_chain(c.lo, c.hi).eigenvalue(1))
            .reduce(f64::min)
    }

    /// ln of the detailed-balance distribution within a class (unnormalised).
    fn class_log_stationary(&self, c: &Class) -> Vec<f64> {
        let mut l = vec![0.0; c.hi - c.lo + 1];
        for i in c.lo..c.hi {
            let k = i - c.lo;
            l[k + 1] = l[k] + self.up[i].ln() - self.down[i + 1].ln();
        }
        l
    }

    /// Probability that mass in each cell of a transient class with exits on both sides
    /// leaves through the right exit (gambler's ruin, in logarithms).
    fn exit_right_probability(&self, c: &Class) -> Vec<f64> {
        let m = c.hi - c.lo + 1;
        // ln d_j, j = lo ..= hi+1: d_{i+1} = d_i down_i / up_i
        let mut ld = vec![0.0; m + 1];
        for i in c.lo..=c.hi {
            let k = i - c.lo;
            ld[k + 1] = ld[k] + self.down[i].ln() - self.up[i].ln();
        }
        let mut cum = vec![f64::NEG_INFINITY; m + 1];
        let mut acc = f64::NEG_INFINITY;
        for (k, &v) in ld.iter().enumerate() {
            acc = lae(acc, v);
            cum[k] = acc;
        }
        let total = cum[m];
        (0..m).map(|k| (cum[k] - total).exp()).collect()
    }

    /// The t → ∞ limit of dP/dt = A P from the cell masses `mass0` (zero-flux chains only:
    /// `None` when some kill rate is positive). Returns the final cell masses and the
    /// classes (closed ones hold the mass).
    pub fn long_time_limit(&self, mass0: &[f64]) -> Option<(Vec<f64>, Vec<Class>)> {
        if self.kill.iter().any(|&k| k > 0.0) {
            return None;
        }
        let n = self.n();
        let classes = self.classes();
        let mut m = mass0.to_vec();
        let splits: Vec<Option<Vec<f64>>> = classes
            .iter()
            .map(|c| {
                let exit_l = c.lo > 0 && self.down[c.lo] > 0.0;
                let exit_r = c.hi + 1 < n && self.up[c.hi] > 0.0;
                match (exit_l, exit_r) {
                    (true, true) => Some(self.exit_right_probability(c)),
                    (false, true) => Some(vec![1.0; c.hi - c.lo + 1]),
                    (true, false) => Some(vec![0.0; c.hi - c.lo + 1]),
                    (false, false) => None,
                }
            })
            .collect();
        // mass moves along one-way faces, which form no cycles: sweep until settled
        for _ in 0..2 * classes.len() + 2 {
            let mut moved = false;
            for (c, split) in classes.iter().zip(&splits) {
                let Some(pr) = split else { continue };
                let (mut right, mut left) = (0.0, 0.0);
                for i in c.lo..=c.hi {
                    if m[i] != 0.0 {
                        right += m[i] * pr[i - c.lo];
                        left += m[i] * (1.0 - pr[i - c.lo]);
                        m[i] = 0.0;
                        moved = true;
                    }
                }
                if right != 0.0 {
                    m[c.hi + 1] += right;
                }
                if left != 0.0 {
                    m[c.lo - 1] += left;
                }
            }
            if !moved {
                break;
            }
        }
        for c in classes.iter().filter(|c| c.closed) {
            let total: f64 = m[c.lo..=c.hi].iter().sum();
            let l = self.class_log_stationary(c);
            let top = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = l.iter().map(|v| (v - top).exp()).collect();
            let z: f64 = w.iter().sum();
            for (k, v) in w.iter().enumerate() {
                m[c.lo + k] = total * v / z;
            }
        }
        Some((m, classes))
    }
}
