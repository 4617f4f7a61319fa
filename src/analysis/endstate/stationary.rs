//! Stationary states with zero-flux walls: the closed form, the null vector of every
//! flux's operator, and the long-time limit where the closed form does not exist.
//!
//! With zero-flux walls, ∂P/∂t = 0 forces J = −T G P − (D P)′ = 0, so u = D P solves
//! u′ = −(T G/D) u and, where D > 0 on the whole domain,
//!
//! ```text
//! P_s(W) ∝ exp(Φ(W)) / D(W),   Φ(W) = −T ∫^W G/D dW′   (= −(2B/T) ∫ G/S² with replacement),
//! ```
//!
//! the batch and sampling factor entering through D = T² S² f / 2. [`stationary`]
//! evaluates it by Gauss–Legendre quadrature ([`drift_integral`], in logarithms, so Φ of
//! ±10⁴ is fine), sets it beside the null vector of A for every flux
//! ([`Operator::null_vector`]), and reads off the density at each minimum and the mass in
//! each basin. Where the noise vanishes the closed form and the null vector break down;
//! the end state is then the exact long-time limit of the chain ([`Chain::long_time_limit`]),
//! and a stable zero of G with numerically zero width is a point mass
//! ([`crate::analysis::critical`]).

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::critical::{critical_points, noise_zero, CriticalKind, CriticalPoint};
use crate::analysis::endstate::chain::{Chain, Class};
use crate::analysis::endstate::numfmt::{num, opt, steps};
use crate::analysis::endstate::PDE_FLUX;
use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Problem};
use crate::space::flux;
use crate::space::grid::Grid;
use crate::space::initial::initial_density;
use crate::space::operator::{drift_integral, Operator};

/// ln P_s at the points `xs` (increasing), unnormalised: Φ(x) − ln D(x) with Φ = 0 at the first point.
/// `Err(w)` names a point where D is not positive (the closed form does not exist there).
pub fn closed_form_log(problem: &Problem, xs: &[f64]) -> std::result::Result<Vec<f64>, f64> {
    let mut out = Vec::with_capacity(xs.len());
    let mut phi = 0.0;
    for (k, &x) in xs.iter().enumerate() {
        let d = problem.coeffs(x).d;
        if d.is_nan() || d <= 0.0 {
            return Err(x);
        }
        if k > 0 {
            match drift_integral(problem, xs[k - 1], x) {
                Some(v) => phi += v,
                None => {
                    // locate a zero of D inside the interval
                    return Err(noise_zero(problem, xs[k - 1], x, 64).unwrap_or(x));
                }
            }
        }
        out.push(phi - d.ln());
    }
    Ok(out)
}

/// Normalise log values at the cell centres of `grid` into a density of mass one
/// (Σ h_i P_i = 1).
fn normalise_log(logp: &[f64], grid: &Grid) -> Vec<f64> {
    let top = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut p: Vec<f64> = logp.iter().map(|l| (l - top).exp()).collect();
    let mass = grid.mass(&p);
    p.iter_mut().for_each(|v| *v /= mass);
    p
}

/// Φ(y) − Φ(x) = −T ∫_x^y G/D by [`drift_integral`] on `pieces` sub-intervals; `None`
/// where D is not positive.
pub fn phi_between(problem: &Problem, x: f64, y: f64, pieces: usize) -> Option<f64> {
    let pieces = pieces.max(1);
    let mut s = 0.0;
    for k in 0..pieces {
        let a = x + (y - x) * k as f64 / pieces as f64;
        let b = x + (y - x) * (k + 1) as f64 / pieces as f64;
        s += drift_integral(problem, a, b)?;
    }
    Some(s)
}

/// The null vector of one flux's operator against the closed form.
#[derive(Clone, Debug, Serialize)]
pub struct NullVectorCheck {
    /// Flux name.
    pub flux: String,
    /// Where the zero-flux recursion breaks (a face with α or β not positive), if it does.
    pub broken_at: Option<f64>,
    /// max |ln(P_flux / P_s)| over cells where P_s > 10⁻³⁰⁰ (both normalised on the grid).
    pub max_log_dev: Option<f64>,
    /// L1 distance h Σ |P_flux − P_s|.
    pub l1: Option<f64>,
    /// The normalised null vector at the cell centres.
    #[serde(skip)]
    pub p: Option<Vec<f64>>,
}

/// The stationary density at one stable zero of G.
#[derive(Clone, Debug, Serialize)]
pub struct MinimumDensity {
    /// Location.
    pub w: f64,
    /// G′ there.
    pub g_prime: f64,
    /// Local width σ*.
    pub width: f64,
    /// Closed form, normalised on the grid (None where it does not exist).
    pub formula: Option<f64>,
    /// The PDE's (the [`PDE_FLUX`] null vector's) value, interpolated quadratically in ln P.
    pub pde: Option<f64>,
    /// The same from every flux's null vector (flux name, value where it exists).
    pub by_flux: Vec<(String, Option<f64>)>,
}

/// The mass in one basin of attraction of the drift (between barrier tops).
#[derive(Clone, Debug, Serialize)]
pub struct BasinMass {
    /// Left end.
    pub lo: f64,
    /// Right end.
    pub hi: f64,
    /// The stable zero inside, if any.
    pub minimum: Option<f64>,
    /// From the closed form.
    pub formula: Option<f64>,
    /// From the [`PDE_FLUX`] null vector.
    pub pde: Option<f64>,
    /// From the long-time limit of the [`PDE_FLUX`] chain.
    pub long_time: f64,
}

/// A point mass of the end state.
#[derive(Clone, Debug, Serialize)]
pub struct PointMass {
    /// Location (the stable zero of G).
    pub w: f64,
    /// Its local width σ* (numerically zero).
    pub width: f64,
    /// S² there.
    pub s2: f64,
    /// Long-time mass within `window` of `w`.
    pub mass: f64,
    /// Half-width of the window (three cells).
    pub window: f64,
}

/// The stationary states of a problem: closed form, null vectors, long-time limit,
/// critical points, point masses, densities at the minima and basin masses.
#[derive(Clone, Debug, Serialize)]
pub struct StationaryReport {
    /// Problem name.
    pub problem: String,
    /// Learning rate T.
    pub lr: f64,
    /// Batch size B.
    pub batch: usize,
    /// The grid.
    pub grid: Grid,
    /// Closed form at the cell centres, normalised on the grid (None where D = 0 somewhere).
    #[serde(skip)]
    pub formula: Option<Vec<f64>>,
    /// Where the closed form fails (D not positive), if it does.
    pub formula_gap: Option<f64>,
    /// Whether the problem's walls were absorbing (the analysis uses zero flux regardless).
    pub absorbing_walls_ignored: bool,
    /// Null vector of every flux against the closed form.
    pub null_vectors: Vec<NullVectorCheck>,
    /// Zeros of G.
    pub critical: Vec<CriticalPoint>,
    /// Density at each stable zero.
    pub minima: Vec<MinimumDensity>,
    /// Mass per basin of attraction.
    pub basins: Vec<BasinMass>,
    /// Flux of the long-time limit (the [`PDE_FLUX`]).
    pub long_time_flux: String,
    /// Long-time limit from the problem's initial density, at the cell centres.
    #[serde(skip)]
    pub long_time: Vec<f64>,
    /// Communicating classes of the chain that are closed (hold mass for ever).
    pub closed_classes: usize,
    /// Point masses of the end state.
    pub point_masses: Vec<PointMass>,
    /// Slowest non-zero relaxation rate within the closed classes of at least three
    /// cells (per step): how fast the end state mixes; `None` when there is none.
    pub relaxation_rate: Option<f64>,
    /// Mean time for the initial mass to enter the closed classes (steps); `None` when
    /// every cell belongs to a closed class.
    pub arrival_time: Option<f64>,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

/// Mass of density `p` on `grid` within [lo, hi].
pub fn mass_in(grid: &Grid, p: &[f64], lo: f64, hi: f64) -> f64 {
    (0..grid.n)
        .map(|i| p[i] * grid.width(i) * grid.overlap(i, lo, hi))
        .sum::<f64>()
}

/// ln p at `w` by quadratic interpolation of ln p over the three nearest centres.
fn interp_log(grid: &Grid, p: &[f64], w: f64) -> Option<f64> {
    let k = nearest_centre(grid, w).clamp(1, grid.n - 2);
    let (l0, l1, l2) = (p[k - 1].ln(), p[k].ln(), p[k + 1].ln());
    if !(l0.is_finite() && l1.is_finite() && l2.is_finite()) {
        return None;
    }
    let (x0, x1, x2) = (grid.centre(k - 1), grid.centre(k), grid.centre(k + 1));
    Some(
        l0 * (w - x1) * (w - x2) / ((x0 - x1) * (x0 - x2))
            + l1 * (w - x0) * (w - x2) / ((x1 - x0) * (x1 - x2))
            + l2 * (w - x0) * (w - x1) / ((x2 - x0) * (x2 - x1)),
    )
}

/// The cell whose centre is nearest to `w`.
fn nearest_centre(grid: &Grid, w: f64) -> usize {
    let i = grid.locate(w);
    if w < grid.centre(i) && i > 0 && w - grid.centre(i - 1) < grid.centre(i) - w {
        i - 1
    } else if w > grid.centre(i) && i + 1 < grid.n && grid.centre(i + 1) - w < w - grid.centre(i) {
        i + 1
    } else {
        i
    }
}

/// The first face where a zero-flux recursion breaks (α or β not positive).
fn broken_face(op: &Operator) -> Option<f64> {
    let n = op.a.n();
    (0..n - 1)
        .find(|&i| !(op.a.lower[i + 1] > 0.0 && op.a.upper[i] > 0.0))
        .map(|i| op.grid.face(i + 1))
}

/// Stationary states of `problem` on `cells` cells (zero-flux walls).
///
/// The closed form P_s ∝ e^{Φ}/D by quadrature where D > 0 on the whole domain; the null
/// vector of A for every flux; the long-time limit of the [`PDE_FLUX`] operator from the
/// problem's initial density (exact, see [`Chain::long_time_limit`]); the zeros of G with
/// their local widths; point masses (stable zeros with σ* ≤
/// [`ATOM_WIDTH`](crate::analysis::critical::ATOM_WIDTH)·(b − a)) with the long-time mass
/// within three cells; the density at every stable zero and the mass in every basin
/// (split at the barrier tops) from the formula, the PDE and the long-time limit; and
/// the slowest relaxation rate of the operator.
pub fn stationary(problem: &Problem, cells: usize) -> Result<StationaryReport> {
    let clock = Instant::now();
    problem.validate()?;
    let grid = crate::space::auto::grid_for(
        problem,
        None,
        crate::limits::cells(cells).map_err(|e| e.with_origin("--cells"))?,
    )?;
    let mut zf = problem.clone();
    zf.boundary = Boundary::ZeroFlux;
    let (formula, formula_gap) = match closed_form_log(&zf, &grid.centres()) {
        Ok(l) => (Some(normalise_log(&l, &grid)), None),
        Err(w) => (None, Some(w)),
    };
    let critical = critical_points(&zf, grid.a, grid.b, (4 * cells).max(4000));
    // at a point mass D vanishes (to rounding) where G does: the closed form is not
    // integrable there, even if no quadrature node happened to fall on the zero
    let (formula, formula_gap) = match critical.iter().find(|c| c.kind == CriticalKind::PointMass) {
        Some(c) if formula.is_some() => (None, Some(c.w)),
        _ => (formula, formula_gap),
    };
    let (null_vectors, op) = null_vectors(&zf, &grid, formula.as_deref())?;
    let lt = long_time(&zf, &grid, &op)?;
    let pde_p = null_vectors
        .iter()
        .find(|c| c.flux == PDE_FLUX)
        .and_then(|c| c.p.as_deref());
    let minima = minimum_densities(&zf, &grid, &critical, formula.as_deref(), &null_vectors);
    let basins = basin_masses(&grid, &critical, formula.as_deref(), pde_p, &lt.p);
    let point_masses = critical
        .iter()
        .filter(|c| c.kind == CriticalKind::PointMass)
        .map(|c| {
            let h = grid.width(grid.locate(c.w));
            PointMass {
                w: c.w,
                width: c.width,
                s2: c.s2,
                mass: mass_in(&grid, &lt.p, c.w - 3.0 * h, c.w + 3.0 * h),
                window: 3.0 * h,
            }
        })
        .collect();
    Ok(StationaryReport {
        problem: problem.name.clone(),
        lr: problem.lr,
        batch: problem.batch,
        grid,
        formula,
        formula_gap,
        absorbing_walls_ignored: problem.boundary == Boundary::Absorbing,
        null_vectors,
        critical,
        minima,
        basins,
        long_time_flux: PDE_FLUX.to_string(),
        long_time: lt.p,
        closed_classes: lt.closed_classes,
        point_masses,
        relaxation_rate: lt.relaxation_rate,
        arrival_time: lt.arrival_time,
        wall_s: clock.elapsed().as_secs_f64(),
    })
}

/// The null vector of every flux's operator on `grid` against the closed form
/// `formula` (when it exists), and the [`PDE_FLUX`] operator.
fn null_vectors(
    zf: &Problem,
    grid: &Grid,
    formula: Option<&[f64]>,
) -> Result<(Vec<NullVectorCheck>, Operator)> {
    let mut checks = Vec::new();
    let mut pde_op = None;
    for info in flux::FLUXES {
        let fl = flux::by_name(info.name)?;
        let op = Operator::assemble(zf, grid.clone(), fl.as_ref())?;
        let p = op.null_vector();
        let (max_log_dev, l1) = match (&p, formula) {
            (Some(p), Some(f)) => {
                let mut dev = 0.0f64;
                let mut l1 = 0.0;
                for (i, (a, b)) in p.iter().zip(f).enumerate() {
                    l1 += (a - b).abs() * grid.width(i);
                    if *b > 1e-300 && *a > 0.0 {
                        dev = dev.max((a / b).ln().abs());
                    } else if *b > 1e-300 {
                        dev = f64::INFINITY;
                    }
                }
                (Some(dev), Some(l1))
            }
            _ => (None, None),
        };
        checks.push(NullVectorCheck {
            flux: info.name.to_string(),
            broken_at: if p.is_none() { broken_face(&op) } else { None },
            max_log_dev,
            l1,
            p,
        });
        if info.name == PDE_FLUX {
            pde_op = Some(op);
        }
    }
    let op = match pde_op {
        Some(op) => op,
        None => Operator::assemble(zf, grid.clone(), flux::by_name(PDE_FLUX)?.as_ref())?,
    };
    Ok((checks, op))
}

/// The long-time limit of an operator's chain and what it says about the end state.
struct LongTime {
    /// Density at the cell centres.
    p: Vec<f64>,
    /// Closed communicating classes.
    closed_classes: usize,
    /// Slowest relaxation rate within the closed classes.
    relaxation_rate: Option<f64>,
    /// Mean time for the initial mass to enter the closed classes.
    arrival_time: Option<f64>,
}

/// The long-time limit of `op` (zero-flux walls) from the problem's initial density.
fn long_time(zf: &Problem, grid: &Grid, op: &Operator) -> Result<LongTime> {
    let chain = Chain::from_operator(op)?;
    let p0 = initial_density(zf, grid)?;
    let m0: Vec<f64> = p0
        .iter()
        .enumerate()
        .map(|(i, v)| v * grid.width(i))
        .collect();
    let (m_inf, classes): (Vec<f64>, Vec<Class>) = chain.long_time_limit(&m0).ok_or_else(|| {
        Error::invalid(
            "boundary",
            "absorbing",
            "the long-time limit needs zero-flux walls",
        )
    })?;
    let arrival_time = if classes.iter().all(|c| c.closed) {
        None
    } else {
        chain
            .arrival_times()
            .map(|t| t.iter().zip(&m0).map(|(t, m)| t * m).sum::<f64>())
            .or(Some(f64::INFINITY))
    };
    Ok(LongTime {
        p: m_inf
            .iter()
            .enumerate()
            .map(|(i, m)| m / grid.width(i))
            .collect(),
        closed_classes: classes.iter().filter(|c| c.closed).count(),
        relaxation_rate: chain.closed_relaxation_rate(),
        arrival_time,
    })
}

/// The density at every stable zero of G: from the closed form (exact Φ from the
/// nearest centre), from the [`PDE_FLUX`] null vector and from every flux's.
fn minimum_densities(
    zf: &Problem,
    grid: &Grid,
    critical: &[CriticalPoint],
    formula: Option<&[f64]>,
    null_vectors: &[NullVectorCheck],
) -> Vec<MinimumDensity> {
    let at = |p: Option<&Vec<f64>>, w: f64| p.and_then(|p| interp_log(grid, p, w)).map(f64::exp);
    let pde_p = null_vectors
        .iter()
        .find(|c| c.flux == PDE_FLUX)
        .and_then(|c| c.p.as_ref());
    critical
        .iter()
        .filter(|c| c.kind != CriticalKind::Barrier)
        .map(|c| {
            let f = formula.and_then(|f| {
                // exact Φ from the nearest centre, normalised like the grid values
                let k = nearest_centre(grid, c.w);
                let dphi = phi_between(zf, grid.centre(k), c.w, 4)?;
                let dk = zf.coeffs(grid.centre(k)).d;
                Some(f[k] * dphi.exp() * dk / c.d)
            });
            MinimumDensity {
                w: c.w,
                g_prime: c.g_prime,
                width: c.width,
                formula: f,
                pde: at(pde_p, c.w),
                by_flux: null_vectors
                    .iter()
                    .map(|nv| (nv.flux.clone(), at(nv.p.as_ref(), c.w)))
                    .collect(),
            }
        })
        .collect()
}

/// The mass in every basin of attraction (the domain cut at the barrier tops).
fn basin_masses(
    grid: &Grid,
    critical: &[CriticalPoint],
    formula: Option<&[f64]>,
    pde_p: Option<&[f64]>,
    long_time: &[f64],
) -> Vec<BasinMass> {
    let mut cuts: Vec<f64> = vec![grid.a];
    cuts.extend(
        critical
            .iter()
            .filter(|c| c.kind == CriticalKind::Barrier)
            .map(|c| c.w),
    );
    cuts.push(grid.b);
    cuts.windows(2)
        .map(|w| BasinMass {
            lo: w[0],
            hi: w[1],
            minimum: critical
                .iter()
                .find(|c| c.kind != CriticalKind::Barrier && c.w > w[0] && c.w < w[1])
                .map(|c| c.w),
            formula: formula.map(|f| mass_in(grid, f, w[0], w[1])),
            pde: pde_p.map(|p| mass_in(grid, p, w[0], w[1])),
            long_time: mass_in(grid, long_time, w[0], w[1]),
        })
        .collect()
}

impl StationaryReport {
    /// The ratio P(W₂)/P(W₁) of consecutive stable zeros (formula, PDE).
    pub fn ratios(&self) -> Vec<(f64, f64, Option<f64>, Option<f64>)> {
        self.minima
            .windows(2)
            .map(|m| {
                let r = |a: Option<f64>, b: Option<f64>| Some(b? / a?);
                (
                    m[0].w,
                    m[1].w,
                    r(m[0].formula, m[1].formula),
                    r(m[0].pde, m[1].pde),
                )
            })
            .collect()
    }

    /// Plain-text summary (what `probcurrent stationary` prints).
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.text_formula(&mut s);
        self.text_critical(&mut s);
        self.text_densities(&mut s);
        self.text_end_state(&mut s);
        s
    }

    /// The problem, the closed form and the null vectors against it.
    fn text_formula(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "stationary state of `{}` (T = {}, B = {}, [{}, {}], {} cells, zero-flux walls{})",
            self.problem,
            self.lr,
            self.batch,
            self.grid.a,
            self.grid.b,
            self.grid.n,
            if self.absorbing_walls_ignored {
                "; the problem's absorbing walls were replaced"
            } else {
                ""
            }
        );
        match self.formula_gap {
            None => {
                let _ = writeln!(
                    s,
                    "closed form P_s ∝ exp(−T∫G/D)/D: exists (D > 0 on the domain)"
                );
            }
            Some(w) => {
                let _ = writeln!(
                    s,
                    "closed form P_s ∝ exp(−T∫G/D)/D: does not exist — D = 0 at W = {w:.6} (the noise vanishes)"
                );
            }
        }
        let _ = writeln!(
            s,
            "null vector of A (zero-flux recursion) against the closed form:"
        );
        for c in &self.null_vectors {
            let what = match (&c.p, c.broken_at) {
                (None, Some(w)) => format!("chain breaks at W = {w:.6} (a face with a zero rate)"),
                (None, None) => "not available".to_string(),
                (Some(_), _) => match (c.max_log_dev, c.l1) {
                    (Some(d), Some(l1)) => format!("max |ln(P/P_s)| = {d:.2e}, L1 = {l1:.2e}"),
                    _ => "exists (no closed form to compare)".to_string(),
                },
            };
            let _ = writeln!(s, "  {:<28} {what}", c.flux);
        }
    }

    /// The zeros of G and the point masses.
    fn text_critical(&self, s: &mut String) {
        let _ = writeln!(s, "zeros of G (drift −T·G):");
        for c in &self.critical {
            let _ = writeln!(
                s,
                "  W = {:<10.6} G′ = {:<10.4} S² = {:<10.3e} σ* = {:<10.3e} {}",
                c.w,
                c.g_prime,
                c.s2,
                c.width,
                c.kind.as_str()
            );
        }
        for p in &self.point_masses {
            let _ = writeln!(
                s,
                "point mass at W = {:.6} holding mass {:.6} (within ±{:.2e}; S² = {:.2e}, σ* = {:.1e}: G and S² vanish together)",
                p.w, p.mass, p.window, p.s2, p.width
            );
        }
    }

    /// Densities at the stable zeros and their ratios.
    fn text_densities(&self, s: &mut String) {
        if self
            .minima
            .iter()
            .any(|m| m.formula.is_some() || m.pde.is_some())
        {
            let _ = writeln!(
                s,
                "density at the stable zeros (formula | PDE = {} null vector):",
                PDE_FLUX
            );
            for m in &self.minima {
                let _ = writeln!(
                    s,
                    "  P({:.6}) = {} | {}",
                    m.w,
                    opt(m.formula, num),
                    opt(m.pde, num)
                );
            }
        }
        for (w1, w2, f, p) in self.ratios() {
            if f.is_none() && p.is_none() {
                continue;
            }
            let rel = match (f, p) {
                (Some(f), Some(p)) => format!(" (relative difference {:.2e})", (p - f).abs() / f),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "density ratio P({w2:.4})/P({w1:.4}): formula {} | PDE {}{rel}",
                opt(f, num),
                opt(p, num),
            );
        }
        for m in self.minima.windows(2) {
            let per: Vec<String> = m[0]
                .by_flux
                .iter()
                .zip(&m[1].by_flux)
                .filter_map(|((name, a), (_, b))| Some(format!("{name} {}", num((*b)? / (*a)?))))
                .collect();
            if !per.is_empty() {
                let _ = writeln!(
                    s,
                    "  the same ratio from each flux's null vector: {}",
                    per.join(", ")
                );
            }
        }
    }

    /// Basin masses, the long-time limit and its time scales.
    fn text_end_state(&self, s: &mut String) {
        let _ = writeln!(s, "mass per basin (formula | PDE | long-time limit):");
        for b in &self.basins {
            let _ = writeln!(
                s,
                "  [{:.4}, {:.4}]{}: {} | {} | {}",
                b.lo,
                b.hi,
                b.minimum
                    .map_or(String::new(), |m| format!(" (minimum {m:.4})")),
                opt(b.formula, num),
                opt(b.pde, num),
                num(b.long_time)
            );
        }
        let _ = writeln!(
            s,
            "long-time limit ({} chain, from the initial density): {} closed class{}{}",
            self.long_time_flux,
            self.closed_classes,
            if self.closed_classes == 1 { "" } else { "es" },
            if self.closed_classes == 1 {
                ", so the end state does not depend on the start"
            } else {
                ": the end state depends on the start"
            }
        );
        if let Some(t) = self.arrival_time {
            let _ = writeln!(
                s,
                "mean time for the initial mass to reach the end state (enter a closed class): {} steps",
                steps(t)
            );
        }
        if let Some(r) = self.relaxation_rate {
            let _ = writeln!(
                s,
                "relaxation rate of the end state λ₁ = {r:.4e} per step (time scale 1/λ₁ = {} steps)",
                steps(1.0 / r)
            );
        }
    }
}
