//! Statement kinds, the nullifier and the public inputs of a proof.
//!
//! Field-element order of [`PublicInputs::to_field_elements`] (every
//! integer by value):
//!
//! | # | input | width |
//! | --- | --- | --- |
//! | 0 | `header` = `kind + version * 2^8 + epoch * 2^40 + reward * 2^72` | 136 bits |
//! | 1 | `device_id` = `Poseidon(A.x, A.y)` | field |
//! | 2 | `policy_hash` | field |
//! | 3 | `beacon` | field |
//! | 4 | `nullifier` = `Poseidon(NULLIFIER, device_id, epoch, kind)` | field |
//! | 5 | bandwidth: `registry_root`; coverage: `cell`; uptime: absent | field / 64 bits |
//!
//! The header packs `kind` ([`StatementKind`] code, 8 bits), `version`
//! ([`STATEMENT_VERSION`], 32 bits), `epoch` (32 bits) and `reward` (64
//! bits). Uptime has 5 public inputs, bandwidth and coverage 6.

use crate::{tags, BANDWIDTH_CAPACITY, COVERAGE_CAPACITY, UPTIME_CAPACITY};
use depin_crypto::poseidon::hash_n;
use depin_crypto::Fr;

/// Version of the statements' definitions (records, rules, layouts). It
/// enters every policy hash and the public inputs; any change to a rule or
/// layout bumps it.
pub const STATEMENT_VERSION: u32 = 1;

/// Which statement a proof is about. Codes are frozen.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatementKind {
    /// Uptime heartbeats.
    Uptime = 1,
    /// Bandwidth session receipts.
    Bandwidth = 2,
    /// Coverage witness reports.
    Coverage = 3,
}

/// A code that names no [`StatementKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown statement kind {0}")]
pub struct UnknownKind(pub u8);

impl StatementKind {
    /// Every statement, in code order.
    pub const ALL: [StatementKind; 3] = [
        StatementKind::Uptime,
        StatementKind::Bandwidth,
        StatementKind::Coverage,
    ];

    /// The stable code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatementKind::Uptime => "uptime",
            StatementKind::Bandwidth => "bandwidth",
            StatementKind::Coverage => "coverage",
        }
    }

    /// The statement named `name` (`uptime`, `bandwidth`, `coverage`), as
    /// files, the command line and configuration spell it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Records per proof.
    pub const fn capacity(self) -> usize {
        match self {
            StatementKind::Uptime => UPTIME_CAPACITY,
            StatementKind::Bandwidth => BANDWIDTH_CAPACITY,
            StatementKind::Coverage => COVERAGE_CAPACITY,
        }
    }

    /// Number of public inputs (field elements).
    pub const fn public_input_count(self) -> usize {
        match self {
            StatementKind::Uptime => 5,
            StatementKind::Bandwidth | StatementKind::Coverage => 6,
        }
    }
}

impl TryFrom<u8> for StatementKind {
    type Error = UnknownKind;

    fn try_from(code: u8) -> Result<Self, UnknownKind> {
        match code {
            1 => Ok(StatementKind::Uptime),
            2 => Ok(StatementKind::Bandwidth),
            3 => Ok(StatementKind::Coverage),
            _ => Err(UnknownKind(code)),
        }
    }
}

/// Bit offset of the version in the packed header.
pub const HEADER_VERSION_SHIFT: u32 = 8;
/// Bit offset of the epoch in the packed header.
pub const HEADER_EPOCH_SHIFT: u32 = 40;
/// Bit offset of the reward in the packed header.
pub const HEADER_REWARD_SHIFT: u32 = 72;

/// Public input 0 unpacked: `kind + version * 2^8 + epoch * 2^40 + reward *
/// 2^72` ([`PublicInputs::header`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Statement kind code (8 bits).
    pub kind: u8,
    /// Statement version (32 bits).
    pub version: u32,
    /// Epoch (32 bits).
    pub epoch: u32,
    /// Reward (64 bits).
    pub reward: u64,
}

impl Header {
    /// Packs the header into one field element.
    pub fn pack(&self) -> Fr {
        let low = u128::from(self.kind)
            | u128::from(self.version) << HEADER_VERSION_SHIFT
            | u128::from(self.epoch) << HEADER_EPOCH_SHIFT;
        // reward * 2^72 overflows u128; add it in the field.
        let shift = Fr::from(1u128 << 64) * Fr::from(1u64 << (HEADER_REWARD_SHIFT - 64));
        Fr::from(low) + Fr::from(self.reward) * shift
    }

    /// Unpacks a header; `None` when it has bits above 136.
    pub fn unpack(header: &Fr) -> Option<Self> {
        use ark_ff::PrimeField;
        let limbs = header.into_bigint().0;
        if limbs[3] != 0 || limbs[2] >> 8 != 0 {
            return None;
        }
        let low = u128::from(limbs[0]) | (u128::from(limbs[1]) << 64);
        let reward =
            (low >> HEADER_REWARD_SHIFT) as u64 | (limbs[2] << (128 - HEADER_REWARD_SHIFT));
        Some(Header {
            kind: (low & 0xff) as u8,
            version: ((low >> HEADER_VERSION_SHIFT) & 0xffff_ffff) as u32,
            epoch: ((low >> HEADER_EPOCH_SHIFT) & 0xffff_ffff) as u32,
            reward,
        })
    }
}

/// `Poseidon(NULLIFIER, device_id, epoch, kind)`: unique per device, epoch
/// and kind; the contract refuses a second claim with it.
pub fn nullifier(device_id: Fr, epoch: u32, kind: StatementKind) -> Fr {
    hash_n(&[
        tags::fr(tags::NULLIFIER),
        device_id,
        Fr::from(epoch),
        Fr::from(kind.code()),
    ])
}

/// The public inputs of one statement proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicInputs {
    /// Statement kind.
    pub kind: StatementKind,
    /// [`STATEMENT_VERSION`].
    pub version: u32,
    /// Epoch number.
    pub epoch: u32,
    /// `Poseidon(A.x, A.y)` of the device key.
    pub device_id: Fr,
    /// The policy's hash.
    pub policy_hash: Fr,
    /// The epoch beacon the network published.
    pub beacon: Fr,
    /// Reward units owed for the epoch.
    pub reward: u64,
    /// [`nullifier`]`(device_id, epoch, kind)`.
    pub nullifier: Fr,
    /// Bandwidth only: the client registry root.
    pub registry_root: Option<Fr>,
    /// Coverage only: the device's coarse cell.
    pub cell: Option<u64>,
}

impl PublicInputs {
    /// The common inputs, with the nullifier derived and no kind-specific
    /// input (set `registry_root` or `cell` after).
    pub fn common(
        kind: StatementKind,
        epoch: u32,
        device_id: Fr,
        policy_hash: Fr,
        beacon: Fr,
        reward: u64,
    ) -> Self {
        PublicInputs {
            kind,
            version: STATEMENT_VERSION,
            epoch,
            device_id,
            policy_hash,
            beacon,
            reward,
            nullifier: nullifier(device_id, epoch, kind),
            registry_root: None,
            cell: None,
        }
    }

    /// The packed header `kind + version * 2^8 + epoch * 2^40 + reward * 2^72`
    /// (136 bits): four small values in one public input, which saves three
    /// elliptic-curve multiplications in every on-chain verification.
    pub fn header(&self) -> Fr {
        Header {
            kind: self.kind.code(),
            version: self.version,
            epoch: self.epoch,
            reward: self.reward,
        }
        .pack()
    }

    /// The inputs as field elements, in the order of the module docs:
    /// `[header, device_id, policy_hash, beacon, nullifier]`, then the
    /// registry root (bandwidth) or the cell (coverage).
    #[cfg(feature = "alloc")]
    pub fn to_field_elements(&self) -> alloc::vec::Vec<Fr> {
        let mut v = alloc::vec![
            self.header(),
            self.device_id,
            self.policy_hash,
            self.beacon,
            self.nullifier,
        ];
        if let Some(root) = self.registry_root {
            v.push(root);
        }
        if let Some(cell) = self.cell {
            v.push(Fr::from(cell));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_are_frozen() {
        for (k, code, name) in [
            (StatementKind::Uptime, 1, "uptime"),
            (StatementKind::Bandwidth, 2, "bandwidth"),
            (StatementKind::Coverage, 3, "coverage"),
        ] {
            assert_eq!(k.code(), code);
            assert_eq!(k.as_str(), name);
            assert_eq!(StatementKind::try_from(code), Ok(k));
        }
        for k in StatementKind::ALL {
            assert_eq!(StatementKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(StatementKind::from_name("Uptime"), None);
        assert_eq!(StatementKind::try_from(0), Err(UnknownKind(0)));
        assert_eq!(StatementKind::try_from(4), Err(UnknownKind(4)));
    }

    #[test]
    fn nullifier_separates_device_epoch_and_kind() {
        let d = Fr::from(5u64);
        let n = nullifier(d, 1, StatementKind::Uptime);
        assert_ne!(n, nullifier(d, 2, StatementKind::Uptime));
        assert_ne!(n, nullifier(d, 1, StatementKind::Bandwidth));
        assert_ne!(n, nullifier(d + Fr::from(1u64), 1, StatementKind::Uptime));
        assert_eq!(n, nullifier(d, 1, StatementKind::Uptime));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn field_order_is_the_documented_one() {
        let mut p = PublicInputs::common(
            StatementKind::Coverage,
            7,
            Fr::from(11u64),
            Fr::from(13u64),
            Fr::from(17u64),
            19,
        );
        p.cell = Some(23);
        let f = p.to_field_elements();
        assert_eq!(f.len(), StatementKind::Coverage.public_input_count());
        let header = Fr::from(3u64)
            + Fr::from(u64::from(STATEMENT_VERSION)) * Fr::from(1u64 << 8)
            + Fr::from(7u64) * Fr::from(1u64 << 40)
            + Fr::from(19u64) * Fr::from(1u128 << 72);
        assert_eq!(
            f,
            [
                header,
                Fr::from(11u64),
                Fr::from(13u64),
                Fr::from(17u64),
                nullifier(Fr::from(11u64), 7, StatementKind::Coverage),
                Fr::from(23u64),
            ]
        );
        assert_eq!(
            Header::unpack(&f[0]),
            Some(Header {
                kind: 3,
                version: STATEMENT_VERSION,
                epoch: 7,
                reward: 19
            })
        );
        let max = PublicInputs::common(
            StatementKind::Uptime,
            u32::MAX,
            Fr::from(1u64),
            Fr::from(1u64),
            Fr::from(1u64),
            u64::MAX,
        );
        let h = Header::unpack(&max.header()).expect("136 bits");
        assert_eq!((h.epoch, h.reward), (u32::MAX, u64::MAX));
        assert_eq!(Header::unpack(&(max.header() * Fr::from(256u64))), None);
    }
}
