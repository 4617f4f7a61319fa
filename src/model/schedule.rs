//! Schedules: a learning rate T(t) = T₀ m(t) and a batch size B(t) = round(B₀ m(t)).
//!
//! A schedule is a multiplier m(t) ≥ 0 on the problem's base value, t in SGD steps:
//! constant (m = 1), step decay (m = γ^⌊t/s⌋), exponential (m = e^{−r t}), cosine
//! annealing (m = f + (1 − f)(1 + cos(π min(t, P)/P))/2, Loshchilov & Hutter, "SGDR:
//! stochastic gradient descent with warm restarts", 2017), or a formula in `t`; any of
//! them may start with a linear warm-up over the first `warmup` steps (m rises from
//! `warmup_start` to the shape's value at t = warmup; Goyal et al., "Accurate, large
//! minibatch SGD", 2017), after which the shape runs on its own clock t − warmup.
//!
//! The discrete models (Monte Carlo, transfer operators) use m(k) at step k; the
//! Fokker–Planck equation uses m(t) as a function of continuous time.

use exmex::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shape of a multiplier after its warm-up.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Shape {
    /// m = 1.
    Constant,
    /// m = factor^⌊t / every⌋.
    Step {
        /// Steps between decays (> 0).
        every: f64,
        /// Factor per decay (in (0, 1] for a decay; any positive value is allowed).
        factor: f64,
    },
    /// m = exp(−rate t).
    Exponential {
        /// Decay rate per step (≥ 0).
        rate: f64,
    },
    /// m = floor + (1 − floor)(1 + cos(π min(t, period)/period))/2.
    Cosine {
        /// Steps from m = 1 to m = floor (> 0).
        period: f64,
        /// Final multiplier (≥ 0, default 0).
        floor: f64,
    },
    /// m = the formula in `t` (must be finite and ≥ 0 wherever it is used).
    Formula {
        /// The formula text, e.g. `1/(1 + t/100)`.
        formula: String,
    },
}

/// A multiplier schedule: an optional linear warm-up, then a [`Shape`]. In a file it is
/// one table: `kind` (`constant`, `step`, `exponential`, `cosine`, `formula`), that
/// kind's parameters, and optionally `warmup` and `warmup_start`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleTable")]
pub struct Schedule {
    /// The shape after the warm-up.
    #[serde(flatten)]
    pub shape: Shape,
    /// Length of the linear warm-up in steps (0 = none).
    pub warmup: f64,
    /// Multiplier at t = 0 when there is a warm-up (default 0).
    pub warmup_start: f64,
    #[serde(skip)]
    parsed: Option<Parsed>,
}

/// A schedule table as written in a file (every parameter optional; which ones a kind
/// needs is checked when it becomes a [`Schedule`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleTable {
    kind: String,
    every: Option<f64>,
    factor: Option<f64>,
    rate: Option<f64>,
    period: Option<f64>,
    floor: Option<f64>,
    formula: Option<String>,
    warmup: Option<f64>,
    warmup_start: Option<f64>,
}

impl TryFrom<ScheduleTable> for Schedule {
    type Error = String;

    fn try_from(t: ScheduleTable) -> std::result::Result<Self, String> {
        let given: Vec<&str> = [
            ("every", t.every.is_some()),
            ("factor", t.factor.is_some()),
            ("rate", t.rate.is_some()),
            ("period", t.period.is_some()),
            ("floor", t.floor.is_some()),
            ("formula", t.formula.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(n, _)| *n)
        .collect();
        let (shape, takes): (Shape, &[&str]) = match t.kind.as_str() {
            "constant" => (Shape::Constant, &[]),
            "step" => (
                Shape::Step {
                    every: t
                        .every
                        .ok_or("kind = \"step\" needs `every` (steps between decays)")?,
                    factor: t
                        .factor
                        .ok_or("kind = \"step\" needs `factor` (e.g. 0.5)")?,
                },
                &["every", "factor"],
            ),
            "exponential" => (
                Shape::Exponential {
                    rate: t
                        .rate
                        .ok_or("kind = \"exponential\" needs `rate` (per step)")?,
                },
                &["rate"],
            ),
            "cosine" => (
                Shape::Cosine {
                    period: t.period.ok_or("kind = \"cosine\" needs `period` (steps)")?,
                    floor: t.floor.unwrap_or(0.0),
                },
                &["period", "floor"],
            ),
            "formula" => (
                Shape::Formula {
                    formula: t
                        .formula
                        .ok_or("kind = \"formula\" needs `formula` (in t)")?,
                },
                &["formula"],
            ),
            other => {
                return Err(format!(
                    "unknown schedule kind `{other}` (constant, step, exponential, cosine, formula)"
                ))
            }
        };
        if let Some(extra) = given.iter().find(|g| !takes.contains(g)) {
            return Err(format!(
                "kind = \"{}\" takes no `{extra}` (it takes: {})",
                t.kind,
                if takes.is_empty() {
                    "nothing".to_string()
                } else {
                    takes.join(", ")
                }
            ));
        }
        Ok(Schedule {
            shape,
            warmup: t.warmup.unwrap_or(0.0),
            warmup_start: t.warmup_start.unwrap_or(0.0),
            parsed: None,
        })
    }
}

/// A formula parsed once (exmex expressions are cheap to clone).
#[derive(Clone, Debug)]
struct Parsed(FlatEx<f64>);

impl PartialEq for Parsed {
    fn eq(&self, other: &Self) -> bool {
        self.0.unparse() == other.0.unparse()
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::constant()
    }
}

impl Schedule {
    /// The constant schedule m = 1.
    pub fn constant() -> Self {
        Schedule {
            shape: Shape::Constant,
            warmup: 0.0,
            warmup_start: 0.0,
            parsed: None,
        }
    }

    /// A schedule of `shape` without warm-up; checked like a file's.
    pub fn new(shape: Shape) -> Result<Self> {
        Schedule {
            shape,
            warmup: 0.0,
            warmup_start: 0.0,
            parsed: None,
        }
        .checked("schedule")
    }

    /// Whether m ≡ 1 (no time dependence).
    pub fn is_constant(&self) -> bool {
        matches!(self.shape, Shape::Constant) && self.warmup == 0.0
    }

    /// Validate every parameter and parse a formula; `what` names the schedule in errors
    /// (e.g. `schedule.lr`).
    pub fn checked(mut self, what: &str) -> Result<Self> {
        let bad = |field: &str, v: f64, why: &str| {
            Err(Error::invalid(
                format!("{what}.{field}"),
                v,
                why.to_string(),
            ))
        };
        if !(self.warmup.is_finite() && self.warmup >= 0.0) {
            return bad(
                "warmup",
                self.warmup,
                "must be a finite number of steps ≥ 0",
            );
        }
        if !(self.warmup_start.is_finite() && self.warmup_start >= 0.0) {
            return bad("warmup_start", self.warmup_start, "must be finite and ≥ 0");
        }
        match &self.shape {
            Shape::Constant => {}
            Shape::Step { every, factor } => {
                if !(every.is_finite() && *every > 0.0) {
                    return bad("every", *every, "must be a finite number of steps > 0");
                }
                if !(factor.is_finite() && *factor > 0.0) {
                    return bad("factor", *factor, "must be finite and > 0");
                }
            }
            Shape::Exponential { rate } => {
                if !(rate.is_finite() && *rate >= 0.0) {
                    return bad("rate", *rate, "must be finite and ≥ 0");
                }
            }
            Shape::Cosine { period, floor } => {
                if !(period.is_finite() && *period > 0.0) {
                    return bad("period", *period, "must be a finite number of steps > 0");
                }
                if !(floor.is_finite() && *floor >= 0.0) {
                    return bad("floor", *floor, "must be finite and ≥ 0");
                }
            }
            Shape::Formula { formula } => {
                crate::limits::formula(formula)
                    .map_err(|e| e.with_origin(&format!("{what}.formula")))?;
                let err = |message: String| Error::Formula {
                    formula: formula.clone(),
                    origin: format!(" ({what})"),
                    message,
                };
                let text = crate::model::landscape::normalize_unary_minus(
                    &crate::model::landscape::expand_exponent_literals(formula),
                );
                let ex = FlatEx::<f64>::parse(&text)
                    .map_err(|e| err(format!("does not parse ({e})")))?;
                match ex.var_names() {
                    [] => {}
                    [v] if v == "t" => {}
                    names => {
                        return Err(err(format!(
                            "a schedule formula may use only the variable `t`, not {}",
                            names.join(", ")
                        )))
                    }
                }
                self.parsed = Some(Parsed(ex));
                let m0 = self.shape_at(0.0);
                if !(m0.is_finite() && m0 >= 0.0) {
                    return Err(err(format!("is {m0} at t = 0: must be finite and ≥ 0")));
                }
            }
        }
        Ok(self)
    }

    /// The multiplier m(t) (t in steps, t ≥ 0). A formula that evaluates to a negative
    /// or non-finite value gives that value: callers check with [`Schedule::check_on`].
    pub fn at(&self, t: f64) -> f64 {
        if self.warmup > 0.0 && t < self.warmup {
            let end = self.shape_at(0.0);
            return self.warmup_start + (end - self.warmup_start) * (t / self.warmup);
        }
        self.shape_at(t - self.warmup)
    }

    fn shape_at(&self, s: f64) -> f64 {
        let s = s.max(0.0);
        match &self.shape {
            Shape::Constant => 1.0,
            Shape::Step { every, factor } => factor.powf((s / every).floor()),
            Shape::Exponential { rate } => (-rate * s).exp(),
            Shape::Cosine { period, floor } => {
                let x = s.min(*period) / period;
                floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
            Shape::Formula { .. } => match &self.parsed {
                Some(Parsed(ex)) if ex.var_names().is_empty() => ex.eval(&[]).unwrap_or(f64::NAN),
                Some(Parsed(ex)) => ex.eval(&[s]).unwrap_or(f64::NAN),
                None => f64::NAN,
            },
        }
    }

    /// Check that m(t) is finite and ≥ 0 at every step 0, 1, …, ⌈t_end⌉ (at most 10⁶
    /// evenly spread samples on longer runs).
    pub fn check_on(&self, t_end: f64, what: &str) -> Result<()> {
        if self.is_constant() {
            return Ok(());
        }
        let n = (t_end.ceil().max(1.0) as usize).min(1_000_000);
        for k in 0..=n {
            let t = t_end * k as f64 / n as f64;
            let m = self.at(t);
            if !(m.is_finite() && m >= 0.0) {
                return Err(Error::invalid(
                    what,
                    m,
                    format!("the schedule's multiplier at t = {t} must be finite and ≥ 0"),
                ));
            }
        }
        Ok(())
    }

    /// A short description, e.g. `cosine(period 1000, floor 0) after warm-up 100`.
    pub fn describe(&self) -> String {
        let base = match &self.shape {
            Shape::Constant => "constant".to_string(),
            Shape::Step { every, factor } => format!("step(×{factor} every {every})"),
            Shape::Exponential { rate } => format!("exponential(rate {rate})"),
            Shape::Cosine { period, floor } => format!("cosine(period {period}, floor {floor})"),
            Shape::Formula { formula } => format!("formula({formula})"),
        };
        if self.warmup > 0.0 {
            format!(
                "warm-up {} from {} then {base}",
                self.warmup, self.warmup_start
            )
        } else {
            base
        }
    }
}

/// The learning-rate and batch-size schedules of a problem (`[schedule.lr]`,
/// `[schedule.batch]` in problem files).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedules {
    /// Multiplier on the learning rate.
    #[serde(default)]
    pub lr: Schedule,
    /// Multiplier on the batch size (B(t) = max(1, round(B₀ m(t)))).
    #[serde(default)]
    pub batch: Schedule,
}

impl Schedules {
    /// Whether both are constant.
    pub fn is_constant(&self) -> bool {
        self.lr.is_constant() && self.batch.is_constant()
    }

    /// Validate both (and parse formulas).
    pub fn checked(self) -> Result<Self> {
        Ok(Schedules {
            lr: self.lr.checked("schedule.lr")?,
            batch: self.batch.checked("schedule.batch")?,
        })
    }

    /// Learning rate at time t for base rate `lr0`.
    pub fn lr(&self, lr0: f64, t: f64) -> f64 {
        lr0 * self.lr.at(t)
    }

    /// Batch size at time t for base size `b0` (at least 1).
    pub fn batch(&self, b0: usize, t: f64) -> usize {
        if self.batch.is_constant() {
            return b0;
        }
        let b = (b0 as f64 * self.batch.at(t)).round();
        if b.is_finite() && b >= 1.0 {
            b.min(crate::limits::MAX_BATCH as f64) as usize
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Schedule> {
        let s: Schedule = toml::from_str(s).map_err(|e| Error::Malformed {
            path: "test".into(),
            message: e.to_string(),
        })?;
        s.checked("schedule.lr")
    }

    #[test]
    fn shapes_have_their_textbook_values() {
        let step = parse("kind = \"step\"\nevery = 100\nfactor = 0.5").unwrap();
        approx::assert_abs_diff_eq!(step.at(99.0), 1.0);
        approx::assert_abs_diff_eq!(step.at(100.0), 0.5);
        approx::assert_abs_diff_eq!(step.at(250.0), 0.25);
        let cos = parse("kind = \"cosine\"\nperiod = 1000").unwrap();
        assert!((cos.at(500.0) - 0.5).abs() < 1e-15);
        approx::assert_abs_diff_eq!(cos.at(2000.0), 0.0);
        let warm = parse("kind = \"exponential\"\nrate = 0.01\nwarmup = 10").unwrap();
        assert!((warm.at(5.0) - 0.5).abs() < 1e-15);
        assert!((warm.at(110.0) - (-1.0f64).exp()).abs() < 1e-15);
        let f = parse("kind = \"formula\"\nformula = \"1/(1+t/100)\"").unwrap();
        assert!((f.at(100.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn bad_schedules_name_the_field() {
        let e = parse("kind = \"step\"\nevery = 0\nfactor = 0.5").unwrap_err();
        assert!(e.to_string().contains("schedule.lr.every"), "{e}");
        let e = parse("kind = \"formula\"\nformula = \"w + t\"").unwrap_err();
        assert!(e.to_string().contains("only the variable `t`"), "{e}");
        let f = parse("kind = \"formula\"\nformula = \"1 - t/10\"").unwrap();
        assert!(f.check_on(100.0, "schedule.lr").is_err());
    }
}
