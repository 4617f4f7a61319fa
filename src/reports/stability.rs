//! `stability.md`: the outcome of every card over dt × N at each pit sharpness k of the
//! seed landscape, as heatmaps, and the largest stable dt relative to the explicit
//! limit 1/max|A_ii| per card and k.
//!
//! [`compute`] runs the sweep and returns typed results ([`Stability`]); [`render`]
//! writes `stability.md` with one heatmap per card in `stability/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{all_cards, io, Progress, ReportSizes};
use crate::error::Result;
use crate::reports::plot::{heatmap, HeatPanel, Rgb};
use crate::reports::validation::Summary;
use crate::testbed::sweep::{sweep, Class, Knob, Step, SweepRecord, SweepSpec};

/// Colour of a class in the stability maps.
pub fn class_colour(c: Class) -> (u8, u8, u8) {
    match c {
        Class::Ok => (44, 160, 44),
        Class::Inaccurate => (188, 220, 120),
        Class::Oscillating => (255, 187, 60),
        Class::Negative => (255, 127, 14),
        Class::Diverged => (214, 39, 40),
        Class::Failed => (120, 20, 20),
        Class::Skipped => (200, 200, 200),
    }
}

const CLASSES: [Class; 7] = [
    Class::Ok,
    Class::Inaccurate,
    Class::Oscillating,
    Class::Negative,
    Class::Diverged,
    Class::Failed,
    Class::Skipped,
];

fn fmt_factor(f: f64) -> String {
    if f >= 1.0 && (f - f.round()).abs() < 1e-9 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// The largest stable dt of one card at one k.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum Largest {
    /// An adaptive card (no dt factor).
    Adaptive,
    /// The largest stable dt factor on the finest grid with a stable run, and that grid.
    Factor(f64, usize),
    /// Runs finished but none was stable.
    None,
    /// No run at this k (all skipped by the budget).
    NotRun,
}

/// One card at one pit sharpness k.
#[derive(Clone, Debug, Serialize)]
pub struct CardAtK {
    /// Pit sharpness k.
    pub k: f64,
    /// Class per grid (rows, coarse to fine) and column (dt factor or rtol); `None` where
    /// no record exists.
    pub classes: Vec<Vec<Option<Class>>>,
    /// The largest stable dt.
    pub largest: Largest,
}

/// One card of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct CardStability {
    /// Card name.
    pub card: String,
    /// Whether the card is adaptive (columns are rtols rather than dt factors).
    pub adaptive: bool,
    /// One entry per k of the sizes.
    pub per_k: Vec<CardAtK>,
}

/// Everything the stability report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Stability {
    /// The sizes of the sweep.
    #[serde(skip)]
    pub sizes: ReportSizes,
    /// One entry per card of the catalogue.
    pub cards: Vec<CardStability>,
    /// Number of runs.
    pub runs: usize,
    /// Runs per class.
    pub counts: BTreeMap<String, usize>,
}

/// `stability.md`: per card a heatmap of the outcome over dt × N for each pit
/// sharpness k, and the largest stable dt relative to the explicit limit per k:
/// [`compute`] then [`render`].
pub fn stability_report(
    dir: &Path,
    sizes: &ReportSizes,
    cache: &Path,
    progress: Progress,
) -> Result<Summary> {
    let clock = Instant::now();
    crate::reports::make_dir(&dir.join("stability"))?;
    let st = compute(dir, sizes, cache, progress)?;
    let mut sum = render(&st, dir)?;
    sum.wall_s = clock.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run the sweep (raw records to `<dir>/data/stability.jsonl`) and classify it per card and k.
pub fn compute(
    dir: &Path,
    sizes: &ReportSizes,
    cache: &Path,
    progress: Progress,
) -> Result<Stability> {
    let spec = SweepSpec {
        problems: vec!["seed".into()],
        knobs: sizes.ks.iter().map(|&k| Knob::PitSharpness(k)).collect(),
        cards: all_cards()?,
        cells: sizes.stability_cells.clone(),
        dt_factors: sizes.dt_factors.clone(),
        dts: vec![],
        rtols: sizes.rtols.clone(),
        t_end: Some(sizes.t_end),
        tol: 1e-2,
        budget: sizes.budget,
        reference_cells: sizes.reference_cells,
        reference_dt: 0.1,
        cache_dir: cache.to_path_buf(),
    };
    let data = dir.join("data");
    crate::reports::make_dir(&data)?;
    let out = data.join("stability.jsonl");
    let _ = std::fs::remove_file(&out);
    let recs = sweep(&spec, &out, None, &|d, t| progress("stability sweep", d, t))?;
    let cards = spec
        .cards
        .iter()
        .map(|card| card_stability(card, &recs, sizes))
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &recs {
        *counts.entry(r.class.as_str().to_string()).or_default() += 1;
    }
    Ok(Stability {
        sizes: sizes.clone(),
        cards,
        runs: recs.len(),
        counts,
    })
}

fn card_stability(card: &str, recs: &[SweepRecord], sizes: &ReportSizes) -> CardStability {
    let mine: Vec<&SweepRecord> = recs.iter().filter(|r| r.job.card == card).collect();
    let adaptive = mine.iter().any(|r| matches!(r.job.step, Step::Rtol(_)));
    let ncols = if adaptive {
        sizes.rtols.len()
    } else {
        sizes.dt_factors.len()
    };
    let per_k = sizes
        .ks
        .iter()
        .map(|&k| card_at_k(&mine, k, ncols, adaptive, sizes))
        .collect();
    CardStability {
        card: card.to_string(),
        adaptive,
        per_k,
    }
}

fn card_at_k(
    mine: &[&SweepRecord],
    k: f64,
    ncols: usize,
    adaptive: bool,
    sizes: &ReportSizes,
) -> CardAtK {
    let kk = Knob::PitSharpness(k);
    let mut classes = Vec::new();
    let mut best: Option<(f64, usize)> = None;
    for &n in &sizes.stability_cells {
        let row = (0..ncols)
            .map(|c| {
                mine.iter()
                    .find(|r| {
                        r.job.knob == kk
                            && r.job.cells == n
                            && match r.job.step {
                                Step::DtFactor(f) => (f - sizes.dt_factors[c]).abs() < 1e-12,
                                Step::Rtol(x) => (x - sizes.rtols[c]).abs() < 1e-300,
                                Step::Dt(_) => false,
                            }
                    })
                    .map(|r| r.class)
            })
            .collect();
        classes.push(row);
        // the finest grid with a stable run decides (grids are listed coarse to fine)
        for r in mine
            .iter()
            .filter(|r| r.job.knob == kk && r.job.cells == n && r.class.stable())
        {
            if let Step::DtFactor(f) = r.job.step {
                best = match best {
                    Some((b, m)) if m == n => Some((b.max(f), n)),
                    _ => Some((f, n)),
                };
            }
        }
    }
    let ran = mine
        .iter()
        .any(|r| r.job.knob == kk && r.class != Class::Skipped);
    let largest = match (adaptive, best, ran) {
        (true, _, _) => Largest::Adaptive,
        (false, Some((b, n)), _) => Largest::Factor(b, n),
        (false, None, true) => Largest::None,
        (false, None, false) => Largest::NotRun,
    };
    CardAtK {
        k,
        classes,
        largest,
    }
}

/// Write `<dir>/stability.md` and one heatmap per card to `<dir>/stability/`; the
/// summary's `wall_s` is left at zero.
pub fn render(st: &Stability, dir: &Path) -> Result<Summary> {
    let sizes = &st.sizes;
    let plots = dir.join("stability");
    crate::reports::make_dir(&plots)?;
    let mut md = intro(sizes);
    let mut files = Vec::new();
    for c in &st.cards {
        let f = card_heatmap(c, sizes, &plots)?;
        let _ = writeln!(md, "## {}\n\n![{}](stability/{f})\n", c.card, c.card);
        files.push(f);
    }
    md += &largest_table(st);
    let counts = st
        .counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(md, "\nRuns: {} ({counts}).\n", st.runs);
    let path = dir.join("stability.md");
    std::fs::write(&path, md).map_err(io(&path))?;
    Ok(Summary {
        lines: vec![format!(
            "stability.md: {} runs over {} cards × {} k ({counts})",
            st.runs,
            st.cards.len(),
            sizes.ks.len(),
        )],
        plots: files,
        wall_s: 0.0,
    })
}

fn intro(sizes: &ReportSizes) -> String {
    format!(
        "# Stability maps\n\nGenerated by `probcurrent report`; do not edit by hand. Raw records: \
         [data/stability.jsonl](data/stability.jsonl).\n\n\
         Problem `seed` with pit sharpness k ∈ {{{}}}, t = 0 … {}, every card of the catalogue, \
         N ∈ {{{}}} cells, dt = factor × the run's explicit limit 1/max|A_ii| (adaptive cards: \
         rtol ∈ {{{}}}, atol = 1e-3·rtol, shown in the dt columns in that order). Classes: \
         ok (W1 error from a {}-cell reference ≤ 1e-2), inaccurate (finished cleanly, larger \
         error), oscillating, negative, diverged, failed, skipped (fixed-step cost over {:.0e} \
         cell-steps).\n\n",
        sizes
            .ks
            .iter()
            .map(|k| fmt_factor(*k))
            .collect::<Vec<_>>()
            .join(", "),
        sizes.t_end,
        sizes
            .stability_cells
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        sizes
            .rtols
            .iter()
            .map(|r| format!("{r:e}"))
            .collect::<Vec<_>>()
            .join(", "),
        sizes.reference_cells,
        sizes.budget
    )
}

/// The heatmap of one card, one panel per k; returns the file name.
fn card_heatmap(c: &CardStability, sizes: &ReportSizes, plots: &Path) -> Result<String> {
    let legend: Vec<((u8, u8, u8), &str)> = CLASSES
        .iter()
        .map(|c| (class_colour(*c), c.as_str()))
        .collect();
    let cols: Vec<String> = if c.adaptive {
        sizes.rtols.iter().map(|r| format!("{r:e}")).collect()
    } else {
        sizes.dt_factors.iter().map(|f| fmt_factor(*f)).collect()
    };
    let panels: Vec<HeatPanel> = c
        .per_k
        .iter()
        .map(|at| HeatPanel {
            title: format!("k = {}", fmt_factor(at.k)),
            cols: cols.clone(),
            rows: sizes
                .stability_cells
                .iter()
                .map(|n| n.to_string())
                .collect(),
            cells: at
                .classes
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|cl| -> (Rgb, String) {
                            (cl.map_or((255, 255, 255), class_colour), String::new())
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    let f = format!("{}.svg", c.card);
    heatmap(
        &plots.join(&f),
        &format!("{}: outcome on seed", c.card),
        if c.adaptive {
            "rtol"
        } else {
            "dt / explicit limit"
        },
        "cells",
        &panels,
        &legend,
    )?;
    Ok(f)
}

/// The table of the largest stable dt per card and k.
fn largest_table(st: &Stability) -> String {
    let ks = &st.sizes.ks;
    let mut largest = String::from(
        "## Largest stable dt / explicit limit\n\nPer card and k: the largest dt factor whose run was \
         ok or inaccurate (not negative, oscillating, diverged or failed), on the finest grid with a \
         stable run; `none` if no run was stable, `n/a` for adaptive cards.\n\n| card |",
    );
    for k in ks {
        let _ = write!(largest, " k = {} |", fmt_factor(*k));
    }
    largest += "\n|---|";
    largest += &"---|".repeat(ks.len());
    largest.push('\n');
    for c in &st.cards {
        let _ = write!(largest, "| {} |", c.card);
        for at in &c.per_k {
            let cell = match at.largest {
                Largest::Adaptive => "n/a".to_string(),
                Largest::Factor(b, n) => format!("{} (N = {n})", fmt_factor(b)),
                Largest::None => "none".into(),
                Largest::NotRun => "not run (budget)".into(),
            };
            let _ = write!(largest, " {cell} |");
        }
        largest.push('\n');
    }
    largest
}
