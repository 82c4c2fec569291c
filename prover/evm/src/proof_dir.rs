//! A proof directory, as `depin-prover prove` writes it and `verify` reads
//! it: `proof.bin` (the binary proof, `depin_proving::proof`) beside
//! `proof.json` and `public.json` in snarkjs's JSON ([`crate::snarkjs`]).

use std::path::{Path, PathBuf};

use depin_proving::file::{write_file, FileError};
use depin_proving::{Proof, StatementProof};
use depin_statements::StatementKind;

use crate::snarkjs;

/// The file name of a binary proof in a proof directory.
pub const PROOF_BIN_FILE: &str = "proof.bin";

/// Writes a proof directory (created if missing): [`PROOF_BIN_FILE`],
/// [`PUBLIC_JSON_FILE`] and, for a Groth16 proof, [`PROOF_JSON_FILE`]
/// (snarkjs has no halo2 format; a halo2 proof directory's `public.json` is
/// the same file as a Groth16 one's, so the two backends' public inputs for
/// one epoch compare as files).
pub fn write_proof_dir(proof: &StatementProof, dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(|source| FileError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    proof.write(&dir.join(PROOF_BIN_FILE))?;
    let json = |path: PathBuf, text: Result<String, serde_json::Error>| {
        let text = text.map_err(|source| FileError::Json {
            path: path.clone(),
            source,
        })?;
        write_file(&path, text.as_bytes())
    };
    if let Proof::Groth16(groth16) = &proof.proof {
        json(dir.join(PROOF_JSON_FILE), snarkjs::proof_to_json(groth16))?;
    }
    json(
        dir.join(PUBLIC_JSON_FILE),
        snarkjs::public_to_json(&proof.public),
    )?;
    Ok(())
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
    File(#[from] FileError),
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
    /// `public.json` beside a halo2 `proof.bin` holds other inputs.
    #[error("{}: other public inputs than {PROOF_BIN_FILE}'s", path.display())]
    PublicMismatch {
        /// The file.
        path: PathBuf,
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
        let halo2_bin = bin.as_ref().filter(|b| b.proof.as_halo2().is_some());
        let json = match (proof_path.exists(), public_path.exists()) {
            (false, false) => None,
            // A halo2 proof directory: public.json repeats proof.bin's inputs.
            (false, true) if halo2_bin.is_some() => {
                let text =
                    std::fs::read_to_string(&public_path).map_err(|source| FileError::Io {
                        path: public_path.clone(),
                        source,
                    })?;
                let public =
                    snarkjs::public_from_json(&text).map_err(|source| ProofDirError::Snarkjs {
                        path: public_path.clone(),
                        source,
                    })?;
                if halo2_bin.is_some_and(|b| b.public != public) {
                    return Err(ProofDirError::PublicMismatch { path: public_path });
                }
                None
            }
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
                    std::fs::read_to_string(path).map_err(|source| FileError::Io {
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
                Some(StatementProof::groth16(kind, public, proof))
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
