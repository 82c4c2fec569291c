//! The load balancer's health check (`depin_service::haproxy`), sent as
//! HAProxy sends it, raw bytes over TCP, to a real node: a serving node
//! answers SERVING; a draining one does not.

use std::time::Duration;

use depin_service::haproxy::{health_check_request, SERVING_RESPONSE};
use depin_service::{start, Config};
use depin_testkit::service::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The answer of a NOT_SERVING node (status 2).
const NOT_SERVING_RESPONSE: [u8; 7] = [0, 0, 0, 0, 2, 0x08, 0x02];

/// Sends the check and reads for at most 5 s: whether the answer held the
/// SERVING message (true) or the NOT_SERVING one (false).
async fn check(addr: std::net::SocketAddr) -> bool {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&health_check_request()).await.unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => panic!("no health answer: {got:02x?}"),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
        let holds = |m: &[u8]| got.windows(m.len()).any(|w| w == m);
        if holds(&SERVING_RESPONSE) {
            return true;
        }
        if holds(&NOT_SERVING_RESPONSE) {
            return false;
        }
    }
}

#[tokio::test]
async fn a_serving_node_passes_the_check_and_a_draining_one_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        drain_s: 5.0,
        ..ingest_config(dir.path(), TOKEN)
    })
    .await
    .unwrap();
    assert!(check(server.addr).await, "a serving node failed the check");
    server.shutdown();
    // Draining: still answering, NOT_SERVING.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !check(server.addr).await,
        "a draining node passed the check"
    );
    server.shutdown();
    server.wait().await.unwrap();
}
