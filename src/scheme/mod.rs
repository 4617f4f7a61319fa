//! Scheme cards: a named combination of a flux and a time integrator with its
//! parameters and the properties it claims.
//!
//! A card is a TOML file:
//!
//! ```toml
//! name = "scharfetter-gummel"        # the file's stem
//! summary = "..."
//! flux = "scharfetter-gummel"        # a registry name of `space::flux`
//!
//! [integrator]                       # see `IntegratorSpec`
//! kind = "theta"
//! theta = 1.0
//! dt = 1.0
//!
//! [claims]                           # optional; every claim given is checked by the tests
//! order_space = 2                    # smooth problems (D > 0 everywhere)
//! order_space_degenerate = 1         # degenerate problems (noise vanishes), W1 error
//! order_time = 1
//! positive = "always"                # always | below-limit | no
//! conservative = true
//! exact_stationary = true
//! ```
//!
//! The catalogue is every `schemes/*.toml`, embedded at build time by `build.rs`
//! ([`CATALOGUE`]); `--scheme FILE.toml` runs a card from anywhere. The README's
//! scheme table and `probcurrent schemes` are generated from the same rows
//! ([`catalogue_table_markdown`], [`catalogue_table_text`]).

mod integrator;
mod table;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use integrator::{
    integrators, ForwardEulerSpec, IntegratorInfo, IntegratorSpec, KrylovSpec, MolSpec,
    RationalExpSpec, StepKind, ThetaSpec, TrBdf2AdaptiveSpec, DEFAULT_ATOL, DEFAULT_DT,
    DEFAULT_EXP_DT, DEFAULT_RTOL, DEFAULT_SAFETY,
};
pub use table::{catalogue_table_markdown, catalogue_table_text, CardRow};

use crate::error::{Error, Result};
use crate::space::flux::{Flux, FluxSpec};
use crate::space::operator::Operator;
use crate::time::Propagator;

/// The default card: what runs when no scheme is named.
pub const DEFAULT_SCHEME: &str = "scharfetter-gummel";

/// The cards of `schemes/`, embedded by `build.rs`: (file name, TOML text), sorted by
/// file stem.
pub const CATALOGUE: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

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

/// The properties a card claims (each verified by a test). Every field may be omitted
/// (a card of your own needs none): an omitted claim is shown as "unclaimed" and is not
/// checked. A card may omit the whole `[claims]` table.
///
/// Orders of convergence are claimed per problem class (see
/// `analysis::convergence::ProblemClass`): `order_space` on smooth problems (D bounded
/// away from zero, e.g. `ou`), `order_space_degenerate` on problems where the noise
/// vanishes somewhere and the density forms spikes narrower than a cell (e.g. `seed`),
/// measured in Wasserstein-1 on non-nested grid families.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Order of convergence in space on smooth problems.
    #[serde(default)]
    pub order_space: Option<f64>,
    /// Order of convergence in space (Wasserstein-1) on degenerate problems.
    #[serde(default)]
    pub order_space_degenerate: Option<f64>,
    /// Order of convergence in time (for adaptive cards: the method's order; their error is set by rtol;
    /// `inf` for a method with no time-step error, such as the rational exponential).
    #[serde(default)]
    pub order_time: Option<f64>,
    /// When the density stays non-negative.
    #[serde(default)]
    pub positive: Option<Positivity>,
    /// Mass conserved to rounding with zero-flux walls.
    #[serde(default)]
    pub conservative: Option<bool>,
    /// The discrete stationary state equals the analytic one at the nodes.
    #[serde(default)]
    pub exact_stationary: Option<bool>,
}

/// A scheme card.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Name (the card's file stem).
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// The flux.
    pub flux: FluxSpec,
    /// The time integrator and its parameters.
    #[serde(deserialize_with = "integrator::in_context")]
    pub integrator: IntegratorSpec,
    /// The claimed properties (all unclaimed when the table is omitted).
    #[serde(default)]
    pub claims: Claims,
}

impl Scheme {
    /// Parse a card from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Scheme> {
        let s: Scheme = toml::from_str(text).map_err(|e| Error::Malformed {
            path: origin.to_path_buf(),
            message: crate::error::toml_message(&e, text),
        })?;
        s.validate()
            .map_err(|e| e.with_origin(&format!("scheme card {}", origin.display())))?;
        Ok(s)
    }

    /// Check the parameters' ranges (names are checked when the card is read).
    pub fn validate(&self) -> Result<()> {
        self.integrator.validate()
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
        match CATALOGUE
            .iter()
            .find(|(file, _)| card_stem(file) == name_or_path)
        {
            Some((file, text)) => Scheme::from_toml(text, &Path::new("schemes").join(file)),
            None => Err(Error::UnknownName {
                kind: "scheme".into(),
                name: name_or_path.into(),
                known: catalogue_names().join(", "),
            }),
        }
    }

    /// The flux of this card.
    pub fn build_flux(&self) -> Result<Box<dyn Flux>> {
        Ok(self.flux.build())
    }

    /// Explicit, implicit fixed step, or adaptive.
    pub fn step_kind(&self) -> StepKind {
        self.integrator.step_kind()
    }

    /// The card's relative tolerance (adaptive cards only).
    pub fn rtol(&self) -> Option<f64> {
        match &self.integrator {
            IntegratorSpec::Mol(m) => Some(m.rtol),
            IntegratorSpec::Krylov(k) => Some(k.rtol),
            IntegratorSpec::TrBdf2Adaptive(a) => Some(a.tol),
            IntegratorSpec::ForwardEuler(_)
            | IntegratorSpec::Theta(_)
            | IntegratorSpec::TrBdf2(_)
            | IntegratorSpec::RationalExp(_) => None,
        }
    }

    /// The card's absolute tolerance (adaptive cards only).
    pub fn atol(&self) -> Option<f64> {
        match &self.integrator {
            IntegratorSpec::Mol(m) => Some(m.atol),
            IntegratorSpec::ForwardEuler(_)
            | IntegratorSpec::Theta(_)
            | IntegratorSpec::TrBdf2(_)
            | IntegratorSpec::RationalExp(_)
            | IntegratorSpec::TrBdf2Adaptive(_)
            | IntegratorSpec::Krylov(_) => None,
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
        match &self.integrator {
            IntegratorSpec::ForwardEuler(f) => {
                let dt = match requested {
                    Some(dt) => crate::error::positive("dt", dt)?,
                    None => f.safety * limit,
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
            IntegratorSpec::Theta(t) => match requested {
                Some(dt) => crate::error::positive("dt", dt).map(Some),
                None => Ok(Some(t.dt)),
            },
            IntegratorSpec::TrBdf2(t) => match requested {
                Some(dt) => crate::error::positive("dt", dt).map(Some),
                None => Ok(Some(t.dt)),
            },
            IntegratorSpec::RationalExp(e) => match requested {
                Some(dt) => crate::error::positive("dt", dt).map(Some),
                None => Ok(Some(e.dt)),
            },
            IntegratorSpec::Mol(_)
            | IntegratorSpec::Krylov(_)
            | IntegratorSpec::TrBdf2Adaptive(_) => match requested {
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

    /// The integrator of this card: fixed-step ones at `dt` (from [`Scheme::resolve_dt`]),
    /// adaptive ones at tolerances `rtol`, `atol` (the card's when `None`).
    pub fn build_integrator(
        &self,
        op: &Operator,
        dt: Option<f64>,
        rtol: Option<f64>,
        atol: Option<f64>,
    ) -> Result<Box<dyn Propagator>> {
        self.integrator.build(op, dt, rtol, atol)
    }

    /// This card's row of the catalogue tables.
    pub fn row(&self) -> CardRow {
        CardRow::of(self)
    }
}

fn card_stem(file: &str) -> &str {
    file.strip_suffix(".toml").unwrap_or(file)
}

/// The names of the catalogue's cards (the file stems of `schemes/*.toml`), sorted.
pub fn catalogue_names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|(f, _)| card_stem(f)).collect()
}

/// All cards of the catalogue, parsed, sorted by name. A card whose `name` is not its
/// file's stem is an error.
pub fn catalogue() -> Result<Vec<Scheme>> {
    CATALOGUE
        .iter()
        .map(|(file, text)| {
            let path = Path::new("schemes").join(file);
            let s = Scheme::from_toml(text, &path)?;
            if s.name != card_stem(file) {
                return Err(Error::Malformed {
                    path,
                    message: format!(
                        "name = \"{}\" must be the file's stem `{}`",
                        s.name,
                        card_stem(file)
                    ),
                });
            }
            Ok(s)
        })
        .collect()
}
