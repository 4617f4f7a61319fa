//! Uniform against `auto` grids on `seed` at t = 500: the exact Wasserstein-1 distance
//! of the default card's final density from a converged reference, for N = 400·1.25^k
//! cells up to 4800, side by side.
//!
//! The reference is the same card on a fine uniform grid at a small step (the W1 between
//! grids is exact for piecewise-constant densities, [`w1_between`]); every run uses one
//! small fixed step, so the table shows the spatial error. The auto grid equidistributes
//! the landscape monitor of [`crate::space::auto`] (de Boor 1973; Huang & Russell,
//! *Adaptive Moving Mesh Methods*, 2011).
//!
//! A second table measures the variable-step card (`scharfetter-gummel-adaptive`) on
//! the auto grid: for each `tol`, its steps, its time error (W1 from the fixed-step
//! TR-BDF2 card at a small step on the same grid), its total error (W1 from a converged
//! TR-BDF2 reference) and its most negative value. The card's `tol` bounds the sum of
//! local error estimates, which the flow damps, so the time error reached is far below
//! it; the table is the calibration a user needs to pick `tol`.

use std::path::Path;
use std::time::Instant;

use crate::analysis::metrics::w1_between;
use crate::error::{Error, Result};
use crate::model::grid_choice::GridKind;
use crate::model::problem::Problem;
use crate::run::{run, RunReport, RunSettings};
use crate::scheme::{Scheme, DEFAULT_SCHEME};
use crate::time::DEFAULT_TRBDF2_TOL as DEFAULT_TOL;

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
    final_run_with(p, s, n, kind, Some(dt), None)
}

/// A run to t = 500 with a fixed step `dt` or, for the variable-step card, its `tol`.
fn final_run_with(
    p: &Problem,
    s: &Scheme,
    n: usize,
    kind: GridKind,
    dt: Option<f64>,
    tol: Option<f64>,
) -> Result<RunReport> {
    let settings = RunSettings {
        cells: n,
        grid: Some(kind),
        dt,
        rtol: tol,
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
    (
        distance(r, reference),
        r.grid.extreme_cells().0 .1,
        r.setup_s,
    )
}

/// W1 between the final densities of two runs.
fn distance(r: &RunReport, reference: &RunReport) -> f64 {
    let (p, q) = (
        &r.snapshots[r.snapshots.len() - 1].p,
        &reference.snapshots[reference.snapshots.len() - 1].p,
    );
    w1_between(&r.grid, p, &reference.grid, q)
}

/// Where a column that should fall with N rises instead: "N = a (x) after N = b (y)".
fn rises(rows: &[Row], f: impl Fn(&Row) -> f64) -> Vec<String> {
    rows.windows(2)
        .filter(|w| f(&w[1]) > f(&w[0]))
        .map(|w| {
            format!(
                "N = {} ({:.2e} after {:.2e} at N = {})",
                w[1].n,
                f(&w[1]),
                f(&w[0]),
                w[0].n
            )
        })
        .collect()
}

/// The variable-step card on the auto grid, one row per (tol, N): steps, time error,
/// total error, most negative value; and per tol the worst total error over N.
fn adaptive_section(seed: &Problem, quick: bool) -> Result<(String, String)> {
    let adaptive = Scheme::resolve("scharfetter-gummel-adaptive")?;
    let trbdf2 = Scheme::resolve("scharfetter-gummel-trbdf2")?;
    let (ns, tols, ref_cells, fine_dt): (&[usize], &[f64], usize, f64) = if quick {
        (&[500], &[1e-3, 1.6e-2], 4800, 0.1)
    } else {
        (
            &[500, 600, 700],
            &[1e-3, 4e-3, 1.6e-2, 6.4e-2],
            19_200,
            0.02,
        )
    };
    let ref_dt = 0.25;
    let reference = final_run_with(
        seed,
        &trbdf2,
        ref_cells,
        GridKind::Uniform,
        Some(ref_dt),
        None,
    )?;
    let mut md = format!(
        "## The variable-step card on the auto grid\n\n\
         `scharfetter-gummel-adaptive` (TR-BDF2 with local W1 error control, no `--dt`) on \
         `seed` to t = {T_END}. Time error: W1 from `scharfetter-gummel-trbdf2` at dt = \
         {fine_dt} on the same grid. Total error: W1 from `scharfetter-gummel-trbdf2` on \
         {ref_cells} uniform cells at dt = {ref_dt}. `tol` bounds the sum of the local \
         error estimates (each step may commit tol·h/span); the flow damps what a step \
         commits, and the column W1 time / tol shows how far the error reached stays below \
         `tol`. The card's default `tol` is {DEFAULT_TOL:e}.\n\n\
         | tol | N | steps | W1 time | W1 time / tol | W1 total | min p |\n\
         |---|---|---|---|---|---|---|\n"
    );
    let fine: Vec<RunReport> = ns
        .iter()
        .map(|&n| final_run_with(seed, &trbdf2, n, GridKind::Auto, Some(fine_dt), None))
        .collect::<Result<_>>()?;
    let mut worst = Vec::new();
    for &tol in tols {
        let mut w = (0.0_f64, 0usize);
        for (&n, f) in ns.iter().zip(&fine) {
            let r = final_run_with(seed, &adaptive, n, GridKind::Auto, None, Some(tol))?;
            let (time, total) = (distance(&r, f), distance(&r, &reference));
            if total > w.0 {
                w = (total, n);
            }
            md.push_str(&format!(
                "| {tol:e} | {n} | {} | {time:.2e} | {:.3} | {total:.2e} | {:.1e} |\n",
                r.stats.steps,
                time / tol,
                r.min_p
            ));
        }
        worst.push(format!("tol {tol:e}: {:.2e} (N = {})", w.0, w.1));
    }
    let line = format!(
        "grids: seed t = 500, variable-step card on auto grids, worst total W1 over N = {}: {}",
        ns.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        worst.join("; ")
    );
    md.push_str(&format!("\n{line}\n"));
    Ok((md, line))
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
    let (adaptive_md, adaptive_line) = adaptive_section(&seed, quick)?;
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
         | N | W1 uniform | W1 auto | auto / uniform | smallest auto cell | set-up uniform (ms) | set-up auto (ms) |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {:.3e} | {:.3e} | {:.3} | {:.2e} | {:.2} | {:.2} |\n",
            r.n,
            r.uniform.0,
            r.auto.0,
            r.auto.0 / r.uniform.0,
            r.auto.1,
            1e3 * r.uniform.2,
            1e3 * r.auto.2
        ));
    }
    // convergence that is not monotone in N is reported, not smoothed over
    for (name, ups) in [
        ("uniform", rises(&rows, |r| r.uniform.0)),
        ("auto", rises(&rows, |r| r.auto.0)),
    ] {
        if ups.is_empty() {
            md.push_str(&format!("\nW1 {name} falls at every step in N.\n"));
        } else {
            md.push_str(&format!(
                "\nW1 {name} is not monotone in N: it rises at {}.\n",
                ups.join(", ")
            ));
        }
    }
    md.push_str(&format!("\n{line}\n\n{adaptive_md}\nwall {wall_s:.1} s\n"));
    let path = dir.join("grids.md");
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    Ok(Summary {
        lines: vec![line, adaptive_line],
        plots: vec![],
        wall_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, u: f64, a: f64) -> Row {
        Row {
            n,
            uniform: (u, 0.0, 0.0),
            auto: (a, 0.0, 0.0),
        }
    }

    /// A rise between neighbouring N is named with both values; a falling column has none.
    #[test]
    fn rises_names_every_increase() {
        let rows = [row(400, 3.0, 1.0), row(500, 2.0, 2.0), row(625, 1.0, 1.5)];
        assert!(rises(&rows, |r| r.uniform.0).is_empty());
        let ups = rises(&rows, |r| r.auto.0);
        assert_eq!(ups, vec!["N = 500 (2.00e0 after 1.00e0 at N = 400)"]);
    }
}
