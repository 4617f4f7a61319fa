//! The density model against Monte Carlo of the discrete process, snapshot by snapshot.
//!
//! Both run on the same grid and at the same snapshot times (whole SGD steps). Per
//! snapshot the table holds mean, sd and region masses of each (Monte Carlo with
//! standard errors), the exact Wasserstein-1 distance between the density and the
//! particles themselves ([`w1_sample`]: the sorted positions, not their histogram, so
//! errors below the cell width count; both normalised to their own mass, i.e. the
//! distributions conditional on being in the domain, like the means — so
//! W1 ≥ |Δmean|; masses are compared in their own columns), and the L1 distance of the two on
//! the coarse 60-bin histogram of [`crate::analysis::metrics::binned_l1`] (the fine-grid L1 of a histogram measures sampling noise).

use serde::Serialize;

use crate::analysis::metrics::{binned_l1, w1_sample, COARSE_BINS};
use crate::analysis::montecarlo::{McMoments, McReport};
use crate::error::Result;
use crate::run::{Moments, RunReport};

/// One snapshot of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    /// Time (steps).
    pub t: f64,
    /// Density model moments.
    pub model: Moments,
    /// Monte Carlo moments with standard errors.
    pub mc: McMoments,
    /// Exact Wasserstein-1 distance between the density and the particles in the
    /// domain ([`w1_sample`], each normalised to its own mass).
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
            w1: w1_sample(&model.grid, &snap.p, &hist.positions),
            l1_coarse: binned_l1(&model.grid, &snap.p, &mc.grid, &hist.p, COARSE_BINS),
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
