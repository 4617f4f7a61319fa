//! The command-line interface (`probcurrent --help`).
//!
//! Exit codes: 0 when the command ran (whatever the run's outcome: a blow-up is a
//! measured result, reported in run.json and on the terminal); 1 on an error (bad
//! input, unknown name, unreadable file), with a message naming the value and where
//! it came from; 2 on a malformed command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::Result;
use crate::montecarlo::{simulate, write_mc, McMode, McReport, McSettings};
use crate::problem::{Problem, BUILTIN_PROBLEMS};
use crate::run::{run_with_progress, RunReport, RunSettings};
use crate::scheme::{catalogue, Scheme};
use crate::validation::{seed_validation, Runner, ValidationOptions};

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
    /// Regenerate the committed reports in reports/ (seed-validation.md and its plots).
    #[command(after_help = "\
Example:
  probcurrent report --out reports")]
    Report(ReportArgs),
}

#[derive(Args, Debug)]
struct SolveArgs {
    /// Built-in problem name (see `probcurrent problems`) or a problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name (see `probcurrent schemes`) or a scheme card TOML file.
    #[arg(long, default_value = "scharfetter-gummel")]
    scheme: String,
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
struct InspectArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name or card file.
    #[arg(long, default_value = "scharfetter-gummel")]
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
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Built-in problem name or problem TOML file.
    #[arg(long, default_value = "seed")]
    problem: String,
    /// Scheme name or card file.
    #[arg(long, default_value = "scharfetter-gummel")]
    scheme: String,
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
        Command::Problems => {
            for (name, summary) in BUILTIN_PROBLEMS {
                println!("{name:<12} {summary}");
            }
        }
        Command::Schemes => {
            for s in catalogue()? {
                println!("{:<26} {}", s.name, s.summary);
            }
        }
        Command::Demo(a) => demo(&a)?,
        Command::Report(a) => report(&a.out)?,
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
    println!(
        "{} / {} on {} cells, dt = {} ({:.3} × explicit limit {:.3e})",
        r.problem,
        r.scheme,
        r.cells,
        r.dt.map_or("adaptive".into(), |d| format!("{d:.4e}")),
        r.dt_over_limit.unwrap_or(f64::NAN),
        r.diagnostics.explicit_limit
    );
    print!("  outcome {}", r.outcome.as_str());
    if let (Some(t), Some(k)) = (r.outcome_t, r.outcome_step) {
        print!(
            " (first at t = {t:.4}, step {k}: {})",
            r.reason.as_deref().unwrap_or("")
        );
    }
    println!();
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

fn solve(a: SolveArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    let scheme = Scheme::resolve(&a.scheme)?;
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
    let report = solve_one(&problem, &scheme, &settings)?;
    crate::output::write_run(&report, &a.out)?;
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
    let grid = crate::grid::Grid::new(problem.a, problem.b, a.cells)?;
    let op = crate::operator::Operator::assemble(&problem, grid, scheme.build_flux()?.as_ref())?;
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

fn report(out: &Path) -> Result<()> {
    let s = seed_validation(
        &WithProgress,
        out,
        "seed-validation",
        &ValidationOptions::default(),
        "probcurrent report",
    )?;
    for l in &s.lines {
        println!("  {l}");
    }
    println!("wrote {}", out.join("seed-validation.md").display());
    Ok(())
}

fn compare_cmd(a: CompareArgs) -> Result<()> {
    let problem = Problem::resolve(&a.problem)?;
    let scheme = Scheme::resolve(&a.scheme)?;
    let settings = RunSettings {
        cells: a.cells,
        dt: a.dt,
        t_end: a.t_end,
        every: a.every,
        ..RunSettings::default()
    };
    let model = solve_one(&problem, &scheme, &settings)?;
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
    let cmp = crate::compare::compare(&model, &mc)?;
    println!(
        "{}: {} ({} cells, outcome {}) against Monte Carlo {} ({} particles, ± 1 s.e.)",
        problem.name,
        scheme.name,
        model.cells,
        model.outcome.as_str(),
        mc.mode.as_str(),
        mc.particles
    );
    print!("{}", cmp.text());
    let times: Vec<f64> = crate::compare::spread_indices(model.moments.len(), 4)
        .into_iter()
        .map(|i| model.moments[i].t)
        .collect();
    let files = crate::compare::write_plots(&a.out, "compare", &model, &mc, &cmp, &times)?;
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
