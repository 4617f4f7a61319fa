//! The discrete-time models (docs/model.md) against Monte Carlo of the processes they
//! discretise, the Markov property of their matrices, and their approach to the
//! Fokker–Planck density as the learning rate shrinks at fixed T·t.

use std::sync::Arc;

use probcurrent::analysis::metrics::wasserstein1;
use probcurrent::analysis::montecarlo::{simulate, McMode, McReport, McSettings};
use probcurrent::run::output::write_run;
use probcurrent::time::transfer::{minibatch_count, minibatches};
use probcurrent::{
    run, run_transfer, run_transfer_with, Boundary, ClosureLandscape, Deposit, Grid, Landscape,
    Problem, RunReport, RunSettings, Sampling, Scheme, Transfer, TransferKind, TransferOptions,
};
use proptest::prelude::*;

const TIMES: [f64; 4] = [50.0, 100.0, 250.0, 500.0];

fn seed_run(kind: TransferKind, cells: usize) -> RunReport {
    let p = Problem::builtin("seed").unwrap();
    let s = RunSettings {
        cells,
        t_end: Some(500.0),
        every: Some(50.0),
        ..RunSettings::default()
    };
    run_transfer(&p, kind, &s).expect("transfer run")
}

fn seed_mc(mode: McMode, particles: usize) -> McReport {
    let p = Problem::builtin("seed").unwrap();
    simulate(
        &p,
        &McSettings {
            particles,
            seed: 11,
            mode,
            t_end: Some(500.0),
            every: Some(50.0),
            cells: 600,
            ..McSettings::default()
        },
        &|_, _| {},
    )
    .expect("monte carlo")
}

/// (mean, sd, basin mass) of a run at time t.
fn stats_at(r: &RunReport, t: f64) -> [f64; 3] {
    let m = r.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
    let b = r.region_names.iter().position(|n| n == "basin").unwrap();
    [m.mean, m.sd, m.regions[b]]
}

/// Every statistic of `fine` within 4 Monte Carlo standard errors plus the two-grid
/// error |fine − coarse| of the Monte Carlo estimate; returns the largest |z|.
fn check_against_mc(name: &str, fine: &RunReport, coarse: &RunReport, mc: &McReport) -> f64 {
    let basin = mc.region_names.iter().position(|n| n == "basin").unwrap();
    let mut worst: f64 = 0.0;
    for t in TIMES {
        let f = stats_at(fine, t);
        let c = stats_at(coarse, t);
        let m = mc.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
        let mcv = [m.mean, m.sd, m.regions[basin]];
        let se = [m.mean_se, m.sd_se, m.regions_se[basin]];
        for (k, what) in ["mean", "sd", "basin"].iter().enumerate() {
            let grid_err = (f[k] - c[k]).abs();
            let z = (f[k] - mcv[k]) / se[k];
            eprintln!(
                "{name} t = {t:>3}: {what:<5} model {:.5} MC {:.5} ± {:.5}  z = {z:+.2}  grid error {grid_err:.1e}",
                f[k], mcv[k], se[k]
            );
            assert!(
                (f[k] - mcv[k]).abs() <= 4.0 * se[k] + grid_err,
                "{name} t = {t}: {what} {} vs Monte Carlo {} ± {} (grid error {grid_err})",
                f[k],
                mcv[k],
                se[k]
            );
            worst = worst.max(z.abs());
        }
    }
    worst
}

/// The must-show: `transfer-exact` on seed at 3000 cells to t = 500, written with
/// `output::write_run`, gives a moments.csv whose mean, sd and mass_basin follow Monte
/// Carlo of SGD (200 000 particles) within 4 standard errors plus the two-grid error
/// (3000 against 6000 cells) — and not the Fokker–Planck density, which at this T
/// leaks out of the pit far more slowly.
#[test]
fn transfer_exact_follows_sgd_not_fokker_planck() {
    let fine = seed_run(TransferKind::Exact, 3000);
    let finer = seed_run(TransferKind::Exact, 6000);
    let mc = seed_mc(McMode::Sgd, 200_000);
    assert!(fine.mass_error.unwrap().abs() < 1e-12);
    assert!(fine.min_p >= 0.0);
    assert_eq!(fine.stats.steps, 500);
    assert_eq!(fine.stats.rhs_evals, 500);
    // written and read back as the CLI will write it
    let dir = std::env::temp_dir().join(format!("probcurrent-transfer-{}", std::process::id()));
    write_run(&fine, &dir).unwrap();
    let text = std::fs::read_to_string(dir.join("moments.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ct, cm, cs, cb) = (col("t"), col("mean"), col("sd"), col("mass_basin"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let mut from_csv = fine.clone();
    for (m, row) in from_csv.moments.iter_mut().zip(&rows) {
        assert!((m.t - row[ct]).abs() < 1e-9);
        m.mean = row[cm];
        m.sd = row[cs];
        let b = fine.region_names.iter().position(|n| n == "basin").unwrap();
        m.regions[b] = row[cb];
    }
    let worst = check_against_mc("transfer-exact", &from_csv, &finer, &mc);
    eprintln!("transfer-exact: largest |z| = {worst:.2}");

    // the Fokker–Planck density is far from SGD at this T
    let p = Problem::builtin("seed").unwrap();
    let sg = Scheme::resolve("scharfetter-gummel").unwrap();
    let fp = run(
        &p,
        &sg,
        &RunSettings {
            cells: 3000,
            dt: Some(0.25),
            t_end: Some(500.0),
            every: Some(50.0),
            ..RunSettings::default()
        },
    )
    .unwrap();
    let basin = mc.region_names.iter().position(|n| n == "basin").unwrap();
    eprintln!(
        "outcome of transfer-exact: {:?} {:?}",
        fine.outcome, fine.reason
    );
    eprintln!("  t | mean: exact / MC / FP | sd: exact / MC / FP | basin: exact / MC / FP");
    for t in TIMES {
        let (e, f) = (stats_at(&fine, t), stats_at(&fp, t));
        let m = mc.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
        eprintln!(
            "{t:>4} | {:.4} / {:.4} ± {:.4} / {:.4} | {:.4} / {:.4} ± {:.4} / {:.4} | {:.4} / {:.4} ± {:.4} / {:.4}",
            e[0], m.mean, m.mean_se, f[0], e[1], m.sd, m.sd_se, f[1], e[2], m.regions[basin],
            m.regions_se[basin], f[2]
        );
    }
    for t in [100.0, 250.0] {
        let m = mc.moments.iter().find(|m| (m.t - t).abs() < 1e-9).unwrap();
        let zf = (stats_at(&fp, t)[2] - m.regions[basin]) / m.regions_se[basin];
        eprintln!(
            "Fokker–Planck t = {t}: basin {:.4} vs SGD {:.4} (z = {zf:+.0})",
            stats_at(&fp, t)[2],
            m.regions[basin]
        );
        assert!(zf.abs() > 50.0, "FP unexpectedly close to SGD at t = {t}");
    }
}

/// `transfer-gaussian` against Monte Carlo of the Gaussian-kick model (the same
/// per-step rule, sampled): within 4 standard errors plus the two-grid error
/// (1500 against 3000 cells).
#[test]
fn transfer_gaussian_follows_gaussian_kick_monte_carlo() {
    let fine = seed_run(TransferKind::Gaussian, 3000);
    let coarse = seed_run(TransferKind::Gaussian, 1500);
    assert!(fine.mass_error.unwrap().abs() < 1e-12);
    let mc = seed_mc(McMode::Gaussian, 200_000);
    let worst = check_against_mc("transfer-gaussian", &fine, &coarse, &mc);
    eprintln!("transfer-gaussian: largest |z| = {worst:.2}");
}

/// Minibatch enumeration: counts, weights summing to one, the multinomial weights of
/// multisets, and the error pointing to transfer-gaussian.
#[test]
fn minibatch_enumeration() {
    let m = minibatches(3, 2, Sampling::WithReplacement, 100).unwrap();
    assert_eq!(m.len(), 6);
    let total: f64 = m.iter().map(|b| b.weight).sum();
    assert!((total - 1.0).abs() < 1e-15);
    // {0,0} has weight 1/9, {0,1} has 2/9
    assert!((m[0].weight - 1.0 / 9.0).abs() < 1e-15);
    assert!((m[1].weight - 2.0 / 9.0).abs() < 1e-15);
    assert_eq!(m[0].terms, vec![(0, 1.0)]);
    let m = minibatches(4, 2, Sampling::WithoutReplacement, 100).unwrap();
    assert_eq!(m.len(), 6);
    assert!(m.iter().all(|b| (b.weight - 1.0 / 6.0).abs() < 1e-15));
    assert!(m.iter().all(|b| b.terms.len() == 2));
    assert!((minibatch_count(100, 3, Sampling::WithReplacement) - 171_700.0).abs() < 0.5);
    let err = minibatches(100, 3, Sampling::WithReplacement, 4096).unwrap_err();
    assert!(err.to_string().contains("transfer-gaussian"), "{err}");
    // B > 1 on seed: the mean of one step equals −T G, its variance T² S²/B
    let mut p = Problem::builtin("seed").unwrap();
    p.batch = 3;
    let grid = Grid::new(p.a, p.b, 300).unwrap();
    let tr = Transfer::build(
        &p,
        grid.clone(),
        TransferKind::Exact,
        &TransferOptions::default(),
    )
    .unwrap();
    assert_eq!(tr.maps, 4);
    let sums = tr.matrix.column_sums();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-12));
}

/// Time must be whole steps; dt other than 1 and tolerances are refused; modified noise
/// cannot be represented by minibatches.
#[test]
fn bad_settings_are_errors() {
    let p = Problem::builtin("seed").unwrap();
    let s = |t_end: f64, every: f64| RunSettings {
        cells: 100,
        t_end: Some(t_end),
        every: Some(every),
        ..RunSettings::default()
    };
    let e = run_transfer(&p, TransferKind::Exact, &s(10.5, 5.0)).unwrap_err();
    assert!(e.to_string().contains("whole SGD steps"), "{e}");
    assert!(run_transfer(&p, TransferKind::Exact, &s(10.0, 2.5)).is_err());
    let bad_dt = RunSettings {
        dt: Some(0.5),
        ..s(10.0, 5.0)
    };
    assert!(run_transfer(&p, TransferKind::Gaussian, &bad_dt).is_err());
    let one = RunSettings {
        dt: Some(1.0),
        ..s(10.0, 5.0)
    };
    assert!(run_transfer(&p, TransferKind::Gaussian, &one).is_ok());
    let mut q = p.clone();
    q.noise_floor = 0.1;
    let e = run_transfer(&q, TransferKind::Exact, &s(10.0, 5.0)).unwrap_err();
    assert!(e.to_string().contains("transfer-gaussian"), "{e}");
    assert!(run_transfer(&q, TransferKind::Gaussian, &s(10.0, 5.0)).is_ok());
    // drift only: the exact model is gradient descent
    let d = Problem::builtin("seed-drift").unwrap();
    let r = run_transfer(&d, TransferKind::Exact, &s(10.0, 5.0)).unwrap();
    assert_eq!(r.stats.steps, 10);
    let o = TransferOptions {
        subcells: 0,
        ..TransferOptions::default()
    };
    assert!(run_transfer_with(&p, TransferKind::Exact, &o, &s(10.0, 5.0)).is_err());
}

/// Affine maps: with Ulam's cell deposit a translation by a whole number of cells moves
/// every cell's mass to one cell, and by half a cell half to each neighbour; the linear
/// (hat) deposit spreads a cell over three (1/8, 3/4, 1/8 for whole shifts) and keeps
/// the mean exactly, for any shift.
#[test]
fn translations() {
    for (shift_cells, expect) in [(2.0, vec![(2usize, 1.0)]), (0.5, vec![(0, 0.5), (1, 0.5)])] {
        let h = 0.01;
        let c = -shift_cells * h / 0.1; // g = c, T = 0.1: w ↦ w + shift
        let land = ClosureLandscape::new().datapoint("c*w", move |w| c * w, move |_| c, |_| 0.0);
        let mut p = Problem::builtin("seed").unwrap();
        p.landscape = Arc::new(land);
        p.lr = 0.1;
        p.a = 0.0;
        p.b = 1.0;
        p.regions.clear();
        let grid = Grid::new(0.0, 1.0, 100).unwrap();
        for deposit in [Deposit::Cells, Deposit::Linear] {
            let o = TransferOptions {
                deposit,
                ..TransferOptions::default()
            };
            let tr = Transfer::build(&p, grid.clone(), TransferKind::Exact, &o).unwrap();
            // column 10 (away from the walls)
            let mut x = vec![0.0; 100];
            x[10] = 1.0;
            let mut y = vec![0.0; 100];
            tr.step(&x, &mut y);
            let total: f64 = y.iter().sum();
            assert!((total - 1.0).abs() < 1e-14);
            let mean: f64 = y.iter().enumerate().map(|(i, v)| v * grid.centre(i)).sum();
            if deposit == Deposit::Cells {
                for (off, v) in &expect {
                    assert!((y[10 + off] - v).abs() < 1e-12, "{:?}", &y[8..16]);
                }
            } else {
                assert!((mean - grid.centre(10) - shift_cells * h).abs() < 1e-14);
                if (shift_cells - 2.0f64).abs() < 1e-12 {
                    let w = [0.125, 0.75, 0.125];
                    for (k, v) in w.iter().enumerate() {
                        assert!((y[11 + k] - v).abs() < 1e-12, "{:?}", &y[8..16]);
                    }
                }
            }
        }
    }
}

/// Absorbing walls remove what leaves; reflecting walls fold it back (as the Monte
/// Carlo engine's `reflect`).
#[test]
fn walls_reflect_or_absorb() {
    // every point moves left by 0.05 on [0, 1] with 10 cells: cell 0 leaves entirely
    let land = ClosureLandscape::new().datapoint("w", |w| 0.5 * w, |_| 0.5, |_| 0.0);
    let mut p = Problem::builtin("seed").unwrap();
    p.landscape = Arc::new(land);
    p.lr = 0.1;
    p.a = 0.0;
    p.b = 1.0;
    p.regions.clear();
    let grid = Grid::new(0.0, 1.0, 10).unwrap();
    let o = TransferOptions::default();
    let tr = Transfer::build(&p, grid.clone(), TransferKind::Exact, &o).unwrap();
    let s = tr.matrix.column_sums();
    assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-14));
    // cell 0 = [0, 0.1] ↦ [−0.05, 0.05], folded onto [0, 0.05]: all stays in cell 0
    assert!((tr.matrix.row(0).find(|e| e.0 == 0).unwrap().1 - 1.0).abs() < 1e-14);
    p.boundary = Boundary::Absorbing;
    let tr = Transfer::build(&p, grid.clone(), TransferKind::Exact, &o).unwrap();
    let s = tr.matrix.column_sums();
    assert!((s[0] - 0.5).abs() < 1e-14, "{}", s[0]);
    assert!(s[1..].iter().all(|v| (v - 1.0).abs() < 1e-14));
    let r = run_transfer(
        &p,
        TransferKind::Gaussian,
        &RunSettings {
            cells: 50,
            t_end: Some(20.0),
            every: Some(10.0),
            ..RunSettings::default()
        },
    )
    .unwrap();
    assert!(r.mass_absorbed.unwrap() > 0.0);
}

/// As T shrinks at fixed T·t, both transfer models and the Fokker–Planck density come
/// together: W1 at T·t = 2 and 4 falls by more than half at each halving of T.
#[test]
fn transfer_approaches_fokker_planck_as_lr_shrinks() {
    let sg = Scheme::resolve("scharfetter-gummel").unwrap();
    let mut w1 = vec![];
    for lr in [0.02, 0.01, 0.005] {
        let mut p = Problem::builtin("seed").unwrap();
        p.lr = lr;
        let s = RunSettings {
            cells: 1500,
            t_end: Some((4.0 / lr).round()),
            every: Some((2.0 / lr).round()),
            ..RunSettings::default()
        };
        let ex = run_transfer(&p, TransferKind::Exact, &s).unwrap();
        let ga = run_transfer(&p, TransferKind::Gaussian, &s).unwrap();
        let fp = run(
            &p,
            &sg,
            &RunSettings {
                dt: Some(0.25 * lr / 0.02),
                ..s.clone()
            },
        )
        .unwrap();
        let d: Vec<[f64; 2]> = [1, 2]
            .iter()
            .map(|&k| {
                [
                    wasserstein1(&ex.grid, &ex.snapshots[k].p, &fp.snapshots[k].p).unwrap(),
                    wasserstein1(&ex.grid, &ga.snapshots[k].p, &fp.snapshots[k].p).unwrap(),
                ]
            })
            .collect();
        eprintln!(
            "T = {lr}: W1(exact, FP) = {:.3e}, {:.3e}; W1(gaussian, FP) = {:.3e}, {:.3e} at T·t = 2, 4",
            d[0][0], d[1][0], d[0][1], d[1][1]
        );
        w1.push(d);
    }
    for k in 0..2 {
        for m in 0..2 {
            assert!(
                w1[1][k][m] < 0.5 * w1[0][k][m] && w1[2][k][m] < 0.5 * w1[1][k][m],
                "no approach: {:?}",
                w1
            );
        }
    }
}

fn random_problem(
    centres: Vec<(f64, f64, f64, f64)>,
    lr: f64,
    a: f64,
    len: f64,
    batch: usize,
    without: bool,
    absorbing: bool,
) -> Problem {
    let mut land = ClosureLandscape::new();
    for (c, m, amp, freq) in centres {
        land = land.datapoint(
            "random",
            move |w| 0.5 * c * (w - m).powi(2) + amp * (freq * w).sin(),
            move |w| c * (w - m) + amp * freq * (freq * w).cos(),
            move |w| c - amp * freq * freq * (freq * w).sin(),
        );
    }
    let n = land.len();
    let mut p = Problem::builtin("seed").unwrap();
    p.landscape = Arc::new(land);
    p.lr = lr;
    p.a = a;
    p.b = a + len;
    p.regions.clear();
    p.batch = if without { batch.min(n) } else { batch };
    p.sampling = if without {
        Sampling::WithoutReplacement
    } else {
        Sampling::WithReplacement
    };
    p.boundary = if absorbing {
        Boundary::Absorbing
    } else {
        Boundary::ZeroFlux
    };
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every column of either Markov matrix sums to one with reflecting walls (at most
    /// one with absorbing walls), every entry is positive, and one step conserves mass.
    #[test]
    fn markov_columns_sum_to_one(
        centres in prop::collection::vec((-5.0f64..5.0, -1.0f64..2.0, 0.0f64..2.0, 0.5f64..6.0), 1..4),
        lr in 0.001f64..0.1,
        a in -2.0f64..0.0,
        len in 1.0f64..4.0,
        cells in 3usize..80,
        subcells in 1usize..6,
        batch in 1usize..4,
        without in any::<bool>(),
        absorbing in any::<bool>(),
        gaussian in any::<bool>(),
    ) {
        let p = random_problem(centres, lr, a, len, batch, without, absorbing);
        let grid = Grid::new(p.a, p.b, cells).unwrap();
        let kind = if gaussian { TransferKind::Gaussian } else { TransferKind::Exact };
        let o = TransferOptions { subcells, ..TransferOptions::default() };
        let tr = Transfer::build(&p, grid.clone(), kind, &o).unwrap();
        prop_assert!(tr.matrix.min_entry() > 0.0 || tr.matrix.nnz() == 0);
        for (j, s) in tr.matrix.column_sums().iter().enumerate() {
            if absorbing {
                prop_assert!(*s >= 0.0 && *s <= 1.0 + 1e-13, "column {j} sums to {s}");
            } else {
                prop_assert!((s - 1.0).abs() < 1e-13, "column {j} sums to {s}");
            }
        }
        let x: Vec<f64> = (0..cells).map(|i| 1.0 + (i % 3) as f64).collect();
        let mut y = vec![0.0; cells];
        tr.step(&x, &mut y);
        let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
        if absorbing {
            prop_assert!(sy <= sx * (1.0 + 1e-13));
        } else {
            prop_assert!((sy - sx).abs() < 1e-12 * sx);
        }
    }
}
