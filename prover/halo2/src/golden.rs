//! The committed golden halo2 keys and proofs.
//!
//! `prover/golden/halo2/<statement>/` holds, for each statement, the
//! verifying key (`verifying_key.bin`), the circuit's shape (`shape.json`),
//! the summary (`vk.json`), and a proof of the statement's deterministic
//! full-capacity sample epoch (`proof.bin`, `public.json`). The keys come
//! from development parameters drawn from [`PARAMS_SEED`] (**insecure**: the
//! seed is public) and are deterministic: `depin-prover golden --backend
//! halo2` rewrites the same key bytes, and keeps a committed proof that
//! still verifies under them. The proofs are not byte-for-byte
//! reproducible (halo2 adds randomness of its own), so the drift test
//! (`prover/halo2/tests/golden.rs`) checks that the committed proofs verify
//! under the committed keys and prove the samples' public inputs, and that
//! the keys recomputed from the circuits as they are now are the committed
//! bytes. The parameters (32 MB at `k = 18`, 64 MB at `k = 19`) are not
//! committed: anyone makes the same ones from the seed in seconds.

use std::path::{Path, PathBuf};

use depin_crypto::field::Fr as NativeFr;
use depin_evm::proof_dir::write_proof_dir;
use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::field::to_native;
use depin_halo2::statement::StatementCircuit;
use depin_halo2::uptime::UptimeCircuit;
use depin_proving::StatementProof;
use depin_statements::StatementKind;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::keys::{statement_k, StatementKeys};
use crate::params::dev_params;
use crate::prover::{prove, Halo2Error};
use crate::Bn256;

/// The development parameters' seed of the golden keys (ASCII `depin-v1`,
/// the Groth16 golden keys' seed), also `depin-prover setup --backend
/// halo2`'s default.
pub const PARAMS_SEED: u64 = 0x6465_7069_6e2d_7631;
/// The seed of the golden proofs' blinding (ASCII `depin-pf`).
pub const PROOF_SEED: u64 = 0x6465_7069_6e2d_7066;

/// The committed golden directory (`prover/golden/halo2`).
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden/halo2")
}

/// The golden parameters of `kind`'s size (development, from
/// [`PARAMS_SEED`]; those of every size share one secret).
pub fn golden_params(kind: StatementKind) -> Result<ParamsKZG<Bn256>, Halo2Error> {
    Ok(dev_params(statement_k(kind), PARAMS_SEED)?)
}

/// A proof of `kind`'s sample epoch with `keys`.
pub fn sample_proof(
    keys: &StatementKeys,
    rng: &mut ChaCha20Rng,
) -> Result<StatementProof, Halo2Error> {
    fn proof_of<S: StatementCircuit>(
        keys: &StatementKeys,
        circuit: S,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, Halo2Error> {
        let (public, proof) = prove(keys, &circuit, rng)?;
        let public: Vec<NativeFr> = public.iter().map(to_native).collect();
        Ok(StatementProof::halo2(S::KIND, public, proof))
    }
    match keys.kind() {
        StatementKind::Uptime => proof_of(keys, UptimeCircuit::sample()?, rng),
        StatementKind::Bandwidth => proof_of(keys, BandwidthCircuit::sample()?, rng),
        StatementKind::Coverage => proof_of(keys, CoverageCircuit::sample()?, rng),
    }
}

/// The sample epoch's public inputs of `kind` (what a golden proof proves).
pub fn sample_public(kind: StatementKind) -> Result<Vec<NativeFr>, Halo2Error> {
    Ok(match kind {
        StatementKind::Uptime => UptimeCircuit::sample()?.expected().to_field_elements(),
        StatementKind::Bandwidth => BandwidthCircuit::sample()?.expected().to_field_elements(),
        StatementKind::Coverage => CoverageCircuit::sample()?.expected().to_field_elements(),
    })
}

/// Whether `dir` holds a proof of `kind`'s sample epoch that verifies under
/// `keys`.
fn current_proof(keys: &StatementKeys, dir: &Path) -> Result<bool, Halo2Error> {
    let Ok(proof) = StatementProof::load(&dir.join("proof.bin"), keys.kind()) else {
        return Ok(false);
    };
    let Some(bytes) = proof.proof.as_halo2() else {
        return Ok(false);
    };
    if proof.public != sample_public(keys.kind())? {
        return Ok(false);
    }
    let public: Vec<_> = proof
        .public
        .iter()
        .map(depin_halo2::field::to_halo2)
        .collect();
    crate::prover::verify(keys.params(), keys.verifying_key(), &public, bytes)
}

/// Writes `kind`'s golden files into `out/<kind>/`: the keys, and a new
/// proof unless the directory's proof still verifies under them (so that
/// regenerating unchanged circuits changes no file).
pub fn write_golden(kind: StatementKind, out: &Path) -> Result<(), Halo2Error> {
    let dir = out.join(kind.as_str());
    let keys = StatementKeys::generate(&golden_params(kind)?, kind)?;
    keys.write_dir(&dir)?;
    if current_proof(&keys, &dir)? {
        return Ok(());
    }
    let proof = sample_proof(&keys, &mut ChaCha20Rng::seed_from_u64(PROOF_SEED))?;
    write_proof_dir(&proof, &dir).map_err(|e| {
        Halo2Error::Params(crate::params::ParamsError::Io {
            path: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })
    })?;
    Ok(())
}
