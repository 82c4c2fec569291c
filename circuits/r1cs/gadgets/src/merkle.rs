//! Poseidon Merkle membership, the circuit side of
//! [`depin_crypto::merkle`].
//!
//! # What is proven
//!
//! [`root_from_path`] folds `siblings` (leaf level first) onto `leaf`: at
//! level `i`, `cur = Poseidon(cur, sib)` when `index_bits[i]` is false and
//! `Poseidon(sib, cur)` when it is true, exactly as the native
//! [`depin_crypto::merkle::root_from_path`] reads bit `i` of the index
//! (least significant first). The swap is one constraint
//! (`left = bit ? sib : cur`, `right = cur + sib - left`), so a level costs
//! [`CONSTRAINTS_PER_LEVEL`] = 241 constraints; [`is_member`] adds 2 and
//! [`enforce_member`] adds 1.
//!
//! # Soundness assumptions
//!
//! - `index_bits` are [`Boolean`]s, hence boolean-constrained. When the
//!   index comes as a field element, decompose it with
//!   [`crate::range::to_bits_le`]`(index, depth)`, which also enforces
//!   `index < 2^depth` as the native code does.
//! - Membership rests on Poseidon's collision resistance: a different leaf,
//!   sibling or index under the same root would be a Poseidon collision.
//! - The depth is fixed by the caller (the slices' length, `1..=32` like the
//!   native [`depin_crypto::merkle::MAX_DEPTH`]); the circuit does not hide
//!   it.
//!
//! [`is_member`] never makes the system unsatisfiable, so a statement can
//! disable an entry whose membership fails; [`enforce_member`] does.

use crate::poseidon::hash2;
use ark_bn254::Fr;
use ark_r1cs_std::{boolean::Boolean, eq::EqGadget, fields::fp::FpVar, select::CondSelectGadget};
use ark_relations::gr1cs::SynthesisError;
use depin_crypto::merkle::MAX_DEPTH;

/// Constraints per tree level: 240 for `Poseidon(left, right)`, 1 for the
/// conditional swap.
pub const CONSTRAINTS_PER_LEVEL: usize = 241;

/// The root obtained by folding `siblings` (leaf level first) onto `leaf`,
/// with `index_bits[i]` true when the node at level `i` is a right child.
///
/// Costs `241 * depth` constraints. Errors with
/// [`SynthesisError::Unsatisfiable`] when the two slices differ in length or
/// the depth is outside `1..=32`.
pub fn root_from_path(
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let depth = siblings.len();
    if depth == 0 || depth > MAX_DEPTH || index_bits.len() != depth {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut cur = leaf.clone();
    for (bit, sib) in index_bits.iter().zip(siblings) {
        let left = FpVar::conditionally_select(bit, sib, &cur)?;
        let right = &cur + sib - &left;
        cur = hash2(&left, &right)?;
    }
    Ok(cur)
}

/// Whether `leaf` sits at the index `index_bits` under `root`.
///
/// Costs `241 * depth + 2` constraints and never makes the system
/// unsatisfiable.
pub fn is_member(
    root: &FpVar<Fr>,
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
) -> Result<Boolean<Fr>, SynthesisError> {
    root_from_path(leaf, index_bits, siblings)?.is_eq(root)
}

/// Enforces that `leaf` sits at the index `index_bits` under `root`.
///
/// Costs `241 * depth + 1` constraints.
pub fn enforce_member(
    root: &FpVar<Fr>,
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
) -> Result<(), SynthesisError> {
    root_from_path(leaf, index_bits, siblings)?.enforce_equal(root)
}

#[cfg(test)]
mod tests;
