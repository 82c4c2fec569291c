//! Per-statement policies: the thresholds, rates, caps and bounds a network
//! publishes.
//!
//! A policy is a private circuit input; its Poseidon hash is a public input,
//! so a network changes policy by registering a new hash with the contract,
//! without a new trusted setup. The hash is
//! `Poseidon(KIND_TAG, STATEMENT_VERSION, field_1, ..., field_n)` over the
//! fields in declaration order, each encoded as a field element by value
//! (signed `eirp_dbm` modulo `p`).
//!
//! Every field is a bounded integer; the width each circuit range-checks is
//! documented on the field. [`validate`](UptimePolicy::validate) refuses
//! policies that make no sense (a floor above the slots, a zero cap, ...);
//! the references refuse to evaluate under an invalid policy.

use crate::public::STATEMENT_VERSION;
use crate::{tags, COVERAGE_CAPACITY, UPTIME_CAPACITY};
use depin_crypto::poseidon::hash_n;
use depin_crypto::Fr;

/// Why a policy is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `slots_per_epoch` is zero.
    #[error("an epoch must have at least one slot")]
    ZeroSlots,
    /// `slots_per_epoch` exceeds the uptime capacity.
    #[error("{slots} slots per epoch exceed the uptime capacity of {capacity}")]
    SlotsAboveCapacity {
        /// Policy value.
        slots: u32,
        /// Statement capacity.
        capacity: u32,
    },
    /// `floor_slots` is zero (an epoch without heartbeats would be paid).
    #[error("the floor of counted slots must be at least 1")]
    ZeroFloor,
    /// `floor_slots` exceeds `slots_per_epoch` (nothing could ever be paid).
    #[error("floor of {floor} counted slots is above the {slots} slots of an epoch")]
    FloorAboveSlots {
        /// Policy floor.
        floor: u32,
        /// Slots per epoch.
        slots: u32,
    },
    /// `max_latency_ms` is zero (no heartbeat could count).
    #[error("the latency bound must be at least 1 ms")]
    ZeroLatencyBound,
    /// The reward at the floor exceeds the cap.
    #[error("base reward {base} is above the cap {cap}")]
    BaseAboveCap {
        /// Reward at the floor.
        base: u64,
        /// Cap.
        cap: u64,
    },
    /// `reward_cap` is zero (nothing could ever be paid).
    #[error("the reward cap must be at least 1")]
    ZeroCap,
    /// Every rate is zero (nothing could ever be paid).
    #[error("the policy pays nothing: every rate is zero")]
    ZeroRate,
    /// `max_bytes_per_s` is zero (no receipt with bytes could count).
    #[error("the throughput bound must be at least 1 byte per second")]
    ZeroThroughputBound,
    /// `rate_shift` is above [`BandwidthPolicy::MAX_RATE_SHIFT`].
    #[error("rate shift {shift} is above {max}")]
    RateShiftTooLarge {
        /// Policy value.
        shift: u32,
        /// Largest allowed.
        max: u32,
    },
    /// `min_witnesses` is zero (an epoch without witnesses would be paid).
    #[error("the minimum witness count must be at least 1")]
    ZeroMinWitnesses,
    /// `min_witnesses` exceeds the coverage capacity.
    #[error("minimum of {min} witnesses exceeds the coverage capacity of {capacity}")]
    MinWitnessesAboveCapacity {
        /// Policy value.
        min: u32,
        /// Statement capacity.
        capacity: u32,
    },
    /// A distance bound is not below `2^31` metres.
    #[error("distance bound {metres} m is not below 2^31")]
    DistanceOutOfRange {
        /// Policy value.
        metres: u32,
    },
    /// `min_distance_m` is not below `max_distance_m` (no witness could count).
    #[error("minimum distance {min} m is not below maximum distance {max} m")]
    MinDistanceNotBelowMax {
        /// Minimum.
        min: u32,
        /// Maximum.
        max: u32,
    },
    /// `eirp_dbm` is outside [`CoveragePolicy::EIRP_RANGE_DBM`].
    #[error("EIRP {eirp_dbm} dBm is outside -100..=100")]
    EirpOutOfRange {
        /// Policy value.
        eirp_dbm: i32,
    },
    /// `k_q32` is zero (every signal would be too strong).
    #[error("the path-loss constant k_q32 must be at least 1")]
    ZeroPathLossConstant,
    /// `cell_bits` is outside [`CoveragePolicy::CELL_BITS_RANGE`].
    #[error("cell size of 2^{bits} m is outside 2^8..=2^31")]
    CellBitsOutOfRange {
        /// Policy value.
        bits: u32,
    },
}

// ---------------------------------------------------------------------------

/// The uptime policy.
///
/// `reward(c) = 0` if `c < floor_slots`, else
/// `min(reward_cap, base_reward + reward_per_slot * (c - floor_slots))`,
/// where `c` is the number of counted slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UptimePolicy {
    /// Slots in an epoch, `1..=96` (7 bits). A counted slot is below this.
    pub slots_per_epoch: u32,
    /// Fewest counted slots that earn anything, `1..=slots_per_epoch`
    /// (7 bits).
    pub floor_slots: u32,
    /// Largest latency that counts, in ms, `>= 1` (32 bits).
    pub max_latency_ms: u32,
    /// Reward at exactly `floor_slots` counted slots (64 bits).
    pub base_reward: u64,
    /// Reward per counted slot above the floor (64 bits).
    pub reward_per_slot: u64,
    /// Largest reward, `>= max(1, base_reward)` (64 bits).
    pub reward_cap: u64,
}

impl UptimePolicy {
    /// Refuses nonsense policies.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.slots_per_epoch == 0 {
            return Err(PolicyError::ZeroSlots);
        }
        if self.slots_per_epoch as usize > UPTIME_CAPACITY {
            return Err(PolicyError::SlotsAboveCapacity {
                slots: self.slots_per_epoch,
                capacity: UPTIME_CAPACITY as u32,
            });
        }
        if self.floor_slots == 0 {
            return Err(PolicyError::ZeroFloor);
        }
        if self.floor_slots > self.slots_per_epoch {
            return Err(PolicyError::FloorAboveSlots {
                floor: self.floor_slots,
                slots: self.slots_per_epoch,
            });
        }
        if self.max_latency_ms == 0 {
            return Err(PolicyError::ZeroLatencyBound);
        }
        if self.reward_cap == 0 {
            return Err(PolicyError::ZeroCap);
        }
        if self.base_reward > self.reward_cap {
            return Err(PolicyError::BaseAboveCap {
                base: self.base_reward,
                cap: self.reward_cap,
            });
        }
        if self.base_reward == 0 && self.reward_per_slot == 0 {
            return Err(PolicyError::ZeroRate);
        }
        Ok(())
    }

    /// `Poseidon(UPTIME_POLICY, version, slots_per_epoch, floor_slots,
    /// max_latency_ms, base_reward, reward_per_slot, reward_cap)`.
    pub fn hash(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::UPTIME_POLICY),
            Fr::from(STATEMENT_VERSION),
            Fr::from(self.slots_per_epoch),
            Fr::from(self.floor_slots),
            Fr::from(self.max_latency_ms),
            Fr::from(self.base_reward),
            Fr::from(self.reward_per_slot),
            Fr::from(self.reward_cap),
        ])
    }

    /// The reward for `counted` counted slots.
    pub fn reward(&self, counted: u32) -> u64 {
        if counted < self.floor_slots {
            return 0;
        }
        let above = u128::from(counted - self.floor_slots);
        let linear = u128::from(self.base_reward) + u128::from(self.reward_per_slot) * above;
        cap(linear, self.reward_cap)
    }
}

/// The bandwidth policy.
///
/// A receipt is plausible when `bytes <= duration_s * max_bytes_per_s`;
/// `reward = min(reward_cap, floor(total_bytes * rate_num / 2^rate_shift))`
/// over the accepted receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BandwidthPolicy {
    /// Largest plausible throughput of one session in bytes per second,
    /// `>= 1` (32 bits).
    pub max_bytes_per_s: u32,
    /// Rate numerator: reward units per `2^rate_shift` bytes, `>= 1`
    /// (32 bits).
    pub rate_num: u32,
    /// Rate denominator exponent, `0..=64` (7 bits).
    pub rate_shift: u32,
    /// Largest reward, `>= 1` (64 bits).
    pub reward_cap: u64,
}

impl BandwidthPolicy {
    /// Largest `rate_shift`.
    pub const MAX_RATE_SHIFT: u32 = 64;

    /// Refuses nonsense policies.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.max_bytes_per_s == 0 {
            return Err(PolicyError::ZeroThroughputBound);
        }
        if self.rate_num == 0 {
            return Err(PolicyError::ZeroRate);
        }
        if self.rate_shift > Self::MAX_RATE_SHIFT {
            return Err(PolicyError::RateShiftTooLarge {
                shift: self.rate_shift,
                max: Self::MAX_RATE_SHIFT,
            });
        }
        if self.reward_cap == 0 {
            return Err(PolicyError::ZeroCap);
        }
        Ok(())
    }

    /// `Poseidon(BANDWIDTH_POLICY, version, max_bytes_per_s, rate_num,
    /// rate_shift, reward_cap)`.
    pub fn hash(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::BANDWIDTH_POLICY),
            Fr::from(STATEMENT_VERSION),
            Fr::from(self.max_bytes_per_s),
            Fr::from(self.rate_num),
            Fr::from(self.rate_shift),
            Fr::from(self.reward_cap),
        ])
    }

    /// Whether `bytes` in `duration_s` seconds is within the throughput
    /// bound: `bytes <= duration_s * max_bytes_per_s` (exact, 64 bits).
    pub fn throughput_plausible(&self, bytes: u64, duration_s: u32) -> bool {
        u128::from(bytes) <= u128::from(duration_s) * u128::from(self.max_bytes_per_s)
    }

    /// The reward for `total_bytes` accepted bytes (below `2^69` for 32
    /// receipts of 64 bits; larger values saturate and hit the cap).
    pub fn reward(&self, total_bytes: u128) -> u64 {
        let scaled = total_bytes.saturating_mul(u128::from(self.rate_num));
        let shifted = scaled.checked_shr(self.rate_shift).unwrap_or(0);
        cap(shifted, self.reward_cap)
    }
}

/// The coverage policy.
///
/// A witness counts when it is farther than `min_distance_m` and closer
/// than `max_distance_m` and its signal passes the free-space path-loss
/// bound for `eirp_dbm` and `k_q32`. `reward(v) = 0` if
/// `v < min_witnesses`, else `min(reward_cap, reward_per_witness * v)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoveragePolicy {
    /// Fewest valid witnesses that earn anything, `1..=16` (5 bits).
    pub min_witnesses: u32,
    /// Reward per valid witness, `>= 1` (64 bits).
    pub reward_per_witness: u64,
    /// Largest reward, `>= 1` (64 bits).
    pub reward_cap: u64,
    /// A witness must be strictly farther than this, in metres
    /// (`< 2^31`, 31 bits).
    pub min_distance_m: u32,
    /// A witness must be strictly closer than this, in metres
    /// (`min_distance_m < max_distance_m < 2^31`, 31 bits).
    pub max_distance_m: u32,
    /// The device's transmit power (EIRP) in dBm, `-100..=100` (signed;
    /// in the field modulo `p`).
    pub eirp_dbm: i32,
    /// `(c / (4 pi f))^2` in Q32 for the band, `>= 1` (32 bits); see
    /// `depin_crypto::geo::k_q32_for_mhz`.
    pub k_q32: u32,
    /// The public cell is `(x >> cell_bits, y >> cell_bits)`, `8..=31`
    /// (5 bits): cells are at least 256 m wide.
    pub cell_bits: u32,
}

impl CoveragePolicy {
    /// Allowed EIRP values in dBm.
    pub const EIRP_RANGE_DBM: core::ops::RangeInclusive<i32> = -100..=100;
    /// Allowed `cell_bits` values.
    pub const CELL_BITS_RANGE: core::ops::RangeInclusive<u32> = 8..=31;

    /// Refuses nonsense policies.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.min_witnesses == 0 {
            return Err(PolicyError::ZeroMinWitnesses);
        }
        if self.min_witnesses as usize > COVERAGE_CAPACITY {
            return Err(PolicyError::MinWitnessesAboveCapacity {
                min: self.min_witnesses,
                capacity: COVERAGE_CAPACITY as u32,
            });
        }
        if self.reward_per_witness == 0 {
            return Err(PolicyError::ZeroRate);
        }
        if self.reward_cap == 0 {
            return Err(PolicyError::ZeroCap);
        }
        for metres in [self.min_distance_m, self.max_distance_m] {
            if metres >= 1 << 31 {
                return Err(PolicyError::DistanceOutOfRange { metres });
            }
        }
        if self.min_distance_m >= self.max_distance_m {
            return Err(PolicyError::MinDistanceNotBelowMax {
                min: self.min_distance_m,
                max: self.max_distance_m,
            });
        }
        if !Self::EIRP_RANGE_DBM.contains(&self.eirp_dbm) {
            return Err(PolicyError::EirpOutOfRange {
                eirp_dbm: self.eirp_dbm,
            });
        }
        if self.k_q32 == 0 {
            return Err(PolicyError::ZeroPathLossConstant);
        }
        if !Self::CELL_BITS_RANGE.contains(&self.cell_bits) {
            return Err(PolicyError::CellBitsOutOfRange {
                bits: self.cell_bits,
            });
        }
        Ok(())
    }

    /// `Poseidon(COVERAGE_POLICY, version, min_witnesses, reward_per_witness,
    /// reward_cap, min_distance_m, max_distance_m, eirp_dbm, k_q32,
    /// cell_bits)`.
    pub fn hash(&self) -> Fr {
        hash_n(&[
            tags::fr(tags::COVERAGE_POLICY),
            Fr::from(STATEMENT_VERSION),
            Fr::from(self.min_witnesses),
            Fr::from(self.reward_per_witness),
            Fr::from(self.reward_cap),
            Fr::from(self.min_distance_m),
            Fr::from(self.max_distance_m),
            Fr::from(self.eirp_dbm),
            Fr::from(self.k_q32),
            Fr::from(self.cell_bits),
        ])
    }

    /// The reward for `valid` valid witnesses.
    pub fn reward(&self, valid: u32) -> u64 {
        if valid < self.min_witnesses {
            return 0;
        }
        cap(
            u128::from(self.reward_per_witness) * u128::from(valid),
            self.reward_cap,
        )
    }

    /// `min_distance_m^2` (below `2^62`).
    pub fn min_distance_sq(&self) -> u64 {
        u64::from(self.min_distance_m) * u64::from(self.min_distance_m)
    }

    /// `max_distance_m^2` (below `2^62`).
    pub fn max_distance_sq(&self) -> u64 {
        u64::from(self.max_distance_m) * u64::from(self.max_distance_m)
    }
}

/// `min(value, cap)` as a `u64`.
fn cap(value: u128, cap: u64) -> u64 {
    match u64::try_from(value) {
        Ok(v) if v <= cap => v,
        _ => cap,
    }
}

#[cfg(test)]
mod tests;
