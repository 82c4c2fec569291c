//! The uptime statement circuit, equivalent to
//! [`depin_statements::uptime::evaluate`].
//!
//! # What is proven
//!
//! For the private device key `A`, policy, `capacity` heartbeat slots (each
//! `enabled`, `slot`, `response`, `latency_ms`), signed head and signature
//! `(R8, S)`, the public inputs are exactly those the native reference
//! computes: `[header, device_id, policy_hash, beacon, nullifier]` with
//! `header = 1 + 1 * 2^8 + epoch * 2^40 + reward * 2^72` (uptime has no
//! kind-specific input). The reward is `valid ? policy.reward(count) : 0`,
//! where `count` is the number of enabled heartbeats that pass every rule
//! and `valid` is the epoch-wide check.
//!
//! Soundness, rule by rule (each value is range-checked to the width the
//! reference assumes before any comparison, so every comparison gadget's
//! precondition holds and every bit is the true comparison):
//!
//! - **Widths.** `slot` and `latency_ms` are 32-bit witnesses (the native
//!   `u32`), the running `next_slot` is at most `2^32` (33 bits), policy
//!   fields have their documented widths (`slots_per_epoch`, `floor_slots`:
//!   7 bits; `max_latency_ms`: 32; `base_reward`, `reward_per_slot`,
//!   `reward_cap`: 64).
//! - **Policy.** `Poseidon(UPTIME_POLICY, 1, fields...)` of the private
//!   fields is enforced equal to the public `policy_hash`, so the prover
//!   uses the network's policy.
//! - **Device.** `Poseidon(A.x, A.y)` is enforced equal to the public
//!   `device_id`; challenges, the chain genesis and the nullifier use it.
//! - **Padding.** `enabled_{i+1} * (1 - enabled_i) = 0`: enabled slots are a
//!   prefix; a disabled slot neither counts nor enters the chain.
//! - **Rule 1** `slot < slots_per_epoch`: `is_less_than` on 32 bits.
//! - **Rule 2** `slot >= next_slot`: `is_le(next_slot, slot)` on 33 bits,
//!   `next_slot` starting at 0 and becoming `counted ? slot + 1 : next_slot`
//!   (one selection), so a rejected heartbeat does not move it. `Duplicate`
//!   and `NotIncreasing` are the same bit here (the reason is diagnostic).
//! - **Rule 3** `response == Poseidon(CHALLENGE, beacon, device_id, slot)`:
//!   an equality bit whose inverse hint is forced to 0 when equal, so no
//!   witness is left free. The public `beacon` enters every challenge (a
//!   circuit without slots squares it instead, so that every public input
//!   is constrained).
//! - **Rule 4** `latency_ms <= max_latency_ms`: `is_le` on 32 bits.
//! - **Counted** = `enabled AND` rules 1-4 (pairwise ANDs, each output
//!   pinned); `count` is their sum.
//! - **Epoch-wide.** The chain `h_i = enabled_i ? Poseidon(h_{i-1}, m_i) :
//!   h_{i-1}` from `Poseidon(UPTIME_CHAIN, device_id, epoch)` over the
//!   messages `Poseidon(HEARTBEAT, slot, response, latency_ms)`;
//!   `valid = (signed head == h_n) AND eddsa::verify(A, h_n, (R8, S))`. The
//!   reference's `ChainBroken` (the signed head differs from the recomputed
//!   one) and `BadSignature` are both `valid = 0`; the head comparison
//!   makes the circuit agree with the reference even when a signature on
//!   the recomputed head comes with a different head value. The signature
//!   authenticates every enabled heartbeat, their order and their count.
//! - **Reward.** `above = floor_slots <= count`;
//!   `linear = base_reward + reward_per_slot * (above ? count - floor : 0)`
//!   (below `2^72` at capacity 96); `capped = linear <= reward_cap ? linear :
//!   reward_cap` (comparison on `64 + bits(capacity)` bits, as
//!   `linear <= (2^64 - 1)(capacity + 1) < 2^(64 + bits(capacity))`);
//!   `reward = (valid AND above) * capped`, then range-checked to 64 bits
//!   and packed in the header with the epoch; the nullifier is
//!   `Poseidon(NULLIFIER, device_id, epoch, 1)` ([`PublicVars::finish`]).
//!
//! A heartbeat the reference rejects is excluded (its `counted` bit is 0);
//! the system is unsatisfiable only when a public input differs from the
//! reference's. The policy's validity beyond the widths is not re-checked:
//! the contract accepts only the hashes of valid policies, and the
//! reference refuses to evaluate invalid ones.
//!
//! # Cost
//!
//! At the statement capacity (96 heartbeats) the circuit has
//! [`CONSTRAINTS_AT_CAPACITY`] = 103,096 constraints (the tests assert it):
//! 6,329 for the epoch plus [`CONSTRAINTS_PER_HEARTBEAT`] = 1,008 per
//! heartbeat, less one (the first slot has no prefix constraint).
//!
//! | per heartbeat | constraints |
//! |---|---|
//! | challenge, Poseidon of 4 (a constant tag) | 294 |
//! | message, Poseidon of 4 (a constant tag) | 294 |
//! | chain step, Poseidon of 2, and its selection | 241 |
//! | `slot`, `latency_ms`: 32-bit range checks | 66 |
//! | rules 1, 2, 4: comparisons on 32, 33, 32 bits | 103 |
//! | rule 3: equality | 3 |
//! | four ANDs, the `next_slot` selection | 5 |
//! | `enabled`: booleanity, prefix | 2 |
//!
//! | per epoch | constraints |
//! |---|---|
//! | EdDSA verification of the head | 4,707 |
//! | policy hash, Poseidon of 8 | 396 |
//! | key id, chain genesis, nullifier | 240 + 258 + 291 |
//! | range checks: policy 244, epoch 33, reward 65 | 342 |
//! | reward: floor and cap comparisons, products, selections, `valid` | 88 |
//! | equalities: device id, policy hash, header, nullifier, signed head | 7 |
//!
//! # Free witnesses
//!
//! Every witness this module allocates is pinned by the constraints. The
//! `depin-gadgets` EdDSA gadget leaves some inverse hints free: arkworks'
//! `FpVar::is_neq` (behind `is_eq`, `is_zero` and `Boolean::kary_and` of
//! more than 3 bits) accepts any multiplier when its operands are equal.
//! In [`eddsa::verify`] that is the hint of `PointVar::is_on_curve` for an
//! on-curve `A` and `R8`, of `x(4D) = 0` and of the final AND for a valid
//! signature, and of every run of 4 or more bits in the constant
//! comparisons (`S < p`, `S < l`, `c < p`) whose AND is true (always the
//! top run of `S < l` for a valid `S`). These do not change any bit the
//! gadget returns. The tests assert that the free witnesses of this circuit
//! are exactly those of a bare [`eddsa::verify`] on the same inputs.

use std::ops::Range;

use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    select::CondSelectGadget,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use depin_crypto::eddsa::{PrivateKey, PublicKey};
use depin_gadgets::logic::{bit_width, is_equal};
use depin_gadgets::{
    eddsa::{self, PublicKeyVar, SignatureVar},
    poseidon, range,
};
use depin_statements::padding::Slot;
use depin_statements::public::{PublicInputs, StatementKind, STATEMENT_VERSION};
use depin_statements::records::{HashChain, Heartbeat, SignedHead};
use depin_statements::sample::uptime as sample;
use depin_statements::uptime::{evaluate, UptimeInput};
use depin_statements::{tags, UptimePolicy, UPTIME_CAPACITY};

use crate::common::{
    padded, witness_uint, CircuitError, PositionVars, PublicVars, SharedVars, StatementCircuit,
};

/// Constraints of the circuit at the statement capacity (96 heartbeats).
pub const CONSTRAINTS_AT_CAPACITY: usize = 103_096;

/// Constraints per heartbeat slot.
pub const CONSTRAINTS_PER_HEARTBEAT: usize = 1_008;

/// Width of a slot number and of a latency (the native `u32`).
const U32_BITS: usize = 32;
/// Width of the running `next_slot` (at most `2^32`).
const NEXT_SLOT_BITS: usize = 33;
/// Width of `slots_per_epoch` and `floor_slots` (`1..=96`).
const POLICY_SLOT_BITS: usize = 7;
/// Width of the reward fields of the policy and of the reward.
const REWARD_BITS: usize = 64;

/// The uptime statement circuit with its witness.
#[derive(Debug, Clone)]
pub struct UptimeCircuit {
    /// The device's public key.
    device: PublicKey,
    /// The network's policy.
    policy: UptimePolicy,
    /// Exactly `capacity` slots: the heartbeats in chain order, then
    /// disabled padding.
    slots: Vec<Slot<Heartbeat>>,
    /// The device's signed head as the prover holds it.
    signed_head: SignedHead,
    /// The reference's public inputs.
    public: PublicInputs,
    /// Number of heartbeat slots.
    capacity: usize,
    /// Replaces the public input values (tests).
    public_override: Option<Vec<Fr>>,
}

/// The policy of [`UptimeCircuit::sample`]: 96 slots, floor 10, 200 ms,
/// `100 + 5 * (c - 10)` capped at 100,000.
pub use depin_statements::sample::uptime::SAMPLE_POLICY;

impl UptimeCircuit {
    /// The circuit at the statement capacity ([`UPTIME_CAPACITY`]).
    pub fn new(input: &UptimeInput<'_>) -> Result<Self, CircuitError> {
        Self::with_capacity(input, UPTIME_CAPACITY)
    }

    /// The circuit with `capacity` heartbeat slots (tests use small ones).
    /// Refuses what the reference refuses (invalid policy, more than
    /// [`UPTIME_CAPACITY`] heartbeats) and more heartbeats than `capacity`.
    pub fn with_capacity(input: &UptimeInput<'_>, capacity: usize) -> Result<Self, CircuitError> {
        let evaluation = evaluate(input)?;
        let slots = padded(input.heartbeats, capacity, &Heartbeat::PADDING)?;
        Ok(UptimeCircuit {
            device: input.device,
            policy: input.policy,
            slots,
            signed_head: input.signed_head,
            public: evaluation.public,
            capacity,
            public_override: None,
        })
    }

    /// A deterministic honest epoch at full capacity: a fixed device key,
    /// 96 heartbeats answering every slot, [`SAMPLE_POLICY`] (reward 530).
    /// Used for key generation and benchmarks.
    pub fn sample() -> Self {
        Self::sample_with_key(&sample::sample_key())
    }

    /// [`UptimeCircuit::sample`]'s epoch for the device of `key` (benchmarks
    /// of many distinct devices).
    pub fn sample_with_key(key: &PrivateKey) -> Self {
        let device = key.public_key();
        let device_id = device.id();
        let epoch = sample::SAMPLE_EPOCH;
        let beacon = sample::SAMPLE_BEACON;
        let policy = SAMPLE_POLICY;
        let mut chain = HashChain::uptime(device_id, epoch);
        let slots: Vec<Slot<Heartbeat>> = (0..UPTIME_CAPACITY as u32)
            .map(|slot| {
                let record = Heartbeat::answer(beacon, device_id, slot, 20 + slot % 150);
                chain.push(record.message());
                Slot {
                    enabled: true,
                    record,
                }
            })
            .collect();
        let head = chain.head();
        let counted = slots.len() as u32;
        UptimeCircuit {
            device,
            policy,
            slots,
            signed_head: SignedHead {
                head,
                signature: key.sign(&head),
            },
            public: PublicInputs::common(
                StatementKind::Uptime,
                epoch,
                device_id,
                policy.hash(),
                beacon,
                policy.reward(counted),
            ),
            capacity: UPTIME_CAPACITY,
            public_override: None,
        }
    }

    /// Number of heartbeat slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The same witness with other public input values (for tests that
    /// show any other public input is unsatisfiable).
    pub fn with_public_override(mut self, public: Vec<Fr>) -> Self {
        self.public_override = Some(public);
        self
    }

    /// Synthesizes the circuit; returns what the tests inspect.
    fn synthesize(&self, cs: ConstraintSystemRef<Fr>) -> Result<Trace, SynthesisError> {
        let public =
            PublicVars::allocate(cs.clone(), &self.public, self.public_override.as_deref())?;
        self.synthesize_with(cs, public)
    }

    /// Synthesizes the rules on `public`, the single-device inputs or one
    /// position of a batch.
    fn synthesize_with(
        &self,
        cs: ConstraintSystemRef<Fr>,
        public: PublicVars,
    ) -> Result<Trace, SynthesisError> {
        // The device key, bound to the public id.
        let key = PublicKeyVar::new_witness(cs.clone(), || Ok(self.device))?;
        key.id()?.enforce_equal(&public.device_id)?;

        // The policy, bound to the public hash.
        let p = &self.policy;
        let slots_per_epoch = witness_uint(&cs, p.slots_per_epoch.into(), POLICY_SLOT_BITS)?;
        let floor_slots = witness_uint(&cs, p.floor_slots.into(), POLICY_SLOT_BITS)?;
        let max_latency = witness_uint(&cs, p.max_latency_ms.into(), U32_BITS)?;
        let base_reward = witness_uint(&cs, p.base_reward, REWARD_BITS)?;
        let reward_per_slot = witness_uint(&cs, p.reward_per_slot, REWARD_BITS)?;
        let reward_cap = witness_uint(&cs, p.reward_cap, REWARD_BITS)?;
        poseidon::hash(&[
            FpVar::constant(tags::fr(tags::UPTIME_POLICY)),
            FpVar::constant(Fr::from(STATEMENT_VERSION)),
            slots_per_epoch.clone(),
            floor_slots.clone(),
            max_latency.clone(),
            base_reward.clone(),
            reward_per_slot.clone(),
            reward_cap.clone(),
        ])?
        .enforce_equal(&public.policy_hash)?;

        // The heartbeats.
        let mut head = poseidon::hash(&[
            FpVar::constant(tags::fr(tags::UPTIME_CHAIN)),
            public.device_id.clone(),
            public.epoch.clone(),
        ])?;
        let mut next_slot = FpVar::<Fr>::zero();
        let mut count = FpVar::<Fr>::zero();
        let mut previous_enabled: Option<Boolean<Fr>> = None;
        let mut counted_bits = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            let hb = &s.record;
            let enabled = Boolean::new_witness(cs.clone(), || Ok(s.enabled))?;
            if let Some(prev) = &previous_enabled {
                // enabled_i -> enabled_{i-1}.
                FpVar::from(enabled.clone()).mul_equals(&FpVar::from(!prev), &FpVar::zero())?;
            }
            let slot = witness_uint(&cs, hb.slot.into(), U32_BITS)?;
            let response = FpVar::new_witness(cs.clone(), || Ok(hb.response))?;
            let latency = witness_uint(&cs, hb.latency_ms.into(), U32_BITS)?;

            // Rules 1 to 4.
            let in_epoch = range::is_less_than(&slot, &slots_per_epoch, U32_BITS)?;
            let increasing = range::is_le(&next_slot, &slot, NEXT_SLOT_BITS)?;
            let challenge = poseidon::hash(&[
                FpVar::constant(tags::fr(tags::CHALLENGE)),
                public.beacon.clone(),
                public.device_id.clone(),
                slot.clone(),
            ])?;
            let answered = is_equal(&response, &challenge)?;
            let prompt = range::is_le(&latency, &max_latency, U32_BITS)?;
            let counted = &(&(&(&enabled & &in_epoch) & &increasing) & &answered) & &prompt;

            next_slot = FpVar::conditionally_select(&counted, &(&slot + Fr::ONE), &next_slot)?;
            count += FpVar::from(counted.clone());
            counted_bits.push(counted);

            // The chain over enabled heartbeats.
            let message = poseidon::hash(&[
                FpVar::constant(tags::fr(tags::HEARTBEAT)),
                slot,
                response,
                latency,
            ])?;
            let stepped = poseidon::hash2(&head, &message)?;
            head = FpVar::conditionally_select(&enabled, &stepped, &head)?;
            previous_enabled = Some(enabled);
        }

        if self.slots.is_empty() {
            // Without slots no challenge uses the beacon: constrain it
            // anyway, so that every public input is in a constraint.
            let _square = public.beacon.square()?;
        }

        // Epoch-wide: the signed head is the recomputed one and the device
        // signed it.
        let signed_head = FpVar::new_witness(cs.clone(), || Ok(self.signed_head.head))?;
        let head_matches = is_equal(&signed_head, &head)?;
        let signature = SignatureVar::new_witness(cs.clone(), || Ok(self.signed_head.signature))?;
        let start = cs.num_witness_variables();
        let signed = eddsa::verify(&key, &head, &signature)?;
        let eddsa_witnesses = start..cs.num_witness_variables();
        let valid = &head_matches & &signed;

        // Reward.
        let count_bits = bit_width(self.capacity).max(POLICY_SLOT_BITS);
        let above = range::is_le(&floor_slots, &count, count_bits)?;
        let above_floor = FpVar::from(above.clone()) * (&count - &floor_slots);
        let linear = &base_reward + &reward_per_slot * &above_floor;
        let within_cap = range::is_le(&linear, &reward_cap, REWARD_BITS + count_bits)?;
        let capped = FpVar::conditionally_select(&within_cap, &linear, &reward_cap)?;
        let pays = &valid & &above;
        let reward = FpVar::from(pays) * &capped;
        let position = public.finish(StatementKind::Uptime, &reward)?;
        Ok(Trace {
            eddsa_witnesses,
            counted: counted_bits,
            valid,
            reward,
            position,
        })
    }
}

/// What synthesis computed: the tests compare it with the reference and
/// locate the signature gadget's witnesses.
#[cfg_attr(not(test), allow(dead_code))]
struct Trace {
    /// Witness indices allocated by `eddsa::verify`.
    eddsa_witnesses: Range<usize>,
    /// Per slot, whether the heartbeat counts (before the epoch-wide check).
    counted: Vec<Boolean<Fr>>,
    /// The epoch-wide check.
    valid: Boolean<Fr>,
    /// The reward.
    reward: FpVar<Fr>,
    /// The device id and reward a batch credits.
    position: PositionVars,
}

impl ConstraintSynthesizer<Fr> for UptimeCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs).map(|_| ())
    }
}

impl StatementCircuit for UptimeCircuit {
    const KIND: StatementKind = StatementKind::Uptime;

    fn public_inputs(&self) -> Vec<Fr> {
        self.public_override
            .clone()
            .unwrap_or_else(|| self.public.to_field_elements())
    }

    fn expected(&self) -> &PublicInputs {
        &self.public
    }

    fn synthesize_in_batch(
        &self,
        cs: ConstraintSystemRef<Fr>,
        shared: &SharedVars,
    ) -> Result<PositionVars, SynthesisError> {
        let public = PublicVars::in_batch(cs.clone(), &self.public, shared)?;
        Ok(self.synthesize_with(cs, public)?.position)
    }
}

#[cfg(test)]
mod tests;
