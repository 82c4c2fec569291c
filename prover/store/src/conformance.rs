//! The conformance suite every [`Store`] passes (feature `conformance`):
//! each store's tests run it on a fresh, empty store, so that the embedded
//! store and a database behave the same to the service.

use depin_batch::header::BatchHeader;
use depin_crypto::eddsa::PrivateKey;
use depin_statements::records::{
    CoverageClaim, Heartbeat, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, Fr, RejectReason, StatementKind, UptimePolicy, Verdict,
};

use crate::{
    BatchRecord, ChainKey, ChainState, ClaimRequest, Condition, EpochConfig, JobRecord, JobState,
    Lease, Mutation, Store, StoreError, StoredClaim, StoredHeartbeat, StoredReceipt, StoredRecord,
    WriteBatch,
};

fn key(device: u64, kind: StatementKind, epoch: u32) -> ChainKey {
    ChainKey {
        device: Fr::from(device),
        kind,
        epoch,
    }
}

fn heartbeat(slot: u32, head: u64) -> StoredRecord {
    StoredRecord::Heartbeat(StoredHeartbeat {
        heartbeat: Heartbeat {
            slot,
            response: Fr::from(1000 + u64::from(slot)),
            latency_ms: 40,
        },
        head: Fr::from(head),
        verdict: if slot % 3 == 0 {
            Verdict::Rejected(RejectReason::LatencyTooHigh)
        } else {
            Verdict::Accepted
        },
    })
}

fn epoch_config(epoch: u32, registry_size: u32) -> EpochConfig {
    EpochConfig {
        epoch,
        beacon: Fr::from(7u64 + u64::from(epoch)),
        uptime: UptimePolicy {
            slots_per_epoch: 96,
            floor_slots: 4,
            max_latency_ms: 200,
            base_reward: 100,
            reward_per_slot: 5,
            reward_cap: 100_000,
        },
        bandwidth: BandwidthPolicy {
            max_bytes_per_s: 1 << 20,
            rate_num: 3,
            rate_shift: 20,
            reward_cap: 1_000_000,
        },
        coverage: CoveragePolicy {
            min_witnesses: 2,
            reward_per_witness: 10,
            reward_cap: 1000,
            min_distance_m: 300,
            max_distance_m: 20_000,
            eirp_dbm: 27,
            k_q32: 1 << 20,
            cell_bits: 12,
        },
        registry_size,
        registry_root: Fr::from(99u64),
    }
}

fn report(witness: &PrivateKey, epoch: u32, beacon_id: Fr) -> SignedWitnessReport {
    let report = WitnessReport {
        witness: witness.public_key(),
        location: Location { x: 10, y: 20 },
        rssi_dbm: -90,
        beacon_id,
        epoch,
    };
    SignedWitnessReport {
        report,
        signature: witness.sign(&report.message()),
    }
}

/// A proving batch of `members` (devices) in `epoch`, the kind's number
/// `sequence`.
fn batch_record(kind: StatementKind, sequence: u64, epoch: u32, members: &[u64]) -> BatchRecord {
    BatchRecord {
        kind,
        sequence,
        batch_size: 4,
        header: BatchHeader {
            kind: kind.code(),
            version: 1,
            epoch,
            policy_hash: Fr::from(11u64),
            beacon: Fr::from(7u64 + u64::from(epoch)),
            registry_root: Fr::from(0u64),
            old_commitment: Fr::from(100 + sequence),
            new_commitment: Fr::from(101 + sequence),
        },
        public_data: (0..56 * members.len()).map(|i| i as u8).collect(),
        members: members.iter().map(|d| key(*d, kind, epoch)).collect(),
        state: JobState::Proving,
        failure: String::new(),
        proof: Vec::new(),
        created_ms: 1000 + sequence,
        finished_ms: 0,
        proving_ms: 0,
        attempts: 1,
        lease: None,
    }
}

async fn commit(store: &dyn Store, mutations: Vec<Mutation>, conditions: Vec<Condition>) {
    store
        .commit(WriteBatch {
            conditions,
            mutations,
        })
        .await
        .expect("commit");
}

async fn conflict(store: &dyn Store, mutations: Vec<Mutation>, conditions: Vec<Condition>) {
    let expected = conditions.last().cloned();
    match store
        .commit(WriteBatch {
            conditions,
            mutations,
        })
        .await
    {
        Err(StoreError::Conflict(c)) => assert_eq!(Some(c), expected),
        other => panic!("expected a conflict on {expected:?}, got {other:?}"),
    }
}

/// What [`write_sample`] wrote, for [`check_sample`].
#[derive(Debug, Clone)]
pub struct Sample {
    chain: ChainKey,
    records: Vec<StoredRecord>,
    state: ChainState,
    job: JobRecord,
    done: JobRecord,
    proof: Vec<u8>,
    batch: BatchRecord,
}

/// Writes one of everything into an empty store (what a reopened store
/// must still hold).
pub async fn write_sample(store: &dyn Store) -> Sample {
    let chain = key(5, StatementKind::Uptime, 1);
    let records: Vec<StoredRecord> = (0..3).map(|i| heartbeat(i, 50 + u64::from(i))).collect();
    let mut state = ChainState::new(Fr::from(1u64));
    state.len = 3;
    state.head = records[2].head();
    state.next_slot = 3;
    let mut batch = WriteBatch::default();
    for (i, r) in records.iter().enumerate() {
        batch.push(Mutation::Record(chain, i as u32, *r));
    }
    batch.push(Mutation::Chain(chain, state.clone()));
    batch.require(Condition::ChainTail {
        key: chain,
        tail: None,
    });
    store.commit(batch).await.expect("sample chain");
    let job = JobRecord::new(chain, 7);
    let mut done = JobRecord::new(key(6, StatementKind::Bandwidth, 1), 8);
    done.state = JobState::Done;
    done.reward = 42;
    done.batch = Some(0);
    done.verdicts = vec![
        Verdict::Accepted,
        Verdict::Rejected(RejectReason::Duplicate),
    ];
    let proof = vec![1, 2, 3, 4];
    commit(
        store,
        vec![
            Mutation::Job(job.clone()),
            Mutation::Job(done.clone()),
            Mutation::Proof(done.key, proof.clone()),
            Mutation::Epoch(epoch_config(1, 0)),
        ],
        vec![],
    )
    .await;
    // A coverage batch (the suite's other batches are of the other kinds).
    let batch = batch_record(StatementKind::Coverage, 0, 1, &[6, 7]);
    commit(
        store,
        vec![Mutation::Batch(batch.clone())],
        vec![Condition::BatchCount {
            kind: StatementKind::Coverage,
            count: 0,
        }],
    )
    .await;
    Sample {
        chain,
        records,
        state,
        job,
        done,
        proof,
        batch,
    }
}

/// Checks that `store` holds what [`write_sample`] wrote.
pub async fn check_sample(store: &dyn Store, s: &Sample) {
    assert_eq!(store.records(&s.chain).await.unwrap(), s.records);
    for (i, r) in s.records.iter().enumerate() {
        assert_eq!(store.record(&s.chain, i as u32).await.unwrap(), Some(*r));
    }
    assert_eq!(store.record(&s.chain, 3).await.unwrap(), None);
    assert_eq!(store.chain(&s.chain).await.unwrap(), Some(s.state.clone()));
    assert_eq!(store.unfinished_jobs().await.unwrap(), vec![s.job.clone()]);
    assert_eq!(store.job(&s.done.key).await.unwrap(), Some(s.done.clone()));
    assert_eq!(
        store.proof(&s.done.key).await.unwrap(),
        Some(s.proof.clone())
    );
    assert_eq!(store.latest_epoch().await.unwrap(), Some(1));
    assert_eq!(store.epoch(1).await.unwrap(), Some(epoch_config(1, 0)));
    let kind = s.batch.kind;
    assert_eq!(store.batch(kind, 0).await.unwrap(), Some(s.batch.clone()));
    assert_eq!(store.batches(kind, 0).await.unwrap(), vec![s.batch.clone()]);
    for device in [6u64, 7] {
        assert_eq!(
            store.device_batches(kind, &Fr::from(device)).await.unwrap(),
            vec![0]
        );
    }
}

/// Runs every check on an empty store.
pub async fn run(store: &dyn Store) {
    empty(store).await;
    leases(store).await;
    concurrent_claims(store).await;
    registry(store).await;
    let sample = write_sample(store).await;
    check_sample(store, &sample).await;
    chain_compare_and_set(store).await;
    jobs(store).await;
    coverage(store).await;
    epochs(store).await;
    concurrent_appends(store).await;
    batches(store).await;
    batch_leases(store).await;
}

async fn empty(store: &dyn Store) {
    let k = key(1, StatementKind::Uptime, 1);
    assert_eq!(store.device(&Fr::from(1u64)).await.unwrap(), None);
    assert_eq!(store.device_count().await.unwrap(), 0);
    assert!(store.device_ids().await.unwrap().is_empty());
    assert_eq!(store.client_count().await.unwrap(), 0);
    assert_eq!(store.client_index(&Fr::from(1u64)).await.unwrap(), None);
    assert_eq!(store.latest_epoch().await.unwrap(), None);
    assert_eq!(store.epoch(1).await.unwrap(), None);
    assert_eq!(store.chain(&k).await.unwrap(), None);
    assert!(store.records(&k).await.unwrap().is_empty());
    assert_eq!(store.job(&k).await.unwrap(), None);
    assert!(store.unfinished_jobs().await.unwrap().is_empty());
    assert_eq!(store.proof(&k).await.unwrap(), None);
    assert_eq!(store.batch(StatementKind::Uptime, 0).await.unwrap(), None);
    assert!(store
        .batches(StatementKind::Uptime, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .device_batches(StatementKind::Uptime, &Fr::from(1u64))
        .await
        .unwrap()
        .is_empty());
    // An empty batch with a true condition commits.
    commit(store, vec![], vec![Condition::DeviceCount(0)]).await;
}

async fn registry(store: &dyn Store) {
    let d1 = PrivateKey::from_bytes([1; 32]).public_key();
    let d2 = PrivateKey::from_bytes([2; 32]).public_key();
    commit(
        store,
        vec![Mutation::Device(d1.id(), d1)],
        vec![Condition::DeviceCount(0)],
    )
    .await;
    // Planned on an empty registry: refused, nothing written.
    conflict(
        store,
        vec![Mutation::Device(d2.id(), d2)],
        vec![Condition::DeviceCount(0)],
    )
    .await;
    assert_eq!(store.device_count().await.unwrap(), 1);
    assert_eq!(store.device(&d1.id()).await.unwrap(), Some(d1));
    assert_eq!(store.device(&d2.id()).await.unwrap(), None);
    commit(
        store,
        vec![Mutation::Device(d2.id(), d2)],
        vec![Condition::DeviceCount(1)],
    )
    .await;
    let mut ids = store.device_ids().await.unwrap();
    ids.sort_by_key(depin_crypto::field::fr_to_le_bytes);
    let mut want = vec![d1.id(), d2.id()];
    want.sort_by_key(depin_crypto::field::fr_to_le_bytes);
    assert_eq!(ids, want);
    // Clients take consecutive indices, each planned on the count.
    let clients: Vec<_> = (10..13u8)
        .map(|i| PrivateKey::from_bytes([i; 32]).public_key())
        .collect();
    for (i, c) in clients.iter().enumerate() {
        let index = i as u32;
        commit(
            store,
            vec![Mutation::Client {
                id: c.id(),
                index,
                key: *c,
            }],
            vec![Condition::ClientCount(index)],
        )
        .await;
    }
    conflict(
        store,
        vec![Mutation::Client {
            id: Fr::from(77u64),
            index: 1,
            key: clients[0],
        }],
        vec![Condition::ClientCount(1)],
    )
    .await;
    assert_eq!(store.client_count().await.unwrap(), 3);
    assert_eq!(store.client_index(&clients[2].id()).await.unwrap(), Some(2));
    assert_eq!(
        store.client_ids(2).await.unwrap(),
        vec![clients[0].id(), clients[1].id()]
    );
    assert_eq!(store.client_ids(3).await.unwrap().len(), 3);
}

async fn chain_compare_and_set(store: &dyn Store) {
    let k = key(21, StatementKind::Bandwidth, 3);
    let sk = PrivateKey::from_bytes([3; 32]);
    let rec = |i: u32| {
        StoredRecord::Receipt(StoredReceipt {
            receipt: SessionReceipt {
                device_id: k.device,
                client_id: Fr::from(9u64),
                epoch: 3,
                session: i,
                bytes: 1000,
                duration_s: 10,
            },
            client_key: sk.public_key(),
            client_signature: sk.sign(&Fr::from(u64::from(i))),
            head: Fr::from(300 + u64::from(i)),
            verdict: Verdict::Accepted,
        })
    };
    let state = |len: u32| {
        let mut s = ChainState::new(Fr::from(1u64));
        s.len = len;
        s.head = Fr::from(300 + u64::from(len) - 1);
        s.signature = Some(sk.sign(&s.head));
        s.accepted_sessions = (0..len).collect();
        s
    };
    commit(
        store,
        vec![Mutation::Record(k, 0, rec(0)), Mutation::Chain(k, state(1))],
        vec![
            Condition::ChainTail { key: k, tail: None },
            Condition::Job {
                key: k,
                state: None,
            },
        ],
    )
    .await;
    // A second writer planned on the empty chain: refused, nothing written.
    conflict(
        store,
        vec![Mutation::Record(k, 0, rec(5)), Mutation::Chain(k, state(1))],
        vec![Condition::ChainTail { key: k, tail: None }],
    )
    .await;
    assert_eq!(store.records(&k).await.unwrap(), vec![rec(0)]);
    let tail = Some((1, Fr::from(300u64)));
    commit(
        store,
        vec![Mutation::Record(k, 1, rec(1)), Mutation::Chain(k, state(2))],
        vec![Condition::ChainTail { key: k, tail }],
    )
    .await;
    // The old tail again: refused.
    conflict(
        store,
        vec![Mutation::Record(k, 1, rec(7)), Mutation::Chain(k, state(2))],
        vec![Condition::ChainTail { key: k, tail }],
    )
    .await;
    assert_eq!(store.records(&k).await.unwrap(), vec![rec(0), rec(1)]);
    assert_eq!(store.chain(&k).await.unwrap(), Some(state(2)));
}

async fn jobs(store: &dyn Store) {
    let k = key(31, StatementKind::Uptime, 4);
    let job = JobRecord::new(k, 100);
    commit(
        store,
        vec![Mutation::Job(job.clone())],
        vec![Condition::Job {
            key: k,
            state: None,
        }],
    )
    .await;
    // A job exists: a chain append planned on "no job" is refused.
    conflict(
        store,
        vec![Mutation::Record(k, 0, heartbeat(1, 1))],
        vec![Condition::Job {
            key: k,
            state: None,
        }],
    )
    .await;
    assert!(store.records(&k).await.unwrap().is_empty());
    let mut failed = job.clone();
    failed.state = JobState::Failed;
    failed.failure = "the proof does not verify".into();
    commit(
        store,
        vec![Mutation::Job(failed.clone())],
        vec![Condition::Job {
            key: k,
            state: Some(JobState::Queued),
        }],
    )
    .await;
    assert_eq!(store.job(&k).await.unwrap(), Some(failed.clone()));
    assert!(!store
        .unfinished_jobs()
        .await
        .unwrap()
        .iter()
        .any(|j| j.key == k));
    // Re-queued from FAILED, planned on FAILED.
    let mut again = failed.clone();
    again.state = JobState::Queued;
    again.failure.clear();
    conflict(
        store,
        vec![Mutation::Job(again.clone())],
        vec![Condition::Job {
            key: k,
            state: Some(JobState::Queued),
        }],
    )
    .await;
    commit(
        store,
        vec![Mutation::Job(again.clone())],
        vec![Condition::Job {
            key: k,
            state: Some(JobState::Failed),
        }],
    )
    .await;
    let unfinished = store.unfinished_jobs().await.unwrap();
    assert!(unfinished.contains(&again));
    assert!(unfinished
        .windows(2)
        .all(|w| w[0].created_ms <= w[1].created_ms));
}

fn claim_request(node: &str, now_ms: u64) -> ClaimRequest {
    ClaimRequest {
        kinds: vec![StatementKind::Uptime],
        node: node.into(),
        now_ms,
        lease_ms: 500,
    }
}

/// Jobs claimed by workers of several nodes: oldest first, each under one
/// lease, taken over once the lease ends, the old holder fenced off.
async fn leases(store: &dyn Store) {
    let uptime = |d| key(d, StatementKind::Uptime, 60);
    let (a, b) = (uptime(601), uptime(602));
    let mut batched = JobRecord::new(uptime(603), 50);
    batched.state = JobState::Proving;
    batched.batch = Some(0);
    let other_kind = JobRecord::new(key(604, StatementKind::Bandwidth, 60), 10);
    commit(
        store,
        vec![
            Mutation::Job(JobRecord::new(b, 200)),
            Mutation::Job(JobRecord::new(a, 100)),
            Mutation::Job(batched.clone()),
            Mutation::Job(other_kind.clone()),
        ],
        vec![],
    )
    .await;
    assert_eq!(store.queued_jobs(10).await.unwrap(), 3);
    assert_eq!(store.queued_jobs(1).await.unwrap(), 1);

    // Oldest first; a batch's member and another statement are not taken.
    let first = store.claim_job(&claim_request("n1", 1000)).await.unwrap();
    let first = first.expect("a queued job");
    assert_eq!(first.key, a);
    assert_eq!((first.state, first.attempts), (JobState::Proving, 1));
    let lease = |node: &str, until_ms| {
        Some(Lease {
            node: node.into(),
            until_ms,
        })
    };
    assert_eq!(first.lease, lease("n1", 1500));
    assert_eq!(store.job(&a).await.unwrap(), Some(first.clone()));
    let second = store.claim_job(&claim_request("n1", 1000)).await.unwrap();
    assert_eq!(second.as_ref().map(|j| j.key), Some(b));
    assert_eq!(
        store.claim_job(&claim_request("n2", 1400)).await.unwrap(),
        None
    );
    assert_eq!(store.queued_jobs(10).await.unwrap(), 1);

    // n1 renews a's lease with its attempt.
    let mut renewed = first.clone();
    renewed.lease = lease("n1", 2000);
    let held = |job: &JobRecord| Condition::Attempt {
        key: job.key,
        state: JobState::Proving,
        attempts: job.attempts,
        lease_until_ms: None,
    };
    commit(
        store,
        vec![Mutation::Job(renewed.clone())],
        vec![held(&first)],
    )
    .await;
    // b's lease ended (1500), a's did not: n2 takes b over.
    let taken = store.claim_job(&claim_request("n2", 1600)).await.unwrap();
    let taken = taken.expect("b's lease ended");
    assert_eq!((taken.key, taken.attempts), (b, 2));
    assert_eq!(taken.lease, lease("n2", 2100));
    assert_eq!(
        store.claim_job(&claim_request("n3", 1700)).await.unwrap(),
        None
    );

    // n1, presumed dead, finishes b late: fenced off, nothing written.
    let mut late = taken.clone();
    late.attempts = 1;
    late.state = JobState::Done;
    conflict(
        store,
        vec![Mutation::Proof(b, vec![1; 8]), Mutation::Job(late.clone())],
        vec![held(&second.clone().expect("claimed"))],
    )
    .await;
    assert_eq!(store.proof(&b).await.unwrap(), None);
    // A claim planned on a lease that was renewed since is refused too.
    conflict(
        store,
        vec![Mutation::Job(
            first.clone().claimed(&claim_request("n3", 1600)),
        )],
        vec![Condition::Attempt {
            key: a,
            state: JobState::Proving,
            attempts: 1,
            lease_until_ms: Some(1500),
        }],
    )
    .await;
    // n2 finishes b with its attempt: one proof.
    let mut done = taken.clone();
    done.state = JobState::Done;
    done.lease = None;
    commit(
        store,
        vec![Mutation::Proof(b, vec![2; 8]), Mutation::Job(done.clone())],
        vec![held(&taken)],
    )
    .await;
    assert_eq!(store.proof(&b).await.unwrap(), Some(vec![2; 8]));
    assert_eq!(store.job(&b).await.unwrap(), Some(done));

    // A PROVING job without a lease (a build without leases) is taken.
    let mut legacy = JobRecord::new(uptime(605), 300);
    legacy.state = JobState::Proving;
    legacy.attempts = 3;
    commit(store, vec![Mutation::Job(legacy.clone())], vec![]).await;
    let resumed = store.claim_job(&claim_request("n3", 1700)).await.unwrap();
    assert_eq!(
        resumed.as_ref().map(|j| (j.key, j.attempts)),
        Some((legacy.key, 4))
    );

    // Leave nothing claimable for the other checks.
    let mut finish = Vec::new();
    for k in [a, legacy.key, uptime(603)] {
        let mut j = store.job(&k).await.unwrap().expect("stored");
        j.state = JobState::Done;
        j.lease = None;
        finish.push(Mutation::Job(j));
    }
    let mut j = other_kind;
    j.state = JobState::Done;
    finish.push(Mutation::Job(j));
    commit(store, finish, vec![]).await;
    assert_eq!(store.queued_jobs(10).await.unwrap(), 0);
}

/// A batch taken over once its lease ends, the old holder fenced off.
async fn batch_leases(store: &dyn Store) {
    let kind = StatementKind::Coverage;
    let n = store.batches(kind, 0).await.unwrap().len() as u64;
    let mut formed = batch_record(kind, n, 70, &[701, 702]);
    formed.attempts = 0;
    formed.lease = Some(Lease {
        node: "former".into(),
        until_ms: 1000,
    });
    commit(
        store,
        vec![Mutation::Batch(formed.clone())],
        vec![Condition::BatchCount { kind, count: n }],
    )
    .await;
    assert_eq!(store.batch(kind, n).await.unwrap(), Some(formed.clone()));
    assert!(!formed.lease_ended(1000) && formed.lease_ended(1001));
    let on = |b: &BatchRecord, until: Option<u64>| Condition::BatchAttempt {
        kind,
        sequence: b.sequence,
        state: b.state,
        attempts: b.attempts,
        lease_until_ms: until,
    };
    let take = |b: &BatchRecord, node: &str, until_ms| {
        let mut t = b.clone();
        t.attempts += 1;
        t.lease = Some(Lease {
            node: node.into(),
            until_ms,
        });
        t
    };
    // Two nodes take it over on what they read: one wins.
    let mine = take(&formed, "n1", 5000);
    commit(
        store,
        vec![Mutation::Batch(mine.clone())],
        vec![on(&formed, Some(1000))],
    )
    .await;
    conflict(
        store,
        vec![Mutation::Batch(take(&formed, "n2", 5000))],
        vec![on(&formed, Some(1000))],
    )
    .await;
    assert_eq!(store.batch(kind, n).await.unwrap(), Some(mine.clone()));
    // A renewal under the attempt holds; the former's finish does not.
    let mut renewed = mine.clone();
    renewed.lease = Some(Lease {
        node: "n1".into(),
        until_ms: 9000,
    });
    commit(
        store,
        vec![Mutation::Batch(renewed.clone())],
        vec![on(&mine, None)],
    )
    .await;
    let mut late = formed.clone();
    late.state = JobState::Done;
    late.proof = vec![7; 4];
    conflict(store, vec![Mutation::Batch(late)], vec![on(&formed, None)]).await;
    let mut done = renewed.clone();
    done.state = JobState::Done;
    done.lease = None;
    done.proof = vec![8; 4];
    commit(
        store,
        vec![Mutation::Batch(done.clone())],
        vec![on(&renewed, None)],
    )
    .await;
    assert_eq!(store.batch(kind, n).await.unwrap(), Some(done.clone()));
    assert!(!done.lease_ended(u64::MAX));
    // A batch that does not exist holds no attempt.
    conflict(
        store,
        vec![Mutation::Batch(take(&done, "n3", 1))],
        vec![Condition::BatchAttempt {
            kind,
            sequence: n + 1,
            state: JobState::Proving,
            attempts: 0,
            lease_until_ms: None,
        }],
    )
    .await;
}

/// Many workers at once on many queued jobs: each taken exactly once.
async fn concurrent_claims(store: &dyn Store) {
    let uptime = |d| key(d, StatementKind::Uptime, 60);
    // Many workers at once on many queued jobs: each taken exactly once.
    let many: Vec<ChainKey> = (0..6).map(|i| uptime(610 + i)).collect();
    commit(
        store,
        many.iter()
            .map(|k| Mutation::Job(JobRecord::new(*k, 400)))
            .collect(),
        vec![],
    )
    .await;
    let nodes: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
    let claims = futures_join_all(
        nodes
            .iter()
            .map(|n| async move { store.claim_job(&claim_request(n, 1800)).await.unwrap() }),
    )
    .await;
    let mut got: Vec<ChainKey> = claims.iter().flatten().map(|j| j.key).collect();
    assert!(got.len() <= many.len(), "a job was claimed twice: {got:?}");
    // Workers that found every candidate taken claim the rest now.
    while let Some(j) = store.claim_job(&claim_request("w", 1800)).await.unwrap() {
        got.push(j.key);
    }
    got.sort_by_key(|k| k.to_bytes());
    let mut want = many.clone();
    want.sort_by_key(|k| k.to_bytes());
    assert_eq!(got, want);

    let finish = many
        .iter()
        .map(|k| {
            let mut j = JobRecord::new(*k, 400);
            j.state = JobState::Done;
            Mutation::Job(j)
        })
        .collect();
    commit(store, finish, vec![]).await;
    assert_eq!(store.queued_jobs(10).await.unwrap(), 0);
}

async fn coverage(store: &dyn Store) {
    let epoch = 9;
    let device = Fr::from(41u64);
    let sk = PrivateKey::from_bytes([4; 32]);
    let claim = StoredClaim {
        claim: CoverageClaim {
            device_id: device,
            epoch,
            location: Location { x: 1, y: 2 },
            beacon_id: Fr::from(55u64),
        },
        signature: sk.sign(&Fr::from(1u64)),
    };
    commit(
        store,
        vec![Mutation::Claim(device, epoch, claim)],
        vec![Condition::NoClaim { device, epoch }],
    )
    .await;
    conflict(
        store,
        vec![Mutation::Claim(device, epoch, claim)],
        vec![Condition::NoClaim { device, epoch }],
    )
    .await;
    assert_eq!(store.claim(&device, epoch).await.unwrap(), Some(claim));
    assert_eq!(store.claim(&device, epoch + 1).await.unwrap(), None);
    let beacon_id = Fr::from(55u64);
    commit(
        store,
        vec![Mutation::Beacon {
            epoch,
            beacon_id,
            device,
        }],
        vec![],
    )
    .await;
    assert_eq!(
        store.beacon_device(epoch, &beacon_id).await.unwrap(),
        Some(device)
    );
    assert_eq!(
        store.beacon_device(epoch + 1, &beacon_id).await.unwrap(),
        None
    );
    let witnesses: Vec<PrivateKey> = (60..63u8)
        .map(|i| PrivateKey::from_bytes([i; 32]))
        .collect();
    for (i, w) in witnesses.iter().enumerate() {
        let r = report(w, epoch, beacon_id);
        commit(
            store,
            vec![Mutation::Report(r)],
            vec![
                Condition::NoReport {
                    epoch,
                    beacon_id,
                    witness: r.report.witness_id(),
                },
                Condition::ReportCount {
                    epoch,
                    beacon_id,
                    count: i,
                },
            ],
        )
        .await;
    }
    let r0 = report(&witnesses[0], epoch, beacon_id);
    conflict(
        store,
        vec![Mutation::Report(r0)],
        vec![Condition::NoReport {
            epoch,
            beacon_id,
            witness: r0.report.witness_id(),
        }],
    )
    .await;
    let extra = report(&PrivateKey::from_bytes([70; 32]), epoch, beacon_id);
    conflict(
        store,
        vec![Mutation::Report(extra)],
        vec![Condition::ReportCount {
            epoch,
            beacon_id,
            count: 2,
        }],
    )
    .await;
    let stored = store.reports(epoch, &beacon_id).await.unwrap();
    assert_eq!(stored.len(), 3);
    let ids: Vec<Vec<u8>> = stored
        .iter()
        .map(|r| depin_crypto::field::fr_to_le_bytes(&r.report.witness_id()).to_vec())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "reports come ordered by witness id");
    assert_eq!(
        store
            .report(epoch, &beacon_id, &witnesses[1].public_key().id())
            .await
            .unwrap(),
        Some(report(&witnesses[1], epoch, beacon_id))
    );
    assert!(store
        .reports(epoch + 1, &beacon_id)
        .await
        .unwrap()
        .is_empty());
}

async fn epochs(store: &dyn Store) {
    let latest = store.latest_epoch().await.unwrap();
    let next = latest.map_or(1, |e| e + 1) + 10;
    commit(
        store,
        vec![Mutation::Epoch(epoch_config(next, 3))],
        vec![Condition::NoEpoch(next), Condition::LatestEpoch(latest)],
    )
    .await;
    conflict(
        store,
        vec![Mutation::Epoch(epoch_config(next, 3))],
        vec![Condition::NoEpoch(next)],
    )
    .await;
    conflict(
        store,
        vec![Mutation::Epoch(epoch_config(next + 1, 3))],
        vec![Condition::LatestEpoch(latest)],
    )
    .await;
    assert_eq!(store.latest_epoch().await.unwrap(), Some(next));
    assert_eq!(
        store.epoch(next).await.unwrap(),
        Some(epoch_config(next, 3))
    );
    assert_eq!(store.epoch(next + 1).await.unwrap(), None);
}

async fn concurrent_appends(store: &dyn Store) {
    // Eight writers plan on the same tail at once: exactly one appends.
    let k = key(51, StatementKind::Uptime, 2);
    let attempt = |i: u64| {
        let mut s = ChainState::new(Fr::from(1u64));
        s.len = 1;
        s.head = Fr::from(500 + i);
        WriteBatch {
            conditions: vec![Condition::ChainTail { key: k, tail: None }],
            mutations: vec![
                Mutation::Record(k, 0, heartbeat(1, 500 + i)),
                Mutation::Chain(k, s),
            ],
        }
    };
    let results = futures_join_all((0..8).map(|i| store.commit(attempt(i)))).await;
    let won: Vec<usize> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.is_ok().then_some(i))
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for r in &results {
        assert!(matches!(r, Ok(()) | Err(StoreError::Conflict(_))), "{r:?}");
    }
    let records = store.records(&k).await.unwrap();
    assert_eq!(records, vec![heartbeat(1, 500 + won[0] as u64)]);
    assert_eq!(
        store.chain(&k).await.unwrap().map(|s| s.head),
        Some(records[0].head())
    );
}

async fn batches(store: &dyn Store) {
    let kind = StatementKind::Uptime;
    let other = StatementKind::Bandwidth;
    let count = |count| Condition::BatchCount { kind, count };
    let b0 = batch_record(kind, 0, 5, &[81, 82, 83]);
    commit(store, vec![Mutation::Batch(b0.clone())], vec![count(0)]).await;
    assert_eq!(store.batch(kind, 0).await.unwrap(), Some(b0.clone()));
    assert_eq!(store.batch(kind, 1).await.unwrap(), None);
    assert_eq!(store.batches(kind, 0).await.unwrap(), vec![b0.clone()]);
    assert!(store.batches(kind, 1).await.unwrap().is_empty());
    for d in [81u64, 82, 83] {
        assert_eq!(
            store.device_batches(kind, &Fr::from(d)).await.unwrap(),
            vec![0]
        );
    }
    assert!(store
        .device_batches(kind, &Fr::from(84u64))
        .await
        .unwrap()
        .is_empty());
    // A second batch planned on no batch: refused, nothing written.
    let stale = batch_record(kind, 0, 5, &[84]);
    conflict(store, vec![Mutation::Batch(stale)], vec![count(0)]).await;
    assert_eq!(store.batches(kind, 0).await.unwrap(), vec![b0.clone()]);
    assert!(store
        .device_batches(kind, &Fr::from(84u64))
        .await
        .unwrap()
        .is_empty());
    // Another kind's batches are numbered on their own.
    assert!(store.batches(other, 0).await.unwrap().is_empty());
    assert!(store
        .device_batches(other, &Fr::from(81u64))
        .await
        .unwrap()
        .is_empty());
    let o0 = batch_record(other, 0, 5, &[81]);
    commit(
        store,
        vec![Mutation::Batch(o0.clone())],
        vec![Condition::BatchCount {
            kind: other,
            count: 0,
        }],
    )
    .await;
    assert_eq!(store.batches(other, 0).await.unwrap(), vec![o0.clone()]);
    assert_eq!(store.batches(kind, 0).await.unwrap(), vec![b0.clone()]);
    assert_eq!(
        store.device_batches(other, &Fr::from(81u64)).await.unwrap(),
        vec![0]
    );
    // The next batch, planned on one, with its members' jobs pointing at it.
    let b1 = batch_record(kind, 1, 6, &[82, 84]);
    let mut job = JobRecord::new(key(84, kind, 6), 300);
    job.state = JobState::Proving;
    job.batch = Some(1);
    commit(
        store,
        vec![Mutation::Batch(b1.clone()), Mutation::Job(job.clone())],
        vec![
            count(1),
            Condition::Job {
                key: job.key,
                state: None,
            },
        ],
    )
    .await;
    assert_eq!(store.job(&job.key).await.unwrap(), Some(job.clone()));
    assert_eq!(
        store.batches(kind, 0).await.unwrap(),
        vec![b0.clone(), b1.clone()]
    );
    assert_eq!(store.batches(kind, 1).await.unwrap(), vec![b1.clone()]);
    assert!(store.batches(kind, 2).await.unwrap().is_empty());
    assert_eq!(
        store.device_batches(kind, &Fr::from(82u64)).await.unwrap(),
        vec![0, 1]
    );
    assert_eq!(
        store.device_batches(kind, &Fr::from(84u64)).await.unwrap(),
        vec![1]
    );
    assert_eq!(
        store.device_batches(kind, &Fr::from(81u64)).await.unwrap(),
        vec![0]
    );
    // Planned on the old count: refused.
    conflict(
        store,
        vec![Mutation::Batch(batch_record(kind, 1, 6, &[85]))],
        vec![count(1)],
    )
    .await;
    assert_eq!(store.batch(kind, 1).await.unwrap(), Some(b1.clone()));
    // The proof is stored: the batch is replaced, the count is the same.
    let mut done = b0.clone();
    done.state = JobState::Done;
    done.proof = vec![7; 256];
    done.finished_ms = 2000;
    done.proving_ms = 900;
    commit(store, vec![Mutation::Batch(done.clone())], vec![count(2)]).await;
    assert_eq!(store.batch(kind, 0).await.unwrap(), Some(done.clone()));
    assert_eq!(
        store.batches(kind, 0).await.unwrap(),
        vec![done.clone(), b1.clone()]
    );
    assert_eq!(
        store.device_batches(kind, &Fr::from(82u64)).await.unwrap(),
        vec![0, 1]
    );
    // The job's batch is cleared again, and set again.
    let mut unbatched = job.clone();
    unbatched.batch = None;
    commit(store, vec![Mutation::Job(unbatched.clone())], vec![]).await;
    assert_eq!(store.job(&job.key).await.unwrap(), Some(unbatched));
    commit(store, vec![Mutation::Job(job.clone())], vec![]).await;
    assert_eq!(store.job(&job.key).await.unwrap(), Some(job));
}

/// Polls every future to completion concurrently (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
