//! The `depin-prover` command line: setup refuses without
//! `--insecure-dev-setup`; setup, example, prove, verify, export-vk and
//! export-verifier work end to end on the coverage statement (the smallest
//! at full size);
//! invalid proofs exit 1 and malformed input exits 2 with a message that
//! names the file or field, never a panic.

mod common;

use common::{code, p, run, stderr, stdout};
use depin_testkit as support;

use std::path::Path;
use std::process::Output;

use depin_evm::proof_dir::{PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE};
use depin_evm::snarkjs;
use depin_groth16::keys::{PROVING_KEY_FILE, VERIFYING_KEY_FILE, VK_JSON_FILE};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;

#[test]
fn setup_refuses_without_the_insecure_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&["setup", "--statement", "uptime", "--out", p(dir.path())]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("--insecure-dev-setup"), "{err}");
    assert!(
        err.contains("forge") || err.contains("prove anything"),
        "{err}"
    );
    assert!(!dir.path().join(PROVING_KEY_FILE).exists());
}

#[test]
fn usage_and_file_errors_exit_2_and_name_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Unknown statement (clap).
    let out = run(&[
        "setup",
        "--statement",
        "storage",
        "--out",
        p(d),
        "--insecure-dev-setup",
    ]);
    assert_eq!(code(&out), 2);
    // Missing keys.
    let input = d.join("epoch.json");
    std::fs::write(
        &input,
        support::example(StatementKind::Uptime)
            .to_json()
            .expect("json"),
    )
    .expect("write");
    let out = run(&[
        "prove",
        "--statement",
        "uptime",
        "--keys",
        p(&d.join("nokeys")),
        "--input",
        p(&input),
        "--out",
        p(&d.join("proof")),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains(PROVING_KEY_FILE), "{}", stderr(&out));
    // An input for another statement.
    let out = run(&[
        "prove",
        "--statement",
        "coverage",
        "--keys",
        p(d),
        "--input",
        p(&input),
        "--out",
        p(&d.join("proof")),
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("epoch.json") && err.contains("uptime"),
        "{err}"
    );
    // A malformed input: the error names the field.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).expect("read")).expect("json");
    doc["heartbeats"][2]["slot"] = "soon".into();
    std::fs::write(&input, doc.to_string()).expect("write");
    let out = run(&[
        "prove",
        "--statement",
        "uptime",
        "--keys",
        p(d),
        "--input",
        p(&input),
        "--out",
        p(&d.join("proof")),
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("heartbeats[2].slot"),
        "{}",
        stderr(&out)
    );
    // Verify without keys or without a proof.
    let out = run(&[
        "verify",
        "--statement",
        "uptime",
        "--keys",
        p(d),
        "--proof",
        p(d),
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(VERIFYING_KEY_FILE),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "export-vk",
        "--statement",
        "uptime",
        "--keys",
        p(d),
        "--format",
        "snarkjs",
        "--out",
        p(&d.join("vk.json")),
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(VERIFYING_KEY_FILE),
        "{}",
        stderr(&out)
    );
}

/// `export-vk` writes the same vk.json as setup, and `export-verifier` the
/// committed verifier of the golden key.
fn check_exports(d: &Path, keys: &Path) {
    // export-vk writes the same vk.json as setup.
    let exported = d.join("exported.json");
    let out = run(&[
        "export-vk",
        "--statement",
        "coverage",
        "--keys",
        p(keys),
        "--format",
        "snarkjs",
        "--out",
        p(&exported),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&exported).expect("exported"),
        std::fs::read(keys.join(VK_JSON_FILE)).expect("vk.json")
    );

    // export-verifier writes the committed verifier of the golden key.
    let sol = d.join("CoverageVerifier.sol");
    let out = run(&[
        "export-verifier",
        "--statement",
        "coverage",
        "--keys",
        p(keys),
        "--out",
        p(&sol),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../verifier-contract/src/generated/CoverageVerifier.sol");
    assert_eq!(
        std::fs::read_to_string(&sol).expect("exported verifier"),
        std::fs::read_to_string(committed).expect("committed verifier")
    );
}

/// A tampered `public.json` is invalid (exit 1); malformed proof files and
/// a proof for another statement's keys are refused (exit 2).
fn check_bad_proofs(keys: &Path, proof: &Path, json_only: &Path, verify: &dyn Fn(&Path) -> Output) {
    // A tampered public.json: invalid, exit 1.
    let public_path = json_only.join(PUBLIC_JSON_FILE);
    let mut public =
        snarkjs::public_from_json(&std::fs::read_to_string(&public_path).expect("read"))
            .expect("parse");
    public[0] += ark_bn254::Fr::from(1u64 << 40);
    std::fs::write(
        &public_path,
        snarkjs::public_to_json(&public).expect("json"),
    )
    .expect("write");
    let out = verify(json_only);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).trim_end().ends_with("invalid"));

    // Malformed proof files: exit 2, the file named.
    std::fs::write(json_only.join(PROOF_JSON_FILE), "{\"pi_a\": 1}").expect("write");
    let out = verify(json_only);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains(PROOF_JSON_FILE), "{}", stderr(&out));
    let bin = std::fs::read(proof.join(PROOF_BIN_FILE)).expect("read");
    std::fs::write(proof.join(PROOF_BIN_FILE), &bin[..bin.len() - 3]).expect("write");
    let out = verify(proof);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains(PROOF_BIN_FILE) && err.contains("truncated"),
        "{err}"
    );
    // A proof for another statement's keys.
    std::fs::write(proof.join(PROOF_BIN_FILE), &bin).expect("write");
    let out = run(&[
        "verify",
        "--statement",
        "uptime",
        "--keys",
        p(keys),
        "--proof",
        p(proof),
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("coverage") && err.contains("uptime"), "{err}");
}

#[test]
fn setup_example_prove_verify_export_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let keys = d.join("keys");
    let out = run(&[
        "setup",
        "--statement",
        "coverage",
        "--out",
        p(&keys),
        "--insecure-dev-setup",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("constraints"), "{}", stdout(&out));
    for f in [PROVING_KEY_FILE, VERIFYING_KEY_FILE, VK_JSON_FILE] {
        assert!(keys.join(f).exists(), "{f}");
    }
    // The default seed is the golden one: the verifying key is the golden key.
    let golden = depin_groth16::golden::committed_dir().join("coverage");
    assert_eq!(
        std::fs::read(keys.join(VERIFYING_KEY_FILE)).expect("vk"),
        std::fs::read(golden.join(VERIFYING_KEY_FILE)).expect("golden vk")
    );

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
    let evaluation = EpochInput::from_file(&epoch)
        .expect("parse")
        .evaluate()
        .expect("evaluate");

    let proof = d.join("proof");
    let out = run(&[
        "prove",
        "--statement",
        "coverage",
        "--keys",
        p(&keys),
        "--input",
        p(&epoch),
        "--out",
        p(&proof),
        "--seed",
        "7",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("reward: {}", evaluation.reward)),
        "{text}"
    );
    let rejected = evaluation.verdicts.len() - evaluation.accepted();
    assert!(
        text.contains(&format!(
            "records: {} ({} accepted, {rejected} rejected)",
            evaluation.verdicts.len(),
            evaluation.accepted()
        )),
        "{text}"
    );
    for f in [PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE] {
        assert!(proof.join(f).exists(), "{f}");
    }

    let verify = |proof_dir: &Path| {
        run(&[
            "verify",
            "--statement",
            "coverage",
            "--keys",
            p(&keys),
            "--proof",
            p(proof_dir),
        ])
    };
    let out = verify(&proof);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(&format!("reward: {}", evaluation.reward)));
    assert!(stdout(&out).trim_end().ends_with("valid"));

    check_exports(d, &keys);

    // The snarkjs files alone verify too, against vk.json alone.
    let json_only = d.join("json-only");
    let vk_only = d.join("vk-only");
    std::fs::create_dir_all(&json_only).expect("mkdir");
    std::fs::create_dir_all(&vk_only).expect("mkdir");
    for f in [PROOF_JSON_FILE, PUBLIC_JSON_FILE] {
        std::fs::copy(proof.join(f), json_only.join(f)).expect("copy");
    }
    std::fs::copy(keys.join(VK_JSON_FILE), vk_only.join(VK_JSON_FILE)).expect("copy");
    let out = run(&[
        "verify",
        "--statement",
        "coverage",
        "--keys",
        p(&vk_only),
        "--proof",
        p(&json_only),
    ]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));

    check_bad_proofs(&keys, &proof, &json_only, &verify);
}
