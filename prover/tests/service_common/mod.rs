//! Shared by the `service_*` integration tests: a server on loopback with
//! cached development keys, clients, and signed test records.
#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_serialize::CanonicalDeserialize;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::field::fr_from_decimal;
use depin_crypto::geo::k_q32_for_mhz;
use depin_device_sdk::client::{pb, ClientConfig, OperatorClient, ProverClient};
use depin_prover::keys::{dev_setup, KeyDir};
use depin_prover::service::Config;
use depin_statements::{Fr, StatementKind};
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;

pub const TOKEN: &str = "test-operator-token-0123456789";
pub const SEED: u64 = 7;
pub const EPOCH: u32 = 100;
pub const BEACON: u64 = 987_654_321_123;

/// Development keys shared by every test binary (made once, cached under
/// the target directory; each statement's directory appears atomically).
pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "depin-service-keys-{SEED}-v{}",
        depin_prover::keys::PROVING_KEY_FORMAT_VERSION
    ))
}

/// Makes the keys of `kind` if they are not cached yet.
pub fn ensure_keys(kind: StatementKind) {
    let dir = keys_dir().join(kind.as_str());
    if KeyDir::new(&dir).proving_key().exists() {
        return;
    }
    let keys = match kind {
        StatementKind::Uptime => dev_setup(UptimeCircuit::sample(), SEED),
        StatementKind::Bandwidth => dev_setup(BandwidthCircuit::sample(), SEED),
        StatementKind::Coverage => dev_setup(CoverageCircuit::sample().unwrap(), SEED),
    }
    .unwrap();
    keys.publish_dir(&dir).unwrap();
}

/// A configuration for a test server in `data`.
pub fn config(data: &Path, statements: &[&str]) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: "127.0.0.1:0".into(),
        data_dir: data.to_path_buf(),
        keys_dir: Some(keys_dir()),
        dev_keys: true,
        dev_seed: SEED,
        statements: statements.iter().map(|s| s.to_string()).collect(),
        operator_token: Some(TOKEN.into()),
        shutdown_grace_s: 5,
        ..Config::default()
    }
}

pub fn client_config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(30),
        retries: 0,
        ..ClientConfig::default()
    }
}

pub async fn clients(addr: std::net::SocketAddr) -> (ProverClient, OperatorClient) {
    let url = format!("http://{addr}");
    let p = ProverClient::connect(&url, client_config()).await.unwrap();
    let o = OperatorClient::connect(&url, TOKEN, client_config())
        .await
        .unwrap();
    (p, o)
}

pub fn device(i: u8) -> PrivateKey {
    PrivateKey::from_bytes([i; 32])
}

pub fn beacon() -> Fr {
    Fr::from(BEACON)
}

pub fn publish_request(epoch: u32) -> pb::PublishEpochRequest {
    pb::PublishEpochRequest {
        epoch,
        beacon: BEACON.to_string(),
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

/// Verifies a `GetProof` answer against a `GetVerifyingKey` answer with
/// arkworks.
pub fn proof_verifies(vk: &pb::GetVerifyingKeyResponse, proof: &pb::GetProofResponse) -> bool {
    let vk =
        ark_groth16::VerifyingKey::<Bn254>::deserialize_compressed(vk.binary.as_slice()).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    let p =
        ark_groth16::Proof::<Bn254>::deserialize_compressed(proof.proof_bytes.as_slice()).unwrap();
    let public: Vec<Fr> = proof
        .public_inputs
        .iter()
        .map(|s| fr_from_decimal(s).unwrap())
        .collect();
    Groth16::<Bn254>::verify_proof(&pvk, &p, &public).unwrap()
}

pub fn status_of<T: std::fmt::Debug>(
    r: Result<T, depin_device_sdk::client::ClientError>,
) -> tonic::Status {
    match r {
        Err(depin_device_sdk::client::ClientError::Status(s)) => s,
        other => panic!("expected a gRPC error status, got {other:?}"),
    }
}
