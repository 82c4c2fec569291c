//! Batch keys and proofs (`depin_groth16::batch`) on the smallest batch,
//! one uptime position: the verifying key recomputed without the proving
//! key is the setup's; a proof of a formed batch verifies for its digest
//! and for no other; the key file round-trips and refuses another
//! statement, size or a damaged file; a batch of another size or kind is
//! refused before proving.

use ark_ff::One;
use depin_batch::{RewardsTree, TREE_DEPTH};
use depin_batch_r1cs::BatchCircuit;
use depin_crypto::eddsa::PrivateKey;
use depin_groth16::batch::{dev_batch_verifying_key, BatchKeys, BatchProver, BatchProverError};
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

#[test]
fn one_position_uptime_batches_prove_verify_and_round_trip() {
    let kind = StatementKind::Uptime;
    let keys = BatchKeys::dev_setup(kind, 1, 5).expect("setup");
    assert_eq!(
        keys.verifying_key().gamma_abc_g1.len(),
        2,
        "one public input"
    );
    assert_eq!(
        &dev_batch_verifying_key(kind, 1, 5).expect("verifying key"),
        keys.verifying_key(),
        "the verifying key without the proving key is the setup's"
    );
    assert_ne!(
        &dev_batch_verifying_key(kind, 1, 6).expect("verifying key"),
        keys.verifying_key()
    );

    // The key file: round trip, and refusals.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys/uptime-1.pk");
    keys.write(&path).expect("write");
    // (A validated read checks every point: tens of seconds here.)
    let read = BatchKeys::read(&path, kind, 1, true).expect("read");
    assert!(read == keys);
    assert!(matches!(
        BatchKeys::read(&path, kind, 2, true),
        Err(BatchProverError::WrongBatch {
            key_size: 1,
            size: 2,
            ..
        })
    ));
    assert!(matches!(
        BatchKeys::read(&path, StatementKind::Coverage, 1, true),
        Err(BatchProverError::WrongBatch {
            key_kind: StatementKind::Uptime,
            kind: StatementKind::Coverage,
            ..
        })
    ));
    let bytes = std::fs::read(&path).expect("read");
    let damaged = dir.path().join("damaged.pk");
    std::fs::write(&damaged, &bytes[..bytes.len() - 1]).expect("write");
    assert!(matches!(
        BatchKeys::read(&damaged, kind, 1, true),
        Err(BatchProverError::Format { .. })
    ));
    std::fs::write(&damaged, b"not a key").expect("write");
    assert!(matches!(
        BatchKeys::read(&damaged, kind, 1, true),
        Err(BatchProverError::Format { .. })
    ));
    assert!(matches!(
        BatchKeys::read(&dir.path().join("missing.pk"), kind, 1, true),
        Err(BatchProverError::Io { .. })
    ));

    // A batch of one device: proven, valid for its digest only.
    let prover = BatchProver::new(keys).expect("prover");
    let tree = RewardsTree::new(TREE_DEPTH).expect("tree");
    let statement = UptimeCircuit::sample_with_key(&PrivateKey::from_bytes([9; 32]));
    let formed = BatchCircuit::form(&tree, 1, vec![statement.clone()]).expect("form");
    let digest = formed.circuit.digest();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let proof = prover.prove(formed.circuit, &mut rng).expect("prove");
    assert_eq!(proof.digest, digest);
    assert!(prover.verify(&proof).expect("verify"));
    let mut other = proof.clone();
    other.digest += ark_bn254::Fr::one();
    assert!(!prover.verify(&other).expect("verify"));

    // Another size or statement is refused before any work.
    let two = BatchCircuit::form(&tree, 2, vec![statement]).expect("form");
    assert!(matches!(
        prover.prove(two.circuit, &mut rng),
        Err(BatchProverError::WrongBatch {
            key_size: 1,
            size: 2,
            ..
        })
    ));
    let bandwidth = BatchCircuit::form(&tree, 1, vec![BandwidthCircuit::sample()]).expect("form");
    assert!(matches!(
        prover.prove(bandwidth.circuit, &mut rng),
        Err(BatchProverError::WrongBatch {
            kind: StatementKind::Bandwidth,
            ..
        })
    ));
}

#[test]
fn a_batch_size_of_zero_is_refused() {
    assert!(matches!(
        BatchKeys::dev_setup(StatementKind::Uptime, 0, 1),
        Err(BatchProverError::Form { batch_size: 0, .. })
    ));
}
