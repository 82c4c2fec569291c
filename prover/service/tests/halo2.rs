//! A node that proves uptime with halo2 (`backends = { uptime = "halo2" }`)
//! end to end, on a real anvil node: signed heartbeats in over gRPC, the
//! job proven with halo2, `GetVerifyingKey` and `GetProof` naming the proof
//! system, the proof verifying natively under the node's key directory
//! (written at start in `depin-prover setup --backend halo2`'s layout), and
//! its `claimHalo2` calldata, sent unchanged, paying the device once
//! through the committed halo2 verifier (the node's development
//! parameters are the golden seed's, so its key is the golden one). A key
//! directory whose verifying key the parameters do not give is refused at
//! start with a precondition failure, never proven with.

use std::path::{Path, PathBuf};
use std::process::Command;

use depin_chain::{
    deploy, Anvil, Artifacts, Chain, ChainError, ContractError, DeployConfig, Rewards,
    DEFAULT_HALO2_VERIFY_GAS, U256,
};
use depin_crypto::field::fr_from_decimal;
use depin_device_sdk::client::{pb, UptimeChain};
use depin_device_sdk::signer::Device;
use depin_halo2::field::to_halo2;
use depin_halo2_prover::keys::{statement_k, VerifierKeys, VERIFYING_KEY_FILE};
use depin_halo2_prover::system::params_file;
use depin_service::{start, Config};
use depin_statements::{Fr, StatementKind};
use depin_testkit::repo_root;
use depin_testkit::service::*;
use tonic::Code;

/// Whether `CI` is set (to anything but empty, `0` or `false`).
fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A node in `data` proving uptime with halo2 from the key directory
/// `keys` (`<keys>/uptime/halo2/`), development parameters from the golden
/// seed.
fn halo2_config(data: &Path, keys: &Path) -> Config {
    Config {
        keys_dir: Some(keys.to_path_buf()),
        dev_seed: depin_halo2_prover::golden::PARAMS_SEED,
        backends: [("uptime".to_string(), "halo2".to_string())].into(),
        ..config(data, &["uptime"])
    }
}

/// The keys of every run: the parameters are made once and kept.
fn cached_keys() -> PathBuf {
    target_dir().join(format!(
        "halo2-golden-keys-v{}",
        depin_statements::STATEMENT_VERSION
    ))
}

/// Waits for the node's uptime verifying key (loading: UNAVAILABLE).
async fn verifying_key(
    prover: &mut depin_device_sdk::client::ProverClient,
) -> Result<pb::GetVerifyingKeyResponse, tonic::Status> {
    loop {
        match prover.get_verifying_key(pb::StatementKind::Uptime).await {
            Err(depin_device_sdk::client::ClientError::Status(s))
                if s.code() == Code::Unavailable =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
            Err(depin_device_sdk::client::ClientError::Status(s)) => return Err(s),
            Err(e) => panic!("GetVerifyingKey: {e}"),
            Ok(vk) => return Ok(vk),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_halo2_node_proves_uptime_and_the_contract_pays_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let keys = cached_keys();
    let server = start(halo2_config(dir.path(), &keys)).await.unwrap();
    let (mut prover, mut op) = clients(server.addr).await;

    let up = device(1);
    assert!(op.register_device(&up.public_key()).await.unwrap().created);
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut chain = UptimeChain::new(up.clone(), EPOCH);
    let hbs = chain.heartbeats(beacon(), &(0..12).collect::<Vec<_>>(), 40);
    prover.submit(&chain.batch(&hbs)).await.unwrap();

    let vk = verifying_key(&mut prover).await.expect("the halo2 keys");
    assert_eq!(vk.proof_system, pb::ProofSystem::Halo2 as i32);
    let golden = repo_root()
        .join("prover/golden/halo2/uptime")
        .join(VERIFYING_KEY_FILE);
    assert!(
        vk.binary == std::fs::read(&golden).unwrap(),
        "the node's halo2 key is not the golden one ({})",
        golden.display()
    );

    let job = prover
        .prove_epoch_signed(&Device::new(up.clone()), pb::StatementKind::Uptime, EPOCH)
        .await
        .unwrap();
    let job = prover.wait_job(&job.job_id).await.unwrap();
    assert_eq!(
        pb::JobState::try_from(job.state).unwrap(),
        pb::JobState::Done,
        "{}",
        job.failure
    );
    // 12 slots counted, floor 4: 100 + 5 * 8.
    assert_eq!(job.reward, 140);
    let proof = prover.get_proof(&job.job_id).await.unwrap();
    assert_eq!(proof.proof_system, pb::ProofSystem::Halo2 as i32);
    assert!(proof.proof.is_none(), "a Groth16 proof on a halo2 answer");
    let transcript = proof
        .halo2_proof
        .as_ref()
        .expect("halo2_proof")
        .transcript
        .clone();
    assert_eq!(transcript, proof.proof_bytes);
    assert_eq!(proof.calldata_function, "claimHalo2(uint256[],bytes)");
    assert_eq!(proof.reward, 140);
    eprintln!(
        "halo2 uptime proof: {} bytes in {} ms",
        transcript.len(),
        job.proving_ms
    );

    // Natively, under the key directory the node wrote.
    let verifier =
        VerifierKeys::read_dir(&keys.join("uptime").join("halo2"), StatementKind::Uptime).unwrap();
    let public: Vec<Fr> = proof
        .public_inputs
        .iter()
        .map(|s| fr_from_decimal(s).unwrap())
        .collect();
    let as_halo2 = |p: &[Fr]| p.iter().map(to_halo2).collect::<Vec<_>>();
    assert!(depin_halo2_prover::verify(
        &verifier.params,
        &verifier.vk,
        &as_halo2(&public),
        &transcript
    )
    .unwrap());
    let mut other = public.clone();
    other[4] += Fr::from(1u64);
    assert!(!depin_halo2_prover::verify(
        &verifier.params,
        &verifier.vk,
        &as_halo2(&other),
        &transcript
    )
    .unwrap());
    server.shutdown();
    server.wait().await.unwrap();

    pays_once_on_anvil(&proof).await;
}

/// Sends `proof`'s calldata, unchanged, on a fresh anvil with the
/// contracts deployed: refused as Groth16 calldata, paid once as
/// `claimHalo2`, its replay refused.
async fn pays_once_on_anvil(proof: &pb::GetProofResponse) {
    let Some(anvil) = anvil() else { return };
    let owner = Chain::connect(anvil.endpoint(), anvil.key(0)).unwrap();
    let deployment = deploy(
        &owner,
        &artifacts(),
        &DeployConfig {
            batches: false,
            halo2_verify_gas: Some(DEFAULT_HALO2_VERIFY_GAS),
            ..DeployConfig::default()
        },
    )
    .await
    .unwrap();
    let rewards = Rewards::new(owner, &deployment);
    rewards.fund(U256::from(1_000_000u64)).await.unwrap();
    let u = |s: &str| depin_chain::decimal_to_u256(s).unwrap();
    rewards
        .set_policy(StatementKind::Uptime, u(&proof.public_inputs[2]), true)
        .await
        .unwrap();
    rewards
        .set_beacon(EPOCH, u(&proof.public_inputs[3]))
        .await
        .unwrap();
    let payout = depin_chain::Address::repeat_byte(0xd0);
    rewards
        .register_devices(&[(u(&proof.public_inputs[1]), payout)])
        .await
        .unwrap();

    // Not Groth16 calldata: refused before anything is sent.
    assert!(matches!(
        rewards.claim_calldata(&proof.calldata).await,
        Err(ChainError::Calldata(_))
    ));
    let paid = rewards
        .claim_halo2_calldata(&proof.calldata)
        .await
        .expect("the halo2 claim pays");
    assert_eq!(paid.payment.payout, payout);
    assert_eq!(paid.payment.reward, U256::from(140u64));
    assert_eq!(
        rewards.balance_of(payout).await.unwrap(),
        U256::from(140u64)
    );
    eprintln!("claimHalo2 gas: {}", paid.tx.gas_used);
    let replay = rewards.claim_halo2_calldata(&proof.calldata).await;
    assert_eq!(
        replay.unwrap_err().contract_error(),
        Some(ContractError::NullifierUsed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_directory_of_other_parameters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The cached parameters, with a verifying key they do not give.
    let keys = dir.path().join("keys");
    let halo2 = keys.join("uptime").join("halo2");
    std::fs::create_dir_all(&halo2).unwrap();
    let params = params_file(statement_k(StatementKind::Uptime));
    let cached = cached_keys().join("uptime").join("halo2").join(&params);
    if cached.exists() {
        std::fs::copy(&cached, halo2.join(&params)).unwrap();
    }
    let stale = repo_root()
        .join("prover/golden/halo2/coverage")
        .join(VERIFYING_KEY_FILE);
    std::fs::copy(&stale, halo2.join(VERIFYING_KEY_FILE)).unwrap();

    let server = start(halo2_config(&dir.path().join("data"), &keys))
        .await
        .unwrap();
    let (mut prover, _) = clients(server.addr).await;
    let status = verifying_key(&mut prover).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("another verifying key"),
        "{}",
        status.message()
    );
    server.shutdown();
    server.wait().await.unwrap();
}

/// anvil, or `None` (with a message) when it is not installed and `CI` is
/// unset; under `CI` a missing anvil fails.
fn anvil() -> Option<Anvil> {
    let root = repo_root();
    if !Anvil::is_installed(&root) {
        let path = Anvil::binary(&root);
        assert!(
            !ci(),
            "anvil not found at {} under CI: run scripts/setup.sh",
            path.display()
        );
        eprintln!(
            "SKIPPED the on-chain part: anvil not found at {} (run scripts/setup.sh)",
            path.display()
        );
        return None;
    }
    Some(Anvil::spawn(&root).expect("start anvil"))
}

/// The contracts' artifacts, built with the project's forge (offline;
/// nothing to do when current).
fn artifacts() -> Artifacts {
    let status = Command::new(repo_root().join("scripts/forge.sh"))
        .args(["build", "--quiet"])
        .status()
        .expect("run scripts/forge.sh (scripts/setup.sh installs forge)");
    assert!(status.success(), "scripts/forge.sh build failed");
    Artifacts::load(&Artifacts::out_dir(&repo_root())).unwrap()
}
