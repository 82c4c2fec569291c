//! Rebuilding a kind's rewards tree from its applied batches: what an
//! indexer does with the public data of every `submitBatch` in order.
//!
//! The tree's insertion slot is its size and a leaf's update is fixed by
//! the batch's epoch and each entry's reward, so the public data alone
//! determines the next tree; the entry's cumulative reward is then a
//! check ([`ReplayError::Cumulative`]), as are the commitments the
//! contract logged before and after the batch
//! ([`ReplayError::Commitment`]).

use depin_crypto::Fr;

use crate::public_data::PublicData;
use crate::tree::{RewardsTree, TreeError};

/// Why a batch could not be replayed onto a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The tree refused a position's credit (a device credited twice for
    /// the epoch, a full tree, an overflowing cumulative reward).
    #[error("position {position}: {source}")]
    Tree {
        /// The position.
        position: usize,
        /// The tree's refusal.
        source: TreeError,
    },
    /// A position's cumulative reward is not what the tree computes.
    #[error(
        "position {position}: cumulative reward {published} published, the tree gives {computed}"
    )]
    Cumulative {
        /// The position.
        position: usize,
        /// What the public data says.
        published: u128,
        /// What the tree computes.
        computed: u128,
    },
    /// The tree's commitment is not the one the batch names.
    #[error(
        "the tree's commitment {} is not the batch's {when} commitment",
        depin_crypto::field::fr_to_string(actual)
    )]
    Commitment {
        /// `"old"` (before the batch) or `"new"` (after it).
        when: &'static str,
        /// The tree's commitment.
        actual: Fr,
    },
}

impl RewardsTree {
    /// Applies one batch's public data for `epoch`: each device's leaf
    /// gains its reward and records the epoch, or the device is inserted.
    /// Every position is checked before the tree changes, so nothing
    /// changes on error.
    ///
    /// # Errors
    ///
    /// [`ReplayError::Tree`] when a credit is refused (the same device
    /// twice in the batch, or already credited for `epoch` or later; the
    /// tree full), [`ReplayError::Cumulative`] when a published cumulative
    /// reward is not the tree's.
    pub fn apply(&mut self, epoch: u32, data: &PublicData) -> Result<(), ReplayError> {
        // Every position checked first (public data holds no padding in
        // its devices and no zero id).
        let mut seen: Vec<Fr> = Vec::with_capacity(data.devices().len());
        let mut inserted = 0u64;
        for (position, entry) in data.devices().iter().enumerate() {
            let tree = |source| ReplayError::Tree { position, source };
            if seen.contains(&entry.device_id) {
                return Err(tree(TreeError::AlreadyCredited {
                    epoch,
                    last_epoch: epoch,
                }));
            }
            let cumulative = match self.leaf(&entry.device_id) {
                Some((_, leaf)) => leaf.credited(epoch, entry.reward).map_err(tree)?,
                None => {
                    inserted += 1;
                    u128::from(entry.reward)
                }
            };
            if cumulative != entry.cumulative {
                return Err(ReplayError::Cumulative {
                    position,
                    published: entry.cumulative,
                    computed: cumulative,
                });
            }
            seen.push(entry.device_id);
        }
        self.check_room(inserted)
            .map_err(|source| ReplayError::Tree {
                position: data.devices().len().saturating_sub(1),
                source,
            })?;
        for (position, entry) in data.devices().iter().enumerate() {
            self.credit(entry.device_id, epoch, entry.reward)
                .map_err(|source| ReplayError::Tree { position, source })?;
        }
        Ok(())
    }

    /// [`RewardsTree::apply`] of a batch the contract logged with
    /// `old_commitment` and `new_commitment`: the tree must hold the old
    /// one before and gives the new one after.
    ///
    /// # Errors
    ///
    /// [`ReplayError::Commitment`] (`"old"`: nothing changed; `"new"`: the
    /// tree holds the batch and is not the chain's), or
    /// [`RewardsTree::apply`]'s.
    pub fn replay(
        &mut self,
        epoch: u32,
        data: &PublicData,
        old_commitment: Fr,
        new_commitment: Fr,
    ) -> Result<(), ReplayError> {
        if self.commitment() != old_commitment {
            return Err(ReplayError::Commitment {
                when: "old",
                actual: self.commitment(),
            });
        }
        self.apply(epoch, data)?;
        if self.commitment() != new_commitment {
            return Err(ReplayError::Commitment {
                when: "new",
                actual: self.commitment(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::public_data::BatchEntry;

    fn id(n: u64) -> Fr {
        Fr::from(n)
    }

    /// The public data the native credits give.
    fn credited(tree: &mut RewardsTree, epoch: u32, rewards: &[(u64, u64)]) -> PublicData {
        let credits: Vec<_> = rewards
            .iter()
            .map(|&(d, r)| tree.credit(id(d), epoch, r).expect("credit"))
            .collect();
        PublicData::from_credits(4, &credits).expect("public data")
    }

    #[test]
    fn replaying_batches_rebuilds_the_tree() {
        let mut native = RewardsTree::new(8).unwrap();
        let mut rebuilt = RewardsTree::new(8).unwrap();
        for (epoch, rewards) in [
            (1, vec![(9, 10), (3, 20), (7, 5)]),
            (2, vec![(3, 1), (11, 2), (9, 0), (1, 4)]),
            (3, vec![(7, 8)]),
        ] {
            let old = native.commitment();
            let data = credited(&mut native, epoch, &rewards);
            rebuilt
                .replay(epoch, &data, old, native.commitment())
                .expect("replay");
            assert_eq!(rebuilt.leaves(), native.leaves());
            assert_eq!(rebuilt.root(), native.root());
        }
    }

    #[test]
    fn a_wrong_cumulative_reward_is_refused_and_changes_nothing() {
        let mut tree = RewardsTree::new(8).unwrap();
        let data = credited(&mut RewardsTree::new(8).unwrap(), 1, &[(9, 10), (3, 20)]);
        let mut devices = data.devices().to_vec();
        devices[1].cumulative += 1;
        let forged = PublicData::new(4, devices).unwrap();
        let before = tree.commitment();
        assert_eq!(
            tree.apply(1, &forged),
            Err(ReplayError::Cumulative {
                position: 1,
                published: 21,
                computed: 20
            })
        );
        assert_eq!(tree.commitment(), before);
        assert_eq!(tree.size(), 1);
    }

    #[test]
    fn a_device_twice_or_an_epoch_again_is_refused() {
        let twice = PublicData::new(
            4,
            vec![
                BatchEntry {
                    device_id: id(5),
                    reward: 1,
                    cumulative: 1,
                },
                BatchEntry {
                    device_id: id(5),
                    reward: 1,
                    cumulative: 2,
                },
            ],
        )
        .unwrap();
        let mut tree = RewardsTree::new(8).unwrap();
        assert!(matches!(
            tree.apply(1, &twice),
            Err(ReplayError::Tree {
                position: 1,
                source: TreeError::AlreadyCredited { .. }
            })
        ));
        assert_eq!(tree.size(), 1, "nothing was applied");

        let mut native = RewardsTree::new(8).unwrap();
        let first = credited(&mut native, 4, &[(5, 1)]);
        tree.apply(4, &first).unwrap();
        let again = credited(&mut RewardsTree::new(8).unwrap(), 4, &[(5, 1)]);
        assert_eq!(
            tree.apply(4, &again),
            Err(ReplayError::Tree {
                position: 0,
                source: TreeError::AlreadyCredited {
                    epoch: 4,
                    last_epoch: 4
                }
            })
        );
    }

    #[test]
    fn a_full_tree_is_refused_before_anything_changes() {
        // Depth 2: slots 0 (sentinel), 1 and 2; slot 3 stays empty.
        let mut tree = RewardsTree::new(2).unwrap();
        let data = credited(
            &mut RewardsTree::new(8).unwrap(),
            1,
            &[(1, 1), (2, 1), (3, 1)],
        );
        assert!(matches!(
            tree.apply(1, &data),
            Err(ReplayError::Tree {
                source: TreeError::Full { depth: 2 },
                ..
            })
        ));
        assert_eq!(tree.size(), 1);
    }

    #[test]
    fn commitments_are_checked_before_and_after() {
        let mut native = RewardsTree::new(8).unwrap();
        let old = native.commitment();
        let data = credited(&mut native, 1, &[(9, 10)]);
        let new = native.commitment();

        let mut tree = RewardsTree::new(8).unwrap();
        assert_eq!(
            tree.replay(1, &data, new, new),
            Err(ReplayError::Commitment {
                when: "old",
                actual: old
            })
        );
        assert_eq!(tree.commitment(), old, "nothing changed");
        assert_eq!(
            tree.replay(1, &data, old, old),
            Err(ReplayError::Commitment {
                when: "new",
                actual: new
            })
        );
    }
}
