//! `compare` on a 1-D problem: a density model against Monte Carlo snapshot by
//! snapshot, and with `--momentum β` Monte Carlo of SGD with heavy-ball momentum
//! (`--nesterov`: Nesterov's look-ahead) against the first-order effective
//! Fokker–Planck model, the same problem at learning rate T/(1 − β) (Li, Tai & E,
//! "Stochastic modified equations and adaptive stochastic gradient algorithms", 2017).
//!
//! The transfer models are refused with a momentum: they are the law of one step of W
//! alone, while heavy ball carries a velocity (its state is (W, v)), so no kernel on W
//! is its step; run at the effective rate they would be plain SGD at T/(1 − β), whose
//! discrete-map stability differs from heavy ball's (see [`probcurrent::model::momentum`]).

use clap::Args;

use probcurrent::analysis::montecarlo::McSettings;
use probcurrent::error::{Error, Result};
use probcurrent::model::momentum::effective_problem;
use probcurrent::model::problem::Problem;
use probcurrent::reports::run_plots::Trace;
use probcurrent::reports::{self, text};
use probcurrent::time::transfer::Model;

use crate::cli::args::CompareArgs;
use crate::cli::output::{files, object, Out};
use crate::cli::progress::WithProgress;
use probcurrent::reports::validation::Runner;

/// `--momentum β` and `--nesterov` of `compare`.
#[derive(Args, Debug, Default)]
pub struct MomentumOpts {
    /// Heavy-ball momentum β in [0, 1): Monte Carlo of v ← β v − T ĝ, W ← W + v against
    /// the effective Fokker–Planck model at learning rate T/(1 − β) (Fokker–Planck only:
    /// the transfer models are refused).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// With `--momentum`: Nesterov's look-ahead (ĝ at W + β v) in the Monte Carlo; the
    /// effective model is the same to first order in T.
    #[arg(long)]
    pub nesterov: bool,
}

/// The problem the density model `model` runs for SGD with momentum `beta` on
/// `problem`: the effective problem (learning rate T/(1 − β)) for Fokker–Planck; an
/// error naming `from` for the transfer models, which cannot carry a velocity.
pub fn effective_for(problem: &Problem, model: Model, beta: f64, from: &str) -> Result<Problem> {
    if model != Model::FokkerPlanck {
        return Err(Error::invalid(
            "model",
            model.as_str(),
            "with a momentum only the Fokker–Planck effective model runs: a transfer \
             operator is the law of one step of W alone, while heavy ball carries a \
             velocity (its state is (W, v)); at the effective rate T/(1 − β) it would be \
             plain SGD, whose step is unstable where heavy ball's is not",
        )
        .with_origin(from));
    }
    probcurrent::model::momentum::check_beta(beta, from)?;
    effective_problem(problem, beta).map_err(|e| e.with_origin(from))
}

/// A number for prose: rounded to 12 significant decimals (0.05, not 0.05000000000000001).
fn num(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

/// Human description of a momentum, e.g. `heavy ball β = 0.9`.
pub fn momentum_label(beta: f64, nesterov: bool) -> String {
    let kind = if nesterov { "Nesterov" } else { "heavy ball" };
    format!("{kind} β = {beta}")
}

/// `compare` on a 1-D problem.
pub fn compare(a: &CompareArgs, o: Out) -> Result<()> {
    let problem = a.problem.load()?;
    let mom = &a.momentum;
    if mom.nesterov && mom.momentum.is_none() {
        let why = "Nesterov's look-ahead needs a momentum β (give --momentum)";
        return Err(Error::invalid("--nesterov", "true", why));
    }
    let density_problem = match mom.momentum {
        Some(beta) => effective_for(&problem, a.model.model, beta, "--momentum")?,
        None => problem.clone(),
    };
    let model = crate::cli::solve_plain(&density_problem, &a.model, &a.settings)?;
    let mut mc_settings = McSettings::beside(&a.settings, a.particles, a.seed, a.mode);
    mc_settings.momentum = mom.momentum;
    mc_settings.nesterov = mom.nesterov;
    mc_settings.cells = model.grid.n;
    let mc = WithProgress.mc(&crate::cli::on_grid(&problem, &model.grid), &mc_settings)?;
    let (cmp, mut written) = reports::compare::write(&a.out, &model, &mc)?;
    let mut label = format!("{} Monte Carlo ({})", mc.problem, mc.mode.as_str());
    let mut model_label = model.scheme.clone();
    if let Some(beta) = mom.momentum {
        label = format!(
            "{} Monte Carlo ({}, {})",
            mc.problem,
            mc.mode.as_str(),
            momentum_label(beta, mom.nesterov)
        );
        model_label = format!(
            "{} at T/(1 − β) = {}",
            model.scheme,
            num(density_problem.lr)
        );
    }
    let model_trace = || Trace::from_run(&model_label, &model);
    let mc_trace = || Trace::from_mc(&label, &mc);
    let traces: [(&str, &dyn Fn() -> Trace); 2] = [("model", &model_trace), ("mc", &mc_trace)];
    written.extend(crate::cli::run_plots(&a.out, &a.plots, &traces)?);
    if let Some(beta) = mom.momentum {
        o.prose(&format!(
            "momentum: Monte Carlo of SGD with {} at T = {}; model: the first-order effective \
             Fokker–Planck equation at T/(1 − β) = {}\n",
            momentum_label(beta, mom.nesterov),
            num(problem.lr),
            num(density_problem.lr)
        ));
    }
    o.prose(&text::compare_header(&model, &mc));
    o.result(&cmp.text());
    o.prose(&format!(
        "wrote {} in {}\n",
        written.join(", "),
        a.out.display()
    ));
    let names: Vec<&str> = written.iter().map(String::as_str).collect();
    let extra = [
        ("files", files(&a.out, &names)),
        ("momentum", serde_json::json!(mom.momentum)),
        ("nesterov", serde_json::json!(mom.nesterov)),
        ("model_lr", serde_json::json!(density_problem.lr)),
    ];
    o.json_text(|| object(&cmp, &extra))
}

/// The 2-D `compare` has no momentum: an error when `--momentum` or `--nesterov` is given.
pub fn refuse_momentum_2d(a: &CompareArgs) -> Result<()> {
    match (a.momentum.momentum, a.momentum.nesterov) {
        (None, false) => Ok(()),
        (beta, _) => Err(Error::invalid(
            "--momentum",
            beta.map_or("--nesterov".to_string(), |b| b.to_string()),
            "momentum is modelled on 1-D problems only (the 2-D Monte Carlo and transfer \
             operator have no velocity)",
        )),
    }
}
