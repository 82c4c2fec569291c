use super::*;
use crate::padding::{pad, unpad};
use crate::records::{RegistryProof, SessionReceipt};
use crate::testutil::{bandwidth_policy, device_key, BEACON, EPOCH};
use crate::REGISTRY_DEPTH;
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::merkle::MerkleTree;

const MIB: u64 = 1 << 20;

/// Four registered clients (and the device itself, registered as a
/// client at index 4, for the self-dealing test); one unregistered.
struct World {
    device: PrivateKey,
    clients: Vec<PrivateKey>,
    outsider: PrivateKey,
    tree: MerkleTree,
}

impl World {
    fn new() -> Self {
        let device = device_key();
        let clients: Vec<PrivateKey> = (0..4u8)
            .map(|i| PrivateKey::from_bytes([100 + i; 32]))
            .collect();
        let mut leaves: Vec<Fr> = clients.iter().map(|k| k.public_key().id()).collect();
        leaves.push(device.public_key().id());
        let tree = MerkleTree::new(REGISTRY_DEPTH, &leaves).unwrap();
        World {
            device,
            clients,
            outsider: PrivateKey::from_bytes([200; 32]),
            tree,
        }
    }

    fn proof(&self, index: u16) -> RegistryProof {
        let p = self.tree.proof(u64::from(index)).unwrap();
        RegistryProof {
            index,
            siblings: p.siblings.try_into().unwrap(),
        }
    }

    /// An honest receipt of `bytes` over 10 s, co-signed by `client`
    /// (registered at `index`).
    fn receipt(
        &self,
        client: &PrivateKey,
        index: u16,
        session: u32,
        bytes: u64,
    ) -> CoSignedReceipt {
        let receipt = SessionReceipt {
            device_id: self.device.public_key().id(),
            client_id: client.public_key().id(),
            epoch: EPOCH,
            session,
            bytes,
            duration_s: 10,
        };
        self.cosign(receipt, client, index)
    }

    fn cosign(&self, receipt: SessionReceipt, client: &PrivateKey, index: u16) -> CoSignedReceipt {
        CoSignedReceipt {
            receipt,
            client_key: client.public_key(),
            client_signature: client.sign(&receipt.message()),
            registry_proof: self.proof(index),
        }
    }

    /// `n` honest receipts, sessions `0..n`, `1 + j % 8` MiB each.
    fn honest(&self, n: u32) -> Vec<CoSignedReceipt> {
        (0..n)
            .map(|j| {
                let c = (j % 4) as usize;
                self.receipt(&self.clients[c], c as u16, j, MIB * u64::from(1 + j % 8))
            })
            .collect()
    }

    fn input<'a>(
        &self,
        receipts: &'a [CoSignedReceipt],
        policy: BandwidthPolicy,
    ) -> BandwidthInput<'a> {
        let device = self.device.public_key();
        let mut chain = HashChain::bandwidth(device.id(), EPOCH);
        for r in receipts {
            chain.push(r.receipt.message());
        }
        BandwidthInput {
            device,
            epoch: EPOCH,
            beacon: BEACON,
            policy,
            registry_root: self.tree.root(),
            receipts,
            signed_head: SignedHead {
                head: chain.head(),
                signature: self.device.sign(&chain.head()),
            },
        }
    }

    fn run(&self, receipts: &[CoSignedReceipt]) -> Evaluation {
        evaluate(&self.input(receipts, bandwidth_policy())).unwrap()
    }
}

/// Reward under the test policy: one unit per KiB.
fn reward_of(receipts: &[CoSignedReceipt], skip: &[usize]) -> u64 {
    let total: u64 = receipts
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(_, r)| r.receipt.bytes)
        .sum();
    total >> 10
}

fn assert_only_rejected(e: &Evaluation, index: usize, reason: RejectReason) {
    for (i, v) in e.verdicts.iter().enumerate() {
        if i == index {
            assert_eq!(*v, Verdict::Rejected(reason), "receipt {i}");
        } else {
            assert_eq!(*v, Verdict::Accepted, "receipt {i}");
        }
    }
}

#[test]
fn bandwidth_honest_epoch_sums_every_receipt() {
    let w = World::new();
    let rs = w.honest(32);
    let e = w.run(&rs);
    assert_eq!(e.verdicts, alloc::vec![Verdict::Accepted; 32]);
    // 4 rounds of 1+2+...+8 MiB = 144 MiB = 147456 KiB.
    assert_eq!(e.reward, 147_456);
    assert_eq!(e.reward, reward_of(&rs, &[]));
    let mut expected = PublicInputs::common(
        StatementKind::Bandwidth,
        EPOCH,
        w.device.public_key().id(),
        bandwidth_policy().hash(),
        BEACON,
        147_456,
    );
    expected.registry_root = Some(w.tree.root());
    assert_eq!(e.public, expected);
    let f = e.public.to_field_elements();
    assert_eq!(f.len(), 6);
    assert_eq!(f[5], w.tree.root());
}

#[test]
fn bandwidth_rejects_wrong_device() {
    let w = World::new();
    let mut rs = w.honest(8);
    let mut r = rs[2].receipt;
    r.device_id = Fr::from(1234u64);
    rs[2] = w.cosign(r, &w.clients[2], 2);
    let e = w.run(&rs);
    assert_only_rejected(&e, 2, RejectReason::WrongDevice);
    assert_eq!(e.reward, reward_of(&rs, &[2]));
}

#[test]
fn bandwidth_rejects_receipt_out_of_epoch() {
    let w = World::new();
    let mut rs = w.honest(8);
    let mut r = rs[3].receipt;
    r.epoch = EPOCH - 1;
    rs[3] = w.cosign(r, &w.clients[3], 3);
    let e = w.run(&rs);
    assert_only_rejected(&e, 3, RejectReason::OutOfEpoch);
    assert_eq!(e.reward, reward_of(&rs, &[3]));
}

#[test]
fn bandwidth_rejects_key_mismatch() {
    let w = World::new();
    let mut rs = w.honest(8);
    // Receipt names client 1 but is signed by (and carries) client 0's key.
    rs[1].client_key = w.clients[0].public_key();
    rs[1].client_signature = w.clients[0].sign(&rs[1].receipt.message());
    let e = w.run(&rs);
    assert_only_rejected(&e, 1, RejectReason::KeyMismatch);
    assert_eq!(e.reward, reward_of(&rs, &[1]));
}

#[test]
fn bandwidth_rejects_bad_client_signature() {
    let w = World::new();
    let mut rs = w.honest(8);
    // Signature over different bytes (the device inflated the receipt).
    rs[5].receipt.bytes += 1;
    let e = w.run(&rs);
    assert_only_rejected(&e, 5, RejectReason::BadSignature);
    assert_eq!(e.reward, reward_of(&rs, &[5]));
}

#[test]
fn bandwidth_rejects_client_not_registered() {
    let w = World::new();
    let mut rs = w.honest(8);
    // A valid co-signature from a key outside the registry.
    rs[6] = w.receipt(&w.outsider, 6 % 4, 6, MIB);
    let e = w.run(&rs);
    assert_only_rejected(&e, 6, RejectReason::ClientNotRegistered);
    assert_eq!(e.reward, reward_of(&rs, &[6]));
    // A registered client with another leaf's proof.
    let mut rs = w.honest(8);
    rs[0].registry_proof = w.proof(1);
    assert_only_rejected(&w.run(&rs), 0, RejectReason::ClientNotRegistered);
}

#[test]
fn bandwidth_rejects_self_dealing() {
    let w = World::new();
    let mut rs = w.honest(8);
    rs[4] = w.receipt(&w.device, 4, 4, MIB);
    let e = w.run(&rs);
    assert_only_rejected(&e, 4, RejectReason::SelfDealing);
    assert_eq!(e.reward, reward_of(&rs, &[4]));
}

#[test]
fn bandwidth_rejects_implausible_throughput() {
    let w = World::new();
    let mut rs = w.honest(8);
    // 10 s at 1 MB/s allows 10^7 bytes.
    rs[7] = w.receipt(&w.clients[3], 3, 7, 10_000_001);
    let e = w.run(&rs);
    assert_only_rejected(&e, 7, RejectReason::ImplausibleThroughput);
    assert_eq!(e.reward, reward_of(&rs, &[7]));
    let mut rs = w.honest(8);
    rs[7] = w.receipt(&w.clients[3], 3, 7, 10_000_000);
    assert_eq!(w.run(&rs).accepted(), 8);
}

#[test]
fn bandwidth_rejects_duplicate_session() {
    let w = World::new();
    let mut rs = w.honest(8);
    // Session 2 again, from another client.
    rs.push(w.receipt(&w.clients[0], 0, 2, MIB));
    let e = w.run(&rs);
    assert_only_rejected(&e, 8, RejectReason::Duplicate);
    assert_eq!(e.reward, reward_of(&rs, &[8]));
}

#[test]
fn bandwidth_duplicate_of_rejected_receipt_is_accepted() {
    let w = World::new();
    let mut rs = w.honest(8);
    rs[2].receipt.bytes += 1; // breaks the signature: session 2 not accepted
    rs.push(w.receipt(&w.clients[2], 2, 2, MIB));
    let e = w.run(&rs);
    assert_only_rejected(&e, 2, RejectReason::BadSignature);
    assert_eq!(e.reward, reward_of(&rs, &[2]));
}

#[test]
fn bandwidth_bad_device_signature_rejects_every_receipt() {
    let w = World::new();
    let rs = w.honest(8);
    let mut input = w.input(&rs, bandwidth_policy());
    input.signed_head.signature = w.clients[0].sign(&input.signed_head.head);
    let e = evaluate(&input).unwrap();
    assert_eq!(
        e.verdicts,
        alloc::vec![Verdict::Rejected(RejectReason::BadSignature); 8]
    );
    assert_eq!(e.reward, 0);
    assert_eq!(e.public.reward, 0);
}

#[test]
fn bandwidth_broken_chain_rejects_every_receipt() {
    let w = World::new();
    let rs = w.honest(8);
    let input = w.input(&rs, bandwidth_policy());
    let fewer = &rs[..7];
    let e = evaluate(&BandwidthInput {
        receipts: fewer,
        ..input
    })
    .unwrap();
    assert_eq!(
        e.verdicts,
        alloc::vec![Verdict::Rejected(RejectReason::ChainBroken); 7]
    );
    assert_eq!(e.reward, 0);
}

#[test]
fn bandwidth_reward_is_capped() {
    let w = World::new();
    let rs = w.honest(8);
    let p = BandwidthPolicy {
        reward_cap: 1000,
        ..bandwidth_policy()
    };
    assert_eq!(evaluate(&w.input(&rs, p)).unwrap().reward, 1000);
}

#[test]
fn bandwidth_capacity_overflow_is_typed_error() {
    let w = World::new();
    let rs = alloc::vec![w.honest(1)[0]; 33];
    assert_eq!(
        evaluate(&w.input(&rs, bandwidth_policy())),
        Err(EvalError::CapacityExceeded {
            kind: StatementKind::Bandwidth,
            records: 33,
            capacity: 32
        })
    );
}

#[test]
fn bandwidth_padding_changes_nothing() {
    let w = World::new();
    let rs = w.honest(5);
    let mut slots = pad(StatementKind::Bandwidth, &rs, &CoSignedReceipt::PADDING).unwrap();
    assert_eq!(slots.len(), 32);
    slots[20].record = rs[0];
    let unpadded = unpad(StatementKind::Bandwidth, &slots).unwrap();
    assert_eq!(w.run(&unpadded), w.run(&rs));
}
