//! snarkjs interop: for each statement (small-capacity circuits, and the
//! committed full-size golden proofs), `snarkjs groth16 verify vk.json
//! public.json proof.json` says OK for our files and refuses a tampered
//! public.json; our JSON is byte for byte what snarkjs's own writer (bfj,
//! one space) produces; `vk_alphabeta_12` equals ffjavascript's pairing; and
//! parsing is strict.
//!
//! Needs the pinned JavaScript tools: run `scripts/setup.sh`.

use depin_testkit as support;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use ark_bn254::{Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use depin_evm::proof_dir::{write_proof_dir, PROOF_JSON_FILE, PUBLIC_JSON_FILE};
use depin_evm::snarkjs::{
    self, g1_from_json, g1_to_json, g2_from_json, g2_to_json, proof_from_json, public_from_json,
    vk_from_json, SnarkjsError,
};
use depin_groth16::golden::{self, CircuitVisitor};
use depin_groth16::keys::{dev_setup, Keys, VK_JSON_FILE};
use depin_groth16::prover::prove;
use depin_proving::StatementProof;
use depin_statements::StatementKind;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

struct Make;

impl CircuitVisitor for Make {
    type Output = (Keys, StatementProof);
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        let keys = dev_setup(circuit.clone(), 11).expect("setup");
        let proof =
            prove(&keys.proving, circuit, &mut ChaCha20Rng::seed_from_u64(12)).expect("prove");
        (keys, proof)
    }
}

/// Runs `snarkjs groth16 verify` on the three files in `dir`; true for OK.
fn snarkjs_verify(dir: &Path) -> bool {
    let out = Command::new(support::snarkjs())
        .args([
            "groth16",
            "verify",
            VK_JSON_FILE,
            PUBLIC_JSON_FILE,
            PROOF_JSON_FILE,
        ])
        .current_dir(dir)
        .output()
        .expect("run snarkjs (run scripts/setup.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = stdout.contains("OK!");
    assert_eq!(
        ok,
        out.status.success(),
        "snarkjs exit status and output disagree: {stdout}"
    );
    ok
}

/// `kind`'s small setup and proof, made once per test process.
fn made(kind: StatementKind) -> &'static (Keys, StatementProof) {
    static CACHE: [OnceLock<(Keys, StatementProof)>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    CACHE[usize::from(kind.code() - 1)].get_or_init(|| support::with_small(kind, Make))
}

/// Writes a small statement's vk.json and proof files into a fresh
/// directory.
fn small_dir(kind: StatementKind) -> (tempfile::TempDir, &'static Keys, &'static StatementProof) {
    let (keys, proof) = made(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    keys.verifying
        .write_snarkjs(&dir.path().join(VK_JSON_FILE))
        .expect("vk.json");
    write_proof_dir(proof, dir.path()).expect("proof");
    (dir, keys, proof)
}

fn tamper_public(dir: &Path, index: usize) {
    let path = dir.join(PUBLIC_JSON_FILE);
    let mut public =
        public_from_json(&std::fs::read_to_string(&path).expect("read")).expect("parse");
    public[index] += Fr::from(1u64);
    std::fs::write(&path, snarkjs::public_to_json(&public).expect("json")).expect("write");
}

#[test]
fn snarkjs_verifies_small_proofs_of_every_statement_and_refuses_tampering() {
    for kind in KINDS {
        let (dir, _, _) = small_dir(kind);
        assert!(
            snarkjs_verify(dir.path()),
            "{kind:?}: snarkjs refused our proof"
        );
        // The reward (header), then the device id.
        for index in [0, 1] {
            let (dir, _, _) = small_dir(kind);
            tamper_public(dir.path(), index);
            assert!(
                !snarkjs_verify(dir.path()),
                "{kind:?}: snarkjs accepted a tampered public input {index}"
            );
        }
    }
}

#[test]
fn snarkjs_verifies_the_golden_proofs() {
    let golden = golden::committed_dir();
    for kind in KINDS {
        let src = golden.join(kind.as_str());
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [VK_JSON_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE] {
            std::fs::copy(src.join(f), dir.path().join(f))
                .unwrap_or_else(|e| panic!("{}: {e}", src.join(f).display()));
        }
        assert!(snarkjs_verify(dir.path()), "{kind:?}: golden proof refused");
        tamper_public(dir.path(), 0);
        assert!(
            !snarkjs_verify(dir.path()),
            "{kind:?}: tampered golden accepted"
        );
    }
}

/// Re-writes each JSON file given with snarkjs's own writer (`bfj.write(..,
/// {space: 1})`), computes `vk_alphabeta_12` with ffjavascript, and prints
/// `alphabeta ok` when it matches the vk's.
const NODE_CHECK: &str = r#"
import { buildBn128, utils } from "ffjavascript";
import bfj from "bfj";
import fs from "fs";
const [vkPath, ...rest] = process.argv.slice(1);
const vk = utils.unstringifyBigInts(JSON.parse(fs.readFileSync(vkPath, "utf8")));
const curve = await buildBn128(true);
const ab = await curve.pairing(curve.G1.fromObject(vk.vk_alpha_1), curve.G2.fromObject(vk.vk_beta_2));
const ours = JSON.stringify(utils.stringifyBigInts(vk.vk_alphabeta_12));
const theirs = JSON.stringify(utils.stringifyBigInts(curve.Gt.toObject(ab)));
console.log(ours === theirs ? "alphabeta ok" : "alphabeta MISMATCH");
for (const f of [vkPath, ...rest]) {
  await bfj.write(f + ".bfj", JSON.parse(fs.readFileSync(f, "utf8")), { space: 1 });
}
await curve.terminate();
"#;

#[test]
fn json_is_byte_identical_to_snarkjs_writer_and_alphabeta_matches_ffjavascript() {
    let (dir, _, _) = small_dir(StatementKind::Coverage);
    let files: Vec<String> = [VK_JSON_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE]
        .iter()
        .map(|f| dir.path().join(f).display().to_string())
        .collect();
    let out = Command::new("node")
        .args(["--input-type=module", "-e", NODE_CHECK, "--"])
        .args(&files)
        .current_dir(support::repo_root().join("tools/js"))
        .output()
        .expect("run node (run scripts/setup.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node failed (run scripts/setup.sh): {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("alphabeta ok"), "{stdout}");
    for f in &files {
        let ours = std::fs::read(f).expect("ours");
        let theirs = std::fs::read(format!("{f}.bfj")).expect("bfj");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "{f}"
        );
    }
}

#[test]
fn json_round_trips() {
    let (dir, keys, proof) = small_dir(StatementKind::Uptime);
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("read");
    assert_eq!(
        &vk_from_json(&read(VK_JSON_FILE)).expect("vk"),
        keys.verifying.as_arkworks()
    );
    assert_eq!(
        proof_from_json(&read(PROOF_JSON_FILE)).expect("proof"),
        *proof.proof.as_groth16().expect("groth16")
    );
    assert_eq!(
        public_from_json(&read(PUBLIC_JSON_FILE)).expect("public"),
        proof.public
    );
    // Points at infinity use snarkjs's encoding.
    let g1 = G1Affine::zero();
    assert_eq!(g1_to_json(&g1), ["0", "1", "0"].map(String::from));
    assert_eq!(g1_from_json(&g1_to_json(&g1), "p").expect("inf"), g1);
    let g2 = G2Affine::zero();
    assert_eq!(g2_from_json(&g2_to_json(&g2), "p").expect("inf"), g2);
    let gen = G2Affine::generator();
    assert_eq!(g2_from_json(&g2_to_json(&gen), "p").expect("gen"), gen);
}

fn field_of(e: SnarkjsError) -> String {
    match e {
        SnarkjsError::Field { field, .. } => field,
        other => panic!("expected a field error, got {other}"),
    }
}

#[test]
fn parsing_is_strict_and_names_the_field() {
    let (dir, _, _) = small_dir(StatementKind::Uptime);
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("read");
    let proof: serde_json::Value = serde_json::from_str(&read(PROOF_JSON_FILE)).expect("json");
    let vk: serde_json::Value = serde_json::from_str(&read(VK_JSON_FILE)).expect("json");

    let edit_proof = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = proof.clone();
        f(&mut p);
        proof_from_json(&p.to_string()).expect_err("refused")
    };
    // Off the curve.
    let e = edit_proof(&|p| p["pi_a"][1] = "5".into());
    assert_eq!(field_of(e), "pi_a");
    let e = edit_proof(&|p| p["pi_b"][0][1] = "5".into());
    assert_eq!(field_of(e), "pi_b");
    // Not a canonical decimal, or not below the modulus.
    let e = edit_proof(&|p| p["pi_c"][0] = "0x12".into());
    assert_eq!(field_of(e), "pi_c[0]");
    let p = "21888242871839275222246405745257275088696311157297823662689037894645226208583";
    let e = edit_proof(&|v| v["pi_b"][1][0] = p.into());
    assert_eq!(field_of(e), "pi_b[1][0]");
    let e = edit_proof(&|v| v["pi_a"][2] = "2".into());
    assert_eq!(field_of(e), "pi_a[2]");
    let e = edit_proof(&|v| v["protocol"] = "plonk".into());
    assert_eq!(field_of(e), "protocol");
    let e = edit_proof(&|v| v["curve"] = "bls12381".into());
    assert_eq!(field_of(e), "curve");
    assert!(matches!(
        edit_proof(&|v| v["pi_a"] = serde_json::json!(["1", "2"])),
        SnarkjsError::Json { .. }
    ));

    let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    let e = public_from_json(&format!("[\"1\", \"{r}\"]")).expect_err("modulus");
    assert_eq!(field_of(e), "public[1]");
    assert!(public_from_json("[\"-1\"]").is_err());
    assert!(public_from_json("[1]").is_err());

    let edit_vk = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = vk.clone();
        f(&mut v);
        vk_from_json(&v.to_string()).expect_err("refused")
    };
    let e = edit_vk(&|v| v["IC"][3][0] = "7".into());
    assert_eq!(field_of(e), "IC[3]");
    let e = edit_vk(&|v| v["nPublic"] = 4.into());
    assert_eq!(field_of(e), "IC");
    let e = edit_vk(&|v| v["vk_alphabeta_12"][0][0][0] = "1".into());
    assert_eq!(field_of(e), "vk_alphabeta_12");
    // On the twist but outside the prime-order subgroup (G2 has a cofactor).
    let outside = (1u64..)
        .filter_map(|x| G2Affine::get_point_from_x_unchecked(Fq2::from(x), false))
        .find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
        .expect("a point outside the subgroup");
    let e = g2_from_json(&g2_to_json(&outside), "vk_beta_2").expect_err("subgroup");
    assert!(e.to_string().contains("subgroup"), "{e}");
    let e =
        edit_vk(&|v| v["vk_delta_2"] = serde_json::to_value(g2_to_json(&outside)).expect("json"));
    assert_eq!(field_of(e), "vk_delta_2");
    // vk_alphabeta_12 is optional (snarkjs's verifier does not read it).
    let mut v = vk.clone();
    v.as_object_mut().expect("object").remove("vk_alphabeta_12");
    assert!(vk_from_json(&v.to_string()).is_ok());
}
