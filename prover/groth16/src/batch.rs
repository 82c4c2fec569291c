//! Groth16 for epoch batches: keys and proofs of
//! [`depin_batch_r1cs::BatchCircuit`] (`B` device-epochs of one statement
//! and the update of the statement's rewards tree, with one public input,
//! the SHA-256 digest of the batch's header and public data; see
//! `docs/batches.md`).
//!
//! A batch key is made for one statement, one batch size `B` and the
//! rewards tree depth [`TREE_DEPTH`]: the shape of the statement's
//! full-capacity sample formed into a batch of `B` positions
//! ([`visit_sample_batch`]). [`BatchKeys::dev_setup`] is the insecure
//! seeded development setup (arkworks', as [`crate::keys::dev_setup`]);
//! [`dev_batch_verifying_key`] recomputes its verifying key in seconds.
//! [`BatchProver`] proves formed batches on `depin-prover-core` with the
//! circuit's matrices built once (the same Groth16 prover as the single
//! statements: it refuses an assignment that does not satisfy every
//! constraint) and verifies them.
//!
//! Batch proving keys are written as a small header (kind, batch size,
//! tree depth) and arkworks' uncompressed encoding, for caches of the
//! development keys; a trusted load skips the curve checks.

use std::fs;
use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof};
use ark_relations::gr1cs::SynthesisError;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_snark::SNARK;
use ark_std::rand::{CryptoRng, RngCore};
use depin_batch::header::BatchHeader;
use depin_batch::{PublicData, RewardsTree, TreeError, TREE_DEPTH};
use depin_batch_r1cs::{BatchCircuit, BatchError};
use depin_prover_core::groth16::{CircuitProver, Groth16Error};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::{visit_sample, CircuitError, CircuitVisitor, StatementCircuit};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::keys::dev_verifying_key_of;

/// The first bytes of a batch proving key file.
const MAGIC: &[u8; 16] = b"depin-batch-pk1\n";

/// Why a batch key or proof could not be made, read or checked.
#[derive(Debug, thiserror::Error)]
pub enum BatchProverError {
    /// The statement's sample circuit could not be built.
    #[error("the {} sample circuit: {0}", .kind.as_str())]
    Sample {
        /// The statement.
        kind: StatementKind,
        /// Why.
        #[source]
        source: CircuitError,
    },
    /// The sample batch could not be formed (a batch size of zero or above
    /// the maximum).
    #[error("forming a {} batch of {batch_size}: {source}", kind.as_str())]
    Form {
        /// The statement.
        kind: StatementKind,
        /// The batch size asked for.
        batch_size: usize,
        /// Why.
        #[source]
        source: BatchError,
    },
    /// The empty rewards tree could not be made.
    #[error("the rewards tree: {0}")]
    Tree(#[from] TreeError),
    /// arkworks' setup or synthesis failed.
    #[error("setup of the {} batch circuit failed: {source}", kind.as_str())]
    Setup {
        /// The statement.
        kind: StatementKind,
        /// Why.
        #[source]
        source: SynthesisError,
    },
    /// The key is for another statement, batch size or tree depth.
    #[error(
        "the key is for {} batches of {key_size} (tree depth {key_depth}), the batch is {} of {size} (depth {depth})",
        key_kind.as_str(),
        kind.as_str()
    )]
    WrongBatch {
        /// The key's statement.
        key_kind: StatementKind,
        /// The key's batch size.
        key_size: usize,
        /// The key's tree depth.
        key_depth: usize,
        /// The batch's statement.
        kind: StatementKind,
        /// The batch's size.
        size: usize,
        /// The batch's tree depth.
        depth: usize,
    },
    /// The proving core refused the key or the assignment (a witness that
    /// does not satisfy the circuit, a key of another shape).
    #[error("the {} batch prover failed: {source}", kind.as_str())]
    Core {
        /// The statement.
        kind: StatementKind,
        /// The core's reason.
        #[source]
        source: Groth16Error,
    },
    /// A key file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file is not a batch proving key, or not the one asked for.
    #[error("{}: {detail}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Verification failed to run (not: the proof is invalid).
    #[error("verifying: {0}")]
    Verify(SynthesisError),
    /// A device epoch's statement circuit could not be built.
    #[error("position {position} of a {} batch: {source}", kind.as_str())]
    Statement {
        /// The statement.
        kind: StatementKind,
        /// The position.
        position: usize,
        /// Why.
        #[source]
        source: CircuitError,
    },
    /// Bytes that are not a batch proof.
    #[error("not a batch proof: {0}")]
    Encoding(String),
}

/// Something generic over the batch circuits of the three statements.
pub trait BatchVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the batch circuit.
    fn visit<S: StatementCircuit>(self, batch: BatchCircuit<S>) -> Self::Output;
}

/// Forms `kind`'s full-capacity sample into a batch of `batch_size`
/// positions on an empty tree of depth [`TREE_DEPTH`] (the shape every
/// batch key of the statement and size is made for) and hands it to
/// `visitor`.
pub fn visit_sample_batch<V: BatchVisitor>(
    kind: StatementKind,
    batch_size: usize,
    visitor: V,
) -> Result<V::Output, BatchProverError> {
    struct Form<V>(usize, V);
    impl<V: BatchVisitor> CircuitVisitor for Form<V> {
        type Output = Result<V::Output, BatchProverError>;
        fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
            let tree = RewardsTree::new(TREE_DEPTH)?;
            let formed = BatchCircuit::form(&tree, self.0, vec![circuit]).map_err(|source| {
                BatchProverError::Form {
                    kind: C::KIND,
                    batch_size: self.0,
                    source,
                }
            })?;
            Ok(self.1.visit(formed.circuit))
        }
    }
    visit_sample(kind, Form(batch_size, visitor))
        .map_err(|source| BatchProverError::Sample { kind, source })?
}

/// A statement's batch keys for one batch size.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchKeys {
    kind: StatementKind,
    batch_size: usize,
    proving: ark_groth16::ProvingKey<Bn254>,
}

impl BatchKeys {
    /// Development setup of `kind`'s batches of `batch_size`: arkworks'
    /// Groth16 setup of the sample batch with every random value drawn from
    /// ChaCha20 seeded by `seed` (the same statement, size and seed give
    /// the same keys).
    ///
    /// **Insecure**: the seed determines the toxic waste.
    pub fn dev_setup(
        kind: StatementKind,
        batch_size: usize,
        seed: u64,
    ) -> Result<Self, BatchProverError> {
        struct Setup(u64);
        impl BatchVisitor for Setup {
            type Output = Result<ark_groth16::ProvingKey<Bn254>, SynthesisError>;
            fn visit<S: StatementCircuit>(self, batch: BatchCircuit<S>) -> Self::Output {
                let mut rng = ChaCha20Rng::seed_from_u64(self.0);
                Groth16::<Bn254>::circuit_specific_setup(batch, &mut rng).map(|(pk, _)| pk)
            }
        }
        let proving = visit_sample_batch(kind, batch_size, Setup(seed))?
            .map_err(|source| BatchProverError::Setup { kind, source })?;
        Ok(BatchKeys {
            kind,
            batch_size,
            proving,
        })
    }

    /// The statement.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// Positions per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The proving key.
    pub fn proving_key(&self) -> &ark_groth16::ProvingKey<Bn254> {
        &self.proving
    }

    /// The verifying key (one public input: the batch digest).
    pub fn verifying_key(&self) -> &ark_groth16::VerifyingKey<Bn254> {
        &self.proving.vk
    }

    /// Writes the proving key to `path`, whole or not at all, replacing any
    /// file there (`depin_durable::replace_file`).
    pub fn write(&self, path: &Path) -> Result<(), BatchProverError> {
        let io = |source| BatchProverError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = Vec::with_capacity(self.proving.uncompressed_size() + 32);
        bytes.extend_from_slice(MAGIC);
        bytes.push(self.kind.code());
        bytes.extend_from_slice(&(self.batch_size as u32).to_le_bytes());
        bytes.extend_from_slice(&(TREE_DEPTH as u32).to_le_bytes());
        self.proving
            .serialize_uncompressed(&mut bytes)
            .map_err(|e| BatchProverError::Format {
                path: path.to_path_buf(),
                detail: format!("encoding the key: {e}"),
            })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        depin_durable::replace_file(path, &bytes).map_err(io)
    }

    /// Reads a proving key written by [`BatchKeys::write`] for `kind`'s
    /// batches of `batch_size`, refusing any other. `trusted` skips the
    /// curve and subgroup checks of every point (for a file this node
    /// wrote itself; seconds instead of minutes at full size).
    pub fn read(
        path: &Path,
        kind: StatementKind,
        batch_size: usize,
        trusted: bool,
    ) -> Result<Self, BatchProverError> {
        let format = |detail: String| BatchProverError::Format {
            path: path.to_path_buf(),
            detail,
        };
        let bytes = fs::read(path).map_err(|source| BatchProverError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let header_len = MAGIC.len() + 1 + 4 + 4;
        if bytes.len() < header_len || &bytes[..MAGIC.len()] != MAGIC {
            return Err(format("not a batch proving key".into()));
        }
        let word = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(w) as usize
        };
        let (code, size, depth) = (
            bytes[MAGIC.len()],
            word(MAGIC.len() + 1),
            word(MAGIC.len() + 5),
        );
        let key_kind = StatementKind::try_from(code).map_err(|e| format(e.to_string()))?;
        if key_kind != kind || size != batch_size || depth != TREE_DEPTH {
            return Err(BatchProverError::WrongBatch {
                key_kind,
                key_size: size,
                key_depth: depth,
                kind,
                size: batch_size,
                depth: TREE_DEPTH,
            });
        }
        let validate = if trusted { Validate::No } else { Validate::Yes };
        let mut body = &bytes[header_len..];
        let proving = ark_groth16::ProvingKey::<Bn254>::deserialize_with_mode(
            &mut body,
            Compress::No,
            validate,
        )
        .map_err(|e| format(format!("decoding the key: {e}")))?;
        if !body.is_empty() {
            return Err(format(format!("{} bytes after the key", body.len())));
        }
        if proving.vk.gamma_abc_g1.len() != 2 {
            return Err(format(format!(
                "the key has {} public inputs, a batch has 1",
                proving.vk.gamma_abc_g1.len().saturating_sub(1)
            )));
        }
        Ok(BatchKeys {
            kind,
            batch_size,
            proving,
        })
    }
}

/// The verifying key [`BatchKeys::dev_setup`] makes for the same
/// statement, size and seed, without the proving key (seconds instead of
/// minutes; the golden batch verifiers are checked with it).
pub fn dev_batch_verifying_key(
    kind: StatementKind,
    batch_size: usize,
    seed: u64,
) -> Result<ark_groth16::VerifyingKey<Bn254>, BatchProverError> {
    struct VkOnly(u64);
    impl BatchVisitor for VkOnly {
        type Output = Result<ark_groth16::VerifyingKey<Bn254>, SynthesisError>;
        fn visit<S: StatementCircuit>(self, batch: BatchCircuit<S>) -> Self::Output {
            dev_verifying_key_of(batch, self.0)
        }
    }
    visit_sample_batch(kind, batch_size, VkOnly(seed))?
        .map_err(|source| BatchProverError::Setup { kind, source })
}

/// A batch proof: what `DepinRewards.submitBatch` checks.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchProof {
    /// The statement.
    pub kind: StatementKind,
    /// Positions in the batch.
    pub batch_size: usize,
    /// The one public input: the digest of the header and public data.
    pub digest: Fr,
    /// The Groth16 proof.
    pub proof: Proof<Bn254>,
}

/// A statement's batch prover for one batch size: its key with the batch
/// circuit's R1CS matrices and QAP domain, built once (`Send + Sync`).
#[derive(Debug)]
pub struct BatchProver {
    keys: BatchKeys,
    prepared: PreparedVerifyingKey<Bn254>,
    core: CircuitProver,
}

impl BatchProver {
    /// The prover of `keys`: builds the sample batch's matrices and checks
    /// that the key was made for them.
    pub fn new(keys: BatchKeys) -> Result<Self, BatchProverError> {
        struct Matrices;
        impl BatchVisitor for Matrices {
            type Output = Result<CircuitProver, Groth16Error>;
            fn visit<S: StatementCircuit>(self, batch: BatchCircuit<S>) -> Self::Output {
                CircuitProver::from_circuit(batch)
            }
        }
        let kind = keys.kind;
        let core_err = |source| BatchProverError::Core { kind, source };
        let core = visit_sample_batch(kind, keys.batch_size, Matrices)?.map_err(core_err)?;
        core.check_key(&keys.proving).map_err(core_err)?;
        let prepared = ark_groth16::prepare_verifying_key(&keys.proving.vk);
        Ok(BatchProver {
            keys,
            prepared,
            core,
        })
    }

    /// The keys.
    pub fn keys(&self) -> &BatchKeys {
        &self.keys
    }

    /// R1CS constraints of the batch circuit.
    pub fn num_constraints(&self) -> usize {
        self.core.r1cs().num_constraints()
    }

    /// Proves `batch` (of this prover's statement, size and tree depth),
    /// drawing the blinding from `rng`. Refuses a batch whose witness does
    /// not satisfy the circuit.
    pub fn prove<S, R>(
        &self,
        batch: BatchCircuit<S>,
        rng: &mut R,
    ) -> Result<BatchProof, BatchProverError>
    where
        S: StatementCircuit,
        R: RngCore + CryptoRng,
    {
        let (kind, size) = (self.keys.kind, self.keys.batch_size);
        if S::KIND != kind || batch.batch_size() != size || batch.depth() != TREE_DEPTH {
            return Err(BatchProverError::WrongBatch {
                key_kind: kind,
                key_size: size,
                key_depth: TREE_DEPTH,
                kind: S::KIND,
                size: batch.batch_size(),
                depth: batch.depth(),
            });
        }
        let digest = batch.digest();
        let r = Fr::rand(rng);
        let s = Fr::rand(rng);
        let (proof, _) = self
            .core
            .prove_circuit(&self.keys.proving, batch, r, s)
            .map_err(|source| BatchProverError::Core { kind, source })?;
        Ok(BatchProof {
            kind,
            batch_size: size,
            digest,
            proof,
        })
    }

    /// Whether `proof` is valid for this prover's key.
    pub fn verify(&self, proof: &BatchProof) -> Result<bool, BatchProverError> {
        if proof.kind != self.keys.kind || proof.batch_size != self.keys.batch_size {
            return Ok(false);
        }
        Groth16::<Bn254>::verify_with_processed_vk(&self.prepared, &[proof.digest], &proof.proof)
            .map_err(BatchProverError::Verify)
    }
}

/// The batch circuit of one of the three statements.
#[derive(Clone, Debug)]
enum AnyBatch {
    Uptime(BatchCircuit<UptimeCircuit>),
    Bandwidth(BatchCircuit<BandwidthCircuit>),
    Coverage(BatchCircuit<CoverageCircuit>),
}

/// A batch formed from device epochs (the one epoch type every proof
/// system proves), on a given rewards tree: its circuit with the witness,
/// and the tree after it.
#[derive(Clone, Debug)]
pub struct EpochBatch {
    circuit: AnyBatch,
    tree: RewardsTree,
}

impl EpochBatch {
    /// Forms a batch of `batch_size` positions from `epochs` (one statement,
    /// one epoch, policy, beacon and registry root; at least one) credited
    /// in order to `tree`, which is not changed.
    pub fn form(
        tree: &RewardsTree,
        batch_size: usize,
        epochs: &[EpochInput],
    ) -> Result<Self, BatchProverError> {
        let kind = epochs
            .first()
            .map_or(StatementKind::Uptime, EpochInput::kind);
        /// The statement circuits of `epochs` (each must be the kind
        /// `build` takes), formed into a batch on `tree` and wrapped.
        fn formed<C: StatementCircuit>(
            (tree, batch_size, epochs): (&RewardsTree, usize, &[EpochInput]),
            build: impl Fn(&EpochInput) -> Option<Result<C, CircuitError>>,
            wrap: impl FnOnce(BatchCircuit<C>) -> AnyBatch,
        ) -> Result<(AnyBatch, RewardsTree), BatchProverError> {
            let kind = C::KIND;
            let circuits = epochs
                .iter()
                .enumerate()
                .map(|(position, e)| match build(e) {
                    Some(c) => c.map_err(|source| BatchProverError::Statement {
                        kind,
                        position,
                        source,
                    }),
                    None => Err(BatchProverError::Form {
                        kind,
                        batch_size: epochs.len(),
                        source: BatchError::Mixed {
                            position,
                            field: "kind",
                        },
                    }),
                })
                .collect::<Result<Vec<C>, _>>()?;
            let f = BatchCircuit::form(tree, batch_size, circuits).map_err(|source| {
                BatchProverError::Form {
                    kind,
                    batch_size,
                    source,
                }
            })?;
            Ok((wrap(f.circuit), f.tree))
        }
        let args = (tree, batch_size, epochs);
        let (circuit, tree) = match kind {
            StatementKind::Uptime => formed(
                args,
                |e| match e {
                    EpochInput::Uptime(e) => Some(UptimeCircuit::new(&e.as_input())),
                    _ => None,
                },
                AnyBatch::Uptime,
            ),
            StatementKind::Bandwidth => formed(
                args,
                |e| match e {
                    EpochInput::Bandwidth(e) => Some(BandwidthCircuit::new(&e.as_input())),
                    _ => None,
                },
                AnyBatch::Bandwidth,
            ),
            StatementKind::Coverage => formed(
                args,
                |e| match e {
                    EpochInput::Coverage(e) => Some(CoverageCircuit::new(&e.as_input())),
                    _ => None,
                },
                AnyBatch::Coverage,
            ),
        }?;
        Ok(EpochBatch { circuit, tree })
    }

    /// The statement.
    pub fn kind(&self) -> StatementKind {
        match self.circuit {
            AnyBatch::Uptime(_) => StatementKind::Uptime,
            AnyBatch::Bandwidth(_) => StatementKind::Bandwidth,
            AnyBatch::Coverage(_) => StatementKind::Coverage,
        }
    }

    /// The epoch-wide values and the two tree commitments.
    pub fn header(&self) -> &BatchHeader {
        match &self.circuit {
            AnyBatch::Uptime(c) => c.header(),
            AnyBatch::Bandwidth(c) => c.header(),
            AnyBatch::Coverage(c) => c.header(),
        }
    }

    /// The public data the contract receives.
    pub fn public_data(&self) -> &PublicData {
        match &self.circuit {
            AnyBatch::Uptime(c) => c.public_data(),
            AnyBatch::Bandwidth(c) => c.public_data(),
            AnyBatch::Coverage(c) => c.public_data(),
        }
    }

    /// The kind's rewards tree once the batch is applied.
    pub fn tree(&self) -> &RewardsTree {
        &self.tree
    }
}

impl BatchProver {
    /// Proves a batch formed by [`EpochBatch::form`] (of this prover's
    /// statement and size), drawing the blinding from `rng`.
    pub fn prove_epochs<R: RngCore + CryptoRng>(
        &self,
        batch: EpochBatch,
        rng: &mut R,
    ) -> Result<BatchProof, BatchProverError> {
        match batch.circuit {
            AnyBatch::Uptime(c) => self.prove(c, rng),
            AnyBatch::Bandwidth(c) => self.prove(c, rng),
            AnyBatch::Coverage(c) => self.prove(c, rng),
        }
    }
}

/// Bytes of [`BatchProof::to_bytes`].
pub const BATCH_PROOF_BYTES: usize = 1 + 4 + 32 + 128;

impl BatchProof {
    /// `kind (1) || batch size (4, BE) || digest (32, LE) || proof`
    /// (arkworks' compressed encoding, 128 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BATCH_PROOF_BYTES);
        out.push(self.kind.code());
        out.extend_from_slice(&(self.batch_size as u32).to_be_bytes());
        out.extend_from_slice(&depin_crypto::field::fr_to_le_bytes(&self.digest));
        // Writing to a vector cannot fail.
        let _ = self.proof.serialize_compressed(&mut out);
        out
    }

    /// Parses [`BatchProof::to_bytes`] (the points checked to be on the
    /// curve and in the subgroup).
    pub fn from_bytes(b: &[u8]) -> Result<Self, BatchProverError> {
        let bad = |detail: &str| BatchProverError::Encoding(detail.to_string());
        if b.len() != BATCH_PROOF_BYTES {
            return Err(bad("a batch proof has 165 bytes"));
        }
        let kind = StatementKind::try_from(b[0]).map_err(|_| bad("unknown statement kind"))?;
        let batch_size = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        let mut d = [0u8; 32];
        d.copy_from_slice(&b[5..37]);
        let digest = depin_crypto::field::fr_from_le_bytes(&d)
            .map_err(|_| bad("the digest is not a canonical field element"))?;
        let proof = Proof::<Bn254>::deserialize_with_mode(&b[37..], Compress::Yes, Validate::Yes)
            .map_err(|e| bad(&format!("the proof: {e}")))?;
        Ok(BatchProof {
            kind,
            batch_size,
            digest,
            proof,
        })
    }
}
