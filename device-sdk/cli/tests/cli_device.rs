//! `depin-device init`, `record` and `status`: the key file's mode, the
//! configuration, signed records in the spool, the typed refusals and the
//! exit status of a full spool.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use depin_device_sdk::chain::ChainKind;
use depin_device_sdk::crypto::field::fr_to_string;
use depin_device_sdk::keyfile;
use depin_device_sdk::recorder::Recorder;
use depin_device_sdk::records::chain_step;
use depin_device_sdk::signer::Device;
use depin_device_sdk::spool::SpoolConfig;
use depin_device_sdk::wire::SignedRecord;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depin-device"))
        .args(args)
        .output()
        .expect("running depin-device")
}

fn expect(code: i32, args: &[&str]) -> Output {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "depin-device {args:?}: stdout {}, stderr {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn init(dir: &Path, extra: &[&str]) -> (Value, String) {
    let d = dir.to_str().unwrap();
    let mut args = vec!["init", "--dir", d];
    args.extend_from_slice(extra);
    let out = json(&expect(0, &args));
    let config = dir.join("device.toml").to_str().unwrap().to_string();
    (out, config)
}

#[test]
fn init_writes_a_0600_key_and_a_config_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let (out, config) = init(&dir, &[]);
    let key_path = dir.join("device.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let device = Device::new(keyfile::load(&key_path).unwrap());
    assert_eq!(out["device_id"], fr_to_string(&device.id()));
    assert_eq!(
        out["public_key"]["x"],
        fr_to_string(&device.public_key().0.x)
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("key_file = \"device.key\""), "{text}");
    assert!(text.contains("[spool]"), "{text}");
    let again = expect(2, &["init", "--dir", dir.to_str().unwrap()]);
    assert!(
        stderr(&again).contains("refusing to overwrite"),
        "{}",
        stderr(&again)
    );
    let status = json(&expect(0, &["status", "--config", &config]));
    assert_eq!(status["pending"], 0);
    assert_eq!(status["uptime"], Value::Null);
}

/// Three heartbeats, then one whose slot does not increase and one with a
/// malformed beacon (both refused with a typed message).
fn record_heartbeats(c: &str, beacon: &str) {
    for (i, slot) in ["0", "1", "5"].iter().enumerate() {
        let out = json(&expect(
            0,
            &[
                "record",
                "--config",
                c,
                "heartbeat",
                "--epoch",
                "7",
                "--beacon",
                beacon,
                "--slot",
                slot,
                "--latency-ms",
                "25",
            ],
        ));
        assert_eq!(out["seq"], i as u64 + 1);
        assert_eq!(out["kind"], "heartbeat");
    }
    // A slot that does not increase is refused with a typed message.
    let refused = expect(
        2,
        &[
            "record",
            "--config",
            c,
            "heartbeat",
            "--epoch",
            "7",
            "--beacon",
            beacon,
            "--slot",
            "5",
        ],
    );
    assert!(
        stderr(&refused).contains("does not increase"),
        "{}",
        stderr(&refused)
    );
    let bad_beacon = expect(
        2,
        &[
            "record",
            "--config",
            c,
            "heartbeat",
            "--epoch",
            "7",
            "--beacon",
            "x",
            "--slot",
            "9",
        ],
    );
    assert!(
        stderr(&bad_beacon).contains("--beacon"),
        "{}",
        stderr(&bad_beacon)
    );
}

/// A receipt co-signed by a client key file, a claim, a witness report,
/// and a claim out of range (refused).
fn record_receipt_claim_and_report(tmp: &Path, c: &str, beacon: &str) {
    let client_key = tmp.join("client.key");
    keyfile::generate(&client_key, &mut rand::rngs::OsRng).unwrap();
    let out = json(&expect(
        0,
        &[
            "record",
            "--config",
            c,
            "receipt",
            "--epoch",
            "7",
            "--client-key-file",
            client_key.to_str().unwrap(),
            "--bytes",
            "5000",
            "--duration-s",
            "3",
        ],
    ));
    assert_eq!(out["session"], 0);
    expect(
        0,
        &[
            "record", "--config", c, "claim", "--epoch", "7", "--beacon", beacon, "--x", "100",
            "--y", "200",
        ],
    );
    expect(
        0,
        &[
            "record",
            "--config",
            c,
            "witness",
            "--epoch",
            "7",
            "--beacon-id",
            "42",
            "--x",
            "1",
            "--y",
            "2",
            "--rssi-dbm",
            "-88",
        ],
    );
    let far = expect(
        2,
        &[
            "record",
            "--config",
            c,
            "claim",
            "--epoch",
            "7",
            "--beacon",
            beacon,
            "--x",
            "2147483648",
            "--y",
            "0",
        ],
    );
    assert!(stderr(&far).contains("out of range"), "{}", stderr(&far));
}

#[test]
fn records_are_signed_chained_and_spooled() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let (_, config) = init(&dir, &[]);
    let c = config.as_str();
    let beacon = "987654321";
    record_heartbeats(c, beacon);
    record_receipt_claim_and_report(tmp.path(), c, beacon);

    let status = json(&expect(0, &["status", "--config", c]));
    assert_eq!(status["pending"], 6);
    assert_eq!(status["uptime"]["len"], 3);
    assert_eq!(status["uptime"]["next"], 6);
    assert_eq!(status["bandwidth"]["len"], 1);

    // What the tool spooled verifies with the device's key and chains.
    let device = Device::new(keyfile::load(&dir.join("device.key")).unwrap());
    let mut rec = Recorder::open(
        dir.join("state"),
        device.clone(),
        SpoolConfig::with_max_bytes(64 << 20),
    )
    .unwrap();
    let mut prev = ChainKind::Uptime.genesis(device.id(), 7);
    let all = rec.peek_batch(100).unwrap();
    assert_eq!(all.len(), 6);
    for s in all {
        let r = s.record.unwrap();
        r.verify_signatures(&device.public_key()).unwrap();
        if let SignedRecord::Heartbeat(h) = r {
            assert_eq!(h.head, chain_step(prev, h.heartbeat.message()));
            prev = h.head;
        }
    }
}

#[test]
fn group_readable_keys_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let (_, config) = init(&dir, &[]);
    let key = dir.join("device.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = expect(2, &["status", "--config", &config]);
    assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    assert!(stderr(&o).contains("0640"), "{}", stderr(&o));
}

#[test]
fn a_full_spool_exits_3_and_keeps_what_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let (_, config) = init(&dir, &["--spool-max-bytes", "4096"]);
    let c = config.as_str();
    let mut stored = 0;
    let full = loop {
        let slot = stored.to_string();
        let o = run(&[
            "record",
            "--config",
            c,
            "heartbeat",
            "--epoch",
            "1",
            "--beacon",
            "5",
            "--slot",
            &slot,
        ]);
        match o.status.code() {
            Some(0) => stored += 1,
            _ => break o,
        }
        assert!(stored < 100, "the spool never filled");
    };
    assert_eq!(full.status.code(), Some(3), "{}", stderr(&full));
    assert!(stderr(&full).contains("spool is full"), "{}", stderr(&full));
    let status = json(&expect(0, &["status", "--config", c]));
    assert_eq!(status["pending"], stored);
    assert!(status["used_bytes"].as_u64().unwrap() <= 4096);
    // The refused heartbeat did not move the chain.
    assert_eq!(status["uptime"]["len"], stored);
}
