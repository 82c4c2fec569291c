//! What the tests of the real `depin-prover` binary share: running a
//! command and reading its exit code and output; for `serve`, a free
//! port, a node's configuration file, spawning the node, waiting until it
//! serves.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use depin_device_sdk::client::{ClientConfig, ClientError, ProverClient};
use depin_testkit::service::TOKEN;
use tonic::Code;

/// Runs `depin-prover` with `args` and waits for it.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depin-prover"))
        .args(args)
        .output()
        .expect("run depin-prover")
}

/// The exit code of `out`.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

/// The standard output of `out`.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The standard error of `out`, which must not report a panic.
pub fn stderr(out: &Output) -> String {
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!e.contains("panicked"), "panic: {e}");
    e
}

/// `path` as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// `dir/prover.toml`: a node on loopback `port` with its data in
/// `dir/data`, no metrics, the test operator token, then `extra` (more
/// TOML lines, e.g. `statements = []`).
pub fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    write_config_at(dir, &format!("127.0.0.1:{port}"), "", extra)
}

/// `dir/prover.toml` as [`write_config`], listening on `listen` with
/// metrics on `metrics` (empty: none).
pub fn write_config_at(dir: &Path, listen: &str, metrics: &str, extra: &str) -> PathBuf {
    let f = dir.join("prover.toml");
    std::fs::write(
        &f,
        format!(
            "listen = \"{listen}\"\nmetrics_listen = \"{metrics}\"\ndata_dir = {:?}\noperator_token = \"{TOKEN}\"\n{extra}",
            dir.join("data"),
        ),
    )
    .expect("write the configuration");
    f
}

/// `depin-prover serve --config config`, logging at `log` to `stderr`.
pub fn spawn(config: &Path, log: &str, stdout: Stdio, stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_depin-prover"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", log)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn depin-prover serve")
}

/// Waits until the node `child` on loopback `port` answers a request (an
/// epoch nobody published: NOT_FOUND) and returns how long that took; or
/// `Err` with `log(child)` when the process exits first or `within` runs
/// out.
pub async fn serves(
    child: &mut Child,
    port: u16,
    within: Duration,
    log: impl Fn(&mut Child) -> String,
) -> Result<Duration, String> {
    let start = Instant::now();
    let cfg = ClientConfig {
        timeout: Duration::from_secs(2),
        retries: 0,
        ..ClientConfig::default()
    };
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}: {}", log(child)));
        }
        if let Ok(mut c) =
            ProverClient::connect(&format!("http://127.0.0.1:{port}"), cfg.clone()).await
        {
            match c.get_policy(1).await {
                Err(ClientError::Status(s)) if s.code() == Code::NotFound => {
                    return Ok(start.elapsed())
                }
                Ok(_) => return Err("an epoch nobody published".into()),
                Err(_) => {}
            }
        }
        if start.elapsed() > within {
            return Err(format!("did not serve within {within:?}: {}", log(child)));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
