//! The load balancer's health check (`depin_service::haproxy`), sent as
//! HAProxy sends it, raw bytes over TCP, to a real node: a serving node
//! answers SERVING; a draining one does not.

use std::time::Duration;

use depin_service::haproxy::{health_check_request, SERVING_RESPONSE};
use depin_service::{start, Config};
use depin_testkit::service::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends the check and reads for at most 500 ms: whether the answer held
/// the SERVING message.
async fn check(addr: std::net::SocketAddr) -> bool {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&health_check_request()).await.unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
        if got
            .windows(SERVING_RESPONSE.len())
            .any(|w| w == SERVING_RESPONSE)
        {
            return true;
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
