//! Model dispatch: run a problem under the density model a user chose — the
//! Fokker–Planck equation with a scheme card, or one of the discrete-time transfer
//! operators — through the one driver, with an optional progress callback — and
//! [`solve_estimated`], what the `solve` command runs: a Fokker–Planck run with its
//! default step chosen by accuracy, an a-posteriori error estimate, or cells and step
//! chosen to meet a tolerance (see [`crate::run::estimate`]).

use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::run::estimate::{choose_step, estimate, solve_to_tolerance};
use crate::run::run_transfer_with_progress;
use crate::run::{run_with_progress, RunReport, RunSettings};
use crate::scheme::Scheme;
use crate::time::transfer::{Model, TransferOptions};

/// Which density model a problem runs under, and for Fokker–Planck which card. With the
/// `cli` feature it is also the `--model` and `--scheme` options.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ModelChoice {
    /// Density model: fokker-planck, transfer-exact (the SGD step's transfer operator)
    /// or transfer-gaussian (the per-step normal rule) (default fokker-planck).
    #[cfg_attr(feature = "cli", arg(long, default_value = "fokker-planck", value_parser = Model::parse))]
    pub model: Model,
    /// Scheme name (`probcurrent schemes`) or card file; Fokker–Planck only (default:
    /// the catalogue's default card).
    #[cfg_attr(feature = "cli", arg(long))]
    pub scheme: Option<String>,
}

/// Solve `problem` under `model`: with the scheme card `scheme` (a catalogue name or a
/// card file; the default card when `None`) for the Fokker–Planck model, or with the
/// transfer operator, which takes no scheme (giving one is an error naming it).
/// `progress` is called at every snapshot with (t, t_end).
///
/// ```
/// use probcurrent::run::solve::solve_model;
/// use probcurrent::time::transfer::Model;
/// use probcurrent::{Problem, RunSettings};
/// let ou = Problem::builtin("ou").unwrap();
/// let settings = RunSettings { cells: 200, t_end: Some(5.0), ..RunSettings::default() };
/// let r = solve_model(&ou, Model::FokkerPlanck, None, &settings, &mut |_, _| {}).unwrap();
/// assert!((r.moments.last().unwrap().mass - 1.0).abs() < 1e-12);
/// ```
pub fn solve_model(
    problem: &Problem,
    model: Model,
    scheme: Option<&str>,
    settings: &RunSettings,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<RunReport> {
    match model {
        Model::FokkerPlanck => {
            let scheme = Scheme::resolve(scheme.unwrap_or(crate::scheme::DEFAULT_SCHEME))?;
            run_with_progress(problem, &scheme, settings, progress)
        }
        Model::Transfer(kind) => {
            if let Some(s) = scheme {
                return Err(Error::invalid(
                    "scheme",
                    s,
                    format!(
                        "model {} is a discrete-time transfer operator, not a scheme: drop --scheme",
                        model.as_str()
                    ),
                ));
            }
            let options = TransferOptions::default();
            run_transfer_with_progress(problem, kind, &options, settings, progress)
        }
    }
}

/// How `solve` treats the error: estimate it (default), skip the estimate, or meet a
/// tolerance. With the `cli` feature it is also the `--no-estimate`, `--tol` and
/// `--max-cells` options.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ErrorChoice {
    /// Skip the a-posteriori error estimate (it costs one run on twice the cells and
    /// one at twice the step: about 2.5 times the run itself, 8 for explicit cards).
    #[cfg_attr(feature = "cli", arg(long, conflicts_with = "tol"))]
    pub no_estimate: bool,
    /// Target W1 error at t_end: refine cells and step (rtol for mol-* cards) until the
    /// estimated W1 error is at most this; prints what it chose and what it cost.
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub tol: Option<f64>,
    /// Most cells `--tol` may use (default 16000).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 16_000))]
    pub max_cells: usize,
}

impl Default for ErrorChoice {
    fn default() -> Self {
        ErrorChoice {
            no_estimate: false,
            tol: None,
            max_cells: 16_000,
        }
    }
}

/// A fixed-step TR-BDF2 card given no step (`settings.dt`, `dt_factor`) runs as
/// variable-step TR-BDF2 with W1 error control at the default target
/// ([`crate::time::DEFAULT_TRBDF2_TOL`], `--rtol` overrides it) instead of a step chosen
/// by pilot solves: the same method, with the steps placed where the density changes
/// (under a learning-rate or batch schedule the variable-step card follows A(t) and
/// lands on its breakpoints, see [`crate::time::AdaptiveTrBdf2`]). Every other card is
/// returned unchanged. The problem no longer decides: scheduled problems take the
/// variable-step path too.
pub fn variable_step(scheme: Scheme, _problem: &Problem, settings: &RunSettings) -> Scheme {
    use crate::scheme::{IntegratorSpec, TrBdf2AdaptiveSpec};
    match scheme.integrator {
        IntegratorSpec::TrBdf2(_) if settings.dt.is_none() && settings.dt_factor.is_none() => {
            Scheme {
                integrator: IntegratorSpec::TrBdf2Adaptive(TrBdf2AdaptiveSpec {
                    tol: crate::time::DEFAULT_TRBDF2_TOL,
                }),
                ..scheme
            }
        }
        _ => scheme,
    }
}

/// Solve as the `solve` command does. Fokker–Planck: with `errors.tol`, cells and step
/// are refined until the estimated W1 error meets it ([`solve_to_tolerance`]);
/// otherwise a fixed-step TR-BDF2 card given no step runs with variable steps
/// ([`variable_step`]), another fixed-step implicit card given no step takes the
/// accuracy-chosen one ([`choose_step`]) and, unless `errors.no_estimate`, the run gets its
/// [`estimate`]. The choice and its cost are in `RunReport::choice`. Transfer models
/// run as [`solve_model`] does, with no estimate (a tolerance is refused).
pub fn solve_estimated(
    problem: &Problem,
    choice: &ModelChoice,
    settings: &RunSettings,
    errors: &ErrorChoice,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<RunReport> {
    let Model::FokkerPlanck = choice.model else {
        if let Some(tol) = errors.tol {
            let why =
                "--tol needs the fokker-planck model (transfer models have no error estimate)";
            return Err(Error::invalid("tol", format!("{tol:e}"), why));
        }
        return solve_model(
            problem,
            choice.model,
            choice.scheme.as_deref(),
            settings,
            progress,
        );
    };
    let scheme = Scheme::resolve(
        choice
            .scheme
            .as_deref()
            .unwrap_or(crate::scheme::DEFAULT_SCHEME),
    )?;
    super::check_settings(problem, settings)?;
    let scheme = variable_step(scheme, problem, settings);
    if let Some(tol) = errors.tol {
        let (mut r, c) = solve_to_tolerance(problem, &scheme, settings, tol, errors.max_cells)?;
        r.choice = Some(c);
        return Ok(r);
    }
    let (s, c) = choose_step(problem, &scheme, settings)?;
    let mut r = run_with_progress(problem, &scheme, &s, progress)?;
    r.choice = c;
    if !errors.no_estimate {
        r.error_estimate = estimate(problem, &scheme, &s, &r)?;
    }
    Ok(r)
}
