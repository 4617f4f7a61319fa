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

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::analysis::montecarlo::step::{McMode, StepRule};
use crate::error::Result;
use crate::model::normal::TruncatedNormal;
use crate::model::problem::{Initial, Problem};
use crate::space::grid::Grid;
use crate::space::initial::initial_density;

/// Block size: particles per generator stream (fixed, so results do not depend on
/// the thread count).
pub const BLOCK: usize = 2048;

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

/// One Monte Carlo experiment: the process, the walls, the start and the particles.
pub struct Engine<'a> {
    /// The problem (landscape, learning rate, batch, sampling).
    pub problem: &'a Problem,
    /// The process.
    pub mode: McMode,
    /// The domain and its walls.
    pub walls: Walls,
    /// Where particles start.
    pub start: Start,
    /// Number of particles.
    pub particles: usize,
    /// Seed of the block generators.
    pub seed: u64,
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
        let n_blocks = self.particles.div_ceil(BLOCK);
        let done = AtomicUsize::new(0);
        (0..n_blocks)
            .into_par_iter()
            .map(|blk| {
                let count = BLOCK.min(self.particles - blk * BLOCK);
                let record = self.run_block(blk, count, checkpoints, observer);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, n_blocks);
                record
            })
            .collect()
    }

    /// The particles of one block, in order, from the block's own generator.
    fn run_block<O: Observer>(
        &self,
        blk: usize,
        count: usize,
        checkpoints: &[u64],
        observer: &O,
    ) -> O::Block {
        let mut rng = block_rng(self.seed, blk);
        let mut record = observer.block(count);
        let mut rule = StepRule::new(self.problem, self.mode);
        for _ in 0..count {
            let mut w = self.start.draw(&mut rng);
            let mut step = 0u64;
            'particle: for (k, &until) in checkpoints.iter().enumerate() {
                while step < until {
                    rule.set_step(step);
                    let g = rule.gradient(&mut rng, w);
                    step += 1;
                    match self.walls.settle(w - rule.lr() * g) {
                        Some(v) => w = v,
                        None => {
                            observer.exit(&mut record, step);
                            break 'particle;
                        }
                    }
                }
                observer.snapshot(&mut record, k, w);
            }
        }
        record
    }
}
