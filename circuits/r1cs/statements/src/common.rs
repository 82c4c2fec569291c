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
    header: FpVar<Fr>,
    nullifier: FpVar<Fr>,
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
            header,
            nullifier,
            extra,
        })
    }

    /// Binds the header to `kind`, the version, the epoch and `reward`
    /// (which must already be known to fit 64 bits; this range-checks it
    /// again to make the packing unique on its own), and the nullifier to
    /// `Poseidon(NULLIFIER, device_id, epoch, kind)`.
    pub fn finish(&self, kind: StatementKind, reward: &FpVar<Fr>) -> Result<(), SynthesisError> {
        range::enforce_bits(reward, 64)?;
        let packed = FpVar::constant(
            Fr::from(kind.code())
                + Fr::from(STATEMENT_VERSION) * range::pow2(HEADER_VERSION_SHIFT as usize),
        ) + &self.epoch * range::pow2(HEADER_EPOCH_SHIFT as usize)
            + reward * range::pow2(HEADER_REWARD_SHIFT as usize);
        packed.enforce_equal(&self.header)?;
        let nullifier = poseidon::hash(&[
            FpVar::constant(tags::fr(tags::NULLIFIER)),
            self.device_id.clone(),
            self.epoch.clone(),
            FpVar::constant(Fr::from(kind.code())),
        ])?;
        nullifier.enforce_equal(&self.nullifier)
    }
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
