//! One job of a sweep: its settings, its cost estimate against the budget, the run, its
//! errors against the reference and its class.

use super::{Class, Job, Reference, Step, SweepRecord, SweepSpec};
use crate::analysis::metrics::{binned_l1, w1_between, COARSE_BINS};
use crate::model::problem::Problem;
use crate::run::{run, Outcome, RunSettings};
use crate::scheme::{Scheme, StepKind};
use crate::space::grid::Grid;
use crate::stats::Stats;

/// Run one job against its reference: estimate its cost first (a fixed-step run over
/// the budget is `skipped`), run it, score it against the reference and classify it.
pub fn run_job(
    job: &Job,
    problem: &Problem,
    reference: &Reference,
    spec: &SweepSpec,
) -> SweepRecord {
    let mut rec = SweepRecord::empty(job);
    let scheme = match Scheme::resolve(&job.card) {
        Ok(s) => s,
        Err(e) => {
            rec.reason = Some(e.to_string());
            return rec;
        }
    };
    let t_end = spec.t_end.unwrap_or(problem.t_end);
    if over_budget(&mut rec, &scheme, problem, spec, t_end) {
        return rec;
    }
    let rep = match run(problem, &scheme, &job_settings(job, t_end)) {
        Ok(r) => r,
        Err(e) => {
            rec.reason = Some(e.to_string());
            return rec;
        }
    };
    rec.dt = rep.dt;
    rec.dt_over_limit = rep.dt_over_limit;
    rec.explicit_limit = Some(rep.diagnostics.explicit_limit);
    rec.max_peclet = Some(rep.diagnostics.max_peclet);
    rec.m_matrix = Some(rep.diagnostics.m_matrix);
    rec.mass_error = rep.mass_error;
    rec.min_p = Some(rep.min_p);
    rec.max_p = Some(rep.max_p);
    rec.wall_s = rep.wall_s;
    rec.stats = rep.stats;
    rec.reason = rep.reason.clone();
    if let (Some(first), Some(last)) = (rep.moments.first(), rep.moments.last()) {
        if first.tv > 0.0 {
            rec.tv_growth = Some(last.tv / first.tv);
        }
    }
    if (rep.t_reached - t_end).abs() <= 1e-9 * t_end {
        score(&mut rec, &rep, reference);
    }
    classify(&mut rec, rep.outcome, spec.tol);
    rec
}

impl SweepRecord {
    /// A record of `job` before it ran: class `failed`, nothing measured.
    fn empty(job: &Job) -> SweepRecord {
        SweepRecord {
            job: job.clone(),
            key: job.key(),
            class: Class::Failed,
            reason: None,
            dt: None,
            dt_over_limit: None,
            explicit_limit: None,
            max_peclet: None,
            m_matrix: None,
            w1: None,
            l1_coarse: None,
            l1_fine: None,
            mean_err: None,
            sd_err: None,
            region_err: None,
            mass_error: None,
            min_p: None,
            max_p: None,
            tv_growth: None,
            wall_s: 0.0,
            stats: Stats::default(),
        }
    }
}

/// The run settings of a job: one snapshot at t_end, explicit steps beyond the limit
/// allowed (their blow-up is measured), the job's step or tolerance.
fn job_settings(job: &Job, t_end: f64) -> RunSettings {
    let mut settings = RunSettings {
        cells: job.cells,
        t_end: Some(t_end),
        every: Some(t_end),
        allow_unstable: true,
        ..RunSettings::default()
    };
    match job.step {
        Step::DtFactor(f) => settings.dt_factor = Some(f),
        Step::Dt(d) => settings.dt = Some(d),
        Step::Rtol(r) => {
            settings.rtol = Some(r);
            settings.atol = Some(r * 1e-3);
        }
    }
    settings
}

/// Estimate a fixed-step job's cost (cell-steps) before running it, and mark it
/// `skipped` when it is over the budget. An explicit adaptive method is held near the
/// explicit limit by stiffness, so it is estimated at the limit.
fn over_budget(
    rec: &mut SweepRecord,
    scheme: &Scheme,
    problem: &Problem,
    spec: &SweepSpec,
    t_end: f64,
) -> bool {
    let adaptive = scheme.step_kind() == StepKind::Adaptive;
    // the Krylov card is polynomial in A: like Tsit45, its steps stay near the limit's scale
    let explicit_like = scheme.integrator.mol_method() == Some(crate::time::MolMethod::Tsit45)
        || matches!(scheme.integrator, crate::scheme::IntegratorSpec::Krylov(_));
    if adaptive && !explicit_like {
        return false;
    }
    let cells = rec.job.cells;
    let limit = Grid::new(problem.a, problem.b, cells)
        .and_then(|g| {
            let flux = scheme.build_flux()?;
            crate::space::operator::Operator::assemble(problem, g, flux.as_ref())
        })
        .map(|op| op.explicit_limit());
    let Ok(limit) = limit else { return false };
    let dt = match rec.job.step {
        Step::DtFactor(f) => f * limit,
        Step::Dt(d) => d,
        Step::Rtol(_) => limit,
    };
    let cost = t_end / dt * cells as f64;
    rec.explicit_limit = Some(limit);
    if !adaptive {
        rec.dt = Some(dt);
        rec.dt_over_limit = Some(dt / limit);
    }
    if cost > spec.budget {
        rec.class = Class::Skipped;
        rec.reason = Some(format!(
            "cost {cost:.2e} cell-steps over the budget {:.2e}",
            spec.budget
        ));
        return true;
    }
    false
}

/// Errors of a finished run against the reference: W1, the 60-bin L1, the fine-grid L1
/// (same domain only), and the errors of mean, sd and region masses.
fn score(rec: &mut SweepRecord, rep: &crate::run::RunReport, reference: &Reference) {
    let (Some(snap), Some(m)) = (rep.snapshots.last(), rep.moments.last()) else {
        return;
    };
    rec.w1 = Some(w1_between(
        &rep.grid,
        &snap.p,
        &reference.grid,
        &reference.p,
    ));
    rec.l1_coarse = Some(binned_l1(
        &rep.grid,
        &snap.p,
        &reference.grid,
        &reference.p,
        COARSE_BINS,
    ));
    if (rep.grid.a - reference.grid.a).abs() < 1e-12
        && (rep.grid.b - reference.grid.b).abs() < 1e-12
    {
        let n = rep.grid.n;
        rec.l1_fine = Some(binned_l1(
            &rep.grid,
            &snap.p,
            &reference.grid,
            &reference.p,
            n,
        ));
    }
    rec.mean_err = Some((m.mean - reference.mean).abs());
    rec.sd_err = Some((m.sd - reference.sd).abs());
    rec.region_err = m
        .regions
        .iter()
        .zip(&reference.regions)
        .map(|(x, y)| (x - y).abs())
        .reduce(f64::max);
}

/// The class of a run from its outcome and its W1 error against the tolerance.
fn classify(rec: &mut SweepRecord, outcome: Outcome, tol: f64) {
    rec.class = match outcome {
        Outcome::Ok if rec.w1.is_some_and(|w| w <= tol) => Class::Ok,
        Outcome::Ok => {
            if rec.reason.is_none() {
                rec.reason = Some(format!(
                    "W1 error {:.3e} above the tolerance {tol:.1e}",
                    rec.w1.unwrap_or(f64::NAN)
                ));
            }
            Class::Inaccurate
        }
        Outcome::Oscillating => Class::Oscillating,
        Outcome::Negative => Class::Negative,
        Outcome::Diverged => Class::Diverged,
        Outcome::Failed => Class::Failed,
    };
}
