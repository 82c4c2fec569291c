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

use crate::common::{witness_uint, CircuitError, PublicVars, StatementCircuit};
use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, Zero};
use ark_r1cs_std::{
    alloc::AllocVar,
    boolean::{AllocatedBool, Boolean},
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_crypto::geo::k_q32_for_mhz;
use depin_gadgets::eddsa::{self, PublicKeyVar, SignatureVar};
use depin_gadgets::{geo, poseidon, range};
use depin_statements::coverage::{evaluate, CoverageInput, CAPACITY};
use depin_statements::padding::Slot;
use depin_statements::records::{
    beacon_id, CoverageClaim, Location, SignedWitnessReport, WitnessReport,
};
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
        if input.reports.len() > capacity {
            return Err(CircuitError::Capacity {
                records: input.reports.len(),
                capacity,
            });
        }
        let mut slots: Vec<Slot<SignedWitnessReport>> = input
            .reports
            .iter()
            .map(|r| Slot {
                enabled: true,
                record: *r,
            })
            .collect();
        slots.resize(
            capacity,
            Slot {
                enabled: false,
                record: SignedWitnessReport::PADDING,
            },
        );
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

    /// A deterministic honest epoch at full capacity from fixed keys: 16
    /// witnesses 1 km to 4 km east of the device, 110 dB of loss at 27 dBm
    /// and 915 MHz, paying 160. Used for key generation and benchmarks.
    pub fn sample() -> Result<Self, CircuitError> {
        let device = PrivateKey::from_bytes([7; 32]);
        let device_id = device.public_key().id();
        let epoch = 20_250;
        let beacon = Fr::from(918_273_645_546_372_819u64);
        let expected_beacon = beacon_id(beacon, device_id);
        let home = Location {
            x: 1_000_000,
            y: 2_000_000,
        };
        let reports: Vec<SignedWitnessReport> = (0..CAPACITY as u32)
            .map(|i| {
                let key = PrivateKey::from_bytes([50 + i as u8; 32]);
                let report = WitnessReport {
                    witness: key.public_key(),
                    location: Location {
                        x: home.x + 1000 + 200 * i,
                        y: home.y,
                    },
                    rssi_dbm: 27 - 110,
                    beacon_id: expected_beacon,
                    epoch,
                };
                SignedWitnessReport {
                    report,
                    signature: key.sign(&report.message()),
                }
            })
            .collect();
        let claim = CoverageClaim {
            device_id,
            epoch,
            location: home,
            beacon_id: expected_beacon,
        };
        let input = CoverageInput {
            device: device.public_key(),
            epoch,
            beacon,
            policy: CoveragePolicy {
                min_witnesses: 3,
                reward_per_witness: 10,
                reward_cap: 1000,
                min_distance_m: 300,
                max_distance_m: 20_000,
                eirp_dbm: 27,
                k_q32: k_q32_for_mhz(915),
                cell_bits: 12,
            },
            claim,
            claim_signature: device.sign(&claim.message()),
            reports: &reports,
        };
        Self::new(&input)
    }

    /// Number of report slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Synthesizes the circuit, recording the witness-index range of every
    /// EdDSA verification (the claim's first, then one per slot).
    fn synthesize(
        self,
        cs: ConstraintSystemRef<Fr>,
        verify_ranges: &mut Vec<Range<usize>>,
    ) -> Result<(), SynthesisError> {
        let pv = PublicVars::allocate(cs.clone(), &self.public, self.public_override.as_deref())?;
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
            is_equal(&claim_device, &pv.device_id)?,
            is_equal(&claim_epoch, &pv.epoch)?,
            is_equal(&claim_beacon, &expected_beacon)?,
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
                is_equal(&epoch, &pv.epoch)?,
                signed,
                !is_equal(&witness_id, &pv.device_id)?,
                is_equal(&beacon, &expected_beacon)?,
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
        let count_bits = bits_for(self.slots.len()).max(MIN_WITNESSES_BITS + 1);
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
}

/// Bits needed to write `n`.
fn bits_for(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
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

/// Whether `x == 0`, with every witness pinned: `x * inv = 1 - out`,
/// `x * out = 0`, `out * inv = 0` (so `out` is boolean and `inv` is `1/x`
/// or 0). 3 constraints.
fn is_zero(x: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    if let FpVar::Constant(c) = x {
        return Ok(Boolean::constant(c.is_zero()));
    }
    let cs = x.cs();
    let inv = FpVar::new_witness(cs.clone(), || Ok(x.value()?.inverse().unwrap_or(Fr::ZERO)))?;
    let out = Boolean::from(AllocatedBool::new_witness_without_booleanity_check(
        cs,
        || Ok(x.value()?.is_zero()),
    )?);
    let out_fp = FpVar::from(out.clone());
    x.mul_equals(&inv, &(FpVar::one() - &out_fp))?;
    x.mul_equals(&out_fp, &FpVar::zero())?;
    out_fp.mul_equals(&inv, &FpVar::zero())?;
    Ok(out)
}

/// Whether `a == b` ([`is_zero`] of the difference). 3 constraints.
fn is_equal(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<Boolean<Fr>, SynthesisError> {
    is_zero(&(a - b))
}

/// Enforces `x != 0` with an inverse (1 constraint; the inverse is unique).
fn enforce_nonzero(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let inv = FpVar::new_witness(x.cs(), || Ok(x.value()?.inverse().unwrap_or(Fr::ZERO)))?;
    x.mul_equals(&inv, &FpVar::one())
}

/// The AND of `bits`: products for up to three variables, otherwise
/// `n - sum == 0` with [`is_zero`] (3 constraints).
fn and_all(bits: &[Boolean<Fr>]) -> Result<Boolean<Fr>, SynthesisError> {
    let mut vars = Vec::with_capacity(bits.len());
    for b in bits {
        match b {
            Boolean::Constant(false) => return Ok(Boolean::FALSE),
            Boolean::Constant(true) => {}
            v => vars.push(v.clone()),
        }
    }
    if vars.len() <= 3 {
        return Ok(vars.iter().fold(Boolean::TRUE, |acc, b| &acc & b));
    }
    let sum = vars
        .iter()
        .fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
    is_zero(&(sum - Fr::from(vars.len() as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{delta, R1cs};
    use ark_ff::{BigInt, BigInteger};
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
    use depin_crypto::babyjubjub::{Point, SUBORDER};
    use depin_crypto::geo::{check_path_loss, PathLoss, MAX_COORD};
    use depin_statements::{Evaluation, RejectReason, Verdict};
    use proptest::prelude::*;
    use proptest::test_runner::TestRunner;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    const EPOCH: u32 = 20_250;
    const HOME: Location = Location {
        x: 1_000_000,
        y: 2_000_000,
    };
    /// 110 dB of loss at 27 dBm: plausible up to about 8.2 km at 915 MHz.
    const RSSI: i32 = 27 - 110;
    /// Small capacity of the tests.
    const CAP: usize = 4;

    fn beacon() -> Fr {
        Fr::from(918_273_645_546_372_819u64)
    }

    fn device_key() -> PrivateKey {
        PrivateKey::from_bytes([7; 32])
    }

    fn key(i: u32) -> PrivateKey {
        let mut b = [0xa5u8; 32];
        b[..4].copy_from_slice(&i.to_le_bytes());
        PrivateKey::from_bytes(b)
    }

    /// 3 witnesses minimum, 10 each, cap 1000, 300 m..20 km, 27 dBm at
    /// 915 MHz, 4 km cells (the sample's policy).
    fn policy() -> CoveragePolicy {
        CoveragePolicy {
            min_witnesses: 3,
            reward_per_witness: 10,
            reward_cap: 1000,
            min_distance_m: 300,
            max_distance_m: 20_000,
            eirp_dbm: 27,
            k_q32: k_q32_for_mhz(915),
            cell_bits: 12,
        }
    }

    /// An epoch the tests own.
    #[derive(Clone, Debug)]
    struct Epoch {
        device: PublicKey,
        epoch: u32,
        beacon: Fr,
        policy: CoveragePolicy,
        claim: CoverageClaim,
        claim_signature: Signature,
        reports: Vec<SignedWitnessReport>,
    }

    impl Epoch {
        fn input(&self) -> CoverageInput<'_> {
            CoverageInput {
                device: self.device,
                epoch: self.epoch,
                beacon: self.beacon,
                policy: self.policy,
                claim: self.claim,
                claim_signature: self.claim_signature,
                reports: &self.reports,
            }
        }

        fn device_id(&self) -> Fr {
            self.device.id()
        }

        fn beacon_id(&self) -> Fr {
            beacon_id(self.beacon, self.device_id())
        }

        /// A report signed by `k` with this epoch's beacon id and epoch.
        fn report(&self, k: &PrivateKey, location: Location, rssi_dbm: i32) -> SignedWitnessReport {
            sign(
                k,
                WitnessReport {
                    witness: k.public_key(),
                    location,
                    rssi_dbm,
                    beacon_id: self.beacon_id(),
                    epoch: self.epoch,
                },
            )
        }

        /// Re-signs the claim with the device key.
        fn resign_claim(&mut self) {
            self.claim_signature = device_key().sign(&self.claim.message());
        }
    }

    fn sign(k: &PrivateKey, report: WitnessReport) -> SignedWitnessReport {
        SignedWitnessReport {
            report,
            signature: k.sign(&report.message()),
        }
    }

    fn east(m: u32) -> Location {
        Location {
            x: HOME.x + m,
            y: HOME.y,
        }
    }

    /// An epoch with no report at `HOME`.
    fn empty_epoch() -> Epoch {
        let dev = device_key();
        let id = dev.public_key().id();
        let mut e = Epoch {
            device: dev.public_key(),
            epoch: EPOCH,
            beacon: beacon(),
            policy: policy(),
            claim: CoverageClaim {
                device_id: id,
                epoch: EPOCH,
                location: HOME,
                beacon_id: beacon_id(beacon(), id),
            },
            claim_signature: dev.sign(&Fr::ZERO),
            reports: Vec::new(),
        };
        e.resign_claim();
        e
    }

    /// `n` honest witnesses, 1 km to 4 km east.
    fn honest(n: u32) -> Epoch {
        let mut e = empty_epoch();
        e.reports = (0..n)
            .map(|i| e.report(&key(i), east(1000 + 200 * i), RSSI))
            .collect();
        e
    }

    fn reward_header(public: &PublicInputs, reward: u64) -> Fr {
        PublicInputs { reward, ..*public }.header()
    }

    /// Synthesizes the circuit of `e` at `capacity` and checks it against the
    /// reference: satisfied with exactly the reference's public inputs,
    /// unsatisfied with the reward, the nullifier or the cell changed.
    fn check(e: &Epoch, capacity: usize) -> (Evaluation, R1cs) {
        let input = e.input();
        let eval = evaluate(&input).expect("valid input");
        let circuit = CoverageCircuit::with_capacity(&input, capacity).expect("circuit");
        let public = eval.public.to_field_elements();
        assert_eq!(circuit.public_inputs(), public);
        assert_eq!(circuit.expected(), &eval.public);
        let mut r1cs = R1cs::synthesize(circuit).expect("synthesis");
        assert_eq!(r1cs.public_inputs(), &public[..]);
        assert!(r1cs.is_satisfied(), "unsatisfied on {e:?}");
        let shift = range::pow2(72);
        let mut tweaks = Vec::new();
        for (i, d) in [
            (0, shift),
            (0, -shift),
            (4, Fr::ONE),
            (5, Fr::ONE),
            (5, -Fr::ONE),
        ] {
            let mut t = public.clone();
            t[i] += d;
            tweaks.push(t);
        }
        for t in tweaks {
            assert!(!r1cs.is_satisfied_with_public(&t), "accepts {t:?}");
        }
        (eval, r1cs)
    }

    /// Checks `e` and asserts that it pays `reward` while the honest
    /// epoch's reward `honest` is refused.
    fn assert_pays(e: &Epoch, reward: u64, honest: u64) -> Evaluation {
        assert_ne!(reward, honest);
        let (eval, mut r1cs) = check(e, CAP);
        assert_eq!(eval.reward, reward);
        let mut other = eval.public.to_field_elements();
        other[0] = reward_header(&eval.public, honest);
        assert!(!r1cs.is_satisfied_with_public(&other));
        eval
    }

    /// Replaces report 2 of 4 honest ones by `replacement` and checks that
    /// the reference rejects it alone, with `reason`, and the circuit agrees:
    /// 3 witnesses pay 30 instead of 40.
    fn assert_excluded(make: impl Fn(&Epoch) -> SignedWitnessReport, reason: RejectReason) {
        let mut e = honest(4);
        e.reports[2] = make(&e);
        let eval = assert_pays(&e, 30, 40);
        for (i, v) in eval.verdicts.iter().enumerate() {
            let want = if i == 2 {
                Verdict::Rejected(reason)
            } else {
                Verdict::Accepted
            };
            assert_eq!(*v, want, "report {i}");
        }
    }

    /// Breaks the claim with `f` and checks that every report is rejected
    /// with `reason`, the reward is 0 and the circuit agrees.
    fn assert_claim_rejected(f: impl Fn(&mut Epoch), reason: RejectReason) {
        let mut e = honest(4);
        f(&mut e);
        let eval = assert_pays(&e, 0, 40);
        assert!(eval
            .verdicts
            .iter()
            .all(|v| *v == Verdict::Rejected(reason)));
    }

    #[test]
    fn coverage_circuit_pays_honest_epoch() {
        let (eval, _) = check(&honest(4), CAP);
        assert_eq!(eval.reward, 40);
        assert_eq!(eval.accepted(), 4);
        for n in 0..CAP as u32 {
            let (eval, _) = check(&honest(n), CAP);
            assert_eq!(eval.reward, if n < 3 { 0 } else { 10 * u64::from(n) });
        }
    }

    #[test]
    fn coverage_circuit_excludes_report_out_of_epoch() {
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI).report;
                r.epoch = EPOCH + 1;
                sign(&key(2), r)
            },
            RejectReason::OutOfEpoch,
        );
    }

    #[test]
    fn coverage_circuit_excludes_bad_witness_signature() {
        // Moved after signing.
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI);
                r.report.location = east(1700);
                r
            },
            RejectReason::BadSignature,
        );
        // S + l: the same S modulo l, refused as non-canonical.
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI);
                assert!(!r.signature.s.add_with_carry(&SUBORDER));
                r
            },
            RejectReason::BadSignature,
        );
        // Signed by another key.
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI);
                r.signature = key(9).sign(&r.report.message());
                r
            },
            RejectReason::BadSignature,
        );
        // A witness key off the curve.
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI).report;
                r.witness.0.y += Fr::ONE;
                sign(&key(2), r)
            },
            RejectReason::BadSignature,
        );
    }

    #[test]
    fn coverage_circuit_excludes_self_witness() {
        assert_excluded(
            |e| e.report(&device_key(), east(1600), RSSI),
            RejectReason::SelfWitness,
        );
    }

    #[test]
    fn coverage_circuit_excludes_wrong_beacon() {
        assert_excluded(
            |e| {
                let mut r = e.report(&key(2), east(1600), RSSI).report;
                r.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id());
                sign(&key(2), r)
            },
            RejectReason::WrongBeacon,
        );
    }

    #[test]
    fn coverage_circuit_excludes_witness_location_out_of_range() {
        for far in [
            Location { x: 1 << 31, y: 0 },
            Location {
                x: HOME.x,
                y: u32::MAX,
            },
        ] {
            assert_excluded(
                |e| e.report(&key(2), far, RSSI),
                RejectReason::LocationOutOfRange,
            );
        }
    }

    #[test]
    fn coverage_circuit_excludes_rssi_out_of_range() {
        for rssi in [i32::MIN, -(1 << 15) - 1, 1 << 15, i32::MAX] {
            assert_excluded(
                |e| e.report(&key(2), east(1600), rssi),
                RejectReason::RssiOutOfRange,
            );
        }
        // The domain's ends are in it (and then too weak / too strong).
        assert_excluded(
            |e| e.report(&key(2), east(1600), -(1 << 15)),
            RejectReason::SignalTooWeak,
        );
        assert_excluded(
            |e| e.report(&key(2), east(1600), (1 << 15) - 1),
            RejectReason::SignalTooStrong,
        );
    }

    #[test]
    fn coverage_circuit_excludes_too_close() {
        // Strictly farther than 300 m is required.
        for m in [0, 1, 300] {
            assert_excluded(|e| e.report(&key(2), east(m), RSSI), RejectReason::TooClose);
        }
        let mut e = honest(4);
        e.reports[2] = e.report(&key(2), east(301), RSSI);
        assert_eq!(check(&e, CAP).0.reward, 40);
    }

    #[test]
    fn coverage_circuit_excludes_too_far() {
        // Strictly closer than 20 km is required.
        assert_excluded(
            |e| e.report(&key(2), east(20_000), 27 - 199),
            RejectReason::TooFar,
        );
        let mut e = honest(4);
        e.reports[2] = e.report(&key(2), east(19_999), 27 - 199);
        assert_eq!(check(&e, CAP).0.reward, 40);
    }

    #[test]
    fn coverage_circuit_excludes_signal_too_strong() {
        // 77 dB of loss is possible only within about 184 m at 915 MHz.
        assert_excluded(
            |e| e.report(&key(2), east(5000), 27 - 77),
            RejectReason::SignalTooStrong,
        );
        // Stronger than transmitted.
        assert_excluded(
            |e| e.report(&key(2), east(5000), 28),
            RejectReason::SignalTooStrong,
        );
    }

    #[test]
    fn coverage_circuit_excludes_signal_too_weak() {
        assert_excluded(
            |e| e.report(&key(2), east(5000), 27 - 200),
            RejectReason::SignalTooWeak,
        );
    }

    #[test]
    fn coverage_circuit_excludes_duplicate_witness() {
        let mut e = honest(4);
        e.reports[3] = e.report(&key(1), east(2500), RSSI);
        let eval = assert_pays(&e, 30, 40);
        assert_eq!(eval.verdicts[3], Verdict::Rejected(RejectReason::Duplicate));
        // A third report of the same witness is a duplicate too.
        let mut e = honest(4);
        e.reports[2] = e.report(&key(0), east(2500), RSSI);
        e.reports[3] = e.report(&key(0), east(2600), RSSI);
        let eval = assert_pays(&e, 0, 40);
        assert_eq!(eval.accepted(), 2);
    }

    #[test]
    fn coverage_circuit_counts_duplicate_of_rejected_report() {
        let mut e = honest(4);
        e.reports[1] = e.report(&key(1), east(100), RSSI); // too close
        e.reports[3] = e.report(&key(1), east(2500), RSSI);
        let eval = assert_pays(&e, 30, 40);
        assert_eq!(eval.verdicts[1], Verdict::Rejected(RejectReason::TooClose));
        assert_eq!(eval.verdicts[3], Verdict::Accepted);
    }

    #[test]
    fn coverage_circuit_pays_nothing_for_claim_of_wrong_device() {
        assert_claim_rejected(
            |e| {
                e.claim.device_id = Fr::from(1u64);
                e.resign_claim();
            },
            RejectReason::WrongDevice,
        );
    }

    #[test]
    fn coverage_circuit_pays_nothing_for_claim_out_of_epoch() {
        assert_claim_rejected(
            |e| {
                e.claim.epoch = EPOCH - 1;
                e.resign_claim();
            },
            RejectReason::OutOfEpoch,
        );
    }

    #[test]
    fn coverage_circuit_pays_nothing_for_claim_with_wrong_beacon() {
        assert_claim_rejected(
            |e| {
                e.claim.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id());
                e.resign_claim();
            },
            RejectReason::WrongBeacon,
        );
    }

    #[test]
    fn coverage_circuit_pays_nothing_for_bad_claim_signature() {
        // The prover moves the device after it signed its claim.
        assert_claim_rejected(|e| e.claim.location = east(50), RejectReason::BadSignature);
        // Signed by another key.
        assert_claim_rejected(
            |e| e.claim_signature = key(5).sign(&e.claim.message()),
            RejectReason::BadSignature,
        );
    }

    #[test]
    fn coverage_circuit_pays_nothing_for_claim_location_out_of_range() {
        for location in [
            Location { x: 0, y: 1 << 31 },
            Location {
                x: u32::MAX,
                y: HOME.y,
            },
        ] {
            assert_claim_rejected(
                |e| {
                    e.claim.location = location;
                    e.resign_claim();
                },
                RejectReason::LocationOutOfRange,
            );
        }
    }

    #[test]
    fn coverage_circuit_pays_nothing_below_min_witnesses() {
        let mut e = honest(4);
        e.policy.min_witnesses = 4;
        e.reports[0] = e.report(&key(0), east(100), RSSI);
        assert_pays(&e, 0, 30);
        e.policy.min_witnesses = 3;
        assert_pays(&e, 30, 0);
    }

    #[test]
    fn coverage_circuit_caps_reward() {
        let mut e = honest(4);
        e.policy.reward_cap = 25;
        assert_pays(&e, 25, 40);
        e.policy.reward_cap = 40;
        assert_pays(&e, 40, 39);
        // The product passes 64 bits: the cap applies.
        e.policy.reward_per_witness = u64::MAX;
        e.policy.reward_cap = u64::MAX;
        assert_pays(&e, u64::MAX, 0);
        e.policy.reward_per_witness = u64::MAX / 5;
        assert_pays(&e, u64::MAX / 5 * 4, u64::MAX);
    }

    #[test]
    fn coverage_circuit_cell_is_coarse_location() {
        // No report slot: only the claim, the policy and the cell.
        let mut e = honest(0);
        let mut template =
            R1cs::synthesize(CoverageCircuit::with_capacity(&e.input(), 0).unwrap()).unwrap();
        for bits in 8..=31 {
            for location in [
                HOME,
                Location { x: MAX_COORD, y: 0 },
                Location {
                    x: u32::MAX,
                    y: (1 << 31) + 12345,
                },
                Location {
                    x: 0x1234_5678,
                    y: 0x0765_4321,
                },
            ] {
                e.policy.cell_bits = bits;
                e.claim.location = location;
                e.resign_claim();
                let eval = check_with(&mut template, &e, 0);
                assert_eq!(eval.public.cell, Some(location.cell(bits)));
            }
        }
    }

    #[test]
    fn coverage_circuit_ignores_disabled_slots() {
        let e = honest(3);
        let input = e.input();
        let mut circuit = CoverageCircuit::with_capacity(&input, CAP).unwrap();
        let public = circuit.public_inputs();
        // A valid report in the disabled slot never counts.
        circuit.slots[3].record = e.report(&key(3), east(2000), RSSI);
        let r1cs = R1cs::synthesize(circuit.clone()).unwrap();
        assert!(r1cs.is_satisfied());
        assert_eq!(r1cs.public_inputs(), &public[..]);
        let mut more = public.clone();
        more[0] = reward_header(circuit.expected(), 40);
        circuit.public_override = Some(more);
        assert!(!R1cs::synthesize(circuit).unwrap().is_satisfied());
    }

    #[test]
    fn coverage_circuit_refuses_padding_not_a_suffix() {
        let e = honest(4);
        let input = e.input();
        let mut circuit = CoverageCircuit::with_capacity(&input, CAP + 1).unwrap();
        circuit.slots[1].enabled = false;
        let mut public = circuit.expected().to_owned();
        for reward in [0, 30, 40] {
            public.reward = reward;
            let mut c = circuit.clone();
            c.public_override = Some(public.to_field_elements());
            assert!(!R1cs::synthesize(c).unwrap().is_satisfied(), "{reward}");
        }
    }

    #[test]
    fn coverage_circuit_refuses_invalid_policy() {
        let e = honest(3);
        let input = e.input();
        let circuit = CoverageCircuit::with_capacity(&input, 3).unwrap();
        let p = policy();
        let bad = [
            CoveragePolicy {
                min_witnesses: 0,
                ..p
            },
            CoveragePolicy {
                min_witnesses: 17,
                ..p
            },
            CoveragePolicy {
                reward_per_witness: 0,
                ..p
            },
            CoveragePolicy { reward_cap: 0, ..p },
            CoveragePolicy {
                min_distance_m: 20_000,
                ..p
            },
            CoveragePolicy {
                min_distance_m: 1 << 31,
                max_distance_m: (1 << 31) + 1,
                ..p
            },
            CoveragePolicy { eirp_dbm: 101, ..p },
            CoveragePolicy {
                eirp_dbm: -101,
                ..p
            },
            CoveragePolicy { k_q32: 0, ..p },
            CoveragePolicy { cell_bits: 7, ..p },
            CoveragePolicy { cell_bits: 32, ..p },
        ];
        for policy in bad {
            assert!(policy.validate().is_err());
            let mut c = circuit.clone();
            c.policy = policy;
            let mut public = *c.expected();
            public.policy_hash = policy.hash();
            public.cell = Some(e.claim.location.cell(policy.cell_bits));
            c.public_override = Some(public.to_field_elements());
            let r1cs = R1cs::synthesize(c).unwrap();
            assert!(!r1cs.is_satisfied(), "{policy:?}");
        }
        // The extremes of a valid policy are satisfiable.
        let mut e = e;
        e.policy.cell_bits = 31;
        e.policy.eirp_dbm = -100;
        e.policy.min_witnesses = 16;
        e.policy.min_distance_m = MAX_COORD - 1;
        e.policy.max_distance_m = MAX_COORD;
        check(&e, 3);
        e.policy.cell_bits = 8;
        e.policy.eirp_dbm = 100;
        e.policy.min_witnesses = 1;
        e.policy.k_q32 = u32::MAX;
        e.policy.min_distance_m = 0;
        e.policy.max_distance_m = 1;
        check(&e, 3);
    }

    #[test]
    fn coverage_circuit_construction_errors() {
        let mut e = honest(4);
        assert!(matches!(
            CoverageCircuit::with_capacity(&e.input(), 3),
            Err(CircuitError::Capacity {
                records: 4,
                capacity: 3
            })
        ));
        e.reports = vec![e.reports[0]; 17];
        assert!(matches!(
            CoverageCircuit::new(&e.input()),
            Err(CircuitError::Eval(_))
        ));
        let mut e = honest(1);
        e.policy.cell_bits = 7;
        assert!(matches!(
            CoverageCircuit::new(&e.input()),
            Err(CircuitError::Eval(_))
        ));
    }

    /// The EdDSA gadget alone on `(pk, msg, sig)`, inputs allocated first.
    struct VerifyOnly {
        pk: PublicKey,
        msg: Fr,
        sig: Signature,
    }

    /// Witnesses [`VerifyOnly`] allocates before the gadget.
    const VERIFY_INPUTS: usize = 6;

    impl ConstraintSynthesizer<Fr> for VerifyOnly {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let pk = PublicKeyVar::new_witness(cs.clone(), || Ok(self.pk))?;
            let msg = FpVar::new_witness(cs.clone(), || Ok(self.msg))?;
            let sig = SignatureVar::new_witness(cs.clone(), || Ok(self.sig))?;
            assert_eq!(cs.num_witness_variables(), VERIFY_INPUTS);
            let _ = eddsa::verify(&pk, &msg, &sig)?;
            Ok(())
        }
    }

    /// The witnesses the EdDSA gadget leaves free on its own, relative to
    /// its first witness.
    fn eddsa_free(pk: PublicKey, msg: Fr, sig: Signature) -> Vec<usize> {
        let mut r1cs = R1cs::synthesize(VerifyOnly { pk, msg, sig }).unwrap();
        assert!(r1cs.is_satisfied());
        let free = r1cs.free_witnesses(delta());
        assert!(free.iter().all(|&w| w >= VERIFY_INPUTS));
        free.iter().map(|w| w - VERIFY_INPUTS).collect()
    }

    /// The free witnesses of `circuit` must be exactly those of its EdDSA
    /// verifications, each as the gadget leaves them on its own.
    fn assert_only_eddsa_free(circuit: &CoverageCircuit) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let mut ranges = Vec::new();
        circuit.clone().synthesize(cs, &mut ranges).unwrap();
        let mut calls = vec![(
            circuit.device,
            circuit.claim.message(),
            circuit.claim_signature,
        )];
        calls.extend(circuit.slots.iter().map(|s| {
            (
                s.record.report.witness,
                s.record.report.message(),
                s.record.signature,
            )
        }));
        assert_eq!(ranges.len(), calls.len());
        let mut expected = Vec::new();
        for (range, (pk, msg, sig)) in ranges.iter().zip(calls) {
            let free = eddsa_free(pk, msg, sig);
            assert!(free.iter().all(|o| range.start + o < range.end));
            expected.extend(free.iter().map(|o| range.start + o));
        }
        let mut r1cs = R1cs::synthesize(circuit.clone()).unwrap();
        assert!(r1cs.is_satisfied());
        assert!(r1cs.unused_witnesses().is_empty());
        let free = r1cs.free_witnesses(delta());
        println!(
            "{} free witnesses, all inside the EdDSA gadget, of {}",
            free.len(),
            r1cs.z.len() - r1cs.num_instance
        );
        assert_eq!(free, expected);
    }

    #[test]
    fn coverage_circuit_constrains_every_witness() {
        // Honest, with a disabled slot.
        let e = honest(2);
        assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.input(), 3).unwrap());
        // Rejected reports: bad signature, out-of-range location and RSSI
        // (the stand-ins), a duplicate.
        let mut e = honest(4);
        e.reports[0].report.location = east(1700);
        e.reports[1] = e.report(
            &key(1),
            Location {
                x: u32::MAX,
                y: 1 << 31,
            },
            i32::MIN,
        );
        e.reports[3] = e.report(&key(2), east(2500), RSSI);
        let eval = evaluate(&e.input()).unwrap();
        assert_eq!(eval.accepted(), 1);
        assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.input(), 4).unwrap());
        // A rejected claim out of range.
        let mut e = honest(2);
        e.claim.location = Location {
            x: u32::MAX,
            y: u32::MAX,
        };
        e.resign_claim();
        assert_only_eddsa_free(&CoverageCircuit::with_capacity(&e.input(), 2).unwrap());
    }

    #[test]
    fn coverage_circuit_sample_at_full_capacity() {
        let circuit = CoverageCircuit::sample().unwrap();
        assert_eq!(circuit.capacity(), CAPACITY);
        assert_eq!(circuit.expected().reward, 160);
        let public = circuit.public_inputs();
        let r1cs = R1cs::synthesize(circuit.clone()).unwrap();
        assert!(r1cs.is_satisfied());
        assert_eq!(r1cs.public_inputs(), &public[..]);
        println!("coverage circuit: {} constraints", r1cs.num_constraints());
        assert_eq!(r1cs.num_constraints(), COVERAGE_CONSTRAINTS);
        // Key generation synthesizes without values, to the same shape.
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        circuit.generate_constraints(cs.clone()).unwrap();
        assert_eq!(cs.num_constraints(), COVERAGE_CONSTRAINTS);
    }

    #[test]
    fn coverage_circuit_cost_per_slot() {
        let count = |cap: usize| {
            let e = honest(0);
            R1cs::synthesize(CoverageCircuit::with_capacity(&e.input(), cap).unwrap())
                .unwrap()
                .num_constraints()
        };
        let (c0, c1, c2, c3) = (count(0), count(1), count(2), count(3));
        println!(
            "coverage: {c0} at capacity 0, slot 0 costs {}, slot 1 {}, slot 2 {}",
            c1 - c0,
            c2 - c1,
            c3 - c2
        );
        // Slot j >= 1 adds j factors, j - 1 products, a zero test and an
        // AND to the duplicate check, and the enabled-prefix constraint.
        assert_eq!(c3 - c2, c2 - c1 + 2);
        let slot = |j: usize| {
            if j == 0 {
                c1 - c0
            } else {
                c2 - c1 + 2 * (j - 1)
            }
        };
        assert_eq!(
            (0..CAPACITY).map(slot).sum::<usize>() + c0,
            COVERAGE_CONSTRAINTS
        );
    }

    // -----------------------------------------------------------------
    // Random epochs.

    /// How a random report is made.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Kind {
        Honest,
        OutOfEpoch,
        BadSignature,
        SelfWitness,
        WrongBeacon,
        LocationOutOfRange,
        RssiOutOfRange,
        TooClose,
        TooFar,
        TooStrong,
        TooWeak,
        Duplicate,
    }

    const KINDS: [Kind; 12] = [
        Kind::Honest,
        Kind::OutOfEpoch,
        Kind::BadSignature,
        Kind::SelfWitness,
        Kind::WrongBeacon,
        Kind::LocationOutOfRange,
        Kind::RssiOutOfRange,
        Kind::TooClose,
        Kind::TooFar,
        Kind::TooStrong,
        Kind::TooWeak,
        Kind::Duplicate,
    ];

    fn random_policy(rng: &mut ChaCha8Rng) -> CoveragePolicy {
        let min_witnesses = if rng.gen_bool(0.85) {
            rng.gen_range(1..=3)
        } else {
            rng.gen_range(1..=16)
        };
        let reward_per_witness = match rng.gen_range(0..4) {
            0 => rng.gen_range(1..=100),
            1 => rng.gen::<u64>().max(1),
            2 => u64::MAX,
            _ => rng.gen_range(1..=1 << 40),
        };
        let reward_cap = match rng.gen_range(0..4) {
            0 => rng.gen_range(1..=300),
            1 => rng.gen::<u64>().max(1),
            2 => u64::MAX,
            _ => rng.gen_range(1..=1 << 42),
        };
        let (min_distance_m, max_distance_m) = match rng.gen_range(0..4) {
            0 => (300, 20_000),
            1 => {
                let lo = rng.gen_range(0..5_000);
                (lo, lo + rng.gen_range(1..=60_000))
            }
            2 => {
                let lo = rng.gen_range(0..MAX_COORD - 1);
                (lo, rng.gen_range(lo + 1..=MAX_COORD))
            }
            _ => {
                let lo = rng.gen_range(0..2_000);
                (lo, lo + rng.gen_range(1..=3))
            }
        };
        let k_q32 = match rng.gen_range(0..4) {
            0 => k_q32_for_mhz(915),
            1 => k_q32_for_mhz(rng.gen_range(100..=6000)),
            2 => rng.gen::<u32>().max(1),
            _ => [1, u32::MAX][rng.gen_range(0..2)],
        };
        CoveragePolicy {
            min_witnesses,
            reward_per_witness,
            reward_cap,
            min_distance_m,
            max_distance_m,
            eirp_dbm: if rng.gen_bool(0.5) {
                27
            } else {
                rng.gen_range(-100..=100)
            },
            k_q32,
            cell_bits: rng.gen_range(8..=31),
        }
    }

    /// A point about `d` metres from `from` in a random direction (axis
    /// aligned, so exactly `d`, half of the time; otherwise the rounding
    /// brings it a little closer).
    fn around(rng: &mut ChaCha8Rng, from: Location, d: u64) -> Location {
        let (dx, dy) = if rng.gen_bool(0.5) {
            (d, 0)
        } else {
            let dx = rng.gen_range(0..=d);
            let rest = d * d - dx * dx;
            let mut dy = (rest as f64).sqrt() as u64;
            while dy * dy > rest {
                dy -= 1;
            }
            (dx, dy)
        };
        let (dx, dy) = if rng.gen_bool(0.5) {
            (dx, dy)
        } else {
            (dy, dx)
        };
        // A random direction on each axis, turned back from the grid's edge
        // (clamped only if both ways leave the grid).
        let shift = |c: u32, v: u64, rng: &mut ChaCha8Rng| {
            let v = i64::try_from(v).unwrap_or(i64::MAX);
            let c = i64::from(c);
            let max = i64::from(MAX_COORD);
            let (up, down) = (c.saturating_add(v), c.saturating_sub(v));
            let moved = match (up <= max, down >= 0) {
                (true, true) if rng.gen_bool(0.5) => up,
                (true, true) => down,
                (true, false) => up,
                (false, true) => down,
                (false, false) => up,
            };
            moved.clamp(0, max) as u32
        };
        Location {
            x: shift(from.x, dx, rng),
            y: shift(from.y, dy, rng),
        }
    }

    /// The smallest plausible loss at `d2`, if any.
    fn min_loss(d2: u64, p: &CoveragePolicy) -> Option<i32> {
        (0..=199).find(|l| {
            check_path_loss(d2, p.eirp_dbm, p.eirp_dbm - l, p.k_q32) == PathLoss::Plausible
        })
    }

    fn d2(a: Location, b: Location) -> u64 {
        depin_crypto::geo::distance_sq((a.x, a.y), (b.x, b.y)).unwrap_or(u64::MAX)
    }

    /// An honest report from `k`: strictly between the distance bounds,
    /// with a plausible signal (when one exists at that distance).
    fn honest_report(rng: &mut ChaCha8Rng, e: &Epoch, k: &PrivateKey) -> SignedWitnessReport {
        let p = e.policy;
        let (lo, hi) = (u64::from(p.min_distance_m), u64::from(p.max_distance_m));
        let d = if hi > lo + 1 {
            rng.gen_range(lo + 1..hi)
        } else {
            hi
        };
        let at = around(rng, e.claim.location, d);
        let rssi = plausible_rssi(rng, e, at);
        e.report(k, at, rssi)
    }

    /// The weakest-but-two plausible signal at `at`, or a random one.
    fn plausible_rssi(rng: &mut ChaCha8Rng, e: &Epoch, at: Location) -> i32 {
        let p = e.policy;
        match min_loss(d2(e.claim.location, at), &p) {
            Some(l) => p.eirp_dbm - (l + rng.gen_range(0..=2)).min(199),
            None => p.eirp_dbm - rng.gen_range(0..=199),
        }
    }

    /// A report meant to be of kind `kind` (the reference has the last
    /// word), from a fresh key unless it is a duplicate or a self-witness.
    /// `seeds` are the key seeds of the earlier reports; returns the
    /// report and its key's seed.
    fn random_report(
        rng: &mut ChaCha8Rng,
        e: &Epoch,
        seeds: &[u32],
        kind: Kind,
    ) -> (SignedWitnessReport, Option<u32>) {
        let p = e.policy;
        let home = e.claim.location;
        let seed: u32 = rng.gen();
        let k = key(seed);
        let (lo, hi) = (u64::from(p.min_distance_m), u64::from(p.max_distance_m));
        let mut r = honest_report(rng, e, &k);
        let mut resign = true;
        match kind {
            Kind::Honest => resign = false,
            Kind::OutOfEpoch => {
                r.report.epoch = match rng.gen_range(0..3) {
                    0 => e.epoch.wrapping_add(1),
                    1 => e.epoch.wrapping_sub(1),
                    _ => rng.gen(),
                };
            }
            Kind::BadSignature => {
                resign = false;
                match rng.gen_range(0..8) {
                    0 => r.report.location.x ^= 1,
                    1 => r.report.rssi_dbm = r.report.rssi_dbm.wrapping_sub(1),
                    2 => {
                        r.signature.s.add_with_carry(&BigInt::from(1u64));
                    }
                    3 => {
                        r.signature.s.add_with_carry(&SUBORDER);
                    }
                    4 => r.signature.s = BigInt([u64::MAX; 4]),
                    5 => r.signature = key(rng.gen()).sign(&r.report.message()),
                    6 => {
                        // A witness key off the curve, or of small order.
                        r.report.witness = if rng.gen_bool(0.5) {
                            PublicKey(Point {
                                x: r.report.witness.0.x,
                                y: r.report.witness.0.y + Fr::ONE,
                            })
                        } else {
                            PublicKey(Point {
                                x: Fr::ZERO,
                                y: -Fr::ONE,
                            })
                        };
                        r.signature = k.sign(&r.report.message());
                    }
                    _ => r.signature.r8.x += Fr::ONE,
                }
            }
            Kind::SelfWitness => {
                let r = honest_report(rng, e, &device_key());
                return (r, None);
            }
            Kind::WrongBeacon => {
                r.report.beacon_id = match rng.gen_range(0..3) {
                    0 => beacon_id(e.beacon + Fr::ONE, e.device_id()),
                    1 => beacon_id(e.beacon, Fr::from(rng.gen::<u64>())),
                    _ => Fr::from(rng.gen::<u64>()),
                };
            }
            Kind::LocationOutOfRange => {
                let out =
                    [1 << 31, u32::MAX, rng.gen_range(1 << 31..=u32::MAX)][rng.gen_range(0..3)];
                if rng.gen_bool(0.5) {
                    r.report.location.x = out;
                } else {
                    r.report.location.y = out;
                }
            }
            Kind::RssiOutOfRange => {
                r.report.rssi_dbm = [
                    -(1 << 15) - 1,
                    1 << 15,
                    i32::MIN,
                    i32::MAX,
                    -(1 << 15),
                    (1 << 15) - 1,
                    rng.gen(),
                ][rng.gen_range(0..7)];
            }
            Kind::TooClose | Kind::TooFar => {
                let d = match (kind, rng.gen_bool(0.5)) {
                    (Kind::TooClose, true) => lo,
                    (Kind::TooClose, false) => rng.gen_range(0..=lo),
                    (_, true) => hi,
                    _ => rng.gen_range(hi..=hi + 1000),
                };
                r.report.location = around(rng, home, d);
                r.report.rssi_dbm = plausible_rssi(rng, e, r.report.location);
            }
            Kind::TooStrong => {
                r.report.rssi_dbm = match min_loss(d2(home, r.report.location), &p) {
                    Some(l) if l > 0 && rng.gen_bool(0.7) => p.eirp_dbm - rng.gen_range(0..l),
                    _ => p.eirp_dbm + rng.gen_range(1..=50),
                };
            }
            Kind::TooWeak => r.report.rssi_dbm = p.eirp_dbm - rng.gen_range(200..=400),
            Kind::Duplicate => {
                if let Some(&earlier) = seeds.get(rng.gen_range(0..seeds.len().max(1))) {
                    return (honest_report(rng, e, &key(earlier)), Some(earlier));
                }
                resign = false;
            }
        }
        if resign {
            r = sign(&k, r.report);
        }
        (r, Some(seed))
    }

    /// A random epoch of at most `capacity` reports: a random valid
    /// policy, location, epoch and beacon, each report honest with
    /// probability 0.55 and otherwise breaking one rule, and the claim
    /// broken with probability 0.15.
    fn random_epoch(rng: &mut ChaCha8Rng, capacity: usize) -> Epoch {
        let mut e = empty_epoch();
        e.policy = random_policy(rng);
        e.epoch = match rng.gen_range(0..4) {
            0 => 0,
            1 => u32::MAX,
            _ => rng.gen(),
        };
        e.beacon = Fr::from(rng.gen::<u128>());
        let coord = |rng: &mut ChaCha8Rng| match rng.gen_range(0..6) {
            0 => 0,
            1 => MAX_COORD,
            _ => rng.gen_range(0..=MAX_COORD),
        };
        e.claim = CoverageClaim {
            device_id: e.device_id(),
            epoch: e.epoch,
            location: Location {
                x: coord(rng),
                y: coord(rng),
            },
            beacon_id: e.beacon_id(),
        };
        e.resign_claim();
        let n = rng.gen_range(0..=capacity);
        let mut seeds = Vec::new();
        for _ in 0..n {
            let kind = if rng.gen_bool(0.55) {
                Kind::Honest
            } else {
                KINDS[rng.gen_range(1..KINDS.len())]
            };
            let (r, seed) = random_report(rng, &e, &seeds, kind);
            e.reports.push(r);
            seeds.extend(seed);
        }
        if rng.gen_bool(0.15) {
            match rng.gen_range(0..7) {
                0 => e.claim.device_id = Fr::from(rng.gen::<u64>()),
                1 => e.claim.epoch = e.epoch.wrapping_add(1),
                2 => e.claim.beacon_id = beacon_id(e.beacon + Fr::ONE, e.device_id()),
                3 => e.claim.location.x = rng.gen_range(1 << 31..=u32::MAX),
                4 => e.claim.location.y = u32::MAX,
                5 => e.claim_signature = key(rng.gen()).sign(&e.claim.message()),
                _ => {}
            }
            match rng.gen_range(0..3) {
                0 => e.claim.location.x ^= 1, // moved after signing
                1 => {}
                _ => e.resign_claim(),
            }
        }
        e
    }

    #[test]
    fn random_epochs_break_every_rule() {
        // The generator reaches every verdict and both sides of the reward
        // function (checked natively, cheaply).
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen: BTreeMap<Option<RejectReason>, usize> = BTreeMap::new();
        let (mut paid, mut capped, mut below) = (0, 0, 0);
        for _ in 0..1000 {
            let e = random_epoch(&mut rng, CAP);
            let eval = evaluate(&e.input()).unwrap();
            for v in &eval.verdicts {
                *seen.entry(v.reason()).or_default() += 1;
            }
            let v = eval.accepted() as u32;
            if eval.reward > 0 {
                paid += 1;
                capped += usize::from(eval.reward == e.policy.reward_cap && v > 0);
            } else if v > 0 && v < e.policy.min_witnesses {
                below += 1;
            }
        }
        println!("verdicts {seen:?}; paid {paid}, capped {capped}, below min {below}");
        for reason in [
            None,
            Some(RejectReason::WrongDevice),
            Some(RejectReason::OutOfEpoch),
            Some(RejectReason::WrongBeacon),
            Some(RejectReason::BadSignature),
            Some(RejectReason::LocationOutOfRange),
            Some(RejectReason::SelfWitness),
            Some(RejectReason::RssiOutOfRange),
            Some(RejectReason::TooClose),
            Some(RejectReason::TooFar),
            Some(RejectReason::SignalTooStrong),
            Some(RejectReason::SignalTooWeak),
            Some(RejectReason::Duplicate),
        ] {
            assert!(seen.get(&reason).copied().unwrap_or(0) >= 10, "{reason:?}");
        }
        assert!(paid >= 100 && capped >= 20 && below >= 20);
    }

    /// The assignment `[1, instance..., witness...]` of `circuit`,
    /// synthesized without building matrices (the structure does not depend
    /// on the values, so it fits the matrices of any circuit of the same
    /// capacity).
    fn assignment(circuit: CoverageCircuit) -> Vec<Fr> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        circuit.generate_constraints(cs.clone()).expect("synthesis");
        let inner = cs.borrow().expect("constraint system");
        let mut z = inner.instance_assignment().expect("instance").to_vec();
        z.extend_from_slice(inner.witness_assignment().expect("witness"));
        z
    }

    /// [`check`] against the matrices of `template` (built once by
    /// [`R1cs::synthesize`] at the same capacity): the assignment of `e`'s
    /// circuit satisfies them with exactly the reference's public inputs and
    /// not with the reward, the nullifier or the cell changed.
    fn check_with(template: &mut R1cs, e: &Epoch, capacity: usize) -> Evaluation {
        let input = e.input();
        let eval = evaluate(&input).expect("valid input");
        let circuit = CoverageCircuit::with_capacity(&input, capacity).expect("circuit");
        let public = eval.public.to_field_elements();
        assert_eq!(circuit.public_inputs(), public);
        let z = assignment(circuit);
        assert_eq!(z.len(), template.z.len());
        template.z = z;
        assert_eq!(template.public_inputs(), &public[..]);
        assert!(template.is_satisfied(), "unsatisfied on {e:?}");
        let shift = range::pow2(72);
        for (i, d) in [
            (0, shift),
            (0, -shift),
            (4, Fr::ONE),
            (5, Fr::ONE),
            (5, -Fr::ONE),
        ] {
            let mut t = public.clone();
            t[i] += d;
            assert!(
                !template.is_satisfied_with_public(&t),
                "accepts {t:?} on {e:?}"
            );
        }
        eval
    }

    #[test]
    fn assignment_matches_full_synthesis() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..3 {
            let e = random_epoch(&mut rng, CAP);
            let c = CoverageCircuit::with_capacity(&e.input(), CAP).unwrap();
            assert_eq!(assignment(c.clone()), R1cs::synthesize(c).unwrap().z);
        }
    }

    /// Random epochs checked against the reference (about 0.13 s each in
    /// the dev profile).
    const CASES: u32 = 500;

    #[test]
    fn coverage_circuit_matches_reference() {
        let template = R1cs::synthesize(
            CoverageCircuit::with_capacity(&honest(0).input(), CAP).expect("circuit"),
        )
        .expect("synthesis");
        let template = std::cell::RefCell::new(template);
        let stats = std::cell::RefCell::new((0usize, 0usize, 0usize));
        let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
        runner
            .run(&any::<u64>(), |seed| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let e = random_epoch(&mut rng, CAP);
                let eval = check_with(&mut template.borrow_mut(), &e, CAP);
                let mut s = stats.borrow_mut();
                s.0 += usize::from(eval.reward > 0);
                s.1 += eval.accepted();
                s.2 += eval.verdicts.len() - eval.accepted();
                Ok(())
            })
            .expect("equivalence");
        let (paid, accepted, rejected) = stats.into_inner();
        println!("{CASES} epochs: {paid} paid, {accepted} reports accepted, {rejected} rejected");
        assert!(paid > 0 && accepted > 0 && rejected > 0);
    }
}
