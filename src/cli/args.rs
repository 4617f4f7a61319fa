//! Command-line arguments: one struct per command, with the options several commands
//! share written once and flattened in.

use std::path::PathBuf;

use clap::Args;

use crate::analysis::montecarlo::McMode;
use crate::time::transfer::Model;

/// `--problem`: a built-in name (`probcurrent problems`) or a problem TOML file.
#[derive(Args, Debug)]
pub struct ProblemOpt {
    /// Built-in problem name (see `probcurrent problems`) or a problem TOML file.
    #[arg(long, default_value = "seed")]
    pub problem: String,
}

/// `--t-end`, `--every`: the run's time span (default: the problem's).
#[derive(Args, Debug)]
pub struct TimeOpts {
    /// Final time in SGD steps (default: the problem's).
    #[arg(long)]
    pub t_end: Option<f64>,
    /// Snapshot interval in SGD steps (default: the problem's).
    #[arg(long)]
    pub every: Option<f64>,
}

/// `--model`, `--scheme`: which density model, and for Fokker–Planck which card.
#[derive(Args, Debug)]
pub struct ModelOpts {
    /// Density model: fokker-planck, transfer-exact (the SGD step's transfer operator)
    /// or transfer-gaussian (the per-step normal rule).
    #[arg(long, default_value = "fokker-planck", value_parser = Model::parse)]
    pub model: Model,
    /// Scheme name (`probcurrent schemes`) or card file; Fokker–Planck only
    /// (default: the catalogue's default card).
    #[arg(long)]
    pub scheme: Option<String>,
    /// Time step (default: the card's; a safety fraction of the limit for explicit cards).
    #[arg(long)]
    pub dt: Option<f64>,
}

/// `--particles`, `--seed`, `--mode`: a Monte Carlo of the discrete process.
#[derive(Args, Debug)]
pub struct ParticleOpts {
    /// Number of particles.
    #[arg(long, default_value_t = 100_000)]
    pub particles: usize,
    /// Seed of the random streams (results are bit-identical at any thread count).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Process: sgd (minibatch SGD), gd (gradient descent), gaussian (drift + normal kick).
    #[arg(long, default_value = "sgd", value_parser = McMode::parse)]
    pub mode: McMode,
}

/// `solve`.
#[derive(Args, Debug)]
pub struct SolveArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub model: ModelOpts,
    #[command(flatten)]
    pub time: TimeOpts,
    /// Number of finite-volume cells.
    #[arg(long, default_value_t = 600)]
    pub cells: usize,
    /// Allow an explicit step beyond the stability limit (the blow-up is measured).
    #[arg(long)]
    pub allow_unstable: bool,
    /// Relative tolerance of adaptive (mol-*) cards (default: the card's).
    #[arg(long)]
    pub rtol: Option<f64>,
    /// Absolute tolerance of adaptive (mol-*) cards (default: the card's).
    #[arg(long)]
    pub atol: Option<f64>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// `mc`.
#[derive(Args, Debug)]
pub struct McArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub particles: ParticleOpts,
    #[command(flatten)]
    pub time: TimeOpts,
    /// Cells of the histogram.
    #[arg(long, default_value_t = 600)]
    pub cells: usize,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// `compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub model: ModelOpts,
    #[command(flatten)]
    pub particles: ParticleOpts,
    #[command(flatten)]
    pub time: TimeOpts,
    /// Number of cells (density and histogram).
    #[arg(long, default_value_t = 1200)]
    pub cells: usize,
    /// Output folder for the plots and the table.
    #[arg(long, default_value = "out/compare")]
    pub out: PathBuf,
}

/// `inspect` and `stationary`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    /// Scheme name or card file (inspect only; default: the catalogue's default card).
    #[arg(long)]
    pub scheme: Option<String>,
    /// Number of cells (default: 600 for inspect, 1200 for stationary).
    #[arg(long)]
    pub cells: Option<usize>,
}

/// `escape`.
#[derive(Args, Debug)]
pub struct EscapeArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    /// Starting weight (a minimum).
    #[arg(long, allow_negative_numbers = true)]
    pub from: f64,
    /// Barrier point: the first passage past it counts as escape.
    #[arg(long, allow_negative_numbers = true)]
    pub past: f64,
    /// Reflecting wall behind `from` (default: the problem's wall on that side).
    #[arg(long, allow_negative_numbers = true)]
    pub wall: Option<f64>,
    /// Cells of the PDE grid.
    #[arg(long, default_value_t = 2000)]
    pub cells: usize,
    /// Particles per Monte Carlo process (0 skips Monte Carlo).
    #[arg(long, default_value_t = 4000)]
    pub particles: usize,
    /// Monte Carlo processes (sgd, gaussian, gd), comma-separated.
    #[arg(long, default_value = "gaussian,sgd", value_delimiter = ',', value_parser = McMode::parse)]
    pub modes: Vec<McMode>,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Largest number of steps a particle is followed (default: 30 × the PDE's τ).
    #[arg(long)]
    pub max_steps: Option<u64>,
}

/// `demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Particles of the Monte Carlo runs at T = 0.02.
    #[arg(long, default_value_t = 100_000)]
    pub particles: usize,
}

/// `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Output folder.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Small grids and few particles: a smoke test of a few minutes.
    #[arg(long)]
    pub quick: bool,
    /// Folder of cached reference solutions.
    #[arg(long, default_value = "out/cache")]
    pub cache: PathBuf,
}

/// `sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub spec: crate::testbed::sweep::SweepSpec,
    /// Run only shard i of n (jobs whose index is i mod n), as `i/n`.
    #[arg(long, value_parser = crate::testbed::sweep::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Output JSON-lines file (appended; jobs already in it are skipped).
    #[arg(long)]
    pub out: PathBuf,
}

/// `recommend`.
#[derive(Args, Debug)]
pub struct RecommendArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    /// Error tolerance at t_end.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Error metric: w1 (Wasserstein-1) or l1 (60-bin histogram).
    #[arg(long, default_value = "w1", value_parser = ["w1", "l1"])]
    pub metric: String,
    /// Folder of cached reference solutions.
    #[arg(long, default_value = "out/cache")]
    pub cache: PathBuf,
}
