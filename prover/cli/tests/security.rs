//! `depin-prover serve` as an operator deploys it (`docs/security.md`):
//! what it creates is owner-only under the usual umask 022, a node secret
//! others can read or of the wrong size stops it, and on an address that is
//! not loopback it refuses development keys (made or found) unless
//! `--allow-insecure`, and warns about plain text and public metrics.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::free_port;

/// A configuration in `dir` without metrics: `extra` TOML lines after the
/// common ones.
fn write_config(dir: &Path, listen: &str, extra: &str) -> PathBuf {
    write_config_with_metrics(dir, listen, "", extra)
}

fn write_config_with_metrics(dir: &Path, listen: &str, metrics: &str, extra: &str) -> PathBuf {
    common::write_config_at(
        dir,
        listen,
        metrics,
        &format!("shutdown_grace_s = 1\n{extra}"),
    )
}

/// `depin-prover serve --config <config> <args>` under umask 022, its log
/// (standard output and error) in `<dir>/node.log`.
fn spawn(config: &Path, args: &[&str]) -> Child {
    let log_path = config.with_file_name("node.log");
    let log = std::fs::File::create(&log_path).unwrap();
    Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" serve --config \"$@\"")
        .arg(env!("CARGO_BIN_EXE_depin-prover"))
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn depin-prover serve")
}

fn log_of(config: &Path) -> String {
    std::fs::read_to_string(config.with_file_name("node.log")).unwrap_or_default()
}

/// Waits until the node answers on `port` (`Ok`), or exits (`Err` with its
/// log).
async fn serves(child: &mut Child, config: &Path, port: u16) -> Result<Duration, String> {
    common::serves(child, port, Duration::from_secs(60), |_| log_of(config)).await
}

/// Waits for the node to exit on its own; returns its log.
fn refused(mut child: Child, config: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "exited with {status}");
            return log_of(config);
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the node started: {}", log_of(config));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn files_are_owner_only_and_a_shared_secret_stops_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let config = write_config(dir.path(), &listen, "dev_keys = false\nstatements = []\n");
    let mut node = spawn(&config, &[]);
    serves(&mut node, &config, port).await.unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
    let data = dir.path().join("data");
    let (db, secret) = (data.join("prover.redb"), data.join("node.secret"));
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&db), 0o600, "the database");
    assert_eq!(mode(&secret), 0o600, "the node secret");
    println!(
        "under umask 022: data directory {:o}, prover.redb {:o}, node.secret {:o}",
        mode(&data),
        mode(&db),
        mode(&secret)
    );

    // A secret others can read stops the node, with the fix.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = refused(spawn(&config, &[]), &config);
    assert!(
        log.contains("node.secret") && log.contains("chmod 600"),
        "{log}"
    );
    // Unless allowed, loudly.
    let mut node = spawn(&config, &["--allow-insecure"]);
    serves(&mut node, &config, port).await.unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
    assert!(
        log_of(&config).contains("allow_insecure = true"),
        "{}",
        log_of(&config)
    );
    assert_eq!(mode(&secret), 0o644, "left as it was");

    // A secret of the wrong size is refused, never replaced.
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&secret, [7u8; 31]).unwrap();
    let log = refused(spawn(&config, &[]), &config);
    assert!(log.contains("31 bytes, a node secret has 32"), "{log}");
    assert_eq!(std::fs::read(&secret).unwrap(), [7u8; 31]);
}

#[tokio::test]
async fn a_public_address_refuses_development_keys_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let public = format!("0.0.0.0:{port}");
    // Development keys that would be made (the defaults).
    let keys = dir.path().join("keys");
    let config = write_config(
        dir.path(),
        &public,
        &format!("keys_dir = {keys:?}\nstatements = [\"uptime\"]\n"),
    );
    let t = Instant::now();
    let log = refused(spawn(&config, &[]), &config);
    println!(
        "--listen 0.0.0.0 with the default dev_keys: refused after {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert!(log.contains("refusing to start"), "{log}");
    for what in [
        "INSECURE development keys",
        "dev_keys = false",
        "allow_insecure",
    ] {
        assert!(log.contains(what), "{what}: {log}");
    }
    assert!(!keys.exists(), "no key was made");

    // Development keys found on disk (marked), dev_keys off: refused too.
    let uptime = keys.join("uptime");
    std::fs::create_dir_all(&uptime).unwrap();
    std::fs::write(uptime.join("proving_key.bin"), b"not a key").unwrap();
    depin_groth16::keys::mark_dev(&uptime, 7).unwrap();
    let config = write_config(
        dir.path(),
        &public,
        &format!("keys_dir = {keys:?}\nstatements = [\"uptime\"]\ndev_keys = false\n"),
    );
    let log = refused(spawn(&config, &[]), &config);
    assert!(log.contains("refusing to start"), "{log}");

    // --allow-insecure starts, with the warning.
    let mut node = spawn(&config, &["--allow-insecure"]);
    serves(&mut node, &config, port).await.unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
    let log = log_of(&config);
    assert!(
        log.contains("allow_insecure = true") && log.contains("INSECURE development keys"),
        "{log}"
    );
}

#[tokio::test]
async fn a_public_address_warns_about_plain_text_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config_with_metrics(
        dir.path(),
        &format!("0.0.0.0:{port}"),
        "0.0.0.0:0",
        "statements = []\n",
    );
    let mut node = spawn(&config, &[]);
    serves(&mut node, &config, port).await.unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
    let log = log_of(&config);
    assert!(
        log.contains("plain-text gRPC") && log.contains("tls_cert"),
        "{log}"
    );
    assert!(log.contains("metrics_listen"), "{log}");
}
