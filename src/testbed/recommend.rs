//! `recommend`: a small sweep on one problem, and the cheapest card that meets a
//! tolerance with a non-negative density and conserved mass.
//!
//! Every card of the catalogue runs on a few grids and steps (adaptive cards over a few
//! tolerances), against the default card on 9600 cells at dt = 0.02 (at dt = 0.1 its
//! own time error, W1 ≈ 4e-4 on `ou`, would hide errors below that). A run qualifies when it finished without negative values or
//! oscillations, its error against the converged reference is within the tolerance
//! (Wasserstein-1 by default, L1 of a 60-bin histogram on request), mass is conserved
//! to 1e-10 (zero-flux problems), and an explicit card stepped within its limit. The
//! qualifying run with the least deterministic work ([`SweepRecord::work`], cell-operations;
//! ties broken by job order) wins, so the same command names the same card on every
//! machine.
//!
//! Robustness: on a problem whose density has a spike a few cells wide (`seed`), the
//! error is not monotone in N (it depends on where the spike falls inside its cell), so
//! one grid meeting the tolerance proves little. A run at N qualifies only if the same
//! card at the same step also qualifies at 0.8 N and 1.25 N (rounded): every card that
//! qualifies somewhere is rerun on those neighbouring grids, its qualifying runs in order
//! of work until one passes (the runs are kept in `recommend-<problem>-neighbours.jsonl`
//! in the cache), and the text says which qualifying runs fail the neighbour check. The text is the same on every run: wall times, which vary, are not ranked on
//! and are kept in the sweep records (`wall_s` in the cache's `recommend-<problem>.jsonl`)
//! rather than printed. Every other card gets one line on why it
//! lost.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::model::problem::{Boundary, Problem};
use crate::scheme::catalogue;
use crate::testbed::sweep::{
    qualifies, reference, run_job, sweep, Job, Knob, Step, SweepRecord, SweepSpec,
};

/// The outcome of `recommend`.
#[derive(Clone, Debug, Serialize)]
pub struct Recommendation {
    /// Problem.
    pub problem: String,
    /// Tolerance.
    pub tol: f64,
    /// Metric: `w1` or `l1`.
    pub metric: String,
    /// The winning run, if any qualified.
    pub best: Option<SweepRecord>,
    /// One line per other card: why it lost.
    pub losers: Vec<(String, String)>,
    /// All runs (the evidence).
    pub records: Vec<SweepRecord>,
    /// The runs on the neighbouring grids 0.8 N and 1.25 N of qualifying runs.
    pub neighbours: Vec<SweepRecord>,
}

/// The neighbouring grids of N: 0.8 N and 1.25 N, rounded.
pub fn neighbour_cells(n: usize) -> [usize; 2] {
    [
        (0.8 * n as f64).round() as usize,
        (1.25 * n as f64).round() as usize,
    ]
}

fn step_label(s: &Step) -> String {
    match s {
        Step::DtFactor(f) => format!("{f}×limit"),
        Step::Dt(d) => format!("dt {d}"),
        Step::Rtol(r) => format!("rtol {r:e}"),
    }
}

/// Order by deterministic work, then by job order.
fn cheaper(a: &SweepRecord, b: &SweepRecord) -> std::cmp::Ordering {
    a.work()
        .total_cmp(&b.work())
        .then(a.job.index.cmp(&b.job.index))
}

/// Which runs qualify, and whether across ±25 % of N.
struct Judge<'a> {
    tol: f64,
    use_l1: bool,
    boundary: Boundary,
    neighbours: &'a [SweepRecord],
}

impl Judge<'_> {
    fn err_of(&self, r: &SweepRecord) -> Option<f64> {
        if self.use_l1 {
            r.l1_coarse
        } else {
            r.w1
        }
    }

    fn passes(&self, r: &SweepRecord) -> bool {
        qualifies(r, self.tol, self.use_l1, self.boundary)
    }

    /// The neighbour run of `r` at `cells` (same card and step).
    fn neighbour(&self, r: &SweepRecord, cells: usize) -> Option<&SweepRecord> {
        self.neighbours.iter().find(|q| {
            q.job.card == r.job.card
                && q.job.cells == cells
                && step_label(&q.job.step) == step_label(&r.job.step)
        })
    }

    /// Qualifies at N and at 0.8 N and 1.25 N with the same card and step.
    fn robust(&self, r: &SweepRecord) -> bool {
        self.passes(r)
            && neighbour_cells(r.job.cells)
                .iter()
                .all(|&n| self.neighbour(r, n).is_some_and(|q| self.passes(q)))
    }

    /// One line on why the card of `rs` lost to `best`.
    fn why_lost(&self, rs: &[&SweepRecord], best: Option<&SweepRecord>) -> String {
        let quals: Vec<&&SweepRecord> = rs.iter().filter(|r| self.robust(r)).collect();
        let fragile: Vec<&&SweepRecord> = rs
            .iter()
            .filter(|r| self.passes(r) && !self.robust(r))
            .collect();
        if let Some(q) = quals.iter().min_by(|a, b| cheaper(a, b)) {
            format!(
            "qualifies (also at 0.8 N and 1.25 N) but costs more: work {:.3e} cell-operations at N = {}, {} ({:.1}× the winner)",
            q.work(),
            q.job.cells,
            step_label(&q.job.step),
            q.work() / best.as_ref().map_or(q.work(), |b| b.work()),
        )
        } else if let Some(q) = fragile.iter().min_by(|a, b| cheaper(a, b)) {
            let [lo, hi] = neighbour_cells(q.job.cells);
            let at = |n: usize| {
                self.neighbours
                    .iter()
                    .find(|r| {
                        r.job.card == q.job.card
                            && r.job.cells == n
                            && step_label(&r.job.step) == step_label(&q.job.step)
                    })
                    .map_or("not run".to_string(), |r| match self.err_of(r) {
                        Some(e) => format!("{e:.3e} ({})", r.class.as_str()),
                        None => r.class.as_str().to_string(),
                    })
            };
            format!(
            "within the tolerance at N = {}, {} ({} error {:.3e}) but not across ±25 % of N: at N = {lo} {}, at N = {hi} {}",
            q.job.cells,
            step_label(&q.job.step),
            if self.use_l1 { "L1" } else { "W1" },
            self.err_of(q).unwrap_or(f64::NAN),
            at(lo),
            at(hi)
        )
        } else {
            let finished: Vec<&&SweepRecord> =
                rs.iter().filter(|r| self.err_of(r).is_some()).collect();
            let neg = rs.iter().filter(|r| !r.class.stable()).count();
            let bad: Vec<String> = {
                let mut m: BTreeMap<&str, usize> = BTreeMap::new();
                for r in rs.iter() {
                    *m.entry(r.class.as_str()).or_default() += 1;
                }
                m.iter().map(|(k, v)| format!("{k} {v}")).collect()
            };
            match finished.iter().filter_map(|r| self.err_of(r).map(|e| (e, r))).min_by(|a, b| a.0.total_cmp(&b.0)) {
            Some((e, r)) if e > self.tol => format!(
                "never within the tolerance: best error {e:.3e} at N = {}, {} (runs: {})",
                r.job.cells,
                step_label(&r.job.step),
                bad.join(", ")
            ),
            Some(_) if neg > 0 => format!(
                "its runs within the tolerance went negative, oscillated or failed ({neg} of {} runs; runs: {})",
                rs.len(),
                bad.join(", ")
            ),
            Some((_, r)) => format!(
                "no run qualified (best at N = {}, {}: class {}, explicit step beyond its limit or mass drift; runs: {})",
                r.job.cells,
                step_label(&r.job.step),
                r.class.as_str(),
                bad.join(", ")
            ),
            None => format!("no run finished (runs: {})", bad.join(", ")),
        }
        }
    }
}

/// The neighbour runs (0.8 N and 1.25 N, same card and step) that decide robustness:
/// per card, its qualifying runs are checked in order of work until one qualifies on
/// both neighbours too (cards in parallel; the result does not depend on the order).
/// The runs are also written to `recommend-<problem>-neighbours.jsonl` beside `out`.
fn neighbour_runs(
    spec: &SweepSpec,
    records: &[SweepRecord],
    out: &Path,
    problem: &Problem,
    use_l1: bool,
) -> Result<Vec<SweepRecord>> {
    use rayon::prelude::*;
    let passes = |r: &SweepRecord| qualifies(r, spec.tol, use_l1, problem.boundary);
    let mut by_card: BTreeMap<&str, Vec<&SweepRecord>> = BTreeMap::new();
    for r in records.iter().filter(|r| passes(r)) {
        by_card.entry(r.job.card.as_str()).or_default().push(r);
    }
    // the sweep's label of the problem, so that its cached reference file is reused
    let label = format!(
        "{}|{}",
        spec.problems.first().map_or("", |p| p.as_str()),
        Knob::None.label()
    );
    let reference = if by_card.is_empty() {
        return Ok(Vec::new());
    } else {
        reference(problem, &label, spec)?
    };
    let per_card: Vec<Vec<SweepRecord>> = by_card
        .into_par_iter()
        .map(|(_, mut rs)| {
            rs.sort_by(|a, b| cheaper(a, b));
            let mut runs = Vec::new();
            for r in rs {
                let pair: Vec<SweepRecord> = neighbour_cells(r.job.cells)
                    .iter()
                    .map(|&cells| {
                        let job = Job {
                            cells,
                            ..r.job.clone()
                        };
                        run_job(&job, problem, &reference, spec)
                    })
                    .collect();
                let robust = pair.iter().all(passes);
                runs.extend(pair);
                if robust {
                    break;
                }
            }
            runs
        })
        .collect();
    let runs: Vec<SweepRecord> = per_card.into_iter().flatten().collect();
    let nout = out.with_file_name(format!(
        "{}-neighbours.jsonl",
        out.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("recommend")
    ));
    let lines: Vec<String> = runs
        .iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .collect();
    std::fs::write(&nout, lines.join("\n") + "\n").map_err(|source| crate::error::Error::Io {
        path: nout.clone(),
        source,
    })?;
    Ok(runs)
}

/// Run the small sweep, rerun the qualifying cards at 0.8 N and 1.25 N, and choose.
pub fn recommend(
    problem_name: &str,
    tol: f64,
    use_l1: bool,
    cache: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Recommendation> {
    crate::error::positive("tol", tol)?;
    let problem = Problem::resolve(problem_name)?;
    let spec = SweepSpec {
        problems: vec![problem_name.to_string()],
        knobs: vec![Knob::None],
        cards: catalogue()?.into_iter().map(|s| s.name).collect(),
        cells: vec![600, 1200, 2400, 4800],
        dt_factors: vec![0.9],
        dts: vec![0.25, 1.0],
        rtols: vec![1e-4, 1e-6],
        t_end: None,
        tol,
        budget: 3e8,
        reference_cells: 9600,
        reference_dt: 0.02,
        cache_dir: cache.to_path_buf(),
    };
    let out = cache.join(format!(
        "recommend-{}.jsonl",
        problem
            .name
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    ));
    let _ = std::fs::remove_file(&out);
    let records = sweep(&spec, &out, None, progress)?;
    let neighbours = neighbour_runs(&spec, &records, &out, &problem, use_l1)?;
    let judge = Judge {
        tol,
        use_l1,
        boundary: problem.boundary,
        neighbours: &neighbours,
    };
    let best = records
        .iter()
        .filter(|r| judge.robust(r))
        .min_by(|a, b| cheaper(a, b))
        .cloned();
    let mut by_card: BTreeMap<&str, Vec<&SweepRecord>> = BTreeMap::new();
    for r in &records {
        by_card.entry(r.job.card.as_str()).or_default().push(r);
    }
    let losers = by_card
        .iter()
        .filter(|(card, _)| best.as_ref().is_none_or(|b| b.job.card != **card))
        .map(|(card, rs)| (card.to_string(), judge.why_lost(rs, best.as_ref())))
        .collect();
    Ok(Recommendation {
        problem: problem.name.clone(),
        tol,
        metric: if use_l1 { "l1".into() } else { "w1".into() },
        best,
        losers,
        records,
        neighbours,
    })
}

impl Recommendation {
    /// The recommendation, the evidence table and one line per losing card.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let metric = if self.metric == "l1" {
            "L1 (60 bins)"
        } else {
            "Wasserstein-1"
        };
        match &self.best {
            Some(b) => {
                let _ = writeln!(
                    s,
                    "recommended for {} at {metric} ≤ {:e}: {} with N = {}, {} ({} error {:.3e}, work {:.3e} cell-operations, {} steps, min_p {:.2e})",
                    self.problem,
                    self.tol,
                    b.job.card,
                    b.job.cells,
                    step_label(&b.job.step),
                    metric,
                    if self.metric == "l1" { b.l1_coarse } else { b.w1 }.unwrap_or(f64::NAN),
                    b.work(),
                    b.stats.steps,
                    b.min_p.unwrap_or(f64::NAN)
                );
                let [lo, hi] = neighbour_cells(b.job.cells);
                let err = |n: usize| {
                    self.neighbours
                        .iter()
                        .find(|q| {
                            q.job.card == b.job.card
                                && q.job.cells == n
                                && step_label(&q.job.step) == step_label(&b.job.step)
                        })
                        .and_then(|q| {
                            if self.metric == "l1" {
                                q.l1_coarse
                            } else {
                                q.w1
                            }
                        })
                        .map_or("–".into(), |e| format!("{e:.3e}"))
                };
                let _ = writeln!(
                    s,
                    "  robust to the grid: within the tolerance also at N = {lo} ({}) and N = {hi} ({}), same card and step",
                    err(lo),
                    err(hi)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "no card met {metric} ≤ {:e} on {} at N, 0.8 N and 1.25 N with a non-negative density and conserved mass in this sweep",
                    self.tol, self.problem
                );
            }
        }
        let _ = writeln!(
            s,
            "a run qualifies only if the same card and step also meet the tolerance at 0.8 N and 1.25 N \
             (the error need not fall monotonically with N when a spike is a few cells wide)"
        );
        let _ = writeln!(s, "\nwhy the others lost:");
        for (card, why) in &self.losers {
            let _ = writeln!(s, "  {card:<28} {why}");
        }
        let _ = writeln!(
            s,
            "\nevidence ({} runs, then {} on the neighbouring grids; wall times in the sweep records):\n  {:<28} {:>5} {:>14} {:>11} {:>10} {:>10} {:>10} {:>10}",
            self.records.len(),
            self.neighbours.len(),
            "card",
            "N",
            "step",
            "class",
            "W1",
            "L1(60)",
            "min_p",
            "work"
        );
        for r in self.records.iter().chain(&self.neighbours) {
            let _ = writeln!(
                s,
                "  {:<28} {:>5} {:>14} {:>11} {:>10} {:>10} {:>10} {:>10.3e}",
                r.job.card,
                r.job.cells,
                step_label(&r.job.step),
                r.class.as_str(),
                r.w1.map_or("–".into(), |v| format!("{v:.2e}")),
                r.l1_coarse.map_or("–".into(), |v| format!("{v:.2e}")),
                r.min_p.map_or("–".into(), |v| format!("{v:.1e}")),
                r.work()
            );
        }
        s
    }
}
