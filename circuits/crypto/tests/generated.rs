//! The committed generated files are exactly what their generators write
//! today. On failure, run `scripts/regen.sh` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate(script: &str) -> String {
    let root = repo();
    assert!(
        root.join("tools/js/node_modules/circomlibjs").is_dir(),
        "circomlibjs is not installed: run scripts/setup.sh"
    );
    let out = Command::new("node")
        .arg(root.join(script))
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): run scripts/setup.sh"));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("generator output is UTF-8")
}

fn assert_same(script: &str, committed: &str) {
    let want = generate(script);
    let have = std::fs::read_to_string(repo().join(committed)).expect("committed file");
    assert!(
        want == have,
        "{committed} has drifted from {script}: run scripts/regen.sh"
    );
}

#[test]
fn poseidon_constants_match_circomlibjs() {
    assert_same(
        "tools/js/gen/poseidon-constants.mjs",
        "circuits/crypto/src/poseidon/constants.rs",
    );
}

#[test]
fn circomlibjs_fixtures_are_current() {
    assert_same(
        "tools/js/gen/crypto-fixtures.mjs",
        "circuits/crypto/tests/fixtures/circomlibjs.json",
    );
}
