//! The space layer: finite-volume grids, two-point face fluxes, the assembled
//! tridiagonal operator A of dP/dt = A P, and tridiagonal linear algebra.
//!
//! It imports only the model layer.

pub mod auto;
pub mod flux;
pub mod grid;
pub mod initial;
pub mod linalg;
pub mod operator;
pub mod quadrature;
pub(crate) mod twisted;
pub mod two;
