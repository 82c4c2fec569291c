//! Epoch batches, the plain computation: what one batch proof establishes
//! about many device-epochs, and what the contract stores and pays from.
//!
//! A batch is `B` device-epochs of one statement kind and one epoch (`B`
//! fixed per key, padded). Its proof shows every device's statement as the
//! single-device circuit does and the update of the kind's tree of
//! cumulative rewards, `old -> new`:
//!
//! - [`tree`]: the tree of cumulative rewards, an indexed Merkle tree
//!   (a sorted linked list of device ids over an append-only Poseidon
//!   Merkle tree) whose commitment is `Poseidon(root, size)`. A device's
//!   leaf adds each epoch's reward and records the epoch, so a device-epoch
//!   is never counted twice; absent devices are inserted after a proof of
//!   non-membership. [`tree::Credit::check`] is the stateless check of one
//!   update that the circuit repeats.
//! - [`public_data`]: the batch's public data (device id, epoch reward and
//!   new cumulative reward of each entry), its SHA-256 digest as the one
//!   public input that binds it (the contract hashes the calldata with the
//!   precompile), and the Keccak withdrawal tree over `(device, cumulative)`
//!   that the contract builds from the same calldata, so that a withdrawal
//!   costs a few Keccak hashes instead of a Poseidon path on chain.
//! - [`replay`]: the tree rebuilt from the applied batches' public data,
//!   checked against the commitments the contract logged.
//!
//! The indexed Merkle tree is Aztec's (Aztec Protocol, "Indexed Merkle
//! Tree", protocol specification, 2023), reduced to what rewards need: no
//! next index in a leaf, and the insertion slot fixed to the tree's size so
//! that anyone replaying the published batches rebuilds the same tree.

pub mod header;
pub mod public_data;
pub mod replay;
pub mod tree;

pub use header::BatchHeader;
pub use public_data::{BatchEntry, PublicData, PublicDataError, WithdrawalProof};
pub use replay::ReplayError;
pub use tree::{Credit, CreditError, Leaf, RewardsTree, TreeError, TREE_DEPTH};

/// The batch size of the development batch keys and of the committed batch
/// verifiers (`verifier-contract/src/generated/*Batch4Verifier.sol`).
pub const DEFAULT_BATCH_SIZE: usize = 4;

/// The statement name of `statement`'s batches of `batch_size` (its
/// verifier's `STATEMENT` and the base of its contract's name):
/// `uptime` and 4 give `uptime_batch4`.
pub fn batch_statement_name(statement: &str, batch_size: usize) -> String {
    format!("{statement}_batch{batch_size}")
}
