//! The global flags of the command-line tool: with `--json` standard output is exactly
//! one JSON object holding the command's result, with `--quiet` a command that writes
//! files prints nothing on standard output, progress never reaches standard output, and
//! `completions` prints a script for each shell. Short runs only.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probcurrent-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], dir: &PathBuf) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`probcurrent {}` exited {:?}: {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run with `--json` and parse standard output as one JSON object (nothing before or
/// after it).
fn json(args: &[&str], dir: &PathBuf) -> serde_json::Map<String, Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(&all, dir);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one line expected, got: {text}");
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => m,
        other => panic!("`{}` is not one JSON object: {other:?}", args.join(" ")),
    }
}

#[test]
fn solve_json_is_the_run_summary_and_names_its_files() {
    let dir = scratch("solve");
    let args = [
        "solve",
        "--problem",
        "ou",
        "--cells",
        "200",
        "--t-end",
        "10",
    ];
    let m = json(&[&args[..], &["--out", "o"]].concat(), &dir);
    assert_eq!(m["problem"], "ou");
    assert_eq!(m["cells"], 200);
    assert_eq!(m["outcome"], "ok");
    assert_eq!(m["t_reached"].as_f64(), Some(10.0));
    // the same object as run.json, plus the list of files written
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("o/run.json")).unwrap()).unwrap();
    for (k, v) in file.as_object().unwrap() {
        if k != "wall_s" && k != "setup_s" {
            assert_eq!(&m[k], v, "key {k} differs from run.json");
        }
    }
    let files: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    // the data files, then the plots every solve writes unless --no-plots
    let plots = ["o/density_heatmap.svg", "o/density_moments.svg"];
    assert_eq!(files[..3], ["o/moments.csv", "o/density.csv", "o/run.json"]);
    assert_eq!(files[3..], plots);
    assert!(plots.iter().all(|f| dir.join(f).is_file()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_json_has_the_diagnostics() {
    let dir = scratch("inspect");
    let m = json(
        &[
            "inspect",
            "--problem",
            "seed",
            "--scheme",
            "crank-nicolson",
            "--cells",
            "300",
        ],
        &dir,
    );
    assert_eq!(m["scheme"], "crank-nicolson");
    assert_eq!(m["cells"], 300);
    assert_eq!(m["diagnostics"]["m_matrix"], false);
    assert!(m["diagnostics"]["negative_offdiagonals"].as_u64().unwrap() > 0);
    assert!(m["diagnostics"]["explicit_limit"].as_f64().unwrap() > 0.0);
}

#[test]
fn mc_json_has_moments_with_standard_errors() {
    let dir = scratch("mc");
    let args = [
        "mc",
        "--problem",
        "ou",
        "--particles",
        "2000",
        "--t-end",
        "20",
    ];
    let m = json(&[&args[..], &["--every", "5", "--out", "o"]].concat(), &dir);
    assert_eq!(m["particles"], 2000);
    let moments = m["moments"].as_array().unwrap();
    assert_eq!(moments.len(), 5, "snapshots at t = 0, 5, 10, 15, 20");
    assert!(moments[4]["mean_se"].as_f64().unwrap() > 0.0);
    assert!(dir.join("o/mc.json").is_file());
}

#[test]
fn listings_and_end_states_as_json() {
    let dir = scratch("lists");
    let p = json(&["problems"], &dir);
    let names: Vec<&str> = p["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"seed") && names.contains(&"ou"),
        "{names:?}"
    );
    let s = json(&["schemes"], &dir);
    let cards = s["schemes"].as_array().unwrap();
    assert!(cards.iter().any(|c| c["card"] == "scharfetter-gummel"));
    assert!(cards.iter().all(|c| c["flux"].is_string()));
    let st = json(&["stationary", "--problem", "seed", "--cells", "300"], &dir);
    assert!(!st.is_empty());
    assert!(st.values().any(|v| v.is_array()), "stationary: {st:?}");
}

#[test]
fn quiet_writes_files_and_prints_nothing_on_stdout() {
    let dir = scratch("quiet");
    let args = ["--quiet", "solve", "--problem", "ou", "--cells", "200"];
    let out = run(
        &[&args[..], &["--t-end", "10", "--out", "o"]].concat(),
        &dir,
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("o/run.json").is_file());
    // a listing is the result itself: still printed
    let out = run(&["--quiet", "problems"], &dir);
    assert!(String::from_utf8_lossy(&out.stdout).contains("seed"));
}

#[test]
fn errors_go_to_stderr_under_json() {
    let dir = scratch("error");
    let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
        .args([
            "solve",
            "--problem",
            "no-such-problem",
            "--json",
            "--out",
            "o",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-problem"));
}

#[test]
fn completions_for_each_shell_name_the_commands() {
    let dir = scratch("completions");
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], &dir);
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["solve", "inspect", "completions", "json", "quiet"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
        .args(["completions", "powershell-7"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "unknown shell: a command-line error"
    );
}
