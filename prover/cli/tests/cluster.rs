//! The prover cluster on its real parts: a PostgreSQL 15 cluster, three
//! `depin-prover` nodes as processes on it and HAProxy in front, started by
//! `scripts/cluster.sh` with this build's binary (the tests run one at a
//! time: each starts a cluster of its own).
//!
//! Jobs (three nodes proving uptime one device-epoch at a time, 3 s
//! leases):
//! - the node proving a job is killed with SIGKILL: another node takes the
//!   job over once the lease ends and finishes it, one proof is stored
//!   (attempt 2, verifying), and watchers on the two other nodes see it
//!   done;
//! - the node proving a job is frozen with SIGSTOP past its lease: another
//!   node finishes it; woken, the frozen node's writes are refused (its
//!   lease was taken over): the stored job and proof stay the other's.
//!
//! Batches (three nodes proving uptime in batches of 4, 3 s leases): the
//! node that formed a batch of four and proves it is killed with SIGKILL,
//! while a fifth job it took waits for the next batch: another node takes
//! the batch over and proves it (attempt 2), and another adopts the fifth
//! job and forms and proves the batch after it. Watchers of the batch
//! through the load balancer, one of them on the killed node, see it done
//! (the SDK opens a broken watch again).
//!
//! Ingest (no keys):
//!
//! Under a steady ingest load through the load balancer, each device's
//! records sent in order by its own client (which retries UNAVAILABLE):
//! - a node killed with SIGKILL: every record the cluster acknowledged is
//!   in the database, at its place in the device's chain, none twice;
//! - a node frozen with SIGSTOP: the clients keep succeeding, the slowest
//!   call waits at most its 2 s deadline and a retry (the health checks
//!   take the node out in about a second);
//! - PostgreSQL restarted (stopped, started again a second later on the
//!   same port): the nodes answer UNAVAILABLE meanwhile, every call
//!   succeeds through its client's retries alone, and nothing acknowledged
//!   is lost or stored twice.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use depin_crypto::eddsa::PrivateKey;
use depin_device_sdk::client::pb;
use depin_device_sdk::client::{ClientConfig, OperatorClient, ProverClient, UptimeChain};
use depin_statements::StatementKind;
use depin_store::{ChainKey, JobState, Store};
use depin_testkit::service::{
    beacon, ensure_keys, keys_dir, proof_verifies, publish_request, EPOCH, SEED,
};
use tokio::sync::Mutex;

/// One cluster at a time: each test starts its own, and two at once on a
/// small machine would skew the timings asserted.
static SERIAL: Mutex<()> = Mutex::const_new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cluster `scripts/cluster.sh` started, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl Cluster {
    /// An ingest-only cluster.
    fn up(nodes: usize) -> Cluster {
        Self::up_with(nodes, &[("STATEMENTS", "[]".to_string())])
    }

    /// A cluster with `env` set for `scripts/cluster.sh`.
    fn up_with(nodes: usize, env: &[(&str, String)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let out = Command::new(repo().join("scripts/cluster.sh"))
            .args([
                "up",
                "--nodes",
                &nodes.to_string(),
                "--port",
                &port.to_string(),
            ])
            .arg("--dir")
            .arg(dir.path())
            .env("CLUSTER_PROVER_BIN", env!("CARGO_BIN_EXE_depin-prover"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("run scripts/cluster.sh");
        assert!(
            out.status.success(),
            "cluster.sh up failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.path().join("env")).unwrap();
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Cluster { dir, env }
    }

    fn get(&self, k: &str) -> &str {
        self.env
            .get(k)
            .map_or_else(|| panic!("no {k} in env"), String::as_str)
    }

    fn node_pids(&self) -> Vec<i32> {
        self.get("NODE_PIDS")
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect()
    }

    /// `http://127.0.0.1:PORT` of each node.
    fn node_endpoints(&self) -> Vec<String> {
        self.get("NODE_ENDPOINTS")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Each node's log file.
    fn node_logs(&self) -> Vec<PathBuf> {
        self.get("NODE_DIRS")
            .split_whitespace()
            .map(|d| Path::new(d).join("node.log"))
            .collect()
    }

    /// A store on the cluster's database, for looking at what it holds.
    async fn store(&self) -> depin_store_postgres::PostgresStore {
        depin_store_postgres::PostgresStore::connect(self.get("DATABASE_URL"), 2)
            .await
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/cluster.sh"))
            .args(["down", "--dir"])
            .arg(self.dir.path())
            .status();
    }
}

/// Runs `scripts/postgres.sh ARGS`, which must succeed; its stdout.
fn postgres(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/postgres.sh"))
        .args(args)
        .output()
        .expect("run scripts/postgres.sh");
    assert!(
        out.status.success(),
        "scripts/postgres.sh {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn signal(pid: i32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// One request a device every `PACE`: 20 rounds span 3 s.
const PACE: Duration = Duration::from_millis(150);

/// What a device's client got acknowledged: accepted records, in order.
type Acked = Arc<Mutex<HashMap<usize, u32>>>;

/// How a device's client retries.
#[derive(Clone, Copy)]
struct Retries {
    /// The client's retries of a retryable status (backoff from 50 ms,
    /// doubling).
    client: u32,
    /// Whether a call that failed anyway is sent once more by hand (as an
    /// idempotent write allows: a node killed mid-call fails it with
    /// another status).
    by_hand: bool,
}

/// Device `d` sends `rounds` requests of 4 heartbeats through the load
/// balancer, one every `PACE`, each with a 2 s deadline and retried on
/// UNAVAILABLE or DEADLINE_EXCEEDED by its client (and, if `retries`
/// says, once more by hand on any other error); records every acknowledged
/// record and the slowest call.
async fn device_load(
    lb: String,
    key: PrivateKey,
    d: usize,
    rounds: u32,
    acked: Acked,
    retries: Retries,
) -> Duration {
    let cfg = ClientConfig {
        timeout: Duration::from_secs(2),
        retries: retries.client,
        ..ClientConfig::default()
    };
    let mut client = ProverClient::connect(&lb, cfg).await.unwrap();
    let mut chain = UptimeChain::new(key, EPOCH);
    let mut slowest = Duration::ZERO;
    for r in 0..rounds {
        let slots: Vec<u32> = (r * 4..r * 4 + 4).collect();
        let hbs = chain.heartbeats(beacon(), &slots, 40);
        let req = chain.batch(&hbs);
        let started = Instant::now();
        let mut answer = client.submit(&req).await;
        if answer.is_err() && retries.by_hand {
            answer = client.submit(&req).await;
        }
        let took = started.elapsed();
        slowest = slowest.max(took);
        tokio::time::sleep(PACE.saturating_sub(took)).await;
        let resp = answer.unwrap_or_else(|e| panic!("device {d} round {r}: {e}"));
        assert_eq!(resp.accepted, 4, "device {d} round {r}: {resp:?}");
        *acked.lock().await.entry(d).or_default() += resp.accepted;
    }
    slowest
}

/// Runs `devices` loads of `rounds` requests; `disturb` runs after
/// `after`. Returns the slowest call.
async fn under_load<F: FnOnce()>(
    lb: &str,
    keys: &[PrivateKey],
    rounds: u32,
    acked: &Acked,
    after: Duration,
    disturb: F,
) -> Duration {
    let retries = Retries {
        client: 8,
        by_hand: true,
    };
    under_load_with(lb, keys, rounds, acked, retries, after, disturb).await
}

/// [`under_load`] with the clients retrying as `retries` says.
async fn under_load_with<F: FnOnce()>(
    lb: &str,
    keys: &[PrivateKey],
    rounds: u32,
    acked: &Acked,
    retries: Retries,
    after: Duration,
    disturb: F,
) -> Duration {
    let tasks: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(d, k)| {
            tokio::spawn(device_load(
                lb.to_string(),
                k.clone(),
                d,
                rounds,
                acked.clone(),
                retries,
            ))
        })
        .collect();
    tokio::time::sleep(after).await;
    disturb();
    let mut slowest = Duration::ZERO;
    for t in tasks {
        slowest = slowest.max(t.await.unwrap());
    }
    slowest
}

/// PostgreSQL restarted (stopped, started again a second later) under load
/// of new devices: the nodes answer UNAVAILABLE while it is down, and every
/// call succeeds through its client's retries alone (50 ms doubling, 10
/// times: 51 s in all), none sent again by hand. Returns the devices and
/// what they got acknowledged.
async fn restart_postgres_under_load(
    cluster: &Cluster,
    op: &mut OperatorClient,
    lb: &str,
) -> (Vec<PrivateKey>, Acked) {
    let pg_dir = cluster.get("PG_DIR").to_string();
    let url = cluster.get("DATABASE_URL").to_string();
    let third: Vec<PrivateKey> = (0..12u8)
        .map(|i| PrivateKey::from_bytes([0xb0 + i; 32]))
        .collect();
    for k in &third {
        op.register_device(&k.public_key()).await.unwrap();
    }
    let acked_third: Acked = Arc::default();
    let mut down_for = Duration::ZERO;
    let slowest = under_load_with(
        lb,
        &third,
        20,
        &acked_third,
        Retries {
            client: 10,
            by_hand: false,
        },
        Duration::from_millis(700),
        || {
            let started = Instant::now();
            postgres(&["stop", &pg_dir]);
            std::thread::sleep(Duration::from_secs(1));
            let out = postgres(&["start", &pg_dir]);
            down_for = started.elapsed();
            assert!(
                out.contains(&format!("DATABASE_URL={url}")),
                "PostgreSQL came back elsewhere: {out}"
            );
        },
    )
    .await;
    eprintln!(
        "PostgreSQL restart under load: down {down_for:?} (stop, 1 s, start), slowest call \
         {slowest:?}"
    );
    assert!(
        slowest < Duration::from_secs(15),
        "a call waited {slowest:?} across the restart"
    );
    // The nodes did answer UNAVAILABLE (so the load did meet the outage).
    let logs: Vec<String> = cluster
        .node_logs()
        .iter()
        .map(|l| std::fs::read_to_string(l).unwrap_or_default())
        .collect();
    let answered: Vec<&str> = logs
        .iter()
        .flat_map(|l| l.lines())
        .filter(|l| l.contains("the database is unavailable"))
        .filter_map(|l| l.find("storage: ").map(|i| &l[i..]))
        .collect();
    let unavailable = answered.len();
    eprintln!(
        "PostgreSQL restart under load: {unavailable} calls answered UNAVAILABLE, e.g. {}",
        answered.first().unwrap_or(&"-")
    );
    // (Logged at WARN, which a RUST_LOG of the caller may hide.)
    if std::env::var_os("RUST_LOG").is_none() {
        assert!(unavailable > 0, "no call met the restart");
    }
    (third, acked_third)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_loses_nothing_when_a_node_is_killed_or_frozen() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::up(3);
    let lb = cluster.get("LB_ENDPOINT").to_string();
    let token = cluster.get("OPERATOR_TOKEN").to_string();
    let mut op = OperatorClient::connect(&lb, &token, ClientConfig::default())
        .await
        .unwrap();
    let keys: Vec<PrivateKey> = (0..12u8)
        .map(|i| PrivateKey::from_bytes([0x70 + i; 32]))
        .collect();
    for k in &keys {
        op.register_device(&k.public_key()).await.unwrap();
    }
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let acked: Acked = Arc::default();

    // kill -9 of the first node under load.
    let pids = cluster.node_pids();
    let killed = pids[0];
    let slowest = under_load(&lb, &keys, 20, &acked, Duration::from_secs(1), || {
        signal(killed, "-KILL")
    })
    .await;
    eprintln!("kill -9 under load: slowest call {slowest:?}");

    // SIGSTOP of the second node under load, continuing each device's
    // chain: calls keep succeeding.
    let frozen = pids[1];
    let more: Vec<PrivateKey> = (0..12u8)
        .map(|i| PrivateKey::from_bytes([0x90 + i; 32]))
        .collect();
    for k in &more {
        op.register_device(&k.public_key()).await.unwrap();
    }
    let acked_more: Acked = Arc::default();
    let slowest = under_load(
        &lb,
        &more,
        12,
        &acked_more,
        Duration::from_millis(700),
        || signal(frozen, "-STOP"),
    )
    .await;
    signal(frozen, "-CONT");
    eprintln!("SIGSTOP under load: slowest call {slowest:?}");
    assert!(
        slowest < Duration::from_secs(5),
        "a call waited {slowest:?} behind the frozen node"
    );

    let (third, acked_third) = restart_postgres_under_load(&cluster, &mut op, &lb).await;

    // Every acknowledged record is in the database, in order, none twice.
    let store = cluster.store().await;
    for (keys, acked) in [
        (&keys, &acked),
        (&more, &acked_more),
        (&third, &acked_third),
    ] {
        let acked = acked.lock().await;
        for (d, k) in keys.iter().enumerate() {
            let key = uptime_key(k);
            let stored = store.records(&key).await.unwrap();
            let want = acked.get(&d).copied().unwrap_or(0);
            assert_eq!(stored.len() as u32, want, "device {d}");
            let mut messages: Vec<_> = stored.iter().map(|r| r.message()).collect();
            messages.sort_unstable();
            messages.dedup();
            assert_eq!(messages.len(), stored.len(), "device {d}: a record twice");
            let chain = store.chain(&key).await.unwrap().unwrap();
            assert_eq!(chain.len, want, "device {d}");
        }
    }
}

/// Three nodes proving uptime (3 s leases, batches of `batch_size`, 0: one
/// proof a device-epoch), `devices` registered, the epoch published and
/// 8 + i heartbeats of device i stored; the cluster and an operator client
/// through the load balancer.
async fn proving_cluster(batch_size: usize, devices: &[PrivateKey]) -> (Cluster, OperatorClient) {
    tokio::task::spawn_blocking(|| ensure_keys(StatementKind::Uptime))
        .await
        .unwrap();
    let cluster = Cluster::up_with(
        3,
        &[
            ("STATEMENTS", r#"["uptime"]"#.to_string()),
            ("BATCH_SIZE", batch_size.to_string()),
            ("JOB_LEASE_S", "3".to_string()),
            ("KEYS_DIR", keys_dir().display().to_string()),
            ("DEV_SEED", SEED.to_string()),
        ],
    );
    let lb = cluster.get("LB_ENDPOINT").to_string();
    let token = cluster.get("OPERATOR_TOKEN").to_string();
    let mut op = OperatorClient::connect(&lb, &token, ClientConfig::default())
        .await
        .unwrap();
    for k in devices {
        op.register_device(&k.public_key()).await.unwrap();
    }
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut prover = ProverClient::connect(&lb, ClientConfig::default())
        .await
        .unwrap();
    for (i, k) in devices.iter().enumerate() {
        let mut chain = UptimeChain::new(k.clone(), EPOCH);
        let slots: Vec<u32> = (0..8 + i as u32).collect();
        let r = prover
            .submit(&chain.batch(&chain.heartbeats(beacon(), &slots, 30)))
            .await
            .unwrap();
        assert_eq!(r.accepted as usize, slots.len());
    }
    (cluster, op)
}

fn uptime_key(k: &PrivateKey) -> ChainKey {
    ChainKey {
        device: k.public_key().id(),
        kind: StatementKind::Uptime,
        epoch: EPOCH,
    }
}

/// `n` clients watching uptime batch 0 through `lb`, each on a connection
/// of its own.
fn batch_watchers(lb: &str, n: usize) -> Vec<tokio::task::JoinHandle<pb::Batch>> {
    (0..n)
        .map(|_| {
            let lb = lb.to_string();
            tokio::spawn(async move {
                let mut c = ProverClient::connect(&lb, ClientConfig::default())
                    .await
                    .unwrap();
                c.wait_batch(pb::StatementKind::Uptime, 0).await.unwrap()
            })
        })
        .collect()
}

/// Batch 0 (`claimed` before its node was killed) taken over and proven,
/// batch 1 of the fifth device chained on it, every job DONE.
async fn check_two_batches(
    store: &depin_store_postgres::PostgresStore,
    claimed: &depin_store::BatchRecord,
    devices: &[PrivateKey],
) {
    let b0 = store
        .batch(StatementKind::Uptime, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b0.state, b0.lease.clone()), (JobState::Done, None));
    assert!(b0.attempts >= 2, "taken over: {b0:?}");
    assert_eq!(
        b0.header, claimed.header,
        "the batch taken over is the same"
    );
    assert!(!b0.proof.is_empty());
    let b1 = store
        .batch(StatementKind::Uptime, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b1.state, JobState::Done);
    assert_eq!(b1.header.old_commitment, b0.header.new_commitment);
    assert_eq!(b1.members, vec![uptime_key(&devices[4])]);
    for k in devices {
        let j = store.job(&uptime_key(k)).await.unwrap().unwrap();
        assert_eq!(j.state, JobState::Done, "{j:?}");
    }
    assert!(store
        .batch(StatementKind::Uptime, 2)
        .await
        .unwrap()
        .is_none());
}

/// The index of the node whose id (`<host>:<port>`, the default) is `id`.
fn node_of(cluster: &Cluster, id: &str) -> usize {
    let port = id.rsplit(':').next().unwrap();
    cluster
        .node_endpoints()
        .iter()
        .position(|e| e.ends_with(&format!(":{port}")))
        .unwrap_or_else(|| panic!("no node listens on {id}"))
}

/// Waits until `key`'s job satisfies `pred` in the database; the job.
async fn job_when(
    store: &dyn Store,
    key: &ChainKey,
    within: Duration,
    what: &str,
    pred: impl Fn(&depin_store::JobRecord) -> bool,
) -> depin_store::JobRecord {
    let deadline = Instant::now() + within;
    loop {
        if let Some(j) = store.job(key).await.unwrap() {
            if pred(&j) {
                return j;
            }
            assert!(Instant::now() < deadline, "{what}: the job is {j:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_whose_node_dies_or_freezes_is_finished_by_another_once() {
    let _serial = SERIAL.lock().await;
    let devices: Vec<PrivateKey> = (0..2u8)
        .map(|i| PrivateKey::from_bytes([0xb0 + i; 32]))
        .collect();
    let (cluster, mut op) = proving_cluster(0, &devices).await;
    let endpoints = cluster.node_endpoints();
    let pids = cluster.node_pids();
    let store = cluster.store().await;
    let jobs = ProvingCluster {
        cluster: &cluster,
        store: &store,
        endpoints: &endpoints,
        pids: &pids,
    };
    let killed = jobs.killed_holder(&mut op, uptime_key(&devices[0])).await;
    jobs.frozen_holder(&mut op, uptime_key(&devices[1]), killed)
        .await;
}

/// The parts of a cluster proving jobs.
struct ProvingCluster<'a> {
    cluster: &'a Cluster,
    store: &'a depin_store_postgres::PostgresStore,
    endpoints: &'a [String],
    pids: &'a [i32],
}

fn proving(j: &depin_store::JobRecord) -> bool {
    j.state == JobState::Proving && j.lease.is_some()
}

impl ProvingCluster<'_> {
    /// Queues `key`'s job and waits for a node to claim it; the job id and
    /// the claimed job.
    async fn queue(
        &self,
        op: &mut OperatorClient,
        key: &ChainKey,
    ) -> (String, depin_store::JobRecord) {
        let job_id = op
            .prove_epoch(&key.device, pb::StatementKind::Uptime, EPOCH)
            .await
            .unwrap()
            .job_id;
        let claimed = job_when(
            self.store,
            key,
            Duration::from_secs(120),
            "claimed",
            proving,
        )
        .await;
        assert_eq!(claimed.attempts, 1);
        (job_id, claimed)
    }

    /// A client of node `i`.
    async fn client(&self, i: usize) -> ProverClient {
        ProverClient::connect(&self.endpoints[i], ClientConfig::default())
            .await
            .unwrap()
    }

    /// The proof of `job_id` verifies (asked of node `i`).
    async fn proof_verifies(&self, i: usize, job_id: &str) {
        let mut c = self.client(i).await;
        let proof = c.get_proof(job_id).await.unwrap();
        let vk = c
            .get_verifying_key(pb::StatementKind::Uptime)
            .await
            .unwrap();
        assert!(proof_verifies(&vk, &proof), "the stored proof verifies");
    }

    /// kill -9 of the node proving `key`'s job; the killed node.
    async fn killed_holder(&self, op: &mut OperatorClient, key: ChainKey) -> usize {
        let (job_id, claimed) = self.queue(op, &key).await;
        let holder = node_of(self.cluster, &claimed.lease.as_ref().unwrap().node);
        signal(self.pids[holder], "-KILL");
        let others: Vec<usize> = (0..3).filter(|i| *i != holder).collect();
        let watchers: Vec<_> = others
            .iter()
            .map(|i| {
                let endpoint = self.endpoints[*i].clone();
                let job_id = job_id.clone();
                tokio::spawn(async move {
                    let mut c = ProverClient::connect(&endpoint, ClientConfig::default())
                        .await
                        .unwrap();
                    c.wait_job(&job_id).await.unwrap()
                })
            })
            .collect();
        let killed_at = Instant::now();
        let done = job_when(
            self.store,
            &key,
            Duration::from_secs(120),
            "taken over",
            |j| j.state.is_terminal(),
        )
        .await;
        eprintln!(
            "kill -9 of the proving node: done {:?} later",
            killed_at.elapsed()
        );
        assert_eq!(done.state, JobState::Done, "{done:?}");
        // Taken over (a third attempt only if a renewal stalled for a lease).
        assert!(done.attempts >= 2, "taken over: {done:?}");
        assert_eq!(done.lease, None);
        for w in watchers {
            let seen = tokio::time::timeout(Duration::from_secs(30), w)
                .await
                .expect("a watcher saw the job done")
                .unwrap();
            assert_eq!(seen.state, pb::JobState::Done as i32, "{seen:?}");
        }
        self.proof_verifies(others[0], &job_id).await;
        holder
    }

    /// SIGSTOP of the node proving `key`'s job, past its lease (`dead`:
    /// the node killed before).
    async fn frozen_holder(&self, op: &mut OperatorClient, key: ChainKey, dead: usize) {
        let (job_id, claimed) = self.queue(op, &key).await;
        let frozen = node_of(self.cluster, &claimed.lease.as_ref().unwrap().node);
        assert_ne!(frozen, dead, "the killed node claimed a job");
        signal(self.pids[frozen], "-STOP");
        let done = job_when(
            self.store,
            &key,
            Duration::from_secs(120),
            "taken over",
            |j| j.state.is_terminal(),
        )
        .await;
        assert!(
            done.state == JobState::Done && done.attempts >= 2,
            "{done:?}"
        );
        let stored = self.store.proof(&key).await.unwrap().expect("a proof");
        signal(self.pids[frozen], "-CONT");
        // Woken, the frozen node renews (every second) or finishes its proof:
        // refused either way.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(self.store.job(&key).await.unwrap().as_ref(), Some(&done));
        assert_eq!(self.store.proof(&key).await.unwrap(), Some(stored));
        let log_path = self.cluster.node_logs().swap_remove(frozen);
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            log.contains("taken over by another node"),
            "the frozen node did not notice its lost lease: {}",
            log_path.display()
        );
        let survivor = (0..3).find(|i| *i != dead && *i != frozen).unwrap();
        self.proof_verifies(survivor, &job_id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_whose_node_dies_is_proven_by_another_and_its_jobs_adopted() {
    let _serial = SERIAL.lock().await;
    let devices: Vec<PrivateKey> = (0..5u8)
        .map(|i| PrivateKey::from_bytes([0xc0 + i; 32]))
        .collect();
    let (cluster, _) = proving_cluster(4, &devices).await;
    let token = cluster.get("OPERATOR_TOKEN").to_string();
    let endpoints = cluster.node_endpoints();
    let pids = cluster.node_pids();
    let store = cluster.store().await;
    // Every job through node 0: it forms the first batch of four at once,
    // the fifth waits for the deadline (5 s).
    let mut first = OperatorClient::connect(&endpoints[0], &token, ClientConfig::default())
        .await
        .unwrap();
    for k in &devices {
        first
            .prove_epoch(&k.public_key().id(), pb::StatementKind::Uptime, EPOCH)
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let claimed = loop {
        if let Some(b) = store.batch(StatementKind::Uptime, 0).await.unwrap() {
            if b.attempts == 1 {
                break b;
            }
        }
        assert!(Instant::now() < deadline, "node 0 never claimed its batch");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(claimed.members.len(), 4);
    assert_eq!(
        node_of(&cluster, &claimed.lease.as_ref().unwrap().node),
        0,
        "{claimed:?}"
    );
    // Three watchers through the load balancer (round robin: one of them
    // on node 0, whose watch its client opens again on another node).
    let lb_watchers = batch_watchers(cluster.get("LB_ENDPOINT"), 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(pids[0], "-KILL");
    let killed_at = Instant::now();

    // Batch 0 taken over and proven; the fifth job adopted, batch 1 formed
    // on batch 0's tree and proven.
    let mut watcher = ProverClient::connect(&endpoints[1], ClientConfig::default())
        .await
        .unwrap();
    for sequence in 0..2u64 {
        let b = tokio::time::timeout(Duration::from_secs(600), async {
            // Batch 1 is formed once a node adopts the fifth job.
            while store
                .batch(StatementKind::Uptime, sequence)
                .await
                .unwrap()
                .is_none()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            watcher
                .wait_batch(pb::StatementKind::Uptime, sequence)
                .await
                .unwrap()
        })
        .await
        .expect("the batch was proven in time");
        assert_eq!(b.state, pb::BatchState::Done as i32, "{b:?}");
        eprintln!(
            "batch {sequence} done {:?} after the kill",
            killed_at.elapsed()
        );
    }
    for w in lb_watchers {
        let seen = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("a watcher through the load balancer saw batch 0 done")
            .unwrap();
        assert_eq!(seen.state, pb::BatchState::Done as i32, "{seen:?}");
    }
    check_two_batches(&store, &claimed, &devices).await;
}
