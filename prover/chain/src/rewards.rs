//! The reward contract's client: operator calls (devices, policies,
//! beacons, registry roots), funding, claims and token balances.
//!
//! [`Rewards::claim_calldata`] sends the prover service's
//! `GetProofResponse.calldata` unchanged as the transaction input, after
//! checking that it is canonical `claim(uint256[8],uint256[])` calldata
//! (for a halo2 proof, [`Rewards::claim_halo2_calldata`] and
//! `claimHalo2(uint256[],bytes)`). A
//! paid claim returns its `Claimed` event as a [`Payment`]; a refused one
//! returns [`ChainError::Reverted`] whose [`ChainError::contract_error`] is
//! the contract's reason ([`ContractError::NullifierUsed`],
//! [`ContractError::InvalidProof`], ...).
//!
//! [`ContractError::NullifierUsed`]: crate::ContractError::NullifierUsed
//! [`ContractError::InvalidProof`]: crate::ContractError::InvalidProof

use alloy::primitives::{Address, Bytes, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{SolCall, SolEvent};
use depin_statements::StatementKind;

use depin_evm::calldata::{encode_claim, Word};

use crate::abi::{DepinRewards, DepinToken};
use crate::chain::{Chain, TxSummary};
use crate::deploy::Deployment;
use crate::errors::{ChainError, Revert};
use crate::field::{fq_to_u256, fr_to_u256, unpack_header, ClaimHeader};

/// A claim: the proof in the verifier's word order (`A.x, A.y, B.x.im,
/// B.x.re, B.y.im, B.y.re, C.x, C.y`) and the statement's public inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The eight proof words.
    pub proof: [U256; 8],
    /// The public inputs: `[header, device_id, policy_hash, beacon,
    /// nullifier, (registry_root | cell)]`.
    pub public_inputs: Vec<U256>,
}

/// Decodes calldata of the contract's function `name` (`C`): refused with
/// [`ChainError::Calldata`] when it is shorter than a selector, names
/// another function, or does not decode as `C`'s arguments.
pub(crate) fn decode_call<C: SolCall>(calldata: &[u8], name: &str) -> Result<C, ChainError> {
    let selector = calldata
        .get(..4)
        .ok_or_else(|| ChainError::Calldata(format!("{} bytes", calldata.len())))?;
    if selector != C::SELECTOR {
        return Err(ChainError::Calldata(format!(
            "selector 0x{}, not {name}'s 0x{}",
            alloy::hex::encode(selector),
            alloy::hex::encode(C::SELECTOR)
        )));
    }
    C::abi_decode(calldata).map_err(|e| ChainError::Calldata(e.to_string()))
}

impl Claim {
    /// A claim from arkworks values: the proof words (as
    /// `depin_evm::solidity::proof_words` orders them) and the public
    /// inputs.
    pub fn from_field(proof: &[ark_bn254::Fq; 8], public_inputs: &[ark_bn254::Fr]) -> Self {
        Claim {
            proof: proof.map(|w| fq_to_u256(&w)),
            public_inputs: public_inputs.iter().map(fr_to_u256).collect(),
        }
    }

    /// Decodes `claim(uint256[8],uint256[])` calldata (the prover service's
    /// `GetProofResponse.calldata`).
    ///
    /// # Errors
    ///
    /// [`ChainError::Calldata`] when the selector is another function's or
    /// the bytes are not the canonical ABI encoding of the arguments.
    pub fn from_calldata(calldata: &[u8]) -> Result<Self, ChainError> {
        let call: DepinRewards::claimCall = decode_call(calldata, "claim")?;
        let claim = Claim {
            proof: call.proof,
            public_inputs: call.publicInputs,
        };
        if claim.calldata().as_ref() != calldata {
            return Err(ChainError::Calldata(
                "not the canonical encoding of its arguments".into(),
            ));
        }
        Ok(claim)
    }

    /// The `claim(uint256[8],uint256[])` calldata, from the prover's one
    /// encoder (`depin_evm::calldata`).
    pub fn calldata(&self) -> Bytes {
        let words: Vec<Word> = self.public_inputs.iter().map(|x| x.to_be_bytes()).collect();
        encode_claim(&self.proof.map(|x| x.to_be_bytes()), &words).into()
    }

    /// The unpacked header (public input 0), if well-formed.
    pub fn header(&self) -> Option<ClaimHeader> {
        self.public_inputs.first().copied().and_then(unpack_header)
    }

    /// The device id (public input 1).
    pub fn device_id(&self) -> Option<U256> {
        self.public_inputs.get(1).copied()
    }

    /// The nullifier (public input 4).
    pub fn nullifier(&self) -> Option<U256> {
        self.public_inputs.get(4).copied()
    }

    fn to_abi(&self) -> DepinRewards::Claim {
        DepinRewards::Claim {
            proof: self.proof,
            publicInputs: self.public_inputs.clone(),
        }
    }
}

/// A halo2 claim: the statement's public inputs and the proof's bytes (the
/// transcript the prover returns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halo2Claim {
    /// The public inputs, as for [`Claim`].
    pub public_inputs: Vec<U256>,
    /// The proof.
    pub proof: Bytes,
}

impl Halo2Claim {
    /// A claim from arkworks public inputs and the proof's bytes.
    pub fn from_field(public_inputs: &[ark_bn254::Fr], proof: &[u8]) -> Self {
        Halo2Claim {
            public_inputs: public_inputs.iter().map(fr_to_u256).collect(),
            proof: Bytes::copy_from_slice(proof),
        }
    }

    /// Decodes `claimHalo2(uint256[],bytes)` calldata (the prover
    /// service's `GetProofResponse.calldata` of a halo2 proof).
    ///
    /// # Errors
    ///
    /// [`ChainError::Calldata`] when the selector is another function's or
    /// the bytes are not the canonical ABI encoding of the arguments.
    pub fn from_calldata(calldata: &[u8]) -> Result<Self, ChainError> {
        let call: DepinRewards::claimHalo2Call = decode_call(calldata, "claimHalo2")?;
        let claim = Halo2Claim {
            public_inputs: call.publicInputs,
            proof: call.proof,
        };
        if claim.calldata().as_ref() != calldata {
            return Err(ChainError::Calldata(
                "not the canonical encoding of its arguments".into(),
            ));
        }
        Ok(claim)
    }

    /// The `claimHalo2(uint256[],bytes)` calldata.
    pub fn calldata(&self) -> Bytes {
        DepinRewards::claimHalo2Call {
            publicInputs: self.public_inputs.clone(),
            proof: self.proof.clone(),
        }
        .abi_encode()
        .into()
    }

    /// The unpacked header (public input 0), if well-formed.
    pub fn header(&self) -> Option<ClaimHeader> {
        self.public_inputs.first().copied().and_then(unpack_header)
    }

    /// The nullifier (public input 4).
    pub fn nullifier(&self) -> Option<U256> {
        self.public_inputs.get(4).copied()
    }

    fn to_abi(&self) -> DepinRewards::Halo2Claim {
        DepinRewards::Halo2Claim {
            publicInputs: self.public_inputs.clone(),
            proof: self.proof.clone(),
        }
    }
}

/// A paid claim: the `Claimed` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment {
    /// The device id.
    pub device_id: U256,
    /// The epoch.
    pub epoch: U256,
    /// The address paid: the device's registered payout address.
    pub payout: Address,
    /// The statement kind code.
    pub kind: u8,
    /// Tokens paid.
    pub reward: U256,
    /// The nullifier spent.
    pub nullifier: U256,
}

impl From<DepinRewards::Claimed> for Payment {
    fn from(e: DepinRewards::Claimed) -> Self {
        Payment {
            device_id: e.deviceId,
            epoch: e.epoch,
            payout: e.payout,
            kind: e.kind,
            reward: e.reward,
            nullifier: e.nullifier,
        }
    }
}

/// A paid claim's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimReceipt {
    /// The transaction.
    pub tx: TxSummary,
    /// What was paid, to whom.
    pub payment: Payment,
}

/// A claim of a batch the contract refused (`ClaimRejected`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The claim's index in the batch.
    pub index: usize,
    /// Why.
    pub reason: Revert,
}

/// A `claimBatch` transaction: every claim is either paid or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReceipt {
    /// The transaction.
    pub tx: TxSummary,
    /// The paid claims, in batch order.
    pub paid: Vec<Payment>,
    /// The refused claims, in batch order.
    pub rejected: Vec<Rejection>,
}

/// A client of one `DepinRewards` contract and its token, sending from one
/// account. Operator calls need the owner's or an operator's account;
/// minting needs the token owner's; claims may come from anyone.
#[derive(Debug, Clone)]
pub struct Rewards {
    chain: Chain,
    rewards: Address,
    token: Address,
}

impl Rewards {
    /// The client of `deployment`'s contracts, sending from `chain`'s
    /// account.
    pub fn new(chain: Chain, deployment: &Deployment) -> Self {
        Self::at(chain, deployment.rewards.address, deployment.token.address)
    }

    /// The client of the reward contract at `rewards` paying in `token`.
    pub fn at(chain: Chain, rewards: Address, token: Address) -> Self {
        Rewards {
            chain,
            rewards,
            token,
        }
    }

    /// The same contracts, sending from another account.
    pub fn with_chain(&self, chain: Chain) -> Self {
        Self::at(chain, self.rewards, self.token)
    }

    /// The reward contract.
    pub fn address(&self) -> Address {
        self.rewards
    }

    /// The token.
    pub fn token(&self) -> Address {
        self.token
    }

    /// The connection.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    async fn send<C: SolCall>(&self, to: Address, call: &C) -> Result<TxSummary, ChainError> {
        Ok((&self.chain.send_call(to, call).await?).into())
    }

    // ------------------------------------------------------------------
    // Owner and operators.

    /// Enables or disables an operator (owner only).
    pub async fn set_operator(
        &self,
        operator: Address,
        enabled: bool,
    ) -> Result<TxSummary, ChainError> {
        self.send(
            self.rewards,
            &DepinRewards::setOperatorCall { operator, enabled },
        )
        .await
    }

    /// Registers devices with their payout addresses in one transaction
    /// (`registerDevices`; a zero payout unregisters).
    pub async fn register_devices(
        &self,
        devices: &[(U256, Address)],
    ) -> Result<TxSummary, ChainError> {
        let (device_ids, payouts) = devices.iter().copied().unzip();
        self.send(
            self.rewards,
            &DepinRewards::registerDevicesCall {
                deviceIds: device_ids,
                payouts,
            },
        )
        .await
    }

    /// Accepts or revokes `policy_hash` for `kind`.
    pub async fn set_policy(
        &self,
        kind: StatementKind,
        policy_hash: U256,
        accepted: bool,
    ) -> Result<TxSummary, ChainError> {
        self.send(
            self.rewards,
            &DepinRewards::setPolicyCall {
                kind: kind.code(),
                policyHash: policy_hash,
                accepted,
            },
        )
        .await
    }

    /// Publishes `epoch`'s beacon (write-once: a second one reverts with
    /// `BeaconAlreadySet`).
    pub async fn set_beacon(&self, epoch: u32, beacon: U256) -> Result<TxSummary, ChainError> {
        self.send(
            self.rewards,
            &DepinRewards::setBeaconCall {
                epoch: U256::from(epoch),
                beacon,
            },
        )
        .await
    }

    /// Accepts or revokes a client registry root (bandwidth claims).
    pub async fn set_registry_root(
        &self,
        root: U256,
        accepted: bool,
    ) -> Result<TxSummary, ChainError> {
        self.send(
            self.rewards,
            &DepinRewards::setRegistryRootCall { root, accepted },
        )
        .await
    }

    /// Mints `amount` tokens to `to` (token owner only).
    pub async fn mint(&self, to: Address, amount: U256) -> Result<TxSummary, ChainError> {
        self.send(self.token, &DepinToken::mintCall { to, amount })
            .await
    }

    /// Mints `amount` tokens to the reward contract, which pays claims from
    /// its balance.
    pub async fn fund(&self, amount: U256) -> Result<TxSummary, ChainError> {
        self.mint(self.rewards, amount).await
    }

    // ------------------------------------------------------------------
    // Claims.

    /// Sends a transaction to the reward contract whose input is exactly
    /// `calldata` (`GetProofResponse.calldata` of the prover service).
    ///
    /// # Errors
    ///
    /// [`ChainError::Calldata`] when the bytes are not canonical
    /// `claim(uint256[8],uint256[])` calldata (nothing is sent);
    /// [`ChainError::Reverted`] with the contract's reason when the claim
    /// is refused.
    pub async fn claim_calldata(&self, calldata: &[u8]) -> Result<ClaimReceipt, ChainError> {
        Claim::from_calldata(calldata)?;
        let receipt = self
            .chain
            .send(
                DepinRewards::claimCall::SIGNATURE,
                self.rewards,
                Bytes::copy_from_slice(calldata),
            )
            .await?;
        self.claim_receipt(&receipt)
    }

    /// Claims `claim` (`claim(proof, publicInputs)`).
    ///
    /// # Errors
    ///
    /// As [`Rewards::claim_calldata`].
    pub async fn claim(&self, claim: &Claim) -> Result<ClaimReceipt, ChainError> {
        let receipt = self
            .chain
            .send(
                DepinRewards::claimCall::SIGNATURE,
                self.rewards,
                claim.calldata(),
            )
            .await?;
        self.claim_receipt(&receipt)
    }

    /// `calldata` of a halo2 proof (`GetProofResponse.calldata`).
    ///
    /// # Errors
    ///
    /// [`ChainError::Calldata`] when the bytes are not canonical
    /// `claimHalo2(uint256[],bytes)` calldata (nothing is sent);
    /// [`ChainError::Reverted`] with the contract's reason when the claim
    /// is refused.
    pub async fn claim_halo2_calldata(&self, calldata: &[u8]) -> Result<ClaimReceipt, ChainError> {
        Halo2Claim::from_calldata(calldata)?;
        let receipt = self
            .chain
            .send(
                DepinRewards::claimHalo2Call::SIGNATURE,
                self.rewards,
                Bytes::copy_from_slice(calldata),
            )
            .await?;
        self.claim_receipt(&receipt)
    }

    /// Claims `claim` (`claimHalo2(publicInputs, proof)`).
    ///
    /// # Errors
    ///
    /// As [`Rewards::claim_halo2_calldata`].
    pub async fn claim_halo2(&self, claim: &Halo2Claim) -> Result<ClaimReceipt, ChainError> {
        let receipt = self
            .chain
            .send(
                DepinRewards::claimHalo2Call::SIGNATURE,
                self.rewards,
                claim.calldata(),
            )
            .await?;
        self.claim_receipt(&receipt)
    }

    /// Claims every claim of `claims` that passes in one `claimBatch`
    /// transaction; the others are reported as [`Rejection`]s.
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] only when the whole batch reverts
    /// (`InsufficientGas`).
    pub async fn claim_batch(&self, claims: &[Claim]) -> Result<BatchReceipt, ChainError> {
        let call = DepinRewards::claimBatchCall {
            claims: claims.iter().map(Claim::to_abi).collect(),
        };
        let receipt = self.chain.send_call(self.rewards, &call).await?;
        self.batch_receipt(&receipt, claims.len())
    }

    /// [`Rewards::claim_batch`] for halo2 claims (`claimBatchHalo2`).
    ///
    /// # Errors
    ///
    /// As [`Rewards::claim_batch`].
    pub async fn claim_batch_halo2(
        &self,
        claims: &[Halo2Claim],
    ) -> Result<BatchReceipt, ChainError> {
        let call = DepinRewards::claimBatchHalo2Call {
            claims: claims.iter().map(Halo2Claim::to_abi).collect(),
        };
        let receipt = self.chain.send_call(self.rewards, &call).await?;
        self.batch_receipt(&receipt, claims.len())
    }

    /// The payments and rejections a batch of `claims` claims logged.
    fn batch_receipt(
        &self,
        receipt: &TransactionReceipt,
        claims: usize,
    ) -> Result<BatchReceipt, ChainError> {
        let mut paid = Vec::new();
        let mut rejected = Vec::new();
        for log in receipt
            .logs()
            .iter()
            .filter(|l| l.address() == self.rewards)
        {
            if let Ok(e) = DepinRewards::Claimed::decode_log_data(log.data()) {
                paid.push(e.into());
            } else if let Ok(e) = DepinRewards::ClaimRejected::decode_log_data(log.data()) {
                let index = usize::try_from(e.index).map_err(|_| {
                    ChainError::Unexpected(format!("ClaimRejected index {}", e.index))
                })?;
                rejected.push(Rejection {
                    index,
                    reason: Revert::from_selector(e.reason.0),
                });
            }
        }
        if paid.len() + rejected.len() != claims {
            return Err(ChainError::Unexpected(format!(
                "a batch of {claims} claims logged {} payments and {} rejections",
                paid.len(),
                rejected.len()
            )));
        }
        Ok(BatchReceipt {
            tx: receipt.into(),
            paid,
            rejected,
        })
    }

    fn claim_receipt(&self, receipt: &TransactionReceipt) -> Result<ClaimReceipt, ChainError> {
        let payment = receipt
            .logs()
            .iter()
            .filter(|l| l.address() == self.rewards)
            .find_map(|l| DepinRewards::Claimed::decode_log_data(l.data()).ok())
            .ok_or_else(|| {
                ChainError::Unexpected(format!(
                    "claim transaction {} succeeded without a Claimed event",
                    receipt.transaction_hash
                ))
            })?;
        Ok(ClaimReceipt {
            tx: receipt.into(),
            payment: payment.into(),
        })
    }

    // ------------------------------------------------------------------
    // Views.

    /// The token balance of `holder`.
    pub async fn balance_of(&self, holder: Address) -> Result<U256, ChainError> {
        self.chain
            .view(self.token, &DepinToken::balanceOfCall { holder })
            .await
    }

    /// The payout address registered for `device_id` (zero: none).
    pub async fn payout_of(&self, device_id: U256) -> Result<Address, ChainError> {
        self.chain
            .view(
                self.rewards,
                &DepinRewards::payoutOfCall {
                    deviceId: device_id,
                },
            )
            .await
    }

    /// Whether `nullifier` is spent.
    pub async fn nullifier_used(&self, nullifier: U256) -> Result<bool, ChainError> {
        self.chain
            .view(self.rewards, &DepinRewards::nullifierUsedCall { nullifier })
            .await
    }

    /// `epoch`'s beacon (zero: not published).
    pub async fn beacon_of(&self, epoch: u32) -> Result<U256, ChainError> {
        self.chain
            .view(
                self.rewards,
                &DepinRewards::beaconOfCall {
                    epoch: U256::from(epoch),
                },
            )
            .await
    }

    /// Whether `policy_hash` is accepted for `kind`.
    pub async fn policy_accepted(
        &self,
        kind: StatementKind,
        policy_hash: U256,
    ) -> Result<bool, ChainError> {
        self.chain
            .view(
                self.rewards,
                &DepinRewards::policyAcceptedCall {
                    kind: kind.code(),
                    policyHash: policy_hash,
                },
            )
            .await
    }

    /// Whether `root` is an accepted client registry root.
    pub async fn registry_root_accepted(&self, root: U256) -> Result<bool, ChainError> {
        self.chain
            .view(
                self.rewards,
                &DepinRewards::registryRootAcceptedCall { root },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_round_trips_and_is_checked() {
        let claim = Claim {
            proof: std::array::from_fn(|i| U256::from(i + 1)),
            public_inputs: (0..5u8).map(U256::from).collect(),
        };
        let data = claim.calldata();
        // The one encoder agrees with alloy's ABI encoder.
        let alloy = DepinRewards::claimCall {
            proof: claim.proof,
            publicInputs: claim.public_inputs.clone(),
        }
        .abi_encode();
        assert_eq!(&data[..], &alloy[..]);
        assert_eq!(&data[..4], &DepinRewards::claimCall::SELECTOR);
        assert_eq!(data.len(), 4 + 32 * (10 + 5));
        assert_eq!(Claim::from_calldata(&data).unwrap(), claim);
        // Another selector, truncated data, trailing bytes.
        let mut other = data.to_vec();
        other[0] ^= 1;
        assert!(Claim::from_calldata(&other).is_err());
        assert!(Claim::from_calldata(&data[..data.len() - 1]).is_err());
        let mut long = data.to_vec();
        long.extend_from_slice(&[0u8; 32]);
        assert!(Claim::from_calldata(&long).is_err());
        assert!(Claim::from_calldata(&[]).is_err());
    }
}
