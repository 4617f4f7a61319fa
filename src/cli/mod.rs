//! The command-line interface (`probcurrent --help`): argument parsing and printing
//! only; every computation is a library call.
//!
//! Exit codes: 0 when the command ran (whatever the run's outcome: a blow-up is a
//! measured result, reported in run.json and on the terminal); 1 on an error (bad
//! input, unknown name, unreadable file), with a message naming the value and where
//! it came from; 2 on a malformed command line.

mod args;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::analysis::{endstate, montecarlo};
use crate::error::Result;
use crate::model::problem::{Problem, BUILTIN_PROBLEMS};
use crate::reports::{text, validation};
use crate::run::{output::write_run, solve::solve_model, RunReport, RunSettings};
use crate::scheme::{catalogue_table_text, Scheme, DEFAULT_SCHEME};
use crate::testbed::{recommend, sweep};
use args::*;
use progress::{bar, count_callback, time_callback, WithProgress};

/// SGD on a one-parameter loss as a probability density: Fokker–Planck solvers and
/// their stability testbed.
#[derive(Parser, Debug)]
#[command(
    name = "probcurrent",
    version,
    about,
    after_help = "Examples:
  probcurrent demo
  probcurrent solve --problem seed --scheme scharfetter-gummel --cells 1200 --dt 1 --out out/sg
  probcurrent inspect --problem seed --scheme crank-nicolson --cells 1200
  probcurrent problems
  probcurrent schemes"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve a problem and write moments.csv, density.csv and run.json (the outcome —
    /// ok, negative, oscillating, diverged, failed — is printed; exit code 0 whatever it is).
    #[command(after_help = "Examples:
  probcurrent solve --problem seed --scheme explicit-upwind --cells 600 --t-end 500 --out out/up
  probcurrent solve --problem seed --scheme explicit-upwind --dt 3e-3 --allow-unstable --out out/blowup
  probcurrent solve --problem seed --model transfer-exact --cells 3000 --t-end 500 --out out/te")]
    Solve(SolveArgs),
    /// A-priori diagnostics: Péclet number, M-matrix, explicit step limit, stiffness ratio.
    Inspect(InspectArgs),
    /// Monte Carlo of SGD, gradient descent or Gaussian kicks: moments.csv (with standard
    /// errors) and histogram.csv; bit-identical for a seed at any thread count.
    #[command(after_help = "Example:
  probcurrent mc --problem seed --particles 200000 --seed 1 --t-end 500 --every 50 --out out/mc")]
    Mc(McArgs),
    /// The stationary density (closed form and each flux's null vector) and point masses.
    Stationary(InspectArgs),
    /// Mean first-passage time from a minimum past a barrier: formula, PDE, Monte Carlo, Kramers.
    #[command(after_help = "Examples:
  probcurrent escape --problem seed --from 1.00745 --past 1.3
  probcurrent escape --problem wide-narrow --from -1 --past 0.5 --particles 2000")]
    Escape(EscapeArgs),
    /// List the built-in problems.
    Problems,
    /// List the scheme catalogue (the cards in schemes/).
    Schemes,
    /// A density model against Monte Carlo per snapshot, with SVG plots.
    Compare(CompareArgs),
    /// The main job: the seed validations as markdown with SVG plots, and a summary.
    Demo(DemoArgs),
    /// Regenerate every report (reports/ and its index).
    #[command(after_help = "Example:
  probcurrent report --quick --out /tmp/r   # small grids: a smoke test")]
    Report(ReportArgs),
    /// A sweep over cards × problems × cells × steps × knobs as JSON lines, scored
    /// against a converged reference (resumable; `--shard i/n`, then `merge`).
    #[command(after_help = "Example:
  probcurrent sweep --problems seed --knobs k=10,k=1000 --cells 300,600 --dt-factors 0.9,10 --out out/s.jsonl")]
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

fn settings(cells: usize, m: &ModelOpts, time: &TimeOpts) -> RunSettings {
    RunSettings {
        cells,
        dt: m.dt,
        t_end: time.t_end,
        every: time.every,
        ..RunSettings::default()
    }
}

fn solve(problem: &Problem, m: &ModelOpts, s: &RunSettings) -> Result<RunReport> {
    let pb = bar(
        &format!("{} / {}", problem.name, m.model.as_str()),
        "t = {prefix}",
    );
    let r = solve_model(
        problem,
        m.model,
        m.scheme.as_deref(),
        s,
        &mut time_callback(&pb),
    );
    pb.finish_and_clear();
    r
}

fn mc_settings(p: &ParticleOpts, time: &TimeOpts, cells: usize) -> montecarlo::McSettings {
    let (t_end, every) = (time.t_end, time.every);
    let (particles, seed, mode) = (p.particles, p.seed, p.mode);
    montecarlo::McSettings {
        particles,
        seed,
        mode,
        t_end,
        every,
        cells,
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Solve(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let mut s = settings(a.cells, &a.model, &a.time);
            (s.allow_unstable, s.rtol, s.atol) = (a.allow_unstable, a.rtol, a.atol);
            let report = solve(&problem, &a.model, &s)?;
            write_run(&report, &a.out)?;
            print!("{}", text::run_summary(&report));
            println!(
                "  wrote {}/{{moments.csv, density.csv, run.json}}",
                a.out.display()
            );
        }
        Command::Inspect(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let scheme = Scheme::resolve(a.scheme.as_deref().unwrap_or(DEFAULT_SCHEME))?;
            print!(
                "{}",
                text::inspect(&problem, &scheme, a.cells.unwrap_or(600))?
            );
        }
        Command::Mc(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let r = progress::mc(&problem, &mc_settings(&a.particles, &a.time, a.cells))?;
            montecarlo::write_mc(&r, &a.out)?;
            print!("{}", text::mc_summary(&r));
            println!(
                "  wrote {}/{{moments.csv, histogram.csv, mc.json}}",
                a.out.display()
            );
        }
        Command::Stationary(a) => {
            let p = Problem::resolve(&a.problem.problem)?;
            print!(
                "{}",
                endstate::stationary(&p, a.cells.unwrap_or(1200))?.text()
            );
        }
        Command::Escape(a) => {
            let p = Problem::resolve(&a.problem.problem)?;
            let (wall, cells, particles, seed) = (a.wall, a.cells, a.particles, a.seed);
            let (modes, max_steps) = (a.modes, a.max_steps);
            let opts = endstate::EscapeOptions {
                wall,
                cells,
                particles,
                modes,
                seed,
                max_steps,
                ..endstate::EscapeOptions::default()
            };
            print!("{}", endstate::escape(&p, a.from, a.past, &opts)?.text());
        }
        Command::Problems => BUILTIN_PROBLEMS
            .iter()
            .for_each(|(n, s)| println!("{n:<12} {s}")),
        Command::Schemes => print!("{}", catalogue_table_text()?),
        Command::Compare(a) => {
            let problem = Problem::resolve(&a.problem.problem)?;
            let model = solve(&problem, &a.model, &settings(a.cells, &a.model, &a.time))?;
            let mc = progress::mc(&problem, &mc_settings(&a.particles, &a.time, a.cells))?;
            let (cmp, files) = crate::reports::compare::write(&a.out, &model, &mc)?;
            print!("{}{}", text::compare_header(&model, &mc), cmp.text());
            println!("wrote {} in {}", files.join(", "), a.out.display());
        }
        Command::Demo(a) => {
            println!(
                "probcurrent demo: the seed validations (drift only, spreading only, full SGD)"
            );
            let opts = validation::ValidationOptions {
                particles: a.particles,
                ..Default::default()
            };
            let s = validation::seed_validation(
                &WithProgress,
                &a.out,
                "demo",
                &opts,
                "probcurrent demo",
            )?;
            s.lines.iter().for_each(|l| println!("  {l}"));
            let md = a.out.join("demo.md");
            println!(
                "wrote {} and {} plots in {}/demo/ ({:.1} s)",
                md.display(),
                s.plots.len(),
                a.out.display(),
                s.wall_s
            );
        }
        Command::Report(a) => {
            let pb = bar("report", "{pos}/{len} runs, eta {eta}");
            let progress = |label: &str, done: usize, total: usize| {
                pb.set_message(label.to_string());
                count_callback(&pb)(done, total);
            };
            let (index, lines) = crate::reports::all::write_all(
                &a.out,
                a.quick,
                &a.cache,
                &WithProgress,
                &progress,
            )?;
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
