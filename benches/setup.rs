//! Set-up against solve, side by side: what a run spends before its first step (the
//! grid, the sampled coefficients and drift integrals, the assembly, the diagnostics,
//! the integrator's factorisation) beside the time stepping itself, for the two cases
//! the set-up target is stated for:
//!
//! - `seed`, uniform grid, 2400 cells, dt = 5, t_end = 500 (set-up ≤ 1.5 × solve);
//! - `seed`, `--grid auto`, 600 cells, dt = 1, t_end = 500.
//!
//! Each case is run whole (`run`), its `setup_s` and `wall_s` summed over the
//! iterations of one sample: `setup/<case>/setup` and `setup/<case>/solve` are the two
//! parts of the same runs, and the ratio is printed after the group (median over
//! the iterations). The pieces of the set-up are timed on their own beside them
//! (`grid`, `assemble`, `diagnostics` as a run computes them, and the spectral
//! `stiffness-ratio` that only `inspect` computes). Run: `cargo bench --bench setup`.

use criterion::{criterion_group, criterion_main, Criterion};
use probcurrent::model::grid_choice::GridKind;
use probcurrent::run::{run, settings_grid, RunSettings};
use probcurrent::scheme::{Scheme, DEFAULT_SCHEME};
use probcurrent::{Operator, Problem};
use std::hint::black_box;
use std::time::Duration;

/// One case: a name, the grid kind, cells, step (`None`: the card's variable step) and
/// card.
struct Case {
    name: &'static str,
    grid: GridKind,
    cells: usize,
    dt: Option<f64>,
    scheme: &'static str,
}

const CASES: [Case; 3] = [
    Case {
        name: "uniform-2400",
        grid: GridKind::Uniform,
        cells: 2400,
        dt: Some(5.0),
        scheme: DEFAULT_SCHEME,
    },
    Case {
        name: "auto-600",
        grid: GridKind::Auto,
        cells: 600,
        dt: Some(1.0),
        scheme: DEFAULT_SCHEME,
    },
    Case {
        name: "auto-500-adaptive",
        grid: GridKind::Auto,
        cells: 500,
        dt: None,
        scheme: "scharfetter-gummel-adaptive",
    },
];

fn settings(case: &Case) -> RunSettings {
    RunSettings {
        cells: case.cells,
        grid: Some(case.grid),
        dt: case.dt,
        t_end: Some(500.0),
        every: Some(500.0),
        keep_densities: false,
        ..RunSettings::default()
    }
}

/// Median of `setup_s / wall_s` over `k` whole runs.
fn median_ratio(problem: &Problem, scheme: &Scheme, s: &RunSettings, k: usize) -> (f64, f64, f64) {
    let mut rows: Vec<(f64, f64)> = (0..k)
        .map(|_| {
            let r = run(problem, scheme, s).expect("run");
            (r.setup_s, r.wall_s)
        })
        .collect();
    let mut ratios: Vec<f64> = rows.iter().map(|(a, b)| a / b).collect();
    ratios.sort_by(f64::total_cmp);
    rows.sort_by(|x, y| (x.0 + x.1).total_cmp(&(y.0 + y.1)));
    (rows[0].0, rows[0].1, ratios[k / 2])
}

fn setup(c: &mut Criterion) {
    let problem = Problem::builtin("seed").expect("built-in problem");
    let mut group = c.benchmark_group("setup");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for case in &CASES {
        let scheme = Scheme::resolve(case.scheme).expect("card");
        let flux = scheme.build_flux().expect("flux");
        let scheme = &scheme;
        let s = settings(case);
        group.bench_function(format!("{}/setup", case.name), |b| {
            b.iter_custom(|iters| {
                let sum: f64 = (0..iters)
                    .map(|_| run(&problem, scheme, &s).expect("run").setup_s)
                    .sum();
                Duration::from_secs_f64(sum)
            })
        });
        group.bench_function(format!("{}/solve", case.name), |b| {
            b.iter_custom(|iters| {
                let sum: f64 = (0..iters)
                    .map(|_| run(&problem, scheme, &s).expect("run").wall_s)
                    .sum();
                Duration::from_secs_f64(sum)
            })
        });
        group.bench_function(format!("{}/grid", case.name), |b| {
            b.iter(|| settings_grid(black_box(&problem), &s).expect("grid"))
        });
        let grid = settings_grid(&problem, &s).expect("grid");
        group.bench_function(format!("{}/assemble", case.name), |b| {
            b.iter(|| Operator::assemble(&problem, grid.clone(), flux.as_ref()).expect("op"))
        });
        let op = Operator::assemble(&problem, grid.clone(), flux.as_ref()).expect("op");
        // what a run computes (the spectral stiffness ratio is left to `inspect`)
        group.bench_function(format!("{}/diagnostics", case.name), |b| {
            b.iter(|| black_box(&op).diagnostics(false))
        });
        group.bench_function(format!("{}/stiffness-ratio", case.name), |b| {
            b.iter(|| black_box(&op).stiffness_ratio())
        });
        let (setup_s, wall_s, ratio) = median_ratio(&problem, scheme, &s, 41);
        println!(
            "setup/{}: best run setup {:.3} ms, solve {:.3} ms; median setup/solve = {ratio:.2}",
            case.name,
            setup_s * 1e3,
            wall_s * 1e3
        );
    }
    group.finish();
}

criterion_group!(benches, setup);
criterion_main!(benches);
