//! Monte Carlo of SGD on a two-parameter landscape: each particle takes the step
//! w ← w − T ĝ(w), ĝ the mean gradient of a minibatch of B datapoints drawn uniformly
//! (with or without replacement), on a rectangle whose walls reflect per axis (zero
//! flux) or absorb — the process the 2-D density models (Fokker–Planck and the exact
//! transfer operator of [`crate::time::transfer::two`]) describe.
//!
//! Reproducibility is the 1-D engine's: particles are processed in blocks of
//! [`BLOCK`], block k draws from its own xoshiro256++ stream seeded from (seed, k), and
//! block results are reduced in block order, so a seed gives bit-identical results at
//! any thread count. Within a block the particles move in groups of [`LANES`], all
//! lanes taking step s before any takes step s + 1 (independent gradient evaluations
//! overlap in the processor); the draws of a group interleave in lane order. The step
//! loop is monomorphised over the landscape ([`Sgd2`]), evaluates only the sampled
//! datapoints' gradients and allocates nothing.
//!
//! At each checkpoint the engine records, per block, the count and the power sums
//! Σ1, Σw₁, Σw₂, Σw₁², Σw₁w₂, Σw₂² of the particles inside, the count in each region
//! (rectangles) and, when asked, the histogram cell of each particle; the report holds
//! the fraction inside, the mean vector with standard errors, the covariance
//! (c₁₁, c₁₂, c₂₂), region fractions with binomial standard errors and the histogram as
//! cell masses (fractions of all particles).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::montecarlo::engine::{block_rng, BLOCK};
use crate::error::{Error, Result};
use crate::model::normal::TruncatedNormal;
use crate::model::problem::Sampling;
use crate::time::transfer::two::{Cells2, Rect, Sgd2, Step2};

/// Particles stepped together within a block.
pub const LANES: usize = 8;

/// Where the particles start.
#[derive(Clone, Debug)]
pub enum Start2 {
    /// Every particle at one point (draws nothing).
    At([f64; 2]),
    /// Independent normals per axis, each truncated to the rectangle (one uniform per
    /// axis, by inverting the CDF).
    Normal([TruncatedNormal; 2]),
}

impl Start2 {
    /// Independent N(mean_ax, sd_ax²) per axis truncated to `rect`.
    pub fn normal(mean: [f64; 2], sd: [f64; 2], rect: &Rect) -> Result<Start2> {
        Ok(Start2::Normal([
            TruncatedNormal::new(mean[0], sd[0], rect.lo[0], rect.hi[0])?,
            TruncatedNormal::new(mean[1], sd[1], rect.lo[1], rect.hi[1])?,
        ]))
    }

    #[inline]
    fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> [f64; 2] {
        match self {
            Start2::At(w) => *w,
            Start2::Normal([a, b]) => {
                let u1: f64 = rng.random();
                let u2: f64 = rng.random();
                [a.quantile(u1), b.quantile(u2)]
            }
        }
    }
}

/// Settings of a 2-D Monte Carlo run.
#[derive(Clone, Debug)]
pub struct Mc2Settings {
    /// Number of particles (≥ 1).
    pub particles: usize,
    /// Seed of the block generators.
    pub seed: u64,
    /// Snapshot times in whole steps, strictly increasing (0 is the start).
    pub checkpoints: Vec<u64>,
    /// Grid of the histogram (none: no histogram).
    pub histogram: Option<Cells2>,
    /// Regions whose particle fractions are recorded (e.g. a basin).
    pub regions: Vec<Rect>,
}

/// The particles at one snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct Mc2Snapshot {
    /// Time (steps).
    pub t: f64,
    /// Fraction of particles still inside.
    pub mass: f64,
    /// Mean vector of the particles inside.
    pub mean: [f64; 2],
    /// Standard errors of the mean.
    pub mean_se: [f64; 2],
    /// Covariance (c₁₁, c₁₂, c₂₂) of the particles inside.
    pub cov: [f64; 3],
    /// Fraction of all particles in each region.
    pub regions: Vec<f64>,
    /// Binomial standard errors of the region fractions.
    pub regions_se: Vec<f64>,
}

/// Result of a 2-D Monte Carlo run.
#[derive(Clone, Debug, Serialize)]
pub struct Mc2Report {
    /// Particles.
    pub particles: usize,
    /// Seed.
    pub seed: u64,
    /// One record per checkpoint.
    pub snapshots: Vec<Mc2Snapshot>,
    /// Per checkpoint, the fraction of all particles in each histogram cell (empty
    /// without a histogram grid).
    #[serde(skip)]
    pub histograms: Vec<Vec<f64>>,
    /// Particle steps taken (a particle that left stops counting).
    pub particle_steps: u64,
    /// Wall-clock seconds of the run.
    pub wall_s: f64,
}

/// Per-block record: power sums and region counts per checkpoint, histogram cells.
struct Block {
    sums: Vec<[f64; 6]>,
    regions: Vec<u64>,
    cells: Vec<Vec<u32>>,
    steps: u64,
}

/// ĝ of SGD: the mean gradient of a minibatch drawn from the block's stream.
struct Sampler<'a, L: Sgd2> {
    land: &'a L,
    n: usize,
    batch: usize,
    without: bool,
    chosen: Vec<usize>,
}

impl<L: Sgd2> Sampler<'_, L> {
    #[inline]
    fn grad(&mut self, rng: &mut Xoshiro256PlusPlus, w: [f64; 2]) -> [f64; 2] {
        if self.batch == 1 {
            return self.land.grad(rng.random_range(0..self.n), w);
        }
        let mut s = [0.0; 2];
        if self.without {
            self.chosen.clear();
            while self.chosen.len() < self.batch {
                let j = rng.random_range(0..self.n);
                if !self.chosen.contains(&j) {
                    self.chosen.push(j);
                    let g = self.land.grad(j, w);
                    s = [s[0] + g[0], s[1] + g[1]];
                }
            }
        } else {
            for _ in 0..self.batch {
                let g = self.land.grad(rng.random_range(0..self.n), w);
                s = [s[0] + g[0], s[1] + g[1]];
            }
        }
        let b = self.batch as f64;
        [s[0] / b, s[1] / b]
    }
}

/// Check the settings against the landscape and the step rule.
fn check<L: Sgd2>(land: &L, step: &Step2, s: &Mc2Settings) -> Result<()> {
    crate::limits::particles(s.particles).map_err(|e| e.with_origin("--particles"))?;
    crate::error::positive("lr", step.lr)?;
    let n = land.datapoints();
    if n == 0 || step.batch == 0 {
        return Err(Error::invalid(
            "batch",
            step.batch,
            format!("need B >= 1 and at least one datapoint (n = {n})"),
        ));
    }
    if step.sampling == Sampling::WithoutReplacement && step.batch > n {
        return Err(Error::invalid(
            "batch",
            step.batch,
            format!("without replacement the batch cannot exceed the {n} datapoints"),
        ));
    }
    if s.checkpoints.is_empty() || s.checkpoints.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::invalid(
            "checkpoints",
            format!("{:?}", s.checkpoints),
            "need at least one, strictly increasing",
        ));
    }
    let last = *s.checkpoints.last().unwrap_or(&0) as f64;
    if last > crate::limits::MAX_STEPS {
        return Err(Error::invalid("t_end", last, "too many steps"));
    }
    Ok(())
}

/// Run SGD on `land` with `step` from `start` through `settings.checkpoints`;
/// `progress(done, total)` is called as blocks finish. Bit-identical for a seed at any
/// thread count.
pub fn simulate_2d<L: Sgd2>(
    land: &L,
    step: &Step2,
    start: &Start2,
    settings: &Mc2Settings,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Mc2Report> {
    check(land, step, settings)?;
    let clock = Instant::now();
    let n_blocks = settings.particles.div_ceil(BLOCK);
    let done = AtomicUsize::new(0);
    let blocks: Vec<Block> = (0..n_blocks)
        .into_par_iter()
        .map(|blk| {
            let count = BLOCK.min(settings.particles - blk * BLOCK);
            let b = run_block(land, step, start, settings, blk, count);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, n_blocks);
            b
        })
        .collect();
    Ok(reduce(settings, &blocks, clock.elapsed().as_secs_f64()))
}

/// The particles of one block, LANES at a time, from the block's own stream.
fn run_block<L: Sgd2>(
    land: &L,
    step: &Step2,
    start: &Start2,
    s: &Mc2Settings,
    blk: usize,
    count: usize,
) -> Block {
    let mut rng = block_rng(s.seed, blk);
    let k = s.checkpoints.len();
    let mut rec = Block {
        sums: vec![[0.0; 6]; k],
        regions: vec![0; k * s.regions.len()],
        cells: vec![Vec::new(); if s.histogram.is_some() { k } else { 0 }],
        steps: 0,
    };
    let mut sampler = Sampler {
        land,
        n: land.datapoints(),
        batch: step.batch,
        without: step.sampling == Sampling::WithoutReplacement,
        chosen: Vec::with_capacity(step.batch),
    };
    let (lr, rect, absorbing) = (step.lr, step.rect, step.absorbing);
    let mut first = 0;
    while first < count {
        let m = LANES.min(count - first);
        let mut w = [[0.0f64; 2]; LANES];
        let mut alive = [false; LANES];
        for l in 0..m {
            w[l] = start.draw(&mut rng);
            alive[l] = true;
        }
        let mut t = 0u64;
        for (c, &until) in s.checkpoints.iter().enumerate() {
            while t < until {
                for l in 0..m {
                    if !alive[l] {
                        continue;
                    }
                    let g = sampler.grad(&mut rng, w[l]);
                    rec.steps += 1;
                    match rect.settle([w[l][0] - lr * g[0], w[l][1] - lr * g[1]], absorbing) {
                        Some(v) => w[l] = v,
                        None => alive[l] = false,
                    }
                }
                t += 1;
            }
            for l in (0..m).filter(|&l| alive[l]) {
                record(&mut rec, s, c, w[l]);
            }
        }
        first += m;
    }
    rec
}

/// Add one particle at `w` to checkpoint `c` of the block record.
#[inline]
fn record(rec: &mut Block, s: &Mc2Settings, c: usize, w: [f64; 2]) {
    let e = &mut rec.sums[c];
    e[0] += 1.0;
    e[1] += w[0];
    e[2] += w[1];
    e[3] += w[0] * w[0];
    e[4] += w[0] * w[1];
    e[5] += w[1] * w[1];
    let nr = s.regions.len();
    for (r, region) in s.regions.iter().enumerate() {
        if region.contains(w) {
            rec.regions[c * nr + r] += 1;
        }
    }
    if let Some(grid) = &s.histogram {
        rec.cells[c].push(grid.cell_of(w) as u32);
    }
}

/// Sum the block records in block order into the report.
fn reduce(s: &Mc2Settings, blocks: &[Block], wall_s: f64) -> Mc2Report {
    let k = s.checkpoints.len();
    let nr = s.regions.len();
    let total = s.particles as f64;
    let mut snapshots = Vec::with_capacity(k);
    for c in 0..k {
        let mut e = [0.0; 6];
        let mut reg = vec![0u64; nr];
        for b in blocks {
            for (x, y) in e.iter_mut().zip(&b.sums[c]) {
                *x += y;
            }
            for (x, y) in reg.iter_mut().zip(&b.regions[c * nr..(c + 1) * nr]) {
                *x += y;
            }
        }
        snapshots.push(snapshot(s.checkpoints[c] as f64, &e, &reg, total));
    }
    let histograms = match &s.histogram {
        None => Vec::new(),
        Some(grid) => (0..k)
            .map(|c| {
                let mut h = vec![0.0; grid.len()];
                for i in blocks.iter().flat_map(|b| &b.cells[c]) {
                    h[*i as usize] += 1.0;
                }
                h.iter_mut().for_each(|v| *v /= total);
                h
            })
            .collect(),
    };
    Mc2Report {
        particles: s.particles,
        seed: s.seed,
        snapshots,
        histograms,
        particle_steps: blocks.iter().map(|b| b.steps).sum(),
        wall_s,
    }
}

/// One snapshot from the summed power sums `e` and region counts.
fn snapshot(t: f64, e: &[f64; 6], reg: &[u64], total: f64) -> Mc2Snapshot {
    let n = e[0];
    let (m1, m2) = (e[1] / n, e[2] / n);
    let cov = [e[3] / n - m1 * m1, e[4] / n - m1 * m2, e[5] / n - m2 * m2];
    let se = |v: f64| (v.max(0.0) / n).sqrt();
    let frac: Vec<f64> = reg.iter().map(|&r| r as f64 / total).collect();
    Mc2Snapshot {
        t,
        mass: n / total,
        mean: [m1, m2],
        mean_se: [se(cov[0]), se(cov[2])],
        cov,
        regions_se: frac
            .iter()
            .map(|f| (f * (1.0 - f) / total).sqrt())
            .collect(),
        regions: frac,
    }
}
