//! Central flux: J = v (P_L + P_R)/2 − (D_R P_R − D_L P_L)/h.
//!
//! Second order on smooth problems, but β < 0 where the cell Péclet number
//! |v| h / D exceeds 2: the operator is then not an M-matrix and the scheme can
//! produce negative, oscillating densities — which the testbed measures.

use super::{FaceData, Flux};

/// Central drift and central Itô diffusion (order 2, not positivity preserving).
#[derive(Clone, Copy, Debug, Default)]
pub struct Central;

impl Flux for Central {
    fn name(&self) -> &str {
        INFO.name
    }
    fn coefficients(&self, f: &FaceData) -> (f64, f64) {
        (0.5 * f.v + f.d_left / f.h, -0.5 * f.v + f.d_right / f.h)
    }
}

/// Registry row of [`Central`].
pub const INFO: super::FluxInfo = super::FluxInfo {
    name: "central",
    summary: "drift and diffusion central (order 2, not an M-matrix at cell Péclet > 2)",
    order: 2,
    m_matrix: false,
    build: || Box::new(Central),
};
