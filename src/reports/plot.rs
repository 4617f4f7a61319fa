//! SVG line plots for the reports (plotters' SVG backend).
//!
//! One function, [`line_plot`]: several named series on shared axes, each drawn as a
//! line, as markers, or as markers with ± error bars. Plots are generated from typed
//! results, never drawn by hand.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// Circle markers.
    Points,
}

/// One named series; `err` (same length as `y`), when given, draws ± error bars.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates.
    pub y: Vec<f64>,
    /// Half-widths of error bars, if any.
    pub err: Option<Vec<f64>>,
    /// Drawing style.
    pub style: Style,
    /// Palette index (default: the series' position).
    pub color: Option<usize>,
}

impl Series {
    /// A series drawn as a line.
    pub fn line(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            x,
            y,
            err: None,
            style: Style::Line,
            color: None,
        }
    }
    /// A series drawn as markers with ± `err` bars.
    pub fn points(
        name: impl Into<String>,
        x: Vec<f64>,
        y: Vec<f64>,
        err: Option<Vec<f64>>,
    ) -> Self {
        Series {
            name: name.into(),
            x,
            y,
            err,
            style: Style::Points,
            color: None,
        }
    }
    /// Use palette colour `k` (so that related series share a colour).
    pub fn color(mut self, k: usize) -> Self {
        self.color = Some(k);
        self
    }
    /// Draw dashed instead.
    pub fn dashed(mut self) -> Self {
        self.style = Style::Dashed;
        self
    }
}

const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 23, 23),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
    RGBColor(0, 0, 128),
];

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        message: format!("plotting failed: {e}"),
    }
}

/// Axis scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Linear axis.
    Linear,
    /// Logarithmic axis (non-positive values are dropped).
    Log,
}

/// Draw `series` into an SVG file at `path` (800 × 480), linear x axis.
pub fn line_plot(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    yscale: Scale,
) -> Result<()> {
    line_plot_xy(path, title, xlabel, ylabel, series, Scale::Linear, yscale)
}

/// Draw `series` into an SVG file at `path` (800 × 480) with the given axis scales.
pub fn line_plot_xy(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    xscale: Scale,
    yscale: Scale,
) -> Result<()> {
    let keepx = |x: f64| x.is_finite() && (xscale == Scale::Linear || x > 0.0);
    let keep = |y: f64| y.is_finite() && (yscale == Scale::Linear || y > 0.0);
    let mut xr = (f64::INFINITY, f64::NEG_INFINITY);
    let mut yr = (f64::INFINITY, f64::NEG_INFINITY);
    for s in series {
        for (i, (&x, &y)) in s.x.iter().zip(&s.y).enumerate() {
            if !(keepx(x) && keep(y)) {
                continue;
            }
            let e = s.err.as_ref().map_or(0.0, |e| e[i]);
            xr = (xr.0.min(x), xr.1.max(x));
            let lo = if yscale == Scale::Log { y } else { y - e };
            yr = (yr.0.min(lo), yr.1.max(y + e));
        }
    }
    if xr.0.is_nan() || xr.1.is_nan() || xr.0 >= xr.1 {
        xr = (xr.0 - 1.0, xr.0 + 1.0);
    }
    if !xr.0.is_finite() {
        xr = (0.0, 1.0);
    }
    if !(yr.0.is_finite() && yr.1.is_finite()) {
        yr = (0.0, 1.0);
    }
    if yr.1 - yr.0 <= 1e-300 * yr.1.abs().max(1.0) {
        yr = (
            yr.0 - 0.5 * yr.0.abs().max(1e-12),
            yr.1 + 0.5 * yr.1.abs().max(1e-12),
        );
    }
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let pad = 0.05 * (yr.1 - yr.0);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(xlabel)
                .y_desc(ylabel)
                .draw()
                .map_err(|e| plot_err(path, e))?;
            for (k, s) in series.iter().enumerate() {
                let color = PALETTE[s.color.unwrap_or(k) % PALETTE.len()];
                let pts: Vec<(f64, f64)> =
                    s.x.iter()
                        .zip(&s.y)
                        .filter(|(x, y)| keepx(**x) && keep(**y))
                        .map(|(x, y)| (*x, *y))
                        .collect();
                let anno = match s.style {
                    Style::Line => chart
                        .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                        .map_err(|e| plot_err(path, e))?,
                    Style::Dashed => chart
                        .draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(2)))
                        .map_err(|e| plot_err(path, e))?,
                    Style::Points => {
                        if let Some(err) = &s.err {
                            let bars: Vec<_> =
                                s.x.iter()
                                    .zip(&s.y)
                                    .zip(err)
                                    .filter(|((x, y), e)| keepx(**x) && keep(**y) && e.is_finite())
                                    .map(|((x, y), e)| {
                                        let lo = if yscale == Scale::Log {
                                            (y - e).max(y * 1e-3)
                                        } else {
                                            y - e
                                        };
                                        PathElement::new(
                                            vec![(*x, lo), (*x, y + e)],
                                            color.stroke_width(1),
                                        )
                                    })
                                    .collect();
                            chart.draw_series(bars).map_err(|e| plot_err(path, e))?;
                        }
                        chart
                            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                            .map_err(|e| plot_err(path, e))?
                    }
                };
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }};
    }
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let (x0, x1) = match xscale {
        Scale::Linear => (xr.0, xr.1),
        Scale::Log => (xr.0 * 0.8, xr.1 * 1.25),
    };
    match (xscale, yscale) {
        (Scale::Linear, Scale::Linear) => draw!(builder
            .build_cartesian_2d(x0..x1, (yr.0 - pad)..(yr.1 + pad))
            .map_err(|e| plot_err(path, e))?),
        (Scale::Linear, Scale::Log) => draw!(builder
            .build_cartesian_2d(x0..x1, (yr.0 * 0.8..yr.1 * 1.25).log_scale())
            .map_err(|e| plot_err(path, e))?),
        (Scale::Log, Scale::Linear) => draw!(builder
            .build_cartesian_2d((x0..x1).log_scale(), (yr.0 - pad)..(yr.1 + pad))
            .map_err(|e| plot_err(path, e))?),
        (Scale::Log, Scale::Log) => draw!(builder
            .build_cartesian_2d((x0..x1).log_scale(), (yr.0 * 0.8..yr.1 * 1.25).log_scale())
            .map_err(|e| plot_err(path, e))?),
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_labels() {
        let dir = std::env::temp_dir().join(format!("probcurrent-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.svg");
        let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
        line_plot(
            &path,
            "sine",
            "w",
            "p",
            &[
                Series::line("sin", x.clone(), y.clone()),
                Series::points("pts", x.clone(), y.clone(), Some(vec![0.1; 50])),
            ],
            Scale::Linear,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("<svg") && text.contains("sine") && text.contains("pts"));
        let ylog: Vec<f64> = x.iter().map(|v| (v + 0.1) * 10.0).collect();
        line_plot(
            &path,
            "log",
            "w",
            "p",
            &[Series::line("l", x, ylog)],
            Scale::Log,
        )
        .unwrap();
    }
}

/// An RGB colour.
pub type Rgb = (u8, u8, u8);

/// One panel of a categorical heatmap: a title, column and row labels, and per cell a
/// palette colour and a short text (drawn inside the cell).
#[derive(Clone, Debug)]
pub struct HeatPanel {
    /// Panel title.
    pub title: String,
    /// Column labels (x).
    pub cols: Vec<String>,
    /// Row labels (y, drawn bottom to top).
    pub rows: Vec<String>,
    /// `cells[r][c]` = (RGB colour, text).
    pub cells: Vec<Vec<(Rgb, String)>>,
}

/// Draw categorical heatmap panels side by side into an SVG at `path`, with a legend
/// of (colour, label) pairs underneath.
pub fn heatmap(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    panels: &[HeatPanel],
    legend: &[((u8, u8, u8), &str)],
) -> Result<()> {
    let width = (360 * panels.len().max(1)) as u32;
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let root = root
        .titled(title, ("sans-serif", 20))
        .map_err(|e| plot_err(path, e))?;
    let (top, bottom) = root.split_vertically(340);
    let areas = top.split_evenly((1, panels.len().max(1)));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let nc = panel.cols.len().max(1) as i32;
        let nr = panel.rows.len().max(1) as i32;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())
            .map_err(|e| plot_err(path, e))?;
        // the segmented axis over 0..=n−1 ends at `Last`, the right edge of segment n−1
        let edge = |i: i32, n: i32| {
            if i >= n {
                SegmentValue::Last
            } else {
                SegmentValue::Exact(i)
            }
        };
        let label = |names: &[String], v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                names.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc as usize)
            .y_labels(nr as usize)
            .x_label_formatter(&|v| label(&panel.cols, v))
            .y_label_formatter(&|v| label(&panel.rows, v))
            .x_desc(xlabel)
            .y_desc(ylabel)
            .draw()
            .map_err(|e| plot_err(path, e))?;
        for (r, row) in panel.cells.iter().enumerate() {
            for (c, (rgb, text)) in row.iter().enumerate() {
                let (c, r) = (c as i32, r as i32);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (SegmentValue::Exact(c), SegmentValue::Exact(r)),
                            (edge(c + 1, nc), edge(r + 1, nr)),
                        ],
                        RGBColor(rgb.0, rgb.1, rgb.2).filled(),
                    )))
                    .map_err(|e| plot_err(path, e))?;
                if !text.is_empty() {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            text.clone(),
                            (SegmentValue::CenterOf(c), SegmentValue::CenterOf(r)),
                            ("sans-serif", 10),
                        )))
                        .map_err(|e| plot_err(path, e))?;
                }
            }
        }
    }
    let n = legend.len().max(1);
    let step = (width as i32 - 40) / n as i32;
    for (k, (rgb, label)) in legend.iter().enumerate() {
        let x = 20 + k as i32 * step;
        bottom
            .draw(&Rectangle::new(
                [(x, 30), (x + 18, 48)],
                RGBColor(rgb.0, rgb.1, rgb.2).filled(),
            ))
            .map_err(|e| plot_err(path, e))?;
        bottom
            .draw(&Text::new(
                label.to_string(),
                (x + 24, 34),
                ("sans-serif", 14),
            ))
            .map_err(|e| plot_err(path, e))?;
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}
