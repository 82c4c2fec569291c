//! The prover's artefacts for the EVM and the circom ecosystem.
//!
//! - [`snarkjs`]: Groth16 proofs, public inputs and verifying keys in
//!   snarkjs's JSON, both ways.
//! - [`solidity`]: Solidity Groth16 verifiers generated from verifying keys
//!   (`templates/Groth16Verifier.sol.tpl`), and proofs in the word order
//!   those verifiers read.
//! - [`calldata`]: the one encoder of the reward contract's `claim`
//!   calldata.
//! - [`proof_dir`]: a proof directory: `proof.bin` beside snarkjs's
//!   `proof.json` and `public.json`.

pub mod calldata;
pub mod proof_dir;
pub mod snarkjs;
pub mod solidity;
