//! SVG line plots for the reports (plotters' SVG backend).
//!
//! [`line_plot`] / [`line_plot_xy`]: several named series on shared axes, each drawn
//! as a line, as markers (shape and colour cycled per series), as a line through
//! markers, or as markers with ± error bars; the legend sits beside the plotting area,
//! never over the data, and ticks are in engineering/log notation ([`tick`]).
//! [`heatmap`]: categorical panels. Plots are generated from typed results, never
//! drawn by hand. [`spacetime::spacetime_heatmap`]: a density over (t, W) with a colour bar.

use std::path::Path;

pub mod spacetime;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// Markers (the shape cycles with the series).
    Points,
    /// A solid line through markers.
    LinePoints,
    /// Small faint markers (points shown for context, e.g. dominated runs).
    Faint,
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
    /// Marker shape index (default: from the series' position).
    pub marker: Option<usize>,
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
            marker: None,
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
            marker: None,
        }
    }
    /// Use palette colour `k` (so that related series share a colour).
    pub fn color(mut self, k: usize) -> Self {
        self.color = Some(k);
        self
    }
    /// Use marker shape `k` (so that related series share a shape).
    pub fn marker(mut self, k: usize) -> Self {
        self.marker = Some(k);
        self
    }
    /// Draw in `style` instead.
    pub fn style(mut self, style: Style) -> Self {
        self.style = style;
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

/// Draw `series` into an SVG file at `path` with a linear x axis (see [`line_plot_xy`]).
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

/// Width of the plotting area; the legend is drawn to its right, outside the data.
const PLOT_W: u32 = 760;

/// Marker shapes, cycled per series together with the palette so that every series
/// differs from its neighbours in shape and colour.
const SHAPES: usize = 6;

/// An axis tick label in engineering/log notation: `1e5`, `2.5e-4`, `0.01`, `250`, `3`
/// (no trailing `.0`, never `100000`).
pub fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let a = v.abs();
    if !(1e-3..1e4).contains(&a) {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        return format!("{m}e{e}");
    }
    trim_zeros(&format!("{v:.6}")).to_string()
}

/// `"2.500"` → `"2.5"`, `"3.000"` → `"3"`, `"-0.000"` → `"0"`.
fn trim_zeros(s: &str) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    if t == "-0" {
        "0".into()
    } else {
        t.into()
    }
}

/// Evaluate `$body` with `$mk` bound to a closure from a point to the marker
/// element of shape `$shape` (0..[`SHAPES`]: disc, square, triangle, diamond, ring,
/// cross) of radius about `$r` pixels; each shape is its own element type, so the
/// body is expanded once per shape.
macro_rules! with_marker {
    ($shape:expr, $r:expr, $color:expr, |$mk:ident| $body:expr) => {{
        let (r, color): (i32, RGBAColor) = ($r, $color);
        let (fill, line) = (color.filled(), color.stroke_width(2));
        match $shape % SHAPES {
            0 => {
                let $mk = |p| EmptyElement::at(p) + Circle::new((0, 0), r, fill);
                $body
            }
            1 => {
                let $mk = |p| EmptyElement::at(p) + Rectangle::new([(-r, -r), (r, r)], fill);
                $body
            }
            2 => {
                let tri = move || vec![(0, -r - 1), (r + 1, r), (-r - 1, r)];
                let $mk = |p| EmptyElement::at(p) + Polygon::new(tri(), fill);
                $body
            }
            3 => {
                let dia = move || vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)];
                let $mk = |p| EmptyElement::at(p) + Polygon::new(dia(), fill);
                $body
            }
            4 => {
                let $mk = |p| EmptyElement::at(p) + Circle::new((0, 0), r, line);
                $body
            }
            _ => {
                let $mk = |p| {
                    EmptyElement::at(p)
                        + PathElement::new(vec![(-r, -r), (r, r)], line)
                        + PathElement::new(vec![(-r, r), (r, -r)], line)
                };
                $body
            }
        }
    }};
}

/// Colour and marker shape of series `k` of `s`.
fn look(k: usize, s: &Series) -> (RGBAColor, usize) {
    let c = s.color.unwrap_or(k);
    let rgb = PALETTE[c % PALETTE.len()];
    let alpha = if s.style == Style::Faint { 0.35 } else { 1.0 };
    let m = s.marker.unwrap_or(k);
    (rgb.mix(alpha), m + m / PALETTE.len())
}

/// Data ranges of the kept points (finite, positive on log axes), widened when empty or
/// degenerate.
fn ranges(series: &[Series], xscale: Scale, yscale: Scale) -> ((f64, f64), (f64, f64)) {
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
    (xr, yr)
}

/// The range of a log axis over data in `r`: whole decades when the data span at least
/// one (so that both ends carry a labelled tick), else a margin of 25 %.
fn log_span(r: (f64, f64)) -> (f64, f64) {
    if r.0 > 0.0 && r.1 >= 10.0 * r.0 {
        // a hair beyond the decades, so that rounding cannot drop the end ticks
        let lo = 10f64.powf(r.0.log10().floor()) * (1.0 - 1e-9);
        let hi = 10f64.powf(r.1.log10().ceil()) * (1.0 + 1e-9);
        (lo, hi)
    } else {
        (r.0 * 0.8, r.1 * 1.25)
    }
}

/// Draw `series` into an SVG file at `path` with the given axis scales: an 760 × 480
/// plotting area and, to its right, a legend with one row per named series (a series
/// with an empty name has no row). Ticks are in engineering/log notation ([`tick`]).
pub fn line_plot_xy(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    xscale: Scale,
    yscale: Scale,
) -> Result<()> {
    let (xr, yr) = ranges(series, xscale, yscale);
    let named: Vec<(usize, &Series)> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty())
        .collect();
    let longest = named.iter().map(|(_, s)| s.name.chars().count()).max();
    let legend_w = longest.map_or(0, |n| (48 + 7 * n as u32).clamp(120, 340));
    let height = 480u32.max(60 + 20 * named.len() as u32);
    let root = SVGBackend::new(path, (PLOT_W + legend_w, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (area, legend) = root.split_horizontally(PLOT_W);
    let keepx = |x: f64| x.is_finite() && (xscale == Scale::Linear || x > 0.0);
    let keep = |y: f64| y.is_finite() && (yscale == Scale::Linear || y > 0.0);
    let pad = 0.05 * (yr.1 - yr.0);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(xlabel)
                .y_desc(ylabel)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .draw()
                .map_err(|e| plot_err(path, e))?;
            for (k, s) in series.iter().enumerate() {
                let (color, shape) = look(k, s);
                let ok = |(x, y): (&f64, &f64)| keepx(*x) && keep(*y);
                let pts: Vec<(f64, f64)> =
                    s.x.iter()
                        .zip(&s.y)
                        .filter(|p| ok(*p))
                        .map(|(x, y)| (*x, *y))
                        .collect();
                if let Some(err) = &s.err {
                    let bars =
                        s.x.iter()
                            .zip(&s.y)
                            .zip(err)
                            .filter(|(p, e)| ok(*p) && e.is_finite());
                    let bars: Vec<_> = bars
                        .map(|((x, y), e)| {
                            let lo = if yscale == Scale::Log {
                                (y - e).max(y * 1e-3)
                            } else {
                                y - e
                            };
                            PathElement::new(vec![(*x, lo), (*x, y + e)], color.stroke_width(1))
                        })
                        .collect();
                    chart.draw_series(bars).map_err(|e| plot_err(path, e))?;
                }
                let line = match s.style {
                    Style::Dashed => Some(true),
                    Style::Line | Style::LinePoints => Some(false),
                    Style::Points | Style::Faint => None,
                };
                match line {
                    Some(true) => chart
                        .draw_series(DashedLineSeries::new(
                            pts.clone(),
                            6,
                            4,
                            color.stroke_width(2),
                        ))
                        .map(|_| ()),
                    Some(false) => chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                        .map(|_| ()),
                    None => Ok(()),
                }
                .map_err(|e| plot_err(path, e))?;
                if matches!(s.style, Style::Points | Style::LinePoints | Style::Faint) {
                    let r = if s.style == Style::Faint { 3 } else { 4 };
                    with_marker!(shape, r, color, |mk| chart
                        .draw_series(pts.iter().map(|p| mk(*p)))
                        .map(|_| ()))
                    .map_err(|e| plot_err(path, e))?;
                }
            }
        }};
    }
    let mut builder = ChartBuilder::on(&area);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(76);
    let (x0, x1) = match xscale {
        Scale::Linear => (xr.0, xr.1),
        Scale::Log => log_span(xr),
    };
    let (ly0, ly1) = log_span(yr);
    match (xscale, yscale) {
        (Scale::Linear, Scale::Linear) => draw!(builder
            .build_cartesian_2d(x0..x1, (yr.0 - pad)..(yr.1 + pad))
            .map_err(|e| plot_err(path, e))?),
        (Scale::Linear, Scale::Log) => draw!(builder
            .build_cartesian_2d(x0..x1, (ly0..ly1).log_scale())
            .map_err(|e| plot_err(path, e))?),
        (Scale::Log, Scale::Linear) => draw!(builder
            .build_cartesian_2d((x0..x1).log_scale(), (yr.0 - pad)..(yr.1 + pad))
            .map_err(|e| plot_err(path, e))?),
        (Scale::Log, Scale::Log) => draw!(builder
            .build_cartesian_2d((x0..x1).log_scale(), (ly0..ly1).log_scale())
            .map_err(|e| plot_err(path, e))?),
    }
    draw_legend(&legend, &named).map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}

/// The legend, one row per named series (its line sample and/or marker, then its
/// name), in `area` beside the plot.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    named: &[(usize, &Series)],
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (row, (k, s)) in named.iter().enumerate() {
        let (color, shape) = look(*k, s);
        let y = 48 + 20 * row as i32;
        match s.style {
            Style::Line | Style::LinePoints => area.draw(&PathElement::new(
                vec![(4, y), (36, y)],
                color.stroke_width(2),
            ))?,
            Style::Dashed => {
                for x in [4, 17, 30] {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 7, y)],
                        color.stroke_width(2),
                    ))?
                }
            }
            Style::Points | Style::Faint => {}
        }
        if matches!(s.style, Style::Points | Style::LinePoints | Style::Faint) {
            if s.err.is_some() {
                let bar = PathElement::new(vec![(20, y - 7), (20, y + 7)], color.stroke_width(1));
                area.draw(&bar)?;
            }
            with_marker!(shape, 4, color, |mk| area.draw(&mk((20, y))))?;
        }
        area.draw(&Text::new(s.name.clone(), (44, y - 7), ("sans-serif", 13)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_in_engineering_notation() {
        let cases = [
            (100000.0, "1e5"),
            (250000.0, "2.5e5"),
            (1e-4, "1e-4"),
            (0.01, "0.01"),
            (2.0, "2"),
            (2.5, "2.5"),
            (1000.0, "1000"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.3"),
            (9.999e7, "1e8"),
        ];
        for (v, want) in cases {
            assert_eq!(tick(v), want, "tick({v})");
        }
    }

    /// (x, text) of every `<text>` element of an SVG written by plotters.
    fn texts(svg: &str) -> Vec<(f64, String)> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let x = t.split("x=\"").nth(1)?.split('"').next()?.parse().ok()?;
                let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
                Some((x, body))
            })
            .collect()
    }

    /// Fourteen series of markers and lines over five decades on log–log axes: every
    /// legend label lies right of the plotting area (no legend over data), every data
    /// point is drawn inside it, and no tick label has a trailing `.0` or a long run of
    /// zeros.
    #[test]
    fn legend_beside_the_data_and_ticks_without_trailing_zeros() {
        let dir = std::env::temp_dir().join(format!("probcurrent-plot-l-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("many.svg");
        let series: Vec<Series> = (0..14)
            .map(|k| {
                let x: Vec<f64> = (0..8).map(|i| 1e5 * 10f64.powf(i as f64 * 0.6)).collect();
                let y: Vec<f64> = x.iter().map(|v| (k + 1) as f64 * 1e3 / v).collect();
                let s = Series::line(format!("card-number-{k}"), x, y);
                s.style(if k % 2 == 0 {
                    Style::LinePoints
                } else {
                    Style::Points
                })
            })
            .collect();
        line_plot_xy(
            &path,
            "t",
            "work (cell-operations)",
            "W1 error",
            &series,
            Scale::Log,
            Scale::Log,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let texts = texts(&svg);
        let labels: Vec<_> = texts
            .iter()
            .filter(|(_, b)| b.starts_with("card-number-"))
            .collect();
        assert_eq!(labels.len(), 14, "one legend row per series");
        assert!(labels.iter().all(|(x, _)| *x > PLOT_W as f64), "{labels:?}");
        // markers: circles (discs and rings) carry their centre
        let cx: Vec<f64> = svg
            .split("<circle")
            .skip(1)
            .filter_map(|c| c.split("cx=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        let data: Vec<&f64> = cx.iter().filter(|x| **x < PLOT_W as f64).collect();
        assert!(data.len() >= 8, "data markers drawn: {}", data.len());
        assert!(cx
            .iter()
            .all(|x| *x < PLOT_W as f64 - 30.0 || *x > PLOT_W as f64));
        let ticks: Vec<&String> = texts
            .iter()
            .map(|(_, b)| b)
            .filter(|b| b.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        assert!(ticks.len() >= 6, "tick labels: {ticks:?}");
        for t in ticks {
            assert!(!t.ends_with(".0") && !t.contains("0000"), "tick label {t}");
        }
    }

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
