//! Shared inputs for the criterion benchmarks in `benches/benches/`.
//!
//! Each benchmark measures our implementation and its baseline in the same
//! process, so ratios are taken under the same machine load.

use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_crypto::Fr;

/// `n` deterministic key pairs, messages and signatures.
pub fn signed_messages(n: usize) -> Vec<(PublicKey, Fr, Signature)> {
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let sk = PrivateKey::from_bytes(seed);
            let msg = Fr::from(i as u64 * 7919 + 1);
            (sk.public_key(), msg, sk.sign(&msg))
        })
        .collect()
}
