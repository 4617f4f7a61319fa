//! The built-in problems: one table of (name, summary, constructor), read by
//! [`Problem::builtin`]. A name is found in the table or refused with the list of known
//! names; there is no fall-through arm, so a new problem is one row and one constructor.

use super::{Exact, Initial, Problem, Region};
use crate::error::{Error, Result};
// the wide-narrow problem lives with its end-state study (re-point this line if it moves)
use crate::model::landscape::{
    ou_landscape, seed_landscape, spreading_landscape, vanishing_noise_landscape,
};
use crate::model::wide_narrow::{wide_narrow_problem, WIDE_NARROW_SUMMARY};

/// A built-in problem: its name, one-line summary and constructor.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Name, e.g. `seed`.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Build the problem ([`Problem::builtin`] then sets its name, summary and origin
    /// from this row).
    pub build: fn() -> Problem,
}

const fn row(name: &'static str, summary: &'static str, build: fn() -> Problem) -> Builtin {
    Builtin {
        name,
        summary,
        build,
    }
}

/// The built-in problems, in listing order: the one table [`Problem::builtin`] reads.
pub const BUILTINS: &[Builtin] = &[
    row(
        "seed",
        "the reference landscape: sharp pit at W≈1 (noise vanishes at W=1), wide basin at W=2; T=0.02, B=1, [0,3]",
        seed,
    ),
    row(
        "seed-drift",
        "seed with S² forced to 0: pure transport by −T·G",
        seed_drift,
    ),
    row(
        "spreading",
        "G = 0, S² = 1 constant: variance grows by T²S²/B per step",
        spreading,
    ),
    row(
        "ou",
        "G = W, S² = 1: Ornstein–Uhlenbeck, exact mean and variance known",
        ou,
    ),
    row(
        "vanishing-noise",
        "G = W − 1, S² = (W − 1)² + ε: the noise vanishes at the minimum (ε = noise_floor, default 0)",
        vanishing_noise,
    ),
    row("wide-narrow", WIDE_NARROW_SUMMARY, wide_narrow_problem),
];

/// (name, summary) of every built-in problem, in the order of [`BUILTINS`].
pub const BUILTIN_PROBLEMS: &[(&str, &str)] = &names_and_summaries::<{ BUILTINS.len() }>();

const fn names_and_summaries<const N: usize>() -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = (BUILTINS[i].name, BUILTINS[i].summary);
        i += 1;
    }
    out
}

/// Boundary of the `pit` and `basin` regions of the seed problem (the barrier, G = 0).
pub const SEED_BARRIER: f64 = 1.17431;

fn seed_regions() -> Vec<Region> {
    vec![
        Region::new("pit", None, Some(SEED_BARRIER)),
        Region::new("basin", Some(SEED_BARRIER), None),
    ]
}

fn seed() -> Problem {
    Problem::builder(seed_landscape(100.0))
        .regions(seed_regions())
        .assemble()
}

fn seed_drift() -> Problem {
    Problem::builder(seed_landscape(100.0))
        .regions(seed_regions())
        .noise_scale(0.0)
        .assemble()
}

fn spreading() -> Problem {
    Problem::builder(spreading_landscape(1.0))
        .domain(-5.0, 5.0)
        .initial(Initial::Normal { mean: 0.0, sd: 0.2 })
        .region("right", Some(0.0), None)
        .exact(Exact::Spreading { a: 1.0 })
        .assemble()
}

fn ou() -> Problem {
    Problem::builder(ou_landscape(1.0, 0.0, 1.0))
        .domain(-1.0, 2.0)
        .initial(Initial::Normal { mean: 1.0, sd: 0.1 })
        .times(100.0, 10.0)
        .region("right", Some(0.5), None)
        .exact(Exact::Ou {
            c: 1.0,
            m: 0.0,
            a: 1.0,
        })
        .assemble()
}

fn vanishing_noise() -> Problem {
    Problem::builder(vanishing_noise_landscape())
        .domain(0.0, 2.0)
        .initial(Initial::Normal { mean: 0.3, sd: 0.1 })
        .region("near", Some(0.9), Some(1.1))
        .assemble()
}

impl Problem {
    /// A built-in problem by name (see [`BUILTINS`]); an unknown name is an error
    /// listing the known ones.
    pub fn builtin(name: &str) -> Result<Problem> {
        let row = BUILTINS
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "problem".into(),
                name: name.into(),
                known: BUILTINS
                    .iter()
                    .map(|b| b.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let mut p = (row.build)();
        p.name = row.name.into();
        p.summary = row.summary.into();
        p.origin = format!("built-in problem `{}`", row.name);
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_builds_under_its_name_and_validates() {
        let mut names: Vec<_> = BUILTINS.iter().map(|b| b.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTINS.len(), "duplicate built-in names");
        assert_eq!(BUILTIN_PROBLEMS.len(), BUILTINS.len());
        for (b, (name, summary)) in BUILTINS.iter().zip(BUILTIN_PROBLEMS) {
            assert_eq!((b.name, b.summary), (*name, *summary));
            let p = Problem::builtin(b.name).unwrap();
            assert_eq!(p.name, b.name);
            assert_eq!(p.summary, b.summary);
            p.validate().unwrap();
        }
    }

    #[test]
    fn unknown_builtin_lists_the_known_ones() {
        let e = Problem::builtin("sead").unwrap_err().to_string();
        for b in BUILTINS {
            assert!(e.contains(b.name), "{e}");
        }
    }

    #[test]
    fn builder_defaults_are_the_seed_problem() {
        let built = Problem::builder(seed_landscape(100.0))
            .regions(seed_regions())
            .build()
            .unwrap();
        let seed = Problem::builtin("seed").unwrap();
        assert_eq!(
            format!(
                "{:?}",
                (built.lr, built.batch, built.sampling, built.a, built.b)
            ),
            format!("{:?}", (seed.lr, seed.batch, seed.sampling, seed.a, seed.b))
        );
        assert_eq!(built.initial, seed.initial);
        assert_eq!(built.regions, seed.regions);
        assert_eq!(built.boundary, seed.boundary);
        let bad = Problem::builder(seed_landscape(100.0))
            .domain(1.0, 0.0)
            .build();
        assert!(matches!(bad, Err(Error::BadDomain { .. })));
    }
}
