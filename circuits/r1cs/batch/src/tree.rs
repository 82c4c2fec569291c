//! One credit to the tree of cumulative rewards, in R1CS: the circuit side
//! of [`depin_batch::tree::Credit::check`], check for check.
//!
//! # What is proven
//!
//! For a position with device id `d != 0`, epoch `e` and reward `r`, on the
//! old tree `(root, size)` and with the witness `(insert, index, before,
//! path, free_path)` of [`depin_batch::tree::CreditWitness`]:
//!
//! 1. `size < 2^depth`, and `before` sits at slot `index` under `root`.
//! 2. Update (`insert` false): `before` is `d`'s leaf, `before.last_epoch <
//!    e`, and the cumulative reward `before.cumulative + r` is below
//!    2^128; the leaf becomes `(d, before.next_id, cumulative, e)`.
//!    Insertion: `before.device_id < d` and `d < before.next_id` or
//!    `before.next_id = 0` (ids compared as canonical 254-bit integers), so
//!    `d` is absent; the cumulative reward is `r`, and `before` is relinked
//!    to `(before.device_id, d, before.cumulative, before.last_epoch)`.
//! 3. With the changed leaf at `index` the tree's root is `mid`, in which
//!    slot `size` is empty (`free_path` folds zero to `mid`).
//! 4. Update: the new tree is `(mid, size)`. Insertion: the new tree is
//!    `mid` with `(d, before.next_id, r, e)` at slot `size`, and `size + 1 <
//!    2^depth`.
//!
//! A padding position (`d = 0`) checks nothing and leaves the tree as it
//! was, with cumulative reward 0.
//!
//! # Soundness assumptions
//!
//! - The caller range-checks `e < 2^32` and `r < 2^64`.
//! - The first tree of a chain of batches holds only the sentinel (the
//!   contract starts from [`depin_batch::RewardsTree::new`]'s commitment).
//!   Every leaf is then written by a credit above, so a leaf's
//!   `last_epoch < 2^32` and `cumulative < 2^128`, which the comparisons
//!   rely on, and the ids are linked in increasing order, which makes the
//!   bracketing leaf of an absent id unique.
//! - A leaf or node forged under the same root would be a Poseidon
//!   collision.
//!
//! Cost: [`constraints`]`(depth)` per position, whatever it does: four
//! folds of a path (`241 * depth` each), three leaf hashes, three canonical
//! decompositions of ids and two comparisons.

use ark_bn254::Fr;
use ark_ff::AdditiveGroup;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use depin_batch::tree::{CreditWitness, Leaf, MAX_DEPTH};
use depin_gadgets::{logic, merkle, poseidon, range};

/// Width of an epoch.
pub const EPOCH_BITS: usize = 32;
/// Width of a cumulative reward.
pub const CUMULATIVE_BITS: usize = 128;

/// Constraints of one position of a tree of `depth`, measured by the tests.
pub const fn constraints(depth: usize) -> usize {
    (4 * merkle::CONSTRAINTS_PER_LEVEL + 2) * depth + FIXED_CONSTRAINTS
}

/// Constraints of a position that do not grow with the depth.
const FIXED_CONSTRAINTS: usize = 5532;

/// A leaf's four fields.
#[derive(Clone, Debug)]
pub struct LeafVar {
    /// The device id.
    pub device_id: FpVar<Fr>,
    /// The next larger id, 0 at the end.
    pub next_id: FpVar<Fr>,
    /// The cumulative reward.
    pub cumulative: FpVar<Fr>,
    /// The last epoch credited.
    pub last_epoch: FpVar<Fr>,
}

impl LeafVar {
    /// Allocates `leaf` as witnesses.
    pub fn new_witness(cs: ConstraintSystemRef<Fr>, leaf: &Leaf) -> Result<Self, SynthesisError> {
        let w = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v));
        Ok(LeafVar {
            device_id: w(leaf.device_id)?,
            next_id: w(leaf.next_id)?,
            cumulative: w(Fr::from(leaf.cumulative))?,
            last_epoch: w(Fr::from(u64::from(leaf.last_epoch)))?,
        })
    }

    /// `Poseidon(device_id, next_id, cumulative, last_epoch)`.
    pub fn hash(&self) -> Result<FpVar<Fr>, SynthesisError> {
        poseidon::hash(&[
            self.device_id.clone(),
            self.next_id.clone(),
            self.cumulative.clone(),
            self.last_epoch.clone(),
        ])
    }
}

/// A credit's witness, allocated.
#[derive(Clone, Debug)]
pub struct CreditWitnessVar {
    /// Insertion rather than update.
    pub insert: Boolean<Fr>,
    /// Bits of the changed leaf's slot, least significant first.
    pub index_bits: Vec<Boolean<Fr>>,
    /// That leaf before the change.
    pub before: LeafVar,
    /// Its siblings in the old tree.
    pub path: Vec<FpVar<Fr>>,
    /// Siblings of slot `size` after the change.
    pub free_path: Vec<FpVar<Fr>>,
}

impl CreditWitnessVar {
    /// Allocates a credit's witness for a tree of `depth`, or, for a
    /// padding position (`None`), a witness that no check reads.
    pub fn new_witness(
        cs: ConstraintSystemRef<Fr>,
        depth: usize,
        witness: Option<&CreditWitness>,
    ) -> Result<Self, SynthesisError> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(SynthesisError::Unsatisfiable);
        }
        let padding;
        let w = match witness {
            Some(w) => w,
            None => {
                padding = CreditWitness {
                    insert: false,
                    index: 0,
                    before: Leaf::SENTINEL,
                    path: vec![Fr::ZERO; depth],
                    free_path: vec![Fr::ZERO; depth],
                };
                &padding
            }
        };
        if w.path.len() != depth || w.free_path.len() != depth || w.index >> depth != 0 {
            return Err(SynthesisError::Unsatisfiable);
        }
        let path = |p: &[Fr]| {
            p.iter()
                .map(|s| FpVar::new_witness(cs.clone(), || Ok(*s)))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(CreditWitnessVar {
            insert: Boolean::new_witness(cs.clone(), || Ok(w.insert))?,
            index_bits: (0..depth)
                .map(|i| Boolean::new_witness(cs.clone(), || Ok((w.index >> i) & 1 == 1)))
                .collect::<Result<_, _>>()?,
            before: LeafVar::new_witness(cs.clone(), &w.before)?,
            path: path(&w.path)?,
            free_path: path(&w.free_path)?,
        })
    }
}

/// A tree as a batch carries it from position to position.
#[derive(Clone, Debug)]
pub struct TreeVar {
    /// The Merkle root.
    pub root: FpVar<Fr>,
    /// Leaves, the sentinel included.
    pub size: FpVar<Fr>,
}

impl TreeVar {
    /// `Poseidon(root, size)`, the tree's commitment.
    pub fn commitment(&self) -> Result<FpVar<Fr>, SynthesisError> {
        poseidon::hash2(&self.root, &self.size)
    }
}

/// Whether `a < b` for canonical little-endian bit decompositions of equal
/// length, most significant bit first: `lt` becomes true at the first bit
/// where `a` has 0 and `b` has 1 while all higher bits were equal.
fn bits_less_than(a: &[Boolean<Fr>], b: &[Boolean<Fr>]) -> Result<Boolean<Fr>, SynthesisError> {
    let mut lt = Boolean::FALSE;
    let mut eq = Boolean::TRUE;
    for (x, y) in a.iter().zip(b).rev() {
        let here = &(!x) & y;
        lt = &lt | &(&eq & &here);
        eq = &eq & &!(x ^ y);
    }
    Ok(lt)
}

/// The canonical 254 bits of an id.
fn id_bits(x: &FpVar<Fr>) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    x.to_bits_le()
}

/// Credits reward `r` for epoch `e` to device `d` on `old`, returning the
/// new tree and `d`'s cumulative reward (0 for padding). See the module
/// docs for what is proven.
pub fn credit(
    old: &TreeVar,
    d: &FpVar<Fr>,
    e: &FpVar<Fr>,
    r: &FpVar<Fr>,
    w: &CreditWitnessVar,
) -> Result<(TreeVar, FpVar<Fr>), SynthesisError> {
    let depth = w.index_bits.len();
    if depth == 0 || depth > MAX_DEPTH || w.path.len() != depth || w.free_path.len() != depth {
        return Err(SynthesisError::Unsatisfiable);
    }
    let active = !logic::is_zero(d)?;
    let insert = &w.insert;
    let update = !insert;
    let b = &w.before;

    // 1. The old tree's size fits, and `before` is under its root.
    let size_bits = range::to_bits_le(&old.size, depth)?;
    let before_root = merkle::root_from_path(&b.hash()?, &w.index_bits, &w.path)?;
    before_root.conditional_enforce_equal(&old.root, &active)?;

    // 2. The update's and the insertion's own checks.
    let updating = &active & &update;
    b.device_id.conditional_enforce_equal(d, &updating)?;
    range::is_less_than(&b.last_epoch, e, EPOCH_BITS)?
        .conditional_enforce_equal(&Boolean::TRUE, &updating)?;
    let added = FpVar::from(update.clone()) * &b.cumulative;
    let cumulative = &added + r;
    range::enforce_bits(&cumulative, CUMULATIVE_BITS)?;

    let inserting = &active & insert;
    let d_bits = id_bits(d)?;
    let low_bits = id_bits(&b.device_id)?;
    let next_bits = id_bits(&b.next_id)?;
    let above_low = bits_less_than(&low_bits, &d_bits)?;
    let end = logic::is_zero(&b.next_id)?;
    let below_next = &end | &bits_less_than(&d_bits, &next_bits)?;
    (&above_low & &below_next).conditional_enforce_equal(&Boolean::TRUE, &inserting)?;

    // 3. The changed leaf, and slot `size` empty after the change.
    let changed = LeafVar {
        device_id: b.device_id.clone(),
        next_id: FpVar::conditionally_select(insert, d, &b.next_id)?,
        cumulative: FpVar::conditionally_select(insert, &b.cumulative, &cumulative)?,
        last_epoch: FpVar::conditionally_select(insert, &b.last_epoch, e)?,
    };
    let mid = merkle::root_from_path(&changed.hash()?, &w.index_bits, &w.path)?;
    merkle::root_from_path(&FpVar::zero(), &size_bits, &w.free_path)?
        .conditional_enforce_equal(&mid, &active)?;

    // 4. The new tree.
    let inserted = LeafVar {
        device_id: d.clone(),
        next_id: b.next_id.clone(),
        cumulative: cumulative.clone(),
        last_epoch: e.clone(),
    };
    let with_leaf = merkle::root_from_path(&inserted.hash()?, &size_bits, &w.free_path)?;
    let changed_root = FpVar::conditionally_select(insert, &with_leaf, &mid)?;
    let root = FpVar::conditionally_select(&active, &changed_root, &old.root)?;
    let size = &old.size + FpVar::from(inserting);
    range::enforce_bits(&size, depth)?;
    let cumulative = FpVar::from(active) * cumulative;
    Ok((TreeVar { root, size }, cumulative))
}

#[cfg(test)]
mod tests;
