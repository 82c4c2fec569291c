//! What the project's tests share: one place for the in-process prover
//! service and its test network, the example keys and epochs, and the
//! small-capacity circuits.
//!
//! - [`examples`]: realistic example epochs signed by public example keys
//!   (`examples/`), and their policies.
//! - [`service`]: a prover service in this process on loopback, with
//!   development keys made once; clients; the test network's policies.
//! - [`small`]: small-capacity statement circuits from the examples.
//!
//! Not for production: the keys here are public or insecure.

pub mod examples;
pub mod service;
pub mod small;

pub use small::{example, example_keys, small_size, truncated, with_small};

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("prover/testkit is two levels below the root")
        .to_path_buf()
}

/// The snarkjs command line installed by `scripts/setup.sh`.
pub fn snarkjs() -> PathBuf {
    let path = repo_root().join("tools/js/node_modules/.bin/snarkjs");
    assert!(
        path.exists(),
        "snarkjs is missing at {}: run scripts/setup.sh",
        path.display()
    );
    path
}
