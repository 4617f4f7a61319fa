//! Discrete-time models of SGD on the finite-volume grid: the exact SGD transfer
//! operator and the per-step Gaussian rule, discretised by Ulam's method.
//!
//! One SGD step sends a weight W to φ_k(W) = W − T ĝ_k(W), where ĝ_k is the mean
//! gradient of minibatch k, drawn with probability π_k. A density therefore evolves by
//! the Perron–Frobenius (transfer) operator of the random map,
//!
//! ```text
//! P_{t+1}(y) = Σ_k π_k Σ_{x : φ_k(x) = y} P_t(x) / |φ_k′(x)|,
//! ```
//!
//! which is linear, positive and mass-preserving, with no small-step or diffusion
//! approximation. `transfer-exact` discretises it; `transfer-gaussian`
//! discretises instead the per-step Gaussian rule, in which a point mass at W becomes the
//! normal N(W − T G(W), 2D(W)) with 2D = T² S²/B (times the without-replacement
//! factor): the same first two moments per step, without the discrete minibatches.
//!
//! Ulam's method (Ulam 1960) projects the operator onto the cells: the entry M_ij of
//! the Markov matrix is the fraction of the mass of cell j, spread uniformly over the
//! cell, that one step carries to cell i; Li (1976) proved that the stationary densities
//! of Ulam's matrices converge in L1 as the cells shrink. Each cell is cut into q
//! sub-intervals (default 8); on each, every map is replaced by the chord through the
//! images of the sub-interval's ends, so the sub-interval's mass lands uniformly on the
//! image interval. Maps that fold or are not monotone are handled sub-interval by
//! sub-interval; a map constant on a sub-interval sends it to a point.
//!
//! How the landed mass is shared between cells is the accuracy question. Ulam's own
//! projection ([`Deposit::Cells`]: each cell gets what lands inside it) is first order:
//! near a contracting fixed point it cannot place the mass more precisely than its cell,
//! so on `seed` the mean at t = 500 is off by about h/2 of the mass at W = 2 (measured:
//! 16 standard errors of a million-particle Monte Carlo at 3000 cells for the Gaussian
//! rule). The default ([`Deposit::Linear`]) shares mass between the two nearest cell
//! centres in proportion to distance (hat functions), integrated exactly over the image
//! interval: just as conservative and non-negative, but it keeps the mean position
//! exactly (away from the walls), and converged to the Monte Carlo's accuracy at 1500
//! cells in the same test. For the Gaussian rule the image interval is convolved with
//! the normal of variance 2D (averaged over the sub-interval) and the hat weights are
//! second differences of E[(Y − x)₊] in closed form (with Ψ(z) = zΦ(z) + φ(z) and its
//! antiderivative); a zero variance is the point map, tails beyond 8.5 standard
//! deviations (mass below 1e-17) are dropped, and kernels wider than 4 cells everywhere
//! on a source cell use one chord for the whole cell. One deposit rule for every kernel
//! matters: switching between cell masses and hats at some width leaves a glitch at the
//! switch each step, which the flow carries off as grid-scale ripples.
//!
//! On cells of unequal widths (an `auto` grid, explicit edges) the same rules use the
//! real faces and centres (`ulam::graded`: tents with sides of their own lengths, mirror
//! images of the cells beyond a reflecting wall); the matrix then moves cell masses
//! M_ij and is stored as M_ij h_j/h_i on cell averages, and a kernel counts as wide
//! relative to its source cell's width.
//!
//! Walls have the Monte Carlo engine's semantics ([`reflect`]): at zero-flux walls mass that would leave is folded back (period 2(b − a)); at absorbing
//! walls it is removed, and the run reports it. Every entry is non-negative by
//! construction, and every column is rescaled to its exact total (one with reflecting
//! walls), so mass is conserved to rounding.
//!
//! References: S. M. Ulam, *A Collection of Mathematical Problems* (1960); T.-Y. Li,
//! "Finite approximation for the Frobenius–Perron operator. A solution to Ulam's
//! conjecture", J. Approx. Theory 17 (1976) 177–186.
//!
//! Files: [`minibatch`] enumerates the minibatches, `kernels` holds the closed forms,
//! `ulam` spreads one column, [`MarkovMatrix`] stores the result and [`MarkovStep`]
//! applies it once per step behind the crate's one time-propagation interface.

mod kernels;
mod matrix;
pub mod minibatch;
mod scheduled;
pub mod two;
mod ulam;

pub use matrix::{MarkovMatrix, MarkovStep};
pub use minibatch::{minibatch_count, minibatches, Minibatch};
pub use scheduled::ScheduledMarkov;
pub use ulam::{reflect, WIDE_KERNEL};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::problem::{Boundary, Problem};
use crate::space::grid::Grid;
use ulam::{Column, Geometry};

/// Which discrete-time model a transfer run discretises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferKind {
    /// The exact SGD step: each minibatch map W ↦ W − T ĝ(W) with its probability.
    Exact,
    /// The seed's per-step rule: a normal kernel of mean W − T G(W), variance 2D(W).
    Gaussian,
}

impl TransferKind {
    /// The model's name: `transfer-exact` or `transfer-gaussian`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransferKind::Exact => "transfer-exact",
            TransferKind::Gaussian => "transfer-gaussian",
        }
    }

    /// The name of the discretisation, written in the report's `flux` field.
    pub fn method(&self) -> &'static str {
        match self {
            TransferKind::Exact => "ulam-minibatch-maps",
            TransferKind::Gaussian => "ulam-gaussian-kernel",
        }
    }
}

/// The density model a problem runs under (the CLI's `--model`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// The Itô Fokker–Planck equation, solved by a scheme card (default).
    #[default]
    FokkerPlanck,
    /// A discrete-time transfer operator (see [`TransferKind`]).
    Transfer(TransferKind),
}

/// Names accepted by [`Model::parse`], default first.
pub const MODELS: &[&str] = &["fokker-planck", "transfer-exact", "transfer-gaussian"];

impl Model {
    /// Parse `fokker-planck`, `transfer-exact` or `transfer-gaussian`.
    pub fn parse(s: &str) -> Result<Model> {
        match s {
            "fokker-planck" => Ok(Model::FokkerPlanck),
            "transfer-exact" => Ok(Model::Transfer(TransferKind::Exact)),
            "transfer-gaussian" => Ok(Model::Transfer(TransferKind::Gaussian)),
            _ => Err(Error::UnknownName {
                kind: "model".into(),
                name: s.into(),
                known: MODELS.join(", "),
            }),
        }
    }

    /// The model's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Model::FokkerPlanck => "fokker-planck",
            Model::Transfer(k) => k.as_str(),
        }
    }
}

/// Settings of the Ulam discretisation.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TransferOptions {
    /// Sub-intervals per cell on which each map is linearised (default 8).
    pub subcells: usize,
    /// Largest number of minibatch maps `transfer-exact` enumerates (default 4096).
    pub max_minibatches: usize,
    /// Gaussian tails beyond this many standard deviations are dropped (default 8.5,
    /// mass below 1e-17 per side).
    pub tail_sigmas: f64,
    /// How landed mass is shared between cells (default [`Deposit::Linear`]).
    pub deposit: Deposit,
    /// Largest number of stored entries of the matrix (default 50 000 000, about 600 MB);
    /// the build stops with an error beyond it. `transfer-gaussian` stores about
    /// 2 · 8.5 σ/h entries per column where the noise σ = T S/√B is large.
    pub max_entries: usize,
}

/// How the mass that lands on an image interval is shared between cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deposit {
    /// Ulam's projection: each cell receives the mass that lands inside it (first
    /// order: a point attractor is only located to within its cell).
    Cells,
    /// Linear sharing between the two nearest cell centres (hat functions), which keeps
    /// the mean position exactly; Gaussian kernels wider than half a cell are still
    /// integrated over the cells (the two agree to O(h²) on smooth kernels).
    Linear,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            subcells: 8,
            max_minibatches: 4096,
            tail_sigmas: 8.5,
            deposit: Deposit::Linear,
            max_entries: 50_000_000,
        }
    }
}

impl TransferOptions {
    /// Check the ranges: subcells in 1..=1024, max_minibatches ≥ 1, tail_sigmas in [4, 40].
    pub fn validate(&self) -> Result<()> {
        if !(1..=1024).contains(&self.subcells) {
            return Err(Error::invalid(
                "subcells",
                self.subcells,
                "need 1 to 1024 sub-intervals per cell",
            ));
        }
        if self.max_minibatches == 0 {
            return Err(Error::invalid("max_minibatches", 0, "must be at least 1"));
        }
        if self.max_entries == 0 {
            return Err(Error::invalid("max_entries", 0, "must be at least 1"));
        }
        if !(self.tail_sigmas.is_finite() && (4.0..=40.0).contains(&self.tail_sigmas)) {
            return Err(Error::invalid(
                "tail_sigmas",
                self.tail_sigmas,
                "must lie in [4, 40] standard deviations",
            ));
        }
        Ok(())
    }
}

/// A time in whole SGD steps: `v` must be an integer ≥ 1 (to 1e-9).
pub fn whole_steps(what: &str, v: f64) -> Result<u64> {
    if v.is_finite() && v > crate::limits::MAX_STEPS {
        return Err(crate::limits::over(
            what,
            crate::error::num(v),
            crate::error::num(crate::limits::MAX_STEPS),
            "discrete-time processes take one step per SGD step: lower --t-end",
        ));
    }
    if v.is_finite() && v >= 1.0 && (v - v.round()).abs() < 1e-9 {
        Ok(v.round() as u64)
    } else {
        Err(Error::invalid(
            what,
            crate::error::num(v),
            "discrete-time processes count time in whole SGD steps: give an integer >= 1",
        ))
    }
}

/// The built transfer operator of one problem on one grid.
#[derive(Clone, Debug)]
pub struct Transfer {
    /// Which model.
    pub kind: TransferKind,
    /// The grid.
    pub grid: Grid,
    /// The Markov matrix (CSR).
    pub matrix: MarkovMatrix,
    /// Number of maps per cell (minibatches for `transfer-exact`, 1 for the Gaussian rule).
    pub maps: usize,
    /// The options it was built with.
    pub options: TransferOptions,
    /// Wall-clock seconds of the build.
    pub build_s: f64,
}

impl Transfer {
    /// Build the Markov matrix of `kind` for `problem` on `grid` (in parallel over cells).
    ///
    /// `transfer-exact` needs the minibatch noise unmodified (noise_scale 1, noise_floor
    /// 0); with noise_scale 0 and no floor (e.g. `seed-drift`) it is gradient descent.
    pub fn build(
        problem: &Problem,
        grid: Grid,
        kind: TransferKind,
        options: &TransferOptions,
    ) -> Result<Transfer> {
        options.validate()?;
        let clock = Instant::now();
        let maps = minibatch_maps(problem, kind, options)?;
        if grid.n > u32::MAX as usize {
            return Err(Error::invalid("cells", grid.n, "at most 2^32 - 1 cells"));
        }
        // a uniform grid's width, or the smallest cell of a graded one (the size below
        // which a kernel counts as a point)
        let h = grid
            .uniform_h()
            .unwrap_or_else(|| grid.extreme_cells().0 .1);
        let cells = Sources {
            problem,
            grid: grid.clone(),
            geo: Geometry {
                grid: grid.clone(),
                a: grid.a,
                b: grid.b,
                h,
                n: grid.n,
                absorbing: problem.boundary == Boundary::Absorbing,
                tail: options.tail_sigmas,
                linear: options.deposit == Deposit::Linear,
            },
            maps: &maps,
            q: options.subcells,
        };
        let nd = problem.landscape.len();
        let stored = AtomicUsize::new(0);
        let columns: Vec<Vec<(u32, f64)>> = (0..grid.n)
            .into_par_iter()
            .map_init(
                || {
                    (
                        Column::new(grid.n),
                        vec![0.0; (options.subcells + 1) * nd.max(1)],
                    )
                },
                |(col, grads), j| -> Result<Vec<(u32, f64)>> {
                    let total = match kind {
                        TransferKind::Exact => cells.exact(col, grads, j)?,
                        TransferKind::Gaussian => cells.gaussian(col, j)?,
                    };
                    let total = if cells.geo.absorbing {
                        total.min(1.0)
                    } else {
                        1.0
                    };
                    let entries = col.finish(total);
                    let stored = stored.fetch_add(entries.len(), Ordering::Relaxed) + entries.len();
                    if stored > options.max_entries {
                        return Err(Error::invalid(
                            "cells",
                            grid.n,
                            format!(
                                "the {} matrix needs more than max_entries = {} stored entries \
                                 (column {j} alone holds {}): use fewer cells",
                                kind.as_str(),
                                options.max_entries,
                                entries.len()
                            ),
                        ));
                    }
                    Ok(entries)
                },
            )
            .collect::<Result<_>>()?;
        let matrix = match grid.is_uniform() {
            true => MarkovMatrix::from_columns(grid.n, &columns),
            false => MarkovMatrix::from_mass_columns(&grid.widths(), &columns),
        };
        Ok(Transfer {
            kind,
            grid,
            matrix,
            maps: maps.len().max(1),
            options: *options,
            build_s: clock.elapsed().as_secs_f64(),
        })
    }

    /// One SGD step: `out` = M `p` (cell averages in, cell averages out).
    pub fn step(&self, p: &[f64], out: &mut [f64]) {
        self.matrix.apply(p, out);
    }

    /// The fraction of each cell's mass that one step keeps in the domain,
    /// Σ_i h_i M_ij / h_j (one with reflecting walls; the column sums on a uniform grid).
    pub fn kept_fractions(&self) -> Vec<f64> {
        let mut s = vec![0.0; self.grid.n];
        for i in 0..self.grid.n {
            let hi = self.grid.width(i);
            for (j, v) in self.matrix.row(i) {
                s[j] += hi * v;
            }
        }
        for (j, v) in s.iter_mut().enumerate() {
            *v /= self.grid.width(j);
        }
        s
    }

    /// The propagator that applies the matrix once per step (see [`MarkovStep`]).
    pub fn into_stepper(self) -> MarkovStep {
        MarkovStep::new(self.matrix)
    }
}

/// The maps `transfer-exact` averages: every minibatch with its probability (one map,
/// the full gradient, for gradient descent without noise); none for the Gaussian rule.
fn minibatch_maps(
    problem: &Problem,
    kind: TransferKind,
    options: &TransferOptions,
) -> Result<Vec<Minibatch>> {
    let origin = |e: Error| e.with_origin(&problem.origin);
    let nd = problem.landscape.len();
    if kind == TransferKind::Gaussian {
        return Ok(vec![]);
    }
    let unmodified =
        problem.noise_scale.to_bits() == 1.0f64.to_bits() && problem.noise_floor == 0.0;
    let drift_only = problem.noise_scale == 0.0 && problem.noise_floor == 0.0;
    if drift_only {
        Ok(vec![Minibatch {
            terms: (0..nd).map(|j| (j, 1.0 / nd as f64)).collect(),
            weight: 1.0,
        }])
    } else if unmodified {
        minibatches(nd, problem.batch, problem.sampling, options.max_minibatches).map_err(origin)
    } else {
        Err(origin(Error::invalid(
            "model",
            "transfer-exact",
            format!(
                "problem `{}` modifies S² (noise_scale = {}, noise_floor = {}), which \
                 minibatch sampling cannot represent: use transfer-gaussian",
                problem.name, problem.noise_scale, problem.noise_floor
            ),
        )))
    }
}

/// The source cells of one build: where each sub-interval's mass comes from and the
/// maps that carry it.
struct Sources<'a> {
    problem: &'a Problem,
    grid: Grid,
    geo: Geometry,
    maps: &'a [Minibatch],
    /// Sub-intervals per cell.
    q: usize,
}

impl Sources<'_> {
    /// Left end of sub-interval `s` of cell `j`.
    fn xs(&self, j: usize, s: usize) -> f64 {
        self.grid.face(j) + self.grid.width(j) * s as f64 / self.q as f64
    }

    /// Column `j` of `transfer-exact` into `col`: every minibatch map, chord by chord
    /// (`grads` is scratch for the per-datapoint gradients). Returns the mass kept.
    fn exact(&self, col: &mut Column, grads: &mut [f64], j: usize) -> Result<f64> {
        let (problem, q) = (self.problem, self.q);
        let land = &problem.landscape;
        let nd = land.len();
        for s in 0..=q {
            let x = self.xs(j, s);
            for d in 0..nd {
                let g = land.grad(d, x);
                if !g.is_finite() {
                    return Err(Error::NonFinite {
                        what: format!("gradient of {}", land.describe(d)),
                        w: x,
                        value: g,
                        origin: problem.origin.clone(),
                    });
                }
                grads[s * nd + d] = g;
            }
        }
        let image = |mb: &Minibatch, s: usize| {
            let g: f64 = mb.terms.iter().map(|(d, c)| c * grads[s * nd + d]).sum();
            self.xs(j, s) - problem.lr * g
        };
        let mut total = 0.0;
        for mb in self.maps {
            let wt = mb.weight / q as f64;
            let mut y_prev = image(mb, 0);
            for s in 0..q {
                let y_next = image(mb, s + 1);
                total += col
                    .deposit(&self.geo, y_prev, y_next, 0.0, wt)
                    .map_err(|e| at(e, self.xs(j, s)))?;
                y_prev = y_next;
            }
        }
        Ok(total)
    }

    /// Column `j` of `transfer-gaussian` into `col`: the normal kernel of mean
    /// W − T G(W) and variance 2D(W), chord by chord, or over one chord when the kernel
    /// is at least [`WIDE_KERNEL`] cells wide everywhere on the cell. Returns the mass kept.
    fn gaussian(&self, col: &mut Column, j: usize) -> Result<f64> {
        let (problem, q, h) = (self.problem, self.q, self.grid.width(j));
        let x0 = self.grid.face(j);
        let mut pts = Vec::with_capacity(q + 1);
        for s in 0..=q {
            let x = self.xs(j, s);
            let c = problem.coeffs(x);
            if !(c.g.is_finite() && c.d.is_finite() && c.d >= 0.0) {
                return Err(Error::NonFinite {
                    what: "G or D".into(),
                    w: x,
                    value: if c.g.is_finite() { c.d } else { c.g },
                    origin: problem.origin.clone(),
                });
            }
            pts.push((x - problem.lr * c.g, 2.0 * c.d));
        }
        let v_min = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        if v_min.sqrt() >= WIDE_KERNEL * h {
            // a kernel many cells wide: one chord over the whole cell, variance averaged
            // by the composite trapezoid rule
            let v = (0..q).map(|s| pts[s].1 + pts[s + 1].1).sum::<f64>() / (2 * q) as f64;
            return col
                .deposit(&self.geo, pts[0].0, pts[q].0, v.sqrt(), 1.0)
                .map_err(|e| at(e, x0));
        }
        let wt = 1.0 / q as f64;
        let mut total = 0.0;
        for s in 0..q {
            let sigma = (0.5 * (pts[s].1 + pts[s + 1].1)).sqrt();
            total += col
                .deposit(&self.geo, pts[s].0, pts[s + 1].0, sigma, wt)
                .map_err(|e| at(e, self.xs(j, s)))?;
        }
        Ok(total)
    }
}

/// Name the source position in an error raised while depositing.
fn at(e: Error, w: f64) -> Error {
    match e {
        Error::InvalidValue {
            what,
            value,
            why,
            origin,
        } => Error::InvalidValue {
            what,
            value,
            why: format!("{why} (from the cell at w = {w})"),
            origin,
        },
        Error::NonFinite {
            what,
            value,
            origin,
            ..
        } => Error::NonFinite {
            what,
            w,
            value,
            origin,
        },
        other => other,
    }
}
