//! The committed example epochs: they parse, the native references give the
//! verdicts they were built for, they are exactly what the generator writes
//! (drift), and malformed or hostile inputs are refused with errors that
//! name the field, never with a panic.

use depin_statements::epoch::{EpochInput, InputError, MAX_INPUT_BYTES};
use depin_statements::{Evaluation, StatementKind, Verdict};
use depin_testkit::examples::{
    self, build, epoch_path, generate, key_files, key_labels, keys_dir, COVERAGE_HOME,
    EXAMPLE_EPOCH, STATEMENTS,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

const REGEN: &str = "run scripts/regen.sh to regenerate the examples";

fn repo_root() -> PathBuf {
    depin_testkit::repo_root()
}

fn committed(kind: StatementKind) -> String {
    let path = epoch_path(&repo_root(), kind);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): {REGEN}", path.display()))
}

fn parse(kind: StatementKind) -> EpochInput {
    EpochInput::from_json(&committed(kind))
        .unwrap_or_else(|e| panic!("examples/epochs/{}.json: {e}", kind.as_str()))
}

/// Verdicts counted by name: `accepted` or the reject reason's name.
fn tally(e: &Evaluation) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for v in &e.verdicts {
        let name = match v {
            Verdict::Accepted => "accepted",
            Verdict::Rejected(r) => r.as_str(),
        };
        *m.entry(name).or_insert(0) += 1;
    }
    m
}

fn expected(pairs: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
    pairs.iter().copied().collect()
}

// ---------------------------------------------------------------------------
// The examples and their verdicts.

#[test]
fn uptime_example_parses_and_evaluates_to_its_verdict_mix() {
    let input = parse(StatementKind::Uptime);
    let EpochInput::Uptime(epoch) = &input else {
        panic!("uptime.json is not an uptime epoch");
    };
    assert_eq!(epoch.heartbeats.len(), 92, "96 slots, 4 missed");
    let e = input.evaluate().expect("the example evaluates");
    assert_eq!(
        tally(&e),
        expected(&[
            ("accepted", 89),
            ("latency_too_high", 2),
            ("wrong_challenge", 1)
        ])
    );
    for (hb, v) in epoch.heartbeats.iter().zip(&e.verdicts) {
        let want = match hb.slot {
            30 | 83 => Verdict::Rejected(depin_statements::RejectReason::LatencyTooHigh),
            64 => Verdict::Rejected(depin_statements::RejectReason::WrongChallenge),
            _ => Verdict::Accepted,
        };
        assert_eq!(*v, want, "slot {}", hb.slot);
    }
    // 1000 + 25 * (89 - 48).
    assert_eq!(e.reward, 2025);
    assert_eq!(e.public.epoch, EXAMPLE_EPOCH);
    assert_eq!(e.public.kind, StatementKind::Uptime);
    assert_eq!(e.public.device_id, epoch.device.id());
}

#[test]
fn bandwidth_example_parses_and_evaluates_to_its_verdict_mix() {
    let input = parse(StatementKind::Bandwidth);
    let EpochInput::Bandwidth(epoch) = &input else {
        panic!("bandwidth.json is not a bandwidth epoch");
    };
    assert_eq!(epoch.receipts.len(), 20);
    let e = input.evaluate().expect("the example evaluates");
    assert_eq!(
        tally(&e),
        expected(&[
            ("accepted", 17),
            ("client_not_registered", 1),
            ("duplicate", 1),
            ("implausible_throughput", 1),
        ])
    );
    let total: u64 = epoch
        .receipts
        .iter()
        .zip(&e.verdicts)
        .filter(|(_, v)| v.is_accepted())
        .map(|(r, _)| r.receipt.bytes)
        .sum();
    assert_eq!(e.reward, total >> 20, "one unit per MiB, below the cap");
    assert_eq!(e.reward, 69_038);
    assert_eq!(e.public.registry_root, Some(epoch.registry_root));
    let clients: std::collections::BTreeSet<_> =
        epoch.receipts.iter().map(|r| r.receipt.client_id).collect();
    assert_eq!(clients.len(), 6, "six clients co-signed");
}

#[test]
fn coverage_example_parses_and_evaluates_to_its_verdict_mix() {
    let input = parse(StatementKind::Coverage);
    let EpochInput::Coverage(epoch) = &input else {
        panic!("coverage.json is not a coverage epoch");
    };
    assert_eq!(epoch.reports.len(), 14);
    let e = input.evaluate().expect("the example evaluates");
    assert_eq!(
        tally(&e),
        expected(&[
            ("accepted", 9),
            ("duplicate", 1),
            ("self_witness", 1),
            ("signal_too_strong", 1),
            ("too_close", 1),
            ("too_far", 1),
        ])
    );
    assert_eq!(e.reward, 90, "9 witnesses at 10 each, below the cap of 100");
    assert_eq!(e.public.cell, Some(COVERAGE_HOME.cell(12)));
}

#[test]
fn examples_round_trip_through_json() {
    for kind in STATEMENTS {
        let text = committed(kind);
        let input = EpochInput::from_json(&text).expect("parses");
        assert_eq!(input.kind(), kind);
        assert_eq!(input.to_json().expect("serializes"), text, "{kind:?}");
        assert!(text.ends_with("}\n"));
    }
}

#[test]
fn statement_names_and_expected_kinds() {
    for kind in STATEMENTS {
        assert_eq!(StatementKind::from_name(kind.as_str()), Some(kind));
        let bytes = committed(kind);
        assert!(EpochInput::from_slice_as(bytes.as_bytes(), kind).is_ok());
    }
    assert_eq!(StatementKind::from_name("Uptime"), None);
    let err = EpochInput::from_slice_as(
        committed(StatementKind::Uptime).as_bytes(),
        StatementKind::Coverage,
    )
    .unwrap_err();
    assert!(matches!(err, InputError::WrongStatement { .. }));
    assert_eq!(
        err.to_string(),
        "statement: the input is for statement `uptime`, expected `coverage`"
    );
}

// ---------------------------------------------------------------------------
// Drift: the committed files are exactly what the generator writes.

#[test]
fn committed_examples_match_the_generator() {
    let root = repo_root();
    let keys = keys_dir(&root);
    for (name, contents) in key_files() {
        let path = keys.join(&name);
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            found == contents,
            "examples/keys/{name} differs from the generator: {REGEN}"
        );
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&keys)
        .expect("examples/keys exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".key"))
        .collect();
    on_disk.sort();
    let mut want: Vec<String> = key_labels().iter().map(|l| format!("{l}.key")).collect();
    want.sort();
    assert_eq!(on_disk, want, "stray or missing key files: {REGEN}");

    for kind in STATEMENTS {
        let fresh = generate(kind, &keys).expect("generates");
        assert!(
            fresh == committed(kind),
            "examples/epochs/{}.json differs from the generator: {REGEN}",
            kind.as_str()
        );
    }
}

#[test]
fn regenerate_all_writes_the_committed_tree() {
    let root = repo_root();
    let tmp = std::env::temp_dir().join(format!("depin-prover-examples-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let written = examples::regenerate_all(&tmp).expect("writes");
    assert_eq!(written.len(), key_files().len() + STATEMENTS.len() + 1);
    for path in &written {
        let rel = path.strip_prefix(&tmp).expect("under the root");
        let fresh = std::fs::read(path).expect("written");
        let old = std::fs::read(root.join(rel)).unwrap_or_default();
        assert!(fresh == old, "{} differs: {REGEN}", rel.display());
    }
    // Twice gives the same bytes.
    let again = examples::regenerate_all(&tmp).expect("writes");
    assert_eq!(again, written);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `DEPIN_REGEN_EXAMPLES=1 cargo test -p depin-testkit --test examples -- --ignored`
/// rewrites `examples/` (what `depin-prover example` does from
/// `scripts/regen.sh`).
#[test]
#[ignore = "writes examples/; run through scripts/regen.sh"]
fn regenerate_examples() {
    if std::env::var_os("DEPIN_REGEN_EXAMPLES").is_some() {
        for p in examples::regenerate_all(&repo_root()).expect("writes") {
            println!("wrote {}", p.display());
        }
    }
}

#[test]
fn example_keys_are_derived_from_their_labels_and_loaded_back() {
    let keys = keys_dir(&repo_root());
    for label in key_labels() {
        let loaded = examples::load_key(&keys, &label).expect("loads");
        assert_eq!(
            loaded.public_key(),
            examples::example_private_key(&label).public_key(),
            "{label}"
        );
    }
    let missing = examples::load_key(&keys, "no-such-key").unwrap_err();
    assert!(missing.to_string().contains("no-such-key.key"));
    let built = build(StatementKind::Uptime, &keys).expect("builds");
    assert_eq!(built, parse(StatementKind::Uptime));
}

#[test]
fn bad_key_files_are_refused_without_echoing_them() {
    let tmp = std::env::temp_dir().join(format!("depin-prover-badkey-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    std::fs::write(tmp.join("short.key"), "abcd\n").expect("write");
    std::fs::write(tmp.join("nothex.key"), "zz".repeat(32)).expect("write");
    std::fs::write(tmp.join("prefixed.key"), format!("0x{}\n", "11".repeat(32))).expect("write");
    for bad in ["short", "nothex"] {
        let e = examples::load_key(&tmp, bad).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{bad}.key")) && e.contains("64 hex digits"),
            "{e}"
        );
        assert!(!e.contains("zzzz"), "{e}");
    }
    assert!(examples::load_key(&tmp, "prefixed").is_ok());
    let _ = std::fs::remove_dir_all(&tmp);
}

// ---------------------------------------------------------------------------
// Malformed inputs: each is refused with an error that names the field.

fn example_value(kind: StatementKind) -> Value {
    serde_json::from_str(&committed(kind)).expect("valid JSON")
}

/// The committed example of `kind` with `f` applied, as JSON text.
fn mutated(kind: StatementKind, f: impl FnOnce(&mut Value)) -> String {
    let mut v = example_value(kind);
    f(&mut v);
    serde_json::to_string_pretty(&v).expect("serializes")
}

fn error_of(text: &str) -> String {
    match EpochInput::from_json(text) {
        Ok(_) => panic!("accepted a malformed input"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that the error of `text` starts with `path: ` and contains
/// `needle`.
fn assert_refused(text: &str, path: &str, needle: &str) {
    let e = error_of(text);
    assert!(
        e.starts_with(&format!("{path}: ")),
        "expected the path `{path}` in: {e}"
    );
    assert!(e.contains(needle), "expected `{needle}` in: {e}");
}

const P: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
const TWO_256: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639936";

#[test]
fn integers_out_of_range_name_the_field() {
    use StatementKind::*;
    let t = mutated(Uptime, |v| {
        v["heartbeats"][3]["slot"] = json!(4_294_967_296u64)
    });
    assert_refused(
        &t,
        "heartbeats[3].slot",
        "expected an unsigned integer below 2^32, got 4294967296",
    );
    let t = mutated(Uptime, |v| v["heartbeats"][0]["latency_ms"] = json!(-1));
    assert_refused(&t, "heartbeats[0].latency_ms", "below 2^32, got -1");
    let t = mutated(Uptime, |v| v["heartbeats"][5]["latency_ms"] = json!(1.5));
    assert_refused(&t, "heartbeats[5].latency_ms", "non-integer");
    let t = mutated(Uptime, |v| v["epoch"] = json!("20250"));
    assert_refused(&t, "epoch", "invalid type: string");
    let t = mutated(Bandwidth, |v| {
        v["receipts"][2]["registry_proof"]["index"] = json!(65_536)
    });
    assert_refused(
        &t,
        "receipts[2].registry_proof.index",
        "below 2^16, got 65536",
    );
    let t = mutated(Bandwidth, |v| {
        v["receipts"][1]["receipt"]["bytes"] = json!(-5)
    });
    assert_refused(&t, "receipts[1].receipt.bytes", "below 2^64, got -5");
    let t = mutated(Coverage, |v| {
        v["reports"][4]["report"]["rssi_dbm"] = json!(2_147_483_648u64)
    });
    assert_refused(&t, "reports[4].report.rssi_dbm", "-2^31 to 2^31 - 1");
    let t = mutated(Coverage, |v| v["policy"]["eirp_dbm"] = json!(true));
    assert_refused(&t, "policy.eirp_dbm", "invalid type: boolean");

    // Numbers beyond u64 and beyond f64, written as text.
    let base = committed(Bandwidth);
    let huge = base.replacen("\"bytes\": ", "\"bytes\": 18446744073709551616", 1);
    let huge = strip_first_number_after(&huge, "\"bytes\": 18446744073709551616");
    assert_refused(&huge, "receipts[0].receipt.bytes", "below 2^64");
    let inf = base.replacen("\"bytes\": ", "\"bytes\": 1e400", 1);
    let inf = strip_first_number_after(&inf, "\"bytes\": 1e400");
    assert_refused(&inf, "receipts[0].receipt.bytes", "out of range");
}

/// Removes the digits that follow `marker` (the original number it was
/// spliced in front of).
fn strip_first_number_after(text: &str, marker: &str) -> String {
    let at = text.find(marker).expect("marker") + marker.len();
    let rest = &text[at..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    format!("{}{}", &text[..at], &rest[digits..])
}

#[test]
fn field_elements_points_and_signatures_are_strict() {
    use StatementKind::*;
    let t = mutated(Uptime, |v| v["beacon"] = json!(P));
    assert_refused(&t, "beacon", "not below the BN254 scalar field modulus");
    let t = mutated(Uptime, |v| v["heartbeats"][7]["response"] = json!("0x12"));
    assert_refused(&t, "heartbeats[7].response", "decimal");
    let t = mutated(Uptime, |v| v["heartbeats"][7]["response"] = json!(""));
    assert_refused(&t, "heartbeats[7].response", "empty");
    let t = mutated(Uptime, |v| v["beacon"] = json!(12345));
    assert_refused(&t, "beacon", "invalid type: integer");
    let t = mutated(Uptime, |v| v["device"]["x"] = json!("1"));
    assert_refused(&t, "device", "not a point of Baby Jubjub");
    let t = mutated(Uptime, |v| {
        v["signed_head"]["signature"]["r8"]["y"] = json!("2")
    });
    assert_refused(&t, "signed_head.signature.r8", "not a point of Baby Jubjub");
    let t = mutated(Uptime, |v| {
        v["signed_head"]["signature"]["s"] = json!(TWO_256)
    });
    assert_refused(&t, "signed_head.signature.s", "below 2^256");
    let t = mutated(Bandwidth, |v| {
        v["receipts"][3]["client_key"] = json!({"x": "0", "y": "0"})
    });
    assert_refused(&t, "receipts[3].client_key", "not a point");
    let t = mutated(Bandwidth, |v| {
        v["receipts"][0]["registry_proof"]["siblings"]
            .as_array_mut()
            .expect("array")
            .pop();
    });
    assert_refused(
        &t,
        "receipts[0].registry_proof.siblings",
        "expected an array of length 16",
    );
    let t = mutated(Coverage, |v| v["claim"]["location"]["x"] = json!(-3));
    assert_refused(&t, "claim.location.x", "below 2^32");
    let t = mutated(Coverage, |v| {
        v["reports"][2]["report"]["witness"]["y"] = json!(P)
    });
    assert_refused(&t, "reports[2].report.witness.y", "modulus");

    // An S at or above the subgroup order is well formed and just does not
    // verify: the reference rejects the epoch, it is not a parse error.
    let order = "2736030358979909402780800718157159386076813972158567259200215660948447373041";
    let t = mutated(Uptime, |v| {
        v["signed_head"]["signature"]["s"] = json!(order)
    });
    let e = EpochInput::from_json(&t)
        .expect("parses")
        .evaluate()
        .expect("evaluates");
    assert_eq!(e.reward, 0);
}

#[test]
fn unknown_missing_and_duplicate_fields_are_refused() {
    use StatementKind::*;
    let t = mutated(Uptime, |v| v["comment"] = json!("hi"));
    assert_refused(&t, "comment", "unknown field `comment`");
    let t = mutated(Uptime, |v| v["heartbeats"][2]["enabled"] = json!(true));
    assert_refused(&t, "heartbeats[2].enabled", "unknown field `enabled`");
    let t = mutated(Uptime, |v| v["device"]["z"] = json!("1"));
    assert_refused(&t, "device.z", "unknown field `z`");
    let t = mutated(Coverage, |v| {
        v["claim"]
            .as_object_mut()
            .expect("object")
            .remove("beacon_id");
    });
    assert_refused(&t, "claim", "missing field `beacon_id`");
    let t = mutated(Bandwidth, |v| {
        v.as_object_mut().expect("object").remove("registry_root");
    });
    let e = error_of(&t);
    assert!(e.contains("missing field `registry_root`"), "{e}");
    // A duplicate key, written as text.
    let t = committed(Uptime).replacen("\"epoch\": ", "\"epoch\": 1,\n  \"epoch\": ", 1);
    let e = error_of(&t);
    assert!(e.contains("duplicate field `epoch`"), "{e}");
    let t = committed(Uptime).replacen("\"slot\": 0,", "\"slot\": 0, \"slot\": 1,", 1);
    assert_refused(&t, "heartbeats[0]", "duplicate field `slot`");
    // The body of one statement under another's tag.
    let t = mutated(Uptime, |v| v["statement"] = json!("coverage"));
    let e = error_of(&t);
    assert!(e.contains("unknown field `heartbeats`"), "{e}");
}

#[test]
fn statement_and_version_are_checked() {
    use StatementKind::*;
    let t = mutated(Uptime, |v| v["statement"] = json!("storage"));
    assert_refused(&t, "statement", "unknown statement, expected one of");
    let t = mutated(Uptime, |v| v["statement"] = json!(1));
    assert_refused(&t, "statement", "invalid type");
    let t = mutated(Uptime, |v| {
        v.as_object_mut().expect("object").remove("statement");
    });
    assert_refused(&t, "statement", "missing field `statement`");
    let t = mutated(Bandwidth, |v| v["version"] = json!(2));
    assert_refused(&t, "version", "unsupported version 2");
    let t = mutated(Coverage, |v| {
        v.as_object_mut().expect("object").remove("version");
    });
    let e = error_of(&t);
    assert!(e.contains("missing field `version`"), "{e}");
}

#[test]
fn invalid_policies_are_refused_at_parse_time() {
    use StatementKind::*;
    let t = mutated(Uptime, |v| v["policy"]["floor_slots"] = json!(0));
    assert_refused(&t, "policy", "invalid policy: the floor of counted slots");
    let t = mutated(Uptime, |v| v["policy"]["slots_per_epoch"] = json!(97));
    assert_refused(&t, "policy", "exceed the uptime capacity of 96");
    let t = mutated(Bandwidth, |v| v["policy"]["rate_shift"] = json!(65));
    assert_refused(&t, "policy", "rate shift 65 is above 64");
    let t = mutated(Coverage, |v| v["policy"]["cell_bits"] = json!(7));
    assert_refused(&t, "policy", "cell size");
    let t = mutated(Coverage, |v| v["policy"]["eirp_dbm"] = json!(101));
    assert_refused(&t, "policy", "EIRP 101 dBm");
}

#[test]
fn more_records_than_the_capacity_name_the_array() {
    fn grow(kind: StatementKind, field: &str, to: usize) -> String {
        mutated(kind, |v| {
            let arr = v[field].as_array_mut().expect("array");
            let first = arr[0].clone();
            arr.resize(to, first);
        })
    }
    let cases = [
        (StatementKind::Uptime, "heartbeats", 96),
        (StatementKind::Bandwidth, "receipts", 32),
        (StatementKind::Coverage, "reports", 16),
    ];
    for (kind, field, capacity) in cases {
        // Exactly the capacity parses.
        assert!(EpochInput::from_json(&grow(kind, field, capacity)).is_ok());
        let err = EpochInput::from_json(&grow(kind, field, capacity + 1)).unwrap_err();
        assert!(matches!(
            err,
            InputError::CapacityExceeded { records, capacity: c, .. }
                if records == capacity + 1 && c == capacity
        ));
        assert_eq!(err.path(), Some(field));
        assert_eq!(
            err.to_string(),
            format!(
                "{field}: {} records exceed the {} capacity of {capacity}",
                capacity + 1,
                kind.as_str()
            )
        );
    }
}

/// The uptime example with one byte of the `statement` value made 0xff.
fn non_utf8_in_a_string() -> Vec<u8> {
    let mut bytes = committed(StatementKind::Uptime).into_bytes();
    let at = bytes
        .windows(8)
        .position(|w| w == b"\"uptime\"")
        .expect("tag");
    bytes[at + 3] = 0xff;
    bytes
}

#[test]
fn hostile_documents_are_refused() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("whitespace", b"  \n\t ".to_vec()),
        ("null", b"null".to_vec()),
        ("array", b"[]".to_vec()),
        ("number", b"42".to_vec()),
        ("string", b"\"uptime\"".to_vec()),
        ("empty object", b"{}".to_vec()),
        (
            "truncated",
            committed(StatementKind::Bandwidth).as_bytes()[..5000].to_vec(),
        ),
        ("non-UTF-8 in a string", non_utf8_in_a_string()),
        ("non-UTF-8 bytes", vec![0xfe, 0xff, 0x00, 0x7b, 0x80, 0x81]),
        ("nul bytes", vec![0; 1000]),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "deep nesting in a field",
            format!(
                "{{\"statement\": \"uptime\", \"beacon\": {}1{}}}",
                "{\"a\":".repeat(10_000),
                "}".repeat(10_000)
            )
            .into_bytes(),
        ),
        (
            "trailing data",
            format!("{}{{}}", committed(StatementKind::Coverage)).into_bytes(),
        ),
        (
            "two documents",
            format!(
                "{}{}",
                committed(StatementKind::Uptime),
                committed(StatementKind::Uptime)
            )
            .into_bytes(),
        ),
        (
            "a million digits",
            format!(
                "{{\"statement\": \"uptime\", \"beacon\": \"{}\"}}",
                "9".repeat(1_000_000)
            )
            .into_bytes(),
        ),
    ];
    for (name, bytes) in cases {
        match EpochInput::from_slice(&bytes) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => assert!(!e.to_string().is_empty(), "{name}"),
        }
    }
    let e = EpochInput::from_json("{\"statement\": \"uptime\", \"beacon\": [[[[[[]]]]]]}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("beacon: invalid type: sequence"), "{e}");
}

#[test]
fn inputs_above_the_limit_are_refused_before_parsing() {
    // 100 MB of garbage.
    let garbage = vec![b'x'; 100 << 20];
    let e = EpochInput::from_slice(&garbage).unwrap_err();
    assert!(matches!(e, InputError::TooLarge { .. }), "{e}");
    // Just above the limit, even when it is otherwise well-formed JSON.
    let mut padded = committed(StatementKind::Uptime).into_bytes();
    padded.resize(MAX_INPUT_BYTES + 1, b' ');
    assert!(matches!(
        EpochInput::from_slice(&padded),
        Err(InputError::TooLarge { .. })
    ));
    // At the limit, whitespace is fine.
    padded.truncate(MAX_INPUT_BYTES);
    assert!(EpochInput::from_slice(&padded).is_ok());
    // A file is refused without being read whole.
    let tmp = std::env::temp_dir().join(format!("depin-prover-big-{}.json", std::process::id()));
    std::fs::write(&tmp, &garbage[..(MAX_INPUT_BYTES + 10)]).expect("write");
    assert!(matches!(
        EpochInput::from_file(&tmp),
        Err(InputError::TooLarge { .. })
    ));
    let _ = std::fs::remove_file(&tmp);
}

#[test]
fn files_are_read_and_a_byte_order_mark_is_skipped() {
    let root = repo_root();
    for kind in STATEMENTS {
        let input = EpochInput::from_file(&epoch_path(&root, kind)).expect("reads");
        assert_eq!(input.kind(), kind);
        let with_bom = format!("\u{feff}{}", committed(kind));
        assert_eq!(EpochInput::from_json(&with_bom).expect("parses"), input);
    }
    let missing = root.join("examples/epochs/nope.json");
    let e = EpochInput::from_file(&missing).unwrap_err();
    assert!(matches!(e, InputError::Io { .. }));
    assert!(e.to_string().contains("nope.json"), "{e}");
}

// ---------------------------------------------------------------------------
// Fuzzing: nothing panics; whatever parses evaluates and round-trips.

/// Parses `bytes`; when it parses, evaluates it and checks the round trip.
fn check_never_panics(bytes: &[u8]) {
    if let Ok(input) = EpochInput::from_slice(bytes) {
        let _ = input.evaluate();
        let text = input.to_json().expect("serializes");
        assert_eq!(EpochInput::from_json(&text).expect("re-parses"), input);
    }
}

fn interesting_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(-1)),
        Just(json!(65_535)),
        Just(json!(65_536)),
        Just(json!(4_294_967_295u64)),
        Just(json!(4_294_967_296u64)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(0.5)),
        Just(json!(1e300)),
        Just(json!("")),
        Just(json!("0")),
        Just(json!("1")),
        Just(json!(P)),
        Just(json!(TWO_256)),
        Just(json!("-1")),
        Just(json!("uptime")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([[[[1]]]])),
        Just(json!({"x": "0", "y": "1"})),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i32>().prop_map(|n| json!(n)),
        "[0-9]{1,80}".prop_map(|s| json!(s)),
    ]
}

/// The number of nodes of `v` (preorder).
fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node of `v` in preorder.
fn node_mut(v: &mut Value, n: usize) -> Option<&mut Value> {
    if n == 0 {
        return Some(v);
    }
    let mut n = n - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return None,
    };
    for child in children {
        let size = count_nodes(child);
        if n < size {
            return node_mut(child, n);
        }
        n -= size;
    }
    None
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    RemoveKey(usize, usize),
    AddKey(usize, String, Value),
    Duplicate(usize, usize),
    Truncate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), interesting_value()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(n, k)| Mutation::RemoveKey(n, k)),
        1 => (any::<usize>(), "[a-z_]{1,12}", interesting_value())
            .prop_map(|(n, k, v)| Mutation::AddKey(n, k, v)),
        1 => (any::<usize>(), 0usize..40).prop_map(|(n, k)| Mutation::Duplicate(n, k)),
        1 => (any::<usize>(), 0usize..20).prop_map(|(n, k)| Mutation::Truncate(n, k)),
    ]
}

fn apply(v: &mut Value, m: &Mutation) {
    let total = count_nodes(v);
    let pick = |n: &usize| n % total;
    match m {
        Mutation::Replace(n, new) => {
            if let Some(node) = node_mut(v, pick(n)) {
                *node = new.clone();
            }
        }
        Mutation::RemoveKey(n, k) => {
            if let Some(Value::Object(o)) = node_mut(v, pick(n)) {
                if let Some(key) = o.keys().nth(k % o.len().max(1)).cloned() {
                    o.remove(&key);
                }
            }
        }
        Mutation::AddKey(n, key, new) => {
            if let Some(Value::Object(o)) = node_mut(v, pick(n)) {
                o.insert(key.clone(), new.clone());
            }
        }
        Mutation::Duplicate(n, times) => {
            if let Some(Value::Array(a)) = node_mut(v, pick(n)) {
                if let Some(first) = a.first().cloned() {
                    a.extend(std::iter::repeat_n(first, *times));
                }
            }
        }
        Mutation::Truncate(n, len) => {
            if let Some(Value::Array(a)) = node_mut(v, pick(n)) {
                a.truncate(*len);
            }
        }
    }
}

/// 128 cases per property, or `PROPTEST_CASES` for a longer run.
fn fuzz_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_never_panics(&bytes);
    }

    #[test]
    fn random_json_never_panics(text in "[\\[\\]{}\",:0-9a-z \\-.e]{0,400}") {
        check_never_panics(text.as_bytes());
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut v = example_value(STATEMENTS[which]);
        for m in &mutations {
            apply(&mut v, m);
        }
        let text = serde_json::to_string(&v).expect("serializes");
        check_never_panics(text.as_bytes());
    }

    #[test]
    fn byte_edited_examples_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = committed(STATEMENTS[which]).into_bytes();
        for (at, byte, op) in edits {
            let at = at % (bytes.len() + 1);
            match op {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        check_never_panics(&bytes);
    }
}
