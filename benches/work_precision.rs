//! Work–precision of the method-of-lines cards on the seed problem, beside the
//! fixed-step Scharfetter–Gummel card (backward Euler) at several dt.
//!
//! Every card here uses the same Scharfetter–Gummel operator on the same grid, so the
//! error is the time-integration error alone: the largest Wasserstein-1 distance, over
//! the snapshots every 100 time units, from a reference solved by `mol-bdf` at
//! rtol 1e-10 (its own accuracy is shown by its distance from `mol-esdirk34` at the
//! same tolerance). Work is the wall time of the time loop and diffsol's counters:
//! right-hand sides (A·P products), LU factorisations and linear solves. Backward Euler
//! needs no right-hand sides at all: one solve per step with one stored factorisation,
//! so its work is its solve count.
//!
//! Wall times are of the driver's time loop; the method-of-lines runs step in a
//! worker thread while the driver monitors, so on two or more cores their monitors
//! overlap the solver (a few µs per step at 1200 cells).
//!
//! Run: `cargo bench --bench work_precision` (plain harness, about a minute).
//! `WP_CELLS` (default 1200) and `WP_T_END` (default 1000) change the run; `WP_QUICK=1`
//! drops the slowest settings. All ratios printed are from this one run.

use std::time::Instant;

use probcurrent::analysis::metrics::wasserstein1;
use probcurrent::{run, Problem, RunReport, RunSettings, Scheme};

/// A cost measure of one run.
type Cost = dyn Fn(&Point) -> f64;

/// One point of the diagram.
struct Point {
    scheme: &'static str,
    setting: String,
    steps: u64,
    rejected: u64,
    rhs: u64,
    lu: u64,
    solves: u64,
    wall: f64,
    err: f64,
    outcome: String,
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn solve(
    problem: &Problem,
    scheme: &str,
    cells: usize,
    t_end: f64,
    dt: Option<f64>,
    rtol: Option<f64>,
) -> RunReport {
    let scheme = Scheme::resolve(scheme).expect("catalogue card");
    let settings = RunSettings {
        cells,
        dt,
        t_end: Some(t_end),
        every: Some(100.0_f64.min(t_end)),
        rtol,
        atol: rtol.map(|r| r * 1e-3),
        ..RunSettings::default()
    };
    run(problem, &scheme, &settings).expect("run")
}

/// Largest W1 distance over the common snapshots (a failed run: up to where it stopped).
fn error(r: &RunReport, reference: &RunReport) -> f64 {
    r.snapshots
        .iter()
        .zip(&reference.snapshots)
        .map(|(a, b)| wasserstein1(&r.grid, &a.p, &b.p).expect("same grid"))
        .fold(0.0, f64::max)
}

/// Fastest wall time of `runs` repetitions (single runs for slow settings).
fn timed(mut f: impl FnMut() -> RunReport) -> RunReport {
    let first = f();
    if first.wall_s > 1.0 {
        return first;
    }
    let mut best = first;
    for _ in 0..2 {
        let r = f();
        if r.wall_s < best.wall_s {
            best = r;
        }
    }
    best
}

fn main() {
    let cells: usize = env_or("WP_CELLS", 1200);
    let t_end: f64 = env_or("WP_T_END", 1000.0);
    let quick = std::env::var("WP_QUICK").is_ok();
    let problem = Problem::builtin("seed").expect("built-in problem");
    let clock = Instant::now();

    let reference = solve(&problem, "mol-bdf", cells, t_end, None, Some(1e-10));
    let check = solve(&problem, "mol-esdirk34", cells, t_end, None, Some(1e-10));
    println!(
        "# Work–precision on seed, {cells} cells, t = 0..{t_end}\n\n\
         reference: mol-bdf rtol 1e-10 ({} steps); its distance from mol-esdirk34 at rtol 1e-10: \
         {:.1e} (the error floor of this table)\n",
        reference.stats.steps,
        error(&check, &reference)
    );

    let mut sweeps: Vec<(&'static str, Vec<f64>, bool)> = vec![
        (
            "scharfetter-gummel",
            if quick {
                vec![4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.025]
            } else {
                vec![4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.025, 0.01, 0.005]
            },
            false,
        ),
        ("mol-bdf", vec![1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8], true),
        ("mol-tr-bdf2", vec![1e-3, 1e-4, 1e-5, 1e-6, 1e-7], true),
        (
            "mol-esdirk34",
            vec![1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
            true,
        ),
    ];
    // Tsit45's step is held near the explicit limit whatever the tolerance
    sweeps.push((
        "mol-tsit45",
        if quick { vec![1e-6] } else { vec![1e-4, 1e-8] },
        true,
    ));

    let mut points = vec![];
    for (scheme, values, adaptive) in &sweeps {
        for &v in values {
            let (dt, rtol) = if *adaptive {
                (None, Some(v))
            } else {
                (Some(v), None)
            };
            let r = timed(|| solve(&problem, scheme, cells, t_end, dt, rtol));
            let s = r.stats;
            points.push(Point {
                scheme,
                setting: if *adaptive {
                    format!("rtol {v:.0e}")
                } else {
                    format!("dt {v}")
                },
                steps: s.steps,
                rejected: s.rejected_steps,
                rhs: s.rhs_evals,
                lu: s.factorizations,
                solves: s.linear_solves,
                wall: r.wall_s,
                err: error(&r, &reference),
                outcome: r.outcome.as_str().to_string(),
            });
        }
    }

    println!(
        "| scheme | setting | outcome | steps | rejected | rhs | LU | solves | wall s | max W1 |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for p in &points {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.4} | {:.2e} |",
            p.scheme,
            p.setting,
            p.outcome,
            p.steps,
            p.rejected,
            p.rhs,
            p.lu,
            p.solves,
            p.wall,
            p.err
        );
    }

    // side by side: the cheapest run of each card that reaches a target error
    let schemes: Vec<&str> = sweeps.iter().map(|s| s.0).collect();
    let wall = |p: &Point| p.wall;
    let ops = |p: &Point| (p.rhs + p.solves + p.lu) as f64;
    let costs: [(&str, &Cost, usize); 2] = [
        ("wall s", &wall, 4),
        ("O(N) operations, rhs + solves + LU", &ops, 0),
    ];
    for (title, cost, digits) in costs {
        println!(
            "\n## Cheapest run with outcome ok and max W1 ≤ target: {title} \
             (ratio to scharfetter-gummel)\n"
        );
        print!("| target |");
        for s in &schemes {
            print!(" {s} |");
        }
        println!();
        println!("|---|{}", "---:|".repeat(schemes.len()));
        for target in [1e-3, 1e-4, 1e-5, 1e-6] {
            let best = |scheme: &str| {
                points
                    .iter()
                    .filter(|p| p.scheme == scheme && p.err <= target && p.outcome == "ok")
                    .min_by(|a, b| cost(a).total_cmp(&cost(b)))
            };
            let base = best("scharfetter-gummel").map(cost);
            print!("| {target:.0e} |");
            for s in &schemes {
                match (best(s), base) {
                    (Some(p), Some(b)) => {
                        print!(
                            " {:.*} ({}, ×{:.3}) |",
                            digits,
                            cost(p),
                            p.setting,
                            cost(p) / b
                        )
                    }
                    (Some(p), None) => print!(" {:.*} ({}) |", digits, cost(p), p.setting),
                    (None, _) => print!(" — |"),
                }
            }
            println!();
        }
    }
    println!(
        "\n(total bench time {:.1} s)",
        clock.elapsed().as_secs_f64()
    );
}
