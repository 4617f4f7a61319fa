//! The initial density of a problem discretised on a grid: cell averages (exact for the
//! truncated normal through its CDF at the faces; the tabulated density interpolated
//! linearly at the centres), normalised to mass one on the domain.

use crate::error::{Error, Result};
use crate::model::problem::{Initial, Problem};
use crate::space::grid::Grid;

/// Cell averages of the initial density on `grid`, normalised to mass one.
pub fn initial_density(problem: &Problem, grid: &Grid) -> Result<Vec<f64>> {
    let mut p: Vec<f64> = match &problem.initial {
        Initial::Normal { mean, sd } => {
            let cdf =
                |x: f64| 0.5 * (1.0 + libm::erf((x - mean) / (sd * std::f64::consts::SQRT_2)));
            (0..grid.n)
                .map(|i| (cdf(grid.face(i + 1)) - cdf(grid.face(i))) / grid.width(i))
                .collect()
        }
        Initial::Uniform => vec![1.0; grid.n],
        Initial::Table { w, p } => grid
            .centres()
            .iter()
            .map(|&x| {
                if x < w[0] || x > w[w.len() - 1] {
                    return 0.0;
                }
                let k = w.partition_point(|&v| v <= x).clamp(1, w.len() - 1);
                let s = (x - w[k - 1]) / (w[k] - w[k - 1]);
                p[k - 1] + s * (p[k] - p[k - 1])
            })
            .collect(),
    };
    let mass: f64 = grid.mass(&p);
    if !(mass.is_finite() && mass > 0.0) {
        return Err(Error::invalid(
            "initial density",
            format!("mass {mass}"),
            format!(
                "has no mass on the domain [{}, {}] at {} cells",
                grid.a, grid.b, grid.n
            ),
        )
        .with_origin(&problem.origin));
    }
    p.iter_mut().for_each(|v| *v /= mass);
    Ok(p)
}
