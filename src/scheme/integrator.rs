//! The `[integrator]` table of a scheme card, typed: one parameter struct per time
//! integrator, selected by `kind`.
//!
//! ```toml
//! [integrator]
//! kind = "theta"    # forward-euler | theta | tr-bdf2 | mol | rational-exp | krylov
//! theta = 1.0
//! dt = 1.0
//! ```
//!
//! Unknown kinds and unknown keys are refused by name (serde lists the accepted
//! ones). Whether a scheme is explicit, fixed-step implicit or adaptive follows from
//! the kind ([`IntegratorSpec::step_kind`]); every `match` on a kind is exhaustive, so
//! a new kind that is not handled everywhere does not compile. Each integrator's
//! description ([`IntegratorInfo`]) lives next to its implementation in `src/time/`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::space::operator::Operator;
pub use crate::time::IntegratorInfo;
use crate::time::{
    AdaptiveTrBdf2, Approximation, ExpOrigin, ForwardEuler, Krylov, Mol, MolMethod, Propagator,
    Rational, RationalExp, Theta, TrBdf2, DEFAULT_KRYLOV_DIM, MAX_KRYLOV_DIM,
};

/// Default forward-Euler step as a fraction of the explicit limit 1/max|A_ii|.
pub const DEFAULT_SAFETY: f64 = 0.9;
/// Default step of fixed-step implicit schemes.
pub const DEFAULT_DT: f64 = 1.0;
/// Default relative tolerance of adaptive integrators.
pub const DEFAULT_RTOL: f64 = 1e-6;
/// Default absolute tolerance of adaptive integrators.
pub const DEFAULT_ATOL: f64 = 1e-9;

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

/// The time integrator of a card, with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    expecting = "an [integrator] table with kind = \"forward-euler\", \"theta\", \"tr-bdf2\", \"tr-bdf2-adaptive\", \"mol\", \"rational-exp\" or \"krylov\""
)]
pub enum IntegratorSpec {
    /// Forward Euler (explicit).
    ForwardEuler(ForwardEulerSpec),
    /// The θ-method (implicit, fixed step).
    Theta(ThetaSpec),
    /// Fixed-step TR-BDF2 (implicit).
    TrBdf2(TrBdf2Spec),
    /// Variable-step TR-BDF2 with W1 error control (adaptive).
    TrBdf2Adaptive(TrBdf2AdaptiveSpec),
    /// Method of lines over diffsol (adaptive).
    Mol(MolSpec),
    /// Rational approximation of the exponential (no time-step error).
    RationalExp(RationalExpSpec),
    /// Krylov (Arnoldi) exponential integrator (adaptive).
    Krylov(KrylovSpec),
}

/// Parameters of forward Euler.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardEulerSpec {
    /// Default step as a fraction of the explicit limit, in (0, 1] (default 0.9).
    #[serde(default = "default_safety")]
    pub safety: f64,
}

/// Parameters of the θ-method.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThetaSpec {
    /// θ in [½, 1]: ½ Crank–Nicolson, 1 backward Euler (required).
    pub theta: f64,
    /// Rannacher start-up steps, two backward-Euler half steps each (default 0).
    #[serde(default)]
    pub rannacher_steps: usize,
    /// Default step (default 1).
    #[serde(default = "default_dt")]
    pub dt: f64,
}

/// Parameters of fixed-step TR-BDF2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrBdf2Spec {
    /// Default step (default 1).
    #[serde(default = "default_dt")]
    pub dt: f64,
}

/// Parameters of variable-step TR-BDF2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrBdf2AdaptiveSpec {
    /// Target W1 time error at the end of the run (default 1e-3); `--rtol`
    /// overrides it.
    #[serde(default = "default_trbdf2_tol")]
    pub tol: f64,
}

fn default_trbdf2_tol() -> f64 {
    crate::time::DEFAULT_TRBDF2_TOL
}

/// Parameters of the method of lines.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MolSpec {
    /// diffsol's method.
    pub method: MolMethod,
    /// Relative tolerance (default 1e-6).
    #[serde(default = "default_rtol")]
    pub rtol: f64,
    /// Absolute tolerance (default 1e-9).
    #[serde(default = "default_atol")]
    pub atol: f64,
}

/// Parameters of the rational exponential integrator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RationalExpSpec {
    /// The rational approximation of e^x on (−∞, 0] (default `cf`).
    #[serde(default = "default_approximation")]
    pub approximation: Approximation,
    /// Its degree n: n/2 shifted solves per evaluation (default 16).
    #[serde(default = "default_degree")]
    pub degree: usize,
    /// Where each evaluation starts (default `previous`).
    #[serde(default)]
    pub from: ExpOrigin,
    /// Largest span of one evaluation (default 1e6: one per snapshot interval).
    #[serde(default = "default_exp_dt")]
    pub dt: f64,
}

/// Default largest span of one rational-exponential evaluation.
pub const DEFAULT_EXP_DT: f64 = 1e6;

fn default_approximation() -> Approximation {
    Approximation::Cf
}
fn default_degree() -> usize {
    16
}
fn default_exp_dt() -> f64 {
    DEFAULT_EXP_DT
}

/// Parameters of the Krylov exponential integrator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KrylovSpec {
    /// Bound on the L1 error at the last stop relative to ‖P‖₁ (default 1e-6).
    #[serde(default = "default_rtol")]
    pub rtol: f64,
    /// Krylov dimension (default 30).
    #[serde(default = "default_krylov_dim")]
    pub m: usize,
}

/// Deserialize the `[integrator]` table of a card; errors say that they are about it.
pub(super) fn in_context<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<IntegratorSpec, D::Error> {
    IntegratorSpec::deserialize(d)
        .map_err(|e| serde::de::Error::custom(format!("in [integrator]: {e}")))
}

fn default_safety() -> f64 {
    DEFAULT_SAFETY
}
fn default_dt() -> f64 {
    DEFAULT_DT
}
fn default_rtol() -> f64 {
    DEFAULT_RTOL
}
fn default_atol() -> f64 {
    DEFAULT_ATOL
}
fn default_krylov_dim() -> usize {
    DEFAULT_KRYLOV_DIM
}

impl IntegratorSpec {
    /// The description of this integrator's family.
    pub fn info(&self) -> &'static IntegratorInfo {
        match self {
            IntegratorSpec::ForwardEuler(_) => &ForwardEuler::INFO,
            IntegratorSpec::Theta(_) => &Theta::INFO,
            IntegratorSpec::TrBdf2(_) => &TrBdf2::INFO,
            IntegratorSpec::TrBdf2Adaptive(_) => &AdaptiveTrBdf2::INFO,
            IntegratorSpec::Mol(_) => &Mol::INFO,
            IntegratorSpec::RationalExp(_) => &RationalExp::INFO,
            IntegratorSpec::Krylov(_) => &Krylov::INFO,
        }
    }

    /// Explicit, implicit fixed step, or adaptive.
    pub fn step_kind(&self) -> StepKind {
        match self {
            IntegratorSpec::ForwardEuler(_) => StepKind::Explicit,
            IntegratorSpec::Theta(_) | IntegratorSpec::TrBdf2(_) => StepKind::Implicit,
            // a fixed largest span, like an implicit step (but with no step error)
            IntegratorSpec::RationalExp(_) => StepKind::Implicit,
            IntegratorSpec::Mol(_)
            | IntegratorSpec::Krylov(_)
            | IntegratorSpec::TrBdf2Adaptive(_) => StepKind::Adaptive,
        }
    }

    /// The name the built integrator reports (`forward-euler`, `theta`, `bdf`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            IntegratorSpec::ForwardEuler(_) => ForwardEuler::INFO.kind,
            IntegratorSpec::Theta(_) => Theta::INFO.kind,
            IntegratorSpec::TrBdf2(_) => TrBdf2::INFO.kind,
            IntegratorSpec::TrBdf2Adaptive(_) => AdaptiveTrBdf2::INFO.kind,
            IntegratorSpec::Mol(m) => m.method.name(),
            IntegratorSpec::RationalExp(_) => RationalExp::INFO.kind,
            IntegratorSpec::Krylov(_) => Krylov::INFO.kind,
        }
    }

    /// The method-of-lines method, for adaptive integrators.
    pub fn mol_method(&self) -> Option<MolMethod> {
        match self {
            IntegratorSpec::Mol(m) => Some(m.method),
            IntegratorSpec::ForwardEuler(_)
            | IntegratorSpec::Theta(_)
            | IntegratorSpec::TrBdf2(_)
            | IntegratorSpec::TrBdf2Adaptive(_)
            | IntegratorSpec::RationalExp(_)
            | IntegratorSpec::Krylov(_) => None,
        }
    }

    /// One-line description with the parameters, e.g. `θ = ½, 4 Rannacher start-up steps`.
    pub fn describe(&self) -> String {
        match self {
            IntegratorSpec::ForwardEuler(f) => {
                format!("forward Euler, dt = {} × limit", f.safety)
            }
            IntegratorSpec::Theta(t) => {
                let theta = match t.theta {
                    th if (th - 0.5).abs() < 1e-15 => "½".to_string(),
                    th => format!("{th}"),
                };
                match t.rannacher_steps {
                    0 => format!("θ = {theta}"),
                    k => format!("θ = {theta}, {k} Rannacher start-up steps"),
                }
            }
            IntegratorSpec::TrBdf2(_) => "TR-BDF2, γ = 2 − √2".to_string(),
            IntegratorSpec::TrBdf2Adaptive(a) => {
                format!(
                    "variable-step TR-BDF2, γ = 2 − √2, W1 time error target {:e}",
                    a.tol
                )
            }
            IntegratorSpec::Mol(m) => format!(
                "{} (diffsol), rtol {:e}, atol {:e}",
                m.method.label(),
                m.rtol,
                m.atol
            ),
            IntegratorSpec::RationalExp(e) => format!(
                "rational e^{{τA}}, {} degree {}, from the {} density",
                e.approximation.name(),
                e.degree,
                match e.from {
                    ExpOrigin::Previous => "previous",
                    ExpOrigin::Start => "initial",
                }
            ),
            IntegratorSpec::Krylov(k) => {
                format!(
                    "Krylov exponential (Arnoldi), m = {}, rtol {:e}",
                    k.m, k.rtol
                )
            }
        }
    }

    /// Check the parameters' ranges.
    pub fn validate(&self) -> Result<()> {
        match self {
            IntegratorSpec::ForwardEuler(f) => {
                if !(f.safety > 0.0 && f.safety <= 1.0) {
                    return Err(Error::invalid("safety", f.safety, "must be in (0, 1]"));
                }
            }
            IntegratorSpec::Theta(t) => {
                if !(0.5..=1.0).contains(&t.theta) {
                    return Err(Error::invalid("theta", t.theta, "must be in [0.5, 1]"));
                }
                crate::error::positive("dt", t.dt)?;
            }
            IntegratorSpec::TrBdf2(t) => {
                crate::error::positive("dt", t.dt)?;
            }
            IntegratorSpec::TrBdf2Adaptive(a) => {
                crate::error::positive("tol", a.tol)?;
            }
            IntegratorSpec::Mol(m) => {
                crate::error::positive("rtol", m.rtol)?;
                crate::error::positive("atol", m.atol)?;
            }
            IntegratorSpec::RationalExp(e) => {
                Rational::new(e.approximation, e.degree)?;
                crate::error::positive("dt", e.dt)?;
            }
            IntegratorSpec::Krylov(k) => {
                crate::error::positive("rtol", k.rtol)?;
                if !(2..=MAX_KRYLOV_DIM).contains(&k.m) {
                    return Err(Error::invalid(
                        "m",
                        k.m,
                        format!("the Krylov dimension must be in 2 … {MAX_KRYLOV_DIM}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Build the integrator: fixed-step ones at `dt`, adaptive ones at tolerances
    /// `rtol`, `atol` (the card's when `None`).
    pub fn build(
        &self,
        op: &Operator,
        dt: Option<f64>,
        rtol: Option<f64>,
        atol: Option<f64>,
    ) -> Result<Box<dyn Propagator>> {
        let fixed =
            || dt.ok_or_else(|| Error::invalid("dt", "none", "a fixed-step scheme needs a step"));
        Ok(match self {
            IntegratorSpec::ForwardEuler(_) => Box::new(ForwardEuler::new(op, fixed()?)),
            IntegratorSpec::Theta(t) => {
                Box::new(Theta::new(op, t.theta, fixed()?, t.rannacher_steps))
            }
            IntegratorSpec::TrBdf2(_) => Box::new(TrBdf2::new(op, fixed()?)),
            IntegratorSpec::TrBdf2Adaptive(a) => {
                // the target W1 error is this card's relative tolerance (atol unused)
                let tol = crate::error::positive("rtol", rtol.unwrap_or(a.tol))?;
                Box::new(AdaptiveTrBdf2::new(op, tol))
            }
            IntegratorSpec::Mol(m) => {
                let rtol = crate::error::positive("rtol", rtol.unwrap_or(m.rtol))?;
                let atol = crate::error::positive("atol", atol.unwrap_or(m.atol))?;
                Box::new(Mol::new(op, m.method.name(), rtol, atol)?)
            }
            IntegratorSpec::RationalExp(e) => Box::new(RationalExp::new(
                op,
                Rational::new(e.approximation, e.degree)?,
                fixed()?,
                e.from,
            )),
            IntegratorSpec::Krylov(k) => {
                // the error bound is relative to ‖P‖₁: atol does not apply
                let rtol = crate::error::positive("rtol", rtol.unwrap_or(k.rtol))?;
                Box::new(Krylov::new(op, rtol, k.m))
            }
        })
    }
}

/// The descriptions of all integrator families, in the order of [`IntegratorSpec`].
pub fn integrators() -> [&'static IntegratorInfo; 7] {
    [
        &ForwardEuler::INFO,
        &Theta::INFO,
        &TrBdf2::INFO,
        &AdaptiveTrBdf2::INFO,
        &Mol::INFO,
        &RationalExp::INFO,
        &Krylov::INFO,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Vec<IntegratorSpec> {
        let mut v = vec![
            IntegratorSpec::ForwardEuler(ForwardEulerSpec { safety: 0.9 }),
            IntegratorSpec::Theta(ThetaSpec {
                theta: 0.5,
                rannacher_steps: 2,
                dt: 1.0,
            }),
            IntegratorSpec::TrBdf2(TrBdf2Spec { dt: 0.5 }),
            IntegratorSpec::TrBdf2Adaptive(TrBdf2AdaptiveSpec { tol: 1e-4 }),
            IntegratorSpec::RationalExp(RationalExpSpec {
                approximation: Approximation::Talbot,
                degree: 24,
                from: ExpOrigin::Start,
                dt: 2.0,
            }),
            IntegratorSpec::Krylov(KrylovSpec { rtol: 1e-7, m: 20 }),
        ];
        v.extend(MolMethod::ALL.map(|method| {
            IntegratorSpec::Mol(MolSpec {
                method,
                rtol: 1e-6,
                atol: 1e-9,
            })
        }));
        v
    }

    #[test]
    fn kinds_round_trip_and_match_their_info_rows() {
        for spec in examples() {
            let text = toml::to_string(&spec).unwrap();
            assert!(
                text.contains(&format!("kind = \"{}\"", spec.info().kind)),
                "{text}"
            );
            let back: IntegratorSpec = toml::from_str(&text).unwrap();
            assert_eq!(back, spec);
            // the built integrator reports the spec's name
            let ou = crate::model::problem::Problem::builtin("ou").unwrap();
            let grid = crate::space::grid::Grid::new(ou.a, ou.b, 20).unwrap();
            let flux = crate::space::flux::by_name("upwind").unwrap();
            let op = Operator::assemble(&ou, grid, flux.as_ref()).unwrap();
            let built = spec.build(&op, Some(1.0), None, None).unwrap();
            assert_eq!(built.name(), spec.name());
        }
    }

    #[test]
    fn unknown_kinds_and_keys_are_refused_by_name() {
        let e = toml::from_str::<IntegratorSpec>("kind = \"rk4\"").unwrap_err();
        let msg = e.to_string();
        for k in [
            "rk4",
            "forward-euler",
            "theta",
            "tr-bdf2",
            "tr-bdf2-adaptive",
            "mol",
            "rational-exp",
            "krylov",
        ] {
            assert!(msg.contains(k), "{msg}");
        }
        let e = toml::from_str::<IntegratorSpec>("kind = \"theta\"\ntheta = 1.0\nthetta = 2")
            .unwrap_err();
        let msg = e.to_string();
        for k in ["thetta", "rannacher_steps", "dt"] {
            assert!(msg.contains(k), "{msg}");
        }
        let e = toml::from_str::<IntegratorSpec>("kind = \"mol\"\nmethod = \"rk4\"").unwrap_err();
        let msg = e.to_string();
        for k in ["rk4", "bdf", "tr-bdf2", "esdirk34", "tsit45"] {
            assert!(msg.contains(k), "{msg}");
        }
    }
}
