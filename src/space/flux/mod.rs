//! Spatial fluxes: how the face current J_{i+½} is built from the two cell values.
//!
//! Every flux here is a two-point flux J_{i+½} = α P_i − β P_{i+1} for the Itô current
//! J = −T G P − ∂(D P)/∂W, so every scheme's operator is tridiagonal. A flux with
//! α, β ≥ 0 for every face gives an M-matrix operator (non-negative off-diagonals),
//! which keeps densities non-negative under backward Euler at any step and under
//! forward Euler below its step limit.

//!
//! # The registry
//!
//! Each flux file carries its implementation and its registry row ([`FluxInfo`]:
//! name, summary, order, M-matrix, constructor). The `registry!` list below is the
//! one place that names them all: one line per flux generates the variant of
//! [`FluxSpec`] (what a scheme card's `flux = "..."` deserializes into), [`FLUXES`]
//! and [`FluxSpec::ALL`]. Adding a flux is one file, one `mod` line and one
//! registry line (plus a card in `schemes/` to run it).

mod central;
mod chang_cooper;
mod sg;
mod upwind;

pub use central::Central;
pub use chang_cooper::{chang_cooper_delta, ChangCooper};
pub use sg::{bernoulli, ScharfetterGummel, SgFitting};
pub use upwind::Upwind;

use crate::error::{Error, Result};

/// What a flux sees of one face: the two nodes it couples and the coefficients there.
///
/// For an interior face the nodes are the centres of the two cells; at an absorbing
/// wall the outer node is the wall itself (where P = 0), half a cell away.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceData {
    /// Distance between the two nodes.
    pub h: f64,
    /// Drift velocity −T G at the face.
    pub v: f64,
    /// D′ at the face (the Itô term: fitting on P uses the drift −T G − D′).
    pub d_prime: f64,
    /// D at the left node.
    pub d_left: f64,
    /// D at the right node.
    pub d_right: f64,
    /// D at the face.
    pub d_face: f64,
    /// −T ∫ G/D dW from the left node to the right node, where D > 0 on that interval
    /// and the flux asked for it ([`Flux::wants_drift_integral`]); `None` otherwise.
    pub drift_integral: Option<f64>,
}

/// A two-point flux J = α P_left − β P_right (spatial discretisation of the current).
pub trait Flux: Send + Sync + std::fmt::Debug {
    /// Registry name, e.g. `upwind`.
    fn name(&self) -> &str;
    /// The coefficients (α, β) of J = α P_left − β P_right at one face.
    fn coefficients(&self, face: &FaceData) -> (f64, f64);
    /// Whether assembly should compute [`FaceData::drift_integral`] (well-balanced fluxes).
    fn wants_drift_integral(&self) -> bool {
        false
    }
}

/// Registry row of a flux: name, summary, the properties it guarantees and its
/// constructor. Each flux file defines its row(s) next to the implementation.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FluxInfo {
    /// Registry name (what a card's `flux = "..."` says).
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Spatial order on smooth problems.
    pub order: u32,
    /// Whether the operator is an M-matrix for every coefficient and grid.
    pub m_matrix: bool,
    /// Build the flux.
    #[serde(skip)]
    pub build: fn() -> Box<dyn Flux>,
}

/// The one list of fluxes: `Variant => path::TO_INFO_ROW,` per flux, in catalogue order.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $info:path,)+) => {
        /// A flux as named on a scheme card (deserialized from its registry name).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum FluxSpec {
            $($(#[$doc])* $variant,)+
        }

        impl FluxSpec {
            /// Every flux, in catalogue order.
            pub const ALL: &'static [FluxSpec] = &[$(FluxSpec::$variant,)+];

            /// The registry row of this flux.
            pub fn info(self) -> &'static FluxInfo {
                match self {
                    $(FluxSpec::$variant => &$info,)+
                }
            }
        }

        /// The registry rows of all fluxes, in catalogue order.
        pub const FLUXES: &[FluxInfo] = &[$($info,)+];
    };
}

registry! {
    /// First-order upwind ([`Upwind`]).
    Upwind => upwind::INFO,
    /// Central ([`Central`]).
    Central => central::INFO,
    /// Scharfetter–Gummel fitted on P with the exact exponent between centres.
    ScharfetterGummel => sg::INFO_EXACT,
    /// Scharfetter–Gummel fitted on P with the face-midpoint exponent.
    ScharfetterGummelMidpoint => sg::INFO_MIDPOINT,
    /// Scharfetter–Gummel fitted on u = D·P.
    ScharfetterGummelDp => sg::INFO_DP,
    /// Chang–Cooper weighted drift ([`ChangCooper`]).
    ChangCooper => chang_cooper::INFO,
}

impl FluxSpec {
    /// Registry name, e.g. `upwind`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Build the flux.
    pub fn build(self) -> Box<dyn Flux> {
        (self.info().build)()
    }

    /// The flux of a registry name; the error lists the known names.
    pub fn from_name(name: &str) -> Result<FluxSpec> {
        FluxSpec::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "flux".into(),
                name: name.into(),
                known: known_names(),
            })
    }
}

fn known_names() -> String {
    FLUXES.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

impl std::fmt::Display for FluxSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for FluxSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for FluxSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        FluxSpec::from_name(&name).map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown flux `{name}`, expected one of {}",
                known_names()
            ))
        })
    }
}

/// Build a flux by registry name.
pub fn by_name(name: &str) -> Result<Box<dyn Flux>> {
    FluxSpec::from_name(name).map(FluxSpec::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_rows_are_consistent() {
        assert_eq!(FluxSpec::ALL.len(), FLUXES.len());
        for (spec, info) in FluxSpec::ALL.iter().zip(FLUXES) {
            assert_eq!(spec.name(), info.name);
            // the built flux reports the registry name it was built under
            assert_eq!(spec.build().name(), info.name);
            assert_eq!(FluxSpec::from_name(info.name).unwrap(), *spec);
        }
        let mut names: Vec<_> = FLUXES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FLUXES.len(), "duplicate flux names");
    }
}
