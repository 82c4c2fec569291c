//! Proofs as every part of the prover passes them around: [`Proof`], one
//! variant per proof system, and [`StatementProof`], a proof with the
//! statement and the public inputs it proves.
//!
//! # `proof.bin`
//!
//! A proof file is the 16-byte [`FileHeader`] (its file type names the
//! proof system: 3 for Groth16), the public inputs (`n` field elements, 32
//! bytes each, canonical little-endian, `n` from the header) and the proof.
//! A Groth16 proof is arkworks' compressed encoding (`A` 32 bytes, `B` 64,
//! `C` 32): `16 + 32 n + 128` bytes. Loading validates every element and
//! point.

use std::path::Path;

use ark_bn254::{Bn254, Fr};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use depin_statements::StatementKind;

use crate::file::{
    deserialize_exact, read_file, write_file, FileError, FileHeader, FileType, FormatError,
};
use crate::system::Backend;

/// A proof, of whichever proof system made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    /// A Groth16 proof over BN254 (Groth, EUROCRYPT 2016).
    Groth16(ark_groth16::Proof<Bn254>),
}

impl Proof {
    /// The proof system that made it.
    pub fn backend(&self) -> Backend {
        match self {
            Proof::Groth16(_) => Backend::Groth16,
        }
    }

    /// The Groth16 proof, if it is one.
    pub fn as_groth16(&self) -> Option<&ark_groth16::Proof<Bn254>> {
        match self {
            Proof::Groth16(p) => Some(p),
        }
    }

    /// The proof file type of its system.
    fn file_type(&self) -> FileType {
        match self {
            Proof::Groth16(_) => FileType::Proof,
        }
    }
}

/// A proof with the statement and the public inputs it proves.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementProof {
    /// The statement.
    pub kind: StatementKind,
    /// The public inputs, in the statement's order.
    pub public: Vec<Fr>,
    /// The proof.
    pub proof: Proof,
}

impl StatementProof {
    /// A Groth16 proof of `kind` for `public`.
    pub fn groth16(kind: StatementKind, public: Vec<Fr>, proof: ark_groth16::Proof<Bn254>) -> Self {
        StatementProof {
            kind,
            public,
            proof: Proof::Groth16(proof),
        }
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
        out.extend_from_slice(&FileHeader::new(self.proof.file_type(), self.kind).to_bytes());
        for x in &self.public {
            x.serialize_compressed(&mut out)
                .map_err(|source| FormatError::Serialize {
                    what: "public inputs",
                    source,
                })?;
        }
        match &self.proof {
            Proof::Groth16(p) => p.serialize_compressed(&mut out),
        }
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
        Ok(StatementProof::groth16(kind, public, proof))
    }

    /// Writes `proof.bin`.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let bytes = self
            .to_bytes()
            .map_err(|source| FileError::format(path, source))?;
        write_file(path, &bytes)
    }

    /// Reads `proof.bin` for `kind`.
    pub fn load(path: &Path, kind: StatementKind) -> Result<Self, FileError> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, kind).map_err(|source| FileError::format(path, source))
    }
}
