//! Crash recovery with the real `depin-prover serve` binary: kill -9 while
//! a job is proving, start again on the same data, and the job completes
//! with the same result; every acknowledged record is still there. Also a
//! SIGTERM stops the server cleanly.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::free_port;
use std::time::{Duration, Instant};

use depin_device_sdk::client::{pb, UptimeChain};
use depin_statements::StatementKind;
use depin_testkit::service::*;

fn spawn(config: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_file_name("server.log"))
        .unwrap();
    common::spawn(config, "info", Stdio::from(log), Stdio::inherit())
}

async fn connect(
    port: u16,
) -> (
    depin_device_sdk::client::ProverClient,
    depin_device_sdk::client::OperatorClient,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return clients(format!("127.0.0.1:{port}").parse().unwrap()).await;
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    common::write_config(
        dir,
        port,
        &format!(
            "keys_dir = {:?}\ndev_seed = {SEED}\nstatements = [\"uptime\"]\nshutdown_grace_s = 2\n",
            keys_dir()
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_kill_9_during_proving_then_restart_completes_the_job() {
    tokio::task::spawn_blocking(|| ensure_keys(StatementKind::Uptime))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(dir.path(), port);
    let mut child = spawn(&cfg);
    let (mut prover, mut op) = connect(port).await;
    let dev = device(1);
    op.register_device(&dev.public_key()).await.unwrap();
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut chain = UptimeChain::new(dev.clone(), EPOCH);
    let mut acked = 0;
    for b in 0..4u32 {
        let slots: Vec<u32> = (b * 20..b * 20 + 20).collect();
        let r = prover
            .submit(&chain.batch(&chain.heartbeats(beacon(), &slots, 30)))
            .await
            .unwrap();
        acked += r.accepted;
    }
    assert_eq!(acked, 80);
    let job = op
        .prove_epoch(&dev.public_key().id(), pb::StatementKind::Uptime, EPOCH)
        .await
        .unwrap();
    // Wait until it is proving, then kill -9.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = prover.get_job(&job.job_id).await.unwrap();
        let st = pb::JobState::try_from(j.state).unwrap();
        assert_ne!(st, pb::JobState::Failed, "{}", j.failure);
        assert_ne!(st, pb::JobState::Done, "the proof finished before the kill");
        if st == pb::JobState::Proving {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Restart on the same data: the job resumes and completes.
    let mut child = spawn(&cfg);
    let (mut prover, _) = connect(port).await;
    let done = tokio::time::timeout(Duration::from_secs(600), prover.wait_job(&job.job_id)).await;
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    let Ok(done) = done else {
        let _ = child.kill();
        panic!("job did not finish after the restart; server log:\n{log}");
    };
    let done = done.unwrap();
    assert_eq!(
        pb::JobState::try_from(done.state).unwrap(),
        pb::JobState::Done,
        "{}",
        done.failure
    );
    assert_eq!(
        done.attempts, 2,
        "the interrupted attempt and the resumed one"
    );
    // Every acknowledged record is in the proof: 80 counted, floor 4.
    assert_eq!(done.records_accepted, 80);
    assert_eq!(done.reward, 100 + 5 * 76);
    let proof = prover.get_proof(&job.job_id).await.unwrap();
    let vk = prover
        .get_verifying_key(pb::StatementKind::Uptime)
        .await
        .unwrap();
    assert!(proof_verifies(&vk, &proof));

    // SIGTERM: a clean stop.
    let pid = child.id().to_string();
    let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(st.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
