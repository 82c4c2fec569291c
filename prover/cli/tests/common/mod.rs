//! What the tests of the real `depin-prover serve` binary share: a free
//! port, a node's configuration file, spawning the node.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use depin_testkit::service::TOKEN;

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
    let f = dir.join("prover.toml");
    std::fs::write(
        &f,
        format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics_listen = \"\"\ndata_dir = {:?}\noperator_token = \"{TOKEN}\"\n{extra}",
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
