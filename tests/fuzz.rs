//! Fuzzing: generated and mutated problem files, scheme cards, CSV datasets and
//! command lines must end in a result or a clean error — never a panic, a hang or a
//! non-finite number written.
//!
//! Cases come from small grammars (problem TOML with formulas, scheme cards, CSV
//! text, argument vectors) whose values include the extremes that broke the tool
//! before (huge counts, NaN, subnormal widths, exponent literals, unknown keys, long
//! formulas), and from random edits of valid files. Library cases run in-process on a
//! worker thread with a time limit; command lines run the built binary with a time
//! limit. `cargo test --release --test fuzz` runs a few thousand cases;
//! `cargo test --release --test fuzz -- --ignored --nocapture` runs over 100 000 and
//! prints a report of the outcome classes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};

use probcurrent::analysis::montecarlo::{simulate, McSettings};
use probcurrent::{run, FormulaLandscape, Problem, RunSettings, Scheme};

/// How one case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Ok,
    CleanError,
    Panic,
    Timeout,
    NonFinite,
}

// ------------------------------------------------------------------- grammars

fn number() -> impl Strategy<Value = String> {
    prop_oneof![Just("1000000000".to_string()), common_number(),]
}

/// Numbers for command lines: the extremes are far over a limit or ordinary; a value
/// just under a limit (1e9 steps) is a legitimate long run, not a fuzz case.
fn common_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-5.0f64..5.0).prop_map(|v| format!("{v}")),
        (1u32..2000).prop_map(|v| v.to_string()),
        Just("0.0".to_string()),
        Just("-1e-300".to_string()),
        Just("1e300".to_string()),
        Just("1e-320".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("18446744073709551615".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1e12".to_string()),
        Just("\"x\"".to_string()),
    ]
}

fn formula() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("w".to_string()),
        (0.0f64..10.0).prop_map(|v| format!("{v:.3}")),
        Just("1e-5".to_string()),
        Just("2.5E+3".to_string()),
        Just("3e2".to_string()),
        Just("x".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                inner.clone(),
                prop::sample::select(vec!["+", "-", "*", "/", "^"])
            )
                .prop_map(|(a, b, op)| format!("({a}){op}({b})")),
            (
                inner.clone(),
                prop::sample::select(vec!["exp", "sin", "cos", "sqrt", "ln", "abs"])
            )
                .prop_map(|(a, f)| format!("{f}({a})")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    })
    .boxed()
    .prop_union(
        // long sums and products, near and over the size limits
        (1usize..120, prop::sample::select(vec!["+", "*", "^"]))
            .prop_map(|(n, op)| vec!["w"; n].join(op))
            .boxed(),
    )
}

fn landscape() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(formula(), 1..4).prop_map(|fs| {
            let list: Vec<String> = fs.iter().map(|f| format!("\"{f}\"")).collect();
            format!(
                "[landscape]\nkind = \"formulas\"\nlosses = [{}]\n",
                list.join(", ")
            )
        }),
        number().prop_map(|k| format!("[landscape]\nkind = \"seed\"\nk = {k}\n")),
        Just(
            "[landscape]\nkind = \"dataset\"\ncsv = \"data.csv\"\nloss = \"(w*x - y)^2\"\n".into()
        ),
        Just("[landscape]\nkind = \"dataset\"\ncsv = \".\"\nloss = \"(w*x - y)^2\"\n".into()),
        Just("[landscape]\nkind = \"formulas\"\nlosses = [\"w^2\"]\nlos = 1\n".into()),
    ]
}

fn initial() -> impl Strategy<Value = String> {
    prop_oneof![
        (number(), number())
            .prop_map(|(m, s)| format!("[initial]\nkind = \"normal\"\nmean = {m}\nsd = {s}\n")),
        Just("[initial]\nkind = \"uniform\"\n".to_string()),
        Just("[initial]\nkind = \"csv\"\npath = \"init.csv\"\n".to_string()),
        Just("[initial]\nkind = \"normal\"\nmean = 0.5\nsdd = 0.1\n".to_string()),
    ]
}

fn region() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["left", "a,b", "x\\ny", "", "ok_1", "low"]),
        number(),
        prop::sample::select(vec!["lo", "hi", "low"]),
    )
        .prop_map(|(n, v, k)| format!("[[regions]]\nname = \"{n}\"\n{k} = {v}\n"))
}

/// A problem file: top-level keys (some unknown), then tables.
fn problem_text() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "lr",
        "batch",
        "t_end",
        "every",
        "noise_floor",
        "noise_scale",
        "learning_rate",
    ]);
    (
        prop::sample::select(vec!["seed", "ou", "spreading", "wide-narrow", "nope", ""]),
        prop::collection::vec((keys, number()), 0..4),
        prop::option::of((number(), number())),
        prop::sample::select(vec![
            "",
            "sampling = \"without-replacement\"\n",
            "boundary = \"absorbing\"\n",
        ]),
        prop::option::of(landscape()),
        prop::option::of(initial()),
        prop::collection::vec(region(), 0..2),
    )
        .prop_map(|(base, kv, dom, extra, land, init, regions)| {
            let mut s = String::new();
            if !base.is_empty() {
                s += &format!("base = \"{base}\"\n");
            }
            for (k, v) in kv {
                s += &format!("{k} = {v}\n");
            }
            if let Some((a, b)) = dom {
                s += &format!("domain = [{a}, {b}]\n");
            }
            s += extra;
            s += &land.unwrap_or_default();
            s += &init.unwrap_or_default();
            for r in regions {
                s += &r;
            }
            s
        })
}

/// Random edits of a text: delete, insert or replace characters.
fn mutate(text: String) -> impl Strategy<Value = String> {
    let n = text.len().max(1);
    prop::collection::vec(
        (
            0..n,
            prop::sample::select(vec![
                '=', '"', '[', ']', '\n', '0', '9', 'e', '-', '.', ',', '{',
            ]),
        ),
        1..4,
    )
    .prop_map(move |edits| {
        let mut b: Vec<char> = text.chars().collect();
        for (i, c) in edits {
            let i = i.min(b.len());
            match i % 3 {
                0 if i < b.len() => {
                    b.remove(i);
                }
                1 => b.insert(i, c),
                _ if i < b.len() => b[i] = c,
                _ => b.push(c),
            }
        }
        b.into_iter().collect()
    })
}

fn csv_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec((number(), number()), 0..6).prop_map(|rows| {
            let mut s = "x,y\n".to_string();
            for (a, b) in rows {
                s += &format!("{a},{b}\n");
            }
            s
        }),
        Just("".to_string()),
        Just("x,y\n1,2,3\n".to_string()),
        Just("w,p\n0,1\n1,2\n2,0\n".to_string()),
        Just("w,p\n0,-1\n1,2\n".to_string()),
    ]
}

fn card_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["scharfetter-gummel", "upwind", "central", "chang-cooper", "nope"]),
        prop::sample::select(vec!["theta", "forward-euler", "tr-bdf2", "mol", "rk4"]),
        prop::collection::vec(
            (prop::sample::select(vec!["theta", "dt", "safety", "rannacher_steps", "method", "thetta"]), number()),
            0..3,
        ),
    )
        .prop_map(|(flux, kind, kv)| {
            let mut s = format!("name = \"fuzz\"\nsummary = \"s\"\nflux = \"{flux}\"\n\n[integrator]\nkind = \"{kind}\"\n");
            for (k, v) in kv {
                s += &format!("{k} = {v}\n");
            }
            s += "\n[claims]\norder_space = 2\norder_time = 1\npositive = \"no\"\nconservative = true\nexact_stationary = false\n";
            s
        })
}

// ------------------------------------------------------------------- running

/// Run `f` on a worker thread; a panic or a run over `limit` is classed as such.
fn guarded(limit: Duration, f: impl FnOnce() -> Class + Send + 'static) -> Class {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(c)) => c,
        Ok(Err(_)) => Class::Panic,
        Err(_) => Class::Timeout,
    }
}

fn finite_report(r: &probcurrent::RunReport) -> bool {
    r.moments.iter().all(|m| {
        [m.t, m.mass, m.mean, m.sd, m.min_p, m.tv]
            .iter()
            .all(|v| v.is_finite())
    }) && r
        .snapshots
        .iter()
        .all(|s| s.p.iter().all(|v| v.is_finite()))
}

/// A problem file (with a dataset CSV beside it): load it, and if it loads, solve it
/// briefly and run a small Monte Carlo; every number must be finite.
fn problem_case(dir: &Path, text: String, csv: String) -> Class {
    std::fs::write(dir.join("data.csv"), &csv).unwrap();
    std::fs::write(dir.join("init.csv"), &csv).unwrap();
    let path = dir.join("p.toml");
    std::fs::write(&path, &text).unwrap();
    let p = match Problem::from_file(&path) {
        Ok(p) => p,
        Err(_) => return Class::CleanError,
    };
    let settings = RunSettings {
        cells: 40,
        t_end: Some(3.0),
        every: Some(1.0),
        ..RunSettings::default()
    };
    let scheme = Scheme::resolve("scharfetter-gummel").unwrap();
    let mut class = match run(&p, &scheme, &settings) {
        Ok(r) if finite_report(&r) => Class::Ok,
        Ok(_) => return Class::NonFinite,
        Err(_) => Class::CleanError,
    };
    let mc = McSettings {
        particles: 64,
        t_end: Some(2.0),
        every: Some(1.0),
        cells: 20,
        ..McSettings::default()
    };
    match simulate(&p, &mc, &|_, _| {}) {
        Ok(r) => {
            let ok = r
                .moments
                .iter()
                .all(|m| m.mass.is_finite() && m.mean.is_finite())
                && r.histograms
                    .iter()
                    .all(|h| h.p.iter().all(|v| v.is_finite()));
            if !ok {
                return Class::NonFinite;
            }
        }
        Err(_) => class = Class::CleanError,
    }
    class
}

fn card_case(dir: &Path, text: String) -> Class {
    let path = dir.join("card.toml");
    let s = match Scheme::from_toml(&text, &path) {
        Ok(s) => s,
        Err(_) => return Class::CleanError,
    };
    let ou = Problem::builtin("ou").unwrap();
    let settings = RunSettings {
        cells: 30,
        t_end: Some(2.0),
        every: Some(1.0),
        ..RunSettings::default()
    };
    match run(&ou, &s, &settings) {
        Ok(r) if finite_report(&r) => Class::Ok,
        Ok(_) => Class::NonFinite,
        Err(_) => Class::CleanError,
    }
}

fn csv_case(dir: &Path, csv: String, loss: String) -> Class {
    let path = dir.join("d.csv");
    std::fs::write(&path, csv).unwrap();
    match FormulaLandscape::from_csv(&loss, &path) {
        Ok(_) => Class::Ok,
        Err(_) => Class::CleanError,
    }
}

fn tmp(tag: &str, k: usize) -> PathBuf {
    let d = std::env::temp_dir().join(format!("probcurrent-fuzz-{}-{tag}-{k}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `n` library cases of each kind; return the class counts and failing examples.
fn library_campaign(n: usize, seed: u64) -> (BTreeMap<Class, usize>, Vec<String>) {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &{
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&seed.to_le_bytes());
            s
        }),
    );
    let problems = (problem_text(), csv_text(), any::<bool>()).prop_flat_map(|(t, c, m)| {
        let t = if m {
            mutate(t).boxed()
        } else {
            Just(t).boxed()
        };
        (t, Just(c))
    });
    let cards = card_text().prop_flat_map(|t| prop_oneof![Just(t.clone()), mutate(t)]);
    let csvs = (csv_text(), formula());
    let mut counts = BTreeMap::new();
    let mut bad = Vec::new();
    let limit = Duration::from_secs(30);
    let dir = tmp("lib", seed as usize);
    for i in 0..n {
        let d = dir.join(format!("{}", i % 8));
        std::fs::create_dir_all(&d).unwrap();
        let (what, class) = match i % 4 {
            0 | 1 => {
                let (t, c) = problems.new_tree(&mut runner).unwrap().current();
                let (t2, c2, d2) = (t.clone(), c.clone(), d.clone());
                (t, guarded(limit, move || problem_case(&d2, t2, c2))).into_with(c)
            }
            2 => {
                let t = cards.new_tree(&mut runner).unwrap().current();
                let (t2, d2) = (t.clone(), d.clone());
                (t, guarded(limit, move || card_case(&d2, t2)))
            }
            _ => {
                let (c, f) = csvs.new_tree(&mut runner).unwrap().current();
                let (c2, f2, d2) = (c.clone(), f.clone(), d.clone());
                (
                    format!("{f}\n{c}"),
                    guarded(limit, move || csv_case(&d2, c2, f2)),
                )
            }
        };
        *counts.entry(class).or_insert(0) += 1;
        if !matches!(class, Class::Ok | Class::CleanError) && bad.len() < 10 {
            bad.push(format!("{class:?}:\n{what}"));
        }
    }
    (counts, bad)
}

/// Attach the CSV text to a problem case's description.
trait IntoWith {
    fn into_with(self, csv: String) -> (String, Class);
}
impl IntoWith for (String, Class) {
    fn into_with(self, csv: String) -> (String, Class) {
        (format!("{}\n--- data.csv\n{csv}", self.0), self.1)
    }
}

// --------------------------------------------------------------- command lines

fn args_strategy() -> impl Strategy<Value = Vec<String>> {
    let cmd = prop::sample::select(vec!["solve", "inspect", "mc", "stationary", "compare"]);
    let flag = prop::sample::select(vec![
        "--cells",
        "--dt",
        "--t-end",
        "--every",
        "--particles",
        "--problem",
        "--scheme",
        "--rtol",
        "--model",
    ]);
    let value = prop_oneof![
        common_number(),
        prop::sample::select(vec![
            "ou".to_string(),
            "seed".to_string(),
            "spreading".to_string(),
            "transfer-exact".to_string(),
            "crank-nicolson".to_string(),
            "mol-bdf".to_string(),
            "x".to_string(),
            "-1".to_string(),
            "3".to_string(),
            "0".to_string(),
        ]),
    ];
    (cmd, prop::collection::vec((flag, value), 0..4)).prop_map(|(c, fv)| {
        let mut v = vec![c.to_string()];
        for (f, x) in fv {
            v.push(format!("{f}={x}"));
        }
        v
    })
}

/// Run the binary with `args` plus small defaults (later flags override), with a time
/// limit; classify by exit code and stderr.
fn cli_case(args: &[String], out: &Path, limit: Duration) -> Class {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probcurrent"));
    let sub = args[0].as_str();
    cmd.arg(sub);
    match sub {
        "solve" | "compare" => {
            cmd.args(["--cells=60", "--t-end=5", "--every=1", "--out"])
                .arg(out);
        }
        "mc" => {
            cmd.args([
                "--particles=200",
                "--t-end=5",
                "--every=1",
                "--cells=30",
                "--out",
            ])
            .arg(out);
        }
        _ => {
            cmd.arg("--cells=60");
        }
    }
    if sub == "compare" {
        cmd.arg("--particles=200");
    }
    cmd.args(&args[1..]);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            return match status.code() {
                Some(0) => {
                    if written_non_finite(out) {
                        Class::NonFinite
                    } else {
                        Class::Ok
                    }
                }
                Some(1) | Some(2) if !err.contains("panicked") => Class::CleanError,
                _ => Class::Panic,
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Class::Timeout;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether any CSV in `dir` holds a NaN or an infinity; the folder is emptied.
fn written_non_finite(dir: &Path) -> bool {
    let mut bad = false;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "csv") {
                let t = std::fs::read_to_string(&p)
                    .unwrap_or_default()
                    .to_lowercase();
                bad |= t
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == "nan" || w == "inf");
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    bad
}

fn cli_campaign(n: usize, seed: u64) -> (BTreeMap<Class, usize>, Vec<String>) {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[seed as u8; 32],
        ),
    );
    let strat = args_strategy();
    let mut counts = BTreeMap::new();
    let mut bad = Vec::new();
    let dir = tmp("cli", seed as usize);
    for i in 0..n {
        let args = strat.new_tree(&mut runner).unwrap().current();
        let class = cli_case(&args, &dir.join(format!("o{i}")), Duration::from_secs(30));
        *counts.entry(class).or_insert(0) += 1;
        if !matches!(class, Class::Ok | Class::CleanError) && bad.len() < 10 {
            bad.push(format!("{class:?}: {args:?}"));
        }
    }
    (counts, bad)
}

fn report(name: &str, counts: &BTreeMap<Class, usize>) -> String {
    let total: usize = counts.values().sum();
    let classes: Vec<String> = counts.iter().map(|(c, n)| format!("{c:?} {n}")).collect();
    format!("{name}: {total} cases: {}", classes.join(", "))
}

#[test]
fn library_cases_end_in_ok_or_a_clean_error() {
    let (counts, bad) = library_campaign(4000, 17);
    println!("{}", report("library", &counts));
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    // both outcomes occur: the generator reaches valid and invalid inputs
    assert!(
        counts.get(&Class::Ok).copied().unwrap_or(0) > 50,
        "{counts:?}"
    );
    assert!(
        counts.get(&Class::CleanError).copied().unwrap_or(0) > 50,
        "{counts:?}"
    );
}

#[test]
fn command_lines_end_in_ok_or_a_clean_error() {
    let (counts, bad) = cli_campaign(300, 5);
    println!("{}", report("command line", &counts));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        counts.get(&Class::Ok).copied().unwrap_or(0) > 10,
        "{counts:?}"
    );
}

/// The long campaign: over 100 000 cases, with a report of the classes
/// (`cargo test --release --test fuzz -- --ignored --nocapture`).
#[test]
#[ignore]
fn long_campaign_report() {
    let start = Instant::now();
    let mut total = BTreeMap::new();
    let mut bad = Vec::new();
    for seed in 0..50u64 {
        let (c, b) = library_campaign(2000, 1000 + seed);
        for (k, v) in c {
            *total.entry(k).or_insert(0) += v;
        }
        bad.extend(b);
    }
    let (cli, cli_bad) = cli_campaign(1000, 99);
    println!("{}", report("library", &total));
    println!("{}", report("command line", &cli));
    for b in &bad {
        println!("FAILING CASE {b}");
    }
    println!("wall {:.0} s", start.elapsed().as_secs_f64());
    bad.extend(cli_bad);
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}
