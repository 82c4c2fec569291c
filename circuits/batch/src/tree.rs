//! The tree of cumulative rewards: an indexed Merkle tree of device leaves.
//!
//! Leaves are appended in insertion order to a Poseidon Merkle tree of
//! `depth` (circomlib's `Poseidon(left, right)` for nodes, zero for an empty
//! slot) and linked in increasing order of device id, so that the absence
//! of a device is shown by the one leaf whose id is below it and whose
//! successor is above it (or is the end of the list). Slot 0 holds the
//! sentinel leaf, id 0, which starts the list; device id 0 is therefore
//! never a device.
//!
//! A leaf is `Poseidon(device_id, next_id, cumulative, last_epoch)`, with
//! `next_id = 0` at the end of the list. Crediting a device for an epoch
//! either updates its leaf (the epoch must be later than the last one
//! credited: a device-epoch is never counted twice) or inserts it at slot
//! `size` after updating its predecessor's link. The tree is committed as
//! `Poseidon(root, size)`.
//!
//! Every credit, update or insertion, shows the same things, so that the
//! circuit makes the same checks at every position of a batch: a leaf under
//! the old root (the device's own, or its predecessor's), the leaf after
//! its change, and slot `size` empty in the tree that results. A tree of
//! depth `D` therefore holds `2^D - 1` leaves: its last slot stays empty so
//! that the last credit can still show a free slot.
//!
//! Device ids are compared as integers below the field's modulus.

use std::collections::BTreeMap;

use ark_ff::{AdditiveGroup, Zero};
use depin_crypto::merkle::{root_from_path, MerkleTree};
use depin_crypto::poseidon::{hash2, hash_n};
use depin_crypto::Fr;

/// Deepest tree supported (2^32 leaves, the sentinel included).
pub const MAX_DEPTH: usize = 32;

/// The depth of the rewards trees the batch keys are made for: about a
/// million devices (2^20 leaves, the sentinel included) per kind.
pub const TREE_DEPTH: usize = 20;

/// One device's leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The device (`Poseidon(A.x, A.y)` of its key); 0 for the sentinel.
    pub device_id: Fr,
    /// The next larger device id in the tree, 0 at the end of the list.
    pub next_id: Fr,
    /// Every reward credited so far, in the token's base unit.
    pub cumulative: u128,
    /// The last epoch credited.
    pub last_epoch: u32,
}

impl Leaf {
    /// The cumulative reward once `reward` for `epoch` is credited to this
    /// device's leaf: refused for an epoch at or before the last one
    /// credited, or past 2^128 - 1.
    pub(crate) fn credited(&self, epoch: u32, reward: u64) -> Result<u128, TreeError> {
        if epoch <= self.last_epoch {
            return Err(TreeError::AlreadyCredited {
                epoch,
                last_epoch: self.last_epoch,
            });
        }
        self.cumulative
            .checked_add(u128::from(reward))
            .ok_or(TreeError::Overflow)
    }

    /// The leaf in slot 0 that starts the list.
    pub const SENTINEL: Leaf = Leaf {
        device_id: Fr::ZERO,
        next_id: Fr::ZERO,
        cumulative: 0,
        last_epoch: 0,
    };

    /// `Poseidon(device_id, next_id, cumulative, last_epoch)`.
    pub fn hash(&self) -> Fr {
        hash_n(&[
            self.device_id,
            self.next_id,
            Fr::from(self.cumulative),
            Fr::from(u64::from(self.last_epoch)),
        ])
    }

    /// Whether `id` falls strictly between this leaf and its successor,
    /// which proves `id` is absent from the tree.
    pub fn brackets(&self, id: &Fr) -> bool {
        self.device_id < *id && (self.next_id.is_zero() || *id < self.next_id)
    }
}

/// Why the tree refused a credit or a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Depth outside `1..=32`.
    #[error("rewards tree depth must be 1 to {MAX_DEPTH}, got {0}")]
    Depth(usize),
    /// Device id 0 is the sentinel's.
    #[error("device id 0 is reserved for the tree's sentinel leaf")]
    ZeroDevice,
    /// The device was already credited for this epoch or a later one.
    #[error("device already credited for epoch {last_epoch}: epoch {epoch} cannot be credited")]
    AlreadyCredited {
        /// The epoch refused.
        epoch: u32,
        /// The last epoch credited.
        last_epoch: u32,
    },
    /// Every slot but the last, which stays empty, is taken.
    #[error("the rewards tree of depth {depth} is full ({} leaves)", (1u64 << depth) - 1)]
    Full {
        /// Tree depth.
        depth: usize,
    },
    /// The cumulative reward would pass 2^128 - 1.
    #[error("cumulative reward overflows 128 bits")]
    Overflow,
}

/// Which check of a [`Credit`] failed: the same checks, in the same order,
/// as the batch circuit makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    /// A path of the wrong length.
    #[error("a path has {got} siblings, the tree has depth {depth}")]
    PathLength {
        /// Siblings given.
        got: usize,
        /// Tree depth.
        depth: usize,
    },
    /// The leaf before the update is not in the old tree.
    #[error("the leaf before the update is not under the old root")]
    OldLeaf,
    /// The updated leaf is another device's.
    #[error("the updated leaf belongs to another device")]
    WrongDevice,
    /// The epoch is not later than the leaf's last one.
    #[error("epoch {epoch} is not later than the leaf's last epoch {last_epoch}")]
    Epoch {
        /// The epoch credited.
        epoch: u32,
        /// The leaf's last epoch.
        last_epoch: u32,
    },
    /// The predecessor does not bracket the inserted id.
    #[error("the low leaf does not bracket the inserted device id")]
    NotBracketed,
    /// The tree is full: its last slot must stay empty.
    #[error("a tree of size {size} is full")]
    Full {
        /// The old tree's size.
        size: u64,
    },
    /// Slot `size` is not empty after the change.
    #[error("slot `size` is not empty: the size is not the tree's")]
    SlotTaken,
    /// The new commitment is not the one the update computes.
    #[error("the new commitment does not match the update")]
    NewCommitment,
    /// The cumulative reward overflows.
    #[error("cumulative reward overflows 128 bits")]
    Overflow,
}

/// How a credit changed the tree, with the paths that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditWitness {
    /// Whether the device was absent and is inserted at slot `size`;
    /// otherwise its leaf is updated in place.
    pub insert: bool,
    /// The changed leaf's slot: the device's own, or its predecessor's.
    pub index: u64,
    /// That leaf before the change.
    pub before: Leaf,
    /// Siblings of `index` in the old tree, leaf level first (the same
    /// after the change).
    pub path: Vec<Fr>,
    /// Siblings of slot `size` once the leaf at `index` has changed.
    pub free_path: Vec<Fr>,
}

/// One device-epoch credited to the tree: the public part (device, epoch,
/// reward, old and new root and size) and the witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credit {
    /// The device credited.
    pub device_id: Fr,
    /// The epoch credited.
    pub epoch: u32,
    /// The epoch's reward.
    pub reward: u64,
    /// The device's cumulative reward afterwards.
    pub cumulative: u128,
    /// Root before.
    pub old_root: Fr,
    /// Leaves before (the sentinel included).
    pub old_size: u64,
    /// Root after.
    pub new_root: Fr,
    /// Leaves after.
    pub new_size: u64,
    /// The paths.
    pub witness: CreditWitness,
}

impl Credit {
    /// `Poseidon(old_root, old_size)`.
    pub fn old_commitment(&self) -> Fr {
        commitment(self.old_root, self.old_size)
    }

    /// `Poseidon(new_root, new_size)`.
    pub fn new_commitment(&self) -> Fr {
        commitment(self.new_root, self.new_size)
    }

    /// Checks the update statelessly, as the batch circuit does: from the
    /// old tree (`old_root`, `old_size`), the device, epoch and reward, and
    /// the witness, the new tree is exactly `new_root`, `new_size`, and the
    /// device's cumulative reward is `cumulative`.
    pub fn check(&self, depth: usize) -> Result<(), CreditError> {
        let path_ok = |p: &[Fr]| {
            if p.len() == depth {
                Ok(())
            } else {
                Err(CreditError::PathLength {
                    got: p.len(),
                    depth,
                })
            }
        };
        let fold = |leaf: Fr, index: u64, path: &[Fr]| {
            root_from_path(leaf, index, path).map_err(|_| CreditError::OldLeaf)
        };
        let w = &self.witness;
        path_ok(&w.path)?;
        path_ok(&w.free_path)?;
        // The last slot stays empty: the size always fits `depth` bits.
        if depth < 64 && self.old_size >> depth != 0 {
            return Err(CreditError::Full {
                size: self.old_size,
            });
        }
        if self.device_id.is_zero() {
            return Err(CreditError::WrongDevice);
        }
        if fold(w.before.hash(), w.index, &w.path)? != self.old_root {
            return Err(CreditError::OldLeaf);
        }
        let cumulative = if w.insert {
            if !w.before.brackets(&self.device_id) {
                return Err(CreditError::NotBracketed);
            }
            u128::from(self.reward)
        } else {
            if w.before.device_id != self.device_id {
                return Err(CreditError::WrongDevice);
            }
            if self.epoch <= w.before.last_epoch {
                return Err(CreditError::Epoch {
                    epoch: self.epoch,
                    last_epoch: w.before.last_epoch,
                });
            }
            w.before
                .cumulative
                .checked_add(u128::from(self.reward))
                .ok_or(CreditError::Overflow)?
        };
        let after = if w.insert {
            Leaf {
                next_id: self.device_id,
                ..w.before
            }
        } else {
            Leaf {
                cumulative,
                last_epoch: self.epoch,
                ..w.before
            }
        };
        let mid = fold(after.hash(), w.index, &w.path)?;
        if fold(Fr::ZERO, self.old_size, &w.free_path)? != mid {
            return Err(CreditError::SlotTaken);
        }
        let (root, size) = if w.insert {
            let leaf = Leaf {
                device_id: self.device_id,
                next_id: w.before.next_id,
                cumulative,
                last_epoch: self.epoch,
            };
            let root = fold(leaf.hash(), self.old_size, &w.free_path)?;
            if self.old_size + 1 >= 1u64 << depth {
                return Err(CreditError::Full {
                    size: self.old_size,
                });
            }
            (root, self.old_size + 1)
        } else {
            (mid, self.old_size)
        };
        if root != self.new_root || size != self.new_size || cumulative != self.cumulative {
            return Err(CreditError::NewCommitment);
        }
        Ok(())
    }
}

/// `Poseidon(root, size)`: what a batch's public inputs and the contract
/// hold of a tree.
pub fn commitment(root: Fr, size: u64) -> Fr {
    hash2(root, Fr::from(size))
}

/// The tree, kept in memory: leaves in slot order, the Merkle tree of
/// their hashes, and the slot of every device.
#[derive(Clone, Debug)]
pub struct RewardsTree {
    leaves: Vec<Leaf>,
    hashes: MerkleTree,
    slot_of: BTreeMap<Fr, u64>,
}

impl RewardsTree {
    /// A tree of `depth` holding only the sentinel.
    pub fn new(depth: usize) -> Result<Self, TreeError> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(TreeError::Depth(depth));
        }
        let mut tree = RewardsTree {
            leaves: Vec::new(),
            hashes: MerkleTree::new(depth, &[]).map_err(|_| TreeError::Depth(depth))?,
            slot_of: BTreeMap::new(),
        };
        tree.put(0, Leaf::SENTINEL);
        Ok(tree)
    }

    /// Tree depth.
    pub fn depth(&self) -> usize {
        self.hashes.depth()
    }

    /// Leaves, the sentinel included.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The Merkle root.
    pub fn root(&self) -> Fr {
        self.hashes.root()
    }

    /// `Poseidon(root, size)`.
    pub fn commitment(&self) -> Fr {
        commitment(self.root(), self.size())
    }

    /// The device's slot and leaf, if it is in the tree.
    pub fn leaf(&self, device_id: &Fr) -> Option<(u64, Leaf)> {
        if device_id.is_zero() {
            return None;
        }
        let slot = *self.slot_of.get(device_id)?;
        Some((slot, self.leaves[slot as usize]))
    }

    /// Leaves in slot order, the sentinel first.
    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// Siblings of `index`, leaf level first.
    pub fn path(&self, index: u64) -> Vec<Fr> {
        // Every slot this tree asks for is below 2^depth: its size stays
        // below it (the last slot is never filled).
        self.hashes
            .siblings(index)
            .expect("slots of the tree are below 2^depth")
    }

    /// Credits `reward` for `epoch` to `device_id`: the device's leaf is
    /// updated, or the device inserted. Nothing changes on error.
    pub fn credit(&mut self, device_id: Fr, epoch: u32, reward: u64) -> Result<Credit, TreeError> {
        if device_id.is_zero() {
            return Err(TreeError::ZeroDevice);
        }
        let old_root = self.root();
        let old_size = self.size();
        let (witness, cumulative) = if let Some((index, before)) = self.leaf(&device_id) {
            let cumulative = before.credited(epoch, reward)?;
            let path = self.path(index);
            self.put(
                index,
                Leaf {
                    cumulative,
                    last_epoch: epoch,
                    ..before
                },
            );
            let witness = CreditWitness {
                insert: false,
                index,
                before,
                path,
                free_path: self.path(old_size),
            };
            (witness, cumulative)
        } else {
            self.check_room(1)?;
            // The sentinel's id 0 is below every device id, so a
            // predecessor always exists.
            let (_, &index) = self
                .slot_of
                .range(..device_id)
                .next_back()
                .expect("the sentinel precedes every device");
            let before = self.leaves[index as usize];
            let path = self.path(index);
            self.put(
                index,
                Leaf {
                    next_id: device_id,
                    ..before
                },
            );
            let free_path = self.path(old_size);
            self.put(
                old_size,
                Leaf {
                    device_id,
                    next_id: before.next_id,
                    cumulative: u128::from(reward),
                    last_epoch: epoch,
                },
            );
            let witness = CreditWitness {
                insert: true,
                index,
                before,
                path,
                free_path,
            };
            (witness, u128::from(reward))
        };
        Ok(Credit {
            device_id,
            epoch,
            reward,
            cumulative,
            old_root,
            old_size,
            new_root: self.root(),
            new_size: self.size(),
            witness,
        })
    }

    /// Whether `inserts` more devices fit: every slot but the last, which
    /// stays empty, may be taken.
    pub(crate) fn check_room(&self, inserts: u64) -> Result<(), TreeError> {
        if self.size() + inserts >= 1u64 << self.depth() {
            return Err(TreeError::Full {
                depth: self.depth(),
            });
        }
        Ok(())
    }

    /// Writes `leaf` at `index` (an existing slot or the next free one) and
    /// rehashes its path.
    fn put(&mut self, index: u64, leaf: Leaf) {
        let i = index as usize;
        if i == self.leaves.len() {
            self.leaves.push(leaf);
            self.slot_of.insert(leaf.device_id, index);
        } else {
            self.leaves[i] = leaf;
        }
        self.hashes
            .set(index, leaf.hash())
            .expect("leaves are written in place or appended below 2^depth");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::Field;
    use depin_crypto::merkle::MerkleTree;
    use proptest::prelude::*;

    /// The tree rebuilt from scratch: leaves in insertion order, links from
    /// the sorted ids, every node hashed anew.
    fn reference_root(depth: usize, order: &[Fr], state: &BTreeMap<Fr, (u128, u32)>) -> Fr {
        let mut sorted: Vec<Fr> = state.keys().copied().collect();
        sorted.sort();
        let next = |id: Fr| sorted.iter().copied().find(|s| *s > id).unwrap_or(Fr::ZERO);
        let mut hashes = vec![Leaf {
            next_id: next(Fr::ZERO),
            ..Leaf::SENTINEL
        }
        .hash()];
        for id in order {
            let (cumulative, last_epoch) = state[id];
            hashes.push(
                Leaf {
                    device_id: *id,
                    next_id: next(*id),
                    cumulative,
                    last_epoch,
                }
                .hash(),
            );
        }
        MerkleTree::new(depth, &hashes).unwrap().root()
    }

    fn id(n: u64) -> Fr {
        Fr::from(n)
    }

    #[test]
    fn credits_match_the_tree_rebuilt_from_scratch() {
        let mut t = RewardsTree::new(4).unwrap();
        let mut order = Vec::new();
        let mut state = BTreeMap::new();
        for (device, epoch, reward) in [(7, 1, 10), (3, 1, 5), (9, 1, 1), (3, 2, 6), (5, 2, 0)] {
            let c = t.credit(id(device), epoch, reward).unwrap();
            c.check(4).unwrap();
            let e = state.entry(id(device)).or_insert_with(|| {
                order.push(id(device));
                (0u128, 0u32)
            });
            e.0 += u128::from(reward);
            e.1 = epoch;
            assert_eq!(c.cumulative, e.0);
            assert_eq!(t.root(), reference_root(4, &order, &state));
        }
        assert_eq!(t.size(), 5);
        let ids: Vec<Fr> = t.leaves().iter().map(|l| l.device_id).collect();
        assert_eq!(ids, vec![id(0), id(7), id(3), id(9), id(5)]);
    }

    #[test]
    fn a_device_epoch_is_credited_once() {
        let mut t = RewardsTree::new(3).unwrap();
        t.credit(id(4), 5, 100).unwrap();
        let before = (t.root(), t.size());
        for epoch in [5, 4, 0] {
            assert_eq!(
                t.credit(id(4), epoch, 1).unwrap_err(),
                TreeError::AlreadyCredited {
                    epoch,
                    last_epoch: 5
                }
            );
        }
        assert_eq!((t.root(), t.size()), before);
        assert_eq!(t.credit(id(4), 6, 1).unwrap().cumulative, 101);
    }

    #[test]
    fn refusals_are_typed() {
        assert_eq!(RewardsTree::new(0).unwrap_err(), TreeError::Depth(0));
        assert_eq!(RewardsTree::new(33).unwrap_err(), TreeError::Depth(33));
        // Depth 2: the sentinel, two devices, and the last slot left empty.
        let mut t = RewardsTree::new(2).unwrap();
        assert_eq!(t.credit(Fr::ZERO, 1, 1).unwrap_err(), TreeError::ZeroDevice);
        t.credit(id(1), 1, 1).unwrap();
        t.credit(id(2), 1, 1).unwrap().check(2).unwrap();
        let full = (t.root(), t.size());
        assert_eq!(
            t.credit(id(3), 1, 1).unwrap_err(),
            TreeError::Full { depth: 2 }
        );
        assert_eq!((t.root(), t.size()), full);
        // A device already in a full tree is still credited.
        t.credit(id(1), 2, u64::MAX).unwrap().check(2).unwrap();
    }

    #[test]
    fn cumulative_overflow_is_refused() {
        let mut t = RewardsTree::new(2).unwrap();
        t.credit(id(1), 1, u64::MAX).unwrap();
        let slot = t.slot_of[&id(1)] as usize;
        t.leaves[slot].cumulative = u128::MAX - 1;
        assert_eq!(t.credit(id(1), 2, 2).unwrap_err(), TreeError::Overflow);
    }

    /// Each check of [`Credit::check`] refuses the witness it is about.
    #[test]
    fn tampered_credits_fail_the_check_that_names_them() {
        let mut t = RewardsTree::new(4).unwrap();
        t.credit(id(10), 1, 3).unwrap();
        t.credit(id(30), 1, 3).unwrap();
        let update = t.credit(id(10), 2, 4).unwrap();
        let insert = t.credit(id(20), 2, 4).unwrap();
        update.check(4).unwrap();
        insert.check(4).unwrap();

        let mut c = update.clone();
        c.old_root += Fr::ONE;
        assert_eq!(c.check(4), Err(CreditError::OldLeaf));
        let mut c = update.clone();
        c.device_id = id(30);
        assert_eq!(c.check(4), Err(CreditError::WrongDevice));
        let mut c = update.clone();
        c.epoch = 1;
        assert_eq!(
            c.check(4),
            Err(CreditError::Epoch {
                epoch: 1,
                last_epoch: 1
            })
        );
        // Another reward changes the leaf, so the free path no longer
        // folds to the tree it is claimed for.
        let mut c = update.clone();
        c.reward += 1;
        assert_eq!(c.check(4), Err(CreditError::SlotTaken));
        let mut c = update.clone();
        c.cumulative += 1;
        assert_eq!(c.check(4), Err(CreditError::NewCommitment));
        assert_eq!(
            update.check(5),
            Err(CreditError::PathLength { got: 4, depth: 5 })
        );

        // Inserting a present device, or out of order: no leaf brackets it.
        let mut c = insert.clone();
        c.device_id = id(31);
        assert_eq!(c.check(4), Err(CreditError::NotBracketed));
        let mut c = insert.clone();
        c.device_id = id(10);
        assert_eq!(c.check(4), Err(CreditError::NotBracketed));
        // Another slot than the size, or a free path of another tree.
        let mut c = insert.clone();
        c.old_size -= 1;
        assert_eq!(c.check(4), Err(CreditError::SlotTaken));
        let mut c = update.clone();
        c.witness.free_path[0] += Fr::ONE;
        assert_eq!(c.check(4), Err(CreditError::SlotTaken));
        let mut c = insert.clone();
        c.old_size = 16;
        assert_eq!(c.check(4), Err(CreditError::Full { size: 16 }));
        // An update passed off as an insertion: the device brackets itself
        // in no leaf.
        let mut c = update.clone();
        c.witness.insert = true;
        assert_eq!(c.check(4), Err(CreditError::NotBracketed));
        let mut c = insert.clone();
        c.witness.insert = false;
        assert_eq!(c.check(4), Err(CreditError::WrongDevice));
        let mut c = insert.clone();
        c.new_size += 1;
        assert_eq!(c.check(4), Err(CreditError::NewCommitment));
        let mut c = insert;
        c.new_root = update.new_root;
        assert_eq!(c.check(4), Err(CreditError::NewCommitment));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Random credits (devices drawn from a small set so that updates,
        /// insertions and refusals all happen) agree with a plain map and
        /// the tree rebuilt from scratch, and every credit passes the
        /// stateless check while chaining commitments.
        #[test]
        fn random_credits_agree_with_a_rebuilt_tree(
            ops in proptest::collection::vec((1u64..12, 0u32..6, 0u64..1000), 1..40)
        ) {
            let depth = 4;
            let mut t = RewardsTree::new(depth).unwrap();
            let mut order = Vec::new();
            let mut state: BTreeMap<Fr, (u128, u32)> = BTreeMap::new();
            for (device, epoch, reward) in ops {
                let before = t.commitment();
                let device = Fr::from(device) * Fr::from(0x9e37_79b9_7f4a_7c15u64);
                match (t.credit(device, epoch, reward), state.get(&device).copied()) {
                    (Ok(c), known) => {
                        prop_assert!(known.is_none_or(|(_, last)| epoch > last));
                        prop_assert_eq!(c.old_commitment(), before);
                        prop_assert_eq!(c.new_commitment(), t.commitment());
                        prop_assert!(c.check(depth).is_ok());
                        let e = state.entry(device).or_insert_with(|| {
                            order.push(device);
                            (0, 0)
                        });
                        e.0 += u128::from(reward);
                        e.1 = epoch;
                    }
                    (Err(TreeError::AlreadyCredited { last_epoch, .. }), Some((_, last))) => {
                        prop_assert_eq!(last_epoch, last);
                        prop_assert!(epoch <= last);
                        prop_assert_eq!(t.commitment(), before);
                    }
                    (Err(e), _) => prop_assert!(false, "unexpected refusal {e}"),
                }
                prop_assert_eq!(t.root(), reference_root(depth, &order, &state));
            }
            for (device, (cumulative, last_epoch)) in &state {
                let (_, leaf) = t.leaf(device).unwrap();
                prop_assert_eq!((leaf.cumulative, leaf.last_epoch), (*cumulative, *last_epoch));
            }
        }
    }
}
