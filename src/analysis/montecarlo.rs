//! Monte Carlo of the actual discrete process, for checking the density models.
//!
//! Each particle takes the SGD step W ← W − T ĝ(W), with ĝ the mean gradient of a
//! minibatch of B datapoints drawn uniformly (with or without replacement), as in
//! DESIGN §1; plain gradient descent W ← W − T G(W); or the Gaussian-kick model
//! W ← W − T G(W) + √(2D(W)) ξ with ξ ~ N(0, 1) — the per-step diffusion approximation,
//! which separates modelling error from sampling error. Walls reflect (zero flux) or
//! absorb (the particle is removed and counted).
//!
//! Reproducibility: particles are processed in fixed blocks, each with its own
//! generator seeded from (seed, block index), and block results are reduced in block
//! order, so the same seed gives bit-identical statistics at any thread count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::problem::{initial_density, Boundary, Initial, Problem, Sampling};
use crate::space::grid::Grid;

/// Which discrete process the particles follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum McMode {
    /// Minibatch SGD (default).
    Sgd,
    /// Full-batch gradient descent (deterministic given the start).
    Gd,
    /// Drift −T G plus a normal kick of variance 2D = T² S² f (the diffusion approximation).
    Gaussian,
}

impl McMode {
    /// Parse `sgd`, `gd` or `gaussian`.
    pub fn parse(s: &str) -> Result<McMode> {
        match s {
            "sgd" => Ok(McMode::Sgd),
            "gd" => Ok(McMode::Gd),
            "gaussian" => Ok(McMode::Gaussian),
            _ => Err(Error::UnknownName {
                kind: "Monte Carlo mode".into(),
                name: s.into(),
                known: "sgd, gd, gaussian".into(),
            }),
        }
    }
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            McMode::Sgd => "sgd",
            McMode::Gd => "gd",
            McMode::Gaussian => "gaussian",
        }
    }
}

/// Settings of a Monte Carlo run.
#[derive(Clone, Debug)]
pub struct McSettings {
    /// Number of particles (default 100 000).
    pub particles: usize,
    /// Seed of the generators (default 1).
    pub seed: u64,
    /// Process (default SGD).
    pub mode: McMode,
    /// Final step; `None` takes the problem's t_end (must be a whole number of steps).
    pub t_end: Option<f64>,
    /// Snapshot interval in steps; `None` takes the problem's (a whole number).
    pub every: Option<f64>,
    /// Cells of the histogram grid (default 600, the solver's usual grid).
    pub cells: usize,
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
}

/// Result of a Monte Carlo run.
#[derive(Clone, Debug, Serialize)]
pub struct McReport {
    /// Problem name.
    pub problem: String,
    /// Process.
    pub mode: McMode,
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
    /// Histograms per snapshot (not serialised).
    #[serde(skip)]
    pub histograms: Vec<McHistogram>,
}

/// The per-step gradient estimate ĝ(W) of one process (the step is W ← W − T ĝ):
/// a minibatch mean for SGD, G for gradient descent, G plus a normal kick of variance
/// 2D/T² for the Gaussian-kick model. Shared by every Monte Carlo in the crate.
pub struct StepRule<'a> {
    problem: &'a Problem,
    mode: McMode,
    without: bool,
    chosen: Vec<usize>,
}

impl<'a> StepRule<'a> {
    /// The rule of `mode` on `problem` (sampling and batch size from the problem).
    pub fn new(problem: &'a Problem, mode: McMode) -> Self {
        StepRule {
            problem,
            mode,
            without: problem.sampling == Sampling::WithoutReplacement,
            chosen: Vec::with_capacity(problem.batch),
        }
    }

    /// ĝ at `w`, drawing what the process needs from `rng`.
    #[inline]
    pub fn gradient(&mut self, rng: &mut Xoshiro256PlusPlus, w: f64) -> f64 {
        let land = &self.problem.landscape;
        let n = land.len();
        let batch = self.problem.batch;
        match self.mode {
            McMode::Gd => land.g_s2(w).0,
            McMode::Gaussian => {
                let (g, d) = self.problem.drift_diffusion(w);
                let z: f64 = rng.sample(StandardNormal);
                g - (2.0 * d).sqrt() / self.problem.lr * z
            }
            McMode::Sgd if batch == 1 => land.grad(rng.random_range(0..n), w),
            McMode::Sgd => {
                let mut s = 0.0;
                if self.without {
                    self.chosen.clear();
                    while self.chosen.len() < batch {
                        let j = rng.random_range(0..n);
                        if !self.chosen.contains(&j) {
                            self.chosen.push(j);
                            s += land.grad(j, w);
                        }
                    }
                } else {
                    for _ in 0..batch {
                        s += land.grad(rng.random_range(0..n), w);
                    }
                }
                s / batch as f64
            }
        }
    }
}

/// Block size: particles per generator stream (fixed, so results do not depend on
/// the thread count).
pub const BLOCK: usize = 2048;

/// Per-block accumulators at each snapshot.
#[derive(Clone)]
struct BlockAcc {
    n: Vec<u64>,
    s1: Vec<f64>,
    s2: Vec<f64>,
    s3: Vec<f64>,
    s4: Vec<f64>,
    regions: Vec<Vec<u64>>,
    hist: Vec<Vec<u32>>,
}

/// A time counted in whole SGD steps (an integer ≥ 1), as Monte Carlo and the
/// discrete-time transfer models need; the error names the setting and the value.
pub fn whole_steps(what: &str, v: f64) -> Result<u64> {
    if v.is_finite() && v >= 1.0 && (v - v.round()).abs() < 1e-9 {
        Ok(v.round() as u64)
    } else {
        Err(Error::invalid(
            what,
            v,
            "discrete-time processes count time in whole SGD steps: give an integer >= 1",
        ))
    }
}

/// Reflect `w` into [a, b] (repeatedly, for jumps longer than the domain).
#[inline]
pub fn reflect(mut w: f64, a: f64, b: f64) -> f64 {
    let len = b - a;
    if w < a || w > b {
        // fold with period 2·len
        let mut u = (w - a).rem_euclid(2.0 * len);
        if u > len {
            u = 2.0 * len - u;
        }
        w = a + u;
    }
    w
}

/// Simulate `settings.particles` particles of `problem`; `progress(done, total)` is
/// called as blocks finish (from worker threads).
pub fn simulate(
    problem: &Problem,
    settings: &McSettings,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<McReport> {
    problem.validate()?;
    if settings.particles == 0 {
        return Err(Error::invalid("particles", 0, "need at least one particle"));
    }
    let t_end = whole_steps("t_end", settings.t_end.unwrap_or(problem.t_end))?;
    let every = whole_steps("every", settings.every.unwrap_or(problem.every))?;
    if settings.mode == McMode::Sgd
        && ((problem.noise_scale - 1.0).abs() > 0.0 || problem.noise_floor > 0.0)
    {
        return Err(Error::invalid(
            "mode",
            "sgd",
            format!(
                "problem `{}` modifies S² (noise_scale = {}, noise_floor = {}), which minibatch \
                 sampling cannot represent: use mode gd (S² = 0) or gaussian",
                problem.name, problem.noise_scale, problem.noise_floor
            ),
        ));
    }
    let grid = Grid::new(problem.a, problem.b, settings.cells)?;
    let mut snaps: Vec<u64> = (0..=t_end).step_by(every as usize).collect();
    if *snaps.last().unwrap_or(&0) != t_end {
        snaps.push(t_end);
    }
    let regions = problem.region_bounds();
    let init = initial_density(problem, &grid)?;
    // cumulative distribution of the cell masses, for sampling non-normal starts
    let mut cdf = Vec::with_capacity(grid.n);
    let mut acc = 0.0;
    for v in &init {
        acc += v * grid.h();
        cdf.push(acc);
    }
    let n_blocks = settings.particles.div_ceil(BLOCK);
    let done = AtomicUsize::new(0);
    let clock = Instant::now();
    let (a, b, lr) = (problem.a, problem.b, problem.lr);
    let absorbing = problem.boundary == Boundary::Absorbing;
    let h = grid.h();
    let blocks: Vec<BlockAcc> = (0..n_blocks)
        .into_par_iter()
        .map(|blk| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                settings.seed ^ (blk as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let count = BLOCK.min(settings.particles - blk * BLOCK);
            let ns = snaps.len();
            let mut acc = BlockAcc {
                n: vec![0; ns],
                s1: vec![0.0; ns],
                s2: vec![0.0; ns],
                s3: vec![0.0; ns],
                s4: vec![0.0; ns],
                regions: vec![vec![0; regions.len()]; ns],
                hist: vec![vec![0; grid.n]; ns],
            };
            let mut rule = StepRule::new(problem, settings.mode);
            for _ in 0..count {
                // initial position
                let mut w = match &problem.initial {
                    Initial::Normal { mean, sd } => loop {
                        let z: f64 = rng.sample(StandardNormal);
                        let w = mean + sd * z;
                        if (a..=b).contains(&w) {
                            break w;
                        }
                    },
                    _ => {
                        let u: f64 = rng.random::<f64>() * acc_total(&cdf);
                        let i = cdf.partition_point(|&c| c < u).min(grid.n - 1);
                        grid.face(i) + h * rng.random::<f64>()
                    }
                };
                let mut alive = true;
                let mut step = 0u64;
                for (k, &ts) in snaps.iter().enumerate() {
                    while alive && step < ts {
                        let g = rule.gradient(&mut rng, w);
                        w -= lr * g;
                        if !(a..=b).contains(&w) {
                            if absorbing || !w.is_finite() {
                                alive = false;
                            } else {
                                w = reflect(w, a, b);
                            }
                        }
                        step += 1;
                    }
                    if alive {
                        acc.n[k] += 1;
                        acc.s1[k] += w;
                        acc.s2[k] += w * w;
                        acc.s3[k] += w * w * w;
                        acc.s4[k] += w * w * w * w;
                        for (r, (_, lo, hi)) in regions.iter().enumerate() {
                            // half-open [lo, hi), closed at the domain's right end
                            if (w >= *lo && w < *hi) || (w >= *hi && *hi >= b) {
                                acc.regions[k][r] += 1;
                            }
                        }
                        let i = (((w - a) / h) as usize).min(grid.n - 1);
                        acc.hist[k][i] += 1;
                    }
                }
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, n_blocks);
            acc
        })
        .collect();
    let wall_s = clock.elapsed().as_secs_f64();
    let total = settings.particles as f64;
    let mut moments = Vec::with_capacity(snaps.len());
    let mut histograms = Vec::with_capacity(snaps.len());
    for (k, &ts) in snaps.iter().enumerate() {
        // reduce in block order: bit-identical at any thread count
        let (mut n, mut s1, mut s2, mut s3, mut s4) = (0u64, 0.0, 0.0, 0.0, 0.0);
        let mut reg = vec![0u64; regions.len()];
        let mut hist = vec![0u64; grid.n];
        for blk in &blocks {
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
        moments.push(McMoments {
            t: ts as f64,
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
        });
        histograms.push(McHistogram {
            t: ts as f64,
            p: hist.iter().map(|&c| c as f64 / (total * h)).collect(),
            se: hist
                .iter()
                .map(|&c| (c as f64).sqrt() / (total * h))
                .collect(),
        });
    }
    Ok(McReport {
        problem: problem.name.clone(),
        mode: settings.mode,
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

fn acc_total(cdf: &[f64]) -> f64 {
    cdf.last().copied().unwrap_or(1.0)
}

/// Write `moments.csv` (`t,mass,mean,sd,mass_<region>...,mean_se,sd_se,mass_<region>_se...`)
/// and `histogram.csv` (`t,w,p,p_se`) into `dir`.
pub fn write_mc(report: &McReport, dir: &std::path::Path) -> Result<()> {
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut s = String::from("t,mass,mean,sd");
    for r in &report.region_names {
        s += &format!(",mass_{r}");
    }
    s += ",mean_se,sd_se";
    for r in &report.region_names {
        s += &format!(",mass_{r}_se");
    }
    s.push('\n');
    for m in &report.moments {
        let mut row = vec![m.t, m.mass, m.mean, m.sd];
        row.extend(&m.regions);
        row.push(m.mean_se);
        row.push(m.sd_se);
        row.extend(&m.regions_se);
        s += &row
            .iter()
            .map(|v| format!("{v:.10e}"))
            .collect::<Vec<_>>()
            .join(",");
        s.push('\n');
    }
    let p = dir.join("moments.csv");
    std::fs::write(&p, s).map_err(io(&p))?;
    let mut s = String::from("t,w,p,p_se\n");
    for hgm in &report.histograms {
        for i in 0..report.grid.n {
            s += &format!(
                "{},{:.10e},{:.10e},{:.10e}\n",
                hgm.t,
                report.grid.centre(i),
                hgm.p[i],
                hgm.se[i]
            );
        }
    }
    let p = dir.join("histogram.csv");
    std::fs::write(&p, s).map_err(io(&p))?;
    let p = dir.join("mc.json");
    let js = serde_json::to_string_pretty(report).map_err(|e| Error::Malformed {
        path: p.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&p, js + "\n").map_err(io(&p))
}
