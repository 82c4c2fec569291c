//! Peak memory of one Groth16 proof of each statement: our prover (the
//! service's path: the key file memory-mapped, the matrices built once, one
//! proof) beside `ark_groth16::Groth16::prove` (the same key read into
//! memory the way arkworks users load one: its own uncompressed
//! serialization, unchecked), each in a fresh process of its own.
//!
//! `cargo run --release -p depin-benches --example prove_memory` (all three
//! statements; or name some: `-- uptime coverage`). Keys are made once
//! (development setup, seed 1) under the system's temporary directory.
//!
//! Linux only: the peak is the kernel's high-water mark of the process's
//! resident memory (`VmHWM` in `/proc/self/status`), anonymous and
//! file-backed pages alike, so the mapped key's pages count for ours as the
//! key read into memory counts for arkworks. It is read twice: after
//! loading (the key, and for ours building the prover: the circuit's
//! matrices, once per process), and after one proof with the mark reset in
//! between (`/proc/self/clear_refs`), which gives the peak while proving
//! with the key resident. The process peak is the larger of the two.

use std::path::{Path, PathBuf};
use std::process::Command;

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use depin_benches::process_memory;
use depin_groth16::golden::{with_sample, CircuitVisitor, ALL_KINDS};
use depin_groth16::keys::{dev_setup, KeyDir, ProvingKey};
use depin_groth16::prover::Prover;
use depin_proving::file::PROVING_KEY_FORMAT_VERSION;
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// arkworks' uncompressed serialization of the key, beside ours.
const ARK_KEY_FILE: &str = "proving_key.ark";

fn status_kib(field: &str) -> u64 {
    process_memory::status_kib(field).expect("/proc/self/status")
}

fn reset_peak() {
    process_memory::reset_peak().expect("reset VmHWM");
}

fn keys_dir(kind: StatementKind) -> PathBuf {
    std::env::temp_dir()
        .join(format!("depin-prove-memory-v{PROVING_KEY_FORMAT_VERSION}"))
        .join(kind.as_str())
}

/// Makes the development keys of `kind` (seed 1) unless they exist.
struct Setup;

impl CircuitVisitor for Setup {
    type Output = ();
    fn visit<C: StatementCircuit>(self, circuit: C) {
        let dir = keys_dir(C::KIND);
        if dir.join(ARK_KEY_FILE).exists() {
            return;
        }
        eprintln!(
            "setting up {} (once) in {}",
            C::KIND.as_str(),
            dir.display()
        );
        let keys = dev_setup(circuit, 1).expect("setup");
        keys.publish_dir(&dir).expect("write keys");
        // arkworks' own serialization of the same key, for its loader.
        let mut ark = Vec::new();
        keys.proving
            .to_arkworks()
            .expect("in memory")
            .serialize_uncompressed(&mut ark)
            .expect("serialize");
        let tmp = dir.join(format!("{ARK_KEY_FILE}.tmp-{}", std::process::id()));
        std::fs::write(&tmp, ark).expect("write");
        std::fs::rename(&tmp, dir.join(ARK_KEY_FILE)).expect("rename");
    }
}

/// One proof in this process; prints `loaded_kib proving_kib`.
struct Child<'a> {
    prover: &'a str,
    dir: &'a Path,
}

impl CircuitVisitor for Child<'_> {
    type Output = ();
    fn visit<C: StatementCircuit>(self, circuit: C) {
        let kind = C::KIND;
        let path = KeyDir::new(self.dir).proving_key();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (loaded, proving) = match self.prover {
            "ours" => {
                let key = ProvingKey::load_trusted(&path, kind).expect("map key");
                let prover = Prover::new(key, circuit.clone()).expect("prover");
                let loaded = status_kib("VmHWM:");
                reset_peak();
                let proof = prover.prove(circuit, &mut rng).expect("prove");
                std::hint::black_box(proof);
                (loaded, status_kib("VmHWM:"))
            }
            "ark" => {
                // As arkworks users load a key: its own uncompressed
                // serialization, streamed from the file, unchecked.
                let file = std::fs::File::open(self.dir.join(ARK_KEY_FILE)).expect("open");
                let key = ark_groth16::ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(
                    std::io::BufReader::new(file),
                )
                .expect("key");
                let loaded = status_kib("VmHWM:");
                reset_peak();
                let proof = Groth16::<Bn254>::prove(&key, circuit, &mut rng).expect("prove");
                std::hint::black_box(proof);
                (loaded, status_kib("VmHWM:"))
            }
            other => panic!("unknown prover {other}"),
        };
        println!("{loaded} {proving}");
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, prover, kind] = &args[..] {
        if flag == "--child" {
            let kind = ALL_KINDS
                .into_iter()
                .find(|k| k.as_str() == kind)
                .expect("statement");
            with_sample(
                kind,
                Child {
                    prover,
                    dir: &keys_dir(kind),
                },
            )
            .expect("sample");
            return;
        }
    }
    let kinds: Vec<StatementKind> = ALL_KINDS
        .into_iter()
        .filter(|k| args.is_empty() || args.iter().any(|a| a == k.as_str()))
        .collect();
    let exe = std::env::current_exe().expect("own path");
    println!(
        "| statement | proving key | ours: peak proving | ark-groth16: peak proving | ark / ours | ours: process peak (prover built once, one proof) | ark-groth16: process peak | ark / ours |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for kind in kinds {
        with_sample(kind, Setup).expect("sample");
        let key_len = std::fs::metadata(KeyDir::new(keys_dir(kind)).proving_key())
            .expect("key file")
            .len();
        let run = |prover: &str| -> (u64, u64) {
            let out = Command::new(&exe)
                .args(["--child", prover, kind.as_str()])
                .output()
                .expect("run child");
            assert!(
                out.status.success(),
                "{prover} {}: {}",
                kind.as_str(),
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<u64> = text
                .split_whitespace()
                .map(|x| x.parse().expect("number"))
                .collect();
            (v[0], v[1])
        };
        let (ours_loaded, ours_peak) = run("ours");
        let (ark_loaded, ark_peak) = run("ark");
        let (ours_all, ark_all) = (ours_loaded.max(ours_peak), ark_loaded.max(ark_peak));
        println!(
            "| {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:.2}x | {:.0} MiB | {:.0} MiB | {:.2}x |",
            kind.as_str(),
            key_len as f64 / (1 << 20) as f64,
            mib(ours_peak),
            mib(ark_peak),
            ark_peak as f64 / ours_peak as f64,
            mib(ours_all),
            mib(ark_all),
            ark_all as f64 / ours_all as f64,
        );
    }
}
