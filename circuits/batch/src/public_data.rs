//! A batch's public data, its digest, and the withdrawal tree over it.
//!
//! The public data lists, for each of the batch's `B` positions, the
//! device, its epoch reward and its cumulative reward after the batch:
//! `device_id` (32 bytes), `reward` (8 bytes), `cumulative` (16 bytes), all
//! big-endian, [`ENTRY_BYTES`] in all. Unused positions are padding: all
//! zero, and only after the last device. The calldata of a batch carries
//! these bytes; anyone replaying the batches of a kind in order rebuilds
//! its rewards tree (see [`crate::tree`]).
//!
//! - The proof binds them through one public input, [`PublicData::digest`]:
//!   SHA-256 of the batch's header ([`crate::header`]) and the bytes, read as a big-endian integer with its top three
//!   bits cleared (below 2^253, so a field element). The contract computes
//!   the same with the SHA-256 precompile, which costs 60 gas plus 12 a
//!   word.
//! - The contract also folds the entries into a Keccak Merkle tree, the
//!   withdrawal tree: leaf `keccak256(device_id ‖ cumulative)` (two 32-byte
//!   big-endian words, as Solidity's `abi.encode(uint256, uint256)`), zero
//!   for padding and for the positions up to the next power of two, node
//!   `keccak256(left ‖ right)`. It stores the root per batch; a withdrawal
//!   shows its `(device, cumulative)` under one stored root with
//!   [`WithdrawalProof`], a few Keccak hashes instead of a Poseidon path on
//!   chain. Cumulative rewards only grow, so a proof from an older batch
//!   pays less, never twice.

use ark_ff::{PrimeField, Zero};
use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_crypto::Fr;
use sha2::{Digest, Sha256};
use tiny_keccak::{Hasher, Keccak};

use crate::header::BatchHeader;
use crate::tree::Credit;

/// Bytes of one position: device id, reward, cumulative.
pub const ENTRY_BYTES: usize = 32 + 8 + 16;

/// Largest batch supported.
pub const MAX_BATCH: usize = 1 << 16;

/// One position of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchEntry {
    /// The device; 0 marks padding.
    pub device_id: Fr,
    /// Its reward for the batch's epoch.
    pub reward: u64,
    /// Its cumulative reward after the batch.
    pub cumulative: u128,
}

impl BatchEntry {
    /// An unused position.
    pub const PADDING: BatchEntry = BatchEntry {
        device_id: <Fr as ark_ff::AdditiveGroup>::ZERO,
        reward: 0,
        cumulative: 0,
    };

    /// Whether this is an unused position.
    pub fn is_padding(&self) -> bool {
        self.device_id.is_zero()
    }

    /// The position's [`ENTRY_BYTES`] bytes, big-endian.
    pub fn encode(&self) -> [u8; ENTRY_BYTES] {
        let mut out = [0u8; ENTRY_BYTES];
        out[..32].copy_from_slice(&fr_to_be(&self.device_id));
        out[32..40].copy_from_slice(&self.reward.to_be_bytes());
        out[40..].copy_from_slice(&self.cumulative.to_be_bytes());
        out
    }
}

/// Why public data was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublicDataError {
    /// Batch size outside `1..=MAX_BATCH`.
    #[error("batch size must be 1 to {MAX_BATCH}, got {0}")]
    BatchSize(usize),
    /// More entries than positions.
    #[error("{got} entries do not fit a batch of {batch_size}")]
    TooMany {
        /// Entries given.
        got: usize,
        /// Positions.
        batch_size: usize,
    },
    /// The encoding's length is not the batch's.
    #[error("public data of {got} bytes, a batch of {batch_size} has {} bytes", batch_size * ENTRY_BYTES)]
    Length {
        /// Bytes given.
        got: usize,
        /// Positions.
        batch_size: usize,
    },
    /// A padding position carries a reward, or a device follows padding.
    #[error("position {0}: padding must be all zero and come after every device")]
    Padding(usize),
    /// A device id at or above the field's modulus.
    #[error("position {0}: device id is not a canonical field element")]
    DeviceId(usize),
    /// A reward above the cumulative reward it is part of.
    #[error("position {0}: reward exceeds the cumulative reward")]
    Cumulative(usize),
}

/// The public data of one batch: `batch_size` positions, the devices first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicData {
    batch_size: usize,
    devices: Vec<BatchEntry>,
}

impl PublicData {
    /// The batch's public data from its devices (in the order they were
    /// credited), padded to `batch_size`.
    pub fn new(batch_size: usize, devices: Vec<BatchEntry>) -> Result<Self, PublicDataError> {
        if batch_size == 0 || batch_size > MAX_BATCH {
            return Err(PublicDataError::BatchSize(batch_size));
        }
        if devices.len() > batch_size {
            return Err(PublicDataError::TooMany {
                got: devices.len(),
                batch_size,
            });
        }
        for (i, e) in devices.iter().enumerate() {
            if e.is_padding() {
                return Err(PublicDataError::Padding(i));
            }
            if u128::from(e.reward) > e.cumulative {
                return Err(PublicDataError::Cumulative(i));
            }
        }
        Ok(PublicData {
            batch_size,
            devices,
        })
    }

    /// The public data of a batch's credits.
    pub fn from_credits(batch_size: usize, credits: &[Credit]) -> Result<Self, PublicDataError> {
        let devices = credits
            .iter()
            .map(|c| BatchEntry {
                device_id: c.device_id,
                reward: c.reward,
                cumulative: c.cumulative,
            })
            .collect();
        Self::new(batch_size, devices)
    }

    /// Reads the bytes a batch's calldata carries.
    pub fn decode(batch_size: usize, bytes: &[u8]) -> Result<Self, PublicDataError> {
        if batch_size == 0 || batch_size > MAX_BATCH {
            return Err(PublicDataError::BatchSize(batch_size));
        }
        if bytes.len() != batch_size * ENTRY_BYTES {
            return Err(PublicDataError::Length {
                got: bytes.len(),
                batch_size,
            });
        }
        let mut devices = Vec::new();
        let mut padding = false;
        for (i, chunk) in bytes.chunks_exact(ENTRY_BYTES).enumerate() {
            let mut id = [0u8; 32];
            id.copy_from_slice(&chunk[..32]);
            let mut reward = [0u8; 8];
            reward.copy_from_slice(&chunk[32..40]);
            let mut cumulative = [0u8; 16];
            cumulative.copy_from_slice(&chunk[40..]);
            let device_id = fr_from_be(&id).ok_or(PublicDataError::DeviceId(i))?;
            let entry = BatchEntry {
                device_id,
                reward: u64::from_be_bytes(reward),
                cumulative: u128::from_be_bytes(cumulative),
            };
            if entry.is_padding() {
                if entry != BatchEntry::PADDING {
                    return Err(PublicDataError::Padding(i));
                }
                padding = true;
            } else if padding {
                return Err(PublicDataError::Padding(i));
            } else {
                devices.push(entry);
            }
        }
        Self::new(batch_size, devices)
    }

    /// Positions in the batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The devices' positions, without padding.
    pub fn devices(&self) -> &[BatchEntry] {
        &self.devices
    }

    /// Every position, padding included.
    pub fn entries(&self) -> impl Iterator<Item = BatchEntry> + '_ {
        self.devices
            .iter()
            .copied()
            .chain(std::iter::repeat(BatchEntry::PADDING))
            .take(self.batch_size)
    }

    /// The bytes: `batch_size * ENTRY_BYTES`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.batch_size * ENTRY_BYTES);
        for e in self.entries() {
            out.extend_from_slice(&e.encode());
        }
        out
    }

    /// The batch proof's one public input: SHA-256 of `header`'s bytes
    /// followed by these, read big-endian with the top three bits cleared
    /// (below 2^253, so a field element).
    pub fn digest(&self, header: &BatchHeader) -> Fr {
        digest(header, &self.encode())
    }

    /// Height of the withdrawal tree: the batch size rounded up to a power
    /// of two, as a power.
    pub fn withdrawal_depth(&self) -> usize {
        self.batch_size.next_power_of_two().trailing_zeros() as usize
    }

    /// The withdrawal tree's root.
    pub fn withdrawal_root(&self) -> [u8; 32] {
        let levels = self.withdrawal_levels();
        levels[levels.len() - 1][0]
    }

    /// The proof that the device at `position` has its cumulative reward
    /// under [`Self::withdrawal_root`]; `None` for padding.
    pub fn withdrawal_proof(&self, position: usize) -> Option<WithdrawalProof> {
        let entry = self.devices.get(position)?;
        let levels = self.withdrawal_levels();
        let siblings = (0..self.withdrawal_depth())
            .map(|h| levels[h][(position >> h) ^ 1])
            .collect();
        Some(WithdrawalProof {
            device_id: entry.device_id,
            cumulative: entry.cumulative,
            position: position as u32,
            siblings,
        })
    }

    fn withdrawal_levels(&self) -> Vec<Vec<[u8; 32]>> {
        let width = self.batch_size.next_power_of_two();
        let mut level: Vec<[u8; 32]> = self
            .devices
            .iter()
            .map(|e| withdrawal_leaf(&e.device_id, e.cumulative))
            .chain(std::iter::repeat([0u8; 32]))
            .take(width)
            .collect();
        let mut levels = Vec::with_capacity(self.withdrawal_depth() + 1);
        while level.len() > 1 {
            let next = level.chunks(2).map(|p| keccak_pair(&p[0], &p[1])).collect();
            levels.push(std::mem::replace(&mut level, next));
        }
        levels.push(level);
        levels
    }
}

/// SHA-256 of `header`'s bytes followed by `data`, read big-endian with the
/// top three bits cleared: [`PublicData::digest`] over any bytes (tests use
/// it for public data that [`PublicData`] refuses).
pub fn digest(header: &BatchHeader, data: &[u8]) -> Fr {
    let mut h = Sha256::new();
    h.update(header.encode());
    h.update(data);
    let mut d: [u8; 32] = h.finalize().into();
    d[0] &= 0x1f;
    Fr::from_be_bytes_mod_order(&d)
}

/// A device's cumulative reward under one batch's withdrawal root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalProof {
    /// The device.
    pub device_id: Fr,
    /// Its cumulative reward after that batch.
    pub cumulative: u128,
    /// Its position in the batch.
    pub position: u32,
    /// Sibling hashes from the leaves up.
    pub siblings: Vec<[u8; 32]>,
}

impl WithdrawalProof {
    /// The root this proof folds to, as the contract computes it.
    pub fn root(&self) -> [u8; 32] {
        let mut node = withdrawal_leaf(&self.device_id, self.cumulative);
        for (h, sib) in self.siblings.iter().enumerate() {
            node = if (self.position >> h) & 1 == 0 {
                keccak_pair(&node, sib)
            } else {
                keccak_pair(sib, &node)
            };
        }
        node
    }
}

/// `keccak256(abi.encode(device_id, cumulative))`.
pub fn withdrawal_leaf(device_id: &Fr, cumulative: u128) -> [u8; 32] {
    let mut c = [0u8; 32];
    c[16..].copy_from_slice(&cumulative.to_be_bytes());
    keccak_pair(&fr_to_be(device_id), &c)
}

fn keccak_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(a);
    k.update(b);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

/// The canonical 32-byte big-endian encoding (Solidity's `uint256`).
pub(crate) fn fr_to_be(x: &Fr) -> [u8; 32] {
    let mut out = fr_to_le_bytes(x);
    out.reverse();
    out
}

/// Reads a big-endian `uint256`, refusing values at or above the modulus.
fn fr_from_be(bytes: &[u8; 32]) -> Option<Fr> {
    let mut le = *bytes;
    le.reverse();
    fr_from_le_bytes(&le).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::RewardsTree;
    use ark_ff::BigInteger;

    fn entry(id: u64, reward: u64, cumulative: u128) -> BatchEntry {
        BatchEntry {
            device_id: Fr::from(id),
            reward,
            cumulative,
        }
    }

    #[test]
    fn encoding_round_trips_and_pads_with_zeros() {
        let pd = PublicData::new(4, vec![entry(7, 5, 9), entry(3, 1, 1)]).unwrap();
        let bytes = pd.encode();
        assert_eq!(bytes.len(), 4 * ENTRY_BYTES);
        assert!(bytes[2 * ENTRY_BYTES..].iter().all(|b| *b == 0));
        assert_eq!(bytes[31], 7);
        assert_eq!(bytes[39], 5);
        assert_eq!(bytes[55], 9);
        assert_eq!(PublicData::decode(4, &bytes).unwrap(), pd);
        assert_eq!(pd.entries().count(), 4);
    }

    /// SHA-256 of a zero header and the empty batch of one position (248
    /// zero bytes) is b3ab6982...3f05 (Python's
    /// `hashlib.sha256(bytes(248))`); the digest clears its top three bits.
    #[test]
    fn digest_is_sha256_with_the_top_bits_cleared() {
        let zero = BatchHeader {
            kind: 0,
            version: 0,
            epoch: 0,
            policy_hash: Fr::zero(),
            beacon: Fr::zero(),
            registry_root: Fr::zero(),
            old_commitment: Fr::zero(),
            new_commitment: Fr::zero(),
        };
        let d = PublicData::new(1, vec![]).unwrap().digest(&zero);
        let want = "13ab6982980fddf460a2f47adb428475ce9afa89092fd034499d017a35993f05";
        let got: String = fr_to_be(&d).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
        let pd = PublicData::new(2, vec![entry(u64::MAX, 1, u128::MAX)]).unwrap();
        assert!(pd.digest(&zero).into_bigint().num_bits() <= 253);
    }

    #[test]
    fn bad_encodings_are_refused_with_the_position() {
        assert_eq!(
            PublicData::new(0, vec![]).unwrap_err(),
            PublicDataError::BatchSize(0)
        );
        assert_eq!(
            PublicData::new(1, vec![entry(1, 1, 1), entry(2, 1, 1)]).unwrap_err(),
            PublicDataError::TooMany {
                got: 2,
                batch_size: 1
            }
        );
        assert_eq!(
            PublicData::new(2, vec![entry(1, 5, 4)]).unwrap_err(),
            PublicDataError::Cumulative(0)
        );
        let good = PublicData::new(3, vec![entry(1, 1, 1)]).unwrap().encode();
        assert_eq!(
            PublicData::decode(3, &good[1..]).unwrap_err(),
            PublicDataError::Length {
                got: 3 * ENTRY_BYTES - 1,
                batch_size: 3
            }
        );
        // A device after padding.
        let mut b = good.clone();
        b[2 * ENTRY_BYTES + 31] = 9;
        b[2 * ENTRY_BYTES + 55] = 1;
        assert_eq!(
            PublicData::decode(3, &b).unwrap_err(),
            PublicDataError::Padding(2)
        );
        // Padding with a reward.
        let mut b = good.clone();
        b[ENTRY_BYTES + 39] = 1;
        assert_eq!(
            PublicData::decode(3, &b).unwrap_err(),
            PublicDataError::Padding(1)
        );
        // A device id at the modulus.
        let mut b = good;
        b[..32].copy_from_slice(&Fr::MODULUS.to_bytes_be());
        assert_eq!(
            PublicData::decode(3, &b).unwrap_err(),
            PublicDataError::DeviceId(0)
        );
    }

    #[test]
    fn every_device_withdraws_under_the_root_and_nothing_else_does() {
        for batch_size in [1usize, 2, 3, 5, 8] {
            // One padding position where the batch has room for it.
            let devices = if batch_size == 1 { 1 } else { batch_size - 1 };
            let mut tree = RewardsTree::new(5).unwrap();
            let credits: Vec<_> = (1..=devices as u64)
                .map(|d| tree.credit(Fr::from(d * 11), 1, d * 3).unwrap())
                .collect();
            let pd = PublicData::from_credits(batch_size, &credits).unwrap();
            let root = pd.withdrawal_root();
            for position in 0..pd.devices().len() {
                let p = pd.withdrawal_proof(position).unwrap();
                assert_eq!(p.siblings.len(), pd.withdrawal_depth());
                assert_eq!(p.root(), root);
                let mut more = p.clone();
                more.cumulative += 1;
                assert_ne!(more.root(), root);
                let mut other = p.clone();
                other.device_id += Fr::from(1u64);
                assert_ne!(other.root(), root);
            }
            assert!(pd.withdrawal_proof(pd.devices().len()).is_none());
        }
    }

    #[test]
    fn withdrawal_leaf_is_keccak_of_the_abi_encoding() {
        // keccak256(abi.encode(uint256(1), uint256(2))), as Solidity and
        // `cast keccak` compute it.
        let leaf = withdrawal_leaf(&Fr::from(1u64), 2);
        let mut words = [0u8; 64];
        words[31] = 1;
        words[63] = 2;
        let mut k = Keccak::v256();
        k.update(&words);
        let mut want = [0u8; 32];
        k.finalize(&mut want);
        assert_eq!(leaf, want);
    }
}
