//! The assembled operator A of dP/dt = A P: tridiagonal, from face fluxes.
//!
//! Finite volumes on a grid of cell widths h_i: dP_i/dt = (J_{i−½} − J_{i+½}) / h_i
//! with the two-point fluxes J_{i+½} = α_i P_i − β_i P_{i+1} of a [`Flux`], which sees
//! the distance between the two centres it couples (on a non-uniform grid not a cell
//! width). Each face's coefficients enter two rows with opposite signs, so every
//! column of A sums to zero once weighted by h_i (to rounding): Σ h_i P_i is conserved
//! at zero-flux walls. At an absorbing wall the outer node is the wall, where P = 0,
//! half a cell from the first centre.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Coeffs, Problem};
use crate::space::flux::{FaceData, Flux};
use crate::space::grid::Grid;

/// A tridiagonal matrix stored by diagonals (row i: lower[i] x_{i−1} + diag[i] x_i + upper[i] x_{i+1}).
#[derive(Clone, Debug, PartialEq)]
pub struct Tridiag {
    /// Sub-diagonal; `lower[0]` is unused (zero).
    pub lower: Vec<f64>,
    /// Diagonal.
    pub diag: Vec<f64>,
    /// Super-diagonal; `upper[n-1]` is unused (zero).
    pub upper: Vec<f64>,
}

impl Tridiag {
    /// The zero matrix of size n.
    pub fn zeros(n: usize) -> Self {
        Tridiag {
            lower: vec![0.0; n],
            diag: vec![0.0; n],
            upper: vec![0.0; n],
        }
    }

    /// Size n.
    pub fn n(&self) -> usize {
        self.diag.len()
    }

    /// y = A x.
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        let n = self.n();
        if n == 1 {
            y[0] = self.diag[0] * x[0];
            return;
        }
        y[0] = self.diag[0] * x[0] + self.upper[0] * x[1];
        for i in 1..n - 1 {
            y[i] = self.lower[i] * x[i - 1] + self.diag[i] * x[i] + self.upper[i] * x[i + 1];
        }
        y[n - 1] = self.lower[n - 1] * x[n - 2] + self.diag[n - 1] * x[n - 1];
    }
}

/// A-priori diagnostics of an assembled operator.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostics {
    /// Largest finite cell Péclet number |v| h / D over interior faces with D > 0.
    pub max_peclet: f64,
    /// Where the largest Péclet number occurs.
    pub max_peclet_w: f64,
    /// Interior faces with non-zero drift where D = 0, or where D is so small (a
    /// subnormal float) that |v| h / D overflows: pure transport, Péclet number infinite.
    pub zero_diffusion_faces: usize,
    /// Whether every off-diagonal entry is non-negative.
    pub m_matrix: bool,
    /// Number of rows with a negative off-diagonal entry.
    pub negative_offdiagonals: usize,
    /// First few positions (cell centres) with a negative off-diagonal.
    pub negative_offdiagonal_w: Vec<f64>,
    /// Explicit (forward Euler) step limit 1 / max|A_ii|.
    pub explicit_limit: f64,
    /// Bound on the stiffness ratio: max|A_ii| divided by the smallest non-zero
    /// relaxation rate estimate (see [`Operator::stiffness_ratio`]); `None` if not computed
    /// (runs leave it to `probcurrent inspect`).
    pub stiffness_ratio: Option<f64>,
}

/// The operator A of one problem on one grid with one flux.
#[derive(Clone, Debug)]
pub struct Operator {
    /// The grid.
    pub grid: Grid,
    /// The matrix.
    pub a: Tridiag,
    /// Name of the flux that built it.
    pub flux: String,
    /// Boundary condition.
    pub boundary: Boundary,
    /// Coefficients at cell centres.
    pub centre_coeffs: Vec<Coeffs>,
    peclet: (f64, f64),
    zero_diffusion_faces: usize,
}

fn check_coeffs(c: &Coeffs, w: f64) -> Result<()> {
    for (what, v) in [("G", c.g), ("S²", c.s2), ("D", c.d), ("D′", c.d_prime)] {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what: what.into(),
                w,
                value: v,
                origin: String::new(),
            });
        }
    }
    if c.d < 0.0 {
        return Err(Error::NegativeVariance {
            what: format!("D at w = {w}"),
            value: c.d,
            origin: String::new(),
        });
    }
    Ok(())
}

pub use crate::space::quadrature::drift_integral;

/// What the fluxes of one problem on one grid see: the data of every interior face
/// (face i+1 between cells i and i+1), of the two wall half-faces (the outer node at
/// the wall, half a cell from the first centre), and the coefficients at the centres.
/// Coefficients are evaluated once at every face and centre and reused by the drift
/// integrals.
#[derive(Clone, Debug)]
pub struct FaceSet {
    /// Interior faces 1 ..= n−1, in order.
    pub interior: Vec<FaceData>,
    /// The left and the right wall half-faces.
    pub walls: [FaceData; 2],
    /// Coefficients at the cell centres.
    pub centre: Vec<Coeffs>,
}

impl FaceSet {
    /// Sample `problem` on `grid`; a non-finite coefficient is an error naming it and
    /// its w. With `want_int` the interior faces carry the drift integral between the
    /// two centres.
    pub fn sample(problem: &Problem, grid: &Grid, want_int: bool) -> Result<FaceSet> {
        let n = grid.n;
        let origin = |e: Error| e.with_origin(&problem.origin);
        // samples s_{2i} = face i, s_{2i+1} = centre i
        let s: Vec<f64> = (0..=2 * n)
            .map(|k| {
                if k % 2 == 0 {
                    grid.face(k / 2)
                } else {
                    grid.centre(k / 2)
                }
            })
            .collect();
        let mut all = Vec::with_capacity(2 * n + 1);
        let form = problem.landscape.form();
        for &w in &s {
            // a built-in landscape's closed form where it has one
            let c = match form.and_then(|f| f.stats(w)) {
                Some(st) => problem.coeffs_of(st),
                None => problem.coeffs(w),
            };
            check_coeffs(&c, w).map_err(origin)?;
            all.push(c);
        }
        let pieces = if want_int {
            let f: Vec<Option<f64>> = all
                .iter()
                .map(|c| (c.d > 0.0).then(|| c.g / c.d).filter(|v| v.is_finite()))
                .collect();
            crate::space::quadrature::half_cell_pieces(problem, &s, &f)
        } else {
            vec![None; 2 * n]
        };
        let centre: Vec<Coeffs> = (0..n).map(|i| all[2 * i + 1]).collect();
        let interior = (0..n - 1)
            .map(|i| {
                let fc = &all[2 * i + 2];
                FaceData {
                    h: grid.centre(i + 1) - grid.centre(i),
                    v: -problem.lr * fc.g,
                    d_prime: fc.d_prime,
                    d_left: centre[i].d,
                    d_right: centre[i + 1].d,
                    d_face: fc.d,
                    drift_integral: match (pieces[2 * i + 1], pieces[2 * i + 2]) {
                        (Some(l), Some(r)) => Some(l + r),
                        _ => None,
                    },
                }
            })
            .collect();
        let wall = |c_wall: &Coeffs, c_cell: &Coeffs, left: bool, half: f64| FaceData {
            h: half,
            v: -problem.lr * c_wall.g,
            d_prime: c_wall.d_prime,
            d_left: if left { c_wall.d } else { c_cell.d },
            d_right: if left { c_cell.d } else { c_wall.d },
            d_face: c_wall.d,
            drift_integral: None,
        };
        let walls = [
            wall(&all[0], &centre[0], true, 0.5 * grid.width(0)),
            wall(&all[2 * n], &centre[n - 1], false, 0.5 * grid.width(n - 1)),
        ];
        Ok(FaceSet {
            interior,
            walls,
            centre,
        })
    }

    /// The matrix A from the face data as `scale` maps it (the identity for the
    /// problem's own operator; a schedule rescales drift and diffusion). Each face
    /// current J = α P_left − β P_right is divided by the width of the cell it leaves
    /// or enters, so h-weighted columns sum to zero; at an absorbing wall J = −β P_0
    /// (left) and α P_{n−1} (right).
    pub fn matrix(
        &self,
        grid: &Grid,
        flux: &dyn Flux,
        absorbing: bool,
        scale: impl Fn(&FaceData) -> FaceData,
    ) -> Result<Tridiag> {
        let n = grid.n;
        let widths = grid.widths();
        let coefficients = |i: usize, fd: &FaceData| {
            let (al, be) = flux.coefficients(&scale(fd));
            if al.is_finite() && be.is_finite() {
                Ok((al, be))
            } else {
                Err(Error::NonFinite {
                    what: format!("{} flux coefficient", flux.name()),
                    w: grid.face(i),
                    value: if al.is_finite() { be } else { al },
                    origin: String::new(),
                })
            }
        };
        let mut a = Tridiag::zeros(n);
        for (i, fd) in self.interior.iter().enumerate() {
            let (al, be) = coefficients(i + 1, fd)?;
            let (hl, hr) = (widths[i], widths[i + 1]);
            a.diag[i] -= al / hl;
            a.upper[i] += be / hl;
            a.lower[i + 1] += al / hr;
            a.diag[i + 1] -= be / hr;
        }
        if absorbing {
            let (_, be) = coefficients(0, &self.walls[0])?;
            a.diag[0] -= be / widths[0];
            let (al, _) = coefficients(n, &self.walls[1])?;
            a.diag[n - 1] -= al / widths[n - 1];
        }
        Ok(a)
    }
}

impl Operator {
    /// Assemble A for `problem` on `grid` with `flux`. Coefficients are evaluated once
    /// at every face and centre and reused by the fluxes and the drift integrals; a
    /// non-finite one is an error naming it and its w.
    pub fn assemble(problem: &Problem, grid: Grid, flux: &dyn Flux) -> Result<Operator> {
        let faces = FaceSet::sample(problem, &grid, flux.wants_drift_integral())?;
        let n = grid.n;
        let mut peclet = (0.0f64, grid.a);
        let mut zero_diffusion_faces = 0;
        for (i, fd) in faces.interior.iter().enumerate() {
            // D > 0 but subnormal can make the Péclet number overflow: such a face is
            // counted with the faces where D = 0 (the fitted fluxes are upwind there)
            let pe = fd.v.abs() * fd.h / fd.d_face;
            if fd.d_face > 0.0 && pe.is_finite() {
                if pe > peclet.0 {
                    peclet = (pe, grid.face(i + 1));
                }
            } else if fd.v != 0.0 {
                zero_diffusion_faces += 1;
            }
        }
        let a = faces.matrix(&grid, flux, problem.boundary == Boundary::Absorbing, |f| *f)?;
        debug_assert_eq!(a.n(), n);
        Ok(Operator {
            grid,
            a,
            flux: flux.name().to_string(),
            boundary: problem.boundary,
            centre_coeffs: faces.centre,
            peclet,
            zero_diffusion_faces,
        })
    }

    /// Forward Euler's step limit 1 / max|A_ii| (∞ for the zero operator).
    pub fn explicit_limit(&self) -> f64 {
        let m = self.a.diag.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        if m > 0.0 {
            1.0 / m
        } else {
            f64::INFINITY
        }
    }

    /// Rows whose off-diagonal entries are negative (empty for an M-matrix).
    pub fn negative_offdiagonal_rows(&self) -> Vec<usize> {
        let n = self.a.n();
        (0..n)
            .filter(|&i| (i > 0 && self.a.lower[i] < 0.0) || (i + 1 < n && self.a.upper[i] < 0.0))
            .collect()
    }

    /// Stiffness ratio estimate: the spectral radius bound 2 max|A_ii| over the
    /// slowest relaxation rate, estimated by inverse iteration on A (deflated of the
    /// stationary mode on zero-flux problems). `None` when it does not converge.
    pub fn stiffness_ratio(&self) -> Option<f64> {
        crate::space::linalg::stiffness_ratio(&self.a, self.boundary == Boundary::ZeroFlux)
    }

    /// The discrete stationary density of a zero-flux operator, normalised to mass one.
    ///
    /// On a zero-flux problem A P = 0 holds exactly when every interior face current
    /// vanishes, J_{i+½} = α_i P_i − β_i P_{i+1} = 0, so the null vector follows from
    /// the recursion P_{i+1} = (α_i / β_i) P_i (in logarithms, to avoid overflow).
    /// `None` where some β_i = 0 or α_i = 0 (the chain breaks: mass collects in a
    /// point or a region and the stationary state is not unique), or for absorbing walls.
    pub fn null_vector(&self) -> Option<Vec<f64>> {
        if self.boundary != Boundary::ZeroFlux {
            return None;
        }
        let n = self.a.n();
        let mut logp = vec![0.0; n];
        for i in 0..n - 1 {
            // α_i / h_{i+1} = A[i+1][i] (lower of row i+1), β_i / h_i = A[i][i+1]
            // (upper of row i)
            let (al, be) = (self.a.lower[i + 1], self.a.upper[i]);
            if !(al > 0.0 && be > 0.0) {
                return None;
            }
            let (hl, hr) = (self.grid.width(i), self.grid.width(i + 1));
            logp[i + 1] = logp[i] + al.ln() + hr.ln() - be.ln() - hl.ln();
        }
        let top = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut p: Vec<f64> = logp.iter().map(|l| (l - top).exp()).collect();
        let mass = self.grid.mass(&p);
        p.iter_mut().for_each(|v| *v /= mass);
        Some(p)
    }

    /// A-priori diagnostics (Péclet, M-matrix, step limit, stiffness).
    pub fn diagnostics(&self, with_stiffness: bool) -> Diagnostics {
        let rows = self.negative_offdiagonal_rows();
        Diagnostics {
            max_peclet: self.peclet.0,
            max_peclet_w: self.peclet.1,
            zero_diffusion_faces: self.zero_diffusion_faces,
            m_matrix: rows.is_empty(),
            negative_offdiagonals: rows.len(),
            negative_offdiagonal_w: rows.iter().take(5).map(|&i| self.grid.centre(i)).collect(),
            explicit_limit: self.explicit_limit(),
            stiffness_ratio: if with_stiffness {
                self.stiffness_ratio()
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::problem::BUILTINS;

    /// The closed-form coefficients the sampling uses for built-in landscapes agree
    /// with the landscape's own per-datapoint route to rounding, across each domain
    /// (relative 1e-12: the rounding of the exponentials' arguments).
    #[test]
    fn closed_form_coefficients_match_the_landscape() {
        for b in BUILTINS {
            let p = Problem::builtin(b.name).unwrap();
            let Some(form) = p.landscape.form() else {
                continue;
            };
            for i in 0..=997 {
                let w = p.a + (p.b - p.a) * i as f64 / 997.0;
                let Some(st) = form.stats(w) else {
                    continue;
                };
                let (fast, slow) = (p.coeffs_of(st), p.coeffs(w));
                for (x, y) in [
                    (fast.g, slow.g),
                    (fast.g_prime, slow.g_prime),
                    (fast.s2, slow.s2),
                    (fast.d, slow.d),
                    (fast.d_prime, slow.d_prime),
                ] {
                    // e^{−k(W−1)²} with an argument of several hundred carries the
                    // argument's own rounding, |arg| ε ≈ 1e-13 relative, formed
                    // differently on the two routes
                    assert!(
                        (x - y).abs() <= 1e-12 * y.abs().max(f64::MIN_POSITIVE),
                        "{} at w = {w}: {fast:?} vs {slow:?}",
                        b.name
                    );
                }
            }
        }
    }
}
