//! Poseidon Merkle membership as a halo2-base chip, the circuit side of
//! `depin_crypto::merkle`.
//!
//! # What is proven
//!
//! [`MerkleChip::root_from_path`] folds `siblings` (leaf level first) onto
//! `leaf`: at level `i`, `cur = Poseidon(cur, sib)` when `index_bits[i]` is
//! zero and `Poseidon(sib, cur)` when it is one, exactly as the native
//! `depin_crypto::merkle::root_from_path` reads bit `i` of the index (least
//! significant first). The swap is one select (`left = bit ? sib : cur`,
//! `right = cur + sib - left`). [`MerkleChip::is_member`] returns the bit
//! "the folded root equals `root`" and never makes the circuit
//! unsatisfiable; [`MerkleChip::enforce_member`] constrains it.
//!
//! # Soundness assumptions
//!
//! - `index_bits` are constrained boolean by the caller (for an index cell,
//!   `RangeGates::to_bits_le(index, depth)`, which also enforces
//!   `index < 2^depth` as the native code does).
//! - Membership rests on Poseidon's collision resistance.
//! - The depth (`1..=32`, as `depin_crypto::merkle::MAX_DEPTH`) is fixed by
//!   the slices' length.

use depin_crypto::merkle::MAX_DEPTH;
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::{AssignedValue, Context};

use crate::poseidon::{PoseidonChip, PoseidonChipError};

/// Why a Merkle path cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleChipError {
    /// The depth is outside `1..=32`, or the index bits and siblings differ
    /// in number.
    #[error("a path of {siblings} siblings and {bits} index bits (depth 1..={MAX_DEPTH})")]
    Depth {
        /// Siblings given.
        siblings: usize,
        /// Index bits given.
        bits: usize,
    },
    /// The node hash could not be built.
    #[error(transparent)]
    Poseidon(#[from] PoseidonChipError),
}

/// Merkle membership over `Poseidon(left, right)`.
#[derive(Clone, Debug)]
pub struct MerkleChip<'g, G: GateInstructions<Fr>> {
    gate: &'g G,
    node: PoseidonChip,
}

impl<'g, G: GateInstructions<Fr>> MerkleChip<'g, G> {
    /// The chip over `gate`.
    pub fn new(gate: &'g G) -> Result<Self, MerkleChipError> {
        Ok(MerkleChip {
            gate,
            node: PoseidonChip::new(2)?,
        })
    }

    /// The root obtained by folding `siblings` (leaf level first) onto
    /// `leaf`, `index_bits[i]` one when the node at level `i` is a right
    /// child.
    pub fn root_from_path(
        &self,
        ctx: &mut Context<Fr>,
        leaf: AssignedValue<Fr>,
        index_bits: &[AssignedValue<Fr>],
        siblings: &[AssignedValue<Fr>],
    ) -> Result<AssignedValue<Fr>, MerkleChipError> {
        let depth = siblings.len();
        if depth == 0 || depth > MAX_DEPTH || index_bits.len() != depth {
            return Err(MerkleChipError::Depth {
                siblings: depth,
                bits: index_bits.len(),
            });
        }
        let g = self.gate;
        let mut cur = leaf;
        for (bit, sib) in index_bits.iter().zip(siblings) {
            let left = g.select(ctx, *sib, cur, *bit);
            let both = g.add(ctx, cur, *sib);
            let right = g.sub(ctx, both, left);
            cur = self.node.hash(ctx, g, &[left, right])?;
        }
        Ok(cur)
    }

    /// The bit "`leaf` sits at the index `index_bits` under `root`".
    pub fn is_member(
        &self,
        ctx: &mut Context<Fr>,
        root: AssignedValue<Fr>,
        leaf: AssignedValue<Fr>,
        index_bits: &[AssignedValue<Fr>],
        siblings: &[AssignedValue<Fr>],
    ) -> Result<AssignedValue<Fr>, MerkleChipError> {
        let folded = self.root_from_path(ctx, leaf, index_bits, siblings)?;
        Ok(self.gate.is_equal(ctx, folded, root))
    }

    /// Constrains `leaf` to sit at the index `index_bits` under `root`.
    pub fn enforce_member(
        &self,
        ctx: &mut Context<Fr>,
        root: AssignedValue<Fr>,
        leaf: AssignedValue<Fr>,
        index_bits: &[AssignedValue<Fr>],
        siblings: &[AssignedValue<Fr>],
    ) -> Result<(), MerkleChipError> {
        let member = self.is_member(ctx, root, leaf, index_bits, siblings)?;
        self.gate.assert_is_const(ctx, &member, &Fr::ONE);
        Ok(())
    }
}
