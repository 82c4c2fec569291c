//! Reading the applied batches back from the chain and rebuilding a kind's
//! rewards tree from them, as any indexer can (`docs/batches.md`).
//!
//! The contract keeps only each kind's tree commitment; the leaves are in
//! the calldata. [`Rewards::applied_batches`] finds a kind's
//! `BatchSubmitted` events in order, reads the `submitBatch` call of each
//! one's transaction and checks that the call is the one the event logged;
//! [`Rewards::rebuild_tree`] replays their public data onto an empty tree
//! (`depin_batch::RewardsTree::replay`), checking every logged commitment,
//! and ends at the contract's current commitment;
//! [`Rewards::latest_withdrawal`] gives a device its withdrawal from the
//! chain alone.
//!
//! The public data is read from the transaction's own input, so a batch
//! must be submitted by a direct call to the reward contract (as
//! [`Rewards::submit_batch`] does); one sent through another contract is
//! reported as [`ChainError::Unexpected`].

use alloy::consensus::Transaction as _;
use alloy::primitives::{Address, FixedBytes, TxHash, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use depin_batch::public_data::ENTRY_BYTES;
use depin_batch::{PublicData, RewardsTree};
use depin_crypto::Fr;
use depin_statements::StatementKind;

use crate::abi::DepinRewards;
use crate::batches::Withdrawal;
use crate::errors::ChainError;
use crate::field::u256_to_fr;
use crate::rewards::Rewards;

/// A batch the contract applied: its `BatchSubmitted` event and the public
/// data of the `submitBatch` call that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedBatch {
    /// The id the contract gave it.
    pub batch_id: U256,
    /// The epoch its positions prove.
    pub epoch: u32,
    /// The kind's tree commitment before it.
    pub old_commitment: Fr,
    /// The kind's tree commitment after it.
    pub new_commitment: Fr,
    /// The root of its withdrawal tree.
    pub withdrawal_root: FixedBytes<32>,
    /// Its public data.
    pub public_data: PublicData,
    /// The transaction.
    pub tx: TxHash,
    /// The block.
    pub block: u64,
}

impl Rewards {
    /// `kind`'s applied batches, in the order the contract applied them,
    /// from the logs of blocks `from_block` onwards (the contract's
    /// deployment block, or 0).
    ///
    /// # Errors
    ///
    /// [`ChainError::Rpc`] when the node fails, and
    /// [`ChainError::Unexpected`] when a logged batch's transaction is not
    /// a direct `submitBatch` call matching the event (its kind, epoch,
    /// commitments and withdrawal root).
    pub async fn applied_batches(
        &self,
        kind: StatementKind,
        from_block: u64,
    ) -> Result<Vec<AppliedBatch>, ChainError> {
        let filter = Filter::new()
            .address(self.address())
            .event_signature(DepinRewards::BatchSubmitted::SIGNATURE_HASH)
            .topic2(U256::from(kind.code()))
            .from_block(from_block);
        let provider = self.chain().provider();
        let mut logs = provider.get_logs(&filter).await?;
        logs.sort_by_key(|l| (l.block_number, l.log_index));
        let mut batches = Vec::with_capacity(logs.len());
        for log in logs {
            let event = DepinRewards::BatchSubmitted::decode_log_data(log.data()).map_err(|e| {
                ChainError::Unexpected(format!("a BatchSubmitted log that does not decode: {e}"))
            })?;
            let (Some(tx), Some(block)) = (log.transaction_hash, log.block_number) else {
                return Err(ChainError::Unexpected(format!(
                    "batch {}: a log without its transaction or block",
                    event.batchId
                )));
            };
            let transaction = provider.get_transaction_by_hash(tx).await?.ok_or_else(|| {
                ChainError::Unexpected(format!(
                    "batch {}: transaction {tx} not found",
                    event.batchId
                ))
            })?;
            let call = (transaction.to() == Some(self.address()))
                .then(|| DepinRewards::submitBatchCall::abi_decode(transaction.input()).ok())
                .flatten()
                .ok_or_else(|| {
                    ChainError::Unexpected(format!(
                        "batch {}: transaction {tx} is not a direct submitBatch call, so its public data cannot be read from it",
                        event.batchId
                    ))
                })?;
            if call.kind != kind.code()
                || U256::from(call.epoch) != event.epoch
                || call.oldCommitment != event.oldCommitment
                || call.newCommitment != event.newCommitment
            {
                return Err(ChainError::Unexpected(format!(
                    "batch {}: transaction {tx}'s submitBatch call is not the logged batch",
                    event.batchId
                )));
            }
            let public_data =
                PublicData::decode(call.publicData.len() / ENTRY_BYTES, &call.publicData).map_err(
                    |e| {
                        ChainError::Unexpected(format!("batch {}: public data: {e}", event.batchId))
                    },
                )?;
            if public_data.withdrawal_root() != event.withdrawalRoot.0 {
                return Err(ChainError::Unexpected(format!(
                    "batch {}: the logged withdrawal root is not its public data's",
                    event.batchId
                )));
            }
            batches.push(AppliedBatch {
                batch_id: event.batchId,
                epoch: call.epoch,
                old_commitment: u256_to_fr(call.oldCommitment)?,
                new_commitment: u256_to_fr(call.newCommitment)?,
                withdrawal_root: event.withdrawalRoot,
                public_data,
                tx,
                block,
            });
        }
        Ok(batches)
    }

    /// The withdrawal of everything `device_id` earned of `kind` so far,
    /// paid to `payout`: its branch in the latest applied batch that holds
    /// it (cumulative rewards only grow, so that batch's is the device's
    /// current one), from the chain alone; `None` when no batch since
    /// `from_block` holds the device.
    ///
    /// # Errors
    ///
    /// [`Rewards::applied_batches`]'s.
    pub async fn latest_withdrawal(
        &self,
        kind: StatementKind,
        device_id: Fr,
        payout: Address,
        from_block: u64,
    ) -> Result<Option<Withdrawal>, ChainError> {
        let batches = self.applied_batches(kind, from_block).await?;
        for batch in batches.iter().rev() {
            let data = &batch.public_data;
            if let Some(position) = data.devices().iter().position(|e| e.device_id == device_id) {
                let proof = data.withdrawal_proof(position).ok_or_else(|| {
                    ChainError::Unexpected(format!(
                        "batch {}: no withdrawal branch for position {position}",
                        batch.batch_id
                    ))
                })?;
                return Ok(Some(Withdrawal::new(kind, batch.batch_id, payout, &proof)));
            }
        }
        Ok(None)
    }

    /// `kind`'s rewards tree of `depth`, rebuilt by replaying its applied
    /// batches (from `from_block`, as [`Rewards::applied_batches`]) onto an
    /// empty tree; the result holds the contract's current commitment.
    ///
    /// # Errors
    ///
    /// [`Rewards::applied_batches`]'s; [`ChainError::TreeReplay`] when a
    /// batch does not replay (its logged commitments or published
    /// cumulative rewards are not the tree's: another depth, or batches
    /// before `from_block`); [`ChainError::Unexpected`] when the replayed
    /// tree is not the contract's current one.
    pub async fn rebuild_tree(
        &self,
        kind: StatementKind,
        depth: usize,
        from_block: u64,
    ) -> Result<RewardsTree, ChainError> {
        let current = self.tree_commitment(kind).await?;
        if current.is_zero() {
            return Err(ChainError::Unexpected(format!(
                "the contract holds no {} tree: no batch verifier was set",
                kind.as_str()
            )));
        }
        let mut tree = RewardsTree::new(depth).map_err(|e| ChainError::Config {
            what: "rewards tree depth",
            reason: e.to_string(),
        })?;
        for batch in self.applied_batches(kind, from_block).await? {
            tree.replay(
                batch.epoch,
                &batch.public_data,
                batch.old_commitment,
                batch.new_commitment,
            )
            .map_err(|source| ChainError::TreeReplay {
                batch_id: batch.batch_id,
                source,
            })?;
        }
        if crate::field::fr_to_u256(&tree.commitment()) != current {
            return Err(ChainError::Unexpected(format!(
                "the replayed {} tree is not the contract's current one (commitment {current})",
                kind.as_str()
            )));
        }
        Ok(tree)
    }
}
