//! Heavy-ball momentum: its first-order effective model and the linear stability of
//! the discrete map.
//!
//! SGD with momentum β is v_{k+1} = β v_k − T ĝ(W_k), W_{k+1} = W_k + v_{k+1}
//! (Polyak, "Some methods of speeding up the convergence of iteration methods", 1964;
//! Nesterov's variant takes ĝ at W_k + β v_k). Once the velocity has relaxed (over about
//! 1/(1 − β) steps) the weight moves on average by −T G/(1 − β) per step, and the
//! per-step noise T(ĝ − G) is summed into the velocity with the same gain 1/(1 − β).
//! To first order in T the process is therefore plain SGD with the effective learning
//! rate T/(1 − β): drift −T G/(1 − β) and diffusion D = T² S² f/(2(1 − β)²), f the
//! batch factor (Li, Tai & E, "Stochastic modified equations and adaptive stochastic
//! gradient algorithms", ICML 2017, and JMLR 2019, where the stochastic modified
//! equation of heavy ball reduces to this at leading order). A problem whose learning
//! rate is T/(1 − β) has exactly that Fokker–Planck equation, so the effective model is
//! a problem transform ([`effective_problem`]); with a learning-rate schedule the base
//! rate is scaled, T(t)/(1 − β). Nesterov's look-ahead has the same first-order model.
//!
//! Where it fails: the model is continuous in time and forgets that the velocity takes
//! ~1/(1 − β) steps to build up, and it cannot see the discrete map's instability.
//! Linearised at a minimum of curvature λ the error e_k obeys
//! e_{k+1} = (1 + β − Tλ) e_k − β e_{k−1}, with multipliers z the roots of
//! z² − (1 + β − Tλ) z + β = 0 ([`multipliers`]): |z| < 1 iff 0 < Tλ < 2(1 + β)
//! (Nesterov: z² − (1 + β)(1 − Tλ) z + β(1 − Tλ) = 0, stable iff
//! 0 < Tλ < 2(1 + β)/(1 + 2β)). Plain SGD at the effective rate is stable only for
//! Tλ < 2(1 − β), so the two disagree on every minimum with 2(1 − β) < Tλ < 2(1 + β).

use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::model::problem::Problem;

/// Check β is in [0, 1) (1 never forgets a velocity, above 1 it grows); `from` names
/// where it came from.
pub fn check_beta(beta: f64, from: &str) -> Result<()> {
    if (0.0..1.0).contains(&beta) {
        Ok(())
    } else {
        Err(Error::invalid(
            "momentum",
            beta,
            "β must be in [0, 1) (1 never forgets a velocity; above 1 it grows)",
        )
        .with_origin(from))
    }
}

/// The first-order effective model of SGD with momentum `beta` on `problem`: the same
/// problem with learning rate T/(1 − β), whose Fokker–Planck equation has drift
/// −T G/(1 − β) and D = T² S² f/(2(1 − β)²). Errors for β outside [0, 1) and when the
/// scaled problem does not validate.
///
/// ```
/// use probcurrent::model::momentum::effective_problem;
/// use probcurrent::Problem;
/// let seed = Problem::builtin("seed").unwrap();
/// let eff = effective_problem(&seed, 0.9).unwrap();
/// assert!((eff.lr - seed.lr / 0.1).abs() < 1e-12);
/// ```
pub fn effective_problem(problem: &Problem, beta: f64) -> Result<Problem> {
    check_beta(beta, "momentum")?;
    let mut p = problem.clone();
    p.lr = problem.lr / (1.0 - beta);
    p.validate()?;
    Ok(p)
}

/// The two multipliers of the momentum map linearised at a minimum where T λ = `tl`
/// (learning rate times curvature): the roots of z² − (1 + β − Tλ) z + β = 0 for heavy
/// ball, of z² − (1 + β)(1 − Tλ) z + β(1 − Tλ) = 0 for Nesterov. The map is linearly
/// stable iff both have modulus below 1. β = 0 gives 1 − Tλ and 0.
pub fn multipliers(tl: f64, beta: f64, nesterov: bool) -> [Complex64; 2] {
    let (p, q) = if nesterov {
        ((1.0 + beta) * (1.0 - tl), beta * (1.0 - tl))
    } else {
        (1.0 + beta - tl, beta)
    };
    let disc = Complex64::new(p * p - 4.0 * q, 0.0).sqrt();
    [(p + disc) / 2.0, (p - disc) / 2.0]
}

/// The largest modulus of the [`multipliers`].
pub fn spectral_radius(tl: f64, beta: f64, nesterov: bool) -> f64 {
    let [a, b] = multipliers(tl, beta, nesterov);
    a.norm().max(b.norm())
}

/// The edge of linear stability in T λ: heavy ball is stable for 0 < Tλ < 2(1 + β),
/// Nesterov for 0 < Tλ < 2(1 + β)/(1 + 2β).
pub fn stable_below(beta: f64, nesterov: bool) -> f64 {
    if nesterov {
        2.0 * (1.0 + beta) / (1.0 + 2.0 * beta)
    } else {
        2.0 * (1.0 + beta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stability_edge_is_where_the_radius_crosses_one() {
        for beta in [0.0, 0.5, 0.9] {
            for nesterov in [false, true] {
                let edge = stable_below(beta, nesterov);
                assert!(spectral_radius(edge * 0.999, beta, nesterov) < 1.0);
                assert!(spectral_radius(edge * 1.001, beta, nesterov) > 1.0);
                assert!(spectral_radius(0.01, beta, nesterov) < 1.0);
            }
        }
        let [a, b] = multipliers(0.3, 0.0, false);
        assert!((a.re - 0.7).abs() < 1e-15 && b.norm() < 1e-15);
    }

    #[test]
    fn beta_outside_the_unit_interval_is_refused() {
        for beta in [-0.1, 1.0, 1.5, f64::NAN] {
            assert!(check_beta(beta, "test").is_err());
        }
    }
}
