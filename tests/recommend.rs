//! `recommend` is robust to the grid and reproducible: the recommended run meets the
//! tolerance at 0.8 N and 1.25 N too (same card and step), every run it ranked is listed
//! with its neighbours, and the same command gives the same text.

use probcurrent::testbed::recommend::{neighbour_cells, recommend};
use probcurrent::testbed::sweep::qualifies;
use probcurrent::Problem;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "probcurrent-recommend-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn neighbour_grids_are_a_quarter_either_side() {
    assert_eq!(neighbour_cells(1200), [960, 1500]);
    assert_eq!(neighbour_cells(600), [480, 750]);
    assert_eq!(neighbour_cells(4800), [3840, 6000]);
}

/// A cheap problem: `ou` to t = 4 (a problem file), tolerance 1e-4 in W1. The winner
/// qualifies at N and at both neighbours; a card that meets the tolerance at some N
/// but not at a neighbour is said to lose for that reason; two runs give the same text.
#[test]
fn recommendation_holds_across_a_quarter_change_of_n_and_reproduces() {
    let d = tmp("ou4");
    let file = d.join("ou4.toml");
    std::fs::write(&file, "base = \"ou\"\nt_end = 4\nevery = 4\n").unwrap();
    let name = file.to_str().unwrap();
    let problem = Problem::resolve(name).unwrap();
    let tol = 1e-4;
    let r = recommend(name, tol, false, &d.join("cache"), &|_, _| {}).unwrap();
    let text = r.text();
    eprintln!("{text}");
    let best = r
        .best
        .as_ref()
        .expect("a card qualifies at 1e-4 on ou to t = 4");
    assert!(qualifies(best, tol, false, problem.boundary));
    for n in neighbour_cells(best.job.cells) {
        let q = r
            .neighbours
            .iter()
            .find(|q| {
                q.job.card == best.job.card && q.job.cells == n && q.job.step == best.job.step
            })
            .unwrap_or_else(|| panic!("neighbour N = {n} of the winner was not run"));
        assert!(
            qualifies(q, tol, false, problem.boundary),
            "winner fails at N = {n}: {:?}",
            q.w1
        );
    }
    assert!(text.contains("also meet the tolerance at 0.8 N and 1.25 N"));
    // every card that qualifies only on single grids says so
    for (card, why) in &r.losers {
        let single = r
            .records
            .iter()
            .any(|x| &x.job.card == card && qualifies(x, tol, false, problem.boundary));
        if single && !why.starts_with("qualifies") {
            assert!(why.contains("not across ±25 % of N"), "{card}: {why}");
        }
    }
    let again = recommend(name, tol, false, &d.join("cache"), &|_, _| {}).unwrap();
    assert_eq!(
        text,
        again.text(),
        "the same command must give the same text"
    );
}
