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

/// The process's memory as Linux reports it in `/proc/self`: what the
/// memory examples read around a proof.
pub mod process_memory {
    use std::io;

    /// A field of `/proc/self/status` in KiB (`"VmHWM:"`, the peak resident
    /// size; `"VmRSS:"`, the current one).
    pub fn status_kib(field: &str) -> io::Result<u64> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("no {field} in /proc/self/status"),
                )
            })
    }

    /// Resets the peak (`VmHWM`) to the current resident size.
    pub fn reset_peak() -> io::Result<()> {
        std::fs::write("/proc/self/clear_refs", "5")
    }
}
