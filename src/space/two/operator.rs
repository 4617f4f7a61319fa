//! The 2-D finite-volume operator dP/dt = A P for the Itô Fokker–Planck equation
//! ∂P/∂t = −∇·J, J = −T G P − ∇·(D P), on a uniform rectangular grid.
//!
//! Every exchange of mass is a *link* between two cells (or a cell and an absorbing
//! wall) carrying a flux that is linear in P; A is assembled from the links, so mass
//! is conserved to rounding with zero-flux walls, and the current through any grid
//! line is the sum of the links crossing it.
//!
//! * **Axes (hybrid central/upwind, the limit of Scharfetter–Gummel fitting).**
//!   Across an x-face the flux J₁ = (u − ∂₁α) P − α ∂₁P with u = −T G₁ is
//!   F = (ū/2 + ᾱ/h) P_L − (ᾱ/h − ū/2) P_R, ū = u − Δα/h, where the cell Péclet number
//!   |ū| h/ᾱ ≤ 2, and the upwind flux beyond (Spalding's hybrid scheme, 1972); the
//!   y-faces likewise with β and u = −T G₂. Both coefficients are ≥ 0 everywhere.
//!   Scharfetter and Gummel's exponentially fitted flux (1969; Il'in, 1969) is also
//!   positive, but its effective diffusion ᾱ(Pe/2)coth(Pe/2) = ᾱ(1 + Pe²/12 − …)
//!   varies in space with the drift and biases the moments: with the leading term
//!   subtracted from the fitting diffusion the residual is ᾱ·O(Pe⁴), and it left the
//!   mean of `ou-2d` at t = 20 off by 2.2e-3 at 128² cells with the directional split,
//!   which leaves the axes only ᾱ = D₁₁ − |D₁₂| and so a 2.5 times larger Pe (the
//!   nine-point scheme, with ᾱ = D₁₁, had the same error at 64²). The hybrid flux is
//!   the fitted flux whose effective diffusion is exactly ᾱ wherever a positive
//!   two-point flux can have that (Pe ≤ 2), and adds the least artificial diffusion,
//!   max(0, |ū| h/2 − ᾱ), where it cannot — a region that shrinks with h. For a drift
//!   linear in w and constant D the central flux moves the discrete mean exactly as
//!   the continuous mean moves (away from walls and upwinded faces); the covariance
//!   carries an O(h²) error.
//! * **Cross terms, scheme `nine-point`.** α = D₁₁, β = D₂₂, and the flux across an
//!   x-face gets −∂₂(D₁₂ P) by the central difference of Q = D₁₂ P over the four
//!   cells above and below the face (one-sided at a zero-flux wall): the classical
//!   nine-point stencil, second order, but its off-diagonal entries take both signs,
//!   so it is not an M-matrix and can make P negative.
//! * **Cross terms, scheme `directional`.** D is split along the grid directions,
//!   D = α e₁e₁ᵀ + β e₂e₂ᵀ + γ v vᵀ with v = (h₁, ±h₂) (the sign of D₁₂):
//!   γ = |D₁₂|/(h₁h₂), α = D₁₁ − |D₁₂| h₁/h₂, β = D₂₂ − |D₁₂| h₂/h₁, and the
//!   diagonal part ∂_v∂_v(γ P) becomes a two-point exchange γ_a P_a − γ_b P_b between
//!   diagonal neighbours (the Kushner–Dupuis construction of a monotone stencil,
//!   Kushner and Dupuis, *Numerical Methods for Stochastic Control Problems in
//!   Continuous Time*, 2001, §5.3). Every off-diagonal entry is ≥ 0, so backward Euler
//!   keeps P ≥ 0. It is consistent where D is diagonally dominant in the grid's
//!   scaling, |D₁₂| ≤ min(D₁₁ h₂/h₁, D₂₂ h₁/h₂); where it is not (a rank-one Σ, as on
//!   `seed-2d`), a negative α or β is clipped to 0, which adds diffusion along that
//!   axis of size |α|: an O(D) consistency error, counted and reported
//!   ([`PositivityRecord`]) rather than hidden.
//!
//!   The drift is shared the same way: the diagonal links carry a part s of it
//!   ([`diagonal_share`]: the least-squares minimiser of the three directions' cell
//!   Péclet numbers) by the hybrid flux in the diagonal's own units, the axes the rest.
//!   With the drift on α and β alone, the axes of `ou-2d` (α = β = 0.4 D₁₁) run at cell
//!   Péclet numbers up to about twice as large and are upwinded over part of the
//!   initial density at 128² cells (mean error 1.1e-3 at t = 20).
//!
//! Walls: zero flux (no link) or absorbing (P = 0 half a cell outside: an outgoing
//! link to the wall with the SG flux over h/2; diagonal links into the wall lose
//! γ_a P_a).

use serde::Serialize;

use super::grid::Grid2;
use crate::error::{Error, Result};
use crate::model::problem::Boundary;
use crate::model::two::{Mat2, Problem2};

/// How the cross-diffusion terms D₁₂ are discretised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrossScheme {
    /// Plain nine-point central differences (second order, not positivity preserving).
    NinePoint,
    /// Split of D along the grid's axes and diagonals (positivity preserving; clipped
    /// where D is not diagonally dominant).
    Directional,
}

impl CrossScheme {
    /// Every scheme, in listing order.
    pub const ALL: [CrossScheme; 2] = [CrossScheme::Directional, CrossScheme::NinePoint];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CrossScheme::NinePoint => "nine-point",
            CrossScheme::Directional => "directional",
        }
    }

    /// A scheme by name.
    pub fn parse(name: &str) -> Result<CrossScheme> {
        CrossScheme::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "cross-diffusion scheme".into(),
                name: name.into(),
                known: "directional, nine-point".into(),
            })
    }
}

/// Kind of a link, for line fluxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Across the x-face between (i, j) and (i+1, j).
    XFace,
    /// Across the y-face between (i, j) and (i, j+1).
    YFace,
    /// Between (i, j) and (i+1, j+1).
    DiagUp,
    /// Between (i, j+1) and (i+1, j) (from a = (i, j+1) to b = (i+1, j)).
    DiagDown,
}

/// A flux F (mass per unit time) from cell `a` to cell `b` (or out through an
/// absorbing wall when `b` is `None`), linear in P: F = Σ coef·P[cell].
#[derive(Clone, Copy, Debug)]
pub struct Link {
    /// Source cell.
    pub a: usize,
    /// Destination cell (None: absorbed at a wall).
    pub b: Option<usize>,
    /// What the link crosses.
    pub kind: LinkKind,
    terms: [(u32, f64); 6],
    n: u8,
}

impl Link {
    fn new(a: usize, b: Option<usize>, kind: LinkKind) -> Link {
        Link {
            a,
            b,
            kind,
            terms: [(0, 0.0); 6],
            n: 0,
        }
    }
    fn add(&mut self, cell: usize, coef: f64) {
        if let Some(t) = self.terms[..self.n as usize]
            .iter_mut()
            .find(|t| t.0 as usize == cell)
        {
            t.1 += coef;
        } else {
            self.terms[self.n as usize] = (cell as u32, coef);
            self.n += 1;
        }
    }
    /// The (cell, coefficient) terms of the flux.
    pub fn terms(&self) -> &[(u32, f64)] {
        &self.terms[..self.n as usize]
    }
    /// The flux for density `p`.
    pub fn flux(&self, p: &[f64]) -> f64 {
        self.terms().iter().map(|&(c, v)| v * p[c as usize]).sum()
    }
}

/// Positivity record of an assembled operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PositivityRecord {
    /// Off-diagonal entries of A that are negative (0 for an M-matrix).
    pub negative_offdiag: usize,
    /// The most negative off-diagonal entry (0 when none).
    pub most_negative_offdiag: f64,
    /// Coefficient points where the directional split had to clip α or β.
    pub clipped_points: usize,
    /// Coefficient points evaluated.
    pub points: usize,
    /// Largest diffusion added by clipping, relative to the largest |D| entry.
    pub max_added_relative: f64,
}

/// The assembled 2-D operator.
#[derive(Clone, Debug)]
pub struct Operator2 {
    /// The grid.
    pub grid: Grid2,
    /// Cross-diffusion scheme.
    pub scheme: CrossScheme,
    /// The links (fluxes) the operator is made of.
    pub links: Vec<Link>,
    /// Rows of A as 3×3 stencils: entry k = (dj+1)·3 + (di+1).
    pub stencil: Vec<[f64; 9]>,
    /// Positivity record.
    pub record: PositivityRecord,
}

/// Axis diffusion (α, β) and diagonal rates (γ₊, γ₋) at one point.
#[derive(Clone, Copy, Debug, Default)]
struct Split {
    alpha: f64,
    beta: f64,
    gp: f64,
    gm: f64,
    d12: f64,
}

struct Coefs<'a> {
    problem: &'a Problem2,
    grid: Grid2,
    scheme: CrossScheme,
    record: PositivityRecord,
    dmax: f64,
}

impl Coefs<'_> {
    fn split(&mut self, d: Mat2) -> Split {
        let (hx, hy) = (self.grid.hx(), self.grid.hy());
        self.record.points += 1;
        match self.scheme {
            CrossScheme::NinePoint => Split {
                alpha: d[0][0],
                beta: d[1][1],
                d12: d[0][1],
                ..Split::default()
            },
            CrossScheme::Directional => {
                let c = d[0][1].abs();
                let mut alpha = d[0][0] - c * hx / hy;
                let mut beta = d[1][1] - c * hy / hx;
                let added = (-alpha).max(0.0).max((-beta).max(0.0));
                // tolerate rounding-level negatives without counting them
                if added > 1e-12 * (d[0][0] + d[1][1]) {
                    self.record.clipped_points += 1;
                    let rel = added / self.dmax.max(f64::MIN_POSITIVE);
                    self.record.max_added_relative = self.record.max_added_relative.max(rel);
                }
                alpha = alpha.max(0.0);
                beta = beta.max(0.0);
                let g = c / (hx * hy);
                let (gp, gm) = if d[0][1] >= 0.0 { (g, 0.0) } else { (0.0, g) };
                Split {
                    alpha,
                    beta,
                    gp,
                    gm,
                    d12: 0.0,
                }
            }
        }
    }
    fn at(&mut self, w1: f64, w2: f64) -> (Split, Mat2) {
        let d = self.problem.diffusion(w1, w2);
        (self.split(d), d)
    }
    /// The drift u = −T G at a point and the share s carried by the diagonal links
    /// there (0 for the nine-point scheme).
    fn drift(&self, w1: f64, w2: f64, d: Mat2) -> ([f64; 2], f64) {
        let g = self.problem.g(w1, w2);
        let u = [-self.problem.lr * g[0], -self.problem.lr * g[1]];
        let s = match self.scheme {
            CrossScheme::NinePoint => 0.0,
            CrossScheme::Directional => diagonal_share(u, d, self.grid.hx(), self.grid.hy()),
        };
        (u, s)
    }
}

/// The w1-component s of the part of the drift u that the directional scheme carries
/// along the grid diagonal v = (h₁, σh₂), σ = sign D₁₂ (velocity (s, σ s h₂/h₁)); the
/// axes carry the rest. s minimises the sum of the squared cell Péclet numbers of the
/// three directions, (u₁ − s)h₁/α, (u₂ − σ s h₂/h₁)h₂/β and s h₂/|D₁₂| (the diagonal
/// link's), so that the drift is spread over all the diffusion the split has rather
/// than over α and β alone, and the flux stays central (no artificial diffusion) at
/// about twice the drift. Smooth in D and u, 0 where D₁₂ = 0, and 0 where the split
/// is clipped (α or β < 0).
fn diagonal_share(u: [f64; 2], d: Mat2, hx: f64, hy: f64) -> f64 {
    let c = d[0][1].abs();
    if !(c > 0.0 && c.is_finite()) {
        return 0.0;
    }
    let alpha = d[0][0] - c * hx / hy;
    let beta = d[1][1] - c * hy / hx;
    // where the split is clipped (D not diagonally dominant) the diagonal link's
    // diffusion is not D's: it carries no drift there (on `seed-2d` a share pushed by
    // the clipped axes' huge weights moved the mean of w2 by 0.07 at t = 100)
    if alpha < 0.0 || beta < 0.0 {
        return 0.0;
    }
    let (sigma, r) = (d[0][1].signum(), hy / hx);
    let eps = (1e-9 * c).powi(2);
    let w1 = hx * hx / (alpha * alpha + eps);
    let w2 = hy * hy / (beta * beta + eps);
    let w3 = hy * hy / (c * c);
    let s = (u[0] * w1 + sigma * r * u[1] * w2) / (w1 + r * r * w2 + w3);
    if s.is_finite() {
        s
    } else {
        0.0
    }
}

impl Coefs<'_> {}

/// Coefficients (c_L, c_R) of the axis flux F = c_L P_L − c_R P_R for velocity `u`,
/// diffusion `a` ≥ 0 at the face and spacing `h`: central, c_L = a/h + u/2,
/// c_R = a/h − u/2, where the cell Péclet number |u| h / a is at most 2, and upwind
/// beyond (Spalding's hybrid scheme, 1972). It is the Scharfetter–Gummel flux with its
/// fitting diffusion chosen so that its effective diffusion is exactly `a` where that
/// is possible, and its upwind limit where it is not: the least artificial diffusion,
/// max(0, |u| h/2 − a), of any two-point flux with nonnegative coefficients.
fn sg(u: f64, a: f64, h: f64) -> (f64, f64) {
    let d = a.max(0.0) / h;
    let (cl, cr) = (d + 0.5 * u, d - 0.5 * u);
    if cr < 0.0 {
        (u, 0.0)
    } else if cl < 0.0 {
        (0.0, -u)
    } else {
        (cl, cr)
    }
}

impl Operator2 {
    /// Assemble A for `problem` on `grid` with cross scheme `scheme`.
    pub fn assemble(problem: &Problem2, grid: Grid2, scheme: CrossScheme) -> Result<Operator2> {
        let (nx, ny) = (grid.nx, grid.ny);
        let mut dmax = 0.0f64;
        let mut cells_d = Vec::with_capacity(grid.len());
        for j in 0..ny {
            for i in 0..nx {
                let d = problem.diffusion(grid.xc(i), grid.yc(j));
                dmax = dmax
                    .max(d[0][0].abs())
                    .max(d[1][1].abs())
                    .max(d[0][1].abs());
                cells_d.push(d);
            }
        }
        let mut co = Coefs {
            problem,
            grid,
            scheme,
            record: PositivityRecord::default(),
            dmax,
        };
        let cells: Vec<Split> = cells_d.iter().map(|&d| co.split(d)).collect();
        let mut links = Vec::with_capacity(4 * grid.len());
        axis_links(&mut co, &cells, &mut links)?;
        match scheme {
            CrossScheme::NinePoint => nine_point_cross(&grid, &cells, &mut links, problem.boundary),
            CrossScheme::Directional => diagonal_links(&co, &cells, &mut links),
        }
        let mut op = Operator2 {
            grid,
            scheme,
            links,
            stencil: vec![[0.0; 9]; grid.len()],
            record: co.record,
        };
        op.fill_stencil();
        Ok(op)
    }

    fn fill_stencil(&mut self) {
        let g = self.grid;
        let inv_area = 1.0 / g.area();
        let off = |row: usize, col: usize| {
            let (ri, rj) = ((row % g.nx) as isize, (row / g.nx) as isize);
            let (ci, cj) = ((col % g.nx) as isize, (col / g.nx) as isize);
            ((cj - rj + 1) * 3 + (ci - ri + 1)) as usize
        };
        for l in &self.links {
            for &(c, v) in l.terms() {
                let c = c as usize;
                self.stencil[l.a][off(l.a, c)] -= v * inv_area;
                if let Some(b) = l.b {
                    self.stencil[b][off(b, c)] += v * inv_area;
                }
            }
        }
        let (mut neg, mut most) = (0, 0.0f64);
        for row in &self.stencil {
            for (k, &v) in row.iter().enumerate() {
                if k != 4 && v < 0.0 {
                    neg += 1;
                    most = most.min(v);
                }
            }
        }
        self.record.negative_offdiag = neg;
        self.record.most_negative_offdiag = most;
    }

    /// Number of unknowns.
    pub fn len(&self) -> usize {
        self.grid.len()
    }
    /// Whether there are no unknowns (never for a valid grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// out = A p.
    pub fn apply(&self, p: &[f64], out: &mut [f64]) {
        let g = self.grid;
        for j in 0..g.ny {
            for i in 0..g.nx {
                let r = g.idx(i, j);
                let mut s = 0.0;
                for (k, &v) in self.stencil[r].iter().enumerate() {
                    if v != 0.0 {
                        let (di, dj) = ((k % 3) as isize - 1, (k / 3) as isize - 1);
                        let c = (r as isize + dj * g.nx as isize + di) as usize;
                        s += v * p[c];
                    }
                }
                out[r] = s;
            }
        }
    }

    /// Triplets (row, col, value) of c₀ I + c₁ A, the diagonal always present.
    pub fn triplets(&self, c0: f64, c1: f64) -> Vec<(usize, usize, f64)> {
        let g = self.grid;
        let mut t = Vec::with_capacity(9 * g.len());
        for (r, row) in self.stencil.iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                if v != 0.0 || k == 4 {
                    let (di, dj) = ((k % 3) as isize - 1, (k / 3) as isize - 1);
                    let c = (r as isize + dj * g.nx as isize + di) as usize;
                    let diag = if k == 4 { c0 } else { 0.0 };
                    t.push((r, c, diag + c1 * v));
                }
            }
        }
        t
    }

    /// Mass rate through the horizontal grid line w2 = y_{j0+½} between rows j0 and
    /// j0 + 1, counted from the cell column `i0` (its left face) to the right wall,
    /// positive upwards: the y-face links of columns ≥ i0 and the diagonal links whose
    /// crossing corner lies right of that face.
    pub fn line_flux_y(&self, p: &[f64], j0: usize, i0: usize) -> f64 {
        let g = self.grid;
        let mut total = 0.0;
        for l in &self.links {
            let (ai, aj) = (l.a % g.nx, l.a / g.nx);
            let f = match l.kind {
                LinkKind::YFace if aj == j0 && ai >= i0 && l.b.is_some() => l.flux(p),
                // corner at x_{ai+1}: right of the face x_{i0} when ai + 1 > i0
                LinkKind::DiagUp if aj == j0 && ai + 1 > i0 => l.flux(p),
                LinkKind::DiagDown if aj == j0 + 1 && ai + 1 > i0 => -l.flux(p),
                _ => 0.0,
            };
            total += f;
        }
        total
    }

    /// Face currents for density `p`: J₁ at the x-faces ((nx−1)·ny values, index
    /// j·(nx−1) + i for the face between i and i+1) and J₂ at the y-faces (nx·(ny−1),
    /// index j·nx + i for the face between j and j+1), each the flux density (mass
    /// rate per unit face length). Diagonal links are split half and half onto the
    /// x- and y-faces they straddle, so both components see the cross current.
    pub fn face_currents(&self, p: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let g = self.grid;
        let (nx, ny) = (g.nx, g.ny);
        let mut jx = vec![0.0; (nx - 1) * ny];
        let mut jy = vec![0.0; nx * (ny - 1)];
        for l in &self.links {
            let (ai, aj) = (l.a % nx, l.a / nx);
            let f = l.flux(p);
            match (l.kind, l.b) {
                (LinkKind::XFace, Some(b)) => {
                    let i = ai.min(b % nx);
                    jx[aj * (nx - 1) + i] += f / g.hy() * if b % nx > ai { 1.0 } else { -1.0 };
                }
                (LinkKind::YFace, Some(b)) => {
                    let j = aj.min(b / nx);
                    jy[j * nx + ai] += f / g.hx() * if b / nx > aj { 1.0 } else { -1.0 };
                }
                (LinkKind::DiagUp, Some(_)) => {
                    // (i,j)→(i+1,j+1): half along x at rows j and j+1, half along y
                    jx[aj * (nx - 1) + ai] += 0.25 * f / g.hy();
                    jx[(aj + 1) * (nx - 1) + ai] += 0.25 * f / g.hy();
                    jy[aj * nx + ai] += 0.25 * f / g.hx();
                    jy[aj * nx + ai + 1] += 0.25 * f / g.hx();
                }
                (LinkKind::DiagDown, Some(_)) => {
                    // (i,j+1)→(i+1,j): +x, −y
                    let j = aj - 1;
                    jx[j * (nx - 1) + ai] += 0.25 * f / g.hy();
                    jx[(j + 1) * (nx - 1) + ai] += 0.25 * f / g.hy();
                    jy[j * nx + ai] -= 0.25 * f / g.hx();
                    jy[j * nx + ai + 1] -= 0.25 * f / g.hx();
                }
                _ => {}
            }
        }
        (jx, jy)
    }
}

fn axis_links(co: &mut Coefs, cells: &[Split], links: &mut Vec<Link>) -> Result<()> {
    let g = co.grid;
    let (hx, hy) = (g.hx(), g.hy());
    let absorbing = co.problem.boundary == Boundary::Absorbing;
    for j in 0..g.ny {
        for i in 0..=g.nx {
            let xf = g.x[0] + i as f64 * hx;
            let (s, d) = co.at(xf, g.yc(j));
            let (uv, share) = co.drift(xf, g.yc(j), d);
            let u = uv[0];
            check(u, s.alpha, xf, g.yc(j))?;
            if i == 0 || i == g.nx {
                if absorbing {
                    let c = if i == 0 {
                        g.idx(0, j)
                    } else {
                        g.idx(g.nx - 1, j)
                    };
                    let (cl, cr) = sg(u, s.alpha, hx / 2.0);
                    let mut l = Link::new(c, None, LinkKind::XFace);
                    l.add(c, if i == 0 { cr } else { cl } * hy);
                    links.push(l);
                }
                continue;
            }
            let (a, b) = (g.idx(i - 1, j), g.idx(i, j));
            // the diagonal links carry `share` of the drift (directional scheme)
            let ub = u - share - (cells[b].alpha - cells[a].alpha) / hx;
            let (cl, cr) = sg(ub, s.alpha, hx);
            let mut l = Link::new(a, Some(b), LinkKind::XFace);
            l.add(a, cl * hy);
            l.add(b, -cr * hy);
            links.push(l);
        }
    }
    for j in 0..=g.ny {
        for i in 0..g.nx {
            let yf = g.y[0] + j as f64 * hy;
            let (s, d) = co.at(g.xc(i), yf);
            let (uv, share) = co.drift(g.xc(i), yf, d);
            let u = uv[1];
            check(u, s.beta, g.xc(i), yf)?;
            if j == 0 || j == g.ny {
                if absorbing {
                    let c = if j == 0 {
                        g.idx(i, 0)
                    } else {
                        g.idx(i, g.ny - 1)
                    };
                    let (cl, cr) = sg(u, s.beta, hy / 2.0);
                    let mut l = Link::new(c, None, LinkKind::YFace);
                    l.add(c, if j == 0 { cr } else { cl } * hx);
                    links.push(l);
                }
                continue;
            }
            let (a, b) = (g.idx(i, j - 1), g.idx(i, j));
            let ub = u - d[0][1].signum() * share * hy / hx - (cells[b].beta - cells[a].beta) / hy;
            let (cl, cr) = sg(ub, s.beta, hy);
            let mut l = Link::new(a, Some(b), LinkKind::YFace);
            l.add(a, cl * hx);
            l.add(b, -cr * hx);
            links.push(l);
        }
    }
    Ok(())
}

fn check(u: f64, d: f64, w1: f64, w2: f64) -> Result<()> {
    for (what, v) in [("drift −T·G", u), ("diffusion D", d)] {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what: what.into(),
                w: w1,
                value: v,
                origin: format!(" (at w2 = {w2})"),
            });
        }
    }
    Ok(())
}

/// Cross terms of the nine-point scheme: −∂₂(D₁₂P) on x-faces, −∂₁(D₁₂P) on y-faces,
/// added to the axis links (which were pushed x-faces first, then y-faces).
fn nine_point_cross(g: &Grid2, cells: &[Split], links: &mut [Link], boundary: Boundary) {
    let (hx, hy) = (g.hx(), g.hy());
    let absorbing = boundary == Boundary::Absorbing;
    let q = |i: usize, j: usize| (g.idx(i, j), cells[g.idx(i, j)].d12);
    for l in links.iter_mut() {
        let Some(b) = l.b else { continue };
        let (ai, aj, bi, bj) = (l.a % g.nx, l.a / g.nx, b % g.nx, b / g.nx);
        // the face's two cells along the other axis: (lo, hi) neighbours and spacing
        let (n_other, pos, h_other, len) = match l.kind {
            LinkKind::XFace => (g.ny, aj, hy, hy),
            _ => (g.nx, ai, hx, hx),
        };
        let kind = l.kind;
        let cell_at = |k: usize, which: usize| match kind {
            LinkKind::XFace => q(if which == 0 { ai } else { bi }, k),
            _ => q(k, if which == 0 { aj } else { bj }),
        };
        let (lo, hi, denom) = if pos == 0 {
            if absorbing {
                (None, Some(1), 4.0)
            } else {
                (Some(0), Some(1), 2.0)
            }
        } else if pos == n_other - 1 {
            if absorbing {
                (Some(pos - 1), None, 4.0)
            } else {
                (Some(pos - 1), Some(pos), 2.0)
            }
        } else {
            (Some(pos - 1), Some(pos + 1), 4.0)
        };
        let w = len / (denom * h_other);
        for which in 0..2 {
            if let Some(k) = hi {
                let (c, d) = cell_at(k, which);
                l.add(c, -d * w);
            }
            if let Some(k) = lo {
                let (c, d) = cell_at(k, which);
                l.add(c, d * w);
            }
        }
    }
}

/// Diagonal links of the directional scheme between (i, j) and (i+1, j±1): the
/// exchange γ_a P_a − γ_b P_b plus the drift share c = s/h₁ carried along the
/// diagonal (see [`diagonal_share`], evaluated at the shared corner, the link's
/// midpoint), by the same hybrid flux as the axes in the diagonal's own units
/// (spacing 1, diffusion γ̄ = (γ_a + γ_b)/2, velocity c − (γ_b − γ_a)); with c = 0 this
/// is exactly the exchange. Mass rate F·area.
fn diagonal_links(co: &Coefs, cells: &[Split], links: &mut Vec<Link>) {
    let g = &co.grid;
    let (hx, hy) = (g.hx(), g.hy());
    let area = g.area();
    let absorbing = co.problem.boundary == Boundary::Absorbing;
    // drift share along the diagonal of sign `up` (+1: DiagUp) at the corner (x, y)
    let corner = |x: f64, y: f64, up: f64| -> f64 {
        let d = co.problem.diffusion(x, y);
        // no share where D₁₂ is 0 or has the other diagonal's sign
        if d[0][1] * up <= 0.0 {
            return 0.0;
        }
        co.drift(x, y, d).1 / hx
    };
    for j in 0..g.ny {
        for i in 0..g.nx {
            let a = g.idx(i, j);
            // up-right neighbour (γ₊) and down-right neighbour (γ₋)
            for (dj, gam, kind) in [
                (1isize, 0usize, LinkKind::DiagUp),
                (-1, 1, LinkKind::DiagDown),
            ] {
                let ga = if gam == 0 { cells[a].gp } else { cells[a].gm };
                let jn = j as isize + dj;
                let inside = i + 1 < g.nx && jn >= 0 && (jn as usize) < g.ny;
                if inside {
                    let b = g.idx(i + 1, jn as usize);
                    let gb = if gam == 0 { cells[b].gp } else { cells[b].gm };
                    if ga == 0.0 && gb == 0.0 {
                        continue;
                    }
                    let (xc, yc) = (
                        g.x[0] + (i + 1) as f64 * hx,
                        g.y[0] + (j as isize + dj.max(0)) as f64 * hy,
                    );
                    let c = corner(xc, yc, dj as f64);
                    let (cl, cr) = sg(c - (gb - ga), 0.5 * (ga + gb), 1.0);
                    // DiagDown links run from (i, j+1) to (i+1, j): here a is the upper cell
                    let mut l = Link::new(a, Some(b), kind);
                    l.add(a, cl * area);
                    l.add(b, -cr * area);
                    links.push(l);
                } else if absorbing && ga > 0.0 {
                    let mut l = Link::new(a, None, kind);
                    l.add(a, ga * area);
                    links.push(l);
                }
            }
            if absorbing {
                // exchanges with the wall on the left (to (i−1, j±1) outside)
                for (dj, gam) in [(1isize, 1usize), (-1, 0)] {
                    let jn = j as isize + dj;
                    let outside = i == 0 || jn < 0 || jn as usize >= g.ny;
                    let ga = if gam == 0 { cells[a].gp } else { cells[a].gm };
                    if outside && ga > 0.0 {
                        let mut l = Link::new(a, None, LinkKind::XFace);
                        l.add(a, ga * area);
                        links.push(l);
                    }
                }
            }
        }
    }
}
