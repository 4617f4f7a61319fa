//! The 2-D built-in problems: one table of (name, summary, constructor) read by
//! [`Problem2::builtin`].

use std::sync::Arc;

use super::file::Landscape2Spec;
use super::landscape::{ou2d_landscape, seed2d_landscape, Mat2};
use super::problem::{Exact2, Initial2, Problem2, Region2};
use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Sampling, SEED_BARRIER};

/// A 2-D built-in problem: its name, one-line summary and constructor.
#[derive(Clone, Copy, Debug)]
pub struct Builtin2 {
    /// Name, e.g. `ou-2d`.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Build the problem.
    pub build: fn() -> Result<Problem2>,
}

/// The 2-D built-in problems, in listing order.
pub const BUILTINS_2D: &[Builtin2] = &[
    Builtin2 {
        name: "ou-2d",
        summary: "2-D Ornstein–Uhlenbeck: G = K w, K = [[1,0.5],[0.5,2]], Σ = [[1,0.6],[0.6,1]]; KΣ ≠ ΣK so the end state circulates; exact moments",
        build: ou2d,
    },
    Builtin2 {
        name: "ou-2d-gradient",
        summary: "ou-2d with Σ = I: detailed balance, the stationary current is zero (an energy exists)",
        build: ou2d_gradient,
    },
    Builtin2 {
        name: "seed-2d",
        summary: "two datapoints: wide basin at (2,0), pit at (1,0) sharp along w1 (k=100), flat along w2; noise vanishes at the pit; T=0.02, B=1",
        build: seed2d,
    },
];

/// Names of the 2-D built-in problems, in listing order.
pub fn builtin_2d_names() -> Vec<&'static str> {
    BUILTINS_2D.iter().map(|b| b.name).collect()
}

/// The Hessian K of the OU built-ins.
pub const OU2D_K: Mat2 = [[1.0, 0.5], [0.5, 2.0]];
/// The gradient covariance Σ of `ou-2d`.
pub const OU2D_SIGMA: Mat2 = [[1.0, 0.6], [0.6, 1.0]];

fn ou_with(sigma: Mat2) -> Result<Problem2> {
    Ok(Problem2 {
        name: String::new(),
        summary: String::new(),
        landscape: Arc::new(ou2d_landscape(OU2D_K, sigma)?),
        lr: 0.1,
        batch: 1,
        sampling: Sampling::WithReplacement,
        x: [-3.0, 3.0],
        y: [-3.0, 3.0],
        boundary: Boundary::ZeroFlux,
        initial: Initial2 {
            mean: [1.0, -0.5],
            sd: [0.2, 0.2],
        },
        regions: vec![Region2::new("right", [0.0, 3.0], [-3.0, 3.0])],
        t_end: 20.0,
        every: 1.0,
        exact: Some(Exact2::Ou { k: OU2D_K, sigma }),
        spec: Some(Landscape2Spec::Ou { k: OU2D_K, sigma }),
        origin: String::new(),
    })
}

fn ou2d() -> Result<Problem2> {
    ou_with(OU2D_SIGMA)
}

fn ou2d_gradient() -> Result<Problem2> {
    ou_with([[1.0, 0.0], [0.0, 1.0]])
}

fn seed2d() -> Result<Problem2> {
    Ok(Problem2 {
        name: String::new(),
        summary: String::new(),
        landscape: Arc::new(seed2d_landscape(100.0, 1.0)),
        lr: 0.02,
        batch: 1,
        sampling: Sampling::WithReplacement,
        x: [0.0, 3.0],
        y: [-1.5, 1.5],
        boundary: Boundary::ZeroFlux,
        initial: Initial2 {
            mean: [0.5, 0.4],
            sd: [0.175, 0.175],
        },
        regions: vec![
            Region2::new("pit", [0.0, SEED_BARRIER], [-1.5, 1.5]),
            Region2::new("basin", [SEED_BARRIER, 3.0], [-1.5, 1.5]),
        ],
        t_end: 1000.0,
        every: 50.0,
        exact: None,
        spec: Some(Landscape2Spec::Seed { k: 100.0, q: 1.0 }),
        origin: String::new(),
    })
}

impl Problem2 {
    /// A 2-D built-in problem by name (see [`BUILTINS_2D`]); an unknown name is an
    /// error listing the known ones.
    pub fn builtin(name: &str) -> Result<Problem2> {
        let row =
            BUILTINS_2D
                .iter()
                .find(|b| b.name == name)
                .ok_or_else(|| Error::UnknownName {
                    kind: "2-D problem".into(),
                    name: name.into(),
                    known: builtin_2d_names().join(", "),
                })?;
        let mut p = (row.build)()?;
        p.name = row.name.into();
        p.summary = row.summary.into();
        p.origin = format!("built-in problem `{}`", row.name);
        Ok(p)
    }

    /// Whether `name` is a 2-D built-in.
    pub fn is_builtin_2d(name: &str) -> bool {
        BUILTINS_2D.iter().any(|b| b.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_2d_builtin_builds_and_validates() {
        for b in BUILTINS_2D {
            let p = Problem2::builtin(b.name).unwrap();
            assert_eq!(p.name, b.name);
            p.validate().unwrap();
        }
        let e = Problem2::builtin("ou2d").unwrap_err().to_string();
        assert!(e.contains("ou-2d-gradient"), "{e}");
    }

    #[test]
    fn ou2d_diffusion_is_t2_sigma_over_2b() {
        let p = Problem2::builtin("ou-2d").unwrap();
        let d = p.diffusion(0.7, -0.2);
        assert!((d[0][1] - 0.01 * 0.6 / 2.0).abs() < 1e-15);
        assert!((d[0][0] - 0.005).abs() < 1e-15);
        let g = p.g(1.0, 1.0);
        assert!((g[0] - 1.5).abs() < 1e-14 && (g[1] - 2.5).abs() < 1e-14);
    }
}
