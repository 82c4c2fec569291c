use super::*;
use crate::testing::{delta, R1cs};
use ark_ff::{BigInt, UniformRand};
use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
use depin_crypto::babyjubjub::{Point, SUBORDER};
use depin_crypto::eddsa::Signature;
use depin_crypto::merkle::MerkleTree;
use depin_statements::public::HEADER_REWARD_SHIFT;
use depin_statements::{Evaluation, RejectReason, Verdict};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Instant;

const MIB: u64 = 1 << 20;
const EPOCH: u32 = 20_250;
const N_CLIENTS: usize = 4;
/// The device is also registered as a client, at this index (for the
/// self-dealing rule).
const DEVICE_INDEX: usize = N_CLIENTS;

struct World {
    device: PrivateKey,
    clients: Vec<PrivateKey>,
    outsider: PrivateKey,
    root: Fr,
    proofs: Vec<RegistryProof>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let device = PrivateKey::from_bytes([7; 32]);
        let clients: Vec<PrivateKey> = (0..N_CLIENTS as u8)
            .map(|i| PrivateKey::from_bytes([100 + i; 32]))
            .collect();
        let mut ids: Vec<Fr> = clients.iter().map(|k| k.public_key().id()).collect();
        ids.push(device.public_key().id());
        let (root, proofs) = registry(&ids);
        World {
            device,
            clients,
            outsider: PrivateKey::from_bytes([200; 32]),
            root,
            proofs,
        }
    })
}

fn policy() -> BandwidthPolicy {
    BandwidthPolicy {
        max_bytes_per_s: 1_000_000,
        rate_num: 1,
        rate_shift: 10,
        reward_cap: 1_000_000_000,
    }
}

fn cosign(receipt: SessionReceipt, key: &PrivateKey, proof: RegistryProof) -> CoSignedReceipt {
    CoSignedReceipt {
        receipt,
        client_key: key.public_key(),
        client_signature: key.sign(&receipt.message()),
        registry_proof: proof,
    }
}

/// An epoch as the tests own it.
#[derive(Clone)]
struct Epoch {
    epoch: u32,
    beacon: Fr,
    policy: BandwidthPolicy,
    receipts: Vec<CoSignedReceipt>,
    signed_head: SignedHead,
}

impl Epoch {
    /// `n` honest receipts, sessions `0..n`, `1 + j % 8` MiB over 10 s,
    /// with the device's signature on the chain.
    fn honest(n: u32) -> Self {
        let w = world();
        let device_id = w.device.public_key().id();
        let receipts = (0..n)
            .map(|j| {
                let c = j as usize % N_CLIENTS;
                let receipt = SessionReceipt {
                    device_id,
                    client_id: w.clients[c].public_key().id(),
                    epoch: EPOCH,
                    session: j,
                    bytes: MIB * u64::from(1 + j % 8),
                    duration_s: 10,
                };
                cosign(receipt, &w.clients[c], w.proofs[c])
            })
            .collect();
        let mut e = Epoch {
            epoch: EPOCH,
            beacon: Fr::from(918_273_645_546_372_819u64),
            policy: policy(),
            receipts,
            signed_head: SignedHead {
                head: Fr::ZERO,
                signature: w.device.sign(&Fr::ZERO),
            },
        };
        e.sign_chain();
        e
    }

    fn chain_head(&self) -> Fr {
        let mut chain = HashChain::bandwidth(world().device.public_key().id(), self.epoch);
        for r in &self.receipts {
            chain.push(r.receipt.message());
        }
        chain.head()
    }

    /// The device signs the head of the current receipts.
    fn sign_chain(&mut self) {
        let head = self.chain_head();
        self.signed_head = SignedHead {
            head,
            signature: world().device.sign(&head),
        };
    }

    fn input(&self) -> BandwidthInput<'_> {
        BandwidthInput {
            device: world().device.public_key(),
            epoch: self.epoch,
            beacon: self.beacon,
            policy: self.policy,
            registry_root: world().root,
            receipts: &self.receipts,
            signed_head: self.signed_head,
        }
    }

    fn evaluate(&self) -> Evaluation {
        evaluate(&self.input()).unwrap()
    }

    fn circuit(&self, capacity: usize) -> BandwidthCircuit {
        BandwidthCircuit::with_capacity(&self.input(), capacity).unwrap()
    }
}

fn header_shift() -> Fr {
    range::pow2(HEADER_REWARD_SHIFT as usize)
}

/// The circuit is satisfied with exactly the reference's public inputs,
/// and not with another reward or nullifier. Returns the number of
/// constraints.
fn check_equivalent(circuit: BandwidthCircuit, eval: &Evaluation) -> usize {
    let expected = eval.public.to_field_elements();
    assert_eq!(circuit.public_inputs(), expected);
    assert_eq!(circuit.expected(), &eval.public);
    let mut r1cs = R1cs::synthesize(circuit).unwrap();
    assert_eq!(r1cs.public_inputs(), &expected[..]);
    assert!(r1cs.is_satisfied(), "reference {:?}", eval);
    for (i, d) in [(0usize, header_shift()), (0, -header_shift()), (4, Fr::ONE)] {
        let mut wrong = expected.clone();
        wrong[i] += d;
        assert!(!r1cs.is_satisfied_with_public(&wrong), "input {i} + {d}");
    }
    r1cs.num_constraints()
}

// ------------------------------------------------------------------
// Random epochs.

fn random_fr(rng: &mut ChaCha8Rng) -> Fr {
    Fr::rand(rng)
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, options: &[T]) -> T {
    options[rng.gen_range(0..options.len())]
}

fn random_policy(rng: &mut ChaCha8Rng) -> BandwidthPolicy {
    let p = BandwidthPolicy {
        max_bytes_per_s: match rng.gen_range(0..5) {
            0 => 1,
            1 => rng.gen_range(1..=1000),
            2 => 1_000_000,
            3 => u32::MAX,
            _ => rng.gen_range(1..=u32::MAX),
        },
        rate_num: match rng.gen_range(0..4) {
            0 => 1,
            1 => rng.gen_range(1..=1000),
            2 => u32::MAX,
            _ => rng.gen_range(1..=u32::MAX),
        },
        rate_shift: match rng.gen_range(0..6) {
            0 => 0,
            1 => 64,
            2 => rng.gen_range(0..=64),
            _ => rng.gen_range(0..=12),
        },
        reward_cap: match rng.gen_range(0..4) {
            0 => 1,
            1 => rng.gen_range(1..=1_000_000),
            2 => u64::MAX,
            _ => rng.gen_range(1..=u64::MAX),
        },
    };
    assert_eq!(p.validate(), Ok(()));
    p
}

/// Ways to corrupt one receipt (each breaks the rule named, possibly
/// along with later ones).
const CORRUPTIONS: usize = 17;

/// One of the [`CORRUPTIONS`] of client `c`'s receipt `r` (made from
/// `receipt`), drawn from `rng`; `earlier` are the epoch's receipts so far.
fn corrupt(
    rng: &mut ChaCha8Rng,
    c: usize,
    mut receipt: SessionReceipt,
    mut r: CoSignedReceipt,
    earlier: &[CoSignedReceipt],
    allowed: u64,
) -> CoSignedReceipt {
    let w = world();
    let device_id = w.device.public_key().id();
    let other = (c + 1 + rng.gen_range(0..N_CLIENTS - 1)) % N_CLIENTS;
    match rng.gen_range(0..CORRUPTIONS) {
        0 => {
            let options = [random_fr(rng), w.clients[other].public_key().id()];
            receipt.device_id = pick(rng, &options);
            r = cosign(receipt, &w.clients[c], w.proofs[c]);
        }
        1 => {
            receipt.epoch ^= 1 << rng.gen_range(0..32);
            r = cosign(receipt, &w.clients[c], w.proofs[c]);
        }
        2 => {
            // Carries (and is signed by) another client's key.
            r = cosign(receipt, &w.clients[other], w.proofs[c]);
        }
        3 => {
            // Altered after signing.
            r.receipt.bytes ^= 1 << rng.gen_range(0..64);
        }
        4 => r.client_signature = w.clients[other].sign(&receipt.message()),
        5 => {
            // S + l: the same point equation, refused as S >= l.
            let mut s = r.client_signature.s;
            s.add_with_carry(&SUBORDER);
            r.client_signature.s = s;
        }
        6 => r.client_signature.s = BigInt([u64::MAX; 4]),
        7 => r.client_signature.r8.x += Fr::ONE,
        8 => r.client_signature.r8 = pick(rng, &[Point::IDENTITY, Point::BASE8]),
        9 => {
            // A key off the curve (or of small order), named
            // consistently by the receipt.
            let mut k = w.clients[c].public_key();
            if rng.gen_bool(0.5) {
                k.0.y += Fr::ONE;
            } else {
                k.0 = Point::IDENTITY;
            }
            receipt.client_id = k.id();
            r = cosign(receipt, &w.clients[c], w.proofs[c]);
            r.client_key = k;
        }
        10 => {
            let outsider = &w.outsider;
            receipt.client_id = outsider.public_key().id();
            r = cosign(receipt, outsider, w.proofs[c]);
        }
        11 => r.registry_proof = w.proofs[other],
        12 => {
            let level = rng.gen_range(0..REGISTRY_DEPTH);
            r.registry_proof.siblings[level] += Fr::ONE;
        }
        13 => {
            receipt.client_id = device_id;
            r = cosign(receipt, &w.device, w.proofs[DEVICE_INDEX]);
        }
        14 => {
            if allowed < u64::MAX {
                receipt.bytes = allowed + 1 + rng.gen_range(0..(u64::MAX - allowed));
            } else {
                receipt.duration_s = 0;
                receipt.bytes = rng.gen_range(1..=u64::MAX);
            }
            r = cosign(receipt, &w.clients[c], w.proofs[c]);
        }
        15 => {
            if let Some(e) = earlier.get(rng.gen_range(0..earlier.len().max(1))) {
                receipt.session = e.receipt.session;
                r = cosign(receipt, &w.clients[c], w.proofs[c]);
            }
        }
        _ => {
            // A registered client at a valid index, but the
            // index bits of another leaf.
            r.registry_proof.index ^= 1 << rng.gen_range(0..16);
        }
    }
    r
}

/// A random epoch of at most `capacity` receipts, each corrupted with
/// probability 0.35, and one time in four a broken chain or device
/// signature.
fn random_epoch(rng: &mut ChaCha8Rng, capacity: usize) -> Epoch {
    let w = world();
    let device_id = w.device.public_key().id();
    let policy = random_policy(rng);
    let options = [0, EPOCH, u32::MAX, rng.gen()];
    let epoch: u32 = pick(rng, &options);
    let n = if rng.gen_bool(0.1) {
        0
    } else {
        rng.gen_range(1..=capacity)
    };
    let mut receipts: Vec<CoSignedReceipt> = Vec::with_capacity(n);
    for _ in 0..n {
        let c = rng.gen_range(0..N_CLIENTS);
        let options = [0, rng.gen_range(1..=100), u32::MAX, rng.gen(), rng.gen()];
        let duration_s: u32 = pick(rng, &options);
        let allowed = u128::from(duration_s) * u128::from(policy.max_bytes_per_s);
        let allowed = u64::try_from(allowed).unwrap_or(u64::MAX);
        let bytes = match rng.gen_range(0..4) {
            0 => 0,
            1 => allowed,
            _ => rng.gen_range(0..=allowed),
        };
        let receipt = SessionReceipt {
            device_id,
            client_id: w.clients[c].public_key().id(),
            epoch,
            session: if rng.gen_bool(0.7) {
                rng.gen_range(0..3)
            } else {
                rng.gen()
            },
            bytes,
            duration_s,
        };
        let mut r = cosign(receipt, &w.clients[c], w.proofs[c]);
        if rng.gen_bool(0.35) {
            r = corrupt(rng, c, receipt, r, &receipts, allowed);
        }
        receipts.push(r);
    }
    let mut e = Epoch {
        epoch,
        beacon: random_fr(rng),
        policy,
        receipts,
        signed_head: SignedHead {
            head: Fr::ZERO,
            signature: w.device.sign(&Fr::ZERO),
        },
    };
    e.sign_chain();
    match rng.gen_range(0..16) {
        0 => {
            // A head that is not the chain's, properly signed.
            let head = random_fr(rng);
            e.signed_head = SignedHead {
                head,
                signature: w.device.sign(&head),
            };
        }
        1 => e.signed_head.signature = w.clients[0].sign(&e.signed_head.head),
        2 => {
            e.signed_head
                .signature
                .s
                .add_with_carry(&BigInt::from(1u64));
        }
        3 => {
            // The head of a truncated chain.
            if let Some(last) = e.receipts.pop() {
                e.sign_chain();
                e.receipts.push(last);
            }
        }
        _ => {}
    }
    e
}

/// Statistics over the random cases, to see that the generator reaches
/// every outcome.
#[derive(Default, Debug)]
struct Stats {
    cases: usize,
    paid: usize,
    capped: usize,
    epoch_rejected: usize,
    verdicts: std::collections::BTreeMap<String, usize>,
}

fn run_random_case(seed: u64, stats: &mut Stats) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let capacity = pick(&mut rng, &[2, 3, 3]);
    let e = random_epoch(&mut rng, capacity);
    let eval = e.evaluate();
    let mut circuit = e.circuit(capacity);
    if rng.gen_bool(0.25) {
        // Disabled slots' contents never matter.
        let honest = Epoch::honest(capacity as u32).receipts;
        for (slot, r) in circuit.slots.iter_mut().zip(honest) {
            if !slot.enabled {
                slot.record = r;
            }
        }
    }
    check_equivalent(circuit, &eval);
    stats.cases += 1;
    stats.paid += usize::from(eval.reward > 0);
    stats.capped += usize::from(eval.reward == e.policy.reward_cap);
    for v in &eval.verdicts {
        if matches!(
            v,
            Verdict::Rejected(RejectReason::ChainBroken)
                | Verdict::Rejected(RejectReason::BadSignature)
        ) && eval.verdicts.iter().all(|x| x == v)
            && eval.verdicts.len() > 1
        {
            stats.epoch_rejected += 1;
            break;
        }
    }
    for v in &eval.verdicts {
        *stats.verdicts.entry(format!("{v:?}")).or_default() += 1;
    }
}

#[test]
fn bandwidth_circuit_equivalent_on_random_epochs() {
    // Few cases per run (each synthesizes ~40k constraints); the
    // proptest below adds more with shrinking-friendly seeds.
    let start = Instant::now();
    let mut stats = Stats::default();
    for seed in 0..64u64 {
        run_random_case(seed, &mut stats);
    }
    println!("{stats:#?} in {:?}", start.elapsed());
    assert!(stats.paid > 10 && stats.paid < stats.cases);
    for reason in [
        "WrongDevice",
        "OutOfEpoch",
        "KeyMismatch",
        "BadSignature",
        "ClientNotRegistered",
        "SelfDealing",
        "ImplausibleThroughput",
        "Duplicate",
        "ChainBroken",
        "Accepted",
    ] {
        assert!(
            stats.verdicts.keys().any(|k| k.contains(reason)),
            "{reason} never reached: {stats:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn prop_bandwidth_circuit_matches_reference(seed in any::<u64>()) {
        let mut stats = Stats::default();
        run_random_case(seed, &mut stats);
    }
}

// ------------------------------------------------------------------
// One rule at a time.

/// Breaks one receipt of an honest 3-receipt epoch with `mutate`, checks
/// the reference's verdict, that the reward dropped, and that the
/// circuit proves exactly the reference's reward.
fn assert_excluded(index: usize, reason: RejectReason, mutate: impl FnOnce(&mut Epoch)) {
    let honest = Epoch::honest(3);
    let honest_reward = honest.evaluate().reward;
    let mut e = honest.clone();
    mutate(&mut e);
    e.sign_chain();
    let eval = e.evaluate();
    for (i, v) in eval.verdicts.iter().enumerate() {
        let want = if i == index {
            Verdict::Rejected(reason)
        } else {
            Verdict::Accepted
        };
        assert_eq!(*v, want, "receipt {i}");
    }
    assert_ne!(eval.reward, honest_reward);
    check_equivalent(e.circuit(3), &eval);
    // The honest reward is not provable for the broken epoch.
    let mut r1cs = R1cs::synthesize(e.circuit(3)).unwrap();
    let mut claim = eval.public.to_field_elements();
    claim[0] += Fr::from(honest_reward - eval.reward) * header_shift();
    assert!(!r1cs.is_satisfied_with_public(&claim));
}

fn resign(e: &mut Epoch, index: usize, client: usize, f: impl FnOnce(&mut SessionReceipt)) {
    let w = world();
    let mut receipt = e.receipts[index].receipt;
    f(&mut receipt);
    e.receipts[index] = cosign(receipt, &w.clients[client], w.proofs[client]);
}

#[test]
fn bandwidth_circuit_excludes_wrong_device() {
    assert_excluded(1, RejectReason::WrongDevice, |e| {
        resign(e, 1, 1, |r| r.device_id = Fr::from(1234u64));
    });
}

#[test]
fn bandwidth_circuit_excludes_out_of_epoch() {
    assert_excluded(2, RejectReason::OutOfEpoch, |e| {
        resign(e, 2, 2, |r| r.epoch = EPOCH - 1);
    });
}

#[test]
fn bandwidth_circuit_excludes_key_mismatch() {
    assert_excluded(0, RejectReason::KeyMismatch, |e| {
        let w = world();
        e.receipts[0] = cosign(e.receipts[0].receipt, &w.clients[3], w.proofs[0]);
    });
}

#[test]
fn bandwidth_circuit_excludes_bad_client_signature() {
    assert_excluded(1, RejectReason::BadSignature, |e| {
        e.receipts[1].receipt.bytes += 1;
    });
    // S >= l, with an otherwise valid equation.
    assert_excluded(2, RejectReason::BadSignature, |e| {
        e.receipts[2].client_signature.s.add_with_carry(&SUBORDER);
    });
    // R8 off the curve.
    assert_excluded(0, RejectReason::BadSignature, |e| {
        e.receipts[0].client_signature.r8.y += Fr::ONE;
    });
}

#[test]
fn bandwidth_circuit_excludes_client_not_registered() {
    assert_excluded(1, RejectReason::ClientNotRegistered, |e| {
        let w = world();
        let mut receipt = e.receipts[1].receipt;
        receipt.client_id = w.outsider.public_key().id();
        e.receipts[1] = cosign(receipt, &w.outsider, w.proofs[1]);
    });
    assert_excluded(0, RejectReason::ClientNotRegistered, |e| {
        e.receipts[0].registry_proof.index = 2;
    });
}

#[test]
fn bandwidth_circuit_excludes_self_dealing() {
    assert_excluded(2, RejectReason::SelfDealing, |e| {
        let w = world();
        let mut receipt = e.receipts[2].receipt;
        receipt.client_id = w.device.public_key().id();
        e.receipts[2] = cosign(receipt, &w.device, w.proofs[DEVICE_INDEX]);
    });
}

#[test]
fn bandwidth_circuit_excludes_implausible_throughput() {
    // 10 s at 1 MB/s allows 10^7 bytes.
    assert_excluded(1, RejectReason::ImplausibleThroughput, |e| {
        resign(e, 1, 1, |r| r.bytes = 10_000_001);
    });
    // The bound itself is plausible.
    let mut e = Epoch::honest(3);
    resign(&mut e, 1, 1, |r| r.bytes = 10_000_000);
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(eval.accepted(), 3);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_excludes_duplicate_session() {
    assert_excluded(2, RejectReason::Duplicate, |e| {
        resign(e, 2, 2, |r| r.session = 0);
    });
}

#[test]
fn bandwidth_circuit_counts_duplicate_of_rejected_receipt() {
    let mut e = Epoch::honest(3);
    e.receipts[0].receipt.bytes += 1; // bad signature: session 0 not accepted
    resign(&mut e, 2, 2, |r| r.session = 0);
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [
            Verdict::Rejected(RejectReason::BadSignature),
            Verdict::Accepted,
            Verdict::Accepted
        ]
    );
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_broken_chain() {
    let mut e = Epoch::honest(3);
    let last = e.receipts.pop().unwrap();
    e.sign_chain();
    e.receipts.push(last);
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::ChainBroken); 3]
    );
    assert_eq!(eval.reward, 0);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_pays_nothing_on_bad_device_signature() {
    let mut e = Epoch::honest(3);
    e.signed_head.signature = world().clients[0].sign(&e.signed_head.head);
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [Verdict::Rejected(RejectReason::BadSignature); 3]
    );
    assert_eq!(eval.reward, 0);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_caps_and_floors_the_reward() {
    for (rate_num, rate_shift, reward_cap) in [
        (1, 10, 1000),
        (3, 0, u64::MAX),
        (u32::MAX, 64, u64::MAX),
        (7, 33, 1),
    ] {
        let mut e = Epoch::honest(3);
        e.policy = BandwidthPolicy {
            rate_num,
            rate_shift,
            reward_cap,
            ..policy()
        };
        let eval = e.evaluate();
        check_equivalent(e.circuit(3), &eval);
    }
    // The largest total: three receipts of 2^64 - 1 bytes.
    let w = world();
    let mut e = Epoch::honest(3);
    e.policy = BandwidthPolicy {
        max_bytes_per_s: u32::MAX,
        rate_num: u32::MAX,
        rate_shift: 0,
        reward_cap: u64::MAX,
    };
    let most = u64::from(u32::MAX) * u64::from(u32::MAX);
    for (i, r) in e.receipts.iter_mut().enumerate() {
        let mut receipt = r.receipt;
        receipt.bytes = most;
        receipt.duration_s = u32::MAX;
        *r = cosign(receipt, &w.clients[i], w.proofs[i]);
    }
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(eval.accepted(), 3);
    assert_eq!(eval.reward, u64::MAX);
    check_equivalent(e.circuit(3), &eval);
}

#[test]
fn bandwidth_circuit_binds_every_public_input() {
    let e = Epoch::honest(2);
    let eval = e.evaluate();
    let mut r1cs = R1cs::synthesize(e.circuit(2)).unwrap();
    let good = eval.public.to_field_elements();
    assert!(r1cs.is_satisfied_with_public(&good));
    for i in 0..good.len() {
        let mut wrong = good.clone();
        wrong[i] += Fr::from(3u64);
        assert!(!r1cs.is_satisfied_with_public(&wrong), "input {i}");
    }
    // The override path: another reward is not provable.
    let mut circuit = e.circuit(2);
    let mut other = good.clone();
    other[0] += header_shift();
    circuit.public_override = Some(other.clone());
    assert_eq!(circuit.public_inputs(), other);
    assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
}

#[test]
fn bandwidth_circuit_refuses_too_many_receipts() {
    let e = Epoch::honest(3);
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.input(), 2),
        Err(CircuitError::Capacity {
            records: 3,
            capacity: 2
        })
    ));
    let mut e = Epoch::honest(1);
    e.receipts = vec![e.receipts[0]; 33];
    assert!(matches!(
        BandwidthCircuit::new(&e.input()),
        Err(CircuitError::Capacity {
            records: 33,
            capacity: 32
        })
    ));
    // A larger circuit does not lift the statement's capacity.
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.input(), 40),
        Err(CircuitError::Eval(_))
    ));
    // An invalid policy is refused like the reference refuses it.
    let mut e = Epoch::honest(1);
    e.policy.rate_shift = 65;
    assert!(matches!(
        BandwidthCircuit::with_capacity(&e.input(), 1),
        Err(CircuitError::Eval(_))
    ));
}

#[test]
fn bandwidth_circuit_refuses_padding_not_a_suffix() {
    let e = Epoch::honest(2);
    let eval = e.evaluate();
    let mut circuit = e.circuit(3);
    assert!(R1cs::synthesize(circuit.clone()).unwrap().is_satisfied());
    // A hole in the enabled prefix (the chain and the count would skip
    // the receipt in slot 1).
    circuit.slots.swap(1, 2);
    assert!(circuit.slots[2].enabled && !circuit.slots[1].enabled);
    assert_eq!(circuit.public_inputs(), eval.public.to_field_elements());
    assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
}

#[test]
fn bandwidth_circuit_unsatisfiable_for_invalid_policy() {
    // Forge a circuit whose private policy is invalid but whose public
    // policy hash matches it: the in-circuit checks refuse it.
    for bad in [
        BandwidthPolicy {
            rate_shift: 65,
            ..policy()
        },
        BandwidthPolicy {
            rate_num: 0,
            ..policy()
        },
        BandwidthPolicy {
            reward_cap: 0,
            ..policy()
        },
        BandwidthPolicy {
            max_bytes_per_s: 0,
            ..policy()
        },
    ] {
        let e = Epoch::honest(1);
        let mut circuit = e.circuit(1);
        circuit.policy = bad;
        circuit.public.policy_hash = bad.hash();
        let r1cs = R1cs::synthesize(circuit);
        assert!(r1cs.map_or(true, |r| !r.is_satisfied()), "{bad:?}");
    }
}

// ------------------------------------------------------------------
// Every witness is determined.

/// Only the EdDSA gadget's verification.
struct VerifyOnly {
    key: PublicKey,
    msg: Fr,
    sig: Signature,
}

/// Witnesses [`VerifyOnly`] allocates before the gadget.
const VERIFY_INPUTS: usize = 6;

impl ConstraintSynthesizer<Fr> for VerifyOnly {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let key = PublicKeyVar::new_witness(cs.clone(), || Ok(self.key))?;
        let msg = FpVar::new_witness(cs.clone(), || Ok(self.msg))?;
        let sig = SignatureVar::new_witness(cs.clone(), || Ok(self.sig))?;
        assert_eq!(cs.num_witness_variables(), VERIFY_INPUTS);
        eddsa::verify(&key, &msg, &sig).map(|_| ())
    }
}

/// The witnesses `eddsa::verify` leaves free on these inputs, as offsets
/// into its own witnesses, with its witness count.
fn verify_free_offsets(key: PublicKey, msg: Fr, sig: Signature) -> (Vec<usize>, usize) {
    let mut r1cs = R1cs::synthesize(VerifyOnly { key, msg, sig }).unwrap();
    assert!(r1cs.is_satisfied());
    let total = r1cs.z.len() - r1cs.num_instance;
    let free = r1cs.free_witnesses(delta());
    assert!(free.iter().all(|f| *f >= VERIFY_INPUTS));
    (
        free.iter().map(|f| f - VERIFY_INPUTS).collect(),
        total - VERIFY_INPUTS,
    )
}

/// Asserts that the only free witnesses are those `eddsa::verify` leaves
/// free on the same inputs. Returns how many there are.
fn assert_only_gadget_witnesses_free(circuit: &BandwidthCircuit) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let layout = circuit.synthesize(cs.clone()).unwrap();
    assert!(cs.is_satisfied().unwrap());
    let mut r1cs = R1cs::synthesize(circuit.clone()).unwrap();
    assert!(r1cs.is_satisfied());
    assert!(r1cs.unused_witnesses().is_empty());
    let free: BTreeSet<usize> = r1cs.free_witnesses(delta()).into_iter().collect();

    let mut calls: Vec<(PublicKey, Fr, Signature)> = circuit
        .slots
        .iter()
        .map(|s| {
            let r = &s.record;
            (r.client_key, r.receipt.message(), r.client_signature)
        })
        .collect();
    calls.push((
        circuit.device,
        circuit.signed_head.head,
        circuit.signed_head.signature,
    ));
    assert_eq!(layout.verify_ranges.len(), calls.len());
    let mut expected = BTreeSet::new();
    for (range, (key, msg, sig)) in layout.verify_ranges.iter().zip(calls) {
        let (offsets, len) = verify_free_offsets(key, msg, sig);
        assert_eq!(range.len(), len);
        expected.extend(offsets.into_iter().map(|o| range.start + o));
    }
    assert_eq!(free, expected);
    free.len()
}

#[test]
fn bandwidth_circuit_every_witness_constrained_honest() {
    let e = Epoch::honest(2);
    let n = assert_only_gadget_witnesses_free(&e.circuit(3));
    println!("{n} free witnesses, all inside eddsa::verify");
}

#[test]
fn bandwidth_circuit_every_witness_constrained_with_rejections() {
    let w = world();
    let mut e = Epoch::honest(3);
    e.receipts[0].receipt.bytes += 1; // bad signature
    resign(&mut e, 1, 1, |r| r.bytes = u64::MAX); // implausible
    resign(&mut e, 2, 2, |r| r.session = 1); // accepted: receipt 1 is rejected
    let mut receipt = e.receipts[2].receipt;
    receipt.client_id = w.outsider.public_key().id();
    e.receipts.push(cosign(receipt, &w.outsider, w.proofs[0])); // unregistered
    let mut receipt = e.receipts[2].receipt;
    receipt.client_id = w.clients[3].public_key().id();
    e.receipts.push(cosign(receipt, &w.clients[3], w.proofs[3])); // duplicate
    e.sign_chain();
    let eval = e.evaluate();
    assert_eq!(
        eval.verdicts,
        [
            Verdict::Rejected(RejectReason::BadSignature),
            Verdict::Rejected(RejectReason::ImplausibleThroughput),
            Verdict::Accepted,
            Verdict::Rejected(RejectReason::ClientNotRegistered),
            Verdict::Rejected(RejectReason::Duplicate),
        ]
    );
    check_equivalent(e.circuit(6), &eval);
    assert_only_gadget_witnesses_free(&e.circuit(6));
    // A broken epoch too.
    e.signed_head.signature = w.clients[0].sign(&e.signed_head.head);
    assert_only_gadget_witnesses_free(&e.circuit(6));
}

// ------------------------------------------------------------------
// Full capacity, setup mode, sample.

#[test]
fn bandwidth_registry_helper_matches_merkle_tree() {
    let leaves: Vec<Fr> = (1..=5u64).map(Fr::from).collect();
    let (root, proofs) = registry(&leaves);
    let tree = MerkleTree::new(REGISTRY_DEPTH, &leaves).unwrap();
    assert_eq!(root, tree.root());
    for (i, p) in proofs.iter().enumerate() {
        assert_eq!(p.siblings.to_vec(), tree.proof(i as u64).unwrap().siblings);
        assert!(p.verifies(&root, leaves[i]));
    }
}

#[test]
fn bandwidth_setup_mode_has_the_same_shape() {
    let circuit = Epoch::honest(2).circuit(3);
    let prove = ConstraintSystem::<Fr>::new_ref();
    circuit.clone().generate_constraints(prove.clone()).unwrap();
    let setup = ConstraintSystem::<Fr>::new_ref();
    setup.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(setup.clone()).unwrap();
    assert_eq!(setup.num_constraints(), prove.num_constraints());
    assert_eq!(setup.num_witness_variables(), prove.num_witness_variables());
    assert_eq!(setup.num_instance_variables(), 7);
}

fn count(capacity: usize) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    Epoch::honest(0)
        .circuit(capacity)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.num_constraints()
}

#[test]
fn bandwidth_constraint_counts() {
    for capacity in 1..=5 {
        let n = count(capacity);
        println!("capacity {capacity}: {n} constraints");
        assert_eq!(n, constraint_count(capacity));
    }
    assert_eq!(FULL_CAPACITY_CONSTRAINTS, 318_703);
    // Capacity 0 synthesizes too (no slot; the total is the constant 0).
    assert!(count(0) > 0);
}

#[test]
fn bandwidth_sample_is_satisfied_at_full_capacity() {
    let start = Instant::now();
    let circuit = BandwidthCircuit::sample();
    assert_eq!(circuit.capacity(), BANDWIDTH_CAPACITY);
    // The sample's public inputs are the reference's.
    let (parts, public) = sample_parts(&PrivateKey::from_bytes([0x42; 32]));
    let eval = evaluate(&BandwidthInput {
        device: parts.device,
        epoch: parts.epoch,
        beacon: parts.beacon,
        policy: parts.policy,
        registry_root: parts.registry_root,
        receipts: &parts.receipts,
        signed_head: parts.signed_head,
    })
    .unwrap();
    assert_eq!(eval.public, public);
    assert_eq!(eval.accepted(), BANDWIDTH_CAPACITY);
    assert!(eval.reward > 0);
    let n = check_equivalent(circuit, &eval);
    println!(
        "bandwidth at capacity {BANDWIDTH_CAPACITY}: {n} constraints ({:?})",
        start.elapsed()
    );
    assert_eq!(n, FULL_CAPACITY_CONSTRAINTS);
}
