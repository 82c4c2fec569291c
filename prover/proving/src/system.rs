//! The [`ProofSystem`] trait: one statement's keys in one proof system,
//! ready to prove device epochs, verify proofs and serve the verifying key.
//!
//! The service holds one `Arc<dyn ProofSystem>` per statement it proves,
//! loaded once at start; a proof's randomness comes from the caller (the
//! service derives it from the job, so a retried job gives the same proof).

use std::fmt;

use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use rand_chacha::ChaCha20Rng;

use crate::proof::StatementProof;

/// The proof systems of the prover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Groth16 over BN254 (Groth, EUROCRYPT 2016), a circuit-specific setup.
    Groth16,
    /// halo2 (PLONKish arithmetisation, Gabizon, Williamson, Ciobotaru,
    /// ePrint 2019/953, with lookups and custom gates) over BN254 with KZG
    /// commitments and SHPLONK openings: one universal setup for every
    /// circuit.
    Halo2,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 2] = [Backend::Groth16, Backend::Halo2];

    /// A stable lowercase name (`groth16`, `halo2`), as configuration and
    /// the command line spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Groth16 => "groth16",
            Backend::Halo2 => "halo2",
        }
    }

    /// The backend named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a proof could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum ProvingError {
    /// The epoch or proof is of another statement than the keys.
    #[error("the keys prove statement {}, the {what} is for {}", keys.as_str(), found.as_str())]
    WrongStatement {
        /// The keys' statement.
        keys: StatementKind,
        /// What was given (`epoch`, `proof`).
        what: &'static str,
        /// Its statement.
        found: StatementKind,
    },
    /// The proof was made by another proof system than the keys'.
    #[error("the keys are {keys} keys, the proof is a {found} proof")]
    WrongBackend {
        /// The keys' system.
        keys: Backend,
        /// The proof's system.
        found: Backend,
    },
    /// The backend failed (building the circuit, proving, a key that does
    /// not match the circuit).
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl ProvingError {
    /// A backend's error.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ProvingError::Backend(Box::new(e))
    }
}

/// A verifying key as the service serves it (`GetVerifyingKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKeyExport {
    /// The backend's binary encoding (Groth16: arkworks' compressed
    /// `VerifyingKey`).
    pub binary: Vec<u8>,
    /// The key in the JSON of the backend's ecosystem (Groth16: snarkjs's
    /// `vk.json`).
    pub json: String,
}

/// One statement's keys in one proof system.
pub trait ProofSystem: Send + Sync + fmt::Debug {
    /// The proof system.
    fn backend(&self) -> Backend;

    /// The statement the keys prove.
    fn kind(&self) -> StatementKind;

    /// Proves `epoch` (of this statement), drawing the proof's randomness
    /// from `rng`. For Groth16 the same epoch, keys and rng state give the
    /// same proof; halo2 adds randomness of its own (two proofs of one
    /// epoch differ in their bytes and prove the same public inputs).
    /// The public inputs are the native reference's; a witness the circuit
    /// does not accept is an error, never an invalid proof.
    fn prove(
        &self,
        epoch: &EpochInput,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, ProvingError>;

    /// Whether `proof` is valid for its public inputs under these keys.
    fn verify(&self, proof: &StatementProof) -> Result<bool, ProvingError>;

    /// The verifying key, encoded for clients.
    fn verifying_key(&self) -> &VerifyingKeyExport;
}
