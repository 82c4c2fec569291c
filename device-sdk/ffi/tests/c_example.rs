//! Compiles `examples/sign_and_spool.c` with the system C compiler against
//! the static library and the committed header, runs it, and checks in
//! Rust that its public key, its records and its spool are what the SDK
//! computes: every heartbeat verifies and chains from the genesis, and the
//! spool holds exactly the printed records.

use std::path::{Path, PathBuf};
use std::process::Command;

use depin_device_sdk::chain::ChainKind;
use depin_device_sdk::crypto::field::fr_to_le_bytes;
use depin_device_sdk::crypto::Fr;
use depin_device_sdk::records::{chain_step, challenge};
use depin_device_sdk::signer::Device;
use depin_device_sdk::spool::{Spool, SpoolConfig};
use depin_device_sdk::wire::SignedRecord;

/// The directory holding this test's build outputs (`target/<profile>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    deps.parent().expect("profile directory").to_path_buf()
}

fn static_lib() -> PathBuf {
    let dir = profile_dir();
    for candidate in [
        dir.join("libdepin_device_ffi.a"),
        dir.join("deps/libdepin_device_ffi.a"),
    ] {
        if candidate.exists() {
            return candidate;
        }
    }
    panic!(
        "libdepin_device_ffi.a not found in {} (cargo builds it with this test)",
        dir.display()
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn compile(out: &Path) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(root.join("include"))
        .arg(root.join("examples/sign_and_spool.c"))
        .arg(static_lib())
        // What Rust's standard library needs on Linux
        // (`rustc --print native-static-libs`).
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .arg("-o")
        .arg(out)
        .status()
        .unwrap_or_else(|e| panic!("running the C compiler {cc:?}: {e}"));
    assert!(status.success(), "compiling sign_and_spool.c failed");
}

#[test]
fn c_program_signs_and_spools_records_that_verify_in_rust() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("sign_and_spool");
    compile(&exe);
    let spool_dir = tmp.path().join("spool");
    let out = Command::new(&exe).arg(&spool_dir).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "sign_and_spool failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same key in Rust.
    let secret: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
    let device = Device::from_secret(secret);
    let pk = device.public_key();
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(' ').collect()).collect();
    let find =
        |tag: &str| -> Vec<Vec<&str>> { lines.iter().filter(|l| l[0] == tag).cloned().collect() };
    assert_eq!(find("pub")[0][1], hex(&fr_to_le_bytes(&pk.0.x)));
    assert_eq!(find("pub")[0][2], hex(&fr_to_le_bytes(&pk.0.y)));
    assert_eq!(find("id")[0][1], hex(&fr_to_le_bytes(&device.id())));

    let records = find("record");
    assert_eq!(records.len(), 3);
    let beacon = Fr::from(7u64);
    let mut head = ChainKind::Uptime.genesis(device.id(), 42);
    let mut printed = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let seq: u64 = r[1].parse().unwrap();
        assert_eq!(seq, i as u64 + 1);
        let bytes = unhex(r[2]);
        let SignedRecord::Heartbeat(hb) = SignedRecord::decode(&bytes).unwrap() else {
            panic!("not a heartbeat");
        };
        assert_eq!(hb.epoch, 42);
        assert_eq!(hb.heartbeat.slot, 2 * i as u32 + 1);
        assert_eq!(hb.heartbeat.latency_ms, 30 + i as u32);
        assert_eq!(
            hb.heartbeat.response,
            challenge(beacon, device.id(), hb.heartbeat.slot)
        );
        hb.verify(&pk, head)
            .expect("C-signed heartbeat verifies in Rust");
        assert_eq!(hb.head, chain_step(head, hb.heartbeat.message()));
        head = hb.head;
        printed.push((seq, bytes));
    }
    assert_eq!(
        find("replay")[0][1],
        "4",
        "DEPIN_STATUS_SLOT_NOT_INCREASING"
    );
    assert_eq!(find("null")[0][1], "1", "DEPIN_STATUS_NULL_POINTER");
    // The C-signed proving request is the SDK's, byte for byte (EdDSA is
    // deterministic), and verifies on the request's message.
    let prove = device.sign_prove_request(depin_device_sdk::StatementKind::Uptime, 42, beacon);
    let mut s_le = [0u8; 32];
    for (i, limb) in prove.s.0.iter().enumerate() {
        s_le[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
    }
    assert_eq!(find("prove")[0][1], hex(&s_le));
    let msg = depin_device_sdk::records::prove_request_message(
        device.id(),
        depin_device_sdk::StatementKind::Uptime,
        42,
        beacon,
    );
    pk.verify(&msg, &prove)
        .expect("the proving request verifies");
    assert_eq!(find("bad_kind")[0][1], "2", "DEPIN_STATUS_INVALID_ARGUMENT");
    assert_eq!(find("pending")[0][1], "3");
    assert_eq!(find("head")[0][1], hex(&fr_to_le_bytes(&head)));
    assert_eq!(find("head")[0][2], "3");

    // The spool the C program wrote holds exactly those records.
    let mut spool = Spool::open(&spool_dir, SpoolConfig::with_max_bytes(1 << 20)).unwrap();
    let stored: Vec<(u64, Vec<u8>)> = spool
        .peek_batch(10)
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.payload))
        .collect();
    assert_eq!(stored, printed);
}
