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
    /// Claimed spatial order on smooth problems (None: unclaimed).
    pub claimed_space: Option<f64>,
    /// Claimed temporal order (None: unclaimed).
    pub claimed_time: Option<f64>,
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
        let lim = Operator::assemble(&problem, g.clone(), scheme.build_flux()?.as_ref())?
            .explicit_limit();
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
        let h = g.width(0); // uniform
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

/// The class of a problem for the claims of orders: smooth, or degenerate (the noise
/// vanishes somewhere, so the density can form spikes and point masses narrower than
/// any cell).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemClass {
    /// D bounded away from zero relative to its largest value: min D > 1e-6 max D.
    Smooth,
    /// D vanishes or nearly vanishes somewhere: min D ≤ 1e-6 max D (or D ≡ 0).
    Degenerate,
}

impl ProblemClass {
    /// Classify `problem` from D at 4001 equally spaced points of its domain.
    pub fn of(problem: &Problem) -> ProblemClass {
        let ds: Vec<f64> = (0..=4000)
            .map(|i| {
                problem
                    .coeffs(problem.a + (problem.b - problem.a) * i as f64 / 4000.0)
                    .d
            })
            .collect();
        let max = ds.iter().copied().fold(0.0, f64::max);
        let min = ds.iter().copied().fold(f64::INFINITY, f64::min);
        if max > 0.0 && min > 1e-6 * max {
            ProblemClass::Smooth
        } else {
            ProblemClass::Degenerate
        }
    }

    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProblemClass::Smooth => "smooth",
            ProblemClass::Degenerate => "degenerate",
        }
    }

    /// The spatial order `scheme` claims on this class (None: unclaimed).
    pub fn claimed_space(&self, scheme: &Scheme) -> Option<f64> {
        match self {
            ProblemClass::Smooth => scheme.claims.order_space,
            ProblemClass::Degenerate => scheme.claims.order_space_degenerate,
        }
    }
}

/// A non-nested family of grids: N₀·1.25ᵏ rounded, k = 0 … count − 1. Successive grids
/// share no faces but the walls (their ratio is not an integer), so a feature narrower
/// than a cell falls at a different place inside its cell on every grid.
pub fn non_nested_family(n0: usize, count: usize) -> Vec<usize> {
    (0..count)
        .map(|k| (n0 as f64 * 1.25f64.powi(k as i32)).round() as usize)
        .collect()
}

/// One grid of a study.
#[derive(Clone, Debug, Serialize)]
pub struct GridPoint {
    /// Cells.
    pub cells: usize,
    /// Wasserstein-1 error against the reference (None: the run did not finish).
    pub error: Option<f64>,
    /// The run's outcome (`ok`, `negative`, …, or why it did not run).
    pub outcome: String,
}

/// Verdicts of a grid study: monotonicity and the spread of the observed order.
#[derive(Clone, Debug, Serialize)]
pub struct OrderVerdict {
    /// Successive pairs of finished grids.
    pub steps: usize,
    /// Pairs where the error did not decrease on the finer grid.
    pub non_monotone: usize,
    /// Local orders ln(e_k/e_{k+1}) / ln(N_{k+1}/N_k) of successive pairs.
    pub local: Vec<f64>,
    /// Least-squares slope of −ln e against ln N over all finished grids.
    pub fit: f64,
    /// Root-mean-square residual of that fit in ln e (0: a clean power law).
    pub fit_residual: f64,
}

impl OrderVerdict {
    /// Verdict from (N, e) pairs (finished grids only); None with fewer than 3.
    pub fn of(points: &[(usize, f64)]) -> Option<OrderVerdict> {
        if points.len() < 3 || points.iter().any(|p| p.1 <= 0.0 || !p.1.is_finite()) {
            return None;
        }
        let local: Vec<f64> = points
            .windows(2)
            .map(|w| (w[0].1 / w[1].1).ln() / (w[1].0 as f64 / w[0].0 as f64).ln())
            .collect();
        let non_monotone = points.windows(2).filter(|w| w[1].1 >= w[0].1).count();
        let xs: Vec<f64> = points.iter().map(|p| (p.0 as f64).ln()).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
        let k = xs.len() as f64;
        let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let slope = sxy / sxx;
        let rss: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (y - my - slope * (x - mx)).powi(2))
            .sum();
        Some(OrderVerdict {
            steps: local.len(),
            non_monotone,
            local,
            fit: -slope,
            fit_residual: (rss / k).sqrt(),
        })
    }

    /// (min, median, max) of the local orders.
    pub fn spread(&self) -> (f64, f64, f64) {
        let mut v = self.local.clone();
        v.sort_by(f64::total_cmp);
        let med = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
        };
        (v[0], med, v[v.len() - 1])
    }

    /// Whether a claimed order holds on a grid study: the fitted order at least the
    /// claim − 0.3 and, on smooth problems, the error falling at every step. A claim is a
    /// lower bound here: an order-1 flux shows order 2 where its first-order term
    /// vanishes (upwind without drift), and on degenerate problems the fit over a range
    /// where a spike is being resolved can exceed the asymptotic order. The exact check
    /// of smooth orders (±0.3) is the one on `ou` ([`measure_orders`]).
    pub fn holds(&self, claim: f64, class: ProblemClass) -> bool {
        self.fit >= claim - 0.3 && (class == ProblemClass::Degenerate || self.non_monotone == 0)
    }
}

/// A grid-convergence study of one card on one problem.
#[derive(Clone, Debug, Serialize)]
pub struct GridStudy {
    /// Problem name.
    pub problem: String,
    /// Its class.
    pub class: ProblemClass,
    /// Card name.
    pub card: String,
    /// Final time.
    pub t_end: f64,
    /// The fixed step (None: adaptive or the card's explicit default).
    pub dt: Option<f64>,
    /// Cells of the reference (the same card and step on a finer non-nested grid).
    pub reference_cells: usize,
    /// W1 distance of the reference from the exact solution, where one is known.
    pub reference_exact: Option<f64>,
    /// The grids, coarse to fine.
    pub points: Vec<GridPoint>,
    /// The verdict (None: fewer than three grids finished).
    pub verdict: Option<OrderVerdict>,
    /// The card's claimed spatial order on this class.
    pub claimed: Option<f64>,
}

impl GridStudy {
    /// Whether the claim holds (None: unclaimed or no verdict).
    pub fn holds(&self) -> Option<bool> {
        Some(self.verdict.as_ref()?.holds(self.claimed?, self.class))
    }
}

/// Settings of a grid study.
#[derive(Clone, Debug)]
pub struct StudySettings {
    /// The grids (coarse to fine; e.g. [`non_nested_family`]).
    pub cells: Vec<usize>,
    /// Cells of the reference: not a multiple of any study grid.
    pub reference_cells: usize,
    /// Final time.
    pub t_end: f64,
    /// Number of steps of fixed-step implicit cards (dt = t_end / steps).
    pub steps: usize,
    /// Largest steps × cells of one run before it is skipped.
    pub budget: f64,
}

/// The final density of one study run, or why it has none.
fn study_run(
    problem: &Problem,
    scheme: &Scheme,
    cells: usize,
    dt: Option<f64>,
    t_end: f64,
    budget: f64,
) -> std::result::Result<(Grid, Vec<f64>, String), String> {
    let grid = Grid::new(problem.a, problem.b, cells).map_err(|e| e.to_string())?;
    let steps = match scheme.step_kind() {
        StepKind::Explicit => {
            let flux = scheme.build_flux().map_err(|e| e.to_string())?;
            let op = Operator::assemble(problem, grid.clone(), flux.as_ref())
                .map_err(|e| e.to_string())?;
            t_end / (0.9 * op.explicit_limit())
        }
        _ => dt.map_or(0.0, |d| t_end / d),
    };
    if steps * cells as f64 > budget {
        return Err(format!(
            "skipped ({:.1e} cell-steps over budget)",
            steps * cells as f64
        ));
    }
    let rep = run(
        problem,
        scheme,
        &RunSettings {
            cells,
            dt,
            t_end: Some(t_end),
            every: Some(t_end),
            rtol: Some(1e-8),
            atol: Some(1e-11),
            ..RunSettings::default()
        },
    )
    .map_err(|e| e.to_string())?;
    if rep.outcome >= crate::run::Outcome::Diverged || (rep.t_reached - t_end).abs() > 1e-9 * t_end
    {
        return Err(rep.outcome.as_str().to_string());
    }
    let p = rep
        .snapshots
        .last()
        .map(|s| s.p.clone())
        .ok_or("no snapshot")?;
    Ok((grid, p, rep.outcome.as_str().to_string()))
}

/// W1 distance ∫|F_h − Φ((W − m)/s)| dW between a cell-average density (normalised to
/// its mass) and the normal N(m, s²), by the trapezoidal rule with sign crossings on
/// about 40 000 points that include every face (F_h is linear in a cell, Φ smooth:
/// quadrature error ~1e-9 on the built-in domains).
pub fn w1_normal(grid: &Grid, p: &[f64], mean: f64, sd: f64) -> f64 {
    let mass: f64 = grid.mass(p);
    let sub = 40_000usize.div_ceil(grid.n).max(1);
    let phi = |x: f64| 0.5 * libm::erfc(-(x - mean) / (sd * std::f64::consts::SQRT_2));
    let (mut sum, mut f, mut x0) = (0.0, 0.0, grid.a);
    let mut d0 = -phi(grid.a);
    for (i, v) in p.iter().enumerate() {
        let slope = v / mass;
        let h = grid.width(i);
        for j in 1..=sub {
            let x1 = grid.face(i) + h * j as f64 / sub as f64;
            let d1 = f + slope * (x1 - grid.face(i)) - phi(x1);
            let len = x1 - x0;
            sum += if (d0 >= 0.0) == (d1 >= 0.0) {
                0.5 * len * (d0.abs() + d1.abs())
            } else {
                0.5 * len * (d0 * d0 + d1 * d1) / (d0.abs() + d1.abs())
            };
            (x0, d0) = (x1, d1);
        }
        f += slope * h;
    }
    sum
}

/// A grid-convergence study: `scheme` on `problem` on every grid of `settings`, each
/// final density scored by the exact Wasserstein-1 distance
/// ([`crate::analysis::metrics::w1_between`]) from the same card at the same step on
/// the reference grid, which shares no faces with the study grids but the walls.
pub fn grid_study(
    problem: &Problem,
    scheme: &Scheme,
    settings: &StudySettings,
) -> Result<GridStudy> {
    let t_end = settings.t_end;
    let dt = match scheme.step_kind() {
        StepKind::Implicit => Some(t_end / settings.steps as f64),
        StepKind::Explicit | StepKind::Adaptive => None,
    };
    let class = ProblemClass::of(problem);
    let mut study = GridStudy {
        problem: problem.name.clone(),
        class,
        card: scheme.name.clone(),
        t_end,
        dt,
        reference_cells: settings.reference_cells,
        reference_exact: None,
        points: Vec::new(),
        verdict: None,
        claimed: class.claimed_space(scheme),
    };
    let reference = study_run(
        problem,
        scheme,
        settings.reference_cells,
        dt,
        t_end,
        settings.budget * 4.0,
    );
    let (rg, rp) = match reference {
        Ok((g, p, _)) => (g, p),
        Err(why) => {
            study.points = settings
                .cells
                .iter()
                .map(|&cells| GridPoint {
                    cells,
                    error: None,
                    outcome: format!("no reference: {why}"),
                })
                .collect();
            return Ok(study);
        }
    };
    if let Some((m, v)) = problem.exact_moments(t_end) {
        study.reference_exact = Some(w1_normal(&rg, &rp, m, v.sqrt()));
    }
    for &cells in &settings.cells {
        let point = match study_run(problem, scheme, cells, dt, t_end, settings.budget) {
            Ok((g, p, outcome)) => GridPoint {
                cells,
                error: Some(crate::analysis::metrics::w1_between(&g, &p, &rg, &rp)),
                outcome,
            },
            Err(why) => GridPoint {
                cells,
                error: None,
                outcome: why,
            },
        };
        study.points.push(point);
    }
    let finished: Vec<(usize, f64)> = study
        .points
        .iter()
        .filter_map(|p| p.error.map(|e| (p.cells, e)))
        .collect();
    study.verdict = OrderVerdict::of(&finished);
    Ok(study)
}
