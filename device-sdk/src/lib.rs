//! The device SDK: what a DePIN device links to sign its measurements and
//! keep them until the prover has them.
//!
//! The core is `no_std` and allocation-free (it builds for
//! `thumbv7em-none-eabihf` with `--no-default-features`, where no `alloc`
//! is in scope):
//!
//! - [`keys`]: strict hex encoding of private keys.
//! - [`signer`]: a [`Device`](signer::Device) key, the coverage claim and
//!   witness reports, and the client's side of a bandwidth receipt
//!   ([`ClientSigner::co_sign`](signer::ClientSigner::co_sign)).
//! - [`chain`]: the uptime and bandwidth hash chains; each new record moves
//!   the head and the device signs it.
//! - [`wire`]: a fixed-size binary encoding of every signed record.
//!
//! With the `std` feature (default):
//!
//! - [`decimal`]: decimal strings and JSON shapes of field elements, points
//!   and signatures, in circomlibjs's coordinates.
//! - [`keyfile`]: key files created with mode 0600; group- or
//!   world-accessible key files are refused.
//! - [`spool`]: a durable, append-only, checksummed on-disk queue of signed
//!   records not yet acknowledged by the prover (`peek_batch`, `ack`).
//! - [`recorder`]: a device's chains and spool together, crash-consistent.
//!
//! With `client`: [`client`], the prover service's gRPC client, and
//! [`submit`], the loop that drains a recorder's spool to the service. (The
//! fleet simulator is `depin-fleet`; the `depin-device` tool is its own
//! crate.)
//! `docs/device-sdk.md` describes the formats and the guarantees.
#![cfg_attr(not(feature = "std"), no_std)]

pub use depin_crypto as crypto;
pub use depin_statements::records;
pub use depin_statements::StatementKind;

pub mod chain;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "std")]
pub mod decimal;
#[cfg(feature = "std")]
pub mod keyfile;
pub mod keys;
#[cfg(feature = "std")]
pub mod recorder;
pub mod signer;
#[cfg(feature = "std")]
pub mod spool;
#[cfg(feature = "client")]
pub mod submit;
pub mod wire;
