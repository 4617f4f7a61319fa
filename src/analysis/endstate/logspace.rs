//! Sums and integrals in logarithms, for quantities such as e^{Φ} with Φ of ±10⁴ that
//! overflow f64: ln(eᵃ + eᵇ) and the integral of a function whose logarithm is linear
//! on an interval (exact for exponentials), ∫ e^{a + (b − a)s/h} ds = h eᵃ (e^{b−a} − 1)/(b − a).

/// ln(eᵃ + eᵇ), exact for −∞ arguments.
pub fn lae(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// ln((eᵈ − 1)/d), stable for small and large |d|.
pub fn ln_expm1_over(d: f64) -> f64 {
    if d.abs() < 1e-8 {
        0.5 * d
    } else if d > 0.0 {
        d + (-(-d).exp_m1() / d).ln()
    } else {
        (d.exp_m1() / d).ln()
    }
}

/// ln ∫ over an interval of length e^{lnh} of the function whose logarithms at the ends
/// are `a` and `b`, taking the logarithm linear in between (exact for exponentials).
pub fn ln_interval(lnh: f64, a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        // one end is zero: trapezoid
        return lnh - std::f64::consts::LN_2 + lae(a, b);
    }
    lnh + a + ln_expm1_over(b - a)
}
