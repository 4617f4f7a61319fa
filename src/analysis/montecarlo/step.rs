//! The per-step gradient estimate ĝ(W) of each discrete process (the step is
//! W ← W − T ĝ): a minibatch mean for SGD, G for gradient descent, and G plus a normal
//! kick of variance 2D/T² for the Gaussian-kick model, whose one-step mean and
//! variance are exactly those of the Fokker–Planck model's diffusion approximation.

use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::problem::{Problem, Sampling};

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

    /// Minibatch sampling draws real datapoints, so SGD cannot follow a problem whose
    /// S² was modified (`noise_scale` ≠ 1 or `noise_floor` ≠ 0): an error naming
    /// `instead` (what to use) in that case.
    pub fn check(&self, problem: &Problem, instead: &str) -> Result<()> {
        let modified = (problem.noise_scale - 1.0).abs() > 0.0 || problem.noise_floor.abs() > 0.0;
        if *self == McMode::Sgd && modified {
            return Err(Error::invalid(
                "mode",
                "sgd",
                format!(
                    "problem `{}` modifies S² (noise_scale = {}, noise_floor = {}), which \
                     minibatch sampling cannot represent: {instead}",
                    problem.name, problem.noise_scale, problem.noise_floor
                ),
            ));
        }
        Ok(())
    }
}

/// The per-step gradient estimate ĝ(W) of one process (the step is W ← W − T ĝ):
/// a minibatch mean for SGD, G for gradient descent, G plus a normal kick of variance
/// 2D/T² for the Gaussian-kick model. Shared by every Monte Carlo in the crate.
///
/// The learning rate and batch size of the current step are set by
/// [`StepRule::at_step`] (the problem's base values until then), so that schedules
/// plug in per step.
pub struct StepRule<'a> {
    problem: &'a Problem,
    mode: McMode,
    without: bool,
    chosen: Vec<usize>,
    batch: usize,
    /// √(f(B)/f(B₀)): the Gaussian kick's scale at batch B against the base batch B₀.
    kick: f64,
}

/// The factor f(B) in D = T² S² f / 2 at batch `b` (1/B; times (n−B)/(n−1) without
/// replacement).
pub fn variance_factor(problem: &Problem, b: usize) -> f64 {
    let (b, n) = (b as f64, problem.landscape.len() as f64);
    match problem.sampling {
        Sampling::WithReplacement => 1.0 / b,
        Sampling::WithoutReplacement if n > 1.0 => (n - b).max(0.0) / ((n - 1.0) * b),
        Sampling::WithoutReplacement => 0.0,
    }
}

impl<'a> StepRule<'a> {
    /// The rule of `mode` on `problem` (sampling and batch size from the problem).
    pub fn new(problem: &'a Problem, mode: McMode) -> Self {
        StepRule {
            problem,
            mode,
            without: problem.sampling == Sampling::WithoutReplacement,
            // only sampling without replacement keeps the chosen indices (B ≤ n there)
            chosen: Vec::with_capacity(match problem.sampling {
                Sampling::WithoutReplacement => problem.batch.min(problem.landscape.len()),
                Sampling::WithReplacement => 0,
            }),
            batch: problem.batch,
            kick: 1.0,
        }
    }

    /// Use batch size `batch` from now on (a batch schedule's B(k)); sampling without
    /// replacement takes at most n datapoints. The learning rate does not enter ĝ
    /// (the engine multiplies by T(k)), except through the Gaussian kick, whose
    /// variance 2D/T² = S² f(B) does not depend on T.
    pub fn at_step(&mut self, batch: usize) {
        if batch == self.batch {
            return;
        }
        let n = self.problem.landscape.len();
        self.batch = if self.without { batch.min(n) } else { batch };
        let base = variance_factor(self.problem, self.problem.batch);
        self.kick = if base > 0.0 {
            (variance_factor(self.problem, self.batch) / base).sqrt()
        } else {
            1.0
        };
    }

    /// Number of datapoints n of the landscape.
    pub fn datapoints(&self) -> usize {
        self.problem.landscape.len()
    }

    /// ĝ at `w`, drawing what the process needs from `rng`.
    #[inline]
    pub fn gradient(&mut self, rng: &mut Xoshiro256PlusPlus, w: f64) -> f64 {
        let land = &self.problem.landscape;
        let n = land.len();
        let batch = self.batch;
        match self.mode {
            McMode::Gd => land.g_s2(w).0,
            McMode::Gaussian => {
                let (g, d) = self.problem.drift_diffusion(w);
                let z: f64 = rng.sample(StandardNormal);
                g - self.kick * (2.0 * d).sqrt() / self.problem.lr * z
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
