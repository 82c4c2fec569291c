//! Epoch batches on chain: `DepinRewards.submitBatch` and `withdraw`
//! (`docs/batches.md`).
//!
//! A [`BatchSubmission`] is a batch proof with the header values and
//! public data the contract hashes into the proof's one public input; a
//! [`Withdrawal`] is a device's cumulative reward in one applied batch with
//! its branch of the batch's withdrawal tree. [`Rewards::submit_batch`]
//! returns the batch id the contract assigned (from its `BatchSubmitted`
//! event), [`Rewards::withdraw`] what it paid (from `Withdrawn`); a refusal
//! is a [`ChainError::Reverted`] with the contract's error (`StaleRoot`,
//! `InvalidProof`, `NothingToWithdraw`, `NotPayoutAddress`, ...).

use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;
use depin_batch::{BatchHeader, PublicData, WithdrawalProof};
use depin_statements::StatementKind;

use crate::abi::DepinRewards;
use crate::chain::TxSummary;
use crate::errors::ChainError;
use crate::field::{fq_to_u256, fr_to_u256};
use crate::rewards::Rewards;

/// The arguments of `submitBatch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSubmission {
    /// The proof in the verifier's word order (`depin_evm::solidity::proof_words`).
    pub proof: [U256; 8],
    /// The epoch every position proves.
    pub epoch: u32,
    /// The statement kind's code.
    pub kind: u8,
    /// The kind's tree commitment before the batch.
    pub old_commitment: U256,
    /// The kind's tree commitment after it.
    pub new_commitment: U256,
    /// The policy every position proves under.
    pub policy_hash: U256,
    /// The client registry root (bandwidth; zero otherwise).
    pub registry_root: U256,
    /// The public data: `batchSize` entries of 56 bytes.
    pub public_data: Bytes,
}

impl BatchSubmission {
    /// The submission of a batch proof (`proof`, in the verifier's word
    /// order) for `header` and `data`.
    pub fn new(proof: &[ark_bn254::Fq; 8], header: &BatchHeader, data: &PublicData) -> Self {
        BatchSubmission {
            proof: proof.map(|w| fq_to_u256(&w)),
            epoch: header.epoch,
            kind: header.kind,
            old_commitment: fr_to_u256(&header.old_commitment),
            new_commitment: fr_to_u256(&header.new_commitment),
            policy_hash: fr_to_u256(&header.policy_hash),
            registry_root: fr_to_u256(&header.registry_root),
            public_data: Bytes::from(data.encode()),
        }
    }

    /// Decodes `submitBatch` calldata (the prover service's
    /// `Batch.calldata`).
    ///
    /// # Errors
    ///
    /// [`ChainError::Calldata`] when the selector is another function's or
    /// the bytes are not the canonical ABI encoding of the arguments.
    pub fn from_calldata(calldata: &[u8]) -> Result<Self, ChainError> {
        use alloy::sol_types::SolCall;
        let c: DepinRewards::submitBatchCall =
            crate::rewards::decode_call(calldata, "submitBatch")?;
        let out = BatchSubmission {
            proof: c.proof,
            epoch: c.epoch,
            kind: c.kind,
            old_commitment: c.oldCommitment,
            new_commitment: c.newCommitment,
            policy_hash: c.policyHash,
            registry_root: c.registryRoot,
            public_data: c.publicData,
        };
        if out.call().abi_encode() != calldata {
            return Err(ChainError::Calldata(
                "not the canonical encoding of its arguments".into(),
            ));
        }
        Ok(out)
    }

    fn call(&self) -> DepinRewards::submitBatchCall {
        DepinRewards::submitBatchCall {
            proof: self.proof,
            epoch: self.epoch,
            kind: self.kind,
            oldCommitment: self.old_commitment,
            newCommitment: self.new_commitment,
            policyHash: self.policy_hash,
            registryRoot: self.registry_root,
            publicData: self.public_data.clone(),
        }
    }
}

/// An applied batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchApplied {
    /// The transaction.
    pub tx: TxSummary,
    /// The id the contract gave the batch (withdrawals name it).
    pub batch_id: U256,
    /// The root of the batch's withdrawal tree.
    pub withdrawal_root: FixedBytes<32>,
}

/// The arguments of `withdraw`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    /// The statement kind's code.
    pub kind: u8,
    /// The device.
    pub device_id: U256,
    /// The device's registered payout address.
    pub payout: Address,
    /// The applied batch the proof is under.
    pub batch_id: U256,
    /// The device's cumulative reward in that batch.
    pub cumulative: u128,
    /// The device's position in the batch.
    pub position: U256,
    /// The withdrawal tree's siblings from the leaf up.
    pub siblings: Vec<FixedBytes<32>>,
}

impl Withdrawal {
    /// The withdrawal of `proof` (from `PublicData::withdrawal_proof`)
    /// under batch `batch_id` of `kind`, paid to `payout`.
    pub fn new(
        kind: StatementKind,
        batch_id: U256,
        payout: Address,
        proof: &WithdrawalProof,
    ) -> Self {
        Withdrawal {
            kind: kind.code(),
            device_id: fr_to_u256(&proof.device_id),
            payout,
            batch_id,
            cumulative: proof.cumulative,
            position: U256::from(proof.position),
            siblings: proof.siblings.iter().map(|s| FixedBytes(*s)).collect(),
        }
    }
}

/// A paid withdrawal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalReceipt {
    /// The transaction.
    pub tx: TxSummary,
    /// The amount paid: the cumulative reward less what was paid before.
    pub amount: U256,
    /// Where it went.
    pub payout: Address,
}

impl Rewards {
    /// Sets `kind`'s batch verifier (owner only): its `version`, the
    /// `batch_size` its key was made for and, while the kind has no tree
    /// yet, the empty tree's `genesis` commitment.
    pub async fn set_batch_verifier(
        &self,
        kind: StatementKind,
        verifier: Address,
        version: u32,
        batch_size: u32,
        genesis: U256,
    ) -> Result<TxSummary, ChainError> {
        let call = DepinRewards::setBatchVerifierCall {
            kind: kind.code(),
            verifier,
            version,
            batchSize: batch_size,
            genesis,
        };
        Ok((&self.chain().send_call(self.address(), &call).await?).into())
    }

    /// Applies a batch (`submitBatch`).
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] with the contract's reason when it is
    /// refused: `StaleRoot` (replayed, or not on the current tree),
    /// `InvalidProof`, `PolicyNotAccepted`, `BeaconMismatch`, ...
    pub async fn submit_batch(&self, batch: &BatchSubmission) -> Result<BatchApplied, ChainError> {
        let receipt = self
            .chain()
            .send_call(self.address(), &batch.call())
            .await?;
        let event = self.event::<DepinRewards::BatchSubmitted>(&receipt, "BatchSubmitted")?;
        Ok(BatchApplied {
            tx: (&receipt).into(),
            batch_id: event.batchId,
            withdrawal_root: event.withdrawalRoot,
        })
    }

    /// Withdraws a device's rewards (`withdraw`).
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] with the contract's reason when it is
    /// refused: `NothingToWithdraw` (already paid up to this amount),
    /// `InvalidWithdrawalProof`, `NotPayoutAddress`, `DeviceNotRegistered`,
    /// `InsufficientFunds`.
    pub async fn withdraw(&self, w: &Withdrawal) -> Result<WithdrawalReceipt, ChainError> {
        let call = DepinRewards::withdrawCall {
            kind: w.kind,
            deviceId: w.device_id,
            payout: w.payout,
            batchId: w.batch_id,
            cumulative: w.cumulative,
            position: w.position,
            siblings: w.siblings.clone(),
        };
        let receipt = self.chain().send_call(self.address(), &call).await?;
        let event = self.event::<DepinRewards::Withdrawn>(&receipt, "Withdrawn")?;
        Ok(WithdrawalReceipt {
            tx: (&receipt).into(),
            amount: event.amount,
            payout: event.payout,
        })
    }

    /// `kind`'s current rewards tree commitment (zero: no batch verifier
    /// was ever set).
    pub async fn tree_commitment(&self, kind: StatementKind) -> Result<U256, ChainError> {
        self.chain()
            .view(
                self.address(),
                &DepinRewards::treeCommitmentCall { kind: kind.code() },
            )
            .await
    }

    /// What `device_id` was paid of its `kind` rewards so far.
    pub async fn withdrawn(
        &self,
        kind: StatementKind,
        device_id: U256,
    ) -> Result<U256, ChainError> {
        self.chain()
            .view(
                self.address(),
                &DepinRewards::withdrawnCall {
                    kind: kind.code(),
                    deviceId: device_id,
                },
            )
            .await
    }

    /// The first `E` event the reward contract logged in `receipt`.
    fn event<E: SolEvent>(
        &self,
        receipt: &TransactionReceipt,
        name: &str,
    ) -> Result<E, ChainError> {
        receipt
            .logs()
            .iter()
            .filter(|l| l.address() == self.address())
            .find_map(|l| E::decode_log_data(l.data()).ok())
            .ok_or_else(|| {
                ChainError::Unexpected(format!(
                    "transaction {} succeeded without a {name} event",
                    receipt.transaction_hash
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolCall;
    use ark_bn254::{G1Affine, G2Affine};
    use ark_ec::AffineRepr;
    use depin_batch::BatchEntry;
    use depin_crypto::Fr;
    use depin_evm::calldata::{submit_batch_calldata, BatchCallHeader};
    use depin_evm::solidity::proof_words;

    /// The prover's one encoder of `submitBatch` (the service's
    /// `Batch.calldata`) is Solidity's ABI encoding, and decodes back.
    #[test]
    fn the_provers_submit_batch_calldata_is_the_abi() {
        let g1 = (G1Affine::generator() * Fr::from(7u64)).into();
        let g2 = (G2Affine::generator() * Fr::from(11u64)).into();
        let proof = ark_groth16::Proof::<ark_bn254::Bn254> {
            a: g1,
            b: g2,
            c: G1Affine::generator(),
        };
        let header = BatchHeader {
            kind: 1,
            version: 1,
            epoch: 9,
            policy_hash: Fr::from(5u64),
            beacon: Fr::from(6u64),
            registry_root: Fr::from(0u64),
            old_commitment: Fr::from(123u64),
            new_commitment: Fr::from(456u64),
        };
        // Three devices in a batch of 4: 224 bytes, a multiple of 32; and
        // of 3: 168 bytes, padded.
        for size in [4, 3] {
            let entries = (1..=3u64)
                .map(|i| BatchEntry {
                    device_id: Fr::from(i * 1000),
                    reward: i,
                    cumulative: u128::from(i) * 10,
                })
                .collect();
            let data = PublicData::new(size, entries).expect("public data");
            let submission = BatchSubmission::new(&proof_words(&proof), &header, &data);
            let ours = submit_batch_calldata(
                &proof,
                &BatchCallHeader {
                    epoch: header.epoch,
                    kind: header.kind,
                    old_commitment: header.old_commitment,
                    new_commitment: header.new_commitment,
                    policy_hash: header.policy_hash,
                    registry_root: header.registry_root,
                },
                &data.encode(),
            );
            assert_eq!(ours, submission.call().abi_encode());
            assert_eq!(
                BatchSubmission::from_calldata(&ours).expect("decode"),
                submission
            );
            let mut other = ours.clone();
            other[0] ^= 1;
            assert!(matches!(
                BatchSubmission::from_calldata(&other),
                Err(ChainError::Calldata(_))
            ));
        }
    }
}
