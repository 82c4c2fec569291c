//! The phase-2 ceremony per statement, beside snarkjs on the same files in
//! one run: `zkey new`, `contribute`, `verify` (time and peak memory), and
//! proving from a `.zkey` against proving from an arkworks key on the same
//! core prover, and snarkjs's `groth16 prove`.
//!
//! ```sh
//! cargo bench -p depin-circom --bench ceremony                 # every statement
//! cargo bench -p depin-circom --bench ceremony -- uptime test  # some
//! ```
//!
//! Names: `test` (the few-hundred-constraint test circuit), `uptime`,
//! `bandwidth`, `coverage` (full capacity). Files go to
//! `target/ceremony-bench/`; the development `.ptau` of each power is made
//! once and kept. Peak memory is the process's high-water mark (VmHWM),
//! reset before each of our steps and polled for snarkjs's process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_relations::gr1cs::ConstraintSynthesizer;
use ark_snark::CircuitSpecificSetupSNARK;
use depin_circom::ceremony;
use depin_circom::r1cs::R1cs;
use depin_circom::zkey::{required_ptau_power, Zkey};
use depin_circom::ZkeyProver;
use depin_prover_core::groth16::{synthesize_witness, CircuitProver};
use depin_statements_r1cs::{
    bandwidth::BandwidthCircuit, coverage::CoverageCircuit, uptime::UptimeCircuit,
};
use rand::rngs::OsRng;
use rand::SeedableRng;

#[path = "../tests/common/mod.rs"]
mod common;

fn root() -> PathBuf {
    common::workspace_root()
}

/// Resets this process's peak RSS (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A process's peak RSS in MiB.
fn peak_mib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Times `f` and reads our peak memory.
fn ours<T>(f: impl FnOnce() -> T) -> (T, Duration, f64) {
    reset_peak();
    let start = Instant::now();
    let out = f();
    (out, start.elapsed(), peak_mib("self"))
}

/// Runs snarkjs, polling its peak memory; panics when it fails.
fn snarkjs(args: &[&str]) -> (Duration, f64) {
    let sj = root().join("tools/js/node_modules/.bin/snarkjs");
    let start = Instant::now();
    let mut child = Command::new(&sj)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("snarkjs (scripts/setup.sh installs it)");
    let pid = child.id().to_string();
    let mut peak: f64 = 0.0;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "snarkjs {args:?} failed");
            break;
        }
        // node runs snarkjs in this process (its workers are threads).
        peak = peak.max(peak_mib(&pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    (start.elapsed(), peak)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn row(step: &str, ours: (Duration, f64), theirs: (Duration, f64)) {
    println!(
        "| {step} | {:.2} s | {:.0} MiB | {:.2} s | {:.0} MiB | {:.1}x |",
        ours.0.as_secs_f64(),
        ours.1,
        theirs.0.as_secs_f64(),
        theirs.1,
        theirs.0.as_secs_f64() / ours.0.as_secs_f64()
    );
}

fn bench<C: ConstraintSynthesizer<Fr> + Clone>(name: &str, circuit: C) {
    let dir = root().join("target/ceremony-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let r1cs = R1cs::from_circuit(circuit.clone()).expect("r1cs");
    let power = required_ptau_power(r1cs.domain_power());
    println!(
        "\n### {name}: {} constraints, {} wires, domain 2^{}, ptau power {power}\n",
        r1cs.n_constraints(),
        r1cs.n_wires,
        r1cs.domain_power()
    );
    let ptau = dir.join(format!("dev_{power}.ptau"));
    if !ptau.exists() {
        let (r, t, m) = ours(|| {
            ceremony::ptau_dev(&ceremony::PtauDevOptions {
                power,
                out: ptau.clone(),
                seed: b"ceremony bench".to_vec(),
                insecure_dev_setup: true,
            })
        });
        r.expect("dev ptau");
        println!(
            "development ptau of power {power}: {:.2} s, {m:.0} MiB\n",
            t.as_secs_f64()
        );
    }
    let r1cs_path = dir.join(format!("{name}.r1cs"));
    r1cs.write(&r1cs_path).expect("write r1cs");
    let wtns = dir.join(format!("{name}.wtns"));
    ceremony::export_wtns(circuit.clone(), &wtns).expect("wtns");

    println!("| step | ours | ours, peak | snarkjs | snarkjs, peak | ours faster |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let z0 = dir.join(format!("{name}_0000.zkey"));
    let sj0 = dir.join(format!("{name}_snarkjs_0000.zkey"));
    let (r, t, m) = ours(|| ceremony::zkey_new_from_r1cs(&r1cs, &ptau, None, &z0));
    r.expect("zkey new");
    let theirs = snarkjs(&["zkey", "new", s(&r1cs_path), s(&ptau), s(&sj0)]);
    row("zkey new", (t, m), theirs);
    assert!(
        std::fs::read(&z0).ok() == std::fs::read(&sj0).ok(),
        "{name}: zkey new differs from snarkjs's"
    );

    let z1 = dir.join(format!("{name}_0001.zkey"));
    let sj1 = dir.join(format!("{name}_snarkjs_0001.zkey"));
    let (r, t, m) = ours(|| ceremony::zkey_contribute(&z0, &z1, Some("bench"), Some("bench")));
    r.expect("contribute");
    let theirs = snarkjs(&[
        "zkey",
        "contribute",
        s(&z0),
        s(&sj1),
        "--name=bench",
        "-e=bench",
    ]);
    row("zkey contribute", (t, m), theirs);

    let (r, t, m) = ours(|| ceremony::zkey_verify_r1cs(&r1cs, &ptau, None, &z1));
    r.expect("verify");
    let theirs = snarkjs(&["zkey", "verify", s(&r1cs_path), s(&ptau), s(&z1)]);
    row("zkey verify (r1cs + ptau)", (t, m), theirs);

    // Proving: from the .zkey (snarkjs's witness map) against an arkworks
    // key on the same core prover (arkworks' witness map).
    let z = synthesize_witness(circuit.clone()).expect("witness");
    let (prover, load, _) =
        ours(|| ZkeyProver::new(Zkey::read(&z1).expect("read")).expect("prover"));
    let mut best_zkey = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        prover.prove(z.z(), &mut OsRng).expect("prove");
        best_zkey = best_zkey.min(start.elapsed());
    }
    let out = dir.join(format!("{name}_proof.json"));
    let public = dir.join(format!("{name}_public.json"));
    let (sj_prove, _) = snarkjs(&["groth16", "prove", s(&z1), s(&wtns), s(&out), s(&public)]);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let (pk, _) = Groth16::<Bn254>::setup(circuit.clone(), &mut rng).expect("setup");
    let core = CircuitProver::from_circuit(circuit).expect("core prover");
    let mut best_core = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        core.prove(&pk, &z, Fr::from(3u64), Fr::from(5u64))
            .expect("prove");
        best_core = best_core.min(start.elapsed());
    }
    println!(
        "\nproving (best of 3, witness given): from the .zkey {:.3} s (key read and prover built in {:.2} s), from the arkworks key {:.3} s, snarkjs groth16 prove {:.2} s (process, files included)",
        best_zkey.as_secs_f64(),
        load.as_secs_f64(),
        best_core.as_secs_f64(),
        sj_prove.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |n: &str| args.is_empty() || args.iter().any(|a| a == n);
    if wants("test") {
        bench("test", common::TestCircuit::new(3));
    }
    if wants("uptime") {
        bench("uptime", UptimeCircuit::sample());
    }
    if wants("coverage") {
        bench("coverage", CoverageCircuit::sample().expect("sample"));
    }
    if wants("bandwidth") {
        bench("bandwidth", BandwidthCircuit::sample());
    }
}
