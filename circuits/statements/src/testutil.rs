//! Shared test fixtures (the references using some of them need `alloc`).
#![cfg_attr(not(feature = "alloc"), allow(dead_code, unused_imports))]

use crate::policy::{BandwidthPolicy, CoveragePolicy, UptimePolicy};
use depin_crypto::eddsa::PrivateKey;

pub use crate::sample::{SAMPLE_BEACON as BEACON, SAMPLE_EPOCH as EPOCH};

pub fn device_key() -> PrivateKey {
    PrivateKey::from_bytes([7; 32])
}

/// 96 slots, floor 10, latency 200 ms, `100 + 5 * (c - 10)`, cap 100 000.
pub fn uptime_policy() -> UptimePolicy {
    UptimePolicy {
        slots_per_epoch: 96,
        floor_slots: 10,
        max_latency_ms: 200,
        base_reward: 100,
        reward_per_slot: 5,
        reward_cap: 100_000,
    }
}

/// 1 MB/s per session, one unit per KiB, cap 10^9.
pub fn bandwidth_policy() -> BandwidthPolicy {
    BandwidthPolicy {
        max_bytes_per_s: 1_000_000,
        rate_num: 1,
        rate_shift: 10,
        reward_cap: 1_000_000_000,
    }
}

/// 3 witnesses minimum, 10 each, cap 1000, 300 m..20 km, 27 dBm at 915 MHz,
/// 4 km cells.
pub fn coverage_policy() -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: 3,
        reward_per_witness: 10,
        reward_cap: 1000,
        min_distance_m: 300,
        max_distance_m: 20_000,
        eirp_dbm: 27,
        k_q32: depin_crypto::geo::k_q32_for_mhz(915),
        cell_bits: 12,
    }
}
