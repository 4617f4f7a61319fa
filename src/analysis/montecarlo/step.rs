//! The per-step gradient estimate ĝ(W) of each discrete process (the step is
//! W ← W − T ĝ): a minibatch mean for SGD, G for gradient descent, and G plus a normal
//! kick of variance 2D/T² for the Gaussian-kick model, whose one-step mean and
//! variance are exactly those of the Fokker–Planck model's diffusion approximation.
//! Under a schedule, step k (from W_k to W_{k+1}) uses T(k) and B(k)
//! ([`StepRule::set_step`], [`StepRule::lr`]).

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
pub struct StepRule<'a> {
    problem: &'a Problem,
    mode: McMode,
    without: bool,
    chosen: Vec<usize>,
    scheduled: bool,
    step: u64,
    lr: f64,
    batch: usize,
    /// √f(B(k)) · the effective S² factor, for the scheduled Gaussian kick.
    kick_f: f64,
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
            scheduled: !problem.schedule.is_constant(),
            step: u64::MAX,
            lr: problem.lr,
            batch: problem.batch,
            kick_f: problem.variance_factor().sqrt(),
        }
    }

    /// Take the learning rate T(k) and batch size B(k) of step `k` (from W_k to
    /// W_{k+1}) from the problem's schedule; nothing to do without one.
    #[inline]
    pub fn set_step(&mut self, k: u64) {
        if !self.scheduled || k == self.step {
            return;
        }
        self.step = k;
        let s = &self.problem.schedule;
        self.lr = s.lr(self.problem.lr, k as f64);
        let b = s.batch(self.problem.batch, k as f64);
        if b != self.batch {
            self.batch = b;
            self.kick_f = self.problem.variance_factor_of(b).max(0.0).sqrt();
            if self.without {
                self.chosen.reserve(b.min(self.problem.landscape.len()));
            }
        }
    }

    /// The learning rate of the current step (the problem's without a schedule).
    #[inline]
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// ĝ at `w`, drawing what the process needs from `rng`.
    #[inline]
    pub fn gradient(&mut self, rng: &mut Xoshiro256PlusPlus, w: f64) -> f64 {
        let land = &self.problem.landscape;
        let n = land.len();
        let batch = self.batch;
        match self.mode {
            McMode::Gd => land.g_s2(w).0,
            McMode::Gaussian if self.scheduled => {
                // kick of variance 2D/T² = f(B(k)) S²: independent of T(k)
                let (g, s2) = land.g_s2(w);
                let s2 = self.problem.noise_scale * s2 + self.problem.noise_floor;
                let z: f64 = rng.sample(StandardNormal);
                g - self.kick_f * s2.max(0.0).sqrt() * z
            }
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
