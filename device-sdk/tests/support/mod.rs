//! Shared by the tests that start the real prover service in this process:
//! an ingest-only configuration and an epoch to publish.
#![allow(dead_code, missing_docs)]

use std::path::Path;

use depin_crypto::geo::k_q32_for_mhz;
use depin_device_sdk::client::pb;
use depin_prover::service::Config;

/// An ingest-only service in `data` on a free loopback port: no statement
/// is proven and no keys are made; operator RPCs take `token`.
pub fn ingest_config(data: &Path, token: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        metrics_listen: String::new(),
        data_dir: data.to_path_buf(),
        keys_dir: Some(data.join("keys")),
        dev_keys: false,
        statements: Vec::new(),
        operator_token: Some(token.into()),
        shutdown_grace_s: 1,
        ..Config::default()
    }
}

/// Publishes `epoch` with `beacon` and the policies these tests assume.
pub fn publish_request(epoch: u32, beacon: u64) -> pb::PublishEpochRequest {
    pb::PublishEpochRequest {
        epoch,
        beacon: beacon.to_string(),
        uptime: Some(pb::UptimePolicy {
            slots_per_epoch: 96,
            floor_slots: 4,
            max_latency_ms: 200,
            base_reward: 100,
            reward_per_slot: 5,
            reward_cap: 100_000,
        }),
        bandwidth: Some(pb::BandwidthPolicy {
            max_bytes_per_s: 1 << 20,
            rate_num: 3,
            rate_shift: 20,
            reward_cap: 1_000_000,
        }),
        coverage: Some(pb::CoveragePolicy {
            min_witnesses: 2,
            reward_per_witness: 10,
            reward_cap: 1000,
            min_distance_m: 300,
            max_distance_m: 20_000,
            eirp_dbm: 27,
            k_q32: k_q32_for_mhz(915),
            cell_bits: 12,
        }),
    }
}
