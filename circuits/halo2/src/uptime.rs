//! The uptime statement as a halo2 circuit, equivalent to
//! `depin_statements::uptime::evaluate` and to the R1CS circuit
//! (`depin_statements_r1cs::uptime`), rule for rule.
//!
//! # What is proven
//!
//! For the private device key `A`, policy, `capacity` heartbeat slots (each
//! `enabled`, `slot`, `response`, `latency_ms`), signed head and signature
//! `(R8, S)`, the instance column holds exactly the public inputs the
//! native reference computes: `[header, device_id, policy_hash, beacon,
//! nullifier]`, `header = 1 + 1 * 2^8 + epoch * 2^40 + reward * 2^72`.
//! The reward is `valid ? policy.reward(count) : 0`, `count` the enabled
//! heartbeats that pass every rule, `valid` the epoch-wide check.
//!
//! - **Widths.** `slot`, `latency_ms`: 32 bits; the running `next_slot`:
//!   33 bits; policy: `slots_per_epoch`, `floor_slots` 7 bits,
//!   `max_latency_ms` 32, `base_reward`, `reward_per_slot`, `reward_cap` 64.
//!   Every comparison's operands are range-checked first.
//! - **Policy.** `Poseidon(UPTIME_POLICY, 1, fields...)` is the public
//!   `policy_hash`; **device**: `Poseidon(A.x, A.y)` is the public
//!   `device_id`.
//! - **Padding.** `enabled_{i+1} (1 - enabled_i) = 0`: enabled slots are a
//!   prefix; a disabled slot neither counts nor enters the chain.
//! - **Rules.** 1 `slot < slots_per_epoch`; 2 `slot >= next_slot`,
//!   `next_slot` moving to `slot + 1` only on a counted heartbeat; 3
//!   `response == Poseidon(CHALLENGE, beacon, device_id, slot)`; 4
//!   `latency_ms <= max_latency_ms`; counted = enabled and rules 1-4.
//! - **Epoch-wide.** The chain from `Poseidon(UPTIME_CHAIN, device_id,
//!   epoch)` over `Poseidon(HEARTBEAT, slot, response, latency_ms)` of the
//!   enabled slots; `valid = (signed head == head) AND verify(A, head,
//!   (R8, S))` with the EdDSA chip's bit.
//! - **Reward.** `above = floor_slots <= count`; `linear = base_reward +
//!   reward_per_slot * (above ? count - floor : 0)`; `capped = min(linear,
//!   reward_cap)` on `64 + bits(capacity)` bits; `reward = (valid AND
//!   above) * capped`, range-checked to 64 bits, then the header and the
//!   nullifier `Poseidon(NULLIFIER, device_id, epoch, 1)`.
//!
//! A heartbeat the reference rejects is excluded (its counted bit is zero);
//! the circuit is unsatisfied only when an instance differs from the
//! reference's public inputs.

use depin_crypto::eddsa::PublicKey;
use depin_statements::padding::Slot;
use depin_statements::public::{PublicInputs, StatementKind, STATEMENT_VERSION};
use depin_statements::records::{Heartbeat, SignedHead};
use depin_statements::sample::uptime::{sample_epoch, sample_key};
use depin_statements::uptime::{evaluate, UptimeInput};
use depin_statements::{tags, UptimePolicy, UPTIME_CAPACITY};
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use crate::eddsa::EddsaChip;
use crate::field::to_halo2;
use crate::statement::{bit_width, padded, Chips, PublicCells, StatementCircuit, StatementError};

/// Width of a slot number and of a latency (the native `u32`).
const U32_BITS: usize = 32;
/// Width of the running `next_slot` (at most `2^32`).
const NEXT_SLOT_BITS: usize = 33;
/// Width of `slots_per_epoch` and `floor_slots`.
const POLICY_SLOT_BITS: usize = 7;
/// Width of the reward fields and of the reward.
const REWARD_BITS: usize = 64;

/// The uptime statement circuit with its witness.
#[derive(Debug, Clone)]
pub struct UptimeCircuit {
    device: PublicKey,
    epoch: u32,
    beacon: depin_crypto::Fr,
    policy: UptimePolicy,
    /// Exactly `capacity` slots: the heartbeats in chain order, then
    /// disabled padding.
    slots: Vec<Slot<Heartbeat>>,
    signed_head: SignedHead,
    public: PublicInputs,
}

impl UptimeCircuit {
    /// The circuit at the statement capacity ([`UPTIME_CAPACITY`]).
    pub fn new(input: &UptimeInput<'_>) -> Result<Self, StatementError> {
        Self::with_capacity(input, UPTIME_CAPACITY)
    }

    /// The circuit with `capacity` heartbeat slots (tests use small ones).
    /// Refuses what the reference refuses and more heartbeats than
    /// `capacity`.
    pub fn with_capacity(input: &UptimeInput<'_>, capacity: usize) -> Result<Self, StatementError> {
        let evaluation = evaluate(input)?;
        let slots = padded(input.heartbeats, capacity, &Heartbeat::PADDING)?;
        Ok(UptimeCircuit {
            device: input.device,
            epoch: input.epoch,
            beacon: input.beacon,
            policy: input.policy,
            slots,
            signed_head: input.signed_head,
            public: evaluation.public,
        })
    }

    /// The deterministic honest epoch at full capacity
    /// (`depin_statements::sample::uptime::sample_epoch`), for key
    /// generation and benchmarks.
    pub fn sample() -> Result<Self, StatementError> {
        Self::new(&sample_epoch(&sample_key()).as_input())
    }

    /// Number of heartbeat slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slots as laid out (tests alter them to show what the circuit
    /// refuses).
    #[doc(hidden)]
    pub fn slots_mut(&mut self) -> &mut [Slot<Heartbeat>] {
        &mut self.slots
    }
}

impl StatementCircuit for UptimeCircuit {
    const KIND: StatementKind = StatementKind::Uptime;

    fn expected(&self) -> &PublicInputs {
        &self.public
    }

    fn synthesize(
        &self,
        ctx: &mut Context<Fr>,
        gate: &GateChip<Fr>,
    ) -> Result<Vec<AssignedValue<Fr>>, StatementError> {
        let chips = Chips::new(gate)?;
        let eddsa = EddsaChip::new(gate)?;
        let (g, range) = (gate, &chips.range);

        // The device key, the epoch and the beacon.
        let key = eddsa.load_public_key(ctx, &self.device);
        let device_id = eddsa.key_id(ctx, &key)?;
        let epoch = chips.witness_uint(ctx, self.epoch.into(), 32)?;
        let beacon = ctx.load_witness(to_halo2(&self.beacon));

        // The policy, hashed to the public policy hash.
        let p = &self.policy;
        let slots_per_epoch =
            chips.witness_uint(ctx, p.slots_per_epoch.into(), POLICY_SLOT_BITS)?;
        let floor_slots = chips.witness_uint(ctx, p.floor_slots.into(), POLICY_SLOT_BITS)?;
        let max_latency = chips.witness_uint(ctx, p.max_latency_ms.into(), U32_BITS)?;
        let base_reward = chips.witness_uint(ctx, p.base_reward, REWARD_BITS)?;
        let reward_per_slot = chips.witness_uint(ctx, p.reward_per_slot, REWARD_BITS)?;
        let reward_cap = chips.witness_uint(ctx, p.reward_cap, REWARD_BITS)?;
        let version = ctx.load_constant(Fr::from(u64::from(STATEMENT_VERSION)));
        let policy_hash = chips.tagged_hash(
            ctx,
            tags::UPTIME_POLICY,
            &[
                version,
                slots_per_epoch,
                floor_slots,
                max_latency,
                base_reward,
                reward_per_slot,
                reward_cap,
            ],
        )?;

        // The heartbeats.
        let mut head = chips.tagged_hash(ctx, tags::UPTIME_CHAIN, &[device_id, epoch])?;
        let mut next_slot = ctx.load_zero();
        let mut count = ctx.load_zero();
        let mut previous_enabled: Option<AssignedValue<Fr>> = None;
        for s in &self.slots {
            let hb = &s.record;
            let enabled = ctx.load_witness(Fr::from(u64::from(s.enabled)));
            g.assert_bit(ctx, enabled);
            if let Some(prev) = previous_enabled {
                // enabled_i -> enabled_{i-1}.
                let orphan = g.mul_not(ctx, prev, enabled);
                g.assert_is_const(ctx, &orphan, &Fr::ZERO);
            }
            let slot = chips.witness_uint(ctx, hb.slot.into(), U32_BITS)?;
            let response = ctx.load_witness(to_halo2(&hb.response));
            let latency = chips.witness_uint(ctx, hb.latency_ms.into(), U32_BITS)?;

            // Rules 1 to 4.
            let in_epoch = range.is_less_than(ctx, slot, slots_per_epoch, U32_BITS)?;
            let increasing = range.is_le(ctx, next_slot, slot, NEXT_SLOT_BITS)?;
            let challenge = chips.tagged_hash(ctx, tags::CHALLENGE, &[beacon, device_id, slot])?;
            let answered = g.is_equal(ctx, response, challenge);
            let prompt = range.is_le(ctx, latency, max_latency, U32_BITS)?;
            let mut counted = g.and(ctx, enabled, in_epoch);
            for bit in [increasing, answered, prompt] {
                counted = g.and(ctx, counted, bit);
            }

            let after = g.add(ctx, slot, Constant(Fr::ONE));
            next_slot = g.select(ctx, after, next_slot, counted);
            count = g.add(ctx, count, counted);

            // The chain over enabled heartbeats.
            let message = chips.tagged_hash(ctx, tags::HEARTBEAT, &[slot, response, latency])?;
            let stepped = chips.poseidon.hash(ctx, g, &[head, message])?;
            head = g.select(ctx, stepped, head, enabled);
            previous_enabled = Some(enabled);
        }

        // Epoch-wide: the signed head is the recomputed one and the device
        // signed it.
        let signed_head = ctx.load_witness(to_halo2(&self.signed_head.head));
        let head_matches = g.is_equal(ctx, signed_head, head);
        let signature = eddsa.load_signature(ctx, &self.signed_head.signature);
        let signed = eddsa.verify(ctx, &key, head, &signature)?;
        let valid = g.and(ctx, head_matches, signed);

        // Reward.
        let count_bits = bit_width(self.slots.len()).max(POLICY_SLOT_BITS);
        let above = range.is_le(ctx, floor_slots, count, count_bits)?;
        let excess = g.sub(ctx, count, floor_slots);
        let above_floor = g.mul(ctx, above, excess);
        let linear = g.mul_add(ctx, reward_per_slot, above_floor, base_reward);
        let within_cap = range.is_le(ctx, linear, reward_cap, REWARD_BITS + count_bits)?;
        let capped = g.select(ctx, linear, reward_cap, within_cap);
        let pays = g.and(ctx, valid, above);
        let reward = g.mul(ctx, pays, capped);

        let public = PublicCells {
            device_id,
            policy_hash,
            beacon,
            epoch,
        };
        chips.finish(ctx, StatementKind::Uptime, &public, reward, None)
    }
}
