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
    #[error("{what} is not finite ({value}) at w = {w}{origin}")]
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
    #[error("{what} must be non-negative, got {value}{origin}")]
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
    #[error("invalid domain [{a}, {b}]: need finite a < b{origin}")]
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
        "dt = {dt} exceeds the explicit step limit {limit:.6e} of {scheme}; \
         pass --allow-unstable to run anyway (the outcome will be measured)"
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
    /// The external ODE solver failed for a reason other than divergence.
    #[error("solver failed at t = {t}: {reason}")]
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
        Err(Error::invalid(what, value, "must be finite and > 0"))
    }
}

/// Check that `value` is finite.
pub fn finite(what: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(what, value, "must be finite"))
    }
}
