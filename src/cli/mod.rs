//! The command-line interface: argument parsing and printing; every computation is a
//! library call. Exit codes: 0 when the command ran, whatever the run's outcome (a
//! blow-up is a measured result); 1 on bad input, with a message naming the value and
//! where it came from; 2 on a malformed command line.

mod args;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use args::*;
use probcurrent::analysis::endstate;
use probcurrent::analysis::montecarlo::{write_mc, McSettings};
use probcurrent::error::Result;
use probcurrent::model::problem::{Problem, BUILTIN_PROBLEMS};
use probcurrent::reports::validation::{self, Runner};
use probcurrent::reports::{self, text};
use probcurrent::run::solve::{solve_estimated, solve_model, ModelChoice};
use probcurrent::run::{output::write_run, RunReport, RunSettings};
use probcurrent::scheme::{catalogue_table_text, Scheme, DEFAULT_SCHEME};
use probcurrent::testbed::{recommend, sweep};
use progress::{bar, count_callback, time_callback, WithProgress};

/// SGD on a one-parameter loss as a probability density: Fokker–Planck solvers and
/// their stability testbed.
#[derive(Parser, Debug)]
#[command(
    name = "probcurrent",
    version,
    about,
    after_help = include_str!("help/main.txt")
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve a problem; write moments.csv, density.csv and run.json, print the outcome.
    #[command(after_help = include_str!("help/solve.txt"))]
    Solve(SolveArgs),
    /// A-priori diagnostics: Péclet number, M-matrix, explicit step limit, stiffness ratio.
    Inspect(InspectArgs),
    /// Monte Carlo of SGD, gradient descent or Gaussian kicks: moments.csv and histogram.csv.
    #[command(after_help = include_str!("help/mc.txt"))]
    Mc(McArgs),
    /// The stationary density (closed form and each flux's null vector) and point masses.
    Stationary(InspectArgs),
    /// Mean first-passage time from a minimum past a barrier: formula, PDE, Monte Carlo, Kramers.
    #[command(after_help = include_str!("help/escape.txt"))]
    Escape(EscapeArgs),
    /// List the built-in problems.
    Problems,
    /// List the scheme catalogue (the cards in schemes/).
    Schemes,
    /// A density model against Monte Carlo per snapshot, with SVG plots.
    #[command(mut_arg("cells", |a| a.default_value("1200").help("Number of cells (density and histogram)")))]
    Compare(CompareArgs),
    /// The main job: the seed validations as markdown with SVG plots, and a summary.
    Demo(DemoArgs),
    /// Regenerate every report (reports/ and its index).
    #[command(after_help = include_str!("help/report.txt"))]
    Report(ReportArgs),
    /// A sweep over cards × problems × cells × steps × knobs as JSON lines, scored
    /// against a converged reference (resumable; `--shard i/n`, then `merge`).
    #[command(after_help = include_str!("help/sweep.txt"))]
    Sweep(SweepArgs),
    /// Merge sweep shards (JSON lines) into one file: one record per job, in job order.
    Merge {
        /// Shard files.
        #[arg(required = true)]
        inputs: Vec<std::path::PathBuf>,
        /// Merged output file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Name the cheapest card that meets a tolerance on a problem, with the evidence.
    Recommend(RecommendArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    match dispatch(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn solve(problem: &Problem, m: &ModelChoice, s: &RunSettings) -> Result<RunReport> {
    let label = format!("{} / {}", problem.name, m.model.as_str());
    let pb = bar(&label, "t = {prefix}");
    let (model, scheme) = (m.model, m.scheme.as_deref());
    let r = solve_model(problem, model, scheme, s, &mut time_callback(&pb));
    pb.finish_and_clear();
    r
}

/// The lines `solve` prints about how the step was chosen and the error estimate
/// (with its cost; "wall" is followed by the seconds).
fn error_lines(r: &RunReport, skipped: bool) -> String {
    let mut s = String::new();
    if let Some(c) = &r.choice {
        let (rule, n, wall) = (&c.rule, c.solves, c.wall_s);
        s += &format!("  {rule} ({n} solves, wall {wall:.3} s)\n");
    }
    match &r.error_estimate {
        Some(e) => {
            let (w, sp, ti, n, wall) = (e.w1, e.w1_space, e.w1_time, e.solves, e.cost_s);
            s += &format!("  error estimate W1 {w:.3e} (space {sp:.2e}, time {ti:.2e}; {n} extra solves, wall {wall:.3} s)\n");
            s += &format!("    {}\n", e.method);
        }
        None if skipped => s += "  error estimate skipped (--no-estimate)\n",
        None => s += "  error estimate: none (transfer model, or a run did not reach t_end)\n",
    }
    s
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Solve(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let label = format!("{} / {}", problem.name, a.model.model.as_str());
            let pb = bar(&label, "t = {prefix}");
            let (m, s, e) = (&a.model, &a.settings, &a.errors);
            let report = solve_estimated(&problem, m, s, e, &mut time_callback(&pb));
            pb.finish_and_clear();
            let report = report?;
            write_run(&report, &a.out)?;
            print!("{}", text::run_summary(&report));
            print!("{}", error_lines(&report, e.no_estimate));
            let out = a.out.display();
            println!("  wrote {out}/{{moments.csv, density.csv, run.json}}");
        }
        Command::Inspect(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let scheme = Scheme::resolve(a.scheme.as_deref().unwrap_or(DEFAULT_SCHEME))?;
            let cells = a.cells.unwrap_or(600);
            print!("{}", text::inspect(&problem, &scheme, cells)?);
        }
        Command::Mc(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let r = WithProgress.mc(&problem, &a.settings)?;
            write_mc(&r, &a.out)?;
            print!("{}", text::mc_summary(&r));
            let out = a.out.display();
            println!("  wrote {out}/{{moments.csv, histogram.csv, mc.json}}");
        }
        Command::Stationary(a) => {
            let p = Problem::resolve(&a.problem.problem)?;
            let cells = a.cells.unwrap_or(1200);
            print!("{}", endstate::stationary(&p, cells)?.text());
        }
        Command::Escape(a) => {
            let p = Problem::resolve(&a.problem.problem)?;
            let r = endstate::escape(&p, a.from, a.past, &a.options)?;
            print!("{}", r.text());
        }
        Command::Problems => BUILTIN_PROBLEMS
            .iter()
            .for_each(|(n, s)| println!("{n:<12} {s}")),
        Command::Schemes => print!("{}", catalogue_table_text()?),
        Command::Compare(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let model = solve(&problem, &a.model, &a.settings)?;
            let mc_settings = McSettings::beside(&a.settings, a.particles, a.seed, a.mode);
            let mc = WithProgress.mc(&problem, &mc_settings)?;
            let (cmp, files) = reports::compare::write(&a.out, &model, &mc)?;
            print!("{}{}", text::compare_header(&model, &mc), cmp.text());
            println!("wrote {} in {}", files.join(", "), a.out.display());
        }
        Command::Demo(a) => {
            println!("probcurrent demo: the seed validations (drift, spreading, full SGD)");
            let particles = a.particles;
            let opts = validation::ValidationOptions {
                particles,
                ..Default::default()
            };
            let cmd = "probcurrent demo";
            let s = validation::seed_validation(&WithProgress, &a.out, "demo", &opts, cmd)?;
            s.lines.iter().for_each(|l| println!("  {l}"));
            let (out, n, secs) = (a.out.display(), s.plots.len(), s.wall_s);
            println!("wrote {out}/demo.md and {n} plots in {out}/demo/ ({secs:.1} s)");
        }
        Command::Report(a) => {
            let pb = bar("report", "{pos}/{len} runs, eta {eta}");
            let progress = |label: &str, done: usize, total: usize| {
                pb.set_message(label.to_string());
                count_callback(&pb)(done, total);
            };
            let (out, cache) = (&a.out, &a.cache);
            let (index, lines) =
                reports::all::write_all(out, a.quick, cache, &WithProgress, &progress)?;
            pb.finish_and_clear();
            lines.iter().for_each(|l| println!("  {l}"));
            println!("wrote {} and the reports it lists", index.display());
        }
        Command::Sweep(a) => {
            let pb = bar("sweep", "{pos}/{len} runs, eta {eta}");
            let recs = sweep::sweep(&a.spec, &a.out, a.shard, &count_callback(&pb))?;
            pb.finish_and_clear();
            let counts = sweep::class_counts(&recs);
            println!("{} records in {} ({counts})", recs.len(), a.out.display());
        }
        Command::Merge { inputs, out } => {
            let recs = sweep::merge(&inputs, &out)?;
            println!("merged {} records into {}", recs.len(), out.display());
        }
        Command::Recommend(a) => {
            let pb = bar("recommend", "{pos}/{len} runs, eta {eta}");
            let (problem, use_l1) = (&a.problem.problem, a.metric == "l1");
            let r = recommend::recommend(problem, a.tol, use_l1, &a.cache, &count_callback(&pb))?;
            pb.finish_and_clear();
            print!("{}", r.text());
        }
    }
    Ok(())
}
