//! The coverage statement circuit, equivalent to
//! [`depin_statements::coverage::evaluate`].
//!
//! # What is proven
//!
//! For the public inputs `[header, device_id, policy_hash, beacon,
//! nullifier, cell]` (`header = 3 + version * 2^8 + epoch * 2^40 +
//! reward * 2^72`), there exist a device key `A` with
//! `Poseidon(A.x, A.y) = device_id`, a coverage policy hashing to
//! `policy_hash`, a claim with its signature and [`CoverageCircuit::capacity`]
//! slots of signed witness reports, enabled slots first, such that `cell`
//! is the coarse cell of the claimed location and `reward` is what the native
//! reference pays for the enabled reports. Records the reference rejects are
//! excluded (their `accepted` bit is 0); they never make the system
//! unsatisfiable. Only public inputs that differ from the reference's do.
//!
//! # Soundness, rule by rule (each in the reference's order)
//!
//! Every private integer is range-checked to its native width before it is
//! compared or combined: epochs and coordinates to 32 bits (their bits are
//! kept), `rssi_dbm` to a signed 32-bit value (`rssi + 2^31` in 32 bits),
//! policy fields to their widths. Equalities are pinned is-zero tests (the
//! inverse hint is forced to 0 when the difference is 0, so no witness is
//! left free).
//!
//! - **Policy**: its eight fields are hashed in circuit exactly as
//!   `CoveragePolicy::hash` (tag, version, fields; `eirp_dbm` modulo `p`)
//!   and the hash equals the public `policy_hash`; the validity rules are
//!   enforced (`min_witnesses - 1` in 4 bits; `reward_per_witness`,
//!   `reward_cap`, `k_q32` non-zero with an inverse; `min_distance_m <
//!   max_distance_m < 2^31`; `eirp_dbm + 100` and `100 - eirp_dbm` in 8
//!   bits; `cell_bits` a one-hot over `8..=31`).
//! - **Device**: `Poseidon(A.x, A.y)` is enforced equal to `device_id`;
//!   `beacon_id = Poseidon(BEACON_ID, beacon, device_id)` is computed.
//! - **Cell**: `cell_bits = sum k s_k` for booleans `s_8..s_31` summing to
//!   one (unique), and `x >> cell_bits = sum_k s_k sum_{i >= k} x_i 2^(i-k)`
//!   from the 32 bits of `x` (any `u32`, in range or not, as natively), same
//!   for `y`; `cell = cx * 2^32 + cy` is enforced equal to the public input.
//! - **Claim** (one bit `valid`, the AND of): 1. `claim.device_id ==
//!   device_id`; 2. `claim.epoch == epoch` (both 32-bit); 3. `claim.beacon_id
//!   == beacon_id`; 4. the EdDSA gadget's bit on the claim message
//!   `Poseidon(COVERAGE_CLAIM, device_id', epoch', x, y, beacon_id')` (exact
//!   native verification, never unsatisfiable); 5. bit 31 of `x` and of `y`
//!   is 0.
//! - **Per slot** (`ok_j`, the AND of `enabled_j` and): 1. `epoch_j ==
//!   epoch`; 2. the witness signature on `Poseidon(WITNESS_REPORT,
//!   witness_id, x, y, rssi, beacon_id_j, epoch_j)`; 3. `witness_id !=
//!   device_id`; 4. `beacon_id_j == beacon_id`; 5. bit 31 of `x_j` and `y_j`
//!   is 0; 6. `rssi + 2^31` has bits 15..30 all zero with bit 31 set, or all
//!   one with bit 31 clear, i.e. `-2^15 <= rssi < 2^15`; 7./8. `min_d^2 <
//!   d2` and `d2 < max_d^2` as 63-bit comparisons; 9. the path-loss gadget's
//!   `plausible` bit. The distance and path loss are computed on safe
//!   stand-ins that always satisfy the gadgets' domains (the low 31 bits of
//!   each coordinate, and the low 16 bits of `rssi + 2^31` read as a signed
//!   16-bit value); they equal the real values whenever rules 5 and 6 hold,
//!   and otherwise the slot is rejected anyway, so the order of the rules
//!   does not matter for the count.
//! - **Duplicates** (rule 10): `accepted_j = ok_j AND NOT dup_j` with
//!   `dup_j = (prod_{i<j} (1 + accepted_i (wid_j - wid_i - 1)) == 0)`: a
//!   factor is zero exactly when an earlier **accepted** report has the same
//!   witness id, as in the reference.
//! - **Padding**: `enabled` is boolean and `enabled_{j+1} -> enabled_j`;
//!   a disabled slot has `ok_j = 0`, so it neither counts nor blocks a later
//!   witness as a duplicate.
//! - **Reward**: `v = sum accepted_j`; `reward = (valid AND v >=
//!   min_witnesses) ? min(reward_cap, reward_per_witness * v) : 0`, with the
//!   comparisons on range-checked integers (`v <= capacity`, the product
//!   below `2^69`); the header and nullifier are bound by
//!   [`PublicVars::finish`].
//!
//! # Cost
//!
//! [`COVERAGE_CONSTRAINTS`] = 99,913 constraints at the statement capacity
//! of 16 reports (measured by the tests): 6,956 for the public inputs, the
//! policy, the device, the claim and the cell; 5,792 for the first slot and
//! `5,795 + 2j` for slot `j >= 1` (the duplicate test grows with the
//! earlier slots). Of a slot, 4,707 constraints are the EdDSA verification,
//! 240 the witness id, 381 the report message, 185 the path-loss check, 130
//! the two distance comparisons and about 140 the range checks.
//!
//! # Known free witnesses
//!
//! [`depin_gadgets::eddsa::verify`] leaves some inverse hints free: its
//! on-curve tests (`PointVar::is_on_curve`, via `FpVar::is_one`), its
//! small-order and equation tests (`FpVar::is_zero` on `x(4P)`) and its
//! `Boolean::kary_and` of more than three bits (an `is_eq` of the sum) use
//! arkworks' `is_neq`, whose multiplier is unconstrained when the two sides
//! are equal (e.g. a valid signature's `x(4D) = 0`). They do not affect the
//! bit (it is still exact), only the uniqueness of the witness. The tests
//! assert that the free witnesses of this circuit are exactly those of the
//! gadget run on its own.

use crate::common::{
    padded, witness_uint, CircuitError, PositionVars, PublicVars, SharedVars, StatementCircuit,
};
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
use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_gadgets::eddsa::{self, PublicKeyVar, SignatureVar};
use depin_gadgets::logic::{and_all, bit_width, enforce_nonzero, is_zero};
use depin_gadgets::{geo, poseidon, range};
use depin_statements::coverage::{evaluate, CoverageInput, CAPACITY};
use depin_statements::padding::Slot;
use depin_statements::records::{CoverageClaim, Location, SignedWitnessReport};
use depin_statements::sample::coverage as sample;
use depin_statements::{tags, CoveragePolicy, PublicInputs, StatementKind, STATEMENT_VERSION};
use std::ops::Range;

/// Constraints of the coverage circuit at the statement capacity (16).
pub const COVERAGE_CONSTRAINTS: usize = 99_913;

/// Smallest and largest `cell_bits` ([`CoveragePolicy::CELL_BITS_RANGE`]).
const CELL_BITS_MIN: usize = 8;
const CELL_BITS_MAX: usize = 31;
/// Bits of epochs and raw coordinates (native `u32`).
const U32_BITS: usize = 32;
/// Bits of `min_witnesses - 1` (`min_witnesses` in `1..=16`).
const MIN_WITNESSES_BITS: usize = 4;
/// Bits of the reward fields.
const U64_BITS: usize = 64;
/// `eirp_dbm + 100` and `100 - eirp_dbm` fit in 8 bits.
const EIRP_OFFSET: u64 = 100;
const EIRP_BITS: usize = 8;

/// The coverage circuit with its witness.
#[derive(Clone, Debug)]
pub struct CoverageCircuit {
    device: PublicKey,
    policy: CoveragePolicy,
    claim: CoverageClaim,
    claim_signature: Signature,
    slots: Vec<Slot<SignedWitnessReport>>,
    public: PublicInputs,
    /// Replaces the public inputs' values (tests use it to show that any
    /// other public input is unsatisfiable); `None` uses the reference's.
    pub public_override: Option<Vec<Fr>>,
}

impl CoverageCircuit {
    /// The circuit of `input` at the statement capacity (16 reports).
    pub fn new(input: &CoverageInput<'_>) -> Result<Self, CircuitError> {
        Self::with_capacity(input, CAPACITY)
    }

    /// The circuit of `input` with `capacity` slots (tests use small ones).
    /// The reference evaluates `input` first: an input it refuses (invalid
    /// policy, more than 16 reports) is an error, as is one with more reports
    /// than `capacity`.
    pub fn with_capacity(input: &CoverageInput<'_>, capacity: usize) -> Result<Self, CircuitError> {
        let evaluation = evaluate(input)?;
        let slots = padded(input.reports, capacity, &SignedWitnessReport::PADDING)?;
        Ok(CoverageCircuit {
            device: input.device,
            policy: input.policy,
            claim: input.claim,
            claim_signature: input.claim_signature,
            slots,
            public: evaluation.public,
            public_override: None,
        })
    }

    /// A deterministic honest epoch at full capacity from fixed keys
    /// (`depin_statements::sample::coverage::sample_epoch`): 16 witnesses
    /// 1 km to 4 km east of the device, 110 dB of loss at 27 dBm and
    /// 915 MHz, paying 160. Used for key generation and benchmarks.
    pub fn sample() -> Result<Self, CircuitError> {
        Self::sample_with_key(&sample::sample_key())
    }

    /// [`CoverageCircuit::sample`]'s epoch for the device of `device`
    /// (benchmarks of many distinct devices).
    pub fn sample_with_key(device: &PrivateKey) -> Result<Self, CircuitError> {
        Self::new(&sample::sample_epoch(device).as_input())
    }

    /// Number of report slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Synthesizes the circuit, recording the witness-index range of every
    /// EdDSA verification (the claim's first, then one per slot).
    fn synthesize(
        &self,
        cs: ConstraintSystemRef<Fr>,
        verify_ranges: &mut Vec<Range<usize>>,
    ) -> Result<(), SynthesisError> {
        let pv = PublicVars::allocate(cs.clone(), &self.public, self.public_override.as_deref())?;
        self.synthesize_with(cs, pv, verify_ranges).map(|_| ())
    }

    /// Synthesizes the rules on `pv`, the single-device inputs or one
    /// position of a batch.
    fn synthesize_with(
        &self,
        cs: ConstraintSystemRef<Fr>,
        pv: PublicVars,
        verify_ranges: &mut Vec<Range<usize>>,
    ) -> Result<PositionVars, SynthesisError> {
        let policy = PolicyVars::allocate(&cs, &self.policy)?;
        policy.hash()?.enforce_equal(&pv.policy_hash)?;

        // The device and its beacon id.
        let device = PublicKeyVar::new_witness(cs.clone(), || Ok(self.device))?;
        device.id()?.enforce_equal(&pv.device_id)?;
        let expected_beacon = poseidon::hash(&[
            FpVar::constant(tags::fr(tags::BEACON_ID)),
            pv.beacon.clone(),
            pv.device_id.clone(),
        ])?;

        // The claim.
        let claim = &self.claim;
        let claim_device = FpVar::new_witness(cs.clone(), || Ok(claim.device_id))?;
        let claim_epoch = witness_uint(&cs, claim.epoch.into(), U32_BITS)?;
        let home = CoordVar::allocate(&cs, claim.location)?;
        let claim_beacon = FpVar::new_witness(cs.clone(), || Ok(claim.beacon_id))?;
        let claim_sig = SignatureVar::new_witness(cs.clone(), || Ok(self.claim_signature))?;
        let claim_msg = poseidon::hash(&[
            FpVar::constant(tags::fr(tags::COVERAGE_CLAIM)),
            claim_device.clone(),
            claim_epoch.clone(),
            home.x.value.clone(),
            home.y.value.clone(),
            claim_beacon.clone(),
        ])?;
        let start = cs.num_witness_variables();
        let claim_signed = eddsa::verify(&device, &claim_msg, &claim_sig)?;
        verify_ranges.push(start..cs.num_witness_variables());
        let valid = and_all(&[
            is_zero(&(&claim_device - &pv.device_id))?,
            is_zero(&(&claim_epoch - &pv.epoch))?,
            is_zero(&(&claim_beacon - &expected_beacon))?,
            claim_signed,
            home.in_range(),
        ])?;

        // The public cell, from all 32 bits of each coordinate.
        let cell = home.x.shr(&policy.cell_bits_hot)? * range::pow2(32)
            + home.y.shr(&policy.cell_bits_hot)?;
        let cell_input = pv.extra.as_ref().ok_or(SynthesisError::AssignmentMissing)?;
        cell.enforce_equal(cell_input)?;

        // The reports.
        let mut accepted: Vec<(Boolean<Fr>, FpVar<Fr>)> = Vec::with_capacity(self.slots.len());
        let mut previous_enabled: Option<Boolean<Fr>> = None;
        for slot in &self.slots {
            let enabled = Boolean::new_witness(cs.clone(), || Ok(slot.enabled))?;
            if let Some(prev) = &previous_enabled {
                // enabled_j -> enabled_{j-1}.
                FpVar::from(enabled.clone())
                    .mul_equals(&(FpVar::one() - FpVar::from(prev.clone())), &FpVar::zero())?;
            }
            previous_enabled = Some(enabled.clone());

            let r = &slot.record.report;
            let witness = PublicKeyVar::new_witness(cs.clone(), || Ok(r.witness))?;
            let witness_id = witness.id()?;
            let at = CoordVar::allocate(&cs, r.location)?;
            let rssi = RssiVar::allocate(&cs, r.rssi_dbm)?;
            let beacon = FpVar::new_witness(cs.clone(), || Ok(r.beacon_id))?;
            let epoch = witness_uint(&cs, r.epoch.into(), U32_BITS)?;
            let sig = SignatureVar::new_witness(cs.clone(), || Ok(slot.record.signature))?;
            let msg = poseidon::hash(&[
                FpVar::constant(tags::fr(tags::WITNESS_REPORT)),
                witness_id.clone(),
                at.x.value.clone(),
                at.y.value.clone(),
                rssi.value.clone(),
                beacon.clone(),
                epoch.clone(),
            ])?;
            let start = cs.num_witness_variables();
            let signed = eddsa::verify(&witness, &msg, &sig)?;
            verify_ranges.push(start..cs.num_witness_variables());

            let d2 = geo::distance_sq((&home.x.low, &home.y.low), (&at.x.low, &at.y.low))?;
            let far = range::is_less_than(&policy.min_sq, &d2, geo::DIST_SQ_BITS)?;
            let near = range::is_less_than(&d2, &policy.max_sq, geo::DIST_SQ_BITS)?;
            let loss = geo::check_path_loss(&d2, &policy.eirp, &rssi.safe, &policy.k_q32)?;

            let ok = and_all(&[
                enabled,
                is_zero(&(&epoch - &pv.epoch))?,
                signed,
                !is_zero(&(&witness_id - &pv.device_id))?,
                is_zero(&(&beacon - &expected_beacon))?,
                at.in_range(),
                rssi.in_domain,
                far,
                near,
                loss.plausible,
            ])?;

            // Rule 10: no earlier accepted report with the same witness id.
            let mut product = FpVar::one();
            for (earlier, earlier_id) in &accepted {
                let factor =
                    FpVar::from(earlier.clone()) * (&witness_id - earlier_id - Fr::ONE) + Fr::ONE;
                product *= factor;
            }
            let duplicate = is_zero(&product)?;
            accepted.push((&ok & &!duplicate, witness_id));
        }

        // The reward.
        let count = accepted
            .iter()
            .fold(FpVar::zero(), |acc, (a, _)| acc + FpVar::from(a.clone()));
        let count_bits = bit_width(self.slots.len()).max(MIN_WITNESSES_BITS + 1);
        let enough = range::is_le(&policy.min_witnesses, &count, count_bits)?;
        let linear = &policy.reward_per_witness * &count;
        let under = range::is_le(&linear, &policy.reward_cap, U64_BITS + count_bits)?;
        let capped = FpVar::conditionally_select(&under, &linear, &policy.reward_cap)?;
        let pays = &valid & &enough;
        let reward = FpVar::from(pays) * capped;
        pv.finish(StatementKind::Coverage, &reward)
    }
}

impl ConstraintSynthesizer<Fr> for CoverageCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs, &mut Vec::new())
    }
}

impl StatementCircuit for CoverageCircuit {
    const KIND: StatementKind = StatementKind::Coverage;

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
        self.synthesize_with(cs, pv, &mut Vec::new())
    }
}

/// The policy as range-checked witnesses.
struct PolicyVars {
    min_witnesses: FpVar<Fr>,
    reward_per_witness: FpVar<Fr>,
    reward_cap: FpVar<Fr>,
    min_distance: FpVar<Fr>,
    max_distance: FpVar<Fr>,
    /// `min_distance^2` and `max_distance^2` (below `2^62`).
    min_sq: FpVar<Fr>,
    max_sq: FpVar<Fr>,
    /// Signed, in `-100..=100`.
    eirp: FpVar<Fr>,
    k_q32: FpVar<Fr>,
    /// `s_k = (cell_bits == k)` for `k` in `8..=31`.
    cell_bits_hot: Vec<Boolean<Fr>>,
    cell_bits: FpVar<Fr>,
}

impl PolicyVars {
    /// Allocates the policy and enforces `CoveragePolicy::validate`.
    fn allocate(cs: &ConstraintSystemRef<Fr>, p: &CoveragePolicy) -> Result<Self, SynthesisError> {
        let min_witnesses = FpVar::new_witness(cs.clone(), || Ok(Fr::from(p.min_witnesses)))?;
        range::enforce_bits(&(&min_witnesses - Fr::ONE), MIN_WITNESSES_BITS)?;
        let reward_per_witness = witness_uint(cs, p.reward_per_witness, U64_BITS)?;
        enforce_nonzero(&reward_per_witness)?;
        let reward_cap = witness_uint(cs, p.reward_cap, U64_BITS)?;
        enforce_nonzero(&reward_cap)?;
        let min_distance = witness_uint(cs, p.min_distance_m.into(), geo::COORD_BITS)?;
        let max_distance = witness_uint(cs, p.max_distance_m.into(), geo::COORD_BITS)?;
        range::enforce_less_than(&min_distance, &max_distance, geo::COORD_BITS)?;
        let min_sq = min_distance.square()?;
        let max_sq = max_distance.square()?;
        let eirp = FpVar::new_witness(cs.clone(), || Ok(Fr::from(p.eirp_dbm)))?;
        range::enforce_bits(&(&eirp + Fr::from(EIRP_OFFSET)), EIRP_BITS)?;
        range::enforce_bits(&(FpVar::constant(Fr::from(EIRP_OFFSET)) - &eirp), EIRP_BITS)?;
        let k_q32 = witness_uint(cs, p.k_q32.into(), geo::K_BITS)?;
        enforce_nonzero(&k_q32)?;
        let cell_bits_hot = (CELL_BITS_MIN..=CELL_BITS_MAX)
            .map(|k| Boolean::new_witness(cs.clone(), || Ok(p.cell_bits as usize == k)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ones = FpVar::zero();
        let mut cell_bits = FpVar::zero();
        for (k, s) in (CELL_BITS_MIN..).zip(&cell_bits_hot) {
            ones += FpVar::from(s.clone());
            cell_bits += FpVar::from(s.clone()) * Fr::from(k as u64);
        }
        ones.enforce_equal(&FpVar::one())?;
        Ok(PolicyVars {
            min_witnesses,
            reward_per_witness,
            reward_cap,
            min_distance,
            max_distance,
            min_sq,
            max_sq,
            eirp,
            k_q32,
            cell_bits_hot,
            cell_bits,
        })
    }

    /// `CoveragePolicy::hash` in circuit.
    fn hash(&self) -> Result<FpVar<Fr>, SynthesisError> {
        poseidon::hash(&[
            FpVar::constant(tags::fr(tags::COVERAGE_POLICY)),
            FpVar::constant(Fr::from(STATEMENT_VERSION)),
            self.min_witnesses.clone(),
            self.reward_per_witness.clone(),
            self.reward_cap.clone(),
            self.min_distance.clone(),
            self.max_distance.clone(),
            self.eirp.clone(),
            self.k_q32.clone(),
            self.cell_bits.clone(),
        ])
    }
}

/// A native `u32` coordinate: its value, its 32 bits and its low 31 bits.
struct UintVar {
    value: FpVar<Fr>,
    bits: Vec<Boolean<Fr>>,
    /// The low 31 bits: the coordinate when in range, and always a valid
    /// input of the distance gadget.
    low: FpVar<Fr>,
}

impl UintVar {
    fn allocate(cs: &ConstraintSystemRef<Fr>, v: u32) -> Result<Self, SynthesisError> {
        let value = FpVar::new_witness(cs.clone(), || Ok(Fr::from(v)))?;
        let bits = range::to_bits_le(&value, U32_BITS)?;
        let low = range::from_bits_le(&bits[..geo::COORD_BITS])?;
        Ok(UintVar { value, bits, low })
    }

    /// Whether the value is below `2^31` (bit 31 clear).
    fn in_range(&self) -> Boolean<Fr> {
        !&self.bits[geo::COORD_BITS]
    }

    /// `value >> cell_bits` for the one-hot `hot` over `8..=31`: one product
    /// per possible shift.
    fn shr(&self, hot: &[Boolean<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
        let mut out = FpVar::zero();
        for (k, s) in (CELL_BITS_MIN..).zip(hot) {
            let shifted = range::from_bits_le(self.bits.get(k..).unwrap_or(&[]))?;
            out += FpVar::from(s.clone()) * shifted;
        }
        Ok(out)
    }
}

/// A location as two [`UintVar`]s.
struct CoordVar {
    x: UintVar,
    y: UintVar,
}

impl CoordVar {
    fn allocate(cs: &ConstraintSystemRef<Fr>, l: Location) -> Result<Self, SynthesisError> {
        Ok(CoordVar {
            x: UintVar::allocate(cs, l.x)?,
            y: UintVar::allocate(cs, l.y)?,
        })
    }

    /// `Location::in_range`.
    fn in_range(&self) -> Boolean<Fr> {
        &self.x.in_range() & &self.y.in_range()
    }
}

/// A native `i32` RSSI: its field encoding, whether it is in the path-loss
/// domain, and a stand-in always in that domain.
struct RssiVar {
    /// `rssi mod p`, as in the report message.
    value: FpVar<Fr>,
    /// `-2^15 <= rssi < 2^15`.
    in_domain: Boolean<Fr>,
    /// The low 16 bits of `rssi` as a signed value: `rssi` when in domain.
    safe: FpVar<Fr>,
}

impl RssiVar {
    fn allocate(cs: &ConstraintSystemRef<Fr>, rssi: i32) -> Result<Self, SynthesisError> {
        let value = FpVar::new_witness(cs.clone(), || Ok(Fr::from(rssi)))?;
        // rssi + 2^31 in 32 bits: rssi is a signed 32-bit integer.
        let offset = &value + range::pow2(31);
        let bits = range::to_bits_le(&offset, U32_BITS)?;
        // In domain iff bits 15..=30 are all 0 with bit 31 set (0 <= rssi <
        // 2^15) or all 1 with bit 31 clear (-2^15 <= rssi < 0).
        let middle = bits[15..31]
            .iter()
            .fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
        let sign = FpVar::from(bits[31].clone());
        let in_domain = is_zero(&(middle + sign * Fr::from(16u64) - Fr::from(16u64)))?;
        // Two's complement of the low 16 bits (rssi mod 2^16, as
        // 2^31 = 0 mod 2^16).
        let safe =
            range::from_bits_le(&bits[..15])? - FpVar::from(bits[15].clone()) * range::pow2(15);
        Ok(RssiVar {
            value,
            in_domain,
            safe,
        })
    }
}

#[cfg(test)]
mod tests;
