//! Spatial fluxes: how the face current J_{i+½} is built from the two cell values.
//!
//! Every flux here is a two-point flux J_{i+½} = α P_i − β P_{i+1} for the Itô current
//! J = −T G P − ∂(D P)/∂W, so every scheme's operator is tridiagonal. A flux with
//! α, β ≥ 0 for every face gives an M-matrix operator (non-negative off-diagonals),
//! which keeps densities non-negative under backward Euler at any step and under
//! forward Euler below its step limit.

mod central;
mod sg;
mod upwind;

pub use central::Central;
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

/// Registry row of a flux: name, summary and the properties it guarantees.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FluxInfo {
    /// Registry name.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Spatial order on smooth problems.
    pub order: u32,
    /// Whether the operator is an M-matrix for every coefficient and grid.
    pub m_matrix: bool,
}

/// All fluxes, in catalogue order.
pub const FLUXES: &[FluxInfo] = &[
    FluxInfo {
        name: "upwind",
        summary: "drift upwinded, diffusion central on D·P (order 1, M-matrix)",
        order: 1,
        m_matrix: true,
    },
    FluxInfo {
        name: "central",
        summary: "drift and diffusion central (order 2, not an M-matrix at cell Péclet > 2)",
        order: 2,
        m_matrix: false,
    },
    FluxInfo {
        name: "scharfetter-gummel",
        summary: "exponentially fitted on P with the exact exponent −∫(T·G + D′)/D between centres (order 2, M-matrix, exact stationary state where D > 0, upwind where D = 0)",
        order: 2,
        m_matrix: true,
    },
    FluxInfo {
        name: "scharfetter-gummel-midpoint",
        summary: "exponentially fitted on P with the face-midpoint exponent (−T·G − D′) h / D (order 2, M-matrix, upwind where D = 0)",
        order: 2,
        m_matrix: true,
    },
    FluxInfo {
        name: "scharfetter-gummel-dp",
        summary: "exponentially fitted on u = D·P with drift −T·G (order 2, M-matrix, upwind where D = 0)",
        order: 2,
        m_matrix: true,
    },
];

/// Build a flux by registry name.
pub fn by_name(name: &str) -> Result<Box<dyn Flux>> {
    Ok(match name {
        "upwind" => Box::new(Upwind),
        "central" => Box::new(Central),
        "scharfetter-gummel" => Box::new(ScharfetterGummel::new(SgFitting::OnP, true)),
        "scharfetter-gummel-midpoint" => Box::new(ScharfetterGummel::new(SgFitting::OnP, false)),
        "scharfetter-gummel-dp" => Box::new(ScharfetterGummel::new(SgFitting::OnDP, false)),
        _ => {
            return Err(Error::UnknownName {
                kind: "flux".into(),
                name: name.into(),
                known: FLUXES.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
            })
        }
    })
}
