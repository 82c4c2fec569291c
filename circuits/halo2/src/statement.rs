//! What every statement circuit shares: its errors, the trait the prover
//! uses, the public-input layout and the nullifier.
//!
//! The public inputs are the instance column's cells in the order of
//! `PublicInputs::to_field_elements`: `[header, device_id, policy_hash,
//! beacon, nullifier]`, then the kind-specific input. Each is a cell the
//! circuit computes (or a witness every rule uses, for the beacon and the
//! registry root), copied to the instance column: the header packs
//! `kind + version * 2^8 + epoch * 2^40 + reward * 2^72` with `epoch`
//! range-checked to 32 bits, `reward` to 64 bits and `kind`, `version`
//! constants, so the packing is unique; the nullifier is
//! `Poseidon(NULLIFIER, device_id, epoch, kind)`. The same values, in the
//! same order and meaning, as the R1CS circuits' (`depin-statements-r1cs`).

use depin_statements::padding::{pad_to, Slot};
use depin_statements::public::{
    PublicInputs, HEADER_EPOCH_SHIFT, HEADER_REWARD_SHIFT, HEADER_VERSION_SHIFT,
};
use depin_statements::{tags, EvalError, StatementKind, STATEMENT_VERSION};
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use crate::eddsa::EddsaChipError;
use crate::field::to_halo2;
use crate::merkle::MerkleChipError;
use crate::poseidon::{Poseidon, PoseidonChipError};
use crate::range::{pow2, RangeError, RangeGates};

/// Why a statement circuit could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The native reference refused the input (capacity, policy).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// More records than the circuit's capacity.
    #[error("{records} records exceed the circuit capacity of {capacity}")]
    Capacity {
        /// Records given.
        records: usize,
        /// Circuit capacity.
        capacity: usize,
    },
    /// A Poseidon chip refused its arity.
    #[error(transparent)]
    Poseidon(#[from] PoseidonChipError),
    /// A range gate refused its width.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// The signature chip could not be built.
    #[error(transparent)]
    Eddsa(#[from] EddsaChipError),
    /// A Merkle path had the wrong shape.
    #[error(transparent)]
    Merkle(#[from] MerkleChipError),
    /// The circuit does not fit the rows or columns asked for.
    #[error("circuit layout: {0}")]
    Layout(String),
}

/// A statement circuit with its witness, as the halo2 prover needs it.
pub trait StatementCircuit {
    /// The statement this circuit proves.
    const KIND: StatementKind;

    /// The native reference's public inputs for this witness.
    fn expected(&self) -> &PublicInputs;

    /// The public inputs, in the fixed order, in halo2's field.
    fn public_inputs(&self) -> Vec<Fr> {
        self.expected()
            .to_field_elements()
            .iter()
            .map(to_halo2)
            .collect()
    }

    /// Lays the statement out in `ctx` and returns the cells of its public
    /// inputs, in the fixed order.
    fn synthesize(
        &self,
        ctx: &mut Context<Fr>,
        gate: &GateChip<Fr>,
    ) -> Result<Vec<AssignedValue<Fr>>, StatementError>;
}

/// The epoch-wide cells every statement exposes.
#[derive(Clone, Copy, Debug)]
pub struct PublicCells {
    /// The device id (computed from the key by the statement).
    pub device_id: AssignedValue<Fr>,
    /// The policy hash (computed from the policy fields).
    pub policy_hash: AssignedValue<Fr>,
    /// The epoch beacon (a witness every challenge uses).
    pub beacon: AssignedValue<Fr>,
    /// The epoch, range-checked to 32 bits.
    pub epoch: AssignedValue<Fr>,
}

/// The chips a statement uses, built once.
#[derive(Debug)]
pub struct Chips<'g> {
    /// The flex gate.
    pub gate: &'g GateChip<Fr>,
    /// Range checks and comparisons.
    pub range: RangeGates<'g, GateChip<Fr>>,
    /// circomlib's Poseidon of every arity.
    pub poseidon: Poseidon,
}

impl<'g> Chips<'g> {
    /// The chips over `gate`.
    pub fn new(gate: &'g GateChip<Fr>) -> Result<Self, StatementError> {
        Ok(Chips {
            gate,
            range: RangeGates::new(gate),
            poseidon: Poseidon::new()?,
        })
    }

    /// A `u64` as a witness, range-checked to `bits`.
    pub fn witness_uint(
        &self,
        ctx: &mut Context<Fr>,
        value: u64,
        bits: usize,
    ) -> Result<AssignedValue<Fr>, StatementError> {
        let v = ctx.load_witness(Fr::from(value));
        self.range.enforce_bits(ctx, v, bits)?;
        Ok(v)
    }

    /// `Poseidon(tag, inputs...)` with the tag a constant.
    pub fn tagged_hash(
        &self,
        ctx: &mut Context<Fr>,
        tag: u128,
        inputs: &[AssignedValue<Fr>],
    ) -> Result<AssignedValue<Fr>, StatementError> {
        let mut all = Vec::with_capacity(inputs.len() + 1);
        all.push(ctx.load_constant(to_halo2(&tags::fr(tag))));
        all.extend_from_slice(inputs);
        Ok(self.poseidon.hash(ctx, self.gate, &all)?)
    }

    /// The public inputs of `kind` for `reward` (range-checked again to 64
    /// bits, so that the header's packing is unique on its own), in the
    /// fixed order, `extra` last when the statement has one.
    pub fn finish(
        &self,
        ctx: &mut Context<Fr>,
        kind: StatementKind,
        public: &PublicCells,
        reward: AssignedValue<Fr>,
        extra: Option<AssignedValue<Fr>>,
    ) -> Result<Vec<AssignedValue<Fr>>, StatementError> {
        let g = self.gate;
        self.range.enforce_bits(ctx, reward, 64)?;
        let fixed = Fr::from(u64::from(kind.code()))
            + Fr::from(u64::from(STATEMENT_VERSION)) * pow2(HEADER_VERSION_SHIFT as usize);
        let with_epoch = g.mul_add(
            ctx,
            public.epoch,
            Constant(pow2(HEADER_EPOCH_SHIFT as usize)),
            Constant(fixed),
        );
        let header = g.mul_add(
            ctx,
            reward,
            Constant(pow2(HEADER_REWARD_SHIFT as usize)),
            with_epoch,
        );
        let kind_cell = ctx.load_constant(Fr::from(u64::from(kind.code())));
        let nullifier = self.tagged_hash(
            ctx,
            tags::NULLIFIER,
            &[public.device_id, public.epoch, kind_cell],
        )?;
        let mut out = vec![
            header,
            public.device_id,
            public.policy_hash,
            public.beacon,
            nullifier,
        ];
        out.extend(extra);
        Ok(out)
    }
}

/// `records` in exactly `capacity` slots, padding a disabled suffix of
/// `filler`; more records than `capacity` is [`StatementError::Capacity`].
pub fn padded<T: Clone>(
    records: &[T],
    capacity: usize,
    filler: &T,
) -> Result<Vec<Slot<T>>, StatementError> {
    if records.len() > capacity {
        return Err(StatementError::Capacity {
            records: records.len(),
            capacity,
        });
    }
    Ok(pad_to(records, capacity, filler))
}

/// Bits needed to write `n` (0 for 0).
pub const fn bit_width(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
}
