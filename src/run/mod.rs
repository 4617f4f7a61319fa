//! The driver: owns the time loop, the snapshots, the monitors and the outcome.
//!
//! It does not care which operator or integrator it advances. Every step it checks the
//! density for non-finite values and for growth of its L1 norm (a blow-up), tracks the
//! most negative value, and at each snapshot records the moments. A blow-up ends the
//! run early with outcome `diverged` and the time and step where it was seen; the last
//! finite snapshot is kept, and no non-finite value is ever written out.

pub mod output;

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::problem::{initial_density, Boundary, Problem};
use crate::scheme::Scheme;
use crate::space::grid::Grid;
use crate::space::operator::{Diagnostics, Operator};
use crate::stats::Stats;

/// How a run ended, worst first: `failed` > `diverged` > `negative` > `oscillating` > `ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Finished; density non-negative (to [`Monitors::negative_tol`]) and not oscillating.
    Ok,
    /// Finished, but the density had grid-scale oscillations at some snapshot.
    Oscillating,
    /// Finished, but the density went negative somewhere.
    Negative,
    /// Blew up (non-finite values or L1 norm growth beyond the bound); stopped early.
    Diverged,
    /// The solver gave up (e.g. an adaptive step size underflowed).
    Failed,
}

impl Outcome {
    /// Lower-case name as written in run.json.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Oscillating => "oscillating",
            Outcome::Negative => "negative",
            Outcome::Diverged => "diverged",
            Outcome::Failed => "failed",
        }
    }
}

/// Thresholds of the monitors.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Monitors {
    /// A value below −negative_tol · max P counts as negative (default 1e-8).
    pub negative_tol: f64,
    /// Diverged when h Σ|P| exceeds this multiple of the initial mass (default 10).
    pub growth_bound: f64,
    /// Oscillating when a snapshot has a run of more than this many consecutive
    /// grid-scale extrema, i.e. a sawtooth (default 3; see [`longest_zigzag`]).
    pub max_zigzag: usize,
    /// Also oscillating when a snapshot has more than this many grid-scale extrema in
    /// all (default `usize::MAX`: off, since sharp but genuine features such as the
    /// seed's pit and the dip where S² vanishes make isolated extrema).
    pub max_extrema: usize,
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors {
            negative_tol: 1e-8,
            growth_bound: 10.0,
            max_zigzag: 3,
            max_extrema: usize::MAX,
        }
    }
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Number of cells (default 600).
    pub cells: usize,
    /// Time step; `None` takes the scheme's default (or `dt_factor`).
    pub dt: Option<f64>,
    /// Time step as a multiple of the explicit limit 1/max|A_ii| of the run's own
    /// operator (used by sweeps); ignored when `dt` is given.
    pub dt_factor: Option<f64>,
    /// Final time; `None` takes the problem's.
    pub t_end: Option<f64>,
    /// Snapshot interval; `None` takes the problem's.
    pub every: Option<f64>,
    /// Permit explicit steps beyond the stability limit (default false).
    pub allow_unstable: bool,
    /// Relative tolerance of adaptive schemes; `None` takes the card's.
    pub rtol: Option<f64>,
    /// Absolute tolerance of adaptive schemes; `None` takes the card's.
    pub atol: Option<f64>,
    /// Keep the density at every snapshot (default true).
    pub keep_densities: bool,
    /// Monitor thresholds.
    pub monitors: Monitors,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            cells: 600,
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

/// Moments of the density at one time.
#[derive(Clone, Debug, Serialize)]
pub struct Moments {
    /// Time.
    pub t: f64,
    /// Mass h Σ P.
    pub mass: f64,
    /// Mean of W.
    pub mean: f64,
    /// Standard deviation of W (0 when the variance is negative through negative P).
    pub sd: f64,
    /// Smallest cell value.
    pub min_p: f64,
    /// Total variation Σ |P_{i+1} − P_i|.
    pub tv: f64,
    /// Number of grid-scale extrema (see [`count_extrema`]).
    pub extrema: usize,
    /// Longest run of consecutive grid-scale extrema (see [`longest_zigzag`]).
    pub zigzag: usize,
    /// Mass per named region, in the problem's order.
    pub regions: Vec<f64>,
}

impl RunReport {
    /// Record that a monitor fired: the first firing of each kind goes to `events`, and
    /// the worst outcome so far (with its time, step and reason) to `outcome`.
    pub fn record(&mut self, o: Outcome, t: f64, step: u64, why: String) {
        if !self.events.iter().any(|e| e.outcome == o) {
            self.events.push(Event {
                outcome: o,
                t,
                step,
                reason: why.clone(),
            });
        }
        if o > self.outcome {
            self.outcome = o;
            self.outcome_t = Some(t);
            self.outcome_step = Some(step);
            self.reason = Some(why);
        }
    }
}

/// The first firing of one monitor.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// What was seen.
    pub outcome: Outcome,
    /// When.
    pub t: f64,
    /// At which step.
    pub step: u64,
    /// Details.
    pub reason: String,
}

/// A stored density.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Time.
    pub t: f64,
    /// Cell values.
    pub p: Vec<f64>,
}

/// Everything a run reports (run.json holds all but the densities).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Problem name.
    pub problem: String,
    /// Scheme name.
    pub scheme: String,
    /// Flux name.
    pub flux: String,
    /// Integrator name.
    pub integrator: String,
    /// Number of cells.
    pub cells: usize,
    /// The grid.
    pub grid: Grid,
    /// Step used (fixed-step schemes).
    pub dt: Option<f64>,
    /// dt divided by the explicit limit.
    pub dt_over_limit: Option<f64>,
    /// Relative tolerance (adaptive schemes; `None` = the integrator's default).
    pub rtol: Option<f64>,
    /// Absolute tolerance (adaptive schemes).
    pub atol: Option<f64>,
    /// Final time requested.
    pub t_end: f64,
    /// Time actually reached.
    pub t_reached: f64,
    /// Outcome.
    pub outcome: Outcome,
    /// Time at which the outcome was first seen (for anything but ok).
    pub outcome_t: Option<f64>,
    /// Step at which the outcome was first seen.
    pub outcome_step: Option<u64>,
    /// Reason (solver message or monitor that fired).
    pub reason: Option<String>,
    /// The first time each monitor fired, in the order they fired (e.g. negative at
    /// step 1, then diverged at step 370).
    pub events: Vec<Event>,
    /// (final mass − initial mass) / initial mass, zero-flux problems only.
    pub mass_error: Option<f64>,
    /// Mass that left through absorbing walls (fraction of the initial mass).
    pub mass_absorbed: Option<f64>,
    /// Most negative value over the run (over every step).
    pub min_p: f64,
    /// Largest value over the run.
    pub max_p: f64,
    /// Wall-clock time of the time loop, seconds.
    pub wall_s: f64,
    /// Wall-clock time of assembly and set-up, seconds.
    pub setup_s: f64,
    /// Work counters.
    pub stats: Stats,
    /// A-priori diagnostics of the operator.
    pub diagnostics: Diagnostics,
    /// Names of the regions (columns `mass_<name>`).
    pub region_names: Vec<String>,
    /// Moments at each snapshot.
    pub moments: Vec<Moments>,
    /// Densities at each snapshot (not serialised).
    #[serde(skip)]
    pub snapshots: Vec<Snapshot>,
}

/// Longest run of consecutive cells that are all grid-scale extrema (alternating up
/// and down: a sawtooth). An isolated peak or dip counts 1; a spike next to a dip, 2
/// or 3; a grid-scale oscillation, many.
pub fn longest_zigzag(p: &[f64]) -> usize {
    let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-6;
    let (mut run, mut best) = (0, 0);
    for w in p.windows(3) {
        let (d1, d2) = (w[1] - w[0], w[2] - w[1]);
        if d1 * d2 < 0.0 && d1.abs() > scale && d2.abs() > scale {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

impl Monitors {
    /// Why a snapshot counts as oscillating, if it does.
    pub fn oscillation(&self, m: &Moments) -> Option<String> {
        if m.zigzag > self.max_zigzag {
            Some(format!(
                "sawtooth of {} consecutive grid-scale extrema at t = {}",
                m.zigzag, m.t
            ))
        } else if m.extrema > self.max_extrema {
            Some(format!("{} grid-scale extrema at t = {}", m.extrema, m.t))
        } else {
            None
        }
    }
}

/// Number of grid-scale extrema: interior cells where the successive differences
/// change sign and both exceed 1e-6 · max|P| in size.
pub fn count_extrema(p: &[f64]) -> usize {
    let scale = p.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-6;
    p.windows(3)
        .filter(|w| {
            let (d1, d2) = (w[1] - w[0], w[2] - w[1]);
            d1 * d2 < 0.0 && d1.abs() > scale && d2.abs() > scale
        })
        .count()
}

/// Moments of density `p` on `grid` at time `t`, with region masses.
pub fn moments(grid: &Grid, p: &[f64], t: f64, regions: &[(String, f64, f64)]) -> Moments {
    let h = grid.h();
    let mut mass = 0.0;
    let mut m1 = 0.0;
    for (i, &v) in p.iter().enumerate() {
        mass += v;
        m1 += v * grid.centre(i);
    }
    mass *= h;
    let mean = if mass != 0.0 { m1 * h / mass } else { 0.0 };
    let mut var = 0.0;
    for (i, &v) in p.iter().enumerate() {
        let x = grid.centre(i) - mean;
        // the cell average of (W − mean)² includes the in-cell variance h²/12
        var += v * (x * x + h * h / 12.0);
    }
    var *= h / if mass != 0.0 { mass } else { 1.0 };
    Moments {
        t,
        mass,
        mean,
        sd: var.max(0.0).sqrt(),
        min_p: p.iter().cloned().fold(f64::INFINITY, f64::min),
        tv: p.windows(2).map(|w| (w[1] - w[0]).abs()).sum(),
        extrema: count_extrema(p),
        zigzag: longest_zigzag(p),
        regions: regions
            .iter()
            .map(|(_, lo, hi)| {
                (0..grid.n)
                    .map(|i| p[i] * grid.overlap(i, *lo, *hi))
                    .sum::<f64>()
                    * h
            })
            .collect(),
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
    problem.validate()?;
    let t_end = crate::error::positive("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = crate::error::positive("every", settings.every.unwrap_or(problem.every))?;
    let grid = Grid::new(problem.a, problem.b, settings.cells)
        .map_err(|e| e.with_origin(&problem.origin))?;
    let flux = scheme.build_flux()?;
    let op = Operator::assemble(problem, grid, flux.as_ref())?;
    let diagnostics = op.diagnostics(grid.n <= 20_000);
    let requested = match (settings.dt, settings.dt_factor) {
        (Some(dt), _) => Some(dt),
        (None, Some(f)) => Some(crate::error::positive("dt_factor", f)? * op.explicit_limit()),
        (None, None) => None,
    };
    let dt = scheme.resolve_dt(&op, requested, settings.allow_unstable)?;
    let mut integ = scheme.build_integrator(dt, settings.rtol, settings.atol)?;
    let regions = problem.region_bounds();
    let mut p = initial_density(problem, &grid)?;
    let h = grid.h();
    let mass0 = p.iter().sum::<f64>() * h;
    let mut stats = Stats::default();
    // a solver that cannot start is a measured outcome (`failed`), like one that stops
    let start_error = integ.start(&op, &p, 0.0, &mut stats).err();
    let setup_s = setup.elapsed().as_secs_f64();

    let mon = settings.monitors;
    let times = snapshot_times(t_end, every);
    let mut report = RunReport {
        problem: problem.name.clone(),
        scheme: scheme.name.clone(),
        flux: flux.name().to_string(),
        integrator: integ.name().to_string(),
        cells: grid.n,
        grid,
        dt,
        dt_over_limit: dt.map(|dt| dt / diagnostics.explicit_limit),
        rtol: settings.rtol.or(scheme.rtol()),
        atol: settings.atol.or(scheme.atol()),
        t_end,
        t_reached: 0.0,
        outcome: Outcome::Ok,
        outcome_t: None,
        outcome_step: None,
        reason: None,
        events: vec![],
        mass_error: None,
        mass_absorbed: None,
        min_p: p.iter().cloned().fold(f64::INFINITY, f64::min),
        max_p: p.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        wall_s: 0.0,
        setup_s,
        stats,
        diagnostics,
        region_names: regions.iter().map(|r| r.0.clone()).collect(),
        moments: vec![],
        snapshots: vec![],
    };
    let note = |report: &mut RunReport, o: Outcome, t: f64, step: u64, why: String| {
        report.record(o, t, step, why)
    };
    let clock = Instant::now();
    let mut t = 0.0;
    let mut last_good = p.clone();
    let times = if let Some(e) = start_error {
        note(&mut report, Outcome::Failed, 0.0, 0, e.to_string());
        report.moments.push(moments(&grid, &p, 0.0, &regions));
        if settings.keep_densities {
            report.snapshots.push(Snapshot {
                t: 0.0,
                p: p.clone(),
            });
        }
        vec![]
    } else {
        times
    };
    'outer: for &ts in &times {
        while t < ts {
            let t_new = match integ.step(&op, &mut p, t, ts, &mut stats) {
                Ok(tn) => tn,
                Err(e) => {
                    note(&mut report, Outcome::Failed, t, stats.steps, e.to_string());
                    p.copy_from_slice(&last_good);
                    break 'outer;
                }
            };
            stats.steps += 1;
            // monitors: one pass over the density
            let (mut lo, mut hi, mut l1, mut finite) =
                (f64::INFINITY, f64::NEG_INFINITY, 0.0, true);
            for &v in p.iter() {
                finite &= v.is_finite();
                lo = lo.min(v);
                hi = hi.max(v);
                l1 += v.abs();
            }
            if !finite || l1 * h > mon.growth_bound * mass0 {
                let why = if finite {
                    format!("L1 norm grew to {:.3e} × the initial mass", l1 * h / mass0)
                } else {
                    "non-finite density values".to_string()
                };
                note(&mut report, Outcome::Diverged, t_new, stats.steps, why);
                p.copy_from_slice(&last_good);
                break 'outer;
            }
            t = t_new;
            report.min_p = report.min_p.min(lo);
            report.max_p = report.max_p.max(hi);
            if lo < -mon.negative_tol * hi.max(0.0) {
                note(
                    &mut report,
                    Outcome::Negative,
                    t,
                    stats.steps,
                    format!("density {lo:.3e} < 0 (max {hi:.3e})"),
                );
            }
            if stats.steps % 64 == 0 {
                last_good.copy_from_slice(&p);
            }
        }
        last_good.copy_from_slice(&p);
        let m = moments(&grid, &p, t, &regions);
        if let Some(why) = mon.oscillation(&m) {
            note(&mut report, Outcome::Oscillating, t, stats.steps, why);
        }
        report.moments.push(m);
        progress(t, t_end);
        if settings.keep_densities {
            report.snapshots.push(Snapshot { t, p: p.clone() });
        }
    }
    report.wall_s = clock.elapsed().as_secs_f64();
    report.t_reached = t;
    report.stats = stats;
    let mass = report.moments.last().map_or(mass0, |m| m.mass);
    match problem.boundary {
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
