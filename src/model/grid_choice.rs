//! How a problem asks for its finite-volume grid: uniform cells, an equidistributing
//! grid built from the landscape (`auto`, see the space layer), or explicit edges.
//!
//! In a problem file this is the `[grid]` table: `kind = "uniform" | "auto" | "edges"`,
//! with `edges = [a, …, b]` or `csv = "file.csv"` (a column `edge`) for `edges`. The
//! edges are checked when the problem is loaded: finite, strictly increasing, at least
//! four (three cells), spanning the problem's domain exactly.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The kind of grid a command asks for (`--grid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum GridKind {
    /// Uniform cells.
    Uniform,
    /// Equidistributing cells built from the landscape before the run.
    Auto,
}

/// A problem's grid: uniform (the default), auto, or explicit edges.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum GridChoice {
    /// Uniform cells (`--cells` of them).
    #[default]
    Uniform,
    /// An equidistributing grid of `--cells` cells.
    Auto,
    /// The given faces (their number minus one is the cell count).
    Edges(Arc<[f64]>),
}

impl From<GridKind> for GridChoice {
    fn from(k: GridKind) -> Self {
        match k {
            GridKind::Uniform => GridChoice::Uniform,
            GridKind::Auto => GridChoice::Auto,
        }
    }
}

impl GridChoice {
    /// `uniform`, `auto` or `edges`.
    pub fn name(&self) -> &'static str {
        match self {
            GridChoice::Uniform => "uniform",
            GridChoice::Auto => "auto",
            GridChoice::Edges(_) => "edges",
        }
    }
}

/// The `[grid]` table of a problem file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridTable {
    /// `uniform`, `auto` or `edges`.
    pub kind: String,
    /// The faces, for `kind = "edges"`.
    pub edges: Option<Vec<f64>>,
    /// A CSV file with a column `edge` (relative to the problem file), for `kind = "edges"`.
    pub csv: Option<String>,
}

impl GridTable {
    /// The grid choice of this table for the domain [a, b]; `dir` is the problem
    /// file's folder, `origin` names the file in errors.
    pub fn resolve(self, a: f64, b: f64, dir: &Path, origin: &str) -> Result<GridChoice> {
        let bad = |message: String| Error::Malformed {
            path: origin.into(),
            message,
        };
        let extra = self.edges.is_some() || self.csv.is_some();
        match self.kind.as_str() {
            "uniform" | "auto" if extra => Err(bad(format!(
                "grid: `edges` and `csv` belong to kind = \"edges\", not \"{}\"",
                self.kind
            ))),
            "uniform" => Ok(GridChoice::Uniform),
            "auto" => Ok(GridChoice::Auto),
            "edges" => {
                let edges = match (self.edges, self.csv) {
                    (Some(e), None) => e,
                    (None, Some(csv)) => read_edges(&dir.join(&csv))
                        .map_err(|e| bad(format!("grid.csv = \"{csv}\": {e}")))?,
                    _ => {
                        return Err(bad(
                            "grid: kind = \"edges\" needs exactly one of `edges = [...]` \
                             or `csv = \"file\"`"
                                .into(),
                        ))
                    }
                };
                check_edges(&edges, a, b).map_err(|m| bad(format!("grid.edges: {m}")))?;
                Ok(GridChoice::Edges(edges.into()))
            }
            other => Err(bad(format!(
                "grid: unknown kind `{other}`, expected one of uniform, auto, edges"
            ))),
        }
    }
}

fn read_edges(path: &Path) -> Result<Vec<f64>> {
    let (cols, rows) = crate::model::landscape::read_numeric_csv(path)?;
    let k = cols
        .iter()
        .position(|c| c == "edge")
        .ok_or_else(|| Error::Malformed {
            path: path.into(),
            message: format!("no column `edge` (columns: {})", cols.join(", ")),
        })?;
    Ok(rows.iter().map(|r| r[k]).collect())
}

/// Why `edges` is not a grid of [a, b], if it is not: fewer than 4 values, a value not
/// finite, not strictly increasing, or ends other than a and b (to 1e-12 of b − a).
pub fn check_edges(edges: &[f64], a: f64, b: f64) -> std::result::Result<(), String> {
    if edges.len() < 4 {
        return Err(format!("{} values; need at least 4 (3 cells)", edges.len()));
    }
    if let Some(k) = edges.iter().position(|x| !x.is_finite()) {
        return Err(format!("value {k} is {}, not finite", edges[k]));
    }
    if let Some(k) = edges.windows(2).position(|w| w[1] <= w[0]) {
        return Err(format!(
            "not strictly increasing: value {k} is {} and value {} is {}",
            edges[k],
            k + 1,
            edges[k + 1]
        ));
    }
    let tol = 1e-12 * (b - a).abs();
    let (first, last) = (edges[0], edges[edges.len() - 1]);
    if (first - a).abs() > tol || (last - b).abs() > tol {
        return Err(format!(
            "span [{first}, {last}], but the problem's domain is [{a}, {b}]"
        ));
    }
    Ok(())
}
