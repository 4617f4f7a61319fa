//! Chang–Cooper flux (Chang & Cooper, J. Comput. Phys. 6 (1970) 1–16).
//!
//! The Itô current is written with the drift acting on P,
//!
//!   J = v P − D ∂P/∂W,   v = −T G − D′,
//!
//! and at each face the density in the drift term is a weighted mean of the two nodes,
//!
//!   J_{i+½} = v P_{i+½} − D (P_{i+1} − P_i)/h,   P_{i+½} = (1 − δ) P_{i+1} + δ P_i,
//!   δ = 1/w − 1/(eʷ − 1),   w = −h v / D   (v, D at the face).
//!
//! Chang and Cooper write the equation as ∂f/∂t = ∂/∂x [B f + C ∂f/∂x] and take
//! w = h B / C; here B = −v, hence the minus sign in w. (With w = +h v / D the weight
//! would lean downwind: δ → 0 puts P_{i+½} on P_{i+1} for v > 0, and the
//! coefficient of P_{i+1} turns negative at large |w|.) δ lies in (0, 1), δ(0) = ½
//! (central), and δ → 1 or 0 (upwind) as the drift dominates.
//!
//! The weight is chosen so that J_{i+½} = 0 holds exactly for P_{i+1}/P_i = e^{−w},
//! the exponential equilibrium of a face with constant v and D. Expanding δ, the
//! coefficients of J = α P_i − β P_{i+1} are
//!
//!   α = (D/h)(1 − w δ) = (D/h) B(w),   β = (D/h)(1 + w(1 − δ)) = (D/h) B(−w),
//!
//! with B(x) = x/(eˣ − 1) the Bernoulli function; they are evaluated in this form
//! because 1 − w δ and 1 + w (1 − δ) cancel catastrophically at large |w| (β would
//! lose its sign, and with it the M-matrix). Both are positive, so the operator is an
//! M-matrix; the columns of A sum to zero, so mass is conserved.
//!
//! The Chang–Cooper weighting is therefore algebraically the Il'in / Scharfetter–Gummel
//! fitting on P with the face-midpoint exponent (`scharfetter-gummel-midpoint`): the two
//! registry entries give the same operator up to rounding (a test checks it). Its
//! discrete equilibrium has log-ratios −w = h v/D at the faces, the midpoint rule for
//! ln P_s(W_{i+1}) − ln P_s(W_i) = ∫ (−T G − D′)/D dW: exact where the integrand is
//! linear between the nodes (OU: constant D and linear G, where the null vector is the
//! Gaussian to rounding), second order in h where D varies.
//!
//! Where D = 0 at the face the weight is undefined (w infinite): the face falls back
//! to first-order upwind on v, J = v⁺ P_i − v⁻ P_{i+1}, the limit of the formula.

use super::{bernoulli, FaceData, Flux, FluxInfo};

/// Chang–Cooper weight δ(w) = 1/w − 1/(eʷ − 1) of the node P_i in the face density
/// P_{i+½} = (1 − δ) P_{i+1} + δ P_i, with w = −h v / D.
///
/// δ(0) = ½, δ decreases from 1 (w → −∞) to 0 (w → +∞); near 0 the series
/// ½ − w/12 + w³/720 avoids the cancellation of the two terms.
pub fn chang_cooper_delta(w: f64) -> f64 {
    if w.abs() < 1e-3 {
        // the next term of the series, −w⁵/30240, is below rounding here
        0.5 - w / 12.0 + w * w * w / 720.0
    } else {
        1.0 / w - 1.0 / w.exp_m1()
    }
}

/// Chang–Cooper flux (order 2, M-matrix, upwind where D = 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct ChangCooper;

impl Flux for ChangCooper {
    fn name(&self) -> &str {
        INFO.name
    }

    fn coefficients(&self, f: &FaceData) -> (f64, f64) {
        let v = f.v - f.d_prime;
        let w = -f.h * v / f.d_face;
        if f.d_face <= 0.0 || !w.is_finite() {
            // no diffusion at the face: pure transport, upwinded
            return (v.max(0.0), (-v).max(0.0));
        }
        let c = f.d_face / f.h;
        // (D/h)(1 − w δ) and (D/h)(1 + w(1 − δ)), in the cancellation-free form
        (c * bernoulli(w), c * bernoulli(-w))
    }
}

/// Registry row of [`ChangCooper`].
pub const INFO: FluxInfo = FluxInfo {
    name: "chang-cooper",
    summary: "Chang–Cooper: drift −T·G − D′ on the weighted face density (1 − δ) P_R + δ P_L, δ = 1/w − 1/(eʷ − 1), w = (T·G + D′) h / D (order 2, M-matrix, upwind where D = 0; the same operator as scharfetter-gummel-midpoint)",
    order: 2,
    m_matrix: true,
    build: || Box::new(ChangCooper),
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The literal Chang–Cooper flux J = v P_face − D (P_R − P_L)/h, as (α, β).
    fn literal(f: &FaceData) -> (f64, f64) {
        let v = f.v - f.d_prime;
        let w = -f.h * v / f.d_face;
        let delta = chang_cooper_delta(w);
        let c = f.d_face / f.h;
        (v * delta + c, c - v * (1.0 - delta))
    }

    fn face(v: f64, d: f64) -> FaceData {
        FaceData {
            h: 0.01,
            v,
            d_prime: 0.0,
            d_left: d,
            d_right: d,
            d_face: d,
            drift_integral: None,
        }
    }

    #[test]
    fn delta_is_a_weight_with_the_right_limits() {
        assert!((chang_cooper_delta(0.0) - 0.5).abs() < 1e-16);
        let mut prev = 1.0;
        for k in -400..=400 {
            let w = k as f64 * 0.05;
            let d = chang_cooper_delta(w);
            assert!(d > 0.0 && d < 1.0 && d <= prev, "δ({w}) = {d}");
            prev = d;
        }
        // both sides of the series switch agree
        for w in [9.99e-4, 1.001e-3, -9.99e-4, -1.001e-3] {
            let direct = 1.0 / w - 1.0 / f64::exp_m1(w);
            assert!((chang_cooper_delta(w) - direct).abs() < 1e-12, "{w}");
        }
        assert!(chang_cooper_delta(50.0) < 0.021 && chang_cooper_delta(-50.0) > 0.979);
    }

    #[test]
    fn coefficients_are_the_literal_flux_where_it_does_not_cancel() {
        for v in [-3.0, -0.1, -1e-4, 0.0, 1e-4, 0.1, 3.0] {
            let f = face(v, 2e-4);
            let (a, b) = ChangCooper.coefficients(&f);
            let (la, lb) = literal(&f);
            let scale = a.max(b);
            assert!((a - la).abs() < 1e-12 * scale, "α at v = {v}: {a} {la}");
            assert!((b - lb).abs() < 1e-12 * scale, "β at v = {v}: {b} {lb}");
            assert!(a > 0.0 && b > 0.0);
        }
    }

    #[test]
    fn large_peclet_stays_positive_and_upwind_where_d_vanishes() {
        for v in [-1e3, 1e3] {
            let (a, b) = ChangCooper.coefficients(&face(v, 1e-9));
            assert!(a >= 0.0 && b >= 0.0 && a.is_finite() && b.is_finite());
            // tends to upwind with the true velocity
            assert!((a - b - v).abs() < 1e-9 * v.abs());
        }
        assert_eq!(ChangCooper.coefficients(&face(2.0, 0.0)), (2.0, 0.0));
        assert_eq!(ChangCooper.coefficients(&face(-2.0, 0.0)), (0.0, 2.0));
    }

    #[test]
    fn zero_flux_at_the_exponential_equilibrium() {
        let f = face(0.7, 3e-3);
        let (a, b) = ChangCooper.coefficients(&f);
        let w = -f.h * f.v / f.d_face;
        // P_R / P_L = e^{−w}
        let j = a * 1.0 - b * (-w).exp();
        assert!(j.abs() < 1e-14 * a, "{j}");
    }
}
