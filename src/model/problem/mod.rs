//! Problems: a landscape plus learning rate, batch, domain, boundary, initial density
//! and named regions; the built-in reference problems; problem files in TOML.
//!
//! The coefficients of the Itô Fokker–Planck equation
//! ∂P/∂t = −∂J/∂W, J = −T G P − ∂(D P)/∂W, D = T² S² /(2B),
//! are evaluated here ([`Problem::coeffs`]). Sampling without replacement multiplies
//! the minibatch variance by (n − B)/(n − 1). Two knobs act on S² before D is formed:
//! `noise_scale` multiplies it (0 gives the drift-only problem) and `noise_floor` ε is
//! added to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{num, Error, Result};
use crate::model::landscape::{seed_landscape, FormulaLandscape, Landscape};
use crate::model::schedule::Schedules;

mod builder;
mod builtin;
mod overrides;

pub use builder::ProblemBuilder;
pub use builtin::{Builtin, BUILTINS, BUILTIN_PROBLEMS, SEED_BARRIER};
pub use overrides::Override;

/// Boundary condition at both walls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boundary {
    /// J = 0: reflecting walls, mass conserved (default).
    ZeroFlux,
    /// P = 0 at the walls: mass leaving is absorbed and reported.
    Absorbing,
}

/// How a minibatch is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// B datapoints drawn independently (default): variance S²/B.
    WithReplacement,
    /// B distinct datapoints: variance S²/B · (n − B)/(n − 1).
    WithoutReplacement,
}

/// Initial density.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Initial {
    /// A normal density truncated to the domain (cell averages are exact).
    Normal {
        /// Mean before truncation.
        mean: f64,
        /// Standard deviation before truncation.
        sd: f64,
    },
    /// Uniform on the domain.
    Uniform,
    /// Values p at points w (from a CSV with columns `w,p`), linearly interpolated
    /// onto cell centres, zero outside the table's range, then normalised.
    Table {
        /// Abscissae, strictly increasing.
        w: Vec<f64>,
        /// Non-negative density values.
        p: Vec<f64>,
    },
}

/// A named interval of the domain whose mass is reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Name, used in the `mass_<name>` column.
    pub name: String,
    /// Left end (the domain's left end when absent).
    #[serde(default)]
    pub lo: Option<f64>,
    /// Right end (the domain's right end when absent).
    #[serde(default)]
    pub hi: Option<f64>,
}

/// Known exact solutions of built-in problems (for tests and reports).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Exact {
    /// G = c (W − m), S² = a²: Ornstein–Uhlenbeck.
    Ou {
        /// Curvature c.
        c: f64,
        /// Centre m.
        m: f64,
        /// Gradient noise amplitude a.
        a: f64,
    },
    /// G = 0, S² = a²: free spreading.
    Spreading {
        /// Gradient noise amplitude a.
        a: f64,
    },
}

/// Coefficients of the Fokker–Planck equation at one weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    /// Mean gradient G.
    pub g: f64,
    /// G′.
    pub g_prime: f64,
    /// Effective gradient variance (after `noise_scale` and `noise_floor`).
    pub s2: f64,
    /// Diffusion coefficient D = T² S² · f / 2 with f = 1/B (or the without-replacement factor).
    pub d: f64,
    /// D′.
    pub d_prime: f64,
}

/// Equally spaced points of the domain at which [`Problem::validate`] samples a
/// landscape that has no closed form proved finite there ([`Form::finite_on`]).
///
/// [`Form::finite_on`]: crate::model::landscape::Form::finite_on
pub const VALIDATION_SAMPLES: usize = 4001;

/// A complete problem.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Name (built-in name or the file's `name`).
    pub name: String,
    /// One-line summary.
    pub summary: String,
    /// The per-datapoint losses.
    pub landscape: Arc<dyn Landscape>,
    /// Learning rate T (default 0.02 for `seed`); the base value of `schedule.lr`.
    pub lr: f64,
    /// Batch size B (default 1).
    pub batch: usize,
    /// Minibatch sampling (default with replacement).
    pub sampling: Sampling,
    /// Domain left end.
    pub a: f64,
    /// Domain right end.
    pub b: f64,
    /// Boundary condition (default zero flux).
    pub boundary: Boundary,
    /// Initial density.
    pub initial: Initial,
    /// Named regions (mass reported per region).
    pub regions: Vec<Region>,
    /// Factor on S² (default 1; 0 = drift only).
    pub noise_scale: f64,
    /// Noise floor ε added to S² (default 0).
    pub noise_floor: f64,
    /// Default final time (in SGD steps).
    pub t_end: f64,
    /// Default snapshot interval.
    pub every: f64,
    /// Learning-rate and batch-size schedules (default constant): T(t) = lr · m_T(t),
    /// B(t) = round(batch · m_B(t)).
    pub schedule: Schedules,
    /// Exact solution, for built-ins that have one.
    pub exact: Option<Exact>,
    /// The grid the problem asks for (default uniform; a problem file's `[grid]`).
    pub grid: crate::model::grid_choice::GridChoice,
    /// Where the problem came from (built-in, or a file path), used in error messages.
    pub origin: String,
}

impl Problem {
    /// A problem by built-in name, or from a TOML file when `name_or_path` ends in `.toml`
    /// or names an existing file.
    pub fn resolve(name_or_path: &str) -> Result<Problem> {
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.is_file() {
            Problem::from_file(path)
        } else {
            Problem::builtin(name_or_path)
        }
    }

    /// Factor f in D = T² S² f / 2 (1/B, times (n−B)/(n−1) without replacement).
    pub fn variance_factor(&self) -> f64 {
        self.variance_factor_of(self.batch)
    }

    /// The problem frozen at time `t` of its schedule: lr = T(t), batch = B(t), constant
    /// schedule (itself when the schedule is constant).
    pub fn frozen_at(&self, t: f64) -> Problem {
        let mut p = self.clone();
        if !self.schedule.is_constant() {
            p.lr = self.schedule.lr(self.lr, t);
            p.batch = self.schedule.batch(self.batch, t);
            p.schedule = Schedules::default();
        }
        p
    }

    /// The factor f of [`Problem::variance_factor`] at batch size `batch` (a batch
    /// schedule's B(t)).
    pub fn variance_factor_of(&self, batch: usize) -> f64 {
        let b = batch as f64;
        let n = self.landscape.len() as f64;
        match self.sampling {
            Sampling::WithReplacement => 1.0 / b,
            Sampling::WithoutReplacement if n > 1.0 => (n - b) / ((n - 1.0) * b),
            Sampling::WithoutReplacement => 0.0,
        }
    }

    /// Coefficients G, G′, S², D, D′ at `w`.
    pub fn coeffs(&self, w: f64) -> Coeffs {
        self.coeffs_of(self.landscape.stats(w))
    }

    /// The coefficients from the landscape's G, G′, S², (S²)′ at some weight (what
    /// [`Problem::coeffs`] applies to [`Landscape::stats`]).
    pub fn coeffs_of(&self, st: crate::model::landscape::GradStats) -> Coeffs {
        let k = self.lr * self.lr * self.variance_factor() / 2.0;
        let s2 = self.noise_scale * st.s2 + self.noise_floor;
        Coeffs {
            g: st.g,
            g_prime: st.g_prime,
            s2,
            d: k * s2,
            d_prime: k * self.noise_scale * st.s2_prime,
        }
    }

    /// G and D at `w` (no derivatives: the Monte Carlo engine's hot path).
    pub fn drift_diffusion(&self, w: f64) -> (f64, f64) {
        let (g, s2) = self.landscape.g_s2(w);
        let k = self.lr * self.lr * self.variance_factor() / 2.0;
        (g, k * (self.noise_scale * s2 + self.noise_floor))
    }

    /// The exact mean and variance at time t, where known (OU, spreading), assuming the
    /// initial normal is not noticeably truncated.
    pub fn exact_moments(&self, t: f64) -> Option<(f64, f64)> {
        let (m0, sd0) = match self.initial {
            Initial::Normal { mean, sd } => (mean, sd),
            _ => return None,
        };
        let v0 = sd0 * sd0;
        let k = self.lr * self.lr * self.variance_factor() / 2.0 * self.noise_scale;
        match self.exact? {
            Exact::Ou { c, m, a } => {
                let d =
                    k * a * a + self.lr * self.lr * self.variance_factor() / 2.0 * self.noise_floor;
                let r = self.lr * c;
                let e = (-r * t).exp();
                Some((m + (m0 - m) * e, v0 * e * e + d / r * (1.0 - e * e)))
            }
            Exact::Spreading { a } => Some((m0, v0 + 2.0 * (k * a * a) * t)),
        }
    }

    /// Region bounds resolved against the domain.
    pub fn region_bounds(&self) -> Vec<(String, f64, f64)> {
        self.regions
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.lo.unwrap_or(self.a),
                    r.hi.unwrap_or(self.b),
                )
            })
            .collect()
    }

    /// Check every field and sample the coefficients on the domain; errors name the
    /// value and the problem's origin.
    pub fn validate(&self) -> Result<()> {
        let o = self.origin.as_str();
        let wrap = |e: Error| e.with_origin(o);
        if !(self.a.is_finite()
            && self.b.is_finite()
            && self.a < self.b
            && (self.b - self.a).is_normal())
        {
            return Err(wrap(Error::BadDomain {
                a: self.a,
                b: self.b,
                origin: String::new(),
            }));
        }
        crate::limits::domain(self.a, self.b).map_err(wrap)?;
        crate::error::positive("lr", self.lr).map_err(wrap)?;
        crate::error::positive("t_end", self.t_end).map_err(wrap)?;
        crate::error::positive("every", self.every).map_err(wrap)?;
        crate::limits::batch(self.batch).map_err(wrap)?;
        self.schedule
            .lr
            .check_on(self.t_end, "schedule.lr")
            .map_err(wrap)?;
        self.schedule
            .batch
            .check_on(self.t_end, "schedule.batch")
            .map_err(wrap)?;
        if self.landscape.is_empty() {
            return Err(wrap(Error::invalid(
                "landscape",
                "0 datapoints",
                "need at least one",
            )));
        }
        if self.sampling == Sampling::WithoutReplacement && self.batch > self.landscape.len() {
            return Err(wrap(Error::invalid(
                "batch",
                self.batch,
                format!(
                    "without replacement the batch cannot exceed the {} datapoints",
                    self.landscape.len()
                ),
            )));
        }
        for (what, v) in [
            ("noise_scale", self.noise_scale),
            ("noise_floor", self.noise_floor),
        ] {
            if !v.is_finite() {
                return Err(wrap(Error::invalid(what, v, "must be finite")));
            }
            if v < 0.0 {
                return Err(wrap(Error::NegativeVariance {
                    what: what.into(),
                    value: v,
                    origin: String::new(),
                }));
            }
        }
        match &self.initial {
            Initial::Normal { mean, sd } => {
                crate::error::finite("initial.mean", *mean).map_err(wrap)?;
                crate::error::positive("initial.sd", *sd).map_err(wrap)?;
            }
            Initial::Uniform => {}
            Initial::Table { w, p } => {
                if w.len() < 2 || w.len() != p.len() {
                    return Err(wrap(Error::invalid(
                        "initial table",
                        format!("{} w, {} p", w.len(), p.len()),
                        "need at least two (w, p) rows",
                    )));
                }
                for i in 0..w.len() {
                    if i > 0 && w[i] <= w[i - 1] {
                        return Err(wrap(Error::invalid(
                            "initial w",
                            w[i],
                            format!("row {}: w must increase strictly", i + 1),
                        )));
                    }
                    if !(p[i].is_finite() && p[i] >= 0.0) {
                        return Err(wrap(Error::invalid(
                            "initial p",
                            p[i],
                            format!(
                                "row {} (w = {}): density must be finite and >= 0",
                                i + 1,
                                w[i]
                            ),
                        )));
                    }
                }
            }
        }
        for r in &self.regions {
            check_region_name(&r.name).map_err(wrap)?;
            let (lo, hi) = (r.lo.unwrap_or(self.a), r.hi.unwrap_or(self.b));
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(wrap(Error::invalid(
                    format!("region `{}`", r.name),
                    format!("[{}, {}]", num(lo), num(hi)),
                    "need finite lo < hi",
                )));
            }
        }
        // a built-in closed form is finite on the whole domain when its parameters and
        // the domain bound every intermediate (decided without evaluating anything);
        // otherwise sample the landscape densely: formulas that fail anywhere are
        // refused here, the error naming the datapoint, the value and the first w
        let proved = self
            .landscape
            .form()
            .is_some_and(|f| f.finite_on(self.a, self.b));
        if !proved {
            let m = VALIDATION_SAMPLES;
            let ws: Vec<f64> = (0..m)
                .map(|i| self.a + (self.b - self.a) * i as f64 / (m - 1) as f64)
                .collect();
            self.landscape.check_finite(&ws).map_err(wrap)?;
        }
        Ok(())
    }

    /// Read a problem file (TOML). See [`ProblemFile`] for the fields.
    pub fn from_file(path: &Path) -> Result<Problem> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: ProblemFile = toml::from_str(&text).map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            message: crate::error::toml_message(&e, &text),
        })?;
        file.build(
            path.parent().unwrap_or(Path::new(".")),
            &path.display().to_string(),
        )
    }
}

/// A file error met while reading the file named by `field` (= `value`) of the problem
/// file `origin`: reported against the problem file, naming the field.
fn in_field(e: Error, field: &str, value: &Path, origin: &str) -> Error {
    match e {
        Error::Io { path, source } => Error::Malformed {
            path: origin.into(),
            message: format!(
                "{field} = \"{}\": cannot read {}: {source}",
                value.display(),
                path.display()
            ),
        },
        Error::Malformed { path, message } => Error::Malformed {
            path: origin.into(),
            message: format!(
                "{field} = \"{}\" ({}): {message}",
                value.display(),
                path.display()
            ),
        },
        other => other,
    }
}

/// A region name becomes a CSV column (`mass_<name>`): letters, digits, `_`, `-` and
/// `.` only, 1 to 64 of them.
fn check_region_name(name: &str) -> Result<()> {
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(ok) {
        return Err(Error::invalid(
            "region name",
            format!("{name:?}"),
            "use 1 to 64 letters, digits, `_`, `-` or `.` (it names a CSV column)",
        ));
    }
    Ok(())
}

/// A landscape as written in a problem file (`[landscape]` table).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LandscapeSpec {
    /// The seed landscape with pit sharpness `k` (default 100).
    Seed {
        /// Pit sharpness.
        #[serde(default = "default_k")]
        k: f64,
    },
    /// One loss formula in `w` per datapoint, optionally plus a part shared by all.
    Formulas {
        /// The formulas, e.g. `["-exp(-(w-2)^2)", "(w-1)^2"]`; with `shared`, each
        /// datapoint's own part r_j (its loss is shared + r_j).
        losses: Vec<String>,
        /// A loss formula in `w` shared by every datapoint (optional). S² is then
        /// computed from the `losses` alone, free of the rounding of the shared
        /// gradient: give the common part here when the datapoints differ by little.
        #[serde(default)]
        shared: Option<String>,
    },
    /// A dataset CSV and one loss formula in `w` and the CSV's column names.
    Dataset {
        /// CSV path, relative to the problem file.
        csv: PathBuf,
        /// Loss of one row, e.g. `(w*x - y)^2`.
        loss: String,
    },
}

fn default_k() -> f64 {
    100.0
}

/// Initial density as written in a problem file (`[initial]` table).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum InitialSpec {
    /// Truncated normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on the domain.
    Uniform,
    /// Values from a CSV with columns `w` and `p` (path relative to the problem file).
    Csv {
        /// CSV path.
        path: PathBuf,
    },
}

/// A problem file. Every field is optional when `base` names a built-in problem; any
/// field given overrides the base. Without `base`, `[landscape]`, `domain`, `lr`,
/// `batch` and `[initial]` are required; the other fields default to zero-flux walls,
/// sampling with replacement, noise_scale 1, noise_floor 0, no regions, constant
/// schedules, and seed's t_end and every.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemFile {
    /// Built-in problem, or problem file (relative to this one), to start from.
    pub base: Option<String>,
    /// Name of the problem (default: the file's stem).
    pub name: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// The landscape.
    pub landscape: Option<LandscapeSpec>,
    /// Learning rate T.
    pub lr: Option<f64>,
    /// Batch size B.
    pub batch: Option<usize>,
    /// `with-replacement` (default) or `without-replacement`.
    pub sampling: Option<Sampling>,
    /// Domain [a, b] (exactly two numbers).
    pub domain: Option<Vec<f64>>,
    /// `zero-flux` (default) or `absorbing`.
    pub boundary: Option<Boundary>,
    /// Initial density.
    pub initial: Option<InitialSpec>,
    /// Named regions.
    pub regions: Option<Vec<Region>>,
    /// Factor on S².
    pub noise_scale: Option<f64>,
    /// Noise floor added to S².
    pub noise_floor: Option<f64>,
    /// Final time.
    pub t_end: Option<f64>,
    /// Snapshot interval.
    pub every: Option<f64>,
    /// `[schedule.lr]` and `[schedule.batch]` tables (see [`Schedules`]).
    pub schedule: Option<Schedules>,
    /// The grid: `[grid]` with `kind = "uniform" | "auto" | "edges"`.
    pub grid: Option<crate::model::grid_choice::GridTable>,
}

impl ProblemFile {
    /// Build and validate the problem; relative paths are taken from `dir`.
    pub fn build(self, dir: &Path, origin: &str) -> Result<Problem> {
        self.build_as(dir, origin, format!("problem file {origin}"))
    }

    /// [`ProblemFile::build`] with errors and the problem's origin saying `from` (e.g.
    /// "built-in problem `seed` with --set lr=0.02" for a built-in changed by `--set`).
    pub fn build_as(self, dir: &Path, origin: &str, from: String) -> Result<Problem> {
        // a problem from scratch states what has no neutral default (checked last, so
        // a bad landscape or value is named as itself first)
        let missing: Vec<&str> = [
            ("domain", self.domain.is_none()),
            ("lr", self.lr.is_none()),
            ("batch", self.batch.is_none()),
            ("initial", self.initial.is_none()),
        ]
        .iter()
        .filter(|(_, m)| self.base.is_none() && *m)
        .map(|(f, _)| *f)
        .collect();
        let mut p = match (&self.base, &self.landscape) {
            (Some(b), _) => overrides::base_problem(b, dir, origin).map_err(|e| match e {
                Error::UnknownName { .. } => Error::Malformed {
                    path: origin.into(),
                    message: format!("base: {e}"),
                },
                other => other.with_origin(&from),
            })?,
            // the fields not given take the documented defaults (those of `seed`);
            // the ones without a neutral default are checked below
            (None, Some(_)) => Problem::builtin("seed")?,
            (None, None) => {
                return Err(Error::Malformed {
                    path: origin.into(),
                    message: "give a `base` built-in problem or a `[landscape]` table".into(),
                })
            }
        };
        if self.base.is_none() {
            // a problem from scratch does not inherit the seed's regions or exact solution
            p.regions.clear();
        }
        p.origin = from.clone();
        p.name = self.name.unwrap_or_else(|| {
            Path::new(origin)
                .file_stem()
                .map_or("problem".into(), |s| s.to_string_lossy().into_owned())
        });
        if let Some(s) = self.summary {
            p.summary = s;
        }
        if let Some(l) = self.landscape {
            p.exact = None;
            p.landscape = match l {
                LandscapeSpec::Seed { k } => {
                    crate::error::positive("landscape.k", k).map_err(|e| e.with_origin(&from))?;
                    Arc::new(seed_landscape(k))
                }
                LandscapeSpec::Formulas { losses, shared } => {
                    let origin = format!(" ({from})");
                    let f = FormulaLandscape::from_formulas(&losses, &origin)?;
                    Arc::new(match shared {
                        Some(s) => f.with_shared(&s, &origin)?,
                        None => f,
                    })
                }
                LandscapeSpec::Dataset { csv, loss } => Arc::new(
                    FormulaLandscape::from_csv(&loss, &dir.join(&csv))
                        .map_err(|e| in_field(e, "landscape.csv", &csv, origin))?,
                ),
            };
        }
        if let Some(v) = self.lr {
            p.lr = v;
        }
        if let Some(v) = self.batch {
            p.batch = v;
        }
        if let Some(v) = self.sampling {
            p.sampling = v;
        }
        if let Some(d) = self.domain {
            let [a, b] = d[..] else {
                return Err(Error::Malformed {
                    path: origin.into(),
                    message: format!(
                        "domain: need exactly two numbers [a, b], got {} values",
                        d.len()
                    ),
                });
            };
            p.a = a;
            p.b = b;
        }
        if let Some(v) = self.boundary {
            p.boundary = v;
        }
        if let Some(init) = self.initial {
            p.initial = match init {
                InitialSpec::Normal { mean, sd } => Initial::Normal { mean, sd },
                InitialSpec::Uniform => Initial::Uniform,
                InitialSpec::Csv { path } => {
                    let full = dir.join(&path);
                    let (cols, rows) = crate::model::landscape::read_numeric_csv(&full)
                        .map_err(|e| in_field(e, "initial.path", &path, origin))?;
                    let col = |name: &str| {
                        cols.iter()
                            .position(|c| c == name)
                            .ok_or_else(|| Error::Malformed {
                                path: full.clone(),
                                message: format!(
                                    "no column `{name}` (columns: {})",
                                    cols.join(", ")
                                ),
                            })
                    };
                    let (iw, ip) = (col("w")?, col("p")?);
                    Initial::Table {
                        w: rows.iter().map(|r| r[iw]).collect(),
                        p: rows.iter().map(|r| r[ip]).collect(),
                    }
                }
            };
        }
        if let Some(r) = self.regions {
            p.regions = r;
        }
        if let Some(v) = self.noise_scale {
            p.noise_scale = v;
        }
        if let Some(v) = self.noise_floor {
            p.noise_floor = v;
        }
        if let Some(v) = self.t_end {
            p.t_end = v;
        }
        if let Some(v) = self.every {
            p.every = v;
        }
        if let Some(s) = self.schedule {
            p.schedule = s.checked().map_err(|e| e.with_origin(&from))?;
        }
        if let Some(g) = self.grid {
            p.grid = g.resolve(p.a, p.b, dir, origin)?;
        }
        p.validate()?;
        if let Some(first) = missing.first() {
            return Err(Error::Malformed {
                path: origin.into(),
                message: format!(
                    "missing field `{first}`: a problem file without `base` must give \
                     domain, lr, batch and [initial] (missing: {})",
                    missing.join(", ")
                ),
            });
        }
        Ok(p)
    }
}

#[cfg(test)]
mod validate_tests;
