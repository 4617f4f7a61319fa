//! How good is the a-posteriori error estimate of a run ([`crate::run::estimate`])?
//! The estimated W1 error at t_end against the true one, on `seed` across grids (true
//! error against a converged reference: the same flux with second-order TR-BDF2 on a
//! much finer grid), and on `ou` and `spreading` (true error against the exact
//! solution, a normal density whose mean and variance are known in closed form, as
//! exact cell averages on the run's grid), each at the default (accuracy-chosen) step
//! and on `ou`/`spreading` also at a fixed step dt = 1, where the time error dominates.
//! The estimate is meant to be within a factor 3 of the truth; rows outside are marked.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::analysis::metrics::w1_between;
use crate::error::{Error, Result};
use crate::model::problem::{Initial, Problem};
use crate::reports::validation::Summary;
use crate::run::estimate::{choose_step, estimate, ErrorEstimate};
use crate::run::{run, RunReport, RunSettings};
use crate::scheme::{Scheme, DEFAULT_SCHEME};
use crate::space::grid::Grid;
use crate::space::initial::initial_density;

/// One run with its estimate and true error.
struct Row {
    problem: String,
    cells: usize,
    step: String,
    est: ErrorEstimate,
    truth: f64,
    run_s: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.est.w1 / self.truth
    }
}

/// Sizes of the report: seed grids, reference grid, grids of ou and spreading.
struct Sizes {
    seed_cells: Vec<usize>,
    reference_cells: usize,
    exact_cells: Vec<usize>,
}

const SEED_T: f64 = 500.0;
const OU_T: f64 = 10.0;
const SPREADING_T: f64 = 1000.0;
const REFERENCE_DT: f64 = 0.1;

/// Write `estimator.md` into `dir` (`quick`: fewer and smaller runs, about 10 s).
pub fn estimator_report(dir: &Path, quick: bool, command: &str) -> Result<Summary> {
    let clock = Instant::now();
    let sizes = if quick {
        Sizes {
            seed_cells: vec![1000, 2000],
            reference_cells: 4800,
            exact_cells: vec![200, 800],
        }
    } else {
        Sizes {
            seed_cells: vec![1000, 1250, 1500, 1750, 2000, 2400],
            reference_cells: 9600,
            exact_cells: vec![200, 400, 800, 1600],
        }
    };
    let sg = Scheme::resolve(DEFAULT_SCHEME)?;
    let mut rows = seed_rows(&sg, &sizes)?;
    for (name, t_end) in [("ou", OU_T), ("spreading", SPREADING_T)] {
        let p = Problem::builtin(name)?;
        for &n in &sizes.exact_cells {
            for dt in [None, Some(1.0)] {
                let s = settings(n, dt, t_end);
                rows.push(row(&p, &sg, &s, &|r| exact_error(&p, r))?);
            }
        }
    }
    let wall_s = clock.elapsed().as_secs_f64();
    let md = render(&rows, &sg, &sizes, command, wall_s);
    let path = dir.join("estimator.md");
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    let (lo, hi, out) = spread(&rows);
    let line = format!(
        "estimator: estimate / true W1 error in [{lo:.2}, {hi:.2}] over {} runs on seed, ou, spreading; {out} outside [1/3, 3]",
        rows.len()
    );
    Ok(Summary {
        lines: vec![line],
        plots: vec![],
        wall_s,
    })
}

/// Settings of a run on `n` cells to `t_end` (one snapshot), at `dt` or the default.
fn settings(n: usize, dt: Option<f64>, t_end: f64) -> RunSettings {
    RunSettings {
        cells: n,
        dt,
        t_end: Some(t_end),
        every: Some(t_end),
        ..RunSettings::default()
    }
}

/// The seed rows, against a reference on `sizes.reference_cells` cells.
fn seed_rows(sg: &Scheme, sizes: &Sizes) -> Result<Vec<Row>> {
    let seed = Problem::builtin("seed")?;
    let tr = Scheme::resolve("scharfetter-gummel-trbdf2")?;
    let rs = settings(sizes.reference_cells, Some(REFERENCE_DT), SEED_T);
    let reference = run(&seed, &tr, &rs)?;
    let (gref, pref) = final_density(&reference)?;
    let truth = |r: &RunReport| -> Result<f64> {
        let (g, p) = final_density(r)?;
        Ok(w1_between(&g, &p, &gref, &pref))
    };
    sizes
        .seed_cells
        .iter()
        .map(|&n| row(&seed, sg, &settings(n, None, SEED_T), &truth))
        .collect()
}

/// Run with the step `solve` would choose, estimate, and measure the true error.
fn row(
    p: &Problem,
    sg: &Scheme,
    s: &RunSettings,
    truth: &dyn Fn(&RunReport) -> Result<f64>,
) -> Result<Row> {
    let (s, choice) = choose_step(p, sg, s)?;
    let clock = Instant::now();
    let r = run(p, sg, &s)?;
    let run_s = clock.elapsed().as_secs_f64();
    let est = estimate(p, sg, &s, &r)?
        .ok_or_else(|| Error::invalid("estimate", &p.name, "a run did not reach t_end"))?;
    let dt = r.dt.unwrap_or(f64::NAN);
    let step = match choice {
        Some(_) => format!("{dt:.3e} (default)"),
        None => format!("{dt} (given)"),
    };
    Ok(Row {
        problem: p.name.clone(),
        cells: r.cells,
        step,
        truth: truth(&r)?,
        est,
        run_s,
    })
}

/// The final density of a run and its grid.
fn final_density(r: &RunReport) -> Result<(Grid, Vec<f64>)> {
    let snap = r
        .snapshots
        .last()
        .ok_or_else(|| Error::invalid("run", &r.problem, "kept no density"))?;
    Ok((r.grid.clone(), snap.p.clone()))
}

/// W1 between a run's final density and the exact normal solution's cell averages.
fn exact_error(p: &Problem, r: &RunReport) -> Result<f64> {
    let (mean, var) = p
        .exact_moments(r.t_end)
        .ok_or_else(|| Error::invalid("problem", &p.name, "has no exact solution"))?;
    let mut exact = p.clone();
    exact.initial = Initial::Normal {
        mean,
        sd: var.sqrt(),
    };
    let q = initial_density(&exact, &r.grid)?;
    let (g, pn) = final_density(r)?;
    Ok(w1_between(&g, &pn, &r.grid, &q))
}

/// Smallest and largest ratio, and how many rows fall outside [1/3, 3].
fn spread(rows: &[Row]) -> (f64, f64, usize) {
    let rs: Vec<f64> = rows.iter().map(Row::ratio).collect();
    let lo = rs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = rs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let out = rs
        .iter()
        .filter(|&&x| !(1.0 / 3.0..=3.0).contains(&x))
        .count();
    (lo, hi, out)
}

fn render(rows: &[Row], sg: &Scheme, sizes: &Sizes, command: &str, wall_s: f64) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# The a-posteriori error estimate against the true error\n\n\
         Generated by `{command}`; do not edit by hand.\n\n\
         Every `probcurrent solve` run of a Fokker–Planck card reports an estimate of its \
         W1 error at t_end: the card is re-run on twice the cells at the same step \
         (space, extrapolated with the claimed order) and at twice the step (time). \
         Here card `{}` is run as `solve` runs it (the default step chosen by accuracy, \
         or dt = 1 where marked given) and the estimate is set against the true W1 \
         error: on `seed` (t = {SEED_T}) against `scharfetter-gummel-trbdf2` on {} \
         cells at dt = {REFERENCE_DT}; on `ou` (t = {OU_T}) and `spreading` \
         (t = {SPREADING_T}) against the exact normal solution's cell averages. \
         The ratio should lie in [1/3, 3]; rows outside are marked **outside**.\n",
        sg.name, sizes.reference_cells
    );
    md.push_str("| problem | cells | dt | estimate | space | time | true W1 | ratio | run s | estimate s |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let ratio = r.ratio();
        let mark = if (1.0 / 3.0..=3.0).contains(&ratio) {
            ""
        } else {
            " **outside**"
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3e} | {:.2e} | {:.2e} | {:.3e} | {ratio:.2}{mark} | {:.3} | {:.3} |",
            r.problem, r.cells, r.step, r.est.w1, r.est.w1_space, r.est.w1_time, r.truth, r.run_s, r.est.cost_s
        );
    }
    let (lo, hi, out) = spread(rows);
    let _ = writeln!(
        md,
        "\nRatio estimate / true between {lo:.2} and {hi:.2}; {out} of {} rows outside [1/3, 3].\n\n\
         Generated in {wall_s:.1} s.",
        rows.len()
    );
    md
}
