//! The particle engine: blocks, threads, seeding and the step loop, shared by every
//! Monte Carlo of the discrete process.
//!
//! Particles are split into blocks of [`BLOCK`]; block `k` draws from its own
//! xoshiro256++ generator seeded with `seed ^ k·0x9E3779B97F4A7C15` (the golden-ratio
//! constant spreads neighbouring block indices over the seed space). Blocks run in
//! parallel and come back in block order, so any reduction that walks them in order is
//! bit-identical at any thread count. Within a block each particle draws its start
//! ([`Start`]), then steps W ← W − T ĝ(W) ([`StepRule`]) with the walls applied after
//! every step ([`Walls`]), and is shown to the [`Observer`] at each checkpoint it is
//! still inside for, or on the step it leaves. The observer is a type parameter, so the
//! step loop is monomorphised: no dynamic dispatch per particle step.

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::analysis::montecarlo::lanes::{self, Gradients};
use crate::analysis::montecarlo::step::{McMode, StepRule};
use crate::error::Result;
use crate::model::landscape::Form;
use crate::model::normal::TruncatedNormal;
use crate::model::problem::{Initial, Problem, Sampling};
use crate::space::grid::Grid;
use crate::space::initial::initial_density;

/// Block size: particles per generator stream (fixed, so results do not depend on
/// the thread count).
pub const BLOCK: usize = 2048;

/// Group size: particles of a block moved in lock step, one step of all of them at a
/// time, so that per-step work (the schedule, the choice of gradient evaluator) is
/// shared and the gradient loop runs over arrays the compiler vectorises.
pub const GROUP: usize = 256;

/// The generator of block `blk` for `seed`.
pub fn block_rng(seed: u64, blk: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ (blk as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

pub use crate::time::transfer::reflect;

/// What a wall does to a particle that steps past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wall {
    /// Mirror it back into the domain (zero flux).
    Reflect,
    /// Remove it (it has left; the observer is told on which step).
    Absorb,
}

/// The interval [a, b] the particles live in and what its walls do. A particle exactly
/// on a wall is inside; a non-finite position always leaves.
#[derive(Clone, Copy, Debug)]
pub struct Walls {
    /// Left wall.
    pub a: f64,
    /// Right wall.
    pub b: f64,
    /// Behaviour at `a`.
    pub left: Wall,
    /// Behaviour at `b`.
    pub right: Wall,
}

impl Walls {
    /// Both walls alike: reflecting, or absorbing when `absorbing`.
    pub fn both(a: f64, b: f64, absorbing: bool) -> Walls {
        let w = if absorbing {
            Wall::Absorb
        } else {
            Wall::Reflect
        };
        Walls {
            a,
            b,
            left: w,
            right: w,
        }
    }

    /// The position after the walls act on a step to `w`; `None` when the particle left.
    /// With two reflecting walls a long jump is folded ([`reflect`]); with one reflecting
    /// and one absorbing wall it is mirrored once and absorbed if that lands past the
    /// absorbing wall.
    #[inline]
    pub fn settle(&self, w: f64) -> Option<f64> {
        let (a, b) = (self.a, self.b);
        if (a..=b).contains(&w) {
            return Some(w);
        }
        if !w.is_finite() {
            return None;
        }
        let past = if w < a { self.left } else { self.right };
        match (past, self.left, self.right) {
            (Wall::Absorb, _, _) => None,
            (Wall::Reflect, Wall::Reflect, Wall::Reflect) => Some(reflect(w, a, b)),
            (Wall::Reflect, _, _) => {
                let m = if w < a { 2.0 * a - w } else { 2.0 * b - w };
                (a..=b).contains(&m).then_some(m)
            }
        }
    }
}

/// Where the particles start.
#[derive(Clone, Debug)]
pub enum Start {
    /// Every particle at one point (draws nothing).
    At(f64),
    /// A normal density truncated to [a, b], drawn by inverting its CDF (one uniform
    /// per draw, however little of the normal lies inside).
    Normal(TruncatedNormal),
    /// Cell masses on a grid: a cell by its cumulative mass, then uniform within it.
    Cells {
        /// The grid.
        grid: Grid,
        /// Cumulative cell masses.
        cdf: Vec<f64>,
    },
}

impl Start {
    /// The problem's initial density: exact truncated normal draws for
    /// [`Initial::Normal`], otherwise the cell masses of the density on `grid`.
    /// Errors as [`initial_density`] does.
    pub fn of_problem(problem: &Problem, grid: &Grid) -> Result<Start> {
        let init = initial_density(problem, grid)?;
        if let Initial::Normal { mean, sd } = problem.initial {
            let t = TruncatedNormal::new(mean, sd, problem.a, problem.b)
                .map_err(|e| e.with_origin(&problem.origin))?;
            return Ok(Start::Normal(t));
        }
        let mut cdf = Vec::with_capacity(grid.n);
        let mut acc = 0.0;
        for (i, v) in init.iter().enumerate() {
            acc += v * grid.width(i);
            cdf.push(acc);
        }
        Ok(Start::Cells {
            grid: grid.clone(),
            cdf,
        })
    }

    /// One starting position.
    #[inline]
    fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        match self {
            Start::At(w) => *w,
            Start::Normal(t) => t.quantile(rng.random::<f64>()),
            Start::Cells { grid, cdf } => {
                let total = cdf.last().copied().unwrap_or(1.0);
                let u: f64 = rng.random::<f64>() * total;
                let i = cdf.partition_point(|&c| c < u).min(grid.n - 1);
                grid.face(i) + grid.width(i) * rng.random::<f64>()
            }
        }
    }
}

/// What the engine shows an observer. Each block fills its own record, in particle
/// order; the caller gets the records back in block order and reduces them.
pub trait Observer: Sync {
    /// The per-block record.
    type Block: Send;
    /// An empty record for a block of `particles` particles.
    fn block(&self, particles: usize) -> Self::Block;
    /// A particle still inside at checkpoint `k`, at `w`.
    fn snapshot(&self, block: &mut Self::Block, k: usize, w: f64);
    /// A particle that left (absorbed, or a non-finite position) on step `step`.
    fn exit(&self, block: &mut Self::Block, step: u64);
}

/// Heavy-ball momentum: v ← β v − T ĝ(W), W ← W + v, with ĝ taken at W + β v when
/// `nesterov` (Polyak, 1964; Nesterov, 1983; in this form Sutskever et al., "On the
/// importance of initialization and momentum in deep learning", 2013). Velocities start
/// at 0. A particle a wall acts on is placed where plain SGD would put it (mirrored at a
/// reflecting wall, removed at an absorbing one) and its velocity is set to 0: the wall
/// is inelastic, it takes the momentum and keeps no memory of the hit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momentum {
    /// β in [0, 1).
    pub beta: f64,
    /// Take the gradient at the look-ahead point W + β v.
    pub nesterov: bool,
}

/// One Monte Carlo experiment: the process, the walls, the start and the particles.
pub struct Engine<'a> {
    /// The problem (landscape, learning rate, batch, sampling, schedules).
    pub problem: &'a Problem,
    /// The process.
    pub mode: McMode,
    /// Heavy-ball momentum; `None` is plain W ← W − T ĝ.
    pub momentum: Option<Momentum>,
    /// The domain and its walls.
    pub walls: Walls,
    /// Where particles start.
    pub start: Start,
    /// Number of particles.
    pub particles: usize,
    /// Seed of the block generators.
    pub seed: u64,
}

/// The working arrays of one group of particles (structure of arrays).
struct Group {
    /// Positions.
    w: Vec<f64>,
    /// Velocities (momentum only).
    v: Vec<f64>,
    /// Where the gradient is taken with Nesterov (W + β v; otherwise W itself is used).
    at: Vec<f64>,
    /// ĝ per particle.
    g: Vec<f64>,
    /// Drawn datapoint per particle.
    j: Vec<u32>,
    /// Still inside.
    alive: Vec<bool>,
}

impl Engine<'_> {
    /// Move every particle through the increasing step counts `checkpoints`, showing
    /// it to `observer` at each checkpoint it is inside for and on the step it leaves
    /// (after which it is not followed). `progress(done, total)` is called as blocks
    /// finish (from worker threads). Returns the block records in block order.
    pub fn run<O: Observer>(
        &self,
        checkpoints: &[u64],
        observer: &O,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Vec<O::Block> {
        let land = &*self.problem.landscape;
        let bulk = self.mode == McMode::Sgd && self.problem.sampling == Sampling::WithReplacement;
        match (bulk, land.form()) {
            (true, Some(Form::Seed { k })) => {
                self.blocks(checkpoints, observer, progress, Some(&lanes::Seed { k }))
            }
            (true, Some(Form::Ou { c, m, a })) => self.blocks(
                checkpoints,
                observer,
                progress,
                Some(&lanes::Ou { c, m, a }),
            ),
            (true, Some(Form::Spreading { a })) => self.blocks(
                checkpoints,
                observer,
                progress,
                Some(&lanes::Spreading { a }),
            ),
            (true, Some(Form::VanishingNoise)) => self.blocks(
                checkpoints,
                observer,
                progress,
                Some(&lanes::VanishingNoise),
            ),
            (true, None) => {
                self.blocks(checkpoints, observer, progress, Some(&lanes::Dynamic(land)))
            }
            (false, _) => self.blocks::<O, lanes::Dynamic>(checkpoints, observer, progress, None),
        }
    }

    /// [`Engine::run`] with the gradients of SGD with replacement from `bulk` (every
    /// other process through [`StepRule`] per particle).
    fn blocks<O: Observer, G: Gradients + Sync>(
        &self,
        checkpoints: &[u64],
        observer: &O,
        progress: &(dyn Fn(usize, usize) + Sync),
        bulk: Option<&G>,
    ) -> Vec<O::Block> {
        let n_blocks = self.particles.div_ceil(BLOCK);
        let done = AtomicUsize::new(0);
        (0..n_blocks)
            .into_par_iter()
            .map(|blk| {
                let count = BLOCK.min(self.particles - blk * BLOCK);
                let record = self.run_block(blk, count, checkpoints, observer, bulk);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, n_blocks);
                record
            })
            .collect()
    }

    /// The particles of one block, in groups of [`GROUP`] moved in lock step, each
    /// particle slot (lane) with its own generator seeded from the block's.
    fn run_block<O: Observer, G: Gradients>(
        &self,
        blk: usize,
        count: usize,
        checkpoints: &[u64],
        observer: &O,
        bulk: Option<&G>,
    ) -> O::Block {
        let mut seeder = block_rng(self.seed, blk);
        let mut record = observer.block(count);
        let lanes = GROUP.min(count);
        let mut rngs: Vec<Xoshiro256PlusPlus> = (0..lanes)
            .map(|_| Xoshiro256PlusPlus::seed_from_u64(seeder.next_u64()))
            .collect();
        let mut group = Group {
            w: vec![0.0; lanes],
            v: vec![0.0; lanes],
            at: vec![0.0; lanes],
            g: vec![0.0; lanes],
            j: vec![0; lanes],
            alive: vec![false; lanes],
        };
        let mut rule = StepRule::new(self.problem, self.mode);
        for first in (0..count).step_by(GROUP) {
            let m = GROUP.min(count - first);
            let mut lane = Lane {
                rngs: &mut rngs[..m],
                indices: &mut seeder,
                group: &mut group,
                rule: &mut rule,
                bulk,
            };
            self.run_group(&mut lane, m, checkpoints, observer, &mut record);
        }
        record
    }

    /// `m` particles in lock step through the checkpoints, compiled for AVX-512 or
    /// AVX2 (each with FMA) when the processor has them (the same IEEE operations on
    /// every path, fused multiply-adds only where written: bit-identical results).
    fn run_group<O: Observer, G: Gradients>(
        &self,
        lane: &mut Lane<'_, '_, G>,
        m: usize,
        checkpoints: &[u64],
        observer: &O,
        record: &mut O::Block,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: only requires AVX-512F and FMA, detected just above.
            return unsafe { self.group_avx512(lane, m, checkpoints, observer, record) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: only requires AVX2 and FMA, detected just above.
            return unsafe { self.group_avx2(lane, m, checkpoints, observer, record) };
        }
        self.group(lane, m, checkpoints, observer, record);
    }

    /// [`Engine::group`] compiled with AVX-512F and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn group_avx512<O: Observer, G: Gradients>(
        &self,
        lane: &mut Lane<'_, '_, G>,
        m: usize,
        checkpoints: &[u64],
        observer: &O,
        record: &mut O::Block,
    ) {
        self.group(lane, m, checkpoints, observer, record);
    }

    /// [`Engine::group`] compiled with AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn group_avx2<O: Observer, G: Gradients>(
        &self,
        lane: &mut Lane<'_, '_, G>,
        m: usize,
        checkpoints: &[u64],
        observer: &O,
        record: &mut O::Block,
    ) {
        self.group(lane, m, checkpoints, observer, record);
    }

    /// The body of [`Engine::run_group`].
    #[inline(always)]
    fn group<O: Observer, G: Gradients>(
        &self,
        lane: &mut Lane<'_, '_, G>,
        m: usize,
        checkpoints: &[u64],
        observer: &O,
        record: &mut O::Block,
    ) {
        for l in 0..m {
            lane.group.w[l] = self.start.draw(&mut lane.rngs[l]);
            lane.group.v[l] = 0.0;
            lane.group.alive[l] = true;
        }
        let (lr0, b0) = (self.problem.lr, self.problem.batch);
        let schedule = &self.problem.schedule;
        let constant = schedule.is_constant();
        let mut alive = m;
        let mut step = 0u64;
        for (k, &until) in checkpoints.iter().enumerate() {
            while step < until && alive > 0 {
                // step k (from W_k to W_{k+1}) uses T(k) and B(k)
                let (lr, batch) = if constant {
                    (lr0, b0)
                } else {
                    let t = step as f64;
                    (schedule.lr(lr0, t), schedule.batch(b0, t))
                };
                lane.gradients(self.momentum, m, batch);
                step += 1;
                if !self.advance(lane.group, m, lr) {
                    alive -= self.settle(lane.group, m, step, observer, record);
                }
            }
            let gr = &lane.group;
            for l in (0..m).filter(|&l| gr.alive[l]) {
                observer.snapshot(record, k, gr.w[l]);
            }
        }
    }

    /// One step of the positions (and velocities) from the gradients in `gr.g`;
    /// whether every new position is inside the walls.
    #[inline(always)]
    fn advance(&self, gr: &mut Group, m: usize, lr: f64) -> bool {
        let (w, v, g) = (&mut gr.w[..m], &mut gr.v[..m], &gr.g[..m]);
        match self.momentum {
            None => {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w -= lr * g;
                }
            }
            Some(Momentum { beta, .. }) => {
                for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
                    *v = beta * *v - lr * g;
                    *w += *v;
                }
            }
        }
        let (a, b) = (self.walls.a, self.walls.b);
        w.iter().fold(true, |ok, &x| ok & (x >= a) & (x <= b))
    }

    /// Apply the walls lane by lane after a step that took someone outside; a particle
    /// that leaves is shown to the observer and parked (at the left wall, velocity 0,
    /// no longer followed). Returns how many left.
    fn settle<O: Observer>(
        &self,
        gr: &mut Group,
        m: usize,
        step: u64,
        observer: &O,
        record: &mut O::Block,
    ) -> usize {
        let mut left = 0;
        for l in 0..m {
            let w = gr.w[l];
            if !gr.alive[l] {
                gr.w[l] = self.walls.a;
                gr.v[l] = 0.0;
                continue;
            }
            match self.walls.settle(w) {
                Some(x) => {
                    if x.to_bits() != w.to_bits() {
                        gr.v[l] = 0.0;
                    }
                    gr.w[l] = x;
                }
                None => {
                    observer.exit(record, step);
                    gr.alive[l] = false;
                    gr.w[l] = self.walls.a;
                    gr.v[l] = 0.0;
                    left += 1;
                }
            }
        }
        left
    }
}

/// A group's generators, arrays and gradient source during one run.
struct Lane<'r, 'p, G> {
    rngs: &'r mut [Xoshiro256PlusPlus],
    /// The block's generator, after seeding the slots: the drawn datapoints of SGD
    /// with replacement on the bulk path, in slot order.
    indices: &'r mut Xoshiro256PlusPlus,
    group: &'r mut Group,
    rule: &'r mut StepRule<'p>,
    bulk: Option<&'r G>,
}

impl<G: Gradients> Lane<'_, '_, G> {
    /// ĝ of every particle of the group into `group.g`, at W (or W + β v for Nesterov),
    /// with batch size `batch`.
    #[inline(always)]
    fn gradients(&mut self, momentum: Option<Momentum>, m: usize, batch: usize) {
        let gr = &mut *self.group;
        // the gradient is taken at W itself (no copy) unless Nesterov looks ahead
        let at: &[f64] = match momentum {
            Some(Momentum {
                beta,
                nesterov: true,
            }) => {
                for ((at, &w), &v) in gr.at[..m].iter_mut().zip(&gr.w[..m]).zip(&gr.v[..m]) {
                    *at = w + beta * v;
                }
                &gr.at[..m]
            }
            _ => &gr.w[..m],
        };
        let g = &mut gr.g[..m];
        match self.bulk {
            Some(bulk) => {
                let n = self.rule.datapoints();
                g.fill(0.0);
                for _ in 0..batch {
                    lanes::draw_indices(self.indices, n, &mut gr.j[..m]);
                    lanes::add(bulk, &gr.j[..m], at, g);
                }
                if batch > 1 {
                    let b = batch as f64;
                    g.iter_mut().for_each(|x| *x /= b);
                }
            }
            None => {
                self.rule.at_step(batch);
                for ((g, &at), rng) in g.iter_mut().zip(at).zip(self.rngs.iter_mut()) {
                    *g = self.rule.gradient(rng, at);
                }
            }
        }
    }
}
