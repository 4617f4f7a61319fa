//! Landscapes from loss formulas in `w` (one per datapoint, or one formula evaluated per
//! row of a dataset), differentiated exactly by `exmex`.

use std::path::Path;

use exmex::prelude::*;
use exmex::Differentiate;

use super::Landscape;
use crate::error::{Error, Result};

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

/// Rewrite number literals with an exponent (`1e-5`, `2.5E+3`, `3e8`) as plain
/// decimals (`0.00001`, `2500`, `300000000`), which the parser reads; the value is
/// the same float (the shortest decimal that reads back to it). A literal starts at
/// a digit or `.` that does not continue a name (`x1e5` is a name).
pub fn expand_exponent_literals(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts_literal = (c.is_ascii_digit() || c == b'.')
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if !starts_literal {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
            j += 1;
        }
        let mut k = j;
        if k < b.len() && (b[k] == b'e' || b[k] == b'E') {
            k += 1;
            if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                k += 1;
            }
            let digits = k;
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            let ends_name = k < b.len() && (b[k].is_ascii_alphabetic() || b[k] == b'_');
            if k > digits && !ends_name {
                if let Ok(v) = text[i..k].parse::<f64>() {
                    if v.is_finite() {
                        out.push_str(&format!("{v}"));
                        i = k;
                        continue;
                    }
                }
            }
        }
        out.push_str(&text[i..j]);
        i = j;
    }
    out
}

/// Stack of the thread that parses and differentiates a formula: exmex recurses once
/// per operator, and a formula within the size limits must never overflow the stack of
/// whatever thread reads it (test and worker threads have 2 MB).
const PARSE_STACK: usize = 256 << 20;

/// Check `text` against the size limits, then run `parse` (which parses and
/// differentiates it) on a thread with a large stack (see [`PARSE_STACK`]); a parser
/// that cannot start or panics is an error naming the formula and `origin`. Shared by
/// the 1-D and 2-D formula landscapes.
pub fn parse_on_large_stack<T: Send>(
    text: &str,
    origin: &str,
    parse: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    crate::limits::formula(text).map_err(|e| {
        let short: String = text.chars().take(40).collect();
        let more = if short.len() < text.len() { "…" } else { "" };
        e.with_origin(&format!("formula `{short}{more}`{origin}"))
    })?;
    let failed = |message: String| Error::Formula {
        formula: text.to_string(),
        origin: origin.to_string(),
        message,
    };
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, parse)
            .map_err(|e| failed(format!("cannot start the parser: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(failed("the parser failed on this formula".into())))
    })
}

impl Formula {
    /// Parse and differentiate `text` on a thread with a large stack.
    fn parse(text: &str, origin: &str) -> Result<Self> {
        parse_on_large_stack(text, origin, || Formula::parse_here(text, origin))
    }

    fn parse_here(text: &str, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Formula {
            formula: text.to_string(),
            origin: origin.to_string(),
            message,
        };
        let expanded = expand_exponent_literals(text);
        let loss = FlatEx::<f64>::parse(&normalize_unary_minus(&expanded))
            .map_err(|e| err(format!("does not parse ({e})")))?;
        let vars: Vec<String> = loss.var_names().to_vec();
        let w_index = vars.iter().position(|v| v == "w");
        let (grad, curv) = match w_index {
            Some(i) => {
                let g = loss
                    .clone()
                    .partial(i)
                    .map_err(|e| err(format!("cannot differentiate: {e}")))?;
                crate::limits::derivative(g.unparse().len(), 1)
                    .map_err(|e| e.with_origin(&format!("formula `{text}`{origin}")))?;
                let c = g
                    .clone()
                    .partial(i)
                    .map_err(|e| err(format!("cannot differentiate twice: {e}")))?;
                crate::limits::derivative(c.unparse().len(), 2)
                    .map_err(|e| e.with_origin(&format!("formula `{text}`{origin}")))?;
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

    #[test]
    fn exponent_literals_become_plain_decimals() {
        use super::expand_exponent_literals as x;
        assert_eq!(x("1e-5*w"), "0.00001*w");
        assert_eq!(x("2.5E+3 - w"), "2500 - w");
        assert_eq!(x("3e2*x1e5"), "300*x1e5");
        assert_eq!(x("w^2 + exp(w)"), "w^2 + exp(w)");
        assert_eq!(x("2e"), "2e");
    }
}
