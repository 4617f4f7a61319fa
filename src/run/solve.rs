//! Model dispatch: run a problem under the density model a user chose — the
//! Fokker–Planck equation with a scheme card, or one of the discrete-time transfer
//! operators — through the one driver, with an optional progress callback.

use crate::error::{Error, Result};
use crate::model::problem::Problem;
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
