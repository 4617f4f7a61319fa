//! # probcurrent
//!
//! Stochastic gradient descent on a one-parameter loss, modelled as a probability
//! density P(W, t) flowing through weight space, and solved with interchangeable
//! schemes.
//!
//! The model is the Itô Fokker–Planck equation
//!
//! ```text
//! ∂P/∂t = −∂J/∂W,   J = −T G P − ∂(D P)/∂W,   D = T² S² / (2B),
//! ```
//!
//! where G and S² are the mean and the variance of the per-datapoint gradients of a
//! [`Landscape`], T the learning rate and B the batch size. Space is discretised by
//! finite volumes with a two-point [`space::flux::Flux`] into dP/dt = A P with a tridiagonal
//! [`Operator`]; time by a [`time::Propagator`]. A [`Scheme`] card names one
//! flux and one integrator; [`run()`] owns the time loop, the monitors and the
//! [`Outcome`].
//!
//! ```
//! use probcurrent::{run, Problem, RunSettings, Scheme};
//! let problem = Problem::builtin("ou").unwrap();
//! let scheme = Scheme::resolve(probcurrent::scheme::DEFAULT_SCHEME).unwrap();
//! let settings = RunSettings { cells: 200, dt: Some(0.5), ..RunSettings::default() };
//! let report = run(&problem, &scheme, &settings).unwrap();
//! assert_eq!(report.outcome, probcurrent::Outcome::Ok);
//! ```
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod analysis;
pub mod cli;
pub mod error;
pub mod model;
pub mod reports;
pub mod run;
pub mod scheme;
pub mod space;
pub mod stats;
pub mod testbed;
pub mod time;

pub use error::{Error, Result};
pub use model::landscape::{ClosureLandscape, FormulaLandscape, GradStats, Landscape};
pub use model::problem::{Boundary, Coeffs, Initial, Problem, Region, Sampling};
pub use reports::models::models_report;
pub use run::{
    run, run_transfer, run_transfer_with, EventKind, Moments, Monitors, Outcome, RunReport,
    RunSettings, Warning,
};
pub use scheme::{Claims, Positivity, Scheme};
pub use space::grid::Grid;
pub use space::operator::{Diagnostics, Operator, Tridiag};
pub use stats::Stats;
pub use time::transfer::{Deposit, MarkovMatrix, Model, Transfer, TransferKind, TransferOptions};
