//! Every card of the catalogue against its claims (STYLE 11): observed orders of
//! convergence on OU in space and in time, positivity, mass conservation and the
//! exact stationary state.
//!
//! Orders are measured by self-convergence, which needs no exact solution of the
//! discrete problem. Space: densities at t_end on N, 2N, 4N cells at one fixed small
//! step, the finer ones restricted to the coarse grid by averaging pairs of cells
//! (exact for cell averages); order = log2(‖P_N − R P_2N‖ / ‖P_2N − R P_4N‖) in the L1
//! norm h Σ|·|. The time error at fixed dt depends on h only through an O(dt·h^p) term,
//! so it cancels to the order measured. Time: on one grid, dt, dt/2, dt/4; the spatial
//! error cancels exactly. Adaptive (method-of-lines) cards choose their own steps: their
//! time order is measured from the error against the number of steps over a sweep of
//! tolerances (error ∝ steps^(−p)).

use probcurrent::scheme::{catalogue, IntegratorSpec, Positivity, StepKind};
use probcurrent::space::flux::FluxSpec;
use probcurrent::{run, Grid, Operator, Outcome, Problem, RunReport, RunSettings, Scheme};

fn ou() -> Problem {
    Problem::builtin("ou").unwrap()
}

fn limit(p: &Problem, scheme: &Scheme, cells: usize) -> f64 {
    let grid = Grid::new(p.a, p.b, cells).unwrap();
    Operator::assemble(p, grid, scheme.build_flux().unwrap().as_ref())
        .unwrap()
        .explicit_limit()
}

/// Run `scheme` on `p` to `t_end`: fixed `dt` for fixed-step cards, tolerances
/// `rtol`/`atol` for adaptive ones.
fn solve(
    p: &Problem,
    scheme: &Scheme,
    cells: usize,
    dt: Option<f64>,
    tol: Option<f64>,
    t_end: f64,
) -> RunReport {
    let adaptive = scheme.step_kind() == StepKind::Adaptive;
    let settings = RunSettings {
        cells,
        dt: if adaptive { None } else { dt },
        rtol: if adaptive { tol } else { None },
        atol: if adaptive {
            tol.map(|t| t * 1e-3)
        } else {
            None
        },
        t_end: Some(t_end),
        every: Some(t_end),
        ..Default::default()
    };
    let r = run(p, scheme, &settings).unwrap_or_else(|e| panic!("{}: {e}", scheme.name));
    assert!(
        !matches!(r.outcome, Outcome::Diverged | Outcome::Failed),
        "{} on {cells} cells, dt {dt:?}, tol {tol:?}: outcome {:?} ({:?})",
        scheme.name,
        r.outcome,
        r.reason
    );
    r
}

fn last(r: &RunReport) -> Vec<f64> {
    r.snapshots.last().unwrap().p.clone()
}

/// Average pairs of cells: the fine grid's cell averages restricted to the coarse grid.
fn restrict(fine: &[f64]) -> Vec<f64> {
    fine.chunks(2).map(|c| 0.5 * (c[0] + c[1])).collect()
}

fn l1(a: &[f64], b: &[f64], h: f64) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() * h
}

/// OU's default final time: the mean relaxes from 1 to e^{−2}.
const T_END: f64 = 100.0;

/// Space order at fixed small dt: (order, [two differences]).
///
/// N = 200, 400, 800: the cell Péclet number T|W|h/D = 100|W|h is ≤ 1.5 where the
/// density lives (|W| ≤ 1) on the coarsest grid, inside the asymptotic range of the
/// fitted and central fluxes (measured: the order is within 0.03 of its limit from
/// N = 200 on; explicit upwind 0.89 at N = 200, 0.94 at N = 400).
/// dt = 0.01 for implicit cards (BE's time error 1e-4 is then common to the three
/// grids up to O(dt·h²)); explicit: 0.9 × the finest grid's limit; adaptive:
/// rtol = 1e-10, atol = 1e-13 (time error ~1e-10 against differences ≥ 1e-4).
fn space_order(scheme: &Scheme, n: usize) -> (f64, [f64; 2]) {
    let p = ou();
    let dt = match scheme.step_kind() {
        // one step for all three grids, under the finest grid's limit
        StepKind::Explicit => Some(0.9 * limit(&p, scheme, 4 * n)),
        _ => Some(0.01),
    };
    let tol = Some(1e-10);
    let p1 = last(&solve(&p, scheme, n, dt, tol, T_END));
    let p2 = last(&solve(&p, scheme, 2 * n, dt, tol, T_END));
    let p4 = last(&solve(&p, scheme, 4 * n, dt, tol, T_END));
    let h = (p.b - p.a) / n as f64;
    let d1 = l1(&p1, &restrict(&p2), h);
    let d2 = l1(&restrict(&p2), &restrict(&restrict(&p4)), h);
    ((d1 / d2).log2(), [d1, d2])
}

/// Time order at fixed N by dt, dt/2, dt/4 (fixed-step cards).
///
/// N = 200; implicit dt = 1, ½, ¼ (T c dt ≤ 0.02: asymptotic; measured orders move
/// towards their limit by < 0.05 from dt = 4 down to dt = ½); explicit: 0.9, 0.45,
/// 0.225 × the limit.
fn time_order(scheme: &Scheme, n: usize, dt: f64) -> (f64, [f64; 2]) {
    let p = ou();
    let h = (p.b - p.a) / n as f64;
    let p1 = last(&solve(&p, scheme, n, Some(dt), None, T_END));
    let p2 = last(&solve(&p, scheme, n, Some(dt / 2.0), None, T_END));
    let p4 = last(&solve(&p, scheme, n, Some(dt / 4.0), None, T_END));
    let (d1, d2) = (l1(&p1, &p2, h), l1(&p2, &p4, h));
    ((d1 / d2).log2(), [d1, d2])
}

/// Reference for the semi-discrete OU problem with the `scharfetter-gummel` flux on
/// `n` cells at T_END: Crank–Nicolson at dt = 0.005 and 0.0025, Richardson-extrapolated
/// ((4 P_{dt/2} − P_dt)/3 removes the dt² term; CN's error expansion is in even powers,
/// so what remains is O(dt⁴) ≈ 1e-17, below the rounding floor of ~1e-12 of 40 000
/// steps).
fn sg_reference(n: usize) -> Vec<f64> {
    let p = ou();
    let cn = catalogue()
        .unwrap()
        .into_iter()
        .find(|s| {
            s.flux == FluxSpec::ScharfetterGummel
                && matches!(s.integrator, IntegratorSpec::Theta(t) if t.theta == 0.5)
        })
        .expect("a Crank–Nicolson card with the scharfetter-gummel flux");
    let a = last(&solve(&p, &cn, n, Some(0.005), None, T_END));
    let b = last(&solve(&p, &cn, n, Some(0.0025), None, T_END));
    a.iter().zip(&b).map(|(x, y)| (4.0 * y - x) / 3.0).collect()
}

/// The tolerances of [`adaptive_time_order`].
const ADAPTIVE_TOLS: [f64; 5] = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8];

/// Time order of an adaptive card: the slope of log(error) against log(accepted
/// steps) over rtol = 1e-4 … 1e-8 (atol = 1e-3 rtol) on N = 50, least squares.
///
/// N = 50 keeps the explicit Tsit45 accuracy-limited (not held by its stability
/// limit) over the whole sweep, and the errors (≥ 4e-11) stay above the reference's
/// rounding floor (~1e-12). Returns (order, errors, steps).
fn adaptive_time_order(scheme: &Scheme, reference: &[f64], n: usize) -> (f64, Vec<f64>, Vec<u64>) {
    assert_eq!(
        scheme.flux,
        FluxSpec::ScharfetterGummel,
        "reference is for this flux"
    );
    let p = ou();
    let h = (p.b - p.a) / n as f64;
    let (mut errs, mut steps) = (vec![], vec![]);
    for tol in ADAPTIVE_TOLS {
        let r = solve(&p, scheme, n, None, Some(tol), T_END);
        errs.push(l1(&last(&r), reference, h));
        steps.push(r.stats.steps);
    }
    let xs: Vec<f64> = steps.iter().map(|&s| (s as f64).ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    (-sxy / sxx, errs, steps)
}

/// STYLE 11: one table-driven test over the whole catalogue. Fixed-step cards must
/// show their claimed orders within ±0.3 in space and in time. Adaptive cards choose
/// their steps; their spatial order is measured the same way (tight tolerance), and
/// their time order from error against steps, which for an error-controlled method
/// of order p falls like steps^(−p). That slope is the realised order: a
/// variable-order method (BDF, orders 1–5) that moves up in order as the tolerance
/// tightens shows more than its top order, and on a linear problem an explicit
/// Runge–Kutta method can exceed its (nonlinear) order. So for adaptive cards the time
/// check is one-sided: at least the claimed order − 0.3.
#[test]
fn every_card_shows_its_claimed_orders_on_ou() {
    let mut failures = vec![];
    let mut reference = None;
    eprintln!(
        "{:28} {:>8} {:>8} {:>8} {:>8}",
        "card", "space", "claim", "time", "claim"
    );
    for scheme in catalogue().unwrap() {
        let claims = &scheme.claims;
        let (os, ds) = space_order(&scheme, 200);
        let adaptive = scheme.step_kind() == StepKind::Adaptive;
        // time differences of fixed-step cards (dt, dt/2, dt/4)
        let mut time_diffs = None;
        let mut krylov = false;
        let (ot, detail) = if adaptive {
            let r = reference.get_or_insert_with(|| sg_reference(50));
            let (o, e, st) = adaptive_time_order(&scheme, r, 50);
            let pairs: Vec<String> = e
                .iter()
                .zip(&st)
                .map(|(e, s)| format!("{e:.2e}@{s}"))
                .collect();
            if let IntegratorSpec::Krylov(k) = &scheme.integrator {
                // Krylov cards: the spectrum, not rtol, holds the steps (the same few
                // steps at every rtol here), so there is no slope. Checked instead: the
                // L1 error ≤ rtol (mass one) at every tolerance, and order_time = m
                // (one step's local order m + 1 is measured in tests/krylov.rs).
                let bound_ok = e.iter().zip(ADAPTIVE_TOLS).all(|(e, t)| *e <= t);
                if !bound_ok || claims.order_time != Some(k.m as f64) {
                    failures.push(format!(
                        "{}: errors {e:?} against rtol {ADAPTIVE_TOLS:?}, order claim {} with m = {}",
                        scheme.name, claim_text(claims.order_time), k.m
                    ));
                }
                krylov = true;
            }
            (o, format!("errors@steps {}", pairs.join(" ")))
        } else {
            let dt = match scheme.step_kind() {
                StepKind::Explicit => 0.9 * limit(&ou(), &scheme, 200),
                _ => 1.0,
            };
            let (o, d) = time_order(&scheme, 200, dt);
            time_diffs = Some(d);
            (
                o,
                format!("dt {dt:.3}: differences {:.3e} {:.3e}", d[0], d[1]),
            )
        };
        eprintln!(
            "{:28} {os:8.3} {:>8} {ot:8.3} {:>8}   (space differences {:.3e} {:.3e}; {detail})",
            scheme.name,
            claim_text(claims.order_space),
            claim_text(claims.order_time),
            ds[0],
            ds[1]
        );
        if let Some(c) = claims.order_space {
            if (os - c).abs() > 0.3 {
                failures.push(format!("{}: space order {os:.3}, claimed {c}", scheme.name));
            }
        }
        if let Some(c) = claims.order_time {
            let time_ok = if krylov {
                true // checked above
            } else if adaptive {
                ot >= c - 0.3
            } else if c == f64::INFINITY {
                // no time-step error (an exponential integrator): the results at dt, dt/2
                // and dt/4 agree to the approximation's accuracy, with no trend to measure
                time_diffs.is_some_and(|d| d.iter().all(|&x| x < 1e-10))
            } else {
                (ot - c).abs() <= 0.3
            };
            if !time_ok {
                failures.push(format!("{}: time order {ot:.3}, claimed {c}", scheme.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "claims not met:\n{}",
        failures.join("\n")
    );
}

/// A claimed order as text ("unclaimed" when the card omits it).
fn claim_text(c: Option<f64>) -> String {
    c.map_or("unclaimed".into(), |v| v.to_string())
}

fn seed() -> Problem {
    Problem::builtin("seed").unwrap()
}

fn seed_run(scheme: &Scheme, cells: usize, dt: Option<f64>, t_end: f64) -> RunReport {
    let settings = RunSettings {
        cells,
        dt,
        t_end: Some(t_end),
        every: Some(t_end / 4.0),
        ..Default::default()
    };
    run(&seed(), scheme, &settings).unwrap_or_else(|e| panic!("{}: {e}", scheme.name))
}

/// `positive` claims on the seed problem (600 cells): "always" → min P ≥ 0 at dt = 1
/// and dt = 10 (≈ 340 and 3400 × the explicit limit) over the full t = 0…1000;
/// "below-limit" → min P ≥ 0 at 0.5 and 0.99 × the limit (to t = 100: 3.4e4 and
/// 6.8e4 steps). An M-matrix with backward Euler or forward Euler below its limit
/// keeps every value ≥ 0 exactly (not just to a tolerance), so the check is min_p ≥ 0.
/// Cards claiming "no" are run at dt = 1 (or their default tolerances) and reported.
#[test]
fn positivity_claims_hold_on_seed() {
    let mut failures = vec![];
    for scheme in catalogue().unwrap() {
        let runs: Vec<(String, RunReport)> = match scheme.claims.positive {
            Some(Positivity::Always) => [1.0, 10.0]
                .iter()
                .map(|&dt| (format!("dt {dt}"), seed_run(&scheme, 600, Some(dt), 1000.0)))
                .collect(),
            Some(Positivity::BelowLimit) => {
                let lim = limit(&seed(), &scheme, 600);
                [0.5, 0.99]
                    .iter()
                    .map(|&f| {
                        (
                            format!("dt {f} × limit"),
                            seed_run(&scheme, 600, Some(f * lim), 100.0),
                        )
                    })
                    .collect()
            }
            Some(Positivity::No) | None => {
                let dt = (scheme.step_kind() != StepKind::Adaptive).then_some(1.0);
                let r = seed_run(&scheme, 600, dt, 100.0);
                eprintln!(
                    "{:28} claims no positivity (or none): dt {dt:?}, outcome {:?}, min_p {:.3e}",
                    scheme.name, r.outcome, r.min_p
                );
                vec![]
            }
        };
        for (label, r) in runs {
            eprintln!(
                "{:28} {label}: outcome {:?}, min_p {:.3e}",
                scheme.name, r.outcome, r.min_p
            );
            if r.min_p < 0.0
                || matches!(
                    r.outcome,
                    Outcome::Negative | Outcome::Diverged | Outcome::Failed
                )
            {
                failures.push(format!(
                    "{} ({:?}) {label}: min_p {:e}, outcome {:?} {:?}",
                    scheme.name, scheme.claims.positive, r.min_p, r.outcome, r.reason
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `conservative = true` → |mass error| < 1e-12 on seed (600 cells; dt = 1 for fixed-step
/// implicit cards, the default 0.9 × limit for explicit ones, default tolerances for
/// adaptive ones; t = 0…100). Zero column sums make each step conservative in exact
/// arithmetic; what is left is rounding (see tests/properties.rs for its bound).
#[test]
fn conservation_claims_hold_on_seed() {
    let mut failures = vec![];
    for scheme in catalogue().unwrap() {
        let dt = (scheme.step_kind() == StepKind::Implicit).then_some(1.0);
        let r = seed_run(&scheme, 600, dt, 100.0);
        let me = r.mass_error.unwrap();
        eprintln!(
            "{:28} mass error {me:+.3e} (outcome {:?}, {} steps)",
            scheme.name, r.outcome, r.stats.steps
        );
        if scheme.claims.conservative == Some(true) && (me.is_nan() || me.abs() >= 1e-12) {
            failures.push(format!("{}: mass error {me:e}", scheme.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `exact_stationary = true` → the card's operator has the analytic stationary
/// density of OU (a Gaussian, mean 0, variance D/(T c) = 0.01) as its null vector, at
/// the cell centres, to rounding: relative max error < 1e-10 on N = 50 … 400 (see
/// tests/stationary.rs for the bound and for a problem with varying D). Cards that do
/// not claim it are reported.
#[test]
fn exact_stationary_claims_hold_on_ou() {
    let p = ou();
    let var = p.coeffs(0.0).d / p.lr;
    let mut failures = vec![];
    for scheme in catalogue().unwrap() {
        let mut worst = 0.0f64;
        for n in [50, 100, 200, 400] {
            let grid = Grid::new(p.a, p.b, n).unwrap();
            let op = Operator::assemble(&p, grid.clone(), scheme.build_flux().unwrap().as_ref())
                .unwrap();
            let Some(num) = op.null_vector() else {
                worst = f64::INFINITY;
                continue;
            };
            let lnq: Vec<f64> = grid
                .centres()
                .iter()
                .map(|x| -x * x / (2.0 * var))
                .collect();
            let top = lnq.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let q: Vec<f64> = lnq.iter().map(|l| (l - top).exp()).collect();
            let mass = q.iter().sum::<f64>() * grid.width(0);
            let qmax = q.iter().cloned().fold(0.0, f64::max) / mass;
            let err = num
                .iter()
                .zip(&q)
                .map(|(a, b)| (a - b / mass).abs())
                .fold(0.0f64, f64::max)
                / qmax;
            worst = worst.max(err);
        }
        eprintln!(
            "{:28} exact_stationary = {:?}: worst relative max error {worst:.2e}",
            scheme.name, scheme.claims.exact_stationary
        );
        if scheme.claims.exact_stationary == Some(true) && (worst.is_nan() || worst >= 1e-10) {
            failures.push(format!("{}: stationary error {worst:e}", scheme.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The catalogue is exactly the files of `schemes/`: names are file stems, each card's
/// `name` is its stem, and every card parses.
#[test]
fn catalogue_is_the_schemes_folder() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemes");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    let names = probcurrent::scheme::catalogue_names();
    assert_eq!(
        names, stems,
        "catalogue names against the files in schemes/"
    );
    let cards = catalogue().unwrap();
    let card_names: Vec<&str> = cards.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(card_names, names, "card `name` against the file stem");
    for stem in &stems {
        let text = std::fs::read_to_string(dir.join(format!("{stem}.toml"))).unwrap();
        let from_file = Scheme::from_toml(&text, &dir.join(stem)).unwrap();
        assert_eq!(&from_file.name, stem);
        assert_eq!(
            Scheme::resolve(stem).unwrap().integrator,
            from_file.integrator
        );
    }
    // the default card is in the catalogue
    Scheme::resolve(probcurrent::scheme::DEFAULT_SCHEME).unwrap();
}

/// The README's `## Schemes` section is the generated table, verbatim.
#[test]
fn readme_scheme_table_is_generated() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let (begin, end) = ("<!-- schemes:begin -->\n", "<!-- schemes:end -->");
    let start = readme
        .find(begin)
        .expect("README lacks <!-- schemes:begin -->")
        + begin.len();
    let stop = readme[start..]
        .find(end)
        .expect("README lacks <!-- schemes:end -->")
        + start;
    let want = probcurrent::scheme::catalogue_table_markdown().unwrap();
    assert!(
        readme[start..stop] == want,
        "README.md's scheme table is stale; replace the text between the markers with:\n{want}"
    );
}

/// Errors in a card name the file and list the accepted values.
#[test]
fn card_errors_name_the_file_and_the_known_values() {
    let good = probcurrent::scheme::CATALOGUE
        .iter()
        .find(|(f, _)| *f == "scharfetter-gummel.toml")
        .unwrap()
        .1;
    let origin = std::path::Path::new("my-card.toml");
    let cases = [
        (
            good.replace("flux = \"scharfetter-gummel\"", "flux = \"weno5\""),
            vec![
                "my-card.toml",
                "weno5",
                "upwind",
                "central",
                "scharfetter-gummel-dp",
            ],
        ),
        (
            good.replace("kind = \"theta\"", "kind = \"rk4\""),
            vec!["my-card.toml", "rk4", "forward-euler", "theta", "mol"],
        ),
        (
            good.replace("dt = 1.0", "dt = 1.0\nsafety = 0.5"),
            vec!["my-card.toml", "safety", "theta", "rannacher_steps", "dt"],
        ),
        (
            // the format before `[integrator]` tables
            good.replace(
                "\n[integrator]\nkind = \"theta\"\ntheta = 1.0\ndt = 1.0",
                "integrator = \"theta\"",
            ),
            vec![
                "my-card.toml",
                "[integrator]",
                "forward-euler",
                "theta",
                "mol",
            ],
        ),
        (
            good.replace("theta = 1.0", "theta = 0.2"),
            vec!["my-card.toml", "theta", "0.2"],
        ),
    ];
    for (text, wants) in cases {
        let msg = Scheme::from_toml(&text, origin).unwrap_err().to_string();
        for w in wants {
            assert!(msg.contains(w), "`{w}` not in: {msg}");
        }
    }
}

/// Claims per problem class on cheap grid studies (non-nested families N₀·1.25ᵏ, the
/// reference the same card on a finer non-nested grid, exact W1 between grids).
/// Smooth: `spreading` on N = 100 … 244, every card claiming `order_space` must show at
/// least that order − 0.3 with the error falling at every step (upwind, order 1, shows
/// 2 here: no drift). Degenerate: `vanishing-noise` (the noise vanishes at the minimum,
/// where a point mass forms) on N = 600 … 1465 against 11 721 cells, every card
/// claiming `order_space_degenerate`; measured fits 1.44–1.51 for the Scharfetter–Gummel
/// fittings (the last step is steepened by the reference's own error). Smooth claims hold two-sided on `ou` in
/// `every_card_shows_its_claimed_orders_on_ou`.
#[test]
fn order_claims_hold_per_problem_class() {
    use probcurrent::analysis::convergence::{
        grid_study, non_nested_family, ProblemClass, StudySettings,
    };
    let mut failures = vec![];
    let mut checked = [0usize; 2];
    for (k, (name, n0)) in [("spreading", 100), ("vanishing-noise", 600)]
        .into_iter()
        .enumerate()
    {
        let p = Problem::builtin(name).unwrap();
        let class = ProblemClass::of(&p);
        assert_eq!(
            class,
            if k == 0 {
                ProblemClass::Smooth
            } else {
                ProblemClass::Degenerate
            },
            "{name}"
        );
        let cells = non_nested_family(n0, 5);
        let settings = StudySettings {
            reference_cells: 8 * cells[4] + 1,
            cells,
            t_end: 500.0,
            steps: 1000,
            budget: 1e8,
        };
        for scheme in catalogue().unwrap() {
            if class.claimed_space(&scheme).is_none() {
                continue;
            }
            let s = grid_study(&p, &scheme, &settings).unwrap();
            let v = s.verdict.as_ref();
            eprintln!(
                "{name:16} {:28} claimed {:?}: fit {:?}, non-monotone {:?}, errors {:?}",
                scheme.name,
                s.claimed,
                v.map(|v| v.fit),
                v.map(|v| v.non_monotone),
                s.points.iter().map(|q| q.error).collect::<Vec<_>>()
            );
            checked[k] += 1;
            if s.holds() != Some(true) {
                failures.push(format!(
                    "{} on {name}: claim {:?} not shown",
                    scheme.name, s.claimed
                ));
            }
        }
    }
    assert!(
        checked[0] > 0 && checked[1] > 0,
        "no claims checked: {checked:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A card of your own may omit every claim (here θ = 0.6): it parses, shows as
/// "unclaimed" in the catalogue row and has no claimed order on either class.
#[test]
fn a_card_may_omit_its_claims() {
    use probcurrent::analysis::convergence::ProblemClass;
    let text = "name = \"theta-0.6\"\nsummary = \"SG + θ = 0.6\"\nflux = \"scharfetter-gummel\"\n\
                [integrator]\nkind = \"theta\"\ntheta = 0.6\n";
    let s = Scheme::from_toml(text, std::path::Path::new("theta-0.6.toml")).unwrap();
    assert_eq!(s.claims, probcurrent::Claims::default());
    assert_eq!(s.row().claims, "unclaimed");
    assert_eq!(ProblemClass::Smooth.claimed_space(&s), None);
    assert_eq!(ProblemClass::Degenerate.claimed_space(&s), None);
    // a partial table: only what is given is claimed
    let partial = format!("{text}[claims]\norder_space = 2\n");
    let s = Scheme::from_toml(&partial, std::path::Path::new("theta-0.6.toml")).unwrap();
    assert_eq!(s.claims.order_space, Some(2.0));
    assert_eq!(s.claims.positive, None);
    assert_eq!(s.row().claims, "order 2/–");
}
