//! One momentum's rows of the momentum report on `seed`: Monte Carlo of SGD with
//! heavy-ball momentum β against the effective Fokker–Planck model (learning rate
//! T/(1 − β)) at T = 0.005 and 0.02, and the pit's stability table.
//!
//! Run: `cargo run --release --example momentum_table -- 0.9` (add `--quick` for the
//! report's small sizes).

use probcurrent::reports::momentum::{rows, stability_table, table, MomentumSizes, LRS};
use probcurrent::reports::validation::Quiet;
use probcurrent::Problem;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let beta: f64 = match args.iter().find(|a| !a.starts_with("--")) {
        Some(b) => b.parse()?,
        None => 0.9,
    };
    let sizes = MomentumSizes::new(args.iter().any(|a| a == "--quick"));
    let seed = Problem::builtin("seed")?;
    let mut all = Vec::new();
    for lr in LRS {
        all.extend(rows(&Quiet, &seed, beta, lr, &sizes)?);
    }
    println!(
        "seed, momentum β = {beta}: {} particles, {} cells\n",
        sizes.particles, sizes.cells
    );
    println!("{}", table(&all));
    println!("{}", stability_table(&seed)?);
    Ok(())
}
