//! Mass piled against a zero-flux wall is a warning (`mass_at_wall`), not a failure:
//! a landscape whose minimum lies outside the domain (`ou`, minimum W = 0, on
//! [−1, −0.5]) drives the density against the right wall, and the run reports the
//! first snapshot with more than 1e-3 of the mass in the outermost cell there, in
//! `events`, in run.json and in the printed summary, while its outcome stays `ok`. The
//! defaults of `seed` and `ou` keep their mass away from the walls and do not warn.

use probcurrent::reports::text::run_summary;
use probcurrent::run::{Wall, Warning};
use probcurrent::{run, run_transfer, EventKind, Outcome, Problem, RunSettings, Scheme};

fn ou_outside() -> Problem {
    let mut p = Problem::builtin("ou").unwrap();
    p.a = -1.0;
    p.b = -0.5;
    p.regions.clear();
    p.initial = probcurrent::Initial::Normal {
        mean: -0.75,
        sd: 0.05,
    };
    p
}

#[test]
fn mass_against_a_wall_warns_without_changing_the_outcome() {
    let p = ou_outside();
    let r = run(
        &p,
        &Scheme::resolve(probcurrent::scheme::DEFAULT_SCHEME).unwrap(),
        &RunSettings::default(),
    )
    .unwrap();
    let summary = run_summary(&r);
    eprint!("{summary}");
    assert_eq!(r.outcome, Outcome::Ok, "{summary}");
    assert_eq!(r.reason, None);
    let warnings: Vec<_> = r.warnings().collect();
    assert_eq!(warnings.len(), 1, "{:?}", r.events);
    let e = warnings[0];
    assert_eq!(e.kind, EventKind::Warning(Warning::MassAtWall));
    assert_eq!(e.wall, Some(Wall::Right));
    let mass = e.mass.unwrap();
    assert!(mass > 1e-3, "{mass}");
    // the first snapshot where it happened, not t = 0
    assert!(e.t > 0.0 && e.t <= p.t_end, "{}", e.t);
    // at the end the mass is piled there: the last cell holds far more than 1e-3
    let last = r.snapshots.last().unwrap();
    let h = r.grid.width(0);
    assert!(last.p[last.p.len() - 1] * h > 1e-2);
    assert!(summary.contains("outcome ok"), "{summary}");
    assert!(
        summary.contains("warning mass_at_wall") && summary.contains("right wall"),
        "{summary}"
    );
    // run.json: the event is written with its kind, wall and mass
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["outcome"], "ok");
    let ev = &json["events"][0];
    assert_eq!(ev["kind"], "mass_at_wall");
    assert_eq!(ev["wall"], "right");
    assert_eq!(ev["mass"].as_f64(), Some(mass));

    // the transfer models share the driver, hence the warning
    let t = run_transfer(
        &p,
        probcurrent::TransferKind::Gaussian,
        &RunSettings::default(),
    )
    .unwrap();
    assert_eq!(t.outcome, Outcome::Ok);
    assert_eq!(t.warnings().count(), 1, "{:?}", t.events);
}

#[test]
fn warnings_and_failures_are_kept_apart() {
    // a failure and a warning in one run: only the failure ranks
    let p = ou_outside();
    let r = run(
        &p,
        &Scheme::resolve("crank-nicolson").unwrap(),
        &RunSettings {
            dt: Some(5.0),
            ..Default::default()
        },
    )
    .unwrap();
    eprint!("{}", run_summary(&r));
    assert!(r
        .failures()
        .all(|e| matches!(e.kind, EventKind::Outcome(o) if o > Outcome::Ok)));
    assert!(r
        .warnings()
        .all(|e| matches!(e.kind, EventKind::Warning(_))));
    assert_eq!(r.failures().count() + r.warnings().count(), r.events.len());
    let worst = r.failures().map(|e| match e.kind {
        EventKind::Outcome(o) => o,
        EventKind::Warning(_) => unreachable!(),
    });
    assert_eq!(worst.max().unwrap_or(Outcome::Ok), r.outcome);
}

#[test]
fn seed_and_ou_defaults_do_not_warn() {
    for name in ["seed", "ou"] {
        let p = Problem::builtin(name).unwrap();
        let r = run(
            &p,
            &Scheme::resolve(probcurrent::scheme::DEFAULT_SCHEME).unwrap(),
            &RunSettings::default(),
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.warnings().count(), 0, "{name}: {:?}", r.events);
        assert!(!run_summary(&r).contains("warning"), "{}", run_summary(&r));
    }
}
