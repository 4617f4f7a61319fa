//! Command-line arguments: the library's settings structs (with the `cli` feature they
//! derive `clap::Args`) and what several commands share, each written once, flattened in.

use std::path::PathBuf;

use clap::Args;

use probcurrent::analysis::endstate::EscapeOptions;
use probcurrent::analysis::montecarlo::{McMode, McSettings};
use probcurrent::error::{Error, Result};
use probcurrent::model::problem::{Override, Problem};
use probcurrent::run::solve::{ErrorChoice, ModelChoice};
use probcurrent::run::RunSettings;
use probcurrent::testbed::sweep::SweepSpec;

/// `--problem`: a built-in name (`probcurrent problems`) or a problem TOML file, and
/// `--set` overrides of its fields.
#[derive(Args, Debug)]
pub struct ProblemOpt {
    /// Built-in problem name (see `probcurrent problems`) or a problem TOML file.
    #[arg(long, default_value = "seed")]
    pub problem: String,
    /// Override a problem field, `key=value` (repeatable): any key of a problem file,
    /// dotted for tables, e.g. `--set lr=0.01 --set initial.mean=0.8 --set
    /// schedule.lr.kind=cosine`; the value is a TOML literal (a bare word is a string).
    #[arg(long = "set", value_name = "KEY=VALUE", allow_hyphen_values = true)]
    pub set: Vec<String>,
}

impl ProblemOpt {
    /// The problem with the overrides applied; a comma list of values is refused (it
    /// is what `scan` takes).
    pub fn load(&self) -> Result<Problem> {
        if let Some(s) = self.set.iter().find(|s| Override::split_list(s).is_some()) {
            return Err(Error::invalid(
                "--set",
                s,
                "a comma list of values makes a grid of runs: use `probcurrent scan`",
            ));
        }
        Problem::resolve_with(&self.problem, &self.set)
    }
}

/// `--from` / `--past` of `escape`: a number, or `None` for `auto`.
#[derive(Clone, Copy, Debug)]
pub struct Point(pub Option<f64>);

/// Parse a [`Point`].
fn parse_point(s: &str) -> std::result::Result<Point, String> {
    if s == "auto" {
        return Ok(Point(None));
    }
    s.trim()
        .parse::<f64>()
        .map(|v| Point(Some(v)))
        .map_err(|_| format!("expected a number or `auto`, got {s:?}"))
}

/// `--no-plots` and `--log-color` of the commands that plot every run.
#[derive(Args, Debug)]
pub struct PlotOpts {
    /// Do not write the SVG plots (space–time density heatmap, moments over time).
    #[arg(long)]
    pub no_plots: bool,
    /// Colour the density heatmap by log10 P (four decades below the maximum).
    #[arg(long)]
    pub log_color: bool,
}

/// `problems`: list the built-ins, or print one problem in full.
#[derive(Args, Debug)]
pub struct ProblemsArgs {
    /// Print this problem (built-in name or file) as TOML with every setting explicit;
    /// the output read back as a problem file gives the same problem.
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
}

#[derive(Args, Debug)]
pub struct SolveArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub plots: PlotOpts,
    #[command(flatten)]
    pub model: ModelChoice,
    #[command(flatten)]
    pub settings: RunSettings,
    #[command(flatten)]
    pub errors: ErrorChoice,
    /// Solve the first-order effective model of SGD with heavy-ball momentum β in
    /// [0, 1): the same problem at learning rate T/(1 − β).
    #[arg(long)]
    pub momentum: Option<f64>,
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
    pub plots: PlotOpts,
    #[command(flatten)]
    pub settings: McSettings,
    /// Histogram grid: `uniform` or `auto` (default: the problem's `[grid]`, else uniform).
    #[arg(long, value_enum)]
    pub grid: Option<probcurrent::model::grid_choice::GridKind>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub plots: PlotOpts,
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
    #[command(flatten)]
    pub momentum: super::compare::MomentumOpts,
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
    /// Grid: `uniform` or `auto` (default: the problem's `[grid]`, else uniform).
    #[arg(long, value_enum)]
    pub grid: Option<probcurrent::model::grid_choice::GridKind>,
    #[command(flatten)]
    pub two: super::two::TwoOpts,
}

#[derive(Args, Debug)]
pub struct EscapeArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    /// Starting weight (a minimum), or `auto`: the minimum nearest the initial mean.
    #[arg(long, default_value = "auto", allow_hyphen_values = true, value_parser = parse_point)]
    pub from: Point,
    /// Barrier point: the first passage past it counts as escape; or `auto`: the
    /// barrier top nearest `from`.
    #[arg(long, default_value = "auto", allow_hyphen_values = true, value_parser = parse_point)]
    pub past: Point,
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
