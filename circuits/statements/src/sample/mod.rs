//! Sample epochs of each statement (the deterministic full-capacity epoch
//! key generation uses) and, with feature `sample`, random epochs, shared
//! by the tests and benchmarks of every proving backend so that the R1CS
//! and halo2 circuits are checked against the native references on the
//! same inputs.

use depin_crypto::Fr;

/// The sample epochs' number.
pub const SAMPLE_EPOCH: u32 = 20_250;

/// The sample epochs' beacon.
pub const SAMPLE_BEACON: Fr = ark_ff::MontFp!("918273645546372819");

#[cfg(feature = "alloc")]
pub mod bandwidth;
#[cfg(feature = "alloc")]
pub mod coverage;
#[cfg(feature = "alloc")]
pub mod uptime;
