//! Proofs as every part of the prover passes them around: [`Proof`], one
//! variant per proof system, and [`StatementProof`], a proof with the
//! statement and the public inputs it proves.
//!
//! # `proof.bin`
//!
//! A proof file is the 16-byte [`FileHeader`] (its file type names the
//! proof system: 3 for Groth16, 4 for halo2), the public inputs (`n` field
//! elements, 32 bytes each, canonical little-endian, `n` from the header)
//! and the proof. A Groth16 proof is arkworks' compressed encoding (`A` 32
//! bytes, `B` 64, `C` 32): `16 + 32 n + 128` bytes; loading validates every
//! element and point. A halo2 proof is the Keccak transcript's bytes as the
//! EVM verifier reads them (64-byte points, 32-byte scalars), checked when
//! it is verified.

use std::path::Path;

use ark_bn254::{Bn254, Fr};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use depin_statements::StatementKind;

use crate::file::{
    deserialize_exact, read_file, write_file, FileError, FileHeader, FileType, FormatError,
};
use crate::system::Backend;

/// A proof, of whichever proof system made it.
// A Groth16 proof is held inline (256 bytes, its points uncompressed), a
// halo2 proof on the heap: proofs are few and passed by reference.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    /// A Groth16 proof over BN254 (Groth, EUROCRYPT 2016).
    Groth16(ark_groth16::Proof<Bn254>),
    /// A halo2 proof over BN254: KZG commitments, SHPLONK openings, the
    /// Keccak transcript the EVM verifier reads (the bytes as the
    /// transcript wrote them).
    Halo2(Vec<u8>),
}

impl Proof {
    /// The proof system that made it.
    pub fn backend(&self) -> Backend {
        match self {
            Proof::Groth16(_) => Backend::Groth16,
            Proof::Halo2(_) => Backend::Halo2,
        }
    }

    /// The Groth16 proof, if it is one.
    pub fn as_groth16(&self) -> Option<&ark_groth16::Proof<Bn254>> {
        match self {
            Proof::Groth16(p) => Some(p),
            Proof::Halo2(_) => None,
        }
    }

    /// The halo2 proof's bytes, if it is one.
    pub fn as_halo2(&self) -> Option<&[u8]> {
        match self {
            Proof::Halo2(p) => Some(p),
            Proof::Groth16(_) => None,
        }
    }

    /// The proof file type of its system.
    fn file_type(&self) -> FileType {
        match self {
            Proof::Groth16(_) => FileType::Proof,
            Proof::Halo2(_) => FileType::Halo2Proof,
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

    /// A halo2 proof of `kind` for `public`.
    pub fn halo2(kind: StatementKind, public: Vec<Fr>, proof: Vec<u8>) -> Self {
        StatementProof {
            kind,
            public,
            proof: Proof::Halo2(proof),
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
            Proof::Groth16(p) => {
                p.serialize_compressed(&mut out)
                    .map_err(|source| FormatError::Serialize {
                        what: "proof",
                        source,
                    })?
            }
            Proof::Halo2(p) => out.extend_from_slice(p),
        }
        Ok(out)
    }

    /// Parses `proof.bin`'s bytes for `kind`, validating every element and
    /// point.
    pub fn from_bytes(bytes: &[u8], kind: StatementKind) -> Result<Self, FormatError> {
        let file_type = match bytes.get(6).copied().and_then(FileType::from_code) {
            Some(FileType::Halo2Proof) => FileType::Halo2Proof,
            _ => FileType::Proof,
        };
        let mut body = FileHeader::check(bytes, file_type, kind)?;
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
        if file_type == FileType::Halo2Proof {
            // The transcript's words: 64-byte points and 32-byte scalars,
            // checked when the proof is verified.
            if body.is_empty() || body.len() % 32 != 0 {
                return Err(FormatError::Inconsistent(format!(
                    "a halo2 proof of {} bytes (a non-empty multiple of 32 expected)",
                    body.len()
                )));
            }
            return Ok(StatementProof::halo2(kind, public, body.to_vec()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn halo2_proof(len: usize) -> StatementProof {
        StatementProof::halo2(
            StatementKind::Uptime,
            (1..=5u64).map(Fr::from).collect(),
            (0..len).map(|i| i as u8).collect(),
        )
    }

    #[test]
    fn halo2_proofs_round_trip_and_refuse_bad_lengths() {
        let proof = halo2_proof(128);
        let bytes = proof.to_bytes().expect("encode");
        assert_eq!(bytes[6], FileType::Halo2Proof as u8);
        assert_eq!(bytes.len(), 16 + 32 * 5 + 128);
        assert_eq!(
            StatementProof::from_bytes(&bytes, StatementKind::Uptime).expect("decode"),
            proof
        );
        assert_eq!(proof.proof.backend(), Backend::Halo2);
        assert!(proof.proof.as_groth16().is_none());
        // No proof bytes, or a length that is no transcript's.
        for cut in [128, 1] {
            let err =
                StatementProof::from_bytes(&bytes[..bytes.len() - cut], StatementKind::Uptime)
                    .unwrap_err();
            assert!(matches!(err, FormatError::Inconsistent(_)), "{err}");
        }
        // Another statement's header.
        assert!(matches!(
            StatementProof::from_bytes(&bytes, StatementKind::Coverage),
            Err(FormatError::WrongStatement { .. })
        ));
    }
}
