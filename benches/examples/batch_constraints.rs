//! Prints the constraint count of the batch circuit per statement and batch
//! size, at the statements' full capacity and the production tree depth,
//! beside `B` single-device circuits:
//!
//! ```sh
//! cargo run --release -p depin-benches --example batch_constraints -- 1 4 8
//! ```
//!
//! Padding positions synthesize the same constraints as devices, so the
//! statements' sample epochs (one device each) with padding give the count
//! of any batch of that size.

use ark_bn254::Fr;
use ark_relations::gr1cs::ConstraintSynthesizer;
use depin_batch::RewardsTree;
use depin_batch_r1cs::BatchCircuit;
use depin_groth16::prover::circuit_shape;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::StatementCircuit;

/// The production rewards tree: 2^20 - 2 devices.
const DEPTH: usize = 20;

/// Constraints of `circuit` (setup-mode synthesis, as for its keys).
fn count<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<usize, String> {
    circuit_shape(circuit)
        .map(|shape| shape.constraints)
        .map_err(|e| e.to_string())
}

fn row<S: StatementCircuit>(name: &str, sample: S, sizes: &[usize]) -> Result<(), String> {
    let tree = RewardsTree::new(DEPTH).map_err(|e| e.to_string())?;
    let single = count(sample.clone())?;
    for &b in sizes {
        let formed =
            BatchCircuit::form(&tree, b, vec![sample.clone()]).map_err(|e| e.to_string())?;
        let batch = count(formed.circuit)?;
        println!(
            "{name:<9} B = {b:>3}: batch {batch:>10} constraints, {b} single {:>10} ({:.3}x)",
            b * single,
            batch as f64 / (b * single) as f64
        );
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().map_err(|_| format!("not a batch size: {a}")))
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() { vec![1, 4] } else { sizes };
    row("uptime", UptimeCircuit::sample(), &sizes)?;
    row("bandwidth", BandwidthCircuit::sample(), &sizes)?;
    row(
        "coverage",
        CoverageCircuit::sample().map_err(|e| e.to_string())?,
        &sizes,
    )?;
    Ok(())
}
