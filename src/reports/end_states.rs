//! The end-states report: stationary densities, the point mass on `seed`, mean
//! first-passage times by every method, and the flat-minimum bias on `wide-narrow`.
//!
//! [`compute`] runs the studies and returns typed results ([`EndStates`]); [`render`]
//! writes `<dir>/<name>.md` with SVG plots in `<dir>/<name>/`. The numerics live in
//! [`crate::analysis::endstate`]: the closed-form stationary density P_s ∝ e^{Φ}/D
//! against the null vector of every flux, the exact long-time limit of the operator's
//! Markov chain where the noise vanishes, the double-integral MFPT formula (Gardiner,
//! *Handbook of Stochastic Methods*, §5.2.7) against the discrete operator, Kramers and
//! Monte Carlo, and the density ratio between a wide and a narrow minimum of equal depth.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::analysis::critical::{multipliers, CriticalKind};
use crate::analysis::endstate::flat_minimum::{FlatMinimumPoint, McWindow};
use crate::analysis::endstate::numfmt::{num, steps};
use crate::analysis::endstate::{
    escape, stationary, EscapeOptions, EscapeReport, McEscape, StationaryReport, PDE_FLUX,
};
use crate::analysis::montecarlo::{McMode, McReport, McSettings};
use crate::error::{Error, Result};
use crate::model::problem::{Problem, Region};
use crate::model::wide_narrow::{
    wide_narrow_barrier, wide_narrow_problem, CENTRE_WINDOW, WIDE_NARROW_SUMMARY,
};
use crate::reports::plot::{line_plot, Scale, Series};
use crate::reports::validation::{Runner, Summary};
use crate::run::{RunReport, RunSettings};
use crate::scheme::Scheme;

/// Cells of the stationary analyses and of the Fokker–Planck run on `seed`.
const CELLS: usize = 1200;
/// Learning rates of the escape study and of the flat-minimum study.
const LRS: [f64; 3] = [0.005, 0.01, 0.02];
/// Batch sizes of the flat-minimum study.
const BATCHES: [usize; 3] = [1, 2, 4];
/// (T, B, particles) of the flat-minimum Monte Carlo runs: B/T = 100 at two T, B/T = 50
/// and a smaller T.
const FLAT_MC: [(f64, usize, usize); 4] = [
    (0.005, 1, 25_000),
    (0.01, 1, 50_000),
    (0.02, 2, 50_000),
    (0.02, 1, 50_000),
];

/// Section 1: stationary densities on `ou` and `wide-narrow`.
pub struct StationaryStudy {
    /// `ou` (G = W, S² = 1).
    pub ou: StationaryReport,
    /// `wide-narrow`.
    pub wide_narrow: StationaryReport,
    /// Exact stationary variance of `ou`, T/2.
    pub var_ou: f64,
    /// The exact Gaussian at the `ou` cell centres.
    pub gauss: Vec<f64>,
    /// Largest relative deviation of the closed form from the Gaussian where it exceeds 10⁻¹².
    pub gauss_dev: f64,
}

/// Section 2: the point mass on `seed`.
pub struct PointMassStudy {
    /// The stationary analysis of `seed`.
    pub stationary: StationaryReport,
    /// The point mass (location, long-time mass); (2, NaN) when none was found.
    pub atom: (f64, f64),
    /// Index of the region `atom` (three cells around the point mass) in the runs.
    pub region: usize,
    /// The Fokker–Planck run with that region.
    pub pde: RunReport,
    /// The Monte Carlo run of SGD with that region.
    pub mc: McReport,
    /// The noisy pit minimum W*.
    pub wstar: f64,
    /// Per-datapoint SGD multipliers at W* and their Lyapunov exponent.
    pub multipliers: (Vec<f64>, f64),
}

/// Section 3: mean first-passage times.
pub struct EscapeStudy {
    /// `wide-narrow` from −1 past 0.5 at each learning rate of [`LRS`].
    pub wide_narrow: Vec<(f64, EscapeReport)>,
    /// `seed` from the pit minimum past 1.3.
    pub seed: EscapeReport,
    /// The pit minimum of `seed`.
    pub wstar: f64,
    /// T·G′ at the pit minimum of `seed`.
    pub seed_lr_gprime: f64,
}

/// One Monte Carlo check of the flat-minimum bias.
pub struct FlatMc {
    /// Index into [`FlatStudy::points`].
    pub point: usize,
    /// Particles.
    pub particles: usize,
    /// Steps simulated.
    pub t_end: f64,
    /// What the run measured.
    pub window: McWindow,
}

/// Section 4: the flat-minimum bias across T and B.
pub struct FlatStudy {
    /// One point per (T, B), T outer.
    pub points: Vec<FlatMinimumPoint>,
    /// The Monte Carlo checks, in the order of `points`.
    pub mc: Vec<FlatMc>,
}

/// Everything the end-states report shows.
pub struct EndStates {
    /// Section 1.
    pub stationary: StationaryStudy,
    /// Section 2.
    pub point_mass: PointMassStudy,
    /// Section 3.
    pub escape: EscapeStudy,
    /// Section 4.
    pub flat: FlatStudy,
}

/// The end-states report as `<dir>/<name>.md` with SVG plots in `<dir>/<name>/`:
/// [`compute`] then [`render`]. About 30 s release on two cores.
pub fn end_states_report(
    runner: &dyn Runner,
    dir: &Path,
    name: &str,
    command: &str,
) -> Result<Summary> {
    let clock = Instant::now();
    let studies = compute(runner)?;
    let mut sum = render(&studies, dir, name, command)?;
    sum.wall_s = clock.elapsed().as_secs_f64();
    Ok(sum)
}

/// Run every study of the report.
pub fn compute(runner: &dyn Runner) -> Result<EndStates> {
    let stationary = stationary_study()?;
    let point_mass = point_mass_study(runner)?;
    let escape = escape_study(point_mass.wstar)?;
    let flat = flat_study(runner)?;
    Ok(EndStates {
        stationary,
        point_mass,
        escape,
        flat,
    })
}

/// Stationary densities of `ou` (against the exact Gaussian N(0, T/2)) and `wide-narrow`.
fn stationary_study() -> Result<StationaryStudy> {
    let ou = Problem::builtin("ou")?;
    let r_ou = stationary(&ou, CELLS)?;
    let r_wn = stationary(&wide_narrow_problem(), CELLS)?;
    // OU against the exact Gaussian N(0, T S²/(2B c))
    let var_ou = ou.lr / 2.0;
    let gauss: Vec<f64> = r_ou
        .grid
        .centres()
        .iter()
        .map(|x| (-x * x / (2.0 * var_ou)).exp() / (2.0 * std::f64::consts::PI * var_ou).sqrt())
        .collect();
    let f_ou = r_ou.formula.clone().unwrap_or_default();
    let gauss_dev = f_ou
        .iter()
        .zip(&gauss)
        .filter(|(_, g)| **g > 1e-12)
        .map(|(f, g)| ((f - g) / g).abs())
        .fold(0.0, f64::max);
    Ok(StationaryStudy {
        ou: r_ou,
        wide_narrow: r_wn,
        var_ou,
        gauss,
        gauss_dev,
    })
}

/// The point mass on `seed`: its long-time mass, and the approach to it by the
/// Fokker–Planck model and by SGD.
fn point_mass_study(runner: &dyn Runner) -> Result<PointMassStudy> {
    let seed = Problem::builtin("seed")?;
    let r_seed = stationary(&seed, CELLS)?;
    let h = r_seed.grid.h();
    let atom = r_seed
        .point_masses
        .first()
        .map_or((2.0, f64::NAN), |p| (p.w, p.mass));
    let mut sp = seed.clone();
    sp.regions.push(Region {
        name: "atom".into(),
        lo: Some(atom.0 - 3.0 * h),
        hi: Some(atom.0 + 3.0 * h),
    });
    let region = sp.regions.len() - 1;
    let scheme = Scheme::resolve(PDE_FLUX)?;
    let pde = runner.solve(
        &sp,
        &scheme,
        &RunSettings {
            cells: CELLS,
            dt: Some(1.0),
            t_end: Some(4000.0),
            every: Some(100.0),
            keep_densities: false,
            ..RunSettings::default()
        },
    )?;
    let mc = runner.mc(
        &sp,
        &McSettings {
            particles: 20_000,
            mode: McMode::Sgd,
            t_end: Some(1000.0),
            every: Some(25.0),
            cells: 300,
            ..McSettings::default()
        },
    )?;
    let wstar = r_seed
        .critical
        .iter()
        .find(|c| c.kind == CriticalKind::NoisyMinimum)
        .map_or(f64::NAN, |c| c.w);
    Ok(PointMassStudy {
        stationary: r_seed,
        atom,
        region,
        pde,
        mc,
        wstar,
        multipliers: multipliers(&seed, wstar),
    })
}

/// Escape times on `wide-narrow` across T, and from the pit of `seed` at `wstar`.
fn escape_study(wstar: f64) -> Result<EscapeStudy> {
    let wn = wide_narrow_problem();
    let mut rows = Vec::new();
    for &lr in &LRS {
        let mut p = wn.clone();
        p.lr = lr;
        let e = escape(
            &p,
            -1.0,
            0.5,
            &EscapeOptions {
                particles: 3000,
                ..EscapeOptions::default()
            },
        )?;
        rows.push((lr, e));
    }
    let seed = Problem::builtin("seed")?;
    let e_seed = escape(
        &seed,
        wstar,
        1.3,
        &EscapeOptions {
            particles: 4000,
            ..EscapeOptions::default()
        },
    )?;
    Ok(EscapeStudy {
        wide_narrow: rows,
        seed: e_seed,
        wstar,
        seed_lr_gprime: seed.lr * seed.landscape.stats(wstar).g_prime,
    })
}

/// The flat-minimum bias at every (T, B) of [`LRS`] × [`BATCHES`], with Monte Carlo of
/// SGD at the points of [`FLAT_MC`].
fn flat_study(runner: &dyn Runner) -> Result<FlatStudy> {
    let wn = wide_narrow_problem();
    let mut points = Vec::new();
    let mut mc = Vec::new();
    for &lr in &LRS {
        for &b in &BATCHES {
            let pt = FlatMinimumPoint::compute(&wn, lr, b, 1000)?;
            if let Some(&(_, _, particles)) = FLAT_MC
                .iter()
                .find(|&&(l, bb, _)| (l - lr).abs() < 1e-12 && bb == b)
            {
                let (p, settings) = pt.mc_setup(&wn, particles);
                let report = runner.mc(&p, &settings)?;
                if let Some(window) = McWindow::from_report(&report) {
                    mc.push(FlatMc {
                        point: points.len(),
                        particles,
                        t_end: pt.mc_steps(),
                        window,
                    });
                }
            }
            points.push(pt);
        }
    }
    Ok(FlatStudy { points, mc })
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write the report of `studies` to `<dir>/<name>.md` and its plots to `<dir>/<name>/`;
/// the summary's lines are the findings (its `wall_s` is left at zero).
pub fn render(studies: &EndStates, dir: &Path, name: &str, command: &str) -> Result<Summary> {
    let plot_dir = dir.join(name);
    std::fs::create_dir_all(&plot_dir).map_err(io_err(&plot_dir))?;
    let mut out = Out {
        md: String::new(),
        sum: Summary::default(),
        plot_dir: &plot_dir,
        name,
    };
    out.intro(command);
    out.stationary(&studies.stationary)?;
    out.point_mass(&studies.point_mass)?;
    out.escape(&studies.escape)?;
    let rat = studies.stationary.wide_narrow.ratios();
    let ratio_001 = rat.first().map_or((f64::NAN, f64::NAN), |r| {
        (r.2.unwrap_or(f64::NAN), r.3.unwrap_or(f64::NAN))
    });
    out.flat(&studies.flat, ratio_001)?;
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, &out.md).map_err(io_err(&path))?;
    Ok(out.sum)
}

/// The report being written.
struct Out<'a> {
    md: String,
    sum: Summary,
    plot_dir: &'a Path,
    name: &'a str,
}

/// Moments at time `t` of a run, region `k` (NaN if there is no snapshot at t).
fn region_at<'m, I: Iterator<Item = (f64, &'m [f64])>>(mut rows: I, t: f64, k: usize) -> f64 {
    rows.find(|(tm, _)| (tm - t).abs() < 1e-9)
        .map_or(f64::NAN, |(_, r)| r[k])
}

impl Out<'_> {
    /// Title and the methods in one paragraph.
    fn intro(&mut self, command: &str) {
        let _ = writeln!(
            self.md,
            "# End states, point masses, escape times and the flat-minimum bias\n\n\
             Generated by `{command}`; do not edit by hand.\n\n\
             The stationary density of the Fokker–Planck model with zero-flux walls is \
             P_s ∝ exp(Φ)/D with Φ = −T∫G/D (= −(2B/T)∫G/S²) wherever D > 0; it is evaluated by \
             Gauss–Legendre quadrature and compared with the null vector of the assembled operator A \
             of every flux. Where the noise vanishes the end state is the exact long-time limit of \
             the `{PDE_FLUX}` operator read as a Markov chain on the cells (closed classes keep \
             their mass, transient ones pass it on with gambler's-ruin probabilities); a stable zero \
             of G whose local width σ* = √(D/(T G′)) is below 10⁻¹² of the domain is a point mass. \
             Mean first-passage times come from the double-integral formula \
             τ(x) = ∫_x^{{W₁}} e^{{−Φ(y)}} ∫_a^y e^{{Φ(z)}}/D(z) dz dy (Gardiner §5.2.7), from the \
             backward equation of the discrete operator, from ∫ survival dt by backward Euler, from \
             the escape rate (smallest eigenvalue of −A with an absorbing wall), from Kramers' \
             formula, and from Monte Carlo of SGD and of the Gaussian-kick model (exit time of every \
             particle).\n"
        );
    }

    /// Write a plot into the report's folder and list it.
    fn plot(
        &mut self,
        file: &str,
        title: &str,
        x: &str,
        y: &str,
        s: &[Series],
        sc: Scale,
    ) -> Result<()> {
        line_plot(&self.plot_dir.join(file), title, x, y, s, sc)?;
        self.sum.plots.push(file.to_string());
        Ok(())
    }

    /// Section 1.
    fn stationary(&mut self, st: &StationaryStudy) -> Result<()> {
        let name = self.name;
        let mut tab = String::from(
            "| problem | flux | max |ln(P_flux/P_s)| | L1(P_flux, P_s) |\n|---|---|---|---|\n",
        );
        for r in [&st.ou, &st.wide_narrow] {
            for c in &r.null_vectors {
                let _ = writeln!(
                    tab,
                    "| {} | `{}` | {} | {} |",
                    r.problem,
                    c.flux,
                    c.max_log_dev.map_or_else(
                        || c.broken_at
                            .map_or("n/a".into(), |w| format!("chain breaks at W = {w:.4}")),
                        |v| format!("{v:.2e}")
                    ),
                    c.l1.map_or("n/a".into(), |v| format!("{v:.2e}"))
                );
            }
        }
        let xs = st.ou.grid.centres();
        let mut s_ou = density_series(&st.ou, -0.5, 0.5);
        s_ou.insert(
            0,
            Series::line(
                "exact Gaussian N(0, T/2)",
                xs.iter().cloned().filter(|x| x.abs() <= 0.5).collect(),
                xs.iter()
                    .zip(&st.gauss)
                    .filter(|(x, _)| x.abs() <= 0.5)
                    .map(|(_, g)| *g)
                    .collect(),
            ),
        );
        let (f1, f2) = ("stationary-ou.svg", "stationary-wide-narrow.svg");
        let title = "ou: stationary density";
        self.plot(f1, title, "W", "P", &s_ou, Scale::Linear)?;
        let title = "wide-narrow: stationary density (T = 0.01, B = 1)";
        let s_wn = density_series(&st.wide_narrow, -2.0, 3.0);
        self.plot(f2, title, "W", "P", &s_wn, Scale::Linear)?;
        let _ = writeln!(
            self.md,
            "## 1. Stationary densities: formula against the null vector of A\n\n\
             `ou` (G = W, S² = 1, T = {}): the closed form is the Gaussian of variance T S²/(2B G′) = {} \
             to a relative {:.1e} (cells with P > 10⁻¹²). `wide-narrow`: {}\n\n{tab}\n\
             The exponentially fitted flux with the exact exponent between centres reproduces the \
             closed form to rounding; the midpoint-exponent and u = D·P variants to O(h²); upwind only \
             to O(h) in the exponent, which shows as large log-deviations in the tails.\n\n\
             ![ou]({name}/{f1}) ![wide-narrow]({name}/{f2})\n",
            st.ou.lr, st.var_ou, st.gauss_dev, WIDE_NARROW_SUMMARY
        );
        let pde_dev = |r: &StationaryReport| {
            r.null_vectors
                .iter()
                .find(|c| c.flux == PDE_FLUX)
                .and_then(|c| c.max_log_dev)
                .unwrap_or(f64::NAN)
        };
        self.sum.lines.push(format!(
            "1. stationary: ou formula = Gaussian to {:.1e}; {} null vector = formula to {:.1e} (ou), {:.1e} (wide-narrow)",
            st.gauss_dev,
            PDE_FLUX,
            pde_dev(&st.ou),
            pde_dev(&st.wide_narrow),
        ));
        Ok(())
    }
}

/// The closed form and every flux's null vector (except `central`) on [lo, hi].
fn density_series(r: &StationaryReport, lo: f64, hi: f64) -> Vec<Series> {
    let xs = r.grid.centres();
    let keep: Vec<usize> = (0..xs.len())
        .filter(|&i| xs[i] >= lo && xs[i] <= hi)
        .collect();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let x: Vec<f64> = pick(&xs);
    let mut s = Vec::new();
    if let Some(f) = &r.formula {
        s.push(Series::line("closed form P_s", x.clone(), pick(f)).dashed());
    }
    for c in &r.null_vectors {
        if let Some(p) = &c.p {
            if c.flux != "central" {
                s.push(Series::line(
                    format!("null vector, {}", c.flux),
                    x.clone(),
                    pick(p),
                ));
            }
        }
    }
    s
}

impl Out<'_> {
    /// Section 2.
    fn point_mass(&mut self, pm: &PointMassStudy) -> Result<()> {
        let name = self.name;
        let (r_seed, ia, atom, wstar) = (&pm.stationary, pm.region, pm.atom, pm.wstar);
        let pde_rows = || pm.pde.moments.iter().map(|m| (m.t, m.regions.as_slice()));
        let mc_rows = || pm.mc.moments.iter().map(|m| (m.t, m.regions.as_slice()));
        let pde_at = |t: f64| region_at(pde_rows(), t, ia);
        let mc_at = |t: f64| region_at(mc_rows(), t, ia);
        let f3 = "seed-point-mass.svg";
        let series = [
            Series::line(
                format!("Fokker–Planck ({PDE_FLUX}, {CELLS} cells)"),
                pde_rows().map(|r| r.0).collect(),
                pde_rows().map(|r| r.1[ia]).collect(),
            ),
            Series::points(
                "Monte Carlo SGD (± 2 s.e.)",
                mc_rows().map(|r| r.0).collect(),
                mc_rows().map(|r| r.1[ia]).collect(),
                Some(
                    pm.mc
                        .moments
                        .iter()
                        .map(|m| 2.0 * m.regions_se[ia])
                        .collect(),
                ),
            ),
            Series::line(
                "long-time limit",
                vec![0.0, 4000.0],
                vec![r_seed.basins.last().map_or(f64::NAN, |b| b.long_time); 2],
            )
            .dashed(),
        ];
        let title = "seed: mass within three cells of W = 2";
        self.plot(f3, title, "t (steps)", "mass", &series, Scale::Linear)?;
        let mut ctab = String::from("| W* | G′ | S² | σ* | kind |\n|---|---|---|---|---|\n");
        for c in &r_seed.critical {
            let _ = writeln!(
                ctab,
                "| {:.6} | {:.4} | {:.3e} | {:.3e} | {} |",
                c.w,
                c.g_prime,
                c.s2,
                c.width,
                c.kind.as_str()
            );
        }
        let (mult, lyap) = (&pm.multipliers.0, pm.multipliers.1);
        let pit_width = r_seed
            .critical
            .iter()
            .find(|c| c.kind == CriticalKind::NoisyMinimum)
            .map_or(f64::NAN, |c| c.width);
        let arrival = steps(r_seed.arrival_time.unwrap_or(f64::NAN));
        let _ = writeln!(
            self.md,
            "## 2. The point mass on `seed`\n\n\
             The closed form does not exist (D = 0 at W = {:.4}, and numerically on whole regions where \
             the per-datapoint gradients agree to rounding), and the zero-flux recursion of every flux \
             breaks. The zeros of G:\n\n{ctab}\n\
             **End state:** point mass at W = {:.6} holding mass **{:.6}** (long-time limit of the \
             `{PDE_FLUX}` chain from the canonical start; {} closed class, so the end state does not \
             depend on the start). The pit minimum is noisy (σ* ≈ {:.1e}), so its mass leaks out; the \
             mean time for the initial mass to reach the end state is **{} steps** in the \
             Fokker–Planck model.\n\n\
             Mass within three cells of W = 2: Fokker–Planck {:.4} at t = 500, {:.4} at t = 1000, {:.4} at \
             t = 4000; SGD (20 000 particles) {:.4} at t = 500, {:.4} at t = 1000. SGD gets there far \
             sooner: linearised at W* = {wstar:.5} one SGD step multiplies an offset by {} (mean \
             log-modulus {lyap:+.3}), so the pit is {} for SGD.\n\n![point mass]({name}/{f3})\n",
            r_seed.formula_gap.unwrap_or(f64::NAN),
            atom.0,
            atom.1,
            r_seed.closed_classes,
            pit_width,
            arrival,
            pde_at(500.0),
            pde_at(1000.0),
            pde_at(4000.0),
            mc_at(500.0),
            mc_at(1000.0),
            mult.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(" or "),
            if lyap > 0.0 { "linearly unstable" } else { "linearly stable" }
        );
        self.sum.lines.push(format!(
            "2. seed: point mass at W = {:.6} holding {:.6}; FP reaches it in {} steps on average (mass there at t = 1000: FP {:.3}, SGD {:.3})",
            atom.0,
            atom.1,
            arrival,
            pde_at(1000.0),
            mc_at(1000.0)
        ));
        Ok(())
    }
}

/// The escape table of `wide-narrow`, the z-scores per T, and the range of Kramers'
/// relative deviation from the formula.
fn escape_table(rows: &[(f64, EscapeReport)]) -> (String, Vec<String>, (f64, f64)) {
    let mut etab = String::from(
        "| T | formula | Kramers | PDE backward eq. | PDE ∫S dt | 1/λ₀ | MC Gaussian | z | MC SGD | z |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut zs: Vec<String> = Vec::new();
    let mut kramers_dev: (f64, f64) = (f64::INFINITY, f64::NEG_INFINITY);
    for (lr, e) in rows {
        let tf = e.formula.as_ref().map_or(f64::NAN, |f| f.tau);
        let mcz = |m: &McEscape| (m.mean - tf) / m.se;
        let cell = |m: Option<&McEscape>| {
            m.map_or(("n/a".to_string(), "".to_string()), |m| {
                (
                    format!("{:.1} ± {:.1}", m.mean, m.se),
                    format!("{:+.2}", mcz(m)),
                )
            })
        };
        let (gc, gz) = cell(mc_of(e, McMode::Gaussian));
        let (sc, sz) = cell(mc_of(e, McMode::Sgd));
        zs.push(format!(
            "T = {lr}: Gaussian {}, SGD {}",
            if gz.is_empty() { "n/a" } else { &gz },
            if sz.is_empty() { "n/a" } else { &sz }
        ));
        let _ = writeln!(
            etab,
            "| {lr} | {:.1} | {} | {:.1} | {:.1} | {} | {gc} | {gz} | {sc} | {sz} |",
            tf,
            e.kramers
                .as_ref()
                .map_or("n/a".into(), |k| format!("{:.1}", k.tau)),
            e.pde.tau,
            e.pde.tau_survival,
            e.pde
                .escape_rate
                .map_or("n/a".into(), |r| format!("{:.1}", 1.0 / r)),
        );
        if let Some(k) = &e.kramers {
            let d = k.tau / tf - 1.0;
            kramers_dev = (kramers_dev.0.min(d), kramers_dev.1.max(d));
        }
    }
    (etab, zs, kramers_dev)
}

/// The Monte Carlo result of process `mode`, if it ran.
fn mc_of(e: &EscapeReport, mode: McMode) -> Option<&McEscape> {
    e.mc.iter().find(|m| m.mode == mode)
}

impl Out<'_> {
    /// Section 3.
    fn escape(&mut self, es: &EscapeStudy) -> Result<()> {
        let name = self.name;
        let (etab, zs, kramers_dev) = escape_table(&es.wide_narrow);
        let f4 = "escape-tau.svg";
        self.escape_tau_plot(f4, &es.wide_narrow)?;
        let mut f5 = None;
        if let Some((_, e)) = es
            .wide_narrow
            .iter()
            .find(|(lr, _)| (lr - 0.01).abs() < 1e-12)
        {
            let name5 = "escape-survival.svg";
            let mut ser = vec![Series::line(
                format!("PDE ({PDE_FLUX}, backward Euler)"),
                e.times.clone(),
                e.survival_pde.clone(),
            )];
            for m in &e.mc {
                ser.push(Series::line(
                    format!("MC {}", m.mode.as_str()),
                    e.times.clone(),
                    m.survival.clone(),
                ));
            }
            let title = "wide-narrow (T = 0.01): survival in the narrow well";
            let y = "fraction not yet past W = 0.5";
            self.plot(name5, title, "t (steps)", y, &ser, Scale::Linear)?;
            f5 = Some(name5);
        }
        let (wstar, tg) = (es.wstar, es.seed_lr_gprime);
        let _ = writeln!(
            self.md,
            "## 3. Mean first-passage times\n\n\
             `wide-narrow` from the narrow minimum W = −1 past W = 0.5 (beyond the barrier at \
             W_b = {:.5}), reflecting at W = −2; 3000 particles per Monte Carlo process; z = (MC − \
             formula)/s.e.\n\n{etab}\n\
             The formula and the discrete operator agree to the operator's O(h²) error; ∫S dt by \
             backward Euler equals the backward-equation value because backward Euler's right-endpoint \
             sum Σ dt S_k is exactly −1ᵀA⁻¹P₀ at any dt. Kramers' formula needs ΔΦ ≫ 1: at these \
             moderate barriers it is off by {:+.0}% to {:+.0}%. Monte Carlo departs from the continuum as T·G′ grows \
             (T·G′ = {:.2} at the narrow minimum for T = 0.02). With B fixed the barrier in noise units \
             grows like 1/T, so the discrete-time bias of the exponent, of order ΔΦ·T·G′, does not \
             vanish as T → 0: the Gaussian-kick times stay a few per cent below the formula.\n\n\
             ![tau]({name}/{f4}){}\n\n\
             `seed`, from the pit minimum W* = {wstar:.5} past W = 1.3 (barrier at 1.17431):\n\n```text\n{}```\n\
             The formula reflects at W = 1, where D vanishes and the drift points into the pit. The \
             Gaussian-kick model and SGD leave the pit far sooner than the Fokker–Planck model: with \
             T·G′ = {:.2} the discrete map overshoots (gradient descent's multiplier is {:.2}), which \
             inflates the spread in the pit well beyond the diffusion limit's.\n",
            wide_narrow_barrier(),
            100.0 * kramers_dev.0,
            100.0 * kramers_dev.1,
            0.02 * 16.0,
            f5.map_or(String::new(), |f| format!(" ![survival]({name}/{f})")),
            es.seed.text(),
            tg,
            1.0 - tg,
        );
        let seed_mc = |mode| mc_of(&es.seed, mode).map_or(f64::NAN, |m| m.mean);
        self.sum.lines.push(format!(
            "3. escape (wide-narrow, −1 → 0.5): z = (MC − formula)/s.e. {}; seed pit: formula {:.0}, SGD {:.0}, Gaussian kicks {:.0} steps",
            zs.join("; "),
            es.seed.formula.as_ref().map_or(f64::NAN, |f| f.tau),
            seed_mc(McMode::Sgd),
            seed_mc(McMode::Gaussian),
        ));
        Ok(())
    }

    /// τ against 1/T by every method.
    fn escape_tau_plot(&mut self, file: &str, rows: &[(f64, EscapeReport)]) -> Result<()> {
        let xt: Vec<f64> = rows.iter().map(|(lr, _)| 1.0 / lr).collect();
        let col = |f: &dyn Fn(&EscapeReport) -> f64| rows.iter().map(|(_, e)| f(e)).collect();
        let mean =
            |mode: McMode| move |e: &EscapeReport| mc_of(e, mode).map_or(f64::NAN, |m| m.mean);
        let bar =
            |mode: McMode| move |e: &EscapeReport| mc_of(e, mode).map_or(f64::NAN, |m| 2.0 * m.se);
        let series = [
            Series::line(
                "formula",
                xt.clone(),
                col(&|e| e.formula.as_ref().map_or(f64::NAN, |f| f.tau)),
            ),
            Series::line(
                "Kramers",
                xt.clone(),
                col(&|e| e.kramers.as_ref().map_or(f64::NAN, |k| k.tau)),
            )
            .dashed(),
            Series::line(format!("PDE ({PDE_FLUX})"), xt.clone(), col(&|e| e.pde.tau)).dashed(),
            Series::points(
                "MC Gaussian kicks (± 2 s.e.)",
                xt.clone(),
                col(&mean(McMode::Gaussian)),
                Some(col(&bar(McMode::Gaussian))),
            ),
            Series::points(
                "MC SGD (± 2 s.e.)",
                xt,
                col(&mean(McMode::Sgd)),
                Some(col(&bar(McMode::Sgd))),
            ),
        ];
        let title = "wide-narrow: mean first-passage time from W = −1 past W = 0.5";
        self.plot(file, title, "1/T", "τ (steps)", &series, Scale::Log)
    }
}

impl Out<'_> {
    /// Section 4; `(rf, rp)` is the density ratio of `wide-narrow` at its own T and B
    /// (formula, PDE) from section 1.
    fn flat(&mut self, fs: &FlatStudy, (rf, rp): (f64, f64)) -> Result<()> {
        let name = self.name;
        let mut ftab = String::from(
            "| T | B | B/T | ratio P(1)/P(−1): formula | PDE | window ratio: formula | MC SGD | narrow basin: formula | MC SGD | 1/λ₁ |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        let mut mc_lines = Vec::new();
        let mut mc_dev = Vec::new();
        for (i, pt) in fs.points.iter().enumerate() {
            let (mut wmc, mut nmc) = ("".to_string(), "".to_string());
            if let Some(m) = fs.mc.iter().find(|m| m.point == i) {
                let (w, lr, b, wf) = (&m.window, pt.lr, pt.batch, pt.window_formula);
                wmc = format!("{:.3} ± {:.3}", w.ratio, w.ratio * w.se_ln);
                nmc = format!("{:.4} ± {:.4}", w.narrow, w.narrow_se);
                mc_dev.push(format!(
                    "T = {lr}, B = {b}: {:+.1}% ({:+.1} s.e.)",
                    100.0 * (w.ratio / wf - 1.0),
                    (w.ratio / wf).ln() / w.se_ln
                ));
                mc_lines.push(format!(
                    "T = {lr}, B = {b} (T·G′ = {:.2} at the narrow minimum): window ratio SGD {:.2} ± {:.2} vs formula {wf:.2}; narrow basin SGD {:.4} ± {:.4} vs {:.4} ({} particles, t = {} = {:.1}/λ₁)",
                    16.0 * lr,
                    w.ratio,
                    w.ratio * w.se_ln,
                    w.narrow,
                    w.narrow_se,
                    pt.narrow_formula,
                    m.particles,
                    m.t_end,
                    m.t_end * pt.relaxation_rate
                ));
            }
            let relax = pt.relaxation_rate;
            let _ = writeln!(
                ftab,
                "| {} | {} | {} | {} | {} | {} | {wmc} | {} | {nmc} | {} |",
                pt.lr,
                pt.batch,
                pt.batch as f64 / pt.lr,
                num(pt.ratio_formula),
                num(pt.ratio_pde),
                num(pt.window_formula),
                num(pt.narrow_formula),
                if relax > 0.0 {
                    format!("{:.4e}", 1.0 / relax)
                } else {
                    "n/a".into()
                }
            );
        }
        let f6 = "flat-minimum-ratio.svg";
        self.flat_plot(f6, fs)?;
        let _ = writeln!(
            self.md,
            "## 4. The flat-minimum bias\n\n\
             `wide-narrow`: equal depths, the minimum at W = 1 twice as wide as the one at W = −1, \
             gradient noise proportional to the curvature (16× larger variance in the narrow well) on \
             top of a floor S² ≥ 50. In the Fokker–Planck model the density ratio at the centres is \
             (S²(−1)/S²(1)) · exp(Φ(1) − Φ(−1)) with Φ ∝ B/T, so it depends on B/T alone: rows with \
             equal B/T agree to every digit. The window ratio is the ratio of the masses within \
             ±{CENTRE_WINDOW} of the centres, the quantity Monte Carlo measures (SGD, started from \
             the Fokker–Planck stationary density and run for 4/λ₁ or 1000 steps, whichever is \
             longer).\n\n{ftab}\n{}\n\n\
             Departure of SGD's window ratio from the formula's: {}. At fixed B/T the Fokker–Planck \
             ratio is one number while SGD's moves with T: the stationary state of SGD depends on T \
             and B separately, its diffusion limit only on B/T, and at equal B/T the departure shrinks \
             with T·G′ at the narrow minimum (compare the B/T = 100 rows).\n\n![ratio]({name}/{f6})\n",
            mc_lines
                .iter()
                .map(|l| format!("- {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            mc_dev.join("; ")
        );
        self.sum.lines.push(format!(
            "4. flat-minimum bias at T = 0.01, B = 1: P(1)/P(−1) formula {rf:.4}, PDE {rp:.4}; {}",
            mc_lines
                .iter()
                .find(|l| l.starts_with("T = 0.01, B = 1 "))
                .or(mc_lines.first())
                .cloned()
                .unwrap_or_default()
        ));
        Ok(())
    }

    /// The density ratio at the centres against B/T: formula, PDE and the Monte Carlo checks.
    fn flat_plot(&mut self, file: &str, fs: &FlatStudy) -> Result<()> {
        let mut order: Vec<&FlatMinimumPoint> = fs.points.iter().collect();
        order.sort_by(|p, q| (p.batch as f64 / p.lr).total_cmp(&(q.batch as f64 / q.lr)));
        let bx: Vec<f64> = order.iter().map(|p| p.batch as f64 / p.lr).collect();
        let mut series = vec![
            Series::line(
                "formula",
                bx.clone(),
                order.iter().map(|p| p.ratio_formula).collect(),
            ),
            Series::points(
                format!("PDE ({PDE_FLUX} null vector)"),
                bx,
                order.iter().map(|p| p.ratio_pde).collect(),
                None,
            ),
        ];
        for (k, m) in fs.mc.iter().enumerate() {
            let (pt, w) = (&fs.points[m.point], &m.window);
            series.push(
                Series::points(
                    format!("MC SGD T = {}, B = {} (± 2 s.e.)", pt.lr, pt.batch),
                    vec![pt.batch as f64 / pt.lr],
                    vec![w.ratio],
                    Some(vec![2.0 * w.ratio * w.se_ln]),
                )
                .color(2 + k),
            );
        }
        let title = "wide-narrow: density ratio at the centres P(1)/P(−1)";
        self.plot(file, title, "B/T", "ratio", &series, Scale::Log)
    }
}
