//! Sample epochs of each statement (the deterministic full-capacity epoch
//! key generation uses) and, with feature `sample`, random epochs, shared
//! by the tests and benchmarks of every proving backend so that the R1CS
//! and halo2 circuits are checked against the native references on the
//! same inputs.

pub mod bandwidth;
pub mod coverage;
pub mod uptime;
