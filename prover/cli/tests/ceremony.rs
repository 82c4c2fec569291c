//! The trusted-setup commands. In CI: the statement's `.r1cs`, a small
//! development powers of tau (refused without the insecure flag), its hash
//! check, and `zkey new` refusing a powers of tau too small for the
//! statement, naming the power it needs. Opt-in (`scripts/ceremony.sh`,
//! minutes at full size): the whole ceremony of the uptime statement from
//! the command line (`zkey new`, a contribution, a beacon, `zkey verify`
//! from the statement and from the initial key, a key of another statement
//! refused, the verifying key, the witness, a proof from the `.zkey` that
//! `verify` accepts with the exported `vk.json`, the Solidity verifier of
//! the key) and a node that proves a device's epoch with the ceremony's key
//! (`<keys_dir>/uptime/final.zkey`).

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use depin_device_sdk::client::{pb, UptimeChain};
use depin_service::start;
use depin_testkit::service::{beacon, clients, config, device, proof_verifies, publish_request};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depin-prover"))
        .args(args)
        .current_dir(depin_testkit::repo_root())
        .output()
        .expect("run depin-prover")
}

/// Runs `args`, expecting success, and returns the standard output.
fn ok(args: &[&str]) -> String {
    let start = Instant::now();
    let out = run(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {}\n{stdout}\n{stderr}",
        out.status
    );
    eprintln!("{} {}: {:.1?}", args[0], args[1], start.elapsed());
    stdout
}

/// Runs `args`, expecting exit status 2, and returns the standard error.
fn refused(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The hash printed under `title` (four lines of hex words), as one hex
/// string.
fn hash_after(text: &str, title: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(title)).skip(1);
    (0..4)
        .filter_map(|_| lines.next())
        .flat_map(|l| l.split_whitespace())
        .collect()
}

/// `ptau dev --power power` into `out`: refused without the insecure flag
/// (nothing written), then made; returns the BLAKE2b-512 it printed.
fn dev_ptau(out: &Path, power: &str) -> String {
    let err = refused(&["ptau", "dev", "--power", power, "--out", p(out)]);
    assert!(err.contains("insecure"), "{err}");
    assert!(!out.exists());
    let made = ok(&[
        "ptau",
        "dev",
        "--power",
        power,
        "--out",
        p(out),
        "--insecure-dev-setup",
    ]);
    let hash = hash_after(&made, "File BLAKE2b-512:");
    assert_eq!(hash.len(), 128, "{made}");
    hash
}

#[test]
fn the_setup_commands_check_their_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let f = |name: &str| tmp.path().join(name);
    let info = ok(&[
        "export-r1cs",
        "--statement",
        "uptime",
        "--out",
        p(&f("uptime.r1cs")),
    ]);
    assert!(info.contains("# of Constraints: 103096"), "{info}");
    assert!(info.contains("# of Public Inputs: 5"), "{info}");

    let hash = dev_ptau(&f("dev.ptau"), "8");
    let checked = ok(&["ptau", "check", p(&f("dev.ptau")), "--blake2b", &hash]);
    assert!(checked.contains('8'), "{checked}");
    let err = refused(&[
        "ptau",
        "check",
        p(&f("dev.ptau")),
        "--blake2b",
        &"00".repeat(64),
    ]);
    assert!(err.to_lowercase().contains("blake2b"), "{err}");

    // Uptime's domain is 2^17: snarkjs's circuit hash reads power 18.
    let err = refused(&[
        "zkey",
        "new",
        "--statement",
        "uptime",
        "--ptau",
        p(&f("dev.ptau")),
        "--out",
        p(&f("uptime.zkey")),
    ]);
    assert!(err.contains("18"), "{err}");
    assert!(!f("uptime.zkey").exists());
    let err = refused(&[
        "prove",
        "--statement",
        "uptime",
        "--zkey",
        p(&f("missing.zkey")),
        "--input",
        "examples/epochs/uptime.json",
        "--out",
        p(&f("proof")),
    ]);
    assert!(err.contains("missing.zkey"), "{err}");
}

/// `zkey verify` of the ceremony's final key in `dir`, from the statement
/// and from the initial key; `mine` is a contribution hash it holds.
fn verify_through_the_command_line(dir: &Path, mine: &str) {
    let f = |name: &str| dir.join(name);
    let transcript = ok(&[
        "zkey",
        "verify",
        "--statement",
        "uptime",
        "--ptau",
        p(&f("dev.ptau")),
        p(&f("uptime_final.zkey")),
        "--contains",
        mine,
    ]);
    assert!(
        transcript.contains("contribution #1 first contributor"),
        "{transcript}"
    );
    assert!(
        transcript.contains("contribution #2 final beacon"),
        "{transcript}"
    );
    assert!(
        transcript.contains("contribution #1 is in the transcript"),
        "{transcript}"
    );
    ok(&[
        "zkey",
        "verify",
        "--init",
        p(&f("uptime_0000.zkey")),
        p(&f("uptime_final.zkey")),
    ]);
    let err = refused(&[
        "zkey",
        "verify",
        "--init",
        p(&f("uptime_0000.zkey")),
        p(&f("uptime_final.zkey")),
        "--contains",
        &"ab".repeat(64),
    ]);
    assert!(err.contains("no contribution"), "{err}");
    // The key of another statement.
    let err = refused(&[
        "export-verifier",
        "--statement",
        "coverage",
        "--zkey",
        p(&f("uptime_final.zkey")),
        "--out",
        p(&f("Wrong.sol")),
    ]);
    assert!(err.contains("not a key of this circuit"), "{err}");
}

/// The ceremony of the uptime statement through the command line, in
/// `dir`: its final key and the exported `vk.json` are `dir/uptime_final.zkey`
/// and `dir/keys/vk.json`.
fn ceremony_through_the_command_line(dir: &Path) {
    let f = |name: &str| dir.join(name);

    let info = ok(&[
        "export-r1cs",
        "--statement",
        "uptime",
        "--out",
        p(&f("uptime.r1cs")),
    ]);
    assert!(info.contains("# of Constraints: 103096"), "{info}");

    let ptau_hash = dev_ptau(&f("dev.ptau"), "18");
    let mut wrong = ptau_hash.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let err = refused(&[
        "ptau",
        "check",
        p(&f("dev.ptau")),
        "--blake2b",
        std::str::from_utf8(&wrong).unwrap(),
    ]);
    assert!(err.to_lowercase().contains("blake2b"), "{err}");
    ok(&["ptau", "check", p(&f("dev.ptau")), "--blake2b", &ptau_hash]);

    ok(&[
        "zkey",
        "new",
        "--statement",
        "uptime",
        "--ptau",
        p(&f("dev.ptau")),
        "--ptau-blake2b",
        &ptau_hash,
        "--out",
        p(&f("uptime_0000.zkey")),
    ]);
    let contributed = ok(&[
        "zkey",
        "contribute",
        p(&f("uptime_0000.zkey")),
        p(&f("uptime_0001.zkey")),
        "--name",
        "first contributor",
        "--entropy",
        "typed at random",
    ]);
    let mine = hash_after(&contributed, "Contribution Hash:");
    assert_eq!(mine.len(), 128, "{contributed}");
    ok(&[
        "zkey",
        "beacon",
        p(&f("uptime_0001.zkey")),
        p(&f("uptime_final.zkey")),
        "--beacon",
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
        "--iterations-exp",
        "10",
        "--name",
        "final beacon",
    ]);

    verify_through_the_command_line(dir, &mine);
    let keys = f("keys");
    std::fs::create_dir_all(&keys).unwrap();
    ok(&[
        "zkey",
        "export-vk",
        p(&f("uptime_final.zkey")),
        "--out",
        p(&keys.join("vk.json")),
    ]);
    ok(&[
        "export-verifier",
        "--statement",
        "uptime",
        "--zkey",
        p(&f("uptime_final.zkey")),
        "--out",
        p(&f("UptimeVerifier.sol")),
    ]);
    let sol = std::fs::read_to_string(f("UptimeVerifier.sol")).unwrap();
    assert!(sol.contains("contract") && sol.contains("uptime"), "{sol}");
    proof_through_the_command_line(dir, &keys);
}

/// An epoch's witness and proof from the ceremony's key in `dir`, verified
/// with the exported `keys/vk.json`.
fn proof_through_the_command_line(dir: &Path, keys: &Path) {
    let f = |name: &str| dir.join(name);
    ok(&[
        "example",
        "--statement",
        "uptime",
        "--out",
        p(&f("epoch.json")),
    ]);
    let wtns = ok(&[
        "export-wtns",
        "--statement",
        "uptime",
        "--input",
        p(&f("epoch.json")),
        "--out",
        p(&f("epoch.wtns")),
    ]);
    assert!(wtns.contains("values"), "{wtns}");
    let proved = ok(&[
        "prove",
        "--statement",
        "uptime",
        "--zkey",
        p(&f("uptime_final.zkey")),
        "--input",
        p(&f("epoch.json")),
        "--out",
        p(&f("proof")),
    ]);
    assert!(proved.contains("reward:"), "{proved}");
    let verified = ok(&[
        "verify",
        "--statement",
        "uptime",
        "--keys",
        p(keys),
        "--proof",
        p(&f("proof")),
    ]);
    assert!(verified.trim_end().ends_with("valid"), "{verified}");
    assert!(!verified.contains("invalid"), "{verified}");
}

/// A node with `zkey` as its uptime key proves a device's epoch with it and
/// serves the key's `vk.json` (`vk_json`).
async fn a_node_proves_with(dir: &Path, zkey: &Path, vk_json: &Path) {
    let f = |name: &str| dir.join(name);
    let node_keys = f("node-keys");
    std::fs::create_dir_all(node_keys.join("uptime")).unwrap();
    std::fs::copy(
        zkey,
        node_keys
            .join("uptime")
            .join(depin_circom::system::ZKEY_FILE),
    )
    .unwrap();
    let mut cfg = config(&f("data"), &["uptime"]);
    cfg.keys_dir = Some(node_keys);
    cfg.dev_keys = false;
    let node = start(cfg).await.unwrap();
    let (mut prover, mut op) = clients(node.addr).await;
    let d = device(1);
    op.register_device(&d.public_key()).await.unwrap();
    const EPOCH: u32 = 7;
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut chain = UptimeChain::new(d.clone(), EPOCH);
    let hbs = chain.heartbeats(beacon(), &(0..8).collect::<Vec<_>>(), 40);
    prover.submit(&chain.batch(&hbs)).await.unwrap();
    let job = op
        .prove_epoch(&d.public_key().id(), pb::StatementKind::Uptime, EPOCH)
        .await
        .unwrap();
    let done = prover.wait_job(&job.job_id).await.unwrap();
    assert_eq!(
        pb::JobState::try_from(done.state).unwrap(),
        pb::JobState::Done,
        "{}",
        done.failure
    );
    let proof = prover.get_proof(&job.job_id).await.unwrap();
    let vk = prover
        .get_verifying_key(pb::StatementKind::Uptime)
        .await
        .unwrap();
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vk_json).unwrap()).unwrap();
    let served: serde_json::Value = serde_json::from_str(&vk.snarkjs_json).unwrap();
    assert_eq!(served, exported, "the node serves the ceremony's key");
    assert!(proof_verifies(&vk, &proof));
    node.shutdown();
    node.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the whole ceremony at full size takes minutes: scripts/ceremony.sh"]
async fn a_ceremony_key_proves_from_the_command_line_and_in_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    ceremony_through_the_command_line(tmp.path());
    a_node_proves_with(
        tmp.path(),
        &tmp.path().join("uptime_final.zkey"),
        &tmp.path().join("keys").join("vk.json"),
    )
    .await;
}
