//! R1CS circuits (arkworks 0.6 `gr1cs`) for the three statements of
//! `depin-statements`: uptime, bandwidth and coverage.
//!
//! Each circuit proves exactly the evaluation of its native reference: for
//! the private records and policy, the public inputs (packed header with the
//! reward, device id, policy hash, beacon, nullifier, and the registry root
//! or cell) are those the reference computes. Records the reference rejects
//! are excluded inside the circuit, so an epoch with some bad records still
//! proves the honest part. Equivalence and negative tests live beside each
//! circuit; [`testing`] holds the shared harness (an independent R1CS
//! checker over the finalized matrices and the every-witness-is-constrained
//! test).
//!
//! Circuits carry their witness values and a capacity: the Groth16 keys use
//! the statement's capacity (`depin_statements::*_CAPACITY`); tests also
//! build smaller capacities, which synthesize the same gadgets in fewer
//! copies. [`visit`] hands a statement chosen at run time to generic code.

pub mod bandwidth;
pub mod common;
pub mod coverage;
pub mod testing;
pub mod uptime;
pub mod visit;

pub use common::{CircuitError, PositionVars, SharedVars, StatementCircuit};
pub use visit::{visit_epoch, visit_sample, CircuitVisitor};
