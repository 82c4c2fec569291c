//! Prove and verify a statement with Groth16 on BN254.
//!
//! [`prove`] synthesizes the circuit once, refuses an unsatisfied witness
//! (arkworks would silently produce an invalid proof), checks that the
//! circuit's public inputs are those its witness claims, and proves with
//! `ark-groth16` (libsnark's R1CS-to-QAP reduction). The proving core is
//! behind this API, so a faster one can replace arkworks' without touching
//! callers. [`verify`] checks a proof against public inputs with the
//! prepared verifying key; a proof made here verifies with
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
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_std::rand::{CryptoRng, RngCore};
use ark_std::UniformRand;
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;

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
    /// Synthesis, LC inlining and the satisfiability check.
    pub synthesis: Duration,
    /// The witness map (FFTs) and the MSMs.
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

/// Proves `circuit` with `pk`, drawing the proof's blinding `r, s` from
/// `rng` (the same circuit, key and rng state give the same proof).
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
    if pk.kind() != kind {
        return Err(ProverError::WrongStatement {
            key: pk.kind(),
            circuit: kind,
        });
    }
    let start = Instant::now();
    let claimed = circuit.public_inputs();
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    check_satisfied(kind, &cs)?;

    let num_inputs = cs.num_instance_variables();
    let num_constraints = cs.num_constraints();
    let full_assignment = {
        let inner = cs.borrow().ok_or(SynthesisError::MissingCS)?;
        let mut z = inner.instance_assignment()?.to_vec();
        z.extend_from_slice(inner.witness_assignment()?);
        z
    };
    let public = full_assignment
        .get(1..num_inputs)
        .ok_or(SynthesisError::AssignmentMissing)?
        .to_vec();
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
    check_key_shape(pk, num_inputs, full_assignment.len(), num_constraints)?;
    let matrices = cs
        .to_matrices()?
        .remove(R1CS_PREDICATE_LABEL)
        .ok_or(SynthesisError::MissingCS)?;
    drop(cs);
    let synthesis = start.elapsed();

    let start = Instant::now();
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let proof = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
        pk.as_arkworks(),
        r,
        s,
        &matrices,
        num_inputs,
        num_constraints,
        &full_assignment,
    )?;
    let timings = ProveTimings {
        synthesis,
        groth16: start.elapsed(),
    };
    Ok((
        StatementProof {
            kind,
            public,
            proof,
        },
        timings,
    ))
}

fn check_satisfied(kind: StatementKind, cs: &ConstraintSystemRef<Fr>) -> Result<(), ProverError> {
    if cs.is_satisfied()? {
        return Ok(());
    }
    let constraint = cs
        .which_is_unsatisfied()?
        .unwrap_or_else(|| "unknown".to_string());
    Err(ProverError::Unsatisfied { kind, constraint })
}

fn check_key_shape(
    pk: &ProvingKey,
    num_inputs: usize,
    num_variables: usize,
    num_constraints: usize,
) -> Result<(), ProverError> {
    let ark = pk.as_arkworks();
    let mismatch = |detail: String| ProverError::KeyMismatch {
        kind: pk.kind(),
        detail,
    };
    if ark.vk.gamma_abc_g1.len() != num_inputs {
        return Err(mismatch(format!(
            "key has {} instance variables, circuit {num_inputs}",
            ark.vk.gamma_abc_g1.len()
        )));
    }
    if ark.a_query.len() != num_variables {
        return Err(mismatch(format!(
            "key has {} variables, circuit {num_variables}",
            ark.a_query.len()
        )));
    }
    // The QAP domain covers the constraints and one row per instance
    // variable; h_query has one point fewer than the domain.
    let domain = (num_constraints + num_inputs).next_power_of_two();
    if ark.h_query.len() + 1 != domain {
        return Err(mismatch(format!(
            "key has {} h_query points, circuit needs {}",
            ark.h_query.len(),
            domain - 1
        )));
    }
    Ok(())
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
        if vk.kind() != self.kind {
            return Err(ProverError::WrongStatement {
                key: vk.kind(),
                circuit: self.kind,
            });
        }
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
