//! Schedules: the scheduled models agree with Monte Carlo under the same schedule, the
//! constant schedule leaves every run bit-identical, and integrators that assume a
//! constant operator refuse a schedule by name.

use probcurrent::analysis::montecarlo::McMode;
use probcurrent::model::problem::Problem;
use probcurrent::model::schedule::{Schedule, Shape};
use probcurrent::reports::schedules::{check, cosine, seed_with, step_decay, ScheduleSizes};
use probcurrent::run::{run, run_transfer, RunSettings};
use probcurrent::scheme::Scheme;
use probcurrent::time::transfer::TransferKind;

fn settings() -> RunSettings {
    RunSettings {
        cells: 300,
        t_end: Some(200.0),
        every: Some(100.0),
        keep_densities: true,
        ..RunSettings::default()
    }
}

#[test]
fn transfer_exact_matches_sgd_under_step_decay_and_cosine() {
    let sizes = ScheduleSizes {
        particles: 20_000,
        cells: 1200,
        t_end: 600.0,
        every: 200.0,
    };
    for shape in [
        Shape::Step {
            every: 150.0,
            factor: 0.5,
        },
        cosine(600.0),
    ] {
        let c = check(&seed_with(0.02, shape).unwrap(), true, McMode::Sgd, sizes).unwrap();
        println!("{}", c.markdown());
        assert!(c.rows.len() >= 6, "{:?}", c.rows);
        assert!(c.worst.0 < 4.0, "{}", c.markdown());
    }
    let _ = step_decay();
}

#[test]
fn fokker_planck_matches_gaussian_kicks_under_a_cosine_at_small_t() {
    let sizes = ScheduleSizes {
        particles: 20_000,
        cells: 600,
        t_end: 1000.0,
        every: 250.0,
    };
    let c = check(
        &seed_with(0.005, cosine(1000.0)).unwrap(),
        false,
        McMode::Gaussian,
        sizes,
    )
    .unwrap();
    println!("{}", c.markdown());
    assert!(c.worst.0 < 4.0, "{}", c.markdown());
}

#[test]
fn a_schedule_changes_the_result_and_a_constant_one_does_not() {
    let seed = Problem::builtin("seed").unwrap();
    let mut constant = seed.clone();
    constant.schedule.lr = Schedule::constant();
    let card = Scheme::resolve("scharfetter-gummel").unwrap();
    let a = run(&seed, &card, &settings()).unwrap();
    let b = run(&constant, &card, &settings()).unwrap();
    assert_eq!(a.snapshots.last().unwrap().p, b.snapshots.last().unwrap().p);
    let decayed = seed_with(0.02, step_decay()).unwrap();
    for name in [
        "scharfetter-gummel",
        "scharfetter-gummel-trbdf2",
        "explicit-upwind",
    ] {
        let card = Scheme::resolve(name).unwrap();
        let c = run(&decayed, &card, &settings()).unwrap();
        // before the first decay (t = 250) the runs coincide; T(t) = T₀ throughout
        // (to rounding: A(t) is re-assembled from scaled face data)
        let d = run(&seed, &card, &settings()).unwrap();
        let (pc, pd) = (
            &c.snapshots.last().unwrap().p,
            &d.snapshots.last().unwrap().p,
        );
        let diff = pc
            .iter()
            .zip(pd)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(diff < 1e-9, "{name}: {diff}");
    }
    let mut halved = seed.clone();
    halved.schedule.lr = Schedule::new(Shape::Step {
        every: 100.0,
        factor: 0.5,
    })
    .unwrap();
    let e = run(&halved, &card, &settings()).unwrap();
    assert_ne!(e.snapshots.last().unwrap().p, a.snapshots.last().unwrap().p);
    // the frozen problem at T₀/2 from t = 100 on: the scheduled run is A(t) of that
    let t = run_transfer(&halved, TransferKind::Exact, &settings()).unwrap();
    assert!((t.moments.last().unwrap().mass - 1.0).abs() < 1e-9);
}

#[test]
fn exponential_and_krylov_cards_refuse_a_schedule_by_name() {
    let p = seed_with(0.02, cosine(100.0)).unwrap();
    for name in [
        "scharfetter-gummel-krylov",
        "scharfetter-gummel-exp",
        "mol-bdf",
    ] {
        let e = run(&p, &Scheme::resolve(name).unwrap(), &settings()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(name) && msg.contains("schedule"), "{msg}");
    }
}

#[test]
fn a_problem_file_without_base_names_each_missing_field() {
    let dir = std::env::temp_dir().join(format!("probcurrent-explicit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let land = "[landscape]\nkind = \"formulas\"\nlosses = [\"(w-1)^2\", \"(w-2)^2\"]\n";
    let init = "[initial]\nkind = \"uniform\"\n";
    let full = ["domain = [0.0, 3.0]\n", "lr = 0.02\n", "batch = 2\n"];
    for (k, field) in ["domain", "lr", "batch", "initial"].iter().enumerate() {
        let mut text = String::new();
        for (j, line) in full.iter().enumerate() {
            if j != k {
                text += line;
            }
        }
        text += land;
        if k != 3 {
            text += init;
        }
        let path = dir.join(format!("no-{field}.toml"));
        std::fs::write(&path, text).unwrap();
        let e = Problem::from_file(&path).unwrap_err().to_string();
        assert!(e.contains(&format!("missing field `{field}`")), "{e}");
    }
    let path = dir.join("complete.toml");
    std::fs::write(
        &path,
        format!("{}{}{}{land}{init}", full[0], full[1], full[2]),
    )
    .unwrap();
    let p = Problem::from_file(&path).unwrap();
    assert_eq!((p.a, p.b, p.lr, p.batch), (0.0, 3.0, 0.02, 2));
    assert!(p.regions.is_empty() && p.schedule.is_constant());
}
