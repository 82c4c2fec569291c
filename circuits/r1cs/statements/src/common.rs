//! What every statement circuit shares: the public-input layout, the
//! nullifier, and the trait the prover uses.
//!
//! Public inputs are allocated first and in the order of
//! `PublicInputs::to_field_elements`: `[header, device_id, policy_hash,
//! beacon, nullifier]`, then the kind-specific input. The header packs
//! `kind + version * 2^8 + epoch * 2^40 + reward * 2^72`; the circuit
//! range-checks `epoch` to 32 bits and `reward` to 64 bits and fixes `kind`
//! and `version` as constants, so the packing is unique.

use ark_bn254::Fr;
use ark_r1cs_std::{
    alloc::AllocVar,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use depin_gadgets::{poseidon, range};
use depin_statements::padding::{pad_to, Slot};
use depin_statements::public::{
    PublicInputs, HEADER_EPOCH_SHIFT, HEADER_REWARD_SHIFT, HEADER_VERSION_SHIFT,
};
use depin_statements::{tags, EvalError, StatementKind, STATEMENT_VERSION};

/// Why a circuit could not be built from an input.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
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
}

/// A statement circuit with its witness: what the prover needs.
pub trait StatementCircuit: ConstraintSynthesizer<Fr> + Clone {
    /// The statement this circuit proves.
    const KIND: StatementKind;

    /// The public inputs the witness proves, in the fixed order.
    fn public_inputs(&self) -> Vec<Fr>;

    /// The native reference's public inputs for this witness.
    fn expected(&self) -> &PublicInputs;

    /// Synthesizes the statement as one position of a batch: the values
    /// that are public inputs of the single-device circuit are witnesses
    /// here, the epoch-wide ones taken from `shared` (see
    /// [`PublicVars::in_batch`]). Returns the device id and the reward,
    /// which the batch circuit credits and publishes; every rule is the
    /// single-device circuit's, constraint for constraint.
    fn synthesize_in_batch(
        &self,
        cs: ConstraintSystemRef<Fr>,
        shared: &SharedVars,
    ) -> Result<PositionVars, SynthesisError>;
}

/// The epoch-wide values a batch's positions share, allocated once by the
/// batch circuit (which binds them to its public input).
#[derive(Clone, Debug)]
pub struct SharedVars {
    /// The epoch, range-checked to 32 bits by the batch circuit.
    pub epoch: FpVar<Fr>,
    /// The policy hash.
    pub policy_hash: FpVar<Fr>,
    /// The epoch beacon.
    pub beacon: FpVar<Fr>,
    /// Bandwidth only: the client registry root.
    pub registry_root: Option<FpVar<Fr>>,
}

/// What one position of a batch hands back to the batch circuit.
#[derive(Clone, Debug)]
pub struct PositionVars {
    /// The device id the statement is bound to.
    pub device_id: FpVar<Fr>,
    /// The statement's reward, range-checked to 64 bits.
    pub reward: FpVar<Fr>,
}

/// The public inputs as circuit variables, plus the in-circuit values they
/// are tied to.
pub struct PublicVars {
    /// Device id (public input).
    pub device_id: FpVar<Fr>,
    /// Policy hash (public input).
    pub policy_hash: FpVar<Fr>,
    /// Epoch beacon (public input).
    pub beacon: FpVar<Fr>,
    /// Epoch number (private, range-checked to 32 bits, bound by the header).
    pub epoch: FpVar<Fr>,
    /// The header and nullifier inputs; `None` in a batch, where the batch
    /// circuit binds the reward and the epoch instead.
    binding: Option<(FpVar<Fr>, FpVar<Fr>)>,
    /// Bandwidth registry root or coverage cell (public input), if any.
    pub extra: Option<FpVar<Fr>>,
}

impl PublicVars {
    /// Allocates the public inputs of `public` (in order) and the private
    /// epoch. `public_override` replaces the values of the public inputs
    /// (tests use it to show that any other public input is unsatisfiable).
    pub fn allocate(
        cs: ConstraintSystemRef<Fr>,
        public: &PublicInputs,
        public_override: Option<&[Fr]>,
    ) -> Result<Self, SynthesisError> {
        let values = public_override
            .map(<[Fr]>::to_vec)
            .unwrap_or_else(|| public.to_field_elements());
        let input = |i: usize| {
            FpVar::new_input(cs.clone(), || {
                values
                    .get(i)
                    .copied()
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let header = input(0)?;
        let device_id = input(1)?;
        let policy_hash = input(2)?;
        let beacon = input(3)?;
        let nullifier = input(4)?;
        let extra = match public.kind {
            StatementKind::Uptime => None,
            StatementKind::Bandwidth | StatementKind::Coverage => Some(input(5)?),
        };
        let epoch = FpVar::new_witness(cs.clone(), || Ok(Fr::from(public.epoch)))?;
        range::enforce_bits(&epoch, 32)?;
        Ok(PublicVars {
            device_id,
            policy_hash,
            beacon,
            epoch,
            binding: Some((header, nullifier)),
            extra,
        })
    }

    /// The same values for one position of a batch: the device id (and the
    /// coverage cell) are witnesses of `public`'s values, the epoch, policy
    /// hash, beacon and registry root are `shared`'s. There is no header and
    /// no nullifier: the rewards tree refuses a second credit for an epoch.
    pub fn in_batch(
        cs: ConstraintSystemRef<Fr>,
        public: &PublicInputs,
        shared: &SharedVars,
    ) -> Result<Self, SynthesisError> {
        let device_id = FpVar::new_witness(cs.clone(), || Ok(public.device_id))?;
        let extra = match public.kind {
            StatementKind::Uptime => None,
            StatementKind::Bandwidth => Some(
                shared
                    .registry_root
                    .clone()
                    .ok_or(SynthesisError::AssignmentMissing)?,
            ),
            StatementKind::Coverage => Some(FpVar::new_witness(cs, || {
                public
                    .cell
                    .map(Fr::from)
                    .ok_or(SynthesisError::AssignmentMissing)
            })?),
        };
        Ok(PublicVars {
            device_id,
            policy_hash: shared.policy_hash.clone(),
            beacon: shared.beacon.clone(),
            epoch: shared.epoch.clone(),
            binding: None,
            extra,
        })
    }

    /// Binds the header to `kind`, the version, the epoch and `reward`
    /// (which must already be known to fit 64 bits; this range-checks it
    /// again to make the packing unique on its own), and the nullifier to
    /// `Poseidon(NULLIFIER, device_id, epoch, kind)`. In a batch only the
    /// range check is made. Returns the position's device id and reward.
    pub fn finish(
        &self,
        kind: StatementKind,
        reward: &FpVar<Fr>,
    ) -> Result<PositionVars, SynthesisError> {
        range::enforce_bits(reward, 64)?;
        let out = PositionVars {
            device_id: self.device_id.clone(),
            reward: reward.clone(),
        };
        let Some((header, nullifier)) = &self.binding else {
            return Ok(out);
        };
        let packed = FpVar::constant(
            Fr::from(kind.code())
                + Fr::from(STATEMENT_VERSION) * range::pow2(HEADER_VERSION_SHIFT as usize),
        ) + &self.epoch * range::pow2(HEADER_EPOCH_SHIFT as usize)
            + reward * range::pow2(HEADER_REWARD_SHIFT as usize);
        packed.enforce_equal(header)?;
        poseidon::hash(&[
            FpVar::constant(tags::fr(tags::NULLIFIER)),
            self.device_id.clone(),
            self.epoch.clone(),
            FpVar::constant(Fr::from(kind.code())),
        ])?
        .enforce_equal(nullifier)?;
        Ok(out)
    }
}

/// `records` in exactly `capacity` slots, padding a disabled suffix of
/// `filler`; more records than `capacity` is [`CircuitError::Capacity`].
pub fn padded<T: Clone>(
    records: &[T],
    capacity: usize,
    filler: &T,
) -> Result<Vec<Slot<T>>, CircuitError> {
    if records.len() > capacity {
        return Err(CircuitError::Capacity {
            records: records.len(),
            capacity,
        });
    }
    Ok(pad_to(records, capacity, filler))
}

/// A `u64` as a field-element witness, range-checked to `bits`.
pub fn witness_uint(
    cs: &ConstraintSystemRef<Fr>,
    value: u64,
    bits: usize,
) -> Result<FpVar<Fr>, SynthesisError> {
    let v = FpVar::new_witness(cs.clone(), || Ok(Fr::from(value)))?;
    range::enforce_bits(&v, bits)?;
    Ok(v)
}
