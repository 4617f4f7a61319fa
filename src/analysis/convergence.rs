//! Observed orders of convergence of a scheme card, by self-convergence on the
//! Ornstein–Uhlenbeck problem (smooth, D > 0 everywhere).
//!
//! Space: at one small fixed step on grids N, 2N, 4N, 8N, the error of grid N is the
//! L1 distance h Σ |P_N − R P_{2N}| between its final density and the finer one
//! averaged onto it (R averages pairs of cells); the order is log₂(e_N / e_{2N}).
//! Time: on one grid at steps dt, dt/2, dt/4, dt/8 likewise. With the step (or the
//! grid) shared by all runs of a sequence, the other error cancels to leading order.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::run::{run, RunSettings};
use crate::scheme::{Scheme, StepKind};
use crate::space::grid::Grid;
use crate::space::operator::Operator;

/// Measured orders of one card.
#[derive(Clone, Debug, Serialize)]
pub struct Orders {
    /// Card name.
    pub card: String,
    /// Claimed spatial order.
    pub claimed_space: f64,
    /// Claimed temporal order.
    pub claimed_time: f64,
    /// Observed spatial order on the two finest pairs.
    pub space: f64,
    /// Observed temporal order (None for adaptive cards, whose error is set by rtol).
    pub time: Option<f64>,
    /// (N, e_N) of the space sequence.
    pub space_errors: Vec<(usize, f64)>,
    /// (dt, e_dt) of the time sequence.
    pub time_errors: Vec<(f64, f64)>,
}

fn final_density(
    problem: &Problem,
    scheme: &Scheme,
    cells: usize,
    dt: Option<f64>,
) -> Result<Vec<f64>> {
    let rep = run(
        problem,
        scheme,
        &RunSettings {
            cells,
            dt,
            rtol: Some(1e-10),
            atol: Some(1e-13),
            every: Some(problem.t_end),
            allow_unstable: false,
            ..RunSettings::default()
        },
    )?;
    // orders are measured on any finished run: a non-positive scheme's small negative
    // tails are part of its error, not a reason to refuse the measurement
    if rep.outcome >= crate::run::Outcome::Diverged || (rep.t_reached - problem.t_end).abs() > 1e-9
    {
        return Err(Error::SolverFailed {
            t: rep.t_reached,
            reason: format!(
                "{} on {} at {cells} cells ended {}",
                scheme.name,
                problem.name,
                rep.outcome.as_str()
            ),
        });
    }
    rep.snapshots
        .last()
        .map(|s| s.p.clone())
        .ok_or_else(|| Error::SolverFailed {
            t: 0.0,
            reason: "no snapshot".into(),
        })
}

fn restrict(fine: &[f64]) -> Vec<f64> {
    fine.chunks(2).map(|c| 0.5 * (c[0] + c[1])).collect()
}

fn l1(a: &[f64], b: &[f64], h: f64) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() * h
}

fn slope(e: &[f64]) -> f64 {
    let k = e.len();
    (e[k - 2] / e[k - 1]).log2()
}

/// Measure the space and time orders of `scheme` on the `ou` problem (t_end 100).
pub fn measure_orders(scheme: &Scheme) -> Result<Orders> {
    let problem = Problem::builtin("ou")?;
    let cells = [100usize, 200, 400, 800, 1600];
    // one step for the space sequence, below the explicit limit of the finest grid
    let finest = Grid::new(problem.a, problem.b, *cells.last().unwrap_or(&1600))?;
    let limit =
        Operator::assemble(&problem, finest, scheme.build_flux()?.as_ref())?.explicit_limit();
    let adaptive = scheme.step_kind() == StepKind::Adaptive;
    let dt_space = match scheme.step_kind() {
        StepKind::Explicit => Some(0.5 * limit),
        StepKind::Implicit => Some(0.05),
        StepKind::Adaptive => None,
    };
    let sols: Vec<Vec<f64>> = cells
        .iter()
        .map(|&n| final_density(&problem, scheme, n, dt_space))
        .collect::<Result<_>>()?;
    let mut space_errors = Vec::new();
    for k in 0..cells.len() - 1 {
        let h = (problem.b - problem.a) / cells[k] as f64;
        space_errors.push((cells[k], l1(&sols[k], &restrict(&sols[k + 1]), h)));
    }
    let space = slope(&space_errors.iter().map(|e| e.1).collect::<Vec<_>>());
    let (time, time_errors) = if adaptive {
        (None, vec![])
    } else {
        let n = 200;
        let g = Grid::new(problem.a, problem.b, n)?;
        let lim = Operator::assemble(&problem, g, scheme.build_flux()?.as_ref())?.explicit_limit();
        let base = if scheme.step_kind() == StepKind::Explicit {
            0.8 * lim
        } else {
            2.0
        };
        let dts: Vec<f64> = (0..5).map(|k| base / f64::from(1u32 << k)).collect();
        let sols: Vec<Vec<f64>> = dts
            .iter()
            .map(|&dt| final_density(&problem, scheme, n, Some(dt)))
            .collect::<Result<_>>()?;
        let h = g.h();
        let errs: Vec<(f64, f64)> = (0..dts.len() - 1)
            .map(|k| (dts[k], l1(&sols[k], &sols[k + 1], h)))
            .collect();
        (
            Some(slope(&errs.iter().map(|e| e.1).collect::<Vec<_>>())),
            errs,
        )
    };
    Ok(Orders {
        card: scheme.name.clone(),
        claimed_space: scheme.claims.order_space,
        claimed_time: scheme.claims.order_time,
        space,
        time,
        space_errors,
        time_errors,
    })
}
