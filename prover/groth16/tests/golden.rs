//! The committed golden keys and proofs (`prover/golden/v1/<statement>/`):
//! they load, the proofs verify with `ark_groth16` against the committed
//! keys, they prove the sample epochs' public inputs, and regenerating them
//! (`depin-prover golden --out prover/golden/v1`, run by
//! `scripts/regen.sh`) writes the same bytes.

use depin_evm::snarkjs;
use depin_groth16::golden::{self, CircuitVisitor, GOLDEN_FILES};
use depin_groth16::keys::{VerifyingKey, VERIFYING_KEY_FILE, VK_JSON_FILE};
use depin_groth16::prover::circuit_shape;
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;

const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

struct Expected;

impl CircuitVisitor for Expected {
    type Output = Vec<ark_bn254::Fr>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        circuit.expected().to_field_elements()
    }
}

#[test]
fn golden_proofs_verify_against_the_golden_keys() {
    let dir = golden::committed_dir();
    for kind in KINDS {
        let proof = golden::check(kind, &dir)
            .unwrap_or_else(|e| panic!("{kind:?}: {e} (regenerate with scripts/regen.sh)"));
        let expected = golden::with_sample(kind, Expected).expect("sample");
        assert_eq!(
            proof.public, expected,
            "{kind:?}: the golden proof is not of the sample epoch (regenerate with scripts/regen.sh)"
        );
    }
}

#[test]
fn golden_tampering_is_detected() {
    let dir = golden::committed_dir();
    let tmp = tempfile::tempdir().expect("tempdir");
    let kind = StatementKind::Uptime;
    let src = dir.join(kind.as_str());
    let dst = tmp.path().join(kind.as_str());
    std::fs::create_dir_all(&dst).expect("mkdir");
    for f in GOLDEN_FILES {
        std::fs::copy(src.join(f), dst.join(f)).expect("copy");
    }
    golden::check(kind, tmp.path()).expect("copy verifies");
    // Swap in another statement's vk.json: it disagrees with the binary key.
    std::fs::copy(dir.join("coverage").join("vk.json"), dst.join("vk.json")).expect("copy");
    assert!(golden::check(kind, tmp.path()).is_err());
}

struct Shape;

impl CircuitVisitor for Shape {
    type Output = usize;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        circuit_shape(circuit).expect("synthesize").public_inputs
    }
}

#[test]
fn golden_keys_fit_the_statements() {
    for kind in KINDS {
        let vk = VerifyingKey::load(
            &golden::committed_dir()
                .join(kind.as_str())
                .join("verifying_key.bin"),
            kind,
        )
        .expect("golden verifying key");
        assert_eq!(vk.public_input_count(), kind.public_input_count());
        assert_eq!(
            golden::with_sample(kind, Shape).expect("sample"),
            kind.public_input_count()
        );
    }
}

/// The drift test CI runs: the verifying keys (`verifying_key.bin`,
/// `vk.json`) recomputed from the circuits as they are now (without the
/// proving keys, see `dev_verifying_key`) are byte for byte the committed
/// ones, so any change to a circuit's constraints shows here; the proofs'
/// public inputs are checked against the samples by
/// `golden_proofs_verify_against_the_golden_keys`. The full regeneration
/// (proofs included) is the ignored test below.
#[test]
fn golden_verifying_keys_match_the_circuits() {
    let committed = golden::committed_dir();
    for kind in KINDS {
        let vk = golden::golden_verifying_key(kind).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let dir = committed.join(kind.as_str());
        let bin = std::fs::read(dir.join(VERIFYING_KEY_FILE)).expect("verifying_key.bin");
        assert!(
            vk.to_bytes().expect("bytes") == bin,
            "{kind:?}: the circuit's verifying key differs from {}: run scripts/regen.sh",
            dir.join(VERIFYING_KEY_FILE).display()
        );
        let json = std::fs::read_to_string(dir.join(VK_JSON_FILE)).expect("vk.json");
        assert!(
            snarkjs::vk_to_json(vk.as_arkworks()).expect("json") == json,
            "{kind:?}: {} drifted: run scripts/regen.sh",
            dir.join(VK_JSON_FILE).display()
        );
    }
}

/// Regenerates every statement's golden files and compares them byte for
/// byte with the committed ones. Ignored by default: it runs the three
/// full-size setups and proofs (about 3 minutes on a 2-core machine in the
/// test profile). Run it with
/// `cargo test -p depin-groth16 --test golden -- --ignored`.
#[test]
#[ignore = "full-size setups and proofs, ~3 min on 2 cores: cargo test -p depin-groth16 --test golden -- --ignored"]
fn regenerating_the_golden_files_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let committed = golden::committed_dir();
    for kind in KINDS {
        let start = std::time::Instant::now();
        golden::generate(kind, tmp.path()).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        eprintln!(
            "{kind:?}: regenerated in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        for f in GOLDEN_FILES {
            let fresh = std::fs::read(tmp.path().join(kind.as_str()).join(f)).expect("fresh");
            let path = committed.join(kind.as_str()).join(f);
            let old = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/regen.sh)", path.display()));
            assert!(
                fresh == old,
                "{} drifted from what `depin-prover golden` writes: run scripts/regen.sh",
                path.display()
            );
        }
    }
}
