//! Scheme cards: a named combination of a flux and a time integrator with its
//! parameters and the properties it claims.
//!
//! The catalogue is the set of TOML cards in `schemes/`, embedded in the binary at
//! build time ([`CATALOGUE`]); `--scheme FILE.toml` runs a card from anywhere. Every
//! claim on a card is checked by the test suite.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::space::flux::{self, Flux};
use crate::space::operator::Operator;
use crate::time::{ForwardEuler, Mol, Propagator, Theta};

/// The card a command runs when none is named.
pub const DEFAULT_SCHEME: &str = "scharfetter-gummel";

/// The cards of `schemes/`, embedded: (file name, TOML text).
pub const CATALOGUE: &[(&str, &str)] = &[
    (
        "explicit-upwind.toml",
        include_str!("../schemes/explicit-upwind.toml"),
    ),
    (
        "crank-nicolson.toml",
        include_str!("../schemes/crank-nicolson.toml"),
    ),
    (
        "crank-nicolson-rannacher.toml",
        include_str!("../schemes/crank-nicolson-rannacher.toml"),
    ),
    (
        "backward-euler-central.toml",
        include_str!("../schemes/backward-euler-central.toml"),
    ),
    (
        "scharfetter-gummel.toml",
        include_str!("../schemes/scharfetter-gummel.toml"),
    ),
    (
        "scharfetter-gummel-cn.toml",
        include_str!("../schemes/scharfetter-gummel-cn.toml"),
    ),
    (
        "scharfetter-gummel-dp.toml",
        include_str!("../schemes/scharfetter-gummel-dp.toml"),
    ),
    (
        "scharfetter-gummel-midpoint.toml",
        include_str!("../schemes/scharfetter-gummel-midpoint.toml"),
    ),
    ("mol-bdf.toml", include_str!("../schemes/mol-bdf.toml")),
    (
        "mol-tr-bdf2.toml",
        include_str!("../schemes/mol-tr-bdf2.toml"),
    ),
    (
        "mol-esdirk34.toml",
        include_str!("../schemes/mol-esdirk34.toml"),
    ),
    (
        "mol-tsit45.toml",
        include_str!("../schemes/mol-tsit45.toml"),
    ),
];

/// When a scheme keeps densities non-negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Positivity {
    /// For every step size.
    Always,
    /// Only at steps below the explicit limit 1/max|A_ii|.
    BelowLimit,
    /// Not guaranteed.
    No,
}

/// The properties a card claims (each verified by a test).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Order of convergence in space on smooth problems.
    pub order_space: f64,
    /// Order of convergence in time (for adaptive cards: the method's order; their error is set by rtol).
    pub order_time: f64,
    /// When the density stays non-negative.
    pub positive: Positivity,
    /// Mass conserved to rounding with zero-flux walls.
    pub conservative: bool,
    /// The discrete stationary state equals the analytic one at the nodes.
    pub exact_stationary: bool,
}

/// A scheme card.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Name (the card's file stem).
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// Flux registry name.
    pub flux: String,
    /// Integrator: `forward-euler`, `theta` (see [`Scheme::theta`]).
    pub integrator: String,
    /// Forward Euler: default step as a fraction of the explicit limit (default 0.9).
    #[serde(default)]
    pub safety: Option<f64>,
    /// θ of the θ-method (½ Crank–Nicolson, 1 backward Euler).
    #[serde(default)]
    pub theta: Option<f64>,
    /// Rannacher start-up steps (two backward-Euler half steps each; default 0).
    #[serde(default)]
    pub rannacher_steps: Option<usize>,
    /// Default step of fixed-step implicit schemes (default 1).
    #[serde(default)]
    pub dt: Option<f64>,
    /// Relative tolerance of adaptive (method-of-lines) integrators (default 1e-6).
    #[serde(default)]
    pub rtol: Option<f64>,
    /// Absolute tolerance of adaptive integrators (default 1e-9).
    #[serde(default)]
    pub atol: Option<f64>,
    /// The claimed properties.
    pub claims: Claims,
}

/// Whether an integrator is explicit, fixed-step implicit, or adaptive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Explicit fixed step, limited by 1/max|A_ii|.
    Explicit,
    /// Implicit fixed step.
    Implicit,
    /// Adaptive step chosen by local error control (method of lines over diffsol).
    Adaptive,
}

/// Known integrator names.
pub const INTEGRATORS: &[&str] = &[
    "forward-euler",
    "theta",
    "bdf",
    "tr-bdf2",
    "esdirk34",
    "tsit45",
];

/// The adaptive integrators (method of lines over diffsol).
pub const ADAPTIVE_INTEGRATORS: &[&str] = &["bdf", "tr-bdf2", "esdirk34", "tsit45"];

impl Scheme {
    /// Parse a card from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Scheme> {
        let s: Scheme = toml::from_str(text).map_err(|e| Error::Malformed {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        s.validate()
            .map_err(|e| e.with_origin(&format!("scheme card {}", origin.display())))?;
        Ok(s)
    }

    /// Check names and parameters.
    pub fn validate(&self) -> Result<()> {
        flux::by_name(&self.flux)?;
        if !INTEGRATORS.contains(&self.integrator.as_str()) {
            return Err(Error::UnknownName {
                kind: "integrator".into(),
                name: self.integrator.clone(),
                known: INTEGRATORS.join(", "),
            });
        }
        if let Some(s) = self.safety {
            if !(s > 0.0 && s <= 1.0) {
                return Err(Error::invalid("safety", s, "must be in (0, 1]"));
            }
        }
        if self.integrator == "theta" {
            let th = self.theta.ok_or_else(|| {
                Error::invalid(
                    "theta",
                    "missing",
                    "the theta integrator needs theta in [0.5, 1]",
                )
            })?;
            if !(0.5..=1.0).contains(&th) {
                return Err(Error::invalid("theta", th, "must be in [0.5, 1]"));
            }
        }
        if let Some(dt) = self.dt {
            crate::error::positive("dt", dt)?;
        }
        for (what, v) in [("rtol", self.rtol), ("atol", self.atol)] {
            if let Some(v) = v {
                crate::error::positive(what, v)?;
            }
        }
        Ok(())
    }

    /// A catalogue card by name, or a card file when `name_or_path` ends in `.toml`.
    pub fn resolve(name_or_path: &str) -> Result<Scheme> {
        if name_or_path.ends_with(".toml") || Path::new(name_or_path).is_file() {
            let p = Path::new(name_or_path);
            let text = std::fs::read_to_string(p).map_err(|source| Error::Io {
                path: p.to_path_buf(),
                source,
            })?;
            return Scheme::from_toml(&text, p);
        }
        catalogue()?
            .into_iter()
            .find(|s| s.name == name_or_path)
            .ok_or_else(|| Error::UnknownName {
                kind: "scheme".into(),
                name: name_or_path.into(),
                known: CATALOGUE
                    .iter()
                    .map(|(f, _)| f.trim_end_matches(".toml"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The flux of this card.
    pub fn build_flux(&self) -> Result<Box<dyn Flux>> {
        flux::by_name(&self.flux)
    }

    /// Explicit or implicit fixed step.
    pub fn step_kind(&self) -> StepKind {
        match self.integrator.as_str() {
            "forward-euler" => StepKind::Explicit,
            i if ADAPTIVE_INTEGRATORS.contains(&i) => StepKind::Adaptive,
            _ => StepKind::Implicit,
        }
    }

    /// The step to use: `requested`, or the card's default (a safety fraction of the
    /// explicit limit for explicit schemes); `None` for adaptive schemes. Explicit steps
    /// beyond the limit are refused unless `allow_unstable`.
    pub fn resolve_dt(
        &self,
        op: &Operator,
        requested: Option<f64>,
        allow_unstable: bool,
    ) -> Result<Option<f64>> {
        let limit = op.explicit_limit();
        match self.step_kind() {
            StepKind::Explicit => {
                let dt = match requested {
                    Some(dt) => crate::error::positive("dt", dt)?,
                    None => self.safety.unwrap_or(0.9) * limit,
                };
                if dt > limit && !allow_unstable {
                    return Err(Error::StepTooLarge {
                        dt,
                        limit,
                        scheme: self.name.clone(),
                    });
                }
                if !dt.is_finite() {
                    // A = 0 (no drift, no noise): any step is exact
                    return Ok(Some(1.0));
                }
                Ok(Some(dt))
            }
            StepKind::Implicit => match requested {
                Some(dt) => crate::error::positive("dt", dt).map(Some),
                None => Ok(Some(self.dt.unwrap_or(1.0))),
            },
            StepKind::Adaptive => match requested {
                Some(dt) => Err(Error::invalid(
                    "dt",
                    dt,
                    format!(
                        "{} chooses its own steps: give --rtol/--atol instead",
                        self.name
                    ),
                )),
                None => Ok(None),
            },
        }
    }

    /// The time propagator of this card on operator `op`: fixed-step ones at `dt` (from
    /// [`Scheme::resolve_dt`]), adaptive ones at tolerances `rtol`, `atol` (the card's
    /// when `None`).
    pub fn build_integrator(
        &self,
        op: &Operator,
        dt: Option<f64>,
        rtol: Option<f64>,
        atol: Option<f64>,
    ) -> Result<Box<dyn Propagator>> {
        let fixed =
            || dt.ok_or_else(|| Error::invalid("dt", "none", "a fixed-step scheme needs a step"));
        Ok(match self.integrator.as_str() {
            "forward-euler" => Box::new(ForwardEuler::new(op, fixed()?)),
            "theta" => Box::new(Theta::new(
                op,
                self.theta.unwrap_or(1.0),
                fixed()?,
                self.rannacher_steps.unwrap_or(0),
            )),
            m if ADAPTIVE_INTEGRATORS.contains(&m) => {
                let rtol = crate::error::positive("rtol", rtol.or(self.rtol).unwrap_or(1e-6))?;
                let atol = crate::error::positive("atol", atol.or(self.atol).unwrap_or(1e-9))?;
                Box::new(Mol::new(op, m, rtol, atol)?)
            }
            other => {
                return Err(Error::UnknownName {
                    kind: "integrator".into(),
                    name: other.into(),
                    known: INTEGRATORS.join(", "),
                })
            }
        })
    }
}

/// All cards of the catalogue, parsed.
pub fn catalogue() -> Result<Vec<Scheme>> {
    CATALOGUE
        .iter()
        .map(|(file, text)| Scheme::from_toml(text, &Path::new("schemes").join(file)))
        .collect()
}
