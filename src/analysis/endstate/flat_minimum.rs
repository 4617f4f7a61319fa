//! The flat-minimum bias on `wide-narrow`: how much more density the wide minimum
//! holds than the narrow one, by the formula, the PDE and Monte Carlo of SGD.
//!
//! In the Fokker–Planck model the density ratio at the centres is
//! (S²(−1)/S²(1)) · exp(Φ(1) − Φ(−1)) with Φ ∝ B/T, so it depends on B/T alone; SGD's
//! stationary state depends on T and B separately. Monte Carlo measures the ratio of
//! the masses within ±[`CENTRE_WINDOW`] of the centres (the window ratio), so the formula
//! is read the same way. Each Monte Carlo run starts from the Fokker–Planck stationary
//! density, so only the (small) difference between the two stationary states has to
//! relax: it runs for 4/λ₁ (λ₁ the relaxation rate of the end state) or 1000 steps,
//! whichever is longer.

use serde::Serialize;

use crate::analysis::endstate::stationary::{mass_in, stationary, StationaryReport};
use crate::analysis::montecarlo::{McMode, McReport, McSettings};
use crate::error::Result;
use crate::model::problem::{Initial, Problem};
use crate::model::wide_narrow::CENTRE_WINDOW;
use crate::space::grid::Grid;

/// Ratio of the masses of density `p` on `grid` within ±[`CENTRE_WINDOW`] of W = 1 and
/// of W = −1.
pub fn window_ratio(grid: &Grid, p: &[f64]) -> f64 {
    mass_in(grid, p, 1.0 - CENTRE_WINDOW, 1.0 + CENTRE_WINDOW)
        / mass_in(grid, p, -1.0 - CENTRE_WINDOW, -1.0 + CENTRE_WINDOW)
}

/// The Fokker–Planck side of the flat-minimum bias at one (T, B).
#[derive(Clone, Debug, Serialize)]
pub struct FlatMinimumPoint {
    /// Learning rate T.
    pub lr: f64,
    /// Batch size B.
    pub batch: usize,
    /// Density ratio P(1)/P(−1) at the centres from the formula (NaN if unavailable).
    pub ratio_formula: f64,
    /// The same from the PDE's null vector.
    pub ratio_pde: f64,
    /// Window ratio from the formula.
    pub window_formula: f64,
    /// Mass of the narrow basin (left of the barrier) from the formula.
    pub narrow_formula: f64,
    /// Relaxation rate λ₁ of the end state (per step; NaN if unavailable).
    pub relaxation_rate: f64,
    /// The stationary analysis behind these numbers.
    #[serde(skip)]
    pub stationary: StationaryReport,
}

impl FlatMinimumPoint {
    /// The stationary analysis of `base` (the `wide-narrow` problem) at learning rate
    /// `lr` and batch `batch` on `cells` cells.
    pub fn compute(base: &Problem, lr: f64, batch: usize, cells: usize) -> Result<Self> {
        let mut p = base.clone();
        p.lr = lr;
        p.batch = batch;
        let r = stationary(&p, cells)?;
        let (ratio_formula, ratio_pde) = r.ratios().first().map_or((f64::NAN, f64::NAN), |x| {
            (x.2.unwrap_or(f64::NAN), x.3.unwrap_or(f64::NAN))
        });
        Ok(FlatMinimumPoint {
            lr,
            batch,
            ratio_formula,
            ratio_pde,
            window_formula: r
                .formula
                .as_ref()
                .map_or(f64::NAN, |f| window_ratio(&r.grid, f)),
            narrow_formula: r.basins.first().and_then(|b| b.formula).unwrap_or(f64::NAN),
            relaxation_rate: r.relaxation_rate.unwrap_or(f64::NAN),
            stationary: r,
        })
    }

    /// Steps of the Monte Carlo run: 4/λ₁ rounded up to a hundred, at least 1000.
    pub fn mc_steps(&self) -> f64 {
        ((4.0 / self.relaxation_rate) / 100.0).ceil().max(10.0) * 100.0
    }

    /// The Monte Carlo run that checks this point: `base` at this (T, B) started from
    /// the Fokker–Planck stationary density, SGD with `particles` particles for
    /// [`mc_steps`](Self::mc_steps) steps, snapshots every quarter.
    pub fn mc_setup(&self, base: &Problem, particles: usize) -> (Problem, McSettings) {
        let mut p = base.clone();
        p.lr = self.lr;
        p.batch = self.batch;
        if let Some(f) = &self.stationary.formula {
            p.initial = Initial::Table {
                w: self.stationary.grid.centres(),
                p: f.clone(),
            };
        }
        let t_end = self.mc_steps();
        let settings = McSettings {
            particles,
            mode: McMode::Sgd,
            t_end: Some(t_end),
            every: Some(t_end / 4.0),
            cells: 250,
            ..McSettings::default()
        };
        (p, settings)
    }
}

/// What a Monte Carlo run of SGD says about the flat-minimum bias at its last snapshot.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct McWindow {
    /// Window ratio: mass in `wide-centre` over mass in `narrow-centre`.
    pub ratio: f64,
    /// Standard error of ln(ratio), √(1/(N x) + 1/(N y)) for window fractions x, y.
    pub se_ln: f64,
    /// Mass of the `narrow` region.
    pub narrow: f64,
    /// Its standard error.
    pub narrow_se: f64,
}

impl McWindow {
    /// Read from the last snapshot of `report` (regions `narrow`, `narrow-centre` and
    /// `wide-centre`); `None` without snapshots or regions of those names.
    pub fn from_report(report: &McReport) -> Option<McWindow> {
        let last = report.moments.last()?;
        let idx = |name: &str| report.region_names.iter().position(|r| r == name);
        let (narrow, nc, wc) = (idx("narrow")?, idx("narrow-centre")?, idx("wide-centre")?);
        let (x, y) = (last.regions[wc], last.regions[nc]);
        let n = report.particles as f64;
        Some(McWindow {
            ratio: x / y,
            se_ln: (1.0 / (n * x) + 1.0 / (n * y)).sqrt(),
            narrow: last.regions[narrow],
            narrow_se: last.regions_se[narrow],
        })
    }
}
