//! Binary Merkle trees with circomlib's `Poseidon(left, right)` as the node
//! hash: the network's client registry is such a tree of client ids, and its
//! root is a public input of the bandwidth statement.
//!
//! A leaf's position is a `depth`-bit index; bit `i` (least significant
//! first) says whether the node at level `i` is the right child. Empty
//! leaves are zero. Membership of `leaf` at `index` under `root` holds when
//! folding the siblings from the leaf up reproduces `root`.

use crate::field::Fr;
use crate::poseidon::hash2;

/// Deepest tree supported (2^32 leaves).
pub const MAX_DEPTH: usize = 32;

/// Why a Merkle operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// Depth outside `1..=32`.
    #[error("tree depth must be 1 to {MAX_DEPTH}, got {0}")]
    Depth(usize),
    /// More leaves than the tree holds, or an index past the last leaf.
    #[error("index {index} does not fit a tree of depth {depth}")]
    Index {
        /// Offending index.
        index: u64,
        /// Tree depth.
        depth: usize,
    },
}

/// Folds `siblings` (leaf level first) onto `leaf` at `index`.
pub fn root_from_path(leaf: Fr, index: u64, siblings: &[Fr]) -> Result<Fr, MerkleError> {
    let depth = siblings.len();
    if depth == 0 || depth > MAX_DEPTH {
        return Err(MerkleError::Depth(depth));
    }
    if depth < 64 && index >> depth != 0 {
        return Err(MerkleError::Index { index, depth });
    }
    let mut cur = leaf;
    for (i, sib) in siblings.iter().enumerate() {
        cur = if (index >> i) & 1 == 0 {
            hash2(cur, *sib)
        } else {
            hash2(*sib, cur)
        };
    }
    Ok(cur)
}

/// Whether `leaf` sits at `index` under `root`.
pub fn verify_membership(root: &Fr, leaf: Fr, index: u64, siblings: &[Fr]) -> bool {
    root_from_path(leaf, index, siblings).is_ok_and(|r| r == *root)
}

/// A membership proof: the leaf's index and its siblings, leaf level first.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleProof {
    /// Leaf index.
    pub index: u64,
    /// Sibling hashes from the leaf level up.
    pub siblings: alloc::vec::Vec<Fr>,
}

/// A full tree kept in memory, sparse in its empty right part.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
pub struct MerkleTree {
    depth: usize,
    /// `levels[0]` are the leaves, `levels[depth]` the root; each level only
    /// holds its non-empty prefix.
    levels: alloc::vec::Vec<alloc::vec::Vec<Fr>>,
    /// Hash of an empty subtree of each height.
    empty: alloc::vec::Vec<Fr>,
}

#[cfg(feature = "alloc")]
impl MerkleTree {
    /// Builds a tree of `depth` over `leaves`, padded with zero leaves.
    pub fn new(depth: usize, leaves: &[Fr]) -> Result<Self, MerkleError> {
        use alloc::vec::Vec;
        use ark_ff::AdditiveGroup;
        if depth == 0 || depth > MAX_DEPTH {
            return Err(MerkleError::Depth(depth));
        }
        if (leaves.len() as u64) > (1u64 << depth) {
            return Err(MerkleError::Index {
                index: leaves.len() as u64,
                depth,
            });
        }
        let mut empty = Vec::with_capacity(depth + 1);
        empty.push(Fr::ZERO);
        for i in 0..depth {
            empty.push(hash2(empty[i], empty[i]));
        }
        let mut levels = Vec::with_capacity(depth + 1);
        levels.push(leaves.to_vec());
        for h in 0..depth {
            let below = &levels[h];
            let next: Vec<Fr> = below
                .chunks(2)
                .map(|p| hash2(p[0], p.get(1).copied().unwrap_or(empty[h])))
                .collect();
            levels.push(next);
        }
        Ok(MerkleTree {
            depth,
            levels,
            empty,
        })
    }

    /// Tree depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The root.
    pub fn root(&self) -> Fr {
        self.levels[self.depth]
            .first()
            .copied()
            .unwrap_or(self.empty[self.depth])
    }

    /// Leaves written so far (the non-empty prefix).
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether no leaf has been written.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The membership proof of the leaf at `index`.
    pub fn proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        if index >= self.len() {
            return Err(MerkleError::Index {
                index,
                depth: self.depth,
            });
        }
        Ok(MerkleProof {
            index,
            siblings: self.siblings(index)?,
        })
    }

    /// Siblings of any slot of the tree, written or empty, leaf level first.
    pub fn siblings(&self, index: u64) -> Result<alloc::vec::Vec<Fr>, MerkleError> {
        if index >> self.depth != 0 {
            return Err(MerkleError::Index {
                index,
                depth: self.depth,
            });
        }
        Ok((0..self.depth)
            .map(|h| {
                let i = ((index >> h) ^ 1) as usize;
                self.levels[h].get(i).copied().unwrap_or(self.empty[h])
            })
            .collect())
    }

    /// Writes `leaf` at `index`, an existing leaf or the next one after the
    /// last, and rehashes its path to the root.
    pub fn set(&mut self, index: u64, leaf: Fr) -> Result<(), MerkleError> {
        if index > self.len() || index >> self.depth != 0 {
            return Err(MerkleError::Index {
                index,
                depth: self.depth,
            });
        }
        let mut i = index as usize;
        let mut node = leaf;
        for h in 0..=self.depth {
            let level = &mut self.levels[h];
            if i == level.len() {
                level.push(node);
            } else {
                level[i] = node;
            }
            if h == self.depth {
                break;
            }
            let right = level.get(i | 1).copied().unwrap_or(self.empty[h]);
            node = hash2(level[i & !1], right);
            i >>= 1;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn every_leaf_proves_membership() {
        let leaves: Vec<Fr> = (1..=11u64).map(Fr::from).collect();
        let t = MerkleTree::new(4, &leaves).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            let p = t.proof(i as u64).unwrap();
            assert!(verify_membership(&t.root(), *leaf, p.index, &p.siblings));
            assert!(!verify_membership(
                &t.root(),
                *leaf + Fr::from(1u64),
                p.index,
                &p.siblings
            ));
            assert!(!verify_membership(
                &t.root(),
                *leaf,
                p.index ^ 1,
                &p.siblings
            ));
        }
    }

    /// Leaves written one by one, appended or overwritten, give the tree
    /// built from the final leaves at once, and every slot's siblings.
    #[test]
    fn written_leaves_match_the_tree_built_at_once() {
        let mut t = MerkleTree::new(3, &[]).unwrap();
        let mut leaves = Vec::new();
        for i in 0..6u64 {
            t.set(i, Fr::from(i + 1)).unwrap();
            leaves.push(Fr::from(i + 1));
        }
        t.set(2, Fr::from(40u64)).unwrap();
        leaves[2] = Fr::from(40u64);
        let built = MerkleTree::new(3, &leaves).unwrap();
        assert_eq!(t.root(), built.root());
        assert_eq!(t.len(), 6);
        for slot in 0..8 {
            assert_eq!(t.siblings(slot).unwrap(), built.siblings(slot).unwrap());
            let leaf = leaves.get(slot as usize).copied().unwrap_or(Fr::from(0u64));
            assert!(verify_membership(
                &t.root(),
                leaf,
                slot,
                &t.siblings(slot).unwrap()
            ));
        }
        assert_eq!(
            t.set(7, Fr::from(1u64)),
            Err(MerkleError::Index { index: 7, depth: 3 })
        );
        assert_eq!(
            t.siblings(8),
            Err(MerkleError::Index { index: 8, depth: 3 })
        );
    }

    #[test]
    fn bounds_are_typed_errors() {
        assert_eq!(MerkleTree::new(0, &[]).unwrap_err(), MerkleError::Depth(0));
        assert!(MerkleTree::new(2, &[Fr::from(1u64); 5]).is_err());
        assert_eq!(
            root_from_path(Fr::from(1u64), 4, &[Fr::from(0u64); 2]),
            Err(MerkleError::Index { index: 4, depth: 2 })
        );
    }
}
