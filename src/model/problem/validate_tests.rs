//! Tests of [`Problem::validate`]'s finiteness proof for the built-in closed forms.

use super::*;
use crate::model::landscape::{
    ou_landscape, spreading_landscape, vanishing_noise_landscape, ClosureLandscape, Form,
};

/// The analytic finiteness decision of the built-in closed forms is sound: wherever
/// it holds, the closures are finite at dense samples of the domain (its ends
/// included), for parameters and domains up to and beyond the bound.
#[test]
fn closed_forms_proved_finite_are_finite_where_sampled() {
    let domains = [
        (0.0, 3.0),
        (-1e3, 1e3),
        (-1e100, 1e100),
        (0.0, 9e149),
        (-1e150, 1e150),
        (-2e150, 0.0),
    ];
    let values = [
        0.0, 1e-300, 0.5, 100.0, 1e50, 1e75, 1e100, 4e149, 1e150, 1e200,
    ];
    let mut proved = 0;
    for &(a, b) in &domains {
        let ws: Vec<f64> = (0..=4000)
            .map(|i| a + (b - a) * i as f64 / 4000.0)
            .chain(
                [a, b, 1.0, 2.0, 0.0]
                    .into_iter()
                    .filter(|w| (a..=b).contains(w)),
            )
            .collect();
        let mut check = |form: Form, l: ClosureLandscape| {
            assert_eq!(l.form(), Some(form));
            if form.finite_on(a, b) {
                proved += 1;
                l.check_finite(&ws)
                    .unwrap_or_else(|e| panic!("{form:?} on [{a}, {b}]: {e}"));
            }
        };
        check(Form::VanishingNoise, vanishing_noise_landscape());
        for &v in &values {
            for s in [1.0, -1.0] {
                check(Form::Seed { k: s * v }, seed_landscape(s * v));
                check(Form::Spreading { a: s * v }, spreading_landscape(s * v));
                for &m in &[0.0, 1.0, -1e100] {
                    let (c, a2) = (s * v, v);
                    check(Form::Ou { c, m, a: a2 }, ou_landscape(c, m, a2));
                }
            }
        }
    }
    // the decision is not vacuous: most combinations are proved
    assert!(proved > 150, "{proved}");
}

/// Every built-in problem's landscape is proved finite on its domain (validation
/// samples nothing), and a pit sharpness whose closures overflow is not: it is
/// refused by the sampling check with the same error as before, naming the
/// curvature, the first w and the problem's origin.
#[test]
fn builtins_are_proved_finite_and_an_overflowing_k_is_refused() {
    for b in BUILTINS {
        let p = Problem::builtin(b.name).unwrap();
        if let Some(form) = p.landscape.form() {
            assert!(form.finite_on(p.a, p.b), "{}: {form:?}", b.name);
        }
        p.validate().unwrap();
    }
    assert!(!Form::Seed { k: 1e200 }.finite_on(0.0, 3.0));
    assert!(!Form::Seed { k: -1.0 }.finite_on(0.0, 3.0));
    assert!(!Form::Seed { k: f64::NAN }.finite_on(0.0, 3.0));
    assert!(!Form::Ou {
        c: 1.0,
        m: 0.0,
        a: f64::INFINITY
    }
    .finite_on(0.0, 3.0));
    let mut p = Problem::builtin("seed").unwrap();
    p.landscape = Arc::new(seed_landscape(1e200));
    match p.validate() {
        Err(Error::NonFinite {
            what, w, origin, ..
        }) => {
            assert!(what.starts_with("curvature of datapoint 2"), "{what}");
            assert_eq!(w.to_bits(), p.a.to_bits(), "{w}");
            assert_eq!(origin, format!(" (from {})", p.origin));
        }
        other => panic!("{other:?}"),
    }
    // the same through `--set` (k = 1e200 is positive and finite): the error names
    // the override, the curvature and its value
    let sets = [
        "landscape.kind=seed".to_string(),
        "landscape.k=1e200".into(),
    ];
    let e = Problem::resolve_with("seed", &sets)
        .unwrap_err()
        .to_string();
    assert!(e.contains("landscape.k=1e200"), "{e}");
    assert!(
        e.contains("curvature of datapoint 2") && e.contains("NaN"),
        "{e}"
    );
}
