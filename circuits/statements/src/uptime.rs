//! The uptime statement's native reference.
//!
//! Inputs: the device key, the epoch, the epoch beacon, the policy, the
//! heartbeats in submission order (at most [`UPTIME_CAPACITY`]) and the
//! device's signature on the last chain head.
//!
//! **Epoch-wide check.** The heartbeats' messages are chained from
//! `uptime_genesis(device_id, epoch)`. If the result differs from the signed
//! head, every heartbeat is `Rejected(ChainBroken)`; else if the device's
//! signature on the head does not verify, every heartbeat is
//! `Rejected(BadSignature)`. Either way the reward is 0. (A circuit checks
//! the signature on the recomputed head: both cases are "not valid" there.)
//!
//! **Per heartbeat**, in order, with `next_slot` starting at 0: the first
//! broken rule is the verdict.
//!
//! 1. `slot < slots_per_epoch`, else `OutOfEpoch`;
//! 2. `slot >= next_slot`, else `Duplicate` if `slot + 1 == next_slot`
//!    (the last counted slot again), otherwise `NotIncreasing`;
//! 3. `response == challenge(beacon, device_id, slot)`, else `WrongChallenge`;
//! 4. `latency_ms <= max_latency_ms`, else `LatencyTooHigh`;
//! 5. otherwise `Accepted`, and `next_slot = slot + 1`.
//!
//! The reward is [`UptimePolicy::reward`] of the number accepted.

use crate::eval::{check_capacity, EvalError, Evaluation};
use crate::policy::UptimePolicy;
use crate::public::{PublicInputs, StatementKind};
use crate::reason::{RejectReason, Verdict};
use crate::records::{challenge, HashChain, Heartbeat, SignedHead};
use crate::UPTIME_CAPACITY;
use alloc::vec::Vec;
use depin_crypto::eddsa::PublicKey;
use depin_crypto::Fr;

/// One device's uptime epoch, as the prover holds it.
#[derive(Debug, Clone, Copy)]
pub struct UptimeInput<'a> {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon.
    pub beacon: Fr,
    /// The network's policy.
    pub policy: UptimePolicy,
    /// Heartbeats in submission (chain) order.
    pub heartbeats: &'a [Heartbeat],
    /// The device's signature on the last chain head.
    pub signed_head: SignedHead,
}

/// Evaluates an uptime epoch: one verdict per heartbeat, the reward and the
/// public inputs.
pub fn evaluate(input: &UptimeInput<'_>) -> Result<Evaluation, EvalError> {
    input.policy.validate()?;
    check_capacity(StatementKind::Uptime, input.heartbeats.len())?;
    let device_id = input.device.id();

    let mut chain = HashChain::uptime(device_id, input.epoch);
    for hb in input.heartbeats {
        chain.push(hb.message());
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

    let mut verdicts = Vec::with_capacity(input.heartbeats.len());
    let mut counted: u32 = 0;
    match global {
        Some(reason) => verdicts.resize(input.heartbeats.len(), Verdict::Rejected(reason)),
        None => {
            // The smallest slot the next heartbeat may count for (33 bits).
            let mut next_slot: u64 = 0;
            for hb in input.heartbeats {
                let reason = check_heartbeat(&input.policy, next_slot, hb, || {
                    hb.response == challenge(input.beacon, device_id, hb.slot)
                });
                if reason.is_none() {
                    next_slot = u64::from(hb.slot) + 1;
                    counted += 1;
                }
                verdicts.push(Verdict::from(reason));
            }
        }
    }

    let reward = input.policy.reward(counted);
    Ok(Evaluation {
        verdicts,
        reward,
        public: PublicInputs::common(
            StatementKind::Uptime,
            input.epoch,
            device_id,
            input.policy.hash(),
            input.beacon,
            reward,
        ),
    })
}

/// The per-heartbeat rules 1 to 4 of the module docs, in order: the first
/// rule `hb` breaks, if any. `next_slot` is the smallest slot the heartbeat
/// may count for; `challenge_ok` says whether `hb.response` answers the
/// slot's challenge (asked only when rules 1 and 2 pass). The reference
/// and the prover's ingest both judge heartbeats with this function.
pub fn check_heartbeat(
    policy: &UptimePolicy,
    next_slot: u64,
    hb: &Heartbeat,
    challenge_ok: impl FnOnce() -> bool,
) -> Option<RejectReason> {
    let slot = u64::from(hb.slot);
    if hb.slot >= policy.slots_per_epoch {
        Some(RejectReason::OutOfEpoch)
    } else if slot < next_slot {
        if slot + 1 == next_slot {
            Some(RejectReason::Duplicate)
        } else {
            Some(RejectReason::NotIncreasing)
        }
    } else if !challenge_ok() {
        Some(RejectReason::WrongChallenge)
    } else if hb.latency_ms > policy.max_latency_ms {
        Some(RejectReason::LatencyTooHigh)
    } else {
        None
    }
}

/// Capacity of the statement (re-exported for callers of this module).
pub const CAPACITY: usize = UPTIME_CAPACITY;

#[cfg(test)]
mod tests;
