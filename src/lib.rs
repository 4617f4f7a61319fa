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
//! finite volumes with a two-point [`space::flux::Flux`] into dP/dt = A P with a
//! tridiagonal [`Operator`]; time by a [`time::Propagator`]. A [`Scheme`] card names one
//! flux and one integrator; [`run()`] hands the propagator to the one driver, which owns
//! the snapshots, the monitors and the [`Outcome`].
//!
//! ## Layers
//!
//! Each folder imports only those before it (a test checks this):
//! [`model`] (landscapes, problems, built-ins) → [`space`] (grid, fluxes, operator) →
//! [`time`] (integrators and the discrete-time transfer models behind one
//! [`time::Propagator`]) → [`scheme`] (typed cards, the catalogue of `schemes/`) →
//! [`run`] (the driver, [`RunReport`]) → [`analysis`] (metrics, Monte Carlo, comparison,
//! convergence, end states) → [`testbed`] (sweeps, recommendations) → `reports`
//! (markdown and SVG, with the default `cli` feature) → the command-line tool.
//!
//! ## Entry points
//!
//! A problem from a landscape of your own, with the documented defaults:
//!
//! ```
//! use probcurrent::{ClosureLandscape, Problem};
//! // two datapoints, losses ½(W − 1)² and ½(W + 1)²: G = W, S² = 1
//! let landscape = ClosureLandscape::new()
//!     .datapoint_from_gradient("a", |w| 0.5 * (w - 1.0).powi(2), |w| w - 1.0)
//!     .datapoint_from_gradient("b", |w| 0.5 * (w + 1.0).powi(2), |w| w + 1.0);
//! let problem = Problem::builder(landscape).lr(0.1).domain(-3.0, 3.0).build().unwrap();
//! assert!((problem.coeffs(0.5).g - 0.5).abs() < 1e-12);
//! ```
//!
//! A scheme card from the catalogue, and a run (Fokker–Planck):
//!
//! ```
//! use probcurrent::{run, Outcome, Problem, RunSettings, Scheme};
//! let problem = Problem::builtin("ou").unwrap();
//! let scheme = Scheme::resolve(probcurrent::scheme::DEFAULT_SCHEME).unwrap();
//! let settings = RunSettings { cells: 200, dt: Some(0.5), ..RunSettings::default() };
//! let report = run(&problem, &scheme, &settings).unwrap();
//! assert_eq!(report.outcome, Outcome::Ok);
//! assert!(report.mass_error.unwrap().abs() < 1e-12);
//! ```
//!
//! The same problem under the exact SGD transfer operator (a discrete-time model on the
//! same grid, through the same driver), and its distance from the Fokker–Planck density:
//!
//! ```
//! use probcurrent::analysis::metrics::wasserstein1;
//! use probcurrent::{run, run_transfer, Problem, RunSettings, Scheme, TransferKind};
//! let problem = Problem::builtin("ou").unwrap();
//! let settings = RunSettings { cells: 200, t_end: Some(20.0), ..RunSettings::default() };
//! let sgd = run_transfer(&problem, TransferKind::Exact, &settings).unwrap();
//! let fp = run(&problem, &Scheme::resolve("scharfetter-gummel").unwrap(), &settings).unwrap();
//! let (a, b) = (sgd.snapshots.last().unwrap(), fp.snapshots.last().unwrap());
//! let w1 = wasserstein1(&sgd.grid, &a.p, &b.p).unwrap();
//! assert!(w1 < 0.05, "W1 = {w1}");
//! ```
//!
//! Monte Carlo of SGD itself (bit-identical for a seed at any thread count):
//!
//! ```
//! use probcurrent::analysis::montecarlo::{simulate, McSettings};
//! use probcurrent::Problem;
//! let problem = Problem::builtin("ou").unwrap();
//! let settings = McSettings { particles: 4000, t_end: Some(20.0), every: Some(10.0), ..McSettings::default() };
//! let mc = simulate(&problem, &settings, &|_, _| {}).unwrap();
//! let last = mc.moments.last().unwrap();
//! assert!(last.mean.abs() < 1.0 && last.sd > 0.0);
//! ```
//!
//! End states: the stationary density by the closed form and by each flux's null vector:
//!
//! ```
//! use probcurrent::analysis::endstate::stationary;
//! use probcurrent::Problem;
//! let report = stationary(&Problem::builtin("ou").unwrap(), 400).unwrap();
//! assert!(report.formula.is_some());
//! ```
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod analysis;
pub mod error;
pub mod limits;
pub mod model;
#[cfg(feature = "cli")]
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
pub use run::{
    run, run_transfer, run_transfer_with, EventKind, Moments, Monitors, Outcome, RunReport,
    RunSettings, Warning,
};
pub use scheme::{Claims, Positivity, Scheme};
pub use space::grid::Grid;
pub use space::operator::{Diagnostics, Operator, Tridiag};
pub use stats::Stats;
pub use time::transfer::{Deposit, MarkovMatrix, Model, Transfer, TransferKind, TransferOptions};
