//! Rational approximations of e^x on the negative real axis in partial fractions,
//!
//!   r(x) = c0 + Σ_{k=1}^{n} c_k / (x − z_k) = c0 + 2 Re Σ_{k=1}^{n/2} c_k / (x − z_k),
//!
//! the poles z_k coming in conjugate pairs (only those with Im z_k > 0 are stored), so
//! r(τA)v = c0 v + 2 Re Σ_k c_k (τA − z_k I)⁻¹ v costs n/2 complex shifted solves for a
//! real matrix A and vector v.
//!
//! Two families:
//! * `cf`: the best (Chebyshev, minimax) approximation of type (n, n) on (−∞, 0],
//!   which the Carathéodory–Fejér method computes to near machine precision
//!   (Trefethen, Weideman & Schmelzer, BIT 46 (2006) 653–670). Its error
//!   equioscillates with amplitude ≈ 9.28903^(−n) (Gonchar & Rakhmanov, the "1/9"
//!   constant); n = 14 and n = 16 from the published partial fractions of Pusa's
//!   Chebyshev rational approximation method (CRAM): M. Pusa, "Correction to partial
//!   fraction decomposition coefficients for Chebyshev rational approximation on the
//!   negative real axis", arXiv:1206.2880 (2012), Tables I and II. There c0 = r(−∞)
//!   is the equioscillation amplitude itself (1.83e-14 and 2.12e-16).
//! * `talbot`: the trapezoidal rule with N points on Talbot's cotangent contour for
//!   e^x = (1/2πi) ∫_Γ e^s / (s − x) ds (Trefethen, Weideman & Schmelzer 2006, §3:
//!   z(θ) = N [0.5017 θ cot(0.6407 θ) − 0.6122 + 0.2645 i θ], θ ∈ (−π, π)), a rational
//!   function of type (N − 1, N) with error ≈ 3.89^(−N) on (−∞, 0]: any even N, at
//!   about 1.6 times the cost of `cf` for the same accuracy.

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which rational approximation of e^x on (−∞, 0].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approximation {
    /// Best (Carathéodory–Fejér / CRAM) approximation of type (n, n): n = 14 or 16.
    Cf,
    /// Trapezoidal rule on Talbot's cotangent contour with N points: any even N ≥ 2.
    Talbot,
}

impl Approximation {
    /// The card's name of this family.
    pub fn name(self) -> &'static str {
        match self {
            Approximation::Cf => "cf",
            Approximation::Talbot => "talbot",
        }
    }
}

/// CRAM of degree 14 (Pusa 2012, Table I): (Re θ, Im θ, Re α, Im α), and α0; the
/// published 20-digit values rounded to the nearest double.
const CRAM14: [[f64; 4]; 7] = [
    [
        -8.89777318646889,
        16.630982619902085,
        -7.154288063589067e-05,
        0.000143610433495413,
    ],
    [
        -3.703275049423448,
        13.656371871483268,
        0.00943902531073617,
        -0.017184791958483017,
    ],
    [
        -0.20875863825013014,
        10.99126056190126,
        -0.3763600387822697,
        0.335183470294501,
    ],
    [
        3.9933697105785684,
        6.004831642235037,
        -23.498232091082702,
        -5.808359129714208,
    ],
    [
        5.089345060580625,
        3.5888240290270064,
        46.933274488831294,
        45.643649768827764,
    ],
    [
        5.623142572745977,
        1.194069046343967,
        -27.875161940145645,
        -102.14733999056452,
    ],
    [
        2.2697838292311125,
        8.461737973040222,
        4.8071120988325085,
        -1.3209793837428725,
    ],
];
const CRAM14_ALPHA0: f64 = 1.8321743782540412e-14;

/// CRAM of degree 16 (Pusa 2012, Table II): (Re θ, Im θ, Re α, Im α), and α0; the
/// published 20-digit values rounded to the nearest double.
const CRAM16: [[f64; 4]; 8] = [
    [
        -10.843917078696988,
        19.27744616718165,
        -5.090152186522492e-07,
        -2.422001765285229e-05,
    ],
    [
        -5.264971343442647,
        16.22022147316793,
        0.0002115174218246603,
        0.004389296964738067,
    ],
    [
        5.948152268951177,
        3.587457362018322,
        113.3977517848393,
        101.94721704215857,
    ],
    [
        3.509103608414918,
        8.436198985884374,
        15.059585270023467,
        -5.751405277642182,
    ],
    [
        6.416177699099435,
        1.1941223933701386,
        -64.50087802553965,
        -224.59440762652096,
    ],
    [
        1.419375897185666,
        10.925363484496723,
        -1.4793007113557999,
        1.7686588323782937,
    ],
    [
        4.993174737717997,
        5.996881713603942,
        -62.51839246320792,
        -11.190391094283228,
    ],
    [
        -1.4139284624888862,
        13.497725698892745,
        0.04102313683541002,
        -0.15743466173455467,
    ],
];
const CRAM16_ALPHA0: f64 = 2.1248537104952236e-16;

/// Talbot's cotangent contour (Trefethen, Weideman & Schmelzer 2006): z(θ)/N =
/// σ + μ θ cot(α θ) + i ν θ with these (σ, μ, α, ν).
const TALBOT: (f64, f64, f64, f64) = (-0.6122, 0.5017, 0.6407, 0.2645);

/// Largest Talbot degree accepted (e^{z_k} overflows near N ≈ 4000; beyond 64 the
/// error is long below rounding).
pub const MAX_TALBOT_DEGREE: usize = 64;

/// A rational function r(x) = c0 + 2 Re Σ_k c_k / (x − z_k) with real coefficients
/// (poles and residues in conjugate pairs; the members with Im z_k > 0 are stored).
#[derive(Clone, Debug, PartialEq)]
pub struct Rational {
    /// The family.
    pub approximation: Approximation,
    /// The degree n (number of poles, counting both members of each pair).
    pub degree: usize,
    /// The constant c0 = r(±∞).
    pub c0: f64,
    /// Poles z_k with Im z_k > 0.
    pub poles: Vec<Complex64>,
    /// Residues c_k at those poles.
    pub residues: Vec<Complex64>,
}

impl Rational {
    /// The approximation of family `approximation` and degree `degree`: `cf` has
    /// degrees 14 and 16, `talbot` every even degree from 2 to [`MAX_TALBOT_DEGREE`].
    pub fn new(approximation: Approximation, degree: usize) -> Result<Rational> {
        match approximation {
            Approximation::Cf => match degree {
                14 => Ok(Rational::from_table(&CRAM14, CRAM14_ALPHA0)),
                16 => Ok(Rational::from_table(&CRAM16, CRAM16_ALPHA0)),
                _ => Err(Error::invalid(
                    "degree",
                    degree,
                    "the cf approximation is tabulated for degree 14 or 16",
                )),
            },
            Approximation::Talbot => {
                if degree < 2 || !degree.is_multiple_of(2) || degree > MAX_TALBOT_DEGREE {
                    return Err(Error::invalid(
                        "degree",
                        degree,
                        format!(
                            "the talbot approximation needs an even degree from 2 to {MAX_TALBOT_DEGREE}"
                        ),
                    ));
                }
                Ok(Rational::talbot(degree))
            }
        }
    }

    fn from_table(rows: &[[f64; 4]], alpha0: f64) -> Rational {
        Rational {
            approximation: Approximation::Cf,
            degree: 2 * rows.len(),
            c0: alpha0,
            poles: rows.iter().map(|r| Complex64::new(r[0], r[1])).collect(),
            residues: rows.iter().map(|r| Complex64::new(r[2], r[3])).collect(),
        }
    }

    /// The N-point trapezoidal rule on Talbot's contour, θ_k = −π + (2k − 1)π/N: with
    /// step 2π/N, e^x ≈ Σ_k (i/N) e^{z_k} z'(θ_k) / (x − z_k), hence poles z_k and
    /// residues c_k = (i/N) e^{z_k} z'(θ_k); the θ_k > 0 half (N even: none at θ = 0).
    fn talbot(n: usize) -> Rational {
        let (sigma, mu, alpha, nu) = TALBOT;
        let nf = n as f64;
        let mut poles = Vec::with_capacity(n / 2);
        let mut residues = Vec::with_capacity(n / 2);
        for k in n / 2 + 1..=n {
            let th = -std::f64::consts::PI + (2 * k - 1) as f64 * std::f64::consts::PI / nf;
            let (s, c) = (alpha * th).sin_cos();
            let z = nf * Complex64::new(sigma + mu * th * c / s, nu * th);
            let dz = nf * Complex64::new(mu * c / s - mu * alpha * th / (s * s), nu);
            poles.push(z);
            residues.push(Complex64::new(0.0, 1.0 / nf) * z.exp() * dz);
        }
        Rational {
            approximation: Approximation::Talbot,
            degree: n,
            c0: 0.0,
            poles,
            residues,
        }
    }

    /// r(x) for real x.
    pub fn eval(&self, x: f64) -> f64 {
        let sum: f64 = self
            .poles
            .iter()
            .zip(&self.residues)
            .map(|(z, c)| (c / (x - z)).re)
            .sum();
        self.c0 + 2.0 * sum
    }

    /// Shifted solves per evaluation of r(τA)v: n/2.
    pub fn solves(&self) -> usize {
        self.poles.len()
    }

    /// Largest |r(x) − e^x| over `samples` points logarithmically spaced in
    /// [−x_max, −1e-8], plus x = 0 and the points −1e-8…−1 linearly: the measured
    /// uniform error on [−x_max, 0].
    pub fn max_error(&self, x_max: f64, samples: usize) -> f64 {
        let mut worst = (self.eval(0.0) - 1.0).abs();
        let samples = samples.max(2);
        let (lo, hi) = (1e-8f64.ln(), x_max.max(1e-8).ln());
        for i in 0..samples {
            let u = i as f64 / (samples - 1) as f64;
            let x = -(lo + u * (hi - lo)).exp();
            worst = worst.max((self.eval(x) - x.exp()).abs());
            let x = -u;
            worst = worst.max((self.eval(x) - x.exp()).abs());
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjugate_pairs_and_counts() {
        for (a, n) in [
            (Approximation::Cf, 14),
            (Approximation::Cf, 16),
            (Approximation::Talbot, 24),
        ] {
            let r = Rational::new(a, n).unwrap();
            assert_eq!(r.solves(), n / 2);
            assert!(r.poles.iter().all(|z| z.im > 0.0));
        }
        assert!(Rational::new(Approximation::Cf, 12).is_err());
        assert!(Rational::new(Approximation::Talbot, 7).is_err());
        assert!(Rational::new(Approximation::Talbot, 0).is_err());
    }
}
