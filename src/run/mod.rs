//! Runs: set up a model on a grid, drive it through the snapshot times, monitor it and
//! report the outcome.
//!
//! [`run()`] solves the Fokker–Planck equation with a scheme card (a flux and a time
//! integrator); [`run_transfer`] runs a discrete-time transfer model (an Ulam Markov
//! chain, one matrix–vector product per SGD step). Both assemble their propagator and
//! hand it to the one driver ([`drive::drive`]), which owns the loop's observer side:
//! snapshots, monitors ([`Monitors`]) and the [`RunReport`], so the outputs of every
//! model compare column by column.

pub mod drive;
pub mod estimate;
pub mod monitors;
pub mod output;
pub mod report;
pub mod solve;
mod transfer;

pub use drive::{drive, Plan};
pub use monitors::{count_extrema, longest_zigzag, Monitors};
pub use report::{moments, Event, EventKind, Moments, Outcome, RunReport, Snapshot, Wall, Warning};
pub use transfer::{run_transfer, run_transfer_with, run_transfer_with_progress};

use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::grid_choice::GridKind;
use crate::model::problem::Problem;
use crate::scheme::Scheme;
use crate::space::grid::Grid;
use crate::space::initial::initial_density;
use crate::space::operator::{Diagnostics, Operator};
use crate::stats::Stats;
use crate::time::TimeOperator;

/// Settings of one run. With the `cli` feature it is also the options of the commands
/// that solve (one source for their documentation and defaults).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct RunSettings {
    /// Number of finite-volume cells (default 600).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 600))]
    pub cells: usize,
    /// Grid: `uniform` cells, or `auto` (cells equidistributing a monitor of the
    /// landscape, see docs/schemes.md) (default: the problem's `[grid]`, else uniform).
    #[cfg_attr(feature = "cli", arg(long, value_enum))]
    pub grid: Option<GridKind>,
    /// Explicit faces (a refined grid of the error estimate); when given they fix
    /// the grid and `cells` must equal their number minus one.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub edges: Option<std::sync::Arc<[f64]>>,
    /// Time step (default: the card's, a safety fraction of the explicit limit for
    /// explicit cards; `solve` chooses it by accuracy for fixed-step implicit cards).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub dt: Option<f64>,
    /// Time step as a multiple of the explicit limit 1/max|A_ii| of the run's own
    /// operator (used by sweeps); ignored when `dt` is given.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub dt_factor: Option<f64>,
    /// Final time in SGD steps (default: the problem's).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub t_end: Option<f64>,
    /// Snapshot interval in SGD steps (default: the problem's).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub every: Option<f64>,
    /// Permit explicit steps beyond the stability limit; the blow-up is then measured
    /// (default false).
    #[cfg_attr(feature = "cli", arg(long))]
    pub allow_unstable: bool,
    /// Relative tolerance of adaptive (mol-*) cards (default: the card's).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub rtol: Option<f64>,
    /// Absolute tolerance of adaptive (mol-*) cards (default: the card's).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub atol: Option<f64>,
    /// Keep the density at every snapshot (default true).
    #[cfg_attr(feature = "cli", arg(skip = true))]
    pub keep_densities: bool,
    /// Monitor thresholds.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub monitors: Monitors,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            cells: 600,
            grid: None,
            edges: None,
            dt: None,
            dt_factor: None,
            t_end: None,
            every: None,
            allow_unstable: false,
            rtol: None,
            atol: None,
            keep_densities: true,
            monitors: Monitors::default(),
        }
    }
}

/// Snapshot times 0, every, 2·every, …, t_end (t_end always included).
pub fn snapshot_times(t_end: f64, every: f64) -> Vec<f64> {
    let mut ts = vec![0.0];
    let k = (t_end / every * (1.0 + 1e-12)).floor() as usize;
    for i in 1..=k {
        let t = i as f64 * every;
        if t < t_end * (1.0 - 1e-12) {
            ts.push(t);
        }
    }
    ts.push(t_end);
    ts
}

/// Check the problem and the settings that do not depend on the scheme (t_end,
/// snapshot interval, cells, the snapshot and stored-value limits); returns
/// (t_end, every). [`run()`] calls it first; callers that run pilots or estimates
/// call it before those, so a bad setting is named as itself.
pub fn check_settings(problem: &Problem, settings: &RunSettings) -> Result<(f64, f64)> {
    problem.validate()?;
    let t_end = crate::error::positive("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = crate::error::positive("every", settings.every.unwrap_or(problem.every))?;
    crate::limits::cells(settings.cells).map_err(|e| e.with_origin("--cells"))?;
    let snapshots = crate::limits::snapshots(t_end, every)?;
    if settings.keep_densities {
        crate::limits::stored_values(settings.cells, snapshots)?;
    }
    Ok((t_end, every))
}

/// The grid of a run: the explicit `edges` of the settings if any, else the `--grid`
/// kind (or the problem's own choice) with `cells` cells.
pub fn settings_grid(problem: &Problem, settings: &RunSettings) -> Result<Grid> {
    match &settings.edges {
        Some(e) => Grid::from_edges_on(problem.a, problem.b, e.to_vec(), "refined grid")
            .map_err(|e| e.with_origin(&problem.origin)),
        None => crate::space::auto::grid_for(problem, settings.grid, settings.cells),
    }
}

/// Run `scheme` on `problem`: assemble, step to each snapshot, monitor, classify.
///
/// Bad settings (zero cells, non-positive dt, explicit dt beyond the limit without
/// `allow_unstable`) are errors; a blow-up is not: it is the outcome `diverged`.
pub fn run(problem: &Problem, scheme: &Scheme, settings: &RunSettings) -> Result<RunReport> {
    run_with_progress(problem, scheme, settings, &mut |_, _| {})
}

/// [`run()`] with a progress callback, called at every snapshot with (t, t_end).
pub fn run_with_progress(
    problem: &Problem,
    scheme: &Scheme,
    settings: &RunSettings,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<RunReport> {
    let setup = Instant::now();
    let (t_end, every) = check_settings(problem, settings)?;
    let grid = settings_grid(problem, settings)?;
    let flux = scheme.build_flux()?;
    let op = Operator::assemble(problem, grid.clone(), flux.as_ref())?;
    // the spectral stiffness ratio (Sturm bisection, about a solve's cost) is left to
    // `inspect`: nothing in a run uses it, and set-up stays in proportion to the solve
    let diagnostics = op.diagnostics(false);
    // under a schedule the step limit is that of the stiffest A(t) of the run (65
    // assemblies: only when a step is derived from the limit, explicit cards and
    // `dt_factor`; implicit and adaptive cards do not use it)
    let scheduled = scheduled_operator(problem, scheme, grid.clone(), t_end)?;
    let needs_limit =
        settings.dt_factor.is_some() || scheme.step_kind() == crate::scheme::StepKind::Explicit;
    let scheduled_stiffest;
    let stiffest = match &scheduled {
        Some(top) if needs_limit => {
            scheduled_stiffest = top.stiffest(t_end)?;
            &scheduled_stiffest
        }
        _ => &op,
    };
    let requested = match (settings.dt, settings.dt_factor) {
        (Some(dt), _) => Some(dt),
        (None, Some(f)) => {
            Some(crate::error::positive("dt_factor", f)? * stiffest.explicit_limit())
        }
        (None, None) => None,
    };
    let dt = scheme.resolve_dt(stiffest, requested, settings.allow_unstable)?;
    if let Some(dt) = dt {
        crate::limits::steps(t_end, dt)?;
    }
    let mut propagator = scheme.build_integrator(&op, dt, settings.rtol, settings.atol)?;
    if let Some(top) = scheduled {
        propagator.schedule(top).map_err(|e| {
            Error::invalid(
                "scheme",
                &scheme.name,
                format!(
                    "the problem has a schedule (lr: {}, batch: {}) and {e}",
                    problem.schedule.lr.describe(),
                    problem.schedule.batch.describe()
                ),
            )
        })?;
    }
    let p0 = initial_density(problem, &grid)?;
    let mut report = blank_report(problem, grid, diagnostics);
    report.scheme = scheme.name.clone();
    report.flux = flux.name().to_string();
    report.integrator = propagator.name().to_string();
    report.dt = dt;
    report.dt_over_limit = dt.map(|dt| dt / report.diagnostics.explicit_limit);
    report.rtol = settings.rtol.or(scheme.rtol());
    report.atol = settings.atol.or(scheme.atol());
    report.t_end = t_end;
    report.setup_s = setup.elapsed().as_secs_f64();
    let plan = Plan {
        report,
        p0,
        stops: snapshot_times(t_end, every),
        regions: problem.region_bounds(),
        boundary: problem.boundary,
        monitors: settings.monitors,
        keep_densities: settings.keep_densities,
        oscillation_note: None,
    };
    drive(plan, propagator.as_mut(), progress)
}

/// The time-dependent operator of a problem with a non-constant schedule (checked
/// on the run's whole time span), `None` for a constant one.
fn scheduled_operator(
    problem: &Problem,
    scheme: &Scheme,
    grid: Grid,
    t_end: f64,
) -> Result<Option<TimeOperator>> {
    if problem.schedule.is_constant() {
        return Ok(None);
    }
    let origin = |e: Error| e.with_origin(&problem.origin);
    problem
        .schedule
        .lr
        .check_on(t_end, "schedule.lr")
        .map_err(origin)?;
    problem
        .schedule
        .batch
        .check_on(t_end, "schedule.batch")
        .map_err(origin)?;
    Ok(Some(TimeOperator::new(problem, grid, scheme.build_flux()?)))
}

/// A report of `problem` on `grid` before anything ran: names and numbers empty or
/// zero, outcome `ok`, region names filled in (callers set the rest).
fn blank_report(problem: &Problem, grid: Grid, diagnostics: Diagnostics) -> RunReport {
    RunReport {
        problem: problem.name.clone(),
        scheme: String::new(),
        flux: String::new(),
        integrator: String::new(),
        cells: grid.n,
        grid,
        dt: None,
        dt_over_limit: None,
        rtol: None,
        atol: None,
        t_end: 0.0,
        t_reached: 0.0,
        outcome: Outcome::Ok,
        outcome_t: None,
        outcome_step: None,
        reason: None,
        events: vec![],
        mass_error: None,
        mass_absorbed: None,
        min_p: 0.0,
        max_p: 0.0,
        wall_s: 0.0,
        setup_s: 0.0,
        stats: Stats::default(),
        diagnostics,
        region_names: problem.region_bounds().into_iter().map(|r| r.0).collect(),
        error_estimate: None,
        choice: None,
        moments: vec![],
        snapshots: vec![],
    }
}
