//! The discrete-time models against the Fokker–Planck step and against Monte Carlo.
//!
//! 1. Criterion: the cost of one step at N = 10⁴ cells — one transfer step (a sparse
//!    matrix–vector product with the Markov matrix) of `transfer-exact` and of
//!    `transfer-gaussian`, beside one step of the `scharfetter-gummel` card (backward
//!    Euler with a stored tridiagonal factorisation) at dt = 1, the same time.
//! 2. A table: on `seed` at t = 500, the time `transfer-exact` needs to reach the
//!    accuracy of a 2-million-particle Monte Carlo of SGD (its standard errors of mean,
//!    sd and mass past the barrier), against the Monte Carlo's own time; and the same
//!    for `transfer-gaussian` against the Gaussian-kick Monte Carlo (with
//!    `PROBCURRENT_BENCH_GAUSSIAN=1`). Errors of a grid are measured against the model
//!    on 48 000 cells (12 000 for the Gaussian kernel); all timings come from one run.
//!
//! Run: `cargo bench --bench transfer` (about a minute on two cores, most of it the
//! Monte Carlo; the table is skipped under `--test`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use probcurrent::analysis::montecarlo::{simulate, McMode, McReport, McSettings};
use probcurrent::space::grid::Grid;
use probcurrent::space::initial::initial_density;
use probcurrent::time::{Flow, Observer};
use probcurrent::{
    run_transfer, Operator, Problem, RunReport, RunSettings, Scheme, Stats, Transfer, TransferKind,
    TransferOptions,
};

const N: usize = 10_000;

/// Sees every step and stop and does nothing (the bench measures the steps alone).
struct Quiet;

impl Observer for Quiet {
    fn stop(&mut self, _t: f64, _p: &[f64], _stats: &Stats) -> Flow {
        Flow::Continue
    }
}

fn step_cost(c: &mut Criterion) {
    let problem = Problem::builtin("seed").expect("built-in problem");
    let grid = Grid::new(problem.a, problem.b, N).expect("grid");
    let p0 = initial_density(&problem, &grid).expect("initial density");
    let mut group = c.benchmark_group("step");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .throughput(Throughput::Elements(N as u64));
    for kind in [TransferKind::Exact, TransferKind::Gaussian] {
        let tr = Transfer::build(&problem, grid.clone(), kind, &TransferOptions::default())
            .expect("transfer matrix");
        let mut p = p0.clone();
        let mut q = vec![0.0; N];
        group.bench_with_input(BenchmarkId::new(kind.as_str(), N), &N, |b, _| {
            b.iter(|| {
                tr.step(black_box(&p), &mut q);
                std::mem::swap(&mut p, &mut q);
            })
        });
    }
    let scheme = Scheme::resolve("scharfetter-gummel").expect("scheme");
    let flux = scheme.build_flux().expect("flux");
    let op = Operator::assemble(&problem, grid.clone(), flux.as_ref()).expect("operator");
    let mut integ = scheme
        .build_integrator(&op, Some(1.0), None, None)
        .expect("integrator");
    let mut p = p0.clone();
    group.bench_with_input(BenchmarkId::new("scharfetter-gummel", N), &N, |b, _| {
        // one propagation of `iters` steps per sample, sharing one factorisation
        b.iter_custom(|iters| {
            let mut stats = Stats::default();
            let clock = Instant::now();
            integ
                .propagate(
                    black_box(&mut p),
                    0.0,
                    &[iters as f64],
                    &mut Quiet,
                    &mut stats,
                )
                .expect("steps");
            clock.elapsed()
        })
    });
    group.finish();
}

/// (mean, sd, basin) at t = 500 of a density run.
fn stats_of(r: &RunReport) -> [f64; 3] {
    let m = r.moments.last().expect("moments");
    let b = r
        .region_names
        .iter()
        .position(|n| n == "basin")
        .unwrap_or(0);
    [m.mean, m.sd, m.regions[b]]
}

/// One row of the table: the coarsest grid of `kind` whose mean, sd and basin mass lie
/// within the Monte Carlo's standard errors of the 48 000-cell reference.
fn row(problem: &Problem, kind: TransferKind, mc: &McReport, grids: &[usize], reference: usize) {
    let settings = |cells| RunSettings {
        cells,
        t_end: Some(500.0),
        every: Some(500.0),
        keep_densities: false,
        ..RunSettings::default()
    };
    let reference = run_transfer(problem, kind, &settings(reference)).expect("reference");
    let r = stats_of(&reference);
    let m = mc.moments.last().expect("mc moments");
    let b = mc
        .region_names
        .iter()
        .position(|n| n == "basin")
        .unwrap_or(0);
    let se = [m.mean_se, m.sd_se, m.regions_se[b]];
    let mcv = [m.mean, m.sd, m.regions[b]];
    let z: Vec<String> = (0..3)
        .map(|k| format!("{:+.2}", (r[k] - mcv[k]) / se[k]))
        .collect();
    println!(
        "\n{} (reference {} cells, built and run in {:.3} s) against Monte Carlo {} \
         ({} particles, {:.2} s): z of mean, sd, basin = {}",
        kind.as_str(),
        reference.cells,
        reference.setup_s + reference.wall_s,
        mc.mode.as_str(),
        mc.particles,
        mc.wall_s,
        z.join(", ")
    );
    println!(
        "  {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "cells", "err mean", "err sd", "err basin", "time s", "MC/time"
    );
    let mut reached = None;
    for &cells in grids {
        // the best of three timings of the whole run (build + 500 steps)
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..3 {
            let clock = Instant::now();
            let rep = run_transfer(problem, kind, &settings(cells)).expect("run");
            best = best.min(clock.elapsed().as_secs_f64());
            last = Some(rep);
        }
        let s = stats_of(&last.expect("run"));
        let err: Vec<f64> = (0..3).map(|k| (s[k] - r[k]).abs() / se[k]).collect();
        let ok = err.iter().all(|e| *e <= 1.0);
        println!(
            "  {:>6} {:>9.2}σ {:>9.2}σ {:>9.2}σ {:>10.4} {:>10.0}{}",
            cells,
            err[0],
            err[1],
            err[2],
            best,
            mc.wall_s / best,
            if ok && reached.is_none() {
                "  <- reaches the Monte Carlo's accuracy"
            } else {
                ""
            }
        );
        if ok && reached.is_none() {
            reached = Some((cells, best));
        }
    }
    match reached {
        Some((cells, t)) => println!(
            "  => {} reaches the accuracy of {} particles at {cells} cells in {t:.4} s: \
             {:.0}× faster than the Monte Carlo ({:.2} s)",
            kind.as_str(),
            mc.particles,
            mc.wall_s / t,
            mc.wall_s
        ),
        None => println!("  => not reached on the grids tried"),
    }
}

fn accuracy_table() {
    let problem = Problem::builtin("seed").expect("built-in problem");
    let mc = |mode| {
        simulate(
            &problem,
            &McSettings {
                particles: 2_000_000,
                seed: 2,
                mode,
                t_end: Some(500.0),
                every: Some(500.0),
                cells: 600,
                ..McSettings::default()
            },
            &|_, _| {},
        )
        .expect("monte carlo")
    };
    println!(
        "\nseed at t = 500: time to the accuracy of a 2-million-particle Monte Carlo \
         ({} threads); errors in Monte Carlo standard errors σ",
        rayon::current_num_threads()
    );
    let grids = [375, 750, 1500, 3000, 6000, 12_000, 24_000];
    row(
        &problem,
        TransferKind::Exact,
        &mc(McMode::Sgd),
        &grids,
        48_000,
    );
    if std::env::var_os("PROBCURRENT_BENCH_GAUSSIAN").is_some() {
        // the Gaussian kernel is up to 2·8.5σ/h cells wide: 4.8 million entries at 12 000
        // cells, and its Monte Carlo costs five times SGD's
        row(
            &problem,
            TransferKind::Gaussian,
            &mc(McMode::Gaussian),
            &grids[..5],
            12_000,
        );
    } else {
        println!("\n(set PROBCURRENT_BENCH_GAUSSIAN=1 for the transfer-gaussian row, about 2 minutes more)");
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default().configure_from_args();
    step_cost(&mut c);
    c.final_summary();
    if quick {
        println!("(--test: the accuracy table is skipped)");
    } else {
        accuracy_table();
    }
}
