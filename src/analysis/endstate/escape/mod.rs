//! Escape: the mean first-passage time (MFPT) from a point past another, by every method.
//!
//! For the Itô diffusion with generator L f = −T G f′ + D f″ on [a, W₁], reflecting at a
//! and absorbing at W₁, the MFPT τ solves L τ = −1, τ′(a) = 0, τ(W₁) = 0. Since
//! L f = (D e^{−Φ}) (e^{Φ} f′)′ with Φ = −T ∫ G/D,
//!
//! ```text
//! τ(x) = ∫_x^{W₁} e^{−Φ(y)} ∫_a^y e^{Φ(z)} / D(z) dz dy
//! ```
//!
//! (Gardiner, *Handbook of Stochastic Methods*, §5.2.7, with ψ = e^{Φ} and B = 2D).
//! [`escape`] evaluates it by log-linear quadrature with Richardson extrapolation, and
//! sets beside it the same quantity for the discrete operator (the backward equation
//! (−Aᵀ) τ = 1 with an absorbing right wall, solved exactly by GTH elimination; and
//! ∫ survival dt by backward Euler), the smallest eigenvalue of the absorbing operator
//! (the escape rate), Monte Carlo of SGD and of the Gaussian-kick model with the exit
//! time of every particle ([`first_passage()`]), and Kramers' (1940) large-barrier estimate
//!
//! ```text
//! τ_K = (2π/T) √(D_b / (D_m G′_m |G′_b|)) e^{Φ_m − Φ_b} · N((W₁ − W_b)/σ_b),   σ_b² = D_b/(T|G′_b|),
//! ```
//!
//! the Laplace approximation of the double integral around the minimum W_m and the
//! barrier top W_b (N the standard normal distribution function: ½ when W₁ is the barrier
//! top, 1 when it lies well past it). Escape to the left is escape to the right of the
//! mirror image W ↦ −W.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::critical::{critical_points, noise_zero, CriticalKind};
use crate::analysis::endstate::chain::Chain;
use crate::analysis::endstate::logspace::{lae, ln_interval};
use crate::analysis::endstate::stationary::phi_between;
use crate::analysis::endstate::PDE_FLUX;
use crate::analysis::montecarlo::{first_passage, FirstPassage, McMode, Wall, Walls};
use crate::error::{Error, Result};
use crate::model::landscape::Landscape;
use crate::model::problem::{Boundary, Initial, Problem};
use crate::space::flux::{self, FaceData};
use crate::space::grid::Grid;
use crate::space::operator::{drift_integral, Operator};

mod text;
mod verdict;

pub use verdict::{auto_endpoints, escape_auto, Verdict, VERDICT_SE};

/// Settings of [`escape`]. Validated by [`escape`]. With the `cli` feature it is also
/// the options of the `escape` command.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct EscapeOptions {
    /// Reflecting wall behind `from` for the PDE and the Monte Carlo (default: the
    /// problem's wall on the side away from `past`).
    #[cfg_attr(feature = "cli", arg(long, allow_negative_numbers = true))]
    pub wall: Option<f64>,
    /// Cells of the PDE grid on [wall, past] (default 2000).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 2000))]
    pub cells: usize,
    /// Flux of the PDE (default [`PDE_FLUX`]).
    #[cfg_attr(feature = "cli", arg(skip = PDE_FLUX.to_string()))]
    pub flux: String,
    /// Quadrature intervals of the formula (default 4000; extrapolated with twice as many).
    #[cfg_attr(feature = "cli", arg(skip = 4000usize))]
    pub quad: usize,
    /// Particles per Monte Carlo process (default 4000; 0 skips Monte Carlo).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 4000))]
    pub particles: usize,
    /// Monte Carlo processes, comma-separated (default gaussian,sgd; gd is also known).
    #[cfg_attr(feature = "cli", arg(long, default_value = "gaussian,sgd", value_delimiter = ',', value_parser = McMode::parse))]
    pub modes: Vec<McMode>,
    /// Seed of the generators (default 1).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1))]
    pub seed: u64,
    /// Largest number of steps a particle is followed; `None` (default) takes
    /// 30 × the PDE's τ, at least 1000, capped by `budget` / particles.
    #[cfg_attr(feature = "cli", arg(long))]
    pub max_steps: Option<u64>,
    /// Particle-steps allowed per Monte Carlo process when `max_steps` is `None`
    /// (default 4·10⁸).
    #[cfg_attr(feature = "cli", arg(skip = 400_000_000u64))]
    pub budget: u64,
    /// Points of the survival curves (default 200).
    #[cfg_attr(feature = "cli", arg(skip = 200usize))]
    pub survival_points: usize,
}

impl Default for EscapeOptions {
    fn default() -> Self {
        EscapeOptions {
            wall: None,
            cells: 2000,
            flux: PDE_FLUX.to_string(),
            quad: 4000,
            particles: 4000,
            modes: vec![McMode::Gaussian, McMode::Sgd],
            seed: 1,
            max_steps: None,
            budget: 400_000_000,
            survival_points: 200,
        }
    }
}

/// The MFPT by the double-integral formula.
#[derive(Clone, Debug, Serialize)]
pub struct FormulaMfpt {
    /// τ (∞ beyond f64).
    pub tau: f64,
    /// ln τ.
    pub ln_tau: f64,
    /// Estimated relative quadrature error (Richardson difference).
    pub rel_error: f64,
    /// The reflecting end used: the wall, or the nearest point behind `from` where D
    /// vanishes and the drift points toward `from` (mass cannot pass it backwards).
    pub reflecting_end: f64,
}

/// Kramers' estimate.
#[derive(Clone, Debug, Serialize)]
pub struct KramersMfpt {
    /// The minimum W_m.
    pub minimum: f64,
    /// The barrier top W_b.
    pub barrier: f64,
    /// Φ(W_m) − Φ(W_b), the barrier in units of the noise.
    pub delta_phi: f64,
    /// N((W₁ − W_b)/σ_b): ½ at the barrier top, → 1 well past it.
    pub past_factor: f64,
    /// τ_K.
    pub tau: f64,
}

/// The MFPT of the discrete operator.
#[derive(Clone, Debug, Serialize)]
pub struct PdeMfpt {
    /// Flux.
    pub flux: String,
    /// Cells on [wall, past].
    pub cells: usize,
    /// τ at `from` from the backward equation (−Aᵀ) τ = 1, solved exactly (∞ if some
    /// cell can never reach the absorbing wall).
    pub tau: f64,
    /// ∫ survival dt by backward Euler on the survival grid, with the tail S(t_end)/λ₀.
    pub tau_survival: f64,
    /// Smallest eigenvalue λ₀ of −A (the escape rate), per step.
    pub escape_rate: Option<f64>,
}

/// First-passage Monte Carlo of one process.
#[derive(Clone, Debug, Serialize)]
pub struct McEscape {
    /// Process.
    pub mode: McMode,
    /// Particles.
    pub particles: usize,
    /// Steps a particle was followed at most.
    pub max_steps: u64,
    /// Mean exit time (a lower bound when some particles were censored).
    pub mean: f64,
    /// Standard error of the mean.
    pub se: f64,
    /// Standard deviation of the exit times.
    pub sd: f64,
    /// Median exit time.
    pub median: f64,
    /// Particles still inside after `max_steps` steps.
    pub censored: usize,
    /// Survival fraction on the report's time grid (NaN beyond `max_steps`).
    #[serde(skip)]
    pub survival: Vec<f64>,
}

/// Mean first-passage time from `from` past `past` by every method.
#[derive(Clone, Debug, Serialize)]
pub struct EscapeReport {
    /// Problem name.
    pub problem: String,
    /// Learning rate T.
    pub lr: f64,
    /// Batch size B.
    pub batch: usize,
    /// Start.
    pub from: f64,
    /// Absorbing point.
    pub past: f64,
    /// Reflecting wall of the PDE and the Monte Carlo.
    pub wall: f64,
    /// The double-integral formula (Gardiner, *Handbook of Stochastic Methods*, §5.2.7).
    pub formula: Option<FormulaMfpt>,
    /// Why the formula is not available, if it is not.
    pub formula_note: Option<String>,
    /// Kramers' estimate (needs a stable zero and a barrier top between it and `past`).
    pub kramers: Option<KramersMfpt>,
    /// The discrete operator.
    pub pde: PdeMfpt,
    /// Monte Carlo, one per process.
    pub mc: Vec<McEscape>,
    /// Times of the survival curves.
    #[serde(skip)]
    pub times: Vec<f64>,
    /// Survival of the PDE (backward Euler) on `times`.
    #[serde(skip)]
    pub survival_pde: Vec<f64>,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// What `from = auto` / `past = auto` picked (empty when both were given).
    pub auto: Vec<String>,
    /// Which models agree with Monte Carlo of SGD, and why the others do not.
    pub verdict: Option<Verdict>,
}

/// The mirror image W ↦ −W of a landscape (escape to the left is escape to the right
/// of the mirrored problem).
#[derive(Debug)]
struct Mirrored(Arc<dyn Landscape>);

impl Landscape for Mirrored {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn loss(&self, j: usize, w: f64) -> f64 {
        self.0.loss(j, -w)
    }
    fn grad(&self, j: usize, w: f64) -> f64 {
        -self.0.grad(j, -w)
    }
    fn curv(&self, j: usize, w: f64) -> f64 {
        self.0.curv(j, -w)
    }
    fn part_grad(&self, j: usize, w: f64) -> f64 {
        -self.0.part_grad(j, -w)
    }
    fn part_curv(&self, j: usize, w: f64) -> f64 {
        self.0.part_curv(j, -w)
    }
    fn describe(&self, j: usize) -> String {
        format!("{} (mirrored)", self.0.describe(j))
    }
}

/// The problem under W ↦ −W (same S², G ↦ −G); initial density and regions dropped.
fn mirrored(problem: &Problem) -> Problem {
    Problem {
        landscape: Arc::new(Mirrored(problem.landscape.clone())),
        a: -problem.b,
        b: -problem.a,
        initial: Initial::Uniform,
        regions: vec![],
        ..problem.clone()
    }
}

/// ln τ by the formula on nodes [lo, x0] (n1 intervals) and [x0, hi] (n2 intervals),
/// log-linear rule for both integrals.
fn ln_mfpt_nodes(
    problem: &Problem,
    lo: f64,
    x0: f64,
    hi: f64,
    n1: usize,
    n2: usize,
) -> Option<f64> {
    let mut xs: Vec<f64> = (0..n1)
        .map(|k| lo + (x0 - lo) * k as f64 / n1 as f64)
        .collect();
    let k0 = xs.len();
    xs.extend((0..=n2).map(|k| x0 + (hi - x0) * k as f64 / n2 as f64));
    let n = xs.len();
    let mut phi = vec![0.0; n];
    let mut lf = vec![0.0; n];
    for k in 0..n {
        let d = problem.coeffs(xs[k]).d;
        if d.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        if k > 0 {
            phi[k] = phi[k - 1] + drift_integral(problem, xs[k - 1], xs[k])?;
        }
        lf[k] = phi[k] - d.ln();
    }
    // inner: ln I_k = ln ∫_lo^{x_k} e^{Φ}/D
    let mut li = vec![f64::NEG_INFINITY; n];
    for k in 1..n {
        let lnh = (xs[k] - xs[k - 1]).ln();
        li[k] = lae(li[k - 1], ln_interval(lnh, lf[k - 1], lf[k]));
    }
    // outer: ln ∫_{x0}^{hi} e^{−Φ} I
    let lo_: Vec<f64> = (0..n).map(|k| li[k] - phi[k]).collect();
    let mut acc = f64::NEG_INFINITY;
    for k in k0 + 1..n {
        let lnh = (xs[k] - xs[k - 1]).ln();
        acc = lae(acc, ln_interval(lnh, lo_[k - 1], lo_[k]));
    }
    if x0 >= hi {
        return Some(f64::NEG_INFINITY);
    }
    Some(acc)
}

/// The MFPT formula with Richardson extrapolation (N and 2N intervals).
fn mfpt_formula(problem: &Problem, lo: f64, x0: f64, hi: f64, quad: usize) -> Option<(f64, f64)> {
    let len = hi - lo;
    let n1 = (((x0 - lo) / len * quad as f64).round() as usize).max(8);
    let n2 = (((hi - x0) / len * quad as f64).round() as usize).max(8);
    let l1 = ln_mfpt_nodes(problem, lo, x0, hi, n1, n2)?;
    let l2 = ln_mfpt_nodes(problem, lo, x0, hi, 2 * n1, 2 * n2)?;
    // τ₂ + (τ₂ − τ₁)/3 in logarithms: τ₂ (1 + (1 − e^{l1 − l2})/3)
    let r = 1.0 - (l1 - l2).exp();
    let ln_tau = l2 + (r / 3.0).ln_1p();
    Some((ln_tau, (r / 3.0).abs()))
}

/// Standard normal distribution function.
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// An escape problem turned rightward: start `x0`, absorbing at `w1` > `x0`,
/// reflecting wall `wall` < `x0`; `sign` maps its W back to the caller's (−1 when
/// mirrored).
struct Rightward {
    q: Problem,
    x0: f64,
    w1: f64,
    wall: f64,
    sign: f64,
}

/// Validate the inputs of [`escape`] and turn the problem rightward.
fn rightward(problem: &Problem, from: f64, past: f64, opts: &EscapeOptions) -> Result<Rightward> {
    problem.validate()?;
    let o = problem.origin.as_str();
    crate::error::finite("from", from).map_err(|e| e.with_origin(o))?;
    crate::error::finite("past", past).map_err(|e| e.with_origin(o))?;
    let inside = |w: f64| w >= problem.a && w <= problem.b;
    if !inside(from) || !inside(past) {
        return Err(Error::invalid(
            "from/past",
            format!("{from}/{past}"),
            format!("must lie in the domain [{}, {}]", problem.a, problem.b),
        )
        .with_origin(o));
    }
    if (from - past).abs() <= 0.0 {
        return Err(Error::invalid("past", past, "must differ from `from`").with_origin(o));
    }
    if opts.cells < 3 {
        return Err(Error::invalid("cells", opts.cells, "need at least 3 cells"));
    }
    if opts.quad < 16 {
        return Err(Error::invalid(
            "quad",
            opts.quad,
            "need at least 16 intervals",
        ));
    }
    let left = past < from;
    let (q, x0, w1) = if left {
        (mirrored(problem), -from, -past)
    } else {
        (problem.clone(), from, past)
    };
    let wall = match opts.wall {
        Some(w) => {
            let w = if left { -w } else { w };
            if !(w.is_finite() && w < x0 && w >= q.a) {
                return Err(Error::invalid(
                    "wall",
                    if left { -w } else { w },
                    "must lie in the domain, behind `from` (on the side away from `past`)",
                )
                .with_origin(o));
            }
            w
        }
        None => q.a,
    };
    let sign = if left { -1.0 } else { 1.0 };
    Ok(Rightward {
        q,
        x0,
        w1,
        wall,
        sign,
    })
}

/// MFPT from `from` to `past` by the formula, the discrete operator, Monte Carlo of SGD
/// and of the Gaussian-kick model, the escape rate of the absorbing operator and Kramers'
/// estimate. Escape to the left (`past` < `from`) is computed on the mirror image.
///
/// The PDE and the Monte Carlo reflect at `opts.wall` (default: the problem's far wall)
/// and absorb at `past`. The formula reflects at the nearest point behind `from` where
/// D vanishes and the drift points toward `from` (e.g. W = 1 on `seed`), or at the wall;
/// it is unavailable when D vanishes between `from` and `past` or where the drift
/// behind `from` points away (mass may never come back: τ = ∞).
pub fn escape(
    problem: &Problem,
    from: f64,
    past: f64,
    opts: &EscapeOptions,
) -> Result<EscapeReport> {
    let clock = Instant::now();
    let r = rightward(problem, from, past, opts)?;
    let (formula, formula_note) = formula_mfpt(&r, opts.quad);
    let kramers = kramers(&r);
    let pde = pde_operator(&r, opts)?;
    let t_ref = if pde.tau.is_finite() {
        pde.tau
    } else {
        formula.as_ref().map_or(1e4, |f| f.tau)
    };
    // the survival grid reaches 8 τ: the tail beyond it, S(t_end)/λ₀, is then ~e⁻⁸ of τ
    let npts = opts.survival_points.max(2);
    let dt = 8.0 * t_ref / npts as f64;
    let times: Vec<f64> = (0..=npts).map(|k| k as f64 * dt).collect();
    let (survival_pde, tau_survival) = pde.survival(dt, npts)?;
    let mc_steps = opts.max_steps.unwrap_or_else(|| {
        let auto = (30.0 * t_ref).ceil().max(1000.0);
        let cap = (opts.budget / opts.particles.max(1) as u64).max(1) as f64;
        auto.min(cap) as u64
    });
    let mut mc = Vec::new();
    if opts.particles > 0 {
        let walls = Walls {
            a: r.wall,
            b: r.w1,
            left: Wall::Reflect,
            right: Wall::Absorb,
        };
        for &mode in opts.modes.iter().filter(|&&m| m != McMode::Gd) {
            let fp = first_passage(&r.q, mode, r.x0, walls, opts.particles, opts.seed, mc_steps)?;
            mc.push(McEscape::new(mode, &fp, &times));
        }
    }
    let mut report = EscapeReport {
        problem: problem.name.clone(),
        lr: problem.lr,
        batch: problem.batch,
        from,
        past,
        wall: r.sign * r.wall,
        formula,
        formula_note,
        kramers,
        pde: PdeMfpt {
            flux: pde.flux,
            cells: pde.chain.n(),
            tau: pde.tau,
            tau_survival,
            escape_rate: pde.escape_rate,
        },
        mc,
        times,
        survival_pde,
        wall_s: 0.0,
        auto: vec![],
        verdict: None,
    };
    report.verdict = Some(verdict::verdict(problem, &report, opts));
    report.wall_s = clock.elapsed().as_secs_f64();
    Ok(report)
}

/// The double-integral formula, reflecting at the nearest zero of D behind the start
/// (where the drift points toward it) or at the wall; or why it is not available.
fn formula_mfpt(r: &Rightward, quad: usize) -> (Option<FormulaMfpt>, Option<String>) {
    let (q, x0, w1, wall, sign) = (&r.q, r.x0, r.w1, r.wall, r.sign);
    let behind = noise_zero(q, x0, wall, 4000);
    let ahead = noise_zero(q, x0, w1, 4000);
    match (behind, ahead) {
        (_, Some(z)) => (
            None,
            Some(format!(
                "D vanishes at W = {} between `from` and `past`",
                sign * z
            )),
        ),
        (Some(z), None) if q.coeffs(z).g >= 0.0 => (
            None,
            Some(format!(
                "D vanishes at W = {} behind `from` where the drift points away (or is zero): \
                 mass that passes it need not come back, so τ = ∞",
                sign * z
            )),
        ),
        (z, None) => {
            let lo = match z {
                Some(z) => z + 1e-6 * (x0 - z),
                None => wall,
            };
            match mfpt_formula(q, lo, x0, w1, quad) {
                Some((ln_tau, rel)) => (
                    Some(FormulaMfpt {
                        tau: ln_tau.exp(),
                        ln_tau,
                        rel_error: rel,
                        reflecting_end: sign * z.unwrap_or(wall),
                    }),
                    None,
                ),
                None => (
                    None,
                    Some("D is not positive at some quadrature node".into()),
                ),
            }
        }
    }
}

/// Kramers' estimate from the noisy minimum nearest the start and the lowest barrier
/// top between it and the absorbing point.
fn kramers(r: &Rightward) -> Option<KramersMfpt> {
    let (q, x0, w1) = (&r.q, r.x0, r.w1);
    // scan a little past `past`: a barrier top exactly at `past` counts
    let len = q.b - q.a;
    let crit = critical_points(q, r.wall, (w1 + 1e-3 * len).min(q.b), 8000);
    let m = crit
        .iter()
        .filter(|c| c.kind == CriticalKind::NoisyMinimum)
        .min_by(|a, b| (a.w - x0).abs().total_cmp(&(b.w - x0).abs()))?;
    let (b, dphi_mb) = crit
        .iter()
        .filter(|c| c.kind == CriticalKind::Barrier && c.w > m.w && c.w <= w1 + 1e-9 * len)
        .filter_map(|c| Some((c, phi_between(q, m.w, c.w, 64)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let delta_phi = -dphi_mb;
    let sig_b = (b.d / (q.lr * b.g_prime.abs())).sqrt();
    let past_factor = normal_cdf((w1 - b.w) / sig_b);
    let tau = 2.0 * std::f64::consts::PI / q.lr
        * (b.d / (m.d * m.g_prime * b.g_prime.abs())).sqrt()
        * delta_phi.exp()
        * past_factor;
    Some(KramersMfpt {
        minimum: r.sign * m.w,
        barrier: r.sign * b.w,
        delta_phi,
        past_factor,
        tau,
    })
}

/// The discrete operator on [wall, past], reflecting at the wall and absorbing at
/// `past`, with the start spread linearly over the two nearest centres.
struct Absorbing {
    flux: String,
    chain: Chain,
    h: f64,
    /// First of the two centres around the start, and the weight of the second.
    i0: usize,
    frac: f64,
    tau: f64,
    escape_rate: Option<f64>,
}

/// Assemble the absorbing operator of [`escape`] and solve its backward equation.
fn pde_operator(r: &Rightward, opts: &EscapeOptions) -> Result<Absorbing> {
    let (wall, w1) = (r.wall, r.w1);
    let mut qd = r.q.clone();
    qd.a = wall;
    qd.b = w1;
    qd.boundary = Boundary::ZeroFlux;
    let grid = Grid::new(wall, w1, opts.cells)?;
    let fl = flux::by_name(&opts.flux)?;
    let op = Operator::assemble(&qd, grid.clone(), fl.as_ref())?;
    let mut chain = Chain::from_operator(&op)?;
    let h = grid.width(0); // uniform
    let n = grid.n;
    // the absorbing wall: the flux's rate across the half cell to W₁, where P = 0
    let cw = qd.coeffs(w1);
    let cc = op.centre_coeffs[n - 1];
    let fd = FaceData {
        h: 0.5 * h,
        v: -qd.lr * cw.g,
        d_prime: cw.d_prime,
        d_left: cc.d,
        d_right: cw.d,
        d_face: cw.d,
        drift_integral: None,
    };
    let (al, _) = fl.coefficients(&fd);
    chain.kill[n - 1] = al / h;
    // linear weights of `from` on the two nearest centres
    let s = ((r.x0 - wall) / h - 0.5).clamp(0.0, (n - 1) as f64);
    let i0 = (s.floor() as usize).min(n - 2);
    let frac = s - i0 as f64;
    let tau = chain
        .solve_backward(&vec![1.0; n])
        .map_or(f64::INFINITY, |t| (1.0 - frac) * t[i0] + frac * t[i0 + 1]);
    let escape_rate = chain.eigenvalue(0).filter(|&r| r > 0.0);
    Ok(Absorbing {
        flux: fl.name().to_string(),
        chain,
        h,
        i0,
        frac,
        tau,
        escape_rate,
    })
}

impl Absorbing {
    /// Survival by backward Euler at `npts` steps of `dt`, and ∫ survival dt (right
    /// endpoints, plus the tail S(t_end)/λ₀).
    fn survival(&self, dt: f64, npts: usize) -> Result<(Vec<f64>, f64)> {
        let (n, h) = (self.chain.n(), self.h);
        let mut p = vec![0.0; n];
        p[self.i0] = (1.0 - self.frac) / h;
        p[self.i0 + 1] = self.frac / h;
        let step = self
            .chain
            .backward_euler(dt)
            .ok_or_else(|| Error::invalid("survival step", dt, "must be finite and > 0"))?;
        let mut survival = vec![1.0];
        let mut integral = 0.0;
        for _ in 0..npts {
            step(&mut p);
            let sv = p.iter().sum::<f64>() * h;
            integral += dt * sv;
            survival.push(sv);
        }
        let s_end = survival[npts];
        let tail = match self.escape_rate {
            _ if s_end <= 0.0 => 0.0,
            Some(r) => s_end / r,
            // mass that never leaves: the integral diverges
            None => f64::INFINITY,
        };
        Ok((survival, integral + tail))
    }
}

impl McEscape {
    /// The statistics of a first-passage experiment, censored particles counted at
    /// `max_steps`, survival read on `times`.
    pub fn new(mode: McMode, fp: &FirstPassage, times: &[f64]) -> McEscape {
        let mut done: Vec<f64> = fp.exits.iter().map(|&e| e as f64).collect();
        done.extend(std::iter::repeat_n(fp.max_steps as f64, fp.censored));
        let nf = done.len() as f64;
        let mean = done.iter().sum::<f64>() / nf;
        let var = done.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (nf - 1.0).max(1.0);
        McEscape {
            mode,
            particles: done.len(),
            max_steps: fp.max_steps,
            mean,
            se: (var / nf).sqrt(),
            sd: var.sqrt(),
            median: done[done.len() / 2],
            censored: fp.censored,
            survival: times.iter().map(|&t| fp.survival(t)).collect(),
        }
    }
}
