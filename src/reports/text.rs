//! Plain-text summaries of typed results, as the command line prints them: a run
//! ([`RunReport`]), a Monte Carlo run ([`McReport`]) and the a-priori diagnostics of an
//! operator ([`Diagnostics`]). Generated from the results, never typed by hand.

use std::fmt::Write as _;

use crate::analysis::montecarlo::McReport;
use crate::error::Result;
use crate::model::problem::Problem;
use crate::run::RunReport;
use crate::scheme::Scheme;
use crate::space::grid::Grid;
use crate::space::operator::{Diagnostics, Operator};

/// The run's header, outcome, monitors that fired, a line per warning (e.g.
/// `mass_at_wall`, which leaves the outcome alone), work and final moments.
pub fn run_summary(r: &RunReport) -> String {
    let mut s = String::new();
    match (r.dt, r.dt_over_limit) {
        (Some(dt), Some(f)) => writeln!(
            s,
            "{} / {} on {} cells, dt = {dt:.4e} ({f:.3} × explicit limit {:.3e})",
            r.problem, r.scheme, r.cells, r.diagnostics.explicit_limit
        ),
        _ => writeln!(
            s,
            "{} / {} on {} cells, adaptive steps (rtol {}, atol {}; explicit limit {:.3e})",
            r.problem,
            r.scheme,
            r.cells,
            r.rtol.map_or("default".into(), |v| format!("{v:e}")),
            r.atol.map_or("default".into(), |v| format!("{v:e}")),
            r.diagnostics.explicit_limit
        ),
    }
    .ok();
    write!(s, "  outcome {}", r.outcome.as_str()).ok();
    if let (Some(t), Some(k)) = (r.outcome_t, r.outcome_step) {
        let why = r.reason.as_deref().unwrap_or("");
        write!(s, " (first at t = {t:.4}, step {k}: {why})").ok();
    }
    s.push('\n');
    let failures: Vec<String> = r
        .failures()
        .map(|e| format!("{} at t = {:.4} (step {})", e.kind.as_str(), e.t, e.step))
        .collect();
    if failures.len() > 1 {
        writeln!(s, "  monitors fired: {}", failures.join(", then ")).ok();
    }
    // warnings do not change the outcome, but are never silent
    for e in r.warnings() {
        writeln!(
            s,
            "  warning {} (first at t = {:.4}, step {}): {}",
            e.kind.as_str(),
            e.t,
            e.step,
            e.reason
        )
        .ok();
    }
    if let Some(line) = graded_cells(&r.grid, "grid") {
        writeln!(s, "{line}").ok();
    }
    writeln!(
        s,
        "  t reached {:.4}  steps {}  set-up {:.2e} s  wall {:.2e} s  min_p {:.3e}  mass_error {}",
        r.t_reached,
        r.stats.steps,
        r.setup_s,
        r.wall_s,
        r.min_p,
        r.mass_error.map_or("n/a".into(), |m| format!("{m:.3e}"))
    )
    .ok();
    if let Some(m) = r.moments.last() {
        write!(s, "  at t = {}: mean {:.5}  sd {:.5}", m.t, m.mean, m.sd).ok();
        for (name, v) in r.region_names.iter().zip(&m.regions) {
            write!(s, "  mass_{name} {v:.5}").ok();
        }
        s.push('\n');
    }
    s
}

/// "  `what` on N graded cells: smallest … at w = …, largest … at w = …" for a
/// non-uniform grid (`None` for a uniform one, whose cells all have one width).
fn graded_cells(grid: &Grid, what: &str) -> Option<String> {
    if grid.is_uniform() {
        return None;
    }
    let ((i_lo, h_lo), (i_hi, h_hi)) = grid.extreme_cells();
    Some(format!(
        "  {what} on {} graded cells: smallest {h_lo:.3e} at w = {:.5}, largest {h_hi:.3e} at w = {:.5}",
        grid.n,
        grid.centre(i_lo),
        grid.centre(i_hi)
    ))
}

/// The Monte Carlo run's header, throughput and final statistics with standard errors.
pub fn mc_summary(r: &McReport) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "{} / Monte Carlo {} with {} particles, seed {}: {} steps in {:.3} s ({:.1} million particle-steps/s)",
        r.problem,
        r.mode.as_str(),
        r.particles,
        r.seed,
        r.steps,
        r.wall_s,
        r.particle_steps as f64 / r.wall_s / 1e6
    )
    .ok();
    if let Some(line) = graded_cells(&r.grid, "histogram") {
        writeln!(s, "{line}").ok();
    }
    if let Some(m) = r.moments.last() {
        write!(
            s,
            "  at t = {}: mean {:.5} ± {:.5}  sd {:.5} ± {:.5}",
            m.t, m.mean, m.mean_se, m.sd, m.sd_se
        )
        .ok();
        for ((name, v), se) in r.region_names.iter().zip(&m.regions).zip(&m.regions_se) {
            write!(s, "  mass_{name} {v:.5} ± {se:.5}").ok();
        }
        s.push('\n');
    }
    s
}

/// The a-priori diagnostics of an operator, one property a line; `header` names the
/// problem, scheme, flux and grid.
pub fn diagnostics_text(header: &str, d: &Diagnostics) -> String {
    let mut s = format!("{header}\n");
    let line = |s: &mut String, what: &str, v: String| writeln!(s, "  {what:<27} {v}").ok();
    line(
        &mut s,
        "largest cell Péclet number",
        format!(
            "{:.4e} at w = {:.5} (faces with D > 0)",
            d.max_peclet, d.max_peclet_w
        ),
    );
    line(
        &mut s,
        "faces with D = 0",
        format!(
            "{} (D zero or subnormal: drift only there, Péclet number infinite)",
            d.zero_diffusion_faces
        ),
    );
    let m = if d.m_matrix {
        "yes (all off-diagonals >= 0)".to_string()
    } else {
        format!(
            "NO: {} rows with negative off-diagonals, first at w = {:?}",
            d.negative_offdiagonals, d.negative_offdiagonal_w
        )
    };
    line(&mut s, "M-matrix", m);
    line(
        &mut s,
        "explicit step limit",
        format!("{:.6e} (1/max|A_ii|)", d.explicit_limit),
    );
    let st = match d.stiffness_ratio {
        Some(r) => format!("{r:.4e} (|λ_fastest| / |λ_slowest non-zero|)"),
        None => "n/a (spectrum not real: some lower·upper < 0)".to_string(),
    };
    line(&mut s, "stiffness ratio", st);
    s
}

/// Assemble `scheme`'s operator for `problem` on `cells` cells and describe its
/// a-priori diagnostics (what `probcurrent inspect` prints).
pub fn inspect(problem: &Problem, scheme: &Scheme, grid: &Grid) -> Result<String> {
    problem.validate()?;
    let op = Operator::assemble(problem, grid.clone(), scheme.build_flux()?.as_ref())?;
    let ((i_lo, h_lo), (i_hi, h_hi)) = grid.extreme_cells();
    let header = format!(
        "{} / {} (flux {}) on {} cells, {} grid\n  smallest cell {:.4e} at w = {:.6} (cell {i_lo})\n  \
         largest cell  {:.4e} at w = {:.6} (cell {i_hi})",
        problem.name,
        scheme.name,
        op.flux,
        grid.n,
        grid.kind(),
        h_lo,
        grid.centre(i_lo),
        h_hi,
        grid.centre(i_hi),
    );
    Ok(diagnostics_text(&header, &op.diagnostics(true)))
}

/// The header line of a model-against-Monte-Carlo comparison.
pub fn compare_header(model: &RunReport, mc: &McReport) -> String {
    format!(
        "{}: {} ({} cells, outcome {}) against Monte Carlo {} ({} particles, ± 1 s.e.)\n",
        model.problem,
        model.scheme,
        model.cells,
        model.outcome.as_str(),
        mc.mode.as_str(),
        mc.particles
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::grid_choice::GridKind;
    use crate::run::{run, RunSettings};

    /// The summary names the set-up time, and on a graded grid its smallest and largest
    /// cell (where they are); a uniform grid has no such line.
    #[test]
    fn the_summary_shows_set_up_and_graded_cells() {
        let problem = Problem::builtin("seed").unwrap();
        let scheme = Scheme::resolve(crate::scheme::DEFAULT_SCHEME).unwrap();
        for (grid, graded) in [(GridKind::Auto, true), (GridKind::Uniform, false)] {
            let s = RunSettings {
                cells: 80,
                grid: Some(grid),
                dt: Some(5.0),
                t_end: Some(10.0),
                every: Some(10.0),
                ..RunSettings::default()
            };
            let r = run(&problem, &scheme, &s).unwrap();
            let text = run_summary(&r);
            assert!(text.contains("  set-up "), "{text}");
            let line = text.lines().find(|l| l.contains("graded cells"));
            assert_eq!(line.is_some(), graded, "{text}");
            if let Some(line) = line {
                let ((_, lo), (_, hi)) = r.grid.extreme_cells();
                assert!(lo < hi, "{lo} {hi}");
                assert!(
                    line.contains(&format!("smallest {lo:.3e}")),
                    "{line} vs {lo:.3e}"
                );
            }
        }
    }
}
