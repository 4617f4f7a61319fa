//! Sweeps: many runs over cards × problems × N × step (dt as a multiple of the
//! explicit limit, an absolute dt, or a tolerance for adaptive cards) × a stiffness
//! knob, each scored against a converged reference and classified.
//!
//! Classes: `ok`; `inaccurate` (finished, non-negative, but its
//! Wasserstein-1 error at t_end exceeds the sweep's tolerance); `negative`;
//! `oscillating`; `diverged`; `failed`; and `skipped` for runs whose fixed-step cost
//! (steps × cells) exceeds the budget. The reference of each problem + knob is the
//! `scharfetter-gummel` card on a fine grid at a small step, computed once and cached
//! on disk.
//!
//! Results are JSON lines, one [`SweepRecord`] per line, appended as runs finish, so an
//! interrupted sweep resumes where it stopped. `shard = (i, n)` runs only the jobs
//! whose index is i mod n; [`merge`] joins shard files (sorted by job index, one record
//! per job), giving the same records as one unsharded run apart from wall-clock times.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::metrics::{binned_l1, w1_between, COARSE_BINS};
use crate::error::{Error, Result};
use crate::model::landscape::seed_landscape;
use crate::model::problem::{Boundary, Problem};
use crate::run::{run, Outcome, RunSettings};
use crate::scheme::{Scheme, StepKind};
use crate::space::grid::Grid;
use crate::stats::Stats;

/// A stiffness knob applied to a problem before it is run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Knob {
    /// The problem as it is.
    None,
    /// Pit sharpness k of the seed landscape (seed problems only): G′ in the pit grows like k.
    PitSharpness(f64),
    /// Noise floor ε added to S².
    NoiseFloor(f64),
}

impl Knob {
    /// Short label, e.g. `k=100` or `eps=1e-4`.
    pub fn label(&self) -> String {
        match self {
            Knob::None => "-".into(),
            Knob::PitSharpness(k) => format!("k={k}"),
            Knob::NoiseFloor(e) => format!("eps={e}"),
        }
    }

    /// Parse `k=100`, `eps=1e-4` or `-`.
    pub fn parse(s: &str) -> Result<Knob> {
        let bad = || {
            Error::invalid(
                "knob",
                s,
                "expected k=<pit sharpness>, eps=<noise floor> or -",
            )
        };
        if s == "-" || s.is_empty() {
            return Ok(Knob::None);
        }
        let (name, v) = s.split_once('=').ok_or_else(bad)?;
        let v: f64 = v.trim().parse().map_err(|_| bad())?;
        match name.trim() {
            "k" => Ok(Knob::PitSharpness(crate::error::positive("k", v)?)),
            "eps" => {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::NegativeVariance {
                        what: "noise floor eps".into(),
                        value: v,
                        origin: format!(" (knob `{s}`)"),
                    });
                }
                Ok(Knob::NoiseFloor(v))
            }
            _ => Err(bad()),
        }
    }

    /// The problem with the knob applied.
    pub fn apply(&self, problem: &Problem) -> Result<Problem> {
        let mut p = problem.clone();
        match *self {
            Knob::None => {}
            Knob::PitSharpness(k) => {
                if !problem.name.starts_with("seed") {
                    return Err(Error::invalid(
                        "knob",
                        self.label(),
                        format!(
                            "pit sharpness applies to seed problems, not `{}`",
                            problem.name
                        ),
                    ));
                }
                p.landscape = std::sync::Arc::new(seed_landscape(k));
            }
            Knob::NoiseFloor(e) => p.noise_floor = e,
        }
        Ok(p)
    }
}

/// How a fixed-step or adaptive card's step is chosen in one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// dt as a multiple of the run's explicit limit.
    DtFactor(f64),
    /// An absolute dt.
    Dt(f64),
    /// Relative tolerance of an adaptive card (atol = rtol × 1e-3).
    Rtol(f64),
}

impl Step {
    fn label(&self) -> String {
        match self {
            Step::DtFactor(f) => format!("dt={f}xlimit"),
            Step::Dt(d) => format!("dt={d}"),
            Step::Rtol(r) => format!("rtol={r}"),
        }
    }
}

/// What a sweep runs. With the `cli` feature it is also the `sweep` command's
/// options (one source for their documentation and defaults).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct SweepSpec {
    /// Problems (names or files), comma-separated.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "seed", value_delimiter = ',')
    )]
    pub problems: Vec<String>,
    /// Knobs: k=<pit sharpness> (seed), eps=<noise floor>, or - (the problem as it is).
    #[cfg_attr(feature = "cli", arg(long, default_value = "-", value_delimiter = ',', value_parser = Knob::parse))]
    pub knobs: Vec<Knob>,
    /// Cards (names or files), comma-separated; none means the whole catalogue.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub cards: Vec<String>,
    /// Grid sizes.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "300,600,1200", value_delimiter = ',')
    )]
    pub cells: Vec<usize>,
    /// dt as multiples of the explicit limit (fixed-step cards).
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "0.9", value_delimiter = ',')
    )]
    pub dt_factors: Vec<f64>,
    /// Absolute dt values (fixed-step cards).
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "0.1,1", value_delimiter = ',')
    )]
    pub dts: Vec<f64>,
    /// Relative tolerances (adaptive cards).
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "1e-4,1e-6", value_delimiter = ',')
    )]
    pub rtols: Vec<f64>,
    /// Final time (default: each problem's).
    #[cfg_attr(feature = "cli", arg(long))]
    pub t_end: Option<f64>,
    /// W1 error above which a finished run is `inaccurate` (default 1e-2).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1e-2))]
    pub tol: f64,
    /// Largest fixed-step cost, steps × cells, before a run is `skipped` (default 5e8).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 5e8))]
    pub budget: f64,
    /// Cells of the reference solution (default 9600).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 9600))]
    pub reference_cells: usize,
    /// Step of the reference solution (default 0.1).
    #[cfg_attr(feature = "cli", arg(skip = 0.1))]
    pub reference_dt: f64,
    /// Folder of cached reference solutions.
    #[cfg_attr(feature = "cli", arg(long = "cache", default_value = "out/cache"))]
    pub cache_dir: PathBuf,
}

impl Default for SweepSpec {
    fn default() -> Self {
        SweepSpec {
            problems: vec!["seed".into()],
            knobs: vec![Knob::None],
            cards: vec![],
            cells: vec![300, 600, 1200],
            dt_factors: vec![0.9],
            dts: vec![0.1, 1.0],
            rtols: vec![1e-4, 1e-6],
            t_end: None,
            tol: 1e-2,
            budget: 5e8,
            reference_cells: 9600,
            reference_dt: 0.1,
            cache_dir: PathBuf::from("out/cache"),
        }
    }
}

/// One run of a sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    /// Index in the sweep's deterministic job order.
    pub index: usize,
    /// Problem name or file.
    pub problem: String,
    /// Knob.
    pub knob: Knob,
    /// Card name or file.
    pub card: String,
    /// Cells.
    pub cells: usize,
    /// Step choice.
    pub step: Step,
}

impl Job {
    /// Unique key of the job.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.problem,
            self.knob.label(),
            self.card,
            self.cells,
            self.step.label()
        )
    }
}

/// Classification of a sweep run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Finished, non-negative, not oscillating, within the tolerance.
    Ok,
    /// Finished cleanly but its error exceeds the tolerance.
    Inaccurate,
    /// Grid-scale oscillations.
    Oscillating,
    /// Negative density.
    Negative,
    /// Blew up.
    Diverged,
    /// Solver failure or error.
    Failed,
    /// Not run: over the cost budget.
    Skipped,
}

impl Class {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Inaccurate => "inaccurate",
            Class::Oscillating => "oscillating",
            Class::Negative => "negative",
            Class::Diverged => "diverged",
            Class::Failed => "failed",
            Class::Skipped => "skipped",
        }
    }
    /// Whether the run was stable (ok or merely inaccurate).
    pub fn stable(&self) -> bool {
        matches!(self, Class::Ok | Class::Inaccurate)
    }
}

/// One line of a sweep's JSON-lines output.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepRecord {
    /// The job.
    pub job: Job,
    /// Its key.
    pub key: String,
    /// Classification.
    pub class: Class,
    /// Why (monitor or solver message), for anything but ok.
    pub reason: Option<String>,
    /// Step used (fixed-step cards).
    pub dt: Option<f64>,
    /// dt over the explicit limit.
    pub dt_over_limit: Option<f64>,
    /// The operator's explicit limit.
    pub explicit_limit: Option<f64>,
    /// Largest cell Péclet number (faces with D > 0).
    pub max_peclet: Option<f64>,
    /// Whether A is an M-matrix.
    pub m_matrix: Option<bool>,
    /// Wasserstein-1 distance from the reference at t_end.
    pub w1: Option<f64>,
    /// L1 distance from the reference on a 60-bin histogram at t_end.
    pub l1_coarse: Option<f64>,
    /// L1 distance from the reference on the run's own grid at t_end (the reference's
    /// cell masses gathered onto the run's cells): meaningful for smooth densities only.
    pub l1_fine: Option<f64>,
    /// |mean − reference mean| at t_end.
    pub mean_err: Option<f64>,
    /// |sd − reference sd| at t_end.
    pub sd_err: Option<f64>,
    /// Largest |region mass − reference| at t_end.
    pub region_err: Option<f64>,
    /// Relative mass drift (zero-flux problems).
    pub mass_error: Option<f64>,
    /// Most negative value over the run.
    pub min_p: Option<f64>,
    /// Largest value over the run (the scale of `min_p`: the monitors call a value
    /// below −1e-8 × max_p negative).
    #[serde(default)]
    pub max_p: Option<f64>,
    /// Total variation at t_end over its initial value.
    pub tv_growth: Option<f64>,
    /// Wall-clock seconds of the time loop.
    pub wall_s: f64,
    /// Work counters.
    pub stats: Stats,
}

/// All jobs of a spec, in their deterministic order.
pub fn jobs(spec: &SweepSpec) -> Result<Vec<Job>> {
    let mut out = Vec::new();
    let catalogue: Vec<String> = match spec.cards.is_empty() {
        true => crate::scheme::catalogue()?
            .into_iter()
            .map(|s| s.name)
            .collect(),
        false => vec![],
    };
    let cards = if spec.cards.is_empty() {
        &catalogue
    } else {
        &spec.cards
    };
    for problem in &spec.problems {
        for knob in &spec.knobs {
            for card in cards {
                let kind = Scheme::resolve(card)?.step_kind();
                for &cells in &spec.cells {
                    let steps: Vec<Step> = match kind {
                        StepKind::Adaptive => spec.rtols.iter().map(|&r| Step::Rtol(r)).collect(),
                        _ => spec
                            .dt_factors
                            .iter()
                            .map(|&f| Step::DtFactor(f))
                            .chain(spec.dts.iter().map(|&d| Step::Dt(d)))
                            .collect(),
                    };
                    for step in steps {
                        out.push(Job {
                            index: out.len(),
                            problem: problem.clone(),
                            knob: *knob,
                            card: card.clone(),
                            cells,
                            step,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

impl SweepRecord {
    /// Deterministic work of the run in cell-operations: N × (right-hand sides +
    /// linear solves + factorisations + Jacobian evaluations), each an O(N) operation
    /// on a tridiagonal operator. Unlike wall time it is the same on every machine and
    /// every run, so rankings by it reproduce.
    pub fn work(&self) -> f64 {
        let s = &self.stats;
        let ops = s.rhs_evals + s.linear_solves + s.factorizations + s.jacobian_evals;
        self.job.cells as f64 * ops.max(1) as f64
    }
}

/// How many records fall in each class, e.g. `diverged 3, ok 12`.
pub fn class_counts(recs: &[SweepRecord]) -> String {
    let mut counts = BTreeMap::new();
    for r in recs {
        *counts.entry(r.class.as_str()).or_insert(0usize) += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    parts.join(", ")
}

/// Parse a shard `i/n` (0 ≤ i < n), as given on the command line.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || Error::invalid("shard", s, "expected i/n with 0 <= i < n");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// A cached reference solution: the density at t_end on a fine grid.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Cache key: the [`content_key`] of everything that determines the solution.
    pub key: String,
    /// Grid.
    pub grid: Grid,
    /// Final time.
    pub t: f64,
    /// Density at t.
    pub p: Vec<f64>,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Region masses.
    pub regions: Vec<f64>,
}

/// A hash of everything that determines a reference solution: the tool's version, the
/// card (all its fields), the grid, the step and final time, and the fully resolved
/// problem — its scalar settings, its initial density on the grid, and its
/// coefficients G, G′, S², D, D′ at every centre and face of the grid, bit for bit. An
/// edited problem file (another `lr`, another formula, another domain) therefore never
/// hits a stale entry, whatever its name.
pub fn content_key(
    problem: &Problem,
    scheme: &Scheme,
    grid: &Grid,
    dt: f64,
    t_end: f64,
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let settings = format!(
        "probcurrent {}|{scheme:?}|{grid:?}|dt={dt:e}|t_end={t_end:e}|lr={:e}|batch={}|{:?}|[{:e}, {:e}]|{:?}|{:?}|{:?}|scale={:e}|floor={:e}",
        env!("CARGO_PKG_VERSION"),
        problem.lr,
        problem.batch,
        problem.sampling,
        problem.a,
        problem.b,
        problem.boundary,
        problem.initial,
        problem.regions,
        problem.noise_scale,
        problem.noise_floor,
    );
    h.update(settings.as_bytes());
    for v in crate::space::initial::initial_density(problem, grid)? {
        h.update(v.to_le_bytes());
    }
    for i in 0..=2 * grid.n {
        let c = problem.coeffs(grid.a + 0.5 * i as f64 * grid.h());
        for v in [c.g, c.g_prime, c.s2, c.d, c.d_prime] {
            h.update(v.to_le_bytes());
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Build the reference of `problem` (knob applied), or read it from `cache_dir`, where
/// it is stored under its [`content_key`].
pub fn reference(problem: &Problem, label: &str, spec: &SweepSpec) -> Result<Reference> {
    let t_end = spec.t_end.unwrap_or(problem.t_end);
    let scheme = Scheme::resolve(crate::scheme::DEFAULT_SCHEME)?;
    let grid = Grid::new(problem.a, problem.b, spec.reference_cells)?;
    let key = content_key(problem, &scheme, &grid, spec.reference_dt, t_end)?;
    let fname: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fname = format!("{fname}-{}", &key[..16]);
    let path = spec.cache_dir.join(format!("ref-{fname}.json"));
    if let Ok(text) = fs::read_to_string(&path) {
        if let Ok(r) = serde_json::from_str::<Reference>(&text) {
            if r.key == key {
                return Ok(r);
            }
        }
    }
    let rep = run(
        problem,
        &scheme,
        &RunSettings {
            cells: spec.reference_cells,
            dt: Some(spec.reference_dt),
            t_end: Some(t_end),
            every: Some(t_end),
            ..RunSettings::default()
        },
    )?;
    let (Some(snap), Some(m)) = (rep.snapshots.last(), rep.moments.last()) else {
        return Err(Error::SolverFailed {
            t: rep.t_reached,
            reason: "reference run produced no snapshot".into(),
        });
    };
    let r = Reference {
        key,
        grid: rep.grid,
        t: snap.t,
        p: snap.p.clone(),
        mean: m.mean,
        sd: m.sd,
        regions: m.regions.clone(),
    };
    fs::create_dir_all(&spec.cache_dir).map_err(|source| Error::Io {
        path: spec.cache_dir.clone(),
        source,
    })?;
    let text = serde_json::to_string(&r).map_err(|e| Error::Malformed {
        path: path.clone(),
        message: e.to_string(),
    })?;
    fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
    Ok(r)
}

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
    if adaptive && scheme.integrator.mol_method() != Some(crate::time::MolMethod::Tsit45) {
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

/// Read the records of a JSON-lines file (missing file: none). Lines that do not parse
/// (a run interrupted mid-write) are skipped.
pub fn read_records(path: &Path) -> Result<Vec<SweepRecord>> {
    let f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut out = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if let Ok(r) = serde_json::from_str::<SweepRecord>(&line) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Run a sweep (or one shard of it) into the JSON-lines file `out`, skipping jobs
/// already recorded there. `progress(done, total)` is called as runs finish.
pub fn sweep(
    spec: &SweepSpec,
    out: &Path,
    shard: Option<(usize, usize)>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<SweepRecord>> {
    if let Some((i, n)) = shard {
        if n == 0 || i >= n {
            return Err(Error::invalid(
                "shard",
                format!("{i}/{n}"),
                "need 0 <= i < n",
            ));
        }
    }
    crate::error::positive("tol", spec.tol)?;
    crate::error::positive("budget", spec.budget)?;
    let all = jobs(spec)?;
    let done: BTreeMap<String, SweepRecord> = read_records(out)?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let mine: Vec<Job> = all
        .into_iter()
        .filter(|j| shard.is_none_or(|(i, n)| j.index % n == i))
        .collect();
    let pending: Vec<&Job> = mine
        .iter()
        .filter(|j| !done.contains_key(&j.key()))
        .collect();
    // problems with knobs applied, and their references (computed once, cached)
    let mut problems: BTreeMap<String, (Problem, Reference)> = BTreeMap::new();
    for j in &pending {
        let pk = format!("{}|{}", j.problem, j.knob.label());
        if problems.contains_key(&pk) {
            continue;
        }
        let p = j.knob.apply(&Problem::resolve(&j.problem)?)?;
        let r = reference(&p, &pk, spec)?;
        problems.insert(pk, (p, r));
    }
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|source| Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
    let writer = Mutex::new(file);
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let total = pending.len();
    let new: Vec<SweepRecord> = pending
        .par_iter()
        .map(|j| {
            let pk = format!("{}|{}", j.problem, j.knob.label());
            let (p, r) = &problems[&pk];
            let rec = run_job(j, p, r, spec);
            if let Ok(line) = serde_json::to_string(&rec) {
                if let Ok(mut f) = writer.lock() {
                    let _ = writeln!(f, "{line}");
                }
            }
            progress(
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            rec
        })
        .collect();
    let mut all: Vec<SweepRecord> = done
        .into_values()
        .filter(|r| mine.iter().any(|j| j.key() == r.key))
        .chain(new)
        .collect();
    all.sort_by_key(|r| r.job.index);
    Ok(all)
}

/// Merge JSON-lines files (shards, or interrupted and resumed runs): one record per
/// job key, sorted by job index, written to `out`.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Vec<SweepRecord>> {
    let mut by_key: BTreeMap<String, SweepRecord> = BTreeMap::new();
    for path in inputs {
        if !path.exists() {
            return Err(Error::Io {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such shard file"),
            });
        }
        for r in read_records(path)? {
            by_key.entry(r.key.clone()).or_insert(r);
        }
    }
    let mut all: Vec<SweepRecord> = by_key.into_values().collect();
    all.sort_by_key(|r| r.job.index);
    let mut text = String::new();
    for r in &all {
        text += &serde_json::to_string(r).map_err(|e| Error::Malformed {
            path: out.to_path_buf(),
            message: e.to_string(),
        })?;
        text.push('\n');
    }
    fs::write(out, text).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(all)
}

/// Whether a record qualifies for a recommendation at `tol`: finished with outcome ok
/// (so never below −1e-8 × max P and not oscillating: see [`crate::run::Monitors`]),
/// error within `tol` in the chosen metric, mass conserved (zero flux), and, for
/// explicit cards, a step within the limit.
pub fn qualifies(r: &SweepRecord, tol: f64, use_l1: bool, boundary: Boundary) -> bool {
    let err = if use_l1 { r.l1_coarse } else { r.w1 };
    r.class.stable()
        && err.is_some_and(|e| e <= tol)
        && (boundary == Boundary::Absorbing || r.mass_error.is_some_and(|m| m.abs() <= 1e-10))
        && r.dt_over_limit
            .is_none_or(|f| f <= 1.0 || !r.job.card.contains("explicit"))
}
