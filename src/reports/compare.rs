//! Plots of a model-against-Monte-Carlo comparison
//! ([`crate::analysis::compare::Comparison`]): the density against the particle
//! histogram on the coarse 60-bin histogram at a few times, and mean and sd over time.

use std::path::Path;

use crate::analysis::compare::{compare, spread_indices, Comparison};
use crate::analysis::metrics::{bin_masses, COARSE_BINS};
use crate::analysis::montecarlo::McReport;
use crate::error::Result;
use crate::reports::plot::{line_plot, Scale, Series};
use crate::run::RunReport;

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
    crate::reports::make_dir(dir)?;
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
        let pm: Vec<f64> = bin_masses(grid, &snap.p, bins)
            .iter()
            .map(|m| m / bw)
            .collect();
        let hm = bin_masses(grid, &hist.p, bins);
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
        "W (weight)",
        "density (per unit W)",
        &series,
        Scale::Linear,
    )?;
    let ts: Vec<f64> = cmp.rows.iter().map(|r| r.t).collect();
    let f2 = format!("{prefix}-moments.svg");
    line_plot(
        &dir.join(&f2),
        &format!("{}: mean and sd over time", model.problem),
        "t (SGD steps)",
        "mean and sd of W (weight)",
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

/// Compare `model` with `mc` and write the plots (at four times spread over the run)
/// and the table `compare.md` into `dir`; returns the comparison and the files written.
pub fn write(dir: &Path, model: &RunReport, mc: &McReport) -> Result<(Comparison, Vec<String>)> {
    let cmp = compare(model, mc)?;
    let times: Vec<f64> = spread_indices(model.moments.len(), 4)
        .into_iter()
        .map(|i| model.moments[i].t)
        .collect();
    let mut files = write_plots(dir, "compare", model, mc, &cmp, &times)?;
    let table = dir.join("compare.md");
    std::fs::write(&table, cmp.markdown()).map_err(|source| crate::Error::Io {
        path: table.clone(),
        source,
    })?;
    files.push("compare.md".into());
    Ok((cmp, files))
}
