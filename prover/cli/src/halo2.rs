//! `setup`, `prove`, `verify` and `export-verifier` with `--backend halo2`:
//! a halo2 key directory holds the KZG parameters of the statement's size
//! (`params-k<k>.kzg`), the
//! verifying key, the circuit's shape and a summary (`vk.json`); the
//! proving key is generated again from the parameters when proving
//! (deterministic, and checked against the directory's verifying key).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use depin_evm::proof_dir::{write_proof_dir, ProofDir, PROOF_BIN_FILE, PUBLIC_JSON_FILE};
use depin_halo2_prover::keys::{statement_k, VerifierKeys};
use depin_halo2_prover::solidity::verifier_source_of;
use depin_halo2_prover::system::{load_or_dev_params, params_file};
use depin_halo2_prover::{read_params, Halo2System, StatementKeys};
use depin_statements::epoch::EpochInput;
use depin_statements::{Header, StatementKind};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const INSECURE_SETUP: &str = "\
refusing to make development KZG parameters without --insecure-dev-setup.

halo2's KZG parameters are the powers of a secret s; whoever knows s can
prove anything, including rewards a device never earned. This command draws
s from --seed, which is not secret, so its parameters are for development
and tests only. Production parameters come from a powers-of-tau ceremony,
sound as long as one participant destroyed their share.

Pass --insecure-dev-setup to make development parameters anyway.";

/// `setup --backend halo2`: development parameters of the statement's size
/// (reused when `out` already holds them), the statement's keys, written
/// into `out`.
pub fn setup(
    kind: StatementKind,
    out: &Path,
    insecure: bool,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let k = statement_k(kind);
    if !insecure && !out.join(params_file(k)).exists() {
        bail!("{INSECURE_SETUP}");
    }
    let start = Instant::now();
    let params = load_or_dev_params(out, k, Some(seed))?;
    let params_time = start.elapsed();
    let start = Instant::now();
    let keys = StatementKeys::generate(&params, kind)?;
    let keygen = start.elapsed();
    keys.write_dir(out)?;
    let shape = &keys.shape().params;
    println!(
        "{}: k {}, {} advice columns, {} public inputs; parameters {:.1} s, keys {:.1} s (INSECURE development parameters, seed {seed})",
        kind.as_str(),
        statement_k(kind),
        shape.num_advice_per_phase.iter().sum::<usize>(),
        keys.num_instance(),
        params_time.as_secs_f64(),
        keygen.as_secs_f64(),
    );
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `prove --backend halo2`.
pub fn prove(
    kind: StatementKind,
    keys: &Path,
    epoch: &EpochInput,
    out: &Path,
    seed: Option<u64>,
) -> anyhow::Result<()> {
    let verifier = VerifierKeys::read_dir(keys, kind)?;
    let start = Instant::now();
    let params = read_params(&keys.join(params_file(statement_k(kind))))?;
    let system = Halo2System::from_params(&params, kind)?;
    if system.keys().verifying_key_bytes() != verifier.vk.to_bytes(halo2_base_serde()) {
        bail!(
            "{}: the parameters give another verifying key than the directory's (keys of other parameters?)",
            keys.display()
        );
    }
    let keygen = start.elapsed();
    let mut rng = match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::from_entropy(),
    };
    let start = Instant::now();
    let proof = system.prove_epoch(epoch, &mut rng)?;
    let proving = start.elapsed();
    write_proof_dir(&proof, out)?;
    println!(
        "proved in {:.2} s (keys {:.2} s); wrote {}, {}",
        proving.as_secs_f64(),
        keygen.as_secs_f64(),
        out.join(PUBLIC_JSON_FILE).display(),
        out.join(PROOF_BIN_FILE).display()
    );
    Ok(())
}

fn halo2_base_serde() -> halo2_base::halo2_proofs::SerdeFormat {
    halo2_base::halo2_proofs::SerdeFormat::RawBytes
}

/// `verify --backend halo2`.
pub fn verify(kind: StatementKind, keys: &Path, proof_dir: &Path) -> anyhow::Result<ExitCode> {
    let verifier = VerifierKeys::read_dir(keys, kind)?;
    let dir = ProofDir::read(proof_dir, kind)?;
    let Some(proof) = &dir.bin else {
        bail!("{}: no {PROOF_BIN_FILE}", proof_dir.display());
    };
    let Some(bytes) = proof.proof.as_halo2() else {
        bail!(
            "{}: a {} proof, not a halo2 one",
            proof_dir.join(PROOF_BIN_FILE).display(),
            proof.proof.backend()
        );
    };
    let public: Vec<_> = proof
        .public
        .iter()
        .map(depin_halo2::field::to_halo2)
        .collect();
    let valid = public.len() == verifier.num_instance
        && depin_halo2_prover::verify(&verifier.params, &verifier.vk, &public, bytes)?;
    println!(
        "{PROOF_BIN_FILE}: {}",
        if valid { "valid" } else { "invalid" }
    );
    if let Some(h) = proof.public.first().and_then(Header::unpack) {
        println!("epoch: {}", h.epoch);
        println!("reward: {}", h.reward);
    }
    println!("{}", if valid { "valid" } else { "invalid" });
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `export-verifier --backend halo2`: the generated Solidity verifier.
pub fn export_verifier(kind: StatementKind, keys: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let verifier = VerifierKeys::read_dir(keys, kind)?;
    let source = verifier_source_of(&verifier.params, &verifier.vk, kind, verifier.num_instance);
    std::fs::write(out, source).with_context(|| format!("{}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `golden --backend halo2`: the golden keys of `kinds`, and proofs where
/// the committed ones no longer verify.
pub fn golden(kinds: &[StatementKind], out: &Path) -> anyhow::Result<ExitCode> {
    for &kind in kinds {
        let start = Instant::now();
        depin_halo2_prover::golden::write_golden(kind, out)?;
        println!(
            "{}: parameters, keys and proof {:.1} s -> {}",
            kind.as_str(),
            start.elapsed().as_secs_f64(),
            out.join(kind.as_str()).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
