//! Groth16 keys for the statements: development setup and key files.
//!
//! # Setup
//!
//! [`dev_setup`] runs arkworks' circuit-specific Groth16 setup with a
//! ChaCha20 generator seeded from a `u64`. Anyone who knows the seed can
//! forge proofs: it is for development, tests and the golden files only. A
//! production deployment needs a multi-party ceremony (e.g. snarkjs's
//! phase 2 on a public powers of tau).
//!
//! # Files
//!
//! A key directory holds [`PROVING_KEY_FILE`], [`VERIFYING_KEY_FILE`] and
//! [`VK_JSON_FILE`] (the verifying key in snarkjs's JSON). Every binary file
//! starts with the 16-byte [`FileHeader`] of `depin_proving::file`.
//!
//! The verifying key (format version 1) follows as arkworks' uncompressed
//! serialization (`ark_groth16::VerifyingKey`, canonical little-endian
//! coordinates). The proving key (format version 2) follows **packed**
//! (`depin_prover_core::groth16::ProvingKeyRef`'s layout: the points in
//! Montgomery form exactly as the prover holds them in memory, 8-byte
//! aligned after the header). Loading checks the header against what the
//! caller expects and refuses a short file and trailing bytes, each with
//! its own [`FormatError`].
//!
//! A proving key file is **memory-mapped**, not read: the prover proves
//! from the mapped pages in place, the operating system reads them in on
//! first use and shares them between the processes that map the same file.
//! It loads two ways:
//!
//! - [`ProvingKey::load_trusted`]: for a file this service wrote itself:
//!   the header and the lengths are checked and no point is read, the fast
//!   path a prover node takes at start.
//! - [`ProvingKey::load_untrusted`]: for a file from elsewhere: every point
//!   is checked to be canonical, on the curve and in the prime-order
//!   subgroup.
//!
//! A mapped file must not be changed while it is in use (write a new file
//! and rename it over the old one, as [`Keys::publish_dir`] does).
//!
//! Verifying keys are small and always validated.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, SynthesisError};
use ark_serialize::{Compress, Validate};
use ark_snark::SNARK;
use depin_prover_core::groth16::{read_packed, ProvingKeyRef};
use depin_proving::file::{
    deserialize_exact, read_file, serialize_with_header, write_file, FileError, FileHeader,
    FileType, FormatError, HEADER_LEN,
};
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;
use memmap2::Mmap;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The proving key file in a key directory.
pub const PROVING_KEY_FILE: &str = "proving_key.bin";
/// The verifying key file in a key directory.
pub const VERIFYING_KEY_FILE: &str = "verifying_key.bin";
/// The verifying key in snarkjs's JSON, in a key directory.
pub const VK_JSON_FILE: &str = "vk.json";
/// The file that marks a key directory as **insecure development keys**
/// (made from a seed by [`dev_setup`]): a node recognises them by it and
/// refuses to serve them on a public address.
pub const DEV_MARKER_FILE: &str = "INSECURE-DEV-KEYS";

/// Marks `dir` as holding insecure development keys made from `seed`
/// ([`DEV_MARKER_FILE`]).
pub fn mark_dev(dir: &Path, seed: u64) -> Result<(), KeyError> {
    let path = dir.join(DEV_MARKER_FILE);
    let text = format!(
        "These keys were made by an INSECURE development setup from seed {seed}: anyone who \
         knows the seed can forge proofs for them. Use keys from a phase-2 ceremony in \
         production.\n"
    );
    fs::write(&path, text).map_err(|e| KeyError::io(&path, e))
}

/// Whether `dir` holds keys marked as development keys ([`mark_dev`]).
pub fn is_dev(dir: &Path) -> bool {
    dir.join(DEV_MARKER_FILE).exists()
}

/// Why a key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read or written, or its contents were
    /// refused.
    #[error(transparent)]
    File(#[from] FileError),
    /// Bytes (not from a file) were refused.
    #[error(transparent)]
    Bytes(#[from] FormatError),
    /// The setup failed to synthesize the circuit.
    #[error("setup of the {} circuit failed: {source}", kind.as_str())]
    Setup {
        /// The statement.
        kind: StatementKind,
        /// arkworks' reason.
        #[source]
        source: SynthesisError,
    },
    /// The circuit has a number of public inputs other than its statement's.
    #[error("the {} circuit has {found} public inputs, the statement has {expected}", kind.as_str())]
    CircuitShape {
        /// The statement.
        kind: StatementKind,
        /// The statement's count.
        expected: usize,
        /// The circuit's count.
        found: usize,
    },
}

impl KeyError {
    fn io(path: &Path, source: io::Error) -> Self {
        KeyError::File(FileError::io(path, source))
    }

    fn format(path: &Path, source: FormatError) -> Self {
        KeyError::File(FileError::format(path, source))
    }
}

/// A Groth16 proving key for one statement: an arkworks key in memory
/// (from a setup, or read from bytes) or a key file mapped into memory
/// ([`ProvingKey::load`]). Cloning a mapped key shares the mapping.
#[derive(Clone)]
pub struct ProvingKey {
    kind: StatementKind,
    store: KeyStore,
}

#[derive(Clone)]
enum KeyStore {
    Owned(Arc<ark_groth16::ProvingKey<Bn254>>),
    Mapped(Arc<Mmap>),
}

impl fmt::Debug for ProvingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ProvingKey");
        d.field("kind", &self.kind).field(
            "store",
            &match self.store {
                KeyStore::Owned(_) => "in memory",
                KeyStore::Mapped(_) => "memory-mapped file",
            },
        );
        if let Ok(pk) = self.key_ref() {
            d.field("variables", &pk.a_query.len())
                .field("h_query", &pk.h_query.len());
        }
        d.finish()
    }
}

impl PartialEq for ProvingKey {
    /// The same statement and the same points, however they are stored.
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && matches!((self.key_ref(), other.key_ref()), (Ok(a), Ok(b)) if a == b)
    }
}

/// A Groth16 verifying key for one statement, with its pairing-ready form.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    kind: StatementKind,
    prepared: PreparedVerifyingKey<Bn254>,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.prepared.vk == other.prepared.vk
    }
}

/// A proving key and its verifying key.
#[derive(Clone, Debug)]
pub struct Keys {
    /// The proving key (secret only in the sense that it is large; it holds
    /// no trapdoor).
    pub proving: ProvingKey,
    /// The verifying key.
    pub verifying: VerifyingKey,
}

/// Development setup: arkworks' Groth16 setup for `circuit`'s statement,
/// with every random value drawn from ChaCha20 seeded by `seed`, so the same
/// circuit shape and seed always give the same keys, byte for byte.
///
/// **Insecure**: the seed determines the toxic waste, so anyone who knows it
/// can forge proofs. The witness values in `circuit` do not matter, only
/// its shape (use the statement's full-capacity `sample()`).
pub fn dev_setup<C: StatementCircuit>(circuit: C, seed: u64) -> Result<Keys, KeyError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (pk, vk) =
        Groth16::<Bn254>::circuit_specific_setup(circuit, &mut rng).map_err(|source| {
            KeyError::Setup {
                kind: C::KIND,
                source,
            }
        })?;
    let expected = C::KIND.public_input_count();
    let found = vk.gamma_abc_g1.len().saturating_sub(1);
    if found != expected {
        return Err(KeyError::CircuitShape {
            kind: C::KIND,
            expected,
            found,
        });
    }
    Ok(Keys {
        proving: ProvingKey::from_arkworks(C::KIND, pk)?,
        verifying: VerifyingKey::from_arkworks(C::KIND, vk)?,
    })
}

/// The verifying key [`dev_setup`] makes for the same circuit shape and
/// seed, without the proving key: the same random draws in the same order,
/// then only the verifying key's handful of points instead of the proving
/// key's millions. Seconds instead of minutes at full size; the golden drift
/// test uses it, and a test checks it against [`dev_setup`].
pub fn dev_verifying_key<C: StatementCircuit>(
    circuit: C,
    seed: u64,
) -> Result<VerifyingKey, KeyError> {
    let kind = C::KIND;
    let vk =
        dev_verifying_key_of(circuit, seed).map_err(|source| KeyError::Setup { kind, source })?;
    let expected = kind.public_input_count();
    let found = vk.gamma_abc_g1.len().saturating_sub(1);
    if found != expected {
        return Err(KeyError::CircuitShape {
            kind,
            expected,
            found,
        });
    }
    Ok(VerifyingKey::from_arkworks(kind, vk)?)
}

/// [`dev_verifying_key`] for any circuit: the arkworks verifying key that
/// arkworks' seeded setup makes for `circuit`'s shape, without its proving
/// key.
pub fn dev_verifying_key_of<C: ConstraintSynthesizer<ark_bn254::Fr>>(
    circuit: C,
    seed: u64,
) -> Result<ark_groth16::VerifyingKey<Bn254>, SynthesisError> {
    use ark_ec::CurveGroup;
    use ark_ff::{Field, UniformRand};
    use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
    use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};

    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    // arkworks' generate_random_parameters_with_reduction, in order.
    let alpha = ark_bn254::Fr::rand(&mut rng);
    let beta = ark_bn254::Fr::rand(&mut rng);
    let gamma = ark_bn254::Fr::rand(&mut rng);
    let delta = ark_bn254::Fr::rand(&mut rng);
    let g1 = ark_bn254::G1Projective::rand(&mut rng);
    let g2 = ark_bn254::G2Projective::rand(&mut rng);

    let cs = ConstraintSystem::<ark_bn254::Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    let domain = GeneralEvaluationDomain::<ark_bn254::Fr>::new(
        cs.num_constraints() + cs.num_instance_variables(),
    )
    .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let t = domain.sample_element_outside_domain(&mut rng);
    let num_instance = cs.num_instance_variables();
    let (a, b, c, _, _, _) = LibsnarkReduction::instance_map_with_evaluation::<
        ark_bn254::Fr,
        GeneralEvaluationDomain<ark_bn254::Fr>,
    >(cs, &t)?;
    let gamma_inverse = gamma.inverse().ok_or(SynthesisError::DivisionByZero)?;
    let gamma_abc: Vec<ark_bn254::G1Projective> = (0..num_instance)
        .map(|i| g1 * ((beta * a[i] + alpha * b[i] + c[i]) * gamma_inverse))
        .collect();
    Ok(ark_groth16::VerifyingKey::<Bn254> {
        alpha_g1: (g1 * alpha).into_affine(),
        beta_g2: (g2 * beta).into_affine(),
        gamma_g2: (g2 * gamma).into_affine(),
        delta_g2: (g2 * delta).into_affine(),
        gamma_abc_g1: ark_bn254::G1Projective::normalize_batch(&gamma_abc),
    })
}

/// How much to trust a proving key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A file this service wrote: no curve or subgroup checks.
    Trusted,
    /// A file from elsewhere: every point validated.
    Untrusted,
}

impl ProvingKey {
    /// The statement.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The key as the prover reads it: borrowed from memory, or viewed in
    /// place in the mapped file (refused only if the file was changed under
    /// the mapping since it was loaded).
    pub fn key_ref(&self) -> Result<ProvingKeyRef<'_>, FormatError> {
        match &self.store {
            KeyStore::Owned(pk) => Ok(ProvingKeyRef::from(&**pk)),
            KeyStore::Mapped(map) => {
                let body = map
                    .get(HEADER_LEN..)
                    .ok_or(FormatError::Truncated("header"))?;
                Ok(ProvingKeyRef::from_packed(body)?)
            }
        }
    }

    /// An owned arkworks key with the same points (a copy; for arkworks'
    /// own prover in tests and benchmarks).
    pub fn to_arkworks(&self) -> Result<ark_groth16::ProvingKey<Bn254>, FormatError> {
        Ok(self.key_ref()?.to_arkworks())
    }

    /// Whether the key is a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.store, KeyStore::Mapped(_))
    }

    /// Wraps an arkworks key for `kind`, checking its shape.
    pub fn from_arkworks(
        kind: StatementKind,
        inner: ark_groth16::ProvingKey<Bn254>,
    ) -> Result<Self, FormatError> {
        check_pk_shape(kind, &ProvingKeyRef::from(&inner))?;
        Ok(ProvingKey {
            kind,
            store: KeyStore::Owned(Arc::new(inner)),
        })
    }

    /// Number of public inputs (without the constant one).
    pub fn public_input_count(&self) -> usize {
        self.key_ref()
            .map_or(0, |pk| pk.gamma_abc_g1.len().saturating_sub(1))
    }

    /// The verifying key inside.
    pub fn verifying_key(&self) -> Result<VerifyingKey, FormatError> {
        Ok(VerifyingKey {
            kind: self.kind,
            prepared: ark_groth16::prepare_verifying_key(&self.key_ref()?.verifying_key()),
        })
    }

    /// The file's bytes: header and packed key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let pk = self.key_ref()?;
        let mut out = Vec::with_capacity(HEADER_LEN + pk.packed_len()?);
        out.extend_from_slice(&FileHeader::new(FileType::ProvingKey, self.kind).to_bytes());
        pk.write_packed(&mut out)?;
        Ok(out)
    }

    /// Parses a proving key file's bytes for `kind` into memory (a copy),
    /// validating every point ([`Trust::Untrusted`]) or none
    /// ([`Trust::Trusted`]).
    pub fn from_bytes(
        bytes: &[u8],
        kind: StatementKind,
        trust: Trust,
    ) -> Result<Self, FormatError> {
        let body = FileHeader::check(bytes, FileType::ProvingKey, kind)?;
        let inner = read_packed(body)?;
        if trust == Trust::Untrusted {
            ProvingKeyRef::from(&inner).validate()?;
        }
        Self::from_arkworks(kind, inner)
    }

    /// Writes the key file.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let bytes = self.to_bytes().map_err(|e| KeyError::format(path, e))?;
        Ok(write_file(path, &bytes)?)
    }

    /// Maps a proving key file this service wrote itself (fast: no point
    /// is read). Never use it on a file from elsewhere.
    pub fn load_trusted(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        Self::load(path, kind, Trust::Trusted)
    }

    /// Maps a proving key file from elsewhere: every point is checked to be
    /// canonical, on the curve and in the prime-order subgroup.
    pub fn load_untrusted(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        Self::load(path, kind, Trust::Untrusted)
    }

    /// Maps a proving key file into memory with the given trust: the
    /// header, the lengths and the size are checked, then (untrusted) every
    /// point. The prover reads the points from the mapping in place.
    pub fn load(path: &Path, kind: StatementKind, trust: Trust) -> Result<Self, KeyError> {
        let file = fs::File::open(path).map_err(|e| KeyError::io(path, e))?;
        // SAFETY: the mapping is read-only and private to this process; the
        // file must not be truncated or rewritten while it is mapped (the
        // module docs: key files are replaced by renaming a new file over
        // them, which leaves this mapping on the old one). A change in
        // place could at worst give wrong points or a bus error, which is
        // why only key files are mapped, never input from elsewhere without
        // validation.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(|e| KeyError::io(path, e))?;
        #[cfg(unix)]
        {
            // Start reading it in; the first proof needs every page.
            let _ = map.advise(memmap2::Advice::WillNeed);
        }
        FileHeader::check(&map, FileType::ProvingKey, kind)
            .map_err(|e| KeyError::format(path, e))?;
        let key = ProvingKey {
            kind,
            store: KeyStore::Mapped(Arc::new(map)),
        };
        let check = || -> Result<(), FormatError> {
            let pk = key.key_ref()?;
            check_pk_shape(kind, &pk)?;
            if trust == Trust::Untrusted {
                pk.validate()?;
            }
            Ok(())
        };
        check().map_err(|e| KeyError::format(path, e))?;
        Ok(key)
    }
}

fn check_pk_shape(kind: StatementKind, pk: &ProvingKeyRef<'_>) -> Result<(), FormatError> {
    let found = pk.gamma_abc_g1.len().saturating_sub(1);
    if pk.gamma_abc_g1.is_empty() || found != kind.public_input_count() {
        return Err(FormatError::WrongPublicInputCount {
            expected: kind.public_input_count(),
            found,
        });
    }
    pk.packed_len()?;
    Ok(())
}

fn check_vk_shape(
    kind: StatementKind,
    vk: &ark_groth16::VerifyingKey<Bn254>,
) -> Result<(), FormatError> {
    let found = vk.gamma_abc_g1.len().saturating_sub(1);
    if vk.gamma_abc_g1.is_empty() || found != kind.public_input_count() {
        return Err(FormatError::WrongPublicInputCount {
            expected: kind.public_input_count(),
            found,
        });
    }
    Ok(())
}

impl VerifyingKey {
    /// Wraps an arkworks key for `kind`, checking its number of public
    /// inputs.
    pub fn from_arkworks(
        kind: StatementKind,
        vk: ark_groth16::VerifyingKey<Bn254>,
    ) -> Result<Self, FormatError> {
        check_vk_shape(kind, &vk)?;
        Ok(VerifyingKey {
            kind,
            prepared: ark_groth16::prepare_verifying_key(&vk),
        })
    }

    /// The statement.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The arkworks key.
    pub fn as_arkworks(&self) -> &ark_groth16::VerifyingKey<Bn254> {
        &self.prepared.vk
    }

    /// The pairing-ready key.
    pub fn prepared(&self) -> &PreparedVerifyingKey<Bn254> {
        &self.prepared
    }

    /// Number of public inputs (without the constant one).
    pub fn public_input_count(&self) -> usize {
        self.prepared.vk.gamma_abc_g1.len().saturating_sub(1)
    }

    /// The file's bytes: header and uncompressed key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        serialize_with_header(
            FileHeader::new(FileType::VerifyingKey, self.kind),
            &self.prepared.vk,
            Compress::No,
            "verifying key",
        )
    }

    /// Parses a verifying key file's bytes for `kind` (always validated).
    pub fn from_bytes(bytes: &[u8], kind: StatementKind) -> Result<Self, FormatError> {
        let body = FileHeader::check(bytes, FileType::VerifyingKey, kind)?;
        let vk = deserialize_exact(body, Compress::No, Validate::Yes, "verifying key")?;
        Self::from_arkworks(kind, vk)
    }

    /// Writes the key file.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let bytes = self.to_bytes().map_err(|e| KeyError::format(path, e))?;
        Ok(write_file(path, &bytes)?)
    }

    /// Loads and validates a verifying key file for `kind`.
    pub fn load(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, kind).map_err(|e| KeyError::format(path, e))
    }

    /// Writes the key in snarkjs's JSON (`vk.json`).
    pub fn write_snarkjs(&self, path: &Path) -> Result<(), KeyError> {
        let json = depin_evm::snarkjs::vk_to_json(self.as_arkworks()).map_err(|source| {
            FileError::Json {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(write_file(path, json.as_bytes())?)
    }
}

impl Keys {
    /// Writes [`PROVING_KEY_FILE`], [`VERIFYING_KEY_FILE`] and
    /// [`VK_JSON_FILE`] into `dir` (created if missing).
    pub fn write_dir(&self, dir: &Path) -> Result<(), KeyError> {
        fs::create_dir_all(dir).map_err(|e| KeyError::io(dir, e))?;
        self.proving.write(&dir.join(PROVING_KEY_FILE))?;
        self.verifying.write(&dir.join(VERIFYING_KEY_FILE))?;
        self.verifying.write_snarkjs(&dir.join(VK_JSON_FILE))
    }

    /// Makes `dir` appear whole or not at all ([`depin_durable`]): the
    /// files are written into a sibling directory no other writer uses
    /// (process id and a process-wide counter), fsynced, then renamed to
    /// `dir`, and the parent directory fsynced. When `dir` already exists,
    /// another writer finished first and its keys are kept (a deterministic
    /// setup gives the same keys); the returned flag says whether these
    /// keys were the ones published.
    /// The directory and its files are owner-only (0700, 0600) before they
    /// get their final name.
    pub fn publish_dir(&self, dir: &Path) -> Result<bool, KeyError> {
        self.publish_dir_marked(dir, None)
    }

    /// [`Keys::publish_dir`] for keys [`dev_setup`] made from `seed`: the
    /// directory also holds the [`DEV_MARKER_FILE`].
    pub fn publish_dev_dir(&self, dir: &Path, seed: u64) -> Result<bool, KeyError> {
        self.publish_dir_marked(dir, Some(seed))
    }

    fn publish_dir_marked(&self, dir: &Path, dev_seed: Option<u64>) -> Result<bool, KeyError> {
        let tmp = depin_durable::temp_path(dir);
        let _ = fs::remove_dir_all(&tmp);
        depin_durable::create_private_dir_all(&tmp).map_err(|e| KeyError::io(&tmp, e))?;
        self.write_dir(&tmp)?;
        if let Some(seed) = dev_seed {
            mark_dev(&tmp, seed)?;
        }
        depin_durable::restrict_tree(&tmp).map_err(|e| KeyError::io(&tmp, e))?;
        depin_durable::publish(&tmp, dir).map_err(|e| KeyError::io(dir, e))
    }
}

/// The paths of a key directory's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDir {
    dir: PathBuf,
}

impl KeyDir {
    /// The key directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyDir { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `dir/proving_key.bin`.
    pub fn proving_key(&self) -> PathBuf {
        self.dir.join(PROVING_KEY_FILE)
    }

    /// `dir/verifying_key.bin`.
    pub fn verifying_key(&self) -> PathBuf {
        self.dir.join(VERIFYING_KEY_FILE)
    }

    /// `dir/vk.json`.
    pub fn vk_json(&self) -> PathBuf {
        self.dir.join(VK_JSON_FILE)
    }

    /// Loads the proving key for `kind` with the given trust.
    pub fn load_proving_key(
        &self,
        kind: StatementKind,
        trust: Trust,
    ) -> Result<ProvingKey, KeyError> {
        ProvingKey::load(&self.proving_key(), kind, trust)
    }

    /// Loads the verifying key for `kind`.
    pub fn load_verifying_key(&self, kind: StatementKind) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::load(&self.verifying_key(), kind)
    }
}
