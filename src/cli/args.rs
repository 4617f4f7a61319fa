//! Command-line arguments: the library's settings structs (with the `cli` feature they
//! derive `clap::Args`) and what several commands share, each written once, flattened in.

use std::path::PathBuf;

use clap::Args;

use probcurrent::analysis::endstate::EscapeOptions;
use probcurrent::analysis::montecarlo::{McMode, McSettings};
use probcurrent::run::solve::{ErrorChoice, ModelChoice};
use probcurrent::run::RunSettings;
use probcurrent::testbed::sweep::SweepSpec;

/// `--problem`: a built-in name (`probcurrent problems`) or a problem TOML file.
#[derive(Args, Debug)]
pub struct ProblemOpt {
    /// Built-in problem name (see `probcurrent problems`) or a problem TOML file.
    #[arg(long, default_value = "seed")]
    pub problem: String,
}

#[derive(Args, Debug)]
pub struct SolveArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub model: ModelChoice,
    #[command(flatten)]
    pub settings: RunSettings,
    #[command(flatten)]
    pub errors: ErrorChoice,
    #[command(flatten)]
    pub two: super::two::TwoOpts,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct McArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub settings: McSettings,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub model: ModelChoice,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Particles of the Monte Carlo.
    #[arg(long, default_value_t = 100_000)]
    pub particles: usize,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Monte Carlo process: sgd, gd or gaussian.
    #[arg(long, default_value = "sgd", value_parser = McMode::parse)]
    pub mode: McMode,
    /// Output folder for the plots and the table.
    #[arg(long, default_value = "out/compare")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    /// Scheme name or card file (inspect only; default: the catalogue's default card).
    #[arg(long)]
    pub scheme: Option<String>,
    /// Number of cells (default: 600 for inspect, 1200 for stationary; per axis, default 128, for 2-D problems).
    #[arg(long)]
    pub cells: Option<usize>,
    #[command(flatten)]
    pub two: super::two::TwoOpts,
}

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
    #[command(flatten)]
    pub options: EscapeOptions,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Particles of the Monte Carlo runs at T = 0.02.
    #[arg(long, default_value_t = 100_000)]
    pub particles: usize,
}

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

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub spec: SweepSpec,
    /// Run only shard i of n (jobs whose index is i mod n), as `i/n`.
    #[arg(long, value_parser = probcurrent::testbed::sweep::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Output JSON-lines file (appended; jobs already in it are skipped).
    #[arg(long)]
    pub out: PathBuf,
}

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
