//! Learning-rate schedules validated: each density model under a schedule against a
//! Monte Carlo of the process it models, under the same schedule.
//!
//! The transfer-exact operator is the exact law of one SGD step on the grid, so
//! under a step-decay and a cosine schedule (Loshchilov & Hutter, "SGDR", 2017) on
//! `seed` it must match Monte Carlo of SGD within the sampling error: the worst
//! z-score |model − MC| / se over the mean and the region masses at every snapshot is
//! reported, and should stay below 4. The Fokker–Planck equation is the diffusion
//! limit of the Gaussian-kick process, so it is compared with that Monte Carlo at a
//! small learning rate (T₀ = 0.005), where the O(T) difference is below the
//! sampling error.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::compare::compare;
use crate::analysis::montecarlo::{simulate, McMode, McSettings};
use crate::error::Result;
use crate::model::problem::Problem;
use crate::model::schedule::{Schedule, Shape};
use crate::reports::validation::Summary;
use crate::run::{run, run_transfer, RunSettings};
use crate::scheme::{Scheme, DEFAULT_SCHEME};
use crate::time::transfer::TransferKind;

/// Sizes of one schedule check.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ScheduleSizes {
    /// Monte Carlo particles.
    pub particles: usize,
    /// Cells of the density model (and of the histograms).
    pub cells: usize,
    /// Final time (steps).
    pub t_end: f64,
    /// Snapshot interval (steps).
    pub every: f64,
}

/// One model-against-Monte-Carlo check under a schedule.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduleCheck {
    /// What is compared, e.g. `transfer-exact vs MC sgd`.
    pub label: String,
    /// The schedule, described.
    pub schedule: String,
    /// The problem's base learning rate.
    pub lr: f64,
    /// Sizes used.
    pub sizes: ScheduleSizes,
    /// Rows: (t, quantity, model, MC, se, z).
    pub rows: Vec<(f64, String, f64, f64, f64, f64)>,
    /// The largest |z| and where.
    pub worst: (f64, f64, String),
}

/// `seed` at base learning rate `lr` with the learning-rate schedule `shape`.
pub fn seed_with(lr: f64, shape: Shape) -> Result<Problem> {
    let mut p = Problem::builtin("seed")?;
    p.lr = lr;
    p.schedule.lr = Schedule::new(shape)?;
    Ok(p)
}

/// The step decay used: ×½ every 250 steps.
pub fn step_decay() -> Shape {
    Shape::Step {
        every: 250.0,
        factor: 0.5,
    }
}

/// The cosine schedule used: from 1 to 0.2 over `period` steps.
pub fn cosine(period: f64) -> Shape {
    Shape::Cosine { period, floor: 0.2 }
}

/// Run `model` (transfer-exact when `transfer`, else the default Fokker–Planck card)
/// and Monte Carlo in `mode` on `problem`; compare mean and region masses.
pub fn check(
    problem: &Problem,
    transfer: bool,
    mode: McMode,
    sizes: ScheduleSizes,
) -> Result<ScheduleCheck> {
    let settings = RunSettings {
        cells: sizes.cells,
        t_end: Some(sizes.t_end),
        every: Some(sizes.every),
        keep_densities: true,
        ..RunSettings::default()
    };
    let model = if transfer {
        run_transfer(problem, TransferKind::Exact, &settings)?
    } else {
        run(problem, &Scheme::resolve(DEFAULT_SCHEME)?, &settings)?
    };
    let mc = simulate(
        problem,
        &McSettings {
            particles: sizes.particles,
            seed: 1,
            mode,
            t_end: Some(sizes.t_end),
            every: Some(sizes.every),
            cells: sizes.cells,
            momentum: None,
            nesterov: false,
        },
        &|_, _| {},
    )?;
    let cmp = compare(&model, &mc)?;
    let mut rows = Vec::new();
    for r in cmp.rows.iter().filter(|r| r.t > 0.0) {
        let mut push = |what: String, m: f64, x: f64, se: f64| {
            let z = if se > 0.0 { (m - x) / se } else { 0.0 };
            rows.push((r.t, what, m, x, se, z));
        };
        push("mean".into(), r.model.mean, r.mc.mean, r.mc.mean_se);
        for (k, name) in cmp.region_names.iter().enumerate() {
            push(
                format!("mass_{name}"),
                r.model.regions[k],
                r.mc.regions[k],
                r.mc.regions_se[k],
            );
        }
    }
    let worst = rows.iter().fold((0.0f64, 0.0, String::new()), |w, r| {
        if r.5.abs() > w.0 {
            (r.5.abs(), r.0, r.1.clone())
        } else {
            w
        }
    });
    Ok(ScheduleCheck {
        label: format!(
            "{} vs Monte Carlo ({})",
            if transfer {
                "transfer-exact"
            } else {
                DEFAULT_SCHEME
            },
            mode.as_str()
        ),
        schedule: problem.schedule.lr.describe(),
        lr: problem.lr,
        sizes,
        rows,
        worst,
    })
}

impl ScheduleCheck {
    /// The table as markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### {}, T₀ = {}, lr schedule {}\n\n{} particles, {} cells; worst |z| = {:.2} \
             ({} at t = {})\n\n| t | quantity | model | MC | se | z |\n|---|---|---|---|---|---|\n",
            self.label,
            self.lr,
            self.schedule,
            self.sizes.particles,
            self.sizes.cells,
            self.worst.0,
            self.worst.2,
            self.worst.1
        );
        for (t, what, m, x, se, z) in &self.rows {
            s += &format!("| {t} | {what} | {m:.5} | {x:.5} | {se:.5} | {z:+.2} |\n");
        }
        s
    }

    /// One summary line.
    pub fn line(&self) -> String {
        format!(
            "schedules: {} on seed, lr {}: worst |z| {:.2} ({} at t = {})",
            self.label, self.schedule, self.worst.0, self.worst.2, self.worst.1
        )
    }
}

/// The three checks: transfer-exact vs SGD under a step decay and a cosine, and
/// Fokker–Planck vs Gaussian kicks under the cosine at T₀ = 0.005.
pub fn checks(quick: bool) -> Result<Vec<ScheduleCheck>> {
    let sizes = ScheduleSizes {
        particles: if quick { 20_000 } else { 200_000 },
        cells: 1200,
        t_end: 1000.0,
        every: 250.0,
    };
    let fp_sizes = ScheduleSizes {
        t_end: 2000.0,
        every: 500.0,
        ..sizes
    };
    Ok(vec![
        check(&seed_with(0.02, step_decay())?, true, McMode::Sgd, sizes)?,
        check(&seed_with(0.02, cosine(1000.0))?, true, McMode::Sgd, sizes)?,
        check(
            &seed_with(0.005, cosine(2000.0))?,
            false,
            McMode::Gaussian,
            fp_sizes,
        )?,
    ])
}

/// Write `schedules.md` into `dir`.
pub fn schedules_report(dir: &Path, quick: bool, command: &str) -> Result<Summary> {
    let clock = Instant::now();
    let checks = checks(quick)?;
    let mut md = String::from(
        "# Learning-rate schedules\n\nEach density model under a schedule against Monte Carlo \
         of the process it models, under the same schedule, on `seed`: step k uses T(k) \
         (transfer-exact, Monte Carlo), the Fokker–Planck operator A(t) uses T(t). \
         z = (model − MC) / se over the mean and the region masses; |z| < 4 is agreement \
         within the sampling error.\n\n",
    );
    for c in &checks {
        md += &c.markdown();
        md += "\n";
    }
    let _ = command; // the footer naming the command is appended by the report set
    let path = dir.join("schedules.md");
    std::fs::write(&path, md).map_err(|source| crate::Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Summary {
        lines: checks.iter().map(ScheduleCheck::line).collect(),
        plots: vec![],
        wall_s: clock.elapsed().as_secs_f64(),
    })
}
