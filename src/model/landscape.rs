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
/// [`Landscape::stats`].
pub trait Landscape: Send + Sync + fmt::Debug {
    /// Number of datapoints n (at least one).
    fn len(&self) -> usize;
    /// Loss l_j(w) of datapoint `j`.
    fn loss(&self, j: usize, w: f64) -> f64;
    /// Gradient g_j(w) = l_j′(w).
    fn grad(&self, j: usize, w: f64) -> f64;
    /// Curvature l_j″(w).
    fn curv(&self, j: usize, w: f64) -> f64;
    /// Human-readable description of datapoint `j` (its formula, its row), used in errors.
    fn describe(&self, j: usize) -> String {
        format!("datapoint {j}")
    }
    /// Whether the landscape has no datapoints (never true for a valid landscape).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mean gradient G and gradient variance S² at `w` only (no curvatures: the Monte
    /// Carlo engine's hot path).
    fn g_s2(&self, w: f64) -> (f64, f64) {
        let n = self.len() as f64;
        let g = (0..self.len()).map(|j| self.grad(j, w)).sum::<f64>() / n;
        let s2 = (0..self.len())
            .map(|j| (self.grad(j, w) - g).powi(2))
            .sum::<f64>()
            / n;
        (g, s2)
    }

    /// Mean gradient, gradient variance and their derivatives at `w` (two-pass, exact).
    fn stats(&self, w: f64) -> GradStats {
        let n = self.len() as f64;
        let (mut g, mut gp) = (0.0, 0.0);
        for j in 0..self.len() {
            g += self.grad(j, w);
            gp += self.curv(j, w);
        }
        g /= n;
        gp /= n;
        let (mut s2, mut s2p) = (0.0, 0.0);
        for j in 0..self.len() {
            let dev = self.grad(j, w) - g;
            s2 += dev * dev;
            s2p += 2.0 * dev * (self.curv(j, w) - gp);
        }
        GradStats {
            g,
            g_prime: gp,
            s2: s2 / n,
            s2_prime: s2p / n,
        }
    }

    /// Check every loss, gradient and curvature is finite at the points `ws`; the error
    /// names the datapoint's description and the first failing w.
    fn check_finite(&self, ws: &[f64]) -> Result<()> {
        for j in 0..self.len() {
            for &w in ws {
                for (what, v) in [
                    ("loss", self.loss(j, w)),
                    ("gradient", self.grad(j, w)),
                    ("curvature", self.curv(j, w)),
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
#[derive(Clone, Default)]
pub struct ClosureLandscape {
    points: Vec<ClosureDatapoint>,
}

impl fmt::Debug for ClosureLandscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.points.iter().map(|p| p.label.as_str()).collect();
        f.debug_struct("ClosureLandscape")
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
        (self.points[j].loss)(w)
    }
    fn grad(&self, j: usize, w: f64) -> f64 {
        (self.points[j].grad)(w)
    }
    fn curv(&self, j: usize, w: f64) -> f64 {
        (self.points[j].curv)(w)
    }
    fn describe(&self, j: usize) -> String {
        format!("datapoint {} ({})", j + 1, self.points[j].label)
    }
}

/// The seed landscape of the design (two datapoints, pit sharpness `k`):
/// l₁ = −e^{−(W−2)²}, l₂ = −e^{−(W−2)²} − e^{−k(W−1)²}.
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
        .datapoint("-exp(-(w-2)^2)", wide, wide_g, wide_c)
        .datapoint(
            format!("-exp(-(w-2)^2) - exp(-{k}*(w-1)^2)"),
            move |w| wide(w) + pit(w),
            move |w| wide_g(w) + pit_g(w),
            move |w| wide_c(w) + pit_c(w),
        )
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
/// evaluated once per row of a dataset ([`FormulaLandscape::from_dataset`]).
#[derive(Clone, Debug)]
pub struct FormulaLandscape {
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
        Ok(FormulaLandscape { formulas, points })
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

    fn eval(&self, which: u8, j: usize, w: f64) -> f64 {
        let p = &self.points[j];
        let f = &self.formulas[p.formula];
        let expr = match which {
            0 => Some(&f.loss),
            1 => f.grad.as_ref(),
            _ => f.curv.as_ref(),
        };
        match expr {
            Some(e) => Formula::eval(e, &p.args, f.w_index, w),
            // a formula without `w` is constant in w; its derivatives vanish
            None => 0.0,
        }
    }

    /// The formula texts.
    pub fn formulas(&self) -> Vec<&str> {
        self.formulas.iter().map(|f| f.text.as_str()).collect()
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
    fn describe(&self, j: usize) -> String {
        self.points[j].label.clone()
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
