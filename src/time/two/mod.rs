//! Time stepping of the 2-D operator dP/dt = A P with a sparse LU factorised once
//! (faer's supernodal/simplicial sparse LU with partial pivoting and a fill-reducing
//! ordering): backward Euler, (I − Δt A) Pⁿ⁺¹ = Pⁿ, which keeps P ≥ 0 whenever A is an
//! M-matrix (all off-diagonals ≥ 0, as with the `directional` cross scheme), and BDF2,
//! (3/2 I − Δt A) Pⁿ⁺¹ = 2Pⁿ − ½Pⁿ⁻¹ (second order, started by one backward-Euler
//! step; not positivity preserving). One factorisation per distinct step size; each
//! step is one sparse triangular solve pair. The adaptive card `bdf` hands the same
//! operator, with its sparse Jacobian, to diffsol's variable-order BDF ([`bdf`]).

use std::time::Instant;

use faer::linalg::solvers::Solve;
use faer::sparse::{linalg::solvers::Lu, SparseColMat, Triplet};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::space::two::Operator2;

mod bdf;
pub use bdf::{propagate_bdf, Tolerances2, MAX_BDF_STEPS};

/// A sparse LU factorisation of an n×n matrix.
pub struct SparseLu {
    lu: Lu<usize, f64>,
    n: usize,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SparseLu(n = {})", self.n)
    }
}

impl SparseLu {
    /// Factorise the matrix given by (row, col, value) triplets (duplicates summed).
    pub fn factor(n: usize, triplets: &[(usize, usize, f64)]) -> Result<SparseLu> {
        let t: Vec<Triplet<usize, usize, f64>> = triplets
            .iter()
            .map(|&(r, c, v)| Triplet::new(r, c, v))
            .collect();
        let fail = |why: String| Error::SolverFailed {
            t: 0.0,
            reason: format!("sparse LU: {why}"),
        };
        let m = SparseColMat::<usize, f64>::try_new_from_triplets(n, n, &t)
            .map_err(|e| fail(format!("assembling the {n}×{n} matrix: {e:?}")))?;
        let lu = m
            .sp_lu()
            .map_err(|e| fail(format!("factorising the {n}×{n} matrix: {e:?}")))?;
        Ok(SparseLu { lu, n })
    }

    /// Solve M x = b in place (b is overwritten by x).
    pub fn solve_in_place(&self, b: &mut [f64]) {
        let m = faer::MatMut::from_column_major_slice_mut(b, self.n, 1);
        self.lu.solve_in_place(m);
    }
}

/// Implicit method (card) for the 2-D operator. Claims: `backward-euler` order 1 in
/// time, P ≥ 0 with an M-matrix (the `directional` cross scheme), conservative;
/// `bdf2` order 2, conservative, not positivity preserving; `bdf` (diffsol's adaptive
/// BDF, orders 1–5, error set by rtol/atol), conservative, not positivity preserving.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method2 {
    /// Backward Euler (first order, positivity preserving with an M-matrix).
    BackwardEuler,
    /// BDF2 with constant steps (second order).
    Bdf2,
    /// diffsol's adaptive variable-order BDF with the operator as its sparse Jacobian
    /// (the step `dt` is not used: the steps follow from the tolerances).
    Bdf(Tolerances2),
}

impl Method2 {
    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method2::BackwardEuler => "backward-euler",
            Method2::Bdf2 => "bdf2",
            Method2::Bdf(_) => "bdf",
        }
    }
    /// A method by name (`bdf` with the default tolerances, see [`Method2::with_tolerances`]).
    pub fn parse(name: &str) -> Result<Method2> {
        [
            Method2::BackwardEuler,
            Method2::Bdf2,
            Method2::Bdf(Tolerances2::default()),
        ]
        .into_iter()
        .find(|m| m.name() == name)
        .ok_or_else(|| Error::UnknownName {
            kind: "2-D time method".into(),
            name: name.into(),
            known: "backward-euler, bdf2, bdf".into(),
        })
    }
    /// The same method with the tolerances `tol` (only `bdf` uses them).
    pub fn with_tolerances(self, tol: Tolerances2) -> Method2 {
        match self {
            Method2::Bdf(_) => Method2::Bdf(tol),
            m => m,
        }
    }
}

/// Work and positivity record of a 2-D run.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Stats2 {
    /// Steps taken.
    pub steps: usize,
    /// Sparse LU factorisations.
    pub factorisations: usize,
    /// Seconds spent factorising.
    pub factor_seconds: f64,
    /// Seconds spent in the solves.
    pub solve_seconds: f64,
    /// Smallest density value met at any step.
    pub min_p: f64,
    /// Steps after which some value was negative.
    pub negative_steps: usize,
}

/// Advance `p` (density values) from t = 0 through the increasing stop times `stops`
/// with step at most `dt`; each interval between stops is split into equal steps
/// (`bdf`: adaptive steps, `dt` unused).
/// `observe(t, p)` is called at every stop.
pub fn propagate(
    op: &Operator2,
    method: Method2,
    p: &mut [f64],
    stops: &[f64],
    dt: f64,
    mut observe: impl FnMut(f64, &[f64]),
) -> Result<Stats2> {
    if let Method2::Bdf(tol) = method {
        return propagate_bdf(op, tol, p, stops, observe);
    }
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::InvalidValue {
            what: "dt".into(),
            value: dt.to_string(),
            why: "must be finite and > 0".into(),
            origin: String::new(),
        });
    }
    let n = op.len();
    let mut stats = Stats2 {
        min_p: p.iter().copied().fold(f64::INFINITY, f64::min),
        ..Stats2::default()
    };
    let mut cache: Vec<(f64, f64, SparseLu)> = Vec::new();
    let lu_for = |cache: &mut Vec<(f64, f64, SparseLu)>,
                  h: f64,
                  c0: f64,
                  stats: &mut Stats2|
     -> Result<usize> {
        if let Some(k) = cache
            .iter()
            .position(|(hh, cc, _)| hh.to_bits() == h.to_bits() && cc.to_bits() == c0.to_bits())
        {
            return Ok(k);
        }
        let t0 = Instant::now();
        let lu = SparseLu::factor(n, &op.triplets(c0, -h))?;
        stats.factor_seconds += t0.elapsed().as_secs_f64();
        stats.factorisations += 1;
        cache.push((h, c0, lu));
        Ok(cache.len() - 1)
    };
    let mut t = 0.0;
    // BDF2's previous value and the step it was taken with
    let mut prev: Option<(Vec<f64>, f64)> = None;
    let mut rhs = vec![0.0; n];
    for &stop in stops {
        let span = stop - t;
        if span > 0.0 {
            let m = (span / dt).ceil().max(1.0) as usize;
            let h = span / m as f64;
            for _ in 0..m {
                let bdf2 = method == Method2::Bdf2
                    && prev.as_ref().is_some_and(|q| q.1.to_bits() == h.to_bits());
                let c0 = if bdf2 { 1.5 } else { 1.0 };
                let k = lu_for(&mut cache, h, c0, &mut stats)?;
                match (&prev, bdf2) {
                    (Some((q, _)), true) => {
                        for i in 0..n {
                            rhs[i] = 2.0 * p[i] - 0.5 * q[i];
                        }
                    }
                    _ => rhs.copy_from_slice(p),
                }
                let t0 = Instant::now();
                cache[k].2.solve_in_place(&mut rhs);
                stats.solve_seconds += t0.elapsed().as_secs_f64();
                if method == Method2::Bdf2 {
                    // a change of step size restarts BDF2 with backward Euler
                    prev = Some((p.to_vec(), h));
                }
                p.copy_from_slice(&rhs);
                stats.steps += 1;
                let mn = p.iter().copied().fold(f64::INFINITY, f64::min);
                if mn < 0.0 {
                    stats.negative_steps += 1;
                }
                stats.min_p = stats.min_p.min(mn);
                if !mn.is_finite() {
                    return Err(Error::SolverFailed {
                        t,
                        reason: format!(
                            "{}: the density is not finite after step {}",
                            method.name(),
                            stats.steps
                        ),
                    });
                }
            }
            t = stop;
        }
        observe(stop, p);
    }
    Ok(stats)
}
