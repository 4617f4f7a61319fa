//! Two-parameter landscapes from loss formulas in `w1` and `w2`, one per datapoint
//! (optionally plus a part shared by every datapoint), or one formula in `w1`, `w2` and
//! column names evaluated per row of a dataset. The partial derivatives ∂l/∂w1 and
//! ∂l/∂w2 are taken symbolically by `exmex`, so G = mean ∇l_j and
//! Σ = cov ∇l_j are exact up to rounding; the formula syntax is that of the 1-D
//! formula landscapes (same unary-minus and exponent-literal rules).

use exmex::prelude::*;
use exmex::Differentiate;

use super::landscape::Landscape2;
use crate::error::{Error, Result};
use crate::model::landscape::{
    expand_exponent_literals, normalize_unary_minus, parse_on_large_stack,
};

/// One parsed formula with its exact partials in `w1` and `w2`.
#[derive(Clone, Debug)]
struct Formula2 {
    text: String,
    loss: FlatEx<f64>,
    /// ∂/∂w1 and ∂/∂w2 (None where the formula does not use that variable).
    grad: [Option<FlatEx<f64>>; 2],
    /// Index of `w1`, `w2` among the variables (exmex's sorted order).
    slot: [Option<usize>; 2],
    vars: Vec<String>,
}

impl Formula2 {
    fn parse(text: &str, origin: &str) -> Result<Self> {
        parse_on_large_stack(text, origin, || Formula2::parse_here(text, origin))
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
        let slot = ["w1", "w2"].map(|n| vars.iter().position(|v| v == n));
        let mut grad = [None, None];
        for (k, s) in slot.iter().enumerate() {
            if let Some(i) = *s {
                let g = loss
                    .clone()
                    .partial(i)
                    .map_err(|e| err(format!("cannot differentiate in w{}: {e}", k + 1)))?;
                crate::limits::derivative(g.unparse().len(), 1)
                    .map_err(|e| e.with_origin(&format!("formula `{text}`{origin}")))?;
                grad[k] = Some(g);
            }
        }
        Ok(Formula2 {
            text: text.to_string(),
            loss,
            grad,
            slot,
            vars,
        })
    }

    /// Refuse variables other than `w1`, `w2` (and the `allowed` column names).
    fn check_vars(&self, allowed: &[String], what: &str, origin: &str) -> Result<()> {
        for v in &self.vars {
            if v != "w1" && v != "w2" && !allowed.contains(v) {
                let cols = if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" or a dataset column ({})", allowed.join(", "))
                };
                return Err(Error::Formula {
                    formula: self.text.clone(),
                    origin: origin.to_string(),
                    message: format!(
                        "unknown variable `{v}`: {what} may use only `w1`, `w2`{cols}"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Evaluate `expr` with the bound arguments `args`, w1 and w2 filled in.
    fn eval(&self, expr: &FlatEx<f64>, args: &[f64], w: [f64; 2]) -> f64 {
        let mut buf = [0.0f64; 16];
        let put = |v: &mut [f64]| {
            v.copy_from_slice(args);
            for (slot, wk) in self.slot.iter().zip(w) {
                if let Some(i) = *slot {
                    v[i] = wk;
                }
            }
        };
        if args.len() <= buf.len() {
            put(&mut buf[..args.len()]);
            expr.eval(&buf[..args.len()]).unwrap_or(f64::NAN)
        } else {
            let mut v = vec![0.0; args.len()];
            put(&mut v);
            expr.eval(&v).unwrap_or(f64::NAN)
        }
    }

    fn loss_at(&self, args: &[f64], w: [f64; 2]) -> f64 {
        self.eval(&self.loss, args, w)
    }

    fn grad_at(&self, args: &[f64], w: [f64; 2]) -> [f64; 2] {
        // a formula without w_k is constant in w_k: its partial vanishes
        [0, 1].map(|k| self.grad[k].as_ref().map_or(0.0, |g| self.eval(g, args, w)))
    }
}

/// A datapoint: which formula, its bound column values (exmex order), its label.
#[derive(Clone, Debug)]
struct Point2 {
    formula: usize,
    args: Vec<f64>,
    label: String,
}

/// A 2-D landscape from loss formulas in `w1`, `w2`, differentiated exactly.
///
/// ```
/// use probcurrent::model::two::{FormulaLandscape2, Landscape2};
/// let f = FormulaLandscape2::from_formulas(
///     &["0.5*(w1^2 + w2^2) + w1".to_string(), "0.5*(w1^2 + w2^2) - w1".to_string()],
///     "",
/// )
/// .unwrap();
/// assert_eq!(f.mean_grad(0.5, 2.0), [0.5, 2.0]);
/// assert_eq!(f.covariance(0.5, 2.0), [[1.0, 0.0], [0.0, 0.0]]);
/// ```
#[derive(Clone, Debug)]
pub struct FormulaLandscape2 {
    shared: Option<Formula2>,
    formulas: Vec<Formula2>,
    points: Vec<Point2>,
}

impl FormulaLandscape2 {
    /// One datapoint per formula; each may use only `w1` and `w2`.
    pub fn from_formulas(texts: &[String], origin: &str) -> Result<Self> {
        if texts.is_empty() {
            return Err(Error::invalid(
                "landscape.losses",
                "[]",
                format!("need at least one loss formula{origin}"),
            ));
        }
        let mut formulas = Vec::new();
        let mut points = Vec::new();
        for (j, text) in texts.iter().enumerate() {
            let f = Formula2::parse(text, origin)?;
            f.check_vars(&[], "a loss formula", origin)?;
            points.push(Point2 {
                formula: j,
                args: vec![0.0; f.vars.len()],
                label: format!("formula `{text}` (datapoint {})", j + 1),
            });
            formulas.push(f);
        }
        Ok(FormulaLandscape2 {
            shared: None,
            formulas,
            points,
        })
    }

    /// One datapoint per row of `rows` (columns named by `columns`); the formula may
    /// use `w1`, `w2` and any column name.
    pub fn from_dataset(
        formula: &str,
        columns: &[String],
        rows: &[Vec<f64>],
        origin: &str,
    ) -> Result<Self> {
        let f = Formula2::parse(formula, origin)?;
        f.check_vars(columns, "the loss formula", origin)?;
        if rows.is_empty() {
            return Err(Error::invalid(
                "dataset",
                "0 rows",
                format!("need at least one row{origin}"),
            ));
        }
        let slots: Vec<Option<usize>> = f
            .vars
            .iter()
            .map(|v| columns.iter().position(|c| c == v))
            .collect();
        let points = rows
            .iter()
            .enumerate()
            .map(|(r, row)| Point2 {
                formula: 0,
                args: slots.iter().map(|s| s.map_or(0.0, |c| row[c])).collect(),
                label: format!("formula `{formula}` at data row {}", r + 1),
            })
            .collect();
        Ok(FormulaLandscape2 {
            shared: None,
            formulas: vec![f],
            points,
        })
    }

    /// Add a part s shared by every datapoint (a formula in `w1`, `w2` only): l_j =
    /// s + r_j, G from the full losses, Σ from the r_j alone (the shared gradient
    /// cancels exactly).
    pub fn with_shared(mut self, text: &str, origin: &str) -> Result<Self> {
        let f = Formula2::parse(text, origin)?;
        f.check_vars(&[], "the shared loss formula", origin)?;
        self.shared = Some(f);
        Ok(self)
    }

    /// The per-datapoint formula texts.
    pub fn formulas(&self) -> Vec<&str> {
        self.formulas.iter().map(|f| f.text.as_str()).collect()
    }

    /// The shared formula, if one was given.
    pub fn shared_formula(&self) -> Option<&str> {
        self.shared.as_ref().map(|f| f.text.as_str())
    }

    fn shared_args(&self) -> Vec<f64> {
        self.shared
            .as_ref()
            .map_or(vec![], |s| vec![0.0; s.vars.len()])
    }
}

impl Landscape2 for FormulaLandscape2 {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn loss(&self, j: usize, w1: f64, w2: f64) -> f64 {
        let p = &self.points[j];
        let r = self.formulas[p.formula].loss_at(&p.args, [w1, w2]);
        let s = self
            .shared
            .as_ref()
            .map_or(0.0, |s| s.loss_at(&self.shared_args(), [w1, w2]));
        s + r
    }
    fn grad_j(&self, j: usize, w1: f64, w2: f64) -> [f64; 2] {
        let r = self.part_grad(j, w1, w2);
        match &self.shared {
            Some(s) => {
                let g = s.grad_at(&self.shared_args(), [w1, w2]);
                [g[0] + r[0], g[1] + r[1]]
            }
            None => r,
        }
    }
    fn part_grad(&self, j: usize, w1: f64, w2: f64) -> [f64; 2] {
        let p = &self.points[j];
        self.formulas[p.formula].grad_at(&p.args, [w1, w2])
    }
    fn describe(&self, j: usize) -> String {
        match &self.shared {
            None => self.points[j].label.clone(),
            Some(s) => format!("shared formula `{}` + {}", s.text, self.points[j].label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_are_exact_and_sigma_matches_the_closure_form() {
        let f = FormulaLandscape2::from_formulas(
            &["sin(w1)*w2^2 - exp(-w1*w2)".to_string(), "w1".to_string()],
            "",
        )
        .unwrap();
        let (a, b): (f64, f64) = (0.3, -1.2);
        let g = f.grad_j(0, a, b);
        assert!((g[0] - (a.cos() * b * b + b * (-a * b).exp())).abs() < 1e-14);
        assert!((g[1] - (2.0 * a.sin() * b + a * (-a * b).exp())).abs() < 1e-14);
        // `w1` alone has ∂/∂w2 = 0 (the variable is absent)
        let g1 = f.grad_j(1, a, b);
        assert!((g1[0] - 1.0).abs() < 1e-15 && g1[1].abs() < 1e-15, "{g1:?}");
    }

    #[test]
    fn unknown_variables_and_bad_syntax_are_named() {
        let e = FormulaLandscape2::from_formulas(&["w1 + x".into()], " (here)")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`x`") && e.contains("(here)"), "{e}");
        let e = FormulaLandscape2::from_formulas(&["w1 +* w2".into()], "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("w1 +* w2"), "{e}");
    }

    #[test]
    fn shared_part_cancels_in_sigma_and_dataset_binds_columns() {
        let f = FormulaLandscape2::from_formulas(&["0".into(), "w2".into()], "")
            .unwrap()
            .with_shared("1e8*(w1^2 + w2^2)", "")
            .unwrap();
        let c = f.covariance(3.0, 1.0);
        assert!(c[0][0].abs() + c[0][1].abs() < 1e-15 && (c[1][1] - 0.25).abs() < 1e-15);
        let cols = vec!["x".to_string(), "y".to_string()];
        let rows = vec![vec![1.0, 2.0], vec![-1.0, 0.0]];
        let d = FormulaLandscape2::from_dataset("(w1*x + w2 - y)^2", &cols, &rows, "").unwrap();
        // datapoint 1 at (0, 0): ∇ = 2(w1 x + w2 − y)(x, 1) = 2·(−2)·(1, 1)
        let g = d.grad_j(0, 0.0, 0.0);
        assert!(
            (g[0] + 4.0).abs() < 1e-15 && (g[1] + 4.0).abs() < 1e-15,
            "{g:?}"
        );
        assert_eq!(d.len(), 2);
    }
}
