//! The store conformance suite and the cluster properties, against a real
//! PostgreSQL 15 that `scripts/postgres.sh` starts in a temporary directory
//! (once per test binary; each test gets a database of its own). A watchdog
//! process stops the server and removes the directory when the test binary
//! exits, however it exits. The restart test stops and starts a server of
//! its own, so that the others are not disturbed.
//!
//! If PostgreSQL cannot be started the tests fail with the script's error;
//! `DEPIN_SKIP_POSTGRES=1` skips them instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use depin_statements::records::Heartbeat;
use depin_statements::{Fr, StatementKind, Verdict};
use depin_store::{
    ChainKey, ChainState, ClaimRequest, Condition, JobEvent, JobRecord, JobState, Mutation, Store,
    StoreError, StoredHeartbeat, StoredRecord, WriteBatch,
};
use depin_store_postgres::{PoolOptions, PostgresStore};

/// The cluster this test binary started.
struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT` (no database).
    base: String,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

/// Runs `scripts/postgres.sh COMMAND DIR`; its stdout.
fn postgres_sh(command: &str, dir: &Path) -> Result<String, String> {
    let out = Command::new(script())
        .arg(command)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "scripts/postgres.sh {command} {} failed ({}): {stdout}{stderr}",
            dir.display(),
            out.status
        ));
    }
    Ok(stdout)
}

/// The `DATABASE_URL=` that `scripts/postgres.sh start` printed.
fn url_in(stdout: &str) -> Result<String, String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .map(str::to_string)
        .ok_or_else(|| format!("scripts/postgres.sh printed no DATABASE_URL: {stdout}"))
}

/// Starts a PostgreSQL server in a new temporary directory, stopped and
/// removed by a watchdog once this process is gone; the directory and the
/// URL of its `depin` database.
fn start_postgres() -> Result<(PathBuf, String), String> {
    let dir = tempfile::Builder::new()
        .prefix("depin-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    let stdout = match postgres_sh("start", &dir) {
        Ok(out) => out,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    // Stops the server and removes its directory once this process is gone.
    Command::new("bash")
        .arg("-c")
        .arg(
            r#"while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
               "$2" stop "$3" >/dev/null 2>&1; rm -rf "$3""#,
        )
        .arg("watchdog")
        .arg(std::process::id().to_string())
        .arg(script())
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the PostgreSQL watchdog: {e}"))?;
    Ok((dir, url_in(&stdout)?))
}

fn start_cluster() -> Result<Cluster, String> {
    let (_, url) = start_postgres()?;
    let base = url
        .strip_suffix("/depin")
        .ok_or_else(|| format!("unexpected URL {url}"))?
        .to_string();
    Ok(Cluster { base })
}

/// Whether `DEPIN_SKIP_POSTGRES=1` (said once per test).
fn skipped() -> bool {
    let skip = std::env::var("DEPIN_SKIP_POSTGRES").as_deref() == Ok("1");
    if skip {
        eprintln!("DEPIN_SKIP_POSTGRES=1: skipping a PostgreSQL test");
    }
    skip
}

/// The cluster, or `None` when `DEPIN_SKIP_POSTGRES=1`. Panics with the
/// script's error when PostgreSQL does not start.
fn cluster() -> Option<&'static Cluster> {
    if skipped() {
        return None;
    }
    match CLUSTER.get_or_init(start_cluster) {
        Ok(c) => Some(c),
        Err(e) => panic!("PostgreSQL did not start: {e}"),
    }
}

/// A fresh, empty database; its URL.
async fn fresh_database(c: &Cluster) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let (client, conn) =
        tokio_postgres::connect(&format!("{}/depin", c.base), tokio_postgres::NoTls)
            .await
            .expect("connect to the depin database");
    let conn = tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("CREATE DATABASE");
    drop(client);
    let _ = conn.await;
    format!("{}/{name}", c.base)
}

/// `n` stores on the database at `url` (the nodes of a cluster), each
/// with a pool of `pool` connections.
async fn nodes(url: &str, n: usize, pool: usize) -> Vec<Arc<PostgresStore>> {
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(Arc::new(
            PostgresStore::connect(url, pool).await.expect("node"),
        ));
    }
    nodes
}

/// A raw connection, for looking at the tables themselves.
async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(c) = cluster() else { return };
    let store = PostgresStore::connect(&fresh_database(c).await, 8)
        .await
        .expect("connect");
    depin_store::conformance::run(&store).await;
}

#[tokio::test]
async fn conformance_on_one_thread_and_one_connection() {
    // The writer and the readers share a single connection.
    let Some(c) = cluster() else { return };
    let store = PostgresStore::connect(&fresh_database(c).await, 1)
        .await
        .expect("connect");
    depin_store::conformance::run(&store).await;
}

fn key(device: u64) -> ChainKey {
    ChainKey {
        device: Fr::from(device),
        kind: StatementKind::Uptime,
        epoch: 3,
    }
}

fn heartbeat(slot: u32, head: u64) -> StoredRecord {
    StoredRecord::Heartbeat(StoredHeartbeat {
        heartbeat: Heartbeat {
            slot,
            response: Fr::from(u64::from(slot) + 1),
            latency_ms: 10,
        },
        head: Fr::from(head),
        verdict: Verdict::Accepted,
    })
}

/// Appends `head` to the chain as planned on `tail` (the chain's state as
/// read).
fn append(k: ChainKey, tail: Option<&ChainState>, slot: u32, head: u64) -> WriteBatch {
    let mut state = tail
        .cloned()
        .unwrap_or_else(|| ChainState::new(Fr::from(1u64)));
    let position = state.len;
    state.len += 1;
    state.head = Fr::from(head);
    state.next_slot = u64::from(slot) + 1;
    WriteBatch {
        conditions: vec![
            Condition::ChainTail {
                key: k,
                tail: tail.map(|s| (s.len, s.head)),
            },
            Condition::Job {
                key: k,
                state: None,
            },
        ],
        mutations: vec![
            Mutation::Record(k, position, heartbeat(slot, head)),
            Mutation::Chain(k, state),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_of_three_nodes_claim_each_job_exactly_once() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let nodes = nodes(&url, 3, 4).await;
    let jobs: Vec<ChainKey> = (0..40).map(|d| key(100 + d)).collect();
    let mut w = WriteBatch::default();
    for (i, k) in jobs.iter().enumerate() {
        w.push(Mutation::Job(JobRecord::new(*k, 1000 + i as u64)));
    }
    nodes[0].commit(w).await.unwrap();
    // Four workers per node claim until nothing is left.
    let mut tasks = Vec::new();
    for (n, store) in nodes.iter().enumerate() {
        for w in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let request = ClaimRequest {
                    kinds: vec![StatementKind::Uptime],
                    node: format!("node-{n}/{w}"),
                    now_ms: 10_000,
                    lease_ms: 60_000,
                };
                let mut got = Vec::new();
                while let Some(job) = store.claim_job(&request).await.unwrap() {
                    assert_eq!(job.attempts, 1);
                    got.push(job.key);
                }
                got
            }));
        }
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    claimed.sort_by_key(|k| k.to_bytes());
    let mut want = jobs.clone();
    want.sort_by_key(|k| k.to_bytes());
    assert_eq!(claimed, want, "every job claimed exactly once");
    for k in &jobs {
        let j = nodes[2].job(k).await.unwrap().unwrap();
        assert_eq!((j.state, j.attempts), (JobState::Proving, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_written_on_one_node_is_heard_on_another() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let a = PostgresStore::connect(&url, 2).await.expect("node a");
    let b = PostgresStore::connect(&url, 2).await.expect("node b");
    let mut events = b.job_events().expect("a shared store announces jobs");
    // Written until heard: b's listener may not be in place yet.
    let k = key(900);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut w = WriteBatch::default();
        w.push(Mutation::Job(JobRecord::new(k, 1)));
        a.commit(w).await.unwrap();
        if next_change(&mut events, Duration::from_millis(500)).await == Some(k) {
            break;
        }
        assert!(Instant::now() < deadline, "b never heard a's job");
    }
    // A write of records announces nothing; the next job is heard next.
    a.commit(append(key(901), None, 0, 5)).await.unwrap();
    let mut w = WriteBatch::default();
    w.push(Mutation::Job(JobRecord::new(key(902), 2)));
    a.commit(w).await.unwrap();
    // (Announcements of the first job's earlier writes may still come.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_change(&mut events, left).await {
            Some(k) if k == key(902) => break,
            Some(k) => assert_eq!(k, key(900), "only jobs are announced"),
            None => panic!("b never heard the second job"),
        }
    }
}

/// The next job heard within `wait` (resyncs passed over).
async fn next_change(
    events: &mut tokio::sync::broadcast::Receiver<JobEvent>,
    wait: Duration,
) -> Option<ChainKey> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(JobEvent::Changed(k))) => return Some(k),
            Ok(Ok(JobEvent::Resync)) => continue,
            Ok(Err(e)) => panic!("job events: {e}"),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_race_on_a_chain_tail_and_exactly_one_wins() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let a = Arc::new(PostgresStore::connect(&url, 4).await.expect("node a"));
    let b = Arc::new(PostgresStore::connect(&url, 4).await.expect("node b"));
    let k = key(7);
    for round in 0..20u64 {
        // Both nodes read the same tail and plan on it.
        let tail = a.chain(&k).await.unwrap();
        let (ra, rb) = tokio::join!(
            a.commit(append(k, tail.as_ref(), round as u32, 1000 + round)),
            b.commit(append(k, tail.as_ref(), round as u32, 2000 + round)),
        );
        let expected = Condition::ChainTail {
            key: k,
            tail: tail.as_ref().map(|s| (s.len, s.head)),
        };
        let winner = match (&ra, &rb) {
            (Ok(()), Err(StoreError::Conflict(c))) if *c == expected => 1000,
            (Err(StoreError::Conflict(c)), Ok(())) if *c == expected => 2000,
            other => panic!("round {round}: expected one win and one conflict, got {other:?}"),
        };
        let now = b.chain(&k).await.unwrap().expect("chain");
        assert_eq!(now.len, round as u32 + 1);
        assert_eq!(now.head, Fr::from(winner + round));
    }
    let records = a.records(&k).await.unwrap();
    assert_eq!(records.len(), 20);
    assert_eq!(
        records.last().map(StoredRecord::head),
        b.chain(&k).await.unwrap().map(|s| s.head)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_appending_to_one_chain_lose_nothing_and_never_fork() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let nodes = nodes(&url, 4, 3).await;
    let k = key(9);
    let mut tasks = tokio::task::JoinSet::new();
    for (n, node) in nodes.iter().enumerate() {
        for t in 0..2u64 {
            let node = node.clone();
            let writer = n as u64 * 2 + t;
            tasks.spawn(async move {
                let mut conflicts = 0u32;
                for i in 0..10u64 {
                    // Read, plan, commit; on a conflict read again.
                    loop {
                        let tail = node.chain(&k).await.unwrap();
                        let slot = tail.as_ref().map_or(0, |s| s.len);
                        let head = 10_000 * (writer + 1) + i;
                        match node.commit(append(k, tail.as_ref(), slot, head)).await {
                            Ok(()) => break,
                            Err(StoreError::Conflict(_)) => conflicts += 1,
                            Err(e) => panic!("writer {writer}: {e}"),
                        }
                    }
                }
                conflicts
            });
        }
    }
    let mut conflicts = 0;
    while let Some(r) = tasks.join_next().await {
        conflicts += r.expect("writer");
    }
    let state = nodes[0].chain(&k).await.unwrap().expect("chain");
    let records = nodes[1].records(&k).await.unwrap();
    assert_eq!(state.len, 80);
    assert_eq!(records.len(), 80);
    assert_eq!(records.last().map(StoredRecord::head), Some(state.head));
    // Every append is there once, each writer's in its own order.
    let mut heads: Vec<u64> = (0..8u64)
        .flat_map(|w| (0..10).map(move |i| 10_000 * (w + 1) + i))
        .collect();
    heads.sort_unstable();
    let mut stored: Vec<Fr> = records.iter().map(StoredRecord::head).collect();
    let mut want: Vec<Fr> = heads.iter().map(|h| Fr::from(*h)).collect();
    stored.sort_by_key(depin_crypto::field::fr_to_le_bytes);
    want.sort_by_key(depin_crypto::field::fr_to_le_bytes);
    assert_eq!(stored, want);
    for (i, r) in records.iter().enumerate() {
        let StoredRecord::Heartbeat(h) = r else {
            panic!("not a heartbeat")
        };
        assert_eq!(h.heartbeat.slot, i as u32, "record {i} planned on the tail");
    }
    eprintln!("80 appends from 8 writers on 4 nodes: {conflicts} conflicts retried");
}

#[tokio::test]
async fn a_version_1_database_is_upgraded_and_its_proving_jobs_resumed() {
    use depin_store_redb::codec::Codec;
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let client = raw(&url).await;
    client
        .batch_execute(include_str!("../migrations/0001_init.sql"))
        .await
        .unwrap();
    client
        .execute("INSERT INTO schema_version (version) VALUES (1)", &[])
        .await
        .unwrap();
    // Version 1's jobs: one proven on its own, one a batch's member, both
    // PROVING when its node stopped.
    let mut single = JobRecord::new(key(51), 10);
    single.state = JobState::Proving;
    single.attempts = 1;
    let mut member = JobRecord::new(key(52), 5);
    member.state = JobState::Proving;
    member.batch = Some(0);
    for j in [&single, &member] {
        client
            .execute(
                "INSERT INTO jobs (device, kind, epoch, state, created_ms, value) \
                 VALUES ($1, $2, 3, 2, $3, $4)",
                &[
                    &depin_crypto::field::fr_to_le_bytes(&j.key.device).to_vec(),
                    &(j.key.kind.code() as i16),
                    &(j.created_ms as i64),
                    &j.encode(),
                ],
            )
            .await
            .unwrap();
    }
    let store = PostgresStore::connect(&url, 2).await.expect("upgrade");
    let request = ClaimRequest {
        kinds: vec![StatementKind::Uptime],
        node: "n".into(),
        now_ms: 1,
        lease_ms: 1000,
    };
    let resumed = store.claim_job(&request).await.unwrap().expect("resumed");
    assert_eq!((resumed.key, resumed.attempts), (single.key, 2));
    assert_eq!(store.claim_job(&request).await.unwrap(), None);
    assert_eq!(store.job(&member.key).await.unwrap(), Some(member));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_by_four_nodes_at_once_succeed() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.spawn(async move { PostgresStore::connect(&url, 2).await });
    }
    let mut stores = Vec::new();
    while let Some(r) = tasks.join_next().await {
        stores.push(r.expect("task").expect("connect while others migrate"));
    }
    let client = raw(&url).await;
    let versions: Vec<i32> = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        (1..=depin_store_postgres::SCHEMA_VERSION).collect::<Vec<_>>()
    );
    // Every node works on the one schema.
    for s in &stores {
        assert_eq!(s.device_count().await.unwrap(), 0);
    }
    // And connecting again changes nothing.
    drop(PostgresStore::connect(&url, 1).await.expect("reconnect"));
}

#[tokio::test]
async fn data_survives_a_reconnect() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let written = {
        let store = PostgresStore::connect(&url, 2).await.expect("connect");
        let written = depin_store::conformance::write_sample(&store).await;
        store.close().await;
        assert!(matches!(
            store.commit(WriteBatch::default()).await,
            Err(StoreError::Closed)
        ));
        written
    };
    let store = PostgresStore::connect(&url, 2).await.expect("reconnect");
    depin_store::conformance::check_sample(&store, &written).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_postgres_refuses_fails_alone() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let store = Arc::new(PostgresStore::connect(&url, 2).await.expect("connect"));
    let client = |i: u8| depin_crypto::eddsa::PrivateKey::from_bytes([i; 32]).public_key();
    let register = |index: u32, id: Fr, key| WriteBatch {
        conditions: vec![],
        mutations: vec![Mutation::Client { id, index, key }],
    };
    store
        .commit(register(0, client(1).id(), client(1)))
        .await
        .unwrap();
    // Submitted together (one group, most likely): the second registers the
    // same client id at another index, which the schema refuses.
    let (ok1, bad, ok2) = tokio::join!(
        store.commit(register(1, client(2).id(), client(2))),
        store.commit(register(2, client(1).id(), client(1))),
        store.commit(register(3, client(3).id(), client(3))),
    );
    ok1.expect("first");
    ok2.expect("third");
    match bad {
        Err(StoreError::Database(m)) => assert!(m.contains("23505"), "{m}"),
        other => panic!("expected a database error, got {other:?}"),
    }
    assert_eq!(store.client_count().await.unwrap(), 3);
    assert_eq!(store.client_index(&client(1).id()).await.unwrap(), Some(0));
    assert_eq!(store.client_index(&client(3).id()).await.unwrap(), Some(3));
    // A job whose creation time does not fit a BIGINT is refused, not
    // wrapped.
    let job = JobRecord::new(key(1), u64::MAX);
    match store
        .commit(WriteBatch {
            conditions: vec![],
            mutations: vec![Mutation::Job(job)],
        })
        .await
    {
        Err(StoreError::Database(m)) => assert!(m.contains("out of range"), "{m}"),
        other => panic!("expected a database error, got {other:?}"),
    }
    assert_eq!(store.job(&key(1)).await.unwrap(), None);
}

#[tokio::test]
async fn records_go_to_their_epochs_partition() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let store = PostgresStore::connect(&url, 2).await.expect("connect");
    store
        .create_record_partition(3, 4)
        .await
        .expect("partition");
    // Again: nothing to do.
    store.create_record_partition(3, 4).await.expect("again");
    assert!(store.create_record_partition(5, 5).await.is_err());
    let k = key(11);
    store.commit(append(k, None, 0, 42)).await.unwrap();
    let other = ChainKey { epoch: 8, ..k };
    store.commit(append(other, None, 0, 43)).await.unwrap();
    assert_eq!(store.records(&k).await.unwrap(), vec![heartbeat(0, 42)]);
    assert_eq!(store.records(&other).await.unwrap(), vec![heartbeat(0, 43)]);
    let client = raw(&url).await;
    let count = |table: &'static str| {
        let client = &client;
        async move {
            let row = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap();
            row.get::<_, i64>(0)
        }
    };
    assert_eq!(count("records_e3_4").await, 1);
    assert_eq!(count("records_default").await, 1);
    // The default partition holds epoch 8: a partition over it is refused.
    let e = store.create_record_partition(8, 9).await.unwrap_err();
    assert!(e.to_string().contains("records"), "{e}");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_named() {
    // No cluster needed: nothing listens on port 1.
    let e = PostgresStore::connect("postgres://postgres:secret@127.0.0.1:1/depin", 2)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("127.0.0.1:1/depin"), "{e}");
    assert!(!e.contains("secret"), "{e}");
    let e = PostgresStore::connect("postgres://[not a url", 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not parse"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_commits_are_grouped_and_all_land() {
    let Some(c) = cluster() else { return };
    let url = fresh_database(c).await;
    let store = Arc::new(PostgresStore::connect(&url, 4).await.expect("connect"));
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for d in 0..1000u64 {
        let s = store.clone();
        set.spawn(async move { s.commit(append(key(100 + d), None, 0, d)).await });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").expect("commit");
    }
    eprintln!("1000 concurrent commits in {:?}", started.elapsed());
    for d in [0u64, 499, 999] {
        assert_eq!(
            store.records(&key(100 + d)).await.unwrap(),
            vec![heartbeat(0, d)]
        );
    }
    let client = raw(&url).await;
    let n: i64 = client
        .query_one("SELECT count(*) FROM chains", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1000);
}

/// Whether `r` failed for the database being unreachable, in time.
fn unavailable<T: std::fmt::Debug>(what: &str, r: Result<T, StoreError>, started: Instant) {
    let took = started.elapsed();
    match r {
        Err(StoreError::Unavailable(m)) => {
            assert!(!m.contains("secret"), "{what}: {m}");
            eprintln!("{what}: unavailable after {took:?}: {m}");
        }
        other => panic!("{what}: expected StoreError::Unavailable, got {other:?}"),
    }
    assert!(
        took < Duration::from_secs(8),
        "{what}: took {took:?} to fail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_unavailable_then_serves_again() {
    if skipped() {
        return;
    }
    // A server of its own: the other tests share theirs.
    let (dir, url) = start_postgres().unwrap_or_else(|e| panic!("PostgreSQL did not start: {e}"));
    let secret_url = url.replacen("postgres@", "postgres:secret@", 1);
    let store = PostgresStore::connect_with(
        &secret_url,
        PoolOptions {
            size: 3,
            create_timeout: Duration::from_secs(3),
            wait_timeout: Duration::from_secs(3),
        },
    )
    .await
    .expect("connect");
    let k = key(21);
    store.commit(append(k, None, 0, 1)).await.unwrap();
    let before = store.chain(&k).await.unwrap().expect("chain");

    // Connections the server kills while they idle in the pool are
    // dropped, not handed out again: at most one call fails for each.
    let admin = raw(&url).await;
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'depin-prover') AS t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 1, "no pooled connection to kill");
    drop(admin);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut read = store.chain(&k).await;
    for _ in 0..3 {
        match read {
            Err(StoreError::Unavailable(_)) => read = store.chain(&k).await,
            _ => break,
        }
    }
    assert_eq!(read.unwrap().as_ref(), Some(&before));

    // The server stops: reads and commits fail as unavailable, in time, and
    // nothing is written.
    let mut events = store.job_events().expect("job events");
    postgres_sh("stop", &dir).unwrap();
    let started = Instant::now();
    unavailable("a read", store.chain(&k).await, started);
    let started = Instant::now();
    unavailable("a count", store.device_count().await, started);
    let started = Instant::now();
    unavailable(
        "a commit",
        store.commit(append(k, Some(&before), 1, 2)).await,
        started,
    );
    let started = Instant::now();
    unavailable("a listing", store.records(&k).await, started);

    // Started again, on the same port: the same store serves again, and
    // what was committed before is there.
    let again = url_in(&postgres_sh("start", &dir).unwrap()).unwrap();
    assert_eq!(again, url, "the server came back on another port");
    let started = Instant::now();
    assert_eq!(store.chain(&k).await.unwrap().as_ref(), Some(&before));
    assert_eq!(store.records(&k).await.unwrap(), vec![heartbeat(0, 1)]);
    store
        .commit(append(k, Some(&before), 1, 2))
        .await
        .expect("a commit once the server is back");
    let now = store.chain(&k).await.unwrap().expect("chain");
    assert_eq!(now.len, 2);
    assert_eq!(
        store.records(&k).await.unwrap(),
        vec![heartbeat(0, 1), heartbeat(1, 2)]
    );
    eprintln!("serving again {:?} after the start", started.elapsed());
    // The job listener connected again, said so (whatever was announced
    // meanwhile is to be read again) and hears jobs again.
    let mut resynced = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    'heard: loop {
        let mut w = WriteBatch::default();
        w.push(Mutation::Job(JobRecord::new(key(22), 3)));
        store.commit(w).await.unwrap();
        let wait = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(e) = tokio::time::timeout_at(wait, events.recv()).await {
            match e {
                Ok(JobEvent::Resync) => resynced = true,
                Ok(JobEvent::Changed(k)) if k == key(22) && resynced => break 'heard,
                Ok(JobEvent::Changed(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => resynced = true,
                Err(e) => panic!("job events: {e}"),
            }
        }
        assert!(Instant::now() < deadline, "the listener never came back");
    }

    // And again, without a call between stop and start: the pooled
    // connections the server closed are not handed out, the first call
    // after the restart succeeds.
    let out = postgres_sh("restart", &dir).unwrap();
    assert_eq!(url_in(&out).unwrap(), url);
    assert_eq!(store.chain(&k).await.unwrap().map(|s| s.len), Some(2));
    assert_eq!(store.records(&k).await.unwrap().len(), 2);
    store.close().await;
    postgres_sh("stop", &dir).unwrap();
}
