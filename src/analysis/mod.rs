//! The analysis layer: metrics between densities and particle samples, Monte Carlo of
//! the discrete process, model-against-Monte-Carlo comparison, orders of convergence,
//! and end states (stationary densities, point masses, escape times).

pub mod compare;
pub mod convergence;
pub mod endstate;
pub mod metrics;
pub mod montecarlo;
