//! Interoperability with the pinned snarkjs (0.7.6, `tools/js`): every
//! file this crate writes is read by snarkjs and every file snarkjs writes
//! is read here; a ceremony mixing both is verified by both; tampering is
//! refused by both; proofs go both ways. Offline; skipped with a message
//! only where snarkjs is not installed (never under CI).

mod common;

use std::path::{Path, PathBuf};

use ark_bn254::Fr;
use ark_ec::CurveGroup;
use ark_ff::One;
use ark_relations::gr1cs::ConstraintSynthesizer;
use common::{dev_ptau, run_snarkjs, scratch, small_uptime, snarkjs, snarkjs_ok, TestCircuit};
use depin_circom::blake2b::format_hash;
use depin_circom::ceremony;
use depin_circom::container::SectionTable;
use depin_circom::r1cs::R1cs;
use depin_circom::zkey::{Layout, VerifyStep, Zkey, ZkeyError};
use depin_circom::ZkeyProver;
use depin_evm::snarkjs as json;
use depin_prover_core::groth16::synthesize_witness;
use depin_statements_r1cs::StatementCircuit;

/// A fresh folder under the test binary's scratch folder.
fn dir(name: &str) -> PathBuf {
    let d = scratch().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The number after `label` in snarkjs's output.
fn count(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("{label:?} not in:\n{text}"));
    line.rsplit(' ').next().unwrap().trim().parse().unwrap()
}

/// Exports `c` as `.r1cs` and `.wtns`; snarkjs reports our counts and
/// accepts the pair, and refuses a witness with one wrong value (as we do).
fn check_exports<C: ConstraintSynthesizer<Fr> + Clone>(sj: &Path, name: &str, c: C) {
    let d = dir("r1cs_wtns");
    let r1cs = d.join(format!("{name}.r1cs"));
    let wtns = d.join(format!("{name}.wtns"));
    let rr = ceremony::export_r1cs(c.clone(), &r1cs).unwrap();
    let wr = ceremony::export_wtns(c, &wtns).unwrap();
    let info = snarkjs_ok(sj, &["r1cs", "info", s(&r1cs)], "# of Constraints");
    assert_eq!(
        count(&info, "# of Constraints:"),
        rr.constraints as u64,
        "{name}"
    );
    assert_eq!(count(&info, "# of Wires:"), u64::from(rr.wires), "{name}");
    assert_eq!(
        count(&info, "# of Public Inputs:"),
        u64::from(rr.public_inputs),
        "{name}"
    );
    assert_eq!(count(&info, "# of Private Inputs:"), 0, "{name}");
    assert_eq!(count(&info, "# of Outputs:"), 0, "{name}");
    assert_eq!(wr.values, rr.wires as usize);
    snarkjs_ok(
        sj,
        &["wtns", "check", s(&r1cs), s(&wtns)],
        "WITNESS IS CORRECT",
    );
    let mut z = depin_circom::wtns::read(&wtns).unwrap();
    let last = z.len() - 1;
    z[last] += Fr::one();
    let bad = d.join(format!("{name}_bad.wtns"));
    depin_circom::wtns::write(&bad, &z).unwrap();
    let (_, text) = run_snarkjs(sj, &["wtns", "check", s(&r1cs), s(&bad)]);
    assert!(text.contains("WITNESS IS NOT CORRECT"), "{text}");
    assert!(R1cs::read(&r1cs).unwrap().check_witness(&z).is_err());
}

#[test]
fn snarkjs_reads_our_r1cs_and_wtns() {
    let Some(sj) = snarkjs() else { return };
    check_exports(&sj, "test", TestCircuit::new(9));
    let uptime = small_uptime();
    let public = uptime.public_inputs();
    check_exports(&sj, "uptime", uptime.clone());
    let w = dir("r1cs_wtns").join("uptime2.wtns");
    assert_eq!(
        ceremony::export_wtns(uptime, &w).unwrap().public_inputs,
        public
    );
}

#[test]
fn snarkjs_verifies_our_development_ptau() {
    let Some(sj) = snarkjs() else { return };
    let path = dev_ptau(6);
    snarkjs_ok(
        &sj,
        &["powersoftau", "verify", s(&path)],
        "Powers of Tau Ok!",
    );
    // A Lagrange point moved: snarkjs refuses the file.
    let bytes = std::fs::read(&path).unwrap();
    let t = SectionTable::parse(&bytes, "ptau", 1).unwrap();
    let sec = t.get(15).unwrap();
    let at = sec.offset as usize + 5 * 64;
    let p = depin_circom::encoding::g1_from_lem(&bytes[at..at + 64]).unwrap();
    let mut bad = bytes.clone();
    depin_circom::encoding::g1_to_lem(&(p + p).into_affine(), &mut bad[at..at + 64]);
    let bad_path = dir("ptau").join("bad.ptau");
    std::fs::write(&bad_path, &bad).unwrap();
    let (_, text) = run_snarkjs(&sj, &["powersoftau", "verify", s(&bad_path)]);
    assert!(!text.contains("Powers of Tau Ok!"), "{text}");
}

/// Our initial key and snarkjs's for the same `.r1cs` and `.ptau`.
fn both_new(sj: &Path, d: &Path, r1cs: &R1cs) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let r1cs_path = d.join("circuit.r1cs");
    r1cs.write(&r1cs_path).unwrap();
    let ptau = dev_ptau(depin_circom::zkey::required_ptau_power(r1cs.domain_power()));
    let ours = d.join("ours_0000.zkey");
    let theirs = d.join("snarkjs_0000.zkey");
    let report = ceremony::zkey_new_from_r1cs(r1cs, &ptau, None, &ours).unwrap();
    snarkjs_ok(
        sj,
        &["zkey", "new", s(&r1cs_path), s(&ptau), s(&theirs)],
        "Circuit hash",
    );
    assert!(report.bytes > 0);
    (r1cs_path, ptau, ours, theirs)
}

#[test]
fn zkey_new_is_byte_identical_to_snarkjs() {
    let Some(sj) = snarkjs() else { return };
    for (name, r1cs) in [
        ("test", R1cs::from_circuit(TestCircuit::new(1)).unwrap()),
        (
            "test, 3 rounds",
            R1cs::from_circuit(TestCircuit {
                x: Fr::from(4u64),
                steps: 3,
            })
            .unwrap(),
        ),
    ] {
        let d = dir(&format!("new_{}", name.replace([' ', ','], "_")));
        let (_, _, ours, theirs) = both_new(&sj, &d, &r1cs);
        let a = std::fs::read(&ours).unwrap();
        let b = std::fs::read(&theirs).unwrap();
        assert_eq!(a.len(), b.len(), "{name}: sizes differ");
        assert!(a == b, "{name}: our zkey new differs from snarkjs's");
    }
}

/// The four-line hashes snarkjs printed after `title` lines.
fn printed_hashes(text: &str) -> String {
    text.replace("[INFO]  snarkJS: ", "")
}

#[test]
fn a_mixed_ceremony_is_verified_by_both_and_tampering_is_refused_by_both() {
    let Some(sj) = snarkjs() else { return };
    let d = dir("chain");
    let r1cs = R1cs::from_circuit(TestCircuit::new(1)).unwrap();
    let (r1cs_path, ptau, z0, _) = both_new(&sj, &d, &r1cs);
    let [z1, z2, z3, z4] = [1, 2, 3, 4].map(|i| d.join(format!("z{i}.zkey")));
    let out1 = snarkjs_ok(
        &sj,
        &[
            "zkey",
            "contribute",
            s(&z0),
            s(&z1),
            "--name=snarkjs one",
            "-e=some entropy",
        ],
        "Contribution Hash",
    );
    let ours2 =
        ceremony::zkey_contribute(&z1, &z2, Some("ours two"), Some("more entropy")).unwrap();
    let out3 = snarkjs_ok(
        &sj,
        &[
            "zkey",
            "beacon",
            s(&z2),
            s(&z3),
            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "10",
            "--name=snarkjs beacon",
        ],
        "Contribution Hash",
    );
    let ours4 = ceremony::zkey_beacon(
        &z3,
        &z4,
        Some("our beacon"),
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        11,
    )
    .unwrap();

    // snarkjs verifies the chain, and prints the hashes we compute.
    let verified = snarkjs_ok(
        &sj,
        &["zkey", "verify", s(&r1cs_path), s(&ptau), s(&z4)],
        "ZKey Ok!",
    );
    let ours = ceremony::zkey_verify_r1cs(&r1cs, &ptau, None, &z4).unwrap();
    let t = &ours.transcript;
    assert_eq!(t.entries.len(), 4);
    let printed = printed_hashes(&verified);
    for e in &t.entries {
        assert!(
            printed.contains(&format_hash(&e.hash, None)),
            "contribution {} hash not printed by snarkjs:\n{verified}",
            e.index
        );
    }
    assert!(printed_hashes(&out1).contains(&format_hash(&t.entries[0].hash, None)));
    assert_eq!(ours2.hash, t.entries[1].hash);
    assert!(printed_hashes(&out3).contains(&format_hash(&t.entries[2].hash, None)));
    assert_eq!(ours4.hash, t.entries[3].hash);
    assert_eq!(t.entries[0].name.as_deref(), Some("snarkjs one"));
    assert!(t.entries[2].beacon.is_some() && t.entries[3].beacon.is_some());
    // From the initial key too.
    ceremony::zkey_verify_from_init(&z0, &z4).unwrap();

    // Tampered keys: both refuse, we name the step.
    let key = Zkey::read(&z4).unwrap();
    let tampered: Vec<(&str, Zkey, VerifyStep)> = vec![
        (
            "delta",
            {
                let mut k = key.clone();
                let c = &mut k.mpc.contributions[1];
                c.delta_after = (c.delta_after * Fr::from(5u64)).into_affine();
                k
            },
            VerifyStep::DeltaChain(2),
        ),
        (
            "h",
            {
                let mut k = key.clone();
                k.h[3] = (k.h[3] * Fr::from(2u64)).into_affine();
                k
            },
            VerifyStep::HSection,
        ),
        (
            "l",
            {
                let mut k = key.clone();
                k.c[0] = (k.c[0] + k.c[1]).into_affine();
                k
            },
            VerifyStep::CSection,
        ),
        (
            "beacon",
            {
                let mut k = key.clone();
                if let Some((_, b)) = &mut k.mpc.contributions[2].beacon {
                    b[0] ^= 1;
                }
                k
            },
            VerifyStep::BeaconKey(3),
        ),
    ];
    for (name, k, step) in tampered {
        let path = d.join(format!("tampered_{name}.zkey"));
        k.write(&path, Layout::Contributed).unwrap();
        let (ok, text) = run_snarkjs(&sj, &["zkey", "verify", s(&r1cs_path), s(&ptau), s(&path)]);
        assert!(
            !(ok && text.contains("ZKey Ok!")),
            "snarkjs accepted {name}:\n{text}"
        );
        match ceremony::zkey_verify_r1cs(&r1cs, &ptau, None, &path) {
            Err(ceremony::CeremonyError::Zkey(ZkeyError::Verify { step: s, .. })) if s == step => {}
            other => panic!("{name}: expected {step}, got {other:?}"),
        }
    }
}

#[test]
fn proofs_go_both_ways() {
    let Some(sj) = snarkjs() else { return };
    let d = dir("prove");
    let circuit = TestCircuit::new(5);
    let r1cs = R1cs::from_circuit(circuit.clone()).unwrap();
    let (_, _, ours0, theirs0) = both_new(&sj, &d, &r1cs);
    let wtns = d.join("w.wtns");
    ceremony::export_wtns(circuit.clone(), &wtns).unwrap();

    // snarkjs proves from our key; we verify with arkworks and snarkjs
    // verifies with our exported vk.json.
    let ours1 = d.join("ours_0001.zkey");
    ceremony::zkey_contribute(&ours0, &ours1, Some("ours"), None).unwrap();
    let proof = d.join("sj_proof.json");
    let public = d.join("sj_public.json");
    let (ok, text) = run_snarkjs(
        &sj,
        &[
            "groth16",
            "prove",
            s(&ours1),
            s(&wtns),
            s(&proof),
            s(&public),
        ],
    );
    assert!(ok, "{text}");
    let p = json::proof_from_json(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let inputs = json::public_from_json(&std::fs::read_to_string(&public).unwrap()).unwrap();
    assert_eq!(inputs, circuit.public_inputs());
    let key = Zkey::read(&ours1).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&key.verifying_key());
    assert!(depin_circom::prove::verify(&pvk, &p, &inputs));
    let vk = d.join("ours_vk.json");
    ceremony::zkey_export_vk(&ours1, &vk).unwrap();
    snarkjs_ok(
        &sj,
        &["groth16", "verify", s(&vk), s(&public), s(&proof)],
        "OK!",
    );
    // Our vk.json is what snarkjs exports from the same key.
    let sj_vk = d.join("sj_vk.json");
    snarkjs_ok(
        &sj,
        &["zkey", "export", "verificationkey", s(&ours1), s(&sj_vk)],
        "EXPORT VERIFICATION KEY FINISHED",
    );
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&vk).unwrap()).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&sj_vk).unwrap()).unwrap();
    assert_eq!(a, b);

    // We prove from snarkjs's key; snarkjs verifies.
    let theirs1 = d.join("snarkjs_0001.zkey");
    snarkjs_ok(
        &sj,
        &[
            "zkey",
            "contribute",
            s(&theirs0),
            s(&theirs1),
            "--name=sj",
            "-e=x",
        ],
        "Contribution Hash",
    );
    let out = d.join("ours_proof");
    let report = ceremony::prove(circuit.clone(), &theirs1, &out).unwrap();
    let sj_vk1 = d.join("sj_vk1.json");
    snarkjs_ok(
        &sj,
        &["zkey", "export", "verificationkey", s(&theirs1), s(&sj_vk1)],
        "EXPORT VERIFICATION KEY FINISHED",
    );
    snarkjs_ok(
        &sj,
        &[
            "groth16",
            "verify",
            s(&sj_vk1),
            s(&report.public_path),
            s(&report.proof_path),
        ],
        "OK!",
    );
    // And arkworks, from the key's verifying key.
    let key = Zkey::read(&theirs1).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&key.verifying_key());
    assert!(depin_circom::prove::verify(
        &pvk,
        &report.proof,
        &circuit.public_inputs()
    ));
    // The same witness from the .wtns file proves too.
    let z = depin_circom::wtns::read(&wtns).unwrap();
    assert_eq!(z, synthesize_witness(circuit).unwrap().into_vec());
    let prover = ZkeyProver::new(key).unwrap();
    prover.prove(&z, &mut rand::rngs::OsRng).unwrap();
}
