//! The 2-D problems on the command line: `solve` and `stationary` route a 2-D
//! built-in here (`ou-2d`, `ou-2d-gradient`, `seed-2d`), and `problems` lists them.
//! `--cells` counts cells per axis (default 128 for 2-D problems); `--cross` picks the
//! cross-diffusion scheme (default `directional`, the positivity-preserving one);
//! `--method2` the implicit method (default `bdf2`; `backward-euler` keeps P ≥ 0;
//! `bdf` is diffsol's adaptive BDF with `--rtol2`/`--atol2`).
//!
//! `solve` writes density.csv (t,w1,w2,p at the cell centres), moments.csv
//! (t, mean_1, mean_2, cov_11, cov_12, cov_22, mass, min_p, the region masses and,
//! where known, the exact moments), run.json and heatmap.svg (the final density with
//! arrows of the current J at a coarse lattice).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::output::{files, Out};
use probcurrent::analysis::two::{circulation_verdict, stationary, stationary_moments};
use probcurrent::error::{Error, Result};
use probcurrent::model::problem::Override;
use probcurrent::model::two::{Problem2, BUILTINS_2D};
use probcurrent::space::two::{CrossScheme, Grid2, Operator2};
use probcurrent::time::two::{propagate, Method2, Tolerances2};

/// Options that only 2-D problems use.
#[derive(Args, Debug)]
pub struct TwoOpts {
    /// 2-D problems: cross-diffusion scheme, `directional` (positivity preserving) or
    /// `nine-point`.
    #[arg(long, default_value = "directional", value_parser = CrossScheme::parse)]
    pub cross: CrossScheme,
    /// 2-D problems: implicit method, `bdf2`, `backward-euler` or `bdf` (diffsol's
    /// adaptive BDF with the sparse Jacobian; steps set by --rtol2/--atol2, not --dt).
    #[arg(long, default_value = "bdf2", value_parser = Method2::parse)]
    pub method2: Method2,
    /// 2-D problems, `--method2 bdf`: relative tolerance.
    #[arg(long, default_value_t = 1e-6)]
    pub rtol2: f64,
    /// 2-D problems, `--method2 bdf`: absolute tolerance.
    #[arg(long, default_value_t = 1e-9)]
    pub atol2: f64,
}

/// Default cells per axis of a 2-D run.
pub const DEFAULT_CELLS_2D: usize = 128;

/// Whether `name` is a 2-D problem: a 2-D built-in or a 2-D problem file.
pub fn is_2d(name: &str) -> bool {
    Problem2::is_2d(name)
}

/// The 2-D problem `name` (built-in or file) with the `--set` overrides applied; a
/// comma list of values is refused (it is what `scan` takes, which is 1-D only).
pub fn load(name: &str, sets: &[String]) -> Result<Problem2> {
    if let Some(s) = sets.iter().find(|s| Override::split_list(s).is_some()) {
        return Err(Error::invalid(
            "--set",
            s,
            "a comma list of values makes a grid of runs (`probcurrent scan`, 1-D problems only)",
        ));
    }
    let p = Problem2::resolve_with(name, sets)?;
    p.validate()?;
    Ok(p)
}

/// Whether `--cells` was given on the command line (its library default is the 1-D
/// one, so a 2-D run needs to know).
/// Whether `--cells` was given on the command line (set once by `main` from clap's
/// value source: `RunSettings::cells` carries the 1-D default otherwise).
static CELLS_GIVEN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Record whether `--cells` came from the command line.
pub fn set_cells_given(given: bool) {
    let _ = CELLS_GIVEN.set(given);
}

fn cells_given() -> bool {
    CELLS_GIVEN.get().copied().unwrap_or(false)
}

/// Cells per axis for a 2-D run: `--cells` when given, else [`DEFAULT_CELLS_2D`].
pub fn cells_2d(given: Option<usize>) -> usize {
    match given {
        Some(n) if cells_given() => n,
        _ => DEFAULT_CELLS_2D,
    }
}

/// The `problems` lines of the 2-D built-ins.
pub fn problems_lines() -> String {
    BUILTINS_2D
        .iter()
        .map(|b| format!("{:<12} {}\n", b.name, b.summary))
        .collect()
}

/// The 2-D built-ins as JSON rows.
pub fn problems_json() -> Vec<serde_json::Value> {
    BUILTINS_2D
        .iter()
        .map(|b| json!({"name": b.name, "summary": b.summary, "dimensions": 2}))
        .collect()
}

/// Settings of a 2-D solve.
pub struct Solve2 {
    /// Problem name (built-in or file).
    pub problem: String,
    /// `--set` overrides.
    pub sets: Vec<String>,
    /// Cells per axis.
    pub cells: usize,
    /// Step (default: every/10, at most t_end/20).
    pub dt: Option<f64>,
    /// Final time.
    pub t_end: Option<f64>,
    /// Snapshot interval.
    pub every: Option<f64>,
    /// Scheme options.
    pub opts: TwoOpts,
    /// `--model` and `--scheme`: only the Fokker–Planck model with the 2-D operator.
    pub model: probcurrent::run::solve::ModelChoice,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// `solve` for a 2-D problem.
pub fn solve(s: Solve2, out_dir: &Path, o: Out) -> Result<()> {
    if let Some(c) = &s.model.scheme {
        return Err(Error::invalid(
            "--scheme",
            c,
            "scheme cards are 1-D: a 2-D solve takes --cross and --method2",
        ));
    }
    if s.model.model != probcurrent::time::transfer::Model::FokkerPlanck {
        return Err(Error::invalid(
            "--model",
            s.model.model.as_str(),
            "a 2-D solve runs the Fokker–Planck model; the 2-D transfer-exact operator runs \
             in `compare` (transfer-gaussian is not implemented in 2-D)",
        ));
    }
    let problem = load(&s.problem, &s.sets)?;
    let t_end = s.t_end.unwrap_or(problem.t_end);
    let every = s
        .every
        .unwrap_or(problem.every)
        .min(t_end.max(f64::MIN_POSITIVE));
    let dt =
        s.dt.unwrap_or((every / 10.0).min(t_end / 20.0).max(f64::MIN_POSITIVE));
    let started = Instant::now();
    let grid = Grid2::for_problem(&problem, s.cells)?;
    let op = Operator2::assemble(&problem, grid, s.opts.cross)?;
    let setup = started.elapsed().as_secs_f64();
    let mut p = grid.initial_density(&problem)?;
    let mut stops = Vec::new();
    let mut k = 1;
    while (k as f64) * every < t_end * (1.0 - 1e-12) {
        stops.push(k as f64 * every);
        k += 1;
    }
    stops.push(t_end);
    fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let mut moments = moments_header(&problem);
    let mut density = String::from("t,w1,w2,p\n");
    record(&problem, &grid, 0.0, &p, &mut moments, &mut density);
    let tol = Tolerances2 {
        rtol: s.opts.rtol2,
        atol: s.opts.atol2,
    };
    let method = s.opts.method2.with_tolerances(tol);
    let stats = propagate(&op, method, &mut p, &stops, dt, |t, q| {
        record(&problem, &grid, t, q, &mut moments, &mut density)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let (mean, cov) = grid.moments(&p);
    let mass_error = grid.mass(&p) - 1.0;
    let exact = problem.exact_moments(t_end);
    for (name, text) in [("moments.csv", &moments), ("density.csv", &density)] {
        let path = out_dir.join(name);
        fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    let (jx, jy) = op.face_currents(&p);
    let svg = heatmap_svg(
        &grid,
        &p,
        &jx,
        &jy,
        &format!("{} at t = {t_end}", problem.name),
    );
    let path = out_dir.join("heatmap.svg");
    fs::write(&path, svg).map_err(|e| io(&path, e))?;
    let summary = json!({
        "problem": problem.name, "dimensions": 2, "cells_per_axis": s.cells,
        "cross": s.opts.cross, "method": method, "dt": dt, "t_end": t_end,
        "mean": mean, "cov": cov, "min_p": stats.min_p, "mass_error": mass_error,
        "exact": exact.map(|m| json!({"mean": m.mean, "cov": m.cov})),
        "positivity": op.record, "stats": stats, "setup_seconds": setup,
        "seconds": seconds,
    });
    let path = out_dir.join("run.json");
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    fs::write(&path, text).map_err(|e| io(&path, e))?;
    let steps = match method {
        Method2::Bdf(tol) => format!("bdf rtol = {:e} atol = {:e}", tol.rtol, tol.atol),
        m => format!("{} dt = {dt}", m.name()),
    };
    let mut t = format!(
        "{} (2-D) on {n}×{n} cells, cross {}, {steps}: t = {t_end}\n",
        problem.name,
        s.opts.cross.name(),
        n = s.cells
    );
    let _ = writeln!(t, "  mean        ({:.6}, {:.6})", mean[0], mean[1]);
    let _ = writeln!(
        t,
        "  covariance  [[{:.6}, {:.6}], [{:.6}, {:.6}]]",
        cov[0][0], cov[0][1], cov[1][0], cov[1][1]
    );
    if let Some(m) = exact {
        let _ = writeln!(
            t,
            "  exact mean  ({:.6}, {:.6})   |error| ≤ {:.2e}",
            m.mean[0],
            m.mean[1],
            (mean[0] - m.mean[0]).abs().max((mean[1] - m.mean[1]).abs())
        );
        let ce = (0..2)
            .flat_map(|a| (0..2).map(move |b| (a, b)))
            .map(|(a, b)| (cov[a][b] - m.cov[a][b]).abs())
            .fold(0.0, f64::max);
        let _ = writeln!(
            t,
            "  exact cov   [[{:.6}, {:.6}], [{:.6}, {:.6}]]   |error| ≤ {ce:.2e}",
            m.cov[0][0], m.cov[0][1], m.cov[1][0], m.cov[1][1]
        );
    }
    let _ = writeln!(
        t,
        "  min_p {:.3e} (negative after {} of {} steps)   mass_error {mass_error:.2e}",
        stats.min_p, stats.negative_steps, stats.steps
    );
    let r = op.record;
    let _ = writeln!(t, "  operator: {} negative off-diagonals (most negative {:.3e}); directional split clipped at {} of {} points",
        r.negative_offdiag, r.most_negative_offdiag, r.clipped_points, r.points);
    let _ = writeln!(t, "  time: set-up {setup:.3}s, {} LU factorisations {:.3}s, {} solves {:.3}s, total {seconds:.3}s",
        stats.factorisations, stats.factor_seconds, stats.steps, stats.solve_seconds);
    let _ = writeln!(
        t,
        "  wrote {}/{{moments.csv, density.csv, run.json, heatmap.svg}}",
        out_dir.display()
    );
    o.prose(&t);
    let names = ["moments.csv", "density.csv", "run.json", "heatmap.svg"];
    let mut summary = summary;
    summary["files"] = files(out_dir, &names);
    o.json(summary)
}

fn moments_header(p: &Problem2) -> String {
    let mut h = String::from("t,mean_1,mean_2,cov_11,cov_12,cov_22,mass,min_p");
    for r in &p.regions {
        let _ = write!(h, ",mass_{}", r.name);
    }
    if p.exact.is_some() {
        h += ",exact_mean_1,exact_mean_2,exact_cov_11,exact_cov_12,exact_cov_22";
    }
    h.push('\n');
    h
}

fn record(p: &Problem2, g: &Grid2, t: f64, q: &[f64], moments: &mut String, density: &mut String) {
    let (m, c) = g.moments(q);
    let min = q.iter().copied().fold(f64::INFINITY, f64::min);
    let _ = write!(
        moments,
        "{t},{},{},{},{},{},{},{min}",
        m[0],
        m[1],
        c[0][0],
        c[0][1],
        c[1][1],
        g.mass(q)
    );
    for r in &p.regions {
        let _ = write!(moments, ",{}", g.mass_in(q, r.x, r.y));
    }
    if let Some(e) = p.exact_moments(t) {
        let _ = write!(
            moments,
            ",{},{},{},{},{}",
            e.mean[0], e.mean[1], e.cov[0][0], e.cov[0][1], e.cov[1][1]
        );
    }
    moments.push('\n');
    for j in 0..g.ny {
        for i in 0..g.nx {
            let _ = writeln!(density, "{t},{},{},{}", g.xc(i), g.yc(j), q[g.idx(i, j)]);
        }
    }
}

/// `stationary` for a 2-D problem: stationary density on n and n/2 cells, the
/// circulation, its error estimate and the verdict.
pub fn stationary_cmd(
    name: &str,
    sets: &[String],
    cells: usize,
    opts: &TwoOpts,
    o: Out,
) -> Result<()> {
    let problem = load(name, sets)?;
    let v = circulation_verdict(&problem, cells, opts.cross)?;
    let s = stationary(&problem, cells, opts.cross)?;
    let (mean, cov) = stationary_moments(&s);
    let mut t = format!(
        "{} (2-D) stationary state on {cells}×{cells} cells, cross {}\n",
        problem.name,
        opts.cross.name()
    );
    let _ = writeln!(
        t,
        "  mean ({:.6}, {:.6}), covariance [[{:.6}, {:.6}], [{:.6}, {:.6}]]",
        mean[0], mean[1], cov[0][0], cov[0][1], cov[1][0], cov[1][1]
    );
    if let Some(c) = problem.exact_stationary_cov() {
        let _ = writeln!(
            t,
            "  exact covariance [[{:.6}, {:.6}], [{:.6}, {:.6}]]",
            c[0][0], c[0][1], c[1][0], c[1][1]
        );
    }
    let _ = writeln!(
        t,
        "  min P∞ {:.3e} ({} negative cells)",
        s.min_p, s.negative_cells
    );
    let _ = writeln!(
        t,
        "  circulation (mass rate of J∞ through w2 = {:.4}, w1 ≥ {:.4} to the wall):",
        s.line[0], s.line[1]
    );
    let _ = writeln!(
        t,
        "    {cells}² cells: {:.6e}   {}² cells: {:.6e}   error estimate |Φ_N − Φ_N/2|/3 = {:.2e}",
        v.circulation,
        cells / 2,
        v.circulation_coarse,
        v.error_estimate
    );
    if let Some(e) = v.exact {
        let _ = writeln!(t, "    exact: {e:.6e}");
    }
    let verdict = if v.gradient {
        "gradient (no current beyond discretisation error: detailed balance, −log P∞ is an energy)"
    } else {
        "not gradient (a circulating stationary current: no energy of Boltzmann form)"
    };
    let _ = writeln!(t, "  verdict: {verdict}");
    o.result(&t);
    o.json(
        json!({"problem": problem.name, "dimensions": 2, "cross": opts.cross,
        "mean": mean, "cov": cov, "min_p": s.min_p, "verdict": v,
        "line": {"w2": s.line[0], "w1_from": s.line[1]}}),
    )
}

/// An SVG heatmap of `p` (at most 64×64 blocks, averaged) with arrows of the current
/// (J₁, J₂ averaged to block centres) on a 16×16 lattice, lengths scaled to the largest.
pub fn heatmap_svg(g: &Grid2, p: &[f64], jx: &[f64], jy: &[f64], title: &str) -> String {
    let (w, h, m) = (520.0, 520.0, 40.0);
    let bx = g.nx.div_ceil(64);
    let by = g.ny.div_ceil(64);
    let (cx, cy) = (g.nx.div_ceil(bx), g.ny.div_ceil(by));
    let pmax = p
        .iter()
        .copied()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n", w + 2.0 * m, h + 2.0 * m);
    let _ = writeln!(s, "<text x=\"{m}\" y=\"24\">{title}: density (white 0 → dark max {pmax:.3e}), arrows = current J</text>");
    let (sw, sh) = (w / cx as f64, h / cy as f64);
    for bj in 0..cy {
        for bi in 0..cx {
            let (mut sum, mut k) = (0.0, 0);
            for j in bj * by..((bj + 1) * by).min(g.ny) {
                for i in bi * bx..((bi + 1) * bx).min(g.nx) {
                    sum += p[g.idx(i, j)];
                    k += 1;
                }
            }
            let v = (sum / k.max(1) as f64 / pmax).clamp(0.0, 1.0).sqrt();
            let c = (255.0 * (1.0 - v)) as u8;
            let _ = writeln!(s, "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"rgb({c},{c},255)\"/>",
                m + bi as f64 * sw, m + h - (bj + 1) as f64 * sh, sw + 0.3, sh + 0.3);
        }
    }
    // arrows on a 16×16 lattice of cell centres
    let (ax, ay) = (g.nx.div_ceil(16), g.ny.div_ceil(16));
    let cur = |i: usize, j: usize| {
        let j1 = if i == 0 {
            jx[j * (g.nx - 1)]
        } else if i == g.nx - 1 {
            jx[j * (g.nx - 1) + i - 1]
        } else {
            0.5 * (jx[j * (g.nx - 1) + i - 1] + jx[j * (g.nx - 1) + i])
        };
        let j2 = if j == 0 {
            jy[i]
        } else if j == g.ny - 1 {
            jy[(j - 1) * g.nx + i]
        } else {
            0.5 * (jy[(j - 1) * g.nx + i] + jy[j * g.nx + i])
        };
        [j1, j2]
    };
    let mut arrows = Vec::new();
    let mut jmax = 0.0f64;
    for j in (ay / 2..g.ny).step_by(ay.max(1)) {
        for i in (ax / 2..g.nx).step_by(ax.max(1)) {
            let c = cur(i, j);
            jmax = jmax.max(c[0].hypot(c[1]));
            arrows.push((i, j, c));
        }
    }
    let len = 0.9 * w / 16.0;
    for (i, j, c) in arrows {
        if jmax <= 0.0 {
            break;
        }
        let (x0, y0) = (
            m + (g.xc(i) - g.x[0]) / (g.x[1] - g.x[0]) * w,
            m + h - (g.yc(j) - g.y[0]) / (g.y[1] - g.y[0]) * h,
        );
        let (dx, dy) = (c[0] / jmax * len, -c[1] / jmax * len);
        if dx.hypot(dy) < 1.0 {
            continue;
        }
        let _ = writeln!(s, "<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\" stroke-width=\"1.2\" marker-end=\"url(#a)\"/>", x0 + dx, y0 + dy);
    }
    s.insert_str(s.find('\n').unwrap_or(0) + 1, "<defs><marker id=\"a\" markerWidth=\"6\" markerHeight=\"6\" refX=\"5\" refY=\"3\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\"/></marker></defs>\n");
    let _ = writeln!(
        s,
        "<text x=\"{m}\" y=\"{}\">w1 ∈ [{}, {}] →, w2 ∈ [{}, {}] ↑</text>",
        h + 2.0 * m - 10.0,
        g.x[0],
        g.x[1],
        g.y[0],
        g.y[1]
    );
    s.push_str("</svg>\n");
    s
}

/// `problems --show` for a 2-D problem: the resolved problem file.
pub fn show(name: &str, o: &Out) -> Result<()> {
    let table = Problem2::resolve(name)?.to_table()?;
    let toml =
        toml::to_string(&table).map_err(|e| Error::invalid("problem", name, e.to_string()))?;
    let text = format!(
        "# problem `{name}` with every setting explicit (read back: --problem FILE)\n{toml}"
    );
    o.result(&text);
    o.json(json!({"problem": name, "dimensions": 2, "toml": text}))
}

/// The problem-file spelling of a setting (`zero-flux`, `with-replacement`).
fn kebab(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Range and location of a quantity over the cell centres.
#[derive(Clone, Copy, Debug, serde::Serialize)]
struct Range2 {
    min: f64,
    max: f64,
    at_max: [f64; 2],
}

impl Range2 {
    fn new() -> Range2 {
        Range2 {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            at_max: [f64::NAN; 2],
        }
    }
    fn add(&mut self, v: f64, w: [f64; 2]) {
        self.min = self.min.min(v);
        if v > self.max {
            self.max = v;
            self.at_max = w;
        }
    }
}

/// The coefficient ranges `inspect` prints, over the cell centres.
struct Scan {
    d11: Range2,
    d22: Range2,
    d12: Range2,
    pe1: Range2,
    pe2: Range2,
    lam: Range2,
    singular: usize,
    zero: usize,
    first_singular: Option<[f64; 2]>,
}

/// Sample D, Σ and the cell Péclet numbers at every cell centre of `g`.
fn scan(p: &Problem2, g: &Grid2) -> Scan {
    let (mut d11, mut d22, mut d12) = (Range2::new(), Range2::new(), Range2::new());
    let (mut pe1, mut pe2, mut lam) = (Range2::new(), Range2::new(), Range2::new());
    let (mut singular, mut zero, mut first_singular) = (0usize, 0usize, None);
    for j in 0..g.ny {
        for i in 0..g.nx {
            let w = [g.xc(i), g.yc(j)];
            let (gr, d, s) = (
                p.g(w[0], w[1]),
                p.diffusion(w[0], w[1]),
                p.sigma(w[0], w[1]),
            );
            d11.add(d[0][0], w);
            d22.add(d[1][1], w);
            d12.add(d[0][1], w);
            let pe = |gk: f64, h: f64, dkk: f64| {
                let v = p.lr * gk.abs() * h;
                if dkk > 0.0 {
                    v / dkk
                } else if v > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            };
            pe1.add(pe(gr[0], g.hx(), d[0][0]), w);
            pe2.add(pe(gr[1], g.hy(), d[1][1]), w);
            let (l, _) = probcurrent::model::two::sym_eigen2(s);
            lam.add(l[0].min(l[1]), w);
            let tr = s[0][0] + s[1][1];
            let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
            if tr <= 0.0 {
                zero += 1;
            }
            if det <= 1e-12 * tr * tr {
                singular += 1;
                first_singular.get_or_insert(w);
            }
        }
    }
    Scan {
        d11,
        d22,
        d12,
        pe1,
        pe2,
        lam,
        singular,
        zero,
        first_singular,
    }
}

/// `inspect` for a 2-D problem: the grid, the ranges of D and of Σ's eigenvalues, the
/// cell Péclet numbers T|G_k| h_k / D_kk, where Σ is singular, and the operator's
/// positivity record for the chosen cross-diffusion scheme.
pub fn inspect(name: &str, sets: &[String], cells: usize, opts: &TwoOpts, o: Out) -> Result<()> {
    let p = load(name, sets)?;
    let g = Grid2::for_problem(&p, cells)?;
    let op = Operator2::assemble(&p, g, opts.cross)?;
    let Scan {
        d11,
        d22,
        d12,
        pe1,
        pe2,
        lam,
        singular,
        zero,
        first_singular,
    } = scan(&p, &g);
    let n = g.len();
    let mut t =
        format!(
        "{} (2-D, {}): {} datapoints, T = {}, B = {}, sampling {}, D = T² Σ f / 2 with f = {:.6}\n",
        p.name, p.origin, p.landscape.len(), p.lr, p.batch, kebab(&p.sampling), p.variance_factor()
    );
    let _ = writeln!(
        t,
        "  grid {}×{} cells on [{}, {}] × [{}, {}], h = ({:.4e}, {:.4e}), walls {}",
        g.nx,
        g.ny,
        g.x[0],
        g.x[1],
        g.y[0],
        g.y[1],
        g.hx(),
        g.hy(),
        kebab(&p.boundary)
    );
    for (label, r) in [
        ("D11", d11),
        ("D22", d22),
        ("D12", d12),
        ("smallest eigenvalue of Σ", lam),
    ] {
        let _ = writeln!(t, "  {label:<26} [{:.3e}, {:.3e}]", r.min, r.max);
    }
    for (label, r) in [
        ("cell Péclet T|G1| h1 / D11", pe1),
        ("cell Péclet T|G2| h2 / D22", pe2),
    ] {
        let _ = writeln!(
            t,
            "  {label:<26} [{:.3e}, {:.3e}], largest at ({:.4}, {:.4})",
            r.min, r.max, r.at_max[0], r.at_max[1]
        );
    }
    let _ = match first_singular {
        Some(w) => writeln!(t, "  Σ singular (det ≤ 1e-12 tr²) at {singular} of {n} cell centres (first at ({:.4}, {:.4})); Σ = 0 at {zero}", w[0], w[1]),
        None => writeln!(t, "  Σ non-singular at every cell centre"),
    };
    let r = op.record;
    let _ = writeln!(t, "  operator ({}): {} negative off-diagonals (most negative {:.3e}); directional split clipped at {} of {} points",
        opts.cross.name(), r.negative_offdiag, r.most_negative_offdiag, r.clipped_points, r.points);
    o.result(&t);
    o.json(
        json!({"problem": p.name, "dimensions": 2, "cells_per_axis": [g.nx, g.ny],
        "h": [g.hx(), g.hy()], "d11": d11, "d22": d22, "d12": d12, "sigma_min_eigenvalue": lam,
        "peclet_1": pe1, "peclet_2": pe2, "sigma_singular_cells": singular,
        "sigma_zero_cells": zero, "cross": opts.cross, "positivity": op.record}),
    )
}
