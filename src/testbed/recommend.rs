//! `recommend`: a small sweep on one problem, and the cheapest card that meets a
//! tolerance with a non-negative density and conserved mass.
//!
//! Every card of the catalogue runs on a few grids and steps (adaptive cards over a few
//! tolerances). A run qualifies when it finished without negative values or
//! oscillations, its error against the converged reference is within the tolerance
//! (Wasserstein-1 by default, L1 of a 60-bin histogram on request), mass is conserved
//! to 1e-10 (zero-flux problems), and an explicit card stepped within its limit. The
//! qualifying run with the least deterministic work ([`SweepRecord::work`], cell-operations;
//! ties broken by job order) wins, so the same command names the same card on every
//! machine. The text is the same on every run: wall times, which vary, are not ranked on
//! and are kept in the sweep records (`wall_s` in the cache's `recommend-<problem>.jsonl`)
//! rather than printed. Every other card gets one line on why it
//! lost.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::model::problem::Problem;
use crate::scheme::catalogue;
use crate::testbed::sweep::{qualifies, sweep, Knob, Step, SweepRecord, SweepSpec};

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

/// Run the small sweep and choose.
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
        reference_dt: 0.1,
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
    let err_of = |r: &SweepRecord| if use_l1 { r.l1_coarse } else { r.w1 };
    let ok: Vec<&SweepRecord> = records
        .iter()
        .filter(|r| qualifies(r, tol, use_l1, problem.boundary))
        .collect();
    let best = ok.iter().min_by(|a, b| cheaper(a, b)).map(|r| (*r).clone());
    let mut by_card: BTreeMap<&str, Vec<&SweepRecord>> = BTreeMap::new();
    for r in &records {
        by_card.entry(r.job.card.as_str()).or_default().push(r);
    }
    let mut losers = Vec::new();
    for (card, rs) in &by_card {
        if best.as_ref().is_some_and(|b| b.job.card == *card) {
            continue;
        }
        let quals: Vec<&&SweepRecord> = rs
            .iter()
            .filter(|r| qualifies(r, tol, use_l1, problem.boundary))
            .collect();
        let why = if let Some(q) = quals.iter().min_by(|a, b| cheaper(a, b)) {
            format!(
                "qualifies but costs more: work {:.3e} cell-operations at N = {}, {} ({:.1}× the winner)",
                q.work(),
                q.job.cells,
                step_label(&q.job.step),
                q.work() / best.as_ref().map_or(q.work(), |b| b.work()),
            )
        } else {
            let finished: Vec<&&SweepRecord> = rs.iter().filter(|r| err_of(r).is_some()).collect();
            let neg = rs.iter().filter(|r| !r.class.stable()).count();
            let bad: Vec<String> = {
                let mut m: BTreeMap<&str, usize> = BTreeMap::new();
                for r in rs.iter() {
                    *m.entry(r.class.as_str()).or_default() += 1;
                }
                m.iter().map(|(k, v)| format!("{k} {v}")).collect()
            };
            match finished.iter().filter_map(|r| err_of(r).map(|e| (e, r))).min_by(|a, b| a.0.total_cmp(&b.0)) {
                Some((e, r)) if e > tol => format!(
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
        };
        losers.push((card.to_string(), why));
    }
    Ok(Recommendation {
        problem: problem.name.clone(),
        tol,
        metric: if use_l1 { "l1".into() } else { "w1".into() },
        best,
        losers,
        records,
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
            }
            None => {
                let _ = writeln!(
                    s,
                    "no card met {metric} ≤ {:e} on {} with a non-negative density and conserved mass in this sweep",
                    self.tol, self.problem
                );
            }
        }
        let _ = writeln!(s, "\nwhy the others lost:");
        for (card, why) in &self.losers {
            let _ = writeln!(s, "  {card:<28} {why}");
        }
        let _ = writeln!(
            s,
            "\nevidence ({} runs; wall times in the sweep records):\n  {:<28} {:>5} {:>14} {:>11} {:>10} {:>10} {:>10} {:>10}",
            self.records.len(),
            "card",
            "N",
            "step",
            "class",
            "W1",
            "L1(60)",
            "min_p",
            "work"
        );
        for r in &self.records {
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
