//! A prover service in this process on loopback, for tests: development
//! keys made once and cached, configurations (proving, or ingest only),
//! clients, the test network's policies, and checks of its answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_serialize::CanonicalDeserialize;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::field::fr_from_decimal;
use depin_crypto::geo::k_q32_for_mhz;
use depin_device_sdk::client::{pb, ClientConfig, OperatorClient, ProverClient};
use depin_groth16::keys::{dev_setup, KeyDir};
use depin_proto::convert::publish_epoch_pb;
use depin_service::Config;
use depin_statements::{BandwidthPolicy, CoveragePolicy, Fr, StatementKind, UptimePolicy};
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;

/// The operator token of test servers.
pub const TOKEN: &str = "test-operator-token-0123456789";
/// The development setup seed of test keys.
pub const SEED: u64 = 7;
/// The epoch tests publish.
pub const EPOCH: u32 = 100;
/// The beacon tests publish.
pub const BEACON: u64 = 987_654_321_123;

/// Development keys shared by every test binary (made once, cached in the
/// build's target directory; each statement's directory appears
/// atomically).
pub fn keys_dir() -> PathBuf {
    target_dir().join(format!(
        "depin-service-keys-{SEED}-v{}",
        depin_proving::file::PROVING_KEY_FORMAT_VERSION
    ))
}

/// Makes the keys of `kind` if they are not cached yet.
pub fn ensure_keys(kind: StatementKind) {
    let dir = keys_dir().join(kind.as_str());
    if KeyDir::new(&dir).proving_key().exists() {
        // Made by a build that did not mark development keys yet.
        if !depin_groth16::keys::is_dev(&dir) {
            depin_groth16::keys::mark_dev(&dir, SEED).unwrap();
        }
        return;
    }
    let keys = match kind {
        StatementKind::Uptime => dev_setup(UptimeCircuit::sample(), SEED),
        StatementKind::Bandwidth => dev_setup(BandwidthCircuit::sample(), SEED),
        StatementKind::Coverage => dev_setup(CoverageCircuit::sample().unwrap(), SEED),
    }
    .unwrap();
    keys.publish_dev_dir(&dir, SEED).unwrap();
}

/// The build's target directory (where test caches live): the
/// `CARGO_TARGET_DIR` of the build, or `target/` at the repository root.
pub fn target_dir() -> PathBuf {
    option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target"))
        .join("depin-testkit")
}

/// A configuration for a test server in `data` proving `statements`.
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

/// Client settings of tests: a 30 s deadline, no retries.
pub fn client_config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(30),
        retries: 0,
        ..ClientConfig::default()
    }
}

/// A prover and an operator client of the server at `addr`.
pub async fn clients(addr: std::net::SocketAddr) -> (ProverClient, OperatorClient) {
    let url = format!("http://{addr}");
    let p = ProverClient::connect(&url, client_config()).await.unwrap();
    let o = OperatorClient::connect(&url, TOKEN, client_config())
        .await
        .unwrap();
    (p, o)
}

/// Test device key `i`.
pub fn device(i: u8) -> PrivateKey {
    PrivateKey::from_bytes([i; 32])
}

/// The beacon tests publish, as a field element.
pub fn beacon() -> Fr {
    Fr::from(BEACON)
}

/// The uptime policy of the test network.
pub fn uptime_policy() -> UptimePolicy {
    UptimePolicy {
        slots_per_epoch: 96,
        floor_slots: 4,
        max_latency_ms: 200,
        base_reward: 100,
        reward_per_slot: 5,
        reward_cap: 100_000,
    }
}

/// The bandwidth policy of the test network.
pub fn bandwidth_policy() -> BandwidthPolicy {
    BandwidthPolicy {
        max_bytes_per_s: 1 << 20,
        rate_num: 3,
        rate_shift: 20,
        reward_cap: 1_000_000,
    }
}

/// The coverage policy of the test network.
pub fn coverage_policy() -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: 2,
        reward_per_witness: 10,
        reward_cap: 1000,
        min_distance_m: 300,
        max_distance_m: 20_000,
        eirp_dbm: 27,
        k_q32: k_q32_for_mhz(915),
        cell_bits: 12,
    }
}

/// Publishes `epoch` with [`BEACON`] and the test network's policies.
pub fn publish_request(epoch: u32) -> pb::PublishEpochRequest {
    publish_request_with_beacon(epoch, BEACON)
}

/// Publishes `epoch` with `beacon` and the test network's policies.
pub fn publish_request_with_beacon(epoch: u32, beacon: u64) -> pb::PublishEpochRequest {
    publish_epoch_pb(
        epoch,
        &Fr::from(beacon),
        &uptime_policy(),
        &bandwidth_policy(),
        &coverage_policy(),
    )
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

/// The gRPC status of a failed call (panics on success or another error).
pub fn status_of<T: std::fmt::Debug>(
    r: Result<T, depin_device_sdk::client::ClientError>,
) -> tonic::Status {
    match r {
        Err(depin_device_sdk::client::ClientError::Status(s)) => s,
        other => panic!("expected a gRPC error status, got {other:?}"),
    }
}
