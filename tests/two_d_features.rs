//! Two-parameter problems from formulas, datasets and problem files: the formula
//! landscape reproduces the built-in `ou-2d` to rounding, problem files are read
//! strictly with errors naming the field, `problems --show` round-trips, `--set`
//! overrides, and `inspect` / `mc` / `stationary` take 2-D files. Cheap: small grids.

use std::path::{Path, PathBuf};
use std::process::Command;

use probcurrent::model::two::{FormulaLandscape2, Landscape2, Problem2, ProblemFile2};
use probcurrent::space::two::{CrossScheme, Grid2, Operator2};
use probcurrent::time::two::{propagate, Method2};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/problems/ou-2d-formulas.toml")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("probcurrent-2df-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cli(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_probcurrent"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The density at t_end of a backward-Euler run on n² cells.
fn run(p: &Problem2, n: usize, t_end: f64) -> Vec<f64> {
    let g = Grid2::for_problem(p, n).unwrap();
    let op = Operator2::assemble(p, g, CrossScheme::Directional).unwrap();
    let mut q = g.initial_density(p).unwrap();
    propagate(
        &op,
        Method2::BackwardEuler,
        &mut q,
        &[t_end],
        0.25,
        |_, _| {},
    )
    .unwrap();
    q
}

#[test]
fn ou2d_as_formulas_reproduces_the_builtin_to_rounding() {
    let f = Problem2::from_file(&example()).unwrap();
    let b = Problem2::builtin("ou-2d").unwrap();
    assert_eq!(f.landscape.len(), 4);
    // G and Σ agree at every point of a lattice to rounding
    for i in 0..7 {
        for j in 0..7 {
            let (w1, w2) = (-3.0 + i as f64, -3.0 + j as f64);
            let (gf, gb) = (f.g(w1, w2), b.g(w1, w2));
            let (sf, sb) = (f.sigma(w1, w2), b.sigma(w1, w2));
            for k in 0..2 {
                assert!(
                    (gf[k] - gb[k]).abs() <= 1e-14 * (1.0 + gb[k].abs()),
                    "{gf:?} {gb:?}"
                );
                for l in 0..2 {
                    assert!((sf[k][l] - sb[k][l]).abs() <= 1e-14, "{sf:?} {sb:?}");
                }
            }
        }
    }
    // and the solved densities agree to rounding
    let (qf, qb) = (run(&f, 24, 5.0), run(&b, 24, 5.0));
    let top = qb.iter().copied().fold(0.0f64, f64::max);
    let worst = qf
        .iter()
        .zip(&qb)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    assert!(
        top > 0.1 && worst <= 1e-12 * top,
        "worst {worst:e} of {top}"
    );
    // the region given with only w1 spans the domain along w2
    assert_eq!(f.regions[0].y, [-3.0, 3.0]);
}

#[test]
fn show_round_trips_every_builtin_and_the_formula_file() {
    let dir = tmp("show");
    for name in [
        "ou-2d",
        "ou-2d-gradient",
        "seed-2d",
        example().to_str().unwrap(),
    ] {
        let p = Problem2::resolve(name).unwrap();
        let text = toml::to_string(&p.to_table().unwrap()).unwrap();
        let path = dir.join("back.toml");
        std::fs::write(&path, &text).unwrap();
        let q = Problem2::from_file(&path).unwrap();
        assert_eq!(
            (q.lr, q.batch, q.x, q.y, q.initial, q.t_end, q.every),
            (p.lr, p.batch, p.x, p.y, p.initial, p.t_end, p.every)
        );
        assert_eq!(
            (q.name.as_str(), q.regions.len()),
            (p.name.as_str(), p.regions.len())
        );
        assert_eq!(q.exact, p.exact, "{name}");
        assert_eq!(q.sigma(0.9, 0.1), p.sigma(0.9, 0.1), "{name}");
    }
    let (ok, out, err) = cli(&["problems", "--show", "seed-2d"], &dir);
    assert!(ok, "{err}");
    assert!(
        out.contains("dimensions = 2") && out.contains("kind = \"seed\""),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_errors_name_the_field() {
    let dir = tmp("errors");
    let good = std::fs::read_to_string(example()).unwrap();
    let cases = [
        ("lr = 0.1", "lr = -1", "lr = -1"),
        ("batch = 1", "bach = 1", "unknown key `bach`"),
        (
            "domain = [[-3, 3], [-3, 3]]",
            "domain = [[-3, 3]]",
            "domain: need",
        ),
        ("sd = [0.2, 0.2]", "sd = [0.2]", "initial.sd"),
        ("0.6*w2)\",\n", "0.6*w3)\",\n", "unknown variable `w3`"),
        ("dimensions = 2", "dimensions = 3", "dimensions = 3"),
        ("t_end = 20", "", "missing field `t_end`"),
        ("w1 = [0, 3]", "w1 = [3, 0]", "regions `right`.w1"),
        (
            "kind = \"formulas\"",
            "kind = \"formula\"",
            "unknown variant `formula`",
        ),
    ];
    for (from, to, want) in cases {
        assert!(good.contains(from), "{from}");
        let path = dir.join("bad.toml");
        std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
        let e = Problem2::from_file(&path).unwrap_err().to_string();
        assert!(e.contains(want), "{from} → {to}: {e}");
        assert!(Problem2::is_2d(path.to_str().unwrap()));
    }
    // a base that is neither a 2-D built-in nor a file
    let path = dir.join("base.toml");
    std::fs::write(&path, "dimensions = 2\nbase = \"seed\"\n").unwrap();
    let e = Problem2::from_file(&path).unwrap_err().to_string();
    assert!(e.contains("base = \"seed\"") && e.contains("ou-2d"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn base_and_set_override_fields_and_blame_the_override() {
    let dir = tmp("base");
    let path = dir.join("fast.toml");
    std::fs::write(&path, "base = \"ou-2d\"\nlr = 0.2\nbatch = 2\n").unwrap();
    assert!(Problem2::is_2d(path.to_str().unwrap()));
    let p = Problem2::from_file(&path).unwrap();
    assert_eq!((p.lr, p.batch, p.t_end), (0.2, 2, 20.0));
    assert!(p.exact.is_some(), "the base's exact solution is kept");
    let q = Problem2::resolve_with("ou-2d", &["lr=0.2".into(), "batch=2".into()]).unwrap();
    assert_eq!(q.diffusion(0.3, 0.1), p.diffusion(0.3, 0.1));
    let e = Problem2::resolve_with("ou-2d", &["lr=0.2".into(), "batch=0".into()])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--set batch=0") && e.contains("batch"), "{e}");
    let e = Problem2::resolve_with("seed-2d", &["noise_scale=2".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("noise_scale"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dataset_landscape_and_without_replacement_factor() {
    let dir = tmp("data");
    std::fs::write(dir.join("d.csv"), "x,y\n1,0\n-1,1\n2,2\n0.5,-1\n").unwrap();
    let toml = "dimensions = 2\nlr = 0.1\nbatch = 2\nsampling = \"without-replacement\"\n\
        domain = [[-2, 2], [-2, 2]]\nt_end = 1\n[initial]\nmean = [0, 0]\nsd = [0.3, 0.3]\n\
        [landscape]\nkind = \"dataset\"\ncsv = \"d.csv\"\nloss = \"0.5*(w1*x + w2 - y)^2\"\n";
    std::fs::write(dir.join("d.toml"), toml).unwrap();
    let p = Problem2::from_file(&dir.join("d.toml")).unwrap();
    let rows = [[1.0, 0.0], [-1.0, 1.0], [2.0, 2.0], [0.5, -1.0]];
    let (w1, w2) = (0.4, -0.3);
    // ∇l_j = r_j (x_j, 1), r_j = w1 x_j + w2 − y_j; population mean and covariance
    let grads: Vec<[f64; 2]> = rows
        .iter()
        .map(|[x, y]| {
            let r = w1 * x + w2 - y;
            [r * x, r]
        })
        .collect();
    let m = [0, 1].map(|k| grads.iter().map(|g| g[k]).sum::<f64>() / 4.0);
    let c = |a: usize, b: usize| {
        grads
            .iter()
            .map(|g| (g[a] - m[a]) * (g[b] - m[b]))
            .sum::<f64>()
            / 4.0
    };
    let g = p.g(w1, w2);
    assert!((g[0] - m[0]).abs() < 1e-14 && (g[1] - m[1]).abs() < 1e-14);
    // f = (n − B)/((n − 1) B) = 2/6 without replacement
    assert!((p.variance_factor() - 1.0 / 3.0).abs() < 1e-15);
    let d = p.diffusion(w1, w2);
    let k = 0.01 / 3.0 / 2.0;
    for (a, b) in [(0, 0), (0, 1), (1, 1)] {
        assert!((d[a][b] - k * c(a, b)).abs() < 1e-15, "{d:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formula_landscape_partials_are_exact() {
    let l = FormulaLandscape2::from_formulas(
        &["exp(-(w1-1)^2 - 3*w2^2)".to_string(), "w1*w2".to_string()],
        "",
    )
    .unwrap();
    let (a, b): (f64, f64) = (0.7, 0.2);
    let e = (-(a - 1.0).powi(2) - 3.0 * b * b).exp();
    let g = l.grad_j(0, a, b);
    assert!((g[0] + 2.0 * (a - 1.0) * e).abs() < 1e-15);
    assert!((g[1] + 6.0 * b * e).abs() < 1e-15);
    assert_eq!(l.grad_j(1, a, b), [b, a]);
    // a file with the same formulas is accepted as written
    let file: ProblemFile2 = toml::from_str(
        "dimensions = 2\nlr = 0.1\nbatch = 1\ndomain = [[-1, 2], [-1, 1]]\nt_end = 4\n\
         [initial]\nmean = [0.5, 0]\nsd = [0.2, 0.2]\n[landscape]\nkind = \"formulas\"\n\
         losses = [\"exp(-(w1-1)^2 - 3*w2^2)\", \"w1*w2\"]\n",
    )
    .unwrap();
    let p = file.build(Path::new("."), "inline").unwrap();
    assert_eq!(p.every, 0.2, "every defaults to t_end / 20");
    assert_eq!(p.landscape.grad_j(1, a, b), [b, a]);
}

#[test]
fn cli_routes_2d_files_and_inspect_reports_singular_sigma() {
    let dir = tmp("cli");
    let ex = example();
    let ex = ex.to_str().unwrap();
    let (ok, out, err) = cli(
        &[
            "solve",
            "--problem",
            ex,
            "--cells",
            "16",
            "--t-end",
            "2",
            "--out",
            "s",
        ],
        &dir,
    );
    assert!(
        ok && out.contains("ou-2d-formulas (2-D) on 16×16"),
        "{out}{err}"
    );
    let (ok, out, err) = cli(
        &[
            "mc",
            "--problem",
            ex,
            "--particles",
            "2000",
            "--t-end",
            "4",
            "--out",
            "m",
        ],
        &dir,
    );
    assert!(ok && out.contains("monte-carlo-2d"), "{out}{err}");
    let (ok, out, err) = cli(&["stationary", "--problem", ex, "--cells", "24"], &dir);
    assert!(ok && out.contains("verdict: not gradient"), "{out}{err}");
    let (ok, out, err) = cli(&["inspect", "--problem", "seed-2d", "--cells", "32"], &dir);
    assert!(ok, "{err}");
    assert!(
        out.contains("Σ singular (det ≤ 1e-12 tr²) at 1024 of 1024"),
        "{out}"
    );
    assert!(out.contains("cell Péclet"), "{out}");
    let (ok, out, err) = cli(
        &[
            "inspect",
            "--problem",
            ex,
            "--cells",
            "32",
            "--set",
            "lr=0.2",
        ],
        &dir,
    );
    assert!(
        ok && out.contains("T = 0.2") && out.contains("non-singular"),
        "{out}{err}"
    );
    let (ok, _, err) = cli(
        &[
            "solve",
            "--problem",
            "ou-2d",
            "--set",
            "lr=0.1,0.2",
            "--out",
            "x",
        ],
        &dir,
    );
    assert!(!ok && err.contains("scan"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_honours_model_and_refuses_scheme() {
    let dir = tmp("compare");
    let base = [
        "compare",
        "--problem",
        "ou-2d",
        "--cells",
        "16",
        "--t-end",
        "4",
        "--every",
        "2",
        "--particles",
        "2000",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        cli(&v, &dir)
    };
    let (ok, all, err) = with(&["--out", "all"]);
    assert!(
        ok && all.contains("transfer-exact 16²") && all.contains("Fokker–Planck 16²"),
        "{all}{err}"
    );
    let (ok, te, err) = with(&["--model", "transfer-exact", "--out", "te"]);
    assert!(
        ok && te.contains("transfer-exact 16²") && !te.contains("Fokker–Planck 16²"),
        "{te}{err}"
    );
    let (ok, fp, err) = with(&["--model", "fokker-planck", "--out", "fp"]);
    assert!(
        ok && !fp.contains("transfer-exact 16²") && fp.contains("Fokker–Planck 16²"),
        "{fp}{err}"
    );
    let (ok, _, err) = with(&["--model", "transfer-gaussian", "--out", "g"]);
    assert!(!ok && err.contains("transfer-gaussian"), "{err}");
    let (ok, _, err) = with(&["--scheme", "sg-be", "--out", "s"]);
    assert!(
        !ok && err.contains("--scheme") && err.contains("1-D"),
        "{err}"
    );
    let (ok, _, err) = cli(
        &[
            "solve",
            "--problem",
            "ou-2d",
            "--model",
            "transfer-exact",
            "--out",
            "x",
        ],
        &dir,
    );
    assert!(!ok && err.contains("--model"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_2d_solve_refuses_a_momentum_instead_of_ignoring_it() {
    let dir = tmp("momentum");
    let args = [
        "solve",
        "--problem",
        "ou-2d",
        "--cells",
        "8",
        "--t-end",
        "1",
        "--momentum",
        "0.9",
        "--out",
        "m",
    ];
    let (ok, _, err) = cli(&args, &dir);
    assert!(
        !ok && err.contains("--momentum") && err.contains("1-D"),
        "{err}"
    );
}
