//! Proving an uptime batch against proving its devices one by one, on the
//! proving core, with time and peak memory.
//!
//! `cargo run --release -p depin-benches --example batch_prove -- 4 8`
//! (batch sizes; default 4). For each `B`: `B` distinct devices, each with
//! the statement's sample epoch (`UptimeCircuit::sample_with_key`: 96
//! heartbeats, every slot answered), formed into a batch
//! on an empty rewards tree of depth 20; a development Groth16 setup of
//! the batch circuit (arkworks, seeded: **insecure**, and timed apart);
//! then one batch proof on `depin-prover-core` (matrices built once, as
//! the service does, then the proof), checked with `ark_groth16::verify`
//! against the digest; before it the `B` single-device proofs with the
//! statement's key. Peak memory is the kernel's high-water mark of the
//! process's resident memory (`VmHWM`), reset before each measurement: the
//! singles' with the statement's key resident, the batch's with its own
//! key and matrices as well.
//!
//! Linux only (`/proc/self/status`, `/proc/self/clear_refs`).

use std::time::Instant;

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use depin_batch::RewardsTree;
use depin_batch_r1cs::BatchCircuit;
use depin_benches::process_memory;
use depin_crypto::eddsa::PrivateKey;
use depin_groth16::keys::dev_setup;
use depin_groth16::prover::Prover;
use depin_prover_core::groth16::CircuitProver;
use depin_statements_r1cs::uptime::UptimeCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The production rewards tree.
const DEPTH: usize = 20;

fn peak_mib() -> Result<f64, std::io::Error> {
    Ok(process_memory::status_kib("VmHWM:")? as f64 / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() { vec![4] } else { sizes };
    let mut rng = ChaCha20Rng::seed_from_u64(7);

    // The single-device baseline: the statement's key and prover.
    let keys = dev_setup(UptimeCircuit::sample(), 1)?;
    let single = Prover::new(keys.proving, UptimeCircuit::sample())?;

    for b in sizes {
        let b_u8 = u8::try_from(b).map_err(|_| "batch sizes up to 255")?;
        let epochs: Vec<UptimeCircuit> = (0..b_u8)
            .map(|i| UptimeCircuit::sample_with_key(&PrivateKey::from_bytes([i + 1; 32])))
            .collect();
        // The singles first, so that the batch's key is not resident.
        process_memory::reset_peak()?;
        let start = Instant::now();
        for e in &epochs {
            single.prove(e.clone(), &mut rng)?;
        }
        let singles = start.elapsed();
        let single_peak = peak_mib()?;

        let tree = RewardsTree::new(DEPTH)?;
        let batch = BatchCircuit::form(&tree, b, epochs)?.circuit;
        let digest = batch.digest();

        let start = Instant::now();
        let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(batch.clone(), &mut rng)?;
        let setup = start.elapsed();

        let start = Instant::now();
        let core = CircuitProver::from_circuit(batch.clone())?;
        let matrices = start.elapsed();
        let constraints = core.r1cs().num_constraints();

        process_memory::reset_peak()?;
        let start = Instant::now();
        let (proof, timings) =
            core.prove_circuit(&pk, batch, Fr::rand(&mut rng), Fr::rand(&mut rng))?;
        let prove = start.elapsed();
        let batch_peak = peak_mib()?;
        if !Groth16::<Bn254>::verify(&vk, &[digest], &proof)? {
            return Err("the batch proof does not verify".into());
        }

        println!(
            "uptime B = {b}: {constraints} constraints; setup {:.1} s; matrices {:.2} s; \
             batch proof {:.2} s (witness {:.2} s, quotient {:.2} s, MSMs {:.2} s), peak {:.0} MiB; \
             {b} single proofs {:.2} s, peak {:.0} MiB; batch/singles {:.2}x",
            setup.as_secs_f64(),
            matrices.as_secs_f64(),
            prove.as_secs_f64(),
            timings.witness.as_secs_f64(),
            timings.witness_map.as_secs_f64(),
            timings.msm.as_secs_f64(),
            batch_peak,
            singles.as_secs_f64(),
            single_peak,
            prove.as_secs_f64() / singles.as_secs_f64(),
        );
    }
    Ok(())
}
