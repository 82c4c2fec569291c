//! The bandwidth statement circuit, equivalent to
//! [`depin_statements::bandwidth::evaluate`].
//!
//! # What is proven
//!
//! For private inputs (the device key, the policy, `capacity` receipt slots
//! each with an `enabled` bit, the receipt, the client key, the client
//! signature and the registry proof, and the device's signed chain head),
//! the public inputs are exactly those the native reference computes:
//!
//! | # | public input | bound by |
//! | --- | --- | --- |
//! | 0 | header `2 + 1 * 2^8 + epoch * 2^40 + reward * 2^72` | [`PublicVars::finish`] (epoch 32 bits, reward 64 bits) |
//! | 1 | `device_id` | `Poseidon(A.x, A.y)` of the private device key |
//! | 2 | `policy_hash` | `Poseidon(BANDWIDTH_POLICY, 1, max_bytes_per_s, rate_num, rate_shift, reward_cap)` of the private policy |
//! | 3 | `beacon` | no rule uses it; squared into one constraint so that it is bound |
//! | 4 | `nullifier` | `Poseidon(NULLIFIER, device_id, epoch, 2)` |
//! | 5 | `registry_root` | the root every registry proof is folded against |
//!
//! # Rules and why each is sound
//!
//! Every private integer is range-checked to its native width (epochs,
//! sessions and durations 32 bits, bytes 64 bits, the registry index 16
//! bits, policy fields 32/32/7/64 bits) before any comparison, so the
//! circuit reads the same numbers as the reference.
//!
//! - Policy: hashed in circuit and enforced equal to `policy_hash`;
//!   `max_bytes_per_s`, `rate_num`, `reward_cap` are enforced non-zero (an
//!   inverse exists) and `rate_shift <= 64`, so the circuit is satisfiable
//!   exactly for the policies `BandwidthPolicy::validate` accepts.
//! - Padding: `enabled[i] -> enabled[i-1]` (one constraint per slot), so the
//!   enabled slots are the submitted receipts, in order; a disabled slot
//!   enters neither the chain nor the count.
//! - Chain: `h_0 = Poseidon(BANDWIDTH_CHAIN, device_id, epoch)`,
//!   `h_i = enabled_i ? Poseidon(h_{i-1}, message_i) : h_{i-1}` with the
//!   message recomputed from the receipt's own fields, hence the native
//!   chain over the enabled receipts (Poseidon is a function).
//! - `valid = (h_N == signed head) AND verify(device key, signed head,
//!   device signature)`: the native `ChainBroken` / `BadSignature` checks;
//!   when false the reward is 0, as natively (`reward(0) = 0`).
//! - Per slot `ok = enabled AND r1 AND ... AND r7`, one bit per native rule:
//!   1. `receipt.device_id == device_id` (field equality);
//!   2. `receipt.epoch == epoch` (both 32-bit);
//!   3. `receipt.client_id == Poseidon(client key)`;
//!   4. `eddsa::verify(client key, message, signature)`: the gadget's bit is
//!      native verification, and never makes the system unsatisfiable;
//!   5. the registry path folded onto `client_id` (index as 16 bits) equals
//!      `registry_root`;
//!   6. `client_id != device_id`;
//!   7. `bytes <= duration_s * max_bytes_per_s`, a 64-bit comparison (the
//!      product of two 32-bit values is below `2^64`).
//!
//!   The order of rules 1 to 7 only changes the native diagnostic, never
//!   whether a receipt counts, so their AND is exact.
//! - Rule 8, duplicates: `dup_i = sum_{j<i} accepted_j * [session_j ==
//!   session_i]` and `accepted_i = ok_i * (1 - dup_i)`. By induction the
//!   accepted receipts have pairwise distinct sessions, so at most one term
//!   of the sum is 1, `dup_i` is a bit and `accepted_i` is the native
//!   verdict (496 pairs at capacity 32).
//! - Reward: `total = sum accepted_i * bytes_i` (below `capacity * 2^64`,
//!   exact in the field), `scaled = total * rate_num`, `2^rate_shift` as the
//!   product of the shift's 7 bits' factors, and `scaled = q * 2^shift + r`
//!   with `r < 2^shift` (`r` 64-bit) and `q` range-checked to the width of
//!   `scaled`: no term wraps the modulus, so `q` and `r` are the unique
//!   integer quotient and remainder. `reward = valid * min(q, reward_cap)`
//!   with a comparison on that width; [`PublicVars::finish`] range-checks it
//!   to 64 bits and packs it into the header.
//!
//! Equality bits use [`is_equal`], whose inverse hint is forced to 0 when
//! the values are equal, so that every witness of this circuit is
//! determined. The exception is inside `depin_gadgets::eddsa::verify`: its
//! arkworks `is_eq`/`is_zero`/`kary_and` multipliers are left free whenever
//! the compared values are equal (the tests pin down exactly those).
//!
//! # Cost
//!
//! [`constraint_count`]`(n) = 6,435 + 9,696 n + 4 n (n - 1) / 2 +
//! 2 bitlen(n)` (the tests check it for `n = 1..=5` and at full capacity):
//! **318,703 constraints at the statement capacity of 32**
//! ([`FULL_CAPACITY_CONSTRAINTS`]), 9,758 per receipt on average beyond the
//! epoch-wide part.
//!
//! | per receipt slot | constraints |
//! | --- | --- |
//! | client signature (`eddsa::verify`) | 4,707 |
//! | registry path, 16 levels | 3,856 |
//! | receipt message, Poseidon of 7 | 378 |
//! | chain step and select | 241 |
//! | client id, Poseidon of 2 | 240 |
//! | range checks (epoch, session, duration, bytes, index) | 181 |
//! | throughput product and 64-bit comparison | 67 |
//! | five equality bits | 15 |
//! | enabled bit, padding order, 7 ANDs, accepted, bytes counted | 11 |
//! | **slot total** ([`PER_SLOT_CONSTRAINTS`]; the first slot 2 fewer) | **9,696** |
//! | rule 8, per earlier slot ([`PER_PAIR_CONSTRAINTS`]) | 4 |
//!
//! The epoch-wide part ([`FIXED_CONSTRAINTS`] = 6,435) is the device
//! signature (4,707), the device id and the chain genesis (Poseidon), the
//! policy's range checks and hash, the reward's division and cap, the
//! header, the nullifier and the beacon's squaring.

use std::ops::Range;

use ark_bn254::Fr;
use ark_ff::{BigInteger, Field, PrimeField};
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use depin_crypto::eddsa::{PrivateKey, PublicKey};
use depin_gadgets::eddsa::{self, PublicKeyVar, SignatureVar};
use depin_gadgets::logic::{and, bit_width, enforce_nonzero, is_equal};
use depin_gadgets::{merkle, poseidon, range};
use depin_statements::bandwidth::{evaluate, BandwidthInput};
use depin_statements::padding::{pad_to, Slot};
use depin_statements::records::{CoSignedReceipt, SignedHead};
use depin_statements::sample::bandwidth as sample;
use depin_statements::{
    tags, BandwidthPolicy, PublicInputs, StatementKind, BANDWIDTH_CAPACITY, REGISTRY_DEPTH,
    STATEMENT_VERSION,
};

use crate::common::{
    witness_uint, CircuitError, PositionVars, PublicVars, SharedVars, StatementCircuit,
};

/// Constraints of one receipt slot, without rule 8's pairwise checks (the
/// first slot has 2 fewer: no padding-order constraint and no duplicate
/// gate).
pub const PER_SLOT_CONSTRAINTS: usize = 9_696;

/// Constraints of rule 8 per pair of slots.
pub const PER_PAIR_CONSTRAINTS: usize = 4;

/// Constraints of the epoch-wide part with the reward's comparisons at
/// their narrowest (each bit of `capacity` widens two range checks by one).
pub const FIXED_CONSTRAINTS: usize = 6_435;

/// Constraints of the circuit with `capacity >= 1` slots.
pub const fn constraint_count(capacity: usize) -> usize {
    FIXED_CONSTRAINTS
        + capacity * PER_SLOT_CONSTRAINTS
        + PER_PAIR_CONSTRAINTS * (capacity * capacity.saturating_sub(1) / 2)
        + 2 * bit_width(capacity)
}

/// Constraints at the statement capacity (32 receipts).
pub const FULL_CAPACITY_CONSTRAINTS: usize = constraint_count(BANDWIDTH_CAPACITY);

/// The bandwidth circuit with its witness.
#[derive(Debug, Clone)]
pub struct BandwidthCircuit {
    device: PublicKey,
    policy: BandwidthPolicy,
    slots: Vec<Slot<CoSignedReceipt>>,
    signed_head: SignedHead,
    public: PublicInputs,
    capacity: usize,
    /// Values that replace the public inputs at synthesis (tests use it to
    /// show that any other public input leaves the system unsatisfied).
    pub public_override: Option<Vec<Fr>>,
}

/// Where the EdDSA gadgets' witnesses lie (witness indices), in synthesis
/// order: one per slot, then the device's signature.
#[cfg_attr(not(test), allow(dead_code))]
struct Layout {
    verify_ranges: Vec<Range<usize>>,
}

impl BandwidthCircuit {
    /// The circuit at the statement capacity ([`BANDWIDTH_CAPACITY`]).
    pub fn new(input: &BandwidthInput<'_>) -> Result<Self, CircuitError> {
        Self::with_capacity(input, BANDWIDTH_CAPACITY)
    }

    /// The circuit with `capacity` slots (tests use small capacities; keys
    /// are made for [`BANDWIDTH_CAPACITY`]). The public inputs are the
    /// native reference's.
    pub fn with_capacity(
        input: &BandwidthInput<'_>,
        capacity: usize,
    ) -> Result<Self, CircuitError> {
        if input.receipts.len() > capacity {
            return Err(CircuitError::Capacity {
                records: input.receipts.len(),
                capacity,
            });
        }
        let public = evaluate(input)?.public;
        Ok(Self::from_parts(input, public, capacity))
    }

    fn from_parts(input: &BandwidthInput<'_>, public: PublicInputs, capacity: usize) -> Self {
        let slots = pad_to(input.receipts, capacity, &CoSignedReceipt::PADDING);
        BandwidthCircuit {
            device: input.device,
            policy: input.policy,
            slots,
            signed_head: input.signed_head,
            public,
            capacity,
            public_override: None,
        }
    }

    /// A deterministic honest epoch at full capacity: 32 receipts from four
    /// registered clients, signed by fixed keys (for key generation and
    /// benchmarks; `depin_statements::sample::bandwidth::sample_epoch`).
    pub fn sample() -> Self {
        Self::sample_with_key(&sample::sample_key())
    }

    /// [`BandwidthCircuit::sample`]'s epoch for the device of `key`
    /// (benchmarks of many distinct devices).
    pub fn sample_with_key(key: &PrivateKey) -> Self {
        let e = sample::sample_epoch(key);
        Self::from_parts(
            &e.as_input(),
            sample::sample_public_inputs(&e),
            BANDWIDTH_CAPACITY,
        )
    }

    /// Number of receipt slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The policy as range-checked witnesses, bound to the public policy
    /// hash.
    fn allocate_policy(
        &self,
        cs: &ConstraintSystemRef<Fr>,
        pv: &PublicVars,
    ) -> Result<PolicyVars, SynthesisError> {
        let p = &self.policy;
        let max_bps = witness_uint(cs, u64::from(p.max_bytes_per_s), 32)?;
        let rate_num = witness_uint(cs, u64::from(p.rate_num), 32)?;
        let shift = FpVar::new_witness(cs.clone(), || Ok(Fr::from(p.rate_shift)))?;
        let shift_bits = range::to_bits_le(&shift, 7)?;
        range::enforce_le(
            &shift,
            &FpVar::constant(Fr::from(BandwidthPolicy::MAX_RATE_SHIFT)),
            7,
        )?;
        let cap = witness_uint(cs, p.reward_cap, 64)?;
        for v in [&max_bps, &rate_num, &cap] {
            enforce_nonzero(v)?;
        }
        poseidon::hash(&[
            FpVar::constant(tags::fr(tags::BANDWIDTH_POLICY)),
            FpVar::constant(Fr::from(STATEMENT_VERSION)),
            max_bps.clone(),
            rate_num.clone(),
            shift.clone(),
            cap.clone(),
        ])?
        .enforce_equal(&pv.policy_hash)?;
        Ok(PolicyVars {
            max_bps,
            rate_num,
            shift,
            shift_bits,
            cap,
        })
    }

    /// Synthesizes the circuit and reports where the EdDSA gadgets are.
    fn synthesize(&self, cs: ConstraintSystemRef<Fr>) -> Result<Layout, SynthesisError> {
        let pv = PublicVars::allocate(cs.clone(), &self.public, self.public_override.as_deref())?;
        let (verify_ranges, _) = self.synthesize_with(cs, pv)?;
        Ok(Layout { verify_ranges })
    }

    /// Synthesizes the rules on `pv`, the single-device inputs or one
    /// position of a batch; returns the EdDSA gadgets' witness ranges and
    /// what a batch credits.
    fn synthesize_with(
        &self,
        cs: ConstraintSystemRef<Fr>,
        pv: PublicVars,
    ) -> Result<(Vec<Range<usize>>, PositionVars), SynthesisError> {
        let registry_root = pv.extra.clone().ok_or(SynthesisError::AssignmentMissing)?;
        // The beacon: no rule uses it, one squaring binds it.
        let _beacon_sq = pv.beacon.square()?;

        let PolicyVars {
            max_bps,
            rate_num,
            shift,
            shift_bits,
            cap,
        } = self.allocate_policy(&cs, &pv)?;

        // Device key and chain genesis.
        let device = PublicKeyVar::new_witness(cs.clone(), || Ok(self.device))?;
        device.id()?.enforce_equal(&pv.device_id)?;
        let mut head = poseidon::hash(&[
            FpVar::constant(tags::fr(tags::BANDWIDTH_CHAIN)),
            pv.device_id.clone(),
            pv.epoch.clone(),
        ])?;

        let mut verify_ranges = Vec::with_capacity(self.capacity + 1);
        // (accepted bit, session) of earlier slots.
        let mut earlier: Vec<(FpVar<Fr>, FpVar<Fr>)> = Vec::with_capacity(self.capacity);
        let mut total = FpVar::<Fr>::zero();
        let mut prev_enabled: Option<Boolean<Fr>> = None;

        for slot in &self.slots {
            let r = &slot.record;
            let rc = &r.receipt;
            let enabled = Boolean::new_witness(cs.clone(), || Ok(slot.enabled))?;
            if let Some(prev) = &prev_enabled {
                // enabled_i -> enabled_{i-1}.
                FpVar::from(enabled.clone())
                    .mul_equals(&(FpVar::one() - FpVar::from(prev.clone())), &FpVar::zero())?;
            }
            prev_enabled = Some(enabled.clone());

            let dev = FpVar::new_witness(cs.clone(), || Ok(rc.device_id))?;
            let client_id = FpVar::new_witness(cs.clone(), || Ok(rc.client_id))?;
            let epoch = witness_uint(&cs, u64::from(rc.epoch), 32)?;
            let session = witness_uint(&cs, u64::from(rc.session), 32)?;
            let bytes = witness_uint(&cs, rc.bytes, 64)?;
            let duration = witness_uint(&cs, u64::from(rc.duration_s), 32)?;
            let key = PublicKeyVar::new_witness(cs.clone(), || Ok(r.client_key))?;
            let sig = SignatureVar::new_witness(cs.clone(), || Ok(r.client_signature))?;
            let index = FpVar::new_witness(cs.clone(), || Ok(Fr::from(r.registry_proof.index)))?;
            let index_bits = range::to_bits_le(&index, REGISTRY_DEPTH)?;
            let siblings = r
                .registry_proof
                .siblings
                .iter()
                .map(|s| FpVar::new_witness(cs.clone(), || Ok(*s)))
                .collect::<Result<Vec<_>, _>>()?;

            let message = poseidon::hash(&[
                FpVar::constant(tags::fr(tags::RECEIPT)),
                dev.clone(),
                client_id.clone(),
                epoch.clone(),
                session.clone(),
                bytes.clone(),
                duration.clone(),
            ])?;

            // Rules 1 to 7.
            let device_ok = is_equal(&dev, &pv.device_id)?;
            let epoch_ok = is_equal(&epoch, &pv.epoch)?;
            let key_ok = is_equal(&client_id, &key.id()?)?;
            let start = cs.num_witness_variables();
            let sig_ok = eddsa::verify(&key, &message, &sig)?;
            verify_ranges.push(start..cs.num_witness_variables());
            let root = merkle::root_from_path(&client_id, &index_bits, &siblings)?;
            let registered = is_equal(&root, &registry_root)?;
            let not_self = !is_equal(&client_id, &pv.device_id)?;
            let allowed = &duration * &max_bps;
            let plausible = range::is_le(&bytes, &allowed, 64)?;
            let mut ok = enabled.clone();
            for bit in [
                device_ok, epoch_ok, key_ok, sig_ok, registered, not_self, plausible,
            ] {
                ok = and(&ok, &bit)?;
            }

            // Rule 8: at most one earlier accepted receipt shares the
            // session (accepted sessions are distinct), so `dup` is a bit.
            let mut dup = FpVar::<Fr>::zero();
            for (acc_j, session_j) in &earlier {
                let same = is_equal(&session, session_j)?;
                dup += acc_j * FpVar::from(same);
            }
            let accepted = if earlier.is_empty() {
                FpVar::from(ok)
            } else {
                FpVar::from(ok) * (FpVar::one() - dup)
            };
            total += &accepted * &bytes;
            earlier.push((accepted, session));

            // Chain over enabled slots only.
            let next = poseidon::hash2(&head, &message)?;
            head = FpVar::conditionally_select(&enabled, &next, &head)?;
        }

        // Epoch-wide checks.
        let claimed = FpVar::new_witness(cs.clone(), || Ok(self.signed_head.head))?;
        let head_ok = is_equal(&head, &claimed)?;
        let device_sig = SignatureVar::new_witness(cs.clone(), || Ok(self.signed_head.signature))?;
        let start = cs.num_witness_variables();
        let device_sig_ok = eddsa::verify(&device, &claimed, &device_sig)?;
        verify_ranges.push(start..cs.num_witness_variables());
        let valid = and(&head_ok, &device_sig_ok)?;

        // Reward: min(cap, floor(total * rate_num / 2^shift)), 0 unless valid.
        let total_bits = 64 + bit_width(self.capacity);
        let scaled_bits = total_bits + 32;
        let scaled = &total * &rate_num;
        let mut pow = FpVar::<Fr>::one();
        for (k, b) in shift_bits.iter().enumerate() {
            let factor = FpVar::from(b.clone()) * (range::pow2(1 << k) - Fr::ONE) + Fr::ONE;
            pow *= factor;
        }
        let quotient = FpVar::new_witness(cs.clone(), || {
            let (s, k) = (u128_of(&scaled)?, shift_of(&shift)?);
            Ok(Fr::from(s >> k))
        })?;
        let remainder = FpVar::new_witness(cs.clone(), || {
            let (s, k) = (u128_of(&scaled)?, shift_of(&shift)?);
            Ok(Fr::from(s & ((1u128 << k) - 1)))
        })?;
        range::enforce_bits(&quotient, scaled_bits)?;
        range::enforce_bits(&remainder, 64)?;
        range::enforce_less_than(&remainder, &pow, 65)?;
        quotient.mul_equals(&pow, &(&scaled - &remainder))?;
        let below_cap = range::is_le(&quotient, &cap, scaled_bits)?;
        let capped = FpVar::conditionally_select(&below_cap, &quotient, &cap)?;
        let reward = FpVar::from(valid) * capped;
        let position = pv.finish(StatementKind::Bandwidth, &reward)?;
        Ok((verify_ranges, position))
    }
}

impl ConstraintSynthesizer<Fr> for BandwidthCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs).map(|_| ())
    }
}

impl StatementCircuit for BandwidthCircuit {
    const KIND: StatementKind = StatementKind::Bandwidth;

    /// The public inputs the circuit allocates: the override if set, else
    /// the native reference's.
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
        let pv = PublicVars::in_batch(cs.clone(), &self.public, shared)?;
        Ok(self.synthesize_with(cs, pv)?.1)
    }
}

/// The bandwidth policy as circuit variables.
struct PolicyVars {
    max_bps: FpVar<Fr>,
    rate_num: FpVar<Fr>,
    shift: FpVar<Fr>,
    shift_bits: Vec<Boolean<Fr>>,
    cap: FpVar<Fr>,
}

/// The value of `x` as a `u128` (a witness-generation helper; values that
/// do not fit give an error).
fn u128_of(x: &FpVar<Fr>) -> Result<u128, SynthesisError> {
    let big = x.value()?.into_bigint();
    if big.num_bits() > 128 {
        return Err(SynthesisError::AssignmentMissing);
    }
    Ok(u128::from(big.0[0]) | u128::from(big.0[1]) << 64)
}

/// The value of the rate shift, at most 64.
fn shift_of(x: &FpVar<Fr>) -> Result<u32, SynthesisError> {
    let v = u128_of(x)?;
    u32::try_from(v)
        .ok()
        .filter(|k| *k <= BandwidthPolicy::MAX_RATE_SHIFT)
        .ok_or(SynthesisError::AssignmentMissing)
}

#[cfg(test)]
mod tests;
