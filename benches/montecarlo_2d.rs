//! Throughput of the 2-D Monte Carlo of SGD (particle-steps per second) on `seed-2d`
//! (two datapoints, the wide basin and the pit; T = 0.02, B = 1, zero-flux walls), on
//! all cores and on one, with the landscape in closed form. Target: at least 5e7
//! particle-steps per second on two cores.
//!
//! Run: `cargo bench --bench montecarlo_2d`. Criterion prints the throughput of each
//! case ("thrpt", elements = particle-steps); the summary lines after it repeat the
//! rates and their ratio, measured side by side in one run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use probcurrent::analysis::montecarlo::two::{simulate_2d, Mc2Settings, Start2};
use probcurrent::model::problem::Sampling;
use probcurrent::time::transfer::two::{Rect, SeedPit2, Step2};
use std::time::{Duration, Instant};

const PARTICLES: usize = 200_000;
const STEPS: u64 = 200;

fn setup() -> (SeedPit2, Step2, Start2, Mc2Settings) {
    let rect = Rect::new([0.0, -1.5], [3.0, 1.5]).expect("rect");
    let step = Step2 {
        lr: 0.02,
        batch: 1,
        sampling: Sampling::WithReplacement,
        rect,
        absorbing: false,
    };
    let start = Start2::normal([0.5, 0.4], [0.175, 0.175], &rect).expect("start");
    let settings = Mc2Settings {
        particles: PARTICLES,
        seed: 1,
        checkpoints: vec![STEPS],
        histogram: None,
        regions: vec![],
    };
    (SeedPit2 { k: 100.0, q: 1.0 }, step, start, settings)
}

fn rate(threads: usize) -> f64 {
    let (land, step, start, s) = setup();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let t0 = Instant::now();
    let r = pool.install(|| simulate_2d(&land, &step, &start, &s, &|_, _| {}).expect("mc"));
    r.particle_steps as f64 / t0.elapsed().as_secs_f64()
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("montecarlo_2d");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(PARTICLES as u64 * STEPS));
    let cores = rayon::current_num_threads();
    for threads in [1, cores] {
        let (land, step, start, s) = setup();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        g.bench_with_input(
            BenchmarkId::new("seed-2d-sgd-threads", threads),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| simulate_2d(&land, &step, &start, &s, &|_, _| {}).expect("mc"))
                })
            },
        );
    }
    g.finish();
    let (one, all) = (rate(1), rate(cores));
    println!("\nseed-2d SGD, {PARTICLES} particles x {STEPS} steps (best of one run each):");
    println!("  1 thread : {:.1} M particle-steps/s", one / 1e6);
    println!(
        "  {cores} threads: {:.1} M particle-steps/s (target >= 50 on 2 cores)",
        all / 1e6
    );
    println!("  speed-up {:.2}x", all / one);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
