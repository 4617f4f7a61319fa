//! The automatic start and absorbing point of an escape study, and its verdict: which
//! models agree with Monte Carlo of SGD within its error, and why the others do not.
//!
//! `from = auto` is the minimum (a stable zero of G) nearest the initial mean; `past =
//! auto` is the barrier top (an unstable zero of G) nearest that minimum. A model agrees
//! when |τ − τ_SGD| ≤ 3 s.e. (the Gaussian-kick Monte Carlo with both standard errors
//! combined). The reasons tested, in order: the linear stability of the SGD map
//! W ← W − T G(W) at the minimum (multiplier μ = 1 − T G′; |μ| > 1 means the discrete
//! map is unstable there and the continuous models cannot follow it); time
//! discretisation (Gaussian kicks with the same step agree with SGD while the
//! continuous models do not) — a discretely watched passage is seen late, which to first
//! order moves the absorbing point by 0.5826·√(2D) (Broadie, Glasserman & Kou, "A
//! continuity correction for discrete barrier options", 1997), and the formula is
//! re-evaluated there; the Laplace approximation behind Kramers' rate (needs ΔΦ ≫ 1);
//! and non-Gaussian minibatch noise (the Gaussian kicks disagree with SGD).

use serde::Serialize;

use super::{escape, formula_mfpt, rightward, EscapeOptions, EscapeReport};
use crate::analysis::critical::{critical_points, CriticalKind};
use crate::analysis::montecarlo::McMode;
use crate::error::{Error, Result};
use crate::model::problem::{Initial, Problem};

/// Agreement within this many standard errors of the Monte Carlo of SGD.
pub const VERDICT_SE: f64 = 3.0;

/// ζ(1/2)/√(2π): the discrete-monitoring shift of an absorbing point, in units of the
/// one-step standard deviation √(2D).
const MONITORING_SHIFT: f64 = 0.5826;

/// The verdict of an escape study against Monte Carlo of SGD.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// τ of Monte Carlo of SGD and its standard error (`None`: not run or censored).
    pub sgd: Option<(f64, f64)>,
    /// Linear-stability multiplier 1 − T G′ of the SGD map at `from`.
    pub multiplier: f64,
    /// Models within [`VERDICT_SE`] standard errors.
    pub agree: Vec<String>,
    /// Models outside, each with τ/τ_SGD and the z-score.
    pub disagree: Vec<String>,
    /// The formula with the absorbing point moved by the discrete-monitoring shift
    /// (shift, τ), when the continuous models disagree and the Gaussian kicks do not.
    pub shifted_formula: Option<(f64, f64)>,
    /// Why the disagreeing models disagree.
    pub why: String,
    /// The one line `escape` ends with.
    pub line: String,
}

/// Mean of the initial density (before truncation for a normal; midpoint for uniform).
fn initial_mean(p: &Problem) -> f64 {
    match &p.initial {
        Initial::Normal { mean, .. } => *mean,
        Initial::Uniform => 0.5 * (p.a + p.b),
        Initial::Table { w, p: d } => {
            let s: f64 = d.iter().sum();
            let m = w.iter().zip(d).map(|(w, d)| w * d).sum::<f64>();
            if s > 0.0 {
                m / s
            } else {
                0.5 * (p.a + p.b)
            }
        }
    }
}

/// Resolve `from`/`past` (`None` = auto): the minimum nearest the initial mean and the
/// barrier top nearest it. Also the lines that say what was picked.
pub fn auto_endpoints(
    problem: &Problem,
    from: Option<f64>,
    past: Option<f64>,
) -> Result<(f64, f64, Vec<String>)> {
    let crit = critical_points(problem, problem.a, problem.b, 20_000);
    let o = problem.origin.as_str();
    let mut notes = vec![];
    let from = match from {
        Some(f) => f,
        None => {
            let m0 = initial_mean(problem);
            let m = crit
                .iter()
                .filter(|c| c.kind != CriticalKind::Barrier)
                .min_by(|a, b| (a.w - m0).abs().total_cmp(&(b.w - m0).abs()))
                .ok_or_else(|| {
                    Error::invalid(
                        "from",
                        "auto",
                        "the loss has no minimum (G = 0, G′ > 0) in the domain",
                    )
                    .with_origin(o)
                })?;
            let mu = 1.0 - problem.lr * m.g_prime;
            notes.push(format!(
                "from = auto: the minimum W = {:.6} ({}), nearest the initial mean {m0}; G′ = {:.4}, 1 − T G′ = {mu:.4}",
                m.w, m.kind.as_str(), m.g_prime
            ));
            m.w
        }
    };
    let past = match past {
        Some(p) => p,
        None => {
            let b = crit
                .iter()
                .filter(|c| c.kind == CriticalKind::Barrier && (c.w - from).abs() > 0.0)
                .min_by(|a, b| (a.w - from).abs().total_cmp(&(b.w - from).abs()))
                .ok_or_else(|| {
                    Error::invalid(
                        "past",
                        "auto",
                        "the loss has no barrier top (G = 0, G′ < 0) in the domain",
                    )
                    .with_origin(o)
                })?;
            let side = if b.w > from { "right" } else { "left" };
            notes.push(format!(
                "past = auto: the barrier top W = {:.6}, the nearest to `from` (on its {side}); G′ = {:.4}",
                b.w, b.g_prime
            ));
            b.w
        }
    };
    Ok((from, past, notes))
}

/// [`escape`] with `from`/`past` chosen by [`auto_endpoints`] where `None`; the report
/// carries the lines saying what was picked.
pub fn escape_auto(
    problem: &Problem,
    from: Option<f64>,
    past: Option<f64>,
    opts: &EscapeOptions,
) -> Result<EscapeReport> {
    let (from, past, notes) = auto_endpoints(problem, from, past)?;
    let mut r = escape(problem, from, past, opts)?;
    r.auto = notes;
    Ok(r)
}

/// The verdict of `report` (computed by [`escape`] on `problem`).
pub(super) fn verdict(problem: &Problem, report: &EscapeReport, opts: &EscapeOptions) -> Verdict {
    let mu = 1.0 - problem.lr * problem.coeffs(report.from).g_prime;
    let sgd = report
        .mc
        .iter()
        .find(|m| m.mode == McMode::Sgd && m.censored == 0 && m.se > 0.0);
    let mut v = Verdict {
        sgd: sgd.map(|m| (m.mean, m.se)),
        multiplier: mu,
        agree: vec![],
        disagree: vec![],
        shifted_formula: None,
        why: String::new(),
        line: String::new(),
    };
    let Some(s) = sgd else {
        v.line = "verdict: none — Monte Carlo of SGD was not run or some particles had not escaped by its last step (raise --max-steps)".into();
        return v;
    };
    let gauss = report
        .mc
        .iter()
        .find(|m| m.mode == McMode::Gaussian && m.censored == 0);
    let mut models: Vec<(&str, f64, f64)> = vec![];
    if let Some(f) = &report.formula {
        models.push(("formula", f.tau, 0.0));
    }
    if let Some(k) = &report.kramers {
        models.push(("Kramers", k.tau, 0.0));
    }
    models.push(("PDE", report.pde.tau, 0.0));
    if let Some(g) = gauss {
        models.push(("Gaussian kicks", g.mean, g.se));
    }
    for (name, tau, se) in &models {
        let z = (tau - s.mean) / (s.se * s.se + se * se).sqrt();
        if z.abs() <= VERDICT_SE {
            v.agree.push((*name).to_string());
        } else {
            let ratio = tau / s.mean;
            v.disagree
                .push(format!("{name} ({ratio:.3}× τ_SGD, z = {z:.1})"));
        }
    }
    let why = reasons(problem, report, opts, &mut v, s);
    v.why = why.join("; ");
    let list = |l: &[String]| {
        if l.is_empty() {
            "none".to_string()
        } else {
            l.join(", ")
        }
    };
    v.line = format!(
        "verdict: against Monte Carlo of SGD (τ = {:.4e} ± {:.2e}), within {VERDICT_SE} s.e.: {}; outside: {}{}",
        s.mean,
        s.se,
        list(&v.agree),
        list(&v.disagree),
        if v.why.is_empty() { String::new() } else { format!(" — {}", v.why) }
    );
    v
}

/// The formula with the absorbing point moved past `past` by the discrete-monitoring
/// shift 0.5826·√(2 D(past)) (shift, τ); `None` when it leaves the domain or the formula
/// is not available.
fn shifted(problem: &Problem, report: &EscapeReport, opts: &EscapeOptions) -> Option<(f64, f64)> {
    let shift = MONITORING_SHIFT * (2.0 * problem.coeffs(report.past).d).sqrt();
    let dir = (report.past - report.from).signum();
    let past = report.past + dir * shift;
    let o = EscapeOptions {
        wall: Some(report.wall),
        ..opts.clone()
    };
    let r = rightward(problem, report.from, past, &o).ok()?;
    let (f, _) = formula_mfpt(&r, opts.quad);
    Some((shift, f?.tau))
}

/// Why the models in `v.disagree` disagree with Monte Carlo of SGD `s` (the reasons
/// tested, in the order of the module's introduction); fills `v.shifted_formula`.
fn reasons(
    problem: &Problem,
    report: &EscapeReport,
    opts: &EscapeOptions,
    v: &mut Verdict,
    s: &crate::analysis::endstate::McEscape,
) -> Vec<String> {
    let mu = v.multiplier;
    let bad = |name: &str| v.disagree.iter().any(|d| d.starts_with(name));
    let continuous_bad = bad("formula") || bad("PDE");
    let gauss_ok = v.agree.iter().any(|a| a == "Gaussian kicks");
    let mut why = vec![];
    if mu.abs() > 1.0 {
        why.push(format!(
            "the SGD map is unstable at the minimum (1 − T G′ = {mu:.3}, |1 − T G′| > 1): the iterates cannot settle there and the continuous models, which assume they do, cannot follow"
        ));
    } else if continuous_bad || bad("Gaussian") || bad("Kramers") {
        why.push(format!(
            "not an instability (1 − T G′ = {mu:.3} at the minimum, |1 − T G′| < 1)"
        ));
    }
    let tg = 1.0 - mu;
    if mu.abs() <= 1.0 && continuous_bad && tg > 0.5 {
        why.push(format!(
            "T G′ = {tg:.3} at the minimum is not small: the continuous models are the T G′ ≪ 1 limit of the SGD map"
        ));
    }
    if mu.abs() <= 1.0 && continuous_bad && gauss_ok {
        let mut s_why = "Gaussian kicks with the same step agree with SGD, so the gap is time discretisation: passage is seen only at whole steps".to_string();
        if let Some((shift, tau)) = shifted(problem, report, opts) {
            let z = (tau - s.mean) / s.se;
            v.shifted_formula = Some((shift, tau));
            s_why += &format!(
                " (the formula with the absorbing point moved by 0.5826·√(2D) = {shift:.4} gives τ = {tau:.4e}, z = {z:.1})"
            );
        }
        why.push(s_why);
    }
    if bad("Kramers") && !bad("formula") {
        if let Some(k) = &report.kramers {
            why.push(format!(
                "Kramers' Laplace approximation needs ΔΦ ≫ 1 (ΔΦ = {:.2})",
                k.delta_phi
            ));
        }
    }
    if bad("Gaussian") {
        why.push("the minibatch noise is not Gaussian at this T and B (Gaussian kicks with the same mean and variance disagree with SGD)".into());
    }
    why
}
