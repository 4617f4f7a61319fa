//! `exponential.md`: where the rational exponential integrator (card
//! `scharfetter-gummel-exp`) is accurate and where it fails.
//!
//! r(τA)v = c0 v + 2 Re Σ_k c_k (τA − z_k I)⁻¹ v is as accurate as the scalar
//! approximation |r(x) − e^x| on (−∞, 0] only for a normal A. The seed operator is
//! similar to a symmetric one through the diagonal √(stationary density), which spans
//! hundreds of orders of magnitude where the noise vanishes (cell Péclet numbers up to
//! 1e40), so the error of r(τA) can be the scalar error times an astronomically large
//! factor: in pseudospectral terms, poles z_k with Re z_k < 0 lie inside the disks
//! |z + τa| ≤ τa that the transport chains of rate a fill. The report measures the
//! scalar error of each approximation, then the Wasserstein-1 error on `seed` against
//! the same operator integrated to convergence (TR-BDF2 at dt and dt/2,
//! Richardson-extrapolated) across t, degree and the Péclet number (raised by lowering
//! the noise floor ε added to S²).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::io;
use crate::analysis::metrics::wasserstein1;
use crate::error::Result;
use crate::model::problem::Problem;
use crate::reports::validation::Summary;
use crate::run::{run, RunSettings};
use crate::scheme::Scheme;
use crate::space::grid::Grid;
use crate::space::initial::initial_density;
use crate::space::operator::Operator;
use crate::stats::Stats;
use crate::time::{Approximation, ExpOrigin, Rational, RationalExp};

/// An error that is not a finite number below this counts as a failure in the tables.
const FAIL: f64 = 1.0;

/// Sizes of the study.
#[derive(Clone, Debug, Serialize)]
pub struct ExpSizes {
    /// Cells of the seed runs.
    pub cells: usize,
    /// Times at which the error is measured.
    pub times: Vec<f64>,
    /// (approximation, degree) of the error-against-t table.
    pub approximations: Vec<(Approximation, usize)>,
    /// Noise floors ε of the Péclet table.
    pub floors: Vec<f64>,
    /// Time of the Péclet table.
    pub t_peclet: f64,
    /// Reference steps (TR-BDF2 at dt and dt/2, extrapolated).
    pub reference_dt: f64,
}

impl ExpSizes {
    /// Full sizes, or `quick` ones (a few seconds).
    pub fn new(quick: bool) -> Self {
        use Approximation::{Cf, Talbot};
        if quick {
            ExpSizes {
                cells: 600,
                times: vec![5.0, 50.0, 200.0, 500.0],
                approximations: vec![(Cf, 14), (Cf, 16), (Talbot, 24)],
                floors: vec![0.0, 1e-2, 1e-1, 1.0],
                t_peclet: 50.0,
                reference_dt: 0.1,
            }
        } else {
            ExpSizes {
                cells: 2400,
                times: vec![1.0, 5.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0],
                approximations: vec![(Cf, 14), (Cf, 16), (Talbot, 16), (Talbot, 24), (Talbot, 32)],
                floors: vec![0.0, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 10.0],
                t_peclet: 50.0,
                reference_dt: 0.05,
            }
        }
    }
}

/// One approximation's row: its name, solves per evaluation and measured errors.
#[derive(Clone, Debug, Serialize)]
pub struct ErrRow {
    /// e.g. `cf 16`.
    pub label: String,
    /// Shifted solves per evaluation.
    pub solves: usize,
    /// Errors, one per column (non-finite: the evaluation overflowed).
    pub errors: Vec<f64>,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct ExpStudy {
    /// The sizes used.
    pub sizes: ExpSizes,
    /// max |r(x) − e^x| on [−1e6, 0], per approximation (errors has one entry).
    pub scalar: Vec<ErrRow>,
    /// W1 error on seed at each of `sizes.times`, one evaluation from t = 0.
    pub by_time: Vec<ErrRow>,
    /// Largest cell Péclet number for each noise floor.
    pub peclet: Vec<f64>,
    /// ln(max π / min π) of the stationary density π for each noise floor (∞ where a
    /// face is pure upwind: π vanishes on one side).
    pub ln_range: Vec<f64>,
    /// W1 error of each approximation at `t_peclet`, one column per noise floor.
    pub by_floor: Vec<ErrRow>,
    /// W1 error at t = 500 with snapshots every 50: (from, error, solves, factorisations).
    pub origins: Vec<(String, f64, u64, u64)>,
}

fn label(a: Approximation, n: usize) -> String {
    format!("{} {n}", a.name())
}

/// TR-BDF2 (scharfetter-gummel-trbdf2) at `dt` and `dt`/2 on `p`, Richardson-extrapolated,
/// at each of `times` (multiples of `every`).
fn reference(
    p: &Problem,
    cells: usize,
    dt: f64,
    times: &[f64],
    every: f64,
) -> Result<Vec<Vec<f64>>> {
    let card = Scheme::resolve("scharfetter-gummel-trbdf2")?;
    let t_end = times.iter().cloned().fold(0.0, f64::max);
    let at = |dt: f64| -> Result<Vec<Vec<f64>>> {
        let settings = RunSettings {
            cells,
            dt: Some(dt),
            t_end: Some(t_end),
            every: Some(every),
            ..Default::default()
        };
        let r = run(p, &card, &settings)?;
        Ok(times
            .iter()
            .map(|&t| {
                r.snapshots
                    .iter()
                    .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()))
                    .map_or_else(Vec::new, |s| s.p.clone())
            })
            .collect())
    };
    let (a, b) = (at(dt)?, at(dt / 2.0)?);
    Ok(a.iter()
        .zip(&b)
        .map(|(x, y)| x.iter().zip(y).map(|(u, v)| (4.0 * v - u) / 3.0).collect())
        .collect())
}

/// W1 between `q` and `r` on `grid`, or ∞ when `q` is not finite or is no density.
fn w1(grid: &Grid, q: &[f64], r: &[f64]) -> f64 {
    if q.iter().all(|x| x.is_finite()) {
        wasserstein1(grid, q, r).unwrap_or(f64::INFINITY)
    } else {
        f64::INFINITY
    }
}

/// One evaluation r(tA)P0 against `r`: W1 error.
fn one_eval(op: &Operator, rat: &Rational, p0: &[f64], t: f64, r: &[f64]) -> Result<f64> {
    let mut e = RationalExp::new(op, rat.clone(), t, ExpOrigin::Start);
    let mut q = vec![0.0; p0.len()];
    match e.apply(t, p0, &mut q, &mut Stats::default()) {
        Ok(()) => Ok(w1(&op.grid, &q, r)),
        Err(_) => Ok(f64::INFINITY),
    }
}

/// ln(max π / min π) of the stationary density of a zero-flux operator, from the face
/// ratios π_{i+1}/π_i = A[i+1][i] / A[i][i+1] (∞ where some A[i][i+1] = 0).
fn ln_range_of_stationary(op: &Operator) -> f64 {
    let (mut l, mut lo, mut hi) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..op.a.n().saturating_sub(1) {
        let (al, be) = (op.a.lower[i + 1], op.a.upper[i]);
        if !(al > 0.0 && be > 0.0) {
            return f64::INFINITY;
        }
        l += al.ln() - be.ln();
        lo = lo.min(l);
        hi = hi.max(l);
    }
    hi - lo
}

fn seed_with_floor(floor: f64) -> Result<Problem> {
    let mut p = Problem::builtin("seed")?;
    p.noise_floor = floor;
    Ok(p)
}

fn operator(p: &Problem, cells: usize) -> Result<Operator> {
    let grid = Grid::new(p.a, p.b, cells)?;
    let flux = crate::space::flux::by_name("scharfetter-gummel")?;
    Operator::assemble(p, grid, flux.as_ref())
}

/// Measure everything (see the module documentation).
pub fn compute(sizes: &ExpSizes) -> Result<ExpStudy> {
    use Approximation::{Cf, Talbot};
    let mut scalar = Vec::new();
    for (a, n) in [
        (Cf, 14),
        (Cf, 16),
        (Talbot, 8),
        (Talbot, 16),
        (Talbot, 24),
        (Talbot, 32),
        (Talbot, 40),
    ] {
        let r = Rational::new(a, n)?;
        scalar.push(ErrRow {
            label: label(a, n),
            solves: r.solves(),
            errors: vec![r.max_error(1e6, 20_000)],
        });
    }
    let seed = Problem::builtin("seed")?;
    let op = operator(&seed, sizes.cells)?;
    let p0 = initial_density(&seed, &op.grid)?;
    let refs = reference(&seed, sizes.cells, sizes.reference_dt, &sizes.times, 1.0)?;
    let mut by_time = Vec::new();
    for &(a, n) in &sizes.approximations {
        let rat = Rational::new(a, n)?;
        let errors = sizes
            .times
            .iter()
            .zip(&refs)
            .map(|(&t, r)| one_eval(&op, &rat, &p0, t, r))
            .collect::<Result<Vec<_>>>()?;
        by_time.push(ErrRow {
            label: label(a, n),
            solves: rat.solves(),
            errors,
        });
    }
    let (mut peclet, mut ln_range) = (Vec::new(), Vec::new());
    let mut floor_errors = vec![Vec::new(); sizes.approximations.len()];
    for &eps in &sizes.floors {
        let p = seed_with_floor(eps)?;
        let op = operator(&p, sizes.cells)?;
        peclet.push(op.diagnostics(false).max_peclet);
        ln_range.push(ln_range_of_stationary(&op));
        let r = reference(
            &p,
            sizes.cells,
            sizes.reference_dt,
            &[sizes.t_peclet],
            sizes.t_peclet,
        )?;
        for (k, &(a, n)) in sizes.approximations.iter().enumerate() {
            floor_errors[k].push(one_eval(
                &op,
                &Rational::new(a, n)?,
                &p0,
                sizes.t_peclet,
                &r[0],
            )?);
        }
    }
    let by_floor = sizes
        .approximations
        .iter()
        .zip(floor_errors)
        .map(|(&(a, n), errors)| ErrRow {
            label: label(a, n),
            solves: n / 2,
            errors,
        })
        .collect();
    let origins = origins(&op, &p0, sizes.cells, &seed, sizes.reference_dt)?;
    Ok(ExpStudy {
        sizes: sizes.clone(),
        scalar,
        by_time,
        peclet,
        ln_range,
        by_floor,
        origins,
    })
}

/// cf 16 to t = 500 in ten evaluations of 50, from the previous density or from P0.
fn origins(
    op: &Operator,
    p0: &[f64],
    cells: usize,
    seed: &Problem,
    dt: f64,
) -> Result<Vec<(String, f64, u64, u64)>> {
    let r = reference(seed, cells, dt, &[500.0], 50.0)?;
    let mut out = Vec::new();
    for from in [ExpOrigin::Previous, ExpOrigin::Start] {
        let mut e = RationalExp::new(op, Rational::new(Approximation::Cf, 16)?, 50.0, from);
        let mut stats = Stats::default();
        let mut q = p0.to_vec();
        let mut ok = true;
        for k in 1..=10 {
            let v = if from == ExpOrigin::Previous {
                q.clone()
            } else {
                p0.to_vec()
            };
            let tau = if from == ExpOrigin::Previous {
                50.0
            } else {
                50.0 * f64::from(k)
            };
            ok &= e.apply(tau, &v, &mut q, &mut stats).is_ok();
        }
        let err = if ok {
            w1(&op.grid, &q, &r[0])
        } else {
            f64::INFINITY
        };
        let name = if from == ExpOrigin::Previous {
            "previous"
        } else {
            "start"
        };
        out.push((
            name.to_string(),
            err,
            stats.linear_solves,
            stats.factorizations,
        ));
    }
    Ok(out)
}

fn cell(e: f64) -> String {
    if e.is_finite() && e < FAIL {
        format!("{e:.1e}")
    } else if e.is_finite() {
        format!("**fails** ({e:.0e})")
    } else {
        "**fails** (overflow)".into()
    }
}

fn table(md: &mut String, head: &[String], rows: &[ErrRow]) {
    let _ = writeln!(md, "| approximation | solves | {} |", head.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(head.len()));
    for r in rows {
        let cells: Vec<String> = r.errors.iter().map(|&e| cell(e)).collect();
        let _ = writeln!(md, "| {} | {} | {} |", r.label, r.solves, cells.join(" | "));
    }
}

/// The markdown of the report.
pub fn markdown(s: &ExpStudy, command: &str) -> String {
    let mut md = format!(
        "# Rational exponential integrator\n\nGenerated by `{command}`; do not edit by hand.\n\n\
         P(t) = e^{{tA}} P0 by r(tA) P0 = c0 P0 + 2 Re Σ_k c_k (tA − z_k I)⁻¹ P0 (card \
         `scharfetter-gummel-exp`: `cf` 16). Errors are Wasserstein-1 against the same operator \
         integrated by TR-BDF2 at dt = {} and dt/2, Richardson-extrapolated; \"fails\" means \
         W1 ≥ {FAIL} or overflow.\n\n## Scalar error max |r(x) − e^x| on [−1e6, 0] (measured in double precision)\n\n",
        s.sizes.reference_dt
    );
    table(&mut md, &["error".into()], &s.scalar);
    let _ = writeln!(
        md,
        "\n## `seed`, {} cells: error against t (one evaluation from t = 0)\n",
        s.sizes.cells
    );
    let head: Vec<String> = s.sizes.times.iter().map(|t| format!("t = {t}")).collect();
    table(&mut md, &head, &s.by_time);
    let _ = writeln!(
        md,
        "\n## `seed`, {} cells, t = {}: error against the noise floor ε added to S²\n\n\
         Pe is the largest cell Péclet number, ln π the range ln(max π / min π) of the \
         stationary density (the symmetrising similarity has condition number √(max π / min π)): \
         that range, not the cell Péclet number, decides whether r(tA) is accurate.\n",
        s.sizes.cells, s.sizes.t_peclet
    );
    let head: Vec<String> = s
        .sizes
        .floors
        .iter()
        .zip(&s.peclet)
        .zip(&s.ln_range)
        .map(|((e, pe), lr)| format!("ε = {e} (Pe {pe:.1e}, ln π {lr:.0})"))
        .collect();
    table(&mut md, &head, &s.by_floor);
    let _ = writeln!(
        md,
        "\n## Snapshots every 50 to t = 500 (cf 16)\n\n| from | W1 at t = 500 | solves | factorisations |\n|---|---|---|---|"
    );
    for (name, e, solves, facts) in &s.origins {
        let _ = writeln!(md, "| {name} | {} | {solves} | {facts} |", cell(*e));
    }
    md
}

/// Compute and write `exponential.md` into `dir`.
pub fn exponential_report(dir: &Path, quick: bool, command: &str) -> Result<Summary> {
    let clock = Instant::now();
    let s = compute(&ExpSizes::new(quick))?;
    let path = dir.join("exponential.md");
    std::fs::write(&path, markdown(&s, command)).map_err(io(&path))?;
    let at = |t: f64| s.sizes.times.iter().position(|&x| (x - t).abs() < 1e-9);
    let cf16 = s.by_time.iter().find(|r| r.label == "cf 16");
    let line = match (cf16, at(500.0), at(50.0)) {
        (Some(r), Some(i), Some(j)) => format!(
            "exponential: cf 16 on seed ({} cells) W1 {} at t = 500, {} at t = 50",
            s.sizes.cells,
            cell(r.errors[i]),
            cell(r.errors[j])
        ),
        _ => "exponential: written".into(),
    };
    Ok(Summary {
        lines: vec![line],
        plots: vec![],
        wall_s: clock.elapsed().as_secs_f64(),
    })
}
