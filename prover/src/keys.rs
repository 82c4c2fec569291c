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
//! this crate writes starts with a 16-byte [`FileHeader`]:
//!
//! | bytes | field | value |
//! | --- | --- | --- |
//! | 0..4 | magic | `DPZK` |
//! | 4..6 | format version | `u16` little-endian, [`FORMAT_VERSION`] |
//! | 6 | file type | 1 proving key, 2 verifying key, 3 proof ([`FileType`]) |
//! | 7 | statement kind | 1 uptime, 2 bandwidth, 3 coverage |
//! | 8..12 | statement version | `u32` little-endian (`STATEMENT_VERSION`) |
//! | 12..16 | public inputs | `u32` little-endian |
//!
//! followed by the arkworks serialization of the key: **uncompressed** for
//! both keys (`ark_groth16::ProvingKey` / `VerifyingKey`, canonical
//! little-endian coordinates), and nothing after it. Loading checks the
//! header against what the caller expects and refuses a short file and
//! trailing bytes, each with its own [`FormatError`].
//!
//! A proving key loads two ways:
//!
//! - [`ProvingKey::load_trusted`]: for a file this service wrote itself
//!   (`deserialize_uncompressed_unchecked`: no curve or subgroup checks),
//!   the fast path a prover node takes at start.
//! - [`ProvingKey::load_untrusted`]: for a file from elsewhere: every point
//!   is checked to lie on the curve and in the prime-order subgroup.
//!
//! Verifying keys are small and always validated.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey};
use ark_relations::gr1cs::SynthesisError;
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};
use ark_snark::SNARK;
use depin_statements::{StatementKind, STATEMENT_VERSION};
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The proving key file in a key directory.
pub const PROVING_KEY_FILE: &str = "proving_key.bin";
/// The verifying key file in a key directory.
pub const VERIFYING_KEY_FILE: &str = "verifying_key.bin";
/// The verifying key in snarkjs's JSON, in a key directory.
pub const VK_JSON_FILE: &str = "vk.json";

/// The first four bytes of every binary file this crate writes.
pub const MAGIC: [u8; 4] = *b"DPZK";
/// The version of the binary file layout ([`FileHeader`] and payloads).
pub const FORMAT_VERSION: u16 = 1;
/// Length of [`FileHeader`] in bytes.
pub const HEADER_LEN: usize = 16;

/// What a binary file holds.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A Groth16 proving key.
    ProvingKey = 1,
    /// A Groth16 verifying key.
    VerifyingKey = 2,
    /// A proof with its public inputs.
    Proof = 3,
}

impl FileType {
    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(FileType::ProvingKey),
            2 => Some(FileType::VerifyingKey),
            3 => Some(FileType::Proof),
            _ => None,
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileType::ProvingKey => "proving key",
            FileType::VerifyingKey => "verifying key",
            FileType::Proof => "proof",
        })
    }
}

/// Why the bytes of a key or proof file were refused.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Shorter than its header or than its contents need.
    #[error("truncated: the file ends before its {0} is complete")]
    Truncated(&'static str),
    /// Does not start with [`MAGIC`].
    #[error("not a depin-prover file (magic {found:02x?}, expected \"DPZK\")")]
    BadMagic {
        /// The first bytes found.
        found: [u8; 4],
    },
    /// A layout version this build does not read.
    #[error("file format version {found}, this build reads version {supported}")]
    UnsupportedFormat {
        /// Version in the file.
        found: u16,
        /// [`FORMAT_VERSION`].
        supported: u16,
    },
    /// Holds something else (a verifying key where a proving key was
    /// expected, say).
    #[error("the file holds a {found}, expected a {expected}")]
    WrongFileType {
        /// What the caller asked for.
        expected: FileType,
        /// What the file says it holds (`None`: an unknown code).
        found: FileTypeCode,
    },
    /// For another statement.
    #[error("the file is for statement {found}, expected {}", expected.as_str())]
    WrongStatement {
        /// The statement the caller asked for.
        expected: StatementKind,
        /// The statement in the file (name, or the unknown code).
        found: StatementCode,
    },
    /// For another version of the statement.
    #[error("the file is for statement version {found}, this build proves version {expected}")]
    WrongStatementVersion {
        /// `STATEMENT_VERSION`.
        expected: u32,
        /// Version in the file.
        found: u32,
    },
    /// A number of public inputs other than the statement's.
    #[error("the file declares {found} public inputs, the statement has {expected}")]
    WrongPublicInputCount {
        /// The statement's count.
        expected: usize,
        /// Count in the header or the key.
        found: usize,
    },
    /// Bytes after the contents.
    #[error("{0} unexpected trailing bytes after the contents")]
    TrailingBytes(usize),
    /// The contents did not deserialize: a point not on the curve or not in
    /// the subgroup, a non-canonical field element, a bad flag.
    #[error("invalid {what}: {source}")]
    Invalid {
        /// Which part was refused.
        what: &'static str,
        /// arkworks' reason.
        #[source]
        source: SerializationError,
    },
    /// The contents contradict each other (e.g. the proving key's query
    /// sizes).
    #[error("inconsistent {0}")]
    Inconsistent(String),
    /// Serializing failed (should not happen for in-memory keys).
    #[error("could not serialize the {what}: {source}")]
    Serialize {
        /// What was being written.
        what: &'static str,
        /// arkworks' reason.
        #[source]
        source: SerializationError,
    },
}

/// A file-type byte as found: a known [`FileType`] or an unknown code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTypeCode(pub u8);

impl fmt::Display for FileTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match FileType::from_code(self.0) {
            Some(t) => t.fmt(f),
            None => write!(f, "unknown file type {}", self.0),
        }
    }
}

/// A statement-kind byte as found: a known kind or an unknown code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementCode(pub u8);

impl fmt::Display for StatementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match StatementKind::try_from(self.0) {
            Ok(k) => f.write_str(k.as_str()),
            Err(_) => write!(f, "unknown ({})", self.0),
        }
    }
}

/// Why a key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A file's contents were refused.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: FormatError,
    },
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
    /// Writing the verifying key's snarkjs JSON failed.
    #[error("could not encode {}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
}

impl KeyError {
    fn io(path: &Path, source: io::Error) -> Self {
        KeyError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn format(path: &Path, source: FormatError) -> Self {
        KeyError::Format {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The 16-byte header of every binary file (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    /// What the file holds.
    pub file_type: FileType,
    /// The statement.
    pub kind: StatementKind,
    /// The statement version.
    pub statement_version: u32,
    /// Number of public inputs.
    pub public_inputs: u32,
}

impl FileHeader {
    /// The header of a `file_type` file for `kind` at the current statement
    /// version.
    pub fn new(file_type: FileType, kind: StatementKind) -> Self {
        FileHeader {
            file_type,
            kind,
            statement_version: STATEMENT_VERSION,
            public_inputs: kind.public_input_count() as u32,
        }
    }

    /// The 16 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC);
        out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[6] = self.file_type as u8;
        out[7] = self.kind.code();
        out[8..12].copy_from_slice(&self.statement_version.to_le_bytes());
        out[12..16].copy_from_slice(&self.public_inputs.to_le_bytes());
        out
    }

    /// Reads the header at the start of `bytes` and checks that it is a
    /// `file_type` file for `kind` at the current statement version with the
    /// statement's number of public inputs; returns the rest of the bytes.
    pub fn check(
        bytes: &[u8],
        file_type: FileType,
        kind: StatementKind,
    ) -> Result<&[u8], FormatError> {
        if bytes.len() < HEADER_LEN {
            if bytes.len() >= 4 && bytes[0..4] != MAGIC {
                return Err(FormatError::BadMagic {
                    found: [bytes[0], bytes[1], bytes[2], bytes[3]],
                });
            }
            return Err(FormatError::Truncated("header"));
        }
        let (head, rest) = bytes.split_at(HEADER_LEN);
        let magic = [head[0], head[1], head[2], head[3]];
        if magic != MAGIC {
            return Err(FormatError::BadMagic { found: magic });
        }
        let format = u16::from_le_bytes([head[4], head[5]]);
        if format != FORMAT_VERSION {
            return Err(FormatError::UnsupportedFormat {
                found: format,
                supported: FORMAT_VERSION,
            });
        }
        if head[6] != file_type as u8 {
            return Err(FormatError::WrongFileType {
                expected: file_type,
                found: FileTypeCode(head[6]),
            });
        }
        if head[7] != kind.code() {
            return Err(FormatError::WrongStatement {
                expected: kind,
                found: StatementCode(head[7]),
            });
        }
        let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        if version != STATEMENT_VERSION {
            return Err(FormatError::WrongStatementVersion {
                expected: STATEMENT_VERSION,
                found: version,
            });
        }
        let inputs = u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize;
        if inputs != kind.public_input_count() {
            return Err(FormatError::WrongPublicInputCount {
                expected: kind.public_input_count(),
                found: inputs,
            });
        }
        Ok(rest)
    }
}

/// Deserializes a `T` from all of `bytes`: a short input is
/// [`FormatError::Truncated`], leftover bytes [`FormatError::TrailingBytes`].
pub(crate) fn deserialize_exact<T: CanonicalDeserialize>(
    bytes: &[u8],
    compress: Compress,
    validate: Validate,
    what: &'static str,
) -> Result<T, FormatError> {
    let mut reader = bytes;
    let value = T::deserialize_with_mode(&mut reader, compress, validate).map_err(|e| match e {
        SerializationError::IoError(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            FormatError::Truncated(what)
        }
        source => FormatError::Invalid { what, source },
    })?;
    if !reader.is_empty() {
        return Err(FormatError::TrailingBytes(reader.len()));
    }
    Ok(value)
}

pub(crate) fn serialize_with_header<T: CanonicalSerialize>(
    header: FileHeader,
    value: &T,
    compress: Compress,
    what: &'static str,
) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(HEADER_LEN + value.serialized_size(compress));
    out.extend_from_slice(&header.to_bytes());
    value
        .serialize_with_mode(&mut out, compress)
        .map_err(|source| FormatError::Serialize { what, source })?;
    Ok(out)
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    fs::read(path).map_err(|e| KeyError::io(path, e))
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    fs::write(path, bytes).map_err(|e| KeyError::io(path, e))
}

/// A Groth16 proving key for one statement.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvingKey {
    kind: StatementKind,
    inner: ark_groth16::ProvingKey<Bn254>,
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
        proving: ProvingKey {
            kind: C::KIND,
            inner: pk,
        },
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
    use ark_ec::CurveGroup;
    use ark_ff::{Field, UniformRand};
    use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
    use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};

    let kind = C::KIND;
    let setup_err = |source| KeyError::Setup { kind, source };
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
    circuit
        .generate_constraints(cs.clone())
        .map_err(setup_err)?;
    cs.finalize();
    let domain = GeneralEvaluationDomain::<ark_bn254::Fr>::new(
        cs.num_constraints() + cs.num_instance_variables(),
    )
    .ok_or(SynthesisError::PolynomialDegreeTooLarge)
    .map_err(setup_err)?;
    let t = domain.sample_element_outside_domain(&mut rng);
    let num_instance = cs.num_instance_variables();
    let (a, b, c, _, _, _) = LibsnarkReduction::instance_map_with_evaluation::<
        ark_bn254::Fr,
        GeneralEvaluationDomain<ark_bn254::Fr>,
    >(cs, &t)
    .map_err(setup_err)?;
    let gamma_inverse = gamma
        .inverse()
        .ok_or(SynthesisError::DivisionByZero)
        .map_err(setup_err)?;
    let gamma_abc: Vec<ark_bn254::G1Projective> = (0..num_instance)
        .map(|i| g1 * ((beta * a[i] + alpha * b[i] + c[i]) * gamma_inverse))
        .collect();
    let vk = ark_groth16::VerifyingKey::<Bn254> {
        alpha_g1: (g1 * alpha).into_affine(),
        beta_g2: (g2 * beta).into_affine(),
        gamma_g2: (g2 * gamma).into_affine(),
        delta_g2: (g2 * delta).into_affine(),
        gamma_abc_g1: ark_bn254::G1Projective::normalize_batch(&gamma_abc),
    };
    let expected = kind.public_input_count();
    let found = num_instance.saturating_sub(1);
    if found != expected {
        return Err(KeyError::CircuitShape {
            kind,
            expected,
            found,
        });
    }
    Ok(VerifyingKey::from_arkworks(kind, vk)?)
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

    /// The arkworks key.
    pub fn as_arkworks(&self) -> &ark_groth16::ProvingKey<Bn254> {
        &self.inner
    }

    /// Wraps an arkworks key for `kind`, checking its shape.
    pub fn from_arkworks(
        kind: StatementKind,
        inner: ark_groth16::ProvingKey<Bn254>,
    ) -> Result<Self, FormatError> {
        check_pk_shape(kind, &inner)?;
        Ok(ProvingKey { kind, inner })
    }

    /// Number of public inputs (without the constant one).
    pub fn public_input_count(&self) -> usize {
        self.inner.vk.gamma_abc_g1.len().saturating_sub(1)
    }

    /// The verifying key inside.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            kind: self.kind,
            prepared: ark_groth16::prepare_verifying_key(&self.inner.vk),
        }
    }

    /// The file's bytes: header and uncompressed key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        serialize_with_header(
            FileHeader::new(FileType::ProvingKey, self.kind),
            &self.inner,
            Compress::No,
            "proving key",
        )
    }

    /// Parses a proving key file's bytes for `kind`, validating every point
    /// ([`Trust::Untrusted`]) or none ([`Trust::Trusted`]).
    pub fn from_bytes(
        bytes: &[u8],
        kind: StatementKind,
        trust: Trust,
    ) -> Result<Self, FormatError> {
        let body = FileHeader::check(bytes, FileType::ProvingKey, kind)?;
        let validate = match trust {
            Trust::Trusted => Validate::No,
            Trust::Untrusted => Validate::Yes,
        };
        let inner: ark_groth16::ProvingKey<Bn254> =
            deserialize_exact(body, Compress::No, validate, "proving key")?;
        Self::from_arkworks(kind, inner)
    }

    /// Writes the key file.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let bytes = self.to_bytes().map_err(|e| KeyError::format(path, e))?;
        write_file(path, &bytes)
    }

    /// Loads a proving key file this service wrote itself (fast: no point
    /// validation). Never use it on a file from elsewhere.
    pub fn load_trusted(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        Self::load(path, kind, Trust::Trusted)
    }

    /// Loads a proving key file from elsewhere: every point is checked to be
    /// on the curve and in the prime-order subgroup.
    pub fn load_untrusted(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        Self::load(path, kind, Trust::Untrusted)
    }

    /// Loads a proving key file with the given trust.
    pub fn load(path: &Path, kind: StatementKind, trust: Trust) -> Result<Self, KeyError> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, kind, trust).map_err(|e| KeyError::format(path, e))
    }
}

fn check_pk_shape(
    kind: StatementKind,
    pk: &ark_groth16::ProvingKey<Bn254>,
) -> Result<(), FormatError> {
    check_vk_shape(kind, &pk.vk)?;
    let num_instance = pk.vk.gamma_abc_g1.len();
    let vars = pk.a_query.len();
    if pk.b_g1_query.len() != vars || pk.b_g2_query.len() != vars {
        return Err(FormatError::Inconsistent(format!(
            "proving key: a_query has {vars} points, b_g1_query {}, b_g2_query {}",
            pk.b_g1_query.len(),
            pk.b_g2_query.len()
        )));
    }
    if vars < num_instance || pk.l_query.len() != vars - num_instance {
        return Err(FormatError::Inconsistent(format!(
            "proving key: {vars} variables, {num_instance} instance variables, {} l_query points",
            pk.l_query.len()
        )));
    }
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
        write_file(path, &bytes)
    }

    /// Loads and validates a verifying key file for `kind`.
    pub fn load(path: &Path, kind: StatementKind) -> Result<Self, KeyError> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, kind).map_err(|e| KeyError::format(path, e))
    }

    /// Writes the key in snarkjs's JSON (`vk.json`).
    pub fn write_snarkjs(&self, path: &Path) -> Result<(), KeyError> {
        let json =
            crate::snarkjs::vk_to_json(self.as_arkworks()).map_err(|source| KeyError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        write_file(path, json.as_bytes())
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

    /// Makes `dir` appear whole or not at all: the files are written into
    /// a sibling directory no other writer uses (process id and a
    /// process-wide counter), which is then renamed to `dir`. When `dir`
    /// already exists, another writer finished first and its keys are
    /// kept (a deterministic setup gives the same keys); the returned flag
    /// says whether these keys were the ones published.
    pub fn publish_dir(&self, dir: &Path) -> Result<bool, KeyError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "keys".into());
        let tmp = dir.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        self.write_dir(&tmp)?;
        match fs::rename(&tmp, dir) {
            Ok(()) => Ok(true),
            Err(_) if KeyDir::new(dir).proving_key().exists() => {
                let _ = fs::remove_dir_all(&tmp);
                Ok(false)
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(KeyError::io(dir, e))
            }
        }
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
