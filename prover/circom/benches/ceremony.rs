//! The phase-2 ceremony per statement, beside snarkjs on the same files in
//! one run: `zkey new`, `contribute`, `verify` (time and peak memory), and
//! proving from a `.zkey` against proving from an arkworks key on the same
//! core prover, and snarkjs's `groth16 prove`.
//!
//! ```sh
//! cargo bench -p depin-circom --bench ceremony                 # every statement
//! cargo bench -p depin-circom --bench ceremony -- uptime test  # some
//! cargo bench -p depin-circom --bench ceremony -- proving uptime  # proving only
//! ```
//!
//! Names: `test` (the few-hundred-constraint test circuit), `uptime`,
//! `bandwidth`, `coverage` (full capacity); `proving` skips snarkjs's
//! ceremony steps and compares the provers alone. With
//! `RAPIDSNARK_PROVER=/path/to/prover` (iden3's C++ prover, built by the
//! user from its own sources; not part of this project or its CI) the
//! proving table has a rapidsnark row on the same `.zkey` and `.wtns`, and
//! its proof is checked with `snarkjs groth16 verify`. Files go to
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

/// Runs a program to completion, polling its peak memory; panics when it
/// fails. Time and memory are the whole process's: reading its inputs and
/// writing its outputs are included.
fn process(program: &Path, args: &[&str]) -> (Duration, f64) {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let pid = child.id().to_string();
    let mut peak: f64 = 0.0;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{} {args:?} failed", program.display());
            break;
        }
        // Both node (snarkjs's workers) and rapidsnark (OpenMP) run their
        // workers as threads of this one process.
        peak = peak.max(peak_mib(&pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    (start.elapsed(), peak)
}

/// Runs snarkjs (`scripts/setup.sh` installs it).
fn snarkjs(args: &[&str]) -> (Duration, f64) {
    process(&root().join("tools/js/node_modules/.bin/snarkjs"), args)
}

/// The best of three runs of a process, with the peak memory of that run.
fn best_process(program: &Path, args: &[&str]) -> (Duration, f64) {
    (0..3)
        .map(|_| process(program, args))
        .min_by_key(|(t, _)| *t)
        .expect("three runs")
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

/// `zkey new`, `contribute` and `verify`, ours beside snarkjs's.
fn ceremony_steps(
    name: &str,
    dir: &Path,
    r1cs: &R1cs,
    r1cs_path: &Path,
    ptau: &Path,
    z0: &Path,
    z1: &Path,
) {
    println!("| step | ours | ours, peak | snarkjs | snarkjs, peak | ours faster |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let sj0 = dir.join(format!("{name}_snarkjs_0000.zkey"));
    let (r, t, m) = ours(|| ceremony::zkey_new_from_r1cs(r1cs, ptau, None, z0));
    r.expect("zkey new");
    let theirs = snarkjs(&["zkey", "new", s(r1cs_path), s(ptau), s(&sj0)]);
    row("zkey new", (t, m), theirs);
    assert!(
        std::fs::read(z0).ok() == std::fs::read(&sj0).ok(),
        "{name}: zkey new differs from snarkjs's"
    );

    let sj1 = dir.join(format!("{name}_snarkjs_0001.zkey"));
    let (r, t, m) = ours(|| ceremony::zkey_contribute(z0, z1, Some("bench"), Some("bench")));
    r.expect("contribute");
    let theirs = snarkjs(&[
        "zkey",
        "contribute",
        s(z0),
        s(&sj1),
        "--name=bench",
        "-e=bench",
    ]);
    row("zkey contribute", (t, m), theirs);

    let (r, t, m) = ours(|| ceremony::zkey_verify_r1cs(r1cs, ptau, None, z1));
    r.expect("verify");
    let theirs = snarkjs(&["zkey", "verify", s(r1cs_path), s(ptau), s(z1)]);
    row("zkey verify (r1cs + ptau)", (t, m), theirs);
}

fn bench<C: ConstraintSynthesizer<Fr> + Clone>(name: &str, circuit: C, proving_only: bool) {
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

    let z0 = dir.join(format!("{name}_0000.zkey"));
    let z1 = dir.join(format!("{name}_0001.zkey"));
    if proving_only {
        ceremony::zkey_new_from_r1cs(&r1cs, &ptau, None, &z0).expect("zkey new");
        ceremony::zkey_contribute(&z0, &z1, Some("bench"), Some("bench")).expect("contribute");
    } else {
        ceremony_steps(name, &dir, &r1cs, &r1cs_path, &ptau, &z0, &z1);
    }

    proving(name, &dir, circuit, &z1, &wtns);
}

/// Proving on the same `.zkey` and `.wtns`: ours from the `.zkey`
/// (snarkjs's witness map) and from an arkworks key on the same core
/// (arkworks' witness map), rapidsnark when given, and snarkjs.
fn proving<C: ConstraintSynthesizer<Fr> + Clone>(
    name: &str,
    dir: &Path,
    circuit: C,
    zkey: &Path,
    wtns: &Path,
) {
    let z = synthesize_witness(circuit.clone()).expect("witness");
    // Key read, prover built and one proof, for the peak memory and the
    // figure comparable with a whole external process.
    let ((load, prover), all_in, peak) = ours(|| {
        let start = Instant::now();
        let prover = ZkeyProver::new(Zkey::read(zkey).expect("read")).expect("prover");
        let load = start.elapsed();
        prover.prove(z.z(), &mut OsRng).expect("prove");
        (load, prover)
    });
    let mut best_zkey = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        prover.prove(z.z(), &mut OsRng).expect("prove");
        best_zkey = best_zkey.min(start.elapsed());
    }
    drop(prover);
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
    drop((pk, core));

    let vk = dir.join(format!("{name}_vk.json"));
    ceremony::zkey_export_vk(zkey, &vk).expect("export vk");
    let external = |who: &str, program: &Path, lead: &[&str]| {
        let proof = dir.join(format!("{name}_{who}_proof.json"));
        let public = dir.join(format!("{name}_{who}_public.json"));
        let mut args = lead.to_vec();
        args.extend([s(zkey), s(wtns), s(&proof), s(&public)]);
        let run = best_process(program, &args);
        snarkjs(&["groth16", "verify", s(&vk), s(&public), s(&proof)]);
        run
    };
    let rapidsnark = std::env::var_os("RAPIDSNARK_PROVER")
        .map(PathBuf::from)
        .map(|p| external("rapidsnark", &p, &[]));
    let sj = external(
        "snarkjs",
        &root().join("tools/js/node_modules/.bin/snarkjs"),
        &["groth16", "prove"],
    );

    let vs = |t: Duration| t.as_secs_f64() / all_in.as_secs_f64();
    println!("\nproving {name} (best of 3; the external provers' proofs pass `snarkjs groth16 verify`)\n");
    println!("| prover | time | peak | vs ours, key read + prove |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| ours, from the .zkey, witness given | {:.3} s | | |",
        best_zkey.as_secs_f64()
    );
    println!(
        "| ours, from the arkworks key, witness given | {:.3} s | | |",
        best_core.as_secs_f64()
    );
    println!(
        "| ours, .zkey read ({:.2} s) + prove | {:.3} s | {peak:.0} MiB | 1.0x |",
        load.as_secs_f64(),
        all_in.as_secs_f64()
    );
    match rapidsnark {
        Some((t, m)) => println!(
            "| rapidsnark `prover` (process: .zkey, .wtns, JSON out) | {:.3} s | {m:.0} MiB | {:.2}x slower |",
            t.as_secs_f64(),
            vs(t)
        ),
        None => println!("| rapidsnark | not run (set RAPIDSNARK_PROVER) | | |"),
    }
    println!(
        "| snarkjs `groth16 prove` (process) | {:.3} s | {:.0} MiB | {:.2}x slower |",
        sj.0.as_secs_f64(),
        sj.1,
        vs(sj.0)
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let proving_only = args.iter().any(|a| a == "proving");
    let names: Vec<&String> = args.iter().filter(|a| *a != "proving").collect();
    let wants = |n: &str| names.is_empty() || names.iter().any(|a| *a == n);
    if wants("test") {
        bench("test", common::TestCircuit::new(3), proving_only);
    }
    if wants("uptime") {
        bench("uptime", UptimeCircuit::sample(), proving_only);
    }
    if wants("coverage") {
        bench(
            "coverage",
            CoverageCircuit::sample().expect("sample"),
            proving_only,
        );
    }
    if wants("bandwidth") {
        bench("bandwidth", BandwidthCircuit::sample(), proving_only);
    }
}
