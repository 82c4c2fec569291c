//! The batch circuit against B single-device references and the native
//! tree: the same rewards, the same tree, the same digest; and the
//! specific ways a dishonest batch fails.

use super::*;
use ark_relations::gr1cs::ConstraintSystem;
use depin_batch::BatchEntry;
use depin_crypto::eddsa::PrivateKey;
use depin_statements::records::{HashChain, Heartbeat, SignedHead};
use depin_statements::uptime::{evaluate, UptimeInput};
use depin_statements::UptimePolicy;
use depin_statements_r1cs::testing::{delta, R1cs};
use depin_statements_r1cs::uptime::UptimeCircuit;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const DEPTH: usize = 6;
const CAPACITY: usize = 4;
const BATCH: usize = 4;

fn beacon(epoch: u32) -> NativeFr {
    NativeFr::from(0x5eed_0000_0000u64 + u64::from(epoch))
}

const POLICY: UptimePolicy = UptimePolicy {
    slots_per_epoch: 8,
    floor_slots: 1,
    max_latency_ms: 200,
    base_reward: 100,
    reward_per_slot: 7,
    reward_cap: 10_000,
};

/// How a device behaves in an epoch.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Honest,
    /// Answers with another device's challenge responses.
    Replays,
    /// Answers too late.
    Slow,
    /// Signs the chain head with a key that is not its own.
    ForgedHead,
}

/// One device's uptime epoch as the prover holds it, as a circuit of
/// [`CAPACITY`] slots, with the reward the native reference gives.
fn uptime(seed: u8, epoch: u32, how: Behaviour, rng: &mut ChaCha20Rng) -> (UptimeCircuit, u64) {
    let key = PrivateKey::from_bytes([seed; 32]);
    let device = key.public_key();
    let id = device.id();
    let other = PrivateKey::from_bytes([seed ^ 0xff; 32]).public_key().id();
    let mut chain = HashChain::uptime(id, epoch);
    let mut slot = 0u32;
    let heartbeats: Vec<Heartbeat> = (0..rng.gen_range(1..=CAPACITY))
        .map(|_| {
            slot += rng.gen_range(0..2u32);
            let (who, latency) = match how {
                Behaviour::Replays => (other, 30),
                Behaviour::Slow => (id, 500),
                _ => (id, rng.gen_range(10..200)),
            };
            let hb = Heartbeat::answer(beacon(epoch), who, slot, latency);
            slot += 1;
            chain.push(hb.message());
            hb
        })
        .collect();
    let head = chain.head();
    let signer = match how {
        Behaviour::ForgedHead => PrivateKey::from_bytes([seed.wrapping_add(1); 32]),
        _ => key,
    };
    let input = UptimeInput {
        device,
        epoch,
        beacon: beacon(epoch),
        policy: POLICY,
        heartbeats: &heartbeats,
        signed_head: SignedHead {
            head,
            signature: signer.sign(&head),
        },
    };
    let reward = evaluate(&input).expect("valid input").public.reward;
    let circuit = UptimeCircuit::with_capacity(&input, CAPACITY).expect("fits");
    (circuit, reward)
}

/// Synthesizes `circuit` with its public input and says whether every
/// constraint holds.
fn satisfied<C: ConstraintSynthesizer<Fr>>(circuit: C) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone()).expect("synthesis");
    cs.is_satisfied().expect("assignment")
}

#[test]
fn batches_equal_single_references_and_the_native_tree_over_two_epochs() {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let behaviours = [
        Behaviour::Honest,
        Behaviour::Replays,
        Behaviour::Slow,
        Behaviour::ForgedHead,
    ];
    let mut tree = RewardsTree::new(DEPTH).unwrap();
    let mut native = RewardsTree::new(DEPTH).unwrap();
    // Epoch 1: devices 1..=3 (one random cheater among them) and padding;
    // epoch 2: devices 2..=5, so that 2 and 3 are updated and 4, 5 inserted.
    for (epoch, seeds) in [(1u32, vec![1u8, 2, 3]), (2, vec![2, 3, 4, 5])] {
        let mut statements = Vec::new();
        let mut rewards = Vec::new();
        for s in &seeds {
            let how = behaviours[rng.gen_range(0..behaviours.len())];
            let (c, reward) = uptime(*s, epoch, how, &mut rng);
            assert_eq!(c.expected().reward, reward);
            rewards.push((c.expected().device_id, reward));
            statements.push(c);
        }
        let formed = BatchCircuit::form(&tree, BATCH, statements).unwrap();
        let b = &formed.circuit;
        // The public data is the single references' rewards, credited to
        // a native tree in the same order.
        let entries: Vec<BatchEntry> = b.public_data().entries().collect();
        assert_eq!(entries.len(), BATCH);
        for (i, (id, reward)) in rewards.iter().enumerate() {
            let c = native.credit(*id, epoch, *reward).unwrap();
            assert_eq!(entries[i].device_id, *id);
            assert_eq!(entries[i].reward, *reward);
            assert_eq!(entries[i].cumulative, c.cumulative);
        }
        assert!(entries[rewards.len()..].iter().all(BatchEntry::is_padding));
        assert_eq!(formed.tree.commitment(), native.commitment());
        assert_eq!(b.header().old_commitment, tree.commitment());
        assert_eq!(b.header().new_commitment, native.commitment());
        assert_eq!(b.header().epoch, epoch);
        assert!(satisfied(b.clone()), "epoch {epoch}");
        tree = formed.tree;
    }
}

#[test]
fn any_other_digest_is_unsatisfiable() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (c, _) = uptime(9, 3, Behaviour::Honest, &mut rng);
    let b = BatchCircuit::form(&tree, 2, vec![c]).unwrap().circuit;
    let mut r1cs = R1cs::synthesize(b.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.public_inputs(), b.public_inputs().as_slice());
    assert!(!r1cs.is_satisfied_with_public(&[b.digest() + NativeFr::from(1u64)]));
}

/// A prover that credits more than the statement pays (and publishes it,
/// with the tree and digest that follow) cannot satisfy the circuit.
#[test]
fn a_reward_above_the_statements_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (c, reward) = uptime(11, 3, Behaviour::Honest, &mut rng);
    let id = c.expected().device_id;
    let mut b = BatchCircuit::form(&tree, 2, vec![c]).unwrap().circuit;
    assert!(satisfied(b.clone()));
    let mut inflated = tree.clone();
    let credit = inflated.credit(id, 3, reward + 1).unwrap();
    b.data = PublicData::from_credits(2, std::slice::from_ref(&credit)).unwrap();
    b.header.new_commitment = inflated.commitment();
    b.positions[0].credit = Some(credit);
    assert!(!satisfied(b));
}

/// A batch whose header differs from what the statements prove under
/// (another epoch, policy or beacon, as a contract holding other values
/// would write it) is unsatisfiable.
#[test]
fn the_header_binds_the_epoch_policy_and_beacon() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (c, _) = uptime(12, 5, Behaviour::Honest, &mut rng);
    let b = BatchCircuit::form(&tree, 2, vec![c]).unwrap().circuit;
    let tampered: [fn(&mut BatchHeader); 4] = [
        |h| h.epoch += 1,
        |h| h.policy_hash += NativeFr::from(1u64),
        |h| h.beacon += NativeFr::from(1u64),
        |h| h.old_commitment += NativeFr::from(1u64),
    ];
    for (i, t) in tampered.iter().enumerate() {
        let mut bad = b.clone();
        t(&mut bad.header);
        assert!(!satisfied(bad), "tampering {i}");
    }
}

/// Padding must come last: a device after an unused position is refused
/// even when the digest is computed over exactly those positions.
#[test]
fn padding_before_a_device_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (a, _) = uptime(21, 7, Behaviour::Honest, &mut rng);
    let (c, _) = uptime(22, 7, Behaviour::Honest, &mut rng);
    let mut b = BatchCircuit::form(&tree, 3, vec![a, c]).unwrap().circuit;
    // Positions [a, c, pad] -> [a, pad, c], the digest over that order.
    b.positions.swap(1, 2);
    let entries: Vec<BatchEntry> = b.data.entries().collect();
    let bytes: Vec<u8> = [entries[0], entries[2], entries[1]]
        .iter()
        .flat_map(BatchEntry::encode)
        .collect();
    let digest = depin_batch::public_data::digest(&b.header, &bytes);
    let mut r1cs = R1cs::synthesize(b).unwrap();
    assert!(!r1cs.is_satisfied_with_public(&[digest]));
}

#[test]
fn forming_refuses_mixed_epochs_duplicates_and_overflowing_batches() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (a, _) = uptime(31, 7, Behaviour::Honest, &mut rng);
    let (b, _) = uptime(32, 8, Behaviour::Honest, &mut rng);
    let (a_again, _) = uptime(31, 7, Behaviour::Slow, &mut rng);
    assert_eq!(
        BatchCircuit::form(&tree, 4, vec![a.clone(), b]).unwrap_err(),
        BatchError::Mixed {
            position: 1,
            field: "epoch"
        }
    );
    assert!(matches!(
        BatchCircuit::form(&tree, 4, vec![a.clone(), a_again]).unwrap_err(),
        BatchError::Tree {
            position: 1,
            source: TreeError::AlreadyCredited { .. }
        }
    ));
    assert_eq!(
        BatchCircuit::form(&tree, 1, vec![a.clone(), a.clone()]).unwrap_err(),
        BatchError::TooMany {
            got: 2,
            batch_size: 1
        }
    );
    assert_eq!(
        BatchCircuit::<UptimeCircuit>::form(&tree, 4, vec![]).unwrap_err(),
        BatchError::Empty
    );
    // The tree given is never changed.
    assert_eq!(tree.size(), 1);
}

/// Every witness is pinned down except the signature gadget's documented
/// hints: the batch has exactly as many free witnesses as its statements'
/// single-device circuits (padding repeats the first statement).
#[test]
fn every_witness_outside_the_signature_hints_is_constrained() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let tree = RewardsTree::new(DEPTH).unwrap();
    let (a, _) = uptime(41, 9, Behaviour::Honest, &mut rng);
    let (c, _) = uptime(42, 9, Behaviour::ForgedHead, &mut rng);
    let singles: usize = [&a, &a, &c]
        .iter()
        .map(|s| {
            R1cs::synthesize((*s).clone())
                .unwrap()
                .free_witnesses(delta())
                .len()
        })
        .sum();
    let b = BatchCircuit::form(&tree, 3, vec![a, c]).unwrap().circuit;
    let mut r1cs = R1cs::synthesize(b).unwrap();
    assert!(r1cs.is_satisfied());
    assert_eq!(r1cs.free_witnesses(delta()).len(), singles);
    assert!(r1cs.unused_witnesses().is_empty());
}

/// The bandwidth and coverage circuits in a batch: the statements' sample
/// epochs (full capacity) with padding, satisfiable and crediting the
/// reference's reward; bandwidth's registry root is in the header.
#[test]
fn bandwidth_and_coverage_positions_prove_their_statements() {
    use depin_statements_r1cs::bandwidth::BandwidthCircuit;
    use depin_statements_r1cs::coverage::CoverageCircuit;
    let tree = RewardsTree::new(DEPTH).unwrap();

    let bw = BandwidthCircuit::sample();
    let expected = *bw.expected();
    let b = BatchCircuit::form(&tree, 2, vec![bw]).unwrap().circuit;
    assert_eq!(b.header().kind, StatementKind::Bandwidth.code());
    assert_eq!(Some(b.header().registry_root), expected.registry_root);
    assert_eq!(b.public_data().devices()[0].reward, expected.reward);
    assert!(expected.reward > 0);
    assert!(satisfied(b.clone()));
    let mut other_root = b;
    other_root.header.registry_root += NativeFr::from(1u64);
    assert!(!satisfied(other_root));

    let cov = CoverageCircuit::sample().unwrap();
    let expected = *cov.expected();
    let b = BatchCircuit::form(&tree, 2, vec![cov]).unwrap().circuit;
    assert_eq!(b.header().registry_root, NativeFr::from(0u64));
    assert_eq!(b.public_data().devices()[0].reward, expected.reward);
    assert!(expected.reward > 0);
    assert!(satisfied(b));
}
