//! Landscapes: the per-datapoint losses l_j(W) and the SGD coefficients derived from them.
//!
//! With g_j = l_j′ the per-datapoint gradients, the full-batch gradient is
//! G = mean_j g_j and the gradient variance is S² = mean_j (g_j − G)² (population
//! variance). Their derivatives follow from the per-datapoint curvatures l_j″:
//! G′ = mean_j l_j″ and (S²)′ = 2 mean_j (g_j − G)(l_j″ − G′). Everything a scheme
//! needs is derived from these: D′ (from (S²)′) enters the Itô drift of the fluxes
//! fitted on P, and G′ the end-state analysis (widths of stationary peaks, the SGD
//! multiplier 1 − T·G′). Curvatures are exact for formulas and for closures that give
//! them; a closure datapoint given by its loss and gradient only
//! ([`ClosureLandscape::datapoint_from_gradient`]) has its curvature by a central
//! difference of the gradient, the only coefficient ever finite-differenced.
//!
//! S² without cancellation. Where the datapoints nearly agree, S² is far smaller than
//! G² and the deviations g_j − G are differences of nearly equal numbers: each g_j
//! carries a rounding error of about ε|g_j|, so S² computed from the g_j cannot be
//! resolved below (ε|G|)² (on the seed landscape, S² was exactly 0 or jumped in steps
//! of ~4e-34 where its true value is a smooth 1e-80). Two things remove this:
//!
//! * **A shared part.** A landscape may give its losses as l_j = s + r_j, a part s
//!   shared by every datapoint plus per-datapoint parts r_j ([`Landscape::part_grad`],
//!   [`Landscape::part_curv`]; [`ClosureLandscape::shared`],
//!   [`FormulaLandscape::with_shared`]). G is the mean of the full gradients
//!   s′ + r_j′; the shared gradient s′ cancels exactly from every deviation, so S² and
//!   (S²)′ are computed from the parts r_j′, r_j″ alone and are as accurate as the
//!   parts are. The built-in seed landscape is given this way.
//! * **Shifted two-pass variance.** S² = mean_j (x_j − x̄)² is computed from the
//!   shifted values x_j = g_j − g_1 (the parts where a split is given): the mean x̄ in
//!   a first pass, the squared deviations in a second. Where the gradients nearly
//!   agree the shift g_j − g_1 is exact (Sterbenz), and the second pass then works on
//!   numbers of the size of the spread itself, so the result is as accurate as the
//!   pairwise form S² = (1/(2n²)) Σ_{i,j} (g_i − g_j)² — exact in the differences of
//!   the given floats, relative error a small multiple of nε — at O(n) cost instead
//!   of O(n²). (S²)′ uses the same deviations, with the curvatures shifted by l_1″.
//!   Datapoints whose gradients are equal floats give S² = 0 exactly.
//!
//! Without a split nothing can recover a spread below the rounding of the given g_j;
//! with one, S² is resolved down to the smallest normal float.
//!
//! Three ways in: Rust closures ([`ClosureLandscape`]), formula strings differentiated
//! exactly by `exmex` ([`FormulaLandscape::from_formulas`]), and a dataset of rows with
//! one loss formula in `w` and the row's columns ([`FormulaLandscape::from_dataset`]).

mod builtin;
mod closure;
mod formula;

pub use builtin::{ou_landscape, seed_landscape, spreading_landscape, vanishing_noise_landscape};
pub use closure::{ClosureDatapoint, ClosureLandscape};
pub use formula::{
    expand_exponent_literals, normalize_unary_minus, parse_on_large_stack, read_numeric_csv,
    FormulaLandscape,
};

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A landscape: n per-datapoint losses with exact first and second derivatives.
///
/// Implementors provide the loss, its gradient and its curvature per datapoint; the
/// mean gradient, the gradient variance and their derivatives are derived by
/// [`Landscape::stats`]. A landscape whose losses are a shared part plus per-datapoint
/// parts (l_j = s + r_j) also overrides [`Landscape::part_grad`] and
/// [`Landscape::part_curv`], from which S² is then computed without cancellation.
pub trait Landscape: Send + Sync + fmt::Debug {
    /// Number of datapoints n (at least one).
    fn len(&self) -> usize;
    /// Loss l_j(w) of datapoint `j` (the full loss, shared part included).
    fn loss(&self, j: usize, w: f64) -> f64;
    /// Gradient g_j(w) = l_j′(w) (the full gradient, shared part included).
    fn grad(&self, j: usize, w: f64) -> f64;
    /// Curvature l_j″(w) (the full curvature, shared part included).
    fn curv(&self, j: usize, w: f64) -> f64;
    /// Per-datapoint part r_j′(w) of the gradient when the losses are given as
    /// l_j = s + r_j: the gradient less the part s′ every datapoint shares. The
    /// variance S² and its derivative are computed from these parts, in which the shared
    /// gradient has cancelled exactly. An override must keep
    /// `grad(j, w) − part_grad(j, w)` the same for every j (up to rounding). Default:
    /// the full gradient (no split).
    fn part_grad(&self, j: usize, w: f64) -> f64 {
        self.grad(j, w)
    }
    /// Per-datapoint part r_j″(w) of the curvature (see [`Landscape::part_grad`]).
    /// Default: the full curvature.
    fn part_curv(&self, j: usize, w: f64) -> f64 {
        self.curv(j, w)
    }
    /// Human-readable description of datapoint `j` (its formula, its row), used in errors.
    fn describe(&self, j: usize) -> String {
        format!("datapoint {j}")
    }
    /// Whether the landscape has no datapoints (never true for a valid landscape).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The closed form of a built-in landscape, when this is one unchanged: engines
    /// that evaluate many gradients at once (the Monte Carlo engine) use it to evaluate
    /// the per-datapoint gradients in bulk, without a call through this trait per
    /// datapoint. Default: `None` (evaluate through [`Landscape::grad`]).
    fn form(&self) -> Option<Form> {
        None
    }

    /// Mean gradient G and gradient variance S² at `w` only (no curvatures: the Monte
    /// Carlo engine's hot path). S² as in [`Landscape::stats`].
    fn g_s2(&self, w: f64) -> (f64, f64) {
        let n = self.len() as f64;
        let g = (0..self.len()).map(|j| self.grad(j, w)).sum::<f64>() / n;
        let (s2, _) = shifted_variance(self.len(), |j| self.part_grad(j, w), None);
        (g, s2)
    }

    /// Mean gradient, gradient variance and their derivatives at `w`.
    ///
    /// G and G′ are the means of the full gradients and curvatures; S² and (S²)′ come
    /// from the per-datapoint parts by the shifted two-pass method (see the module
    /// documentation), exact in the differences of the given values.
    fn stats(&self, w: f64) -> GradStats {
        let n = self.len() as f64;
        let (mut g, mut gp) = (0.0, 0.0);
        for j in 0..self.len() {
            g += self.grad(j, w);
            gp += self.curv(j, w);
        }
        let curv = |j| self.part_curv(j, w);
        let (s2, s2_prime) = shifted_variance(self.len(), |j| self.part_grad(j, w), Some(&curv));
        GradStats {
            g: g / n,
            g_prime: gp / n,
            s2,
            s2_prime,
        }
    }

    /// Check every loss, gradient and curvature (and their per-datapoint parts) is
    /// finite at the points `ws`; the error names the datapoint's description and the
    /// first failing w.
    fn check_finite(&self, ws: &[f64]) -> Result<()> {
        for j in 0..self.len() {
            for &w in ws {
                for (what, v) in [
                    ("loss", self.loss(j, w)),
                    ("gradient", self.grad(j, w)),
                    ("curvature", self.curv(j, w)),
                    ("per-datapoint part of the gradient", self.part_grad(j, w)),
                    ("per-datapoint part of the curvature", self.part_curv(j, w)),
                ] {
                    if !v.is_finite() {
                        return Err(Error::NonFinite {
                            what: format!("{what} of {}", self.describe(j)),
                            w,
                            value: v,
                            origin: String::new(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Population variance mean_j (x_j − x̄)² of `x(0..n)` and, when curvatures `y` are
/// given, its derivative 2 mean_j (x_j − x̄)(y_j − ȳ) (0 otherwise), by the shifted
/// two-pass method: x and y are first shifted by their values at j = 0 (exact where the
/// values nearly agree), then the means are taken in one pass and the deviations in a
/// second. The result is as accurate as the pairwise form
/// (1/(2n²)) Σ_{i,j} (x_i − x_j)², i.e. exact in the differences of the given values up
/// to a relative error of a small multiple of nε, and exactly 0 when all x_j are equal.
pub fn shifted_variance(
    n: usize,
    x: impl Fn(usize) -> f64,
    y: Option<&dyn Fn(usize) -> f64>,
) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let nf = n as f64;
    let x0 = x(0);
    let y0 = y.map_or(0.0, |y| y(0));
    let (mut xm, mut ym) = (0.0, 0.0);
    for j in 1..n {
        xm += x(j) - x0;
        if let Some(y) = y {
            ym += y(j) - y0;
        }
    }
    xm /= nf;
    ym /= nf;
    let (mut s2, mut s2p) = (0.0, 0.0);
    for j in 0..n {
        // j = 0 contributes the deviation −x̄ exactly
        let dev = if j == 0 { -xm } else { (x(j) - x0) - xm };
        s2 += dev * dev;
        if let Some(y) = y {
            let cdev = if j == 0 { -ym } else { (y(j) - y0) - ym };
            s2p += 2.0 * dev * cdev;
        }
    }
    (s2 / nf, s2p / nf)
}

/// The closed form of a built-in landscape ([`Landscape::form`]): its per-datapoint
/// gradients g_j(W), datapoints numbered from 0 as the landscape numbers them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form {
    /// [`seed_landscape`]: g_0 = 2(W−2)e^{−(W−2)²}, g_1 = g_0 + 2k(W−1)e^{−k(W−1)²}.
    Seed {
        /// Pit sharpness k.
        k: f64,
    },
    /// [`ou_landscape`]: g_{0,1} = c(W − m) ± a.
    Ou {
        /// Curvature c.
        c: f64,
        /// Minimum m.
        m: f64,
        /// Noise amplitude a.
        a: f64,
    },
    /// [`spreading_landscape`]: g_{0,1} = ±a.
    Spreading {
        /// Gradient magnitude a.
        a: f64,
    },
    /// [`vanishing_noise_landscape`]: g_0 = 2(W − 1), g_1 = 0.
    VanishingNoise,
}

impl Form {
    /// G, G′, S², (S²)′ at `w` in closed form, where the form gives them with fewer
    /// evaluations than the landscape's per-datapoint route (`Seed`: two exponentials
    /// instead of one per closure call); `None` otherwise. Equal to
    /// [`Landscape::stats`] up to rounding.
    pub fn stats(&self, w: f64) -> Option<GradStats> {
        match *self {
            Form::Seed { k } => {
                let (u, x) = (w - 2.0, w - 1.0);
                let (ew, ep) = ((-u * u).exp(), (-k * x * x).exp());
                // shared part s′, s″ and the pit datapoint's part r′, r″ (the other
                // datapoint's part is zero)
                let (sg, sc) = (2.0 * u * ew, (2.0 - 4.0 * u * u) * ew);
                let (rg, rc) = (2.0 * k * x * ep, (2.0 * k - 4.0 * k * k * x * x) * ep);
                Some(GradStats {
                    g: sg + 0.5 * rg,
                    g_prime: sc + 0.5 * rc,
                    s2: (0.5 * rg) * (0.5 * rg),
                    s2_prime: 0.5 * rg * rc,
                })
            }
            _ => None,
        }
    }

    /// Whether every loss, gradient and curvature of the built-in closures of this form
    /// (and their per-datapoint parts) is finite at every w in [a, b]: a sufficient
    /// condition, decided from the parameters and the domain without evaluating anything.
    ///
    /// Each closure is a product or sum of a few factors times e^{−y} with y ≥ 0 (or a
    /// polynomial of degree ≤ 2); the exponential lies in [0, 1] whatever its argument
    /// (an argument that overflows to −∞ gives 0, never NaN). The products are bounded
    /// by the parameters and R = max(|a|, |b|) ≥ |w|: if every bound is at most
    /// [`Form::FINITE_BOUND`] = 1e150, every intermediate of the closures (products of
    /// at most two such bounds, e.g. 4k²x² = (2k x)²) stays below 1e300, so nothing
    /// overflows and no ∞·0 or ∞ − ∞ (NaN) can arise. `Seed`: |W − 2| ≤ R + 2,
    /// 2k ≤ 1e150 and 2k (R + 1) ≥ 2k |W − 1| ≤ 1e150, with k ≥ 0 (a negative k would
    /// make e^{−k(W−1)²} grow). `Ou`: |c| (R + |m|)², |c|, |m|, |a| R. `Spreading`:
    /// |a| R. `VanishingNoise`: R + 1. NaN or infinite parameters fail every bound.
    /// `false` means only "not proved": the caller then samples the closures
    /// ([`Landscape::check_finite`]), which finds and names the failing value.
    pub fn finite_on(&self, a: f64, b: f64) -> bool {
        let small = |v: f64| v.abs() <= Self::FINITE_BOUND;
        let r = a.abs().max(b.abs());
        if !small(r) {
            return false;
        }
        match *self {
            Form::Seed { k } => {
                k >= 0.0 && small(r + 2.0) && small(2.0 * k) && small(2.0 * k * (r + 1.0))
            }
            Form::Ou { c, m, a } => {
                let l = r + m.abs();
                small(m) && small(l) && small(c) && small(c * l * l) && small(a) && small(a * r)
            }
            Form::Spreading { a } => small(a) && small(a * r),
            Form::VanishingNoise => small(r + 1.0),
        }
    }

    /// The bound of [`Form::finite_on`]: squares and products of two bounded factors
    /// stay below 1e300, far from overflow (≈ 1.8e308).
    pub const FINITE_BOUND: f64 = 1e150;
}

/// G, G′, S², (S²)′ at one weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradStats {
    /// Mean gradient G.
    pub g: f64,
    /// Its derivative G′.
    pub g_prime: f64,
    /// Gradient variance S² (population variance over datapoints).
    pub s2: f64,
    /// Its derivative (S²)′.
    pub s2_prime: f64,
}

pub(super) type ScalarFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;
