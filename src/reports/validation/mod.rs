//! The seed validations (drift only, spreading only, full SGD, and the learning-rate
//! study), as markdown with SVG plots.
//!
//! 1. Drift only (`seed-drift`): the density against Monte Carlo of gradient descent.
//! 2. Spreading only (`spreading`): the standard deviation against the random walk's
//!    exact growth (variance + T² S²/B per step) and against Monte Carlo of SGD.
//! 3. Full SGD on `seed`: density, mean, sd and mass past the barrier against Monte
//!    Carlo of SGD and of the Gaussian-kick model, and the gap between the
//!    Fokker–Planck density and SGD at T = 0.02, 0.01, 0.005 at equal T·t.
//!
//! Used by `probcurrent demo` (into an output folder) and `probcurrent report`
//! (into `reports/`).
//!
//! [`compute`] runs the density models and Monte Carlo runs and returns typed results
//! ([`Validation`]); [`render`] writes `<dir>/<name>.md` with SVG plots in `<dir>/<name>/`.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::compare::{compare, Comparison};
use crate::analysis::critical::{multipliers, zero_of_g};
use crate::analysis::montecarlo::{McMode, McReport, McSettings};
use crate::error::Result;
use crate::model::problem::Problem;
use crate::run::{RunReport, RunSettings};
use crate::scheme::Scheme;

mod render;
pub use render::render;

/// Sizes of the validation runs.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationOptions {
    /// Particles of the Monte Carlo runs at T = 0.02 (default 100 000).
    pub particles: usize,
    /// Particles of each run of the learning-rate study (default 40 000).
    pub particles_lr_study: usize,
    /// Cells of the density runs (default 1200).
    pub cells: usize,
    /// Time step of the density runs (default 0.25).
    pub dt: f64,
    /// Scheme of the density runs (default `scharfetter-gummel`).
    pub scheme: String,
    /// Seed of the Monte Carlo runs (default 1).
    pub seed: u64,
    /// Write the plots beside `<name>.md` instead of into `<dir>/<name>/` (default
    /// false; the demo sets it, its folder holding nothing else).
    #[serde(skip)]
    pub plots_beside: bool,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            particles: 100_000,
            particles_lr_study: 40_000,
            cells: 1200,
            dt: 0.25,
            scheme: crate::scheme::DEFAULT_SCHEME.into(),
            seed: 1,
            plots_beside: false,
        }
    }
}

/// A runner of density models and Monte Carlo runs (the CLI passes one with progress bars).
pub trait Runner {
    /// Solve the density model.
    fn solve(
        &self,
        problem: &Problem,
        scheme: &Scheme,
        settings: &RunSettings,
    ) -> Result<RunReport>;
    /// Simulate particles.
    fn mc(&self, problem: &Problem, settings: &McSettings) -> Result<McReport>;
}

/// A runner without progress output.
pub struct Quiet;

impl Runner for Quiet {
    fn solve(
        &self,
        problem: &Problem,
        scheme: &Scheme,
        settings: &RunSettings,
    ) -> Result<RunReport> {
        crate::run::run(problem, scheme, settings)
    }
    fn mc(&self, problem: &Problem, settings: &McSettings) -> Result<McReport> {
        crate::analysis::montecarlo::simulate(problem, settings, &|_, _| {})
    }
}

/// What the validations found, for the terminal summary.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One line per finding.
    pub lines: Vec<String>,
    /// SVG files written.
    pub plots: Vec<String>,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

/// A density run, a Monte Carlo run of the same problem, and their comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Pair {
    /// The Fokker–Planck run.
    pub model: RunReport,
    /// The Monte Carlo run.
    pub mc: McReport,
    /// The comparison of the two at every snapshot.
    pub cmp: Comparison,
}

/// Validation 1: drift only (`seed-drift`) against gradient descent.
#[derive(Clone, Debug, Serialize)]
pub struct DriftStudy {
    /// The density run against Monte Carlo of gradient descent.
    pub pair: Pair,
    /// Largest |Δ mean| over the snapshots.
    pub max_dmean: f64,
    /// Largest |Δ sd| over the snapshots.
    pub max_dsd: f64,
}

/// One snapshot of validation 2.
#[derive(Clone, Debug, Serialize)]
pub struct SpreadingRow {
    /// Time (steps).
    pub t: f64,
    /// Exact standard deviation of the random walk (NaN if the problem has none).
    pub exact: f64,
    /// Standard deviation of the density model.
    pub model: f64,
    /// Standard deviation of the Monte Carlo run.
    pub mc: f64,
    /// Standard error of `mc`.
    pub mc_se: f64,
    /// (model − exact)/exact.
    pub rel: f64,
}

/// Validation 2: spreading only (`spreading`) against the random walk.
#[derive(Clone, Debug, Serialize)]
pub struct SpreadingStudy {
    /// Variance added per step, T²S²/B.
    pub var_per_step: f64,
    /// One row per snapshot.
    pub rows: Vec<SpreadingRow>,
    /// Largest |rel| over the rows.
    pub worst_rel: f64,
    /// Largest |MC sd − exact| in standard errors.
    pub worst_z: f64,
}

/// Validation 3: full SGD on `seed` against SGD and the Gaussian-kick model.
#[derive(Clone, Debug, Serialize)]
pub struct SeedStudy {
    /// Learning rate T.
    pub lr: f64,
    /// Batch size B.
    pub batch: usize,
    /// The density run against Monte Carlo of SGD.
    pub sgd: Pair,
    /// The same density run against Monte Carlo of the Gaussian-kick model.
    pub gaussian: Pair,
    /// Index of the region `basin` (past the barrier) in the comparisons (0 if absent).
    pub basin: usize,
    /// The pit minimum W* (NaN if not found).
    pub wstar: f64,
    /// Per-datapoint SGD multipliers 1 − T·l_j″(W*).
    pub multipliers: Vec<f64>,
    /// Mean log-modulus of the multipliers (Lyapunov exponent of the random map).
    pub lyapunov: f64,
    /// Gradient descent's multiplier 1 − T·G′(W*).
    pub gd_multiplier: f64,
}

/// One learning rate of the learning-rate study.
#[derive(Clone, Debug, Serialize)]
pub struct LrRun {
    /// Learning rate T.
    pub lr: f64,
    /// Density against Monte Carlo of SGD, snapshots every 1/T steps up to T·t = 20.
    pub cmp: Comparison,
    /// W1 at each T·t of [`LrStudy::tt`] (NaN where there is no snapshot).
    pub w1: Vec<f64>,
}

/// Validation 3b: the gap between density and SGD at T = 0.02, 0.01, 0.005 at equal T·t.
#[derive(Clone, Debug, Serialize)]
pub struct LrStudy {
    /// Particles of each run.
    pub particles: usize,
    /// The T·t at which W1 is tabulated.
    pub tt: Vec<f64>,
    /// One run per learning rate, largest first.
    pub runs: Vec<LrRun>,
    /// Per entry of `tt`: whether W1 shrinks strictly as T shrinks.
    pub shrinks: Vec<bool>,
}

/// Everything the seed validations show.
#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    /// The options the runs used.
    pub opts: ValidationOptions,
    /// Name of the scheme of the density runs.
    pub scheme: String,
    /// Validation 1.
    pub drift: DriftStudy,
    /// Validation 2.
    pub spreading: SpreadingStudy,
    /// Validation 3.
    pub seed: SeedStudy,
    /// Validation 3b.
    pub lr_study: LrStudy,
}

/// Run validations 1–3 and write `<dir>/<name>.md` with its plots in `<dir>/<name>/`:
/// [`compute`] then [`render`].
pub fn seed_validation(
    runner: &dyn Runner,
    dir: &Path,
    name: &str,
    opts: &ValidationOptions,
    command: &str,
) -> Result<Summary> {
    let clock = Instant::now();
    let v = compute(runner, opts)?;
    let mut sum = render(&v, dir, name, opts.plots_beside, command)?;
    sum.wall_s = clock.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run every validation with the sizes of `opts`.
pub fn compute(runner: &dyn Runner, opts: &ValidationOptions) -> Result<Validation> {
    let scheme = Scheme::resolve(&opts.scheme)?;
    let drift = drift_study(runner, &scheme, opts)?;
    let spreading = spreading_study(runner, &scheme, opts)?;
    let seed_problem = Problem::builtin("seed")?;
    let seed = seed_study(runner, &seed_problem, &scheme, opts)?;
    let lr_study = lr_study(runner, &seed_problem, &scheme, opts)?;
    Ok(Validation {
        opts: opts.clone(),
        scheme: scheme.name.clone(),
        drift,
        spreading,
        seed,
        lr_study,
    })
}

fn pair(
    runner: &dyn Runner,
    problem: &Problem,
    scheme: &Scheme,
    opts: &ValidationOptions,
    mode: McMode,
    particles: usize,
) -> Result<Pair> {
    let settings = RunSettings {
        cells: opts.cells,
        dt: Some(opts.dt),
        ..RunSettings::default()
    };
    let model = runner.solve(problem, scheme, &settings)?;
    let mc = runner.mc(
        problem,
        &McSettings {
            particles,
            seed: opts.seed,
            mode,
            cells: opts.cells,
            ..McSettings::default()
        },
    )?;
    let cmp = compare(&model, &mc)?;
    Ok(Pair { model, mc, cmp })
}

fn drift_study(
    runner: &dyn Runner,
    scheme: &Scheme,
    opts: &ValidationOptions,
) -> Result<DriftStudy> {
    let p = Problem::builtin("seed-drift")?;
    let pair = pair(runner, &p, scheme, opts, McMode::Gd, opts.particles)?;
    let max_dmean = pair
        .cmp
        .rows
        .iter()
        .map(|r| (r.model.mean - r.mc.mean).abs())
        .fold(0.0, f64::max);
    let max_dsd = pair
        .cmp
        .rows
        .iter()
        .map(|r| (r.model.sd - r.mc.sd).abs())
        .fold(0.0, f64::max);
    Ok(DriftStudy {
        pair,
        max_dmean,
        max_dsd,
    })
}

fn spreading_study(
    runner: &dyn Runner,
    scheme: &Scheme,
    opts: &ValidationOptions,
) -> Result<SpreadingStudy> {
    let p = Problem::builtin("spreading")?;
    let Pair { cmp, .. } = pair(runner, &p, scheme, opts, McMode::Sgd, opts.particles)?;
    let mut worst_rel: f64 = 0.0;
    let mut worst_z: f64 = 0.0;
    let mut rows = Vec::with_capacity(cmp.rows.len());
    for r in &cmp.rows {
        let exact = p.exact_moments(r.t).map_or(f64::NAN, |(_, v)| v.sqrt());
        let rel = (r.model.sd - exact) / exact;
        worst_rel = worst_rel.max(rel.abs());
        if r.mc.sd_se > 0.0 {
            worst_z = worst_z.max((r.mc.sd - exact).abs() / r.mc.sd_se);
        }
        rows.push(SpreadingRow {
            t: r.t,
            exact,
            model: r.model.sd,
            mc: r.mc.sd,
            mc_se: r.mc.sd_se,
            rel,
        });
    }
    Ok(SpreadingStudy {
        var_per_step: p.lr * p.lr / p.batch as f64,
        rows,
        worst_rel,
        worst_z,
    })
}

fn seed_study(
    runner: &dyn Runner,
    p: &Problem,
    scheme: &Scheme,
    opts: &ValidationOptions,
) -> Result<SeedStudy> {
    let sgd = pair(runner, p, scheme, opts, McMode::Sgd, opts.particles)?;
    let gaussian = pair(runner, p, scheme, opts, McMode::Gaussian, opts.particles)?;
    let basin = sgd
        .cmp
        .region_names
        .iter()
        .position(|r| r == "basin")
        .unwrap_or(0);
    let wstar = zero_of_g(p, 0.95, 1.1).unwrap_or(f64::NAN);
    let (mult, lyapunov) = multipliers(p, wstar);
    Ok(SeedStudy {
        lr: p.lr,
        batch: p.batch,
        sgd,
        gaussian,
        basin,
        wstar,
        multipliers: mult,
        lyapunov,
        gd_multiplier: 1.0 - p.lr * p.landscape.stats(wstar).g_prime,
    })
}

fn lr_study(
    runner: &dyn Runner,
    p3: &Problem,
    scheme: &Scheme,
    opts: &ValidationOptions,
) -> Result<LrStudy> {
    let lrs = [0.02, 0.01, 0.005];
    let tt = vec![2.0, 5.0, 10.0, 20.0];
    let mut runs = Vec::with_capacity(lrs.len());
    for &lr in &lrs {
        let mut p = p3.clone();
        p.lr = lr;
        p.t_end = (20.0 / lr).round();
        p.every = (1.0 / lr).round();
        let o = ValidationOptions {
            dt: opts.dt * lr / 0.02,
            ..opts.clone()
        };
        let particles = opts.particles_lr_study;
        let Pair { cmp, .. } = pair(runner, &p, scheme, &o, McMode::Sgd, particles)?;
        let row_at = |x: f64| cmp.rows.iter().find(|r| (r.t * lr - x).abs() < 1e-6);
        let w1 = tt
            .iter()
            .map(|&x| row_at(x).map_or(f64::NAN, |r| r.w1))
            .collect();
        runs.push(LrRun { lr, cmp, w1 });
    }
    let w = |i: usize, k: usize| runs[i].w1[k];
    let shrinks = (0..tt.len())
        .map(|k| w(0, k) > w(1, k) && w(1, k) > w(2, k))
        .collect();
    Ok(LrStudy {
        particles: opts.particles_lr_study,
        tt,
        runs,
        shrinks,
    })
}
