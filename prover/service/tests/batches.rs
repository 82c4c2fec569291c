//! Epoch batches at the service, end to end on loopback: uptime epochs of
//! five devices proven in batches of 4 (a full batch at once, the fifth
//! device at the deadline), the node stopped as soon as the first batch is
//! formed and started again on the same store (the batch is proven after
//! the restart, the second one chains on its tree), the proofs checked
//! against a verifying key recomputed from the setup seed, the public data
//! against the jobs' rewards and a native replay of the tree, and every
//! device's withdrawal against its batch's withdrawal root; the refusals
//! of `GetProof`, `GetBatch` and `GetWithdrawal`.

use std::time::Duration;

use ark_snark::SNARK;
use depin_batch::{PublicData, RewardsTree, TREE_DEPTH};
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::field::fr_from_decimal;
use depin_device_sdk::client::{pb, ProverClient, UptimeChain};
use depin_groth16::batch::dev_batch_verifying_key;
use depin_service::{start, Config};
use depin_statements::StatementKind;
use depin_testkit::service::*;
use tonic::Code;

const B: usize = 4;

fn batch_config(data: &std::path::Path) -> Config {
    Config {
        batch_size: B,
        batch_deadline_s: 1.0,
        ..config(data, &["uptime"])
    }
}

fn state(b: &pb::Batch) -> pb::BatchState {
    pb::BatchState::try_from(b.state).unwrap_or_default()
}

/// Waits until `kind`'s batch `sequence` is stored (the node loads, or on
/// a first run makes, its batch key first: minutes on a loaded machine).
async fn formed(prover: &mut ProverClient, sequence: u64) -> pb::Batch {
    for _ in 0..6000 {
        match prover.get_batch(pb::StatementKind::Uptime, sequence).await {
            Ok(b) => return b,
            Err(depin_device_sdk::client::ClientError::Status(s)) if s.code() == Code::NotFound => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("GetBatch: {e}"),
        }
    }
    panic!("batch {sequence} was not formed in ten minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_formed_proven_across_a_restart_and_withdrawn() {
    tokio::task::spawn_blocking(|| ensure_keys(StatementKind::Uptime))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // First life (no grace at shutdown: a running proof is abandoned, its
    // batch left PROVING): five devices, each with an epoch of heartbeats (device i
    // answers 6 + i slots in time, so the rewards differ).
    let server = start(Config {
        shutdown_grace_s: 0,
        // Only the full batch forms in this life.
        batch_deadline_s: 600.0,
        ..batch_config(dir.path())
    })
    .await
    .unwrap();
    let (mut prover, mut op) = clients(server.addr).await;
    let devices: Vec<_> = (1..=5).map(device).collect();
    for d in &devices {
        op.register_device(&d.public_key()).await.unwrap();
    }
    op.publish_epoch(publish_request(EPOCH)).await.unwrap();
    let mut jobs = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let mut chain = UptimeChain::new(d.clone(), EPOCH);
        let slots: Vec<u32> = (0..6 + i as u32).collect();
        let hbs = chain.heartbeats(beacon(), &slots, 40);
        prover.submit(&chain.batch(&hbs)).await.unwrap();
        let j = op
            .prove_epoch(&d.public_key().id(), pb::StatementKind::Uptime, EPOCH)
            .await
            .unwrap();
        jobs.push(j.job_id);
    }
    // The first four form batch 0 at once; stop the node as soon as it is
    // stored, most likely before its proof is.
    let first = formed(&mut prover, 0).await;
    assert_eq!(first.job_ids, jobs[..4].to_vec());
    server.shutdown();
    server.shutdown();
    server.wait().await.unwrap();

    // Second life on the same store (once the abandoned proof has let the
    // database go): batch 0 is proven, the fifth device waits for the
    // deadline and forms batch 1 on the tree batch 0 ends with.
    let server = restart(dir.path()).await;
    let (mut prover, _op) = clients(server.addr).await;
    let mut rewards = Vec::new();
    for (i, id) in jobs.iter().enumerate() {
        let job = prover.wait_job(id).await.unwrap();
        assert_eq!(
            pb::JobState::try_from(job.state).unwrap(),
            pb::JobState::Done,
            "{id}: {}",
            job.failure
        );
        let sequence = u64::from(i >= B);
        assert_eq!(job.batch_sequence, sequence, "{id}");
        assert_eq!(job.batch_id, format!("uptime-batch-{sequence}"));
        assert_eq!(job.records_accepted, 6 + i as u32);
        rewards.push(job.reward);
        // A batched job has no proof of its own.
        let e = prover.get_proof(id).await.unwrap_err();
        assert_eq!(status_of(Err::<(), _>(e)).code(), Code::FailedPrecondition);
    }
    assert!(rewards.windows(2).all(|w| w[0] < w[1]), "{rewards:?}");

    let batches = check_batches(&mut prover, &devices, &rewards).await;
    check_withdrawals(&mut prover, &devices, &rewards, &batches).await;

    // Refusals.
    let stranger = device(99).public_key().id();
    let e = prover
        .get_withdrawal(&stranger, pb::StatementKind::Uptime)
        .await
        .unwrap_err();
    assert_eq!(status_of(Err::<(), _>(e)).code(), Code::NotFound);
    let e = prover
        .get_batch(pb::StatementKind::Uptime, 7)
        .await
        .unwrap_err();
    assert_eq!(status_of(Err::<(), _>(e)).code(), Code::NotFound);
    let e = prover
        .get_batch(pb::StatementKind::Unspecified, 0)
        .await
        .unwrap_err();
    assert_eq!(status_of(Err::<(), _>(e)).code(), Code::InvalidArgument);
    server.shutdown();
    server.shutdown();
    server.wait().await.unwrap();
}

/// Both batches: DONE, proofs valid under the verifying key recomputed
/// from the setup seed, public data carrying the jobs' rewards, the tree
/// replayed natively from the empty one through both commitments.
async fn check_batches(
    prover: &mut ProverClient,
    devices: &[PrivateKey],
    rewards: &[u64],
) -> Vec<pb::Batch> {
    let vk = tokio::task::spawn_blocking(|| {
        dev_batch_verifying_key(StatementKind::Uptime, B, SEED).unwrap()
    })
    .await
    .unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    let mut tree = RewardsTree::new(TREE_DEPTH).unwrap();
    let mut batches = Vec::new();
    for sequence in 0..2u64 {
        let b = prover
            .wait_batch(pb::StatementKind::Uptime, sequence)
            .await
            .unwrap();
        assert_eq!(state(&b), pb::BatchState::Done, "{}", b.failure);
        assert_eq!(b.batch_size as usize, B);
        assert_eq!(b.epoch, EPOCH);
        // The proof verifies under the verifying key recomputed from the
        // setup seed, for the digest of the batch's header and data.
        let p = b.proof.as_ref().unwrap();
        let proof = groth16_proof(p);
        let digest = fr_from_decimal(&b.digest).unwrap();
        assert!(
            ark_groth16::Groth16::<ark_bn254::Bn254>::verify_with_processed_vk(
                &pvk,
                &[digest],
                &proof
            )
            .unwrap(),
            "batch {sequence}"
        );
        assert_eq!(
            b.calldata_function,
            depin_evm::calldata::SUBMIT_BATCH_FUNCTION
        );
        assert_eq!(b.calldata.len(), 4 + 32 * 16 + 56 * B);
        // The public data: each device's reward as its job proved it, and
        // the tree replayed natively ends at the batch's commitment.
        let data = PublicData::decode(B, &b.public_data).unwrap();
        let members = if sequence == 0 { 0..4 } else { 4..5 };
        for (entry, i) in data.devices().iter().zip(members.clone()) {
            assert_eq!(entry.device_id, devices[i].public_key().id());
            assert_eq!(entry.reward, rewards[i]);
            assert_eq!(entry.cumulative, u128::from(rewards[i]));
        }
        assert_eq!(data.devices().len(), members.len());
        assert_eq!(
            fr_from_decimal(&b.old_commitment).unwrap(),
            tree.commitment()
        );
        tree.apply(EPOCH, &data).unwrap();
        assert_eq!(
            fr_from_decimal(&b.new_commitment).unwrap(),
            tree.commitment()
        );
        assert_eq!(b.withdrawal_root, data.withdrawal_root().to_vec());
        batches.push(b);
    }

    batches
}

/// Each device's withdrawal: its branch folds to its batch's root.
async fn check_withdrawals(
    prover: &mut ProverClient,
    devices: &[PrivateKey],
    rewards: &[u64],
    batches: &[pb::Batch],
) {
    // Withdrawals: each device's branch folds to its batch's root.
    for (i, d) in devices.iter().enumerate() {
        let w = prover
            .get_withdrawal(&d.public_key().id(), pb::StatementKind::Uptime)
            .await
            .unwrap();
        let b = &batches[usize::from(i >= B)];
        assert_eq!(w.batch_id, b.batch_id);
        assert_eq!(w.new_commitment, b.new_commitment);
        assert_eq!(w.cumulative, rewards[i].to_string());
        assert_eq!(w.position as usize, i % B);
        let branch = depin_batch::WithdrawalProof {
            device_id: d.public_key().id(),
            cumulative: rewards[i].into(),
            position: w.position,
            siblings: w
                .siblings
                .iter()
                .map(|s| s.as_slice().try_into().unwrap())
                .collect(),
        };
        assert_eq!(branch.root().to_vec(), b.withdrawal_root);
        assert_eq!(w.withdrawal_root, b.withdrawal_root);
    }
}

/// A node that proves every device-epoch on its own answers the batch
/// RPCs with FAILED_PRECONDITION.
#[tokio::test]
async fn a_node_without_batches_refuses_the_batch_rpcs() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(ingest_config(dir.path(), TOKEN)).await.unwrap();
    let (mut prover, _op) = clients(server.addr).await;
    let e = prover
        .get_batch(pb::StatementKind::Uptime, 0)
        .await
        .unwrap_err();
    assert_eq!(status_of(Err::<(), _>(e)).code(), Code::FailedPrecondition);
    let e = prover
        .get_withdrawal(&device(1).public_key().id(), pb::StatementKind::Uptime)
        .await
        .unwrap_err();
    assert_eq!(status_of(Err::<(), _>(e)).code(), Code::FailedPrecondition);
    server.shutdown();
    server.shutdown();
    server.wait().await.unwrap();
}

/// Starts the batch node on `data` again, waiting for the previous life's
/// abandoned proving task to release the database (a process that exits
/// releases it at once).
async fn restart(data: &std::path::Path) -> depin_service::RunningService {
    for _ in 0..600 {
        match start(batch_config(data)).await {
            Ok(s) => return s,
            Err(e) if e.to_string().contains("already open") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("restart: {e}"),
        }
    }
    panic!("the database was not released in two minutes");
}

/// The proof of a `Groth16Proof` message.
fn groth16_proof(p: &pb::Groth16Proof) -> ark_groth16::Proof<ark_bn254::Bn254> {
    use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
    use std::str::FromStr;
    let fq = |s: &String| Fq::from_str(s).unwrap();
    ark_groth16::Proof {
        a: G1Affine::new(fq(&p.a[0]), fq(&p.a[1])),
        b: G2Affine::new(
            Fq2::new(fq(&p.b[0]), fq(&p.b[1])),
            Fq2::new(fq(&p.b[2]), fq(&p.b[3])),
        ),
        c: G1Affine::new(fq(&p.c[0]), fq(&p.c[1])),
    }
}
