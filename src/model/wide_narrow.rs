//! The `wide-narrow` landscape and problem: two minima of equal depth, one twice as wide
//! as the other, with gradient noise proportional to the local curvature plus a floor.
//!
//! It isolates the flat-minimum bias of SGD: the losses at the two minima are equal, so
//! any difference in where the mass ends up comes from the curvature and the noise. In
//! the Fokker–Planck stationary density P_s ∝ e^{Φ}/D, Φ = −(2B/T) ∫ G/S², the ratio
//! of the densities at the centres depends on B/T alone; the curvature-proportional part
//! of S² is 16 times larger in the narrow well, and the floor keeps S² > 0 everywhere,
//! so the closed form exists on the whole domain.

use std::sync::Arc;

use serde::Serialize;

use crate::model::landscape::ClosureLandscape;
use crate::model::problem::{Boundary, Initial, Problem, Region, Sampling};

/// Parameters of the `wide-narrow` landscape (see [`wide_narrow_landscape`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WideNarrow {
    /// Loss scale λ (default 1): the wells have depth 0 and the barrier ≈ 1.06 λ above.
    pub scale: f64,
    /// Offset δ of the curvature-proportional noise (default 1).
    pub delta: f64,
    /// Noise floor a (default 10): S² ≥ a²/2 everywhere.
    pub floor: f64,
}

impl Default for WideNarrow {
    fn default() -> Self {
        WideNarrow {
            scale: 1.0,
            delta: 1.0,
            floor: 10.0,
        }
    }
}

/// ln 2: the exponent that makes the curvatures at W = −1 and W = +1 differ fourfold.
const WN_BETA: f64 = std::f64::consts::LN_2;

/// Two minima of equal depth at W = −1 (narrow, curvature 16λ) and W = +1 (twice as
/// wide, curvature 4λ), from four datapoints.
///
/// The mean loss is L(W) = λ (W² − 1)² e^{−βW} with β = ln 2: L = 0 at both minima
/// exactly, L″(±1) = 8λ e^{∓β}, barrier at W_b = (2 − √(4 + β²))/β ≈ −0.1684. The
/// datapoints are L ± δ N(W) with N′ = 8λ e^{−βW} (noise proportional to the local
/// curvature scale, as for datapoints whose minima are offset by ±δ) and L ± a W (a floor):
/// G = L′ and S² = (δ² N′² + a²)/2 > 0 everywhere. At the minima S² = 32 δ²λ² e^{∓2β} + a²/2.
pub fn wide_narrow_landscape(p: WideNarrow) -> ClosureLandscape {
    let (lam, beta, delta, a) = (p.scale, WN_BETA, p.delta, p.floor);
    // L = λ q e^{−βW}, q = (W² − 1)²; derivatives by Leibniz
    let q = |w: f64| {
        [
            (w * w - 1.0).powi(2),
            4.0 * w * w * w - 4.0 * w,
            12.0 * w * w - 4.0,
            24.0 * w,
        ]
    };
    let ld = move |w: f64, k: usize| -> f64 {
        let q = q(w);
        let e = lam * (-beta * w).exp();
        let b = -beta;
        e * match k {
            0 => q[0],
            1 => q[1] + b * q[0],
            2 => q[2] + 2.0 * b * q[1] + b * b * q[0],
            _ => q[3] + 3.0 * b * q[2] + 3.0 * b * b * q[1] + b * b * b * q[0],
        }
    };
    // N = −(8λ/β) e^{−βW}, N′ = 8λ e^{−βW}, N″ = −8λβ e^{−βW}
    let nd = move |w: f64, k: usize| -> f64 {
        let e = 8.0 * lam * (-beta * w).exp();
        match k {
            0 => -e / beta,
            1 => e,
            _ => -beta * e,
        }
    };
    ClosureLandscape::new()
        .datapoint(
            format!("L + {delta}·N"),
            move |w| ld(w, 0) + delta * nd(w, 0),
            move |w| ld(w, 1) + delta * nd(w, 1),
            move |w| ld(w, 2) + delta * nd(w, 2),
        )
        .datapoint(
            format!("L − {delta}·N"),
            move |w| ld(w, 0) - delta * nd(w, 0),
            move |w| ld(w, 1) - delta * nd(w, 1),
            move |w| ld(w, 2) - delta * nd(w, 2),
        )
        .datapoint(
            format!("L + {a}·w"),
            move |w| ld(w, 0) + a * w,
            move |w| ld(w, 1) + a,
            move |w| ld(w, 2),
        )
        .datapoint(
            format!("L − {a}·w"),
            move |w| ld(w, 0) - a * w,
            move |w| ld(w, 1) - a,
            move |w| ld(w, 2),
        )
}

/// Barrier of the wide-narrow mean loss, (2 − √(4 + β²))/β.
pub fn wide_narrow_barrier() -> f64 {
    (2.0 - (4.0 + WN_BETA * WN_BETA).sqrt()) / WN_BETA
}

/// Half-width of the centre windows of `wide-narrow` (the Monte Carlo estimate of the
/// density ratio at the centres is the ratio of the masses in these windows).
pub const CENTRE_WINDOW: f64 = 0.1;

/// One-line summary of the `wide-narrow` built-in problem.
pub const WIDE_NARROW_SUMMARY: &str = "two minima of equal depth at W=−1 (narrow) and W=+1 (twice as wide), noise ∝ curvature plus a floor; T=0.01, B=1, [−2, 3]";

/// The `wide-narrow` problem: [`wide_narrow_landscape`] with the default parameters,
/// T = 0.01, B = 1, domain [−2, 3], zero flux, starting from a normal at the barrier
/// (mean −0.17, sd 0.6), regions `narrow` (W < W_b), `wide` (W > W_b) and the centre
/// windows `narrow-centre` (|W + 1| < 0.1) and `wide-centre` (|W − 1| < 0.1).
pub fn wide_narrow_problem() -> Problem {
    let wb = wide_narrow_barrier();
    let region = |name: &str, lo: Option<f64>, hi: Option<f64>| Region {
        name: name.into(),
        lo,
        hi,
    };
    Problem {
        name: "wide-narrow".into(),
        summary: WIDE_NARROW_SUMMARY.into(),
        landscape: Arc::new(wide_narrow_landscape(WideNarrow::default())),
        lr: 0.01,
        batch: 1,
        sampling: Sampling::WithReplacement,
        a: -2.0,
        b: 3.0,
        boundary: Boundary::ZeroFlux,
        initial: Initial::Normal {
            mean: -0.17,
            sd: 0.6,
        },
        regions: vec![
            region("narrow", None, Some(wb)),
            region("wide", Some(wb), None),
            region(
                "narrow-centre",
                Some(-1.0 - CENTRE_WINDOW),
                Some(-1.0 + CENTRE_WINDOW),
            ),
            region(
                "wide-centre",
                Some(1.0 - CENTRE_WINDOW),
                Some(1.0 + CENTRE_WINDOW),
            ),
        ],
        noise_scale: 1.0,
        noise_floor: 0.0,
        t_end: 4000.0,
        every: 200.0,
        schedule: Default::default(),
        exact: None,
        grid: crate::model::grid_choice::GridChoice::Uniform,
        origin: "built-in problem `wide-narrow`".into(),
    }
}
