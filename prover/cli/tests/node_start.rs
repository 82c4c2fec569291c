//! A node's first start is as safe as its steady state: `depin-prover serve`
//! on an empty data directory, killed with SIGKILL at moments spread over
//! the first 50 ms after it is spawned, always starts and serves on the same
//! directory afterwards, and leaves nothing of the interrupted start behind.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::free_port;
use std::time::Duration;

/// Kills spread over 0 to 50 ms after the spawn.
const TRIES: u32 = 60;
const SPREAD_MS: u32 = 50;

/// An ingest-only node's configuration in `dir`, on `port`.
fn write_config(dir: &Path, port: u16) -> PathBuf {
    common::write_config(
        dir,
        port,
        "dev_keys = false\nstatements = []\nshutdown_grace_s = 1\n",
    )
}

fn spawn(config: &Path) -> Child {
    common::spawn(config, "warn", Stdio::null(), Stdio::piped())
}

/// Waits until the node at `port` serves; `Err` with its standard error
/// (the panic message) when it exits first.
async fn serves(child: &mut Child, port: u16) -> Result<Duration, String> {
    common::serves(child, port, Duration::from_secs(30), |c| {
        let mut err = String::new();
        if let Some(mut e) = c.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        err
    })
    .await
}

/// Names in `dir` (recursively) that look like leftovers of an
/// interrupted start.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains(".tmp") {
            out.push(name.clone());
        }
        if e.path().is_dir() {
            out.extend(leftovers(&e.path()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_the_first_start_never_bricks_the_data_directory() {
    let mut failures = Vec::new();
    let mut restart = Vec::new();
    for i in 0..TRIES {
        let tmp = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = write_config(tmp.path(), port);
        let delay = Duration::from_micros(u64::from(i * SPREAD_MS * 1000 / TRIES));
        let mut first = spawn(&cfg);
        std::thread::sleep(delay);
        first.kill().unwrap(); // SIGKILL
        first.wait().unwrap();
        let mut second = spawn(&cfg);
        match serves(&mut second, port).await {
            Ok(t) => restart.push(t),
            Err(e) => failures.push(format!("killed after {delay:?}: {e}")),
        }
        let _ = second.kill();
        let _ = second.wait();
        let left = leftovers(&tmp.path().join("data"));
        if !left.is_empty() {
            failures.push(format!("killed after {delay:?}: left {left:?}"));
        }
    }
    restart.sort();
    eprintln!(
        "{TRIES} kills over {SPREAD_MS} ms of the first start: {} failed; restart to serving: median {:?}, max {:?}",
        failures.len(),
        restart.get(restart.len() / 2),
        restart.last()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
