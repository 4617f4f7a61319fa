//! The method-of-lines cards (diffsol's BDF, TR-BDF2, ESDIRK34 and Tsit45 over the
//! Scharfetter–Gummel operator): accuracy against tolerance, mass, agreement with the
//! fixed-step Scharfetter–Gummel card, Tsit45's stiffness-limited step count, failures
//! as outcomes, and diffsol's statistics in the report.
//!
//! Errors are Wasserstein-1 distances ([`wasserstein1`]) against a reference on the
//! same grid, so they measure the time integration alone. Each test prints its
//! measurements (`cargo test --release --test mol -- --nocapture`).
//!
//! Time order: the cards claim their method's order (BDF: its largest order, 5), but
//! an adaptive method's error is driven by rtol, not by a step the test could halve, so
//! the claimed order is checked against the integrator's own registry row here and the
//! error is checked to fall with rtol (tolerance proportionality) instead of with dt.

use probcurrent::analysis::metrics::wasserstein1;
use probcurrent::run::snapshot_times;
use probcurrent::scheme::{catalogue, StepKind};
use probcurrent::space::flux::FluxSpec;
use probcurrent::time::{Flow, Mol, MolMethod, Observer, Propagator};
use probcurrent::{run, Operator, Outcome, Positivity, Problem, RunReport, RunSettings, Scheme};
use probcurrent::{Grid, Stats};

const MOL_CARDS: [&str; 4] = ["mol-bdf", "mol-tr-bdf2", "mol-esdirk34", "mol-tsit45"];

struct Case<'a> {
    problem: &'a str,
    scheme: &'a str,
    cells: usize,
    t_end: f64,
    every: f64,
    dt: Option<f64>,
    tol: Option<(f64, f64)>,
}

fn solve(c: Case) -> RunReport {
    let problem = Problem::builtin(c.problem).unwrap();
    let scheme = Scheme::resolve(c.scheme).unwrap();
    let settings = RunSettings {
        cells: c.cells,
        dt: c.dt,
        t_end: Some(c.t_end),
        every: Some(c.every),
        rtol: c.tol.map(|t| t.0),
        atol: c.tol.map(|t| t.1),
        ..RunSettings::default()
    };
    run(&problem, &scheme, &settings).unwrap()
}

/// Largest W1 distance over the snapshots of two runs on the same grid and times.
fn max_w1(a: &RunReport, b: &RunReport) -> f64 {
    assert_eq!(a.snapshots.len(), b.snapshots.len());
    a.snapshots
        .iter()
        .zip(&b.snapshots)
        .map(|(x, y)| {
            assert_eq!(x.t.to_bits(), y.t.to_bits());
            wasserstein1(&a.grid, &x.p, &y.p).unwrap()
        })
        .fold(0.0, f64::max)
}

#[test]
fn must_show_seed_bdf_1200_cells() {
    let r = solve(Case {
        problem: "seed",
        scheme: "mol-bdf",
        cells: 1200,
        t_end: 1000.0,
        every: 50.0,
        dt: None,
        tol: None,
    });
    let s = r.stats;
    eprintln!(
        "seed mol-bdf 1200 cells t=1000: outcome {:?}, wall {:.3} s, min_p {:.3e}, max_p {:.3e}, mass error {:.2e}\n  {s:?}",
        r.outcome, r.wall_s, r.min_p, r.max_p, r.mass_error.unwrap()
    );
    assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.reason);
    assert_eq!(r.t_reached.to_bits(), 1000f64.to_bits());
    assert!(s.steps < 5000, "{} steps", s.steps);
    assert!(
        r.min_p >= -1e-8 * r.max_p,
        "min_p {} max_p {}",
        r.min_p,
        r.max_p
    );
    // diffsol's counters arrive in Stats (and so in run.json)
    assert!(s.rhs_evals > s.steps && s.newton_iterations >= s.steps);
    assert!(s.jacobian_evals >= 1 && s.factorizations >= 1);
    assert_eq!(s.rejected_steps, s.error_test_failures + s.newton_failures);
    assert_eq!(s.linear_solves, s.newton_iterations); // BDF: one LU solve per iteration
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "steps",
        "rejected_steps",
        "rhs_evals",
        "jacobian_evals",
        "factorizations",
        "newton_iterations",
        "newton_failures",
        "error_test_failures",
    ] {
        assert!(json["stats"][key].is_u64(), "run.json lacks stats.{key}");
    }
    // snapshots land exactly on the driver's times (diffsol's stop times)
    let want = snapshot_times(1000.0, 50.0);
    let got: Vec<f64> = r.moments.iter().map(|m| m.t).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.to_bits(), w.to_bits(), "snapshot at {g} instead of {w}");
    }
}

#[test]
fn ou_error_falls_with_rtol() {
    // reference: BDF at rtol 1e-12 on the same grid and flux
    let case = |scheme, rtol: f64| Case {
        problem: "ou",
        scheme,
        cells: 300,
        t_end: 100.0,
        every: 10.0,
        dt: None,
        tol: Some((rtol, rtol * 1e-3)),
    };
    let reference = solve(case("mol-bdf", 1e-12));
    for scheme in MOL_CARDS {
        let mut errs = vec![];
        for rtol in [1e-3, 1e-5, 1e-7, 1e-9] {
            let r = solve(case(scheme, rtol));
            // no method here promises positivity: at loose tolerance Tsit45 dips below zero
            assert!(
                r.outcome <= Outcome::Negative,
                "{scheme} rtol {rtol}: {:?} {:?}",
                r.outcome,
                r.reason
            );
            errs.push((rtol, max_w1(&r, &reference), r.stats.steps));
        }
        eprintln!("ou {scheme}: (rtol, max W1 vs reference, steps) {errs:?}");
        for w in errs.windows(2) {
            assert!(w[1].1 < w[0].1, "{scheme}: error did not fall: {errs:?}");
        }
        assert!(
            errs[3].1 < 1e-3 * errs[0].1,
            "{scheme}: six decades of rtol gained less than three of error: {errs:?}"
        );
    }
}

#[test]
fn mass_conserved_by_every_mol_card() {
    for scheme in MOL_CARDS {
        let r = solve(Case {
            problem: "seed",
            scheme,
            cells: 600,
            t_end: 200.0,
            every: 50.0,
            dt: None,
            tol: None,
        });
        let drift = r.mass_error.unwrap();
        eprintln!(
            "seed {scheme} 600 cells t=200: mass error {drift:.2e}, {} steps, min_p {:.2e}",
            r.stats.steps, r.min_p
        );
        assert_eq!(r.outcome, Outcome::Ok, "{scheme}: {:?}", r.reason);
        // far below rtol = 1e-6: 1ᵀA = 0 makes every step conserve mass to rounding
        assert!(drift.abs() < 1e-11, "{scheme}: mass error {drift}");
        for m in &r.moments {
            assert!(
                (m.mass - 1.0).abs() < 1e-11,
                "{scheme}: mass {} at t = {}",
                m.mass,
                m.t
            );
        }
    }
}

#[test]
fn seed_bdf_matches_scharfetter_gummel_at_small_dt() {
    let case = |scheme, dt| Case {
        problem: "seed",
        scheme,
        cells: 1200,
        t_end: 500.0,
        every: 500.0,
        dt,
        tol: None,
    };
    let bdf = solve(case("mol-bdf", None));
    let mut w = vec![];
    for dt in [1.0, 0.25, 0.05] {
        let sg = solve(case("scharfetter-gummel", Some(dt)));
        w.push((dt, max_w1(&bdf, &sg)));
    }
    eprintln!("seed t=500, 1200 cells: W1(mol-bdf, scharfetter-gummel at dt) {w:?}");
    // backward Euler is first order: its distance to BDF falls with dt
    assert!(w[0].1 > w[1].1 && w[1].1 > w[2].1, "{w:?}");
    assert!(w[2].1 < 1e-3, "{w:?}");
}

/// Tsit45 on the seed problem: stability, not accuracy, sets its step.
#[test]
fn tsit45_on_seed_steps_near_the_explicit_limit() {
    let t_end = 20.0;
    let r = solve(Case {
        problem: "seed",
        scheme: "mol-tsit45",
        cells: 1200,
        t_end,
        every: 10.0,
        dt: None,
        tol: None,
    });
    let limit = r.diagnostics.explicit_limit;
    let euler_steps = t_end / limit;
    let s = r.stats;
    eprintln!(
        "seed mol-tsit45 1200 cells t={t_end}: {} steps ({} rejected, {} rhs) = {:.3} × the {:.0} \
         forward-Euler steps at the limit {limit:.3e}; mean step {:.2} × limit; wall {:.2} s",
        s.steps,
        s.rejected_steps,
        s.rhs_evals,
        s.steps as f64 / euler_steps,
        euler_steps,
        euler_steps / s.steps as f64,
        r.wall_s
    );
    assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.reason);
    // Tsit45's real stability interval is about [−3.5, 0] and ρ(A) ≤ 2 max|A_ii|, so its
    // steps stay within a small multiple of the explicit limit
    let ratio = s.steps as f64 / euler_steps;
    assert!(
        (0.25..1.0).contains(&ratio),
        "steps / Euler steps = {ratio}"
    );
    assert_eq!(s.newton_iterations + s.factorizations + s.jacobian_evals, 0);
    assert!(s.rhs_evals >= 6 * s.steps);
}

/// Records the time of every step and stop it sees.
#[derive(Default)]
struct Times {
    steps: Vec<f64>,
    stops: Vec<f64>,
}

impl Observer for Times {
    fn step(&mut self, t: f64, _p: &[f64], _stats: &Stats) -> Flow {
        self.steps.push(t);
        Flow::Continue
    }
    fn stop(&mut self, t: f64, _p: &[f64], _stats: &Stats) -> Flow {
        self.stops.push(t);
        Flow::Continue
    }
}

/// With a step cap, Tsit45 on the full seed run ends as a failure with the reason.
#[test]
fn tsit45_step_cap_is_a_failure_not_a_hang() {
    let problem = Problem::builtin("seed").unwrap();
    let scheme = Scheme::resolve("mol-tsit45").unwrap();
    let grid = Grid::new(problem.a, problem.b, 1200).unwrap();
    let op = Operator::assemble(
        &problem,
        grid.clone(),
        scheme.build_flux().unwrap().as_ref(),
    )
    .unwrap();
    let mut p = probcurrent::space::initial::initial_density(&problem, &grid).unwrap();
    let mut mol = Mol::new(&op, "tsit45", 1e-6, 1e-9)
        .unwrap()
        .with_max_steps(2000)
        .unwrap();
    let mut stats = Stats::default();
    let mut seen = Times::default();
    let err = mol
        .propagate(&mut p, 0.0, &[1000.0], &mut seen, &mut stats)
        .unwrap_err();
    let msg = err.to_string();
    eprintln!("tsit45 capped at 2000 steps: {msg}");
    assert_eq!(stats.steps, 2000);
    assert_eq!(seen.steps.len(), 2000);
    assert!(seen.stops.is_empty());
    assert!(msg.contains("too many steps"), "{msg}");
    let t = *seen.steps.last().unwrap();
    assert!(t > 0.0 && t < 10.0);
    // a second call from where the first stopped is capped again: an error, not a panic
    let mut again = Times::default();
    assert!(mol
        .propagate(&mut p, t, &[1000.0], &mut again, &mut stats)
        .is_err());
}

#[test]
fn solver_failure_is_outcome_failed_with_reason() {
    // rtol = atol = 1e-30 is below rounding: BDF cannot pass its error test
    let r = solve(Case {
        problem: "seed",
        scheme: "mol-bdf",
        cells: 200,
        t_end: 10.0,
        every: 5.0,
        dt: None,
        tol: Some((1e-30, 1e-30)),
    });
    eprintln!(
        "seed mol-bdf rtol=atol=1e-30: {:?} {:?}",
        r.outcome, r.reason
    );
    assert_eq!(r.outcome, Outcome::Failed);
    let reason = r.reason.unwrap();
    assert!(reason.contains("step size too small"), "{reason}");
    assert!(r.t_reached < 10.0);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let problem = Problem::builtin("ou").unwrap();
    let grid = Grid::new(problem.a, problem.b, 50).unwrap();
    let flux = probcurrent::space::flux::by_name("scharfetter-gummel").unwrap();
    let op = Operator::assemble(&problem, grid.clone(), flux.as_ref()).unwrap();
    let mut p = probcurrent::space::initial::initial_density(&problem, &grid).unwrap();
    let mut stats = Stats::default();
    let mut seen = Times::default();
    assert!(Mol::new(&op, "rk4", 1e-6, 1e-9).is_err());
    assert!(Mol::new(&op, "bdf", 0.0, 1e-9).is_err());
    assert!(Mol::new(&op, "bdf", 1e-6, f64::NAN).is_err());
    let mut mol = Mol::new(&op, "bdf", 1e-6, 1e-9).unwrap();
    // wrong length
    let mut short = p[1..].to_vec();
    assert!(mol
        .propagate(&mut short, 0.0, &[1.0], &mut seen, &mut stats)
        .is_err());
    // stop times before t0, decreasing or not finite
    for stops in [&[-1.0][..], &[10.0, 5.0], &[f64::NAN], &[f64::INFINITY]] {
        assert!(mol
            .propagate(&mut p, 0.0, stops, &mut seen, &mut stats)
            .is_err());
    }
    assert!(mol
        .propagate(&mut p, f64::NAN, &[1.0], &mut seen, &mut stats)
        .is_err());
    assert!(seen.steps.is_empty() && seen.stops.is_empty());
    // a stop at t0 is reported without stepping; later stops are landed on exactly
    let t = mol
        .propagate(&mut p, 0.0, &[0.0, 10.0], &mut seen, &mut stats)
        .unwrap();
    assert_eq!(t.to_bits(), 10f64.to_bits());
    let stops: Vec<u64> = seen.stops.iter().map(|t| t.to_bits()).collect();
    assert_eq!(stops, [0f64.to_bits(), 10f64.to_bits()]);
    assert!(!seen.steps.is_empty() && seen.steps.iter().all(|&s| s > 0.0 && s <= 10.0));
}

#[test]
fn sparse_jacobian_at_100k_cells() {
    // a dense N × N Jacobian would need 80 GB here
    let r = solve(Case {
        problem: "seed",
        scheme: "mol-bdf",
        cells: 100_000,
        t_end: 2.0,
        every: 1.0,
        dt: None,
        tol: None,
    });
    eprintln!(
        "seed mol-bdf 100000 cells t=2: {} steps, wall {:.2} s, setup {:.2} s",
        r.stats.steps, r.wall_s, r.setup_s
    );
    assert_eq!(r.outcome, Outcome::Ok, "{:?}", r.reason);
}

#[test]
fn cards_claim_what_their_method_is() {
    let cards: Vec<Scheme> = catalogue()
        .unwrap()
        .into_iter()
        .filter(|s| s.step_kind() == StepKind::Adaptive && s.integrator.mol_method().is_some())
        .collect();
    let names: Vec<&str> = cards.iter().map(|s| s.name.as_str()).collect();
    for want in MOL_CARDS {
        assert!(names.contains(&want), "{want} missing from the catalogue");
    }
    for s in &cards {
        let m = MolMethod::from_name(s.integrator.name()).unwrap();
        assert_eq!(m.name(), s.integrator.name());
        assert_eq!(s.claims.order_time, Some(m.order() as f64), "{}", s.name);
        // none of diffsol's methods is positivity preserving in general
        assert_eq!(s.claims.positive, Some(Positivity::No), "{}", s.name);
        assert_eq!(s.claims.conservative, Some(true), "{}", s.name);
        assert!(s.rtol().is_some() && s.atol().is_some(), "{}", s.name);
        assert_eq!(s.flux, FluxSpec::ScharfetterGummel, "{}", s.name);
    }
}
