//! `work-precision.md`: Wasserstein-1 and 60-bin L1 error against wall time and against
//! deterministic work (cell-operations: N × (right-hand sides + linear solves +
//! factorisations + Jacobians + other vector passes)) for every card on `seed` and `ou`
//! (work–precision diagrams in the sense of Hairer & Wanner, Solving ODEs II, §IV.10).
//!
//! [`compute`] runs the sweeps and returns typed results ([`WorkPrecision`]); [`render`]
//! writes `work-precision.md` with its plots in `work-precision/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{all_cards, io, Progress, ReportSizes};
use crate::error::Result;
use crate::reports::plot::{line_plot_xy, Scale, Series, Style};
use crate::reports::validation::Summary;
use crate::testbed::sweep::{sweep, Knob, Step, SweepRecord, SweepSpec};

/// The cheapest stable runs per card at one accuracy level.
#[derive(Clone, Debug, Serialize)]
pub struct Cheapest {
    /// The W1 tolerance.
    pub tol: f64,
    /// (card, work in cell-operations of its cheapest stable run with W1 ≤ tol), cheapest first.
    pub ranked: Vec<(String, f64)>,
}

/// The sweep of one problem.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemSweep {
    /// Problem name (`seed` or `ou`).
    pub problem: String,
    /// End time of the runs.
    pub t_end: f64,
    /// Every record of the sweep, in sweep order.
    pub records: Vec<SweepRecord>,
    /// The cheapest stable runs at W1 ≤ 1e-2 and ≤ 1e-3.
    pub cheapest: Vec<Cheapest>,
}

/// Everything the work–precision report shows.
#[derive(Clone, Debug, Serialize)]
pub struct WorkPrecision {
    /// `seed` then `ou`.
    pub problems: Vec<ProblemSweep>,
}

/// `work-precision.md`: W1 and L1 (60 bins) error against wall time and against work
/// in cell-operations ([`crate::testbed::sweep::SweepRecord::work`]), every card, on seed and ou:
/// [`compute`] then [`render`].
pub fn work_precision_report(
    dir: &Path,
    sizes: &ReportSizes,
    cache: &Path,
    progress: Progress,
) -> Result<Summary> {
    let clock = Instant::now();
    crate::reports::make_dir(&dir.join("work-precision"))?;
    let wp = compute(dir, sizes, cache, progress)?;
    let mut sum = render(&wp, dir)?;
    sum.wall_s = clock.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run the sweeps on `seed` and `ou` (raw records to
/// `<dir>/data/work-precision-<problem>.jsonl`).
pub fn compute(
    dir: &Path,
    sizes: &ReportSizes,
    cache: &Path,
    progress: Progress,
) -> Result<WorkPrecision> {
    let data = dir.join("data");
    crate::reports::make_dir(&data)?;
    let mut problems = Vec::new();
    for problem in ["seed", "ou"] {
        let t_end = if problem == "seed" {
            sizes.t_end
        } else {
            100.0
        };
        let spec = SweepSpec {
            problems: vec![problem.into()],
            knobs: vec![Knob::None],
            cards: all_cards()?,
            cells: sizes.wp_cells.clone(),
            dt_factors: vec![0.9],
            dts: sizes.wp_dts.clone(),
            rtols: sizes.rtols.clone(),
            t_end: Some(t_end),
            tol: 1e-2,
            budget: sizes.budget,
            reference_cells: sizes.reference_cells,
            reference_dt: 0.1,
            cache_dir: cache.to_path_buf(),
        };
        let out = data.join(format!("work-precision-{problem}.jsonl"));
        let _ = std::fs::remove_file(&out);
        let records = sweep(&spec, &out, None, &|d, t| {
            progress(&format!("work-precision {problem}"), d, t)
        })?;
        let cheapest = [1e-2, 1e-3]
            .into_iter()
            .map(|tol| cheapest(&by_card(&records), tol))
            .collect();
        problems.push(ProblemSweep {
            problem: problem.to_string(),
            t_end,
            records,
            cheapest,
        });
    }
    Ok(WorkPrecision { problems })
}

/// The finished records (W1 known, at least one step) per card.
fn by_card(recs: &[SweepRecord]) -> BTreeMap<String, Vec<&SweepRecord>> {
    let mut by_card: BTreeMap<String, Vec<&SweepRecord>> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.w1.is_some() && r.stats.steps > 0) {
        by_card.entry(r.job.card.clone()).or_default().push(r);
    }
    by_card
}

/// Cheapest qualifying run per card at W1 ≤ `tol`, by deterministic work
/// ([`SweepRecord::work`], cell-operations), so the ranking reproduces on any machine.
fn cheapest(by_card: &BTreeMap<String, Vec<&SweepRecord>>, tol: f64) -> Cheapest {
    let mut ranked: Vec<(String, f64)> = by_card
        .iter()
        .filter_map(|(card, rs)| {
            rs.iter()
                .filter(|r| r.w1.is_some_and(|w| w <= tol) && r.class.stable())
                .map(|r| r.work())
                .reduce(f64::min)
                .map(|w| (card.clone(), w))
        })
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    Cheapest { tol, ranked }
}

/// Write `<dir>/work-precision.md` and its plots to `<dir>/work-precision/`; the
/// summary's `wall_s` is left at zero.
pub fn render(wp: &WorkPrecision, dir: &Path) -> Result<Summary> {
    let plots = dir.join("work-precision");
    crate::reports::make_dir(&plots)?;
    let mut md = String::from(
        "# Work–precision\n\nGenerated by `probcurrent report`; do not edit by hand. Raw records: \
         `data/work-precision-<problem>.jsonl`.\n\n\
         Error at t_end against a converged reference (the `scharfetter-gummel` card on a fine grid \
         at dt = 0.1): Wasserstein-1 (primary) and L1 on a 60-bin histogram, against wall time of \
         the time loop and against work in cell-operations = N × (right-hand sides + linear solves + factorisations + \
         Jacobian evaluations + other vector passes such as the Krylov card's orthogonalisation), \
         each an O(N) pass over a vector or the tridiagonal operator. \
         Each card's points run over N and dt (or rtol); only runs that finished are plotted: a \
         line joins each card's Pareto-optimal runs (none of its other runs is both cheaper and \
         more accurate), its other runs are faint markers of the same shape and colour, and \
         runs that went negative or oscillated are marked in the table below. Wall times come from \
         one run on a shared 2-core machine: compare ratios, not absolute values.\n\n",
    );
    let mut lines = Vec::new();
    let mut files = Vec::new();
    for ps in &wp.problems {
        files.extend(problem_plots(ps, &plots)?);
        problem_table(ps, &mut md);
        for c in &ps.cheapest {
            let line = cheapest_line(&ps.problem, c);
            let _ = writeln!(md, "- {line}");
            lines.push(line);
        }
        md.push('\n');
    }
    let path = dir.join("work-precision.md");
    std::fs::write(&path, md).map_err(io(&path))?;
    Ok(Summary {
        lines,
        plots: files,
        wall_s: 0.0,
    })
}

/// The four plots of one problem (W1 and L1 against time and work); returns the file names.
/// Each card is a line through its Pareto-optimal runs (no other run of the card is both
/// cheaper and more accurate), in its own colour and marker; its other runs are faint
/// markers of the same look.
fn problem_plots(ps: &ProblemSweep, plots: &Path) -> Result<Vec<String>> {
    let problem = &ps.problem;
    let by_card = by_card(&ps.records);
    let mut files = Vec::new();
    for (metric, label) in [("w1", "W1 error (units of W)"), ("l1", "L1 error, 60 bins")] {
        for (xname, xlabel) in [
            ("time", "wall time of the time loop (s)"),
            ("work", "work (cell-operations)"),
        ] {
            let series: Vec<Series> = by_card
                .iter()
                .enumerate()
                .flat_map(|(k, (card, rs))| card_series(k, card, rs, metric, xname))
                .collect();
            let f = format!("{problem}-{metric}-vs-{xname}.svg");
            line_plot_xy(
                &plots.join(&f),
                &format!("{problem}: {label} against {xname}"),
                xlabel,
                label,
                &series,
                Scale::Log,
                Scale::Log,
            )?;
            files.push(f);
        }
    }
    Ok(files)
}

/// The runs of one card (colour and marker `k`): `metric` (`w1` or `l1`) against
/// `xname` (`time` or `work`) as two series, the Pareto-optimal runs joined by a line
/// (named after the card) and the dominated runs as faint markers (unnamed).
fn card_series(
    k: usize,
    card: &str,
    rs: &[&SweepRecord],
    metric: &str,
    xname: &str,
) -> [Series; 2] {
    let mut pts: Vec<(f64, f64)> = rs
        .iter()
        .map(|r| {
            let x = if xname == "time" {
                r.wall_s.max(1e-6)
            } else {
                r.work()
            };
            let y = if metric == "w1" { r.w1 } else { r.l1_coarse };
            (x, y.unwrap_or(f64::NAN).max(1e-16))
        })
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let (front, rest) = pareto_front(&pts);
    let unzip = |v: Points| -> (Vec<f64>, Vec<f64>) { v.into_iter().unzip() };
    let ((fx, fy), (rx, ry)) = (unzip(front), unzip(rest));
    [
        Series::line(card.to_string(), fx, fy)
            .style(Style::LinePoints)
            .color(k)
            .marker(k),
        Series::points(String::new(), rx, ry, None)
            .style(Style::Faint)
            .color(k)
            .marker(k),
    ]
}

/// Points (x, y) of a plot.
type Points = Vec<(f64, f64)>;

/// Split points sorted by x into the Pareto front (each point more accurate, smaller
/// y, than every cheaper one) and the dominated rest.
fn pareto_front(sorted: &[(f64, f64)]) -> (Points, Points) {
    let mut best = f64::INFINITY;
    let (mut front, mut rest) = (Vec::new(), Vec::new());
    for &p in sorted {
        if p.1 < best {
            best = p.1;
            front.push(p);
        } else {
            rest.push(p);
        }
    }
    (front, rest)
}

/// The section of one problem: its plots and a table of every run.
fn problem_table(ps: &ProblemSweep, md: &mut String) {
    let (problem, t_end) = (&ps.problem, ps.t_end);
    let _ = writeln!(
        md,
        "## `{problem}` (t_end = {t_end})\n\n![w1 time](work-precision/{problem}-w1-vs-time.svg)\n\
         ![w1 work](work-precision/{problem}-w1-vs-work.svg)\n\n\
         ![l1 time](work-precision/{problem}-l1-vs-time.svg)\n![l1 work](work-precision/{problem}-l1-vs-work.svg)\n\n\
         | card | N | step | class | W1 | L1 (60) | wall s | work | steps |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in &ps.records {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.3e} | {} | {} |",
            r.job.card,
            r.job.cells,
            match r.job.step {
                Step::DtFactor(f) => format!("{f}×limit"),
                Step::Dt(d) => format!("dt {d}"),
                Step::Rtol(x) => format!("rtol {x:e}"),
            },
            r.class.as_str(),
            r.w1.map_or("–".into(), |v| format!("{v:.2e}")),
            r.l1_coarse.map_or("–".into(), |v| format!("{v:.2e}")),
            r.wall_s,
            r.work(),
            r.stats.steps
        );
    }
    md.push('\n');
}

/// The finding of one accuracy level.
fn cheapest_line(problem: &str, c: &Cheapest) -> String {
    let (tol, best) = (c.tol, &c.ranked);
    if best.is_empty() {
        format!("{problem}: no stable run reached W1 ≤ {tol:e}")
    } else {
        format!(
            "{problem}: least work for a stable run (outcome ok) with W1 ≤ {tol:e}: {} ({:.3e} cell-operations){}",
            best[0].0,
            best[0].1,
            best.get(1).map_or(String::new(), |b| format!(
                "; next {} at {:.1}× the work",
                b.0,
                b.1 / best[0].1.max(1e-9)
            ))
        )
    }
}
