//! R1CS gadgets over BN254 (arkworks 0.6 `gr1cs`) that compute exactly what
//! `depin-crypto` computes natively.
//!
//! Each module mirrors a native module and is tested against it on random
//! inputs, with negative tests that leave the constraint system unsatisfied:
//!
//! - [`poseidon`]: circomlib Poseidon, 240 constraints for two inputs.
//! - [`babyjubjub`]: Baby Jubjub points in circomlib's coordinates, complete
//!   twisted Edwards addition and scalar multiplication.
//! - [`eddsa`]: EdDSA-Poseidon verification with signature, key and message
//!   as variables.
//! - [`range`]: bit decompositions, range checks and comparisons on bounded
//!   integers.
//! - [`logic`]: equality and zero bits with every hint pinned, conjunctions.
//! - [`merkle`]: Poseidon Merkle membership.
//! - [`geo`]: squared distance and the free-space path-loss bound.

pub mod babyjubjub;
pub mod eddsa;
pub mod geo;
pub mod logic;
pub mod merkle;
pub mod poseidon;
pub mod range;

pub use ark_bn254::Fr;
pub use ark_r1cs_std::fields::fp::FpVar;
pub use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
