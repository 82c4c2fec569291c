//! The epoch batch in R1CS, beside its plain computation in `depin-batch`.
//!
//! - [`batch`]: the batch circuit, `B` statements of one kind and epoch,
//!   their credits to the rewards tree and the SHA-256 digest of the
//!   batch's header and public data as the one public input.
//! - [`tree`]: one credit to the tree of cumulative rewards, the circuit
//!   side of [`depin_batch::tree::Credit::check`], with padding positions
//!   (device id 0) that leave the tree unchanged.

pub mod batch;
pub mod tree;

pub use batch::{BatchCircuit, BatchError, FormedBatch};
