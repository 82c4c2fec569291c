//! `depin-prover` with `--backend halo2`, end to end on the coverage
//! statement: setup refuses without `--insecure-dev-setup` and with it
//! writes the golden keys (the default seed is the golden one); prove writes
//! proof.bin and public.json (the reference's public inputs, as Groth16's
//! prove writes them);
//! verify says valid, and invalid (exit 1) for another public input, a
//! flipped proof byte or a Groth16 proof directory; export-verifier writes
//! the committed generated verifier.

mod common;

use common::{code, p, run, stderr, stdout};
use depin_testkit as support;

use std::path::Path;

use depin_evm::proof_dir::{PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE};
use depin_evm::snarkjs;
use depin_halo2_prover::keys::{SHAPE_FILE, VERIFYING_KEY_FILE, VK_JSON_FILE};
use depin_statements::epoch::EpochInput;

#[test]
fn halo2_setup_prove_verify_export_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let keys = d.join("keys");
    let setup = |insecure: bool| {
        let mut args = vec![
            "setup",
            "--backend",
            "halo2",
            "--statement",
            "coverage",
            "--out",
            p(&keys),
        ];
        if insecure {
            args.push("--insecure-dev-setup");
        }
        run(&args)
    };
    let out = setup(false);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--insecure-dev-setup"),
        "{}",
        stderr(&out)
    );
    let out = setup(true);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let golden = support::repo_root().join("prover/golden/halo2/coverage");
    for f in [VERIFYING_KEY_FILE, SHAPE_FILE, VK_JSON_FILE] {
        assert_eq!(
            std::fs::read(keys.join(f)).expect("key file"),
            std::fs::read(golden.join(f)).expect("golden file"),
            "{f}"
        );
    }

    let epoch = d.join("coverage.json");
    let out = run(&[
        "example",
        "--statement",
        "coverage",
        "--keys",
        p(support::example_keys()),
        "--out",
        p(&epoch),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let proof = d.join("proof");
    let out = run(&[
        "prove",
        "--backend",
        "halo2",
        "--statement",
        "coverage",
        "--keys",
        p(&keys),
        "--input",
        p(&epoch),
        "--out",
        p(&proof),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("reward: "), "{}", stdout(&out));
    assert!(proof.join(PROOF_BIN_FILE).exists() && proof.join(PUBLIC_JSON_FILE).exists());
    assert!(
        !proof.join(PROOF_JSON_FILE).exists(),
        "snarkjs has no halo2 proof format"
    );

    // The same public.json as Groth16's prove writes for the epoch: the
    // native reference's public inputs in snarkjs's format.
    let evaluation = EpochInput::from_file(&epoch)
        .expect("parse")
        .evaluate()
        .expect("evaluate");
    assert_eq!(
        std::fs::read_to_string(proof.join(PUBLIC_JSON_FILE)).expect("public.json"),
        snarkjs::public_to_json(&evaluation.public.to_field_elements()).expect("json"),
    );

    check_verify(&keys, &proof, d);

    let sol = d.join("CoverageHalo2Verifier.sol");
    let out = run(&[
        "export-verifier",
        "--backend",
        "halo2",
        "--statement",
        "coverage",
        "--keys",
        p(&keys),
        "--out",
        p(&sol),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&sol).expect("sol"),
        std::fs::read(
            support::repo_root()
                .join("verifier-contract/src/generated/halo2/CoverageHalo2Verifier.sol")
        )
        .expect("committed verifier"),
    );
}

/// `verify --backend halo2`: valid for `proof`; invalid (exit 1) for a
/// flipped proof byte and another public input; a Groth16 proof refused.
fn check_verify(keys: &Path, proof: &Path, d: &Path) {
    let verify = |dir: &Path| {
        run(&[
            "verify",
            "--backend",
            "halo2",
            "--statement",
            "coverage",
            "--keys",
            p(keys),
            "--proof",
            p(dir),
        ])
    };
    let out = verify(proof);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).ends_with("valid\n"), "{}", stdout(&out));

    // A flipped proof byte, another public input: invalid, exit 1.
    let bytes = std::fs::read(proof.join(PROOF_BIN_FILE)).expect("proof.bin");
    let bad = d.join("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(bad.join(PROOF_BIN_FILE), &flipped).expect("write");
    let out = verify(&bad);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).ends_with("invalid\n"), "{}", stdout(&out));
    let mut other_input = bytes.clone();
    other_input[16 + 32] ^= 1; // device id, the second public input
    std::fs::write(bad.join(PROOF_BIN_FILE), &other_input).expect("write");
    let out = verify(&bad);
    assert_eq!(code(&out), 1, "{}", stderr(&out));

    // A Groth16 proof (the committed golden one) is refused with a
    // message, not a panic.
    let out = verify(&support::repo_root().join("prover/golden/v1/coverage"));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a halo2 one"), "{}", stderr(&out));
}
