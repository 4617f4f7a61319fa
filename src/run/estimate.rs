//! A-posteriori error estimate of a Fokker–Planck run, in the Wasserstein-1 distance
//! at the final time, by re-running the same card on a finer grid and with a coarser
//! step and extrapolating (Richardson 1911), and what builds on it: the default step
//! chosen by accuracy ([`choose_step`]) and runs to a tolerance ([`solve_to_tolerance`]).
//!
//! The error of a run on N cells at step dt is split as e ≈ e_space + e_time with
//! e_space ≈ C h^p and e_time ≈ K dt^q.
//!
//! * Space: the card runs again at the same step (an explicit card: at its default
//!   step there, as its step limit falls on the finer grid) on 2 N cells, and with
//!   d = W1(P_N, P_2N) the error of the N-cell run is e_space = d / (1 − 2^(−p)) with
//!   the card's claimed order p. The finer grid is deliberate: on `seed` the pit spike
//!   is a few cells wide and convergence on uniform grids is not monotone, so coarser
//!   comparison grids (0.8 N and 0.64 N with the observed order) were measured to
//!   over-estimate by factors up to 20, while 2 N stays within a factor 2.
//! * Time: a fixed-step card runs again at 2 dt (implicit) or dt/2 (explicit, whose
//!   step is limited), and e_time = W1(P_dt, P_s·dt) / |s^q − 1| with the claimed time
//!   order q. An adaptive (mol-*) card runs again at 10 × rtol and atol and
//!   e_time = W1 / 9 (its error taken proportional to the tolerance).
//!
//! Default step of a fixed-step implicit card ([`choose_step`]): a pilot run at the
//! card's step dt₀ (at most t_end/4) gives e_space and e_time(dt₀); the step is then
//! dt = dt₀ (e_space / (4 e_time(dt₀)))^(1/q), so the time error is about a quarter of
//! the space error, never above dt₀ and never below t_end / [`MAX_AUTO_STEPS`], rounded
//! down to divide the snapshot interval.
//!
//! W1 between two cell-average densities on different grids is computed exactly
//! ([`w1_between`]), so the coarse solutions need no interpolation.

use std::time::Instant;

/// The order assumed for Richardson extrapolation when a card claims none: first
/// order, which makes the estimate the larger (the safe side).
const UNCLAIMED_ORDER: f64 = 1.0;

use serde::Serialize;

use super::{run, RunReport, RunSettings};
use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::scheme::Scheme;
use crate::scheme::StepKind;
use crate::space::grid::Grid;

/// The comparison grid of the space estimate has this many times the run's cells.
pub const SPACE_FACTOR: usize = 2;
/// Factor on the tolerances of the comparison run of an adaptive card.
pub const RTOL_FACTOR: f64 = 10.0;

/// The estimated error of a run at its final time, in W1 (the same units as W).
#[derive(Clone, Debug, Serialize)]
pub struct ErrorEstimate {
    /// Estimated W1 error from the spatial discretisation.
    pub w1_space: f64,
    /// Estimated W1 error from the time stepping.
    pub w1_time: f64,
    /// w1_space + w1_time.
    pub w1: f64,
    /// How it was estimated (grids, step, orders).
    pub method: String,
    /// Spatial order used in the extrapolation (the card's claim).
    pub order_space: f64,
    /// Time order used.
    pub order_time: f64,
    /// Extra solves the estimate took.
    pub solves: usize,
    /// Wall time of those solves, seconds.
    pub cost_s: f64,
}

/// The final density of a run and its grid.
struct Final {
    grid: Grid,
    p: Vec<f64>,
}

/// Run `scheme` with `settings` and return its final density, or `None` when it did not
/// reach t_end (diverged or failed). Only the initial and final densities are kept.
fn final_density(
    problem: &Problem,
    scheme: &Scheme,
    settings: &RunSettings,
) -> Result<Option<Final>> {
    let t_end = settings.t_end.unwrap_or(problem.t_end);
    let s = RunSettings {
        every: Some(t_end),
        keep_densities: true,
        ..settings.clone()
    };
    let r = run(problem, scheme, &s)?;
    Ok(final_of(&r))
}

/// The last snapshot of `r` if it reached t_end and kept its density.
fn final_of(r: &RunReport) -> Option<Final> {
    use super::Outcome;
    if matches!(r.outcome, Outcome::Diverged | Outcome::Failed) {
        return None;
    }
    let snap = r.snapshots.last()?;
    if (snap.t - r.t_end).abs() > 1e-9 * r.t_end.max(1.0) {
        return None;
    }
    Some(Final {
        grid: r.grid.clone(),
        p: snap.p.clone(),
    })
}

/// The settings of `report`'s run pinned down: the step (or tolerances) it used, given
/// explicitly, so a comparison run changes only what it means to change.
/// The grid is pinned too: a non-uniform grid by its edges, a uniform one by its kind.
fn pinned(report: &RunReport, settings: &RunSettings) -> RunSettings {
    let uniform = report.grid.is_uniform();
    RunSettings {
        cells: report.cells,
        grid: uniform.then_some(crate::model::grid_choice::GridKind::Uniform),
        edges: (!uniform).then(|| report.grid.faces().into()),
        dt: report.dt,
        dt_factor: None,
        t_end: Some(report.t_end),
        rtol: report.rtol,
        atol: report.atol,
        ..settings.clone()
    }
}

/// Estimate the W1 error at t_end of `report`, a run of `scheme` on `problem` with
/// `settings` that kept its final density (see the module documentation for the
/// method). `Ok(None)` when that run or a comparison run did not reach t_end (diverged
/// or failed): there is nothing to extrapolate from.
pub fn estimate(
    problem: &Problem,
    scheme: &Scheme,
    settings: &RunSettings,
    report: &RunReport,
) -> Result<Option<ErrorEstimate>> {
    let clock = Instant::now();
    let Some(fine) = final_of(report) else {
        return Ok(None);
    };
    let base = pinned(report, settings);
    let n = report.cells;
    let n1 = n * SPACE_FACTOR;
    // an explicit card cannot keep its step on the finer grid (its limit falls
    // about fourfold): it runs there at its own default step, whose time error is small
    let explicit = scheme.step_kind() == StepKind::Explicit;
    // a non-uniform grid is refined by splitting every cell in two
    let edges = match &base.edges {
        Some(_) => Some(fine.grid.refined()?.faces().into()),
        None => None,
    };
    let s1 = RunSettings {
        cells: n1,
        edges,
        dt: if explicit { None } else { base.dt },
        ..base.clone()
    };
    let Some(c1) = final_density(problem, scheme, &s1)? else {
        return Ok(None);
    };
    let d1 = w1_between(&fine.grid, &fine.p, &c1.grid, &c1.p);
    let p = scheme.claims.order_space.unwrap_or(UNCLAIMED_ORDER);
    let w1_space = d1 / (1.0 - (SPACE_FACTOR as f64).powf(-p));
    let q = scheme.claims.order_time.unwrap_or(UNCLAIMED_ORDER);
    let (time_settings, time_divisor, time_what) = match scheme.step_kind() {
        StepKind::Adaptive => {
            let (rtol, atol) = tolerances(report);
            let s = RunSettings {
                rtol: Some(rtol * RTOL_FACTOR),
                atol: Some(atol * RTOL_FACTOR),
                ..base.clone()
            };
            (s, RTOL_FACTOR - 1.0, format!("rtol × {RTOL_FACTOR}"))
        }
        kind => {
            let dt = report.dt.unwrap_or(1.0);
            let f = if kind == StepKind::Explicit { 0.5 } else { 2.0 };
            let s = RunSettings {
                dt: Some(dt * f),
                ..base.clone()
            };
            (s, (f.powf(q) - 1.0).abs(), format!("dt × {f}"))
        }
    };
    let Some(ct) = final_density(problem, scheme, &time_settings)? else {
        return Ok(None);
    };
    let w1_time = w1_between(&fine.grid, &fine.p, &ct.grid, &ct.p) / time_divisor;
    let method = format!(
        "Richardson: space from N = {n} against {n1} at {} (order {p}), time from {time_what} (order {q})",
        if explicit { "its default step" } else { "the same step" }
    );
    Ok(Some(ErrorEstimate {
        w1_space,
        w1_time,
        w1: w1_space + w1_time,
        method,
        order_space: p,
        order_time: q,
        solves: 2,
        cost_s: clock.elapsed().as_secs_f64(),
    }))
}

/// Most steps the default-step rule chooses (dt ≥ t_end / this).
pub const MAX_AUTO_STEPS: f64 = 20_000.0;
/// Target of the default-step rule: time error = this × space error.
pub const TIME_SHARE: f64 = 0.25;
/// Most trial solves of [`solve_to_tolerance`] (each with its estimate).
pub const MAX_TRIALS: usize = 8;
/// Most steps [`solve_to_tolerance`] may take (dt ≥ t_end / this).
pub const MAX_TOL_STEPS: f64 = 200_000.0;
/// Smallest rtol [`solve_to_tolerance`] may ask of an adaptive card.
pub const MIN_RTOL: f64 = 1e-12;

/// How the cells, step or tolerances of a run were chosen, and what that cost.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    /// The rule and its outcome, in words.
    pub rule: String,
    /// Solves this choice ran: for the default step the pilot run and its estimate;
    /// for a tolerance every trial with its estimate, the final run included.
    pub solves: usize,
    /// Wall time of those solves, seconds.
    pub wall_s: f64,
}

/// The settings of a run at time `t_end` on `problem`, and whether the default-step
/// rule applies (a fixed-step implicit card with no step given).
pub fn auto_step_applies(scheme: &Scheme, settings: &RunSettings) -> bool {
    // the rational exponential's `dt` is the span of one evaluation, not a step with a
    // truncation error: its card value stands
    let exponential = matches!(
        scheme.integrator,
        crate::scheme::IntegratorSpec::RationalExp(_)
    );
    scheme.step_kind() == StepKind::Implicit
        && !exponential
        && settings.dt.is_none()
        && settings.dt_factor.is_none()
}

/// The default step of a fixed-step implicit card, chosen by accuracy (see the module
/// documentation): `settings` with `dt` filled in, and how it was chosen. Settings that
/// already give a step, and other kinds of card, are returned unchanged with `None`.
pub fn choose_step(
    problem: &Problem,
    scheme: &Scheme,
    settings: &RunSettings,
) -> Result<(RunSettings, Option<Choice>)> {
    if !auto_step_applies(scheme, settings) {
        return Ok((settings.clone(), None));
    }
    let clock = Instant::now();
    let t_end = crate::error::positive("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = crate::error::positive("every", settings.every.unwrap_or(problem.every))?;
    let card_dt = match &scheme.integrator {
        crate::scheme::IntegratorSpec::Theta(t) => t.dt,
        crate::scheme::IntegratorSpec::TrBdf2(t) => t.dt,
        _ => crate::scheme::DEFAULT_DT,
    };
    let dt0 = card_dt.min(t_end / 4.0);
    let pilot = RunSettings {
        dt: Some(dt0),
        every: Some(t_end),
        keep_densities: true,
        ..settings.clone()
    };
    let r = run(problem, scheme, &pilot)?;
    let est = estimate(problem, scheme, &pilot, &r)?;
    let q = scheme.claims.order_time.unwrap_or(UNCLAIMED_ORDER);
    let (dt, why) = match est {
        None => (dt0, "the pilot run did not reach t_end".to_string()),
        Some(e) if e.w1_time <= TIME_SHARE * e.w1_space => (
            dt0,
            format!(
                "time error {:.1e} already ≤ {TIME_SHARE} × space error {:.1e}",
                e.w1_time, e.w1_space
            ),
        ),
        Some(e) => {
            let raw = dt0 * (TIME_SHARE * e.w1_space / e.w1_time).powf(1.0 / q);
            let floor = t_end / MAX_AUTO_STEPS;
            let note = if raw < floor {
                format!(", held at t_end / {MAX_AUTO_STEPS}")
            } else {
                String::new()
            };
            let dt = raw.max(floor);
            (
                dt,
                format!(
                    "pilot at dt = {dt0}: space {:.2e}, time {:.2e}; dt for time ≈ {TIME_SHARE} × space{note}",
                    e.w1_space, e.w1_time
                ),
            )
        }
    };
    let dt = divide(every.min(t_end), dt);
    let choice = Choice {
        rule: format!("dt = {dt:.4e} chosen by accuracy ({why})"),
        solves: 3,
        wall_s: clock.elapsed().as_secs_f64(),
    };
    let s = RunSettings {
        dt: Some(dt),
        ..settings.clone()
    };
    Ok((s, Some(choice)))
}

/// The largest step ≤ `dt` that divides `interval` into whole steps.
fn divide(interval: f64, dt: f64) -> f64 {
    if dt >= interval {
        return interval;
    }
    interval / (interval / dt * (1.0 - 1e-12)).ceil()
}

/// Run `scheme` on `problem`, refining cells and step (tolerances for adaptive cards)
/// until the estimated W1 error at t_end is at most `tol`, with at most `max_cells`
/// cells and [`MAX_TRIALS`] trials. Starts from `settings` (its cells, and its step or
/// the accuracy-chosen one). Returns the final run, with its estimate, and how it was
/// chosen. An error names `tol` when it cannot be met within the caps.
pub fn solve_to_tolerance(
    problem: &Problem,
    scheme: &Scheme,
    settings: &RunSettings,
    tol: f64,
    max_cells: usize,
) -> Result<(RunReport, Choice)> {
    let tol = crate::error::positive("tol", tol)?;
    let clock = Instant::now();
    let (mut s, first) = choose_step(problem, scheme, settings)?;
    let mut solves = first.as_ref().map_or(0, |c| c.solves);
    s.cells = s.cells.min(max_cells);
    let mut last = String::new();
    let fixed_edges = given_by_edges(problem, &s);
    for trial in 1..=MAX_TRIALS {
        let r = run(problem, scheme, &s)?;
        if fixed_edges {
            s.cells = r.grid.n;
        }
        let est = estimate(problem, scheme, &s, &r)?;
        solves += 1;
        let Some(e) = est else {
            let why = format!(
                "trial {trial} ({} cells) did not reach t_end: {}",
                s.cells,
                r.outcome.as_str()
            );
            return Err(Error::invalid("tol", format!("{tol:e}"), why));
        };
        solves += e.solves;
        last = format!(
            "{} cells, estimate {:.3e} (space {:.2e}, time {:.2e})",
            s.cells, e.w1, e.w1_space, e.w1_time
        );
        if e.w1 <= tol {
            let mut r = r;
            let rule = format!(
                "--tol {tol:e}: {} cells, {} after {trial} trial(s); estimate {:.3e}",
                s.cells,
                step_text(&r),
                e.w1
            );
            r.error_estimate = Some(e);
            let choice = Choice {
                rule,
                solves,
                wall_s: clock.elapsed().as_secs_f64(),
            };
            return Ok((r, choice));
        }
        let next = refine(scheme, &s, &r, &e, tol, max_cells)
            .and_then(|next| split_cells(fixed_edges, &s, &r, next, max_cells));
        match next {
            Ok(next) => s = next,
            Err(cap) => {
                let why = format!(
                    "cannot be met: {cap} (last trial: {last}); raise --max-cells or the tolerance"
                );
                return Err(Error::invalid("tol", format!("{tol:e}"), why));
            }
        }
    }
    Err(Error::invalid(
        "tol",
        format!("{tol:e}"),
        format!("not met in {MAX_TRIALS} trials (last: {last}); raise the tolerance"),
    ))
}

/// Whether the run's grid is fixed by edges (the problem's `[grid]` edges, not
/// overridden by `--grid`, or edges in the settings), so that more cells cannot come
/// from the cell count alone.
fn given_by_edges(problem: &Problem, s: &RunSettings) -> bool {
    use crate::model::grid_choice::GridChoice;
    s.edges.is_some() || (s.grid.is_none() && matches!(problem.grid, GridChoice::Edges(_)))
}

/// On a grid fixed by edges, the cells `refine` asked for come from splitting every
/// cell of the run's grid in two, as often as needed (the graded widths keep their
/// ratios); `Err` when that passes `max_cells`.
fn split_cells(
    fixed_edges: bool,
    s: &RunSettings,
    r: &RunReport,
    mut next: RunSettings,
    max_cells: usize,
) -> std::result::Result<RunSettings, String> {
    if !fixed_edges || next.cells <= s.cells {
        return Ok(next);
    }
    let mut grid = r.grid.clone();
    while grid.n < next.cells {
        if 2 * grid.n > max_cells {
            return Err(format!(
                "the space error needs more than {max_cells} cells (a grid given by \
                 edges is refined by halving its cells: {} would be next)",
                2 * grid.n
            ));
        }
        grid = grid.refined().map_err(|e| e.to_string())?;
    }
    next.cells = grid.n;
    next.edges = Some(grid.faces().into());
    Ok(next)
}

/// The step or tolerances of a run, in words.
fn step_text(r: &RunReport) -> String {
    match r.dt {
        Some(dt) => format!("dt = {dt:.4e}"),
        None => format!("rtol {:e}", tolerances(r).0),
    }
}

/// The next trial's settings: each part of the error above 0.4 × tol aimed at it by
/// its order; `Err` with the cap that stops it (cells at `max_cells`, more than
/// [`MAX_TOL_STEPS`] steps, rtol below [`MIN_RTOL`]).
fn refine(
    scheme: &Scheme,
    s: &RunSettings,
    r: &RunReport,
    e: &ErrorEstimate,
    tol: f64,
    max_cells: usize,
) -> std::result::Result<RunSettings, String> {
    let target = 0.4 * tol;
    let mut next = s.clone();
    if e.w1_space > target {
        if s.cells >= max_cells {
            return Err(format!("the space error needs more than {max_cells} cells"));
        }
        let f = (e.w1_space / target)
            .powf(1.0 / e.order_space)
            .clamp(1.25, 4.0);
        next.cells = ((s.cells as f64 * f).ceil() as usize).min(max_cells);
    }
    if e.w1_time > target {
        let f = (target / e.w1_time).max(1e-2);
        match scheme.step_kind() {
            StepKind::Adaptive => {
                let (rtol, atol) = tolerances(r);
                if rtol <= MIN_RTOL {
                    return Err(format!("the time error needs rtol below {MIN_RTOL:e}"));
                }
                next.rtol = Some((rtol * f).max(MIN_RTOL));
                next.atol = Some(atol * f);
            }
            _ => {
                let dt = r.dt.unwrap_or(r.t_end);
                let floor = r.t_end / MAX_TOL_STEPS;
                if dt <= floor * (1.0 + 1e-9) {
                    return Err(format!(
                        "the time error needs more than {MAX_TOL_STEPS} steps"
                    ));
                }
                next.dt = Some((dt * f.powf(1.0 / e.order_time).min(0.8)).max(floor));
            }
        }
    }
    Ok(next)
}

/// The tolerances an adaptive run used (the card's defaults when it gave none).
fn tolerances(report: &RunReport) -> (f64, f64) {
    use crate::scheme::{DEFAULT_ATOL, DEFAULT_RTOL};
    (
        report.rtol.unwrap_or(DEFAULT_RTOL),
        report.atol.unwrap_or(DEFAULT_ATOL),
    )
}

/// Cumulative distribution of a cell-average density at the faces of its grid.
fn cdf(grid: &Grid, p: &[f64]) -> Vec<f64> {
    let mut f = Vec::with_capacity(grid.n + 1);
    let mut acc = 0.0;
    f.push(0.0);
    for (i, v) in p.iter().enumerate() {
        acc += v * grid.width(i);
        f.push(acc);
    }
    f
}

fn cdf_at(grid: &Grid, f: &[f64], x: f64) -> f64 {
    if x <= grid.a {
        return 0.0;
    }
    if x >= grid.b {
        return f[grid.n];
    }
    let i = grid.locate(x);
    let s = ((x - grid.face(i)) / grid.width(i)).clamp(0.0, 1.0);
    f[i] + s * (f[i + 1] - f[i])
}

/// Wasserstein-1 distance ∫|F_p − F_q| between densities on two grids of the same
/// domain (exact for piecewise-constant densities: integrated between the union of
/// both grids' faces, where F_p − F_q is linear). Also available as
/// `analysis::metrics::w1_between`.
pub fn w1_between(gp: &Grid, p: &[f64], gq: &Grid, q: &[f64]) -> f64 {
    let (fp, fq) = (cdf(gp, p), cdf(gq, q));
    let mut xs: Vec<f64> = (0..=gp.n)
        .map(|i| gp.face(i))
        .chain((0..=gq.n).map(|i| gq.face(i)))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-14 * (1.0 + b.abs()));
    let mut sum = 0.0;
    let mut d0 = cdf_at(gp, &fp, xs[0]) - cdf_at(gq, &fq, xs[0]);
    for w in xs.windows(2) {
        let d1 = cdf_at(gp, &fp, w[1]) - cdf_at(gq, &fq, w[1]);
        let len = w[1] - w[0];
        sum += if (d0 >= 0.0) == (d1 >= 0.0) {
            0.5 * len * (d0.abs() + d1.abs())
        } else {
            0.5 * len * (d0 * d0 + d1 * d1) / (d0.abs() + d1.abs())
        };
        d0 = d1;
    }
    sum
}
