//! End states of the Fokker–Planck model of SGD: where the mass ends up, how long it
//! takes to leave a well, and which minima it prefers.
//!
//! - [`stationary()`]: with zero-flux walls the stationary density is
//!   P_s ∝ exp(Φ)/D, Φ = −T ∫ G/D, wherever the noise D is positive; it is set beside
//!   the null vector of every flux's operator, and where the noise vanishes the end state
//!   is the exact long-time limit of the operator read as a Markov chain ([`chain`]).
//!   A stable zero of G whose local width √(D/(T G′)) is numerically zero is a point
//!   mass (an interpolating minimum, see [`crate::analysis::critical`]). On `seed`, σ* ≈
//!   10⁻⁴³ at W = 2 (S² ≈ 10⁻⁸³), while the pit minimum W ≈ 1.00745 has σ* ≈ 7.5·10⁻³:
//!   noisy, so mass leaks out.
//! - [`escape()`]: the mean first-passage time past a point by the double-integral
//!   formula, the discrete operator, Kramers' estimate and Monte Carlo of SGD and of the
//!   Gaussian-kick model.
//! - [`flat_minimum`]: the density ratio between a wide and a narrow minimum of equal
//!   depth ([`crate::model::wide_narrow`]) from the formula, the PDE and Monte Carlo.
//!
//! The report that puts these side by side is [`crate::reports::end_states`].

pub mod chain;
pub mod escape;
pub mod flat_minimum;
pub mod logspace;
pub mod numfmt;
pub mod stationary;

pub use chain::{Chain, Class};
pub use escape::{
    auto_endpoints, escape, escape_auto, EscapeOptions, EscapeReport, FormulaMfpt, KramersMfpt,
    McEscape, PdeMfpt, Verdict,
};
pub use stationary::{
    closed_form_log, phi_between, stationary, BasinMass, MinimumDensity, NullVectorCheck,
    PointMass, StationaryReport,
};

/// The flux whose operator stands for "the PDE" in the reports (the crate's default).
pub const PDE_FLUX: &str = "scharfetter-gummel";
