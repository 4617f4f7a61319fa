//! Monte Carlo of the actual discrete process, for checking the density models.
//!
//! Each particle takes the SGD step W ← W − T ĝ(W), with ĝ the mean gradient of a
//! minibatch of B datapoints drawn uniformly (with or without replacement); plain
//! gradient descent W ← W − T G(W); or the Gaussian-kick model
//! W ← W − T G(W) + √(2D(W)) ξ with ξ ~ N(0, 1) — the per-step diffusion approximation,
//! which separates modelling error from sampling error ([`StepRule`]). Any of them may
//! carry heavy-ball momentum (v ← β v − T ĝ, W ← W + v, optionally with Nesterov's
//! look-ahead; [`Momentum`]). Walls reflect (zero flux) or absorb (the particle is
//! removed and counted). A learning-rate or batch schedule is honoured per step: step
//! k (from W_k to W_{k+1}) uses T(k) and B(k).
//!
//! There is one particle engine ([`engine`]): it owns the blocks, the threads and the
//! seeding, moves every particle with a [`StepRule`] between checkpoints and hands what
//! it sees to an [`Observer`]. Two observers use it: snapshot statistics
//! ([`simulate`]: mass, moments, region masses and histograms at fixed times) and first
//! passage ([`first_passage()`]: the step on which each particle leaves).
//!
//! Speed: the particles of a block move in groups of [`GROUP`] in lock step, as
//! structure-of-arrays slices. For minibatch SGD with replacement the per-datapoint
//! gradients of a built-in landscape are evaluated from its closed form in a loop
//! the compiler vectorises ([`lanes`]): only the drawn datapoints' gradients, no
//! dynamic dispatch or allocation per particle step.
//!
//! Reproducibility: particles are processed in fixed blocks of [`BLOCK`]; block k's
//! generator, seeded from (seed, k), seeds one xoshiro256++ generator per particle slot
//! of a group (slot l serves particles l, l + GROUP, … of the block), and block results
//! are reduced in block order, so the same seed gives bit-identical results at any
//! thread count.

pub mod engine;
pub mod first_passage;
pub mod lanes;
pub mod output;
pub mod snapshot;
pub mod step;
pub mod two;

pub use engine::{reflect, Engine, Momentum, Observer, Start, Wall, Walls, BLOCK, GROUP};
pub use first_passage::{first_passage, FirstPassage};
pub use output::write_mc;
pub use snapshot::{simulate, McHistogram, McMoments, McReport, McSettings};
pub use step::{McMode, StepRule};

/// A time counted in whole SGD steps (an integer ≥ 1), as Monte Carlo and the
/// discrete-time transfer models need (one rule for both).
pub use crate::time::transfer::whole_steps;
