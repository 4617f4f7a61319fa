//! The density model against Monte Carlo of the discrete process, snapshot by snapshot.
//!
//! Both run on the same grid and at the same snapshot times (whole SGD steps). Per
//! snapshot the table holds mean, sd and region masses of each (Monte Carlo with
//! standard errors), the Wasserstein-1 distance between the density and the particle
//! histogram (robust to spikes narrower than a cell), and the L1 distance of the two on
//! a coarse 60-bin histogram (the fine-grid L1 of a histogram measures sampling noise).

use std::path::Path;

use serde::Serialize;

use crate::analysis::metrics::wasserstein1;
use crate::analysis::montecarlo::{McMoments, McReport};
use crate::error::Result;
use crate::reports::plot::{line_plot, Scale, Series};
use crate::run::{Moments, RunReport};
use crate::space::grid::Grid;

/// Bins of the coarse histogram used for the L1 distance (DESIGN §4).
pub const COARSE_BINS: usize = 60;

/// Cell densities summed into `bins` equal bins (masses per bin); exact when
/// `bins` divides the number of cells, else each cell goes to the bin of its centre.
pub fn coarse_masses(grid: &Grid, p: &[f64], bins: usize) -> Vec<f64> {
    let mut out = vec![0.0; bins];
    let h = grid.h();
    for (i, v) in p.iter().enumerate() {
        let k = ((grid.centre(i) - grid.a) / (grid.b - grid.a) * bins as f64) as usize;
        out[k.min(bins - 1)] += v * h;
    }
    out
}

/// L1 distance of two densities on a coarse histogram of `bins` bins: Σ |m_p − m_q|.
pub fn coarse_l1(grid: &Grid, p: &[f64], q: &[f64], bins: usize) -> f64 {
    coarse_masses(grid, p, bins)
        .iter()
        .zip(coarse_masses(grid, q, bins))
        .map(|(a, b)| (a - b).abs())
        .sum()
}

/// One snapshot of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    /// Time (steps).
    pub t: f64,
    /// Density model moments.
    pub model: Moments,
    /// Monte Carlo moments with standard errors.
    pub mc: McMoments,
    /// Wasserstein-1 distance between density and histogram.
    pub w1: f64,
    /// L1 distance on the coarse 60-bin histogram.
    pub l1_coarse: f64,
}

/// A whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Problem.
    pub problem: String,
    /// Scheme of the density model.
    pub scheme: String,
    /// Monte Carlo process.
    pub mode: String,
    /// Particles.
    pub particles: usize,
    /// Region names.
    pub region_names: Vec<String>,
    /// Rows at the common snapshot times.
    pub rows: Vec<CompareRow>,
}

/// Pair the snapshots of a density run and a Monte Carlo run (same grid; times matched
/// to within 1e-9).
pub fn compare(model: &RunReport, mc: &McReport) -> Result<Comparison> {
    let mut rows = Vec::new();
    for (m, snap) in model.moments.iter().zip(&model.snapshots) {
        let Some(k) = mc.moments.iter().position(|x| (x.t - m.t).abs() < 1e-9) else {
            continue;
        };
        let hist = &mc.histograms[k];
        rows.push(CompareRow {
            t: m.t,
            model: m.clone(),
            mc: mc.moments[k].clone(),
            w1: wasserstein1(&model.grid, &snap.p, &hist.p)?,
            l1_coarse: coarse_l1(&model.grid, &snap.p, &hist.p, COARSE_BINS),
        });
    }
    Ok(Comparison {
        problem: model.problem.clone(),
        scheme: model.scheme.clone(),
        mode: mc.mode.as_str().to_string(),
        particles: mc.particles,
        region_names: model.region_names.clone(),
        rows,
    })
}

impl Comparison {
    /// The side-by-side table as markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from("| t | mean (model) | mean (MC) | sd (model) | sd (MC) |");
        for r in &self.region_names {
            s += &format!(" {r} (model) | {r} (MC) |");
        }
        s += " W1 | L1 (60 bins) |\n|---|---|---|---|---|";
        for _ in &self.region_names {
            s += "---|---|";
        }
        s += "---|---|\n";
        for row in &self.rows {
            s += &format!(
                "| {} | {:.4} | {:.4} ± {:.4} | {:.4} | {:.4} ± {:.4} |",
                row.t,
                row.model.mean,
                row.mc.mean,
                row.mc.mean_se,
                row.model.sd,
                row.mc.sd,
                row.mc.sd_se
            );
            for (k, _) in self.region_names.iter().enumerate() {
                s += &format!(
                    " {:.4} | {:.4} ± {:.4} |",
                    row.model.regions[k], row.mc.regions[k], row.mc.regions_se[k]
                );
            }
            s += &format!(" {:.2e} | {:.2e} |\n", row.w1, row.l1_coarse);
        }
        s
    }

    /// The table as plain text for the terminal.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{:>7} {:>9} {:>19} {:>9} {:>19}",
            "t", "mean", "mean MC", "sd", "sd MC"
        );
        for r in &self.region_names {
            s += &format!(" {:>9} {:>19}", r, format!("{r} MC"));
        }
        s += &format!(" {:>9} {:>9}\n", "W1", "L1(60)");
        for row in &self.rows {
            s += &format!(
                "{:>7} {:>9.5} {:>9.5} ± {:<7.5} {:>9.5} {:>9.5} ± {:<7.5}",
                row.t,
                row.model.mean,
                row.mc.mean,
                row.mc.mean_se,
                row.model.sd,
                row.mc.sd,
                row.mc.sd_se
            );
            for k in 0..self.region_names.len() {
                s += &format!(
                    " {:>9.5} {:>9.5} ± {:<7.5}",
                    row.model.regions[k], row.mc.regions[k], row.mc.regions_se[k]
                );
            }
            s += &format!(" {:>9.2e} {:>9.2e}\n", row.w1, row.l1_coarse);
        }
        s
    }
}

/// Pick up to `k` snapshot indices spread over a run (always the first after t = 0 and the last).
pub fn spread_indices(n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..k).map(|j| j * (n - 1) / (k - 1)).collect();
    v.dedup();
    v
}

/// Write the comparison plots into `dir` with file names starting `prefix`:
/// `<prefix>-density.svg` (density against the 60-bin histogram at a few times) and
/// `<prefix>-moments.svg` (mean ± sd over time). Returns the file names written.
pub fn write_plots(
    dir: &Path,
    prefix: &str,
    model: &RunReport,
    mc: &McReport,
    cmp: &Comparison,
    times: &[f64],
) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|source| crate::Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let grid = &model.grid;
    let bins = COARSE_BINS;
    let bw = (grid.b - grid.a) / bins as f64;
    let centres: Vec<f64> = (0..bins).map(|k| grid.a + (k as f64 + 0.5) * bw).collect();
    let mut series = Vec::new();
    for (c, &t) in times.iter().enumerate() {
        let Some(snap) = model.snapshots.iter().find(|s| (s.t - t).abs() < 1e-9) else {
            continue;
        };
        let Some(hist) = mc.histograms.iter().find(|s| (s.t - t).abs() < 1e-9) else {
            continue;
        };
        let pm: Vec<f64> = coarse_masses(grid, &snap.p, bins)
            .iter()
            .map(|m| m / bw)
            .collect();
        let hm = coarse_masses(grid, &hist.p, bins);
        let n = mc.particles as f64;
        let he: Vec<f64> = hm.iter().map(|m| (m * n).sqrt() / n / bw).collect();
        let hm: Vec<f64> = hm.iter().map(|m| m / bw).collect();
        series.push(Series::line(format!("{} t={t}", model.scheme), centres.clone(), pm).color(c));
        series.push(
            Series::points(
                format!("MC {} t={t}", mc.mode.as_str()),
                centres.clone(),
                hm,
                Some(he),
            )
            .color(c),
        );
    }
    let f1 = format!("{prefix}-density.svg");
    line_plot(
        &dir.join(&f1),
        &format!("{}: density (60 bins) vs Monte Carlo", model.problem),
        "w",
        "density",
        &series,
        Scale::Linear,
    )?;
    let ts: Vec<f64> = cmp.rows.iter().map(|r| r.t).collect();
    let f2 = format!("{prefix}-moments.svg");
    line_plot(
        &dir.join(&f2),
        &format!("{}: mean and sd over time", model.problem),
        "t (steps)",
        "w",
        &[
            Series::line(
                format!("mean {}", model.scheme),
                ts.clone(),
                cmp.rows.iter().map(|r| r.model.mean).collect(),
            ),
            Series::points(
                format!("mean MC {}", mc.mode.as_str()),
                ts.clone(),
                cmp.rows.iter().map(|r| r.mc.mean).collect(),
                Some(cmp.rows.iter().map(|r| 2.0 * r.mc.mean_se).collect()),
            ),
            Series::line(
                format!("sd {}", model.scheme),
                ts.clone(),
                cmp.rows.iter().map(|r| r.model.sd).collect(),
            )
            .dashed(),
            Series::points(
                format!("sd MC {}", mc.mode.as_str()),
                ts.clone(),
                cmp.rows.iter().map(|r| r.mc.sd).collect(),
                Some(cmp.rows.iter().map(|r| 2.0 * r.mc.sd_se).collect()),
            ),
        ],
        Scale::Linear,
    )?;
    Ok(vec![f1, f2])
}
