//! The gRPC service end to end with a real tonic client on loopback: every
//! statement from signed records to a proof that verifies, each class of bad
//! input, operator authentication, health, reflection and metrics.

use depin_crypto::eddsa::PrivateKey;
use depin_device_sdk::client::{
    coverage_claim, pb, witness_reports, BandwidthChain, ClientReceipt, OperatorClient,
    ProverClient, UptimeChain,
};
use depin_device_sdk::signer::Device;
use depin_service::start;
use depin_statements::records::{beacon_id, Heartbeat, Location, SessionReceipt};
use depin_statements::{Fr, RejectReason, StatementKind};
use depin_testkit::service::*;
use tonic::Code;

fn statuses(r: &pb::SubmitRecordsResponse) -> Vec<(pb::RecordStatus, pb::RejectReason)> {
    r.verdicts
        .iter()
        .map(|v| {
            (
                pb::RecordStatus::try_from(v.status).unwrap(),
                pb::RejectReason::try_from(v.reason).unwrap(),
            )
        })
        .collect()
}

const ACC: (pb::RecordStatus, pb::RejectReason) =
    (pb::RecordStatus::Accepted, pb::RejectReason::Unspecified);

fn rejected(r: RejectReason) -> (pb::RecordStatus, pb::RejectReason) {
    (
        pb::RecordStatus::Rejected,
        pb::RejectReason::from_code(r.code()).unwrap(),
    )
}

fn refused(r: RejectReason) -> (pb::RecordStatus, pb::RejectReason) {
    (
        pb::RecordStatus::Refused,
        pb::RejectReason::from_code(r.code()).unwrap(),
    )
}

/// Bandwidth: four receipts; a repeated session and an unregistered
/// client are rejected by the reference's rules.
async fn submit_bandwidth(
    prover: &mut ProverClient,
    bw: &PrivateKey,
    c1: &PrivateKey,
    c2: &PrivateKey,
    unregistered: &PrivateKey,
) {
    let bw_id = bw.public_key().id();
    let receipt = |client: &depin_crypto::eddsa::PrivateKey, session: u32, bytes: u64| {
        ClientReceipt::sign(
            client,
            SessionReceipt {
                device_id: bw_id,
                client_id: client.public_key().id(),
                epoch: EPOCH,
                session,
                bytes,
                duration_s: 60,
            },
        )
    };
    let mut bchain = BandwidthChain::new(bw.clone(), EPOCH);
    let receipts = [
        receipt(c1, 1, 10 << 20),
        receipt(c2, 2, 20 << 20),
        receipt(c1, 2, 5 << 20),
        receipt(unregistered, 3, 1 << 20),
    ];
    let r = prover.submit(&bchain.batch(&receipts)).await.unwrap();
    assert_eq!(
        statuses(&r),
        vec![
            ACC,
            ACC,
            rejected(RejectReason::Duplicate),
            rejected(RejectReason::ClientNotRegistered)
        ]
    );
}

/// Coverage: the claim, three plausible witnesses and one too close
/// (decided when proving: the report is kept, the proof excludes it).
async fn submit_coverage(prover: &mut ProverClient, cov: &PrivateKey, witnesses: &[PrivateKey]) {
    let home = Location {
        x: 1_000_000,
        y: 2_000_000,
    };
    let r = prover
        .submit(&coverage_claim(cov, EPOCH, beacon(), home))
        .await
        .unwrap();
    assert_eq!(statuses(&r), vec![ACC]);
    let bid = beacon_id(beacon(), cov.public_key().id());
    for (i, w) in witnesses.iter().enumerate() {
        let at = if i == 3 {
            Location {
                x: home.x + 100,
                y: home.y,
            }
        } else {
            Location {
                x: home.x + 1000 + 200 * i as u32,
                y: home.y,
            }
        };
        let r = prover
            .submit(&witness_reports(w, EPOCH, &[(bid, at, 27 - 110)]))
            .await
            .unwrap();
        assert_eq!(statuses(&r), vec![ACC], "witness {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_happy_path_proves_all_three_statements() {
    tokio::task::spawn_blocking(|| {
        for k in [
            StatementKind::Uptime,
            StatementKind::Bandwidth,
            StatementKind::Coverage,
        ] {
            ensure_keys(k);
        }
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path(), &["uptime", "bandwidth", "coverage"]))
        .await
        .unwrap();
    let (mut prover, mut op) = clients(server.addr).await;

    let (up, bw, cov) = (device(1), device(2), device(3));
    let witnesses: Vec<_> = (50..54).map(device).collect();
    for k in [&up, &bw, &cov].into_iter().chain(witnesses.iter()) {
        assert!(op.register_device(&k.public_key()).await.unwrap().created);
    }
    let c1 = device(30);
    let c2 = device(31);
    assert_eq!(op.register_client(&c1.public_key()).await.unwrap().index, 0);
    assert_eq!(op.register_client(&c2.public_key()).await.unwrap().index, 1);
    let unregistered = device(32);
    let published = op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    assert!(published.created);
    assert_eq!(published.published.as_ref().unwrap().registry_size, 2);

    // Uptime: 12 heartbeats in two batches; one too slow, one with a wrong
    // response: stored (they are in the signed chain), rejected.
    let mut chain = UptimeChain::new(up.clone(), EPOCH);
    let hbs = chain.heartbeats(beacon(), &(0..6).collect::<Vec<_>>(), 40);
    let r = prover.submit(&chain.batch(&hbs)).await.unwrap();
    assert_eq!(statuses(&r), vec![ACC; 6]);
    let mut hbs = chain.heartbeats(beacon(), &(6..12).collect::<Vec<_>>(), 40);
    hbs[1].latency_ms = 500;
    hbs[3] = Heartbeat {
        response: beacon(),
        ..hbs[3]
    };
    let second = chain.batch(&hbs);
    let r = prover.submit(&second).await.unwrap();
    let mut expected = vec![ACC; 6];
    expected[1] = rejected(RejectReason::LatencyTooHigh);
    expected[3] = rejected(RejectReason::WrongChallenge);
    assert_eq!(statuses(&r), expected);
    // A retry gets the same answer and stores nothing new.
    let again = prover.submit(&second).await.unwrap();
    assert_eq!(again.verdicts, r.verdicts);

    submit_bandwidth(&mut prover, &bw, &c1, &c2, &unregistered).await;
    submit_coverage(&mut prover, &cov, &witnesses).await;

    // Prove all three and check each proof.
    let mut jobs = Vec::new();
    for (key, kind) in [
        (&up, pb::StatementKind::Uptime),
        (&bw, pb::StatementKind::Bandwidth),
        (&cov, pb::StatementKind::Coverage),
    ] {
        // Asked by the device itself (the epoch still takes records).
        let j = prover
            .prove_epoch_signed(&Device::new(key.clone()), kind, EPOCH)
            .await
            .unwrap();
        assert!(j.created);
        // Idempotent (and the operator may ask too).
        let again = op
            .prove_epoch(&key.public_key().id(), kind, EPOCH)
            .await
            .unwrap();
        assert_eq!(again.job_id, j.job_id);
        assert!(!again.created);
        jobs.push((j.job_id, kind));
    }
    let mut rewards = Vec::new();
    for (id, kind) in &jobs {
        let job = prover.wait_job(id).await.unwrap();
        assert_eq!(
            pb::JobState::try_from(job.state).unwrap(),
            pb::JobState::Done,
            "{id}: {}",
            job.failure
        );
        let proof = prover.get_proof(id).await.unwrap();
        let vk = prover.get_verifying_key(*kind).await.unwrap();
        assert!(proof_verifies(&vk, &proof), "{id}");
        assert!(
            vk.snarkjs_json.contains("\"protocol\": \"groth16\"")
                || vk.snarkjs_json.contains("groth16")
        );
        assert_eq!(proof.calldata_function, "claim(uint256[8],uint256[])");
        assert_eq!(
            proof.calldata.len(),
            4 + 32 * (10 + proof.public_inputs.len())
        );
        eprintln!(
            "{id}: proved in {} ms (attempts {})",
            job.proving_ms, job.attempts
        );
        rewards.push((job.reward, job.records_accepted, job.records_rejected));
        // After proving, new records for the epoch are refused.
        if *kind == pb::StatementKind::Uptime {
            assert_eq!(job.verdicts, {
                let mut v = r_uptime_verdicts();
                v.truncate(12);
                v
            });
            let more = chain.heartbeats(beacon(), &[20], 40);
            let r = prover.submit(&chain.batch(&more)).await.unwrap();
            assert_eq!(statuses(&r), vec![refused(RejectReason::OutOfEpoch)]);
            // A retry of a stored batch still gets its answer.
            let again = prover.submit(&second).await.unwrap();
            assert_eq!(statuses(&again), expected);
        }
    }
    // Uptime: 10 counted, floor 4: 100 + 5 * 6. Bandwidth: 30 MiB * 3 / 2^20.
    // Coverage: 3 valid witnesses * 10.
    assert_eq!(rewards[0], (130, 10, 2));
    assert_eq!(rewards[1], (90, 2, 2));
    assert_eq!(rewards[2], (30, 3, 0));
    server.shutdown();
    server.wait().await.unwrap();
}

/// The uptime verdicts of the happy path, in proof order.
fn r_uptime_verdicts() -> Vec<pb::RecordVerdict> {
    let mut v = vec![
        pb::RecordVerdict {
            status: pb::RecordStatus::Accepted as i32,
            reason: 0,
        };
        12
    ];
    v[7] = pb::RecordVerdict {
        status: pb::RecordStatus::Rejected as i32,
        reason: pb::RejectReason::LatencyTooHigh as i32,
    };
    v[9] = pb::RecordVerdict {
        status: pb::RecordStatus::Rejected as i32,
        reason: pb::RejectReason::WrongChallenge as i32,
    };
    v
}

/// Operator calls without or with a wrong token: UNAUTHENTICATED.
async fn check_operator_auth(url: &str, channel: tonic::transport::Channel, dev: &PrivateKey) {
    let mut anon = pb::operator_client::OperatorClient::new(channel);
    let s = anon
        .register_device(pb::RegisterDeviceRequest {
            public_key: Some(depin_device_sdk::client::point(&dev.public_key().0)),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert!(
        s.message().contains("without credentials"),
        "{}",
        s.message()
    );
    let mut wrong = depin_device_sdk::client::OperatorClient::connect(
        url,
        "not-the-token-at-all",
        client_config(),
    )
    .await
    .unwrap();
    let s = status_of(wrong.register_device(&dev.public_key()).await);
    assert_eq!(s.code(), Code::Unauthenticated);
}

/// Records before registration, before publication; policies and epochs.
async fn check_registration_and_epochs(
    prover: &mut ProverClient,
    op: &mut OperatorClient,
    dev: &PrivateKey,
    batch: &pb::SubmitRecordsRequest,
) {
    // Records before the device is registered: NOT_FOUND.
    let s = status_of(prover.submit(batch).await);
    assert_eq!(s.code(), Code::NotFound);
    assert!(s.message().contains("not registered"), "{}", s.message());

    assert!(op.register_device(&dev.public_key()).await.unwrap().created);
    assert!(!op.register_device(&dev.public_key()).await.unwrap().created);
    // No epoch published yet: every record refused, out of epoch.
    let r = prover.submit(batch).await.unwrap();
    assert_eq!(statuses(&r), vec![refused(RejectReason::OutOfEpoch); 3]);

    // Invalid policy: INVALID_ARGUMENT naming it.
    let mut bad = publish_request(EPOCH);
    bad.uptime.as_mut().unwrap().floor_slots = 0;
    let s = status_of(op.publish_epoch(bad).await);
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("uptime policy"), "{}", s.message());
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    assert!(
        !op.publish_epoch(publish_request(EPOCH))
            .await
            .unwrap()
            .created
    );
    let mut other = publish_request(EPOCH);
    other.beacon = "5".into();
    let s = status_of(op.publish_epoch(other).await);
    assert_eq!(s.code(), Code::AlreadyExists);
    let pol = prover.get_policy(EPOCH).await.unwrap();
    assert_eq!(pol.beacon, BEACON.to_string());
    assert_eq!(
        status_of(prover.get_policy(EPOCH + 1).await).code(),
        Code::NotFound
    );
}

/// Deadlines, malformed fields, forks and forged heads against the stored
/// chain, which goes on.
async fn check_chains(
    prover: &mut ProverClient,
    chain: &mut UptimeChain,
    dev: &PrivateKey,
    batch: &pb::SubmitRecordsRequest,
) {
    // A deadline too short to meet, then the same batch again: the chain is
    // consistent whichever way the first attempt ended.
    let mut req = tonic::Request::new(batch.clone());
    req.set_timeout(std::time::Duration::from_micros(1));
    let _ = prover.raw().submit_records(req).await;
    let r = prover.submit(batch).await.unwrap();
    assert_eq!(statuses(&r), vec![ACC; 3]);

    // Malformed field: INVALID_ARGUMENT naming it.
    let mut m = chain.clone().batch(&chain.heartbeats(beacon(), &[3], 10));
    if let Some(pb::submit_records_request::Records::Uptime(b)) = m.records.as_mut() {
        b.records[0].head = "12ab".into();
    }
    let s = status_of(prover.submit(&m).await);
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().starts_with("uptime.records[0].head"),
        "{}",
        s.message()
    );
    let s = status_of(
        prover
            .submit(&pb::SubmitRecordsRequest {
                device_id: "1".into(),
                epoch: EPOCH,
                records: None,
            })
            .await,
    );
    assert_eq!(s.code(), Code::InvalidArgument);

    // A chain that does not continue the stored one: refused, chain broken.
    let mut fork = UptimeChain::new(dev.clone(), EPOCH);
    let r = prover
        .submit(&fork.batch(&fork.heartbeats(beacon(), &[5], 10)))
        .await
        .unwrap();
    assert_eq!(statuses(&r), vec![refused(RejectReason::ChainBroken)]);
    // A head signed by another key: refused, bad signature.
    let mut forged = chain.clone();
    let impostor = device(9);
    let mut fb = forged.batch(&forged.heartbeats(beacon(), &[5], 10));
    if let Some(pb::submit_records_request::Records::Uptime(b)) = fb.records.as_mut() {
        let head = depin_crypto::field::fr_from_decimal(&b.records[0].head).unwrap();
        b.records[0].head_signature =
            Some(depin_device_sdk::client::signature(&impostor.sign(&head)));
    }
    let r = prover.submit(&fb).await.unwrap();
    assert_eq!(statuses(&r), vec![refused(RejectReason::BadSignature)]);
    // The genuine chain goes on; a repeated slot and a slot out of the
    // epoch are stored and rejected.
    let mut hbs = chain.heartbeats(beacon(), &[3, 3, 200], 10);
    hbs[2].slot = 200;
    let r = prover.submit(&chain.batch(&hbs)).await.unwrap();
    assert_eq!(
        statuses(&r),
        vec![
            ACC,
            rejected(RejectReason::Duplicate),
            rejected(RejectReason::OutOfEpoch)
        ]
    );
}

/// Batches over the record, byte and chain capacity limits.
async fn check_limits(prover: &mut ProverClient, chain: &mut UptimeChain) {
    // Too many records: INVALID_ARGUMENT; too many bytes: refused by size.
    let many: Vec<u32> = (0..201).collect();
    let big = chain.clone().batch(&chain.heartbeats(beacon(), &many, 10));
    let s = status_of(prover.submit(&big).await);
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().contains("exceeds the limit of 200"),
        "{}",
        s.message()
    );
    let mut huge = chain.clone().batch(&chain.heartbeats(beacon(), &[90], 10));
    huge.device_id = "1".repeat(300 << 10);
    let s = status_of(prover.submit(&huge).await);
    assert!(
        matches!(s.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{s:?}"
    );
    assert!(s.message().contains("too large"), "{}", s.message());

    // Past the capacity of 96 heartbeats: refused. Signed only at its end,
    // the batch's signed head lies past the capacity, so nothing of it can
    // be stored; signing every head stores what fits.
    let rest: Vec<u32> = (4..96).collect();
    let r = prover
        .submit(&chain.clone().batch(&chain.heartbeats(beacon(), &rest, 10)))
        .await
        .unwrap();
    assert_eq!(
        statuses(&r),
        vec![refused(RejectReason::CapacityExceeded); rest.len()]
    );
    chain.sign = depin_device_sdk::client::SignHeads::Every;
    let r = prover
        .submit(&chain.batch(&chain.heartbeats(beacon(), &rest, 10)))
        .await
        .unwrap();
    let st = statuses(&r);
    assert_eq!(st.iter().filter(|s| **s == ACC).count(), 90, "{st:?}");
    assert_eq!(st[90..], [refused(RejectReason::CapacityExceeded); 2]);
}

/// Jobs: malformed id, unknown job, nothing to prove, proof not ready.
async fn check_jobs(prover: &mut ProverClient, op: &mut OperatorClient, dev_id: &Fr) {
    let s = status_of(prover.get_job("nope").await);
    assert_eq!(s.code(), Code::InvalidArgument);
    let unknown = format!("uptime-{EPOCH}-{}", "0".repeat(64));
    assert_eq!(
        status_of(prover.get_job(&unknown).await).code(),
        Code::NotFound
    );
    let other = device(2);
    op.register_device(&other.public_key()).await.unwrap();
    let s = status_of(
        op.prove_epoch(&other.public_key().id(), pb::StatementKind::Uptime, EPOCH)
            .await,
    );
    assert_eq!(s.code(), Code::FailedPrecondition);
    assert!(s.message().contains("nothing to prove"), "{}", s.message());
    let s = status_of(
        op.prove_epoch(dev_id, pb::StatementKind::Bandwidth, EPOCH)
            .await,
    );
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
    let s = status_of(
        op.prove_epoch(dev_id, pb::StatementKind::Uptime, EPOCH + 7)
            .await,
    );
    assert_eq!(s.code(), Code::NotFound);
    let j = op
        .prove_epoch(dev_id, pb::StatementKind::Uptime, EPOCH)
        .await
        .unwrap();
    let s = status_of(prover.get_proof(&j.job_id).await);
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
}

/// Health and reflection.
async fn check_health_and_reflection(channel: tonic::transport::Channel) {
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "depin.prover.v1.Prover".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // grpc.reflection.v1 (grpcurl) and v1alpha (grpcio-reflection,
    // grpc_cli): the services listed, and the file defining one found.
    use tonic_reflection::pb::{v1, v1alpha};
    let mut refl = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let requests = [
        v1::server_reflection_request::MessageRequest::ListServices(String::new()),
        v1::server_reflection_request::MessageRequest::FileContainingSymbol(
            "depin.prover.v1.Prover".into(),
        ),
    ]
    .map(|m| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    });
    let mut stream = refl
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let listed = format!("{:?}", stream.message().await.unwrap().unwrap());
    assert!(listed.contains("depin.prover.v1.Prover"), "{listed}");
    assert!(listed.contains("depin.prover.v1.Operator"), "{listed}");
    match stream.message().await.unwrap().unwrap().message_response {
        Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(f)) => {
            assert!(!f.file_descriptor_proto.is_empty());
        }
        other => panic!("v1: no file descriptor for the Prover service: {other:?}"),
    }

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let requests = [
        v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "depin.prover.v1.Operator".into(),
        ),
    ]
    .map(|m| v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    });
    let mut stream = alpha
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let listed = format!("{:?}", stream.message().await.unwrap().unwrap());
    assert!(listed.contains("depin.prover.v1.Prover"), "{listed}");
    assert!(listed.contains("grpc.health.v1.Health"), "{listed}");
    match stream.message().await.unwrap().unwrap().message_response {
        Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(f)) => {
            assert!(!f.file_descriptor_proto.is_empty());
        }
        other => panic!("v1alpha: no file descriptor for the Operator service: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_refuses_each_class_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &["uptime"]);
    cfg.max_batch_records = 200;
    cfg.max_message_bytes = 256 << 10;
    let server = start(cfg).await.unwrap();
    let (mut prover, mut op) = clients(server.addr).await;
    let dev = device(1);
    let dev_id = dev.public_key().id();

    let url = format!("http://{}", server.addr);
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    check_operator_auth(&url, channel.clone(), &dev).await;
    let mut chain = UptimeChain::new(dev.clone(), EPOCH);
    let hbs = chain.heartbeats(beacon(), &[0, 1, 2], 10);
    let batch = chain.batch(&hbs);
    check_registration_and_epochs(&mut prover, &mut op, &dev, &batch).await;
    check_chains(&mut prover, &mut chain, &dev, &batch).await;
    check_limits(&mut prover, &mut chain).await;
    check_jobs(&mut prover, &mut op, &dev_id).await;
    check_health_and_reflection(channel).await;

    // Metrics.
    let text = http_get(server.metrics_addr.unwrap(), "/metrics").await;
    assert!(text.contains("depin_records_total"), "{text}");
    assert!(text.contains("reason=\"chain_broken\""), "{text}");
    assert!(text.contains("depin_queue_depth"), "{text}");
    server.shutdown();
    server.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_full_queue_is_resource_exhausted() {
    tokio::task::spawn_blocking(|| ensure_keys(StatementKind::Uptime))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &["uptime"]);
    cfg.queue_capacity = 1;
    cfg.workers = 1;
    let server = start(cfg).await.unwrap();
    let (mut prover, mut op) = clients(server.addr).await;
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut ids = Vec::new();
    for i in 1..=4u8 {
        let d = device(i);
        op.register_device(&d.public_key()).await.unwrap();
        let mut chain = UptimeChain::new(d.clone(), EPOCH);
        let r = prover
            .submit(&chain.batch(&chain.heartbeats(beacon(), &[0, 1], 10)))
            .await
            .unwrap();
        assert_eq!(r.accepted, 2);
        ids.push(d.public_key().id());
    }
    let mut exhausted = 0;
    for id in &ids {
        match op.prove_epoch(id, pb::StatementKind::Uptime, EPOCH).await {
            Ok(_) => {}
            Err(e) => {
                let s = status_of::<()>(Err(e));
                assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
                assert!(s.message().contains("queue is full"), "{}", s.message());
                exhausted += 1;
                // Nothing was stored for the refused job.
                let job = format!("uptime-{EPOCH}-{}", {
                    let mut b = depin_crypto::field::fr_to_le_bytes(id);
                    b.reverse();
                    hex::encode(b)
                });
                assert_eq!(status_of(prover.get_job(&job).await).code(), Code::NotFound);
            }
        }
    }
    assert!(exhausted >= 2, "{exhausted}");
    server.shutdown();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), server.wait()).await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
