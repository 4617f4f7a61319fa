//! What a run reports: how it ended ([`Outcome`], [`Event`]), the moments of the
//! density at each snapshot ([`Moments`]) and the stored densities, gathered in
//! [`RunReport`] (written out as run.json, moments.csv and density.csv).
//!
//! An event is the first firing of one monitor, of one of two kinds ([`EventKind`]):
//! a failure (an [`Outcome`] worse than `ok`: it ranks, and the worst one is the run's
//! outcome) or a [`Warning`], which is reported in `events` and by the run summary but
//! never changes the outcome (a run that warns is still `ok`). The two are separate
//! types, so a warning cannot be ranked by mistake: [`RunReport::record`] takes an
//! outcome, [`RunReport::warn`] a warning.
//!
//! The moments are the mass h Σ P, the mean and standard deviation of W (the cell
//! average of (W − mean)² includes the in-cell variance h²/12), the smallest value,
//! the total variation, the grid-scale extrema and the mass of each named region.

use serde::Serialize;

use super::estimate::{Choice, ErrorEstimate};
use super::monitors::{count_extrema, longest_zigzag};
use crate::space::grid::Grid;
use crate::space::operator::Diagnostics;
use crate::stats::Stats;

/// How a run ended, worst first: `failed` > `diverged` > `negative` > `oscillating` > `ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Finished; density non-negative (to [`super::Monitors::negative_tol`]) and not oscillating.
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

/// A monitor whose firing is reported but does not rank in the [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// At a snapshot, more than [`super::Monitors::wall_mass`] of the mass sat in the
    /// outermost cell next to a zero-flux wall: the density is piled against the wall,
    /// usually because the landscape's minimum lies outside the domain, and the walls
    /// (not the landscape) shape the result there.
    MassAtWall,
}

impl Warning {
    /// Name as written in run.json.
    pub fn as_str(&self) -> &'static str {
        match self {
            Warning::MassAtWall => "mass_at_wall",
        }
    }
}

/// What an event is: a failure that ranks in the outcome, or a warning that does not.
/// Serialised as the bare name (`"negative"`, `"mass_at_wall"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventKind {
    /// A monitor that ranks: the worst one is the run's outcome.
    Outcome(Outcome),
    /// A warning: reported, but the outcome is unchanged.
    Warning(Warning),
}

impl EventKind {
    /// Name as written in run.json.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Outcome(o) => o.as_str(),
            EventKind::Warning(w) => w.as_str(),
        }
    }
}

/// A zero-flux wall of the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wall {
    /// The left end a.
    Left,
    /// The right end b.
    Right,
}

impl Wall {
    /// `left` or `right`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Wall::Left => "left",
            Wall::Right => "right",
        }
    }
}

/// The first firing of one monitor.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// What was seen.
    pub kind: EventKind,
    /// When.
    pub t: f64,
    /// At which step.
    pub step: u64,
    /// Details.
    pub reason: String,
    /// Which wall (`mass_at_wall` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall: Option<Wall>,
    /// The mass h·P in the outermost cell at that wall (`mass_at_wall` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass: Option<f64>,
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
    /// step 1, then diverged at step 370), failures and warnings alike; only the
    /// failures rank in `outcome`.
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
    /// A-posteriori estimate of the W1 error at t_end (see [`super::estimate`]);
    /// `None` when not asked for or not available (a transfer model, `--no-estimate`,
    /// a run that did not reach t_end).
    pub error_estimate: Option<ErrorEstimate>,
    /// How the cells and step were chosen, when a rule chose them (the default step of
    /// a fixed-step implicit card, or `--tol`), and what that cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    /// Moments at each snapshot.
    pub moments: Vec<Moments>,
    /// Densities at each snapshot (not serialised).
    #[serde(skip)]
    pub snapshots: Vec<Snapshot>,
}

impl RunReport {
    /// Record that a failure monitor fired: the first firing of each kind goes to
    /// `events`, and the worst outcome so far (with its time, step and reason) to
    /// `outcome`.
    pub fn record(&mut self, o: Outcome, t: f64, step: u64, why: String) {
        let kind = EventKind::Outcome(o);
        if !self.events.iter().any(|e| e.kind == kind) {
            self.events.push(Event {
                kind,
                t,
                step,
                reason: why.clone(),
                wall: None,
                mass: None,
            });
        }
        if o > self.outcome {
            self.outcome = o;
            self.outcome_t = Some(t);
            self.outcome_step = Some(step);
            self.reason = Some(why);
        }
    }

    /// Record that a warning fired: its first firing goes to `events`; the outcome is
    /// left alone. `wall` and `mass` say where, for [`Warning::MassAtWall`].
    pub fn warn(&mut self, w: Warning, t: f64, step: u64, why: String, at: Option<(Wall, f64)>) {
        let kind = EventKind::Warning(w);
        if !self.events.iter().any(|e| e.kind == kind) {
            self.events.push(Event {
                kind,
                t,
                step,
                reason: why,
                wall: at.map(|a| a.0),
                mass: at.map(|a| a.1),
            });
        }
    }

    /// The warnings among the events, in the order they fired.
    pub fn warnings(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Warning(_)))
    }

    /// The failures among the events (those that rank in the outcome), in order.
    pub fn failures(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Outcome(_)))
    }
}

/// Moments of density `p` on `grid` at time `t`, with region masses.
pub fn moments(grid: &Grid, p: &[f64], t: f64, regions: &[(String, f64, f64)]) -> Moments {
    let h = grid.widths();
    let mut mass = 0.0;
    let mut m1 = 0.0;
    for (i, &v) in p.iter().enumerate() {
        mass += v * h[i];
        m1 += v * h[i] * grid.centre(i);
    }
    let mean = if mass != 0.0 { m1 / mass } else { 0.0 };
    let mut var = 0.0;
    for (i, &v) in p.iter().enumerate() {
        let x = grid.centre(i) - mean;
        // the cell average of (W − mean)² includes the in-cell variance h²/12
        var += v * h[i] * (x * x + h[i] * h[i] / 12.0);
    }
    var /= if mass != 0.0 { mass } else { 1.0 };
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
                    .map(|i| p[i] * h[i] * grid.overlap(i, *lo, *hi))
                    .sum::<f64>()
            })
            .collect(),
    }
}
