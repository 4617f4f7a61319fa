//! Two-parameter models: landscapes l_j(w1, w2) with exact gradients, the mean
//! gradient G (a vector), the gradient covariance Σ (a 2×2 matrix), the diffusion
//! matrix D = T² Σ f / 2, and 2-D problems with their built-ins (`ou-2d`,
//! `ou-2d-gradient`, `seed-2d`).
//!
//! In one dimension the stationary current of the Fokker–Planck equation is zero, so
//! the end state always has a Boltzmann form P∞ ∝ e^{−Φ}. In two it does only when the
//! drift −T G is a gradient in the metric set by D (detailed balance); otherwise the
//! end state carries a circulating current (Risken, *The Fokker–Planck Equation*, 1989,
//! §6.1 on detailed balance; Gardiner, *Stochastic Methods*, 2009, §5.3.5).

mod builtin;
mod file;
mod formula;
mod landscape;
mod problem;

pub use builtin::{builtin_2d_names, Builtin2, BUILTINS_2D, OU2D_K, OU2D_SIGMA};
pub use file::{is_2d_file, Initial2Spec, Landscape2Spec, ProblemFile2, Region2Spec};
pub use formula::FormulaLandscape2;
pub use landscape::{
    cholesky2, ou2d_landscape, seed2d_landscape, ClosureLandscape2, Landscape2, Mat2,
};
pub use problem::{ou_moments, sym_eigen2, Exact2, Initial2, Moments2, Problem2, Region2};
