//! The command-line interface (`probcurrent --help`).
//!
//! Exit codes: 0 when the command ran (whatever the run's outcome: a blow-up is a
//! measured result, reported in run.json and on the terminal); 1 on an error (bad
//! input, unknown name, unreadable file), with a message naming the value and where
//! it came from; 2 on a malformed command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::analysis::montecarlo::{simulate, write_mc, McMode, McReport, McSettings};
use crate::error::Result;
use crate::model::problem::{Problem, BUILTIN_PROBLEMS};
use crate::reports::validation::{seed_validation, Runner, ValidationOptions};
use crate::run::{run_with_progress, RunReport, RunSettings};
use crate::scheme::{catalogue, Scheme};

const AFTER_HELP: &str = "\
Examples:
  probcurrent demo
  probcurrent solve --problem seed --scheme scharfetter-gummel --cells 1200 --dt 1 --out out/sg
  probcurrent solve --problem seed --scheme explicit-upwind --cells 600 --t-end 500 --out out/up
  probcurrent inspect --problem seed --scheme crank-nicolson --cells 1200
  probcurrent problems
  probcurrent schemes";

/// SGD on a one-parameter loss as a probability density: Fokker–Planck solvers and
/// their stability testbed.
#[derive(Parser, Debug)]
#[command(name = "probcurrent", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve a problem with a scheme and write moments.csv, density.csv and run.json.
    #[command(after_help = "\
Examples:
  probcurrent solve --problem seed --scheme scharfetter-gummel --cells 1200 --dt 1 --t-end 1000 --out out/sg
  probcurrent solve --problem seed --scheme explicit-upwind --cells 600 --t-end 500 --out out/up
  probcurrent solve --problem seed --scheme explicit-upwind --dt 3e-3 --allow-unstable --out out/blowup
  probcurrent solve --problem my-problem.toml --scheme schemes/scharfetter-gummel.toml --out out/mine

The outcome (ok, negative, oscillating, diverged, failed) is printed and stored in
run.json; the exit code is 0 whatever the outcome, 1 on bad input.")]
    Solve(SolveArgs),
    /// A-priori diagnostics of a problem + scheme + grid: Péclet number, M-matrix,
    /// explicit step limit, stiffness ratio.
    #[command(after_help = "\
Example:
  probcurrent inspect --problem seed --scheme crank-nicolson --cells 1200")]
    Inspect(InspectArgs),
    /// Monte Carlo of the discrete process (SGD, gradient descent or Gaussian kicks):
    /// writes moments.csv (with standard errors) and histogram.csv.
    #[command(after_help = "\
Examples:
  probcurrent mc --problem seed --particles 200000 --seed 1 --t-end 500 --every 50 --out out/mc
  probcurrent mc --problem seed-drift --mode gd --particles 10000 --out out/gd
  probcurrent mc --problem ou --mode gaussian --particles 100000 --out out/ou-mc

Results are bit-identical for the same seed at any thread count (RAYON_NUM_THREADS).")]
    Mc(McArgs),
    /// End states: the stationary density by the closed form and by each flux's null
    /// vector, and point masses where G and S² vanish together.
    #[command(after_help = "\
Examples:
  probcurrent stationary --problem seed
  probcurrent stationary --problem wide-narrow --cells 2400")]
    Stationary(StationaryArgs),
    /// Mean first-passage time from a minimum past a barrier: exact formula, PDE with an
    /// absorbing wall, Monte Carlo of SGD and of Gaussian kicks, Kramers, and the
    /// relaxation rate.
    #[command(after_help = "\
Examples:
  probcurrent escape --problem seed --from 1.00745 --past 1.3
  probcurrent escape --problem wide-narrow --from -1 --past 0.5 --particles 2000")]
    Escape(EscapeArgs),
    /// List the built-in problems.
    Problems,
    /// List the scheme catalogue (the cards in schemes/).
    Schemes,
    /// Solve a problem and simulate the discrete process; print the two side by side
    /// per snapshot and write SVG plots.
    #[command(after_help = "\
Examples:
  probcurrent compare --problem seed --scheme scharfetter-gummel --particles 100000
  probcurrent compare --problem ou --scheme scharfetter-gummel --mode gaussian --out out/ou-cmp")]
    Compare(CompareArgs),
    /// The main job: the seed validations (drift only, spreading only, full SGD, and the
    /// learning-rate study) as markdown with SVG plots, plus a short summary.
    #[command(after_help = "\
Example:
  probcurrent demo --out out/demo")]
    Demo(DemoArgs),
    /// Regenerate the committed reports in reports/: seed validations, stability maps,
    /// work–precision diagrams, convergence orders, and the index.
    #[command(after_help = "\
Examples:
  probcurrent report                     # full reports into reports/ (several minutes)
  probcurrent report --quick --out /tmp/r # small grids: a smoke test under two minutes")]
    Report(ReportArgs),
    /// Run a sweep over cards × problems × cells × steps × knobs, scored against a
    /// converged reference, as JSON lines (resumable, shardable).
    #[command(after_help = "\
Examples:
  probcurrent sweep --problems seed --knobs k=10,k=100,k=1000 --cells 300,600 --dt-factors 0.9,10,1000 --out out/sweep.jsonl
  probcurrent sweep --problems vanishing-noise --knobs eps=0,eps=1e-4 --cards scharfetter-gummel,crank-nicolson --out out/vn.jsonl

An interrupted sweep resumes: jobs already in --out are skipped. To spread a sweep over
a cluster, give each array task one shard and merge afterwards:
  Slurm:        #SBATCH --array=0-15
                probcurrent sweep ... --shard $SLURM_ARRAY_TASK_ID/16 --out out/shard-$SLURM_ARRAY_TASK_ID.jsonl
  GNU parallel: parallel probcurrent sweep ... --shard {}/16 --out out/shard-{}.jsonl ::: $(seq 0 15)
  then:         probcurrent merge out/shard-*.jsonl --out out/sweep.jsonl
Give every shard the same --cache folder on a shared file system (or let each compute
the references itself).")]
    Sweep(SweepArgs),
    /// Merge sweep shards (JSON lines) into one file: one record per job, in job order.
    Merge(MergeArgs),
    /// Name the cheapest card that meets a tolerance on a problem, with the evidence.
    #[command(after_help = "\
Examples:
  probcurrent recommend --problem seed --tol 1e-3
  probcurrent recommend --problem ou --tol 1e-2 --metric l1")]
    Recommend(RecommendArgs),
}

#[derive(Args, Debug)]
struct SolveArgs {
    /// Built-in problem name (see `probcurrent problems`) or a problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name (see `probcurrent schemes`) or a scheme card TOML file (Fokker–Planck
    /// model only; default scharfetter-gummel).
    #[arg(long)]
    scheme: Option<String>,
    /// Density model: fokker-planck, transfer-exact (the SGD step's transfer operator)
    /// or transfer-gaussian (the per-step normal rule).
    #[arg(long, default_value = "fokker-planck")]
    model: String,
    /// Number of finite-volume cells.
    #[arg(long, default_value_t = 600)]
    cells: usize,
    /// Time step (default: the card's; a safety fraction of the limit for explicit schemes).
    #[arg(long)]
    dt: Option<f64>,
    /// Final time in SGD steps (default: the problem's).
    #[arg(long)]
    t_end: Option<f64>,
    /// Snapshot interval (default: the problem's).
    #[arg(long)]
    every: Option<f64>,
    /// Allow an explicit step beyond the stability limit (the blow-up is measured).
    #[arg(long)]
    allow_unstable: bool,
    /// Relative tolerance of adaptive (mol-*) schemes (default: the card's).
    #[arg(long)]
    rtol: Option<f64>,
    /// Absolute tolerance of adaptive (mol-*) schemes (default: the card's).
    #[arg(long)]
    atol: Option<f64>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct McArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Number of particles.
    #[arg(long, default_value_t = 100_000)]
    particles: usize,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Process: sgd (minibatch SGD), gd (gradient descent), gaussian (drift + normal kick).
    #[arg(long, default_value = "sgd")]
    mode: String,
    /// Final step (default: the problem's t_end).
    #[arg(long)]
    t_end: Option<f64>,
    /// Snapshot interval in steps (default: the problem's).
    #[arg(long)]
    every: Option<f64>,
    /// Histogram cells.
    #[arg(long, default_value_t = 600)]
    cells: usize,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct StationaryArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Number of cells.
    #[arg(long, default_value_t = 1200)]
    cells: usize,
}

#[derive(Args, Debug)]
struct EscapeArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Starting weight (a minimum).
    #[arg(long)]
    from: f64,
    /// Barrier point: the first passage past it counts as escape.
    #[arg(long)]
    past: f64,
    /// Reflecting wall behind `from` (default: the problem's wall on that side).
    #[arg(long)]
    wall: Option<f64>,
    /// Cells of the PDE grid.
    #[arg(long, default_value_t = 2000)]
    cells: usize,
    /// Particles per Monte Carlo process (0 skips Monte Carlo).
    #[arg(long, default_value_t = 4000)]
    particles: usize,
    /// Monte Carlo processes, comma-separated (sgd, gaussian, gd).
    #[arg(long, default_value = "gaussian,sgd")]
    modes: String,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Largest number of steps a particle is followed (default: 30 × the PDE's τ).
    #[arg(long)]
    max_steps: Option<u64>,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name or card file.
    #[arg(long, default_value = crate::scheme::DEFAULT_SCHEME)]
    scheme: String,
    /// Number of cells.
    #[arg(long, default_value_t = 600)]
    cells: usize,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Particles of the Monte Carlo runs at T = 0.02.
    #[arg(long, default_value_t = 100_000)]
    particles: usize,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Output folder (the repository's reports/).
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Small grids and few particles: a smoke test that finishes in under two minutes.
    #[arg(long)]
    quick: bool,
    /// Folder of cached reference solutions.
    #[arg(long, default_value = "out/cache")]
    cache: PathBuf,
}

fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim()
                .parse::<T>()
                .map_err(|_| crate::Error::invalid(what, x, "not a valid list entry"))
        })
        .collect()
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Problems (comma-separated names or files).
    #[arg(long, default_value = "seed")]
    problems: String,
    /// Cards (comma-separated; default: the whole catalogue).
    #[arg(long)]
    cards: Option<String>,
    /// Grid sizes.
    #[arg(long, default_value = "300,600,1200")]
    cells: String,
    /// dt as multiples of the explicit limit (fixed-step cards).
    #[arg(long, default_value = "0.9")]
    dt_factors: String,
    /// Absolute dt values (fixed-step cards; empty for none).
    #[arg(long, default_value = "0.1,1")]
    dts: String,
    /// Tolerances of adaptive cards.
    #[arg(long, default_value = "1e-4,1e-6")]
    rtols: String,
    /// Knobs: k=<pit sharpness> (seed), eps=<noise floor>, or - (none).
    #[arg(long, default_value = "-")]
    knobs: String,
    /// Final time (default: each problem's).
    #[arg(long)]
    t_end: Option<f64>,
    /// W1 error above which a finished run is `inaccurate`.
    #[arg(long, default_value_t = 1e-2)]
    tol: f64,
    /// Largest fixed-step cost (steps × cells) before a run is skipped.
    #[arg(long, default_value_t = 5e8)]
    budget: f64,
    /// Cells of the reference solution.
    #[arg(long, default_value_t = 9600)]
    reference_cells: usize,
    /// Folder of cached reference solutions.
    #[arg(long, default_value = "out/cache")]
    cache: PathBuf,
    /// Run only shard i of n (jobs whose index is i mod n), as `i/n`.
    #[arg(long)]
    shard: Option<String>,
    /// Output JSON-lines file (appended; jobs already in it are skipped).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Shard files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Merged output file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct RecommendArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Error tolerance at t_end.
    #[arg(long, default_value_t = 1e-3)]
    tol: f64,
    /// Error metric: w1 (Wasserstein-1) or l1 (60-bin histogram).
    #[arg(long, default_value = "w1")]
    metric: String,
    /// Folder of cached reference solutions.
    #[arg(long, default_value = "out/cache")]
    cache: PathBuf,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name or card file (Fokker–Planck model only; default scharfetter-gummel).
    #[arg(long)]
    scheme: Option<String>,
    /// Density model: fokker-planck, transfer-exact or transfer-gaussian.
    #[arg(long, default_value = "fokker-planck")]
    model: String,
    /// Number of particles.
    #[arg(long, default_value_t = 100_000)]
    particles: usize,
    /// Monte Carlo process: sgd, gd or gaussian.
    #[arg(long, default_value = "sgd")]
    mode: String,
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of cells (density and histogram).
    #[arg(long, default_value_t = 1200)]
    cells: usize,
    /// Time step of the density model (default: the card's).
    #[arg(long)]
    dt: Option<f64>,
    /// Final time (whole steps; default: the problem's).
    #[arg(long)]
    t_end: Option<f64>,
    /// Snapshot interval (whole steps; default: the problem's).
    #[arg(long)]
    every: Option<f64>,
    /// Output folder for the plots and the table.
    #[arg(long, default_value = "out/compare")]
    out: PathBuf,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Solve(a) => solve(a)?,
        Command::Inspect(a) => inspect(a)?,
        Command::Mc(a) => mc(a)?,
        Command::Stationary(a) => {
            let p = Problem::resolve(&a.problem)?;
            print!(
                "{}",
                crate::analysis::endstate::stationary(&p, a.cells)?.text()
            );
        }
        Command::Escape(a) => {
            let p = Problem::resolve(&a.problem)?;
            let opts = crate::analysis::endstate::EscapeOptions {
                wall: a.wall,
                cells: a.cells,
                particles: a.particles,
                modes: a
                    .modes
                    .split(',')
                    .filter(|m| !m.trim().is_empty())
                    .map(|m| McMode::parse(m.trim()))
                    .collect::<Result<Vec<_>>>()?,
                seed: a.seed,
                max_steps: a.max_steps,
                ..crate::analysis::endstate::EscapeOptions::default()
            };
            print!(
                "{}",
                crate::analysis::endstate::escape(&p, a.from, a.past, &opts)?.text()
            );
        }
        Command::Problems => {
            for (name, summary) in BUILTIN_PROBLEMS {
                println!("{name:<12} {summary}");
            }
        }
        Command::Schemes => {
            print!("{}", crate::scheme::catalogue_table_text()?);
        }
        Command::Demo(a) => demo(&a)?,
        Command::Report(a) => report(&a)?,
        Command::Sweep(a) => sweep_cmd(a)?,
        Command::Merge(a) => {
            let recs = crate::testbed::sweep::merge(&a.inputs, &a.out)?;
            println!("merged {} records into {}", recs.len(), a.out.display());
        }
        Command::Recommend(a) => recommend_cmd(a)?,
        Command::Compare(a) => compare_cmd(a)?,
    }
    Ok(())
}

fn progress_bar(label: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(1000);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>28} [{bar:30}] t = {prefix} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    pb
}

fn solve_one(problem: &Problem, scheme: &Scheme, settings: &RunSettings) -> Result<RunReport> {
    let pb = progress_bar(&format!("{} / {}", problem.name, scheme.name));
    let r = run_with_progress(problem, scheme, settings, &mut |t, t_end| {
        pb.set_prefix(format!("{t:.0}"));
        pb.set_position((1000.0 * t / t_end) as u64);
    });
    pb.finish_and_clear();
    r
}

fn print_summary(r: &RunReport) {
    let last = r.moments.last();
    match (r.dt, r.dt_over_limit) {
        (Some(dt), Some(f)) => println!(
            "{} / {} on {} cells, dt = {dt:.4e} ({f:.3} × explicit limit {:.3e})",
            r.problem, r.scheme, r.cells, r.diagnostics.explicit_limit
        ),
        _ => println!(
            "{} / {} on {} cells, adaptive steps (rtol {}, atol {}; explicit limit {:.3e})",
            r.problem,
            r.scheme,
            r.cells,
            r.rtol.map_or("default".into(), |v| format!("{v:e}")),
            r.atol.map_or("default".into(), |v| format!("{v:e}")),
            r.diagnostics.explicit_limit
        ),
    }
    print!("  outcome {}", r.outcome.as_str());
    if let (Some(t), Some(k)) = (r.outcome_t, r.outcome_step) {
        print!(
            " (first at t = {t:.4}, step {k}: {})",
            r.reason.as_deref().unwrap_or("")
        );
    }
    println!();
    if r.events.len() > 1 {
        let ev: Vec<String> = r
            .events
            .iter()
            .map(|e| format!("{} at t = {:.4} (step {})", e.outcome.as_str(), e.t, e.step))
            .collect();
        println!("  monitors fired: {}", ev.join(", then "));
    }
    println!(
        "  t reached {:.4}  steps {}  wall {:.3} s  min_p {:.3e}  mass_error {}",
        r.t_reached,
        r.stats.steps,
        r.wall_s,
        r.min_p,
        r.mass_error.map_or("n/a".into(), |m| format!("{m:.3e}"))
    );
    if let Some(m) = last {
        print!("  at t = {}: mean {:.5}  sd {:.5}", m.t, m.mean, m.sd);
        for (name, v) in r.region_names.iter().zip(&m.regions) {
            print!("  mass_{name} {v:.5}");
        }
        println!();
    }
}

/// Solve under the chosen model: a scheme card for Fokker–Planck, or a transfer operator.
fn solve_model(
    problem: &Problem,
    model: &str,
    scheme: Option<&str>,
    settings: &RunSettings,
) -> Result<RunReport> {
    match crate::time::transfer::Model::parse(model)? {
        crate::time::transfer::Model::FokkerPlanck => {
            let scheme = Scheme::resolve(scheme.unwrap_or(crate::scheme::DEFAULT_SCHEME))?;
            solve_one(problem, &scheme, settings)
        }
        crate::time::transfer::Model::Transfer(kind) => {
            if let Some(s) = scheme {
                return Err(crate::Error::invalid(
                    "scheme",
                    s,
                    format!("model {model} is a discrete-time transfer operator, not a scheme: drop --scheme"),
                ));
            }
            let pb = progress_bar(&format!("{} / {model}", problem.name));
            let r = crate::time::transfer::run_transfer(problem, kind, settings);
            pb.finish_and_clear();
            r
        }
    }
}

fn solve(a: SolveArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    let settings = RunSettings {
        cells: a.cells,
        dt: a.dt,
        t_end: a.t_end,
        every: a.every,
        allow_unstable: a.allow_unstable,
        rtol: a.rtol,
        atol: a.atol,
        ..RunSettings::default()
    };
    let report = solve_model(&problem, &a.model, a.scheme.as_deref(), &settings)?;
    crate::run::output::write_run(&report, &a.out)?;
    print_summary(&report);
    println!(
        "  wrote {}/{{moments.csv, density.csv, run.json}}",
        a.out.display()
    );
    Ok(())
}

fn mc_progress(label: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(1);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>28} [{bar:30}] {pos}/{len} blocks ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    pb
}

/// Run Monte Carlo with a progress bar on standard error.
pub fn run_mc(problem: &Problem, settings: &McSettings) -> Result<McReport> {
    let pb = mc_progress(&format!("mc {} ({})", problem.name, settings.mode.as_str()));
    let r = simulate(problem, settings, &|done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    });
    pb.finish_and_clear();
    r
}

fn mc(a: McArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    let settings = McSettings {
        particles: a.particles,
        seed: a.seed,
        mode: McMode::parse(&a.mode)?,
        t_end: a.t_end,
        every: a.every,
        cells: a.cells,
    };
    let r = run_mc(&problem, &settings)?;
    write_mc(&r, &a.out)?;
    println!(
        "{} / Monte Carlo {} with {} particles, seed {}: {} steps in {:.3} s ({:.1} million particle-steps/s)",
        r.problem,
        r.mode.as_str(),
        r.particles,
        r.seed,
        r.steps,
        r.wall_s,
        r.particle_steps as f64 / r.wall_s / 1e6
    );
    if let Some(m) = r.moments.last() {
        print!(
            "  at t = {}: mean {:.5} ± {:.5}  sd {:.5} ± {:.5}",
            m.t, m.mean, m.mean_se, m.sd, m.sd_se
        );
        for ((name, v), se) in r.region_names.iter().zip(&m.regions).zip(&m.regions_se) {
            print!("  mass_{name} {v:.5} ± {se:.5}");
        }
        println!();
    }
    println!(
        "  wrote {}/{{moments.csv, histogram.csv, mc.json}}",
        a.out.display()
    );
    Ok(())
}

fn inspect(a: InspectArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    problem.validate()?;
    let scheme = Scheme::resolve(&a.scheme)?;
    let grid = crate::space::grid::Grid::new(problem.a, problem.b, a.cells)?;
    let op =
        crate::space::operator::Operator::assemble(&problem, grid, scheme.build_flux()?.as_ref())?;
    let d = op.diagnostics(true);
    println!(
        "{} / {} (flux {}) on {} cells, h = {:.4e}",
        problem.name,
        scheme.name,
        op.flux,
        a.cells,
        grid.h()
    );
    println!(
        "  largest cell Péclet number  {:.4e} at w = {:.5} (faces with D > 0)",
        d.max_peclet, d.max_peclet_w
    );
    println!(
        "  faces with D = 0            {} (drift only there: Péclet number infinite)",
        d.zero_diffusion_faces
    );
    if d.m_matrix {
        println!("  M-matrix                    yes (all off-diagonals >= 0)");
    } else {
        println!(
            "  M-matrix                    NO: {} rows with negative off-diagonals, first at w = {:?}",
            d.negative_offdiagonals, d.negative_offdiagonal_w
        );
    }
    println!(
        "  explicit step limit         {:.6e} (1/max|A_ii|)",
        d.explicit_limit
    );
    match d.stiffness_ratio {
        Some(s) => {
            println!("  stiffness ratio             {s:.4e} (|λ_fastest| / |λ_slowest non-zero|)")
        }
        None => {
            println!("  stiffness ratio             n/a (spectrum not real: some lower·upper < 0)")
        }
    }
    Ok(())
}

/// Runs with progress bars on standard error.
struct WithProgress;

impl Runner for WithProgress {
    fn solve(
        &self,
        problem: &Problem,
        scheme: &Scheme,
        settings: &RunSettings,
    ) -> Result<RunReport> {
        solve_one(problem, scheme, settings)
    }
    fn mc(&self, problem: &Problem, settings: &McSettings) -> Result<McReport> {
        run_mc(problem, settings)
    }
}

fn demo(a: &DemoArgs) -> Result<()> {
    println!("probcurrent demo: the seed validations (DESIGN §2, 1–3)");
    let opts = ValidationOptions {
        particles: a.particles,
        ..ValidationOptions::default()
    };
    let s = seed_validation(&WithProgress, &a.out, "demo", &opts, "probcurrent demo")?;
    for l in &s.lines {
        println!("  {l}");
    }
    println!(
        "wrote {} and {} plots in {}/demo/ ({:.1} s)",
        a.out.join("demo.md").display(),
        s.plots.len(),
        a.out.display(),
        s.wall_s
    );
    Ok(())
}

fn counter_bar(label: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(1);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>28} [{bar:30}] {pos}/{len} runs ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    pb
}

fn report(a: &ReportArgs) -> Result<()> {
    let out = &a.out;
    std::fs::create_dir_all(out).map_err(|source| crate::Error::Io {
        path: out.clone(),
        source,
    })?;
    let command = if a.quick {
        "probcurrent report --quick"
    } else {
        "probcurrent report"
    };
    let opts = if a.quick {
        ValidationOptions {
            particles: 20_000,
            particles_lr_study: 5_000,
            cells: 600,
            dt: 0.5,
            ..ValidationOptions::default()
        }
    } else {
        ValidationOptions::default()
    };
    let sizes = crate::reports::ReportSizes::new(a.quick);
    let pb = counter_bar("report");
    let progress = |label: &str, done: usize, total: usize| {
        pb.set_message(label.to_string());
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    };
    let mut lines = Vec::new();
    let s = seed_validation(&WithProgress, out, "seed-validation", &opts, command)?;
    lines.extend(s.lines);
    let s = crate::reports::stability_report(out, &sizes, &a.cache, &progress)?;
    lines.extend(s.lines);
    let s = crate::reports::work_precision_report(out, &sizes, &a.cache, &progress)?;
    lines.extend(s.lines);
    let s = crate::reports::convergence_report(out, &sizes, &a.cache, &progress)?;
    lines.extend(s.lines);
    let s = crate::time::transfer::models_report(&WithProgress, out, "models", command)?;
    lines.extend(s.lines);
    let s =
        crate::analysis::endstate::end_states_report(&WithProgress, out, "end-states", command)?;
    lines.extend(s.lines);
    pb.finish_and_clear();
    let index = crate::reports::write_index(
        out,
        &[
            ("seed-validation.md", "validations 1–3 of the design on the seed problem: drift only, spreading only, full SGD against Monte Carlo, and the learning-rate study"),
            ("stability.md", "outcome maps over dt × N for every card at pit sharpness k = 10 … 10000, and the largest stable dt per k"),
            ("work-precision.md", "Wasserstein-1 and L1 error against wall time and work, every card, on seed and ou"),
            ("convergence.md", "measured orders against each card's claim, and the Scharfetter–Gummel fittings on seed"),
            ("end-states.md", "stationary densities and point masses, escape times by formula, PDE, Monte Carlo and Kramers, and the flat-minimum bias of the wide-narrow problem across T and B"),
            ("models.md", "Fokker–Planck, the exact SGD transfer operator, the per-step Gaussian rule and Monte Carlo of SGD side by side across T, with the linear-stability explanation"),
        ],
        command,
    )?;
    for l in &lines {
        println!("  {l}");
    }
    println!("wrote {} and the reports it lists", index.display());
    Ok(())
}

fn sweep_cmd(a: SweepArgs) -> Result<()> {
    let cards = match &a.cards {
        Some(c) => list::<String>("cards", c)?,
        None => catalogue()?.into_iter().map(|s| s.name).collect(),
    };
    let knobs = a
        .knobs
        .split(',')
        .map(crate::testbed::sweep::Knob::parse)
        .collect::<Result<Vec<_>>>()?;
    let shard = match &a.shard {
        None => None,
        Some(s) => {
            let bad = || crate::Error::invalid("shard", s, "expected i/n with 0 <= i < n");
            let (i, n) = s.split_once('/').ok_or_else(bad)?;
            Some((
                i.trim().parse().map_err(|_| bad())?,
                n.trim().parse().map_err(|_| bad())?,
            ))
        }
    };
    let spec = crate::testbed::sweep::SweepSpec {
        problems: list("problems", &a.problems)?,
        knobs,
        cards,
        cells: list("cells", &a.cells)?,
        dt_factors: list("dt-factors", &a.dt_factors)?,
        dts: list("dts", &a.dts)?,
        rtols: list("rtols", &a.rtols)?,
        t_end: a.t_end,
        tol: a.tol,
        budget: a.budget,
        reference_cells: a.reference_cells,
        reference_dt: 0.1,
        cache_dir: a.cache.clone(),
    };
    let pb = counter_bar("sweep");
    let recs = crate::testbed::sweep::sweep(&spec, &a.out, shard, &|d, t| {
        pb.set_length(t as u64);
        pb.set_position(d as u64);
    })?;
    pb.finish_and_clear();
    let mut counts = std::collections::BTreeMap::new();
    for r in &recs {
        *counts.entry(r.class.as_str()).or_insert(0usize) += 1;
    }
    println!(
        "{} records in {} ({})",
        recs.len(),
        a.out.display(),
        counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn recommend_cmd(a: RecommendArgs) -> Result<()> {
    let use_l1 = match a.metric.as_str() {
        "w1" => false,
        "l1" => true,
        other => {
            return Err(crate::Error::UnknownName {
                kind: "metric".into(),
                name: other.into(),
                known: "w1, l1".into(),
            })
        }
    };
    let pb = counter_bar("recommend");
    let r = crate::testbed::recommend::recommend(&a.problem, a.tol, use_l1, &a.cache, &|d, t| {
        pb.set_length(t as u64);
        pb.set_position(d as u64);
    })?;
    pb.finish_and_clear();
    print!("{}", r.text());
    Ok(())
}

fn compare_cmd(a: CompareArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    let settings = RunSettings {
        cells: a.cells,
        dt: a.dt,
        t_end: a.t_end,
        every: a.every,
        ..RunSettings::default()
    };
    let model = solve_model(&problem, &a.model, a.scheme.as_deref(), &settings)?;
    let mc = run_mc(
        &problem,
        &McSettings {
            particles: a.particles,
            seed: a.seed,
            mode: McMode::parse(&a.mode)?,
            t_end: a.t_end,
            every: a.every,
            cells: a.cells,
        },
    )?;
    let cmp = crate::analysis::compare::compare(&model, &mc)?;
    println!(
        "{}: {} ({} cells, outcome {}) against Monte Carlo {} ({} particles, ± 1 s.e.)",
        problem.name,
        model.scheme,
        model.cells,
        model.outcome.as_str(),
        mc.mode.as_str(),
        mc.particles
    );
    print!("{}", cmp.text());
    let times: Vec<f64> = crate::analysis::compare::spread_indices(model.moments.len(), 4)
        .into_iter()
        .map(|i| model.moments[i].t)
        .collect();
    let files =
        crate::analysis::compare::write_plots(&a.out, "compare", &model, &mc, &cmp, &times)?;
    let table = a.out.join("compare.md");
    std::fs::write(&table, cmp.markdown()).map_err(|source| crate::Error::Io {
        path: table.clone(),
        source,
    })?;
    println!(
        "wrote {} and {}",
        table.display(),
        files
            .iter()
            .map(|f| a.out.join(f).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
