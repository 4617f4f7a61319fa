//! The model layer: landscapes (per-datapoint losses and the SGD coefficients G, S²
//! derived from them) and problems (a landscape with learning rate, batch, domain,
//! walls, initial density and regions; the built-in catalogue; problem files).
//!
//! Nothing here knows about grids or time stepping.

pub mod landscape;
pub mod normal;
pub mod problem;
pub mod two;
pub mod wide_narrow;
