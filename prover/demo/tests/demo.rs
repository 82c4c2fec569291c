//! The main job at a small size: a fleet with honest devices of every
//! statement and cheaters, the real prover, anvil and the contracts. The
//! run must pay every honest device and no cheater, and refuse the replayed
//! and tampered claims.

use std::path::Path;
use std::process::Command;

#[test]
fn small_fleet_pays_the_honest_and_refuses_the_cheaters() {
    // The contracts' artifacts (offline, nothing to do when current).
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let forge = Command::new(repo.join("scripts/forge.sh"))
        .args(["build", "--quiet"])
        .status()
        .expect("run scripts/forge.sh (scripts/setup.sh installs forge)");
    assert!(forge.success(), "scripts/forge.sh build failed");

    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("depin-demo");
    let out = Command::new(env!("CARGO_BIN_EXE_depin-demo"))
        .args([
            "--devices",
            "5",
            "--cheaters",
            "0.4",
            "--slots",
            "24",
            "--quiet",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("run depin-demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "depin-demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for kind in ["uptime", "bandwidth", "coverage"] {
        assert!(stdout.contains(kind), "no {kind} row:\n{stdout}");
    }
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
