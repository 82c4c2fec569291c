//! The coverage statement as a halo2 circuit, equivalent to
//! `depin_statements::coverage::evaluate` and to the R1CS circuit
//! (`depin_statements_r1cs::coverage`), rule for rule.
//!
//! # What is proven
//!
//! For the private device key `A`, policy, claim `(device_id', epoch',
//! x, y, beacon_id')` with its signature, and `capacity` report slots
//! (each `enabled` and a signed witness report), the instance column holds
//! exactly the public inputs the native reference computes: `[header,
//! device_id, policy_hash, beacon, nullifier, cell]`, `header = 3 + 1 *
//! 2^8 + epoch * 2^40 + reward * 2^72`. The reward is `valid AND v >=
//! min_witnesses ? min(reward_cap, reward_per_witness * v) : 0`, `v` the
//! enabled reports that pass every rule, `valid` the epoch-wide check on
//! the claim.
//!
//! - **Widths.** Epochs and raw coordinates: 32 bits, their bits kept;
//!   `rssi_dbm`: a signed 32-bit value (`rssi + 2^31` in 32 bits); policy:
//!   `min_witnesses - 1` 4 bits, `reward_per_witness`, `reward_cap` 64,
//!   `min_distance_m`, `max_distance_m` 31, `k_q32` 32, `eirp_dbm + 100`
//!   and `100 - eirp_dbm` 8. Every comparison's operands are range-checked
//!   first. Equalities are halo2-base's `is_equal` bits.
//! - **Policy.** `Poseidon(COVERAGE_POLICY, 1, fields...)` (`eirp_dbm`
//!   modulo `p`) is the public `policy_hash`; validity is enforced:
//!   `reward_per_witness`, `reward_cap`, `k_q32` non-zero (an inverse
//!   exists), `min_distance_m < max_distance_m`, `cell_bits = sum k s_k`
//!   for booleans `s_8..s_31` summing to one.
//! - **Device.** `Poseidon(A.x, A.y)` is the public `device_id`;
//!   `beacon_id = Poseidon(BEACON_ID, beacon, device_id)`.
//! - **Cell.** `x >> cell_bits = sum_k s_k (x >> k)` with `x >> k` from
//!   the 32 bits of `x` (Horner from the top bit; any `u32`, in range or
//!   not, as natively), same for `y`; `cell = cx * 2^32 + cy` is the public
//!   input.
//! - **Claim** (`valid`, the AND of): 1 `device_id' == device_id`; 2
//!   `epoch' == epoch`; 3 `beacon_id' == beacon_id`; 4 the EdDSA chip's
//!   bit for `A` on `Poseidon(COVERAGE_CLAIM, device_id', epoch', x, y,
//!   beacon_id')`; 5 bit 31 of `x` and of `y` clear.
//! - **Per slot** (`ok_j`, the AND of `enabled_j` and): 1 `epoch_j ==
//!   epoch`; 2 the EdDSA bit for the witness key on `Poseidon(WITNESS_REPORT,
//!   witness_id, x_j, y_j, rssi_j, beacon_id_j, epoch_j)`; 3 `witness_id !=
//!   device_id`; 4 `beacon_id_j == beacon_id`; 5 bit 31 of `x_j` and `y_j`
//!   clear; 6 bits 15..30 of `rssi + 2^31` all zero with bit 31 set, or
//!   all one with bit 31 clear (`-2^15 <= rssi < 2^15`); 7 `min^2 < d2`
//!   and 8 `d2 < max^2` as 63-bit comparisons; 9 the path-loss chip's
//!   `plausible` bit. Distance and path loss use safe stand-ins always in
//!   the chips' domains (the low 31 bits of each coordinate; the low 16
//!   bits of `rssi + 2^31` as a signed value), equal to the real values
//!   whenever rules 5 and 6 hold; otherwise the slot is rejected anyway,
//!   so the order of the rules does not change the count.
//! - **Duplicates** (rule 10). `accepted_j = ok_j AND NOT dup_j`, `dup_j =
//!   (prod_{i<j} (1 + accepted_i (wid_j - wid_i - 1)) == 0)`: a factor is
//!   zero exactly when an earlier **accepted** report has the same witness
//!   id, as in the reference.
//! - **Padding.** `enabled_{j+1} (1 - enabled_j) = 0`: enabled slots are a
//!   prefix; a disabled slot has `ok_j = 0`, so it neither counts nor
//!   makes a later report a duplicate.
//! - **Reward.** `v = sum accepted_j`; `enough = min_witnesses <= v` on
//!   `max(bits(capacity), 5)` bits; `linear = reward_per_witness * v`;
//!   `capped = min(linear, reward_cap)` on `64 + max(bits(capacity), 5)`
//!   bits; `reward = (valid AND enough) * capped`, range-checked to 64 bits,
//!   then the header and the nullifier `Poseidon(NULLIFIER, device_id,
//!   epoch, 3)`.
//!
//! A report the reference rejects is excluded (its accepted bit is zero)
//! and a broken claim pays nothing; the circuit is unsatisfied only when
//! an instance differs from the reference's public inputs (or the policy
//! is invalid, which the reference refuses).

use depin_crypto::eddsa::{PublicKey, Signature};
use depin_statements::coverage::{evaluate, CoverageInput};
use depin_statements::padding::Slot;
use depin_statements::public::{PublicInputs, StatementKind, STATEMENT_VERSION};
use depin_statements::records::{CoverageClaim, Location, SignedWitnessReport};
use depin_statements::sample::coverage::{sample_epoch, sample_key};
use depin_statements::{tags, CoveragePolicy, COVERAGE_CAPACITY};
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::{
    AssignedValue, Context,
    QuantumCell::{Constant, Existing},
};

use crate::babyjubjub::AssignedPoint;
use crate::eddsa::EddsaChip;
use crate::field::to_halo2;
use crate::geo::{GeoGates, COORD_BITS, K_BITS};
use crate::range::{pow2, signed_to_fr};
use crate::statement::{bit_width, padded, Chips, PublicCells, StatementCircuit, StatementError};

/// Smallest and largest `cell_bits` (`CoveragePolicy::CELL_BITS_RANGE`).
const CELL_BITS_MIN: usize = 8;
const CELL_BITS_MAX: usize = 31;
/// Width of epochs and raw coordinates (the native `u32`).
const U32_BITS: usize = 32;
/// Width of `min_witnesses - 1` (`min_witnesses` in `1..=16`).
const MIN_WITNESSES_BITS: usize = 4;
/// Width of the reward fields and of the reward.
const REWARD_BITS: usize = 64;
/// `eirp_dbm + 100` and `100 - eirp_dbm` fit in 8 bits.
const EIRP_OFFSET: u64 = 100;
const EIRP_BITS: usize = 8;
/// Squared distances are below `2^63`.
const DIST_SQ_BITS: usize = 63;
/// The RSSI's path-loss domain is `[-2^15, 2^15)`.
const RSSI_DOMAIN_BITS: usize = 15;

type Cell = AssignedValue<Fr>;

/// The coverage statement circuit with its witness.
#[derive(Debug, Clone)]
pub struct CoverageCircuit {
    device: PublicKey,
    epoch: u32,
    beacon: depin_crypto::Fr,
    policy: CoveragePolicy,
    claim: CoverageClaim,
    claim_signature: Signature,
    /// Exactly `capacity` slots: the reports in submission order, then
    /// disabled padding.
    slots: Vec<Slot<SignedWitnessReport>>,
    public: PublicInputs,
}

impl CoverageCircuit {
    /// The circuit at the statement capacity ([`COVERAGE_CAPACITY`]).
    pub fn new(input: &CoverageInput<'_>) -> Result<Self, StatementError> {
        Self::with_capacity(input, COVERAGE_CAPACITY)
    }

    /// The circuit with `capacity` report slots (tests use small ones).
    /// Refuses what the reference refuses (invalid policy, more than
    /// [`COVERAGE_CAPACITY`] reports) and more reports than `capacity`.
    pub fn with_capacity(
        input: &CoverageInput<'_>,
        capacity: usize,
    ) -> Result<Self, StatementError> {
        let evaluation = evaluate(input)?;
        let slots = padded(input.reports, capacity, &SignedWitnessReport::PADDING)?;
        Ok(CoverageCircuit {
            device: input.device,
            epoch: input.epoch,
            beacon: input.beacon,
            policy: input.policy,
            claim: input.claim,
            claim_signature: input.claim_signature,
            slots,
            public: evaluation.public,
        })
    }

    /// The deterministic honest epoch at full capacity
    /// (`depin_statements::sample::coverage::sample_epoch`), for key
    /// generation and benchmarks.
    pub fn sample() -> Result<Self, StatementError> {
        Self::new(&sample_epoch(&sample_key()).as_input())
    }

    /// Number of report slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slots as laid out (tests alter them to show what the circuit
    /// refuses).
    #[doc(hidden)]
    pub fn slots_mut(&mut self) -> &mut [Slot<SignedWitnessReport>] {
        &mut self.slots
    }

    /// The policy as laid out (tests replace it with invalid ones).
    #[doc(hidden)]
    pub fn policy_mut(&mut self) -> &mut CoveragePolicy {
        &mut self.policy
    }
}

/// The epoch-wide cells every slot uses.
struct Epoch<'a> {
    policy: &'a PolicyCells,
    home: &'a LocationCells,
    device_id: Cell,
    epoch: Cell,
    beacon_id: Cell,
}

impl StatementCircuit for CoverageCircuit {
    const KIND: StatementKind = StatementKind::Coverage;

    fn expected(&self) -> &PublicInputs {
        &self.public
    }

    fn synthesize(
        &self,
        ctx: &mut Context<Fr>,
        gate: &GateChip<Fr>,
    ) -> Result<Vec<Cell>, StatementError> {
        let chips = Chips::new(gate)?;
        let eddsa = EddsaChip::new(gate)?;
        let g = gate;

        let policy = PolicyCells::load(&chips, ctx, &self.policy)?;

        // The device, the epoch, the beacon and the beacon id.
        let key = eddsa.load_public_key(ctx, &self.device);
        let device_id = eddsa.key_id(ctx, &key)?;
        let epoch = chips.witness_uint(ctx, self.epoch.into(), U32_BITS)?;
        let beacon = ctx.load_witness(to_halo2(&self.beacon));
        let beacon_id = chips.tagged_hash(ctx, tags::BEACON_ID, &[beacon, device_id])?;

        // The claim and the public cell.
        let home = LocationCells::load(&chips, ctx, self.claim.location)?;
        let ep = Epoch {
            policy: &policy,
            home: &home,
            device_id,
            epoch,
            beacon_id,
        };
        let valid = self.claim(&chips, &eddsa, ctx, &key, &ep)?;
        let cx = home.x.shr(g, ctx, &policy.cell_bits_hot)?;
        let cy = home.y.shr(g, ctx, &policy.cell_bits_hot)?;
        let cell = g.mul_add(ctx, cx, Constant(pow2(U32_BITS)), cy);

        // The reports.
        let mut accepted: Vec<(Cell, Cell)> = Vec::with_capacity(self.slots.len());
        let mut previous_enabled: Option<Cell> = None;
        for slot in &self.slots {
            let enabled = ctx.load_witness(Fr::from(u64::from(slot.enabled)));
            g.assert_bit(ctx, enabled);
            if let Some(prev) = previous_enabled {
                // enabled_j -> enabled_{j-1}.
                let orphan = g.mul_not(ctx, prev, enabled);
                g.assert_is_const(ctx, &orphan, &Fr::ZERO);
            }
            previous_enabled = Some(enabled);
            let (ok, witness_id) = slot_ok(&chips, &eddsa, ctx, &ep, enabled, &slot.record)?;

            // Rule 10: no earlier accepted report with the same witness id.
            let mut product = ctx.load_constant(Fr::ONE);
            for (earlier, earlier_id) in &accepted {
                let diff = g.sub(ctx, witness_id, *earlier_id);
                let shifted = g.sub(ctx, diff, Constant(Fr::ONE));
                let factor = g.mul_add(ctx, *earlier, shifted, Constant(Fr::ONE));
                product = g.mul(ctx, product, factor);
            }
            let duplicate = g.is_zero(ctx, product);
            accepted.push((g.mul_not(ctx, duplicate, ok), witness_id));
        }

        // The reward.
        let count = g.sum(ctx, accepted.iter().map(|(a, _)| *a));
        let count_bits = bit_width(self.slots.len()).max(MIN_WITNESSES_BITS + 1);
        let range = &chips.range;
        let enough = range.is_le(ctx, policy.min_witnesses, count, count_bits)?;
        let linear = g.mul(ctx, policy.reward_per_witness, count);
        let under = range.is_le(ctx, linear, policy.reward_cap, REWARD_BITS + count_bits)?;
        let capped = g.select(ctx, linear, policy.reward_cap, under);
        let pays = g.and(ctx, valid, enough);
        let reward = g.mul(ctx, pays, capped);

        let public = PublicCells {
            device_id,
            policy_hash: policy.hash,
            beacon,
            epoch,
        };
        chips.finish(ctx, StatementKind::Coverage, &public, reward, Some(cell))
    }
}

impl CoverageCircuit {
    /// The claim's bit `valid`: rules 1 to 5 of the epoch-wide check.
    fn claim(
        &self,
        chips: &Chips<'_>,
        eddsa: &EddsaChip<'_, GateChip<Fr>>,
        ctx: &mut Context<Fr>,
        key: &AssignedPoint,
        ep: &Epoch<'_>,
    ) -> Result<Cell, StatementError> {
        let g = chips.gate;
        let c = &self.claim;
        let claim_device = ctx.load_witness(to_halo2(&c.device_id));
        let claim_epoch = chips.witness_uint(ctx, c.epoch.into(), U32_BITS)?;
        let claim_beacon = ctx.load_witness(to_halo2(&c.beacon_id));
        let message = chips.tagged_hash(
            ctx,
            tags::COVERAGE_CLAIM,
            &[
                claim_device,
                claim_epoch,
                ep.home.x.value,
                ep.home.y.value,
                claim_beacon,
            ],
        )?;
        let signature = eddsa.load_signature(ctx, &self.claim_signature);
        let signed = eddsa.verify(ctx, key, message, &signature)?;
        let same_device = g.is_equal(ctx, claim_device, ep.device_id);
        let same_epoch = g.is_equal(ctx, claim_epoch, ep.epoch);
        let same_beacon = g.is_equal(ctx, claim_beacon, ep.beacon_id);
        let in_range = ep.home.in_range(g, ctx);
        Ok(and_all(
            g,
            ctx,
            same_device,
            &[same_epoch, same_beacon, signed, in_range],
        ))
    }
}

/// Rules 1 to 9 of one slot: the bit `ok_j` (zero for a disabled slot)
/// and the witness id.
fn slot_ok(
    chips: &Chips<'_>,
    eddsa: &EddsaChip<'_, GateChip<Fr>>,
    ctx: &mut Context<Fr>,
    ep: &Epoch<'_>,
    enabled: Cell,
    signed_report: &SignedWitnessReport,
) -> Result<(Cell, Cell), StatementError> {
    let (g, range) = (chips.gate, &chips.range);
    let r = &signed_report.report;
    let witness = eddsa.load_public_key(ctx, &r.witness);
    let witness_id = eddsa.key_id(ctx, &witness)?;
    let at = LocationCells::load(chips, ctx, r.location)?;
    let rssi = RssiCells::load(chips, ctx, r.rssi_dbm)?;
    let beacon_id = ctx.load_witness(to_halo2(&r.beacon_id));
    let epoch = chips.witness_uint(ctx, r.epoch.into(), U32_BITS)?;
    let message = chips.tagged_hash(
        ctx,
        tags::WITNESS_REPORT,
        &[
            witness_id, at.x.value, at.y.value, rssi.value, beacon_id, epoch,
        ],
    )?;
    let signature = eddsa.load_signature(ctx, &signed_report.signature);
    let signed = eddsa.verify(ctx, &witness, message, &signature)?;

    let geo = GeoGates::new(g);
    let d2 = geo.distance_sq(ctx, (ep.home.x.low, ep.home.y.low), (at.x.low, at.y.low));
    let far = range.is_less_than(ctx, ep.policy.min_sq, d2, DIST_SQ_BITS)?;
    let near = range.is_less_than(ctx, d2, ep.policy.max_sq, DIST_SQ_BITS)?;
    let loss = geo.check_path_loss(ctx, d2, ep.policy.eirp, rssi.safe, ep.policy.k_q32)?;

    let in_epoch = g.is_equal(ctx, epoch, ep.epoch);
    let self_witness = g.is_equal(ctx, witness_id, ep.device_id);
    let other_witness = g.not(ctx, self_witness);
    let same_beacon = g.is_equal(ctx, beacon_id, ep.beacon_id);
    let in_range = at.in_range(g, ctx);
    let ok = and_all(
        g,
        ctx,
        enabled,
        &[
            in_epoch,
            signed,
            other_witness,
            same_beacon,
            in_range,
            rssi.in_domain,
            far,
            near,
            loss.plausible,
        ],
    );
    Ok((ok, witness_id))
}

/// The AND of boolean cells.
fn and_all(g: &GateChip<Fr>, ctx: &mut Context<Fr>, first: Cell, rest: &[Cell]) -> Cell {
    rest.iter().fold(first, |acc, b| g.and(ctx, acc, *b))
}

/// Bit `i` of a decomposition known to have more than `i` bits.
fn bit(bits: &[Cell], i: usize) -> Result<Cell, StatementError> {
    bits.get(i)
        .copied()
        .ok_or_else(|| StatementError::Layout(format!("decomposition without bit {i}")))
}

/// Enforces `x != 0` (`x` has an inverse).
fn enforce_nonzero(g: &GateChip<Fr>, ctx: &mut Context<Fr>, x: Cell) {
    let zero = g.is_zero(ctx, x);
    g.assert_is_const(ctx, &zero, &Fr::ZERO);
}

/// The policy as range-checked cells, valid, with its hash.
struct PolicyCells {
    min_witnesses: Cell,
    reward_per_witness: Cell,
    reward_cap: Cell,
    /// `min_distance_m^2` and `max_distance_m^2` (below `2^62`).
    min_sq: Cell,
    max_sq: Cell,
    /// Signed, in `-100..=100`.
    eirp: Cell,
    k_q32: Cell,
    /// `s_k = (cell_bits == k)` for `k` in `8..=31`.
    cell_bits_hot: Vec<Cell>,
    hash: Cell,
}

impl PolicyCells {
    /// Loads `p`, enforces `CoveragePolicy::validate` and hashes it as
    /// `CoveragePolicy::hash`.
    fn load(
        chips: &Chips<'_>,
        ctx: &mut Context<Fr>,
        p: &CoveragePolicy,
    ) -> Result<Self, StatementError> {
        let (g, range) = (chips.gate, &chips.range);
        let min_witnesses = ctx.load_witness(Fr::from(u64::from(p.min_witnesses)));
        let below = g.sub(ctx, min_witnesses, Constant(Fr::ONE));
        range.enforce_bits(ctx, below, MIN_WITNESSES_BITS)?;
        let reward_per_witness = chips.witness_uint(ctx, p.reward_per_witness, REWARD_BITS)?;
        enforce_nonzero(g, ctx, reward_per_witness);
        let reward_cap = chips.witness_uint(ctx, p.reward_cap, REWARD_BITS)?;
        enforce_nonzero(g, ctx, reward_cap);
        let min_distance = chips.witness_uint(ctx, p.min_distance_m.into(), COORD_BITS)?;
        let max_distance = chips.witness_uint(ctx, p.max_distance_m.into(), COORD_BITS)?;
        // min < max: max - min - 1 in 31 bits.
        let gap = g.sub(ctx, max_distance, min_distance);
        let gap = g.sub(ctx, gap, Constant(Fr::ONE));
        range.enforce_bits(ctx, gap, COORD_BITS)?;
        let min_sq = g.mul(ctx, min_distance, min_distance);
        let max_sq = g.mul(ctx, max_distance, max_distance);
        let eirp = ctx.load_witness(signed_to_fr(i64::from(p.eirp_dbm)));
        let up = g.add(ctx, eirp, Constant(Fr::from(EIRP_OFFSET)));
        range.enforce_bits(ctx, up, EIRP_BITS)?;
        let down = g.sub(ctx, Constant(Fr::from(EIRP_OFFSET)), eirp);
        range.enforce_bits(ctx, down, EIRP_BITS)?;
        let k_q32 = chips.witness_uint(ctx, p.k_q32.into(), K_BITS)?;
        enforce_nonzero(g, ctx, k_q32);
        let cell_bits_hot: Vec<Cell> = (CELL_BITS_MIN..=CELL_BITS_MAX)
            .map(|k| ctx.load_witness(Fr::from(u64::from(p.cell_bits as usize == k))))
            .collect();
        for s in &cell_bits_hot {
            g.assert_bit(ctx, *s);
        }
        let ones = g.sum(ctx, cell_bits_hot.iter().copied());
        g.assert_is_const(ctx, &ones, &Fr::ONE);
        let cell_bits = g.inner_product(
            ctx,
            cell_bits_hot.iter().copied(),
            (CELL_BITS_MIN as u64..).map(|k| Constant(Fr::from(k))),
        );
        let version = ctx.load_constant(Fr::from(u64::from(STATEMENT_VERSION)));
        let hash = chips.tagged_hash(
            ctx,
            tags::COVERAGE_POLICY,
            &[
                version,
                min_witnesses,
                reward_per_witness,
                reward_cap,
                min_distance,
                max_distance,
                eirp,
                k_q32,
                cell_bits,
            ],
        )?;
        Ok(PolicyCells {
            min_witnesses,
            reward_per_witness,
            reward_cap,
            min_sq,
            max_sq,
            eirp,
            k_q32,
            cell_bits_hot,
            hash,
        })
    }
}

/// A native `u32` coordinate: its value, its 32 bits and its low 31 bits.
struct UintCells {
    value: Cell,
    bits: Vec<Cell>,
    /// Bit 31.
    top: Cell,
    /// The low 31 bits: the coordinate when in range, and always a valid
    /// input of the distance gate.
    low: Cell,
}

impl UintCells {
    fn load(chips: &Chips<'_>, ctx: &mut Context<Fr>, v: u32) -> Result<Self, StatementError> {
        let g = chips.gate;
        let value = ctx.load_witness(Fr::from(u64::from(v)));
        let bits = chips.range.to_bits_le(ctx, value, U32_BITS)?;
        let top = bit(&bits, COORD_BITS)?;
        let low = g.mul_add(ctx, top, Constant(-pow2(COORD_BITS)), value);
        Ok(UintCells {
            value,
            bits,
            top,
            low,
        })
    }

    /// `value >> cell_bits` for the one-hot `hot` over `8..=31`:
    /// `sum_k s_k (value >> k)`, each `value >> k = 2 (value >> (k + 1)) +
    /// bit_k` from the top bit down.
    fn shr(
        &self,
        g: &GateChip<Fr>,
        ctx: &mut Context<Fr>,
        hot: &[Cell],
    ) -> Result<Cell, StatementError> {
        let mut acc = self.top;
        let mut shifted = vec![acc];
        for k in (CELL_BITS_MIN..CELL_BITS_MAX).rev() {
            acc = g.mul_add(ctx, acc, Constant(Fr::from(2u64)), bit(&self.bits, k)?);
            shifted.push(acc);
        }
        // `shifted` runs from k = 31 down to 8; `hot` from 8 up to 31.
        Ok(g.inner_product(
            ctx,
            hot.iter().copied(),
            shifted.into_iter().rev().map(Existing),
        ))
    }
}

/// A location as two [`UintCells`].
struct LocationCells {
    x: UintCells,
    y: UintCells,
}

impl LocationCells {
    fn load(chips: &Chips<'_>, ctx: &mut Context<Fr>, l: Location) -> Result<Self, StatementError> {
        Ok(LocationCells {
            x: UintCells::load(chips, ctx, l.x)?,
            y: UintCells::load(chips, ctx, l.y)?,
        })
    }

    /// `Location::in_range`: bit 31 of both coordinates clear.
    fn in_range(&self, g: &GateChip<Fr>, ctx: &mut Context<Fr>) -> Cell {
        let x_in = g.not(ctx, self.x.top);
        g.mul_not(ctx, self.y.top, x_in)
    }
}

/// A native `i32` RSSI: its field encoding, whether it is in the path-loss
/// domain, and a stand-in always in that domain.
struct RssiCells {
    /// `rssi mod p`, as in the report message.
    value: Cell,
    /// `-2^15 <= rssi < 2^15`.
    in_domain: Cell,
    /// The low 16 bits of `rssi` as a signed value: `rssi` when in domain.
    safe: Cell,
}

impl RssiCells {
    fn load(chips: &Chips<'_>, ctx: &mut Context<Fr>, rssi: i32) -> Result<Self, StatementError> {
        let g = chips.gate;
        let value = ctx.load_witness(signed_to_fr(i64::from(rssi)));
        // rssi + 2^31 in 32 bits: rssi is a signed 32-bit integer.
        let offset = g.add(ctx, value, Constant(pow2(U32_BITS - 1)));
        let bits = chips.range.to_bits_le(ctx, offset, U32_BITS)?;
        // In domain iff bits 15..=30 are all 0 with bit 31 set (0 <= rssi <
        // 2^15) or all 1 with bit 31 clear (-2^15 <= rssi < 0).
        let middle_bits = bits
            .get(RSSI_DOMAIN_BITS..U32_BITS - 1)
            .ok_or_else(|| StatementError::Layout("RSSI decomposition too short".into()))?;
        let width = Fr::from(middle_bits.len() as u64);
        let middle = g.sum(ctx, middle_bits.iter().copied());
        let sign = bit(&bits, U32_BITS - 1)?;
        let with_sign = g.mul_add(ctx, sign, Constant(width), middle);
        let off = g.sub(ctx, with_sign, Constant(width));
        let in_domain = g.is_zero(ctx, off);
        // Two's complement of the low 16 bits (rssi mod 2^16, as 2^31 = 0
        // mod 2^16).
        let low = g.inner_product(
            ctx,
            bits.iter().take(RSSI_DOMAIN_BITS).copied(),
            (0..RSSI_DOMAIN_BITS).map(|i| Constant(pow2(i))),
        );
        let sign16 = bit(&bits, RSSI_DOMAIN_BITS)?;
        let safe = g.mul_add(ctx, sign16, Constant(-pow2(RSSI_DOMAIN_BITS)), low);
        Ok(RssiCells {
            value,
            in_domain,
            safe,
        })
    }
}
