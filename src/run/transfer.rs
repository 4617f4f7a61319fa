//! Runs of the discrete-time transfer models: build the Ulam Markov matrix, then drive
//! one matrix–vector product per SGD step through the snapshot times.
//!
//! Time counts whole SGD steps, so t_end and the snapshot interval must be integers
//! and there is neither a step to choose nor a tolerance. The report is the driver's,
//! like any other run's, so transfer runs compare with Fokker–Planck runs and Monte
//! Carlo column by column.

use std::time::Instant;

use super::{blank_report, drive, snapshot_times, Plan, RunReport, RunSettings};
use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::space::initial::initial_density;
use crate::space::operator::{Diagnostics, Operator};
use crate::time::transfer::{
    whole_steps, ScheduledMarkov, Transfer, TransferKind, TransferOptions,
};

/// Why a transfer density may show grid-scale extrema (appended to the oscillation
/// monitor's reason).
const OSCILLATION_NOTE: &str = "transfer steps are non-negative averages and create no \
     dispersive oscillation: such extrema are usually fine structure of the model's own \
     density, like the caustics of folding SGD maps, resolved more finely as the cells shrink";

/// Run a transfer model with the default [`TransferOptions`]; see [`run_transfer_with`].
pub fn run_transfer(
    problem: &Problem,
    kind: TransferKind,
    settings: &RunSettings,
) -> Result<RunReport> {
    run_transfer_with(problem, kind, &TransferOptions::default(), settings)
}

/// Discrete-time model run (Ulam Markov chain, one matrix–vector product per SGD step).
///
/// Produces the same [`RunReport`] as [`crate::run()`], with the same snapshots,
/// moments ([`crate::run::moments`]) and monitors, so the outputs compare column by
/// column. In the report: `scheme` is the model's name, `flux` the discretisation
/// (`ulam-minibatch-maps` or `ulam-gaussian-kernel`), `integrator` `markov-step`,
/// `dt` = 1 (one step), `stats.steps` the steps taken, `stats.rhs_evals` the
/// matrix–vector products and `stats.jacobian_evals` 1 (the matrix, built once);
/// `diagnostics` are those of the Fokker–Planck operator of the same problem on the
/// same grid (upwind flux, for reference: Péclet numbers, faces without diffusion,
/// explicit step limit), except `m_matrix` and `negative_offdiagonals`, which describe
/// the transfer matrix (non-negative by construction). `setup_s` includes the build of
/// the matrix.
///
/// The monitors are the driver's. `transfer-exact` on `seed` at T = 0.02 reports
/// `oscillating` (a short sawtooth in the pit at t = 50, longer on finer grids): the
/// folding per-datapoint maps give SGD's density caustics at every scale, which the
/// grid resolves; the reason says so. The statistics converge (see tests/transfer.rs).
///
/// Errors: t_end or every not a whole number of steps, dt given and not 1, rtol or
/// atol given, cells < 3, and the build's errors (too many minibatches for
/// `transfer-exact`, a step that leaves the domain by more than 64 lengths).
pub fn run_transfer_with(
    problem: &Problem,
    kind: TransferKind,
    options: &TransferOptions,
    settings: &RunSettings,
) -> Result<RunReport> {
    run_transfer_with_progress(problem, kind, options, settings, &mut |_, _| {})
}

/// [`run_transfer_with`] with a progress callback, called at every snapshot with
/// (t, t_end).
pub fn run_transfer_with_progress(
    problem: &Problem,
    kind: TransferKind,
    options: &TransferOptions,
    settings: &RunSettings,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<RunReport> {
    let setup = Instant::now();
    problem.validate()?;
    check_settings(kind, settings)?;
    let t_end = whole_steps("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = whole_steps("every", settings.every.unwrap_or(problem.every))?;
    for (s, what) in [
        (&problem.schedule.lr, "schedule.lr"),
        (&problem.schedule.batch, "schedule.batch"),
    ] {
        s.check_on(t_end as f64, what)
            .map_err(|e| e.with_origin(&problem.origin))?;
    }
    crate::limits::cells(settings.cells).map_err(|e| e.with_origin("--cells"))?;
    crate::limits::steps(t_end as f64, 1.0)?;
    let snapshots = crate::limits::snapshots(t_end as f64, every as f64)?;
    if settings.keep_densities {
        crate::limits::stored_values(settings.cells, snapshots)?;
    }
    let grid = super::settings_grid(problem, settings)?;
    // under a schedule the matrix of step 0 (the frozen problem's) gives the diagnostics
    let transfer = Transfer::build(&problem.frozen_at(0.0), grid.clone(), kind, options)?;
    let flux = crate::space::flux::by_name("upwind")?;
    let op = Operator::assemble(&problem.frozen_at(0.0), grid.clone(), flux.as_ref())?;
    let fp = op.diagnostics(false);
    let diagnostics = Diagnostics {
        m_matrix: transfer.matrix.min_entry() >= 0.0,
        negative_offdiagonals: 0,
        negative_offdiagonal_w: vec![],
        ..fp
    };
    let p0 = initial_density(problem, &grid)?;
    let mut report = blank_report(problem, grid.clone(), diagnostics);
    report.scheme = kind.as_str().to_string();
    report.flux = kind.method().to_string();
    report.dt = Some(1.0);
    report.dt_over_limit = Some(1.0 / report.diagnostics.explicit_limit);
    report.t_end = t_end as f64;
    let mut stepper: Box<dyn crate::time::Propagator> = if problem.schedule.is_constant() {
        Box::new(transfer.into_stepper())
    } else {
        Box::new(ScheduledMarkov::new(problem, grid, kind, options).with_built(0.0, &transfer))
    };
    report.integrator = stepper.name().to_string();
    report.setup_s = setup.elapsed().as_secs_f64();
    let stops = snapshot_times(t_end as f64, every as f64)
        .iter()
        .map(|t| t.round())
        .collect();
    let plan = Plan {
        report,
        p0,
        stops,
        regions: problem.region_bounds(),
        boundary: problem.boundary,
        monitors: settings.monitors,
        keep_densities: settings.keep_densities,
        oscillation_note: Some(OSCILLATION_NOTE.to_string()),
    };
    drive(plan, stepper.as_mut(), progress)
}

/// Settings a transfer run cannot honour: a step other than 1, any tolerance.
fn check_settings(kind: TransferKind, settings: &RunSettings) -> Result<()> {
    if let Some(dt) = settings.dt {
        if (dt - 1.0).abs() > 1e-12 {
            return Err(Error::invalid(
                "dt",
                dt,
                format!("{} advances by whole SGD steps: dt is 1", kind.as_str()),
            ));
        }
    }
    for (what, v) in [("rtol", settings.rtol), ("atol", settings.atol)] {
        if let Some(v) = v {
            return Err(Error::invalid(
                what,
                v,
                format!("{} has no tolerance: it is exact in time", kind.as_str()),
            ));
        }
    }
    Ok(())
}
