//! Groth16 as a [`ProofSystem`]: one statement's proving key with its
//! prebuilt R1CS matrices ([`Prover`]), its verifying key and the encodings
//! the service serves, loaded once and shared by every proof.

use std::path::Path;

use ark_serialize::CanonicalSerialize;
use depin_proving::file::FileError;
use depin_proving::{Backend, ProofSystem, ProvingError, StatementProof, VerifyingKeyExport};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::CircuitError;
use rand_chacha::ChaCha20Rng;

use crate::keys::{dev_setup, KeyDir, KeyError, Trust, VerifyingKey};
use crate::prover::{verify_statement, Prover, ProverError};
use crate::FormatError;

/// Why a statement's Groth16 keys could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// A key file could not be read, made or written.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The key does not fit the statement's circuit.
    #[error(transparent)]
    Prover(#[from] ProverError),
    /// The proving key is missing and development keys are off.
    #[error("{} is missing and development keys are off", .0.display())]
    Missing(std::path::PathBuf),
    /// The verifying key could not be encoded.
    #[error("encoding the verifying key: {0}")]
    Encode(String),
}

/// One statement's Groth16 keys, ready to prove.
#[derive(Debug)]
pub struct Groth16System {
    prover: Prover,
    verifying: VerifyingKey,
    export: VerifyingKeyExport,
}

impl Groth16System {
    /// The system of a proving key (its statement at full capacity).
    pub fn new(prover: Prover) -> Result<Self, SystemError> {
        let verifying = prover.key().verifying_key().map_err(KeyError::Bytes)?;
        let mut binary = Vec::new();
        verifying
            .as_arkworks()
            .serialize_compressed(&mut binary)
            .map_err(|e| SystemError::Encode(e.to_string()))?;
        let json = depin_evm::snarkjs::vk_to_json(verifying.as_arkworks())
            .map_err(|e| SystemError::Encode(e.to_string()))?;
        Ok(Groth16System {
            prover,
            verifying,
            export: VerifyingKeyExport { binary, json },
        })
    }

    /// Loads `dir`'s proving key for `kind` (trusted: a key this node
    /// wrote, memory-mapped) and builds the statement's matrices. With
    /// `dev_seed`, a missing key is made by the insecure development setup
    /// and published into `dir` first (written beside, then renamed, so a
    /// concurrent maker never reads half a file), and development keys left
    /// in an older file format are made again from the same seed.
    pub fn load_or_dev(
        dir: &Path,
        kind: StatementKind,
        dev_seed: Option<u64>,
    ) -> Result<Self, SystemError> {
        let kd = KeyDir::new(dir);
        // A start killed while publishing development keys left these.
        depin_durable::remove_stale(dir).map_err(|e| KeyError::from(FileError::io(dir, e)))?;
        let existing = if kd.proving_key().exists() {
            match kd.load_proving_key(kind, Trust::Trusted) {
                Ok(key) => Some(key),
                Err(KeyError::File(FileError::Format {
                    source: FormatError::UnsupportedFormat { .. },
                    ..
                })) if dev_seed.is_some() => {
                    std::fs::remove_dir_all(dir)
                        .map_err(|source| FileError::io(dir, source))
                        .map_err(KeyError::from)?;
                    None
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let proving = match (existing, dev_seed) {
            (Some(key), _) => key,
            (None, Some(seed)) => {
                let keys = match kind {
                    StatementKind::Uptime => dev_setup(UptimeCircuit::sample(), seed),
                    StatementKind::Bandwidth => dev_setup(BandwidthCircuit::sample(), seed),
                    StatementKind::Coverage => {
                        dev_setup(CoverageCircuit::sample().map_err(ProverError::from)?, seed)
                    }
                }?;
                keys.publish_dev_dir(dir, seed)?;
                drop(keys);
                // Proven from the mapped file like keys found at start.
                kd.load_proving_key(kind, Trust::Trusted)?
            }
            (None, None) => return Err(SystemError::Missing(kd.proving_key())),
        };
        Self::new(Prover::for_statement(proving)?)
    }

    /// The prover (key and matrices).
    pub fn prover(&self) -> &Prover {
        &self.prover
    }

    /// The verifying key.
    pub fn verifying(&self) -> &VerifyingKey {
        &self.verifying
    }
}

/// Proves `epoch` with `prover`: the statement's circuit at the prover's
/// (full) capacity, the randomness from `rng`.
pub fn prove_epoch(
    prover: &Prover,
    epoch: &EpochInput,
    rng: &mut ChaCha20Rng,
) -> Result<StatementProof, ProverError> {
    fn built<C>(c: Result<C, CircuitError>) -> Result<C, ProverError> {
        c.map_err(ProverError::from)
    }
    match epoch {
        EpochInput::Uptime(e) => prover.prove(built(UptimeCircuit::new(&e.as_input()))?, rng),
        EpochInput::Bandwidth(e) => prover.prove(built(BandwidthCircuit::new(&e.as_input()))?, rng),
        EpochInput::Coverage(e) => prover.prove(built(CoverageCircuit::new(&e.as_input()))?, rng),
    }
}

impl ProofSystem for Groth16System {
    fn backend(&self) -> Backend {
        Backend::Groth16
    }

    fn kind(&self) -> StatementKind {
        self.prover.kind()
    }

    fn prove(
        &self,
        epoch: &EpochInput,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, ProvingError> {
        if epoch.kind() != self.kind() {
            return Err(ProvingError::WrongStatement {
                keys: self.kind(),
                what: "epoch",
                found: epoch.kind(),
            });
        }
        prove_epoch(&self.prover, epoch, rng).map_err(ProvingError::backend)
    }

    fn verify(&self, proof: &StatementProof) -> Result<bool, ProvingError> {
        if proof.kind != self.kind() {
            return Err(ProvingError::WrongStatement {
                keys: self.kind(),
                what: "proof",
                found: proof.kind,
            });
        }
        verify_statement(&self.verifying, proof).map_err(ProvingError::backend)
    }

    fn verifying_key(&self) -> &VerifyingKeyExport {
        &self.export
    }
}
