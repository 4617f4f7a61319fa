//! The a-posteriori error estimate, `solve --tol` and the accuracy-chosen default step,
//! checked on `ou`, whose solution is a normal density known in closed form: the
//! estimate is written and finite, it is within a factor 3 of the exact error, a
//! tolerance is met against the exact solution, and the default step gets the
//! standard deviation right.

use std::path::PathBuf;
use std::process::Command;

use probcurrent::analysis::metrics::w1_between;
use probcurrent::model::problem::Initial;
use probcurrent::run::estimate::{choose_step, estimate};
use probcurrent::run::solve::{solve_estimated, ErrorChoice, ModelChoice};
use probcurrent::space::initial::initial_density;
use probcurrent::{run, Problem, RunReport, RunSettings, Scheme};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_probcurrent"))
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "probcurrent-estimate-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// W1 between a run's final density and the exact normal solution's cell averages.
fn exact_error(p: &Problem, r: &RunReport) -> f64 {
    let (mean, var) = p.exact_moments(r.t_end).unwrap();
    let mut exact = p.clone();
    exact.initial = Initial::Normal {
        mean,
        sd: var.sqrt(),
    };
    let q = initial_density(&exact, &r.grid).unwrap();
    let pn = &r.snapshots.last().unwrap().p;
    assert!((r.snapshots.last().unwrap().t - r.t_end).abs() < 1e-9);
    w1_between(&r.grid, pn, &r.grid, &q)
}

fn run_json(args: &[&str], name: &str) -> serde_json::Value {
    let dir = out_dir(name);
    let out = bin().args(args).arg("--out").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let text = std::fs::read_to_string(dir.join("run.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn solve_writes_a_finite_estimate_into_run_json_and_prints_it() {
    let dir = out_dir("json");
    let out = bin()
        .args([
            "solve",
            "--problem",
            "ou",
            "--cells",
            "200",
            "--t-end",
            "10",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("error estimate W1"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let e = &v["error_estimate"];
    let get = |k: &str| {
        e[k].as_f64()
            .unwrap_or_else(|| panic!("{k} missing in {e}"))
    };
    let (space, time, w1) = (get("w1_space"), get("w1_time"), get("w1"));
    for x in [space, time, w1, get("cost_s")] {
        assert!(x.is_finite() && x >= 0.0, "{e}");
    }
    assert!(space > 0.0 && time > 0.0, "{e}");
    assert!((w1 - (space + time)).abs() <= 1e-12 * w1, "{e}");
    assert!(e["method"].as_str().unwrap().contains("Richardson"), "{e}");
}

#[test]
fn no_estimate_skips_it() {
    let v = run_json(
        &[
            "solve",
            "--problem",
            "ou",
            "--cells",
            "100",
            "--t-end",
            "5",
            "--dt",
            "1",
            "--no-estimate",
        ],
        "skip",
    );
    assert!(v["error_estimate"].is_null(), "{}", v["error_estimate"]);
}

#[test]
fn estimate_is_within_a_factor_3_of_the_exact_error_on_ou() {
    let ou = Problem::builtin("ou").unwrap();
    let sg = Scheme::resolve("scharfetter-gummel").unwrap();
    // the default step (space and time errors both present) and dt = 1 (time dominates)
    for (cells, dt) in [(200, None), (400, None), (200, Some(1.0)), (800, Some(1.0))] {
        let s = RunSettings {
            cells,
            dt,
            t_end: Some(10.0),
            ..RunSettings::default()
        };
        let (s, _) = choose_step(&ou, &sg, &s).unwrap();
        let r = run(&ou, &sg, &s).unwrap();
        let e = estimate(&ou, &sg, &s, &r).unwrap().unwrap();
        let truth = exact_error(&ou, &r);
        let ratio = e.w1 / truth;
        assert!(
            (1.0 / 3.0..=3.0).contains(&ratio),
            "{cells} cells, dt {:?}: estimate {} true {truth} ratio {ratio}",
            r.dt,
            e.w1
        );
    }
}

#[test]
fn tol_is_met_against_the_exact_solution_on_ou() {
    let ou = Problem::builtin("ou").unwrap();
    let s = RunSettings {
        cells: 100,
        t_end: Some(10.0),
        ..RunSettings::default()
    };
    for tol in [1e-3, 1e-4] {
        let errors = ErrorChoice {
            tol: Some(tol),
            ..ErrorChoice::default()
        };
        let r = solve_estimated(&ou, &ModelChoice::default(), &s, &errors, &mut |_, _| {}).unwrap();
        let e = r.error_estimate.as_ref().unwrap();
        assert!(e.w1 <= tol, "estimate {} above tol {tol}", e.w1);
        let truth = exact_error(&ou, &r);
        assert!(
            truth <= tol,
            "tol {tol}: exact error {truth} (estimate {})",
            e.w1
        );
        assert!(r.choice.as_ref().unwrap().rule.contains("--tol"));
    }
}

#[test]
fn tol_that_cannot_be_met_within_the_cell_cap_is_a_clear_error() {
    let dir = out_dir("tol-cap");
    let out = bin()
        .args([
            "solve",
            "--problem",
            "ou",
            "--t-end",
            "10",
            "--tol",
            "1e-9",
            "--max-cells",
            "300",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("tol") && stderr.contains("1e-9") && stderr.contains("300"),
        "{stderr}"
    );
}

#[test]
fn default_step_gets_the_ou_standard_deviation_within_one_percent() {
    let v = run_json(
        &[
            "solve",
            "--problem",
            "ou",
            "--cells",
            "1200",
            "--t-end",
            "10",
        ],
        "sd",
    );
    let sd = v["moments"].as_array().unwrap().last().unwrap()["sd"]
        .as_f64()
        .unwrap();
    let (_, var) = Problem::builtin("ou").unwrap().exact_moments(10.0).unwrap();
    let exact = var.sqrt();
    assert!((sd - exact).abs() <= 0.01 * exact, "sd {sd}, exact {exact}");
}

/// The rational exponential's `dt` is the span of one evaluation, not a step with a
/// truncation error: the default-step rule leaves the card's value alone.
#[test]
fn the_default_step_rule_leaves_the_exponential_card_alone() {
    let p = Problem::builtin("ou").unwrap();
    let scheme = Scheme::resolve("scharfetter-gummel-exp").unwrap();
    let s = RunSettings {
        cells: 100,
        t_end: Some(2.0),
        ..RunSettings::default()
    };
    let (chosen, choice) = choose_step(&p, &scheme, &s).unwrap();
    assert!(choice.is_none());
    assert_eq!(chosen.dt, None);
    let r = run(&p, &scheme, &chosen).unwrap();
    assert_eq!(r.dt, Some(probcurrent::scheme::DEFAULT_EXP_DT));
}
