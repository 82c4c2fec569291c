//! Why a record was not counted, as stable codes shared with the gRPC
//! service.
//!
//! The discriminants are part of the wire format: a code is never
//! renumbered or reused, new reasons take the next free number, and `0` is
//! left unused so that it can be protobuf's `UNSPECIFIED`.
//!
//! A circuit computes one bit per record (counted or not); the reason is a
//! diagnostic of the native reference. When a record breaks several rules,
//! the reason is the first broken rule in the order each statement documents.

/// Why a record was excluded. `#[repr(u8)]` with explicit, frozen codes.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// A signature does not verify (the record's own, or the one covering
    /// the whole epoch, in which case every record gets this reason).
    BadSignature = 1,
    /// The records do not hash-chain to the head the device signed.
    ChainBroken = 2,
    /// The record (or claim) names another device.
    WrongDevice = 3,
    /// The record lies outside the epoch (wrong epoch, or a slot past the
    /// epoch's last slot).
    OutOfEpoch = 4,
    /// The record repeats an accepted one (same slot, session or witness).
    Duplicate = 5,
    /// The slot is below the last counted slot.
    NotIncreasing = 6,
    /// The heartbeat's response is not the slot's challenge.
    WrongChallenge = 7,
    /// The heartbeat's latency exceeds the policy bound.
    LatencyTooHigh = 8,
    /// More bytes than the duration allows at the policy's maximum rate.
    ImplausibleThroughput = 9,
    /// The client is not in the network's client registry.
    ClientNotRegistered = 10,
    /// The record names a different key than the one that signed it.
    KeyMismatch = 11,
    /// The client co-signing a receipt is the device itself.
    SelfDealing = 12,
    /// The witness is the device itself.
    SelfWitness = 13,
    /// The witness is not farther than the policy's minimum distance.
    TooClose = 14,
    /// The witness is not closer than the policy's maximum distance.
    TooFar = 15,
    /// The reported signal is stronger than free-space path loss allows.
    SignalTooStrong = 16,
    /// The reported loss is beyond any receiver's sensitivity.
    SignalTooWeak = 17,
    /// The beacon id is not this device's beacon for this epoch.
    WrongBeacon = 18,
    /// A coordinate is not below `2^31` metres.
    LocationOutOfRange = 19,
    /// The record does not fit the statement's capacity (used by the service
    /// at ingest; the references refuse such inputs with a typed error).
    CapacityExceeded = 20,
    /// The reported RSSI is outside the path-loss rule's domain
    /// (`-2^15..2^15` dBm).
    RssiOutOfRange = 21,
}

/// A code that names no [`RejectReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown reject reason code {0}")]
pub struct UnknownReason(pub u8);

impl RejectReason {
    /// Every reason, in code order.
    pub const ALL: [RejectReason; 21] = [
        RejectReason::BadSignature,
        RejectReason::ChainBroken,
        RejectReason::WrongDevice,
        RejectReason::OutOfEpoch,
        RejectReason::Duplicate,
        RejectReason::NotIncreasing,
        RejectReason::WrongChallenge,
        RejectReason::LatencyTooHigh,
        RejectReason::ImplausibleThroughput,
        RejectReason::ClientNotRegistered,
        RejectReason::KeyMismatch,
        RejectReason::SelfDealing,
        RejectReason::SelfWitness,
        RejectReason::TooClose,
        RejectReason::TooFar,
        RejectReason::SignalTooStrong,
        RejectReason::SignalTooWeak,
        RejectReason::WrongBeacon,
        RejectReason::LocationOutOfRange,
        RejectReason::CapacityExceeded,
        RejectReason::RssiOutOfRange,
    ];

    /// The stable wire code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// A stable snake_case name (logs, JSON, metrics labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::BadSignature => "bad_signature",
            RejectReason::ChainBroken => "chain_broken",
            RejectReason::WrongDevice => "wrong_device",
            RejectReason::OutOfEpoch => "out_of_epoch",
            RejectReason::Duplicate => "duplicate",
            RejectReason::NotIncreasing => "not_increasing",
            RejectReason::WrongChallenge => "wrong_challenge",
            RejectReason::LatencyTooHigh => "latency_too_high",
            RejectReason::ImplausibleThroughput => "implausible_throughput",
            RejectReason::ClientNotRegistered => "client_not_registered",
            RejectReason::KeyMismatch => "key_mismatch",
            RejectReason::SelfDealing => "self_dealing",
            RejectReason::SelfWitness => "self_witness",
            RejectReason::TooClose => "too_close",
            RejectReason::TooFar => "too_far",
            RejectReason::SignalTooStrong => "signal_too_strong",
            RejectReason::SignalTooWeak => "signal_too_weak",
            RejectReason::WrongBeacon => "wrong_beacon",
            RejectReason::LocationOutOfRange => "location_out_of_range",
            RejectReason::CapacityExceeded => "capacity_exceeded",
            RejectReason::RssiOutOfRange => "rssi_out_of_range",
        }
    }
}

impl TryFrom<u8> for RejectReason {
    type Error = UnknownReason;

    fn try_from(code: u8) -> Result<Self, UnknownReason> {
        // Codes are dense from 1, so the table is indexed by `code - 1`.
        usize::from(code)
            .checked_sub(1)
            .and_then(|i| Self::ALL.get(i).copied())
            .ok_or(UnknownReason(code))
    }
}

impl From<RejectReason> for u8 {
    fn from(r: RejectReason) -> u8 {
        r.code()
    }
}

impl core::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The record counts towards the reward.
    Accepted,
    /// The record is excluded, for this reason.
    Rejected(RejectReason),
}

impl Verdict {
    /// Whether the record counts.
    pub const fn is_accepted(self) -> bool {
        matches!(self, Verdict::Accepted)
    }

    /// The reason, if rejected.
    pub const fn reason(self) -> Option<RejectReason> {
        match self {
            Verdict::Accepted => None,
            Verdict::Rejected(r) => Some(r),
        }
    }
}

impl From<Option<RejectReason>> for Verdict {
    fn from(r: Option<RejectReason>) -> Self {
        match r {
            None => Verdict::Accepted,
            Some(r) => Verdict::Rejected(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_frozen() {
        // The wire format: never change a line of this table.
        let frozen: [(u8, &str); 21] = [
            (1, "bad_signature"),
            (2, "chain_broken"),
            (3, "wrong_device"),
            (4, "out_of_epoch"),
            (5, "duplicate"),
            (6, "not_increasing"),
            (7, "wrong_challenge"),
            (8, "latency_too_high"),
            (9, "implausible_throughput"),
            (10, "client_not_registered"),
            (11, "key_mismatch"),
            (12, "self_dealing"),
            (13, "self_witness"),
            (14, "too_close"),
            (15, "too_far"),
            (16, "signal_too_strong"),
            (17, "signal_too_weak"),
            (18, "wrong_beacon"),
            (19, "location_out_of_range"),
            (20, "capacity_exceeded"),
            (21, "rssi_out_of_range"),
        ];
        for (r, (code, name)) in RejectReason::ALL.iter().zip(frozen) {
            assert_eq!(r.code(), code);
            assert_eq!(r.as_str(), name);
            assert_eq!(RejectReason::try_from(code), Ok(*r));
            assert_eq!(u8::from(*r), code);
        }
    }

    #[test]
    fn unknown_codes_are_typed_errors() {
        assert_eq!(RejectReason::try_from(0), Err(UnknownReason(0)));
        assert_eq!(RejectReason::try_from(22), Err(UnknownReason(22)));
        assert_eq!(RejectReason::try_from(255), Err(UnknownReason(255)));
    }

    #[test]
    fn verdict_helpers() {
        assert!(Verdict::Accepted.is_accepted());
        assert_eq!(Verdict::Accepted.reason(), None);
        let v = Verdict::Rejected(RejectReason::TooFar);
        assert!(!v.is_accepted());
        assert_eq!(v.reason(), Some(RejectReason::TooFar));
        assert_eq!(Verdict::from(None), Verdict::Accepted);
    }
}
