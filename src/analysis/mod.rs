//! The analysis layer: metrics between densities and particle samples, Monte Carlo of
//! the discrete process, model-against-Monte-Carlo comparison, orders of convergence,
//! critical points of the flow (zeros of G and of the noise, SGD's linear stability),
//! and end states (stationary densities, point masses, escape times).

pub mod compare;
pub mod convergence;
pub mod critical;
pub mod endstate;
pub mod metrics;
pub mod montecarlo;
pub mod two;
