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
//!
//! # `proof.bin`
//!
//! A proof file is the 16-byte [`FileHeader`](crate::keys::FileHeader)
//! (file type 3), the public inputs (`n` field elements, 32 bytes each,
//! canonical little-endian, `n` from the header) and the proof, compressed
//! (`A` 32 bytes, `B` 64, `C` 32): `16 + 32 n + 128` bytes. Loading
//! validates every element and point.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError, SynthesisMode,
    R1CS_PREDICATE_LABEL,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_std::rand::{CryptoRng, RngCore};
use ark_std::UniformRand;
use depin_prover_core::groth16::{synthesize_witness, CircuitProver, Groth16Error};
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::{CircuitError, StatementCircuit};

use crate::keys::{
    deserialize_exact, read_file, write_file, FileHeader, FileType, FormatError, KeyError,
    ProvingKey, VerifyingKey,
};
use crate::snarkjs;

/// The file name of a binary proof in a proof directory.
pub const PROOF_BIN_FILE: &str = "proof.bin";

/// Why a proof could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
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

/// A proof with the statement and the public inputs it proves.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementProof {
    /// The statement.
    pub kind: StatementKind,
    /// The public inputs, in the statement's order.
    pub public: Vec<Fr>,
    /// The Groth16 proof.
    pub proof: ark_groth16::Proof<Bn254>,
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
        StatementProof {
            kind,
            public: public.to_vec(),
            proof,
        },
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

impl StatementProof {
    /// Verifies the proof against `vk` (which must be for the same
    /// statement).
    pub fn verify(&self, vk: &VerifyingKey) -> Result<bool, ProverError> {
        same_statement(vk.kind(), self.kind)?;
        verify(vk, &self.public, &self.proof)
    }

    /// `proof.bin`'s bytes (see the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        if self.public.len() != self.kind.public_input_count() {
            return Err(FormatError::WrongPublicInputCount {
                expected: self.kind.public_input_count(),
                found: self.public.len(),
            });
        }
        let mut out = Vec::with_capacity(16 + 32 * self.public.len() + 128);
        out.extend_from_slice(&FileHeader::new(FileType::Proof, self.kind).to_bytes());
        for x in &self.public {
            x.serialize_compressed(&mut out)
                .map_err(|source| FormatError::Serialize {
                    what: "public inputs",
                    source,
                })?;
        }
        self.proof
            .serialize_compressed(&mut out)
            .map_err(|source| FormatError::Serialize {
                what: "proof",
                source,
            })?;
        Ok(out)
    }

    /// Parses `proof.bin`'s bytes for `kind`, validating every element and
    /// point.
    pub fn from_bytes(bytes: &[u8], kind: StatementKind) -> Result<Self, FormatError> {
        let mut body = FileHeader::check(bytes, FileType::Proof, kind)?;
        let n = kind.public_input_count();
        let mut public = Vec::with_capacity(n);
        for _ in 0..n {
            if body.len() < 32 {
                return Err(FormatError::Truncated("public inputs"));
            }
            let (head, rest) = body.split_at(32);
            let x = Fr::deserialize_with_mode(head, Compress::Yes, Validate::Yes).map_err(
                |source| FormatError::Invalid {
                    what: "public input",
                    source,
                },
            )?;
            public.push(x);
            body = rest;
        }
        let proof = deserialize_exact(body, Compress::Yes, Validate::Yes, "proof")?;
        Ok(StatementProof {
            kind,
            public,
            proof,
        })
    }

    /// Writes `proof.bin`.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let bytes = self.to_bytes().map_err(|source| KeyError::Format {
            path: path.to_path_buf(),
            source,
        })?;
        write_file(path, &bytes)
    }

    /// Reads `proof.bin` for `kind`.
    pub fn load(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, kind).map_err(|source| KeyError::Format {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes a proof directory (created if missing): [`PROOF_BIN_FILE`],
    /// [`PROOF_JSON_FILE`] and [`PUBLIC_JSON_FILE`].
    pub fn write_dir(&self, dir: &Path) -> Result<(), ProverError> {
        std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        self.write(&dir.join(PROOF_BIN_FILE))?;
        let json = |path: PathBuf, text: Result<String, serde_json::Error>| {
            let text = text.map_err(|source| KeyError::Json {
                path: path.clone(),
                source,
            })?;
            write_file(&path, text.as_bytes())
        };
        json(
            dir.join(PROOF_JSON_FILE),
            snarkjs::proof_to_json(&self.proof),
        )?;
        json(
            dir.join(PUBLIC_JSON_FILE),
            snarkjs::public_to_json(&self.public),
        )?;
        Ok(())
    }
}

/// The file name of a proof in snarkjs's JSON in a proof directory.
pub const PROOF_JSON_FILE: &str = "proof.json";
/// The file name of the public inputs in snarkjs's JSON in a proof
/// directory.
pub const PUBLIC_JSON_FILE: &str = "public.json";

/// The proofs found in a proof directory: the binary one, the snarkjs one,
/// or both (each is verified on its own).
#[derive(Debug, Clone, PartialEq)]
pub struct ProofDir {
    /// From [`PROOF_BIN_FILE`], if present.
    pub bin: Option<StatementProof>,
    /// From [`PROOF_JSON_FILE`] and [`PUBLIC_JSON_FILE`], if present.
    pub json: Option<StatementProof>,
}

/// Why a proof directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProofDirError {
    /// A file could not be read or parsed.
    #[error(transparent)]
    File(#[from] KeyError),
    /// A snarkjs file was refused.
    #[error("{}: {source}", path.display())]
    Snarkjs {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: snarkjs::SnarkjsError,
    },
    /// `public.json` has the wrong number of inputs.
    #[error("{}: {found} public inputs, the {} statement has {expected}", path.display(), kind.as_str())]
    PublicInputCount {
        /// The file.
        path: PathBuf,
        /// The statement.
        kind: StatementKind,
        /// The statement's count.
        expected: usize,
        /// Count in the file.
        found: usize,
    },
    /// Only one of `proof.json` and `public.json`.
    #[error("{}: missing (it comes with {})", missing.display(), present.display())]
    Incomplete {
        /// The file that is missing.
        missing: PathBuf,
        /// The file that is there.
        present: PathBuf,
    },
    /// No proof at all.
    #[error("{}: no {PROOF_BIN_FILE} and no {PROOF_JSON_FILE} with {PUBLIC_JSON_FILE}", dir.display())]
    Empty {
        /// The directory.
        dir: PathBuf,
    },
}

impl ProofDir {
    /// Reads the proofs in `dir` for `kind`.
    pub fn read(dir: &Path, kind: StatementKind) -> Result<Self, ProofDirError> {
        let bin_path = dir.join(PROOF_BIN_FILE);
        let bin = if bin_path.exists() {
            Some(StatementProof::load(&bin_path, kind)?)
        } else {
            None
        };
        let proof_path = dir.join(PROOF_JSON_FILE);
        let public_path = dir.join(PUBLIC_JSON_FILE);
        let json = match (proof_path.exists(), public_path.exists()) {
            (false, false) => None,
            (true, false) => {
                return Err(ProofDirError::Incomplete {
                    missing: public_path,
                    present: proof_path,
                })
            }
            (false, true) => {
                return Err(ProofDirError::Incomplete {
                    missing: proof_path,
                    present: public_path,
                })
            }
            (true, true) => {
                let text = |path: &Path| {
                    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                        path: path.to_path_buf(),
                        source,
                    })
                };
                let proof = snarkjs::proof_from_json(&text(&proof_path)?).map_err(|source| {
                    ProofDirError::Snarkjs {
                        path: proof_path.clone(),
                        source,
                    }
                })?;
                let public = snarkjs::public_from_json(&text(&public_path)?).map_err(|source| {
                    ProofDirError::Snarkjs {
                        path: public_path.clone(),
                        source,
                    }
                })?;
                if public.len() != kind.public_input_count() {
                    return Err(ProofDirError::PublicInputCount {
                        path: public_path,
                        kind,
                        expected: kind.public_input_count(),
                        found: public.len(),
                    });
                }
                Some(StatementProof {
                    kind,
                    public,
                    proof,
                })
            }
        };
        if bin.is_none() && json.is_none() {
            return Err(ProofDirError::Empty {
                dir: dir.to_path_buf(),
            });
        }
        Ok(ProofDir { bin, json })
    }

    /// The proofs present, each named by its file(s).
    pub fn proofs(&self) -> Vec<(&'static str, &StatementProof)> {
        let mut out = Vec::new();
        if let Some(p) = &self.bin {
            out.push((PROOF_BIN_FILE, p));
        }
        if let Some(p) = &self.json {
            out.push(("proof.json + public.json", p));
        }
        out
    }
}

/// The packed header (public input 0) unpacked: `kind + version * 2^8 +
/// epoch * 2^40 + reward * 2^72`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Statement kind code (8 bits).
    pub kind: u8,
    /// Statement version (32 bits).
    pub version: u32,
    /// Epoch (32 bits).
    pub epoch: u32,
    /// Reward (64 bits).
    pub reward: u64,
}

impl Header {
    /// Unpacks a header; `None` when it has bits above 136.
    pub fn unpack(header: &Fr) -> Option<Self> {
        use ark_ff::PrimeField;
        let limbs = header.into_bigint().0;
        if limbs[3] != 0 || limbs[2] >> 8 != 0 {
            return None;
        }
        let low = u128::from(limbs[0]) | (u128::from(limbs[1]) << 64);
        let reward = (low >> 72) as u64 | (limbs[2] << 56);
        Some(Header {
            kind: (low & 0xff) as u8,
            version: ((low >> 8) & 0xffff_ffff) as u32,
            epoch: ((low >> 40) & 0xffff_ffff) as u32,
            reward,
        })
    }
}
