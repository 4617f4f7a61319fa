//! Upwind under another name (a registry test: one file, one card).

use super::{FaceData, Flux, FluxInfo, Upwind};

/// [`Upwind`] registered as `upwind-again`.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpwindAgain;

impl Flux for UpwindAgain {
    fn name(&self) -> &str {
        INFO.name
    }
    fn coefficients(&self, f: &FaceData) -> (f64, f64) {
        Upwind.coefficients(f)
    }
}

/// Registry row of [`UpwindAgain`].
pub const INFO: FluxInfo = FluxInfo {
    name: "upwind-again",
    summary: "upwind under another name",
    order: 1,
    m_matrix: true,
    build: || Box::new(UpwindAgain),
};
