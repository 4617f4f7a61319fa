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
//! sampling error. That check needs a fine grid: the particles settle in the pit with a
//! standard deviation of about 0.02, and the mean's standard error at 200 000
//! particles is 2·10⁻⁵, below the discretisation error of 1200 cells. It is run at
//! [`FP_CELLS`] cells, and a [`GridStudy`] shows the model's mean and pit mass at
//! coarser grids beside it (the grid-convergence evidence); the 4-standard-error
//! criterion is the same for every check.

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

/// Cells of the Fokker–Planck check (the transfer-exact checks use 1200).
pub const FP_CELLS: usize = 4800;
/// The coarser grids of the Fokker–Planck check's grid study.
pub const FP_STUDY_CELLS: [usize; 2] = [1200, 2400];

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

/// The model of a check re-run on coarser grids: mean and first region's mass per
/// snapshot and cell count, beside the check's own (finest) grid and Monte Carlo.
#[derive(Clone, Debug, Serialize)]
pub struct GridStudy {
    /// Cell counts, coarse to fine; the last is the check's.
    pub cells: Vec<usize>,
    /// Name of the region whose mass is shown.
    pub region: String,
    /// One row per snapshot.
    pub rows: Vec<StudyRow>,
}

/// One snapshot of a [`GridStudy`].
#[derive(Clone, Debug, Serialize)]
pub struct StudyRow {
    /// Time (steps).
    pub t: f64,
    /// The model's mean per grid (coarse to fine).
    pub means: Vec<f64>,
    /// The model's region mass per grid.
    pub masses: Vec<f64>,
    /// Monte Carlo mean.
    pub mc_mean: f64,
    /// Its standard error.
    pub mc_se: f64,
}

/// The Fokker–Planck model of `check` (the default card) on `problem` at each of
/// `coarse` cell counts, beside the check's own rows (its finest grid and Monte Carlo).
pub fn grid_study(problem: &Problem, check: &ScheduleCheck, coarse: &[usize]) -> Result<GridStudy> {
    let card = Scheme::resolve(DEFAULT_SCHEME)?;
    let mut runs = Vec::new();
    for &cells in coarse {
        let settings = RunSettings {
            cells,
            t_end: Some(check.sizes.t_end),
            every: Some(check.sizes.every),
            keep_densities: false,
            ..RunSettings::default()
        };
        runs.push(run(problem, &card, &settings)?);
    }
    let region = problem
        .regions
        .first()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let key = format!("mass_{region}");
    let mut rows = Vec::new();
    for (t, _, m, x, se, _) in check.rows.iter().filter(|r| r.1 == "mean") {
        let fine_mass = check
            .rows
            .iter()
            .find(|r| (r.0 - t).abs() < 1e-9 && r.1 == key)
            .map_or(f64::NAN, |r| r.2);
        let at =
            |r: &crate::run::RunReport| r.moments.iter().find(|m| (m.t - t).abs() < 1e-9).cloned();
        let mut means = Vec::new();
        let mut masses = Vec::new();
        for r in &runs {
            let m = at(r);
            means.push(m.as_ref().map_or(f64::NAN, |m| m.mean));
            masses.push(
                m.and_then(|m| m.regions.first().copied())
                    .unwrap_or(f64::NAN),
            );
        }
        means.push(*m);
        masses.push(fine_mass);
        rows.push(StudyRow {
            t: *t,
            means,
            masses,
            mc_mean: *x,
            mc_se: *se,
        });
    }
    let mut cells = coarse.to_vec();
    cells.push(check.sizes.cells);
    Ok(GridStudy {
        cells,
        region,
        rows,
    })
}

impl GridStudy {
    /// The worst |z| of the mean over the snapshots, per grid.
    pub fn worst(&self) -> Vec<f64> {
        (0..self.cells.len())
            .map(|k| {
                self.rows
                    .iter()
                    .map(|r| {
                        if r.mc_se > 0.0 {
                            ((r.means[k] - r.mc_mean) / r.mc_se).abs()
                        } else {
                            0.0
                        }
                    })
                    .fold(0.0, f64::max)
            })
            .collect()
    }

    /// One summary line: the worst |z| of the mean per grid.
    pub fn line(&self) -> String {
        let per: Vec<String> = self
            .cells
            .iter()
            .zip(self.worst())
            .map(|(n, z)| format!("{n} cells {z:.2}"))
            .collect();
        format!(
            "schedules: Fokker–Planck vs Gaussian kicks, grid study of the mean: worst |z| {}",
            per.join(", ")
        )
    }

    /// The study as markdown: per snapshot the model's mean at each grid with its z
    /// against Monte Carlo, and the region mass at each grid.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "Grid convergence of the model (same card and schedule; Monte Carlo as \
             above). z = (model − MC) / se of the mean; a grid passes only where |z| < 4.\n\n| t |",
        );
        for n in &self.cells {
            s += &format!(" mean, {n} cells | z |");
        }
        s += " MC mean ± se |";
        for n in &self.cells {
            s += &format!(" mass_{}, {n} cells |", self.region);
        }
        s += "\n|---|";
        s += &"---|---|".repeat(self.cells.len());
        s += "---|";
        s += &"---|".repeat(self.cells.len());
        s += "\n";
        for r in &self.rows {
            let (x, se) = (r.mc_mean, r.mc_se);
            s += &format!("| {} |", r.t);
            for m in &r.means {
                let z = if se > 0.0 { (m - x) / se } else { 0.0 };
                s += &format!(" {m:.6} | {z:+.2} |");
            }
            s += &format!(" {x:.6} ± {se:.6} |");
            for m in &r.masses {
                s += &format!(" {m:.6} |");
            }
            s += "\n";
        }
        s
    }
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
/// Fokker–Planck vs Gaussian kicks under the cosine at T₀ = 0.005 on [`FP_CELLS`]
/// cells, with the latter's [`GridStudy`] on [`FP_STUDY_CELLS`].
pub fn checks(quick: bool) -> Result<(Vec<ScheduleCheck>, GridStudy)> {
    let sizes = ScheduleSizes {
        particles: if quick { 20_000 } else { 200_000 },
        cells: 1200,
        t_end: 1000.0,
        every: 250.0,
    };
    let fp_sizes = ScheduleSizes {
        cells: FP_CELLS,
        t_end: 2000.0,
        every: 500.0,
        ..sizes
    };
    let fp_problem = seed_with(0.005, cosine(2000.0))?;
    let fp = check(&fp_problem, false, McMode::Gaussian, fp_sizes)?;
    let study = grid_study(&fp_problem, &fp, &FP_STUDY_CELLS)?;
    Ok((
        vec![
            check(&seed_with(0.02, step_decay())?, true, McMode::Sgd, sizes)?,
            check(&seed_with(0.02, cosine(1000.0))?, true, McMode::Sgd, sizes)?,
            fp,
        ],
        study,
    ))
}

/// Write `schedules.md` into `dir`.
pub fn schedules_report(dir: &Path, quick: bool, command: &str) -> Result<Summary> {
    let clock = Instant::now();
    let (checks, study) = checks(quick)?;
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
    md += &study.markdown();
    md += "\n";
    let _ = command; // the footer naming the command is appended by the report set
    let path = dir.join("schedules.md");
    std::fs::write(&path, md).map_err(|source| crate::Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Summary {
        lines: checks
            .iter()
            .map(ScheduleCheck::line)
            .chain([study.line()])
            .collect(),
        plots: vec![],
        wall_s: clock.elapsed().as_secs_f64(),
    })
}
