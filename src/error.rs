//! Typed errors of the library.
//!
//! Every variant carries the offending value and where it came from, so that a
//! message such as "loss formula `sqrt(w-1)` of datapoint 1 is not finite at
//! w = 0.25" tells the user exactly what to fix. Library code never panics on
//! user input; a run that blows up is not an error but an [`Outcome`](crate::Outcome).

use std::path::PathBuf;

/// Errors raised while building problems, grids, schemes and runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A coefficient (G, S², D, a loss or its derivative) is NaN or infinite.
    #[error("{what} is not finite ({}){}{origin}", num(*value), at_w(*w))]
    NonFinite {
        /// What was evaluated, e.g. "G" or "loss formula `ln(w)`".
        what: String,
        /// The weight at which it failed.
        w: f64,
        /// The value found (NaN or ±inf).
        value: f64,
        /// Where the coefficient came from, e.g. " (problem file p.toml)"; may be empty.
        origin: String,
    },
    /// A variance-like quantity is negative.
    #[error("{what} must be non-negative, got {}{origin}", num(*value))]
    NegativeVariance {
        /// Which quantity, e.g. "noise_floor".
        what: String,
        /// The value given.
        value: f64,
        /// Where it came from; may be empty.
        origin: String,
    },
    /// A numeric setting is out of its range (zero or negative step, zero cells, ...).
    #[error("invalid {what} = {value}: {why}{origin}")]
    InvalidValue {
        /// The setting's name, e.g. "dt".
        what: String,
        /// The value as given (formatted).
        value: String,
        /// What the range is.
        why: String,
        /// Where it came from; may be empty.
        origin: String,
    },
    /// The domain [a, b] is empty, inverted or not finite.
    #[error(
        "invalid domain [{}, {}]: need finite a < b with a width b − a that is a normal \
         float (at least {:e}){origin}",
        num(*a),
        num(*b),
        f64::MIN_POSITIVE
    )]
    BadDomain {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
        /// Where it came from; may be empty.
        origin: String,
    },
    /// The requested step exceeds an explicit method's stability limit.
    #[error(
        "dt = {} exceeds the explicit step limit {limit:.6e} of {scheme}; \
         pass --allow-unstable to run anyway (the outcome will be measured)",
        num(*dt)
    )]
    StepTooLarge {
        /// Requested step.
        dt: f64,
        /// The step limit 1/max|A_ii|.
        limit: f64,
        /// The scheme's name.
        scheme: String,
    },
    /// A name (problem, scheme, flux, integrator, region, column) is not known.
    #[error("unknown {kind} `{name}`; known: {known}")]
    UnknownName {
        /// What kind of name, e.g. "scheme".
        kind: String,
        /// The name given.
        name: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// A formula does not parse or cannot be differentiated.
    #[error("formula `{formula}`{origin}: {message}")]
    Formula {
        /// The formula text.
        formula: String,
        /// Where it came from.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A file is malformed (TOML, CSV).
    #[error("{path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line or key where known.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A request exceeds a resource limit (cells, snapshots, particles, batch, steps,
    /// formula size): the message names the requested value, the limit and what to
    /// change. See [`crate::limits`].
    #[error("{what} = {requested} is over the limit of {limit}: {hint}{origin}")]
    Limit {
        /// What was requested, e.g. "cells".
        what: String,
        /// The requested value (formatted).
        requested: String,
        /// The limit (formatted).
        limit: String,
        /// What to change.
        hint: String,
        /// Where it came from; may be empty.
        origin: String,
    },
    /// The external ODE solver failed for a reason other than divergence.
    #[error("solver failed{}: {reason}", at_t(*t))]
    SolverFailed {
        /// Time reached.
        t: f64,
        /// The solver's reason.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidValue`].
    pub fn invalid(
        what: impl Into<String>,
        value: impl std::fmt::Display,
        why: impl Into<String>,
    ) -> Self {
        Error::InvalidValue {
            what: what.into(),
            value: value.to_string(),
            why: why.into(),
            origin: String::new(),
        }
    }

    /// Attach an origin (e.g. " (problem file p.toml)") to errors that carry one.
    pub fn with_origin(mut self, from: &str) -> Self {
        let suffix = format!(" (from {from})");
        match &mut self {
            Error::NonFinite { origin, .. }
            | Error::NegativeVariance { origin, .. }
            | Error::InvalidValue { origin, .. }
            | Error::BadDomain { origin, .. }
            | Error::Formula { origin, .. }
            | Error::Limit { origin, .. }
                if origin.is_empty() =>
            {
                *origin = suffix
            }
            _ => {}
        }
        self
    }
}

/// Check that `value` is finite and strictly positive.
pub fn positive(what: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::invalid(what, num(value), "must be finite and > 0"))
    }
}

/// Check that `value` is finite.
pub fn finite(what: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(what, num(value), "must be finite"))
    }
}

/// A number as a message shows it: the shortest form that reads back to the same
/// float, in scientific notation outside [1e-4, 1e16) (so `-1e-300` is not printed
/// with 300 digits), `NaN` and `inf` as such.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || v == 0.0 || (1e-4..1e16).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// " at w = …", or nothing when `w` is not a number (the error has no position).
fn at_w(w: f64) -> String {
    if w.is_finite() {
        format!(" at w = {}", num(w))
    } else {
        String::new()
    }
}

/// " at t = …", or nothing when `t` is not finite (the failure has no time).
fn at_t(t: f64) -> String {
    if t.is_finite() {
        format!(" at t = {}", num(t))
    } else {
        String::new()
    }
}

/// Edit distance (Levenshtein) between two short strings, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The candidate closest to `name` if it is close (at most 2 edits, or a third of its
/// length), for a "did you mean" hint.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = 2.max(name.chars().count() / 3);
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A TOML parse error of `text` as one short message: line and column, the parser's
/// message with a "did you mean" for an unknown key, and the offending source line
/// cut to 80 characters (a file with 2 000-character lines is not echoed whole).
pub fn toml_message(e: &toml::de::Error, text: &str) -> String {
    let mut msg = e.message().trim().to_string();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once('`') {
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let key: String = key.chars().take(80).collect();
            let mut m = format!("unknown key `{key}`");
            if let Some(c) = closest(&key, &known) {
                m.push_str(&format!(" (did you mean `{c}`?)"));
            }
            if !known.is_empty() {
                m.push_str(&format!("; known keys here: {}", known.join(", ")));
            }
            msg = m;
        }
    }
    if msg.chars().count() > 300 {
        msg = msg.chars().take(300).collect::<String>() + "…";
    }
    let Some(span) = e.span() else { return msg };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    let mut shown: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        shown.push('…');
    }
    format!("line {line_no}, column {col}: {msg} (at `{shown}`)")
}
