//! `scan`: a Cartesian grid of runs over `--set key=v1,v2,…` lists (learning rate,
//! batch, schedule parameters, any problem field), one folder per run, overlay plots
//! of the moments, region masses and final densities, and a table of the mean and the
//! region masses at the last time (markdown and CSV).
//!
//! `--momentum β1,β2,…` adds an axis of heavy-ball momenta (the slowest-varying one):
//! Monte Carlo runs (`--mc`) simulate heavy ball (`--nesterov`: Nesterov's look-ahead),
//! density runs solve the first-order effective Fokker–Planck model, the same problem
//! at learning rate T/(1 − β) (Li, Tai & E, "Stochastic modified equations and adaptive
//! stochastic gradient algorithms", 2017); the transfer models are refused with a
//! momentum (they cannot carry a velocity).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use probcurrent::analysis::montecarlo::{write_mc, McMode, McSettings};
use probcurrent::error::{Error, Result};
use probcurrent::model::problem::{Override, Problem};
use probcurrent::reports::run_plots::{write_overlays, write_run_plots, Trace};
use probcurrent::run::output::write_run;
use probcurrent::run::solve::ModelChoice;
use probcurrent::run::RunSettings;

use crate::cli::args::ProblemOpt;
use crate::cli::output::{files, Out};
use crate::cli::progress::WithProgress;
use probcurrent::reports::validation::Runner;

/// Arguments of `scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub problem: ProblemOpt,
    #[command(flatten)]
    pub model: ModelChoice,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Run Monte Carlo (of `--mode`) instead of the density model.
    #[arg(long)]
    pub mc: bool,
    /// Particles per Monte Carlo run (with `--mc`).
    #[arg(long, default_value_t = 20_000)]
    pub particles: usize,
    /// Seed of the random streams (with `--mc`).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Monte Carlo process (with `--mc`): sgd, gd or gaussian.
    #[arg(long, default_value = "sgd", value_parser = McMode::parse)]
    pub mode: McMode,
    /// Heavy-ball momenta β in [0, 1), comma-separated: one more axis of the grid
    /// (varies slowest). Monte Carlo runs simulate heavy ball; density runs solve the
    /// effective Fokker–Planck model at learning rate T/(1 − β).
    #[arg(long, value_delimiter = ',', value_name = "BETAS")]
    pub momentum: Vec<f64>,
    /// With `--momentum` and `--mc`: Nesterov's look-ahead, ĝ taken at W + β v.
    #[arg(long)]
    pub nesterov: bool,
    /// Colour each run's density heatmap by log10 P.
    #[arg(long)]
    pub log_color: bool,
    /// Output folder: one sub-folder per run, the overlays and the table.
    #[arg(long, default_value = "out/scan")]
    pub out: PathBuf,
}

/// The runs of a scan: per run, the varied `key=value` pairs and the full `--set` list.
pub fn grid(sets: &[String]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut runs: Vec<(Vec<String>, Vec<String>)> = vec![(vec![], vec![])];
    for s in sets {
        match Override::split_list(s) {
            Some((key, values)) => {
                let key = key.trim();
                runs = runs
                    .into_iter()
                    .flat_map(|(varied, all)| {
                        values.iter().map(move |v| {
                            let kv = format!("{key}={}", v.trim());
                            let mut varied = varied.clone();
                            varied.push(kv.clone());
                            let mut all = all.clone();
                            all.push(kv);
                            (varied, all)
                        })
                    })
                    .collect();
            }
            None => runs.iter_mut().for_each(|(_, all)| all.push(s.clone())),
        }
    }
    runs
}

/// One run of a scan: its momentum, the varied `key=value` pairs (`β=…` first when
/// momenta are scanned) and the full `--set` list.
type Run = (Option<f64>, Vec<String>, Vec<String>);

/// The runs of `grid` for each momentum of `betas` (the slowest axis); a `β=…` pair
/// leads the varied list when momenta are scanned.
pub fn with_momenta(betas: &[Option<f64>], grid: Vec<(Vec<String>, Vec<String>)>) -> Vec<Run> {
    betas
        .iter()
        .flat_map(|&beta| {
            grid.iter().map(move |(varied, all)| {
                let mut v = Vec::with_capacity(varied.len() + 1);
                if let Some(b) = beta {
                    v.push(format!("β={b}"));
                }
                v.extend(varied.iter().cloned());
                (beta, v, all.clone())
            })
        })
        .collect()
}

/// A folder name from the varied values.
fn folder(k: usize, varied: &[String]) -> String {
    let tag: String = varied
        .join("_")
        .replace('β', "beta")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "=.-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if tag.is_empty() {
        format!("run-{k:02}")
    } else {
        format!("run-{k:02}-{tag}")
    }
}

/// One run of the scan with momentum `beta` (`None`: plain SGD), written to `dir`:
/// its trace.
fn run_one(
    a: &ScanArgs,
    problem: &Problem,
    beta: Option<f64>,
    label: &str,
    dir: &Path,
) -> Result<Trace> {
    if a.mc {
        let mut s = McSettings::beside(&a.settings, a.particles, a.seed, a.mode);
        s.momentum = beta;
        s.nesterov = a.nesterov;
        let mut problem = problem.clone();
        if let Some(k) = a.settings.grid {
            problem.grid = k.into();
        }
        let r = WithProgress.mc(&problem, &s)?;
        write_mc(&r, dir)?;
        Ok(Trace::from_mc(label, &r))
    } else {
        let p = match beta {
            Some(b) => crate::cli::compare::effective_for(problem, a.model.model, b, "--momentum")?,
            None => problem.clone(),
        };
        let r = crate::cli::solve_plain(&p, &a.model, &a.settings)?;
        write_run(&r, dir)?;
        Ok(Trace::from_run(label, &r))
    }
}

/// The momenta of the scan: `[None]` without `--momentum`; each β checked.
fn momenta(a: &ScanArgs) -> Result<Vec<Option<f64>>> {
    if a.momentum.is_empty() {
        if a.nesterov {
            let why = "Nesterov's look-ahead needs a momentum β (give --momentum)";
            return Err(Error::invalid("--nesterov", "true", why));
        }
        return Ok(vec![None]);
    }
    if a.nesterov && !a.mc {
        let why = "Nesterov's look-ahead is simulated by Monte Carlo (add --mc); the \
                   effective Fokker–Planck model is the same as heavy ball's to first order";
        return Err(Error::invalid("--nesterov", "true", why));
    }
    a.momentum
        .iter()
        .map(|&b| {
            probcurrent::model::momentum::check_beta(b, "--momentum")?;
            Ok(Some(b))
        })
        .collect()
}

/// Run the scan and print its table.
pub fn scan(a: &ScanArgs, o: &Out) -> Result<()> {
    let betas = momenta(a)?;
    let runs = with_momenta(&betas, grid(&a.problem.set));
    if runs.len() > 400 {
        let why = "more than 400 runs: scan fewer values";
        return Err(Error::invalid("--set grid", runs.len(), why));
    }
    let keys: Vec<String> = runs[0]
        .1
        .iter()
        .map(|kv| kv.split('=').next().unwrap_or("").to_string())
        .collect();
    let what = match (a.mc, betas[0].is_some()) {
        (true, false) => a.mode.as_str().to_string(),
        (true, true) => {
            let kind = if a.nesterov { "Nesterov" } else { "heavy ball" };
            format!("{}, {kind} momentum", a.mode.as_str())
        }
        (false, false) => a.model.model.as_str().to_string(),
        (false, true) => format!(
            "{}, the effective model at T/(1 − β)",
            a.model.model.as_str()
        ),
    };
    o.prose(&format!(
        "scan of `{}`: {} runs ({what})\n",
        a.problem.problem,
        runs.len()
    ));
    let mut traces = vec![];
    for (k, (beta, varied, all)) in runs.iter().enumerate() {
        let problem = Problem::resolve_with(&a.problem.problem, all)?;
        let label = if varied.is_empty() {
            problem.name.clone()
        } else {
            varied.join(" ")
        };
        let dir = a.out.join(folder(k, varied));
        let clock = std::time::Instant::now();
        let tr = run_one(a, &problem, *beta, &label, &dir)?;
        write_run_plots(&dir, "density", &tr, a.log_color)?;
        let secs = clock.elapsed().as_secs_f64();
        o.prose(&format!(
            "  [{}/{}] {label}: {secs:.1} s\n",
            k + 1,
            runs.len()
        ));
        traces.push(tr);
    }
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Io {
        path: a.out.clone(),
        source,
    })?;
    let title = format!("scan of {}", a.problem.problem);
    let plots = write_overlays(&a.out, &title, &traces)?;
    let (md, csv) = table(&keys, &runs, &traces);
    write(&a.out.join("scan.md"), &md)?;
    write(&a.out.join("scan.csv"), &csv)?;
    o.result(&md);
    let out = a.out.display();
    o.prose(&format!(
        "wrote {out}/{{scan.md, scan.csv, {}}} and one folder per run\n",
        plots.join(", ")
    ));
    let mut names: Vec<&str> = vec!["scan.md", "scan.csv"];
    names.extend(plots.iter().map(String::as_str));
    let rows: Vec<_> = runs
        .iter()
        .zip(&traces)
        .map(|((beta, v, _), t)| {
            let (tl, mean, masses) = t.last().unwrap_or((f64::NAN, f64::NAN, &[]));
            json!({"set": v, "momentum": beta, "nesterov": a.nesterov && beta.is_some(),
                   "t": tl, "mean": mean, "regions": t.region_names, "masses": masses})
        })
        .collect();
    o.json(json!({"runs": rows, "files": files(&a.out, &names)}))
}

/// The table at the last time of each run: markdown and CSV.
fn table(keys: &[String], runs: &[Run], traces: &[Trace]) -> (String, String) {
    let regions = traces
        .first()
        .map(|t| t.region_names.clone())
        .unwrap_or_default();
    let mut head: Vec<String> = keys.to_vec();
    head.extend(["t".into(), "mean".into()]);
    head.extend(regions.iter().map(|r| format!("mass_{r}")));
    let mut md = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    let mut csv = head.join(",").replace('β', "beta") + "\n";
    for ((_, varied, _), tr) in runs.iter().zip(traces) {
        let mut cells: Vec<String> = varied
            .iter()
            .map(|kv| kv.split_once('=').map_or("", |x| x.1).to_string())
            .collect();
        let (t, mean, masses) = tr.last().unwrap_or((f64::NAN, f64::NAN, &[]));
        cells.push(format!("{t}"));
        cells.push(format!("{mean:.5}"));
        cells.extend(masses.iter().map(|m| format!("{m:.5}")));
        let _ = writeln!(md, "| {} |", cells.join(" | "));
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.contains(',') {
                    format!("\"{c}\"")
                } else {
                    c.clone()
                }
            })
            .collect();
        let _ = writeln!(csv, "{}", quoted.join(","));
    }
    (md, csv)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
