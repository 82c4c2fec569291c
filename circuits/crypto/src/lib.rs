//! circomlib-compatible cryptography over BN254, shared by device firmware,
//! the device SDK, the prover and the circuits.
//!
//! - [`poseidon`]: Poseidon exactly as circomlib defines it, 1 to 16 inputs.
//! - [`babyjubjub`]: Baby Jubjub in circomlib's coordinates, mapped
//!   explicitly onto `ark-ed-on-bn254`.
//! - [`eddsa`]: EdDSA-Poseidon exactly as circomlibjs defines it, with batch
//!   verification.
//! - [`merkle`]: binary Poseidon Merkle trees (the client registry).
//! - [`geo`]: integer distances and the free-space path-loss bound used by
//!   the coverage statement.
//!
//! The crate is `no_std` and allocation-free on the signing and hashing
//! paths; the `alloc` feature adds batch verification and tree building,
//! `std` adds `std::error::Error` integration, and `parallel` lets batch
//! verification use every core.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod babyjubjub;
pub mod eddsa;
pub mod field;
pub mod geo;
pub mod merkle;
pub mod poseidon;

pub use field::{fr_from_decimal, Fr};
