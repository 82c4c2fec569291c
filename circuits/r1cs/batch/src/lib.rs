//! The epoch batch in R1CS, beside its plain computation in `depin-batch`.
//!
//! - [`tree`]: one credit to the tree of cumulative rewards, the circuit
//!   side of [`depin_batch::tree::Credit::check`], with padding positions
//!   (device id 0) that leave the tree unchanged.

pub mod tree;
