//! A 2-D problem as the particle and transfer loops see it: its rectangle and step rule
//! ([`Step2::of`]), its regions, its initial density, and its landscape in the fastest
//! exact form available ([`Fast2::of`]): a closed form when one reproduces every
//! datapoint's gradient on a probe lattice to rounding, else the problem's own
//! landscape through dynamic dispatch.

use super::{Cells2, Linear2, Rect, SeedPit2, Sgd2, Step2};
use crate::error::Result;
use crate::model::problem::Boundary;
use crate::model::two::{Landscape2, Problem2};

impl Rect {
    /// The rectangle of a 2-D problem.
    pub fn of(p: &Problem2) -> Result<Rect> {
        Rect::new([p.x[0], p.y[0]], [p.x[1], p.y[1]])
    }
}

impl Step2 {
    /// The SGD step rule of a 2-D problem: T, B, sampling, rectangle and walls.
    pub fn of(p: &Problem2) -> Result<Step2> {
        Ok(Step2 {
            lr: p.lr,
            batch: p.batch,
            sampling: p.sampling,
            rect: Rect::of(p)?,
            absorbing: p.boundary == Boundary::Absorbing,
        })
    }
}

/// The named regions of a 2-D problem as rectangles (names in the same order).
pub fn regions_of(p: &Problem2) -> Result<(Vec<String>, Vec<Rect>)> {
    let mut names = Vec::new();
    let mut rects = Vec::new();
    for r in &p.regions {
        names.push(r.name.clone());
        rects.push(Rect::new([r.x[0], r.y[0]], [r.x[1], r.y[1]])?);
    }
    Ok((names, rects))
}

/// The initial cell masses of a 2-D problem on `cells`.
pub fn initial_masses(p: &Problem2, cells: &Cells2) -> Result<Vec<f64>> {
    cells
        .normal_masses(p.initial.mean, p.initial.sd)
        .map_err(|e| e.with_origin(&p.origin))
}

/// Any 2-D landscape as an [`Sgd2`], through dynamic dispatch.
#[derive(Clone, Copy, Debug)]
pub struct Dyn2<'a>(pub &'a dyn Landscape2);

impl Sgd2 for Dyn2<'_> {
    fn datapoints(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn grad(&self, j: usize, w: [f64; 2]) -> [f64; 2] {
        self.0.grad_j(j, w[0], w[1])
    }
}

/// A problem's landscape in the fastest exact form found: the `seed-2d` closed form, a
/// linear dataset, or the landscape itself.
#[derive(Clone, Debug)]
pub enum Fast2<'a> {
    /// The `seed-2d` formulas.
    Seed(SeedPit2),
    /// Gradients K w + ξ_j.
    Linear(Linear2),
    /// The problem's landscape (dynamic dispatch per gradient).
    Dyn(Dyn2<'a>),
}

impl<'a> Fast2<'a> {
    /// The fastest form of `p`'s landscape that agrees with it on a 9 × 9 probe lattice
    /// of the rectangle (plus the pit of `seed-2d`) to 1e-12 relative, datapoint by
    /// datapoint.
    pub fn of(p: &'a Problem2) -> Fast2<'a> {
        let land: &dyn Landscape2 = p.landscape.as_ref();
        let mut probes = vec![[1.0, 0.0], [1.03, 0.2], [0.97, -0.4]];
        for i in 0..9 {
            for j in 0..9 {
                let (u, v) = (i as f64 / 8.0, j as f64 / 8.0);
                probes.push([
                    p.x[0] + u * (p.x[1] - p.x[0]),
                    p.y[0] + v * (p.y[1] - p.y[0]),
                ]);
            }
        }
        let agrees = |cand: &dyn Sgd2Probe| {
            cand.n() == land.len()
                && (0..land.len()).all(|j| {
                    probes.iter().all(|&w| {
                        let (a, b) = (cand.g(j, w), land.grad_j(j, w[0], w[1]));
                        (0..2).all(|k| (a[k] - b[k]).abs() <= 1e-12 * (1.0 + b[k].abs()))
                    })
                })
        };
        let seed = SeedPit2 { k: 100.0, q: 1.0 };
        if agrees(&seed) {
            return Fast2::Seed(seed);
        }
        if let Some(lin) = linear_fit(land) {
            if agrees(&lin) {
                return Fast2::Linear(lin);
            }
        }
        Fast2::Dyn(Dyn2(land))
    }

    /// Which form was found: `closed form (seed-2d)`, `closed form (linear)` or
    /// `landscape closures`.
    pub fn describe(&self) -> &'static str {
        match self {
            Fast2::Seed(_) => "closed form (seed-2d)",
            Fast2::Linear(_) => "closed form (linear)",
            Fast2::Dyn(_) => "landscape closures",
        }
    }
}

/// Object-safe view of a candidate for the probe comparison.
trait Sgd2Probe {
    fn n(&self) -> usize;
    fn g(&self, j: usize, w: [f64; 2]) -> [f64; 2];
}

impl<L: Sgd2> Sgd2Probe for L {
    fn n(&self) -> usize {
        self.datapoints()
    }
    fn g(&self, j: usize, w: [f64; 2]) -> [f64; 2] {
        self.grad(j, w)
    }
}

/// The linear dataset through the gradients at (0, 0), (1, 0) and (0, 1), if K is the
/// same for every datapoint there (checked on the probes by the caller).
fn linear_fit(land: &dyn Landscape2) -> Option<Linear2> {
    let n = land.len();
    if n == 0 {
        return None;
    }
    let xi: Vec<[f64; 2]> = (0..n).map(|j| land.grad_j(j, 0.0, 0.0)).collect();
    let (e1, e2) = (land.grad_j(0, 1.0, 0.0), land.grad_j(0, 0.0, 1.0));
    let k = [
        [e1[0] - xi[0][0], e2[0] - xi[0][0]],
        [e1[1] - xi[0][1], e2[1] - xi[0][1]],
    ];
    k.iter()
        .flatten()
        .chain(xi.iter().flatten())
        .all(|v| v.is_finite())
        .then_some(Linear2 { k, xi })
}

impl Sgd2 for Fast2<'_> {
    fn datapoints(&self) -> usize {
        match self {
            Fast2::Seed(l) => l.datapoints(),
            Fast2::Linear(l) => l.datapoints(),
            Fast2::Dyn(l) => l.datapoints(),
        }
    }

    #[inline]
    fn grad(&self, j: usize, w: [f64; 2]) -> [f64; 2] {
        match self {
            Fast2::Seed(l) => l.grad(j, w),
            Fast2::Linear(l) => l.grad(j, w),
            Fast2::Dyn(l) => l.grad(j, w),
        }
    }
}
