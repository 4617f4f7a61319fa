//! The seed validations of DESIGN §2 (1–3), as markdown with SVG plots.
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

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::analysis::compare::{compare, spread_indices, write_plots, Comparison};
use crate::analysis::montecarlo::{McMode, McReport, McSettings};
use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::reports::plot::{line_plot, Scale, Series};
use crate::run::{RunReport, RunSettings};
use crate::scheme::Scheme;

/// Sizes of the validation runs.
#[derive(Clone, Debug)]
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

fn pair(
    runner: &dyn Runner,
    problem: &Problem,
    scheme: &Scheme,
    opts: &ValidationOptions,
    mode: McMode,
    particles: usize,
) -> Result<(RunReport, McReport, Comparison)> {
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
    Ok((model, mc, cmp))
}

fn times_of(model: &RunReport, k: usize) -> Vec<f64> {
    spread_indices(model.moments.len(), k)
        .into_iter()
        .map(|i| model.moments[i].t)
        .collect()
}

/// Per-datapoint multipliers 1 − T l_j″(W) of one SGD step linearised at `w`, and
/// their mean log-modulus (the Lyapunov exponent of the random linear map).
pub fn multipliers(problem: &Problem, w: f64) -> (Vec<f64>, f64) {
    let l = &problem.landscape;
    let m: Vec<f64> = (0..l.len())
        .map(|j| 1.0 - problem.lr * l.curv(j, w))
        .collect();
    let lyap = m.iter().map(|x| x.abs().ln()).sum::<f64>() / m.len() as f64;
    (m, lyap)
}

/// Zero of G in [lo, hi] by bisection (G must change sign).
pub fn zero_of_g(problem: &Problem, lo: f64, hi: f64) -> Option<f64> {
    let g = |w: f64| problem.landscape.stats(w).g;
    let (mut a, mut b) = (lo, hi);
    let (ga, gb) = (g(a), g(b));
    if ga * gb > 0.0 {
        return None;
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if (g(m) > 0.0) == (ga > 0.0) {
            a = m;
        } else {
            b = m;
        }
    }
    Some(0.5 * (a + b))
}

/// Run validations 1–3 and write `<dir>/<name>.md` with its plots in `<dir>/<name>/`.
pub fn seed_validation(
    runner: &dyn Runner,
    dir: &Path,
    name: &str,
    opts: &ValidationOptions,
    command: &str,
) -> Result<Summary> {
    let clock = Instant::now();
    let plot_dir = dir.join(name);
    std::fs::create_dir_all(&plot_dir).map_err(|source| Error::Io {
        path: plot_dir.clone(),
        source,
    })?;
    let scheme = Scheme::resolve(&opts.scheme)?;
    let mut md = String::new();
    let mut sum = Summary::default();
    let _ = writeln!(
        md,
        "# Seed validations\n\nGenerated by `{command}`; do not edit by hand.\n\n\
         Density model: Fokker–Planck (Itô), scheme `{}`, {} cells, dt = {}. Monte Carlo: {} particles \
         (learning-rate study: {}), seed {}. Standard errors (± 1 s.e.) are those of the Monte Carlo \
         estimates. W1 is the Wasserstein-1 distance between the density and the particle histogram; \
         L1 is measured on a 60-bin histogram.\n",
        scheme.name, opts.cells, opts.dt, opts.particles, opts.particles_lr_study, opts.seed
    );

    // 1. drift only
    let p1 = Problem::builtin("seed-drift")?;
    let (m1, mc1, c1) = pair(runner, &p1, &scheme, opts, McMode::Gd, opts.particles)?;
    let f = write_plots(&plot_dir, "drift", &m1, &mc1, &c1, &times_of(&m1, 4))?;
    let dmean = c1
        .rows
        .iter()
        .map(|r| (r.model.mean - r.mc.mean).abs())
        .fold(0.0, f64::max);
    let dsd = c1
        .rows
        .iter()
        .map(|r| (r.model.sd - r.mc.sd).abs())
        .fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "## 1. Drift only (`seed-drift`: S² forced to 0) against gradient descent\n\n\
         Gradient descent is deterministic; the Monte Carlo only samples the initial density. \
         Largest |Δ mean| over the snapshots: **{dmean:.2e}**; largest |Δ sd|: **{dsd:.2e}**.\n\n{}\n\
         ![density]({name}/{}) ![moments]({name}/{})\n",
        c1.markdown(),
        f[0],
        f[1]
    );
    sum.lines.push(format!(
        "1. drift only vs gradient descent: max |Δmean| = {dmean:.2e}, max |Δsd| = {dsd:.2e}"
    ));
    sum.plots.extend(f);

    // 2. spreading only
    let p2 = Problem::builtin("spreading")?;
    let (_, _, c2) = pair(runner, &p2, &scheme, opts, McMode::Sgd, opts.particles)?;
    let mut tab = String::from(
        "| t | sd exact | sd model | sd MC | (model − exact)/exact |\n|---|---|---|---|---|\n",
    );
    let mut worst_rel: f64 = 0.0;
    let mut worst_z: f64 = 0.0;
    let (mut ts, mut sx, mut sm, mut smc, mut se) = (vec![], vec![], vec![], vec![], vec![]);
    for r in &c2.rows {
        let exact = p2.exact_moments(r.t).map_or(f64::NAN, |(_, v)| v.sqrt());
        let rel = (r.model.sd - exact) / exact;
        worst_rel = worst_rel.max(rel.abs());
        if r.mc.sd_se > 0.0 {
            worst_z = worst_z.max((r.mc.sd - exact).abs() / r.mc.sd_se);
        }
        let _ = writeln!(
            tab,
            "| {} | {:.5} | {:.5} | {:.5} ± {:.5} | {:+.2e} |",
            r.t, exact, r.model.sd, r.mc.sd, r.mc.sd_se, rel
        );
        ts.push(r.t);
        sx.push(exact);
        sm.push(r.model.sd);
        smc.push(r.mc.sd);
        se.push(2.0 * r.mc.sd_se);
    }
    let f2 = "spreading-sd.svg".to_string();
    line_plot(
        &plot_dir.join(&f2),
        "spreading: standard deviation over time",
        "t (steps)",
        "sd",
        &[
            Series::line("exact random walk", ts.clone(), sx).dashed(),
            Series::line(format!("model {}", scheme.name), ts.clone(), sm),
            Series::points("MC sgd (± 2 s.e.)", ts, smc, Some(se)),
        ],
        Scale::Linear,
    )?;
    let _ = writeln!(
        md,
        "## 2. Spreading only (`spreading`: G = 0, S² = 1) against the random walk\n\n\
         The variance grows by T²S²/B = {:.1e} per step. Largest relative error of the model's sd: \
         **{worst_rel:.2e}**; largest |MC sd − exact| in standard errors: **{worst_z:.2}**.\n\n{tab}\n\
         ![sd]({name}/{f2})\n",
        p2.lr * p2.lr / p2.batch as f64,
    );
    sum.lines.push(format!(
        "2. spreading: model sd within {worst_rel:.1e} (relative) of the exact random walk; MC within {worst_z:.1} s.e."
    ));
    sum.plots.push(f2);

    // 3. full SGD on seed
    let p3 = Problem::builtin("seed")?;
    let (m3, mc3, c3) = pair(runner, &p3, &scheme, opts, McMode::Sgd, opts.particles)?;
    let (_, mcg, cg) = pair(runner, &p3, &scheme, opts, McMode::Gaussian, opts.particles)?;
    let f = write_plots(
        &plot_dir,
        "seed-sgd",
        &m3,
        &mc3,
        &c3,
        &[50.0, 100.0, 250.0, 500.0],
    )?;
    let fg = write_plots(
        &plot_dir,
        "seed-gaussian",
        &m3,
        &mcg,
        &cg,
        &[50.0, 100.0, 250.0, 500.0],
    )?;
    let basin = c3
        .region_names
        .iter()
        .position(|r| r == "basin")
        .unwrap_or(0);
    let mut tab = String::from(
        "| t | past barrier: model | SGD | Gaussian kicks | W1(model, SGD) | W1(model, Gaussian) |\n|---|---|---|---|---|---|\n",
    );
    let (mut ts, mut pm, mut ps, mut pg, mut pse, mut pge) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (r, g) in c3.rows.iter().zip(&cg.rows) {
        let _ = writeln!(
            tab,
            "| {} | {:.4} | {:.4} ± {:.4} | {:.4} ± {:.4} | {:.3e} | {:.3e} |",
            r.t,
            r.model.regions[basin],
            r.mc.regions[basin],
            r.mc.regions_se[basin],
            g.mc.regions[basin],
            g.mc.regions_se[basin],
            r.w1,
            g.w1
        );
        ts.push(r.t);
        pm.push(r.model.regions[basin]);
        ps.push(r.mc.regions[basin]);
        pse.push(2.0 * r.mc.regions_se[basin]);
        pg.push(g.mc.regions[basin]);
        pge.push(2.0 * g.mc.regions_se[basin]);
    }
    let fb = "seed-barrier.svg".to_string();
    line_plot(
        &plot_dir.join(&fb),
        "seed: mass past the barrier W > 1.17431",
        "t (steps)",
        "mass",
        &[
            Series::line(format!("Fokker–Planck ({})", scheme.name), ts.clone(), pm),
            Series::points("MC SGD (± 2 s.e.)", ts.clone(), ps, Some(pse)),
            Series::points("MC Gaussian kicks (± 2 s.e.)", ts, pg, Some(pge)),
        ],
        Scale::Linear,
    )?;
    let wstar = zero_of_g(&p3, 0.95, 1.1).unwrap_or(f64::NAN);
    let (mult, lyap) = multipliers(&p3, wstar);
    let last = c3.rows.last();
    let _ = writeln!(
        md,
        "## 3. Full SGD on `seed` (T = {}, B = {})\n\n\
         Fokker–Planck density against Monte Carlo of SGD and of the Gaussian-kick model (the \
         per-step diffusion approximation: drift −T·G plus a normal kick of variance T²S²/B).\n\n\
         {tab}\n\
         Against SGD:\n\n{}\nAgainst the Gaussian-kick model:\n\n{}\n\
         ![barrier]({name}/{fb})\n\n![density]({name}/{}) ![moments]({name}/{})\n\n\
         ![density]({name}/{}) ![moments]({name}/{})\n\n\
         **Why the model and SGD differ at this T.** Linearised at the pit minimum W* = {wstar:.5}, \
         one SGD step on datapoint j multiplies an offset by 1 − T·l_j″(W*): {}. The mean \
         log-modulus (Lyapunov exponent of the random map) is **{lyap:+.3}**: {} \
         Gradient descent's multiplier is 1 − T·G′(W*) = {:.3}.\n",
        p3.lr,
        p3.batch,
        c3.markdown(),
        cg.markdown(),
        f[0],
        f[1],
        fg[0],
        fg[1],
        mult.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(" and "),
        if lyap > 0.0 {
            "positive, so the pit is linearly unstable for SGD, which is thrown out within tens of \
             steps, while the Fokker–Planck density leaks out only by diffusion."
        } else {
            "negative, so the pit is linearly stable for SGD at this T."
        },
        1.0 - p3.lr * p3.landscape.stats(wstar).g_prime,
    );
    if let Some(r) = last {
        sum.lines.push(format!(
            "3. seed at t = {}: past the barrier, Fokker–Planck {:.3}, SGD {:.3} ± {:.3}; W1(FP, SGD) = {:.3}; pit multipliers {} (Lyapunov {lyap:+.3})",
            r.t,
            r.model.regions[basin],
            r.mc.regions[basin],
            r.mc.regions_se[basin],
            r.w1,
            mult.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(", ")
        ));
    }
    sum.plots.extend(f);
    sum.plots.extend(fg);
    sum.plots.push(fb);

    // 3b. learning-rate study at equal T·t
    let lrs = [0.02, 0.01, 0.005];
    let tt = [2.0, 5.0, 10.0, 20.0];
    let _ = writeln!(
        md,
        "### Does the gap shrink as T shrinks?\n\n\
         The same problem at T = 0.02, 0.01, 0.005, run to equal T·t = 20 ({} particles each). \
         Entries are W1(Fokker–Planck, SGD) at equal T·t.\n\n\
         | T | {} | past barrier at T·t = 20: FP | SGD |\n|---|{}---|---|\n",
        opts.particles_lr_study,
        tt.iter()
            .map(|x| format!("T·t = {x}"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(tt.len())
    );
    let mut w1_by_lr = Vec::new();
    let mut plot_series = Vec::new();
    for &lr in &lrs {
        let mut p = p3.clone();
        p.lr = lr;
        p.t_end = (20.0 / lr).round();
        p.every = (1.0 / lr).round();
        let o = ValidationOptions {
            dt: opts.dt * lr / 0.02,
            ..opts.clone()
        };
        let (_, _, c) = pair(
            runner,
            &p,
            &scheme,
            &o,
            McMode::Sgd,
            opts.particles_lr_study,
        )?;
        let row_at = |x: f64| c.rows.iter().find(|r| (r.t * lr - x).abs() < 1e-6);
        let w: Vec<f64> = tt
            .iter()
            .map(|&x| row_at(x).map_or(f64::NAN, |r| r.w1))
            .collect();
        let end = c.rows.last();
        let _ = writeln!(
            md,
            "| {lr} | {} | {:.4} | {:.4} ± {:.4} |",
            w.iter()
                .map(|v| format!("{v:.3e}"))
                .collect::<Vec<_>>()
                .join(" | "),
            end.map_or(f64::NAN, |r| r.model.regions[basin]),
            end.map_or(f64::NAN, |r| r.mc.regions[basin]),
            end.map_or(f64::NAN, |r| r.mc.regions_se[basin]),
        );
        plot_series.push(Series::line(
            format!("T = {lr}"),
            c.rows.iter().map(|r| r.t * lr).collect(),
            c.rows.iter().map(|r| r.w1).collect(),
        ));
        w1_by_lr.push(w);
    }
    let fl = "lr-study-w1.svg".to_string();
    line_plot(
        &plot_dir.join(&fl),
        "W1(Fokker–Planck, SGD) at equal T·t",
        "T·t",
        "W1",
        &plot_series,
        Scale::Linear,
    )?;
    let shrinks: Vec<bool> = (0..tt.len())
        .map(|k| w1_by_lr[0][k] > w1_by_lr[1][k] && w1_by_lr[1][k] > w1_by_lr[2][k])
        .collect();
    let verdict = if shrinks.iter().all(|&s| s) {
        "The gap shrinks monotonically as T shrinks at every T·t measured.".to_string()
    } else {
        format!(
            "The gap does not shrink monotonically at every T·t: shrinking at T·t = {}.",
            tt.iter()
                .zip(&shrinks)
                .filter(|(_, s)| **s)
                .map(|(x, _)| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = writeln!(md, "\n{verdict}\n\n![lr study]({name}/{fl})\n");
    sum.lines.push(format!(
        "3b. W1(FP, SGD) at T·t = 20 for T = 0.02, 0.01, 0.005: {}. {verdict}",
        w1_by_lr
            .iter()
            .map(|w| format!("{:.3e}", w[tt.len() - 1]))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    sum.plots.push(fl);
    sum.wall_s = clock.elapsed().as_secs_f64();
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    Ok(sum)
}
