//! Closed forms for spreading mass over cells: the standard normal's Φ and φ, the
//! integrated tails Ψ(z) = ∫Φ = zΦ(z) + φ(z) and Ψ₂(z) = ∫Ψ, and the hat (tent)
//! function of linear sharing between cell centres.
//!
//! A uniform image interval [lo, hi] convolved with N(0, σ²) has the distribution
//! function (Ψ((x − lo)/σ) − Ψ((x − hi)/σ)) σ/(hi − lo), and the hat weight of a cell
//! centre is a second difference of E[(Y − x)₊], which is σ²/(hi − lo) times a
//! difference of Ψ₂. Each is evaluated where it does not cancel: Ψ and Ψ₂ from the
//! negative side, with the reflection identities Ψ(z) = z + Ψ(−z) and
//! Ψ₂(z) = (z² + 1)/2 − Ψ₂(−z); intervals much narrower than σ use the midpoint with
//! its second-order correction.

/// Cumulative distribution of the standard normal.
pub(super) fn big_phi(z: f64) -> f64 {
    0.5 * libm::erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// Density of the standard normal.
pub(super) fn small_phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() * 0.398_942_280_401_432_7
}

/// Ψ(z) = ∫_{−∞}^z Φ = zΦ(z) + φ(z), evaluated for z ≤ 0 (no cancellation of large terms).
pub(super) fn psi_neg(z: f64) -> f64 {
    z * big_phi(z) + small_phi(z)
}

/// Ψ(z0) − Ψ(z1) for z0 ≥ z1, using Ψ(z) = z + Ψ(−z) for positive arguments.
pub(super) fn psi_diff(z0: f64, z1: f64) -> f64 {
    let psi = |z: f64| {
        if z <= 0.0 {
            (0.0, psi_neg(z))
        } else {
            (z, psi_neg(-z))
        }
    };
    let (l0, s0) = psi(z0);
    let (l1, s1) = psi(z1);
    (l0 - l1) + (s0 - s1)
}

/// Ψ₂(z) = ∫_{−∞}^z Ψ = ((z² + 1)Φ(z) + zφ(z))/2, for z ≤ 0.
pub(super) fn psi2_neg(z: f64) -> f64 {
    0.5 * ((z * z + 1.0) * big_phi(z) + z * small_phi(z))
}

/// Ψ₂(z0) − Ψ₂(z1) for z0 ≥ z1, using Ψ₂(z) = (z² + 1)/2 − Ψ₂(−z) for positive arguments.
pub(super) fn psi2_diff(z0: f64, z1: f64) -> f64 {
    let tail = |z: f64| if z <= 0.0 { psi2_neg(z) } else { -psi2_neg(-z) };
    let poly = if z1 > 0.0 {
        0.5 * (z0 - z1) * (z0 + z1)
    } else if z0 > 0.0 {
        0.5 * (z0 * z0 + 1.0)
    } else {
        0.0
    };
    poly + (tail(z0) - tail(z1))
}

/// Ψ(z) = zΦ(z) + φ(z) for any z.
pub(super) fn psi(z: f64) -> f64 {
    if z <= 0.0 {
        psi_neg(z)
    } else {
        z + psi_neg(-z)
    }
}

/// P(Y ≤ x) for Y = Uniform[lo, hi] + σZ (σ ≥ 0; a point when lo = hi and σ = 0).
pub(super) fn uniform_normal_cdf(x: f64, lo: f64, hi: f64, sigma: f64) -> f64 {
    let len = hi - lo;
    if sigma > 0.0 {
        let dz = len / sigma;
        if dz < 1e-3 {
            // midpoint with its second-order correction: F = Φ(z̄) + dz²/24 Φ″(z̄)
            let zm = (x - 0.5 * (lo + hi)) / sigma;
            big_phi(zm) - dz * dz / 24.0 * zm * small_phi(zm)
        } else {
            psi_diff((x - lo) / sigma, (x - hi) / sigma) / dz
        }
    } else if len > 0.0 {
        ((x - lo) / len).clamp(0.0, 1.0)
    } else if x >= lo {
        1.0
    } else {
        0.0
    }
}

/// E[(Y − x)₊] for Y = Uniform[lo, hi] + σZ with σ > 0.
pub(super) fn expected_excess(x: f64, lo: f64, hi: f64, sigma: f64) -> f64 {
    let len = hi - lo;
    let dz = len / sigma;
    if dz < 1e-3 {
        // σΨ at the midpoint, plus the average of its second derivative φ/σ over the interval
        let z = (0.5 * (lo + hi) - x) / sigma;
        sigma * psi(z) + len * len / (24.0 * sigma) * small_phi(z)
    } else {
        sigma * sigma / len * psi2_diff((hi - x) / sigma, (lo - x) / sigma)
    }
}

/// Antiderivative of the tent max(0, 1 − |u|).
#[inline]
pub(super) fn tent_integral(u: f64) -> f64 {
    if u <= -1.0 {
        0.0
    } else if u <= 0.0 {
        0.5 * (u + 1.0) * (u + 1.0)
    } else if u < 1.0 {
        1.0 - 0.5 * (1.0 - u) * (1.0 - u)
    } else {
        1.0
    }
}
