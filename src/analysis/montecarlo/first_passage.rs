//! First passage: the step on which each particle started at one point first leaves
//! through the absorbing wall, for mean first-passage times and survival curves.
//!
//! Particles start at `x0` inside [wall, past] (or [past, wall] mirrored by the caller),
//! reflect at one wall and are absorbed past the other; a particle still inside after
//! `max_steps` steps is censored.

use crate::analysis::montecarlo::engine::{Engine, Observer, Start, Walls};
use crate::analysis::montecarlo::step::McMode;
use crate::error::Result;
use crate::model::problem::Problem;

/// Exit steps of a first-passage experiment.
#[derive(Clone, Debug)]
pub struct FirstPassage {
    /// Exit step of every particle that left, ascending.
    pub exits: Vec<u64>,
    /// Particles still inside after `max_steps` steps.
    pub censored: usize,
    /// Steps a particle was followed at most.
    pub max_steps: u64,
}

impl FirstPassage {
    /// Number of particles.
    pub fn particles(&self) -> usize {
        self.exits.len() + self.censored
    }

    /// Fraction of particles not yet out after `t` steps (NaN beyond `max_steps`, where
    /// nothing is known).
    pub fn survival(&self, t: f64) -> f64 {
        if t > self.max_steps as f64 {
            return f64::NAN;
        }
        let out = self.exits.partition_point(|&e| (e as f64) <= t);
        1.0 - out as f64 / self.particles() as f64
    }
}

/// The observer: exit steps, and censored particles (inside at the only checkpoint).
struct Exits;

impl Observer for Exits {
    type Block = (Vec<u64>, usize);

    fn block(&self, particles: usize) -> Self::Block {
        (Vec::with_capacity(particles), 0)
    }

    fn snapshot(&self, block: &mut Self::Block, _k: usize, _w: f64) {
        block.1 += 1;
    }

    fn exit(&self, block: &mut Self::Block, step: u64) {
        block.0.push(step);
    }
}

/// Exit steps of `particles` particles of process `mode` started at `x0` inside
/// `walls` (one reflecting, one absorbing), followed for at most `max_steps` steps.
/// SGD on a problem with a modified S² is an error.
pub fn first_passage(
    problem: &Problem,
    mode: McMode,
    x0: f64,
    walls: Walls,
    particles: usize,
    seed: u64,
    max_steps: u64,
) -> Result<FirstPassage> {
    mode.check(problem, "use the Gaussian-kick model")?;
    crate::limits::particles(particles)?;
    let batch = problem.batch.max(2 * problem.landscape.len());
    crate::limits::monte_carlo(particles, max_steps, 1, 1, batch, super::BLOCK)?;
    let engine = Engine {
        problem,
        mode,
        momentum: None,
        walls,
        start: Start::At(x0),
        particles,
        seed,
    };
    let blocks = engine.run(&[max_steps], &Exits, &|_, _| {});
    let censored = blocks.iter().map(|b| b.1).sum();
    let mut exits: Vec<u64> = blocks.into_iter().flat_map(|b| b.0).collect();
    exits.sort_unstable();
    Ok(FirstPassage {
        exits,
        censored,
        max_steps,
    })
}
