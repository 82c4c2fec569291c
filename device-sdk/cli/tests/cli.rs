//! End-to-end tests of the `depin-device` binary: outputs against the
//! committed circomlibjs fixture, exit codes, and signatures checked by
//! circomlibjs itself through Node.js (which must be installed: the test
//! fails, never skips, without it).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use ark_ff::BigInteger;
use depin_crypto::babyjubjub::SUBORDER;
use depin_crypto::field::{fr_to_string, Fr};
use depin_crypto::poseidon;
use depin_device_sdk::decimal::parse_u256;
use serde_json::{json, Value};

const SETUP_HINT: &str =
    "run `scripts/setup.sh` from the repository root (it installs circomlibjs \
     into tools/js/node_modules; Node.js 20 must be on PATH)";
const P_MINUS_1: &str =
    "21888242871839275222246405745257275088548364400416034343698204186575808495616";
const P: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
const TWO_256: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639936";

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn depin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depin-device"))
        .args(args)
        .output()
        .expect("running depin-device")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the tool and asserts its exit code, returning the output.
fn depin_expect(code: i32, args: &[&str]) -> Output {
    let o = depin(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "depin-device {args:?}: stdout {:?}, stderr {:?}",
        stdout(&o),
        stderr(&o)
    );
    o
}

fn fixture() -> Value {
    let path = repo_path("../../circuits/crypto/tests/fixtures/circomlibjs.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn fixture_cases() -> Vec<Value> {
    let cases = fixture()["eddsa"].as_array().expect("eddsa cases").clone();
    assert!(!cases.is_empty());
    cases
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn verify_args(case: &Value) -> Vec<String> {
    [
        ("--pub-x", &case["pub"]["x"]),
        ("--pub-y", &case["pub"]["y"]),
        ("--r8-x", &case["r8"]["x"]),
        ("--r8-y", &case["r8"]["y"]),
        ("--s", &case["s"]),
        ("--message", &case["message"]),
    ]
    .iter()
    .flat_map(|(flag, v)| [flag.to_string(), s(v).to_string()])
    .collect()
}

/// `verify` with the arguments of `case`, `flag` replaced by `value`.
fn verify_with(case: &Value, flag: &str, value: &str) -> Output {
    let mut args = vec!["verify".to_string()];
    let mut rest = verify_args(case);
    if let Some(i) = rest.iter().position(|a| a == flag) {
        rest[i + 1] = value.to_string();
    }
    args.extend(rest);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    depin(&refs)
}

#[test]
fn hash_is_circomlib_poseidon() {
    let o = depin_expect(0, &["hash", "1", "2"]);
    assert_eq!(
        stdout(&o),
        "7853200120776062878684798364095072458815029376092732009249414926327459813530\n"
    );
    let sixteen: Vec<String> = (1..=16).map(|i| i.to_string()).collect();
    let mut args = vec!["hash"];
    args.extend(sixteen.iter().map(String::as_str));
    let o = depin_expect(0, &args);
    let xs: Vec<Fr> = (1..=16u64).map(Fr::from).collect();
    assert_eq!(
        stdout(&o).trim(),
        fr_to_string(&poseidon::hash(&xs).expect("16 inputs"))
    );
    let o = depin_expect(0, &["hash", P_MINUS_1]);
    assert_eq!(
        stdout(&o).trim(),
        fr_to_string(&poseidon::hash(&[-Fr::from(1u64)]).expect("1 input"))
    );
}

#[test]
fn hash_refuses_malformed_inputs_naming_them() {
    for (bad, why) in [
        ("abc", "decimal"),
        ("-1", "decimal"),
        ("0x10", "decimal"),
        ("", "empty"),
        (P, "modulus"),
        (TWO_256, "modulus"),
    ] {
        let o = depin_expect(2, &["hash", "1", bad]);
        let err = stderr(&o);
        assert!(
            err.contains("input 2") && err.contains(&format!("{bad:?}")) && err.contains(why),
            "stderr for {bad:?}: {err}"
        );
        assert!(stdout(&o).is_empty());
    }
    depin_expect(2, &["hash"]);
    let seventeen: Vec<String> = (1..=17).map(|i| i.to_string()).collect();
    let mut args = vec!["hash"];
    args.extend(seventeen.iter().map(String::as_str));
    let o = depin_expect(2, &args);
    assert!(stderr(&o).contains("got 17"), "{}", stderr(&o));
}

#[test]
fn pubkey_and_sign_match_circomlibjs_fixture() {
    for case in fixture_cases() {
        let key = s(&case["private_key"]);
        let o = depin_expect(0, &["pubkey", "--key-hex", key]);
        let got: Value = serde_json::from_str(&stdout(&o)).expect("pubkey JSON");
        assert_eq!(got, case["pub"], "pubkey of {key}");

        let o = depin_expect(
            0,
            &["sign", "--key-hex", key, "--message", s(&case["message"])],
        );
        let got: Value = serde_json::from_str(&stdout(&o)).expect("sign JSON");
        let want = json!({"pub": case["pub"], "r8": case["r8"], "s": case["s"]});
        assert_eq!(got, want, "signature by {key}");
    }
}

#[test]
fn bad_keys_and_messages_exit_2() {
    let good = "d36f3b47218e8a0ed586882299f1edb6bd9d751f464733455b98a3ac402fb103";
    let short = &good[..62];
    let long = format!("{good}00");
    let not_hex = format!("zz{}", &good[2..]);
    for (key, why) in [
        (short, "got 62"),
        (long.as_str(), "got 66"),
        (not_hex.as_str(), "not hexadecimal"),
        ("", "got 0"),
    ] {
        for cmd in [
            vec!["pubkey", "--key-hex", key],
            vec!["sign", "--key-hex", key, "--message", "1"],
        ] {
            let o = depin_expect(2, &cmd);
            let err = stderr(&o);
            assert!(err.contains("--key-hex") && err.contains(why), "{err}");
            // The key is never echoed back.
            assert!(key.len() < 8 || !err.contains(&key[4..]), "{err}");
        }
    }
    let o = depin_expect(2, &["sign", "--key-hex", good, "--message", P]);
    assert!(stderr(&o).contains("--message"), "{}", stderr(&o));
    depin_expect(2, &["sign", "--key-hex", good]);
}

#[test]
fn verify_exit_codes() {
    let cases = fixture_cases();
    let case = &cases[0];

    // Valid.
    let o = verify_with(case, "", "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "valid\n");

    // Invalid: well-formed but wrong (exit 1, reason on stdout).
    let msg = parse_u256(s(&case["message"])).expect("message");
    let other_msg = if msg.is_zero() { "1" } else { "0" };
    let mut s_plus_l = parse_u256(s(&case["s"])).expect("s");
    s_plus_l.add_with_carry(&SUBORDER);
    let s_plus_l = s_plus_l.to_string();
    for (flag, value, reason) in [
        ("--message", other_msg, "does not verify"),
        ("--s", "1", "does not verify"),
        ("--s", s_plus_l.as_str(), "not below the subgroup order"),
        ("--pub-x", s(&cases[1]["pub"]["x"]), "does not verify"),
    ] {
        let o = if flag == "--pub-x" {
            // Another valid key: replace both coordinates.
            let mut c = case.clone();
            c["pub"] = cases[1]["pub"].clone();
            verify_with(&c, "", "")
        } else {
            verify_with(case, flag, value)
        };
        assert_eq!(o.status.code(), Some(1), "{flag} {value}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.starts_with("invalid: ") && out.contains(reason),
            "{out}"
        );
    }

    // A small-order public key is well-formed input that cannot verify.
    let mut identity = case.clone();
    identity["pub"] = json!({"x": "0", "y": "1"});
    let o = verify_with(&identity, "", "");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("small order"), "{}", stdout(&o));

    // Malformed (exit 2, message on stderr naming the argument).
    for (flag, value, why) in [
        ("--pub-x", "12a", "--pub-x"),
        ("--pub-y", "-5", "--pub-y"),
        ("--r8-x", P, "--r8-x"),
        ("--r8-y", TWO_256, "--r8-y"),
        ("--message", P, "--message"),
        ("--message", "", "--message"),
        ("--s", "0x01", "--s"),
        ("--s", TWO_256, "256 bits"),
        ("--pub-x", "1", "not on Baby Jubjub"),
        ("--r8-y", "7", "R8"),
    ] {
        let o = verify_with(case, flag, value);
        assert_eq!(o.status.code(), Some(2), "{flag} {value:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(why), "{flag} {value:?}: {err}");
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn keygen_prints_fresh_hex_keys() {
    let a = stdout(&depin_expect(0, &["keygen"]));
    let b = stdout(&depin_expect(0, &["keygen"]));
    for k in [&a, &b] {
        let k = k.strip_suffix('\n').expect("newline-terminated");
        assert_eq!(k.len(), 64, "{k:?}");
        assert!(
            k.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
            "{k:?}"
        );
        depin_expect(0, &["pubkey", "--key-hex", k]);
    }
    assert_ne!(a, b);
}

/// Runs `node verify-eddsa.mjs` on `items`, failing with the setup hint
/// when Node.js or circomlibjs is missing.
fn circomlibjs_verify(items: &[Value]) -> Vec<bool> {
    let dir = repo_path("../../tools/js");
    let installed = dir.join("node_modules/circomlibjs/package.json");
    assert!(
        installed.is_file(),
        "circomlibjs is not installed ({} is missing): {SETUP_HINT}",
        installed.display()
    );
    let mut child = Command::new("node")
        .arg("verify-eddsa.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): {SETUP_HINT}"));
    let input = serde_json::to_string(items).expect("JSON");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("writing to node");
    let out = child.wait_with_output().expect("waiting for node");
    assert!(
        out.status.success(),
        "verify-eddsa.mjs failed ({}): {}\n(if circomlibjs cannot be loaded: {SETUP_HINT})",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("verify-eddsa.mjs printed {text:?}: {e}"))
}

#[test]
fn sign_output_verifies_in_circomlibjs() {
    let mut messages = vec!["0".to_string(), P_MINUS_1.to_string()];
    messages
        .extend((0..6u64).map(|i| fr_to_string(&poseidon::hash2(Fr::from(i), Fr::from(99u64)))));
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for msg in &messages {
        let key = stdout(&depin_expect(0, &["keygen"]));
        let key = key.trim();
        let o = depin_expect(0, &["sign", "--key-hex", key, "--message", msg]);
        let signed: Value = serde_json::from_str(&stdout(&o)).expect("sign JSON");

        let mut item = signed.clone();
        item["message"] = json!(msg);
        // The tool's own verify agrees.
        let o = verify_with(
            &json!({"pub": signed["pub"], "r8": signed["r8"], "s": signed["s"], "message": msg}),
            "",
            "",
        );
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        items.push(item.clone());
        expected.push(true);

        // The same signature on another message is rejected by circomlibjs too.
        item["message"] = json!(if msg == "0" { "1" } else { "0" });
        items.push(item);
        expected.push(false);
    }
    assert_eq!(circomlibjs_verify(&items), expected, "items: {items:?}");
}
