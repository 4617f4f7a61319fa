//! Cost of one time step against N for every card of the catalogue, beside a bare
//! Thomas solve of the same size (the floor for an implicit tridiagonal step).
//!
//! Each sample is one propagation of many steps (the set-up, such as one factorisation,
//! is shared by them). Run: `cargo bench --bench step_cost`. Compare ratios within one run, e.g.
//! `step/scharfetter-gummel/100000` against `step/thomas-floor/100000`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use probcurrent::scheme::catalogue;
use probcurrent::space::grid::Grid;
use probcurrent::space::initial::initial_density;
use probcurrent::space::linalg::thomas_solve;
use probcurrent::time::{Flow, Observer};
use probcurrent::{Operator, Problem, Stats};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Sees every step and stop and does nothing (the bench measures the steps alone).
struct Quiet;

impl Observer for Quiet {
    fn stop(&mut self, _t: f64, _p: &[f64], _stats: &Stats) -> Flow {
        Flow::Continue
    }
}

const SIZES: [usize; 5] = [100, 1_000, 10_000, 100_000, 1_000_000];

fn step_cost(c: &mut Criterion) {
    let problem = Problem::builtin("seed").expect("built-in problem");
    let mut group = c.benchmark_group("step");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for &n in &SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let grid = Grid::new(problem.a, problem.b, n).expect("grid");
        let p0 = initial_density(&problem, &grid).expect("initial density");
        for scheme in catalogue().expect("catalogue") {
            if scheme.step_kind() == probcurrent::scheme::StepKind::Adaptive {
                continue; // adaptive steps have no fixed cost: see the work-precision bench
            }
            let flux = scheme.build_flux().expect("flux");
            let op = Operator::assemble(&problem, grid.clone(), flux.as_ref()).expect("operator");
            let dt = scheme.resolve_dt(&op, None, false).expect("dt");
            let mut integ = scheme
                .build_integrator(&op, dt, None, None)
                .expect("integrator");
            let dt = dt.expect("a fixed-step card has a step");
            let mut p = p0.clone();
            group.bench_with_input(BenchmarkId::new(scheme.name.as_str(), n), &n, |b, _| {
                // one propagation of `iters` steps per sample: the set-up (one
                // factorisation) is shared by all of them
                b.iter_custom(|iters| {
                    let mut stats = Stats::default();
                    let stop = iters as f64 * dt;
                    let clock = Instant::now();
                    integ
                        .propagate(black_box(&mut p), 0.0, &[stop], &mut Quiet, &mut stats)
                        .expect("steps");
                    clock.elapsed()
                })
            });
        }
        // floor: a bare Thomas solve (no stored factorisation) of I − dt A, same size
        let flux = probcurrent::space::flux::by_name("scharfetter-gummel").expect("flux");
        let op = Operator::assemble(&problem, grid.clone(), flux.as_ref()).expect("operator");
        let mut m = op.a.clone();
        for i in 0..n {
            m.lower[i] = -m.lower[i];
            m.diag[i] = 1.0 - m.diag[i];
            m.upper[i] = -m.upper[i];
        }
        let mut x = p0.clone();
        let mut scratch = vec![0.0; n];
        group.bench_with_input(BenchmarkId::new("thomas-floor", n), &n, |b, _| {
            b.iter(|| thomas_solve(&m, black_box(&mut x), &mut scratch))
        });
    }
    group.finish();
}

criterion_group!(benches, step_cost);
criterion_main!(benches);
