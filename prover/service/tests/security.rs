//! A node's defences against strangers (`docs/security.md`): who may close
//! a device's epoch with `ProveEpoch`, error messages bounded whatever the
//! input, oversized messages refused with RESOURCE_EXHAUSTED, and
//! connections that send no request closed within the timeout while normal
//! clients keep being served.

use std::time::{Duration, Instant};

use depin_device_sdk::client::{pb, prove_request, UptimeChain};
use depin_device_sdk::signer::Device;
use depin_service::{start, Config};
use depin_statements::StatementKind;
use depin_testkit::service::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const EPOCH: u32 = 40;
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Sends `n` uptime heartbeats of `key` for `epoch` from slot `from`.
async fn heartbeats(
    prover: &mut depin_device_sdk::client::ProverClient,
    chain: &mut UptimeChain,
    beacon: depin_statements::Fr,
    from: u32,
    n: u32,
) -> pb::SubmitRecordsResponse {
    let slots: Vec<u32> = (from..from + n).collect();
    prover
        .submit(&chain.batch(&chain.heartbeats(beacon, &slots, 20)))
        .await
        .unwrap()
}

fn refused_out_of_epoch(r: &pb::SubmitRecordsResponse) -> bool {
    r.refused as usize == r.verdicts.len()
        && r.verdicts
            .iter()
            .all(|v| v.reason == pb::RejectReason::OutOfEpoch as i32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prove_epoch_on_an_open_epoch_needs_the_device_or_the_operator() {
    tokio::task::spawn_blocking(|| ensure_keys(StatementKind::Uptime))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path(), &["uptime"])).await.unwrap();
    let (mut prover, mut op) = clients(server.addr).await;
    let (d1, d2, d3, other) = (device(1), device(2), device(3), device(9));
    for k in [&d1, &d2, &d3, &other] {
        op.register_device(&k.public_key()).await.unwrap();
    }
    let b = |e: u32| depin_statements::Fr::from(BEACON + u64::from(e));
    op.publish_epoch(publish_request_with_beacon(
        EPOCH,
        BEACON + u64::from(EPOCH),
    ))
    .await
    .unwrap();
    let mut chains: Vec<UptimeChain> = [&d1, &d2, &d3]
        .iter()
        .map(|k| UptimeChain::new((*k).clone(), EPOCH))
        .collect();
    for c in chains.iter_mut() {
        assert_eq!(heartbeats(&mut prover, c, b(EPOCH), 0, 4).await.accepted, 4);
    }
    let id1 = d1.public_key().id();
    let up = pb::StatementKind::Uptime;

    // A stranger: refused, and the device's chain stays open.
    let s = status_of(prover.prove_epoch(&id1, up, EPOCH).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert!(
        s.message().contains("still takes records"),
        "{}",
        s.message()
    );
    assert_eq!(
        heartbeats(&mut prover, &mut chains[0], b(EPOCH), 4, 2)
            .await
            .accepted,
        2
    );
    // Another device's signature, a wrong token, a signature for another
    // statement: refused.
    let mut forged = prove_request(&Device::new(other.clone()), up, EPOCH, b(EPOCH));
    forged.device_id = depin_proto::convert::fr_pb(&id1);
    let s = status_of(prover.prove_epoch_request(&forged).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert!(s.message().contains("does not verify"), "{}", s.message());
    let mut wrong_kind = prove_request(
        &Device::new(d1.clone()),
        pb::StatementKind::Bandwidth,
        EPOCH,
        b(EPOCH),
    );
    wrong_kind.kind = up as i32;
    let s = status_of(prover.prove_epoch_request(&wrong_kind).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    let url = format!("http://{}", server.addr);
    let mut bad_op = depin_device_sdk::client::OperatorClient::connect(
        &url,
        "wrong-token-0123456",
        client_config(),
    )
    .await
    .unwrap();
    let s = status_of(bad_op.prove_epoch(&id1, up, EPOCH).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");

    // The device itself: accepted, and its chain is closed from then on.
    let signed = prove_request(&Device::new(d1.clone()), up, EPOCH, b(EPOCH));
    let j = prover.prove_epoch_request(&signed).await.unwrap();
    assert!(j.created);
    let r = heartbeats(&mut prover, &mut chains[0], b(EPOCH), 6, 2).await;
    assert!(refused_out_of_epoch(&r), "{r:?}");
    // The same request again asks for the same job.
    let again = prover.prove_epoch_request(&signed).await.unwrap();
    assert_eq!(
        (again.job_id.as_str(), again.created),
        (j.job_id.as_str(), false)
    );

    // The operator: accepted.
    let j2 = op
        .prove_epoch(&d2.public_key().id(), up, EPOCH)
        .await
        .unwrap();
    assert!(j2.created);

    // A captured request replayed into a later epoch: refused (the
    // signature covers the epoch and its beacon).
    op.publish_epoch(publish_request_with_beacon(
        EPOCH + 1,
        BEACON + u64::from(EPOCH + 1),
    ))
    .await
    .unwrap();
    let mut later = UptimeChain::new(d1.clone(), EPOCH + 1);
    assert_eq!(
        heartbeats(&mut prover, &mut later, b(EPOCH + 1), 0, 3)
            .await
            .accepted,
        3
    );
    let mut replayed = signed.clone();
    replayed.epoch = EPOCH + 1;
    let s = status_of(prover.prove_epoch_request(&replayed).await);
    assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
    assert_eq!(
        heartbeats(&mut prover, &mut later, b(EPOCH + 1), 3, 1)
            .await
            .accepted,
        1,
        "the later epoch's chain stays open"
    );

    // Once the epoch is out of the window (epoch_window = 2), anyone may
    // ask: no record can be added any more.
    op.publish_epoch(publish_request_with_beacon(
        EPOCH + 2,
        BEACON + u64::from(EPOCH + 2),
    ))
    .await
    .unwrap();
    let j3 = prover
        .prove_epoch(&d3.public_key().id(), up, EPOCH)
        .await
        .unwrap();
    assert!(j3.created);
    server.shutdown();
    server.handle().shutdown();
    server.wait().await.unwrap();
}

#[tokio::test]
async fn long_inputs_get_bounded_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(ingest_config(dir.path(), TOKEN)).await.unwrap();
    // A client with tonic's default limits (4 MiB messages, 16 KiB
    // metadata): it sees the real status, not a failure on the metadata.
    let mut raw = pb::prover_client::ProverClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap();
    for n in [100_000usize, 3_000_000] {
        let long = "7".repeat(n);
        let s = raw
            .get_job(pb::GetJobRequest {
                job_id: long.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().len() <= 1024, "{} bytes", s.message().len());
        assert!(
            s.message().contains(&format!("({n} characters)")),
            "{}",
            s.message()
        );
        println!(
            "a {n}-character job id: INVALID_ARGUMENT in {} bytes: {}",
            s.message().len(),
            s.message()
        );
        let s = raw
            .prove_epoch(pb::ProveEpochRequest {
                device_id: long.clone(),
                kind: pb::StatementKind::Uptime as i32,
                epoch: 1,
                device_signature: None,
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().len() <= 1024, "{} bytes", s.message().len());
        let s = raw
            .submit_records(pb::SubmitRecordsRequest {
                device_id: long,
                epoch: 1,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().len() <= 1024, "{} bytes", s.message().len());
    }
    server.shutdown();
    server.handle().shutdown();
    server.wait().await.unwrap();
}

#[tokio::test]
async fn oversized_messages_are_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        max_message_bytes: 4096,
        ..ingest_config(dir.path(), TOKEN)
    })
    .await
    .unwrap();
    let mut raw = pb::prover_client::ProverClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap();
    let s = raw
        .get_job(pb::GetJobRequest {
            job_id: "x".repeat(10_000),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(s.message().contains("too large"), "{}", s.message());
    // Within the limit: the request's own error.
    let s = raw
        .get_job(pb::GetJobRequest {
            job_id: "x".repeat(1000),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    server.shutdown();
    server.handle().shutdown();
    server.wait().await.unwrap();
}

/// Opens `n` connections that send the HTTP/2 preface and nothing else.
async fn preface_only(addr: std::net::SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(PREFACE).await.unwrap();
        v.push(s);
    }
    v
}

/// How long after `since` the peer closed `s` (reads until EOF or an
/// error; the server's SETTINGS frame is read and ignored).
async fn closed_after(mut s: tokio::net::TcpStream, since: Instant, limit: Duration) -> Duration {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return since.elapsed(),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_all)
        .await
        .expect("the connection was still open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn preface_only_connections_are_closed_while_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        handshake_timeout_s: 1.0,
        ..ingest_config(dir.path(), TOKEN)
    })
    .await
    .unwrap();
    let (mut prover, mut op) = clients(server.addr).await;
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    prover.get_policy(EPOCH).await.unwrap();
    let opened = Instant::now();
    let idle = preface_only(server.addr, 200).await;
    // A normal client keeps being served meanwhile, on one connection,
    // before and well after the timeout.
    let client = tokio::spawn(async move {
        let mut served = 0;
        while opened.elapsed() < Duration::from_millis(2500) {
            prover.get_policy(EPOCH).await.unwrap();
            served += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        served
    });
    let mut times: Vec<Duration> = futures_join(
        idle.into_iter()
            .map(|s| closed_after(s, opened, Duration::from_secs(5))),
    )
    .await;
    times.sort();
    let served = client.await.unwrap();
    assert!(served >= 20, "{served} calls served");
    let (first, last) = (times[0], times[times.len() - 1]);
    assert!(
        first >= Duration::from_millis(900),
        "closed early: {first:?}"
    );
    assert!(last <= Duration::from_millis(2500), "closed late: {last:?}");
    println!(
        "200 preface-only connections (handshake_timeout_s = 1): closed after {:.2} to {:.2} s; \
         {served} calls of a normal client served meanwhile",
        first.as_secs_f64(),
        last.as_secs_f64()
    );
    server.shutdown();
    server.handle().shutdown();
    server.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_past_the_cap_are_closed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        max_connections: 8,
        handshake_timeout_s: 2.0,
        ..ingest_config(dir.path(), TOKEN)
    })
    .await
    .unwrap();
    let held = preface_only(server.addr, 8).await;
    let t = Instant::now();
    let extra = preface_only(server.addr, 1).await;
    let closed = closed_after(extra.into_iter().next().unwrap(), t, Duration::from_secs(1)).await;
    assert!(closed < Duration::from_millis(1000), "{closed:?}");
    println!(
        "a connection past max_connections = 8 closed after {:.1} ms",
        closed.as_secs_f64() * 1e3
    );
    // Once the silent ones time out, clients get in again.
    for s in held {
        closed_after(s, t, Duration::from_secs(5)).await;
    }
    let (mut prover, _) = clients(server.addr).await;
    let s = status_of(prover.get_policy(EPOCH).await);
    assert_eq!(s.code(), Code::NotFound);
    server.shutdown();
    server.handle().shutdown();
    server.wait().await.unwrap();
}

/// Awaits every future, concurrently.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
