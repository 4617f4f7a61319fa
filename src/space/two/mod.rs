//! Space discretisation in two dimensions: a uniform rectangular grid
//! ([`Grid2`]) and the finite-volume operator of the Itô Fokker–Planck equation on it
//! ([`Operator2`]): hybrid central/upwind fluxes (the limit of Scharfetter–Gummel fitting) along each axis and two schemes for the
//! cross-diffusion terms ([`CrossScheme`]), assembled from mass-conserving links into
//! a sparse nine-point matrix.

mod grid;
mod operator;

pub use grid::{Grid2, MAX_CELLS_PER_AXIS};
pub use operator::{CrossScheme, Link, LinkKind, Operator2, PositivityRecord};
