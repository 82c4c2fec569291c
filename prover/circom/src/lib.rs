//! The circom ecosystem's files and a snarkjs-compatible Groth16 trusted
//! setup over BN254.
//!
//! Networks already trust snarkjs and the Perpetual Powers of Tau for
//! their setups; this crate reads and writes their files so that a
//! deployment's phase-2 ceremony runs with any mix of snarkjs and this
//! crate, and anyone can verify it with either:
//!
//! * [`container`]: the iden3 binary container every format uses;
//! * [`r1cs`]: `.r1cs`, from any arkworks circuit (the statements);
//! * [`wtns`]: `.wtns`, full witnesses in the `.r1cs` wire order;
//! * [`ptau`]: `.ptau` phase-1 files (the Perpetual Powers of Tau), checked
//!   against their published BLAKE2b-512, and insecure development files;
//! * [`zkey`]: Groth16 `.zkey` keys: `zkey new` byte for byte as snarkjs,
//!   contributions, beacons, verification with a printable transcript;
//! * [`prove`]: proving from a `.zkey` with snarkjs's witness map on the
//!   MSMs and FFTs of `depin-prover-core`;
//! * snarkjs's `proof.json`, `public.json` and `vk.json` are `depin-evm`'s
//!   [`depin_evm::snarkjs`];
//! * [`ceremony`]: one function per step of a deployment's ceremony;
//! * [`system`]: a ceremony's `.zkey` as a statement's
//!   [`depin_proving::ProofSystem`], what the service proves with.
//!
//! [`blake2b`], [`encoding`] and [`rng`] are the hash, the point encodings
//! and the deterministic randomness the formats and verifiers share.
//!
//! The formats are implemented from their specifications (iden3's
//! `r1csfile` format document) and from the observed behaviour of snarkjs
//! 0.7.6, which the interop tests run; snarkjs and ffjavascript are
//! GPL-3.0 and rapidsnark LGPL-3.0, and no code of theirs is copied here.

pub mod blake2b;
pub mod ceremony;
pub mod container;
pub mod encoding;
pub mod prove;
pub mod ptau;
pub mod r1cs;
pub mod rng;
pub mod system;
pub mod wtns;
pub mod zkey;

pub use prove::{ProveError, ZkeyProver};
pub use ptau::{Ptau, PtauError};
pub use r1cs::{R1cs, R1csError};
pub use system::ZkeySystem;
pub use zkey::{Layout, Zkey, ZkeyError};
