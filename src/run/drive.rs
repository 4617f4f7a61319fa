//! The one driver: hands a [`Propagator`] the snapshot times and watches every step.
//!
//! The driver is an [`Observer`]. After every accepted step it scans the density once
//! for the per-step monitors (blow-up, negativity) and keeps a recent finite copy
//! (every 64 steps and at every snapshot); at every stop time it records the moments,
//! checks for grid-scale oscillation and for mass piled against a zero-flux wall (a
//! warning, not a failure), stores the density and reports progress. A
//! blow-up halts the propagation with outcome `diverged` at the step where it was seen
//! and restores the last good density; a propagator error is the outcome `failed` at
//! the last accepted time. No non-finite value ever reaches a snapshot. The driver
//! does not know which model or method it runs: the Fokker–Planck schemes and the
//! transfer models share it, so every run is monitored and reported alike.

use std::time::Instant;

use super::monitors::{scan, Monitors};
use super::report::{moments, Outcome, RunReport, Snapshot, Warning};
use crate::error::{Error, Result};
use crate::model::problem::Boundary;
use crate::stats::Stats;
use crate::time::{Flow, Observer, Propagator};

/// A run ready to go: everything the driver needs besides the propagator.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The report so far (names, grid, step, tolerances, t_end, diagnostics, region
    /// names, setup time); the driver fills in the outcome, extremes, moments,
    /// snapshots, work and timing.
    pub report: RunReport,
    /// The density at t = 0.
    pub p0: Vec<f64>,
    /// Stop (snapshot) times, non-decreasing from 0 (see [`super::snapshot_times`]).
    pub stops: Vec<f64>,
    /// Named regions (name, lower, upper) whose mass each snapshot records.
    pub regions: Vec<(String, f64, f64)>,
    /// Zero-flux runs report the mass error, absorbing runs the mass absorbed.
    pub boundary: Boundary,
    /// Monitor thresholds.
    pub monitors: Monitors,
    /// Store the density at every snapshot.
    pub keep_densities: bool,
    /// A remark appended to the oscillation monitor's reason (what such extrema
    /// usually mean for this kind of model).
    pub oscillation_note: Option<String>,
}

/// Run `propagator` through `plan`'s stop times from `plan.p0` at t = 0, monitoring
/// every step; `progress(t, t_end)` is called at every snapshot.
///
/// A blow-up or a propagator failure is an outcome (`diverged`, `failed`), not an
/// error; the only error is a non-finite value in the extremes of the density.
pub fn drive(
    plan: Plan,
    propagator: &mut dyn Propagator,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<RunReport> {
    let Plan {
        mut report,
        p0: mut p,
        stops,
        regions,
        boundary,
        monitors,
        keep_densities,
        oscillation_note,
    } = plan;
    let mass0 = report.grid.mass(&p);
    report.min_p = p.iter().cloned().fold(f64::INFINITY, f64::min);
    report.max_p = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut stats = Stats::default();
    let mut watch = Watch {
        last_good: p.clone(),
        report,
        regions: &regions,
        monitors,
        keep_densities,
        oscillation_note: oscillation_note.as_deref(),
        boundary,
        mass0,
        t: 0.0,
        diverged: false,
        progress,
    };
    let clock = Instant::now();
    let result = propagator.propagate(&mut p, 0.0, &stops, &mut watch, &mut stats);
    let wall_s = clock.elapsed().as_secs_f64();
    match result {
        Ok(_) if watch.diverged => p.copy_from_slice(&watch.last_good),
        Ok(_) => {}
        Err(e) => {
            let (t, step) = (watch.t, stats.steps);
            watch.report.record(Outcome::Failed, t, step, e.to_string());
            p.copy_from_slice(&watch.last_good);
            if watch.report.moments.is_empty() {
                // failed before the first snapshot: record the initial density
                watch.initial_snapshot(&p);
            }
        }
    }
    let t = watch.t;
    let mut report = watch.report;
    report.wall_s = wall_s;
    report.t_reached = t;
    report.stats = stats;
    let mass = report.moments.last().map_or(mass0, |m| m.mass);
    match boundary {
        Boundary::ZeroFlux => report.mass_error = Some((mass - mass0) / mass0),
        Boundary::Absorbing => report.mass_absorbed = Some((mass0 - mass) / mass0),
    }
    if !(report.min_p.is_finite() && report.max_p.is_finite()) {
        return Err(Error::NonFinite {
            what: "density monitor".into(),
            w: f64::NAN,
            value: report.min_p,
            origin: String::new(),
        });
    }
    Ok(report)
}

/// The driver's observer: monitors, snapshots and progress of one run.
struct Watch<'a> {
    report: RunReport,
    regions: &'a [(String, f64, f64)],
    monitors: Monitors,
    keep_densities: bool,
    oscillation_note: Option<&'a str>,
    /// Boundary condition (the wall-mass warning is for zero-flux walls).
    boundary: Boundary,
    /// Cell width.
    /// Initial mass.
    mass0: f64,
    /// Time of the last accepted step (not of a diverged one).
    t: f64,
    /// A recent finite density (every 64 steps and every snapshot).
    last_good: Vec<f64>,
    /// A blow-up halted the run.
    diverged: bool,
    progress: &'a mut dyn FnMut(f64, f64),
}

impl Watch<'_> {
    /// Record the moments (and the density) of `p` at t = 0, for a run that failed
    /// before its first snapshot.
    fn initial_snapshot(&mut self, p: &[f64]) {
        let m = moments(&self.report.grid, p, 0.0, self.regions);
        self.report.moments.push(m);
        if self.keep_densities {
            self.report.snapshots.push(Snapshot {
                t: 0.0,
                p: p.to_vec(),
            });
        }
    }
}

impl Observer for Watch<'_> {
    fn step(&mut self, t: f64, p: &[f64], stats: &Stats) -> Flow {
        let s = scan(p, &self.report.grid);
        if let Some(why) = self.monitors.blow_up(&s, self.mass0) {
            self.report.record(Outcome::Diverged, t, stats.steps, why);
            self.diverged = true;
            return Flow::Halt;
        }
        self.t = t;
        self.report.min_p = self.report.min_p.min(s.lo);
        self.report.max_p = self.report.max_p.max(s.hi);
        if let Some(why) = self.monitors.negative(&s) {
            self.report.record(Outcome::Negative, t, stats.steps, why);
        }
        if stats.steps.is_multiple_of(64) {
            self.last_good.copy_from_slice(p);
        }
        Flow::Continue
    }

    fn stop(&mut self, t: f64, p: &[f64], stats: &Stats) -> Flow {
        self.t = t;
        self.last_good.copy_from_slice(p);
        let m = moments(&self.report.grid, p, t, self.regions);
        if let Some(why) = self.monitors.oscillation(&m) {
            let why = match self.oscillation_note {
                Some(note) => format!("{why} ({note})"),
                None => why,
            };
            self.report
                .record(Outcome::Oscillating, t, stats.steps, why);
        }
        // the initial density is the user's choice, not a result: checked after t = 0
        if self.boundary == Boundary::ZeroFlux && t > 0.0 {
            if let Some((wall, cell)) = self.monitors.mass_at_wall(p, &self.report.grid, m.mass) {
                let w = match wall {
                    super::report::Wall::Left => self.report.grid.a,
                    super::report::Wall::Right => self.report.grid.b,
                };
                let why = format!(
                    "{:.3e} of the mass in the outermost cell at the {} wall (W = {w}) at t = {t}",
                    cell / m.mass,
                    wall.as_str()
                );
                self.report
                    .warn(Warning::MassAtWall, t, stats.steps, why, Some((wall, cell)));
            }
        }
        self.report.moments.push(m);
        (self.progress)(t, self.report.t_end);
        if self.keep_densities {
            self.report.snapshots.push(Snapshot { t, p: p.to_vec() });
        }
        Flow::Continue
    }
}
