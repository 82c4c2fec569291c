//! Cross-checks against circomlibjs 0.1.7, the reference implementation the
//! circuits, wallets and device firmware must agree with.
//!
//! The first group of tests reads the committed fixture
//! `tests/fixtures/circomlibjs.json` (written by
//! `tools/js/gen/crypto-fixtures.mjs`) and needs nothing else. The last two
//! run circomlibjs live through Node.js (`tools/js/verify-eddsa.mjs`,
//! `tools/js/poseidon-hash.mjs`) on random inputs; they fail, never skip,
//! when Node.js or `tools/js/node_modules` is missing.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::str::FromStr;

use ark_ff::{BigInt, BigInteger, PrimeField};
use depin_crypto::babyjubjub::{Point, SUBORDER};
use depin_crypto::eddsa::{batch_verify, BatchItem, EddsaError, PrivateKey, PublicKey, Signature};
use depin_crypto::field::{fr_from_decimal, fr_to_string, Fr};
use depin_crypto::poseidon;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/circomlibjs.json");
const SETUP_HINT: &str =
    "run `scripts/setup.sh` from the repository root (it installs circomlibjs \
     into tools/js/node_modules; Node.js 20 must be on PATH)";

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture is valid JSON")
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("fixture field {key:?} is not a string in {v}"))
}

fn fr(s: &str) -> Fr {
    fr_from_decimal(s).unwrap_or_else(|e| panic!("fixture value {s:?}: {e}"))
}

fn point(v: &Value) -> Point {
    Point::new(fr(str_at(v, "x")), fr(str_at(v, "y"))).expect("fixture point is on the curve")
}

fn hex32(s: &str) -> [u8; 32] {
    assert_eq!(s.len(), 64, "fixture hex {s:?} is not 32 bytes");
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("fixture hex");
    }
    out
}

fn u256(s: &str) -> BigInt<4> {
    BigInt::from_str(s).unwrap_or_else(|()| panic!("fixture scalar {s:?}"))
}

/// One EdDSA case of the fixture.
struct Case {
    sk: PrivateKey,
    pk: Point,
    packed: [u8; 32],
    msg: Fr,
    sig: Signature,
}

fn eddsa_cases() -> Vec<Case> {
    fixture()["eddsa"]
        .as_array()
        .expect("eddsa cases")
        .iter()
        .map(|c| Case {
            sk: PrivateKey::from_bytes(hex32(str_at(c, "private_key"))),
            pk: point(&c["pub"]),
            packed: hex32(str_at(c, "pub_packed")),
            msg: fr(str_at(c, "message")),
            sig: Signature {
                r8: point(&c["r8"]),
                s: u256(str_at(c, "s")),
            },
        })
        .collect()
}

#[test]
fn fixture_covers_every_arity_and_twelve_signatures() {
    let f = fixture();
    assert_eq!(str_at(&f, "generator"), "circomlibjs 0.1.7");
    let cases = f["poseidon"].as_array().expect("poseidon cases");
    for n in 1..=poseidon::MAX_INPUTS {
        let count = cases
            .iter()
            .filter(|c| c["inputs"].as_array().map(Vec::len) == Some(n))
            .count();
        assert_eq!(count, 4, "fixture has {count} Poseidon cases of arity {n}");
    }
    assert_eq!(cases.len(), 4 * poseidon::MAX_INPUTS);
    assert_eq!(eddsa_cases().len(), 12);
}

#[test]
fn poseidon_matches_circomlibjs_fixture() {
    for case in fixture()["poseidon"].as_array().expect("poseidon cases") {
        let inputs: Vec<Fr> = case["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|v| fr(v.as_str().expect("input string")))
            .collect();
        let want = fr(str_at(case, "output"));
        assert_eq!(
            poseidon::hash(&inputs),
            Ok(want),
            "Poseidon({:?})",
            case["inputs"]
        );
        assert_eq!(
            poseidon::reference::hash(&inputs),
            Ok(want),
            "reference Poseidon({:?})",
            case["inputs"]
        );
    }
}

#[test]
fn public_keys_match_circomlibjs() {
    for (i, c) in eddsa_cases().iter().enumerate() {
        let pk = c.sk.public_key();
        assert_eq!(pk.0, c.pk, "case {i}: prv2pub");
        assert_eq!(PublicKey::new(c.pk.x, c.pk.y), Ok(pk), "case {i}");
        assert_eq!(pk.0.is_in_prime_subgroup(), Ok(true), "case {i}");
    }
}

#[test]
fn packed_public_keys_match_circomlibjs() {
    for (i, c) in eddsa_cases().iter().enumerate() {
        assert_eq!(c.pk.compress(), c.packed, "case {i}: packPoint");
        assert_eq!(
            Point::decompress(&c.packed),
            Ok(c.pk),
            "case {i}: unpackPoint"
        );
    }
}

#[test]
fn circomlibjs_signatures_verify() {
    let cases = eddsa_cases();
    let keys: Vec<PublicKey> = cases.iter().map(|c| PublicKey(c.pk)).collect();
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(keys[i].verify(&c.msg, &c.sig), Ok(()), "case {i}");
    }
    let items: Vec<BatchItem<'_>> = cases
        .iter()
        .zip(&keys)
        .map(|(c, key)| BatchItem {
            key,
            msg: &c.msg,
            sig: &c.sig,
        })
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    assert_eq!(batch_verify(&items, &mut rng), Ok(()));
}

#[test]
fn rust_signatures_are_identical_to_circomlibjs() {
    for (i, c) in eddsa_cases().iter().enumerate() {
        let ours = c.sk.sign(&c.msg);
        assert_eq!(ours.r8, c.sig.r8, "case {i}: R8");
        assert_eq!(ours.s, c.sig.s, "case {i}: S");
        assert_eq!(ours, c.sig, "case {i}");
    }
}

#[test]
fn corrupted_circomlibjs_signatures_fail() {
    let cases = eddsa_cases();
    for (i, c) in cases.iter().enumerate() {
        let pk = PublicKey(c.pk);

        let other_msg = c.msg + Fr::from(1u64);
        assert_eq!(
            pk.verify(&other_msg, &c.sig),
            Err(EddsaError::Invalid),
            "case {i}: message"
        );

        let other_key = PublicKey(cases[(i + 1) % cases.len()].pk);
        assert_eq!(
            other_key.verify(&c.msg, &c.sig),
            Err(EddsaError::Invalid),
            "case {i}: key"
        );

        let mut s_plus_one = c.sig;
        s_plus_one.s.add_with_carry(&BigInt::from(1u64));
        assert!(pk.verify(&c.msg, &s_plus_one).is_err(), "case {i}: S + 1");

        let mut s_plus_l = c.sig;
        s_plus_l.s.add_with_carry(&SUBORDER);
        assert_eq!(
            pk.verify(&c.msg, &s_plus_l),
            Err(EddsaError::ScalarOutOfRange),
            "case {i}: S + l"
        );

        let mut r8_moved = c.sig;
        r8_moved.r8 = c.sig.r8.add(&Point::BASE8).expect("on curve");
        assert_eq!(
            pk.verify(&c.msg, &r8_moved),
            Err(EddsaError::Invalid),
            "case {i}: R8"
        );

        let mut r8_negated = c.sig;
        r8_negated.r8 = Point::new(-c.sig.r8.x, c.sig.r8.y).expect("on curve");
        assert_eq!(
            pk.verify(&c.msg, &r8_negated),
            Err(EddsaError::Invalid),
            "case {i}: -R8"
        );
    }
}

// ---------------------------------------------------------------------------
// Live circomlibjs through Node.js.

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/js")
}

/// Runs `node <script> <args>` in `tools/js` with `stdin`, returning stdout.
/// Panics (failing the test) with the setup hint when Node.js or
/// circomlibjs is missing.
fn run_node(script: &str, args: &[String], stdin: &str) -> String {
    let dir = js_dir();
    let installed = dir.join("node_modules/circomlibjs/package.json");
    assert!(
        installed.is_file(),
        "circomlibjs is not installed ({} is missing): {SETUP_HINT}",
        installed.display()
    );
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): {SETUP_HINT}"));
    // The scripts read all of stdin before writing anything, so writing it
    // all first cannot deadlock.
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("writing to node");
    let out = child.wait_with_output().expect("waiting for node");
    assert!(
        out.status.success(),
        "node {script} failed ({}): {}\n(if circomlibjs cannot be loaded: {SETUP_HINT})",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("node prints UTF-8")
}

/// A seeded RNG whose seed is printed, so a failure can be replayed.
fn test_rng(name: &str) -> ChaCha20Rng {
    let seed: u64 = match std::env::var("DEPIN_TEST_SEED") {
        Ok(s) => s.parse().expect("DEPIN_TEST_SEED is a u64"),
        Err(_) => rand::thread_rng().gen(),
    };
    eprintln!("{name}: seed {seed} (set DEPIN_TEST_SEED to replay)");
    ChaCha20Rng::seed_from_u64(seed)
}

fn random_fr(rng: &mut ChaCha20Rng) -> Fr {
    let mut b = [0u8; 64];
    rng.fill_bytes(&mut b);
    Fr::from_le_bytes_mod_order(&b)
}

fn signed_json(pk: &PublicKey, msg: &Fr, sig: &Signature) -> Value {
    json!({
        "pub": {"x": fr_to_string(&pk.0.x), "y": fr_to_string(&pk.0.y)},
        "message": fr_to_string(msg),
        "r8": {"x": fr_to_string(&sig.r8.x), "y": fr_to_string(&sig.r8.y)},
        "s": sig.s.to_string(),
    })
}

#[test]
fn rust_signatures_verify_in_circomlibjs() {
    let mut rng = test_rng("rust_signatures_verify_in_circomlibjs");
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for i in 0..20 {
        let sk = PrivateKey::generate(&mut rng);
        let pk = sk.public_key();
        let msg = match i {
            0 => Fr::from(0u64),
            1 => -Fr::from(1u64),
            _ => random_fr(&mut rng),
        };
        let sig = sk.sign(&msg);
        assert_eq!(pk.verify(&msg, &sig), Ok(()));

        items.push(signed_json(&pk, &msg, &sig));
        expected.push(true);

        // Wrong message.
        items.push(signed_json(&pk, &(msg + Fr::from(1u64)), &sig));
        expected.push(false);

        // S + l: satisfies the curve equation but is not canonical.
        let mut high = sig;
        high.s.add_with_carry(&SUBORDER);
        assert_eq!(pk.verify(&msg, &high), Err(EddsaError::ScalarOutOfRange));
        items.push(signed_json(&pk, &msg, &high));
        expected.push(false);

        // R8 moved by Base8.
        let mut moved = sig;
        moved.r8 = sig.r8.add(&Point::BASE8).expect("on curve");
        assert_eq!(pk.verify(&msg, &moved), Err(EddsaError::Invalid));
        items.push(signed_json(&pk, &msg, &moved));
        expected.push(false);
    }
    let input = serde_json::to_string(&items).expect("JSON");
    let out = run_node("verify-eddsa.mjs", &[], &input);
    let got: Vec<bool> = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("verify-eddsa.mjs printed {out:?}: {e}"));
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "circomlibjs disagrees on item {i}: {}", items[i]);
    }
}

#[test]
fn poseidon_matches_circomlibjs_live() {
    let mut rng = test_rng("poseidon_matches_circomlibjs_live");
    for n in [1usize, 2, 3, 5, 8, 13, 16] {
        let mut inputs: Vec<Fr> = (0..n).map(|_| random_fr(&mut rng)).collect();
        if n > 2 {
            inputs[0] = -Fr::from(1u64);
            inputs[1] = Fr::from(0u64);
        }
        let args: Vec<String> = inputs.iter().map(fr_to_string).collect();
        let out = run_node("poseidon-hash.mjs", &args, "");
        let want = fr_from_decimal(out.trim())
            .unwrap_or_else(|e| panic!("poseidon-hash.mjs printed {out:?}: {e}"));
        assert_eq!(poseidon::hash(&inputs), Ok(want), "Poseidon({args:?})");
    }
}
