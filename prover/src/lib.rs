//! Groth16 proving for the DePIN statements.
//!
//! - [`input`]: the JSON files an epoch is proven from, parsed into the
//!   native references' inputs with errors that name the offending field.
//! - [`examples`]: realistic example epochs signed by example keys.
//! - [`keys`]: development setup, key files (fast trusted load, validated
//!   untrusted load).
//! - [`groth16`]: prove and verify a statement.
//! - [`snarkjs`]: proofs, public inputs and verifying keys in snarkjs's JSON.
//! - [`golden`]: the committed golden keys and proofs.
//! - `service` (feature `service`, on by default): the gRPC prover service
//!   (`depin-prover serve`, `docs/service.md`).

pub mod examples;
pub mod golden;
pub mod groth16;
pub mod input;
pub mod keys;
#[cfg(feature = "service")]
pub mod service;
pub mod snarkjs;
pub mod solidity;
