//! Plots of single runs and of scans: the space–time density heatmap and the moments
//! over time of a Fokker–Planck solve or a Monte Carlo run, and overlays of several
//! runs (moments, region masses over time, final densities).
//!
//! A [`Trace`] is what these plots read: the moments (mean, standard deviation, region
//! masses) at each snapshot and the densities, taken from a
//! [`RunReport`](crate::run::RunReport) (cell values) or a
//! [`McReport`](crate::analysis::montecarlo::McReport) (histograms). Time is in SGD
//! steps, densities per unit W.

use std::path::Path;

use crate::analysis::montecarlo::McReport;
use crate::error::{Error, Result};
use crate::reports::plot::spacetime::{spacetime_heatmap, SpaceTime};
use crate::reports::plot::{line_plot, Scale, Series, Style};
use crate::run::RunReport;

/// Time axis label of every plot here.
pub const TIME_LABEL: &str = "t (SGD steps)";

/// The moments and densities of one run over time.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Legend label.
    pub label: String,
    /// Times of the moments.
    pub times: Vec<f64>,
    /// Mean of W.
    pub mean: Vec<f64>,
    /// Standard deviation of W.
    pub sd: Vec<f64>,
    /// Region names.
    pub region_names: Vec<String>,
    /// Region masses at each time (`regions[k][r]`).
    pub regions: Vec<Vec<f64>>,
    /// Cell centres of the densities.
    pub centres: Vec<f64>,
    /// Times of the densities.
    pub snap_times: Vec<f64>,
    /// Densities per unit W.
    pub p: Vec<Vec<f64>>,
}

impl Trace {
    /// From a Fokker–Planck (or transfer) run.
    pub fn from_run(label: &str, r: &RunReport) -> Trace {
        Trace {
            label: label.into(),
            times: r.moments.iter().map(|m| m.t).collect(),
            mean: r.moments.iter().map(|m| m.mean).collect(),
            sd: r.moments.iter().map(|m| m.sd).collect(),
            region_names: r.region_names.clone(),
            regions: r.moments.iter().map(|m| m.regions.clone()).collect(),
            centres: r.grid.centres(),
            snap_times: r.snapshots.iter().map(|s| s.t).collect(),
            p: r.snapshots.iter().map(|s| s.p.clone()).collect(),
        }
    }

    /// From a Monte Carlo run (histogram densities).
    pub fn from_mc(label: &str, r: &McReport) -> Trace {
        Trace {
            label: label.into(),
            times: r.moments.iter().map(|m| m.t).collect(),
            mean: r.moments.iter().map(|m| m.mean).collect(),
            sd: r.moments.iter().map(|m| m.sd).collect(),
            region_names: r.region_names.clone(),
            regions: r.moments.iter().map(|m| m.regions.clone()).collect(),
            centres: r.grid.centres(),
            snap_times: r.histograms.iter().map(|h| h.t).collect(),
            p: r.histograms.iter().map(|h| h.p.clone()).collect(),
        }
    }

    /// The last time, mean and region masses (`None` for an empty run).
    pub fn last(&self) -> Option<(f64, f64, &[f64])> {
        let k = self.times.len().checked_sub(1)?;
        Some((self.times[k], self.mean[k], &self.regions[k]))
    }
}

/// Write `<stem>_heatmap.svg` (space–time density, log colour when `log`) and
/// `<stem>_moments.svg` (mean and mean ± sd over time) of one run into `dir`; returns
/// the file names.
pub fn write_run_plots(dir: &Path, stem: &str, tr: &Trace, log: bool) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = vec![];
    if !tr.p.is_empty() {
        let name = format!("{stem}_heatmap.svg");
        let d = SpaceTime {
            times: &tr.snap_times,
            centres: &tr.centres,
            p: &tr.p,
        };
        let title = format!("{}: density P(W, t)", tr.label);
        spacetime_heatmap(&dir.join(&name), &title, TIME_LABEL, &d, log)?;
        files.push(name);
    }
    let name = format!("{stem}_moments.svg");
    moments_plot(&dir.join(&name), &format!("{}: moments", tr.label), &[tr])?;
    files.push(name);
    Ok(files)
}

/// Mean (solid) and mean ± sd (dashed) of each trace over time.
fn moments_plot(path: &Path, title: &str, traces: &[&Trace]) -> Result<()> {
    let mut series = vec![];
    for (k, tr) in traces.iter().enumerate() {
        let t = tr.times.clone();
        let plus = tr.mean.iter().zip(&tr.sd).map(|(m, s)| m + s).collect();
        let minus = tr.mean.iter().zip(&tr.sd).map(|(m, s)| m - s).collect();
        series
            .push(Series::line(format!("{} mean", tr.label), t.clone(), tr.mean.clone()).color(k));
        series.push(
            Series::line(format!("{} mean ± sd", tr.label), t.clone(), plus)
                .color(k)
                .dashed(),
        );
        series.push(Series::line("", t, minus).color(k).dashed());
    }
    line_plot(
        path,
        title,
        TIME_LABEL,
        "W (weight): mean, mean ± sd",
        &series,
        Scale::Linear,
    )
}

/// Overlays of several runs in `dir`: `moments.svg`, `masses.svg` (every region's mass
/// over time; one colour per run, one line style per region) and `densities.svg` (the
/// last density of each run). Returns the file names.
pub fn write_overlays(dir: &Path, title: &str, traces: &[Trace]) -> Result<Vec<String>> {
    let refs: Vec<&Trace> = traces.iter().collect();
    moments_plot(
        &dir.join("moments.svg"),
        &format!("{title}: moments"),
        &refs,
    )?;
    let styles = [Style::Line, Style::Dashed, Style::LinePoints, Style::Points];
    let mut masses = vec![];
    for (k, tr) in traces.iter().enumerate() {
        for (r, name) in tr.region_names.iter().enumerate() {
            let y = tr
                .regions
                .iter()
                .map(|m| m.get(r).copied().unwrap_or(f64::NAN));
            let s = Series::line(
                format!("{} {name}", tr.label),
                tr.times.clone(),
                y.collect(),
            );
            masses.push(s.color(k).style(styles[r % styles.len()]));
        }
    }
    let mut files = vec!["moments.svg".to_string()];
    if !masses.is_empty() {
        let t = format!("{title}: region masses");
        line_plot(
            &dir.join("masses.svg"),
            &t,
            TIME_LABEL,
            "mass in region",
            &masses,
            Scale::Linear,
        )?;
        files.push("masses.svg".into());
    }
    let dens: Vec<Series> = traces
        .iter()
        .enumerate()
        .filter_map(|(k, tr)| {
            let (p, t) = (tr.p.last()?, tr.snap_times.last()?);
            let label = format!("{} (t = {t})", tr.label);
            Some(Series::line(label, tr.centres.clone(), p.clone()).color(k))
        })
        .collect();
    if !dens.is_empty() {
        let t = format!("{title}: final densities");
        line_plot(
            &dir.join("densities.svg"),
            &t,
            "W (weight)",
            "P (density per unit W)",
            &dens,
            Scale::Linear,
        )?;
        files.push("densities.svg".into());
    }
    Ok(files)
}
