//! Converged reference solutions of a sweep: the default card on a fine grid at a small
//! step, cached on disk under a hash of everything that determines them.

use std::fs;

/// A new reference run may cost this many times the sweep's per-job budget.
pub const REFERENCE_BUDGET_FACTOR: f64 = 10.0;

use serde::{Deserialize, Serialize};

use super::SweepSpec;
use crate::error::{Error, Result};
use crate::model::problem::Problem;
use crate::run::{run, RunSettings};
use crate::scheme::Scheme;
use crate::space::grid::Grid;

/// A cached reference solution: the density at t_end on a fine grid.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Cache key: the [`content_key`] of everything that determines the solution.
    pub key: String,
    /// Grid.
    pub grid: Grid,
    /// Final time.
    pub t: f64,
    /// Density at t.
    pub p: Vec<f64>,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Region masses.
    pub regions: Vec<f64>,
}

/// A hash of everything that determines a reference solution: the tool's version, the
/// card (all its fields), the grid, the step and final time, and the fully resolved
/// problem — its scalar settings, its initial density on the grid, and its
/// coefficients G, G′, S², D, D′ at every centre and face of the grid, bit for bit. An
/// edited problem file (another `lr`, another formula, another domain) therefore never
/// hits a stale entry, whatever its name.
pub fn content_key(
    problem: &Problem,
    scheme: &Scheme,
    grid: &Grid,
    dt: f64,
    t_end: f64,
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let settings = format!(
        "probcurrent {}|{scheme:?}|{grid:?}|dt={dt:e}|t_end={t_end:e}|lr={:e}|batch={}|{:?}|[{:e}, {:e}]|{:?}|{:?}|{:?}|scale={:e}|floor={:e}",
        env!("CARGO_PKG_VERSION"),
        problem.lr,
        problem.batch,
        problem.sampling,
        problem.a,
        problem.b,
        problem.boundary,
        problem.initial,
        problem.regions,
        problem.noise_scale,
        problem.noise_floor,
    );
    h.update(settings.as_bytes());
    // a schedule changes the solution; constant ones keep the keys they always had
    if !problem.schedule.is_constant() {
        h.update(format!("|schedule={:?}", problem.schedule).as_bytes());
    }
    for v in crate::space::initial::initial_density(problem, grid)? {
        h.update(v.to_le_bytes());
    }
    for i in 0..=2 * grid.n {
        let w = if i % 2 == 0 {
            grid.face(i / 2)
        } else {
            grid.centre(i / 2)
        };
        let c = problem.coeffs(w);
        for v in [c.g, c.g_prime, c.s2, c.d, c.d_prime] {
            h.update(v.to_le_bytes());
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Build the reference of `problem` (knob applied), or read it from `cache_dir`, where
/// it is stored under its [`content_key`].
pub fn reference(problem: &Problem, label: &str, spec: &SweepSpec) -> Result<Reference> {
    let t_end = spec.t_end.unwrap_or(problem.t_end);
    let scheme = Scheme::resolve(crate::scheme::DEFAULT_SCHEME)?;
    let grid = Grid::new(problem.a, problem.b, spec.reference_cells)?;
    let key = content_key(problem, &scheme, &grid, spec.reference_dt, t_end)?;
    let fname: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fname = format!("{fname}-{}", &key[..16]);
    let path = spec.cache_dir.join(format!("ref-{fname}.json"));
    if let Ok(text) = fs::read_to_string(&path) {
        if let Ok(r) = serde_json::from_str::<Reference>(&text) {
            if r.key == key {
                return Ok(r);
            }
        }
    }
    // a cached reference costs nothing; a new one is held to REFERENCE_BUDGET_FACTOR
    // times the per-job budget (it is one run, finer than any job, that every verdict
    // needs; an unbounded t_end must still be refused)
    let cost = t_end / spec.reference_dt * spec.reference_cells as f64;
    let allowed = REFERENCE_BUDGET_FACTOR * spec.budget;
    if !(cost.is_finite() && cost <= allowed) {
        return Err(crate::limits::over(
            "reference cost",
            format!(
                "{} cell-steps (t_end / dt × cells = {} / {} × {})",
                crate::error::num(cost),
                crate::error::num(t_end),
                crate::error::num(spec.reference_dt),
                spec.reference_cells
            ),
            format!(
                "{} ({REFERENCE_BUDGET_FACTOR} × the per-job budget)",
                crate::error::num(allowed)
            ),
            "lower --t-end or --reference-cells, or raise --budget",
        ));
    }
    let rep = run(
        problem,
        &scheme,
        &RunSettings {
            cells: spec.reference_cells,
            dt: Some(spec.reference_dt),
            t_end: Some(t_end),
            every: Some(t_end),
            ..RunSettings::default()
        },
    )?;
    let (Some(snap), Some(m)) = (rep.snapshots.last(), rep.moments.last()) else {
        return Err(Error::SolverFailed {
            t: rep.t_reached,
            reason: "reference run produced no snapshot".into(),
        });
    };
    let r = Reference {
        key,
        grid: rep.grid,
        t: snap.t,
        p: snap.p.clone(),
        mean: m.mean,
        sd: m.sd,
        regions: m.regions.clone(),
    };
    fs::create_dir_all(&spec.cache_dir).map_err(|source| Error::Io {
        path: spec.cache_dir.clone(),
        source,
    })?;
    let text = serde_json::to_string(&r).map_err(|e| Error::Malformed {
        path: path.clone(),
        message: e.to_string(),
    })?;
    fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
    Ok(r)
}
