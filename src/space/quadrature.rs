//! The exact-exponent drift integral −T ∫ G/D dW between neighbouring cell centres,
//! with the fewest evaluations of the coefficients that meet its accuracy.
//!
//! The assembly already evaluates G and D at every face and centre, a sampling at half
//! the cell width. Each half-cell piece ∫ f dW, f = G/D, between consecutive samples
//! s_k, s_{k+1} is first integrated from those samples alone: the cubic through
//! s_{k−1} … s_{k+2} (fourth order, no new evaluation). Its error is bounded by the
//! difference to the two quadratics through s_{k−1} … s_{k+1} and s_k … s_{k+2}
//! (third order). Where that difference exceeds the tolerance and G/D keeps one sign
//! with ln |G/D| changing by at most 0.5 across the piece, the same is done for the
//! cubic through ln |G/D|, exponentiated and integrated by 5-point Gauss–Legendre (still
//! no new evaluation; the interpolation is exact where G/D ∝ e^{cubic}, as where the
//! variance decays like a Gaussian). Where both fail, or where D is not
//! positive at a stencil point, the piece is integrated by adaptive Gauss–Legendre
//! (5 points per panel, panels halved until two levels agree), which evaluates the
//! coefficients anew, from the same closed form as the samples where the landscape has
//! one. The unverified interpolating estimate (the logarithmic cubic where G/D keeps
//! one sign, even where ln |G/D| changes by more than 0.5, else the cubic) serves as
//! the level below one panel: where the one-panel rule agrees with it, no second level
//! is evaluated; else the 3-point rule on the same nodes' centre (two evaluations more)
//! is, and only where it disagrees too are two panels. On `seed` most pieces away from the pit are of that kind (ln |G/D|
//! grows like 2k(W − 1)², several units per half cell, while |φ| there is far beyond
//! 50). Tolerance: an absolute 1e-12 in the exponent φ = T ∫ G/D per
//! piece, plus 1e-12 of the piece itself (the exponent enters the flux as e^φ, so an
//! absolute error is a relative error of the stationary ratio P_{i+1}/P_i; where |φ| is
//! large the flux is upwind to within e^{−|φ|} and the exponent's last digits do not
//! matter: beyond |φ| = 50 a piece is accepted at 1% agreement). A unit test checks
//! every built-in problem against 256-panel Gauss. See Davis &
//! Rabinowitz, *Methods of Numerical Integration*, 2nd ed., 1984, for the rules.

use crate::model::landscape::Form;
use crate::model::problem::Problem;

const X: [f64; 5] = [
    0.0,
    -0.538_469_310_105_683_1,
    0.538_469_310_105_683_1,
    -0.906_179_845_938_664,
    0.906_179_845_938_664,
];
const WT: [f64; 5] = [
    0.568_888_888_888_888_9,
    0.478_628_670_499_366_5,
    0.478_628_670_499_366_5,
    0.236_926_885_056_189_08,
    0.236_926_885_056_189_08,
];

/// G and D at the points of one rule as the assembly samples them
/// ([`crate::space::operator::FaceSet`]): from the closed form of a built-in landscape
/// where it gives the statistics ([`Form::stats`], two exponentials for `seed`), else
/// from the landscape's per-datapoint route ([`Problem::drift_diffusion`]), so the
/// samples and the quadrature integrate the same function. What does not depend on w
/// is looked up once: the closed form and the factor T² f / 2 of D (the same
/// arithmetic as [`Problem::coeffs_of`], so the values are those of the samples bit
/// for bit).
#[derive(Clone, Copy)]
struct Sampler<'a> {
    problem: &'a Problem,
    form: Option<Form>,
    k: f64,
}

impl<'a> Sampler<'a> {
    fn new(problem: &'a Problem, form: Option<Form>) -> Self {
        Sampler {
            problem,
            form,
            k: problem.lr * problem.lr * problem.variance_factor() / 2.0,
        }
    }

    fn at(&self, w: f64) -> (f64, f64) {
        #[cfg(test)]
        EVALUATIONS.with(|e| e.set(e.get() + 1));
        let p = self.problem;
        match self.form.and_then(|f| f.stats(w)) {
            Some(st) => (st.g, self.k * (p.noise_scale * st.s2 + p.noise_floor)),
            None => p.drift_diffusion(w),
        }
    }

    /// G/D at `w`; `None` where D is not positive or G/D is not finite.
    fn ratio(&self, w: f64) -> Option<f64> {
        let (g, d) = self.at(w);
        (d > 0.0 && d.is_finite() && g.is_finite()).then(|| g / d)
    }
}

#[cfg(test)]
thread_local! {
    /// Evaluations of the coefficients by the quadrature on this thread (tests).
    static EVALUATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// ∫ G/D over [x0, x1] by 5-point Gauss–Legendre on `panels` equal panels; `None`
/// where D is not positive at some point.
fn gauss(problem: &Problem, x0: f64, x1: f64, panels: usize) -> Option<f64> {
    gauss_with_centre(problem, x0, x1, panels).map(|(sum, _)| sum)
}

/// [`gauss`], with G/D at the centre node of the last panel (the whole interval's
/// centre for one panel), which the 3-point rule shares ([`gauss3`]).
fn gauss_with_centre(problem: &Problem, x0: f64, x1: f64, panels: usize) -> Option<(f64, f64)> {
    let at = Sampler::new(problem, problem.landscape.form());
    let hp = (x1 - x0) / panels as f64;
    let (mut sum, mut centre) = (0.0, 0.0);
    for k in 0..panels {
        let mid = x0 + (k as f64 + 0.5) * hp;
        for (x, wt) in X.iter().zip(WT) {
            let (g, d) = at.at(mid + 0.5 * hp * x);
            if d <= 0.0 || !d.is_finite() || !g.is_finite() {
                return None;
            }
            if *x == 0.0 {
                centre = g / d;
            }
            sum += wt * 0.5 * hp * g / d;
        }
    }
    Some((sum, centre))
}

/// ∫ G/D over [x0, x1] by the 3-point Gauss–Legendre rule (exact for degree 5), given
/// G/D at the centre `f_mid`, a node the 5-point rule shares: two evaluations. `None`
/// where D is not positive at a node.
fn gauss3(problem: &Problem, x0: f64, x1: f64, f_mid: f64) -> Option<f64> {
    const X3: f64 = 0.774_596_669_241_483_4;
    let at = Sampler::new(problem, problem.landscape.form());
    let (m, r) = (x0 + 0.5 * (x1 - x0), 0.5 * (x1 - x0));
    let outer = at.ratio(m - r * X3)? + at.ratio(m + r * X3)?;
    Some(r * (8.0 / 9.0 * f_mid + 5.0 / 9.0 * outer))
}

/// Relative tolerance of a piece (module documentation).
const RTOL: f64 = 1e-12;
/// Absolute tolerance of a piece, in units of the exponent T ∫ G/D.
const ATOL: f64 = 1e-12;
/// Beyond this |φ| a piece is accepted at 1% (the flux is upwind to e^{−50}).
const PHI_LARGE: f64 = 50.0;

/// Whether two estimates `a`, `b` of a piece ∫ G/D agree well enough.
fn agree(a: f64, b: f64, lr: f64) -> bool {
    let d = (a - b).abs() * lr.abs();
    let phi = b.abs() * lr.abs();
    d <= ATOL + RTOL * phi || (phi > PHI_LARGE && d <= 1e-2 * phi)
}

/// ∫ G/D over [x0, x1] by adaptive Gauss–Legendre: panels doubled (from 1, at most
/// 64) until two consecutive levels agree ([`agree`]).
///
/// `coarse` is an estimate of the piece that cost no evaluation (the interpolating
/// rules of [`from_samples`], which did not verify themselves): where the one-panel
/// rule (exact for degree 9) agrees with it, the one-panel value is taken, the same
/// test as between two levels with the cheaper estimate as the coarser level, so a
/// piece the interpolation nearly resolved costs 5 evaluations instead of 15. Else
/// the 3-point rule (exact for degree 5, sharing the centre node: 2 evaluations) is
/// the coarser level; only where it disagrees too are 2, 4, … panels evaluated.
fn adaptive_gauss(problem: &Problem, x0: f64, x1: f64, coarse: Option<f64>) -> Option<f64> {
    let (mut prev, f_mid) = gauss_with_centre(problem, x0, x1, 1)?;
    if coarse.is_some_and(|c| agree(c, prev, problem.lr)) {
        return Some(prev);
    }
    // the 3-point rule shares the centre node: two evaluations more
    if gauss3(problem, x0, x1, f_mid).is_some_and(|g3| agree(g3, prev, problem.lr)) {
        return Some(prev);
    }
    let mut panels = 2;
    loop {
        let next = gauss(problem, x0, x1, panels)?;
        if agree(prev, next, problem.lr) || panels >= 64 {
            return Some(next);
        }
        prev = next;
        panels *= 2;
    }
}

/// −T ∫_{x0}^{x1} G/D dW by adaptive Gauss–Legendre; `None` where D is not positive
/// at some quadrature point.
pub fn drift_integral(problem: &Problem, x0: f64, x1: f64) -> Option<f64> {
    adaptive_gauss(problem, x0, x1, None).map(|s| -problem.lr * s)
}

/// The values f_j / Π_{k≠j} (x_j − x_k) of the Lagrange form (at most four nodes):
/// the denominators, which do not depend on the point, divided out once per
/// interpolant instead of once per point.
fn scaled_values(xs: &[f64], fs: &[f64]) -> [f64; 4] {
    let mut c = [0.0; 4];
    for (j, (&xj, &fj)) in xs.iter().zip(fs).enumerate() {
        let mut den = 1.0;
        for (k, &xk) in xs.iter().enumerate() {
            if k != j {
                den *= xj - xk;
            }
        }
        c[j] = fj / den;
    }
    c
}

/// The polynomial through (xs, fs) at x, in Lagrange form, from the
/// [`scaled_values`] `c` of fs: Σ_j c_j Π_{k≠j} (x − x_k).
fn lagrange(xs: &[f64], c: &[f64; 4], x: f64) -> f64 {
    let mut s = 0.0;
    for (j, &cj) in c.iter().enumerate().take(xs.len()) {
        let mut l = cj;
        for (k, &xk) in xs.iter().enumerate() {
            if k != j {
                l *= x - xk;
            }
        }
        s += l;
    }
    s
}

/// Integral over [lo, hi] of the polynomial through (xs, fs) (degree ≤ 3), by 2-point
/// Gauss–Legendre (exact for cubics).
fn poly_integral(xs: &[f64], fs: &[f64], lo: f64, hi: f64) -> f64 {
    const G: f64 = 0.577_350_269_189_625_8;
    let (m, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let c = scaled_values(xs, fs);
    r * (lagrange(xs, &c, m - G * r) + lagrange(xs, &c, m + G * r))
}

/// Integral over [lo, hi] of e^{p(x)}, p the polynomial through (xs, ls), by 5-point
/// Gauss–Legendre: within 1e-15 relative of the exact value when p changes by at most
/// [`LOG_STEP`] across [lo, hi] and is nearly linear there (the rule's error is
/// 8e-10 c¹⁰ for e^{ct} on [−1, 1]).
fn exp_poly_integral(xs: &[f64], ls: &[f64], lo: f64, hi: f64) -> f64 {
    let (m, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let c = scaled_values(xs, ls);
    let mut s = 0.0;
    for (x, wt) in X.iter().zip(WT) {
        s += wt * lagrange(xs, &c, m + r * x).exp();
    }
    r * s
}

/// Largest change of ln |G/D| across a piece for the logarithmic rule.
const LOG_STEP: f64 = 0.5;

/// A piece from the four samples `fs` of f = G/D at `xs` around [lo, hi] = [xs[1],
/// xs[2]], with no new evaluation: the cubic through them (checked against the two
/// quadratics), else, where f keeps one sign and ln |f| changes little across the
/// piece, the cubic through ln |f| exponentiated (checked likewise): drift over
/// diffusion often varies like e^{c W²} where D decays (interpolated exactly).
///
/// `Ok` is a piece that passed its check; `Err` carries the best unverified estimate
/// (the logarithmic cubic where f keeps one sign, whatever the change of ln |f|, else
/// the cubic; `None` where neither is finite), the coarse level of the adaptive rule
/// that then integrates the piece.
fn from_samples(xs: &[f64], fs: &[f64; 4], lr: f64) -> Result<f64, Option<f64>> {
    let (lo, hi) = (xs[1], xs[2]);
    let cubic = poly_integral(xs, fs, lo, hi);
    let left = poly_integral(&xs[..3], &fs[..3], lo, hi);
    let right = poly_integral(&xs[1..], &fs[1..], lo, hi);
    if cubic.is_finite() && agree(left, cubic, lr) && agree(right, cubic, lr) {
        return Ok(cubic);
    }
    let fallback = cubic.is_finite().then_some(cubic);
    let sign = fs[0].signum();
    if fs.iter().any(|&v| v * sign <= 0.0 || v.is_nan()) {
        return Err(fallback);
    }
    let ls = fs.map(|v| v.abs().ln());
    let cubic = sign * exp_poly_integral(xs, &ls, lo, hi);
    if !cubic.is_finite() {
        return Err(fallback);
    }
    if (ls[2] - ls[1]).abs() > LOG_STEP {
        return Err(Some(cubic));
    }
    let left = sign * exp_poly_integral(&xs[..3], &ls[..3], lo, hi);
    let right = sign * exp_poly_integral(&xs[1..], &ls[1..], lo, hi);
    if agree(left, cubic, lr) && agree(right, cubic, lr) {
        Ok(cubic)
    } else {
        Err(Some(cubic))
    }
}

/// The pieces φ_k = −T ∫_{s_k}^{s_{k+1}} G/D dW between consecutive samples `s`
/// (faces and centres interleaved) with f = G/D known at each (`None` where D ≤ 0),
/// for k = 1 ..= s.len() − 3 (centre of the first cell to centre of the last); the
/// other two entries are unused. A piece is `None` where D is not positive somewhere
/// on it.
pub fn half_cell_pieces(problem: &Problem, s: &[f64], f: &[Option<f64>]) -> Vec<Option<f64>> {
    let m = s.len();
    let mut out = vec![None; m - 1];
    for k in 1..m.saturating_sub(2) {
        let stencil = [f[k - 1], f[k], f[k + 1], f[k + 2]];
        let piece = if let [Some(a), Some(b), Some(c), Some(d)] = stencil {
            match from_samples(&s[k - 1..k + 3], &[a, b, c, d], problem.lr) {
                Ok(v) => Some(v),
                Err(coarse) => adaptive_gauss(problem, s[k], s[k + 1], coarse),
            }
        } else if f[k].is_some() && f[k + 1].is_some() {
            adaptive_gauss(problem, s[k], s[k + 1], None)
        } else {
            None
        };
        out[k] = piece.map(|v| -problem.lr * v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::problem::BUILTINS;

    /// Every interior face's exponent on every built-in problem, against 256-panel
    /// Gauss–Legendre, on a uniform and a graded grid: within the stated tolerance
    /// (with a factor 10 for the sum of two pieces and the reference's own error).
    #[test]
    fn pieces_meet_their_tolerance_on_every_builtin() {
        for b in BUILTINS {
            let p = Problem::builtin(b.name).unwrap();
            let n = 200;
            let graded: Vec<f64> = (0..=n)
                .map(|i| {
                    let u = i as f64 / n as f64;
                    p.a + (p.b - p.a) * u * u * (3.0 - 2.0 * u)
                })
                .collect();
            let uniform: Vec<f64> = (0..=n)
                .map(|i| p.a + (p.b - p.a) * i as f64 / n as f64)
                .collect();
            for faces in [uniform, graded] {
                let s: Vec<f64> = (0..=2 * n)
                    .map(|k| {
                        if k % 2 == 0 {
                            faces[k / 2]
                        } else {
                            0.5 * (faces[k / 2] + faces[k / 2 + 1])
                        }
                    })
                    .collect();
                let f: Vec<Option<f64>> = s
                    .iter()
                    .map(|&w| {
                        let (g, d) = p.drift_diffusion(w);
                        (d > 0.0).then(|| g / d).filter(|v| v.is_finite())
                    })
                    .collect();
                let pieces = half_cell_pieces(&p, &s, &f);
                for k in 1..2 * n - 1 {
                    let (Some(got), Some(exact)) =
                        (pieces[k], gauss(&p, s[k], s[k + 1], 256).map(|v| -p.lr * v))
                    else {
                        continue;
                    };
                    if exact.abs() > PHI_LARGE {
                        continue;
                    }
                    let tol = 10.0 * (ATOL + RTOL * exact.abs());
                    assert!(
                        (got - exact).abs() <= tol,
                        "{} piece {k} at w = {}: {got} vs {exact}",
                        b.name,
                        s[k]
                    );
                }
            }
        }
    }

    /// The quadrature evaluates the very function the samples hold (the closed form on
    /// `seed`, bit for bit), and on `seed`'s auto grid of 500 cells the pieces that the
    /// interpolation does not verify cost fewer evaluations: the one-panel rule checked
    /// against the interpolating estimate settles most of those away from the pit
    /// (before: 12 295 evaluations, 15 or more for each of 745 pieces).
    #[test]
    fn seed_pieces_use_the_closed_form_and_few_evaluations() {
        let p = Problem::builtin("seed").unwrap();
        let form = p.landscape.form();
        for i in 0..=300 {
            let w = p.a + (p.b - p.a) * i as f64 / 300.0;
            let c = p.coeffs_of(form.unwrap().stats(w).unwrap());
            assert_eq!(Sampler::new(&p, form).at(w), (c.g, c.d), "w = {w}");
        }
        let grid = crate::space::auto::auto_grid(&p, 500).unwrap();
        let before = EVALUATIONS.with(|e| e.get());
        let faces = crate::space::operator::FaceSet::sample(&p, &grid, true).unwrap();
        let used = EVALUATIONS.with(|e| e.get()) - before;
        // 15 or more for each piece the interpolation leaves before; 5 or 7 for most now
        assert!(used < 7000, "{used} evaluations");
        assert!(faces.interior.iter().any(|f| f.drift_integral.is_some()));
    }

    /// With an agreeing coarse estimate the adaptive rule stops at one panel (5
    /// evaluations); with a disagreeing one (or none) the 3-point rule on the shared
    /// centre is the next check (7 evaluations in all), and where that disagrees too the
    /// panels are doubled as before.
    #[test]
    fn a_coarse_estimate_is_the_level_below_one_panel() {
        let p = Problem::builtin("seed").unwrap();
        let count = |x0: f64, x1: f64, coarse: Option<f64>| {
            let before = EVALUATIONS.with(|e| e.get());
            let v = adaptive_gauss(&p, x0, x1, coarse);
            (v, EVALUATIONS.with(|e| e.get()) - before)
        };
        let (x0, x1) = (2.3, 2.31);
        let one = gauss(&p, x0, x1, 1).unwrap();
        assert_eq!(count(x0, x1, Some(one * (1.0 + 1e-15))), (Some(one), 5));
        assert_eq!(count(x0, x1, Some(2.0 * one)), (Some(one), 7));
        assert_eq!(count(x0, x1, None), (Some(one), 7));
        // a wide piece across the barrier: the 3-point rule is not close enough
        let (x0, x1) = (1.1, 1.3);
        let (v, used) = count(x0, x1, None);
        assert!(used > 7, "{used}");
        let exact = gauss(&p, x0, x1, 256).unwrap();
        assert!(agree(v.unwrap(), exact, p.lr), "{v:?} vs {exact}");
    }
}
