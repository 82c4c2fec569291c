//! What every proof system of the prover speaks.
//!
//! - [`system`]: the [`ProofSystem`] trait a backend implements for one
//!   statement (prove an [`EpochInput`](depin_statements::epoch::EpochInput),
//!   verify, serve its verifying key), and [`Backend`], the proof systems
//!   there are. The service, the command line and the exporters hold a
//!   `dyn ProofSystem` and never name a backend's types.
//! - [`proof`]: [`Proof`], one variant per backend, and [`StatementProof`],
//!   a proof with its statement and public inputs, with the binary
//!   `proof.bin` encoding.
//! - [`file`]: the 16-byte header of every binary key and proof file, its
//!   checks and the file errors.
//!
//! A second backend adds a [`Backend`] and a [`Proof`] variant, and
//! implements [`ProofSystem`]; an aggregated proof is one more variant.

pub mod file;
pub mod proof;
pub mod system;

pub use file::{FileError, FileHeader, FileType, FormatError};
pub use proof::{Proof, StatementProof};
pub use system::{Backend, ProofSystem, ProvingError, VerifyingKeyExport};
