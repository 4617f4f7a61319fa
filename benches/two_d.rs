//! The 2-D solver's cost target: `seed-2d` on 256² cells to t = 500 with backward
//! Euler at dt = 5 (directional cross scheme), set-up + solve, against one sparse LU
//! factorisation of the same matrix plus 100 solves, measured side by side in one
//! run; prints the ratio (target ≤ 10). Beside it, the adaptive `bdf` card (diffsol's
//! BDF with the sparse Jacobian, default tolerances) on the same operator and interval,
//! with its time relative to the backward-Euler run (set-up + solve) and the largest
//! difference of the two final densities. Run with `cargo bench --bench two_d`.

use std::time::Instant;

use probcurrent::model::two::Problem2;
use probcurrent::space::two::{CrossScheme, Grid2, Operator2};
use probcurrent::time::two::{propagate, Method2, SparseLu, Tolerances2};

fn main() {
    let n: usize = std::env::var("TWO_D_CELLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let p = Problem2::builtin("seed-2d").expect("seed-2d");
    for round in 0..2 {
        // baseline: one factorisation of I − dt A and 100 solves
        let g = Grid2::for_problem(&p, n).expect("grid");
        let op = Operator2::assemble(&p, g, CrossScheme::Directional).expect("operator");
        let t = op.triplets(1.0, -5.0);
        let t0 = Instant::now();
        let lu = SparseLu::factor(g.len(), &t).expect("lu");
        let mut x = g.initial_density(&p).expect("initial");
        for _ in 0..100 {
            lu.solve_in_place(&mut x);
        }
        let baseline = t0.elapsed().as_secs_f64();
        // the run: set-up (grid, operator, initial density) + 100 steps
        let t0 = Instant::now();
        let g = Grid2::for_problem(&p, n).expect("grid");
        let op = Operator2::assemble(&p, g, CrossScheme::Directional).expect("operator");
        let mut d = g.initial_density(&p).expect("initial");
        let st = propagate(
            &op,
            Method2::BackwardEuler,
            &mut d,
            &[500.0],
            5.0,
            |_, _| {},
        )
        .expect("run");
        let run = t0.elapsed().as_secs_f64();
        // the adaptive card on the same operator: diffsol's BDF, sparse Jacobian
        let t0 = Instant::now();
        let mut q = g.initial_density(&p).expect("initial");
        let sb = propagate(
            &op,
            Method2::Bdf(Tolerances2::default()),
            &mut q,
            &[500.0],
            5.0,
            |_, _| {},
        )
        .expect("bdf run");
        let bdf = t0.elapsed().as_secs_f64();
        let diff = d
            .iter()
            .zip(&q)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
            / d.iter().copied().fold(0.0, f64::max);
        println!(
            "round {round}: bdf (rtol 1e-6, atol 1e-9) {bdf:.3}s ({} steps, {} factorisations, min_p {:.2e}); \
             bdf / backward-Euler (set-up + solve) {:.2}; max |P_bdf − P_be| / max P {diff:.2e}",
            sb.steps,
            sb.factorisations,
            sb.min_p,
            bdf / run.max(f64::MIN_POSITIVE)
        );
        println!(
            "round {round}: seed-2d {n}² t = 500 backward Euler dt = 5: set-up + solve {run:.3}s ({} steps, min_p {:.2e}); \
             1 LU + 100 solves {baseline:.3}s; ratio {:.2} (target ≤ 10)",
            st.steps,
            st.min_p,
            run / baseline
        );
    }
}
