//! Prove and verify a statement with Groth16 on BN254.
//!
//! Proving runs `depin-prover-core`'s Groth16 prover (Groth, EUROCRYPT
//! 2016; libsnark's R1CS-to-QAP reduction, as `ark-groth16`): a [`Prover`]
//! holds a statement's proving key with the circuit's R1CS matrices and QAP
//! domain, built once; each proof synthesizes only the assignment (no
//! constraints, no LC inlining), refuses an assignment that does not
//! satisfy every constraint (arkworks would silently produce an invalid
//! proof), checks that the circuit's public inputs are those its witness
//! claims, computes the QAP quotient with the core's FFTs and the proof with
//! its MSMs. With the same blinding the proof equals `ark-groth16`'s.
//! [`prove`] does the same for one proof, building the matrices first.
//! [`verify`] checks a proof against public inputs with the prepared
//! verifying key; a proof made here verifies with
//! `ark_groth16::Groth16::verify` and with `snarkjs groth16 verify`.

use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError, SynthesisMode,
    R1CS_PREDICATE_LABEL,
};
use ark_std::rand::{CryptoRng, RngCore};
use ark_std::UniformRand;
use depin_prover_core::groth16::{synthesize_witness, CircuitProver, Groth16Error};
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::{CircuitError, StatementCircuit};

use depin_proving::{Proof, StatementProof};

use crate::keys::{KeyError, ProvingKey, VerifyingKey};

/// Why a proof could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The proof is another proof system's.
    #[error("a {0} proof, not a Groth16 one")]
    Backend(depin_proving::Backend),
    /// The key is for another statement.
    #[error("the key is for statement {}, the circuit is {}", key.as_str(), circuit.as_str())]
    WrongStatement {
        /// The key's statement.
        key: StatementKind,
        /// The circuit's (or proof's) statement.
        circuit: StatementKind,
    },
    /// The circuit's shape differs from the one the key was made for.
    #[error("the {} proving key does not match the circuit: {detail}", kind.as_str())]
    KeyMismatch {
        /// The statement.
        kind: StatementKind,
        /// Which sizes differ.
        detail: String,
    },
    /// arkworks failed to synthesize or prove.
    #[error("synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The witness does not satisfy the circuit (a bug in witness
    /// generation: the native reference and the circuit disagree).
    #[error("the {} witness does not satisfy the circuit (first failing constraint: {constraint})", kind.as_str())]
    Unsatisfied {
        /// The statement.
        kind: StatementKind,
        /// The first unsatisfied constraint's name, as arkworks reports it.
        constraint: String,
    },
    /// The circuit's public inputs differ from those its witness claims.
    #[error("the {} circuit's public input {index} differs from the native reference's", kind.as_str())]
    PublicMismatch {
        /// The statement.
        kind: StatementKind,
        /// The first differing input.
        index: usize,
    },
    /// A number of public inputs other than the key's.
    #[error("{found} public inputs given, the {} statement has {expected}", kind.as_str())]
    PublicInputCount {
        /// The statement.
        kind: StatementKind,
        /// The key's count.
        expected: usize,
        /// Count given.
        found: usize,
    },
    /// A proof file could not be read or written.
    #[error(transparent)]
    File(#[from] KeyError),
    /// The statement's sample circuit (the shape of its keys) could not be
    /// built.
    #[error("building the sample circuit: {0}")]
    Circuit(#[from] CircuitError),
    /// The proving core refused the circuit or the assignment (too large,
    /// malformed).
    #[error("the {} prover failed: {source}", kind.as_str())]
    Core {
        /// The statement.
        kind: StatementKind,
        /// The core's reason.
        #[source]
        source: Groth16Error,
    },
}

/// How much work a circuit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitShape {
    /// R1CS constraints.
    pub constraints: usize,
    /// Public inputs (without the constant one).
    pub public_inputs: usize,
    /// Private witness variables.
    pub witnesses: usize,
}

/// Where [`prove`]'s time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProveTimings {
    /// Building the circuit's R1CS matrices (setup-mode synthesis and LC
    /// inlining): zero with a [`Prover`], which builds them once.
    pub matrices: Duration,
    /// Prove-mode synthesis of the assignment (values only, no matrices).
    pub synthesis: Duration,
    /// The witness map: `A z`, `B z`, `C z`, the satisfiability check and
    /// the FFTs of the QAP quotient.
    pub witness_map: Duration,
    /// The multi-scalar multiplications and the proof's assembly.
    pub msm: Duration,
    /// The Groth16 core: `witness_map + msm`.
    pub groth16: Duration,
}

/// Synthesizes `circuit` in setup mode and counts its constraints and
/// variables (what the keys are sized by).
pub fn circuit_shape<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
) -> Result<CircuitShape, SynthesisError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    Ok(CircuitShape {
        constraints: cs.num_constraints(),
        public_inputs: cs.num_instance_variables().saturating_sub(1),
        witnesses: cs.num_witness_variables(),
    })
}

/// A statement's prover: its proving key with the circuit's R1CS matrices
/// and QAP domain ([`depin_prover_core::groth16::CircuitProver`]), built
/// once and shared by every proof (`Send + Sync`; a service holds one per
/// statement). Each proof then only synthesizes the assignment, computes
/// the QAP quotient and runs the MSMs of `depin-prover-core`.
#[derive(Debug)]
pub struct Prover {
    key: ProvingKey,
    core: CircuitProver,
}

impl Prover {
    /// The prover of `key` for `circuit`'s shape: builds the matrices from
    /// `circuit` (setup-mode synthesis; its witness values are not used)
    /// and checks that the key was made for them.
    pub fn new<C: StatementCircuit>(key: ProvingKey, circuit: C) -> Result<Self, ProverError> {
        same_statement(key.kind(), C::KIND)?;
        let core = CircuitProver::from_circuit(circuit).map_err(|e| core_error(C::KIND, e))?;
        core.check_key(key.key_ref().map_err(KeyError::from)?)
            .map_err(|e| core_error(C::KIND, e))?;
        Ok(Prover { key, core })
    }

    /// The prover of `key` for its statement at full capacity (the shape
    /// of the statement's `sample()` circuit, which the service's keys are
    /// made for).
    pub fn for_statement(key: ProvingKey) -> Result<Self, ProverError> {
        match key.kind() {
            StatementKind::Uptime => Self::new(key, UptimeCircuit::sample()),
            StatementKind::Bandwidth => Self::new(key, BandwidthCircuit::sample()),
            StatementKind::Coverage => Self::new(key, CoverageCircuit::sample()?),
        }
    }

    /// The statement.
    pub fn kind(&self) -> StatementKind {
        self.key.kind()
    }

    /// The proving key.
    pub fn key(&self) -> &ProvingKey {
        &self.key
    }

    /// The circuit's size.
    pub fn shape(&self) -> CircuitShape {
        let r = self.core.r1cs();
        CircuitShape {
            constraints: r.num_constraints(),
            public_inputs: r.num_instance() - 1,
            witnesses: r.num_witness(),
        }
    }

    /// Proves `circuit` (of this prover's statement and shape), drawing the
    /// blinding `r, s` from `rng` (the same circuit, key and rng state give
    /// the same proof, and the same as [`prove`]'s).
    pub fn prove<C, R>(&self, circuit: C, rng: &mut R) -> Result<StatementProof, ProverError>
    where
        C: StatementCircuit,
        R: RngCore + CryptoRng,
    {
        self.prove_timed(circuit, rng).map(|(p, _)| p)
    }

    /// [`Prover::prove`], also reporting where the time went.
    pub fn prove_timed<C, R>(
        &self,
        circuit: C,
        rng: &mut R,
    ) -> Result<(StatementProof, ProveTimings), ProverError>
    where
        C: StatementCircuit,
        R: RngCore + CryptoRng,
    {
        prove_with(&self.core, &self.key, circuit, rng)
    }
}

/// Proves `circuit` with `pk`, drawing the proof's blinding `r, s` from
/// `rng` (the same circuit, key and rng state give the same proof). Builds
/// the circuit's matrices first: to prove a statement more than once,
/// build a [`Prover`] once instead.
pub fn prove<C, R>(pk: &ProvingKey, circuit: C, rng: &mut R) -> Result<StatementProof, ProverError>
where
    C: StatementCircuit,
    R: RngCore + CryptoRng,
{
    prove_timed(pk, circuit, rng).map(|(p, _)| p)
}

/// [`prove`], also reporting where the time went.
pub fn prove_timed<C, R>(
    pk: &ProvingKey,
    circuit: C,
    rng: &mut R,
) -> Result<(StatementProof, ProveTimings), ProverError>
where
    C: StatementCircuit,
    R: RngCore + CryptoRng,
{
    let kind = C::KIND;
    same_statement(pk.kind(), kind)?;
    let start = Instant::now();
    let core = CircuitProver::from_circuit(circuit.clone()).map_err(|e| core_error(kind, e))?;
    let matrices = start.elapsed();
    let (proof, mut timings) = prove_with(&core, pk, circuit, rng)?;
    timings.matrices = matrices;
    Ok((proof, timings))
}

/// [`ProverError::WrongStatement`] unless the key is for the circuit's (or
/// proof's) statement.
fn same_statement(key: StatementKind, circuit: StatementKind) -> Result<(), ProverError> {
    if key == circuit {
        Ok(())
    } else {
        Err(ProverError::WrongStatement { key, circuit })
    }
}

/// Synthesizes the assignment, checks it against the matrices (every
/// constraint), the key (its shape) and the witness's claimed public
/// inputs, then proves with `depin-prover-core`.
fn prove_with<C, R>(
    core: &CircuitProver,
    pk: &ProvingKey,
    circuit: C,
    rng: &mut R,
) -> Result<(StatementProof, ProveTimings), ProverError>
where
    C: StatementCircuit,
    R: RngCore + CryptoRng,
{
    let kind = C::KIND;
    same_statement(pk.kind(), kind)?;
    let key = pk.key_ref().map_err(KeyError::from)?;
    core.check_key(key).map_err(|e| core_error(kind, e))?;
    let claimed = circuit.public_inputs();
    let start = Instant::now();
    let assignment = synthesize_witness(circuit).map_err(|e| core_error(kind, e))?;
    let synthesis = start.elapsed();
    let r1cs = core.r1cs();
    if assignment.num_instance() != r1cs.num_instance()
        || assignment.z().len() != r1cs.num_variables()
    {
        return Err(ProverError::KeyMismatch {
            kind,
            detail: format!(
                "the circuit has {} instance and {} witness variables, the key {} and {}",
                assignment.num_instance(),
                assignment.witness().len(),
                r1cs.num_instance(),
                r1cs.num_witness()
            ),
        });
    }

    let start = Instant::now();
    let h = core
        .witness_map(assignment.z())
        .map_err(|e| core_error(kind, e))?;
    let witness_map = start.elapsed();
    let public = assignment.public_inputs();
    if public.len() != claimed.len() {
        return Err(ProverError::PublicInputCount {
            kind,
            expected: claimed.len(),
            found: public.len(),
        });
    }
    if let Some(index) = public.iter().zip(&claimed).position(|(a, b)| a != b) {
        return Err(ProverError::PublicMismatch { kind, index });
    }

    let start = Instant::now();
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let proof = core
        .prove_with_quotient(key, &assignment, &h, r, s)
        .map_err(|e| core_error(kind, e))?;
    let msm = start.elapsed();
    let timings = ProveTimings {
        matrices: Duration::ZERO,
        synthesis,
        witness_map,
        msm,
        groth16: witness_map + msm,
    };
    Ok((
        StatementProof::groth16(kind, public.to_vec(), proof),
        timings,
    ))
}

/// The core's error as this crate's, naming the statement.
fn core_error(kind: StatementKind, e: Groth16Error) -> ProverError {
    match e {
        Groth16Error::Unsatisfied(row) => ProverError::Unsatisfied {
            kind,
            constraint: format!("{R1CS_PREDICATE_LABEL} - {row}"),
        },
        Groth16Error::KeyMismatch {
            query,
            found,
            expected,
        } => ProverError::KeyMismatch {
            kind,
            detail: format!("the key's {query} has {found} elements, the circuit needs {expected}"),
        },
        Groth16Error::Synthesis(e) => ProverError::Synthesis(e),
        other => ProverError::Core {
            kind,
            source: other,
        },
    }
}

/// Verifies `proof` for `public` against `vk`: `Ok(true)` valid,
/// `Ok(false)` invalid, `Err` when the public inputs do not fit the key
/// (arkworks would silently ignore extra ones).
pub fn verify(
    vk: &VerifyingKey,
    public: &[Fr],
    proof: &ark_groth16::Proof<Bn254>,
) -> Result<bool, ProverError> {
    let expected = vk.public_input_count();
    if public.len() != expected {
        return Err(ProverError::PublicInputCount {
            kind: vk.kind(),
            expected,
            found: public.len(),
        });
    }
    Ok(Groth16::<Bn254>::verify_proof(
        vk.prepared(),
        proof,
        public,
    )?)
}

/// Verifies a statement proof against `vk` (which must be for the same
/// statement; the proof must be a Groth16 one).
pub fn verify_statement(vk: &VerifyingKey, proof: &StatementProof) -> Result<bool, ProverError> {
    same_statement(vk.kind(), proof.kind)?;
    let Proof::Groth16(p) = &proof.proof else {
        return Err(ProverError::Backend(proof.proof.backend()));
    };
    verify(vk, &proof.public, p)
}
