//! The end-states report: stationary densities, the point mass on `seed`, mean
//! first-passage times by every method, and the flat-minimum bias on `wide-narrow`.
//!
//! [`compute`] runs the studies and returns typed results ([`EndStates`]); [`render`]
//! writes `<dir>/<name>.md` with SVG plots in `<dir>/<name>/`. The numerics live in
//! [`crate::analysis::endstate`]: the closed-form stationary density P_s ∝ e^{Φ}/D
//! against the null vector of every flux, the exact long-time limit of the operator's
//! Markov chain where the noise vanishes, the double-integral MFPT formula (Gardiner,
//! *Handbook of Stochastic Methods*, §5.2.7) against the discrete operator, Kramers and
//! Monte Carlo, and the density ratio between a wide and a narrow minimum of equal depth.

use std::path::Path;
use std::time::Instant;

use crate::analysis::critical::{multipliers, CriticalKind};
use crate::analysis::endstate::flat_minimum::{FlatMinimumPoint, McWindow};
use crate::analysis::endstate::{
    escape, stationary, EscapeOptions, EscapeReport, StationaryReport, PDE_FLUX,
};
use crate::analysis::montecarlo::{McMode, McReport, McSettings};

mod render;
use crate::error::Result;
use crate::model::problem::{Problem, Region};
use crate::model::wide_narrow::wide_narrow_problem;
use crate::reports::validation::{Runner, Summary};
use crate::run::{RunReport, RunSettings};
use crate::scheme::Scheme;
pub use render::render;

/// Cells of the stationary analyses and of the Fokker–Planck run on `seed`.
const CELLS: usize = 1200;
/// Learning rates of the escape study and of the flat-minimum study.
const LRS: [f64; 3] = [0.005, 0.01, 0.02];
/// Batch sizes of the flat-minimum study.
const BATCHES: [usize; 3] = [1, 2, 4];
/// (T, B, particles) of the flat-minimum Monte Carlo runs: B/T = 100 at two T, B/T = 50
/// and a smaller T.
const FLAT_MC: [(f64, usize, usize); 4] = [
    (0.005, 1, 25_000),
    (0.01, 1, 50_000),
    (0.02, 2, 50_000),
    (0.02, 1, 50_000),
];

/// Section 1: stationary densities on `ou` and `wide-narrow`.
pub struct StationaryStudy {
    /// `ou` (G = W, S² = 1).
    pub ou: StationaryReport,
    /// `wide-narrow`.
    pub wide_narrow: StationaryReport,
    /// Exact stationary variance of `ou`, T/2.
    pub var_ou: f64,
    /// The exact Gaussian at the `ou` cell centres.
    pub gauss: Vec<f64>,
    /// Largest relative deviation of the closed form from the Gaussian where it exceeds 10⁻¹².
    pub gauss_dev: f64,
}

/// Section 2: the point mass on `seed`.
pub struct PointMassStudy {
    /// The stationary analysis of `seed`.
    pub stationary: StationaryReport,
    /// The point mass (location, long-time mass); (2, NaN) when none was found.
    pub atom: (f64, f64),
    /// Index of the region `atom` (three cells around the point mass) in the runs.
    pub region: usize,
    /// The Fokker–Planck run with that region.
    pub pde: RunReport,
    /// The Monte Carlo run of SGD with that region.
    pub mc: McReport,
    /// The noisy pit minimum W*.
    pub wstar: f64,
    /// Per-datapoint SGD multipliers at W* and their Lyapunov exponent.
    pub multipliers: (Vec<f64>, f64),
}

/// Section 3: mean first-passage times.
pub struct EscapeStudy {
    /// `wide-narrow` from −1 past 0.5 at T = 0.005, 0.01 and 0.02.
    pub wide_narrow: Vec<(f64, EscapeReport)>,
    /// `seed` from the pit minimum past 1.3.
    pub seed: EscapeReport,
    /// The pit minimum of `seed`.
    pub wstar: f64,
    /// T·G′ at the pit minimum of `seed`.
    pub seed_lr_gprime: f64,
}

/// One Monte Carlo check of the flat-minimum bias.
pub struct FlatMc {
    /// Index into [`FlatStudy::points`].
    pub point: usize,
    /// Particles.
    pub particles: usize,
    /// Steps simulated.
    pub t_end: f64,
    /// What the run measured.
    pub window: McWindow,
}

/// Section 4: the flat-minimum bias across T and B.
pub struct FlatStudy {
    /// One point per (T, B), T outer.
    pub points: Vec<FlatMinimumPoint>,
    /// The Monte Carlo checks, in the order of `points`.
    pub mc: Vec<FlatMc>,
}

/// Everything the end-states report shows.
pub struct EndStates {
    /// Section 1.
    pub stationary: StationaryStudy,
    /// Section 2.
    pub point_mass: PointMassStudy,
    /// Section 3.
    pub escape: EscapeStudy,
    /// Section 4.
    pub flat: FlatStudy,
}

/// The end-states report as `<dir>/<name>.md` with SVG plots in `<dir>/<name>/`:
/// [`compute`] then [`render`]. About 30 s release on two cores.
pub fn end_states_report(
    runner: &dyn Runner,
    dir: &Path,
    name: &str,
    command: &str,
) -> Result<Summary> {
    let clock = Instant::now();
    let studies = compute(runner)?;
    let mut sum = render(&studies, dir, name, command)?;
    sum.wall_s = clock.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run every study of the report.
pub fn compute(runner: &dyn Runner) -> Result<EndStates> {
    let stationary = stationary_study()?;
    let point_mass = point_mass_study(runner)?;
    let escape = escape_study(point_mass.wstar)?;
    let flat = flat_study(runner)?;
    Ok(EndStates {
        stationary,
        point_mass,
        escape,
        flat,
    })
}

/// Stationary densities of `ou` (against the exact Gaussian N(0, T/2)) and `wide-narrow`.
fn stationary_study() -> Result<StationaryStudy> {
    let ou = Problem::builtin("ou")?;
    let r_ou = stationary(&ou, CELLS)?;
    let r_wn = stationary(&wide_narrow_problem(), CELLS)?;
    // OU against the exact Gaussian N(0, T S²/(2B c))
    let var_ou = ou.lr / 2.0;
    let gauss: Vec<f64> = r_ou
        .grid
        .centres()
        .iter()
        .map(|x| (-x * x / (2.0 * var_ou)).exp() / (2.0 * std::f64::consts::PI * var_ou).sqrt())
        .collect();
    let f_ou = r_ou.formula.clone().unwrap_or_default();
    let gauss_dev = f_ou
        .iter()
        .zip(&gauss)
        .filter(|(_, g)| **g > 1e-12)
        .map(|(f, g)| ((f - g) / g).abs())
        .fold(0.0, f64::max);
    Ok(StationaryStudy {
        ou: r_ou,
        wide_narrow: r_wn,
        var_ou,
        gauss,
        gauss_dev,
    })
}

/// The point mass on `seed`: its long-time mass, and the approach to it by the
/// Fokker–Planck model and by SGD.
fn point_mass_study(runner: &dyn Runner) -> Result<PointMassStudy> {
    let seed = Problem::builtin("seed")?;
    let r_seed = stationary(&seed, CELLS)?;
    let atom = r_seed
        .point_masses
        .first()
        .map_or((2.0, f64::NAN), |p| (p.w, p.mass));
    let h = r_seed.grid.width(r_seed.grid.locate(atom.0));
    let mut sp = seed.clone();
    sp.regions.push(Region {
        name: "atom".into(),
        lo: Some(atom.0 - 3.0 * h),
        hi: Some(atom.0 + 3.0 * h),
    });
    let region = sp.regions.len() - 1;
    let scheme = Scheme::resolve(PDE_FLUX)?;
    let pde = runner.solve(
        &sp,
        &scheme,
        &RunSettings {
            cells: CELLS,
            dt: Some(1.0),
            t_end: Some(4000.0),
            every: Some(100.0),
            keep_densities: false,
            ..RunSettings::default()
        },
    )?;
    let mc = runner.mc(
        &sp,
        &McSettings {
            particles: 20_000,
            mode: McMode::Sgd,
            t_end: Some(1000.0),
            every: Some(25.0),
            cells: 300,
            ..McSettings::default()
        },
    )?;
    let wstar = r_seed
        .critical
        .iter()
        .find(|c| c.kind == CriticalKind::NoisyMinimum)
        .map_or(f64::NAN, |c| c.w);
    Ok(PointMassStudy {
        stationary: r_seed,
        atom,
        region,
        pde,
        mc,
        wstar,
        multipliers: multipliers(&seed, wstar),
    })
}

/// Escape times on `wide-narrow` across T, and from the pit of `seed` at `wstar`.
fn escape_study(wstar: f64) -> Result<EscapeStudy> {
    let wn = wide_narrow_problem();
    let mut rows = Vec::new();
    for &lr in &LRS {
        let mut p = wn.clone();
        p.lr = lr;
        let e = escape(
            &p,
            -1.0,
            0.5,
            &EscapeOptions {
                particles: 3000,
                ..EscapeOptions::default()
            },
        )?;
        rows.push((lr, e));
    }
    let seed = Problem::builtin("seed")?;
    let e_seed = escape(
        &seed,
        wstar,
        1.3,
        &EscapeOptions {
            particles: 4000,
            ..EscapeOptions::default()
        },
    )?;
    Ok(EscapeStudy {
        wide_narrow: rows,
        seed: e_seed,
        wstar,
        seed_lr_gprime: seed.lr * seed.landscape.stats(wstar).g_prime,
    })
}

/// The flat-minimum bias at every (T, B) of [`LRS`] × [`BATCHES`], with Monte Carlo of
/// SGD at the points of [`FLAT_MC`].
fn flat_study(runner: &dyn Runner) -> Result<FlatStudy> {
    let wn = wide_narrow_problem();
    let mut points = Vec::new();
    let mut mc = Vec::new();
    for &lr in &LRS {
        for &b in &BATCHES {
            let pt = FlatMinimumPoint::compute(&wn, lr, b, 1000)?;
            if let Some(&(_, _, particles)) = FLAT_MC
                .iter()
                .find(|&&(l, bb, _)| (l - lr).abs() < 1e-12 && bb == b)
            {
                let (p, settings) = pt.mc_setup(&wn, particles);
                let report = runner.mc(&p, &settings)?;
                if let Some(window) = McWindow::from_report(&report) {
                    mc.push(FlatMc {
                        point: points.len(),
                        particles,
                        t_end: pt.mc_steps(),
                        window,
                    });
                }
            }
            points.push(pt);
        }
    }
    Ok(FlatStudy { points, mc })
}
