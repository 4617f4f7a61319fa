use probcurrent::*;
#[test]
fn scratch() {
    let f = FormulaLandscape::from_formulas(
        &[
            "-exp(-(w-2)^2)".to_string(),
            "-(w-2)^2".to_string(),
            "-2^2".to_string(),
            "2*-w^2".to_string(),
        ],
        "",
    )
    .unwrap();
    for w in [0.5, 1.0, 3.0] {
        eprintln!(
            "w={w} l0={} l1={} l2={} l3={} exact={}",
            f.loss(0, w),
            f.loss(1, w),
            f.loss(2, w),
            f.loss(3, w),
            -(-(w - 2.0f64).powi(2)).exp()
        );
    }
}
