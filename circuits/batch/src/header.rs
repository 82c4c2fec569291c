//! The epoch-wide part of a batch's public input: what every position
//! shares and the two tree commitments.
//!
//! The digest a batch proof binds ([`crate::PublicData::digest`]) covers
//! [`BatchHeader::encode`] (six 32-byte big-endian words, [`HEADER_BYTES`])
//! and then the public data:
//!
//! | word | value |
//! |---|---|
//! | 0 | `kind + version * 2^8 + epoch * 2^40`, the single claim's header without the reward |
//! | 1 | the policy hash |
//! | 2 | the epoch beacon |
//! | 3 | the client registry root (bandwidth), else 0 |
//! | 4 | the old tree commitment `Poseidon(root, size)` |
//! | 5 | the new tree commitment |
//!
//! The contract writes words 0 to 4 from what it holds (the kind's
//! version, the accepted policy, the epoch's beacon, an accepted registry
//! root, its current commitment) and word 5 from the calldata, so a batch
//! on a stale tree, another policy or another beacon fails the proof.

use depin_crypto::Fr;

use crate::public_data::fr_to_be;

/// Bytes of [`BatchHeader::encode`].
pub const HEADER_BYTES: usize = 6 * 32;

/// Bit offset of the version in word 0 (as in the single claim's header).
pub const VERSION_SHIFT: u32 = 8;
/// Bit offset of the epoch in word 0.
pub const EPOCH_SHIFT: u32 = 40;

/// A batch's epoch-wide values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// The statement kind's code.
    pub kind: u8,
    /// The statement version.
    pub version: u32,
    /// The epoch every position proves.
    pub epoch: u32,
    /// The policy every position proves under.
    pub policy_hash: Fr,
    /// The epoch's beacon.
    pub beacon: Fr,
    /// The client registry root (bandwidth); zero for the other kinds.
    pub registry_root: Fr,
    /// The kind's tree before the batch.
    pub old_commitment: Fr,
    /// The kind's tree after the batch.
    pub new_commitment: Fr,
}

impl BatchHeader {
    /// Word 0: `kind + version * 2^8 + epoch * 2^40`.
    pub fn packed(&self) -> u128 {
        u128::from(self.kind)
            | u128::from(self.version) << VERSION_SHIFT
            | u128::from(self.epoch) << EPOCH_SHIFT
    }

    /// The six words, big-endian.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[16..32].copy_from_slice(&self.packed().to_be_bytes());
        for (i, w) in [
            self.policy_hash,
            self.beacon,
            self.registry_root,
            self.old_commitment,
            self.new_commitment,
        ]
        .iter()
        .enumerate()
        {
            out[32 * (i + 1)..32 * (i + 2)].copy_from_slice(&fr_to_be(w));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_zero_packs_kind_version_and_epoch() {
        let h = BatchHeader {
            kind: 2,
            version: 1,
            epoch: 0x0102_0304,
            policy_hash: Fr::from(5u64),
            beacon: Fr::from(6u64),
            registry_root: Fr::from(7u64),
            old_commitment: Fr::from(8u64),
            new_commitment: Fr::from(9u64),
        };
        let b = h.encode();
        // 2 + 1 * 2^8 + 0x01020304 * 2^40, big-endian in the first word.
        assert_eq!(&b[..23], &[0u8; 23]);
        assert_eq!(&b[23..32], &[0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0x01, 0x02]);
        for (i, v) in (5u8..=9).enumerate() {
            let w = &b[32 * (i + 1)..32 * (i + 2)];
            assert_eq!(&w[..31], &[0u8; 31]);
            assert_eq!(w[31], v);
        }
    }
}
