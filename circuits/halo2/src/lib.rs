//! The project's statements in PLONKish over BN254 for the halo2 backend
//! (Axiom's `halo2-base` 0.5.5 on `halo2-axiom`, KZG commitments): chips
//! that compute exactly what `depin-crypto` computes natively, each tested
//! against it with the mock prover on random and adversarial inputs.
//!
//! - [`field`]: the one conversion between the native field element
//!   (arkworks) and halo2's (`halo2curves-axiom`), through the canonical
//!   32 little-endian bytes.
//! - [`poseidon`]: circomlib's `Poseidon(n)`, `n = 1..=16`, framed as
//!   circomlib frames it (state `[0, inputs...]`, output the first
//!   element), which halo2-base's own sponge does not.
//! - [`babyjubjub`]: Baby Jubjub with the complete twisted Edwards
//!   formulas: addition, doubling, on-curve and small-order bits, variable-
//!   and fixed-base scalar multiplication.
//! - [`eddsa`]: circomlibjs's EdDSA-Poseidon verification returning a bit,
//!   with the native verifier's cofactored equation.
//! - [`range`]: bit decompositions, the canonical 254-bit expansion,
//!   comparisons of bounded integers and with constants.
//! - [`merkle`]: Poseidon Merkle membership.
//! - [`geo`]: squared distances and the free-space path-loss bound.
//! - [`statement`]: what the statement circuits share (errors, the public
//!   inputs in the R1CS circuits' order, the header and the nullifier);
//!   [`uptime`]: the uptime statement; [`layout`]: a statement as a
//!   halo2-base circuit (shape, instance column, the mock prover's check).
//!
//! Why `halo2-base`: it is the maintained, audited halo2 over BN254 with
//! KZG on crates.io, and its flex gate (one advice column per phase by
//! default) keeps circuits narrow, which keeps the generated EVM verifier
//! under the contract size limit.

pub mod babyjubjub;
pub mod bandwidth;
pub mod coverage;
pub mod eddsa;
pub mod field;
pub mod geo;
pub mod layout;
pub mod merkle;
pub mod poseidon;
pub mod range;
pub mod statement;
pub mod uptime;

pub use halo2_base;
