//! Proving a batch against proving its devices one by one, on the proving
//! core, with time and peak memory.
//!
//! `cargo run --release -p depin-benches --example batch_prove -- uptime 4 8`
//! (the statement, then batch sizes; default uptime and 4). For each `B`:
//! `B` distinct devices, each with the statement's full-capacity sample
//! epoch (`UptimeCircuit::sample_with_key` and its siblings: 96 heartbeats,
//! 32 receipts or 16 witness reports), formed into a batch
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
use depin_batch::{RewardsTree, TREE_DEPTH};
use depin_batch_r1cs::BatchCircuit;
use depin_benches::process_memory;
use depin_crypto::eddsa::PrivateKey;
use depin_groth16::keys::dev_setup;
use depin_groth16::prover::Prover;
use depin_prover_core::groth16::CircuitProver;
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn peak_mib() -> Result<f64, std::io::Error> {
    Ok(process_memory::status_kib("VmHWM:")? as f64 / 1024.0)
}

type Error = Box<dyn std::error::Error>;

/// Device `i`'s full-capacity sample epoch of the statement.
trait Sample: StatementCircuit {
    fn for_device(i: u8) -> Result<Self, Error>;
}

impl Sample for UptimeCircuit {
    fn for_device(i: u8) -> Result<Self, Error> {
        Ok(UptimeCircuit::sample_with_key(&device_key(i)))
    }
}

impl Sample for BandwidthCircuit {
    fn for_device(i: u8) -> Result<Self, Error> {
        Ok(BandwidthCircuit::sample_with_key(&device_key(i)))
    }
}

impl Sample for CoverageCircuit {
    fn for_device(i: u8) -> Result<Self, Error> {
        Ok(CoverageCircuit::sample_with_key(&device_key(i))?)
    }
}

fn device_key(i: u8) -> PrivateKey {
    PrivateKey::from_bytes([i.wrapping_add(1); 32])
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1).peekable();
    let statement = match args.peek().map(|a| StatementKind::from_name(a)) {
        Some(Some(kind)) => {
            args.next();
            kind
        }
        _ => StatementKind::Uptime,
    };
    let sizes: Vec<usize> = args
        .map(|a| {
            a.parse().map_err(|_| {
                format!("not a statement (uptime, bandwidth, coverage) or a batch size: {a}")
            })
        })
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() { vec![4] } else { sizes };
    match statement {
        StatementKind::Uptime => run::<UptimeCircuit>(&sizes),
        StatementKind::Bandwidth => run::<BandwidthCircuit>(&sizes),
        StatementKind::Coverage => run::<CoverageCircuit>(&sizes),
    }
}

fn run<S: Sample>(sizes: &[usize]) -> Result<(), Error> {
    let name = S::KIND.as_str();
    let mut rng = ChaCha20Rng::seed_from_u64(7);

    // The single-device baseline: the statement's key and prover.
    let keys = dev_setup(S::for_device(0)?, 1)?;
    let single = Prover::new(keys.proving, S::for_device(0)?)?;

    for &b in sizes {
        let b_u8 = u8::try_from(b).map_err(|_| "batch sizes up to 255")?;
        let epochs: Vec<S> = (0..b_u8).map(S::for_device).collect::<Result<_, _>>()?;
        // The singles first, so that the batch's key is not resident.
        process_memory::reset_peak()?;
        let start = Instant::now();
        for e in &epochs {
            single.prove(e.clone(), &mut rng)?;
        }
        let singles = start.elapsed();
        let single_peak = peak_mib()?;

        let tree = RewardsTree::new(TREE_DEPTH)?;
        let batch = BatchCircuit::form(&tree, b, epochs)?.circuit;
        let digest = batch.digest();

        process_memory::reset_peak()?;
        let start = Instant::now();
        let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(batch.clone(), &mut rng)?;
        let setup = start.elapsed();
        let setup_peak = peak_mib()?;

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
            "{name} B = {b}: {constraints} constraints; setup {:.1} s (peak {:.0} MiB); matrices {:.2} s; \
             batch proof {:.2} s (witness {:.2} s, quotient {:.2} s, MSMs {:.2} s), peak {:.0} MiB; \
             {b} single proofs {:.2} s, peak {:.0} MiB; batch/singles {:.2}x",
            setup.as_secs_f64(),
            setup_peak,
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
        drop((pk, vk, core));
    }
    Ok(())
}
