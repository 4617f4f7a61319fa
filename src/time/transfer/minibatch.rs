//! The minibatches of SGD: every distinct batch of B datapoints out of n, with the
//! probability that one step draws it.
//!
//! With replacement a batch is a multiset, drawn with the multinomial probability
//! B!/∏c_j! / n^B (c_j the multiplicity of datapoint j); without replacement it is a
//! subset, each with probability 1/C(n, B). Batch k moves a weight by the map
//! W ↦ W − T Σ_j (c_j/B) g_j(W), the maps the exact transfer operator averages.

use crate::error::{Error, Result};
use crate::model::problem::Sampling;

/// One minibatch map W ↦ W − T Σ_j c_j g_j(W), drawn with probability `weight`.
#[derive(Clone, Debug, PartialEq)]
pub struct Minibatch {
    /// (datapoint, coefficient c_j = multiplicity / B).
    pub terms: Vec<(usize, f64)>,
    /// Probability of drawing this minibatch.
    pub weight: f64,
}

/// Number of distinct minibatches of `b` from `n` (multisets with replacement, subsets
/// without), as f64 (saturating at +∞).
pub fn minibatch_count(n: usize, b: usize, sampling: Sampling) -> f64 {
    // C(top, b) with top = n + b − 1 (multisets) or n (subsets)
    let top = match sampling {
        Sampling::WithReplacement => n + b - 1,
        Sampling::WithoutReplacement => n,
    };
    if b > top {
        return 0.0;
    }
    let k = b.min(top - b);
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (top - i) as f64 / (i + 1) as f64;
    }
    c.round()
}

/// Every distinct minibatch of `b` datapoints out of `n` with its probability: with
/// replacement the multisets, weighted by the multinomial B!/∏c_j! / n^B; without
/// replacement the subsets, each 1/C(n, B). An error (pointing to `transfer-gaussian`)
/// when there are more than `max`.
pub fn minibatches(n: usize, b: usize, sampling: Sampling, max: usize) -> Result<Vec<Minibatch>> {
    if n == 0 || b == 0 {
        return Err(Error::invalid(
            "minibatch",
            format!("n = {n}, B = {b}"),
            "need at least one datapoint and B >= 1",
        ));
    }
    if sampling == Sampling::WithoutReplacement && b > n {
        return Err(Error::invalid(
            "batch",
            b,
            format!("without replacement the batch cannot exceed the {n} datapoints"),
        ));
    }
    let count = minibatch_count(n, b, sampling);
    if count > max as f64 {
        return Err(Error::invalid(
            "model",
            "transfer-exact",
            format!(
                "n = {n} datapoints with batch B = {b} ({}) give {count:.3e} distinct minibatches, \
                 more than the {max} the exact transfer operator enumerates: use the model \
                 transfer-gaussian (the per-step normal rule) or a smaller batch",
                match sampling {
                    Sampling::WithReplacement => "with replacement",
                    Sampling::WithoutReplacement => "without replacement",
                }
            ),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    let bf = b as f64;
    // non-decreasing index tuples i_1 <= ... <= i_B (strictly increasing without replacement)
    let strict = sampling == Sampling::WithoutReplacement;
    let mut idx: Vec<usize> = if strict { (0..b).collect() } else { vec![0; b] };
    let ln_bfact = libm::lgamma(bf + 1.0);
    loop {
        let mut terms: Vec<(usize, f64)> = Vec::new();
        for &i in &idx {
            match terms.last_mut() {
                Some((j, c)) if *j == i => *c += 1.0,
                _ => terms.push((i, 1.0)),
            }
        }
        let weight = if strict {
            1.0 / count
        } else {
            let ln_w = ln_bfact
                - terms
                    .iter()
                    .map(|(_, c)| libm::lgamma(c + 1.0))
                    .sum::<f64>()
                - bf * (n as f64).ln();
            ln_w.exp()
        };
        for t in terms.iter_mut() {
            t.1 /= bf;
        }
        out.push(Minibatch { terms, weight });
        // advance to the next tuple
        let mut k = b;
        loop {
            if k == 0 {
                let total: f64 = out.iter().map(|m| m.weight).sum();
                out.iter_mut().for_each(|m| m.weight /= total);
                return Ok(out);
            }
            k -= 1;
            let limit = if strict { n - (b - k) } else { n - 1 };
            if idx[k] < limit {
                idx[k] += 1;
                for l in k + 1..b {
                    idx[l] = if strict { idx[l - 1] + 1 } else { idx[k] };
                }
                break;
            }
        }
    }
}
