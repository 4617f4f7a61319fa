//! End states in two dimensions: the stationary density P∞ of the finite-volume
//! operator (A P = 0 with mass one, by one sparse LU), its effective potential
//! −log P∞, the stationary current J∞ and its circulation, and a verdict: gradient
//! (detailed balance holds, P∞ ∝ e^{−Φ} with zero current — an energy exists) or not.
//!
//! The circulation is the mass rate of J∞ through the grid line from the density's
//! maximum to the right wall (parallel to w1): zero under detailed balance, and for a
//! rotating end state the rate at which mass goes round the maximum. Its value on a
//! finite grid carries a discretisation error, so the verdict compares two grids
//! (N and N/2 cells per axis): for a second-order scheme the error of the fine value
//! is about |Φ_N − Φ_{N/2}|/3 (Richardson), and the end state is called non-gradient
//! only when |Φ_N| exceeds three times that estimate, i.e. |Φ_N| > |Φ_N − Φ_{N/2}|.
//! A zero circulation then gives Φ_{N/2} ≈ 4Φ_N and the verdict "gradient".
//!
//! For the 2-D Ornstein–Uhlenbeck problems the answer is known in closed form: P∞ is
//! normal with covariance C solving T(KC + CK) = T²Σf, and
//! J∞(w) = (−T K + D C⁻¹) w P∞(w); its flux through the half-line w2 = 0, w1 > 0 is
//! Φ = A₂₁ / (2π √det C · (C⁻¹)₁₁) with A = −T K + D C⁻¹ (Risken 1989, §6.5;
//! Gardiner 2009, §4.5.6), zero exactly when D C⁻¹ = T K (Σ = I here).

use serde::Serialize;

use crate::error::Result;
use crate::model::two::{Mat2, Problem2};
use crate::space::two::{CrossScheme, Grid2, Operator2, PositivityRecord};
use crate::time::two::SparseLu;

/// The stationary state on one grid.
#[derive(Clone, Debug)]
pub struct Stationary2 {
    /// The grid.
    pub grid: Grid2,
    /// P∞ at the cells (mass one).
    pub p: Vec<f64>,
    /// J∞₁ at the interior x-faces (see [`Operator2::face_currents`]).
    pub jx: Vec<f64>,
    /// J∞₂ at the interior y-faces.
    pub jy: Vec<f64>,
    /// Circulation: the mass rate through the line from the maximum to the right wall.
    pub circulation: f64,
    /// The line: (w2 of the line, w1 where it starts).
    pub line: [f64; 2],
    /// Smallest value of P∞.
    pub min_p: f64,
    /// Cells where P∞ < 0.
    pub negative_cells: usize,
    /// Positivity record of the operator.
    pub record: PositivityRecord,
}

/// Stationary density and current of `problem` on an n×n grid with `scheme`.
pub fn stationary(problem: &Problem2, n: usize, scheme: CrossScheme) -> Result<Stationary2> {
    let grid = Grid2::for_problem(problem, n)?;
    let op = Operator2::assemble(problem, grid, scheme)?;
    let len = grid.len();
    // A is singular (its columns sum to zero); replacing the row of a central cell by
    // P_r0 = 1 keeps the matrix sparse (a dense mass row would fill the LU) and gives
    // the null vector up to its scale, normalised to mass one afterwards
    let r0 = grid.idx(grid.nx / 2, grid.ny / 2);
    let mut t: Vec<_> = op
        .triplets(0.0, 1.0)
        .into_iter()
        .filter(|e| e.0 != r0)
        .collect();
    t.push((r0, r0, 1.0));
    let lu = SparseLu::factor(len, &t)?;
    let mut p = vec![0.0; len];
    p[r0] = 1.0;
    lu.solve_in_place(&mut p);
    let mass = grid.mass(&p);
    if !(mass.is_finite() && mass > 0.0) {
        return Err(crate::error::Error::SolverFailed {
            t: f64::INFINITY,
            reason: format!("stationary state: the null vector has mass {mass}"),
        });
    }
    p.iter_mut().for_each(|v| *v /= mass);
    let (jx, jy) = op.face_currents(&p);
    let (imax, _) =
        p.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |b, (k, &v)| if v > b.1 { (k, v) } else { b },
        );
    let (im, jm) = (imax % grid.nx, imax / grid.nx);
    // the mode to sub-cell accuracy: the vertex of the quadratic through the 3×3 cells
    // around the maximum (central differences, cross term included), in cell units
    let (sx, sy) = mode_offset(&grid, &p, im, jm);
    // the line y_{j0+½} and the start face x_{i0} nearest to the mode
    let j0 = if sy >= 0.0 { jm } else { jm.saturating_sub(1) }.min(grid.ny - 2);
    let i0 = if sx >= 0.0 { im + 1 } else { im }.min(grid.nx - 1);
    let circulation = op.line_flux_y(&p, j0, i0);
    let min_p = p.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(Stationary2 {
        grid,
        negative_cells: p.iter().filter(|&&v| v < 0.0).count(),
        jx,
        jy,
        circulation,
        line: [
            grid.y[0] + (j0 + 1) as f64 * grid.hy(),
            grid.x[0] + i0 as f64 * grid.hx(),
        ],
        min_p,
        record: op.record,
        p,
    })
}

/// Offset (in cells, each within ±1) of the vertex of the quadratic fitted to the
/// 3×3 values around cell (i, j); (0, 0) at the edge or when the fit has no maximum.
fn mode_offset(grid: &Grid2, p: &[f64], i: usize, j: usize) -> (f64, f64) {
    if i == 0 || j == 0 || i + 1 >= grid.nx || j + 1 >= grid.ny {
        return (0.0, 0.0);
    }
    let at =
        |di: isize, dj: isize| p[grid.idx((i as isize + di) as usize, (j as isize + dj) as usize)];
    let (gx, gy) = (0.5 * (at(1, 0) - at(-1, 0)), 0.5 * (at(0, 1) - at(0, -1)));
    let hxx = at(1, 0) - 2.0 * at(0, 0) + at(-1, 0);
    let hyy = at(0, 1) - 2.0 * at(0, 0) + at(0, -1);
    let hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1));
    let det = hxx * hyy - hxy * hxy;
    if !(hxx < 0.0 && det > 0.0) {
        return (0.0, 0.0);
    }
    // vertex: H s = −g
    let sx = (-gx * hyy + gy * hxy) / det;
    let sy = (-gy * hxx + gx * hxy) / det;
    (sx.clamp(-1.0, 1.0), sy.clamp(-1.0, 1.0))
}

/// Moments of the stationary density.
pub fn stationary_moments(s: &Stationary2) -> ([f64; 2], Mat2) {
    s.grid.moments(&s.p)
}

/// The verdict on detailed balance from two grids.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Verdict2 {
    /// Cells per axis of the fine grid.
    pub cells: usize,
    /// Circulation on the fine grid.
    pub circulation: f64,
    /// Circulation on the half-resolution grid.
    pub circulation_coarse: f64,
    /// Error estimate of the fine value, |Φ_N − Φ_{N/2}|/3.
    pub error_estimate: f64,
    /// Closed-form circulation where known (OU problems).
    pub exact: Option<f64>,
    /// True when |Φ_N| ≤ 3 × the error estimate: no current distinguishable from
    /// discretisation error (detailed balance; an energy −log P∞ describes the end state).
    pub gradient: bool,
}

/// Circulation on n and n/2 cells per axis and the verdict.
pub fn circulation_verdict(problem: &Problem2, n: usize, scheme: CrossScheme) -> Result<Verdict2> {
    let fine = stationary(problem, n, scheme)?;
    let coarse = stationary(problem, (n / 2).max(2), scheme)?;
    let err = (fine.circulation - coarse.circulation).abs() / 3.0;
    // a rounding floor: the LU solution's relative accuracy times the current's scale
    let scale: f64 =
        fine.jy.iter().map(|v| v.abs()).fold(0.0, f64::max) * (problem.x[1] - problem.x[0]);
    let floor = 1e-10 * scale;
    Ok(Verdict2 {
        cells: n,
        circulation: fine.circulation,
        circulation_coarse: coarse.circulation,
        error_estimate: err,
        exact: ou_exact_circulation(problem),
        gradient: fine.circulation.abs() <= 3.0 * err + floor,
    })
}

/// The closed-form circulation of the 2-D OU problems through w2 = 0, w1 > 0
/// (see the module documentation); None for other problems.
pub fn ou_exact_circulation(problem: &Problem2) -> Option<f64> {
    let c = problem.exact_stationary_cov()?;
    let d = problem.diffusion(0.0, 0.0);
    let crate::model::two::Exact2::Ou { k, .. } = problem.exact?;
    let det = c[0][0] * c[1][1] - c[0][1] * c[1][0];
    let ci = [
        [c[1][1] / det, -c[0][1] / det],
        [-c[1][0] / det, c[0][0] / det],
    ];
    let a21 = -problem.lr * k[1][0] + d[1][0] * ci[0][0] + d[1][1] * ci[1][0];
    Some(a21 / (2.0 * std::f64::consts::PI * det.sqrt() * ci[0][0]))
}
