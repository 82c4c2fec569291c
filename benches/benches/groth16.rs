//! Groth16 on the full-capacity statements (`C::sample()`) and on 2^16 and
//! 2^18 squaring chains: our prover (`depin_groth16::prover::Prover`,
//! matrices built once, on `depin-prover-core`'s MSM and FFT, proving from
//! the memory-mapped key file) beside arkworks' `Groth16::prove`
//! (synthesis, LC inlining and its prover core, on the same key in memory),
//! their ratio, and for the statements also verification and proving-key
//! loading: ours mapped (trusted: no point read) beside arkworks' unchecked
//! deserialization of its own uncompressed serialization of the same key,
//! and (timed once) both validating every point. Prints the constraint
//! counts, key sizes and where one proof's time went first.
//!
//! `cargo bench -p depin-benches --bench groth16` (all), or a filter:
//! `cargo bench -p depin-benches --bench groth16 -- uptime` sets up and runs
//! only the statements and the squaring chain whose names contain it
//! (`squaring`, `squaring-2^18`, `uptime`, `bandwidth`, `coverage`; also
//! `DEPIN_BENCH_STATEMENTS=uptime,coverage`).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use depin_groth16::golden::{with_sample, CircuitVisitor, ALL_KINDS};
use depin_groth16::keys::{dev_setup, ProvingKey, VERIFYING_KEY_FILE};
use depin_groth16::prover::{circuit_shape, verify, Prover};
use depin_prover_core::groth16::CircuitProver;
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Timed runs of each prover before criterion's (the printed ratio).
const RUNS: usize = 3;

/// The benchmark name filters given on the command line (none: all).
fn filters() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}

fn wanted(name: &str) -> bool {
    let f = filters();
    f.is_empty() || f.iter().any(|x| name.contains(x.as_str()))
}

fn selected() -> Vec<StatementKind> {
    let kinds: Vec<StatementKind> = match std::env::var("DEPIN_BENCH_STATEMENTS") {
        Ok(list) => ALL_KINDS
            .into_iter()
            .filter(|k| list.split(',').any(|s| s.trim() == k.as_str()))
            .collect(),
        Err(_) => ALL_KINDS.to_vec(),
    };
    kinds
        .into_iter()
        .filter(|k| wanted(&format!("groth16/{}", k.as_str())))
        .collect()
}

/// The median of `RUNS` runs of `f`.
fn median(mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[RUNS / 2]
}

fn report(name: &str, ours: Duration, ark: Duration) {
    println!(
        "{name}: prove ours {:.3} s, ark_groth16 {:.3} s (median of {RUNS}): {:.2}x",
        ours.as_secs_f64(),
        ark.as_secs_f64(),
        ark.as_secs_f64() / ours.as_secs_f64()
    );
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
        let dir = tempfile::tempdir().expect("tempdir");
        let pk_path = dir.path().join("proving_key.bin");
        keys.proving.write(&pk_path).expect("write pk");
        let pk_len = std::fs::metadata(&pk_path).expect("pk written").len();
        let vk_len = keys.verifying.to_bytes().expect("serialize").len();
        keys.verifying
            .write(&dir.path().join(VERIFYING_KEY_FILE))
            .expect("write vk");
        // arkworks' own serialization of the same key, for its load baseline.
        let ark_pk = keys.proving.to_arkworks().expect("in memory");
        let ark_path = dir.path().join("proving_key.ark");
        {
            let mut v = Vec::new();
            ark_pk.serialize_uncompressed(&mut v).expect("serialize");
            std::fs::write(&ark_path, v).expect("write");
        }
        drop(keys.proving);
        // Ours proves from the mapped file, as the service does.
        let start = Instant::now();
        let mapped = ProvingKey::load_trusted(&pk_path, C::KIND).expect("map");
        let load = start.elapsed();
        let start = Instant::now();
        let prover = Prover::new(mapped, circuit.clone()).expect("prover");
        let build = start.elapsed();
        let (proof, t) = prover
            .prove_timed(circuit.clone(), &mut ChaCha20Rng::seed_from_u64(2))
            .expect("prove");
        println!(
            "groth16/{kind}: {} constraints, {} public inputs, {} witnesses; setup {:.2} s (once); \
             proving key {} bytes ({:.1} MiB), verifying key {} bytes, proof.bin {} bytes; \
             key mapped in {:.2} ms; prover (matrices) built in {:.2} s (once); first proof: \
             synthesis {:.3} s, witness map {:.3} s, MSMs {:.3} s",
            shape.constraints,
            shape.public_inputs,
            shape.witnesses,
            setup.as_secs_f64(),
            pk_len,
            pk_len as f64 / (1 << 20) as f64,
            vk_len,
            proof.to_bytes().expect("proof").len(),
            load.as_secs_f64() * 1e3,
            build.as_secs_f64(),
            t.synthesis.as_secs_f64(),
            t.witness_map.as_secs_f64(),
            t.msm.as_secs_f64(),
        );
        // Validating loads take seconds: timed once, not by criterion.
        let start = Instant::now();
        ProvingKey::load_untrusted(&pk_path, C::KIND).expect("load");
        let ours_validated = start.elapsed();
        let start = Instant::now();
        {
            let bytes = std::fs::read(&ark_path).expect("read");
            ark_groth16::ProvingKey::<Bn254>::deserialize_uncompressed(&bytes[..]).expect("load");
        }
        let ark_validated = start.elapsed();
        println!(
            "groth16/{kind}: validated (untrusted) key load: ours (mapped, parallel checks) {:.2} s, \
             ark deserialize_uncompressed {:.2} s",
            ours_validated.as_secs_f64(),
            ark_validated.as_secs_f64()
        );
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let ours = median(|| {
            prover.prove(circuit.clone(), &mut rng).expect("prove");
        });
        let ark = median(|| {
            Groth16::<Bn254>::prove(&ark_pk, circuit.clone(), &mut rng).expect("prove");
        });
        report(&format!("groth16/{kind}"), ours, ark);

        let mut g = c.benchmark_group(format!("groth16/{kind}"));
        // Seconds per iteration: ten samples of one iteration each, not
        // criterion's linear ramp (55 iterations).
        g.sample_size(10);
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function("prove (depin_groth16::prover::Prover)", |b| {
            b.iter(|| {
                prover
                    .prove(black_box(circuit.clone()), &mut rng)
                    .expect("prove")
            })
        });
        g.bench_function("prove (ark_groth16::Groth16::prove)", |b| {
            b.iter(|| {
                Groth16::<Bn254>::prove(&ark_pk, black_box(circuit.clone()), &mut rng)
                    .expect("prove")
            })
        });
        let groth16_proof = proof.proof.as_groth16().expect("a Groth16 proof");
        g.bench_function("verify", |b| {
            b.iter(|| verify(&keys.verifying, black_box(&proof.public), groth16_proof).expect("ok"))
        });
        g.bench_function("load proving key (ours: mapped, trusted)", |b| {
            b.iter(|| ProvingKey::load_trusted(&pk_path, C::KIND).expect("load"))
        });
        g.bench_function(
            "load proving key (ark: read + deserialize_uncompressed_unchecked)",
            |b| {
                b.iter(|| {
                    let bytes = std::fs::read(&ark_path).expect("read");
                    ark_groth16::ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(&bytes[..])
                        .expect("load")
                })
            },
        );
        g.finish();
    }
}

/// `y = x^(2^steps)` with `x` and `y` public: `steps + 1` constraints.
#[derive(Clone)]
struct SquaringChain {
    x: Fr,
    steps: usize,
}

impl ConstraintSynthesizer<Fr> for SquaringChain {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        use ark_ff::Field;
        let x = cs.new_input_variable(|| Ok(self.x))?;
        let (mut y, mut v) = (x, self.x);
        for _ in 0..self.steps {
            v.square_in_place();
            let next = cs.new_witness_variable(|| Ok(v))?;
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(y),
                || LinearCombination::from(y),
                || LinearCombination::from(next),
            )?;
            y = next;
        }
        let out = cs.new_input_variable(|| Ok(v))?;
        cs.enforce_r1cs_constraint(
            || LinearCombination::from(y),
            || LinearCombination::from(ark_relations::gr1cs::Variable::One),
            || LinearCombination::from(out),
        )?;
        Ok(())
    }
}

fn bench_squaring(c: &mut Criterion, log: u32) {
    let name = format!("groth16/squaring-2^{log}");
    let name = name.as_str();
    if !wanted(name) {
        return;
    }
    // 2^log - 4 squarings: with the output constraint and the three
    // instance rows the QAP domain is exactly 2^log.
    let circuit = SquaringChain {
        x: Fr::from(3u64),
        steps: (1 << log) - 4,
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let start = Instant::now();
    let (pk, _) =
        Groth16::<Bn254>::circuit_specific_setup(circuit.clone(), &mut rng).expect("setup");
    let setup = start.elapsed();
    let start = Instant::now();
    let prover = CircuitProver::from_circuit(circuit.clone()).expect("prover");
    let build = start.elapsed();
    let (_, t) = prover
        .prove_circuit(&pk, circuit.clone(), Fr::rand(&mut rng), Fr::rand(&mut rng))
        .expect("prove");
    println!(
        "{name}: {} constraints, domain {}; setup {:.2} s, prover built in {:.2} s (once); one proof: \
         synthesis {:.3} s, witness map {:.3} s, MSMs {:.3} s",
        prover.r1cs().num_constraints(),
        prover.domain().size(),
        setup.as_secs_f64(),
        build.as_secs_f64(),
        t.witness.as_secs_f64(),
        t.witness_map.as_secs_f64(),
        t.msm.as_secs_f64(),
    );
    let mut prove_ours = || {
        let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        prover
            .prove_circuit(&pk, black_box(circuit.clone()), r, s)
            .expect("prove")
    };
    let ours = median(|| {
        prove_ours();
    });
    let mut rng2 = ChaCha20Rng::seed_from_u64(2);
    let ark = median(|| {
        Groth16::<Bn254>::prove(&pk, circuit.clone(), &mut rng2).expect("prove");
    });
    report(name, ours, ark);

    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("prove (depin_prover_core::groth16)", |b| {
        b.iter(&mut prove_ours)
    });
    g.bench_function("prove (ark_groth16::Groth16::prove)", |b| {
        b.iter(|| {
            Groth16::<Bn254>::prove(&pk, black_box(circuit.clone()), &mut rng2).expect("prove")
        })
    });
    g.finish();
}

fn bench_groth16(c: &mut Criterion) {
    bench_squaring(c, 16);
    bench_squaring(c, 18);
    for kind in selected() {
        with_sample(kind, Bench(c)).expect("sample circuit");
    }
}

criterion_group!(benches, bench_groth16);
criterion_main!(benches);
