//! [`ProblemBuilder`]: a problem assembled in code from a landscape, with the defaults
//! of the built-in `seed` problem for every setting not given, validated at build.

use std::sync::Arc;

use super::{Boundary, Exact, Initial, Problem, Region, Sampling};
use crate::error::Result;
use crate::model::landscape::Landscape;
use crate::model::schedule::Schedules;

impl Region {
    /// A region [lo, hi]; an absent end is the domain's.
    pub fn new(name: impl Into<String>, lo: Option<f64>, hi: Option<f64>) -> Region {
        Region {
            name: name.into(),
            lo,
            hi,
        }
    }
}

/// Builds a [`Problem`] from a landscape, with the defaults of the built-in `seed`
/// problem for everything not set: learning rate T = 0.02, batch B = 1 drawn with
/// replacement, domain [0, 3], zero-flux walls, initial normal (mean 0.5, sd 0.175),
/// no regions, `noise_scale` 1, `noise_floor` 0, final time 1000 and snapshots every
/// 50 steps. [`ProblemBuilder::build`] validates like a problem file.
///
/// ```
/// use probcurrent::{ClosureLandscape, Initial, Problem};
/// // two datapoints ½(W ∓ 1)²: G = W, S² = 1
/// let landscape = ClosureLandscape::new()
///     .datapoint("0.5*(w-1)^2", |w| 0.5 * (w - 1.0).powi(2), |w| w - 1.0, |_| 1.0)
///     .datapoint("0.5*(w+1)^2", |w| 0.5 * (w + 1.0).powi(2), |w| w + 1.0, |_| 1.0);
/// let problem = Problem::builder(landscape)
///     .name("quadratic")
///     .lr(0.05)
///     .batch(2)
///     .domain(-3.0, 3.0)
///     .initial(Initial::Normal { mean: 1.0, sd: 0.2 })
///     .region("right", Some(0.0), None)
///     .build()
///     .unwrap();
/// assert_eq!(problem.batch, 2);
/// // invalid settings are refused at build
/// assert!(Problem::builder(ClosureLandscape::new()).build().is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ProblemBuilder {
    problem: Problem,
}

impl ProblemBuilder {
    /// Learning-rate and batch-size schedules (default constant).
    pub fn schedule(mut self, schedule: Schedules) -> Self {
        self.problem.schedule = schedule;
        self
    }
    /// Name (default `custom`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.problem.origin = format!("problem `{name}`");
        self.problem.name = name;
        self
    }
    /// One-line summary (default empty).
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.problem.summary = summary.into();
        self
    }
    /// Learning rate T (default 0.02).
    pub fn lr(mut self, lr: f64) -> Self {
        self.problem.lr = lr;
        self
    }
    /// Batch size B (default 1).
    pub fn batch(mut self, batch: usize) -> Self {
        self.problem.batch = batch;
        self
    }
    /// Minibatch sampling (default with replacement).
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.problem.sampling = sampling;
        self
    }
    /// Domain [a, b] (default [0, 3]).
    pub fn domain(mut self, a: f64, b: f64) -> Self {
        self.problem.a = a;
        self.problem.b = b;
        self
    }
    /// Boundary condition (default zero flux).
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.problem.boundary = boundary;
        self
    }
    /// Initial density (default normal, mean 0.5, sd 0.175).
    pub fn initial(mut self, initial: Initial) -> Self {
        self.problem.initial = initial;
        self
    }
    /// Add a named region [lo, hi] (an absent end is the domain's).
    pub fn region(mut self, name: impl Into<String>, lo: Option<f64>, hi: Option<f64>) -> Self {
        self.problem.regions.push(Region::new(name, lo, hi));
        self
    }
    /// Replace the regions (default none).
    pub fn regions(mut self, regions: Vec<Region>) -> Self {
        self.problem.regions = regions;
        self
    }
    /// Factor on S² (default 1; 0 = drift only).
    pub fn noise_scale(mut self, v: f64) -> Self {
        self.problem.noise_scale = v;
        self
    }
    /// Noise floor ε added to S² (default 0).
    pub fn noise_floor(mut self, v: f64) -> Self {
        self.problem.noise_floor = v;
        self
    }
    /// Default final time and snapshot interval (default 1000 and 50).
    pub fn times(mut self, t_end: f64, every: f64) -> Self {
        self.problem.t_end = t_end;
        self.problem.every = every;
        self
    }
    /// A known exact solution (default none).
    pub fn exact(mut self, exact: Exact) -> Self {
        self.problem.exact = Some(exact);
        self
    }
    /// The problem, validated ([`Problem::validate`]).
    pub fn build(self) -> Result<Problem> {
        self.problem.validate()?;
        Ok(self.problem)
    }
    /// The problem without validation (the built-ins, whose values are fixed).
    pub(super) fn assemble(self) -> Problem {
        self.problem
    }
}

impl Problem {
    /// A builder for a problem on `landscape`, with the defaults listed at
    /// [`ProblemBuilder`].
    pub fn builder(landscape: impl Landscape + 'static) -> ProblemBuilder {
        Problem::builder_arc(Arc::new(landscape))
    }

    /// [`Problem::builder`] for a shared landscape.
    pub fn builder_arc(landscape: Arc<dyn Landscape>) -> ProblemBuilder {
        ProblemBuilder {
            problem: Problem {
                name: "custom".into(),
                summary: String::new(),
                landscape,
                lr: 0.02,
                batch: 1,
                sampling: Sampling::WithReplacement,
                a: 0.0,
                b: 3.0,
                boundary: Boundary::ZeroFlux,
                initial: Initial::Normal {
                    mean: 0.5,
                    sd: 0.175,
                },
                regions: vec![],
                noise_scale: 1.0,
                noise_floor: 0.0,
                t_end: 1000.0,
                every: 50.0,
                schedule: Schedules::default(),
                exact: None,
                grid: crate::model::grid_choice::GridChoice::Uniform,
                origin: "problem `custom`".into(),
            },
        }
    }
}
