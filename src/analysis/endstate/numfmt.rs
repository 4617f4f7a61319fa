//! Number formatting shared by the end-state texts and the end-states report: fixed
//! notation for moderate magnitudes, scientific otherwise.

/// A time in steps: one decimal when moderate, scientific otherwise.
pub fn steps(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e6 {
        format!("{v:.1}")
    } else {
        format!("{v:.4e}")
    }
}

/// A number in fixed notation when moderate, scientific otherwise.
pub fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.6}")
    } else {
        format!("{v:.6e}")
    }
}

/// `f(v)`, or `n/a` when there is no value.
pub fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "n/a".to_string(), f)
}
