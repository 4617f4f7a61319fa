//! Sweeps: classification, determinism, shard + merge, and `recommend`.

use probcurrent::testbed::sweep::{jobs, merge, sweep, Class, Knob, SweepRecord, SweepSpec};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("probcurrent-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Small but meaningful: seed to t = 100 on coarse grids, one explicit, one central and
/// one fitted card, steps on both sides of the explicit limit.
fn spec(cache: &std::path::Path) -> SweepSpec {
    SweepSpec {
        problems: vec!["seed".into()],
        knobs: vec![Knob::PitSharpness(100.0), Knob::PitSharpness(1000.0)],
        cards: vec![
            "explicit-upwind".into(),
            "crank-nicolson".into(),
            "scharfetter-gummel".into(),
        ],
        cells: vec![100, 200],
        dt_factors: vec![0.9, 3.0],
        dts: vec![1.0],
        rtols: vec![],
        t_end: Some(100.0),
        tol: 5e-2,
        budget: 1e8,
        reference_cells: 800,
        reference_dt: 0.1,
        cache_dir: cache.to_path_buf(),
    }
}

/// Everything but wall-clock times: what must agree between two runs of the same jobs.
fn essence(r: &SweepRecord) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        r.key, r.class, r.w1, r.l1_coarse, r.mean_err, r.min_p, r.mass_error, r.stats
    )
}

#[test]
fn classification_of_constructed_cases() {
    let d = tmp("classes");
    let recs = sweep(&spec(&d), &d.join("s.jsonl"), None, &|_, _| {}).unwrap();
    let find = |card: &str, cells: usize, step: &str, k: f64| {
        recs.iter()
            .find(|r| {
                r.job.card == card
                    && r.job.cells == cells
                    && r.job.knob == Knob::PitSharpness(k)
                    && format!("{:?}", r.job.step) == step
            })
            .unwrap_or_else(|| panic!("no record {card} {cells} {step}"))
    };
    // forward Euler at 3× its limit blows up
    let r = find("explicit-upwind", 200, "DtFactor(3.0)", 100.0);
    assert_eq!(r.class, Class::Diverged, "{r:?}");
    // below the limit it is stable (ok or merely inaccurate on this coarse grid) and non-negative
    let r = find("explicit-upwind", 200, "DtFactor(0.9)", 100.0);
    assert!(r.class.stable(), "{r:?}");
    assert!(r.min_p.unwrap() >= 0.0);
    // the fitted scheme at dt = 1 is positive and conservative
    let r = find("scharfetter-gummel", 200, "Dt(1.0)", 100.0);
    assert!(r.class.stable() && r.min_p.unwrap() >= 0.0, "{r:?}");
    assert!(r.mass_error.unwrap().abs() < 1e-12);
    // central differences at dt = 1 on seed are not stable
    let r = find("crank-nicolson", 200, "Dt(1.0)", 1000.0);
    assert!(!r.class.stable(), "{r:?}");
    // a too-tight tolerance turns a clean run into `inaccurate`, with the reason
    let mut tight = spec(&d);
    tight.tol = 1e-9;
    tight.cards = vec!["scharfetter-gummel".into()];
    tight.knobs = vec![Knob::PitSharpness(100.0)];
    let recs = sweep(&tight, &d.join("tight.jsonl"), None, &|_, _| {}).unwrap();
    assert!(
        recs.iter().all(|r| r.class == Class::Inaccurate),
        "{recs:?}"
    );
    assert!(recs[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("above the tolerance"));
    // over the budget: skipped, not run
    let mut poor = spec(&d);
    poor.budget = 10.0;
    poor.cards = vec!["explicit-upwind".into()];
    let recs = sweep(&poor, &d.join("poor.jsonl"), None, &|_, _| {}).unwrap();
    assert!(recs
        .iter()
        .all(|r| r.class == Class::Skipped && r.stats.steps == 0));
}

#[test]
fn deterministic_resumable_and_shards_merge_to_the_unsharded_result() {
    let d = tmp("shards");
    let s = spec(&d);
    let whole = sweep(&s, &d.join("whole.jsonl"), None, &|_, _| {}).unwrap();
    assert_eq!(whole.len(), jobs(&s).unwrap().len());
    // same inputs, same outcomes
    let again = sweep(&s, &d.join("again.jsonl"), None, &|_, _| {}).unwrap();
    let e1: Vec<String> = whole.iter().map(essence).collect();
    let e2: Vec<String> = again.iter().map(essence).collect();
    assert_eq!(e1, e2);
    // resuming a finished sweep runs nothing new and returns the same records
    let resumed = sweep(&s, &d.join("whole.jsonl"), None, &|_, _| {
        panic!("nothing to run")
    })
    .unwrap();
    assert_eq!(resumed.iter().map(essence).collect::<Vec<_>>(), e1);
    // three shards, merged
    let shards: Vec<PathBuf> = (0..3).map(|i| d.join(format!("shard-{i}.jsonl"))).collect();
    for (i, path) in shards.iter().enumerate() {
        let part = sweep(&s, path, Some((i, 3)), &|_, _| {}).unwrap();
        assert!(part.iter().all(|r| r.job.index % 3 == i));
    }
    let merged = merge(&shards, &d.join("merged.jsonl")).unwrap();
    assert_eq!(merged.iter().map(essence).collect::<Vec<_>>(), e1);
    // bad shard specification is an error naming it
    let err = sweep(&s, &d.join("x.jsonl"), Some((3, 3)), &|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("3/3"), "{err}");
}

#[test]
fn knobs_parse_and_refuse_bad_values() {
    assert_eq!(Knob::parse("k=100").unwrap(), Knob::PitSharpness(100.0));
    assert_eq!(Knob::parse("eps=1e-4").unwrap(), Knob::NoiseFloor(1e-4));
    assert_eq!(Knob::parse("-").unwrap(), Knob::None);
    assert!(Knob::parse("eps=-1")
        .unwrap_err()
        .to_string()
        .contains("-1"));
    assert!(Knob::parse("k=0").unwrap_err().to_string().contains('0'));
    assert!(Knob::parse("q=3").unwrap_err().to_string().contains("q=3"));
    let ou = probcurrent::Problem::builtin("ou").unwrap();
    assert!(Knob::PitSharpness(10.0)
        .apply(&ou)
        .unwrap_err()
        .to_string()
        .contains("ou"));
}

/// `recommend` on seed names a card whose density stays non-negative, never a central
/// scheme, and never an explicit one beyond its limit.
#[test]
fn recommend_on_seed_picks_a_positive_card() {
    let d = tmp("recommend");
    let r =
        probcurrent::testbed::recommend::recommend("seed", 1e-2, false, &d, &|_, _| {}).unwrap();
    let best = r.best.as_ref().expect("a card qualifies at 1e-2");
    eprintln!("{}", r.text().lines().next().unwrap());
    assert!(best.class.stable());
    // non-negative in the monitors' sense: nothing below −1e-8 × the largest value
    assert!(best.min_p.unwrap() >= -1e-8 * best.max_p.unwrap());
    assert!(!best.job.card.starts_with("crank-nicolson"));
    assert!(best.job.card != "explicit-upwind" || best.dt_over_limit.unwrap() <= 1.0);
    assert!(best.w1.unwrap() <= 1e-2);
    // the same command gives the same text (ranked by work, no wall times printed)
    let again =
        probcurrent::testbed::recommend::recommend("seed", 1e-2, false, &d, &|_, _| {}).unwrap();
    assert_eq!(r.text(), again.text());
    assert!(!r.losers.is_empty());
}

/// The reference cache is keyed by content: editing a problem file under the same name
/// and cache folder computes a new reference instead of reusing the old one.
#[test]
fn edited_problem_file_never_hits_a_stale_cache_entry() {
    use probcurrent::testbed::sweep::{reference, SweepSpec};
    let d = tmp("content-key");
    let file = d.join("mine.toml");
    let spec = SweepSpec {
        reference_cells: 200,
        reference_dt: 0.5,
        t_end: Some(5.0),
        cache_dir: d.join("cache"),
        ..SweepSpec::default()
    };
    let solve = |lr: f64| {
        std::fs::write(&file, format!("base = \"ou\"\nlr = {lr}\n")).unwrap();
        let p = probcurrent::Problem::resolve(file.to_str().unwrap()).unwrap();
        reference(&p, "mine", &spec).unwrap()
    };
    let first = solve(0.1);
    let again = solve(0.1);
    assert_eq!(first.key, again.key, "same content, same key");
    assert_eq!(first.p, again.p);
    let edited = solve(0.2);
    assert_ne!(first.key, edited.key, "an edited lr must change the key");
    assert!(
        (first.sd - edited.sd).abs() > 1e-3,
        "and the reference is recomputed"
    );
    let entries = std::fs::read_dir(d.join("cache")).unwrap().count();
    assert_eq!(entries, 2, "one cache entry per content");
}
