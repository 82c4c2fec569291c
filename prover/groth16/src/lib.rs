//! Groth16 for the DePIN statements (Groth, "On the Size of Pairing-based
//! Non-interactive Arguments", EUROCRYPT 2016) over BN254, proving on
//! `depin-prover-core`.
//!
//! - [`keys`]: the insecure development setup, proving and verifying key
//!   files (packed, memory-mapped proving keys; trusted and validated
//!   loads), key directories.
//! - [`prover`]: prove a statement circuit with prebuilt matrices, verify.
//! - [`system`]: [`Groth16System`], the statement's keys as a
//!   `depin_proving::ProofSystem`.
//! - [`golden`]: the committed golden verifying keys and proofs.
//! - [`batch`]: keys and proofs of epoch batches (many device-epochs and
//!   the rewards tree's update in one proof).

pub mod batch;
pub mod golden;
pub mod keys;
pub mod prover;
pub mod system;

pub use depin_proving::file::FormatError;
pub use system::{Groth16System, SystemError};
