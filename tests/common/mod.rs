//! Stationary-state helpers shared by the tests: the analytic density by quadrature,
//! OU's Gaussian, null vectors, error measures and the seed landscape with a noise
//! floor.
#![allow(dead_code)]

use probcurrent::space::flux;
use probcurrent::{Grid, Operator, Problem};

/// Analytic stationary density at the centres of `grid`, normalised to h Σ P = 1,
/// from ln P = −ln D − T ∫ G/D dW. The integral by composite Simpson between
/// consecutive centres with sub-panels of width ≤ 3e-5: on the seed landscape
/// |(G/D)⁗| ≲ 1e6·(2/T²), so Simpson's error (δ⁴/180)·|f⁗|·(b − a) times T is
/// ≲ 1e-12 in ln P — well below what is measured.
pub fn analytic(problem: &Problem, grid: &Grid) -> Vec<f64> {
    analytic_with(problem, grid, 3e-5)
}

/// [`analytic`] with Simpson sub-panels of width ≤ `delta`.
pub fn analytic_with(problem: &Problem, grid: &Grid, delta: f64) -> Vec<f64> {
    let f = |w: f64| {
        let c = problem.coeffs(w);
        assert!(c.d > 0.0, "D({w}) = {} is not positive", c.d);
        c.g / c.d
    };
    let xs = grid.centres();
    let mut lnp = Vec::with_capacity(xs.len());
    let mut integral = 0.0;
    for i in 0..xs.len() {
        if i > 0 {
            let (a, b) = (xs[i - 1], xs[i]);
            let m = (((b - a) / delta).ceil() as usize)
                .max(2)
                .next_multiple_of(2);
            let d = (b - a) / m as f64;
            let mut s = f(a) + f(b);
            for k in 1..m {
                s += f(a + k as f64 * d) * if k % 2 == 1 { 4.0 } else { 2.0 };
            }
            integral += s * d / 3.0;
        }
        lnp.push(-problem.coeffs(xs[i]).d.ln() - problem.lr * integral);
    }
    normalise_log(&lnp, grid.width(0))
}

pub fn normalise_log(lnp: &[f64], h: f64) -> Vec<f64> {
    let top = lnp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let p: Vec<f64> = lnp.iter().map(|l| (l - top).exp()).collect();
    let mass = p.iter().sum::<f64>() * h;
    p.iter().map(|v| v / mass).collect()
}

pub fn null_vector(problem: &Problem, n: usize, flux_name: &str) -> (Grid, Vec<f64>) {
    let grid = Grid::new(problem.a, problem.b, n).unwrap();
    let op = Operator::assemble(
        problem,
        grid.clone(),
        flux::by_name(flux_name).unwrap().as_ref(),
    )
    .unwrap();
    let p = op
        .null_vector()
        .unwrap_or_else(|| panic!("{flux_name}: no null vector on {n} cells"));
    (grid, p)
}

/// (max_i |p_i − q_i| / max q, max_i |p_i/q_i − 1|): error relative to the peak, and
/// pointwise relative error (which also sees the tails, down to 1e-40 and below).
pub fn errors(p: &[f64], q: &[f64]) -> (f64, f64) {
    let top = q.iter().cloned().fold(0.0f64, f64::max);
    let peak = p
        .iter()
        .zip(q)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max)
        / top;
    let pointwise = p
        .iter()
        .zip(q)
        .map(|(a, b)| (a / b - 1.0).abs())
        .fold(0.0f64, f64::max);
    (peak, pointwise)
}

/// The seed landscape with a noise floor ε = 1 added to S²: D = T²(S² + 1)/2 > 0
/// everywhere, varying by a factor of ~20 across the pit.
pub fn seed_with_floor() -> Problem {
    let mut p = Problem::builtin("seed").unwrap();
    p.noise_floor = 1.0;
    p
}

/// OU's stationary density: the Gaussian with mean m and variance D/(T c).
pub fn ou_gaussian(ou: &Problem, grid: &Grid) -> Vec<f64> {
    let d = ou.coeffs(0.0).d;
    let var = d / ou.lr; // c = 1, m = 0
    let lnp: Vec<f64> = grid
        .centres()
        .iter()
        .map(|x| -x * x / (2.0 * var))
        .collect();
    normalise_log(&lnp, grid.width(0))
}
