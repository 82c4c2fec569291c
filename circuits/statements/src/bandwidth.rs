//! The bandwidth statement's native reference.
//!
//! Inputs: the device key, the epoch, the epoch beacon, the policy, the
//! client registry root, the co-signed receipts in submission order (at most
//! [`BANDWIDTH_CAPACITY`]) and the device's signature on the last head of its
//! receipt chain.
//!
//! **Epoch-wide check.** The receipts' messages are chained from
//! `bandwidth_genesis(device_id, epoch)`. If the result differs from the
//! signed head, every receipt is `Rejected(ChainBroken)`; else if the
//! device's signature on the head does not verify, every receipt is
//! `Rejected(BadSignature)`. Either way the reward is 0.
//!
//! **Per receipt**, in order; the first broken rule is the verdict:
//!
//! 1. `receipt.device_id == device_id`, else `WrongDevice`;
//! 2. `receipt.epoch == epoch`, else `OutOfEpoch`;
//! 3. `receipt.client_id == Poseidon(client_key)`, else `KeyMismatch`;
//! 4. the client's signature on the receipt's message verifies, else
//!    `BadSignature`;
//! 5. `client_id` is a leaf of the registry at the proof's index under
//!    `registry_root`, else `ClientNotRegistered`;
//! 6. `client_id != device_id`, else `SelfDealing`;
//! 7. `bytes <= duration_s * max_bytes_per_s`, else `ImplausibleThroughput`;
//! 8. no earlier **accepted** receipt has the same `session`, else
//!    `Duplicate`;
//! 9. otherwise `Accepted`.
//!
//! The reward is [`BandwidthPolicy::reward`] of the accepted receipts' total
//! bytes.

use crate::eval::{check_capacity, EvalError, Evaluation};
use crate::policy::BandwidthPolicy;
use crate::public::{PublicInputs, StatementKind};
use crate::reason::{RejectReason, Verdict};
use crate::records::{CoSignedReceipt, HashChain, SessionReceipt, SignedHead};
use crate::BANDWIDTH_CAPACITY;
use alloc::vec::Vec;
use depin_crypto::eddsa::PublicKey;
use depin_crypto::Fr;

/// Capacity of the statement.
pub const CAPACITY: usize = BANDWIDTH_CAPACITY;

/// One device's bandwidth epoch, as the prover holds it.
#[derive(Debug, Clone, Copy)]
pub struct BandwidthInput<'a> {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon (a common public input; no bandwidth rule uses it).
    pub beacon: Fr,
    /// The network's policy.
    pub policy: BandwidthPolicy,
    /// Root of the client registry (a public input).
    pub registry_root: Fr,
    /// Co-signed receipts in submission (chain) order.
    pub receipts: &'a [CoSignedReceipt],
    /// The device's signature on the last head of its receipt chain.
    pub signed_head: SignedHead,
}

/// Evaluates a bandwidth epoch: one verdict per receipt, the reward and the
/// public inputs.
pub fn evaluate(input: &BandwidthInput<'_>) -> Result<Evaluation, EvalError> {
    input.policy.validate()?;
    check_capacity(StatementKind::Bandwidth, input.receipts.len())?;
    let device_id = input.device.id();

    let mut chain = HashChain::bandwidth(device_id, input.epoch);
    for r in input.receipts {
        chain.push(r.receipt.message());
    }
    let global = if chain.head() != input.signed_head.head {
        Some(RejectReason::ChainBroken)
    } else if input
        .device
        .verify(&input.signed_head.head, &input.signed_head.signature)
        .is_err()
    {
        Some(RejectReason::BadSignature)
    } else {
        None
    };

    let mut verdicts: Vec<Verdict> = Vec::with_capacity(input.receipts.len());
    let mut total_bytes: u128 = 0;
    match global {
        Some(reason) => verdicts.resize(input.receipts.len(), Verdict::Rejected(reason)),
        None => {
            for (j, r) in input.receipts.iter().enumerate() {
                let rc = &r.receipt;
                let reason = check_receipt(
                    &input.policy,
                    input.epoch,
                    device_id,
                    rc,
                    &mut ReferenceFacts {
                        receipt: r,
                        registry_root: &input.registry_root,
                        // Pairwise against earlier accepted receipts.
                        earlier: input.receipts[..j].iter().zip(&verdicts),
                    },
                );
                if reason.is_none() {
                    total_bytes += u128::from(r.receipt.bytes);
                }
                verdicts.push(Verdict::from(reason));
            }
        }
    }

    let reward = input.policy.reward(total_bytes);
    let mut public = PublicInputs::common(
        StatementKind::Bandwidth,
        input.epoch,
        device_id,
        input.policy.hash(),
        input.beacon,
        reward,
    );
    public.registry_root = Some(input.registry_root);
    Ok(Evaluation {
        verdicts,
        reward,
        public,
    })
}

/// What the per-receipt rules need beyond the receipt's fields. The native
/// reference computes each fact from its input; the prover's ingest looks
/// them up (batch-verified signatures, the client registry in its store,
/// the sessions already accepted in the device's chain). Each is asked at
/// most once, and only when the rules before it pass.
pub trait ReceiptFacts {
    /// Rule 3: `client_id == Poseidon(client_key)`.
    fn key_matches(&mut self) -> bool;
    /// Rule 4: the client's signature on the receipt's message verifies.
    fn signature_valid(&mut self) -> bool;
    /// Rule 5: the client is in the epoch's registry.
    fn registered(&mut self) -> bool;
    /// Rule 8: an earlier **accepted** receipt has the same session.
    fn duplicate_session(&mut self) -> bool;
}

/// The per-receipt rules 1 to 8 of the module docs, in order: the first
/// rule `receipt` breaks, if any. The reference and the prover's ingest
/// both judge receipts with this function.
pub fn check_receipt(
    policy: &BandwidthPolicy,
    epoch: u32,
    device_id: Fr,
    receipt: &SessionReceipt,
    facts: &mut impl ReceiptFacts,
) -> Option<RejectReason> {
    if receipt.device_id != device_id {
        Some(RejectReason::WrongDevice)
    } else if receipt.epoch != epoch {
        Some(RejectReason::OutOfEpoch)
    } else if !facts.key_matches() {
        Some(RejectReason::KeyMismatch)
    } else if !facts.signature_valid() {
        Some(RejectReason::BadSignature)
    } else if !facts.registered() {
        Some(RejectReason::ClientNotRegistered)
    } else if receipt.client_id == device_id {
        Some(RejectReason::SelfDealing)
    } else if !policy.throughput_plausible(receipt.bytes, receipt.duration_s) {
        Some(RejectReason::ImplausibleThroughput)
    } else if facts.duplicate_session() {
        Some(RejectReason::Duplicate)
    } else {
        None
    }
}

/// The reference's facts: computed from the co-signed receipt, its registry
/// proof and the verdicts of the receipts before it.
struct ReferenceFacts<'a, I> {
    receipt: &'a CoSignedReceipt,
    registry_root: &'a Fr,
    earlier: I,
}

impl<'a, I: Iterator<Item = (&'a CoSignedReceipt, &'a Verdict)>> ReceiptFacts
    for ReferenceFacts<'a, I>
{
    fn key_matches(&mut self) -> bool {
        self.receipt.receipt.client_id == self.receipt.client_key.id()
    }

    fn signature_valid(&mut self) -> bool {
        let r = self.receipt;
        r.client_key
            .verify(&r.receipt.message(), &r.client_signature)
            .is_ok()
    }

    fn registered(&mut self) -> bool {
        self.receipt
            .registry_proof
            .verifies(self.registry_root, self.receipt.receipt.client_id)
    }

    fn duplicate_session(&mut self) -> bool {
        let session = self.receipt.receipt.session;
        self.earlier
            .by_ref()
            .any(|(e, v)| v.is_accepted() && e.receipt.session == session)
    }
}

#[cfg(test)]
mod tests;
