//! Proving an epoch and verifying a proof with a statement's keys, with
//! the Keccak transcript the generated EVM verifier reads
//! (`snark_verifier`'s `EvmTranscript`): SHPLONK openings of KZG
//! commitments over BN254.
//!
//! The blinding factors come from the caller's RNG, but halo2-axiom draws
//! the vanishing argument's random polynomial from the thread RNG (to fill
//! it in parallel), so two proofs of one epoch differ in their bytes; both
//! verify, and both prove the same public inputs. A witness the circuit does not accept, or public inputs other than the
//! reference's, is an error, never an invalid proof: every proof is
//! verified before it is returned.

use depin_halo2::layout::prover_builder;
use depin_halo2::statement::{StatementCircuit, StatementError};
use halo2_base::halo2_proofs::plonk::{
    create_proof, verify_proof, Error as PlonkError, VerifyingKey,
};
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_base::halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_base::halo2_proofs::transcript::{TranscriptReadBuffer, TranscriptWriterBuffer};
use rand_chacha::ChaCha20Rng;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;

use crate::keys::StatementKeys;
use crate::params::ParamsError;
use crate::{Bn256, Fr, G1Affine};

/// Why keys could not be made or a proof made or checked.
#[derive(Debug, thiserror::Error)]
pub enum Halo2Error {
    /// The statement's circuit could not be built (the reference refused
    /// the epoch, or it exceeds the capacity).
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// The parameters do not fit the statement.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// halo2 refused (key generation, proving, a malformed proof).
    #[error("halo2: {0}")]
    Plonk(PlonkError),
    /// The keys are for another statement.
    #[error("the keys prove {}, the {what} is for {}", keys.as_str(), found.as_str())]
    WrongStatement {
        /// The keys' statement.
        keys: depin_statements::StatementKind,
        /// What was given.
        what: &'static str,
        /// Its statement.
        found: depin_statements::StatementKind,
    },
    /// The circuit's instance cells differ from the reference's public
    /// inputs.
    #[error("the circuit's public inputs differ from the native reference's")]
    PublicMismatch,
    /// The witness does not satisfy the circuit: the proof did not verify.
    #[error("the circuit does not accept the witness")]
    Unsatisfied,
    /// A proof with the wrong number of public inputs.
    #[error("{found} public inputs, the statement has {expected}")]
    PublicInputCount {
        /// The statement's count.
        expected: usize,
        /// Given.
        found: usize,
    },
}

type Transcript<S> = EvmTranscript<G1Affine, NativeLoader, S, Vec<u8>>;

/// Proves `statement` with `keys`, the randomness drawn from `rng`. Returns
/// the public inputs (the reference's) and the proof's bytes.
pub fn prove<S: StatementCircuit>(
    keys: &StatementKeys,
    statement: &S,
    rng: &mut ChaCha20Rng,
) -> Result<(Vec<Fr>, Vec<u8>), Halo2Error> {
    if S::KIND != keys.kind() {
        return Err(Halo2Error::WrongStatement {
            keys: keys.kind(),
            what: "circuit",
            found: S::KIND,
        });
    }
    let builder = prover_builder(statement, keys.shape())?;
    let instances: Vec<Fr> = builder
        .assigned_instances
        .first()
        .map(|cells| cells.iter().map(|c| *c.value()).collect())
        .unwrap_or_default();
    if instances != statement.public_inputs() {
        return Err(Halo2Error::PublicMismatch);
    }
    let mut transcript = Transcript::<Vec<u8>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        keys.params(),
        keys.proving_key(),
        &[builder],
        &[&[&instances]],
        rng,
        &mut transcript,
    )
    .map_err(Halo2Error::Plonk)?;
    let proof = transcript.finalize();
    if !verify(keys.params(), keys.verifying_key(), &instances, &proof)? {
        return Err(Halo2Error::Unsatisfied);
    }
    Ok((instances, proof))
}

/// Whether `proof` proves `public` under `vk`. A malformed proof (a point
/// off the curve, a non-canonical scalar, too short) is `Ok(false)`, as is
/// a proof with bytes left over.
pub fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    public: &[Fr],
    proof: &[u8],
) -> Result<bool, Halo2Error> {
    let expected = vk.cs().num_instance_columns();
    if expected != 1 {
        return Err(Halo2Error::PublicInputCount { expected, found: 1 });
    }
    let mut rest = proof;
    let mut transcript = Transcript::<&mut &[u8]>::init(&mut rest);
    let verifier_params = params.verifier_params();
    let checked = verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        verifier_params,
        vk,
        SingleStrategy::new(verifier_params),
        &[&[public]],
        &mut transcript,
    );
    drop(transcript);
    Ok(match checked {
        // The single strategy checks the pairing itself: Ok means valid.
        Ok(()) => rest.is_empty(),
        Err(_) => false,
    })
}
