//! Two-parameter problem files (TOML): `dimensions = 2`, a `[landscape]` (per-datapoint
//! formulas in `w1`, `w2`, a dataset and one formula, or the built-in `ou` / `seed`
//! families), `domain = [[a1, b1], [a2, b2]]`, `lr`, `batch`, `[initial]` with `mean`
//! and `sd` vectors, walls, `t_end`, regions. Read strictly (unknown keys refused, every
//! error names the field), resolved to a table with every setting explicit
//! (`problems --show`), and `key=value` overrides applied to that table (`--set`), as
//! the 1-D problem files are.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::formula::FormulaLandscape2;
use super::landscape::{ou2d_landscape, seed2d_landscape, Landscape2, Mat2};
use super::problem::{Exact2, Initial2, Problem2, Region2};
use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Override, Sampling};

/// A 2-D landscape as written in a problem file (`[landscape]`, tagged by `kind`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Landscape2Spec {
    /// One loss formula in `w1`, `w2` per datapoint, optionally plus a shared part.
    Formulas {
        /// The per-datapoint formulas (with `shared`: each datapoint's own part r_j).
        losses: Vec<String>,
        /// A formula shared by every datapoint; Σ is computed from `losses` alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shared: Option<String>,
    },
    /// A dataset CSV (header of column names) and one loss formula in `w1`, `w2` and
    /// the column names.
    Dataset {
        /// CSV path, relative to the problem file.
        csv: PathBuf,
        /// Loss of one row, e.g. `(w1*x + w2 - y)^2`.
        loss: String,
    },
    /// The `ou-2d` family: losses ½ wᵀ K w + ξ_j · w realising G = K w and a constant Σ
    /// (exact moments known).
    Ou {
        /// The symmetric Hessian K.
        k: Mat2,
        /// The gradient covariance Σ (symmetric positive semi-definite).
        sigma: Mat2,
    },
    /// The `seed-2d` family: wide basin at (2, 0), pit at (1, 0) with sharpness `k`
    /// along w1 and `q` along w2.
    Seed {
        /// Pit sharpness along w1.
        k: f64,
        /// Pit sharpness along w2.
        q: f64,
    },
}

/// The initial normal of a 2-D problem file (`[initial]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initial2Spec {
    /// Mean vector [m1, m2].
    pub mean: Vec<f64>,
    /// Standard deviation per axis [s1, s2].
    pub sd: Vec<f64>,
}

/// A named rectangle of a 2-D problem file (`[[regions]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region2Spec {
    /// Name (the `mass_<name>` column).
    pub name: String,
    /// Range along w1 (default: the domain's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w1: Option<Vec<f64>>,
    /// Range along w2 (default: the domain's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w2: Option<Vec<f64>>,
}

/// A 2-D problem file. With `base` (a 2-D built-in or another 2-D file) every field
/// is optional and overrides the base; without it `[landscape]`, `domain`, `lr`,
/// `batch`, `[initial]` and `t_end` are required, and the rest default to zero-flux
/// walls, sampling with replacement, no regions and `every = t_end / 20`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemFile2 {
    /// Must be 2 (marks the file as a two-parameter problem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<i64>,
    /// A 2-D built-in problem, or 2-D problem file (relative to this one), to start from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Name (default: the file's stem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Learning rate T.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Batch size B.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// `with-replacement` (default) or `without-replacement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<Sampling>,
    /// The rectangle `[[a1, b1], [a2, b2]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Vec<Vec<f64>>>,
    /// `zero-flux` (default) or `absorbing`, on all four walls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Boundary>,
    /// Final time (SGD steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_end: Option<f64>,
    /// Snapshot interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<f64>,
    /// The initial normal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Initial2Spec>,
    /// The landscape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landscape: Option<Landscape2Spec>,
    /// Named rectangles whose mass is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<Region2Spec>>,
}

/// Nesting limit of `base` chains (a cycle ends here with an error).
const MAX_BASE_DEPTH: usize = 16;

fn malformed(origin: &str, message: String) -> Error {
    Error::Malformed {
        path: origin.into(),
        message,
    }
}

/// `[a, b]` from a field given as a list of numbers, or an error naming the field.
fn pair(v: &[f64], field: &str, origin: &str) -> Result<[f64; 2]> {
    match v {
        [a, b] => Ok([*a, *b]),
        _ => Err(malformed(
            origin,
            format!("{field}: need exactly two numbers, got {} values", v.len()),
        )),
    }
}

/// Build the landscape of `spec` (relative paths from `dir`) and its exact solution.
fn landscape_of(
    spec: &Landscape2Spec,
    dir: &Path,
    origin: &str,
) -> Result<(Arc<dyn Landscape2>, Option<Exact2>)> {
    let from = format!(" (landscape of problem file {origin})");
    Ok(match spec {
        Landscape2Spec::Formulas { losses, shared } => {
            let f = FormulaLandscape2::from_formulas(losses, &from)?;
            let f = match shared {
                Some(s) => f.with_shared(s, &from)?,
                None => f,
            };
            (Arc::new(f), None)
        }
        Landscape2Spec::Dataset { csv, loss } => {
            let path = dir.join(csv);
            let (cols, rows) =
                crate::model::landscape::read_numeric_csv(&path).map_err(|e| match e {
                    Error::Io { source, .. } => malformed(
                        origin,
                        format!(
                            "landscape.csv = \"{}\": cannot read it: {source}",
                            csv.display()
                        ),
                    ),
                    other => other,
                })?;
            let f = FormulaLandscape2::from_dataset(
                loss,
                &cols,
                &rows,
                &format!(" (dataset {})", path.display()),
            )?;
            (Arc::new(f), None)
        }
        Landscape2Spec::Ou { k, sigma } => {
            let l = ou2d_landscape(*k, *sigma)
                .map_err(|e| e.with_origin(&format!("landscape of problem file {origin}")))?;
            let exact = Exact2::Ou {
                k: *k,
                sigma: *sigma,
            };
            (Arc::new(l), Some(exact))
        }
        Landscape2Spec::Seed { k, q } => {
            for (what, v) in [("landscape.k", *k), ("landscape.q", *q)] {
                crate::error::positive(what, v)
                    .map_err(|e| e.with_origin(&format!("problem file {origin}")))?;
            }
            (Arc::new(seed2d_landscape(*k, *q)), None)
        }
    })
}

impl ProblemFile2 {
    /// Build and validate the problem; relative paths are taken from `dir`.
    pub fn build(self, dir: &Path, origin: &str) -> Result<Problem2> {
        self.build_at(dir, origin, 0)
    }

    /// The problem the file starts from: its `base`, or (without one, once the
    /// required fields are checked) a neutral start whose every field the file sets.
    fn start(&self, dir: &Path, origin: &str, depth: usize) -> Result<Problem2> {
        Ok(match &self.base {
            Some(b) => base_problem(b, dir, origin, depth)?,
            None => {
                let missing: Vec<&str> = [
                    ("landscape", self.landscape.is_none()),
                    ("domain", self.domain.is_none()),
                    ("lr", self.lr.is_none()),
                    ("batch", self.batch.is_none()),
                    ("initial", self.initial.is_none()),
                    ("t_end", self.t_end.is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(f, _)| *f)
                .collect();
                if !missing.is_empty() {
                    return Err(malformed(
                        origin,
                        format!(
                            "missing field `{}`: a 2-D problem file without `base` must give \
                             [landscape], domain, lr, batch, [initial] and t_end (missing: {})",
                            missing[0],
                            missing.join(", ")
                        ),
                    ));
                }
                let mut p = Problem2::builtin("ou-2d")?;
                p.regions.clear();
                p.summary.clear();
                p.every = f64::NAN; // set from t_end below unless given
                p
            }
        })
    }

    fn build_at(self, dir: &Path, origin: &str, depth: usize) -> Result<Problem2> {
        if let Some(d) = self.dimensions.filter(|&d| d != 2) {
            return Err(malformed(
                origin,
                format!(
                    "dimensions = {d}: only two-parameter problem files state `dimensions`, \
                     and it must be 2 (a 1-D problem file leaves it out)"
                ),
            ));
        }
        let mut p = self.start(dir, origin, depth)?;
        p.origin = format!("problem file {origin}");
        p.name = self.name.unwrap_or_else(|| {
            Path::new(origin)
                .file_stem()
                .map_or("problem".into(), |s| s.to_string_lossy().into_owned())
        });
        if let Some(s) = self.summary {
            p.summary = s;
        }
        if let Some(spec) = self.landscape {
            let (l, exact) = landscape_of(&spec, dir, origin)?;
            p.landscape = l;
            p.exact = exact;
            p.spec = Some(match spec {
                // the resolved table names the CSV from wherever it is read back
                Landscape2Spec::Dataset { csv, loss } => Landscape2Spec::Dataset {
                    csv: dir.join(csv),
                    loss,
                },
                other => other,
            });
        }
        p.lr = self.lr.unwrap_or(p.lr);
        p.batch = self.batch.unwrap_or(p.batch);
        p.sampling = self.sampling.unwrap_or(p.sampling);
        p.boundary = self.boundary.unwrap_or(p.boundary);
        if let Some(d) = self.domain {
            let [x, y] = &d[..] else {
                return Err(malformed(
                    origin,
                    format!(
                        "domain: need [[a1, b1], [a2, b2]] (two ranges), got {} entries",
                        d.len()
                    ),
                ));
            };
            p.x = pair(x, "domain[0] (the w1 range)", origin)?;
            p.y = pair(y, "domain[1] (the w2 range)", origin)?;
        }
        if let Some(i) = self.initial {
            p.initial = Initial2 {
                mean: pair(&i.mean, "initial.mean", origin)?,
                sd: pair(&i.sd, "initial.sd", origin)?,
            };
        }
        if let Some(t) = self.t_end {
            p.t_end = t;
        }
        p.every = self.every.unwrap_or(if p.every.is_nan() {
            p.t_end / 20.0
        } else {
            p.every
        });
        if let Some(rs) = self.regions {
            p.regions = rs
                .into_iter()
                .map(|r| region(r, &p, origin))
                .collect::<Result<_>>()?;
        }
        p.validate()?;
        Ok(p)
    }
}

/// A region of the file, its missing ranges taken from the domain, checked.
fn region(r: Region2Spec, p: &Problem2, origin: &str) -> Result<Region2> {
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    if r.name.is_empty() || r.name.chars().count() > 64 || !r.name.chars().all(ok) {
        return Err(malformed(
            origin,
            format!(
                "regions: name {:?}: use 1 to 64 letters, digits, `_`, `-` or `.` (it names a CSV column)",
                r.name
            ),
        ));
    }
    let range = |v: Option<Vec<f64>>, axis: &str, dom: [f64; 2]| -> Result<[f64; 2]> {
        let field = format!("regions `{}`.{axis}", r.name);
        let [a, b] = match v {
            Some(v) => pair(&v, &field, origin)?,
            None => dom,
        };
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(malformed(
                origin,
                format!("{field} = [{a}, {b}]: need finite lo < hi"),
            ));
        }
        Ok([a, b])
    };
    let x = range(r.w1, "w1", p.x)?;
    let y = range(r.w2, "w2", p.y)?;
    Ok(Region2::new(r.name, x, y))
}

/// The problem `base` names: a 2-D built-in, or a 2-D file relative to `dir`.
fn base_problem(base: &str, dir: &Path, origin: &str, depth: usize) -> Result<Problem2> {
    if Problem2::is_builtin_2d(base) {
        return Problem2::builtin(base);
    }
    let path = dir.join(base);
    if !(base.ends_with(".toml") || path.is_file()) {
        return Err(malformed(
            origin,
            format!(
                "base = {base:?}: neither a 2-D built-in ({}) nor a problem file",
                super::builtin_2d_names().join(", ")
            ),
        ));
    }
    if depth >= MAX_BASE_DEPTH {
        return Err(malformed(
            origin,
            format!("base = {base:?}: more than {MAX_BASE_DEPTH} nested bases (a cycle?)"),
        ));
    }
    let file = read_file(&path)?;
    file.build_at(
        path.parent().unwrap_or(Path::new(".")),
        &path.display().to_string(),
        depth + 1,
    )
}

fn read_file(path: &Path) -> Result<ProblemFile2> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        message: crate::error::toml_message(&e, &text),
    })
}

/// Whether the TOML file at `path` is a two-parameter problem: it states
/// `dimensions` (which must then be 2), or its `base` is a 2-D built-in or (recursively) a 2-D file.
/// An unreadable file is not (the 1-D reader then reports why).
pub fn is_2d_file(path: &Path) -> bool {
    fn go(path: &Path, depth: usize) -> bool {
        let Ok(text) = std::fs::read_to_string(path) else {
            return false;
        };
        let Ok(t) = toml::from_str::<Table>(&text) else {
            return false;
        };
        if t.contains_key("dimensions") {
            // only 2-D files state it; a wrong value is refused by the 2-D reader
            return true;
        }
        match t.get("base").and_then(Value::as_str) {
            Some(b) if Problem2::is_builtin_2d(b) => true,
            Some(b) if depth < MAX_BASE_DEPTH => {
                go(&path.parent().unwrap_or(Path::new(".")).join(b), depth + 1)
            }
            _ => false,
        }
    }
    go(path, 0)
}

impl Problem2 {
    /// Whether `name_or_path` names a 2-D problem: a 2-D built-in or a 2-D file.
    pub fn is_2d(name_or_path: &str) -> bool {
        let path = Path::new(name_or_path);
        Problem2::is_builtin_2d(name_or_path)
            || ((name_or_path.ends_with(".toml") || path.is_file()) && is_2d_file(path))
    }

    /// A 2-D problem by built-in name or from a 2-D problem file.
    pub fn resolve(name_or_path: &str) -> Result<Problem2> {
        if Problem2::is_builtin_2d(name_or_path) {
            return Problem2::builtin(name_or_path);
        }
        Problem2::from_file(Path::new(name_or_path))
    }

    /// Read a 2-D problem file.
    pub fn from_file(path: &Path) -> Result<Problem2> {
        read_file(path)?.build(
            path.parent().unwrap_or(Path::new(".")),
            &path.display().to_string(),
        )
    }

    /// The problem as a 2-D problem file with every setting explicit (no `base`);
    /// reading it back gives the same problem. An error when the landscape was given
    /// in code (closures), which a file cannot state.
    pub fn to_table(&self) -> Result<Table> {
        let spec = self.spec.clone().ok_or_else(|| {
            Error::invalid(
                "problem",
                &self.name,
                "its landscape is given by closures in code, which a problem file cannot state",
            )
        })?;
        let file = ProblemFile2 {
            dimensions: Some(2),
            base: None,
            name: Some(self.name.clone()),
            summary: Some(self.summary.clone()),
            lr: Some(self.lr),
            batch: Some(self.batch),
            sampling: Some(self.sampling),
            domain: Some(vec![self.x.to_vec(), self.y.to_vec()]),
            boundary: Some(self.boundary),
            t_end: Some(self.t_end),
            every: Some(self.every),
            initial: Some(Initial2Spec {
                mean: self.initial.mean.to_vec(),
                sd: self.initial.sd.to_vec(),
            }),
            landscape: Some(spec),
            regions: Some(
                self.regions
                    .iter()
                    .map(|r| Region2Spec {
                        name: r.name.clone(),
                        w1: Some(r.x.to_vec()),
                        w2: Some(r.y.to_vec()),
                    })
                    .collect(),
            ),
        };
        match Value::try_from(file) {
            Ok(Value::Table(t)) => Ok(t),
            other => Err(Error::invalid(
                "problem",
                &self.name,
                format!("cannot be written as TOML ({other:?})"),
            )),
        }
    }

    /// [`Problem2::resolve`] with `key=value` overrides (`--set`) applied in order to
    /// the resolved table, each checked as the same key written in a file; an error
    /// names the override after which it first appears.
    pub fn resolve_with(name_or_path: &str, sets: &[String]) -> Result<Problem2> {
        let base = Problem2::resolve(name_or_path)?;
        if sets.is_empty() {
            return Ok(base);
        }
        let mut t = base.to_table()?;
        let mut p = base.clone();
        for s in sets {
            let o = Override::parse(s)?;
            o.apply(&mut t)?;
            let blame = |e: Error| Error::Malformed {
                path: format!("--set {s}").into(),
                message: e.to_string(),
            };
            let file: ProblemFile2 = Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| blame(Error::invalid("--set", s, e.message())))?;
            p = file
                .build(Path::new("."), &format!("{name_or_path} with --set {s}"))
                .map_err(blame)?;
        }
        p.origin = format!("{} with --set {}", base.origin, sets.join(" --set "));
        Ok(p)
    }
}
