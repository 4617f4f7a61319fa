//! `mc` and `compare` on two-parameter problems (`ou-2d`, `ou-2d-gradient`, `seed-2d`):
//! Monte Carlo of SGD with snapshot moments and a 2-D histogram, and the side by side
//! of the exact transfer operator and Monte Carlo. Parsing and printing only.

use std::fmt::Write as _;
use std::path::Path;

use probcurrent::analysis::montecarlo::two::{simulate_2d, Mc2Report, Mc2Settings, Start2};
use probcurrent::analysis::montecarlo::{whole_steps, McMode};
use probcurrent::error::{Error, Result};
use probcurrent::model::problem::Sampling;
use probcurrent::model::two::Problem2;
use probcurrent::reports::two_d::{side_by_side, TwoDOptions};
use probcurrent::run::solve::ModelChoice;
use probcurrent::time::transfer::two::{regions_of, Cells2, Fast2, Step2};
use probcurrent::time::transfer::{Model, TransferKind};
use serde_json::json;

use super::args::{CompareArgs, McArgs};
use super::output::{files, object, Out};

/// Histogram cells per axis of a 2-D `mc` without `--cells`.
const MC_CELLS_2D: usize = 64;
/// Cells per axis of a 2-D `compare` without `--cells`.
const COMPARE_CELLS_2D: usize = 256;

/// `--cells` when it was given on the command line, else `default` (the flag's
/// library default is the 1-D one).
fn cells_or(given: usize, default: usize) -> usize {
    let on_line = std::env::args().any(|a| a == "--cells" || a.starts_with("--cells="));
    if on_line {
        given
    } else {
        default
    }
}

/// Whether the flag `--name` was given on the command line (its library default does
/// not say).
fn flag_given(name: &str) -> bool {
    let eq = format!("{name}=");
    std::env::args().any(|a| a == name || a.starts_with(&eq))
}

/// Which methods a 2-D `compare` runs beside Monte Carlo: (Fokker–Planck, transfer-exact).
/// Without `--model` both; `--model fokker-planck` or `transfer-exact` that one;
/// `--scheme` (a 1-D card) and `transfer-gaussian` are refused with the reason.
fn compare_methods(m: &ModelChoice) -> Result<(bool, bool)> {
    if let Some(s) = &m.scheme {
        return Err(Error::invalid(
            "--scheme",
            s,
            "scheme cards are 1-D: a 2-D compare runs Fokker–Planck with backward Euler and \
             both cross-diffusion schemes (directional, nine-point)",
        ));
    }
    if !flag_given("--model") {
        return Ok((true, true));
    }
    match m.model {
        Model::FokkerPlanck => Ok((true, false)),
        Model::Transfer(TransferKind::Exact) => Ok((false, true)),
        Model::Transfer(k) => Err(Error::invalid(
            "--model",
            k.as_str(),
            "not implemented for two-parameter problems: use fokker-planck or transfer-exact",
        )),
    }
}

/// Whether `name` names a two-parameter problem (a 2-D built-in or 2-D file).
pub fn is_two_d(name: &str) -> bool {
    Problem2::is_2d(name)
}

/// Snapshot times 0, every, 2·every, …, t_end (t_end always included).
fn checkpoints(t_end: u64, every: u64) -> Vec<u64> {
    let mut c: Vec<u64> = (0..=t_end).step_by(every.max(1) as usize).collect();
    if c.last() != Some(&t_end) {
        c.push(t_end);
    }
    c
}

/// The step rule of `mode` on `p`: SGD as the problem says; gradient descent as the
/// minibatch of all n datapoints drawn without replacement (exactly G).
fn step_of(p: &Problem2, mode: McMode) -> Result<Step2> {
    let mut step = Step2::of(p)?;
    match mode {
        McMode::Sgd => {}
        McMode::Gd => {
            step.batch = p.landscape.len();
            step.sampling = Sampling::WithoutReplacement;
        }
        McMode::Gaussian => {
            return Err(Error::invalid(
                "mode",
                "gaussian",
                "the Gaussian-kick process is not implemented for two-parameter problems: \
                 use sgd or gd",
            ))
        }
    }
    Ok(step)
}

/// `probcurrent mc` on a 2-D problem.
pub fn mc(a: &McArgs, o: Out) -> Result<()> {
    let p = super::two::load(&a.problem.problem, &a.problem.set)?;
    let s = &a.settings;
    let t_end = whole_steps("t_end", s.t_end.unwrap_or(p.t_end))?;
    let every = whole_steps("every", s.every.unwrap_or(p.every))?;
    let step = step_of(&p, s.mode)?;
    let n = cells_or(s.cells, MC_CELLS_2D);
    let cells = Cells2::new(step.rect, [n, n]).map_err(|e| e.with_origin("--cells"))?;
    let (names, rects) = regions_of(&p)?;
    let settings = Mc2Settings {
        particles: s.particles,
        seed: s.seed,
        checkpoints: checkpoints(t_end, every),
        histogram: Some(cells),
        regions: rects,
    };
    let start = Start2::normal(p.initial.mean, p.initial.sd, &step.rect)?;
    let land = Fast2::of(&p);
    let r = simulate_2d(&land, &step, &start, &settings, &|_, _| {})?;
    write_mc2(&a.out, &r, &names, &cells)?;
    o.prose(&summary(&p, s.mode, &r, &names, &land));
    o.prose(&format!(
        "  histogram {n}² cells; wrote {}/{{moments.csv, histogram.csv, mc.json}}\n",
        a.out.display()
    ));
    let names_out = ["moments.csv", "histogram.csv", "mc.json"];
    o.json_text(|| {
        object(
            &r,
            &[
                ("problem", json!(p.name)),
                ("mode", json!(s.mode.as_str())),
                ("regions", json!(names)),
                ("files", files(&a.out, &names_out)),
            ],
        )
    })
}

/// The text summary of a 2-D Monte Carlo run: the last snapshot and the throughput.
fn summary(p: &Problem2, mode: McMode, r: &Mc2Report, names: &[String], land: &Fast2) -> String {
    let mut s = format!(
        "{} / monte-carlo-2d ({}): {} particles, seed {}, {:.2} s, {:.1} M particle-steps/s \
         (gradients: {})\n",
        p.name,
        mode.as_str(),
        r.particles,
        r.seed,
        r.wall_s,
        r.particle_steps as f64 / r.wall_s.max(1e-9) / 1e6,
        land.describe()
    );
    if let Some(l) = r.snapshots.last() {
        let _ = write!(
            s,
            "  t = {}: mass {:.6}, mean ({:.5} ± {:.1e}, {:.5} ± {:.1e}), cov ({:.4e}, {:.4e}, {:.4e})",
            l.t, l.mass, l.mean[0], l.mean_se[0], l.mean[1], l.mean_se[1], l.cov[0], l.cov[1], l.cov[2]
        );
        for (n, (v, e)) in names.iter().zip(l.regions.iter().zip(&l.regions_se)) {
            let _ = write!(s, ", {n} {v:.4} ± {e:.4}");
        }
        s.push('\n');
    }
    s
}

/// Write moments.csv, histogram.csv (density per cell at every snapshot) and mc.json.
fn write_mc2(dir: &Path, r: &Mc2Report, names: &[String], cells: &Cells2) -> Result<()> {
    let io = |path: std::path::PathBuf| move |source| Error::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
    let mut m = String::from("t,mass,mean_1,mean_2,cov_11,cov_12,cov_22,mean_1_se,mean_2_se");
    for n in names {
        let _ = write!(m, ",mass_{n},mass_{n}_se");
    }
    m.push('\n');
    for s in &r.snapshots {
        let _ = write!(
            m,
            "{},{},{},{},{},{},{},{},{}",
            s.t,
            s.mass,
            s.mean[0],
            s.mean[1],
            s.cov[0],
            s.cov[1],
            s.cov[2],
            s.mean_se[0],
            s.mean_se[1]
        );
        for (v, e) in s.regions.iter().zip(&s.regions_se) {
            let _ = write!(m, ",{v},{e}");
        }
        m.push('\n');
    }
    let path = dir.join("moments.csv");
    std::fs::write(&path, m).map_err(io(path.clone()))?;
    let area = cells.h(0) * cells.h(1);
    let mut h = String::from("t,w1,w2,p\n");
    for (s, hist) in r.snapshots.iter().zip(&r.histograms) {
        for (k, v) in hist.iter().enumerate() {
            let (x, y) = (
                cells.centre(0, k % cells.n[0]),
                cells.centre(1, k / cells.n[0]),
            );
            let _ = writeln!(h, "{},{x},{y},{}", s.t, v / area);
        }
    }
    let path = dir.join("histogram.csv");
    std::fs::write(&path, h).map_err(io(path.clone()))?;
    let text = object(r, &[("regions", json!(names))])?;
    let path = dir.join("mc.json");
    std::fs::write(&path, text).map_err(io(path.clone()))
}

/// `probcurrent compare` on a 2-D problem: the exact transfer operator against Monte
/// Carlo of SGD and Fokker–Planck (backward Euler, dt = 5, each cross-diffusion scheme)
/// at the snapshot times, with the schemes' positivity records; `--model` keeps one of
/// the two models (see `compare_methods`).
pub fn compare(a: &CompareArgs, o: Out) -> Result<()> {
    let p = super::two::load(&a.problem.problem, &a.problem.set)?;
    if a.mode != McMode::Sgd {
        return Err(Error::invalid(
            "mode",
            a.mode.as_str(),
            "a 2-D comparison runs the transfer operator of SGD beside SGD itself: use sgd",
        ));
    }
    let st = &a.settings;
    let t_end = whole_steps("t_end", st.t_end.unwrap_or(p.t_end))?;
    let every = whole_steps("every", st.every.unwrap_or(p.every))?;
    let times: Vec<u64> = checkpoints(t_end, every)
        .into_iter()
        .filter(|&t| t > 0)
        .collect();
    let n = cells_or(st.cells, COMPARE_CELLS_2D);
    let (fp, transfer) = compare_methods(&a.model)?;
    let opts = TwoDOptions {
        cells: if transfer { vec![n] } else { vec![] },
        particles: a.particles,
        seed: a.seed,
        times,
        fp_cells: fp.then_some(n),
        ..TwoDOptions::default()
    };
    let s = side_by_side(&p, &opts)?;
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Io {
        path: a.out.clone(),
        source,
    })?;
    let table = s.table();
    let path = a.out.join("compare.md");
    let methods = match (fp, transfer) {
        (true, true) => format!("Fokker–Planck, transfer-exact ({n}² cells)"),
        (true, false) => format!("Fokker–Planck ({n}² cells)"),
        _ => format!("transfer-exact ({n}² cells)"),
    };
    let md = format!(
        "# {}: {methods} and Monte Carlo of SGD\n\n{table}\n{}\n{}",
        p.name,
        s.positivity(),
        s.costs()
    );
    std::fs::write(&path, md).map_err(|source| Error::Io { path, source })?;
    o.prose(&format!("{}: {methods} and Monte Carlo of SGD\n", p.name));
    o.result(&table);
    o.result(&s.positivity());
    o.prose(&s.costs());
    o.prose(&format!("wrote compare.md in {}\n", a.out.display()));
    o.json_text(|| object(&s, &[("files", files(&a.out, &["compare.md"]))]))
}
