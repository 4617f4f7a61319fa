//! Every report in one call: what `probcurrent report` writes into `reports/`. Each
//! file ends with a footer naming the command that made it and the tool's version.

use std::path::{Path, PathBuf};

use super::validation::{seed_validation, Runner, ValidationOptions};
use super::{write_index, Progress, ReportSizes};
use crate::error::Result;

/// The reports and what each shows, in the order of the index.
pub const REPORTS: &[(&str, &str)] = &[
    ("seed-validation.md", "the seed validations: drift only against gradient descent, spreading only against the exact random walk, full SGD against Monte Carlo, and the learning-rate study"),
    ("stability.md", "outcome maps over dt × N for every card at pit sharpness k = 10 … 10000, and the largest stable dt per k"),
    ("work-precision.md", "Wasserstein-1 and L1 error against wall time and work, every card, on seed and ou"),
    ("convergence.md", "measured orders against each card's claim on ou, grid studies on non-nested families on every built-in problem (monotone or not, spread of the order, claims per problem class), and the Scharfetter–Gummel fittings on seed"),
    ("end-states.md", "stationary densities and point masses, escape times by formula, PDE, Monte Carlo and Kramers, and the flat-minimum bias of the wide-narrow problem across T and B"),
    ("estimator.md", "the a-posteriori error estimate of every solve against the true error on seed, ou and spreading, across grids"),
    ("exponential.md", "the rational exponential integrator on seed: error against t, degree and the Péclet number, and where it fails"),
    ("schedules.md", "learning-rate schedules on seed: transfer-exact against Monte Carlo of SGD under a step decay and a cosine, Fokker–Planck against Gaussian kicks at small T, worst z-scores"),
    ("grids.md", "uniform against auto (equidistributing) grids on seed at t = 500: exact W1 from a converged reference for N = 400·1.25^k up to 4800"),
    ("two-d.md", "seed-2d (two parameters): Fokker–Planck with each cross-diffusion scheme (and its positivity record), the exact SGD transfer operator with bilinear hats and Monte Carlo of SGD side by side at t = 100 and 500 (basin mass, mean vector, covariance)"),
    ("models.md", "Fokker–Planck, the exact SGD transfer operator, the per-step Gaussian rule and Monte Carlo of SGD side by side across T, with the linear-stability explanation"),
    ("momentum.md", "Monte Carlo of SGD with heavy-ball momentum against the effective Fokker–Planck model (learning rate T/(1 − β)) on seed across β and T, and the pit's discrete-map stability where the effective model fails"),
];

/// Write every report into `out` (full sizes, or `quick` ones for a smoke test),
/// with reference solutions cached in `cache`; density runs and Monte Carlo go
/// through `runner`, sweep progress to `progress`. Returns the index file and one
/// summary line per finding.
pub fn write_all(
    out: &Path,
    quick: bool,
    cache: &Path,
    runner: &dyn Runner,
    progress: Progress,
) -> Result<(PathBuf, Vec<String>)> {
    crate::reports::make_dir(out)?;
    let command = if quick {
        "probcurrent report --quick"
    } else {
        "probcurrent report"
    };
    let opts = if quick {
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
    let sizes = ReportSizes::new(quick);
    let mut lines = Vec::new();
    lines.extend(seed_validation(runner, out, "seed-validation", &opts, command)?.lines);
    lines.extend(super::stability_report(out, &sizes, cache, progress)?.lines);
    lines.extend(super::work_precision_report(out, &sizes, cache, progress)?.lines);
    lines.extend(super::convergence_report(out, &sizes, cache, progress)?.lines);
    lines.extend(super::exponential::exponential_report(out, quick, command)?.lines);
    lines.extend(super::models::models_report(runner, out, "models", command)?.lines);
    lines.extend(super::end_states::end_states_report(runner, out, "end-states", command)?.lines);
    lines.extend(super::estimator::estimator_report(out, quick, command)?.lines);
    lines.extend(super::schedules::schedules_report(out, quick, command)?.lines);
    lines.extend(super::momentum::momentum_report(runner, out, quick, command)?.lines);
    lines.extend(super::grids::grids_report(out, quick)?.lines);
    lines.extend(super::two_d::two_d_report(out, "two-d", quick, command)?.lines);
    let index = write_index(out, REPORTS, command)?;
    for file in REPORTS.iter().map(|(f, _)| *f).chain(["README.md"]) {
        stamp(&out.join(file), command)?;
    }
    Ok((index, lines))
}

/// The footer of every report: the command that made it and the tool's version.
pub fn footer(command: &str) -> String {
    format!(
        "\n---\nmade by `{command}` (probcurrent {})\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Append [`footer`] to the report at `path` (if it was written).
fn stamp(path: &Path, command: &str) -> Result<()> {
    use std::io::Write as _;
    if !path.exists() {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|source| crate::error::Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    f.write_all(footer(command).as_bytes())
        .map_err(|source| crate::error::Error::Io {
            path: path.to_path_buf(),
            source,
        })
}
