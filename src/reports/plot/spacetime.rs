//! The space–time density heatmap: P(W, t) as coloured rectangles over the (t, W)
//! plane, one column per snapshot and one row per (merged) cell, with a colour bar.
//!
//! Column k spans the midpoints between snapshot k and its neighbours; row edges are
//! the midpoints between cell centres (so non-uniform grids draw correctly). The colour
//! is a viridis-like ramp on P, or on log₁₀ P (`log`, over four decades below the
//! maximum) to show the tails.

use std::path::Path;

use plotters::prelude::*;

use super::{plot_err, tick};
use crate::error::Result;

/// Anchors of the colour ramp (dark blue → green → yellow, perceptually ordered).
const RAMP: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// Colour of `u` in [0, 1] on the ramp.
pub fn ramp(u: f64) -> RGBColor {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = u * (RAMP.len() - 1) as f64;
    let k = (x.floor() as usize).min(RAMP.len() - 2);
    let f = x - k as f64;
    let (a, b) = (RAMP[k], RAMP[k + 1]);
    let c = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
    RGBColor(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// A density over time: snapshot times, cell centres and values `p[k][i]`.
#[derive(Clone, Debug)]
pub struct SpaceTime<'a> {
    /// Snapshot times (increasing).
    pub times: &'a [f64],
    /// Cell centres (increasing).
    pub centres: &'a [f64],
    /// Density per snapshot and cell.
    pub p: &'a [Vec<f64>],
}

/// Edges around increasing points: midpoints inside, the outer points extended by half
/// a neighbour gap (or ±½ for a single point).
fn edges(x: &[f64]) -> Vec<f64> {
    match x.len() {
        0 => vec![],
        1 => vec![x[0] - 0.5, x[0] + 0.5],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(x[0] - 0.5 * (x[1] - x[0]));
            e.extend(x.windows(2).map(|w| 0.5 * (w[0] + w[1])));
            e.push(x[n - 1] + 0.5 * (x[n - 1] - x[n - 2]));
            e
        }
    }
}

/// Merge cells into at most `rows` rows (averages of consecutive cells): keeps the SVG
/// small on fine grids.
fn merged(centres: &[f64], p: &[Vec<f64>], rows: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = centres.len();
    let m = n.div_ceil(rows.max(1)).max(1);
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let c: Vec<f64> = centres.chunks(m).map(avg).collect();
    let q = p
        .iter()
        .map(|row| row.chunks(m).map(avg).collect())
        .collect();
    (c, q)
}

/// Draw the heatmap of `d` into an SVG at `path`: time on x (`xlabel`), W on y, colour
/// = density per unit W (log₁₀ when `log`), with a labelled colour bar.
pub fn spacetime_heatmap(
    path: &Path,
    title: &str,
    xlabel: &str,
    d: &SpaceTime,
    log: bool,
) -> Result<()> {
    let (centres, p) = merged(d.centres, d.p, 200);
    let (te, we) = (edges(d.times), edges(&centres));
    let pmax = p
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let decades = 4.0;
    let (lo, hi) = if log {
        (pmax.log10() - decades, pmax.log10())
    } else {
        (0.0, pmax)
    };
    let u = |v: f64| {
        let x = if log { v.max(1e-300).log10() } else { v };
        (x - lo) / (hi - lo)
    };
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (main, bar) = root.split_horizontally(840);
    let (t0, t1) = (te[0].max(0.0), *te.last().unwrap_or(&1.0));
    let (w0, w1) = (we[0], *we.last().unwrap_or(&1.0));
    let mut chart = ChartBuilder::on(&main)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, w0..w1)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(xlabel)
        .y_desc("W (weight)")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    let rects = p.iter().enumerate().flat_map(|(k, row)| {
        let (x0, x1) = (te[k].max(t0), te[k + 1]);
        let we = &we;
        row.iter()
            .enumerate()
            .map(move |(i, &v)| Rectangle::new([(x0, we[i]), (x1, we[i + 1])], ramp(u(v)).filled()))
    });
    chart.draw_series(rects).map_err(|e| plot_err(path, e))?;
    colour_bar(path, &bar, lo, hi, log)?;
    root.present().map_err(|e| plot_err(path, e))
}

/// The colour bar: the ramp from `lo` to `hi` with ticks, labelled with the units.
fn colour_bar(
    path: &Path,
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    lo: f64,
    hi: f64,
    log: bool,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(55)
        .margin_right(10)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(|e| plot_err(path, e))?;
    let desc = if log {
        "log10 P (per unit W)"
    } else {
        "P (density per unit W)"
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(desc)
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    let n = 100;
    let steps = (0..n).map(|k| {
        let (a, b) = (k as f64 / n as f64, (k + 1) as f64 / n as f64);
        let (ya, yb) = (lo + a * (hi - lo), lo + b * (hi - lo));
        Rectangle::new([(0.0, ya), (1.0, yb)], ramp(a).filled())
    });
    chart.draw_series(steps).map_err(|e| plot_err(path, e))?;
    Ok(())
}
