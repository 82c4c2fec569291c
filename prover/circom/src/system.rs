//! A statement's keys from a ceremony: a `.zkey` behind the prover's
//! [`ProofSystem`] trait, so the service proves with a deployment's key
//! exactly as with its own.
//!
//! Loading checks that the key is a key of the statement's circuit (its
//! sizes and its `A` and `B` coefficients, [`Zkey::check_circuit`]); that
//! its points come from a sound ceremony is what `zkey verify` establishes
//! before a key is deployed. Proofs are Groth16 proofs over BN254 (Groth,
//! EUROCRYPT 2016) with snarkjs's witness map ([`ZkeyProver`]), each
//! verified against the key before it is returned.

use std::path::Path;

use ark_bn254::Fr;
use ark_serialize::CanonicalSerialize;
use depin_evm::snarkjs;
use depin_prover_core::groth16::synthesize_witness;
use depin_proving::{Backend, ProofSystem, ProvingError, StatementProof, VerifyingKeyExport};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use depin_statements_r1cs::{visit_epoch, visit_sample, CircuitVisitor, StatementCircuit};
use rand_chacha::ChaCha20Rng;

use crate::ceremony::CeremonyError;
use crate::prove::ZkeyProver;
use crate::r1cs::{R1cs, R1csError};
use crate::zkey::Zkey;

/// The file name of a statement's ceremony key in a key directory
/// (`<keys_dir>/<statement>/final.zkey`): where it exists, the service
/// proves with it instead of a packed key.
pub const ZKEY_FILE: &str = "final.zkey";

/// One statement's `.zkey`, ready to prove.
#[derive(Debug)]
pub struct ZkeySystem {
    kind: StatementKind,
    prover: ZkeyProver,
    export: VerifyingKeyExport,
}

struct ToR1cs;

impl CircuitVisitor for ToR1cs {
    type Output = Result<R1cs, R1csError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        R1cs::from_circuit(circuit)
    }
}

/// The `.r1cs` of `kind`'s circuit (the shape every key of the statement is
/// made for).
pub fn statement_r1cs(kind: StatementKind) -> Result<R1cs, CeremonyError> {
    Ok(visit_sample(kind, ToR1cs)??)
}

impl ZkeySystem {
    /// Loads the `.zkey` at `path` as `kind`'s key, refusing a key of
    /// another circuit.
    pub fn load(path: &Path, kind: StatementKind) -> Result<Self, CeremonyError> {
        let zkey = Zkey::read(path)?;
        zkey.check_circuit(&statement_r1cs(kind)?)?;
        let vk = zkey.verifying_key();
        let mut binary = Vec::new();
        vk.serialize_compressed(&mut binary)
            .map_err(|e| CeremonyError::Encode(e.to_string()))?;
        let json = snarkjs::vk_to_json(&vk)?;
        Ok(ZkeySystem {
            kind,
            prover: ZkeyProver::new(zkey)?,
            export: VerifyingKeyExport { binary, json },
        })
    }

    /// The prover of the key.
    pub fn prover(&self) -> &ZkeyProver {
        &self.prover
    }
}

struct Prove<'a> {
    prover: &'a ZkeyProver,
    rng: &'a mut ChaCha20Rng,
}

impl CircuitVisitor for Prove<'_> {
    type Output = Result<StatementProof, CeremonyError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        let expected = circuit.expected().to_field_elements();
        let assignment = synthesize_witness(circuit)?;
        if assignment.public_inputs() != expected.as_slice() {
            return Err(CeremonyError::PublicInputs);
        }
        let proof = self.prover.prove(assignment.z(), self.rng)?;
        Ok(StatementProof::groth16(C::KIND, expected, proof))
    }
}

impl ProofSystem for ZkeySystem {
    fn backend(&self) -> Backend {
        Backend::Groth16
    }

    fn kind(&self) -> StatementKind {
        self.kind
    }

    fn prove(
        &self,
        epoch: &EpochInput,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, ProvingError> {
        if epoch.kind() != self.kind {
            return Err(ProvingError::WrongStatement {
                keys: self.kind,
                what: "epoch",
                found: epoch.kind(),
            });
        }
        let prove = Prove {
            prover: &self.prover,
            rng,
        };
        visit_epoch(epoch, prove)
            .map_err(ProvingError::backend)?
            .map_err(ProvingError::backend)
    }

    fn verify(&self, proof: &StatementProof) -> Result<bool, ProvingError> {
        if proof.kind != self.kind {
            return Err(ProvingError::WrongStatement {
                keys: self.kind,
                what: "proof",
                found: proof.kind,
            });
        }
        let Some(p) = proof.proof.as_groth16() else {
            return Err(ProvingError::WrongBackend {
                keys: Backend::Groth16,
                found: proof.proof.backend(),
            });
        };
        let public: &[Fr] = &proof.public;
        Ok(crate::prove::verify(
            self.prover.prepared_verifying_key(),
            p,
            public,
        ))
    }

    fn verifying_key(&self) -> &VerifyingKeyExport {
        &self.export
    }
}
