//! The reward contracts on a real anvil node, driven through `depin-chain`
//! with the calldata the prover service returns
//! (`depin_evm::calldata::claim_calldata`):
//!
//! - `golden_proofs_pay_once`: the committed golden proofs of the three
//!   statements pay their device's payout address exactly the proven reward,
//!   with a `Claimed` event, and a replay reverts with `NullifierUsed`.
//! - `fresh_uptime_proof_pays_once`: a proof made now by our prover from
//!   `examples/epochs/uptime.json` (golden-seeded keys, cached under the
//!   target directory) is refused with `DeviceNotRegistered` until its
//!   device is registered, with `InvalidProof` when its reward is changed,
//!   then pays once.
//! - `batch_pays_valid_claims_and_reports_the_rest`: `claimBatch` pays the
//!   valid claims and reports a replay and a tampered proof.
//! - `golden_halo2_proofs_pay_once`: the committed golden halo2 proofs,
//!   as `depin_evm::calldata::halo2_claim_calldata` encodes them, pay
//!   through the deployed halo2 verifiers: one with `claimHalo2` (a replay
//!   is `NullifierUsed`, a raised reward `InvalidProof`), the others in one
//!   `claimBatchHalo2` that reports a replay and a flipped proof byte.
//! - `two_epochs_of_uptime_batches_with_withdrawals`: two epoch batches
//!   of real uptime proofs (our prover, the development batch keys of the
//!   committed `UptimeBatch4Verifier`, cached under the target directory),
//!   formed natively one after the other and proven independently, applied
//!   in order by `submitBatch`; the rewards tree rebuilt from the logs and
//!   calldata alone is the prover's; devices withdraw their cumulative
//!   rewards.
//!   Refused: the second batch before the first and the first replayed
//!   (`StaleRoot`), tampered public data (`InvalidProof`), a withdrawal
//!   above the cumulative reward (`InvalidWithdrawalProof`), to an address
//!   not registered for the device (`NotPayoutAddress`), and a second
//!   withdrawal of the same amount (`NothingToWithdraw`).
//!
//! Skipped (with a message) when anvil is not installed and `CI` is unset;
//! under `CI` a missing anvil fails. Contract artifacts are built with
//! `scripts/forge.sh build` when forge is installed (offline, incremental).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use depin_chain::anvil::DEV_KEYS;
use depin_chain::{
    deploy, Anvil, Artifacts, Chain, ChainError, Claim, ContractError, DeployConfig, Deployment,
    Revert, Rewards, StatementKind, STATEMENT_VERSION,
};
use depin_chain::{Halo2Claim, DEFAULT_HALO2_VERIFY_GAS};
use depin_evm::calldata::{claim_calldata, halo2_claim_calldata};
use depin_evm::proof_dir::PROOF_BIN_FILE;
use depin_evm::solidity::{proof_words, render_verifier, verifier_path};
use depin_groth16::golden::{committed_dir, SETUP_SEED};
use depin_groth16::keys::{dev_setup, KeyDir, Trust, VerifyingKey};
use depin_proving::StatementProof;
use depin_statements::epoch::EpochInput;
use depin_statements_r1cs::uptime::UptimeCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use depin_batch::{BatchHeader, PublicData, RewardsTree, DEFAULT_BATCH_SIZE, TREE_DEPTH};
use depin_batch_r1cs::BatchCircuit;
use depin_chain::{fr_to_u256, BatchApplied, BatchSubmission, Withdrawal};
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::Fr;
use depin_groth16::batch::{BatchKeys, BatchProver};
use depin_statements::records::{HashChain, Heartbeat, SignedHead};
use depin_statements::uptime::{evaluate, UptimeInput};
use depin_statements_r1cs::uptime::SAMPLE_POLICY;
use depin_statements_r1cs::StatementCircuit;

const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

/// Tokens minted to the reward contract.
const FUNDS: u64 = 1_000_000_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `CI` is set (to anything but empty, `0` or `false`).
fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// A started anvil, or `None` (with a message) when it is not installed
/// and `CI` is unset.
fn anvil() -> Option<Anvil> {
    let root = repo();
    if !Anvil::is_installed(&root) {
        let path = Anvil::binary(&root);
        if ci() {
            panic!(
                "anvil not found at {} under CI: run scripts/setup.sh",
                path.display()
            );
        }
        eprintln!(
            "SKIPPED: anvil not found at {} (run scripts/setup.sh, or set DEPIN_ANVIL); set CI=1 to make this a failure",
            path.display()
        );
        return None;
    }
    Some(Anvil::spawn(&root).expect("start anvil"))
}

/// The contracts' artifacts, built once per test process.
fn artifacts() -> Artifacts {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let root = repo();
    if !*built && root.join("tools/js/node_modules/.bin/forge").exists() {
        let out = Command::new(root.join("scripts/forge.sh"))
            .arg("build")
            .output()
            .expect("run scripts/forge.sh build");
        assert!(
            out.status.success(),
            "scripts/forge.sh build failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    *built = true;
    Artifacts::load(&Artifacts::out_dir(&root)).unwrap_or_else(|e| panic!("{e}"))
}

/// A node with the contracts deployed; the owner (account 0) is the
/// operator, account 1 submits claims.
struct Net {
    _anvil: Anvil,
    deployment: Deployment,
    owner: Rewards,
    submitter: Rewards,
}

async fn net() -> Option<Net> {
    net_with(&DeployConfig::default()).await
}

async fn net_with(config: &DeployConfig) -> Option<Net> {
    let anvil = anvil()?;
    let artifacts = artifacts();
    let chain = Chain::connect(anvil.endpoint(), anvil.key(0)).expect("connect");
    let deployment = deploy(&chain, &artifacts, config).await.expect("deploy");
    let owner = Rewards::new(chain, &deployment);
    let submitter =
        owner.with_chain(Chain::connect(anvil.endpoint(), anvil.key(1)).expect("connect"));
    owner.fund(U256::from(FUNDS)).await.expect("fund");
    Some(Net {
        _anvil: anvil,
        deployment,
        owner,
        submitter,
    })
}

fn golden_proof(kind: StatementKind) -> StatementProof {
    let path = committed_dir().join(kind.as_str()).join(PROOF_BIN_FILE);
    StatementProof::load(&path, kind).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Accepts the claim's policy hash, publishes its epoch's beacon (unless
/// already published, then it must be the same) and, for bandwidth, its
/// registry root.
async fn accept_inputs(owner: &Rewards, kind: StatementKind, claim: &Claim) {
    let inputs = &claim.public_inputs;
    let header = claim.header().expect("header");
    owner
        .set_policy(kind, inputs[2], true)
        .await
        .expect("setPolicy");
    let beacon = owner.beacon_of(header.epoch).await.expect("beaconOf");
    if beacon.is_zero() {
        owner
            .set_beacon(header.epoch, inputs[3])
            .await
            .expect("setBeacon");
    } else {
        assert_eq!(
            beacon, inputs[3],
            "epoch {} has another beacon",
            header.epoch
        );
    }
    if kind == StatementKind::Bandwidth {
        owner
            .set_registry_root(inputs[5], true)
            .await
            .expect("setRegistryRoot");
    }
}

fn payout_address(i: u8) -> Address {
    Address::repeat_byte(0xd0 + i)
}

fn expect_refused(result: Result<impl std::fmt::Debug, ChainError>, want: ContractError) {
    match result {
        Err(e) => assert_eq!(e.contract_error(), Some(want), "{e}"),
        Ok(r) => panic!("expected {want}, the claim was paid: {r:?}"),
    }
}

/// A claim whose reward is one more than proven.
fn inflated(claim: &Claim) -> Claim {
    let mut c = claim.clone();
    c.public_inputs[0] += U256::from(1u8) << 72;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_proofs_pay_once() {
    let start = Instant::now();
    let Some(net) = net().await else { return };
    let d = &net.deployment;

    // The deployment: every contract has code within EIP-170, gas is known.
    assert_eq!(d.chain_id, 31337);
    for c in d.contracts() {
        assert!(c.code_size > 0 && c.code_size <= 24_576, "{c:?}");
        assert!(c.gas_used > 21_000, "{c:?}");
        eprintln!(
            "deployed {:<18} {} gas {:>9}, runtime {:>6} bytes, init {:>6} bytes",
            c.name, c.address, c.gas_used, c.code_size, c.init_code_size
        );
    }
    assert_eq!(d.verifiers.len(), 3);
    assert_eq!(d.batch_verifiers.len(), 3);
    // halo2 claims are off unless asked for.
    assert!(d.halo2_verifiers.is_empty());
    // setStatement and setBatchVerifier for each kind.
    assert_eq!(d.setup.len(), 6);

    // The development keys are anvil's accounts.
    let accounts = net
        .owner
        .chain()
        .provider()
        .get_accounts()
        .await
        .expect("eth_accounts");
    for (i, key) in DEV_KEYS.iter().enumerate() {
        let chain = Chain::connect(net.owner.chain().url(), key).expect("key");
        assert_eq!(Some(&chain.address()), accounts.get(i), "key {i}");
    }

    for (i, kind) in KINDS.into_iter().enumerate() {
        let proof = golden_proof(kind);
        let calldata = claim_calldata(&proof).expect("a Groth16 proof");
        let claim = Claim::from_calldata(&calldata).expect("prover calldata decodes");
        // Our encoding of the same proof is byte for byte the service's.
        let ours = Claim::from_field(
            &proof_words(proof.proof.as_groth16().expect("groth16")),
            &proof.public,
        );
        assert_eq!(ours, claim);
        assert_eq!(&ours.calldata()[..], &calldata[..]);
        let header = claim.header().expect("header");
        assert_eq!(header.kind, kind.code());
        assert_eq!(header.version, STATEMENT_VERSION);
        assert!(header.reward > 0);

        accept_inputs(&net.owner, kind, &claim).await;
        let payout = payout_address(i as u8);
        let device = claim.device_id().expect("device id");
        net.owner
            .register_devices(&[(device, payout)])
            .await
            .expect("registerDevices");
        assert_eq!(net.owner.payout_of(device).await.unwrap(), payout);

        let before = net.owner.balance_of(payout).await.unwrap();
        let funds = net.owner.balance_of(net.owner.address()).await.unwrap();
        let r = net
            .submitter
            .claim_calldata(&calldata)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        eprintln!(
            "{} claim: gas {}, paid {} to {}",
            kind.as_str(),
            r.tx.gas_used,
            r.payment.reward,
            r.payment.payout
        );
        assert!(r.tx.success);
        assert_eq!(r.payment.payout, payout);
        assert_eq!(r.payment.device_id, device);
        assert_eq!(r.payment.kind, kind.code());
        assert_eq!(r.payment.epoch, U256::from(header.epoch));
        assert_eq!(r.payment.reward, U256::from(header.reward));
        assert_eq!(r.payment.nullifier, claim.nullifier().unwrap());
        let after = net.owner.balance_of(payout).await.unwrap();
        assert_eq!(after, before + U256::from(header.reward), "{kind:?}: paid");
        assert_eq!(
            net.owner.balance_of(net.owner.address()).await.unwrap(),
            funds - U256::from(header.reward)
        );
        assert_eq!(
            net.owner
                .balance_of(net.submitter.chain().address())
                .await
                .unwrap(),
            U256::ZERO
        );
        assert!(net.owner.nullifier_used(r.payment.nullifier).await.unwrap());

        // Once only.
        expect_refused(
            net.submitter.claim_calldata(&calldata).await,
            ContractError::NullifierUsed,
        );
        assert_eq!(net.owner.balance_of(payout).await.unwrap(), after);
    }
    eprintln!(
        "golden_proofs_pay_once: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_halo2_proofs_pay_once() {
    let Some(net) = net_with(&DeployConfig {
        batches: false,
        halo2_verify_gas: Some(DEFAULT_HALO2_VERIFY_GAS),
        ..DeployConfig::default()
    })
    .await
    else {
        return;
    };
    let d = &net.deployment;
    assert_eq!(d.halo2_verifiers.len(), 3);
    // setStatement and setHalo2Statement for each kind.
    assert_eq!(d.setup.len(), 6);
    for kind in KINDS {
        assert!(d
            .halo2_verifier(kind)
            .is_some_and(|v| v.code_size <= 24_576));
    }
    let mut claims = Vec::new();
    for (i, kind) in KINDS.into_iter().enumerate() {
        let path = repo()
            .join("prover/golden/halo2")
            .join(kind.as_str())
            .join(PROOF_BIN_FILE);
        let proof =
            StatementProof::load(&path, kind).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let calldata = halo2_claim_calldata(&proof).expect("a halo2 proof");
        // Not Groth16 claim calldata, and the other way round.
        assert!(matches!(
            Claim::from_calldata(&calldata),
            Err(ChainError::Calldata(_))
        ));
        let claim = Halo2Claim::from_calldata(&calldata).expect("prover calldata decodes");
        let ours = Halo2Claim::from_field(&proof.public, proof.proof.as_halo2().expect("halo2"));
        assert_eq!(ours, claim);
        assert_eq!(&ours.calldata()[..], &calldata[..]);
        assert_eq!(claim.header().expect("header").kind, kind.code());
        let groth16_shaped = Claim {
            proof: [U256::ZERO; 8],
            public_inputs: claim.public_inputs.clone(),
        };
        accept_inputs(&net.owner, kind, &groth16_shaped).await;
        net.owner
            .register_devices(&[(claim.public_inputs[1], payout_address(i as u8))])
            .await
            .expect("registerDevices");
        claims.push((kind, calldata, claim));
    }

    // Uptime alone, with the calldata unchanged.
    let (_, calldata, uptime) = &claims[0];
    let mut raised = uptime.clone();
    raised.public_inputs[0] += U256::from(1u8) << 72;
    expect_refused(
        net.submitter.claim_halo2(&raised).await,
        ContractError::InvalidProof,
    );
    let r = net
        .submitter
        .claim_halo2_calldata(calldata)
        .await
        .expect("the golden halo2 uptime claim pays");
    let reward = uptime.header().expect("header").reward;
    assert_eq!(r.payment.reward, U256::from(reward));
    assert_eq!(r.payment.payout, payout_address(0));
    assert_eq!(r.payment.nullifier, uptime.nullifier().unwrap());
    eprintln!("halo2 uptime claim: gas {}", r.tx.gas_used);
    expect_refused(
        net.submitter.claim_halo2_calldata(calldata).await,
        ContractError::NullifierUsed,
    );

    // The others in a batch, with a replay and a flipped proof byte.
    let mut flipped = claims[2].2.clone();
    let mut bytes = flipped.proof.to_vec();
    bytes[40] ^= 1;
    flipped.proof = bytes.into();
    let batch = [
        claims[1].2.clone(),
        uptime.clone(),
        flipped,
        claims[2].2.clone(),
    ];
    let receipt = net
        .submitter
        .claim_batch_halo2(&batch)
        .await
        .expect("claimBatchHalo2");
    eprintln!("claimBatchHalo2 of 4: gas {}", receipt.tx.gas_used);
    let paid: Vec<u8> = receipt.paid.iter().map(|p| p.kind).collect();
    assert_eq!(
        paid,
        [
            StatementKind::Bandwidth.code(),
            StatementKind::Coverage.code()
        ]
    );
    let rejected: Vec<(usize, Option<ContractError>)> = receipt
        .rejected
        .iter()
        .map(|r| (r.index, r.reason.contract_error()))
        .collect();
    assert_eq!(
        rejected,
        [
            (1, Some(ContractError::NullifierUsed)),
            (2, Some(ContractError::InvalidProof))
        ]
    );
    for (i, (_, _, claim)) in claims.iter().enumerate() {
        let reward = claim.header().expect("header").reward;
        assert_eq!(
            net.owner.balance_of(payout_address(i as u8)).await.unwrap(),
            U256::from(reward)
        );
    }
}

/// The golden setup's uptime keys (the committed verifying key's proving
/// key), made once and cached under the target directory.
fn golden_uptime_keys() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!(
            "depin-chain-golden-keys-{SETUP_SEED:x}-v{}",
            depin_proving::file::PROVING_KEY_FORMAT_VERSION
        ))
        .join("uptime");
    let golden_vk = VerifyingKey::load(
        &committed_dir().join("uptime/verifying_key.bin"),
        StatementKind::Uptime,
    )
    .expect("golden uptime verifying key");
    if !KeyDir::new(&dir).proving_key().exists() {
        let t = Instant::now();
        let keys = dev_setup(UptimeCircuit::sample(), SETUP_SEED).expect("uptime setup");
        assert!(
            keys.verifying == golden_vk,
            "setup did not reproduce the golden key"
        );
        keys.publish_dir(&dir).expect("write keys");
        eprintln!("uptime golden setup: {:.1} s", t.elapsed().as_secs_f64());
    }
    let vk = KeyDir::new(&dir)
        .load_verifying_key(StatementKind::Uptime)
        .expect("cached verifying key");
    assert!(vk == golden_vk, "{} is not the golden key", dir.display());
    dir
}

/// A fresh proof of `examples/epochs/uptime.json`.
fn fresh_uptime_proof() -> StatementProof {
    let keys = golden_uptime_keys();
    let pk = KeyDir::new(&keys)
        .load_proving_key(StatementKind::Uptime, Trust::Trusted)
        .expect("proving key");
    let path = repo().join("examples/epochs/uptime.json");
    let EpochInput::Uptime(epoch) = EpochInput::from_file(&path).expect("example epoch") else {
        panic!("{} is not an uptime epoch", path.display());
    };
    let circuit = UptimeCircuit::new(&epoch.as_input()).expect("circuit");
    let t = Instant::now();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let proof = depin_groth16::prover::prove(&pk, circuit, &mut ChaCha20Rng::seed_from_u64(seed))
        .expect("prove");
    eprintln!("uptime proof: {:.1} s", t.elapsed().as_secs_f64());
    proof
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_uptime_proof_pays_once() {
    let start = Instant::now();
    // Check for anvil before spending time proving.
    if !Anvil::is_installed(&repo()) && !ci() {
        let _ = anvil();
        return;
    }
    let proof = tokio::task::spawn_blocking(fresh_uptime_proof)
        .await
        .expect("prover thread");
    let Some(net) = net().await else { return };
    let kind = StatementKind::Uptime;
    let calldata = claim_calldata(&proof).expect("a Groth16 proof");
    let claim = Claim::from_calldata(&calldata).expect("calldata");
    let header = claim.header().expect("header");
    assert_eq!(header.reward, 2025, "examples/epochs/README.md");
    let device = claim.device_id().unwrap();
    accept_inputs(&net.owner, kind, &claim).await;

    // Not registered yet.
    expect_refused(
        net.submitter.claim_calldata(&calldata).await,
        ContractError::DeviceNotRegistered,
    );
    let payout = payout_address(9);
    net.owner
        .register_devices(&[(device, payout)])
        .await
        .expect("register");

    // A changed reward does not verify.
    expect_refused(
        net.submitter
            .claim_calldata(&inflated(&claim).calldata())
            .await,
        ContractError::InvalidProof,
    );
    // Nor another device's id (registered too).
    let mut other = claim.clone();
    other.public_inputs[1] = device + U256::from(1u8);
    net.owner
        .register_devices(&[(other.public_inputs[1], payout_address(8))])
        .await
        .unwrap();
    expect_refused(
        net.submitter.claim(&other).await,
        ContractError::InvalidProof,
    );
    assert!(!net
        .owner
        .nullifier_used(claim.nullifier().unwrap())
        .await
        .unwrap());

    let before = net.owner.balance_of(payout).await.unwrap();
    let r = net
        .submitter
        .claim_calldata(&calldata)
        .await
        .expect("claim");
    assert_eq!(r.payment.reward, U256::from(2025u32));
    assert_eq!(r.payment.payout, payout);
    assert_eq!(r.payment.device_id, device);
    assert_eq!(
        net.owner.balance_of(payout).await.unwrap(),
        before + U256::from(2025u32)
    );
    eprintln!("fresh uptime claim: gas {}", r.tx.gas_used);

    expect_refused(
        net.submitter.claim_calldata(&calldata).await,
        ContractError::NullifierUsed,
    );
    // Whoever submits it.
    expect_refused(net.owner.claim(&claim).await, ContractError::NullifierUsed);
    assert_eq!(
        net.owner.balance_of(payout).await.unwrap(),
        before + U256::from(2025u32)
    );
    eprintln!(
        "fresh_uptime_proof_pays_once: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_pays_valid_claims_and_reports_the_rest() {
    let Some(net) = net().await else { return };
    let claims: Vec<Claim> = KINDS
        .iter()
        .map(|&k| Claim::from_calldata(&claim_calldata(&golden_proof(k)).unwrap()).unwrap())
        .collect();

    // Before the operator accepts anything, a claim is refused.
    expect_refused(
        net.submitter.claim(&claims[0]).await,
        ContractError::PolicyNotAccepted,
    );
    // Operators only.
    expect_refused(
        net.submitter
            .set_policy(StatementKind::Uptime, claims[0].public_inputs[2], true)
            .await,
        ContractError::NotOperator,
    );

    let mut devices = Vec::new();
    for (i, (kind, claim)) in KINDS.iter().zip(&claims).enumerate() {
        accept_inputs(&net.owner, *kind, claim).await;
        devices.push((claim.device_id().unwrap(), payout_address(i as u8)));
    }
    net.owner
        .register_devices(&devices)
        .await
        .expect("register");

    // uptime, bandwidth, uptime again, coverage with a changed reward.
    let batch = vec![
        claims[0].clone(),
        claims[1].clone(),
        claims[0].clone(),
        inflated(&claims[2]),
    ];
    let r = net.submitter.claim_batch(&batch).await.expect("claimBatch");
    eprintln!("claimBatch of 4 (2 paid): gas {}", r.tx.gas_used);
    assert_eq!(r.paid.len(), 2);
    assert_eq!(r.paid[0].kind, 1);
    assert_eq!(r.paid[1].kind, 2);
    let rejected: Vec<(usize, Revert)> = r
        .rejected
        .iter()
        .map(|j| (j.index, j.reason.clone()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (2, Revert::Contract(ContractError::NullifierUsed)),
            (3, Revert::Contract(ContractError::InvalidProof)),
        ]
    );
    for (i, claim) in claims.iter().take(2).enumerate() {
        assert_eq!(
            net.owner.balance_of(payout_address(i as u8)).await.unwrap(),
            U256::from(claim.header().unwrap().reward)
        );
    }
    // The refused coverage claim is still claimable as proven.
    let r = net
        .submitter
        .claim(&claims[2])
        .await
        .expect("coverage claim");
    assert_eq!(
        r.payment.reward,
        U256::from(claims[2].header().unwrap().reward)
    );
}

/// The development batch keys of uptime batches of `DEFAULT_BATCH_SIZE`
/// with the golden setup seed, made once and cached under the target
/// directory; a cached key is used only while the committed
/// `UptimeBatch4Verifier` is the one rendered from its verifying key (a
/// changed circuit makes a new one).
fn uptime_batch_prover() -> BatchProver {
    let size = DEFAULT_BATCH_SIZE;
    let statement = depin_batch::batch_statement_name("uptime", size);
    let committed = std::fs::read_to_string(repo().join(verifier_path(&statement)))
        .expect("the committed batch verifier");
    let current = |k: &BatchKeys| {
        render_verifier(k.verifying_key(), &statement, STATEMENT_VERSION) == committed
    };
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("depin-chain-batch-keys-{SETUP_SEED:x}"))
        .join(format!("uptime-{size}.pk"));
    let keys = match BatchKeys::read(&path, StatementKind::Uptime, size, true) {
        Ok(keys) if current(&keys) => keys,
        cached => {
            eprintln!(
                "no current cached batch key ({}): running the development setup",
                cached
                    .err()
                    .map_or("another circuit".into(), |e| e.to_string())
            );
            let t = Instant::now();
            let keys =
                BatchKeys::dev_setup(StatementKind::Uptime, size, SETUP_SEED).expect("setup");
            assert!(
                current(&keys),
                "the development setup does not give the committed {statement} verifier"
            );
            keys.write(&path).expect("cache the batch key");
            eprintln!("uptime batch setup: {:.1} s", t.elapsed().as_secs_f64());
            keys
        }
    };
    BatchProver::new(keys).expect("batch prover")
}

/// Device `i`'s uptime epoch at full capacity: `answered` slots answered
/// in time out of the first `answered + late`, the others `late` ones
/// answered too late; its reward by the native reference.
fn uptime_epoch(i: u8, epoch: u32, answered: u32, late: u32) -> (UptimeCircuit, u64) {
    let key = PrivateKey::from_bytes([0x60 + i; 32]);
    let device = key.public_key();
    let id = device.id();
    let beacon = batch_beacon(epoch);
    let mut chain = HashChain::uptime(id, epoch);
    let heartbeats: Vec<Heartbeat> = (0..answered + late)
        .map(|slot| {
            let latency = if slot < answered { 40 } else { 5_000 };
            let hb = Heartbeat::answer(beacon, id, slot, latency);
            chain.push(hb.message());
            hb
        })
        .collect();
    let head = chain.head();
    let input = UptimeInput {
        device,
        epoch,
        beacon,
        policy: SAMPLE_POLICY,
        heartbeats: &heartbeats,
        signed_head: SignedHead {
            head,
            signature: key.sign(&head),
        },
    };
    let reward = evaluate(&input).expect("valid epoch").public.reward;
    (UptimeCircuit::new(&input).expect("fits"), reward)
}

fn batch_beacon(epoch: u32) -> Fr {
    Fr::from(0xbea_c000_0000u64 + u64::from(epoch))
}

/// Accepts the sample policy, publishes the beacons of `epochs` and
/// registers `devices` with [`payout_address`]es.
async fn open_uptime_epochs(owner: &Rewards, epochs: &[u32], devices: &[Fr]) {
    let kind = StatementKind::Uptime;
    owner
        .set_policy(kind, fr_to_u256(&SAMPLE_POLICY.hash()), true)
        .await
        .expect("setPolicy");
    for &e in epochs {
        owner
            .set_beacon(e, fr_to_u256(&batch_beacon(e)))
            .await
            .expect("setBeacon");
    }
    let payouts: Vec<(U256, Address)> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| (fr_to_u256(d), payout_address(i as u8)))
        .collect();
    owner.register_devices(&payouts).await.expect("register");
}

/// Forms one batch per entry of `epochs`, each on the tree after the one
/// before (starting from the empty tree), checks that the public data
/// carries every device's reward as the native reference computed it, then
/// proves them one by one (each independently of the others). Returns each
/// batch's submission, public data and the tree commitment after it.
fn form_and_prove(
    prover: &BatchProver,
    epochs: &[Vec<(UptimeCircuit, u64)>],
) -> Vec<(BatchSubmission, PublicData, Fr)> {
    let mut tree = RewardsTree::new(TREE_DEPTH).expect("tree");
    let mut formed = Vec::new();
    for epoch in epochs {
        let statements = epoch.iter().map(|(c, _)| c.clone()).collect();
        let batch =
            BatchCircuit::form(&tree, DEFAULT_BATCH_SIZE, statements).expect("form a batch");
        let data = batch.circuit.public_data().clone();
        for (entry, (circuit, reward)) in data.devices().iter().zip(epoch) {
            assert_eq!(entry.device_id, circuit.expected().device_id);
            assert_eq!(entry.reward, *reward);
        }
        tree = batch.tree;
        formed.push((batch.circuit, data, tree.commitment()));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let t = Instant::now();
    let out = formed
        .into_iter()
        .map(|(circuit, data, after)| {
            let header: BatchHeader = *circuit.header();
            let proof = prover.prove(circuit, &mut rng).expect("prove a batch");
            assert!(prover.verify(&proof).expect("verify"));
            (
                BatchSubmission::new(&proof_words(&proof.proof), &header, &data),
                data,
                after,
            )
        })
        .collect::<Vec<_>>();
    eprintln!(
        "{} uptime batches of {DEFAULT_BATCH_SIZE} ({} constraints) proven in {:.1} s",
        out.len(),
        prover.num_constraints(),
        t.elapsed().as_secs_f64()
    );
    out
}

/// What `device` earned over the device-epochs of `epochs`.
fn earned(epochs: [&[(UptimeCircuit, u64)]; 2], device: &Fr) -> u64 {
    epochs
        .iter()
        .flat_map(|e| e.iter())
        .filter(|(c, _)| c.expected().device_id == *device)
        .map(|(_, r)| r)
        .sum()
}

/// Withdrawals from two applied uptime batches (`applied`, with their
/// public data) of the device-epochs `epochs`: device 0 first from the
/// first batch, then the rest of its cumulative reward from the second;
/// every refusal the contract owes; in the end every device paid exactly
/// what it earned.
async fn check_withdrawals(
    net: &Net,
    applied: &[(BatchApplied, PublicData); 2],
    epochs: [&[(UptimeCircuit, u64)]; 2],
    devices: &[Fr],
) {
    let kind = StatementKind::Uptime;
    let [(applied1, data1), (applied2, data2)] = applied;
    let [first, second] = epochs;
    // Withdrawals: device 0 first from the first batch, then the rest of
    // its cumulative reward from the second.
    let withdrawal = |applied: &BatchApplied, data: &PublicData, position: usize, device: usize| {
        let proof = data
            .withdrawal_proof(position)
            .expect("a device's position");
        assert_eq!(proof.device_id, devices[device]);
        Withdrawal::new(kind, applied.batch_id, payout_address(device as u8), &proof)
    };
    let (r0_1, r0_2) = (first[0].1, second[0].1);
    let w = withdrawal(applied1, data1, 0, 0);
    assert_eq!(w.cumulative, u128::from(r0_1));
    let paid = net.submitter.withdraw(&w).await.expect("withdraw 1");
    eprintln!("withdraw: {} gas", paid.tx.gas_used);
    assert_eq!(paid.amount, U256::from(r0_1));
    assert_eq!(paid.payout, payout_address(0));
    // The same withdrawal again: nothing more to pay.
    expect_refused(
        net.submitter.withdraw(&w).await,
        ContractError::NothingToWithdraw,
    );
    let w = withdrawal(applied2, data2, 0, 0);
    assert_eq!(w.cumulative, u128::from(r0_1 + r0_2));
    let paid = net.submitter.withdraw(&w).await.expect("withdraw 2");
    assert_eq!(paid.amount, U256::from(r0_2));
    assert_eq!(
        net.owner.balance_of(payout_address(0)).await.unwrap(),
        U256::from(r0_1 + r0_2)
    );
    assert_eq!(
        net.owner
            .withdrawn(kind, fr_to_u256(&devices[0]))
            .await
            .unwrap(),
        U256::from(r0_1 + r0_2)
    );
    // The older batch's proof pays nothing more.
    let w = withdrawal(applied1, data1, 0, 0);
    expect_refused(
        net.submitter.withdraw(&w).await,
        ContractError::NothingToWithdraw,
    );

    // Device 2 (in the first batch only) asks for one more than it earned.
    let mut above = withdrawal(applied1, data1, 2, 2);
    above.cumulative += 1;
    expect_refused(
        net.submitter.withdraw(&above).await,
        ContractError::InvalidWithdrawalProof,
    );
    // Device 1's reward to an address that is not its payout.
    let mut elsewhere = withdrawal(applied2, data2, 1, 1);
    elsewhere.payout = net.submitter.chain().address();
    expect_refused(
        net.submitter.withdraw(&elsewhere).await,
        ContractError::NotPayoutAddress,
    );
    // Every device's cumulative reward is paid exactly once in the end,
    // each withdrawal read from the chain alone: the latest batch that
    // holds the device.
    for (applied, data, position, device) in [
        (applied2, data2, 1usize, 1usize),
        (applied2, data2, 2, 4),
        (applied1, data1, 2, 2),
    ] {
        let w = net
            .submitter
            .latest_withdrawal(kind, devices[device], payout_address(device as u8), 0)
            .await
            .expect("read the batches")
            .expect("the device is in a batch");
        assert_eq!(w, withdrawal(applied, data, position, device));
        net.submitter.withdraw(&w).await.expect("withdraw");
    }
    let absent = net
        .submitter
        .latest_withdrawal(kind, Fr::from(12_345u64), payout_address(9), 0)
        .await
        .expect("read the batches");
    assert_eq!(absent, None);
    let earned = |d: u8| earned(epochs, &devices[d as usize]);
    for d in 0..5u8 {
        let paid = net.owner.balance_of(payout_address(d)).await.unwrap();
        let expected = if d == 3 { 0 } else { earned(d) };
        assert_eq!(paid, U256::from(expected), "device {d}");
    }
    // Device 3 earned nothing: its entry is credited, there is nothing to pay.
    assert_eq!(earned(3), 0);
    let w = withdrawal(applied1, data1, 3, 3);
    expect_refused(
        net.submitter.withdraw(&w).await,
        ContractError::NothingToWithdraw,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_epochs_of_uptime_batches_with_withdrawals() {
    let start = Instant::now();
    let Some(net) = net().await else { return };
    let kind = StatementKind::Uptime;
    let prover = tokio::task::spawn_blocking(uptime_batch_prover)
        .await
        .expect("batch keys");
    let (e1, e2) = (9_001u32, 9_002u32);

    // Epoch 1: devices 0..4 (one with late answers, one with none in time);
    // epoch 2: devices 0, 1 and a new one, with padding.
    let first: Vec<(UptimeCircuit, u64)> = vec![
        uptime_epoch(0, e1, 96, 0),
        uptime_epoch(1, e1, 60, 10),
        uptime_epoch(2, e1, 30, 0),
        uptime_epoch(3, e1, 0, 12),
    ];
    let second: Vec<(UptimeCircuit, u64)> = vec![
        uptime_epoch(0, e2, 80, 0),
        uptime_epoch(1, e2, 96, 0),
        uptime_epoch(4, e2, 50, 5),
    ];
    let devices: Vec<Fr> = (0..5u8)
        .map(|i| PrivateKey::from_bytes([0x60 + i; 32]).public_key().id())
        .collect();

    open_uptime_epochs(&net.owner, &[e1, e2], &devices).await;
    let genesis = RewardsTree::new(TREE_DEPTH).expect("tree");
    assert_eq!(
        net.owner.tree_commitment(kind).await.unwrap(),
        fr_to_u256(&genesis.commitment()),
        "setBatchVerifier set the empty tree as genesis"
    );
    let epochs = [first.clone(), second.clone()];
    let mut batches = tokio::task::spawn_blocking(move || form_and_prove(&prover, &epochs))
        .await
        .expect("proving")
        .into_iter();
    let (Some((batch1, data1, _)), Some((batch2, data2, after))) = (batches.next(), batches.next())
    else {
        panic!("two batches")
    };

    // The second batch before the first: not on the current tree.
    expect_refused(
        net.submitter.submit_batch(&batch2).await,
        ContractError::StaleRoot,
    );
    // Public data that is not what was proven.
    let mut tampered = batch1.clone();
    let mut bytes = tampered.public_data.to_vec();
    bytes[32 + 7] ^= 1; // the first entry's epoch reward
    tampered.public_data = bytes.into();
    expect_refused(
        net.submitter.submit_batch(&tampered).await,
        ContractError::InvalidProof,
    );

    let applied1 = net.submitter.submit_batch(&batch1).await.expect("batch 1");
    eprintln!(
        "submitBatch of {DEFAULT_BATCH_SIZE}: {} gas ({} per device-epoch)",
        applied1.tx.gas_used,
        applied1.tx.gas_used / DEFAULT_BATCH_SIZE as u64
    );
    assert_eq!(applied1.withdrawal_root.0, data1.withdrawal_root());
    assert_eq!(
        net.owner.tree_commitment(kind).await.unwrap(),
        batch1.new_commitment
    );
    // Replayed: its old commitment is no longer the tree's.
    expect_refused(
        net.submitter.submit_batch(&batch1).await,
        ContractError::StaleRoot,
    );
    let applied2 = net.submitter.submit_batch(&batch2).await.expect("batch 2");
    assert_eq!(
        net.owner.tree_commitment(kind).await.unwrap(),
        fr_to_u256(&after)
    );

    // Any indexer rebuilds the tree from the logs and calldata: the two
    // applied batches (not the refused ones), every leaf.
    let read = net
        .owner
        .applied_batches(kind, 0)
        .await
        .expect("applied batches");
    let ids: Vec<_> = read.iter().map(|b| (b.batch_id, b.epoch)).collect();
    assert_eq!(ids, [(applied1.batch_id, e1), (applied2.batch_id, e2)]);
    assert_eq!(read[0].public_data, data1);
    assert_eq!(read[1].public_data, data2);
    assert_eq!(read[1].withdrawal_root, applied2.withdrawal_root);
    let rebuilt = net
        .owner
        .rebuild_tree(kind, TREE_DEPTH, 0)
        .await
        .expect("rebuild the tree");
    assert_eq!(rebuilt.commitment(), after);
    for (i, id) in devices.iter().enumerate() {
        let earned = earned([&first, &second], id);
        let (_, leaf) = rebuilt.leaf(id).expect("every device is in the tree");
        assert_eq!(leaf.cumulative, u128::from(earned), "device {i}");
    }
    // Another depth does not give the chain's tree.
    assert!(matches!(
        net.owner.rebuild_tree(kind, TREE_DEPTH - 1, 0).await,
        Err(ChainError::TreeReplay { .. })
    ));

    let applied = [(applied1, data1), (applied2, data2)];
    check_withdrawals(&net, &applied, [&first, &second], &devices).await;
    eprintln!(
        "two_epochs_of_uptime_batches_with_withdrawals: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
