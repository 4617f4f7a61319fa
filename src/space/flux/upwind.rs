//! First-order upwind flux: J = v⁺ P_L + v⁻ P_R − (D_R P_R − D_L P_L)/h.
//!
//! The drift −T G is upwinded; the Itô diffusion ∂(D P)/∂W is differenced centrally
//! on the product D·P, so no derivative of D is needed. Both coefficients are
//! non-negative: the operator is an M-matrix (monotone, positivity preserving).

use super::{FaceData, Flux};

/// Upwind drift, central Itô diffusion (explicit, order 1, M-matrix).
#[derive(Clone, Copy, Debug, Default)]
pub struct Upwind;

impl Flux for Upwind {
    fn name(&self) -> &str {
        INFO.name
    }
    fn coefficients(&self, f: &FaceData) -> (f64, f64) {
        (
            f.v.max(0.0) + f.d_left / f.h,
            (-f.v).max(0.0) + f.d_right / f.h,
        )
    }
}

/// Registry row of [`Upwind`].
pub const INFO: super::FluxInfo = super::FluxInfo {
    name: "upwind",
    summary: "drift upwinded, diffusion central on D·P (order 1, M-matrix)",
    order: 1,
    m_matrix: true,
    build: || Box::new(Upwind),
};
