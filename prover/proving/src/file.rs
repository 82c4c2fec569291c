//! The 16-byte header of every binary key and proof file, and the errors of
//! reading and writing such files.
//!
//! | bytes | field | value |
//! | --- | --- | --- |
//! | 0..4 | magic | `DPZK` |
//! | 4..6 | format version | `u16` little-endian, the file type's ([`FileType::format_version`]) |
//! | 6 | file type | 1 proving key, 2 verifying key, 3 Groth16 proof, 4 halo2 proof ([`FileType`]) |
//! | 7 | statement kind | 1 uptime, 2 bandwidth, 3 coverage |
//! | 8..12 | statement version | `u32` little-endian (`STATEMENT_VERSION`) |
//! | 12..16 | public inputs | `u32` little-endian |

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};
use depin_prover_core::groth16::PackedKeyError;
use depin_statements::{StatementKind, STATEMENT_VERSION};

/// The first four bytes of every binary file the prover writes.
pub const MAGIC: [u8; 4] = *b"DPZK";
/// The version of the binary layout of verifying key and proof files
/// ([`FileHeader`] and payload).
pub const FORMAT_VERSION: u16 = 1;
/// The version of the proving key file's layout (the packed payload).
pub const PROVING_KEY_FORMAT_VERSION: u16 = 2;
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
    /// A Groth16 proof with its public inputs.
    Proof = 3,
    /// A halo2 (KZG, SHPLONK, Keccak transcript) proof with its public
    /// inputs.
    Halo2Proof = 4,
}

impl FileType {
    /// The layout version this build writes and reads for the file type.
    pub fn format_version(self) -> u16 {
        match self {
            FileType::ProvingKey => PROVING_KEY_FORMAT_VERSION,
            FileType::VerifyingKey | FileType::Proof | FileType::Halo2Proof => FORMAT_VERSION,
        }
    }

    /// The file type of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(FileType::ProvingKey),
            2 => Some(FileType::VerifyingKey),
            3 => Some(FileType::Proof),
            4 => Some(FileType::Halo2Proof),
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
            FileType::Halo2Proof => "halo2 proof",
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
        /// The file type's [`FileType::format_version`].
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
    /// A packed proving key was refused (its lengths, its alignment, or a
    /// point when validated; a short or long one is [`FormatError::Truncated`]
    /// or [`FormatError::TrailingBytes`]).
    #[error("proving key: {0}")]
    Packed(PackedKeyError),
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

impl From<PackedKeyError> for FormatError {
    fn from(e: PackedKeyError) -> Self {
        match e {
            PackedKeyError::Truncated { .. } => FormatError::Truncated("proving key"),
            PackedKeyError::TrailingBytes(n) => FormatError::TrailingBytes(n),
            e => FormatError::Packed(e),
        }
    }
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
        out[4..6].copy_from_slice(&self.file_type.format_version().to_le_bytes());
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
        if head[6] != file_type as u8 {
            return Err(FormatError::WrongFileType {
                expected: file_type,
                found: FileTypeCode(head[6]),
            });
        }
        let format = u16::from_le_bytes([head[4], head[5]]);
        if format != file_type.format_version() {
            return Err(FormatError::UnsupportedFormat {
                found: format,
                supported: file_type.format_version(),
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
pub fn deserialize_exact<T: CanonicalDeserialize>(
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

/// `header` followed by `value` serialized with `compress`.
pub fn serialize_with_header<T: CanonicalSerialize>(
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

/// Why a key or proof file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The file's contents were refused.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: FormatError,
    },
    /// A JSON file could not be encoded.
    #[error("could not encode {}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
}

impl FileError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        FileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format error in `path`.
    pub fn format(path: &Path, source: FormatError) -> Self {
        FileError::Format {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads a whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
    fs::read(path).map_err(|e| FileError::io(path, e))
}

/// Writes a whole file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    fs::write(path, bytes).map_err(|e| FileError::io(path, e))
}
