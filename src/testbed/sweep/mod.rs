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
use std::io::{BufRead, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::landscape::seed_landscape;
use crate::model::problem::{Boundary, Problem};

use crate::scheme::{Scheme, StepKind};
use crate::stats::Stats;

mod job;
mod reference;

pub use job::run_job;
pub use reference::{content_key, reference, Reference};

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
    /// Learning rate T (replaces the problem's base rate; a schedule scales it).
    Lr(f64),
    /// Batch size B.
    Batch(usize),
    /// Heavy-ball momentum β: the first-order effective model, learning rate T/(1 − β)
    /// (see [`crate::model::momentum`]).
    Momentum(f64),
}

impl Knob {
    /// Short label, e.g. `k=100` or `eps=1e-4`.
    pub fn label(&self) -> String {
        match self {
            Knob::None => "-".into(),
            Knob::PitSharpness(k) => format!("k={k}"),
            Knob::NoiseFloor(e) => format!("eps={e}"),
            Knob::Lr(t) => format!("lr={t}"),
            Knob::Batch(b) => format!("batch={b}"),
            Knob::Momentum(b) => format!("beta={b}"),
        }
    }

    /// Parse `k=100`, `eps=1e-4`, `lr=0.01`, `batch=2`, `beta=0.9` or `-`.
    pub fn parse(s: &str) -> Result<Knob> {
        let bad = || {
            Error::invalid(
                "knob",
                s,
                "expected k=<pit sharpness>, eps=<noise floor>, lr=<learning rate>, \
                 batch=<batch size>, beta=<momentum> or -",
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
            "lr" => Ok(Knob::Lr(crate::error::positive("lr", v)?)),
            "batch" if v >= 1.0 && v.fract() == 0.0 && v <= 1e9 => Ok(Knob::Batch(v as usize)),
            "beta" => {
                crate::model::momentum::check_beta(v, &format!("knob `{s}`"))?;
                Ok(Knob::Momentum(v))
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
            Knob::Lr(t) => {
                p.lr = t;
                p.validate()?;
            }
            Knob::Batch(b) => {
                p.batch = b;
                p.validate()?;
            }
            Knob::Momentum(b) => p = crate::model::momentum::effective_problem(&p, b)?,
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
    /// linear solves + factorisations + Jacobian evaluations + other vector passes, e.g.
    /// the Krylov orthogonalisation), each an O(N) operation on a tridiagonal operator. Unlike wall time it is the same on every machine and
    /// every run, so rankings by it reproduce.
    pub fn work(&self) -> f64 {
        let s = &self.stats;
        let ops =
            s.rhs_evals + s.linear_solves + s.factorizations + s.jacobian_evals + s.vector_ops;
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
    spec.check()?;
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
    repair_tail(out)?;
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
            if let Ok(mut line) = serde_json::to_string(&rec) {
                // one write per record, newline included: a kill leaves at most one
                // torn last line, which `repair_tail` removes on resume
                line.push('\n');
                if let Ok(mut f) = writer.lock() {
                    let _ = f.write_all(line.as_bytes());
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

/// Make a records file end on a whole line before appending to it: a last line without
/// its newline (a run killed mid-write) is completed when it holds a whole record and
/// cut off otherwise (the job is then run again).
fn repair_tail(path: &Path) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    if bytes.last().is_none_or(|b| *b == b'\n') {
        return Ok(());
    }
    let start = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let whole = serde_json::from_slice::<SweepRecord>(&bytes[start..]).is_ok();
    let f = OpenOptions::new().write(true).open(path).map_err(io)?;
    if whole {
        let mut f = f;
        f.seek(std::io::SeekFrom::End(0)).map_err(io)?;
        f.write_all(b"\n").map_err(io)
    } else {
        f.set_len(start as u64).map_err(io)
    }
}

impl SweepSpec {
    /// Check every value of the spec: tolerances, budget and steps finite and positive,
    /// cell counts within [`crate::limits::MAX_CELLS`]; a NaN step would otherwise make
    /// records that cannot be read back.
    pub fn check(&self) -> Result<()> {
        use crate::error::positive;
        positive("tol", self.tol)?;
        positive("budget", self.budget)?;
        positive("reference dt", self.reference_dt)?;
        if let Some(t) = self.t_end {
            positive("t_end", t)?;
        }
        for (what, list) in [
            ("--dts", &self.dts),
            ("--dt-factors", &self.dt_factors),
            ("--rtols", &self.rtols),
        ] {
            for &v in list {
                positive(what, v)?;
            }
        }
        for &n in &self.cells {
            crate::limits::cells(n).map_err(|e| e.with_origin("--cells"))?;
        }
        crate::limits::cells(self.reference_cells)
            .map_err(|e| e.with_origin("--reference-cells"))?;
        Ok(())
    }
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
