//! The command-line interface: argument parsing and printing; every computation is a
//! library call. Exit codes: 0 when the command ran, whatever the run's outcome (a
//! blow-up is a measured result); 1 on bad input, with a message naming the value and
//! where it came from; 2 on a malformed command line.

mod args;
mod compare;
mod output;
mod progress;
mod scan;
mod two;
mod two_mc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use args::*;
use output::{files, object, Out};
use probcurrent::analysis::endstate;
use probcurrent::analysis::montecarlo::write_mc;
use probcurrent::error::{Error, Result};
use probcurrent::model::problem::{Problem, BUILTIN_PROBLEMS};
use probcurrent::reports::run_plots::{write_run_plots, Trace};
use probcurrent::reports::validation::{self, Runner};
use probcurrent::reports::{self, text};
use probcurrent::run::solve::{solve_estimated, solve_model, ErrorChoice, ModelChoice};
use probcurrent::run::{output::write_run, RunReport, RunSettings};
use probcurrent::scheme::{catalogue, catalogue_table_text, Scheme, DEFAULT_SCHEME};
use probcurrent::space::auto::grid_for;
use probcurrent::testbed::{recommend, sweep};
use probcurrent::{Grid, Operator};
use progress::{Meter, WithProgress};
use serde_json::json;
use std::path::Path;

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
    /// Print one JSON object on standard output (the run summary or the command's
    /// result) and nothing else.
    #[arg(long, global = true)]
    json: bool,
    /// No progress and no summary prose (a result that is itself text, such as a
    /// listing, is still printed); errors still go to standard error.
    #[arg(long, global = true)]
    quiet: bool,
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
    /// List the built-in problems, or print one in full (`--show NAME`).
    #[command(after_help = include_str!("help/problems.txt"))]
    Problems(ProblemsArgs),
    /// A grid of runs over `--set key=v1,v2,…` lists: one folder per run, overlay plots
    /// and a table of the mean and region masses at the last time.
    #[command(after_help = include_str!("help/scan.txt"))]
    Scan(scan::ScanArgs),
    /// List the scheme catalogue (the cards in schemes/).
    Schemes,
    /// A density model against Monte Carlo per snapshot, with SVG plots.
    #[command(after_help = include_str!("help/compare.txt"))]
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
    /// Print a shell completion script (bash, zsh or fish) on standard output.
    #[command(after_help = include_str!("help/completions.txt"))]
    Completions {
        /// Shell: bash, zsh or fish.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    // whether `--cells` came from the command line (not its 1-D default): 2-D problems
    // have their own default
    let cells_given = matches.subcommand().is_some_and(|(_, m)| {
        m.try_get_raw("cells").is_ok_and(|v| v.is_some())
            && m.value_source("cells") == Some(clap::parser::ValueSource::CommandLine)
    });
    two::set_cells_given(cells_given);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    progress::init(cli.quiet);
    let out = Out {
        json: cli.json,
        quiet: cli.quiet,
    };
    match dispatch(cli.command, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// A solve with the card's own step and no error estimate (what `compare` runs).
fn solve_plain(problem: &Problem, m: &ModelChoice, s: &RunSettings) -> Result<RunReport> {
    let label = format!("{} / {}", problem.name, m.model.as_str());
    let meter = Meter::new(&label, "t = {prefix}");
    let (model, scheme) = (m.model, m.scheme.as_deref());
    let r = solve_model(problem, model, scheme, s, &mut |t, end| meter.time(t, end));
    meter.finish();
    r
}

/// A solve as the `solve` command runs it: the step chosen by accuracy unless given,
/// `--tol` honoured, and the error estimate unless `--no-estimate`.
fn solve(
    problem: &Problem,
    m: &ModelChoice,
    s: &RunSettings,
    e: &ErrorChoice,
) -> Result<RunReport> {
    let label = format!("{} / {}", problem.name, m.model.as_str());
    let meter = Meter::new(&label, "t = {prefix}");
    let r = solve_estimated(problem, m, s, e, &mut |t, end| meter.time(t, end));
    meter.finish();
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

fn dispatch(command: Command, o: Out) -> Result<()> {
    match command {
        Command::Solve(a) if two::is_2d(&a.problem.problem) => {
            if let Some(beta) = a.momentum {
                return Err(Error::invalid(
                    "--momentum",
                    beta.to_string(),
                    "the effective momentum model is built for 1-D problems only",
                ));
            }
            let s = two::Solve2 {
                problem: a.problem.problem,
                sets: a.problem.set,
                cells: two::cells_2d(Some(a.settings.cells)),
                dt: a.settings.dt,
                t_end: a.settings.t_end,
                every: a.settings.every,
                opts: a.two,
                model: a.model,
            };
            two::solve(s, &a.out, o)?;
        }
        Command::Stationary(a) if two::is_2d(&a.problem.problem) => {
            let cells = two::cells_2d(a.cells);
            two::stationary_cmd(&a.problem.problem, &a.problem.set, cells, &a.two, o)?;
        }
        Command::Solve(a) => {
            let mut problem = a.problem.load()?;
            if let Some(beta) = a.momentum {
                problem = compare::effective_for(&problem, a.model.model, beta, "--momentum")?;
            }
            let report = solve(&problem, &a.model, &a.settings, &a.errors)?;
            write_run(&report, &a.out)?;
            let trace = || Trace::from_run(&report.problem, &report);
            let plots = run_plots(&a.out, &a.plots, &[("density", &trace)])?;
            o.prose(&text::run_summary(&report));
            o.prose(&error_lines(&report, a.errors.no_estimate));
            let out = a.out.display();
            o.prose(&format!(
                "  wrote {out}/{{moments.csv, density.csv, run.json{}}}\n",
                list_tail(&plots)
            ));
            let mut names = vec!["moments.csv", "density.csv", "run.json"];
            names.extend(plots.iter().map(String::as_str));
            o.json_text(|| object(&report, &[("files", files(&a.out, &names))]))?;
        }
        Command::Inspect(a) if two::is_2d(&a.problem.problem) => {
            let cells = two::cells_2d(a.cells);
            two::inspect(&a.problem.problem, &a.problem.set, cells, &a.two, o)?;
        }
        Command::Inspect(a) => {
            let problem = a.problem.load()?;
            let scheme = Scheme::resolve(a.scheme.as_deref().unwrap_or(DEFAULT_SCHEME))?;
            let grid = grid_for(&problem, a.grid, a.cells.unwrap_or(600))?;
            o.result(&text::inspect(&problem, &scheme, &grid)?);
            if o.json {
                o.json(inspect_json(&problem, &scheme, &grid)?)?;
            }
        }
        Command::Mc(a) if two_mc::is_two_d(&a.problem.problem) => two_mc::mc(&a, o)?,
        Command::Mc(a) => {
            let mut problem = a.problem.load()?;
            if let Some(k) = a.grid {
                problem.grid = k.into();
            }
            let r = WithProgress.mc(&problem, &a.settings)?;
            write_mc(&r, &a.out)?;
            let label = format!("{} Monte Carlo ({})", r.problem, r.mode.as_str());
            let trace = || Trace::from_mc(&label, &r);
            let plots = run_plots(&a.out, &a.plots, &[("density", &trace)])?;
            o.prose(&text::mc_summary(&r));
            let out = a.out.display();
            o.prose(&format!(
                "  wrote {out}/{{moments.csv, histogram.csv, mc.json{}}}\n",
                list_tail(&plots)
            ));
            let mut names = vec!["moments.csv", "histogram.csv", "mc.json"];
            names.extend(plots.iter().map(String::as_str));
            o.json_text(|| object(&r, &[("files", files(&a.out, &names))]))?;
        }
        Command::Stationary(a) => {
            let mut p = a.problem.load()?;
            if let Some(k) = a.grid {
                p.grid = k.into();
            }
            let r = endstate::stationary(&p, a.cells.unwrap_or(1200))?;
            o.result(&r.text());
            o.json_text(|| object(&r, &[]))?;
        }
        Command::Escape(a) => {
            let p = a.problem.load()?;
            let r = endstate::escape_auto(&p, a.from.0, a.past.0, &a.options)?;
            o.result(&r.text());
            o.json_text(|| object(&r, &[]))?;
        }
        Command::Problems(a) => problems(a, &o)?,
        Command::Schemes => {
            o.result(&catalogue_table_text()?);
            let rows: Vec<_> = catalogue()?.iter().map(Scheme::row).collect();
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({"card": r.card, "flux": r.flux, "integrator": r.integrator,
                           "claims": r.claims, "summary": r.summary})
                })
                .collect();
            o.json(json!({ "schemes": list }))?;
        }
        other => return dispatch_studies(other, o),
    }
    Ok(())
}

/// `problems`: the listing, or one problem in full with `--show`.
fn problems(a: ProblemsArgs, o: &Out) -> Result<()> {
    if let Some(name) = a.show {
        if two::is_2d(&name) {
            return two::show(&name, o);
        }
        let (table, _) = Problem::resolved_table(&name)?;
        let toml =
            toml::to_string(&table).map_err(|e| Error::invalid("problem", &name, e.to_string()))?;
        let text = format!(
            "# problem `{name}` with every setting explicit (read back: --problem FILE)\n{toml}"
        );
        o.result(&text);
        return o.json(json!({"problem": name, "toml": text}));
    }
    let lines: String = BUILTIN_PROBLEMS
        .iter()
        .map(|(n, s)| format!("{n:<12} {s}\n"))
        .collect();
    o.result(&(lines + &two::problems_lines()));
    let mut list: Vec<_> = BUILTIN_PROBLEMS
        .iter()
        .map(|(n, s)| json!({"name": n, "summary": s}))
        .collect();
    list.extend(two::problems_json());
    o.json(json!({ "problems": list }))
}

/// The plots of each run (`<stem>_heatmap.svg`, `<stem>_moments.svg`) unless
/// `--no-plots`; the file names written.
fn run_plots(dir: &Path, p: &PlotOpts, runs: &[(&str, &dyn Fn() -> Trace)]) -> Result<Vec<String>> {
    if p.no_plots {
        return Ok(vec![]);
    }
    let mut names = vec![];
    for (stem, trace) in runs {
        names.extend(write_run_plots(dir, stem, &trace(), p.log_color)?);
    }
    Ok(names)
}

/// ", a, b" for a non-empty list (appended to a list of written files).
fn list_tail(names: &[String]) -> String {
    names.iter().map(|n| format!(", {n}")).collect()
}

/// `problem` asking for exactly `grid` (its cells if uniform, else its edges), so the
/// Monte Carlo of `compare` histograms on the density run's cells.
pub(crate) fn on_grid(problem: &Problem, grid: &Grid) -> Problem {
    use probcurrent::model::grid_choice::GridChoice;
    let mut p = problem.clone();
    p.grid = match grid.is_uniform() {
        true => GridChoice::Uniform,
        false => GridChoice::Edges(grid.faces().into()),
    };
    p
}

/// The `--json` object of `inspect`: the problem, the card, the grid and the
/// operator's diagnostics.
fn inspect_json(problem: &Problem, scheme: &Scheme, grid: &Grid) -> Result<serde_json::Value> {
    let op = Operator::assemble(problem, grid.clone(), scheme.build_flux()?.as_ref())?;
    let ((i_lo, h_lo), (i_hi, h_hi)) = grid.extreme_cells();
    Ok(json!({
        "problem": problem.name,
        "scheme": scheme.name,
        "flux": op.flux.to_string(),
        "cells": grid.n,
        "grid": grid,
        "h_min": h_lo,
        "h_min_w": grid.centre(i_lo),
        "h_max": h_hi,
        "h_max_w": grid.centre(i_hi),
        "diagnostics": op.diagnostics(true),
    }))
}

/// The commands that run studies and write folders: compare, demo, report, sweep,
/// merge, recommend, completions.
fn dispatch_studies(command: Command, o: Out) -> Result<()> {
    match command {
        Command::Compare(a) if two_mc::is_two_d(&a.problem.problem) => {
            compare::refuse_momentum_2d(&a)?;
            two_mc::compare(&a, o)?
        }
        Command::Compare(a) => compare::compare(&a, o)?,
        Command::Demo(a) => {
            o.prose("probcurrent demo: the seed validations (drift, spreading, full SGD)\n");
            let opts = validation::ValidationOptions {
                particles: a.particles,
                plots_beside: true,
                ..Default::default()
            };
            let cmd = "probcurrent demo";
            let s = validation::seed_validation(&WithProgress, &a.out, "demo", &opts, cmd)?;
            s.lines.iter().for_each(|l| o.prose(&format!("  {l}\n")));
            let (out, n, secs) = (a.out.display(), s.plots.len(), s.wall_s);
            o.prose(&format!(
                "wrote {out}/demo.md and {n} plots in {out}/ ({secs:.1} s)\n"
            ));
            let md = a.out.join("demo.md").display().to_string();
            let plots: Vec<&str> = s.plots.iter().map(String::as_str).collect();
            o.json(json!({"markdown": md, "plots": files(&a.out, &plots),
                          "findings": s.lines, "wall_s": s.wall_s}))?;
        }
        Command::Report(a) => {
            let meter = Meter::new("report", "{pos}/{len} runs, eta {eta}");
            let progress = |label: &str, done: usize, total: usize| {
                meter.set_label(label);
                meter.count(done, total);
            };
            let (out, cache) = (&a.out, &a.cache);
            let (index, lines) =
                reports::all::write_all(out, a.quick, cache, &WithProgress, &progress)?;
            meter.finish();
            lines.iter().for_each(|l| o.prose(&format!("  {l}\n")));
            let index = index.display().to_string();
            o.prose(&format!("wrote {index} and the reports it lists\n"));
            o.json(json!({"index": index, "findings": lines}))?;
        }
        Command::Scan(a) => scan::scan(&a, &o)?,
        other => return dispatch_sweeps(other, o),
    }
    Ok(())
}

/// Sweeps and what is built on them, and the completion scripts.
fn dispatch_sweeps(command: Command, o: Out) -> Result<()> {
    match command {
        Command::Sweep(a) => {
            let meter = Meter::new("sweep", "{pos}/{len} runs, eta {eta}");
            let recs = sweep::sweep(&a.spec, &a.out, a.shard, &|d, t| meter.count(d, t))?;
            meter.finish();
            let counts = sweep::class_counts(&recs);
            let out = a.out.display().to_string();
            o.prose(&format!("{} records in {out} ({counts})\n", recs.len()));
            o.json(json!({"records": recs.len(), "out": out, "classes": counts}))?;
        }
        Command::Merge { inputs, out } => {
            let recs = sweep::merge(&inputs, &out)?;
            let out = out.display().to_string();
            o.prose(&format!("merged {} records into {out}\n", recs.len()));
            o.json(json!({"records": recs.len(), "out": out}))?;
        }
        Command::Recommend(a) => {
            let meter = Meter::new("recommend", "{pos}/{len} runs, eta {eta}");
            if let Some(s) = a.problem.set.first() {
                let why = "recommend sweeps named problems: write the override into a problem file (`base` plus the key)";
                return Err(Error::invalid("--set", s, why));
            }
            let (problem, use_l1) = (&a.problem.problem, a.metric == "l1");
            let r =
                recommend::recommend(problem, a.tol, use_l1, &a.cache, &|d, t| meter.count(d, t))?;
            meter.finish();
            o.result(&r.text());
            o.json_text(|| object(&r, &[]))?;
        }
        Command::Completions { shell } => {
            let script = completion_script(&shell)?;
            o.result(&script);
            o.json(json!({"shell": shell, "script": script}))?;
        }
        _ => unreachable!("dispatch handles the other commands"),
    }
    Ok(())
}

/// The completion script of `probcurrent` for `shell` (bash, zsh or fish).
fn completion_script(shell: &str) -> Result<String> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let sh = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => return Err(Error::invalid("shell", shell, "expected bash, zsh or fish")),
    };
    let mut buf = Vec::new();
    clap_complete::generate(sh, &mut Cli::command(), "probcurrent", &mut buf);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
