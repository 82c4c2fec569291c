//! halo2 for the DePIN statements: PLONKish arithmetisation (Gabizon,
//! Williamson, Ciobotaru, "PLONK", ePrint 2019/953, with halo2's custom
//! gates and copy constraints) over BN254 with KZG commitments (Kate,
//! Zaverucha, Goldberg, ASIACRYPT 2010) opened by SHPLONK (Boneh, Drake,
//! Fisch, Gabizon, ePrint 2020/081), Fiat-Shamir over Keccak-256 so that the
//! generated Solidity verifier reads the same transcript.
//!
//! - [`params`]: KZG parameters, one powers-of-tau for every statement
//!   (the universal setup); a development one drawn from a seed, behind the
//!   same explicit insecure flag as Groth16's development keys.
//! - [`keys`]: one statement's keys (its circuit's shape, proving and
//!   verifying key) generated from the parameters and the statement's
//!   full-capacity sample circuit.
//! - [`prover`]: proving an epoch and verifying a proof natively, with the
//!   transcript the EVM verifier reads.
//! - [`solidity`]: the verifier contract generated from a verifying key.
//! - [`system`]: the statement's keys as a `depin_proving::ProofSystem`.
//! - [`golden`]: the committed golden keys and proofs
//!   (`prover/golden/halo2`).
//!
//! The circuits are `depin-halo2`'s, which compute exactly what the native
//! references and the R1CS circuits compute (same public inputs, same
//! order).

pub mod golden;
pub mod keys;
pub mod params;
pub mod prover;
pub mod solidity;
pub mod system;

pub use keys::{statement_k, StatementKeys};
pub use params::{dev_params, read_params, write_params, ParamsError};
pub use prover::{prove, verify, Halo2Error};
pub use system::Halo2System;

/// The curve's pairing engine, scalar field and G1 points as halo2 names
/// them.
pub use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
