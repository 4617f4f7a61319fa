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

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use exmex::prelude::*;
use exmex::Differentiate;

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

type ScalarFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// One datapoint given by closures for its loss, gradient and curvature.
#[derive(Clone)]
pub struct ClosureDatapoint {
    label: String,
    loss: ScalarFn,
    grad: ScalarFn,
    curv: ScalarFn,
}

/// Landscape given by Rust closures (library API, and the built-in problems).
///
/// Each datapoint is given by closures; optionally a part shared by every datapoint
/// ([`ClosureLandscape::shared`]), in which case the datapoints give only their own
/// parts r_j and the losses are l_j = s + r_j.
#[derive(Clone, Default)]
pub struct ClosureLandscape {
    shared: Option<ClosureDatapoint>,
    points: Vec<ClosureDatapoint>,
}

impl fmt::Debug for ClosureLandscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.points.iter().map(|p| p.label.as_str()).collect();
        f.debug_struct("ClosureLandscape")
            .field("shared", &self.shared.as_ref().map(|s| s.label.as_str()))
            .field("datapoints", &labels)
            .finish()
    }
}

impl ClosureLandscape {
    /// An empty landscape; add datapoints with [`ClosureLandscape::datapoint`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a datapoint with loss l, gradient l′ and curvature l″ (builder style).
    pub fn datapoint(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
        curv: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.points.push(ClosureDatapoint {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
            curv: Arc::new(curv),
        });
        self
    }

    /// Set the part s shared by every datapoint, with its gradient and curvature
    /// (builder style; given before or after the datapoints). The datapoints then give
    /// only their own parts r_j: the loss of datapoint j is s + r_j, G is the mean of
    /// s′ + r_j′, and S², (S²)′ are computed from the r_j′, r_j″ alone, in which s′ has
    /// cancelled exactly (no rounding of s′ reaches S²).
    ///
    /// ```
    /// use probcurrent::{ClosureLandscape, Landscape};
    /// // l_1 = s, l_2 = s + 1e-9·w with a large shared s = 1e3·w²:
    /// // S² = (1e-9 / 2)² exactly, though g_j ≈ 2e3·w
    /// let landscape = ClosureLandscape::new()
    ///     .shared("1e3*w^2", |w| 1e3 * w * w, |w| 2e3 * w, |_| 2e3)
    ///     .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
    ///     .datapoint("1e-9*w", |w| 1e-9 * w, |_| 1e-9, |_| 0.0);
    /// let s = landscape.stats(0.7);
    /// assert!((s.s2 - 0.25e-18).abs() < 1e-33);
    /// assert!((s.g - (1.4e3 + 0.5e-9)).abs() < 1e-12);
    /// ```
    pub fn shared(
        mut self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
        curv: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.shared = Some(ClosureDatapoint {
            label: label.into(),
            loss: Arc::new(loss),
            grad: Arc::new(grad),
            curv: Arc::new(curv),
        });
        self
    }

    /// Value of the shared part (`which`: 0 loss, 1 gradient, 2 curvature; 0 if none).
    fn shared_value(&self, which: u8, w: f64) -> f64 {
        match &self.shared {
            None => 0.0,
            Some(s) => match which {
                0 => (s.loss)(w),
                1 => (s.grad)(w),
                _ => (s.curv)(w),
            },
        }
    }
}

/// Step of the central difference of [`ClosureLandscape::datapoint_from_gradient`]:
/// h = ε^{1/3} max(1, |w|) balances the truncation error h² g‴/6 against the
/// rounding error ε |g| / h, leaving a relative error near ε^{2/3} ≈ 4e-11.
fn fd_step(w: f64) -> f64 {
    f64::EPSILON.cbrt() * w.abs().max(1.0)
}

impl ClosureLandscape {
    /// Add a datapoint given by its loss l and gradient l′ only (builder style); the
    /// curvature l″ is the central difference (l′(w + h) − l′(w − h)) / 2h with
    /// h ≈ 6e-6 max(1, |w|), accurate to about 1e-10 relative for smooth l′. The
    /// gradient is then evaluated up to h beyond the domain, so it must be finite there.
    ///
    /// The curvature cannot be left out: D′ (from (S²)′) enters the drift of the
    /// fluxes fitted on P, the default among them, and G′ the end-state analysis.
    ///
    /// ```
    /// use probcurrent::{ClosureLandscape, Landscape, Problem};
    /// // G = W − 1 (mean of the gradients W − 1 ± 1), S² = 1
    /// let landscape = ClosureLandscape::new()
    ///     .datapoint_from_gradient("0.5*(w-2)^2", |w| 0.5 * (w - 2.0).powi(2), |w| w - 2.0)
    ///     .datapoint_from_gradient("0.5*w^2", |w| 0.5 * w * w, |w| w);
    /// let s = landscape.stats(0.3);
    /// assert!((s.g - (0.3 - 1.0)).abs() < 1e-12);
    /// assert!((s.g_prime - 1.0).abs() < 1e-9 && (s.s2 - 1.0).abs() < 1e-12);
    /// let problem = Problem::builder(landscape).domain(-1.0, 3.0).build().unwrap();
    /// assert_eq!(problem.name, "custom");
    /// ```
    pub fn datapoint_from_gradient(
        self,
        label: impl Into<String>,
        loss: impl Fn(f64) -> f64 + Send + Sync + 'static,
        grad: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        let grad = Arc::new(grad);
        let g = Arc::clone(&grad);
        let curv = move |w: f64| {
            let h = fd_step(w);
            let (hi, lo) = (w + h, w - h);
            // divide by the representable spacing, not by 2h
            (g(hi) - g(lo)) / (hi - lo)
        };
        self.datapoint(label, loss, move |w| grad(w), curv)
    }
}

impl Landscape for ClosureLandscape {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn loss(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].loss)(w),
            Some(_) => self.shared_value(0, w) + (self.points[j].loss)(w),
        }
    }
    fn grad(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].grad)(w),
            Some(_) => self.shared_value(1, w) + (self.points[j].grad)(w),
        }
    }
    fn curv(&self, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => (self.points[j].curv)(w),
            Some(_) => self.shared_value(2, w) + (self.points[j].curv)(w),
        }
    }
    fn part_grad(&self, j: usize, w: f64) -> f64 {
        (self.points[j].grad)(w)
    }
    fn part_curv(&self, j: usize, w: f64) -> f64 {
        (self.points[j].curv)(w)
    }
    fn describe(&self, j: usize) -> String {
        match &self.shared {
            None => format!("datapoint {} ({})", j + 1, self.points[j].label),
            Some(s) => format!(
                "datapoint {} (shared `{}` + `{}`)",
                j + 1,
                s.label,
                self.points[j].label
            ),
        }
    }
}

/// The seed landscape (two datapoints, pit sharpness `k`):
/// l₁ = −e^{−(W−2)²}, l₂ = −e^{−(W−2)²} − e^{−k(W−1)²}, given as the shared part
/// −e^{−(W−2)²} plus the per-datapoint parts 0 and −e^{−k(W−1)²}, so that
/// S² = (k (W−1) e^{−k(W−1)²})² is exact down to the smallest normal float.
pub fn seed_landscape(k: f64) -> ClosureLandscape {
    let wide = |w: f64| -(-(w - 2.0).powi(2)).exp();
    let wide_g = |w: f64| 2.0 * (w - 2.0) * (-(w - 2.0).powi(2)).exp();
    let wide_c = |w: f64| (2.0 - 4.0 * (w - 2.0).powi(2)) * (-(w - 2.0).powi(2)).exp();
    let pit = move |w: f64| -(-k * (w - 1.0).powi(2)).exp();
    let pit_g = move |w: f64| 2.0 * k * (w - 1.0) * (-k * (w - 1.0).powi(2)).exp();
    let pit_c = move |w: f64| {
        let x = w - 1.0;
        (2.0 * k - 4.0 * k * k * x * x) * (-k * x * x).exp()
    };
    ClosureLandscape::new()
        .shared("-exp(-(w-2)^2)", wide, wide_g, wide_c)
        .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
        .datapoint(format!("-exp(-{k}*(w-1)^2)"), pit, pit_g, pit_c)
}

/// Two datapoints with opposite linear losses ±a·W: G = 0, S² = a² (pure spreading).
pub fn spreading_landscape(a: f64) -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(format!("{a}*w"), move |w| a * w, move |_| a, |_| 0.0)
        .datapoint(format!("-{a}*w"), move |w| -a * w, move |_| -a, |_| 0.0)
}

/// Two datapoints ½c(W−m)² ± a·W: G = c(W − m), S² = a² (Ornstein–Uhlenbeck).
pub fn ou_landscape(c: f64, m: f64, a: f64) -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(
            format!("0.5*{c}*(w-{m})^2 + {a}*w"),
            move |w| 0.5 * c * (w - m).powi(2) + a * w,
            move |w| c * (w - m) + a,
            move |_| c,
        )
        .datapoint(
            format!("0.5*{c}*(w-{m})^2 - {a}*w"),
            move |w| 0.5 * c * (w - m).powi(2) - a * w,
            move |w| c * (w - m) - a,
            move |_| c,
        )
}

/// Two datapoints (W − 1)² and 0: G = W − 1 and S² = (W − 1)², so the gradient noise
/// vanishes exactly at the minimum W = 1 (an interpolating minimum: a point mass forms
/// there unless a noise floor is added).
pub fn vanishing_noise_landscape() -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(
            "(w-1)^2",
            |w| (w - 1.0).powi(2),
            |w| 2.0 * (w - 1.0),
            |_| 2.0,
        )
        .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
}

/// One parsed loss formula with its exact first and second derivatives in `w`.
#[derive(Clone, Debug)]
struct Formula {
    text: String,
    loss: FlatEx<f64>,
    grad: Option<FlatEx<f64>>,
    curv: Option<FlatEx<f64>>,
    /// Variable names in exmex's order (sorted).
    vars: Vec<String>,
    /// Index of `w` among `vars`, if the formula uses it.
    w_index: Option<usize>,
}

/// Rewrite unary minus so that it binds as in ordinary notation.
///
/// exmex gives unary minus the highest precedence, so `-(w-2)^2` would mean
/// `(-(w-2))^2`. Every unary minus not directly after `^` is rewritten to `(0-1)*`,
/// which binds looser than `^` and as tight as `*`: `-x^2` → `(0-1)*x^2` = −(x²),
/// `2*-3` → `2*(0-1)*3`. A minus right after `^` (as in `a^-2`) and the signs inside
/// number literals (`1e-5`) are left alone.
pub fn normalize_unary_minus(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    // what the last significant character was: an operand end, or an operator/open
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            out.push(c);
            continue;
        }
        let unary_context = match prev {
            None => true,
            Some(p) => matches!(p, '(' | '+' | '-' | '*' | '/' | ',' | '^'),
        };
        if c == '-' && unary_context && prev != Some('^') {
            out.push_str("(0-1)*");
            prev = Some('*');
            continue;
        }
        // a number literal with an exponent: copy `e-5` / `E+3` verbatim
        if (c == 'e' || c == 'E')
            && prev.is_some_and(|p| p.is_ascii_digit() || p == '.')
            && out.ends_with(|ch: char| ch.is_ascii_digit() || ch == '.')
            && chars.peek().is_some_and(|n| *n == '-' || *n == '+')
        {
            let literal_start = out
                .char_indices()
                .rev()
                .take_while(|(_, ch)| ch.is_ascii_alphanumeric() || *ch == '.' || *ch == '_')
                .last()
                .map(|(i, _)| i)
                .unwrap_or(0);
            if out[literal_start..]
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_digit() || ch == '.')
            {
                out.push(c);
                if let Some(sign) = chars.next() {
                    out.push(sign);
                }
                prev = Some('0');
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

impl Formula {
    fn parse(text: &str, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Formula {
            formula: text.to_string(),
            origin: origin.to_string(),
            message,
        };
        let loss =
            FlatEx::<f64>::parse(&normalize_unary_minus(text)).map_err(|e| err(e.to_string()))?;
        let vars: Vec<String> = loss.var_names().to_vec();
        let w_index = vars.iter().position(|v| v == "w");
        let (grad, curv) = match w_index {
            Some(i) => {
                let g = loss
                    .clone()
                    .partial(i)
                    .map_err(|e| err(format!("cannot differentiate: {e}")))?;
                let c = g
                    .clone()
                    .partial(i)
                    .map_err(|e| err(format!("cannot differentiate twice: {e}")))?;
                (Some(g), Some(c))
            }
            None => (None, None),
        };
        Ok(Formula {
            text: text.to_string(),
            loss,
            grad,
            curv,
            vars,
            w_index,
        })
    }

    fn eval(expr: &FlatEx<f64>, args: &[f64], w_index: Option<usize>, w: f64) -> f64 {
        let mut buf = [0.0f64; 16];
        let n = args.len();
        if n <= buf.len() {
            buf[..n].copy_from_slice(args);
            if let Some(i) = w_index {
                buf[i] = w;
            }
            expr.eval(&buf[..n]).unwrap_or(f64::NAN)
        } else {
            let mut v = args.to_vec();
            if let Some(i) = w_index {
                v[i] = w;
            }
            expr.eval(&v).unwrap_or(f64::NAN)
        }
    }
}

/// A datapoint of a [`FormulaLandscape`]: which formula, and its bound variable values.
#[derive(Clone, Debug)]
struct FormulaPoint {
    formula: usize,
    /// Values of the formula's variables in exmex order (the `w` slot is overwritten).
    args: Vec<f64>,
    label: String,
}

/// Landscape from formula strings, differentiated exactly by `exmex`.
///
/// Either one formula per datapoint in the single variable `w`
/// ([`FormulaLandscape::from_formulas`]), or one formula in `w` and column names,
/// evaluated once per row of a dataset ([`FormulaLandscape::from_dataset`]). Either may
/// add a part shared by every datapoint ([`FormulaLandscape::with_shared`]).
#[derive(Clone, Debug)]
pub struct FormulaLandscape {
    /// The shared part s, if given (a formula in `w` only).
    shared: Option<Formula>,
    formulas: Vec<Formula>,
    points: Vec<FormulaPoint>,
}

impl FormulaLandscape {
    /// One datapoint per formula; each may use only the variable `w`.
    pub fn from_formulas(texts: &[String], origin: &str) -> Result<Self> {
        if texts.is_empty() {
            return Err(Error::invalid(
                "losses",
                "[]",
                format!("need at least one loss formula{origin}"),
            ));
        }
        let mut formulas = Vec::new();
        let mut points = Vec::new();
        for (j, text) in texts.iter().enumerate() {
            let f = Formula::parse(text, origin)?;
            if let Some(v) = f.vars.iter().find(|v| *v != "w") {
                return Err(Error::Formula {
                    formula: text.clone(),
                    origin: origin.to_string(),
                    message: format!(
                        "unknown variable `{v}`: a loss formula may use only `w` \
                         (use a dataset landscape for per-row columns)"
                    ),
                });
            }
            points.push(FormulaPoint {
                formula: j,
                args: vec![0.0; f.vars.len()],
                label: format!("formula `{text}` (datapoint {})", j + 1),
            });
            formulas.push(f);
        }
        Ok(FormulaLandscape {
            shared: None,
            formulas,
            points,
        })
    }

    /// Add a part shared by every datapoint: a formula in `w` only. The loss of
    /// datapoint j becomes s + r_j with r_j its own formula; S² and (S²)′ are then
    /// computed from the r_j alone (the shared gradient cancels exactly), G from both.
    ///
    /// ```
    /// use probcurrent::{FormulaLandscape, Landscape};
    /// let parts = vec!["0".to_string(), "-exp(-100*(w-1)^2)".to_string()];
    /// let f = FormulaLandscape::from_formulas(&parts, "")
    ///     .unwrap()
    ///     .with_shared("-exp(-(w-2)^2)", "")
    ///     .unwrap();
    /// // far from the pit S² is tiny but resolved: (100 (W−1) e^{−100(W−1)²})²
    /// let w: f64 = 0.3;
    /// let exact = (100.0 * (w - 1.0) * (-100.0 * (w - 1.0).powi(2)).exp()).powi(2);
    /// assert!((f.stats(w).s2 / exact - 1.0).abs() < 1e-12);
    /// ```
    pub fn with_shared(mut self, text: &str, origin: &str) -> Result<Self> {
        let f = Formula::parse(text, origin)?;
        if let Some(v) = f.vars.iter().find(|v| *v != "w") {
            return Err(Error::Formula {
                formula: text.to_string(),
                origin: origin.to_string(),
                message: format!(
                    "unknown variable `{v}`: the shared loss formula may use only `w`"
                ),
            });
        }
        self.shared = Some(f);
        Ok(self)
    }

    /// One datapoint per row of `rows`, whose columns are named by `columns`; the
    /// formula may use `w` and any column name.
    pub fn from_dataset(
        formula: &str,
        columns: &[String],
        rows: &[Vec<f64>],
        origin: &str,
    ) -> Result<Self> {
        let f = Formula::parse(formula, origin)?;
        if rows.is_empty() {
            return Err(Error::invalid(
                "dataset",
                "0 rows",
                format!("need at least one row{origin}"),
            ));
        }
        let mut slots = Vec::new();
        for v in &f.vars {
            if v == "w" {
                slots.push(None);
            } else if let Some(c) = columns.iter().position(|c| c == v) {
                slots.push(Some(c));
            } else {
                return Err(Error::Formula {
                    formula: formula.to_string(),
                    origin: origin.to_string(),
                    message: format!(
                        "variable `{v}` is neither `w` nor a dataset column (columns: {})",
                        columns.join(", ")
                    ),
                });
            }
        }
        let points = rows
            .iter()
            .enumerate()
            .map(|(r, row)| FormulaPoint {
                formula: 0,
                args: slots.iter().map(|s| s.map_or(0.0, |c| row[c])).collect(),
                label: format!("formula `{formula}` at data row {}", r + 1),
            })
            .collect();
        Ok(FormulaLandscape {
            shared: None,
            formulas: vec![f],
            points,
        })
    }

    /// Read a dataset CSV (header row of column names, numeric rows) and build the landscape.
    pub fn from_csv(formula: &str, path: &Path) -> Result<Self> {
        let (columns, rows) = read_numeric_csv(path)?;
        Self::from_dataset(
            formula,
            &columns,
            &rows,
            &format!(" (dataset {})", path.display()),
        )
    }

    /// Loss (`which` 0), gradient (1) or curvature (2) of formula `f` with arguments `args`.
    fn eval_formula(f: &Formula, args: &[f64], which: u8, w: f64) -> f64 {
        let expr = match which {
            0 => Some(&f.loss),
            1 => f.grad.as_ref(),
            _ => f.curv.as_ref(),
        };
        match expr {
            Some(e) => Formula::eval(e, args, f.w_index, w),
            // a formula without `w` is constant in w; its derivatives vanish
            None => 0.0,
        }
    }

    /// Datapoint j's own part (without the shared part).
    fn eval_part(&self, which: u8, j: usize, w: f64) -> f64 {
        let p = &self.points[j];
        Self::eval_formula(&self.formulas[p.formula], &p.args, which, w)
    }

    /// Datapoint j's full value: the shared part (if any) plus its own part.
    fn eval(&self, which: u8, j: usize, w: f64) -> f64 {
        match &self.shared {
            None => self.eval_part(which, j, w),
            Some(s) => {
                let args = [0.0];
                Self::eval_formula(s, &args[..s.vars.len()], which, w) + self.eval_part(which, j, w)
            }
        }
    }

    /// The formula texts (the per-datapoint ones; see [`FormulaLandscape::shared_formula`]).
    pub fn formulas(&self) -> Vec<&str> {
        self.formulas.iter().map(|f| f.text.as_str()).collect()
    }

    /// The shared formula, if one was given.
    pub fn shared_formula(&self) -> Option<&str> {
        self.shared.as_ref().map(|f| f.text.as_str())
    }
}

impl Landscape for FormulaLandscape {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn loss(&self, j: usize, w: f64) -> f64 {
        self.eval(0, j, w)
    }
    fn grad(&self, j: usize, w: f64) -> f64 {
        self.eval(1, j, w)
    }
    fn curv(&self, j: usize, w: f64) -> f64 {
        self.eval(2, j, w)
    }
    fn part_grad(&self, j: usize, w: f64) -> f64 {
        self.eval_part(1, j, w)
    }
    fn part_curv(&self, j: usize, w: f64) -> f64 {
        self.eval_part(2, j, w)
    }
    fn describe(&self, j: usize) -> String {
        match &self.shared {
            None => self.points[j].label.clone(),
            Some(s) => format!("shared formula `{}` + {}", s.text, self.points[j].label),
        }
    }
}

/// Read a CSV with a header row and numeric cells; errors name the file, line and column.
pub fn read_numeric_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let columns: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    if columns.is_empty() || columns.iter().all(|c| c.is_empty()) {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            message: "no header row (expected column names)".into(),
        });
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let mut row = Vec::with_capacity(columns.len());
        for (c, cell) in rec.iter().enumerate() {
            let v: f64 = cell.parse().map_err(|_| Error::Malformed {
                path: path.to_path_buf(),
                message: format!(
                    "line {line}, column `{}`: `{cell}` is not a number",
                    columns[c]
                ),
            })?;
            if !v.is_finite() {
                return Err(Error::Malformed {
                    path: path.to_path_buf(),
                    message: format!("line {line}, column `{}`: {v} is not finite", columns[c]),
                });
            }
            row.push(v);
        }
        rows.push(row);
    }
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::normalize_unary_minus as n;

    #[test]
    fn unary_minus_binds_like_ordinary_notation() {
        assert_eq!(n("-exp(-(w-2)^2)"), "(0-1)*exp((0-1)*(w-2)^2)");
        assert_eq!(n("w - 2"), "w - 2");
        assert_eq!(n("2*-3"), "2*(0-1)*3");
        assert_eq!(n("a^-2"), "a^-2");
        assert_eq!(n("1e-5*w"), "1e-5*w");
        assert_eq!(n("2.5E+3 - w"), "2.5E+3 - w");
        assert_eq!(n("exp(-1e-3*w)"), "exp((0-1)*1e-3*w)");
        assert_eq!(n("(w*x - y)^2"), "(w*x - y)^2");
    }
}
