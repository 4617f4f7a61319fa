//! Monte Carlo of SGD with heavy-ball momentum: β = 0 is plain SGD bit for bit, the
//! results do not depend on the thread count, the effective Fokker–Planck model
//! (learning rate T/(1 − β)) matches the particles on `ou` at small T, and bad momentum
//! settings are errors.

use probcurrent::analysis::montecarlo::{simulate, McReport, McSettings};
use probcurrent::model::momentum::effective_problem;
use probcurrent::Problem;

fn mc(p: &Problem, momentum: Option<f64>, nesterov: bool) -> McReport {
    simulate(
        p,
        &McSettings {
            particles: 6_000,
            seed: 7,
            t_end: Some(100.0),
            every: Some(50.0),
            momentum,
            nesterov,
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap()
}

fn same(a: &McReport, b: &McReport) {
    let bits = |v: &[f64]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
    for (x, y) in a.moments.iter().zip(&b.moments) {
        assert_eq!(x.mean.to_bits(), y.mean.to_bits());
        assert_eq!(x.sd.to_bits(), y.sd.to_bits());
        assert_eq!(bits(&x.regions), bits(&y.regions));
    }
    for (x, y) in a.histograms.iter().zip(&b.histograms) {
        assert_eq!(bits(&x.positions), bits(&y.positions));
    }
}

/// β = 0 (heavy ball, and Nesterov, whose look-ahead W + 0·v is W) goes through the
/// velocity update v ← 0·v − T ĝ, W ← W + v, and gives exactly the positions of the
/// plain step W ← W − T ĝ, walls included.
#[test]
fn beta_zero_is_plain_sgd_exactly() {
    for name in ["seed", "ou"] {
        let p = Problem::builtin(name).unwrap();
        let plain = mc(&p, None, false);
        same(&plain, &mc(&p, Some(0.0), false));
        same(&plain, &mc(&p, Some(0.0), true));
    }
}

/// Momentum changes the process (a check that the velocity is used at all).
#[test]
fn momentum_changes_the_process() {
    let p = Problem::builtin("seed").unwrap();
    let (a, b) = (mc(&p, None, false), mc(&p, Some(0.5), false));
    let (x, y) = (&a.moments[1], &b.moments[1]);
    assert!(x.mean.to_bits() != y.mean.to_bits() || x.sd.to_bits() != y.sd.to_bits());
}

/// The same seed gives bit-identical results on one thread and on two, with momentum
/// (heavy ball and Nesterov).
#[test]
fn bit_identical_across_thread_counts_with_momentum() {
    let p = Problem::builtin("seed").unwrap();
    for nesterov in [false, true] {
        let go = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| mc(&p, Some(0.9), nesterov))
        };
        same(&go(1), &go(2));
    }
}

/// On `ou` (G = c W, S² = a²) at T = 0.002 and β = 0.5 the effective model is the
/// Ornstein–Uhlenbeck process at rate T/(1 − β) = 0.004, whose mean and variance are
/// known exactly (`Problem::exact_moments` of the effective problem). After four and
/// six relaxation times 1/(c T/(1 − β)) = 250 steps — when the velocity's lag of about
/// β/(1 − β) steps no longer shows in the mean — the particles' mean and standard
/// deviation agree with it within 4 standard errors. (The model is first order: the
/// stationary variance of heavy ball differs from it by a relative O(Tλ) ≈ 0.2 %,
/// below the 0.6 % standard error of the standard deviation here.)
#[test]
fn effective_model_matches_monte_carlo_on_ou_at_small_lr() {
    let mut p = Problem::builtin("ou").unwrap();
    p.lr = 0.002;
    let beta = 0.5;
    let eff = effective_problem(&p, beta).unwrap();
    let r = simulate(
        &p,
        &McSettings {
            particles: 20_000,
            seed: 11,
            t_end: Some(1500.0),
            every: Some(500.0),
            momentum: Some(beta),
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .unwrap();
    for t in [1000.0, 1500.0] {
        let m = r.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
        let (mean, var) = eff.exact_moments(t).unwrap();
        let zm = (m.mean - mean).abs() / m.mean_se;
        let zs = (m.sd - var.sqrt()).abs() / m.sd_se;
        assert!(
            zm < 4.0 && zs < 4.0,
            "t {t}: mean {} vs {mean} (z {zm:.1}), sd {} vs {} (z {zs:.1})",
            m.mean,
            m.sd,
            var.sqrt()
        );
    }
}

#[test]
fn bad_momentum_settings_are_errors() {
    let p = Problem::builtin("seed").unwrap();
    for (momentum, nesterov) in [(Some(1.0), false), (Some(-0.1), false), (None, true)] {
        let s = McSettings {
            particles: 100,
            t_end: Some(10.0),
            every: Some(10.0),
            momentum,
            nesterov,
            ..McSettings::default()
        };
        let e = simulate(&p, &s, &|_, _| {}).unwrap_err().to_string();
        assert!(e.contains("momentum") || e.contains("nesterov"), "{e}");
    }
    assert!(effective_problem(&p, 1.0).is_err());
}

// ---- momentum in `scan`, `compare` and `sweep` ----

fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_probcurrent"))
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("probcurrent-mom-{}-{tag}", std::process::id()));
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

/// A Fokker–Planck scan over β solves the effective model: the run at β = 0.5 and
/// T = 0.01 is the run at β = 0 and T = 0.02 (same effective rate, same numbers); the
/// table's first column is β and the folders name it.
#[test]
fn scan_over_momentum_solves_the_effective_model() {
    let d = temp_dir("scan-fp");
    let args = [
        "scan",
        "--problem",
        "seed",
        "--momentum",
        "0,0.5",
        "--set",
        "lr=0.01,0.02",
        "--cells",
        "200",
        "--t-end",
        "100",
        "--out",
        d.to_str().unwrap(),
    ];
    let stdout = run_ok(&args);
    assert!(
        stdout.contains("| β | lr | t | mean | mass_pit | mass_basin |"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(d.join("scan.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "beta");
    let keys: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        keys,
        [
            ("0", "0.01"),
            ("0", "0.02"),
            ("0.5", "0.01"),
            ("0.5", "0.02")
        ]
    );
    // (β = 0.5, T = 0.01) has effective rate 0.02: the same row as (β = 0, T = 0.02)
    assert_eq!(rows[3][2..], rows[2][2..]);
    assert_ne!(rows[3][3], rows[1][3]);
    assert!(d.join("run-02-beta=0.5_lr=0.01").join("run.json").is_file());
    let masses = std::fs::read_to_string(d.join("masses.svg")).unwrap();
    assert!(masses.contains("β=0.5 lr=0.01"), "legend without β");
    let _ = std::fs::remove_dir_all(&d);
}

/// A Monte Carlo scan over β simulates heavy ball (and Nesterov): each run's mc.json
/// records its β, and β changes the result.
#[test]
fn scan_over_momentum_by_monte_carlo_simulates_heavy_ball() {
    let d = temp_dir("scan-mc");
    let out = d.to_str().unwrap();
    let args = [
        "scan",
        "--problem",
        "seed",
        "--momentum",
        "0,0.9",
        "--nesterov",
        "--mc",
        "--particles",
        "2000",
        "--t-end",
        "100",
        "--out",
        out,
    ];
    run_ok(&args);
    let json = |dir: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(d.join(dir).join("mc.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (a, b) = (json("run-00-beta=0"), json("run-01-beta=0.9"));
    assert_eq!(a["momentum"].as_f64(), Some(0.0));
    assert_eq!(b["momentum"].as_f64(), Some(0.9));
    assert_eq!(b["nesterov"].as_bool(), Some(true));
    let csv = std::fs::read_to_string(d.join("scan.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_ne!(
        rows[1].split(',').nth(2),
        rows[2].split(',').nth(2),
        "{csv}"
    );
    // Nesterov without --mc, and β out of range, are errors
    for bad in [
        &[
            "scan",
            "--momentum",
            "0.5",
            "--nesterov",
            "--t-end",
            "10",
            "--out",
            out,
        ][..],
        &["scan", "--momentum", "1", "--t-end", "10", "--out", out][..],
    ] {
        let o = bin().args(bad).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--nesterov") || err.contains("--momentum"),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `compare --momentum` runs heavy ball beside the effective model (at T/(1 − β)),
/// and refuses the transfer models with a reason.
#[test]
fn compare_with_momentum_and_the_refused_models() {
    let d = temp_dir("cmp");
    let out = d.to_str().unwrap();
    let args = [
        "--json",
        "compare",
        "--problem",
        "seed",
        "--momentum",
        "0.5",
        "--set",
        "lr=0.01",
        "--cells",
        "200",
        "--t-end",
        "100",
        "--every",
        "50",
        "--particles",
        "2000",
        "--no-plots",
        "--out",
        out,
    ];
    let v: serde_json::Value = serde_json::from_str(&run_ok(&args)).unwrap();
    assert_eq!(v["momentum"].as_f64(), Some(0.5));
    assert!(
        (v["model_lr"].as_f64().unwrap() - 0.02).abs() < 1e-15,
        "{v}"
    );
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(3), "{v}");
    for model in ["transfer-exact", "transfer-gaussian"] {
        let o = bin()
            .args([
                "compare",
                "--momentum",
                "0.5",
                "--model",
                model,
                "--t-end",
                "10",
            ])
            .args(["--out", out])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(model) && err.contains("velocity"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The sweep's `beta=` knob is the effective problem, `lr=` and `batch=` replace the
/// fields, and bad values are errors naming the knob.
#[test]
fn sweep_knobs_for_lr_batch_and_momentum() {
    use probcurrent::testbed::sweep::Knob;
    let seed = Problem::builtin("seed").unwrap();
    let b = Knob::parse("beta=0.5").unwrap();
    assert_eq!(b.label(), "beta=0.5");
    assert!((b.apply(&seed).unwrap().lr - 2.0 * seed.lr).abs() < 1e-15);
    assert_eq!(
        Knob::parse("lr=0.02").unwrap().apply(&seed).unwrap().lr,
        0.02
    );
    assert_eq!(
        Knob::parse("batch=2").unwrap().apply(&seed).unwrap().batch,
        2
    );
    for bad in [
        "beta=1",
        "beta=-0.1",
        "batch=1.5",
        "batch=0",
        "lr=0",
        "lr=-1",
    ] {
        assert!(Knob::parse(bad).is_err(), "{bad}");
    }
}
