//! Two parameters, side by side: on a 2-D problem (the report uses `seed-2d`) the
//! Fokker–Planck density (backward Euler, each cross-diffusion scheme, with its
//! positivity record), the exact SGD transfer operator (bilinear hats on an n × n grid)
//! and Monte Carlo of SGD at fixed times — mass in each region (the pit and the wide basin), mean vector and
//! covariance — so that the modelling error of a density description can be told from
//! its numerical error, as in one dimension (see `models.md`).
//!
//! The transfer operator has no sampling noise and no diffusion approximation; its
//! numerical error is the hats' numerical diffusion (variance ≤ h²/4 per axis per
//! step, O(h²)). The Monte Carlo has no discretisation error; its standard errors are
//! printed beside it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::montecarlo::two::{simulate_2d, Mc2Settings, Start2};
use crate::error::{Error, Result};
use crate::model::two::Problem2;
use crate::reports::validation::Summary;
use crate::space::two::{CrossScheme, Grid2, Operator2, PositivityRecord};
use crate::time::transfer::two::{
    cell_moments, initial_masses, region_mass, regions_of, Cells2, Fast2, Rect, Step2, Transfer2,
};
use crate::time::two::{propagate, Method2};

/// Sizes of a side-by-side comparison.
#[derive(Clone, Debug, Serialize)]
pub struct TwoDOptions {
    /// Cells per axis of the transfer operator, one run each (default 128, 256, 512:
    /// the grid study that shows its numerical error shrinking).
    pub cells: Vec<usize>,
    /// Sub-points per cell and axis of the transfer operator (default 1).
    pub subpoints: usize,
    /// Monte Carlo particles (default 1 000 000).
    pub particles: usize,
    /// Monte Carlo seed (default 1).
    pub seed: u64,
    /// Snapshot times in whole steps (default 100 and 500).
    pub times: Vec<u64>,
    /// Cells per axis of the Fokker–Planck runs (default 256; none: no Fokker–Planck).
    pub fp_cells: Option<usize>,
    /// Backward-Euler step of the Fokker–Planck runs (default 5).
    pub fp_dt: f64,
}

impl Default for TwoDOptions {
    fn default() -> Self {
        TwoDOptions {
            cells: vec![128, 256, 512],
            subpoints: 1,
            particles: 1_000_000,
            seed: 1,
            times: vec![100, 500],
            fp_cells: Some(256),
            fp_dt: 5.0,
        }
    }
}

/// One method at one time.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Method.
    pub method: String,
    /// Time (steps).
    pub t: f64,
    /// Mass inside the rectangle.
    pub mass: f64,
    /// Mass in each region.
    pub regions: Vec<f64>,
    /// Standard errors of the region masses (Monte Carlo only).
    pub regions_se: Option<Vec<f64>>,
    /// Mean vector.
    pub mean: [f64; 2],
    /// Standard errors of the mean (Monte Carlo only).
    pub mean_se: Option<[f64; 2]>,
    /// Covariance (c11, c12, c22).
    pub cov: [f64; 3],
    /// Smallest cell value (density models only).
    pub min_p: Option<f64>,
}

/// A side-by-side comparison on one 2-D problem.
#[derive(Clone, Debug, Serialize)]
pub struct SideBySide {
    /// Problem name.
    pub problem: String,
    /// The sizes.
    pub options: TwoDOptions,
    /// Names of the regions, in the order of each row's `regions`.
    pub regions: Vec<String>,
    /// The rows, method by method and time by time.
    pub rows: Vec<Row>,
    /// Positivity records of the Fokker–Planck runs, one per cross-diffusion scheme.
    pub fp: Vec<FpRecord>,
    /// How the landscape was evaluated in the loops.
    pub landscape_form: String,
    /// Per grid: cells per axis, stored entries, seconds to build the matrix and to
    /// run it.
    pub transfer: Vec<(usize, usize, f64, f64)>,
    /// Monte Carlo seconds and particle-steps per second.
    pub mc_s: f64,
    /// Monte Carlo particle-steps per second (all threads).
    pub mc_rate: f64,
}

/// The positivity record of one Fokker–Planck run (one cross-diffusion scheme).
#[derive(Clone, Debug, Serialize)]
pub struct FpRecord {
    /// Cross-diffusion scheme.
    pub scheme: String,
    /// Cells per axis.
    pub cells: usize,
    /// Backward-Euler step.
    pub dt: f64,
    /// The operator's positivity record (negative off-diagonals, clipped points).
    pub operator: PositivityRecord,
    /// Smallest density value met at any step.
    pub min_p: f64,
    /// Steps after which some value was negative.
    pub negative_steps: usize,
    /// Steps taken.
    pub steps: usize,
    /// Seconds of assembly, factorisation and solves.
    pub wall_s: f64,
}

/// Fokker–Planck rows on n² cells with backward Euler at `dt`, one run per
/// cross-diffusion scheme, and their positivity records.
fn fp_rows(
    p: &Problem2,
    n: usize,
    dt: f64,
    times: &[u64],
    rects: &[Rect],
) -> Result<(Vec<Row>, Vec<FpRecord>)> {
    let grid = Grid2::for_problem(p, n)?;
    let stops: Vec<f64> = times.iter().map(|&t| t as f64).collect();
    let (mut rows, mut records) = (Vec::new(), Vec::new());
    for scheme in CrossScheme::ALL {
        let clock = Instant::now();
        let op = Operator2::assemble(p, grid, scheme)?;
        let mut dens = grid.initial_density(p)?;
        let mut snaps = Vec::new();
        let stats = propagate(
            &op,
            Method2::BackwardEuler,
            &mut dens,
            &stops,
            dt,
            |t, q| snaps.push((t, q.to_vec())),
        )?;
        for (t, q) in snaps {
            let (mean, cov) = grid.moments(&q);
            rows.push(Row {
                method: format!("Fokker–Planck {n}² {}", scheme.name()),
                t,
                mass: grid.mass(&q),
                regions: rects
                    .iter()
                    .map(|r| grid.mass_in(&q, [r.lo[0], r.hi[0]], [r.lo[1], r.hi[1]]))
                    .collect(),
                regions_se: None,
                mean,
                mean_se: None,
                cov: [cov[0][0], cov[0][1], cov[1][1]],
                min_p: Some(q.iter().cloned().fold(f64::INFINITY, f64::min)),
            });
        }
        records.push(FpRecord {
            scheme: scheme.name().into(),
            cells: n,
            dt,
            operator: op.record,
            min_p: stats.min_p,
            negative_steps: stats.negative_steps,
            steps: stats.steps,
            wall_s: clock.elapsed().as_secs_f64(),
        });
    }
    Ok((rows, records))
}

/// Fokker–Planck (when `o.fp_cells` is set; both cross-diffusion schemes),
/// transfer-exact and Monte Carlo of SGD on `p` at `o.times`.
pub fn side_by_side(p: &Problem2, o: &TwoDOptions) -> Result<SideBySide> {
    if o.times.is_empty() {
        return Err(Error::invalid(
            "times",
            "[]",
            "need at least one snapshot time",
        ));
    }
    let land = Fast2::of(p);
    let step = Step2::of(p)?;
    let (names, rects) = regions_of(p)?;
    let (mut rows, fp) = match o.fp_cells {
        Some(n) => fp_rows(p, n, o.fp_dt, &o.times, &rects)?,
        None => (Vec::new(), Vec::new()),
    };
    let mut transfer = Vec::new();
    for &n in &o.cells {
        let cells = Cells2::new(step.rect, [n, n])?;
        let clock = Instant::now();
        let tr = Transfer2::build(&land, &step, cells, o.subpoints, 4096)?;
        let build_s = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let ps = tr.evolve(&initial_masses(p, &cells)?, &o.times)?;
        transfer.push((n, tr.matrix.nnz(), build_s, clock.elapsed().as_secs_f64()));
        for (pt, &t) in ps.iter().zip(&o.times) {
            let (mass, mean, cov) = cell_moments(&cells, pt);
            rows.push(Row {
                method: format!("transfer-exact {n}²"),
                t: t as f64,
                mass,
                regions: rects.iter().map(|r| region_mass(&cells, pt, r)).collect(),
                regions_se: None,
                mean,
                mean_se: None,
                cov,
                min_p: Some(pt.iter().cloned().fold(f64::INFINITY, f64::min)),
            });
        }
    }
    let start = Start2::normal(p.initial.mean, p.initial.sd, &step.rect)?;
    let settings = Mc2Settings {
        particles: o.particles,
        seed: o.seed,
        checkpoints: o.times.clone(),
        histogram: None,
        regions: rects.clone(),
    };
    let mc = simulate_2d(&land, &step, &start, &settings, &|_, _| {})?;
    for s in &mc.snapshots {
        rows.push(Row {
            method: format!("Monte Carlo {} particles", o.particles),
            t: s.t,
            mass: s.mass,
            regions: s.regions.clone(),
            regions_se: Some(s.regions_se.clone()),
            mean: s.mean,
            mean_se: Some(s.mean_se),
            cov: s.cov,
            min_p: None,
        });
    }
    Ok(SideBySide {
        problem: p.name.clone(),
        options: o.clone(),
        regions: names,
        rows,
        fp,
        landscape_form: land.describe().into(),
        transfer,
        mc_s: mc.wall_s,
        mc_rate: mc.particle_steps as f64 / mc.wall_s.max(1e-9),
    })
}

/// A value with its standard error when there is one.
fn pm(v: f64, se: Option<f64>) -> String {
    match se {
        Some(s) => format!("{v:.4} ± {s:.4}"),
        None => format!("{v:.4}"),
    }
}

impl SideBySide {
    /// The comparison as a markdown table, time by time.
    pub fn table(&self) -> String {
        let mut md = String::from("| t | method | mass |");
        for r in &self.regions {
            let _ = write!(md, " mass {r} |");
        }
        md += " mean w1 | mean w2 | c11 | c12 | c22 | min p |\n|---|---|---|";
        md += &"---|".repeat(self.regions.len() + 6);
        md.push('\n');
        let mut times: Vec<f64> = self.rows.iter().map(|r| r.t).collect();
        times.dedup();
        times.sort_by(f64::total_cmp);
        times.dedup();
        for t in times {
            for r in self.rows.iter().filter(|r| r.t.to_bits() == t.to_bits()) {
                let _ = write!(md, "| {t} | {} | {:.6} |", r.method, r.mass);
                for (k, v) in r.regions.iter().enumerate() {
                    let se = r.regions_se.as_ref().map(|s| s[k]);
                    let _ = write!(md, " {} |", pm(*v, se));
                }
                let se = |ax: usize| r.mean_se.map(|s| s[ax]);
                let min_p = r.min_p.map_or("—".into(), |m| format!("{m:.2e}"));
                let _ = writeln!(
                    md,
                    " {} | {} | {:.4} | {:.4} | {:.4} | {min_p} |",
                    pm(r.mean[0], se(0)),
                    pm(r.mean[1], se(1)),
                    r.cov[0],
                    r.cov[1],
                    r.cov[2]
                );
            }
        }
        md
    }

    /// The positivity record of each cross-diffusion scheme as a markdown table (empty
    /// without Fokker–Planck runs).
    pub fn positivity(&self) -> String {
        if self.fp.is_empty() {
            return String::new();
        }
        let mut md = String::from(
            "| cross scheme | cells | dt | negative off-diagonals | most negative | clipped points | \
             added diffusion (rel.) | min p (all steps) | steps with p < 0 | wall s |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.fp {
            let op = &r.operator;
            let _ = writeln!(
                md,
                "| {} | {}² | {} | {} | {:.2e} | {} / {} | {:.2e} | {:.2e} | {} / {} | {:.2} |",
                r.scheme,
                r.cells,
                r.dt,
                op.negative_offdiag,
                op.most_negative_offdiag,
                op.clipped_points,
                op.points,
                op.max_added_relative,
                r.min_p,
                r.negative_steps,
                r.steps,
                r.wall_s
            );
        }
        md
    }

    /// How the numbers were made: sizes, costs and the Monte Carlo throughput.
    pub fn costs(&self) -> String {
        let o = &self.options;
        let steps = o.times.last().copied().unwrap_or(0);
        let mut out = String::new();
        for (n, nnz, b, r) in &self.transfer {
            let _ = writeln!(
                out,
                "- transfer-exact {n}²: {q}² point(s) per cell, {nnz} stored entries, build \
                 {b:.2} s, {steps} steps {r:.2} s",
                q = o.subpoints
            );
        }
        out + &format!(
            "- Monte Carlo: {np} particles, seed {s}, {mc:.2} s ({rate:.1} M particle-steps/s \
             on {threads} threads); gradients: {form}\n",
            threads = rayon::current_num_threads(),
            np = o.particles,
            s = o.seed,
            mc = self.mc_s,
            rate = self.mc_rate / 1e6,
            form = self.landscape_form,
        )
    }
}

/// Write `<dir>/<name>.md`: the `seed-2d` side by side (smaller sizes when `quick`).
pub fn two_d_report(dir: &Path, name: &str, quick: bool, command: &str) -> Result<Summary> {
    let clock = Instant::now();
    let p = Problem2::builtin("seed-2d")?;
    let o = if quick {
        TwoDOptions {
            cells: vec![64, 128],
            particles: 50_000,
            fp_cells: Some(64),
            ..TwoDOptions::default()
        }
    } else {
        TwoDOptions::default()
    };
    let s = side_by_side(&p, &o)?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Two parameters: `seed-2d` by Fokker–Planck, the exact transfer operator and Monte \
         Carlo of SGD\n\n\
         Generated by `{command}`; do not edit by hand.\n\n\
         `seed-2d`: {summary}. T = {lr}, B = {b}, rectangle [{x0}, {x1}] × [{y0}, {y1}], \
         start N(({m0}, {m1}), {sd}²) per axis.\n\n\
         - **Fokker–Planck**: the Itô equation on {fpn}² cells, hybrid central/upwind fluxes \
         (the limit of Scharfetter–Gummel fitting) along the axes, backward Euler at dt = {fpdt}, once with each cross-diffusion scheme \
         (`directional`: positivity preserving, clipped where D is not diagonally dominant; \
         `nine-point`: plain central differences); their positivity records are below the \
         table.\n\
         - **transfer-exact**: each cell's mass is moved by both datapoints' SGD maps \
         w ↦ w − T ∇l_j(w) (probability 1/2 each) and deposited on the four nearest cell \
         centres with bilinear hats: conservative and non-negative by construction, no \
         sampling noise, no diffusion approximation; its error is the hats' numerical \
         diffusion (O(h²) per step).\n\
         - **Monte Carlo**: the SGD process itself (± one standard error).\n\n\
         Region masses are fractions of all the mass; `min p` is the smallest cell mass.\n",
        summary = p.summary,
        lr = p.lr,
        b = p.batch,
        x0 = p.x[0],
        x1 = p.x[1],
        y0 = p.y[0],
        y1 = p.y[1],
        m0 = p.initial.mean[0],
        m1 = p.initial.mean[1],
        sd = p.initial.sd[0],
        fpn = o.fp_cells.map_or("-".into(), |n| n.to_string()),
        fpdt = o.fp_dt,
    );
    md += &s.table();
    md.push('\n');
    md += &s.positivity();
    md.push('\n');
    md += &s.costs();
    let wall_s = clock.elapsed().as_secs_f64();
    let _ = writeln!(md, "\nGenerated in {wall_s:.1} s.");
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    let basin = s.regions.iter().position(|r| r == "basin");
    let mut lines = Vec::new();
    let last = o.times.last().copied().unwrap_or(0) as f64;
    for r in s.rows.iter().filter(|r| r.t.to_bits() == last.to_bits()) {
        let b = basin.map_or(f64::NAN, |k| r.regions[k]);
        lines.push(format!(
            "seed-2d t = {}: {} basin mass {b:.4}, mean ({:.4}, {:.4})",
            r.t, r.method, r.mean[0], r.mean[1]
        ));
    }
    Ok(Summary {
        lines,
        plots: vec![],
        wall_s,
    })
}
