//! Ulam's deposit rules on cells given by their edges (non-uniform widths h_i).
//!
//! The rules are those of the uniform grid, written with the real faces and centres:
//! Ulam's projection gives cell i the mass of the image between its faces x_i and
//! x_{i+1}; the hat functions are the piecewise-linear interpolants between
//! neighbouring centres c_i (a tent rising over [c_{i−1}, c_i] and falling over
//! [c_i, c_{i+1}], each side with its own length), so Σ_i φ_i(y) = 1 and
//! Σ_i c_i φ_i(y) = y: the landed mass is conserved and its mean position kept. For
//! the Gaussian rule the hat weight is the divided second difference
//!
//! ```text
//! E φ_i(Y) = L(c_{i−1})/d₋ − L(c_i)(1/d₋ + 1/d₊) + L(c_{i+1})/d₊,   L(x) = E[(Y − x)₊],
//! ```
//!
//! with d₋ = c_i − c_{i−1}, d₊ = c_{i+1} − c_i (below the mean E[(x − Y)₊] replaces L:
//! the linear part cancels). Reflecting walls unfold the line into mirror copies of
//! [a, b] whose cells alternate direction, so the faces and centres beyond a wall are
//! the mirror images of those inside. The masses here are cell masses; the caller turns
//! them into cell averages. Reference: S. M. Ulam, *A Collection of Mathematical
//! Problems* (1960).

use super::{fold, too_far, Column, Geometry, MAX_UNFOLDED_COPIES};
use crate::error::Result;
use crate::time::transfer::kernels::{expected_excess, uniform_normal_cdf};

impl Geometry {
    /// The cells (unbounded indices, folded later at reflecting walls) that mass
    /// Uniform[lo, hi] ⊛ N(0, σ²) reaches within `tail` standard deviations, one cell of
    /// margin each side; at absorbing walls clamped to the grid, `None` if it misses it.
    pub(super) fn reach(&self, lo: f64, hi: f64, sigma: f64) -> Result<Option<(i64, i64)>> {
        let (s_lo, s_hi) = (lo - self.tail * sigma, hi + self.tail * sigma);
        self.check_span(s_lo, s_hi)?;
        let (mut m_lo, mut m_hi) = (self.ulocate(s_lo) - 1, self.ulocate(s_hi) + 1);
        if self.absorbing {
            (m_lo, m_hi) = (m_lo.max(0), m_hi.min(self.n as i64 - 1));
            if m_lo > m_hi {
                return Ok(None);
            }
        }
        Ok(Some((m_lo, m_hi)))
    }

    /// Mass `weight` spread uniformly over [lo, hi], cut at absorbing walls: the part of
    /// the interval inside [a, b] and the mass it keeps (`None` if it lies outside).
    /// Reflecting walls keep everything.
    pub(super) fn clip_absorbing(&self, lo: f64, hi: f64, weight: f64) -> Option<(f64, f64, f64)> {
        if !self.absorbing {
            return Some((lo, hi, weight));
        }
        if hi < self.a || lo > self.b {
            return None;
        }
        let len = hi - lo;
        if len > 0.0 {
            let (l2, h2) = (lo.max(self.a), hi.min(self.b));
            return Some((l2, h2, weight * ((h2 - l2) / len).clamp(0.0, 1.0)));
        }
        Some((lo, hi, weight))
    }

    /// Position of face `m` of the unfolded line (face 0 is a, face n is b; copy c of
    /// the domain holds faces c·n ..= (c + 1)·n, mirrored when c is odd).
    fn uface(&self, m: i64) -> f64 {
        let n = self.n as i64;
        let (c, r) = (m.div_euclid(n), m.rem_euclid(n) as usize);
        if c == 0 {
            return self.grid.face(r);
        }
        let base = self.a + c as f64 * (self.b - self.a);
        if c % 2 == 0 {
            base + (self.grid.face(r) - self.a)
        } else {
            base + (self.b - self.grid.face(self.n - r))
        }
    }

    /// Centre of unfolded cell `m` (between faces m and m + 1).
    fn ucentre(&self, m: i64) -> f64 {
        0.5 * (self.uface(m) + self.uface(m + 1))
    }

    /// The unfolded cell containing `y`.
    fn ulocate(&self, y: f64) -> i64 {
        let n = self.n as i64;
        let len = self.b - self.a;
        let c = ((y - self.a) / len).floor();
        if c == 0.0 {
            return self.grid.locate(y) as i64;
        }
        let u = (y - self.a - c * len).clamp(0.0, len);
        let c = c as i64;
        if c % 2 == 0 {
            c * n + self.grid.locate(self.a + u) as i64
        } else {
            c * n + (n - 1 - self.grid.locate(self.b - u) as i64)
        }
    }

    /// An error when [lo, hi] reaches over more than [`MAX_UNFOLDED_COPIES`] lengths
    /// of the domain.
    fn check_span(&self, lo: f64, hi: f64) -> Result<()> {
        if hi - lo > MAX_UNFOLDED_COPIES as f64 * (self.b - self.a) {
            return Err(too_far(self, lo, hi));
        }
        Ok(())
    }
}

impl Column {
    /// Ulam's projection on graded cells: mass `weight`, distributed as
    /// Uniform[lo, hi] ⊛ N(0, σ²) (σ = 0: uniform), given to each cell as the mass
    /// between its faces, folded at reflecting walls. Returns the mass kept.
    pub(super) fn graded_cells(
        &mut self,
        g: &Geometry,
        lo: f64,
        hi: f64,
        sigma: f64,
        weight: f64,
    ) -> Result<f64> {
        let Some((m_lo, m_hi)) = g.reach(lo, hi, sigma)? else {
            return Ok(0.0);
        };
        let n = g.n as i64;
        let cdf = |x: f64| uniform_normal_cdf(x, lo, hi, sigma);
        let mut f_prev = cdf(g.uface(m_lo));
        let mut inside = 0.0;
        for m in m_lo..=m_hi {
            let f_next = cdf(g.uface(m + 1));
            let mass = (f_next - f_prev).max(0.0) * weight;
            f_prev = f_next;
            if mass > 0.0 {
                self.add(fold(m, n), mass);
                inside += mass;
            }
        }
        Ok(inside)
    }

    /// Hat functions between graded centres for mass `weight` uniform on [lo, hi]
    /// (a point when narrower than 1e-6 of its cell): each stretch [c_k, c_{k+1}] of
    /// the image shares its mass between its two centres in proportion to the distance
    /// of its midpoint, which is the exact integral of the two linear hats over it. At
    /// absorbing walls the part beyond the walls leaves. Returns the mass kept.
    pub(super) fn graded_hats(
        &mut self,
        g: &Geometry,
        lo: f64,
        hi: f64,
        weight: f64,
    ) -> Result<f64> {
        let Some((lo, hi, kept)) = g.clip_absorbing(lo, hi, weight) else {
            return Ok(0.0);
        };
        g.check_span(lo, hi)?;
        let n = g.n as i64;
        let len = hi - lo;
        let j = g.ulocate(lo);
        if len < 1e-6 * (g.uface(j + 1) - g.uface(j)) {
            let y = 0.5 * (lo + hi);
            let j = g.ulocate(y);
            let k = if y < g.ucentre(j) { j - 1 } else { j };
            let (c0, c1) = (g.ucentre(k), g.ucentre(k + 1));
            let th = ((y - c0) / (c1 - c0)).clamp(0.0, 1.0);
            self.add(fold(k, n), (1.0 - th) * kept);
            self.add(fold(k + 1, n), th * kept);
            return Ok(kept);
        }
        let mut c0 = g.ucentre(j - 1);
        for k in j - 1..=g.ulocate(hi) {
            let c1 = g.ucentre(k + 1);
            let (u0, u1) = (lo.max(c0), hi.min(c1));
            if u1 > u0 {
                let part = (u1 - u0) / len * kept;
                let th = ((0.5 * (u0 + u1) - c0) / (c1 - c0)).clamp(0.0, 1.0);
                self.add(fold(k, n), (1.0 - th) * part);
                self.add(fold(k + 1, n), th * part);
            }
            c0 = c1;
        }
        Ok(kept)
    }

    /// Hat functions between graded centres for mass `weight` distributed as
    /// Y = Uniform[lo, hi] + σZ: the weight of centre c_m is the divided second
    /// difference of E[(Y − x)₊] (of E[(x − Y)₊] below the mean), in closed form. At
    /// absorbing walls the end cells take all mass between the wall and their centre and
    /// mass beyond the walls leaves. Returns the mass kept.
    pub(super) fn graded_gaussian_hats(
        &mut self,
        g: &Geometry,
        lo: f64,
        hi: f64,
        sigma: f64,
        weight: f64,
    ) -> Result<f64> {
        let Some((m_lo, m_hi)) = g.reach(lo, hi, sigma)? else {
            return Ok(0.0);
        };
        let n = g.n as i64;
        let (s_lo, s_hi) = (lo - g.tail * sigma, hi + g.tail * sigma);
        let call = |x: f64| expected_excess(x, lo, hi, sigma);
        let put = |x: f64| expected_excess(-x, -hi, -lo, sigma);
        // centres of nodes k0 ..= k1; hats m_lo ..= m_hi use their neighbours
        let (k0, k1) = (m_lo - 1, m_hi + 1);
        self.centres.clear();
        self.centres.extend((k0..=k1).map(|k| g.ucentre(k)));
        let mid = 0.5 * (lo + hi);
        // hats centred at or above the mean use E[(Y − x)₊], those below E[(x − Y)₊]
        let first_above = self.centres[1..self.centres.len() - 1].partition_point(|&c| c < mid);
        let split = m_lo + first_above as i64;
        let c = |k: i64| self.centres[(k - k0) as usize];
        let c_base = (split - 1).max(k0);
        self.call.clear();
        self.call.extend((c_base..=k1).map(|k| call(c(k))));
        self.put.clear();
        self.put.extend((k0..=split.min(k1)).map(|k| put(c(k))));
        let hat = |m: i64| -> f64 {
            let (dl, dr) = (c(m) - c(m - 1), c(m + 1) - c(m));
            let v = |k: i64| {
                if m >= split {
                    self.call[(k - c_base) as usize]
                } else {
                    self.put[(k - k0) as usize]
                }
            };
            (v(m - 1) / dl - v(m) * (1.0 / dl + 1.0 / dr) + v(m + 1) / dr).max(0.0)
        };
        let hats: Vec<(i64, f64)> = (m_lo..=m_hi).map(|m| (m, hat(m) * weight)).collect();
        if !g.absorbing {
            let mut inside = 0.0;
            for (m, v) in hats {
                if v > 0.0 {
                    self.add(fold(m, n), v);
                    inside += v;
                }
            }
            return Ok(inside);
        }
        for (m, v) in hats {
            if (1..n - 1).contains(&m) && v > 0.0 {
                self.add(m as usize, v);
            }
        }
        let cdf = |x: f64| uniform_normal_cdf(x, lo, hi, sigma);
        let (c0, c1) = (g.ucentre(0), g.ucentre(1));
        if s_lo < c1 {
            // all of [a, c₀], and the hat of cell 0 on [c₀, c₁]
            let d = c1 - c0;
            let w0 = cdf(c1) - cdf(g.a) - (call(c0) - call(c1) - d * (1.0 - cdf(c1))) / d;
            if w0 > 0.0 {
                self.add(0, w0 * weight);
            }
        }
        let (cl, cr) = (g.ucentre(n - 2), g.ucentre(n - 1));
        if s_hi > cl {
            let d = cr - cl;
            let w1 = cdf(g.b) - cdf(cl) - (put(cr) - put(cl) - d * cdf(cl)) / d;
            if w1 > 0.0 {
                self.add(g.n - 1, w1 * weight);
            }
        }
        Ok((cdf(g.b) - cdf(g.a)).clamp(0.0, 1.0) * weight)
    }
}
