use super::*;
use crate::testutil::{bandwidth_policy, coverage_policy, uptime_policy};

#[test]
fn test_policies_are_valid() {
    assert_eq!(uptime_policy().validate(), Ok(()));
    assert_eq!(bandwidth_policy().validate(), Ok(()));
    assert_eq!(coverage_policy().validate(), Ok(()));
}

#[test]
fn uptime_policy_refuses_nonsense() {
    let p = uptime_policy();
    let cases = [
        (
            UptimePolicy {
                slots_per_epoch: 0,
                ..p
            },
            PolicyError::ZeroSlots,
        ),
        (
            UptimePolicy {
                slots_per_epoch: 97,
                ..p
            },
            PolicyError::SlotsAboveCapacity {
                slots: 97,
                capacity: 96,
            },
        ),
        (
            UptimePolicy {
                floor_slots: 0,
                ..p
            },
            PolicyError::ZeroFloor,
        ),
        (
            UptimePolicy {
                floor_slots: 97,
                slots_per_epoch: 96,
                ..p
            },
            PolicyError::FloorAboveSlots {
                floor: 97,
                slots: 96,
            },
        ),
        (
            UptimePolicy {
                max_latency_ms: 0,
                ..p
            },
            PolicyError::ZeroLatencyBound,
        ),
        (UptimePolicy { reward_cap: 0, ..p }, PolicyError::ZeroCap),
        (
            UptimePolicy {
                base_reward: 10,
                reward_cap: 9,
                ..p
            },
            PolicyError::BaseAboveCap { base: 10, cap: 9 },
        ),
        (
            UptimePolicy {
                base_reward: 0,
                reward_per_slot: 0,
                ..p
            },
            PolicyError::ZeroRate,
        ),
    ];
    for (policy, err) in cases {
        assert_eq!(policy.validate(), Err(err));
    }
}

#[test]
fn bandwidth_policy_refuses_nonsense() {
    let p = bandwidth_policy();
    let cases = [
        (
            BandwidthPolicy {
                max_bytes_per_s: 0,
                ..p
            },
            PolicyError::ZeroThroughputBound,
        ),
        (BandwidthPolicy { rate_num: 0, ..p }, PolicyError::ZeroRate),
        (
            BandwidthPolicy {
                rate_shift: 65,
                ..p
            },
            PolicyError::RateShiftTooLarge { shift: 65, max: 64 },
        ),
        (BandwidthPolicy { reward_cap: 0, ..p }, PolicyError::ZeroCap),
    ];
    for (policy, err) in cases {
        assert_eq!(policy.validate(), Err(err));
    }
}

#[test]
fn coverage_policy_refuses_nonsense() {
    let p = coverage_policy();
    let cases = [
        (
            CoveragePolicy {
                min_witnesses: 0,
                ..p
            },
            PolicyError::ZeroMinWitnesses,
        ),
        (
            CoveragePolicy {
                min_witnesses: 17,
                ..p
            },
            PolicyError::MinWitnessesAboveCapacity {
                min: 17,
                capacity: 16,
            },
        ),
        (
            CoveragePolicy {
                reward_per_witness: 0,
                ..p
            },
            PolicyError::ZeroRate,
        ),
        (CoveragePolicy { reward_cap: 0, ..p }, PolicyError::ZeroCap),
        (
            CoveragePolicy {
                max_distance_m: 1 << 31,
                ..p
            },
            PolicyError::DistanceOutOfRange { metres: 1 << 31 },
        ),
        (
            CoveragePolicy {
                min_distance_m: 500,
                max_distance_m: 500,
                ..p
            },
            PolicyError::MinDistanceNotBelowMax { min: 500, max: 500 },
        ),
        (
            CoveragePolicy { eirp_dbm: 101, ..p },
            PolicyError::EirpOutOfRange { eirp_dbm: 101 },
        ),
        (
            CoveragePolicy { k_q32: 0, ..p },
            PolicyError::ZeroPathLossConstant,
        ),
        (
            CoveragePolicy { cell_bits: 7, ..p },
            PolicyError::CellBitsOutOfRange { bits: 7 },
        ),
        (
            CoveragePolicy { cell_bits: 32, ..p },
            PolicyError::CellBitsOutOfRange { bits: 32 },
        ),
    ];
    for (policy, err) in cases {
        assert_eq!(policy.validate(), Err(err));
    }
}

#[test]
fn every_field_enters_the_policy_hash() {
    let u = uptime_policy();
    let h = u.hash();
    for v in [
        UptimePolicy {
            slots_per_epoch: u.slots_per_epoch + 1,
            ..u
        },
        UptimePolicy {
            floor_slots: u.floor_slots + 1,
            ..u
        },
        UptimePolicy {
            max_latency_ms: u.max_latency_ms + 1,
            ..u
        },
        UptimePolicy {
            base_reward: u.base_reward + 1,
            ..u
        },
        UptimePolicy {
            reward_per_slot: u.reward_per_slot + 1,
            ..u
        },
        UptimePolicy {
            reward_cap: u.reward_cap + 1,
            ..u
        },
    ] {
        assert_ne!(v.hash(), h);
    }
    let b = bandwidth_policy();
    let h = b.hash();
    for v in [
        BandwidthPolicy {
            max_bytes_per_s: b.max_bytes_per_s + 1,
            ..b
        },
        BandwidthPolicy {
            rate_num: b.rate_num + 1,
            ..b
        },
        BandwidthPolicy {
            rate_shift: b.rate_shift + 1,
            ..b
        },
        BandwidthPolicy {
            reward_cap: b.reward_cap + 1,
            ..b
        },
    ] {
        assert_ne!(v.hash(), h);
    }
    let c = coverage_policy();
    let h = c.hash();
    for v in [
        CoveragePolicy {
            min_witnesses: c.min_witnesses + 1,
            ..c
        },
        CoveragePolicy {
            reward_per_witness: c.reward_per_witness + 1,
            ..c
        },
        CoveragePolicy {
            reward_cap: c.reward_cap + 1,
            ..c
        },
        CoveragePolicy {
            min_distance_m: c.min_distance_m + 1,
            ..c
        },
        CoveragePolicy {
            max_distance_m: c.max_distance_m + 1,
            ..c
        },
        CoveragePolicy {
            eirp_dbm: c.eirp_dbm + 1,
            ..c
        },
        CoveragePolicy {
            k_q32: c.k_q32 + 1,
            ..c
        },
        CoveragePolicy {
            cell_bits: c.cell_bits + 1,
            ..c
        },
    ] {
        assert_ne!(v.hash(), h);
    }
    // Kinds never share a hash, even on equal numbers.
    assert_ne!(u.hash(), b.hash());
    assert_ne!(b.hash(), c.hash());
}

#[test]
fn uptime_reward_is_zero_below_floor_linear_then_capped() {
    let p = UptimePolicy {
        slots_per_epoch: 96,
        floor_slots: 10,
        max_latency_ms: 100,
        base_reward: 100,
        reward_per_slot: 5,
        reward_cap: 400,
    };
    assert_eq!(p.reward(0), 0);
    assert_eq!(p.reward(9), 0);
    assert_eq!(p.reward(10), 100);
    assert_eq!(p.reward(11), 105);
    assert_eq!(p.reward(70), 400);
    assert_eq!(p.reward(96), 400);
    let huge = UptimePolicy {
        reward_per_slot: u64::MAX,
        reward_cap: u64::MAX,
        ..p
    };
    assert_eq!(huge.reward(96), u64::MAX);
}

#[test]
fn bandwidth_reward_is_rate_times_bytes_floored_and_capped() {
    let p = BandwidthPolicy {
        max_bytes_per_s: 1000,
        rate_num: 3,
        rate_shift: 10,
        reward_cap: 1_000,
    };
    assert_eq!(p.reward(0), 0);
    assert_eq!(p.reward(341), 0); // 1023 >> 10
    assert_eq!(p.reward(342), 1); // 1026 >> 10
    assert_eq!(p.reward(1 << 20), 1_000);
    assert_eq!(p.reward(u128::MAX), 1_000);
    let shift64 = BandwidthPolicy {
        rate_shift: 64,
        reward_cap: u64::MAX,
        ..p
    };
    assert_eq!(shift64.reward(1 << 64), 3);
    assert!(p.throughput_plausible(10_000, 10));
    assert!(!p.throughput_plausible(10_001, 10));
    assert!(p.throughput_plausible(0, 0));
    assert!(!p.throughput_plausible(1, 0));
}

#[test]
fn coverage_reward_is_zero_below_min_then_per_witness_capped() {
    let p = CoveragePolicy {
        min_witnesses: 3,
        reward_per_witness: 10,
        reward_cap: 45,
        ..coverage_policy()
    };
    assert_eq!(p.reward(0), 0);
    assert_eq!(p.reward(2), 0);
    assert_eq!(p.reward(3), 30);
    assert_eq!(p.reward(4), 40);
    assert_eq!(p.reward(5), 45);
    assert_eq!(p.reward(16), 45);
}
