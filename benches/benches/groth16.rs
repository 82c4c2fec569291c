//! Groth16 on the full-capacity statements (`C::sample()`): setup (once,
//! timed), proving (ours: `depin_prover::groth16::prove`, which synthesizes
//! once, checks satisfiability and calls arkworks' prover core; beside
//! arkworks' own `Groth16::prove`), verification, and proving-key loading
//! (trusted: unchecked; untrusted: every point validated). Prints the
//! constraint counts and key sizes first.
//!
//! `cargo bench -p depin-benches --bench groth16`
//! (`DEPIN_BENCH_STATEMENTS=uptime,coverage` to run a subset)
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use depin_prover::golden::{with_sample, CircuitVisitor, ALL_KINDS};
use depin_prover::groth16::{circuit_shape, prove, prove_timed, verify};
use depin_prover::keys::{dev_setup, ProvingKey, VERIFYING_KEY_FILE};
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn selected() -> Vec<StatementKind> {
    match std::env::var("DEPIN_BENCH_STATEMENTS") {
        Ok(list) => ALL_KINDS
            .into_iter()
            .filter(|k| list.split(',').any(|s| s.trim() == k.as_str()))
            .collect(),
        Err(_) => ALL_KINDS.to_vec(),
    }
}

struct Bench<'a>(&'a mut Criterion);

impl CircuitVisitor for Bench<'_> {
    type Output = ();
    fn visit<C: StatementCircuit>(self, circuit: C) {
        let c = self.0;
        let kind = C::KIND.as_str();
        let shape = circuit_shape(circuit.clone()).expect("synthesize");
        let start = Instant::now();
        let keys = dev_setup(circuit.clone(), 1).expect("setup");
        let setup = start.elapsed();
        let pk_bytes = keys.proving.to_bytes().expect("serialize");
        let vk_bytes = keys.verifying.to_bytes().expect("serialize");
        let dir = tempfile::tempdir().expect("tempdir");
        let pk_path = dir.path().join("proving_key.bin");
        keys.proving.write(&pk_path).expect("write pk");
        keys.verifying
            .write(&dir.path().join(VERIFYING_KEY_FILE))
            .expect("write vk");
        let (proof, timings) = prove_timed(
            &keys.proving,
            circuit.clone(),
            &mut ChaCha20Rng::seed_from_u64(2),
        )
        .expect("prove");
        println!(
            "groth16/{kind}: {} constraints, {} public inputs, {} witnesses; setup {:.2} s (once); \
             proving key {} bytes ({:.1} MiB), verifying key {} bytes, proof.bin {} bytes; \
             one proof: synthesis+check {:.2} s, arkworks core {:.2} s",
            shape.constraints,
            shape.public_inputs,
            shape.witnesses,
            setup.as_secs_f64(),
            pk_bytes.len(),
            pk_bytes.len() as f64 / (1 << 20) as f64,
            vk_bytes.len(),
            proof.to_bytes().expect("proof").len(),
            timings.synthesis.as_secs_f64(),
            timings.groth16.as_secs_f64(),
        );

        let mut g = c.benchmark_group(format!("groth16/{kind}"));
        // Seconds per iteration: ten samples of one iteration each, not
        // criterion's linear ramp (55 iterations).
        g.sample_size(10);
        g.sampling_mode(SamplingMode::Flat);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        g.bench_function("prove (depin_prover::groth16::prove)", |b| {
            b.iter(|| prove(&keys.proving, black_box(circuit.clone()), &mut rng).expect("prove"))
        });
        g.bench_function("prove (ark_groth16::Groth16::prove)", |b| {
            b.iter(|| {
                Groth16::<Bn254>::prove(
                    keys.proving.as_arkworks(),
                    black_box(circuit.clone()),
                    &mut rng,
                )
                .expect("prove")
            })
        });
        g.bench_function("verify", |b| {
            b.iter(|| verify(&keys.verifying, black_box(&proof.public), &proof.proof).expect("ok"))
        });
        g.bench_function("load proving key (trusted)", |b| {
            b.iter(|| ProvingKey::load_trusted(&pk_path, C::KIND).expect("load"))
        });
        g.bench_function("load proving key (untrusted)", |b| {
            b.iter(|| ProvingKey::load_untrusted(&pk_path, C::KIND).expect("load"))
        });
        g.finish();
    }
}

fn bench_groth16(c: &mut Criterion) {
    for kind in selected() {
        with_sample(kind, Bench(c)).expect("sample circuit");
    }
}

criterion_group!(benches, bench_groth16);
criterion_main!(benches);
