//! A node's draining shutdown under load, with the real `depin-prover
//! serve` binary: SIGTERM while devices submit records, several times,
//! restarting on the same data each time. Every request sent before a
//! SIGTERM is answered, clients see no status but UNAVAILABLE (which they
//! retry), the node exits 0, and every acknowledged batch is stored.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::free_port;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use depin_device_sdk::client::{ClientConfig, ClientError, ProverClient, UptimeChain};
use depin_statements::{StatementKind, UPTIME_CAPACITY};
use depin_store::{ChainKey, Store};
use depin_store_redb::RedbStore;
use depin_testkit::service::{beacon, clients, device, publish_request, EPOCH};
use tonic::Code;

const DEVICES: u8 = 8;
const BATCH: usize = 4;
const SIGTERMS: usize = 3;

fn write_config(dir: &Path, port: u16) -> PathBuf {
    common::write_config(
        dir,
        port,
        "dev_keys = false\nstatements = []\ndrain_s = 1.0\nshutdown_grace_s = 10\n",
    )
}

fn spawn(config: &Path) -> Child {
    common::spawn(config, "info", Stdio::null(), Stdio::null())
}

async fn wait_serving(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the node did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One request: when it was sent, and its answer (`None`: accepted, else
/// the status code).
type Sent = (Instant, Option<Code>);

/// A device submitting its epoch, batch after batch, each retried until
/// answered.
async fn device_load(port: u16, i: u8, log: Arc<Mutex<Vec<Sent>>>) {
    let cfg = ClientConfig {
        timeout: Duration::from_secs(20),
        retries: 0,
        ..ClientConfig::default()
    };
    let mut client =
        ProverClient::connect_lazy(&format!("http://127.0.0.1:{port}"), cfg).expect("client");
    let mut chain = UptimeChain::new(device(i), EPOCH);
    let slots: Vec<u32> = (0..UPTIME_CAPACITY as u32).collect();
    for chunk in slots.chunks(BATCH) {
        let req = chain.batch(&chain.heartbeats(beacon(), chunk, 20));
        loop {
            let sent = Instant::now();
            let code = match client.submit(&req).await {
                Ok(r) => {
                    assert_eq!(r.accepted as usize, chunk.len(), "device {i}: {r:?}");
                    None
                }
                Err(ClientError::Status(s)) => Some(s.code()),
                Err(e) => panic!("device {i}: not a status: {e}"),
            };
            log.lock().unwrap().push((sent, code));
            if code.is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_request_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(tmp.path(), port);
    let mut node = spawn(&cfg);
    wait_serving(port).await;
    let mut serving_since = Instant::now();
    let (_, mut op) = clients(format!("127.0.0.1:{port}").parse().unwrap()).await;
    for i in 0..DEVICES {
        op.register_device(&device(i).public_key()).await.unwrap();
    }
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();

    let log = Arc::new(Mutex::new(Vec::new()));
    let load: Vec<_> = (0..DEVICES)
        .map(|i| tokio::spawn(device_load(port, i, log.clone())))
        .collect();
    let mut terms = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..SIGTERMS {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let at = Instant::now();
        let pid = node.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = tokio::task::spawn_blocking(move || node.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "the node exited with {status}");
        stops.push(at.elapsed());
        terms.push((serving_since, at));
        node = spawn(&cfg);
        wait_serving(port).await;
        serving_since = Instant::now();
    }
    for l in load {
        l.await.unwrap();
    }
    let pid = node.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(node.wait().unwrap().success());

    let log = log.lock().unwrap().clone();
    let mut by_code = std::collections::BTreeMap::<String, usize>::new();
    for (_, code) in &log {
        *by_code
            .entry(code.map_or("OK".into(), |c| format!("{c:?}")))
            .or_default() += 1;
    }
    eprintln!(
        "{SIGTERMS} SIGTERMs under load of {DEVICES} devices: {} requests, by answer {by_code:?}; \
         SIGTERM to exit {stops:?}",
        log.len()
    );
    // Clients see no code but UNAVAILABLE.
    for (_, code) in &log {
        assert!(matches!(code, None | Some(Code::Unavailable)), "{code:?}");
    }
    // Every request sent to a serving node before its SIGTERM was answered:
    // the node served through its drain.
    for (since, t) in &terms {
        let before = log.iter().filter(|(sent, _)| *sent >= *since && *sent < *t);
        for (sent, code) in before {
            assert_eq!(*code, None, "sent {:?} before a SIGTERM", *t - *sent);
        }
    }
    // Every batch is stored, once.
    let store = RedbStore::open(&tmp.path().join("data/prover.redb")).unwrap();
    for i in 0..DEVICES {
        let key = ChainKey {
            device: device(i).public_key().id(),
            kind: StatementKind::Uptime,
            epoch: EPOCH,
        };
        assert_eq!(
            store.records(&key).await.unwrap().len(),
            UPTIME_CAPACITY,
            "device {i}"
        );
    }
}
