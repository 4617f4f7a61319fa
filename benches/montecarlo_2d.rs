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
use probcurrent::model::two::Problem2;
use probcurrent::time::transfer::two::{Dyn2, Fast2, Rect, SeedPit2, Step2};
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

/// CPU seconds (user + system) of this process so far, from /proc/self/stat (Linux;
/// clock ticks of 1/100 s); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Particle-steps per wall second and per CPU second on `threads` threads, with the
/// closed form (or, `closures`, the problem's own landscape through dynamic dispatch).
fn rate(threads: usize, closures: bool) -> (f64, Option<f64>) {
    let (closed, step, start, s) = setup();
    let problem = Problem2::builtin("seed-2d").expect("seed-2d");
    let land = if closures {
        Fast2::Dyn(Dyn2(problem.landscape.as_ref()))
    } else {
        Fast2::Seed(closed)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let r = pool.install(|| simulate_2d(&land, &step, &start, &s, &|_, _| {}).expect("mc"));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(c0).map(|(b, a)| b - a);
    let n = r.particle_steps as f64;
    (n / wall, cpu.filter(|&c| c > 0.0).map(|c| n / c))
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
    let (one, all) = (rate(1, false), rate(cores, false));
    let dynamic = rate(1, true);
    let per_cpu = |r: Option<f64>| r.map_or("n/a".into(), |v| format!("{:.1}", v / 1e6));
    println!("\nseed-2d SGD, {PARTICLES} particles x {STEPS} steps (one run each):");
    println!(
        "  1 thread : {:.1} M particle-steps/s wall, {} M per CPU second",
        one.0 / 1e6,
        per_cpu(one.1)
    );
    println!(
        "  {cores} threads: {:.1} M particle-steps/s wall (target >= 50 on 2 cores), {} M per CPU second",
        all.0 / 1e6,
        per_cpu(all.1)
    );
    println!(
        "  1 thread, landscape closures (dynamic dispatch): {:.1} M wall, {} M per CPU second",
        dynamic.0 / 1e6,
        per_cpu(dynamic.1)
    );
    println!(
        "  wall speed-up {:.2}x (below {cores}x when other processes share the cores)",
        all.0 / one.0
    );
}

criterion_group!(benches, throughput);
criterion_main!(benches);
