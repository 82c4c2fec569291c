//! The bandwidth statement as a halo2 circuit, equivalent to
//! `depin_statements::bandwidth::evaluate` and to the R1CS circuit
//! (`depin_statements_r1cs::bandwidth`), rule for rule.
//!
//! # What is proven
//!
//! For the private device key `A`, policy, `capacity` receipt slots (each
//! `enabled`, the receipt, the client key, the client signature and the
//! registry proof), signed head and signature `(R8, S)`, the instance
//! column holds exactly the public inputs the native reference computes:
//! `[header, device_id, policy_hash, beacon, nullifier, registry_root]`,
//! `header = 2 + 1 * 2^8 + epoch * 2^40 + reward * 2^72`. The reward is
//! `valid ? policy.reward(total) : 0`, `total` the bytes of the accepted
//! receipts, `valid` the epoch-wide check.
//!
//! - **Widths.** `epoch`, receipt `epoch`, `session`, `duration_s`: 32
//!   bits; `bytes`: 64; registry index: 16 ([`REGISTRY_DEPTH`]); policy:
//!   `max_bytes_per_s`, `rate_num` 32 bits, `rate_shift` 7, `reward_cap`
//!   64. Every comparison's operands are range-checked first, so the
//!   circuit reads the reference's integers.
//! - **Policy.** `Poseidon(BANDWIDTH_POLICY, 1, max_bytes_per_s, rate_num,
//!   rate_shift, reward_cap)` is the public `policy_hash`;
//!   `max_bytes_per_s`, `rate_num`, `reward_cap` are non-zero (`is_zero`
//!   constrained to 0) and `rate_shift <= 64`: satisfiable exactly for the
//!   policies `BandwidthPolicy::validate` accepts. **Device**: `Poseidon(A.x,
//!   A.y)` is the public `device_id`. The beacon and the registry root are
//!   witnesses copied to the instance column (no rule uses the beacon).
//! - **Padding.** `enabled_{i+1} (1 - enabled_i) = 0`: enabled slots are a
//!   prefix; a disabled slot neither counts nor enters the chain.
//! - **Rules**, one bit each, `ok = enabled AND r1 AND ... AND r7`:
//!   1. `receipt.device_id == device_id` (field equality);
//!   2. `receipt.epoch == epoch`;
//!   3. `receipt.client_id == Poseidon(client key)`;
//!   4. the EdDSA chip's bit for the client key, the receipt's message
//!      `Poseidon(RECEIPT, device_id, client_id, epoch, session, bytes,
//!      duration_s)` recomputed from the receipt's cells, and the client
//!      signature (native verification; never unsatisfiable);
//!   5. the registry path folded onto `client_id` (the index's 16 bits)
//!      equals `registry_root`;
//!   6. `client_id != device_id`;
//!   7. `bytes <= duration_s * max_bytes_per_s` on 64 bits (the product of
//!      two 32-bit integers is below `2^64`).
//!
//!   Their order only changes the native diagnostic, never whether a
//!   receipt counts, so their AND is exact.
//! - **Rule 8, duplicates.** `dup_i = sum_{j<i} accepted_j [session_j ==
//!   session_i]`, `accepted_i = ok_i (1 - dup_i)`: by induction the
//!   accepted sessions are distinct, so `dup_i` is a bit and `accepted_i`
//!   the native verdict.
//! - **Epoch-wide.** The chain from `Poseidon(BANDWIDTH_CHAIN, device_id,
//!   epoch)` over the enabled receipts' messages; `valid = (chain head ==
//!   signed head) AND verify(A, signed head, (R8, S))`: the native
//!   `ChainBroken` / `BadSignature` checks.
//! - **Reward.** `total = sum accepted_i bytes_i` (below `2^(64 +
//!   bits(capacity))`), `scaled = total * rate_num`, `2^rate_shift` as the
//!   product over the shift's 7 bits `b_k` of `1 + b_k (2^(2^k) - 1)`, and
//!   `scaled = q 2^shift + r` with `r < 2^shift`, `r` 64 bits and `q` on
//!   the width of `scaled`: nothing wraps the modulus, so `q` and `r` are
//!   the integer quotient and remainder. `reward = valid * min(q,
//!   reward_cap)`, range-checked to 64 bits, then the header and the
//!   nullifier `Poseidon(NULLIFIER, device_id, epoch, 2)`.
//!
//! A receipt the reference rejects is excluded (its accepted bit is zero);
//! the circuit is unsatisfied only when an instance differs from the
//! reference's public inputs (or the witness is not an honest layout of
//! the epoch: padding not a suffix, an invalid policy).

use depin_crypto::eddsa::PublicKey;
use depin_statements::bandwidth::{evaluate, BandwidthInput};
use depin_statements::padding::Slot;
use depin_statements::public::{PublicInputs, StatementKind, STATEMENT_VERSION};
use depin_statements::records::{CoSignedReceipt, SignedHead};
use depin_statements::sample::bandwidth::{sample_epoch, sample_key};
use depin_statements::{tags, BandwidthPolicy, BANDWIDTH_CAPACITY, REGISTRY_DEPTH};
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use crate::eddsa::EddsaChip;
use crate::field::to_halo2;
use crate::merkle::MerkleChip;
use crate::range::pow2;
use crate::statement::{bit_width, padded, Chips, PublicCells, StatementCircuit, StatementError};

/// Width of epochs, sessions, durations, `max_bytes_per_s` and `rate_num`
/// (the native `u32`).
const U32_BITS: usize = 32;
/// Width of bytes, of the reward cap and of the reward (the native `u64`).
const U64_BITS: usize = 64;
/// Width of `rate_shift` (at most 64, so 7 bits).
const SHIFT_BITS: usize = 7;
/// Width of the remainder comparison `r < 2^shift` (`2^shift <= 2^64`).
const POW_BITS: usize = 65;

/// The bandwidth statement circuit with its witness.
#[derive(Debug, Clone)]
pub struct BandwidthCircuit {
    device: PublicKey,
    epoch: u32,
    beacon: depin_crypto::Fr,
    policy: BandwidthPolicy,
    registry_root: depin_crypto::Fr,
    /// Exactly `capacity` slots: the receipts in chain order, then
    /// disabled padding.
    slots: Vec<Slot<CoSignedReceipt>>,
    signed_head: SignedHead,
    public: PublicInputs,
}

/// The policy's cells.
struct PolicyCells {
    max_bps: AssignedValue<Fr>,
    rate_num: AssignedValue<Fr>,
    shift_bits: Vec<AssignedValue<Fr>>,
    cap: AssignedValue<Fr>,
    hash: AssignedValue<Fr>,
}

/// What every receipt slot compares with.
struct EpochCells {
    device_id: AssignedValue<Fr>,
    epoch: AssignedValue<Fr>,
    registry_root: AssignedValue<Fr>,
    max_bps: AssignedValue<Fr>,
}

/// A slot's cells that the epoch-wide part uses.
struct SlotCells {
    enabled: AssignedValue<Fr>,
    /// Rules 1 to 7 (and enabled), before rule 8.
    ok: AssignedValue<Fr>,
    session: AssignedValue<Fr>,
    bytes: AssignedValue<Fr>,
    message: AssignedValue<Fr>,
}

/// The chips the circuit uses, built once.
struct Gadgets<'g> {
    chips: Chips<'g>,
    eddsa: EddsaChip<'g, GateChip<Fr>>,
    merkle: MerkleChip<'g, GateChip<Fr>>,
}

impl BandwidthCircuit {
    /// The circuit at the statement capacity ([`BANDWIDTH_CAPACITY`]).
    pub fn new(input: &BandwidthInput<'_>) -> Result<Self, StatementError> {
        Self::with_capacity(input, BANDWIDTH_CAPACITY)
    }

    /// The circuit with `capacity` receipt slots (tests use small ones).
    /// Refuses what the reference refuses and more receipts than
    /// `capacity`.
    pub fn with_capacity(
        input: &BandwidthInput<'_>,
        capacity: usize,
    ) -> Result<Self, StatementError> {
        let evaluation = evaluate(input)?;
        let slots = padded(input.receipts, capacity, &CoSignedReceipt::PADDING)?;
        Ok(BandwidthCircuit {
            device: input.device,
            epoch: input.epoch,
            beacon: input.beacon,
            policy: input.policy,
            registry_root: input.registry_root,
            slots,
            signed_head: input.signed_head,
            public: evaluation.public,
        })
    }

    /// The deterministic honest epoch at full capacity
    /// (`depin_statements::sample::bandwidth::sample_epoch`), for key
    /// generation and benchmarks.
    pub fn sample() -> Result<Self, StatementError> {
        Self::new(&sample_epoch(&sample_key()).as_input())
    }

    /// Number of receipt slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slots as laid out (tests alter them to show what the circuit
    /// refuses).
    #[doc(hidden)]
    pub fn slots_mut(&mut self) -> &mut [Slot<CoSignedReceipt>] {
        &mut self.slots
    }

    /// The private policy (tests forge an invalid one to show the circuit
    /// refuses it).
    #[doc(hidden)]
    pub fn policy_mut(&mut self) -> &mut BandwidthPolicy {
        &mut self.policy
    }

    /// The policy as range-checked cells, hashed.
    fn load_policy(
        &self,
        ctx: &mut Context<Fr>,
        chips: &Chips<'_>,
    ) -> Result<PolicyCells, StatementError> {
        let (g, range) = (chips.gate, &chips.range);
        let p = &self.policy;
        let max_bps = chips.witness_uint(ctx, p.max_bytes_per_s.into(), U32_BITS)?;
        let rate_num = chips.witness_uint(ctx, p.rate_num.into(), U32_BITS)?;
        let shift = ctx.load_witness(Fr::from(u64::from(p.rate_shift)));
        let shift_bits = range.to_bits_le(ctx, shift, SHIFT_BITS)?;
        let max_shift = ctx.load_constant(Fr::from(u64::from(BandwidthPolicy::MAX_RATE_SHIFT)));
        range.enforce_le(ctx, shift, max_shift, SHIFT_BITS)?;
        let cap = chips.witness_uint(ctx, p.reward_cap, U64_BITS)?;
        for v in [max_bps, rate_num, cap] {
            let zero = g.is_zero(ctx, v);
            g.assert_is_const(ctx, &zero, &Fr::ZERO);
        }
        let version = ctx.load_constant(Fr::from(u64::from(STATEMENT_VERSION)));
        let hash = chips.tagged_hash(
            ctx,
            tags::BANDWIDTH_POLICY,
            &[version, max_bps, rate_num, shift, cap],
        )?;
        Ok(PolicyCells {
            max_bps,
            rate_num,
            shift_bits,
            cap,
            hash,
        })
    }

    /// One receipt slot: its cells, its message and rules 1 to 7.
    fn receipt(
        ctx: &mut Context<Fr>,
        gadgets: &Gadgets<'_>,
        at: &EpochCells,
        slot: &Slot<CoSignedReceipt>,
    ) -> Result<SlotCells, StatementError> {
        let Gadgets {
            chips,
            eddsa,
            merkle,
        } = gadgets;
        let (g, range) = (chips.gate, &chips.range);
        let r = &slot.record;
        let rc = &r.receipt;
        let enabled = ctx.load_witness(Fr::from(u64::from(slot.enabled)));
        g.assert_bit(ctx, enabled);
        let device_id = ctx.load_witness(to_halo2(&rc.device_id));
        let client_id = ctx.load_witness(to_halo2(&rc.client_id));
        let epoch = chips.witness_uint(ctx, rc.epoch.into(), U32_BITS)?;
        let session = chips.witness_uint(ctx, rc.session.into(), U32_BITS)?;
        let bytes = chips.witness_uint(ctx, rc.bytes, U64_BITS)?;
        let duration = chips.witness_uint(ctx, rc.duration_s.into(), U32_BITS)?;
        let key = eddsa.load_public_key(ctx, &r.client_key);
        let signature = eddsa.load_signature(ctx, &r.client_signature);
        let index = ctx.load_witness(Fr::from(u64::from(r.registry_proof.index)));
        let index_bits = range.to_bits_le(ctx, index, REGISTRY_DEPTH)?;
        let siblings: Vec<AssignedValue<Fr>> = r
            .registry_proof
            .siblings
            .iter()
            .map(|s| ctx.load_witness(to_halo2(s)))
            .collect();
        let message = chips.tagged_hash(
            ctx,
            tags::RECEIPT,
            &[device_id, client_id, epoch, session, bytes, duration],
        )?;

        // Rules 1 to 7.
        let device_ok = g.is_equal(ctx, device_id, at.device_id);
        let epoch_ok = g.is_equal(ctx, epoch, at.epoch);
        let key_id = eddsa.key_id(ctx, &key)?;
        let key_ok = g.is_equal(ctx, client_id, key_id);
        let signed = eddsa.verify(ctx, &key, message, &signature)?;
        let root = merkle.root_from_path(ctx, client_id, &index_bits, &siblings)?;
        let registered = g.is_equal(ctx, root, at.registry_root);
        let self_dealing = g.is_equal(ctx, client_id, at.device_id);
        let not_self = g.not(ctx, self_dealing);
        let allowed = g.mul(ctx, duration, at.max_bps);
        let plausible = range.is_le(ctx, bytes, allowed, U64_BITS)?;
        let mut ok = enabled;
        for bit in [
            device_ok, epoch_ok, key_ok, signed, registered, not_self, plausible,
        ] {
            ok = g.and(ctx, ok, bit);
        }
        Ok(SlotCells {
            enabled,
            ok,
            session,
            bytes,
            message,
        })
    }

    /// `min(floor(total * rate_num / 2^rate_shift), reward_cap)`.
    fn capped_reward(
        &self,
        ctx: &mut Context<Fr>,
        chips: &Chips<'_>,
        policy: &PolicyCells,
        total: AssignedValue<Fr>,
    ) -> Result<AssignedValue<Fr>, StatementError> {
        let (g, range) = (chips.gate, &chips.range);
        let scaled_bits = U64_BITS + bit_width(self.slots.len()) + U32_BITS;
        let scaled = g.mul(ctx, total, policy.rate_num);
        let mut pow = ctx.load_constant(Fr::ONE);
        for (k, b) in policy.shift_bits.iter().enumerate() {
            let factor = g.mul_add(ctx, *b, Constant(pow2(1 << k) - Fr::ONE), Constant(Fr::ONE));
            pow = g.mul(ctx, pow, factor);
        }
        let (q, r) = divide(scaled.value(), self.policy.rate_shift);
        let quotient = ctx.load_witness(q);
        let remainder = ctx.load_witness(r);
        range.enforce_bits(ctx, quotient, scaled_bits)?;
        range.enforce_bits(ctx, remainder, U64_BITS)?;
        let below = range.is_less_than(ctx, remainder, pow, POW_BITS)?;
        g.assert_is_const(ctx, &below, &Fr::ONE);
        let recomposed = g.mul_add(ctx, quotient, pow, remainder);
        ctx.constrain_equal(&recomposed, &scaled);
        let within_cap = range.is_le(ctx, quotient, policy.cap, scaled_bits)?;
        Ok(g.select(ctx, quotient, policy.cap, within_cap))
    }
}

/// The integer quotient and remainder of `scaled` by `2^shift`, as the
/// witness of the division (a value that is not below `2^128`, or a shift
/// beyond 127, gives a witness the constraints refuse, never a panic).
fn divide(scaled: &Fr, shift: u32) -> (Fr, Fr) {
    let repr = scaled.to_repr();
    let (low, high) = repr.as_ref().split_at(16);
    let value = match <[u8; 16]>::try_from(low) {
        Ok(bytes) if high.iter().all(|b| *b == 0) => u128::from_le_bytes(bytes),
        _ => return (Fr::ZERO, Fr::ZERO),
    };
    let quotient = value.checked_shr(shift).unwrap_or(0);
    let mask = 1u128.checked_shl(shift).map_or(u128::MAX, |m| m - 1);
    (Fr::from_u128(quotient), Fr::from_u128(value & mask))
}

impl StatementCircuit for BandwidthCircuit {
    const KIND: StatementKind = StatementKind::Bandwidth;

    fn expected(&self) -> &PublicInputs {
        &self.public
    }

    fn synthesize(
        &self,
        ctx: &mut Context<Fr>,
        gate: &GateChip<Fr>,
    ) -> Result<Vec<AssignedValue<Fr>>, StatementError> {
        let gadgets = Gadgets {
            chips: Chips::new(gate)?,
            eddsa: EddsaChip::new(gate)?,
            merkle: MerkleChip::new(gate)?,
        };
        let (g, chips, eddsa) = (gate, &gadgets.chips, &gadgets.eddsa);

        // The device key, the epoch, the beacon, the registry and the
        // policy.
        let key = eddsa.load_public_key(ctx, &self.device);
        let device_id = eddsa.key_id(ctx, &key)?;
        let epoch = chips.witness_uint(ctx, self.epoch.into(), U32_BITS)?;
        let beacon = ctx.load_witness(to_halo2(&self.beacon));
        let registry_root = ctx.load_witness(to_halo2(&self.registry_root));
        let policy = self.load_policy(ctx, chips)?;
        let at = EpochCells {
            device_id,
            epoch,
            registry_root,
            max_bps: policy.max_bps,
        };

        // The receipts.
        let mut head = chips.tagged_hash(ctx, tags::BANDWIDTH_CHAIN, &[device_id, epoch])?;
        let mut total = ctx.load_zero();
        // (accepted, session) of the earlier slots.
        let mut earlier: Vec<(AssignedValue<Fr>, AssignedValue<Fr>)> =
            Vec::with_capacity(self.slots.len());
        let mut previous_enabled: Option<AssignedValue<Fr>> = None;
        for slot in &self.slots {
            let s = Self::receipt(ctx, &gadgets, &at, slot)?;
            if let Some(prev) = previous_enabled {
                // enabled_i -> enabled_{i-1}.
                let orphan = g.mul_not(ctx, prev, s.enabled);
                g.assert_is_const(ctx, &orphan, &Fr::ZERO);
            }
            previous_enabled = Some(s.enabled);

            // Rule 8: at most one earlier accepted receipt has the session.
            let mut dup: Option<AssignedValue<Fr>> = None;
            for (accepted_j, session_j) in &earlier {
                let same = g.is_equal(ctx, s.session, *session_j);
                dup = Some(match dup {
                    None => g.mul(ctx, *accepted_j, same),
                    Some(d) => g.mul_add(ctx, *accepted_j, same, d),
                });
            }
            let accepted = match dup {
                None => s.ok,
                Some(d) => g.mul_not(ctx, d, s.ok),
            };
            total = g.mul_add(ctx, accepted, s.bytes, total);
            earlier.push((accepted, s.session));

            // The chain over enabled receipts.
            let stepped = chips.poseidon.hash(ctx, g, &[head, s.message])?;
            head = g.select(ctx, stepped, head, s.enabled);
        }

        // Epoch-wide: the signed head is the recomputed one and the device
        // signed it.
        let signed_head = ctx.load_witness(to_halo2(&self.signed_head.head));
        let head_matches = g.is_equal(ctx, head, signed_head);
        let signature = eddsa.load_signature(ctx, &self.signed_head.signature);
        let signed = eddsa.verify(ctx, &key, signed_head, &signature)?;
        let valid = g.and(ctx, head_matches, signed);

        let capped = self.capped_reward(ctx, chips, &policy, total)?;
        let reward = g.mul(ctx, valid, capped);
        let public = PublicCells {
            device_id,
            policy_hash: policy.hash,
            beacon,
            epoch,
        };
        chips.finish(
            ctx,
            StatementKind::Bandwidth,
            &public,
            reward,
            Some(registry_root),
        )
    }
}
