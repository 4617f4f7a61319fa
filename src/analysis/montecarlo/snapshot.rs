//! Snapshot statistics of the particles at fixed times: the fraction still inside,
//! mean and standard deviation with standard errors, the fraction in each region and a
//! histogram on a grid — what [`simulate`] reports and the density models are compared
//! against.
//!
//! The histogram grid is any finite-volume grid: uniform, `auto` or given by its edges
//! (the problem's `[grid]` choice, or the grid of a density run with [`simulate_on`]).
//! Cell i's estimate is its count over N h_i, with standard error √count/(N h_i).
//!
//! Per block the observer accumulates the count and the power sums Σw, Σw², Σw³, Σw⁴ at
//! each snapshot; blocks are added in block order. The standard error of the standard
//! deviation uses the fourth central moment, √((m₄ − σ⁴)/n)/(2σ). The positions of
//! the particles inside are kept too (blocks concatenated in block order, then sorted),
//! for the exact sample Wasserstein-1 distance of
//! [`crate::analysis::metrics::w1_sample`]; memory is particles × snapshots f64.

use std::time::Instant;

use serde::Serialize;

use crate::analysis::montecarlo::engine::{Engine, Momentum, Observer, Start, Walls};
use crate::analysis::montecarlo::step::McMode;
use crate::analysis::montecarlo::whole_steps;
use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Problem};
use crate::space::grid::Grid;

/// Settings of a Monte Carlo run. With the `cli` feature it is also the options of the
/// `mc` command.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct McSettings {
    /// Number of particles (default 100 000).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 100_000))]
    pub particles: usize,
    /// Seed of the generators; results are bit-identical for a seed at any thread count
    /// (default 1).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1))]
    pub seed: u64,
    /// Process: sgd (minibatch SGD), gd (gradient descent), gaussian (drift + normal
    /// kick) (default sgd).
    #[cfg_attr(feature = "cli", arg(long, default_value = "sgd", value_parser = McMode::parse))]
    pub mode: McMode,
    /// Final step; `None` takes the problem's t_end (must be a whole number of steps).
    #[cfg_attr(feature = "cli", arg(long))]
    pub t_end: Option<f64>,
    /// Snapshot interval in steps; `None` takes the problem's (a whole number).
    #[cfg_attr(feature = "cli", arg(long))]
    pub every: Option<f64>,
    /// Cells of the histogram grid (default 600, the solver's usual grid; a grid given
    /// by edges brings its own count).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 600))]
    pub cells: usize,
    /// Heavy-ball momentum β in [0, 1): v ← β v − T ĝ, W ← W + v (velocity 0 at the
    /// start and after a wall); absent: plain W ← W − T ĝ.
    #[cfg_attr(feature = "cli", arg(long))]
    pub momentum: Option<f64>,
    /// With `--momentum`: Nesterov's look-ahead, ĝ taken at W + β v.
    #[cfg_attr(feature = "cli", arg(long))]
    pub nesterov: bool,
}

impl Default for McSettings {
    fn default() -> Self {
        McSettings {
            particles: 100_000,
            seed: 1,
            mode: McMode::Sgd,
            t_end: None,
            every: None,
            cells: 600,
            momentum: None,
            nesterov: false,
        }
    }
}

impl McSettings {
    /// Check these settings on `problem` before anything is allocated: particles,
    /// whole-step times, the mode, the histogram cells, and the memory and work of
    /// the run against [`crate::limits`]. Returns the number of snapshots.
    pub fn check(&self, problem: &Problem) -> Result<usize> {
        crate::limits::particles(self.particles).map_err(|e| e.with_origin("--particles"))?;
        let t_end = whole_steps("t_end", self.t_end.unwrap_or(problem.t_end))?;
        let every = whole_steps("every", self.every.unwrap_or(problem.every))?;
        self.mode
            .check(problem, "use mode gd (S² = 0) or gaussian")?;
        self.momentum()?;
        crate::limits::cells(self.cells).map_err(|e| e.with_origin("--cells"))?;
        let snapshots = crate::limits::snapshots(t_end as f64, every as f64)?;
        let batch = match self.mode {
            McMode::Sgd => problem.batch,
            McMode::Gd => problem.landscape.len(),
            McMode::Gaussian => 2 * problem.landscape.len(),
        };
        crate::limits::monte_carlo(
            self.particles,
            t_end,
            snapshots,
            self.cells,
            batch,
            crate::analysis::montecarlo::engine::BLOCK,
        )?;
        Ok(snapshots)
    }

    /// Settings on the same histogram grid and snapshot times as the density run
    /// `run`, so the two compare snapshot by snapshot.
    pub fn beside(
        run: &crate::run::RunSettings,
        particles: usize,
        seed: u64,
        mode: McMode,
    ) -> Self {
        let (t_end, every, cells) = (run.t_end, run.every, run.cells);
        McSettings {
            particles,
            seed,
            mode,
            t_end,
            every,
            cells,
            momentum: None,
            nesterov: false,
        }
    }

    /// The momentum of these settings: `None` for plain SGD; an error for β outside
    /// [0, 1) or `nesterov` without a β.
    pub fn momentum(&self) -> Result<Option<Momentum>> {
        match self.momentum {
            None if self.nesterov => Err(Error::invalid(
                "nesterov",
                "true",
                "Nesterov's look-ahead needs a momentum β (give --momentum)",
            )),
            None => Ok(None),
            Some(beta) if !(0.0..1.0).contains(&beta) => Err(Error::invalid(
                "momentum",
                beta.to_string(),
                "β must be in [0, 1) (1 never forgets a velocity; above 1 it grows)",
            )
            .with_origin("--momentum")),
            Some(beta) => Ok(Some(Momentum {
                beta,
                nesterov: self.nesterov,
            })),
        }
    }
}

/// Statistics of the particles at one snapshot, with standard errors.
#[derive(Clone, Debug, Serialize)]
pub struct McMoments {
    /// Time (steps).
    pub t: f64,
    /// Fraction of particles still in the domain.
    pub mass: f64,
    /// Mean of W over particles in the domain.
    pub mean: f64,
    /// Standard deviation of W.
    pub sd: f64,
    /// Standard error of the mean.
    pub mean_se: f64,
    /// Standard error of the standard deviation (from the fourth central moment).
    pub sd_se: f64,
    /// Fraction of all particles in each region.
    pub regions: Vec<f64>,
    /// Standard errors of the region fractions.
    pub regions_se: Vec<f64>,
}

/// A histogram on the grid: density per cell and its standard error.
#[derive(Clone, Debug)]
pub struct McHistogram {
    /// Time.
    pub t: f64,
    /// Density estimate per cell (counts / (N h)).
    pub p: Vec<f64>,
    /// Standard error per cell.
    pub se: Vec<f64>,
    /// Positions of the particles still in the domain, sorted increasingly (blocks
    /// concatenated in block order, then sorted: bit-identical at any thread count);
    /// for the exact sample W1 of [`crate::analysis::metrics::w1_sample`].
    pub positions: Vec<f64>,
}

/// Result of a Monte Carlo run.
#[derive(Clone, Debug, Serialize)]
pub struct McReport {
    /// Problem name.
    pub problem: String,
    /// Process.
    pub mode: McMode,
    /// Heavy-ball momentum β (`None`: plain SGD).
    pub momentum: Option<f64>,
    /// Nesterov's look-ahead gradient (with a momentum).
    pub nesterov: bool,
    /// Number of particles.
    pub particles: usize,
    /// Seed.
    pub seed: u64,
    /// Steps simulated.
    pub steps: u64,
    /// Particle-steps simulated.
    pub particle_steps: u64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Region names.
    pub region_names: Vec<String>,
    /// The histogram grid.
    pub grid: Grid,
    /// Statistics per snapshot.
    pub moments: Vec<McMoments>,
    /// Histograms and sorted particle positions per snapshot (not serialised).
    #[serde(skip)]
    pub histograms: Vec<McHistogram>,
}

/// Per-block accumulators at each snapshot.
struct BlockAcc {
    n: Vec<u64>,
    s1: Vec<f64>,
    s2: Vec<f64>,
    s3: Vec<f64>,
    s4: Vec<f64>,
    regions: Vec<Vec<u64>>,
    hist: Vec<Vec<u32>>,
    positions: Vec<Vec<f64>>,
}

/// The observer of [`simulate`]: power sums, region counts, a histogram and the
/// positions per snapshot.
struct Snapshots<'a> {
    snaps: usize,
    regions: &'a [(String, f64, f64)],
    grid: Grid,
}

impl Observer for Snapshots<'_> {
    type Block = BlockAcc;

    fn block(&self, particles: usize) -> BlockAcc {
        let ns = self.snaps;
        BlockAcc {
            n: vec![0; ns],
            s1: vec![0.0; ns],
            s2: vec![0.0; ns],
            s3: vec![0.0; ns],
            s4: vec![0.0; ns],
            regions: vec![vec![0; self.regions.len()]; ns],
            hist: vec![vec![0; self.grid.n]; ns],
            positions: vec![Vec::with_capacity(particles); ns],
        }
    }

    #[inline]
    fn snapshot(&self, acc: &mut BlockAcc, k: usize, w: f64) {
        let b = self.grid.b;
        acc.n[k] += 1;
        acc.s1[k] += w;
        acc.s2[k] += w * w;
        acc.s3[k] += w * w * w;
        acc.s4[k] += w * w * w * w;
        for (r, (_, lo, hi)) in self.regions.iter().enumerate() {
            // half-open [lo, hi), closed at the domain's right end
            if (w >= *lo && w < *hi) || (w >= *hi && *hi >= b) {
                acc.regions[k][r] += 1;
            }
        }
        let i = self.grid.locate(w);
        acc.hist[k][i] += 1;
        acc.positions[k].push(w);
    }

    fn exit(&self, _acc: &mut BlockAcc, _step: u64) {}
}

/// Simulate `settings.particles` particles of `problem`; `progress(done, total)` is
/// called as blocks finish (from worker threads). The histogram grid is the problem's
/// own choice (its `[grid]`: uniform, auto or edges) with `settings.cells` cells.
pub fn simulate(
    problem: &Problem,
    settings: &McSettings,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<McReport> {
    problem.validate()?;
    settings.check(problem)?;
    let grid = crate::space::auto::grid_for(problem, None, settings.cells)?;
    simulate_on(problem, settings, &grid, progress)
}

/// [`simulate`] with its histogram on `grid` (a grid of the problem's domain [a, b],
/// uniform or not; `settings.cells` is ignored), so that a density run and the Monte
/// Carlo share their cells exactly. A start density other than a normal is drawn from
/// its cell masses on `grid`.
pub fn simulate_on(
    problem: &Problem,
    settings: &McSettings,
    grid: &Grid,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<McReport> {
    problem.validate()?;
    let on_grid = McSettings {
        cells: grid.n,
        ..settings.clone()
    };
    let snapshots = on_grid.check(problem)?;
    let tol = 1e-12 * (problem.b - problem.a);
    if (grid.a - problem.a).abs() > tol || (grid.b - problem.b).abs() > tol {
        return Err(Error::invalid(
            "grid",
            format!("[{}, {}]", grid.a, grid.b),
            format!(
                "the histogram grid must span the problem's domain [{}, {}]",
                problem.a, problem.b
            ),
        )
        .with_origin(&problem.origin));
    }
    let grid = grid.clone();
    let t_end = whole_steps("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = whole_steps("every", settings.every.unwrap_or(problem.every))?;
    let mut snaps: Vec<u64> = Vec::with_capacity(snapshots);
    snaps.extend((0..=t_end).step_by(every as usize));
    if *snaps.last().unwrap_or(&0) != t_end {
        snaps.push(t_end);
    }
    let regions = problem.region_bounds();
    let engine = Engine {
        problem,
        mode: settings.mode,
        momentum: settings.momentum()?,
        walls: Walls::both(
            problem.a,
            problem.b,
            problem.boundary == Boundary::Absorbing,
        ),
        start: Start::of_problem(problem, &grid)?,
        particles: settings.particles,
        seed: settings.seed,
    };
    let observer = Snapshots {
        snaps: snaps.len(),
        regions: &regions,
        grid: grid.clone(),
    };
    let clock = Instant::now();
    let blocks = engine.run(&snaps, &observer, progress);
    let wall_s = clock.elapsed().as_secs_f64();
    let total = settings.particles as f64;
    let (moments, histograms) = snaps
        .iter()
        .enumerate()
        .map(|(k, &ts)| reduce(&blocks, k, ts as f64, total, &grid, regions.len()))
        .unzip();
    Ok(McReport {
        problem: problem.name.clone(),
        mode: settings.mode,
        momentum: settings.momentum,
        nesterov: settings.nesterov,
        particles: settings.particles,
        seed: settings.seed,
        steps: t_end,
        particle_steps: t_end * settings.particles as u64,
        wall_s,
        region_names: regions.iter().map(|r| r.0.clone()).collect(),
        grid,
        moments,
        histograms,
    })
}

/// The statistics of snapshot `k` (time `t`), summing the blocks in block order
/// (bit-identical at any thread count); `total` is the number of particles.
fn reduce(
    blocks: &[BlockAcc],
    k: usize,
    t: f64,
    total: f64,
    grid: &Grid,
    n_regions: usize,
) -> (McMoments, McHistogram) {
    let h = grid.widths();
    let (mut n, mut s1, mut s2, mut s3, mut s4) = (0u64, 0.0, 0.0, 0.0, 0.0);
    let mut reg = vec![0u64; n_regions];
    let mut hist = vec![0u64; grid.n];
    let mut positions = Vec::with_capacity(blocks.iter().map(|b| b.positions[k].len()).sum());
    for blk in blocks {
        positions.extend_from_slice(&blk.positions[k]);
        n += blk.n[k];
        s1 += blk.s1[k];
        s2 += blk.s2[k];
        s3 += blk.s3[k];
        s4 += blk.s4[k];
        for (r, c) in reg.iter_mut().zip(&blk.regions[k]) {
            *r += c;
        }
        for (hc, c) in hist.iter_mut().zip(&blk.hist[k]) {
            *hc += *c as u64;
        }
    }
    positions.sort_unstable_by(f64::total_cmp);
    let nf = n as f64;
    let mean = if n > 0 { s1 / nf } else { 0.0 };
    let var = if n > 1 {
        ((s2 - nf * mean * mean) / (nf - 1.0)).max(0.0)
    } else {
        0.0
    };
    // fourth central moment from the power sums (W is bounded by the domain, so
    // the cancellation costs a few digits of an error estimate, no more)
    let m4 = if n > 0 {
        let (e1, e2, e3, e4) = (mean, s2 / nf, s3 / nf, s4 / nf);
        e4 - 4.0 * e1 * e3 + 6.0 * e1 * e1 * e2 - 3.0 * e1.powi(4)
    } else {
        0.0
    };
    let sd = var.sqrt();
    let sd_se = if n > 1 && sd > 0.0 {
        ((m4 - var * var).max(0.0) / nf).sqrt() / (2.0 * sd)
    } else {
        0.0
    };
    let moments = McMoments {
        t,
        mass: nf / total,
        mean,
        sd,
        mean_se: if n > 0 { sd / nf.sqrt() } else { 0.0 },
        sd_se,
        regions: reg.iter().map(|&c| c as f64 / total).collect(),
        regions_se: reg
            .iter()
            .map(|&c| {
                let q = c as f64 / total;
                (q * (1.0 - q) / total).sqrt()
            })
            .collect(),
    };
    let histogram = McHistogram {
        t,
        p: hist
            .iter()
            .zip(&h)
            .map(|(&c, h)| c as f64 / (total * h))
            .collect(),
        se: hist
            .iter()
            .zip(&h)
            .map(|(&c, h)| (c as f64).sqrt() / (total * h))
            .collect(),
        positions,
    };
    (moments, histogram)
}
