//! `depin-device submit` against the real prover service (in process): it
//! keeps retrying while the prover is down, delivers every spooled record
//! once it is back, and a resubmission of the same spool (a crash between
//! the answer and the acknowledgement) gets the same answers and stores
//! nothing twice.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use depin_crypto::eddsa::PrivateKey;
use depin_crypto::Fr;
use depin_device_sdk::client::{ClientConfig, OperatorClient};
use depin_device_sdk::keyfile;
use depin_device_sdk::recorder::Recorder;
use depin_device_sdk::records::{beacon_id, Location};
use depin_device_sdk::signer::{ClientSigner, Device};
use depin_device_sdk::spool::SpoolConfig;
use depin_service::{start, Config};
use depin_statements::StatementKind;
use depin_store::ChainKey;
use depin_store::Store;
use depin_store_redb::RedbStore;
use serde_json::Value;

use depin_testkit::service as support;

const BIN: &str = env!("CARGO_BIN_EXE_depin-device");
const TOKEN: &str = "submit-test-operator-token-0123";
const EPOCH: u32 = 5;
const BEACON: u64 = 4_242_424_242;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn submit_cmd(dir: &Path, url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.args(["submit", "--dir"]).arg(dir).args([
        "--prover",
        url,
        "--retry-for-s",
        "60",
        "--batch-size",
        "8",
    ]);
    c
}

/// The summary's verdict counts (what the prover answered).
fn answers(v: &Value) -> Value {
    serde_json::json!({
        "delivered": v["delivered"],
        "accepted": v["accepted"],
        "rejected": v["rejected"],
        "refused": v["refused"],
        "pending": v["pending"],
    })
}

/// 20 heartbeats (one too slow), 3 receipts, a claim and a witness report
/// into the device's spool.
fn record_epoch(dev: &Path, device: &Device, other: &Device, client: &ClientSigner, beacon: Fr) {
    let mut rec = Recorder::open(
        dev.join("state"),
        device.clone(),
        SpoolConfig::with_max_bytes(64 << 20),
    )
    .unwrap();
    for slot in 0..20 {
        let latency = if slot == 7 { 10_000 } else { 20 + slot };
        rec.record_heartbeat(EPOCH, beacon, slot, latency).unwrap();
    }
    for i in 0..3u64 {
        let p = rec
            .propose_receipt(EPOCH, client.id(), 10_000 * (i + 1), 30)
            .unwrap();
        rec.record_receipt(&client.co_sign_unchecked(&p).unwrap())
            .unwrap();
    }
    rec.record_claim(
        EPOCH,
        beacon,
        Location {
            x: 100_000,
            y: 200_000,
        },
    )
    .unwrap();
    rec.record_witness(
        beacon_id(beacon, other.id()),
        Location {
            x: 101_000,
            y: 200_000,
        },
        -85,
        EPOCH,
    )
    .unwrap();
    rec.flush().unwrap();
}

/// Registers the devices and the client and publishes the epoch, on a
/// prover started for it and stopped after.
async fn register(data: &Path, device: &Device, other: &Device, client: &ClientSigner) {
    let server = start(support::ingest_config(data, TOKEN)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let mut op = OperatorClient::connect(&url, TOKEN, ClientConfig::default())
        .await
        .unwrap();
    op.register_device(&device.public_key()).await.unwrap();
    op.register_device(&other.public_key()).await.unwrap();
    op.register_client(&client.public_key()).await.unwrap();
    op.publish_epoch(support::publish_request_with_beacon(EPOCH, BEACON))
        .await
        .unwrap();
    server.shutdown();
    server.wait().await.unwrap();
}

/// Every record the device spooled is stored once in the prover's store.
async fn assert_stored_once(data: &Path, device: &Device, other: &Device, beacon: Fr) {
    let store = RedbStore::open(&data.join("prover.redb")).unwrap();
    let key = |kind| ChainKey {
        device: device.id(),
        kind,
        epoch: EPOCH,
    };
    assert_eq!(
        store
            .records(&key(StatementKind::Uptime))
            .await
            .unwrap()
            .len(),
        21
    );
    assert_eq!(
        store
            .records(&key(StatementKind::Bandwidth))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(store.claim(&device.id(), EPOCH).await.unwrap().is_some());
    let reports = store
        .reports(EPOCH, &beacon_id(beacon, other.id()))
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_retries_until_the_prover_is_back_and_delivers_each_record_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("prover");
    let dev = tmp.path().join("dev1");
    let out = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(&dev)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let device = Device::new(keyfile::load(&dev.join("device.key")).unwrap());
    let other = Device::from_secret([9; 32]);
    let client = ClientSigner::new(PrivateKey::from_bytes([8; 32]));
    let beacon = Fr::from(BEACON);

    record_epoch(&dev, &device, &other, &client, beacon);
    let backup = tmp.path().join("state-backup");
    copy_dir(&dev.join("state"), &backup);

    // The prover knows the device, its witness's neighbour, the client and
    // the epoch; then it goes down.
    register(&data, &device, &other, &client).await;

    // Down: `submit` keeps retrying.
    let addr = free_addr();
    let url = format!("http://{addr}");
    let child = submit_cmd(&dev, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Back: everything is delivered.
    let server = start(Config {
        listen: addr,
        ..support::ingest_config(&data, TOKEN)
    })
    .await
    .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("prover unavailable"), "{stderr}");
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(first["retries"].as_u64().unwrap() >= 1, "{first}");
    assert_eq!(first["pending_before"], 25);
    assert_eq!(
        answers(&first),
        serde_json::json!({
            "delivered": 25, "accepted": 24,
            "rejected": {"latency_too_high": 1}, "refused": {}, "pending": 0,
        })
    );

    // Nothing is left: a second run sends nothing.
    let out = submit_cmd(&dev, &url).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["delivered"], 0);

    // A crash between the answers and the acknowledgements: the spool as it
    // was is sent again, and the prover answers exactly as the first time.
    std::fs::remove_dir_all(dev.join("state")).unwrap();
    copy_dir(&backup, &dev.join("state"));
    let out = submit_cmd(&dev, &url).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let resent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers(&resent), answers(&first));
    assert_eq!(resent["retries"], 0);

    // The chain goes on from the stored head: one more heartbeat is taken.
    {
        let mut rec = Recorder::open(
            dev.join("state"),
            device.clone(),
            SpoolConfig::with_max_bytes(64 << 20),
        )
        .unwrap();
        rec.record_heartbeat(EPOCH, beacon, 20, 30).unwrap();
    }
    let out = submit_cmd(&dev, &url).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let next: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (next["delivered"].as_u64(), next["accepted"].as_u64()),
        (Some(1), Some(1))
    );

    server.shutdown();
    server.wait().await.unwrap();

    // Stored once each.
    assert_stored_once(&data, &device, &other, beacon).await;
}
