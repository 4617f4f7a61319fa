//! The 2-D solver's cost target: `seed-2d` on 256² cells to t = 500 with backward
//! Euler at dt = 5 (directional cross scheme), set-up + solve, against one sparse LU
//! factorisation of the same matrix plus 100 solves, measured side by side in one
//! run; prints the ratio (target ≤ 10). Run with `cargo bench --bench two_d`.

use std::time::Instant;

use probcurrent::model::two::Problem2;
use probcurrent::space::two::{CrossScheme, Grid2, Operator2};
use probcurrent::time::two::{propagate, Method2, SparseLu};

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
        println!(
            "round {round}: seed-2d {n}² t = 500 backward Euler dt = 5: set-up + solve {run:.3}s ({} steps, min_p {:.2e}); \
             1 LU + 100 solves {baseline:.3}s; ratio {:.2} (target ≤ 10)",
            st.steps,
            st.min_p,
            run / baseline
        );
    }
}
