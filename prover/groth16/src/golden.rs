//! The committed golden verifying keys and proofs.
//!
//! `prover/golden/v1/<statement>/` holds, for each statement,
//! `verifying_key.bin`, `vk.json`, `proof.bin`, `proof.json` and
//! `public.json`: the keys of a development setup with [`SETUP_SEED`] and a
//! proof of the statement's deterministic full-capacity sample epoch
//! (`UptimeCircuit::sample()` and its siblings) with blinding drawn from
//! [`PROOF_SEED`]. Everything is deterministic, so `depin-prover golden
//! --out prover/golden/v1` (run by `scripts/regen.sh`) rewrites the same
//! bytes; the drift test in `prover/groth16/tests/golden.rs` checks it. Proving keys
//! are not committed (tens to hundreds of MB): `depin-prover setup
//! --insecure-dev-setup` with the default seed (which is [`SETUP_SEED`])
//! recreates them.
//!
//! The golden files pin the key and proof formats, the circuits' shapes
//! (any change to a circuit changes its verifying key) and the public
//! inputs of the sample epochs; other implementations (snarkjs, the
//! Solidity verifier) test against them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use depin_statements::StatementKind;
use depin_statements_r1cs::{CircuitError, StatementCircuit};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use depin_evm::proof_dir::{
    write_proof_dir, ProofDir, ProofDirError, PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE,
};
use depin_evm::snarkjs;
use depin_proving::file::FileError;
use depin_proving::StatementProof;

use crate::keys::{
    dev_setup, dev_verifying_key, KeyDir, KeyError, VerifyingKey, VERIFYING_KEY_FILE, VK_JSON_FILE,
};
use crate::prover::{circuit_shape, verify_statement, CircuitShape, ProverError};

/// The development setup seed of the golden keys (ASCII `depin-v1`), also
/// `depin-prover setup`'s default.
pub const SETUP_SEED: u64 = 0x6465_7069_6e2d_7631;
/// The seed of the golden proofs' blinding (ASCII `depin-pf`).
pub const PROOF_SEED: u64 = 0x6465_7069_6e2d_7066;
/// The golden files' format version: the directory under `prover/golden/`.
pub const GOLDEN_VERSION: &str = "v1";
/// The files of each statement's golden directory.
pub const GOLDEN_FILES: [&str; 5] = [
    VERIFYING_KEY_FILE,
    VK_JSON_FILE,
    PROOF_BIN_FILE,
    PROOF_JSON_FILE,
    PUBLIC_JSON_FILE,
];

/// Every statement, in code order.
pub const ALL_KINDS: [StatementKind; 3] = StatementKind::ALL;

/// The committed golden directory (`prover/golden/v1` in the source tree).
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../golden")
        .join(GOLDEN_VERSION)
}

/// Why golden files could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// The sample circuit could not be built.
    #[error("the {} sample circuit: {source}", kind.as_str())]
    Circuit {
        /// The statement.
        kind: StatementKind,
        /// Why.
        #[source]
        source: CircuitError,
    },
    /// Counting constraints failed.
    #[error("synthesizing the {} circuit: {source}", kind.as_str())]
    Shape {
        /// The statement.
        kind: StatementKind,
        /// Why.
        #[source]
        source: ark_relations::gr1cs::SynthesisError,
    },
    /// A key could not be made, read or written.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Proving or verifying failed.
    #[error(transparent)]
    Prover(#[from] ProverError),
    /// A proof directory could not be read.
    #[error(transparent)]
    ProofDir(#[from] ProofDirError),
    /// A snarkjs file was refused.
    #[error("{}: {source}", path.display())]
    Snarkjs {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: snarkjs::SnarkjsError,
    },
    /// A golden proof does not verify, or two files disagree.
    #[error("{}: {detail}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

pub use depin_statements_r1cs::CircuitVisitor;

/// Builds `kind`'s deterministic full-capacity sample circuit and hands it
/// to `visitor`.
pub fn with_sample<V: CircuitVisitor>(
    kind: StatementKind,
    visitor: V,
) -> Result<V::Output, GoldenError> {
    depin_statements_r1cs::visit_sample(kind, visitor)
        .map_err(|source| GoldenError::Circuit { kind, source })
}

/// What generating one statement's golden files took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldenReport {
    /// The statement.
    pub kind: StatementKind,
    /// The circuit's size.
    pub shape: CircuitShape,
    /// Development setup.
    pub setup: Duration,
    /// Proving the sample.
    pub prove: Duration,
    /// Verifying it.
    pub verify: Duration,
    /// Size of the (uncommitted) proving key file.
    pub proving_key_bytes: usize,
}

/// Writes `circuit`'s golden files into `dir` (created if missing): setup
/// with [`SETUP_SEED`], proof with [`PROOF_SEED`]; checks the proof.
pub fn generate_with<C: StatementCircuit>(
    circuit: C,
    dir: &Path,
) -> Result<GoldenReport, GoldenError> {
    let kind = C::KIND;
    let shape =
        circuit_shape(circuit.clone()).map_err(|source| GoldenError::Shape { kind, source })?;
    let start = Instant::now();
    let keys = dev_setup(circuit.clone(), SETUP_SEED)?;
    let setup = start.elapsed();
    let proving_key_bytes = keys.proving.to_bytes().map_err(KeyError::Bytes)?.len();
    let start = Instant::now();
    let proof = crate::prover::prove(
        &keys.proving,
        circuit,
        &mut ChaCha20Rng::seed_from_u64(PROOF_SEED),
    )?;
    let prove = start.elapsed();
    let start = Instant::now();
    let valid = verify_statement(&keys.verifying, &proof)?;
    let verify = start.elapsed();
    if !valid {
        return Err(GoldenError::Mismatch {
            path: dir.to_path_buf(),
            detail: "the freshly made proof does not verify".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| KeyError::from(FileError::io(dir, source)))?;
    let key_dir = KeyDir::new(dir);
    keys.verifying.write(&key_dir.verifying_key())?;
    keys.verifying.write_snarkjs(&key_dir.vk_json())?;
    write_proof_dir(&proof, dir).map_err(KeyError::from)?;
    Ok(GoldenReport {
        kind,
        shape,
        setup,
        prove,
        verify,
        proving_key_bytes,
    })
}

struct Generate<'a>(&'a Path);

impl CircuitVisitor for Generate<'_> {
    type Output = Result<GoldenReport, GoldenError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        generate_with(circuit, self.0)
    }
}

/// Writes `kind`'s golden files into `out/<kind>/`.
pub fn generate(kind: StatementKind, out: &Path) -> Result<GoldenReport, GoldenError> {
    with_sample(kind, Generate(&out.join(kind.as_str())))?
}

struct VkOnly;

impl CircuitVisitor for VkOnly {
    type Output = Result<VerifyingKey, KeyError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        dev_verifying_key(circuit, SETUP_SEED)
    }
}

/// `kind`'s golden verifying key, recomputed without the proving key
/// ([`dev_verifying_key`]: seconds, where the full setup takes minutes).
pub fn golden_verifying_key(kind: StatementKind) -> Result<VerifyingKey, GoldenError> {
    Ok(with_sample(kind, VkOnly)??)
}

/// Writes every statement's golden files under `out`.
pub fn generate_all(out: &Path) -> Result<Vec<GoldenReport>, GoldenError> {
    ALL_KINDS.iter().map(|&kind| generate(kind, out)).collect()
}

/// Checks `kind`'s golden files in `out/<kind>/`: the verifying key loads
/// (validated), `vk.json` is the same key, and both proofs verify with
/// `ark_groth16::Groth16::verify` against it and carry the same statement.
pub fn check(kind: StatementKind, out: &Path) -> Result<StatementProof, GoldenError> {
    let dir = out.join(kind.as_str());
    let keys = KeyDir::new(&dir);
    let vk = VerifyingKey::load(&keys.verifying_key(), kind)?;
    let json_path = keys.vk_json();
    let text = std::fs::read_to_string(&json_path)
        .map_err(|source| KeyError::from(FileError::io(&json_path, source)))?;
    let json_vk = snarkjs::vk_from_json(&text).map_err(|source| GoldenError::Snarkjs {
        path: json_path.clone(),
        source,
    })?;
    if &json_vk != vk.as_arkworks() {
        return Err(GoldenError::Mismatch {
            path: json_path,
            detail: format!("differs from {VERIFYING_KEY_FILE}"),
        });
    }
    let proofs = ProofDir::read(&dir, kind)?;
    let (Some(bin), Some(json)) = (&proofs.bin, &proofs.json) else {
        return Err(GoldenError::Mismatch {
            path: dir,
            detail: "needs both proof.bin and proof.json with public.json".into(),
        });
    };
    if bin != json {
        return Err(GoldenError::Mismatch {
            path: dir,
            detail: "proof.bin and proof.json/public.json hold different proofs".into(),
        });
    }
    let depin_proving::Proof::Groth16(proof) = &bin.proof else {
        return Err(GoldenError::Mismatch {
            path: dir.join(PROOF_BIN_FILE),
            detail: format!("a {} proof, not a Groth16 one", bin.proof.backend()),
        });
    };
    let valid =
        ark_groth16::Groth16::<ark_bn254::Bn254>::verify_proof(vk.prepared(), proof, &bin.public)
            .map_err(ProverError::from)?;
    if !valid {
        return Err(GoldenError::Mismatch {
            path: dir.join(PROOF_BIN_FILE),
            detail: "the golden proof does not verify against the golden key".into(),
        });
    }
    Ok(bin.clone())
}
