//! The main job at a small size: a fleet with honest devices of every
//! statement and cheaters, the real prover, anvil and the contracts, in
//! epoch batches (the default) and with one claim per device-epoch. Each
//! run must pay every honest device and no cheater, and refuse the attacks
//! on the contract: a batch on a stale root, a replayed batch and forged
//! withdrawals; a replayed and tampered claims.
//!
//! `halo2_fleet_pays_the_honest_and_refuses_the_cheaters` runs the main job
//! with `--backend halo2` (about two minutes here: the halo2 keys are made
//! at every start and a proof takes 13 to 35 s); it is opt-in, outside CI:
//! `cargo test -p depin-demo -- --ignored`.

use std::path::Path;
use std::process::Command;

#[test]
fn small_fleets_pay_the_honest_and_refuse_the_cheaters_in_batches_and_alone() {
    build_contracts();

    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("depin-demo");

    // In epoch batches of 4 (the default): 16 devices, a quarter cheaters,
    // so that a statement has two batches (the stale-root attack).
    let stdout = demo(&data, &["--devices", "16", "--cheaters", "0.25"]);
    assert!(stdout.contains("honest devices paid: 12/12"), "{stdout}");
    assert!(stdout.contains("cheaters refused: 4/4"), "{stdout}");
    assert!(stdout.contains("contract attacks refused: 5/5"), "{stdout}");
    for kind in ["uptime", "bandwidth", "coverage"] {
        for line in [
            format!("{kind:<10} gas per device-epoch: "),
            format!("{kind:<10} withdrawal gas: "),
        ] {
            assert!(stdout.contains(&line), "no line {line:?}:\n{stdout}");
        }
    }
    assert!(stdout.contains("(batches of 4)"), "{stdout}");
    for refusal in [
        "(stale root)",
        "StaleRoot",
        "InvalidWithdrawalProof",
        "NotPayoutAddress",
        "NothingToWithdraw",
    ] {
        assert!(stdout.contains(refusal), "no {refusal}:\n{stdout}");
    }

    // One proof and one claim per device-epoch.
    let stdout = demo(
        &data,
        &["--batch", "0", "--devices", "5", "--cheaters", "0.4"],
    );
    assert!(stdout.contains("honest devices paid: 3/3"), "{stdout}");
    assert!(stdout.contains("cheaters refused: 2/2"), "{stdout}");
    assert!(stdout.contains("contract attacks refused: 3/3"), "{stdout}");
    assert!(
        stdout.contains("NullifierUsed"),
        "the replay was not refused:\n{stdout}"
    );
    assert!(
        stdout.contains("InvalidProof"),
        "a tampered claim was not refused:\n{stdout}"
    );
}

#[test]
#[ignore = "two minutes of halo2 proving: cargo test -p depin-demo -- --ignored"]
fn halo2_fleet_pays_the_honest_and_refuses_the_cheaters() {
    build_contracts();
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("depin-demo-halo2");
    let stdout = demo(
        &data,
        &["--backend", "halo2", "--devices", "6", "--cheaters", "0.34"],
    );
    assert!(stdout.contains("honest devices paid: 4/4"), "{stdout}");
    assert!(stdout.contains("cheaters refused: 2/2"), "{stdout}");
    assert!(stdout.contains("contract attacks refused: 3/3"), "{stdout}");
    for refusal in ["InvalidProof", "NullifierUsed"] {
        assert!(stdout.contains(refusal), "no {refusal}:\n{stdout}");
    }
    for verifier in [
        "UptimeHalo2Verifier",
        "BandwidthHalo2Verifier",
        "CoverageHalo2Verifier",
    ] {
        assert!(
            stdout.contains(verifier),
            "{verifier} not deployed:\n{stdout}"
        );
    }
}

/// The contracts' artifacts (offline, nothing to do when current).
fn build_contracts() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let forge = Command::new(repo.join("scripts/forge.sh"))
        .args(["build", "--quiet"])
        .status()
        .expect("run scripts/forge.sh (scripts/setup.sh installs forge)");
    assert!(forge.success(), "scripts/forge.sh build failed");
}

/// Runs the demo with `args` (24 slots an epoch, quiet) on `data`; it must
/// succeed and show a row per statement. Returns its output.
fn demo(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_depin-demo"))
        .args(args)
        .args(["--slots", "24", "--quiet", "--data"])
        .arg(data)
        .output()
        .expect("run depin-demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "depin-demo {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for kind in ["uptime", "bandwidth", "coverage"] {
        assert!(stdout.contains(kind), "no {kind} row:\n{stdout}");
    }
    stdout
}
