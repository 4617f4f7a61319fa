//! The landscapes of the built-in problems, as closures with exact derivatives.

use super::{ClosureLandscape, Form};

/// The seed landscape (two datapoints, pit sharpness `k`):
/// l₁ = −e^{−(W−2)²}, l₂ = −e^{−(W−2)²} − e^{−k(W−1)²}, given as the shared part
/// −e^{−(W−2)²} plus the per-datapoint parts 0 and −e^{−k(W−1)²}, so that
/// S² = (k (W−1) e^{−k(W−1)²})² is exact down to the smallest normal float.
pub fn seed_landscape(k: f64) -> ClosureLandscape {
    let wide = |w: f64| -(-(w - 2.0).powi(2)).exp();
    let wide_g = |w: f64| 2.0 * (w - 2.0) * (-(w - 2.0).powi(2)).exp();
    let wide_c = |w: f64| (2.0 - 4.0 * (w - 2.0).powi(2)) * (-(w - 2.0).powi(2)).exp();
    let pit = move |w: f64| -(-k * (w - 1.0).powi(2)).exp();
    let pit_g = move |w: f64| 2.0 * k * (w - 1.0) * (-k * (w - 1.0).powi(2)).exp();
    let pit_c = move |w: f64| {
        let x = w - 1.0;
        (2.0 * k - 4.0 * k * k * x * x) * (-k * x * x).exp()
    };
    ClosureLandscape::new()
        .shared("-exp(-(w-2)^2)", wide, wide_g, wide_c)
        .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
        .datapoint(format!("-exp(-{k}*(w-1)^2)"), pit, pit_g, pit_c)
        .with_form(Form::Seed { k })
}

/// Two datapoints with opposite linear losses ±a·W: G = 0, S² = a² (pure spreading).
pub fn spreading_landscape(a: f64) -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(format!("{a}*w"), move |w| a * w, move |_| a, |_| 0.0)
        .datapoint(format!("-{a}*w"), move |w| -a * w, move |_| -a, |_| 0.0)
        .with_form(Form::Spreading { a })
}

/// Two datapoints ½c(W−m)² ± a·W: G = c(W − m), S² = a² (Ornstein–Uhlenbeck).
pub fn ou_landscape(c: f64, m: f64, a: f64) -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(
            format!("0.5*{c}*(w-{m})^2 + {a}*w"),
            move |w| 0.5 * c * (w - m).powi(2) + a * w,
            move |w| c * (w - m) + a,
            move |_| c,
        )
        .datapoint(
            format!("0.5*{c}*(w-{m})^2 - {a}*w"),
            move |w| 0.5 * c * (w - m).powi(2) - a * w,
            move |w| c * (w - m) - a,
            move |_| c,
        )
        .with_form(Form::Ou { c, m, a })
}

/// Two datapoints (W − 1)² and 0: G = W − 1 and S² = (W − 1)², so the gradient noise
/// vanishes exactly at the minimum W = 1 (an interpolating minimum: a point mass forms
/// there unless a noise floor is added).
pub fn vanishing_noise_landscape() -> ClosureLandscape {
    ClosureLandscape::new()
        .datapoint(
            "(w-1)^2",
            |w| (w - 1.0).powi(2),
            |w| 2.0 * (w - 1.0),
            |_| 2.0,
        )
        .datapoint("0", |_| 0.0, |_| 0.0, |_| 0.0)
        .with_form(Form::VanishingNoise)
}
