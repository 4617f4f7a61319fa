//! Non-uniform grids: property tests over random edge sets (neighbouring cells up to
//! 1000 times apart) that every conservative card keeps the mass Σ h_i P_i and every
//! positivity claim holds; the exact discrete stationary state on a graded grid; the
//! `auto` grid and the `[grid]` table of problem files.

use probcurrent::model::grid_choice::{GridChoice, GridKind};
use probcurrent::scheme::{catalogue, Positivity, StepKind};
use probcurrent::space::auto::{auto_grid, grid_for};
use probcurrent::space::flux;
use probcurrent::{run, Grid, Operator, Outcome, Problem, RunSettings};
use proptest::prelude::*;

/// Faces on [a, b] from cell-width exponents: cell i has width ∝ 1000^{bit_i}·(1 + u_i),
/// so neighbouring cells differ by up to a factor 2000.
fn edges(a: f64, b: f64, bits: &[(bool, f64)]) -> Vec<f64> {
    let w: Vec<f64> = bits
        .iter()
        .map(|&(big, u)| if big { 1000.0 } else { 1.0 } * (1.0 + u))
        .collect();
    let total: f64 = w.iter().sum();
    let mut out = vec![a];
    let mut acc = 0.0;
    for v in &w[..w.len() - 1] {
        acc += v;
        out.push(a + (b - a) * acc / total);
    }
    out.push(b);
    out
}

/// The rounding bound of the mass drift in `steps` fixed steps (as in tests/properties.rs:
/// 4ε(1 + 2 dt max|A_ii|) per step, floor 1e-12).
fn mass_tolerance(op: &Operator, dt: Option<f64>, steps: u64) -> f64 {
    let Some(dt) = dt else { return 1e-12 };
    1e-12 + steps as f64 * 4.0 * f64::EPSILON * (1.0 + 2.0 * dt / op.explicit_limit())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every card claiming conservation keeps Σ h_i P_i to rounding on random edge sets,
    /// and every positivity claim holds (any step for `always`, half the explicit limit
    /// for `below-limit`).
    #[test]
    fn conservative_cards_keep_mass_and_positive_cards_stay_positive(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 8..40),
        which in 0usize..2,
        log_dt in -2.0f64..1.0,
        steps in 1u64..6,
    ) {
        let p = Problem::builtin(["ou", "seed"][which]).unwrap();
        let e = edges(p.a, p.b, &bits);
        let grid = Grid::from_edges(e.clone(), "test").unwrap();
        for scheme in catalogue().unwrap() {
            let op = Operator::assemble(&p, grid.clone(), scheme.build_flux().unwrap().as_ref())
                .unwrap();
            let limit = op.explicit_limit();
            let dt = match scheme.step_kind() {
                StepKind::Explicit => Some(0.5 * limit),
                StepKind::Implicit => Some(10f64.powf(log_dt)),
                _ => None,
            };
            let t_end = dt.map_or(50.0 * limit, |d| steps as f64 * d);
            let settings = RunSettings {
                cells: grid.n,
                edges: Some(e.clone().into()),
                dt,
                t_end: Some(t_end),
                every: Some(t_end),
                ..Default::default()
            };
            let r = run(&p, &scheme, &settings).unwrap();
            prop_assert_eq!(r.grid.n, grid.n);
            if scheme.claims.conservative == Some(true) {
                let me = r.mass_error.unwrap();
                let tol = mass_tolerance(&op, dt, r.stats.steps);
                prop_assert!(me.abs() <= tol, "{}: mass error {:e} > {:e}", scheme.name, me, tol);
            }
            if matches!(scheme.claims.positive, Some(Positivity::Always | Positivity::BelowLimit)) {
                prop_assert!(r.min_p >= 0.0, "{}: min_p {:e}", scheme.name, r.min_p);
                prop_assert!(
                    !matches!(r.outcome, Outcome::Negative | Outcome::Diverged | Outcome::Failed),
                    "{}: {:?} {:?}", scheme.name, r.outcome, r.reason
                );
            }
        }
    }

    /// The h-weighted columns of every M-matrix flux's operator sum to zero and its
    /// off-diagonals are non-negative, on random edge sets.
    #[test]
    fn weighted_columns_sum_to_zero(
        bits in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 4..60),
    ) {
        let p = Problem::builtin("seed").unwrap();
        let grid = Grid::from_edges(edges(p.a, p.b, &bits), "test").unwrap();
        let h = grid.widths();
        for info in flux::FLUXES.iter().filter(|f| f.m_matrix) {
            let op = Operator::assemble(&p, grid.clone(), (info.build)().as_ref()).unwrap();
            let a = &op.a;
            let n = a.n();
            for j in 0..n {
                let mut s = h[j] * a.diag[j];
                let mut scale = (h[j] * a.diag[j]).abs();
                if j > 0 {
                    s += h[j - 1] * a.upper[j - 1];
                    scale += (h[j - 1] * a.upper[j - 1]).abs();
                    prop_assert!(a.upper[j - 1] >= 0.0);
                }
                if j + 1 < n {
                    s += h[j + 1] * a.lower[j + 1];
                    scale += (h[j + 1] * a.lower[j + 1]).abs();
                    prop_assert!(a.lower[j + 1] >= 0.0);
                }
                prop_assert!(s.abs() <= 1e-13 * scale.max(f64::MIN_POSITIVE),
                    "{}: column {j} sums to {s:e} (scale {scale:e})", info.name);
            }
        }
    }
}

/// On `ou` (D > 0 everywhere) the well-balanced SG operator's null vector on a graded
/// grid is the closed form P_s ∝ (1/D) exp(−T ∫ G/D) at the centres.
#[test]
fn sg_null_vector_is_exact_on_a_graded_grid() {
    let p = Problem::builtin("ou").unwrap();
    let n = 120;
    let e: Vec<f64> = (0..=n)
        .map(|i| {
            let u = i as f64 / n as f64;
            p.a + (p.b - p.a) * (u + 0.15 * (std::f64::consts::TAU * u).sin() / 1.5)
        })
        .collect();
    let grid = Grid::from_edges(e, "test").unwrap();
    let op = Operator::assemble(
        &p,
        grid.clone(),
        flux::by_name("scharfetter-gummel").unwrap().as_ref(),
    )
    .unwrap();
    let q = op.null_vector().unwrap();
    assert!((grid.mass(&q) - 1.0).abs() < 1e-13);
    // closed form: exponent accumulated from the first centre
    let c: Vec<f64> = grid.centres();
    let mut lnp = vec![-p.coeffs(c[0]).d.ln()];
    let mut phi = 0.0;
    for i in 1..n {
        phi += probcurrent::space::operator::drift_integral(&p, c[i - 1], c[i]).unwrap();
        lnp.push(phi - p.coeffs(c[i]).d.ln());
    }
    let r0 = q[0].ln() - lnp[0];
    for i in 0..n {
        let dev = (q[i].ln() - lnp[i] - r0).abs();
        assert!(dev < 1e-8, "cell {i}: log deviation {dev:e}");
    }
}

/// The auto grid of every built-in problem is a valid grid of the requested size on the
/// problem's domain, and on `seed` its smallest cells sit at the pit and at the point
/// mass W = 2.
#[test]
fn auto_grids_are_valid_and_resolve_seed_features() {
    for b in probcurrent::model::problem::BUILTINS {
        let p = Problem::builtin(b.name).unwrap();
        let g = auto_grid(&p, 300).unwrap();
        assert_eq!(g.n, 300, "{}", b.name);
        assert_eq!((g.a, g.b), (p.a, p.b), "{}", b.name);
        assert!(g.widths().iter().all(|h| *h > 0.0), "{}", b.name);
    }
    let seed = Problem::builtin("seed").unwrap();
    let g = auto_grid(&seed, 600).unwrap();
    let ((i_lo, h_lo), (_, h_hi)) = g.extreme_cells();
    assert!(
        (g.centre(i_lo) - 2.0).abs() < 1e-3,
        "smallest at {}",
        g.centre(i_lo)
    );
    assert!(h_hi / h_lo > 100.0);
    let pit = g.width(g.locate(1.0075));
    let uniform = (seed.b - seed.a) / 600.0;
    assert!(
        pit < 0.5 * uniform,
        "pit cell {pit:e} vs uniform {uniform:e}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A `[grid]` table: explicit edges and a CSV load, `--grid` overrides the file, and
/// bad edges are refused naming the problem.
#[test]
fn grid_tables_load_and_bad_edges_are_refused() {
    let dir = std::env::temp_dir().join(format!("probcurrent-grid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = write(
        &dir,
        "ok.toml",
        "base = \"ou\"\n[grid]\nkind = \"edges\"\nedges = [-1.0, 0.0, 0.5, 1.0, 2.0]\n",
    );
    let p = Problem::resolve(ok.to_str().unwrap()).unwrap();
    assert!(matches!(p.grid, GridChoice::Edges(_)));
    let g = grid_for(&p, None, 600).unwrap();
    assert_eq!((g.n, g.width(0)), (4, 1.0));
    assert!(grid_for(&p, Some(GridKind::Uniform), 50)
        .unwrap()
        .is_uniform());
    write(&dir, "e.csv", "edge\n-1\n0\n1\n1.5\n2\n");
    let csv = write(
        &dir,
        "csv.toml",
        "base = \"ou\"\n[grid]\nkind = \"edges\"\ncsv = \"e.csv\"\n",
    );
    let g = grid_for(&Problem::resolve(csv.to_str().unwrap()).unwrap(), None, 1).unwrap();
    assert_eq!(g.faces(), vec![-1.0, 0.0, 1.0, 1.5, 2.0]);
    for (name, table, needle) in [
        (
            "dec.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.5, 0.0, 2.0]",
            "strictly increasing",
        ),
        (
            "span.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.0, 0.5, 1.9]",
            "domain",
        ),
        (
            "few.toml",
            "kind = \"edges\"\nedges = [-1.0, 0.0, 2.0]",
            "at least 4",
        ),
        ("kind.toml", "kind = \"fancy\"", "unknown kind"),
        (
            "both.toml",
            "kind = \"auto\"\nedges = [-1.0, 0.0, 1.0, 2.0]",
            "belong to",
        ),
    ] {
        let path = write(&dir, name, &format!("base = \"ou\"\n[grid]\n{table}\n"));
        let e = Problem::resolve(path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && e.contains(name), "{name}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
