//! `scan` (a grid of runs over `--set` lists), `problems --show` (the resolved problem
//! as TOML, which reads back as the same problem) and `escape --from auto --past auto`
//! with its verdict line. Every run here is small.

use std::path::PathBuf;
use std::process::Command;

use probcurrent::model::problem::{Problem, BUILTIN_PROBLEMS};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_probcurrent"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("probcurrent-scan-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_ok(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn scan_runs_the_grid_and_writes_folders_overlays_and_a_table() {
    let d = temp_dir("fp");
    let out = d.to_str().unwrap();
    let args = [
        "scan",
        "--problem",
        "seed",
        "--set",
        "lr=0.02,0.01",
        "--set",
        "batch=1,2",
        "--set",
        "initial.sd=0.2",
        "--cells",
        "200",
        "--t-end",
        "100",
        "--out",
        out,
    ];
    let stdout = run_ok(&args);
    assert!(
        stdout.contains("| lr | batch | t | mean | mass_pit | mass_basin |"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(d.join("scan.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    // the first list varies slowest
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        keys,
        [("0.02", "1"), ("0.02", "2"), ("0.01", "1"), ("0.01", "2")]
    );
    for r in &rows {
        assert_eq!(r[2], "100");
        let (pit, basin): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        assert!((pit + basin - 1.0).abs() < 1e-4, "{r:?}");
    }
    // runs differ: the learning rate changes where the mass is at t = 100
    assert_ne!(rows[0][4], rows[2][4]);
    for f in ["moments.svg", "masses.svg", "densities.svg", "scan.md"] {
        assert!(d.join(f).is_file(), "{f} missing");
    }
    let run0 = d.join("run-00-lr=0.02_batch=1");
    for f in [
        "moments.csv",
        "run.json",
        "density_heatmap.svg",
        "density_moments.svg",
    ] {
        assert!(run0.join(f).is_file(), "{f} missing in {run0:?}");
    }
    let heat = std::fs::read_to_string(run0.join("density_heatmap.svg")).unwrap();
    assert!(heat.contains("t (SGD steps)") && heat.contains("per unit W"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run0.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["t_end"].as_f64(), Some(100.0));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn scan_of_schedule_parameters_by_monte_carlo() {
    let d = temp_dir("mc");
    let args = [
        "scan",
        "--problem",
        "seed",
        "--set",
        "schedule.lr.period=50,400",
        "--set",
        "schedule.lr.kind=cosine",
        "--mc",
        "--particles",
        "2000",
        "--t-end",
        "100",
        "--out",
        d.to_str().unwrap(),
    ];
    let stdout = run_ok(&args);
    assert!(stdout.contains("schedule.lr.period"), "{stdout}");
    assert!(d
        .join("run-01-schedule.lr.period=400")
        .join("mc.json")
        .is_file());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn problems_show_reads_back_as_the_same_problem() {
    let d = temp_dir("show");
    for (name, _) in BUILTIN_PROBLEMS {
        let text = run_ok(&["problems", "--show", name]);
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, &text).unwrap();
        let (a, b) = (
            Problem::builtin(name).unwrap(),
            Problem::from_file(&path).unwrap(),
        );
        assert_eq!(
            (&a.name, &a.summary, a.lr, a.batch),
            (&b.name, &b.summary, b.lr, b.batch)
        );
        assert_eq!(
            (a.a, a.b, a.sampling, a.boundary),
            (b.a, b.b, b.sampling, b.boundary)
        );
        assert_eq!(
            (&a.initial, &a.regions, &a.schedule),
            (&b.initial, &b.regions, &b.schedule)
        );
        assert_eq!(
            (a.noise_scale, a.noise_floor, a.t_end, a.every),
            (b.noise_scale, b.noise_floor, b.t_end, b.every)
        );
        assert_eq!(a.exact, b.exact);
        for k in 0..=20 {
            let w = a.a + (a.b - a.a) * k as f64 / 20.0;
            assert_eq!(a.coeffs(w), b.coeffs(w), "{name} at w = {w}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn escape_auto_picks_minimum_and_barrier_and_ends_with_a_verdict() {
    let args = [
        "escape",
        "--problem",
        "wide-narrow",
        "--from",
        "auto",
        "--past",
        "auto",
        "--particles",
        "1000",
    ];
    let stdout = run_ok(&args);
    assert!(
        stdout.contains("from = auto: the minimum W = -1.000000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("past = auto: the barrier top W = -0.168"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("verdict: against Monte Carlo of SGD"),
        "{last}"
    );
    assert!(last.contains("1 − T G′ = 0.840"), "{last}");
    // negative numbers parse
    let neg = [
        "escape",
        "--problem",
        "wide-narrow",
        "--from",
        "-1",
        "--past",
        "-0.2",
        "--particles",
        "0",
    ];
    let stdout = run_ok(&neg);
    assert!(stdout.contains("from W = -1 past W = -0.2"), "{stdout}");
}
