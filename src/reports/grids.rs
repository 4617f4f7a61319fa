//! Uniform against `auto` grids on `seed` at t = 500: the exact Wasserstein-1 distance
//! of the default card's final density from a converged reference, for N = 400·1.25^k
//! cells up to 4800, side by side.
//!
//! The reference is the same card on a fine uniform grid at a small step (the W1 between
//! grids is exact for piecewise-constant densities, [`w1_between`]); every run uses one
//! small fixed step, so the table shows the spatial error. The auto grid equidistributes
//! the landscape monitor of [`crate::space::auto`] (de Boor 1973; Huang & Russell,
//! *Adaptive Moving Mesh Methods*, 2011).

use std::path::Path;
use std::time::Instant;

use crate::analysis::metrics::w1_between;
use crate::error::{Error, Result};
use crate::model::grid_choice::GridKind;
use crate::model::problem::Problem;
use crate::run::{run, RunReport, RunSettings};
use crate::scheme::{Scheme, DEFAULT_SCHEME};

use crate::reports::validation::Summary;

/// Final time of the study.
const T_END: f64 = 500.0;

/// One row: N, then (W1, smallest cell, set-up s) for uniform and auto.
struct Row {
    n: usize,
    uniform: (f64, f64, f64),
    auto: (f64, f64, f64),
}

fn final_run(p: &Problem, s: &Scheme, n: usize, kind: GridKind, dt: f64) -> Result<RunReport> {
    let settings = RunSettings {
        cells: n,
        grid: Some(kind),
        dt: Some(dt),
        t_end: Some(T_END),
        every: Some(T_END),
        ..RunSettings::default()
    };
    let r = run(p, s, &settings)?;
    if r.snapshots
        .last()
        .is_none_or(|x| (x.t - T_END).abs() > 1e-9)
    {
        return Err(Error::invalid("grid study", n, "run did not reach t = 500"));
    }
    Ok(r)
}

fn score(r: &RunReport, reference: &RunReport) -> (f64, f64, f64) {
    let (p, q) = (
        &r.snapshots[r.snapshots.len() - 1].p,
        &reference.snapshots[0].p,
    );
    let w1 = w1_between(&r.grid, p, &reference.grid, q);
    (w1, r.grid.extreme_cells().0 .1, r.setup_s)
}

/// Write `grids.md` into `dir` (quick: three grids against a 4800-cell reference).
pub fn grids_report(dir: &Path, quick: bool) -> Result<Summary> {
    let clock = Instant::now();
    let seed = Problem::builtin("seed")?;
    let sg = Scheme::resolve(DEFAULT_SCHEME)?;
    let (ns, ref_cells, dt, ref_dt): (Vec<usize>, usize, f64, f64) = if quick {
        (vec![400, 800, 1600], 4800, 0.25, 0.25)
    } else {
        let ns = (0..12)
            .map(|k| (400.0 * 1.25f64.powi(k)).round() as usize)
            .filter(|&n| n <= 4800)
            .collect();
        (ns, 19_200, 0.05, 0.025)
    };
    let mut reference = final_run(&seed, &sg, ref_cells, GridKind::Uniform, ref_dt)?;
    let last = reference.snapshots.pop();
    reference.snapshots = last.into_iter().collect();
    let mut rows = Vec::new();
    for &n in &ns {
        let u = final_run(&seed, &sg, n, GridKind::Uniform, dt)?;
        let a = final_run(&seed, &sg, n, GridKind::Auto, dt)?;
        rows.push(Row {
            n,
            uniform: score(&u, &reference),
            auto: score(&a, &reference),
        });
    }
    let wall_s = clock.elapsed().as_secs_f64();
    let first = |f: &dyn Fn(&Row) -> f64| {
        rows.iter()
            .find(|r| f(r) <= 1e-3)
            .map_or("none".to_string(), |r| r.n.to_string())
    };
    let line = format!(
        "grids: seed t = 500, first N with W1 ≤ 1e-3: uniform {}, auto {}",
        first(&|r| r.uniform.0),
        first(&|r| r.auto.0)
    );
    let mut md = format!(
        "# Uniform and auto grids on seed\n\n\
         `{DEFAULT_SCHEME}` on `seed` to t = {T_END}, every run at dt = {dt}; W1 is the exact \
         Wasserstein-1 distance of the final density from the same card on {ref_cells} \
         uniform cells at dt = {ref_dt}. The auto grid equidistributes the landscape \
         monitor (docs/schemes.md, \"Grids\"). Set-up is assembly, grid and diagnostics \
         (run.json `setup_s`).\n\n\
         | N | W1 uniform | W1 auto | auto / uniform | smallest auto cell | set-up uniform (s) | set-up auto (s) |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {:.3e} | {:.3e} | {:.3} | {:.2e} | {:.4} | {:.4} |\n",
            r.n,
            r.uniform.0,
            r.auto.0,
            r.auto.0 / r.uniform.0,
            r.auto.1,
            r.uniform.2,
            r.auto.2
        ));
    }
    md.push_str(&format!("\n{line}\n\nwall {wall_s:.1} s\n"));
    let path = dir.join("grids.md");
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    Ok(Summary {
        lines: vec![line],
        plots: vec![],
        wall_s,
    })
}
