//! The three statements of the DePIN proving service (uptime, bandwidth,
//! coverage): the signed records devices send, the policies networks
//! publish, the public inputs a proof exposes, and the **native references**
//! that every circuit must agree with on every input.
//!
//! - [`tags`]: the Poseidon domain tags that keep messages of different kinds
//!   apart.
//! - [`records`]: record types, their canonical messages, hash chains,
//!   challenges and beacon ids. `no_std`, no allocation: firmware links it.
//! - [`reason`]: the stable [`RejectReason`] codes shared with the gRPC
//!   service, and the per-record [`Verdict`].
//! - [`policy`]: per-statement policies, their validation and their Poseidon
//!   hash (a public input).
//! - [`public`]: the statement kinds, the nullifier and [`PublicInputs`] with
//!   its fixed field-element order.
//! - [`eval`]: evaluation errors and (feature `alloc`) the [`Evaluation`]
//!   every reference returns.
//! - [`padding`] (feature `alloc`): fixed-capacity slots with `enabled`
//!   flags, padding only as a suffix, exactly as the circuits see them.
//! - [`uptime`], [`bandwidth`], [`coverage`] (feature `alloc`): the native
//!   references, and the public per-record rule functions they share with
//!   the prover's ingest (`check_heartbeat`, `check_receipt`,
//!   `check_report`), so that a record is judged by one function wherever
//!   it is judged.
//! - [`epoch`] (feature `alloc`): the one owned epoch type the prover
//!   proves; with feature `json`, the epoch file format.
//! - [`sample`]: the sample epochs' number and beacon; (feature `alloc`)
//!   the full-capacity sample epochs key
//!   generation uses, signed epochs, and (feature `sample`) random epochs
//!   that break each rule, for the tests and benchmarks of every backend.
//!
//! Every rule is integer arithmetic on bounded widths, equality of field
//! elements, Poseidon, EdDSA verification or Merkle membership, and every
//! per-record decision depends on earlier records only through a running
//! value (the next admissible slot) or pairwise comparisons against earlier
//! accepted records, so that an R1CS circuit expresses it exactly.
//! `docs/statements.md` specifies each statement in words.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod eval;
pub mod policy;
pub mod public;
pub mod reason;
pub mod records;
pub mod tags;

#[cfg(feature = "alloc")]
pub mod bandwidth;
#[cfg(feature = "alloc")]
pub mod coverage;
#[cfg(feature = "alloc")]
pub mod epoch;
#[cfg(feature = "alloc")]
pub mod padding;
pub mod sample;
#[cfg(feature = "alloc")]
pub mod uptime;

pub use depin_crypto::Fr;
pub use eval::EvalError;
#[cfg(feature = "alloc")]
pub use eval::Evaluation;
pub use policy::{BandwidthPolicy, CoveragePolicy, PolicyError, UptimePolicy};
pub use public::{nullifier, Header, PublicInputs, StatementKind, STATEMENT_VERSION};
pub use reason::{RejectReason, UnknownReason, Verdict};

/// Heartbeats per uptime proof: a day of 15-minute slots.
pub const UPTIME_CAPACITY: usize = 96;
/// Session receipts per bandwidth proof.
pub const BANDWIDTH_CAPACITY: usize = 32;
/// Depth of the client registry Merkle tree (2^16 clients).
pub const REGISTRY_DEPTH: usize = 16;
/// Witness reports per coverage proof.
pub const COVERAGE_CAPACITY: usize = 16;

#[cfg(test)]
mod kat;
#[cfg(test)]
pub(crate) mod testutil;
