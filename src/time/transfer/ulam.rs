//! Ulam's method: one column of the Markov matrix at a time, by spreading each
//! sub-interval's image over the cells.
//!
//! The mass of a source sub-interval lands uniformly on the chord image [y0, y1]
//! (convolved with the normal kernel N(0, σ²) for the Gaussian rule) and is shared
//! among cells either by Ulam's projection (each cell takes what lands inside it) or
//! by hat functions between neighbouring cell centres, which keep the mean position.
//! Mass that crosses a reflecting wall is folded back into the domain (the unfolded
//! real line is a chain of mirror copies of [a, b]); at absorbing walls it leaves.
//! References: S. M. Ulam, *A Collection of Mathematical Problems* (1960); T.-Y. Li,
//! J. Approx. Theory 17 (1976) 177–186.

use super::kernels::{expected_excess, tent_integral, uniform_normal_cdf};
use crate::error::{Error, Result};
use crate::space::grid::Grid;

mod graded;

/// Reflect `w` into [a, b] (repeatedly, for jumps longer than the domain): the wall
/// rule of zero-flux boundaries, folding with period 2(b − a).
#[inline]
pub fn reflect(mut w: f64, a: f64, b: f64) -> f64 {
    let len = b - a;
    if w < a || w > b {
        // fold with period 2·len
        let mut u = (w - a).rem_euclid(2.0 * len);
        if u > len {
            u = 2.0 * len - u;
        }
        w = a + u;
    }
    w
}

/// The error for a step whose image reaches further than the unfolding allows.
fn too_far(g: &Geometry, lo: f64, hi: f64) -> Error {
    Error::invalid(
        "step",
        format!("image [{lo:.4e}, {hi:.4e}]"),
        format!(
            "one step spreads mass over more than {MAX_UNFOLDED_COPIES} lengths of the \
             domain [{}, {}]: the learning rate is far too large for this domain",
            g.a, g.b
        ),
    )
}

/// Where one step's mass can go: the grid, the walls and the limits of the unfolding.
/// `h` is the cell width of a uniform grid and the smallest width of one given by its
/// edges (there it only sets the size below which a kernel counts as a point).
#[derive(Clone, Debug)]
pub(super) struct Geometry {
    pub(super) grid: Grid,
    pub(super) a: f64,
    pub(super) b: f64,
    pub(super) h: f64,
    pub(super) n: usize,
    pub(super) absorbing: bool,
    pub(super) tail: f64,
    pub(super) linear: bool,
}

/// Fold an unfolded cell index into the domain: mirror copies alternate direction.
#[inline]
fn fold(m: i64, n: i64) -> usize {
    let copy = m.div_euclid(n);
    let r = m.rem_euclid(n);
    (if copy % 2 == 0 { r } else { n - 1 - r }) as usize
}

/// A Gaussian kernel at least this many cells wide (in standard deviations) everywhere
/// on a source cell is deposited from one chord over the cell instead of `subcells`
/// (the sub-cell detail changes the target masses by O((h/σ)²)).
pub const WIDE_KERNEL: f64 = 4.0;

/// Most unfolded cells (across mirror copies of the domain) one deposit may touch.
pub(super) const MAX_UNFOLDED_COPIES: usize = 64;

/// A column being accumulated: dense values with a list of touched rows.
pub(super) struct Column {
    acc: Vec<f64>,
    mark: Vec<bool>,
    touched: Vec<usize>,
    call: Vec<f64>,
    put: Vec<f64>,
    centres: Vec<f64>,
}

impl Column {
    pub(super) fn new(n: usize) -> Self {
        Column {
            acc: vec![0.0; n],
            mark: vec![false; n],
            touched: Vec::new(),
            call: Vec::new(),
            put: Vec::new(),
            centres: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, i: usize, v: f64) {
        if !self.mark[i] {
            self.mark[i] = true;
            self.touched.push(i);
        }
        self.acc[i] += v;
    }

    /// Spread mass `weight`, distributed as Uniform[y0, y1] ⊛ N(0, σ²), over the cells,
    /// folding at reflecting walls; returns the mass that stays in the domain.
    pub(super) fn deposit(
        &mut self,
        g: &Geometry,
        y0: f64,
        y1: f64,
        sigma: f64,
        weight: f64,
    ) -> Result<f64> {
        let (lo, hi) = (y0.min(y1), y0.max(y1));
        let len = hi - lo;
        if !(lo.is_finite() && hi.is_finite() && sigma.is_finite()) {
            return Err(Error::NonFinite {
                what: "image of one step".into(),
                w: if lo.is_finite() { hi } else { lo },
                value: if sigma.is_finite() { lo + hi } else { sigma },
                origin: String::new(),
            });
        }
        let gaussian = sigma * g.tail > 1e-9 * g.h;
        let graded = !g.grid.is_uniform();
        match (g.linear, gaussian, graded) {
            (true, false, false) => return self.deposit_hats(g, lo, hi, weight),
            (true, true, false) => return self.gaussian_hats(g, lo, hi, sigma, weight),
            (true, false, true) => return self.graded_hats(g, lo, hi, weight),
            (true, true, true) => return self.graded_gaussian_hats(g, lo, hi, sigma, weight),
            _ => {}
        }
        if !gaussian && len <= 0.0 {
            // a point map
            let mut y = lo;
            if g.absorbing {
                if !(g.a..=g.b).contains(&y) {
                    return Ok(0.0);
                }
            } else {
                y = reflect(y, g.a, g.b);
            }
            let i = if graded {
                g.grid.locate(y)
            } else {
                (((y - g.a) / g.h).floor().max(0.0) as usize).min(g.n - 1)
            };
            self.add(i, weight);
            return Ok(weight);
        }
        if graded {
            return self.graded_cells(g, lo, hi, if gaussian { sigma } else { 0.0 }, weight);
        }
        let (s_lo, s_hi) = if gaussian {
            (lo - g.tail * sigma, hi + g.tail * sigma)
        } else {
            (lo, hi)
        };
        let mut m_lo = ((s_lo - g.a) / g.h).floor();
        let mut m_hi = ((s_hi - g.a) / g.h).floor();
        if g.absorbing {
            m_lo = m_lo.max(0.0);
            m_hi = m_hi.min(g.n as f64 - 1.0);
            if m_lo > m_hi {
                return Ok(0.0);
            }
        }
        let span = m_hi - m_lo + 1.0;
        if span > (MAX_UNFOLDED_COPIES * g.n) as f64 {
            return Err(too_far(g, s_lo, s_hi));
        }
        let (m_lo, m_hi) = (m_lo as i64, m_hi as i64);
        let sig = if gaussian { sigma } else { 0.0 };
        let cdf = |x: f64| uniform_normal_cdf(x, lo, hi, sig);
        let n = g.n as i64;
        let mut f_prev = cdf(g.a + m_lo as f64 * g.h);
        let mut inside = 0.0;
        for m in m_lo..=m_hi {
            let f_next = cdf(g.a + (m + 1) as f64 * g.h);
            let mass = (f_next - f_prev).max(0.0) * weight;
            f_prev = f_next;
            if mass <= 0.0 {
                continue;
            }
            self.add(fold(m, n), mass);
            inside += mass;
        }
        Ok(inside)
    }

    /// Spread mass `weight`, distributed as Y = Uniform[lo, hi] + σZ, over the cell
    /// centres by the hat functions: the weight of centre c is E[tent((Y − c)/h)], the
    /// second difference of L(x) = E[(Y − x)₊] (or of E[(x − Y)₊] below the mean, to
    /// avoid cancellation), in closed form. At absorbing walls the end cells take all
    /// mass between the wall and their centre, and mass beyond the walls leaves.
    fn gaussian_hats(
        &mut self,
        g: &Geometry,
        lo: f64,
        hi: f64,
        sigma: f64,
        weight: f64,
    ) -> Result<f64> {
        let (s_lo, s_hi) = (lo - g.tail * sigma, hi + g.tail * sigma);
        let mut m_lo = ((s_lo - g.a) / g.h - 0.5).floor();
        let mut m_hi = ((s_hi - g.a) / g.h - 0.5).ceil();
        if g.absorbing {
            m_lo = m_lo.max(0.0);
            m_hi = m_hi.min(g.n as f64 - 1.0);
            if m_lo > m_hi {
                return Ok(0.0);
            }
        }
        if m_hi - m_lo + 1.0 > (MAX_UNFOLDED_COPIES * g.n) as f64 {
            return Err(too_far(g, s_lo, s_hi));
        }
        let mid = 0.5 * (lo + hi);
        let call = |x: f64| expected_excess(x, lo, hi, sigma);
        let put = |x: f64| expected_excess(-x, -hi, -lo, sigma);
        let centre = |m: i64| g.a + (m as f64 + 0.5) * g.h;
        let n = g.n as i64;
        let (m_lo, m_hi) = (m_lo as i64, m_hi as i64);
        // hats centred at or above the mean use E[(Y − x)₊], those below E[(x − Y)₊];
        // each is sampled once per centre, so the second differences telescope
        let split = (((mid - g.a) / g.h - 0.5).ceil() as i64).clamp(m_lo, m_hi + 1);
        let (k0, k1) = (m_lo - 1, m_hi + 1);
        self.call.clear();
        self.put.clear();
        for k in (split - 1).max(k0)..=k1 {
            self.call.push(call(centre(k)));
        }
        for k in k0..=split.min(k1) {
            self.put.push(put(centre(k)));
        }
        let c_base = (split - 1).max(k0);
        let hat = |m: i64| -> f64 {
            let d2 = if m >= split {
                let i = (m - 1 - c_base) as usize;
                self.call[i] - 2.0 * self.call[i + 1] + self.call[i + 2]
            } else {
                let i = (m - 1 - k0) as usize;
                self.put[i] - 2.0 * self.put[i + 1] + self.put[i + 2]
            };
            (d2 / g.h).max(0.0)
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
        let cdf = |x: f64| uniform_normal_cdf(x, lo, hi, sigma);
        for (m, v) in hats {
            if (1..n - 1).contains(&m) && v > 0.0 {
                self.add(m as usize, v);
            }
        }
        let (c0, c1) = (centre(0), centre(1));
        if s_lo < c1 {
            // all of [a, c₀], and the hat of cell 0 on [c₀, c₁]
            let w0 = cdf(c1) - cdf(g.a) - (call(c0) - call(c1) - g.h * (1.0 - cdf(c1))) / g.h;
            if w0 > 0.0 {
                self.add(0, w0 * weight);
            }
        }
        let (cl, cr) = (centre(n - 2), centre(n - 1));
        if s_hi > cl {
            let w1 = cdf(g.b) - cdf(cl) - (put(cr) - put(cl) - g.h * cdf(cl)) / g.h;
            if w1 > 0.0 {
                self.add(g.n - 1, w1 * weight);
            }
        }
        Ok((cdf(g.b) - cdf(g.a)).clamp(0.0, 1.0) * weight)
    }

    /// Spread mass `weight`, uniform on [lo, hi], over the cell centres by the hat
    /// functions (linear interpolation between the two nearest centres, integrated over
    /// the interval): the mean position is kept exactly away from the walls. Returns the
    /// mass that stays in the domain.
    fn deposit_hats(&mut self, g: &Geometry, lo: f64, hi: f64, weight: f64) -> Result<f64> {
        let Some((lo, hi, kept)) = g.clip_absorbing(lo, hi, weight) else {
            return Ok(0.0);
        };
        let n = g.n as i64;
        let len = hi - lo;
        let s_lo = (lo - g.a) / g.h - 0.5;
        let s_hi = (hi - g.a) / g.h - 0.5;
        if len < 1e-6 * g.h {
            // a point: split between the two nearest centres
            let s = 0.5 * (s_lo + s_hi);
            let m = s.floor();
            let th = s - m;
            let m = m as i64;
            self.add(fold(m, n), (1.0 - th) * kept);
            self.add(fold(m + 1, n), th * kept);
            return Ok(kept);
        }
        let (m_lo, m_hi) = (s_lo.floor(), s_hi.floor() + 1.0);
        if m_hi - m_lo + 1.0 > (MAX_UNFOLDED_COPIES * g.n) as f64 {
            return Err(too_far(g, lo, hi));
        }
        let scale = kept * g.h / len;
        for m in m_lo as i64..=m_hi as i64 {
            let mf = m as f64;
            let v = (tent_integral(s_hi - mf) - tent_integral(s_lo - mf)) * scale;
            if v > 0.0 {
                self.add(fold(m, n), v);
            }
        }
        Ok(kept)
    }

    /// Finish: drop entries below 1e-15 of the column, rescale the rest to `total`,
    /// return (row, value) sorted by row, and reset.
    pub(super) fn finish(&mut self, total: f64) -> Vec<(u32, f64)> {
        self.touched.sort_unstable();
        let sum: f64 = self.touched.iter().map(|&i| self.acc[i]).sum();
        let cut = 1e-15 * sum;
        let kept: f64 = self
            .touched
            .iter()
            .map(|&i| self.acc[i])
            .filter(|&v| v > cut)
            .sum();
        let scale = if kept > 0.0 { total / kept } else { 0.0 };
        let mut out = Vec::with_capacity(self.touched.len());
        for &i in &self.touched {
            let v = self.acc[i];
            if v > cut {
                out.push((i as u32, v * scale));
            }
            self.acc[i] = 0.0;
            self.mark[i] = false;
        }
        self.touched.clear();
        out
    }
}
