//! The generated Solidity verifiers and the forge test fixtures.
//!
//! - `test_fixtures_are_current`: the forge tests in `verifier-contract/`
//!   run on verifiers and proofs written by this file: three small Groth16
//!   circuits with the statements' public-input counts (5, 6, 6) whose keys
//!   become `verifier-contract/test/generated/Test*Verifier.sol` and whose
//!   proofs, for the statements' real public-input layout, become
//!   `verifier-contract/test/fixtures/claims.json`. Everything is seeded, so
//!   the committed files must equal what this test generates;
//!   `DEPIN_REGEN=1 cargo test -p depin-evm --test solidity` rewrites
//!   them (`scripts/regen.sh`).
//! - `golden_verifiers_are_current`: `verifier-contract/src/generated/
//!   <Statement>Verifier.sol` is exactly what `render_verifier` makes from
//!   the committed golden key `prover/golden/v1/<statement>/verifying_key.bin`
//!   (`depin-prover export-verifier`), and
//!   `verifier-contract/test/fixtures/golden.json` holds the golden proofs
//!   (`proof.bin`) in the verifier's word order, for `test/Golden.t.sol`.
//! - `batch_verifiers_are_current`: `verifier-contract/src/generated/
//!   <Statement>Batch4Verifier.sol` is what `render_verifier` makes from
//!   the verifying key of the statement's development batch keys
//!   (`depin_groth16::batch`, batches of `DEFAULT_BATCH_SIZE` with the
//!   golden setup seed), recomputed here without the proving key.

use std::path::PathBuf;

use ark_bn254::{Bn254, Fr};
use ark_ff::Field;
use ark_groth16::{Groth16, ProvingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_relations::lc;
use ark_snark::SNARK;
use depin_batch::{BatchHeader, PublicData, RewardsTree};
use depin_crypto::poseidon::hash_n;
use depin_evm::proof_dir::PROOF_BIN_FILE;
use depin_evm::solidity::{contract_name, proof_words, render_verifier, verifier_path};
use depin_groth16::batch::dev_batch_verifying_key;
use depin_groth16::golden::{committed_dir, ALL_KINDS, SETUP_SEED};
use depin_groth16::keys::{VerifyingKey, VERIFYING_KEY_FILE};
use depin_proving::StatementProof;
use depin_statements::{PublicInputs, StatementKind, STATEMENT_VERSION};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    depin_testkit::repo_root()
}

fn regen() -> bool {
    std::env::var_os("DEPIN_REGEN").is_some_and(|v| v == "1")
}

/// Compares (or, under `DEPIN_REGEN=1`, writes) generated files.
fn check_or_write(files: &[(String, String)], how: &str) {
    let mut drifted = Vec::new();
    for (path, want) in files {
        let full = repo().join(path);
        if regen() {
            std::fs::create_dir_all(full.parent().expect("file has a folder")).expect("mkdir");
            std::fs::write(&full, want).expect("write generated file");
            continue;
        }
        match std::fs::read_to_string(&full) {
            Ok(have) if &have == want => {}
            _ => drifted.push(path.as_str()),
        }
    }
    assert!(
        drifted.is_empty(),
        "{drifted:?} drifted from their generator: run {how} and review the diff"
    );
}

// ---------------------------------------------------------------------------
// Test circuits and fixtures.

/// `x_i * x_i = w_i` for each public input `x_i`: a valid Groth16 circuit
/// with any number of public inputs, for which a proof exists for every
/// input vector (the witness is the squares).
#[derive(Clone)]
struct Squares(Vec<Fr>);

impl ConstraintSynthesizer<Fr> for Squares {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        for x in self.0 {
            let xv = cs.new_input_variable(|| Ok(x))?;
            let wv = cs.new_witness_variable(|| Ok(x.square()))?;
            cs.enforce_r1cs_constraint(|| lc!() + xv, || lc!() + xv, || lc!() + wv)?;
        }
        Ok(())
    }
}

const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

/// Devices in the fixture network (registered by the forge tests).
const DEVICES: u64 = 10;
/// Epochs with a published beacon (1..=EPOCHS).
const EPOCHS: u32 = 6;

fn tagged(tag: u64, i: u64) -> Fr {
    hash_n(&[Fr::from(tag), Fr::from(i)])
}
fn device_id(i: u64) -> Fr {
    tagged(4, i)
}
fn policy_hash(kind: StatementKind) -> Fr {
    tagged(1, u64::from(kind.code()))
}
fn beacon(epoch: u32) -> Fr {
    tagged(2, u64::from(epoch))
}
fn registry_root() -> Fr {
    tagged(3, 0)
}
const CELL: u64 = (1234 << 32) + 5678;

fn test_statement(kind: StatementKind) -> String {
    format!("test_{}", kind.as_str())
}

struct Prover {
    kind: StatementKind,
    pk: ProvingKey<Bn254>,
    seed: u64,
}

impl Prover {
    fn setup(kind: StatementKind) -> Self {
        Self::setup_squares(
            kind,
            kind.public_input_count(),
            0x5e7u64 << 8 | u64::from(kind.code()),
        )
    }

    /// A prover of `inputs` public inputs whose setup is seeded by `seed`;
    /// `kind`'s code seeds its proofs' blinding.
    fn setup_squares(kind: StatementKind, inputs: usize, seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let blank = Squares(vec![Fr::from(0u8); inputs]);
        let (pk, _) = Groth16::<Bn254>::circuit_specific_setup(blank, &mut rng).expect("setup");
        Prover { kind, pk, seed: 0 }
    }

    /// A claim for `public` (its kind must be this prover's).
    fn claim(&mut self, public: &PublicInputs) -> Value {
        let inputs = public.to_field_elements();
        assert_eq!(inputs.len(), self.kind.public_input_count());
        self.prove(inputs)
    }

    fn prove(&mut self, inputs: Vec<Fr>) -> Value {
        self.seed += 1;
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed << 8 | u64::from(self.kind.code()));
        let proof =
            Groth16::<Bn254>::prove(&self.pk, Squares(inputs.clone()), &mut rng).expect("prove");
        assert!(Groth16::<Bn254>::verify(&self.pk.vk, &inputs, &proof).expect("verify"));
        json!({
            "proof": proof_words(&proof).iter().map(ToString::to_string).collect::<Vec<_>>(),
            "inputs": inputs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

fn public(kind: StatementKind, device: u64, epoch: u32, reward: u64) -> PublicInputs {
    let mut p = PublicInputs::common(
        kind,
        epoch,
        device_id(device),
        policy_hash(kind),
        beacon(epoch),
        reward,
    );
    match kind {
        StatementKind::Uptime => {}
        StatementKind::Bandwidth => p.registry_root = Some(registry_root()),
        StatementKind::Coverage => p.cell = Some(CELL),
    }
    p
}

/// The generated test verifiers and `claims.json`.
fn test_fixtures() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut provers: Vec<Prover> = KINDS.iter().map(|&k| Prover::setup(k)).collect();
    for p in &provers {
        let statement = test_statement(p.kind);
        files.push((
            format!(
                "verifier-contract/test/generated/{}.sol",
                contract_name(&statement)
            ),
            render_verifier(&p.pk.vk, &statement, STATEMENT_VERSION),
        ));
    }
    let [uptime, bandwidth, coverage] = &mut provers[..] else {
        unreachable!("three kinds")
    };

    // Uptime: every device in every epoch (60 distinct nullifiers);
    // bandwidth and coverage: three devices in epoch 1.
    let mut up = Vec::new();
    for epoch in 1..=EPOCHS {
        for device in 0..DEVICES {
            let reward = 1000 + u64::from(epoch) * 100 + device;
            up.push(uptime.claim(&public(StatementKind::Uptime, device, epoch, reward)));
        }
    }
    let bw: Vec<Value> = (0..3)
        .map(|d| bandwidth.claim(&public(StatementKind::Bandwidth, d, 1, 5000 + d)))
        .collect();
    let cov: Vec<Value> = (0..3)
        .map(|d| coverage.claim(&public(StatementKind::Coverage, d, 1, 7000 + d)))
        .collect();

    // Valid proofs of statements the contract must refuse.
    let mut bad = serde_json::Map::new();
    bad.insert(
        "zeroReward".into(),
        uptime.claim(&public(StatementKind::Uptime, 0, 1, 0)),
    );
    let mut v2 = public(StatementKind::Uptime, 0, 1, 1000);
    v2.version = STATEMENT_VERSION + 1;
    bad.insert("version2".into(), uptime.claim(&v2));
    let mut wrong_policy = public(StatementKind::Uptime, 0, 1, 1000);
    wrong_policy.policy_hash = tagged(1, 99);
    bad.insert("wrongPolicy".into(), uptime.claim(&wrong_policy));
    let mut wrong_beacon = public(StatementKind::Uptime, 0, 1, 1000);
    wrong_beacon.beacon = beacon(2);
    bad.insert("wrongBeacon".into(), uptime.claim(&wrong_beacon));
    let mut no_beacon = public(StatementKind::Uptime, 0, EPOCHS + 1, 1000);
    no_beacon.beacon = Fr::from(0u8);
    bad.insert("unpublishedEpoch".into(), uptime.claim(&no_beacon));
    let mut wrong_root = public(StatementKind::Bandwidth, 0, 1, 5000);
    wrong_root.registry_root = Some(tagged(3, 1));
    bad.insert("wrongRoot".into(), bandwidth.claim(&wrong_root));
    bad.insert(
        "unregisteredDevice".into(),
        uptime.claim(&public(StatementKind::Uptime, DEVICES + 1, 1, 1000)),
    );
    // An uptime claim proven with the coverage key: right layout, wrong key.
    let mut six = public(StatementKind::Uptime, 0, 1, 1000).to_field_elements();
    six.push(Fr::from(CELL));
    bad.insert("uptimeWithSixInputs".into(), coverage.prove(six));

    let s = |f: Fr| f.to_string();
    let fixtures = json!({
        "_comment": "Generated by prover/evm/tests/solidity.rs (DEPIN_REGEN=1 cargo test -p depin-evm --test solidity). Do not edit.",
        "devices": (0..DEVICES).map(|d| s(device_id(d))).collect::<Vec<_>>(),
        "unregisteredDevice": s(device_id(DEVICES + 1)),
        "beacons": (1..=EPOCHS).map(|e| s(beacon(e))).collect::<Vec<_>>(),
        "policies": KINDS.iter().map(|&k| s(policy_hash(k))).collect::<Vec<_>>(),
        "registryRoot": s(registry_root()),
        "cell": CELL.to_string(),
        "claims": { "uptime": up, "bandwidth": bw, "coverage": cov },
        "bad": bad,
    });
    let mut text = serde_json::to_string_pretty(&fixtures).expect("json");
    text.push('\n');
    files.push(("verifier-contract/test/fixtures/claims.json".into(), text));
    files
}

#[test]
fn test_fixtures_are_current() {
    check_or_write(
        &test_fixtures(),
        "`DEPIN_REGEN=1 cargo test -p depin-evm --test solidity` (scripts/regen.sh)",
    );
}

#[test]
fn test_verifier_names_and_layout() {
    for kind in KINDS {
        let statement = test_statement(kind);
        let p = Prover::setup(kind);
        let sol = render_verifier(&p.pk.vk, &statement, STATEMENT_VERSION);
        assert!(sol.contains(&format!("contract {} {{", contract_name(&statement))));
        assert!(sol.contains(&format!(
            "uint256[{}] calldata input",
            kind.public_input_count()
        )));
    }
    assert_eq!(
        verifier_path("uptime"),
        "verifier-contract/src/generated/UptimeVerifier.sol"
    );
}

// ---------------------------------------------------------------------------
// Batches: a one-input test verifier and `batches.json`.

/// Depth of the fixture rewards trees (the production depth).
const BATCH_DEPTH: usize = depin_batch::TREE_DEPTH;

/// A batch of `kind` for `epoch` crediting `credits` (device index,
/// reward) to `tree` over `batch_size` positions, proven for the digest of
/// `header` as the test builds it (`tamper` may change it before proving,
/// for batches the contract must refuse).
fn batch(
    prover: &mut Prover,
    tree: &mut RewardsTree,
    kind: StatementKind,
    epoch: u32,
    batch_size: usize,
    credits: &[(u64, u64)],
    tamper: impl FnOnce(&mut BatchHeader),
) -> Value {
    let old = tree.commitment();
    let done: Vec<_> = credits
        .iter()
        .map(|&(d, r)| tree.credit(device_id(d), epoch, r).expect("credit"))
        .collect();
    let data = PublicData::from_credits(batch_size, &done).expect("public data");
    let mut header = BatchHeader {
        kind: kind.code(),
        version: STATEMENT_VERSION,
        epoch,
        policy_hash: policy_hash(kind),
        beacon: beacon(epoch),
        registry_root: if kind == StatementKind::Bandwidth {
            registry_root()
        } else {
            Fr::from(0u8)
        },
        old_commitment: old,
        new_commitment: tree.commitment(),
    };
    let sent = header;
    tamper(&mut header);
    let mut v = prover.prove(vec![data.digest(&header)]);
    let s = |f: Fr| f.to_string();
    let withdrawals: Vec<Value> = (0..done.len())
        .map(|i| {
            let w = data.withdrawal_proof(i).expect("a device's position");
            json!({
                "device": s(w.device_id),
                "cumulative": w.cumulative.to_string(),
                "position": w.position,
                "siblings": w.siblings.iter().map(|x| format!("0x{}", hex::encode(x))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let o = v.as_object_mut().expect("object");
    o.insert("kind".into(), json!(kind.code()));
    o.insert("epoch".into(), json!(epoch));
    o.insert("oldCommitment".into(), json!(s(sent.old_commitment)));
    o.insert("newCommitment".into(), json!(s(sent.new_commitment)));
    o.insert("policyHash".into(), json!(s(sent.policy_hash)));
    o.insert("registryRoot".into(), json!(s(sent.registry_root)));
    o.insert(
        "publicData".into(),
        json!(format!("0x{}", hex::encode(data.encode()))),
    );
    o.insert(
        "withdrawalRoot".into(),
        json!(format!("0x{}", hex::encode(data.withdrawal_root()))),
    );
    o.insert("withdrawals".into(), json!(withdrawals));
    v
}

/// The generated batch test verifier and `batches.json`: uptime batches of
/// 4 over three epochs (the second and third update devices of the
/// first), a bandwidth batch, a full batch of 32 (the gas figure), and
/// valid proofs of batches the contract must refuse.
fn batch_fixtures() -> Vec<(String, String)> {
    // Any kind code serves: it only seeds the proofs' blinding.
    let mut prover = Prover::setup_squares(StatementKind::Uptime, 1, 0xba7c);
    let statement = "test_batch";
    let mut files = vec![(
        format!(
            "verifier-contract/test/generated/{}.sol",
            contract_name(statement)
        ),
        render_verifier(&prover.pk.vk, statement, STATEMENT_VERSION),
    )];
    let up = StatementKind::Uptime;
    let genesis = RewardsTree::new(BATCH_DEPTH).expect("depth").commitment();
    let mut tree = RewardsTree::new(BATCH_DEPTH).expect("depth");
    let uptime = vec![
        batch(
            &mut prover,
            &mut tree,
            up,
            1,
            4,
            &[(0, 100), (1, 110), (2, 120)],
            |_| {},
        ),
        batch(
            &mut prover,
            &mut tree,
            up,
            2,
            4,
            &[(1, 210), (2, 220), (3, 230), (4, 240)],
            |_| {},
        ),
        batch(
            &mut prover,
            &mut tree,
            up,
            3,
            4,
            &[(0, 300), (1, 310)],
            |_| {},
        ),
    ];
    let mut bw_tree = RewardsTree::new(BATCH_DEPTH).expect("depth");
    let bandwidth = batch(
        &mut prover,
        &mut bw_tree,
        StatementKind::Bandwidth,
        1,
        4,
        &[(0, 5000), (5, 5005)],
        |_| {},
    );
    let mut big_tree = RewardsTree::new(BATCH_DEPTH).expect("depth");
    let full: Vec<(u64, u64)> = (0..32).map(|d| (100 + d, 1000 + d)).collect();
    let big = batch(&mut prover, &mut big_tree, up, 1, 32, &full, |_| {});

    // Valid proofs over a header the contract writes differently: each is
    // refused with InvalidProof.
    let mut bad = serde_json::Map::new();
    let t = |f: fn(&mut BatchHeader)| f;
    for (name, f) in [
        ("otherBeacon", t(|h| h.beacon = beacon(2))),
        ("otherEpoch", t(|h| h.epoch = 2)),
        ("otherPolicy", t(|h| h.policy_hash = tagged(1, 99))),
        ("otherVersion", t(|h| h.version += 1)),
        ("otherKind", t(|h| h.kind = StatementKind::Coverage.code())),
    ] {
        let mut fresh = RewardsTree::new(BATCH_DEPTH).expect("depth");
        bad.insert(
            name.into(),
            batch(&mut prover, &mut fresh, up, 1, 4, &[(0, 100)], f),
        );
    }

    let fixtures = json!({
        "_comment": "Generated by prover/evm/tests/solidity.rs (DEPIN_REGEN=1 cargo test -p depin-evm --test solidity). Do not edit.",
        "depth": BATCH_DEPTH,
        "genesis": genesis.to_string(),
        "uptime": uptime,
        "bandwidth": bandwidth,
        "full32": big,
        "bad": bad,
    });
    let mut text = serde_json::to_string_pretty(&fixtures).expect("json");
    text.push('\n');
    files.push(("verifier-contract/test/fixtures/batches.json".into(), text));
    files
}

#[test]
fn batch_fixtures_are_current() {
    check_or_write(
        &batch_fixtures(),
        "`DEPIN_REGEN=1 cargo test -p depin-evm --test solidity` (scripts/regen.sh)",
    );
}

// ---------------------------------------------------------------------------
// The statements' verifiers, from the committed golden keys.

/// The generated verifiers and `golden.json`, or `None` while no golden key
/// is committed.
fn golden_files() -> Option<Vec<(String, String)>> {
    let dir = committed_dir();
    if !dir.is_dir() {
        return None;
    }
    let mut files = Vec::new();
    let mut fixture = serde_json::Map::new();
    for kind in ALL_KINDS {
        let statement = kind.as_str();
        let d = dir.join(statement);
        let vk = VerifyingKey::load(&d.join(VERIFYING_KEY_FILE), kind)
            .unwrap_or_else(|e| panic!("golden {statement} key: {e}"));
        files.push((
            verifier_path(statement),
            render_verifier(vk.as_arkworks(), statement, STATEMENT_VERSION),
        ));
        let proof = StatementProof::load(&d.join(PROOF_BIN_FILE), kind)
            .unwrap_or_else(|e| panic!("golden {statement} proof: {e}"));
        fixture.insert(
            statement.into(),
            json!({
                "proof": proof_words(proof.proof.as_groth16().expect("groth16")).iter().map(ToString::to_string).collect::<Vec<_>>(),
                "inputs": proof.public.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
        );
    }
    fixture.insert(
        "_comment".into(),
        json!("Golden proofs (prover/golden/v1/*/proof.bin) in the Solidity verifier's word order. Generated by prover/evm/tests/solidity.rs (DEPIN_REGEN=1 cargo test -p depin-evm --test solidity). Do not edit."),
    );
    let mut text = serde_json::to_string_pretty(&Value::Object(fixture)).expect("json");
    text.push('\n');
    files.push(("verifier-contract/test/fixtures/golden.json".into(), text));
    Some(files)
}

#[test]
fn golden_verifiers_are_current() {
    let Some(files) = golden_files() else {
        // The golden keys land with the prover; until then there is nothing
        // to generate, and nothing generated may be committed.
        for kind in ALL_KINDS {
            let path = verifier_path(kind.as_str());
            assert!(
                !repo().join(&path).exists(),
                "{path} is committed but prover/golden/v1 is not"
            );
        }
        eprintln!("no golden keys committed: nothing to check");
        return;
    };
    check_or_write(
        &files,
        "`DEPIN_REGEN=1 cargo test -p depin-evm --test solidity` (scripts/regen.sh)",
    );
}

// ---------------------------------------------------------------------------
// The statements' batch verifiers, from the development batch keys.

#[test]
fn batch_verifiers_are_current() {
    let size = depin_batch::DEFAULT_BATCH_SIZE;
    let files: Vec<(String, String)> = ALL_KINDS
        .iter()
        .map(|&kind| {
            let statement = depin_batch::batch_statement_name(kind.as_str(), size);
            let vk = dev_batch_verifying_key(kind, size, SETUP_SEED)
                .unwrap_or_else(|e| panic!("{statement} verifying key: {e}"));
            (
                verifier_path(&statement),
                render_verifier(&vk, &statement, STATEMENT_VERSION),
            )
        })
        .collect();
    check_or_write(
        &files,
        "`DEPIN_REGEN=1 cargo test -p depin-evm --test solidity` (scripts/regen.sh)",
    );
}
