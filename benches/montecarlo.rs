//! Monte Carlo throughput (particle-steps per second) of SGD on seed (plain, with
//! heavy-ball momentum 0.9, and the Gaussian-kick model), and the cost of
//! reaching a given L1 accuracy of the density by Monte Carlo against the
//! `scharfetter-gummel` card.
//!
//! Run: `cargo bench --bench montecarlo`. The accuracy comparison uses the spreading
//! problem with Gaussian kicks, whose law at every whole step is exactly the normal
//! density that the Fokker–Planck equation also has (G = 0, constant S², walls many
//! standard deviations away), so both methods are measured against the same exact
//! answer. Ratios are measured side by side in one run. The ratio against a vectorised
//! numpy SGD stepper is measured by `benches/peers/run.sh mc`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use probcurrent::analysis::metrics::binned_l1;
use probcurrent::analysis::montecarlo::{simulate, McMode, McSettings};
use probcurrent::{run, Grid, Problem, RunSettings, Scheme};
use std::time::{Duration, Instant};

fn throughput(c: &mut Criterion) {
    let problem = Problem::builtin("seed").expect("seed");
    let mut g = c.benchmark_group("montecarlo");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let (particles, steps) = (200_000usize, 100u64);
    g.throughput(Throughput::Elements(particles as u64 * steps));
    for (label, mode, momentum) in [
        ("sgd", McMode::Sgd, None),
        ("sgd-momentum-0.9", McMode::Sgd, Some(0.9)),
        ("gaussian", McMode::Gaussian, None),
    ] {
        let settings = McSettings {
            particles,
            seed: 1,
            mode,
            t_end: Some(steps as f64),
            every: Some(steps as f64),
            momentum,
            ..McSettings::default()
        };
        g.bench_with_input(BenchmarkId::new(label, particles), &settings, |b, s| {
            b.iter(|| simulate(&problem, s, &|_, _| {}).expect("mc"))
        });
    }
    g.finish();
}

/// Exact cell averages of the normal density N(m, v) on `grid`.
fn exact(grid: &Grid, m: f64, v: f64) -> Vec<f64> {
    let cdf = |x: f64| 0.5 * (1.0 + libm::erf((x - m) / (2.0 * v).sqrt()));
    (0..grid.n)
        .map(|i| (cdf(grid.face(i + 1)) - cdf(grid.face(i))) / grid.width(0))
        .collect()
}

fn accuracy_cost(_c: &mut Criterion) {
    let mut p = Problem::builtin("spreading").expect("spreading");
    p.t_end = 500.0;
    p.every = 500.0;
    let (m, v) = p.exact_moments(p.t_end).expect("exact");
    let cells = 600;
    let grid = Grid::new(p.a, p.b, cells).expect("grid");
    let truth = exact(&grid, m, v);
    println!("\nL1 (60 bins) against the exact density of `spreading` at t = 500");
    println!("{:>28} {:>12} {:>10}", "method", "L1", "seconds");
    let mut mc_rows = Vec::new();
    for particles in [10_000usize, 40_000, 160_000, 640_000] {
        let t0 = Instant::now();
        let r = simulate(
            &p,
            &McSettings {
                particles,
                seed: 5,
                mode: McMode::Gaussian,
                cells,
                ..McSettings::default()
            },
            &|_, _| {},
        )
        .expect("mc");
        let secs = t0.elapsed().as_secs_f64();
        let e = binned_l1(
            &grid,
            &r.histograms.last().expect("hist").p,
            &grid,
            &truth,
            60,
        );
        println!(
            "{:>28} {e:>12.3e} {secs:>10.4}",
            format!("MC {particles} particles")
        );
        mc_rows.push((e, secs));
    }
    let sg = Scheme::resolve("scharfetter-gummel").expect("card");
    let mut pde_rows = Vec::new();
    for (n, dt) in [(60usize, 5.0), (120, 2.0), (240, 1.0), (600, 0.5)] {
        let t0 = Instant::now();
        let r = run(
            &p,
            &sg,
            &RunSettings {
                cells: n,
                dt: Some(dt),
                ..RunSettings::default()
            },
        )
        .expect("run");
        let secs = t0.elapsed().as_secs_f64();
        let g = Grid::new(p.a, p.b, n).expect("grid");
        let e = binned_l1(
            &g,
            &r.snapshots.last().expect("snap").p,
            &g,
            &exact(&g, m, v),
            60,
        );
        println!(
            "{:>28} {e:>12.3e} {secs:>10.4}",
            format!("scharfetter-gummel N={n} dt={dt}")
        );
        pde_rows.push((e, secs));
    }
    for target in [3e-2, 1e-2] {
        let cheapest = |rows: &[(f64, f64)]| {
            rows.iter()
                .filter(|r| r.0 <= target)
                .map(|r| r.1)
                .reduce(f64::min)
        };
        match (cheapest(&mc_rows), cheapest(&pde_rows)) {
            (Some(a), Some(b)) => println!(
                "L1 <= {target:e}: Monte Carlo {a:.4} s, PDE {b:.4} s: MC costs {:.0}x the PDE",
                a / b
            ),
            (None, Some(b)) => println!(
                "L1 <= {target:e}: Monte Carlo did not reach it in this range; PDE {b:.4} s"
            ),
            _ => println!("L1 <= {target:e}: not reached by both"),
        }
    }
}

criterion_group!(benches, throughput, accuracy_cost);
criterion_main!(benches);
