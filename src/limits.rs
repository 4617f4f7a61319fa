//! Resource limits: the largest requests the library accepts, checked before anything
//! is allocated or looped over.
//!
//! Every size that comes from input — cells, snapshot counts, particles, batch sizes,
//! step counts, formula sizes — is checked here against a fixed limit before it sizes
//! an allocation or a loop, so that no input can exhaust memory, overflow a capacity
//! or run without end. An exceeded limit is an [`Error::Limit`] naming the requested
//! value, the limit and what to change. The limits are far above any useful run
//! (a converged density needs thousands of cells, not millions; a Monte Carlo check
//! needs about 1e5 particles).

use crate::error::{num, Error, Result};

/// Most cells of a grid (each vector of the density is 80 MB at this size).
pub const MAX_CELLS: usize = 10_000_000;
/// Largest |W| at either end of a domain: moments and the Monte Carlo power sums
/// (up to W⁴ over 1e8 particles) must stay finite.
pub const MAX_DOMAIN_END: f64 = 1e50;
/// Most snapshot times of one run (t_end / every + 2).
pub const MAX_SNAPSHOTS: usize = 100_000;
/// Most density values kept over all snapshots of one run (cells × snapshots; 400 MB).
pub const MAX_STORED_VALUES: f64 = 5e7;
/// Most time steps of one fixed-step run (t_end / dt), or SGD steps of a discrete model.
pub const MAX_STEPS: f64 = 1e9;
/// Most Monte Carlo particles.
pub const MAX_PARTICLES: usize = 100_000_000;
/// Most particle positions kept by a Monte Carlo run (particles × snapshots; 800 MB).
pub const MAX_POSITIONS: f64 = 1e8;
/// Most histogram counters of a Monte Carlo run (particle blocks × snapshots × cells).
pub const MAX_HISTOGRAM_COUNTERS: f64 = 2e8;
/// Most per-datapoint gradient evaluations of a Monte Carlo run
/// (particles × steps × batch).
pub const MAX_GRADIENT_EVALUATIONS: f64 = 1e10;
/// Largest batch size B.
pub const MAX_BATCH: usize = 1_000_000_000;
/// Most characters in one loss formula.
pub const MAX_FORMULA_CHARS: usize = 2_000;
/// Most operators (binary and unary) in one loss formula: exact differentiation of a
/// formula grows with its size, and beyond this it is slow without being useful.
pub const MAX_FORMULA_OPERATORS: usize = 60;
/// Most multiplicative operators (`*`, `/`, `^`) in one additive term of a loss
/// formula: each doubles part of that term's derivative by the product rule.
pub const MAX_FORMULA_PRODUCTS: usize = 12;
/// Longest exact derivative (first or second) of one loss formula, in characters:
/// every W of the grid evaluates it, and the product rule makes it grow fast.
pub const MAX_DERIVATIVE_CHARS: usize = 5_000;
/// Deepest nesting of parentheses in one loss formula.
pub const MAX_FORMULA_DEPTH: usize = 20;

/// The error for `what` = `requested` over `limit`, with `hint` saying what to change.
pub fn over(what: &str, requested: String, limit: String, hint: &str) -> Error {
    Error::Limit {
        what: what.into(),
        requested,
        limit,
        hint: hint.into(),
        origin: String::new(),
    }
}

/// Check a number of cells: at least 3 and at most [`MAX_CELLS`].
pub fn cells(n: usize) -> Result<usize> {
    if n < 3 {
        return Err(Error::invalid("cells", n, "need at least 3 cells"));
    }
    if n > MAX_CELLS {
        return Err(over(
            "cells",
            n.to_string(),
            MAX_CELLS.to_string(),
            "use fewer cells (a converged density rarely needs more than 1e5)",
        ));
    }
    Ok(n)
}

/// Number of snapshots of times 0, every, …, t_end (t_end included), checked against
/// [`MAX_SNAPSHOTS`] before any list of them is built.
pub fn snapshots(t_end: f64, every: f64) -> Result<usize> {
    let k = t_end / every;
    if !(k.is_finite() && k + 2.0 <= MAX_SNAPSHOTS as f64) {
        return Err(over(
            "snapshots",
            format!(
                "{} (t_end / every = {} / {})",
                num(k.floor() + 2.0),
                num(t_end),
                num(every)
            ),
            MAX_SNAPSHOTS.to_string(),
            "raise --every (or `every` in the problem) or lower --t-end",
        ));
    }
    Ok(k as usize + 2)
}

/// Check the number of density values kept (cells × snapshots) against
/// [`MAX_STORED_VALUES`].
pub fn stored_values(cells: usize, snapshots: usize) -> Result<()> {
    let v = cells as f64 * snapshots as f64;
    if v > MAX_STORED_VALUES {
        return Err(over(
            "stored density values",
            format!("{} ({cells} cells × {snapshots} snapshots)", num(v)),
            num(MAX_STORED_VALUES),
            "use fewer cells or fewer snapshots (raise --every)",
        ));
    }
    Ok(())
}

/// Check the steps t_end / dt of a fixed-step run against [`MAX_STEPS`]; this also
/// refuses a step too small to advance t (dt below the rounding of t_end).
pub fn steps(t_end: f64, dt: f64) -> Result<f64> {
    let n = (t_end / dt).ceil();
    if !(n.is_finite() && n <= MAX_STEPS) {
        return Err(over(
            "steps",
            format!("{} (t_end / dt = {} / {})", num(n), num(t_end), num(dt)),
            num(MAX_STEPS),
            "raise --dt or lower --t-end",
        ));
    }
    Ok(n)
}

/// Check a number of Monte Carlo particles: at least one, at most [`MAX_PARTICLES`].
pub fn particles(n: usize) -> Result<usize> {
    if n == 0 {
        return Err(Error::invalid("particles", 0, "need at least one particle"));
    }
    if n > MAX_PARTICLES {
        return Err(over(
            "particles",
            n.to_string(),
            MAX_PARTICLES.to_string(),
            "use fewer particles (the standard error falls only as 1/√N)",
        ));
    }
    Ok(n)
}

/// Check a batch size: at least 1, at most [`MAX_BATCH`].
pub fn batch(b: usize) -> Result<usize> {
    if b == 0 {
        return Err(Error::invalid("batch", 0, "must be at least 1"));
    }
    if b > MAX_BATCH {
        return Err(over(
            "batch",
            b.to_string(),
            MAX_BATCH.to_string(),
            "use a smaller batch (B = n with replacement is already close to gradient descent)",
        ));
    }
    Ok(b)
}

/// Check the memory and work of a Monte Carlo run of `particles` particles, `steps` SGD
/// steps, `snapshots` snapshots, a histogram of `cells` cells and minibatches of
/// `batch` gradient evaluations per step.
pub fn monte_carlo(
    particles: usize,
    steps: u64,
    snapshots: usize,
    cells: usize,
    batch: usize,
    block: usize,
) -> Result<()> {
    let (pf, sf) = (particles as f64, snapshots as f64);
    let positions = pf * sf;
    if positions > MAX_POSITIONS {
        return Err(over(
            "particle positions kept",
            format!(
                "{} ({particles} particles × {snapshots} snapshots)",
                num(positions)
            ),
            num(MAX_POSITIONS),
            "use fewer particles or fewer snapshots (raise --every)",
        ));
    }
    let counters = particles.div_ceil(block) as f64 * sf * cells as f64;
    if counters > MAX_HISTOGRAM_COUNTERS {
        return Err(over(
            "histogram counters",
            format!(
                "{} ({} particle blocks × {snapshots} snapshots × {cells} cells)",
                num(counters),
                particles.div_ceil(block)
            ),
            num(MAX_HISTOGRAM_COUNTERS),
            "use fewer histogram cells, particles or snapshots",
        ));
    }
    let evals = pf * steps as f64 * batch as f64;
    if evals > MAX_GRADIENT_EVALUATIONS {
        return Err(over(
            "gradient evaluations",
            format!(
                "{} ({particles} particles × {steps} steps × batch {batch})",
                num(evals)
            ),
            num(MAX_GRADIENT_EVALUATIONS),
            "use fewer particles, a smaller batch or a shorter --t-end",
        ));
    }
    Ok(())
}

/// Check the size of a loss formula before it is parsed: its length, its number of
/// operators and the depth of its parentheses.
pub fn formula(text: &str) -> Result<()> {
    let chars = text.chars().count();
    if chars > MAX_FORMULA_CHARS {
        return Err(over(
            "formula length",
            format!("{chars} characters"),
            MAX_FORMULA_CHARS.to_string(),
            "write a shorter formula, or use a dataset landscape for many similar terms",
        ));
    }
    let ops = text.chars().filter(|c| "+-*/^".contains(*c)).count();
    if ops > MAX_FORMULA_OPERATORS {
        return Err(over(
            "formula operators",
            ops.to_string(),
            MAX_FORMULA_OPERATORS.to_string(),
            "write a shorter formula, or use a dataset landscape for many similar terms",
        ));
    }
    let products = products_per_term(text);
    if products > MAX_FORMULA_PRODUCTS {
        return Err(over(
            "formula products (`*`, `/`, `^`) in one term",
            products.to_string(),
            MAX_FORMULA_PRODUCTS.to_string(),
            "write the formula with fewer factors, or use a dataset landscape",
        ));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_FORMULA_DEPTH {
        return Err(over(
            "formula nesting depth",
            deepest.to_string(),
            MAX_FORMULA_DEPTH.to_string(),
            "write the formula with fewer nested parentheses",
        ));
    }
    Ok(())
}

/// The most multiplicative operators (`*`, `/`, `^`) in one additive term of a formula
/// (split at `+` and `-` outside parentheses). The product and quotient rules make a
/// term's derivative grow with the factors inside it, while a sum's derivative is just
/// the sum of its terms' (their total is bounded by [`MAX_FORMULA_OPERATORS`]).
fn products_per_term(text: &str) -> usize {
    let (mut depth, mut here, mut most) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '+' | '-' if depth == 0 => here = 0,
            '*' | '/' | '^' => {
                here += 1;
                most = most.max(here);
            }
            _ => {}
        }
    }
    most
}

/// Check the size of a formula's `order`-th derivative (`chars` characters).
pub fn derivative(chars: usize, order: u8) -> Result<()> {
    if chars > MAX_DERIVATIVE_CHARS {
        let what = if order == 1 {
            "first derivative"
        } else {
            "second derivative"
        };
        return Err(over(
            &format!("length of the formula's {what}"),
            format!("{chars} characters"),
            MAX_DERIVATIVE_CHARS.to_string(),
            "write the formula with fewer factors (expand products and powers of w)",
        ));
    }
    Ok(())
}

/// Check that the domain's ends are within ±[`MAX_DOMAIN_END`].
pub fn domain(a: f64, b: f64) -> Result<()> {
    let end = a.abs().max(b.abs());
    if end > MAX_DOMAIN_END {
        return Err(over(
            "domain end |W|",
            format!("{} (domain [{}, {}])", num(end), num(a), num(b)),
            num(MAX_DOMAIN_END),
            "rescale W so that the domain lies within ±1e50",
        ));
    }
    Ok(())
}
