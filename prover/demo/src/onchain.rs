//! The chain side of the demo: anvil (or a given node), the contracts
//! deployed and funded, the epoch's policies and beacon, device payouts,
//! claims, and attacks on the contract with a paid proof.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use depin_chain::{
    decimal_to_u256, deploy, fr_to_u256, pack_header, Address, Anvil, Artifacts, BatchSubmission,
    Chain as Node, ChainError, Claim, DeployConfig, Deployment, FixedBytes, Rewards, StatementKind,
    Withdrawal, U256,
};

use depin_crypto::Fr;
use depin_device_sdk::client::pb;
use tiny_keccak::{Hasher, Keccak};

use crate::report::ClaimOutcome;

/// Tokens minted to the reward contract: far more than a demo pays.
const FUNDING: u64 = 1_000_000_000_000;

/// A chain with the contracts deployed.
pub struct Chain {
    // Kept alive for the run: dropping it stops the node.
    _anvil: Option<Anvil>,
    deployment: Deployment,
    rewards: Rewards,
    payouts: HashMap<U256, Address>,
}

impl Chain {
    /// Starts anvil (or connects to `rpc` with `key`), deploys the three
    /// verifiers, the token and the reward contract, and funds it.
    pub async fn start(repo: &Path, rpc: Option<&str>, key: Option<&str>) -> Result<Self> {
        let (anvil, url, key) = match rpc {
            None => {
                let anvil = Anvil::spawn(repo).context("starting anvil")?;
                let url = anvil.endpoint().to_string();
                let key = key.unwrap_or(anvil.key(0)).to_string();
                (Some(anvil), url, key)
            }
            Some(url) => {
                let key = key.context("--rpc needs --deployer-key (or DEPIN_DEPLOYER_KEY)")?;
                (None, url.to_string(), key.to_string())
            }
        };
        let node = Node::connect(&url, &key).with_context(|| format!("connecting to {url}"))?;
        let artifacts = Artifacts::load(&Artifacts::out_dir(repo))?;
        let deployment = deploy(&node, &artifacts, &DeployConfig::default())
            .await
            .context("deploying the contracts")?;
        let rewards = Rewards::new(node, &deployment);
        rewards
            .fund(U256::from(FUNDING))
            .await
            .context("funding the reward contract")?;
        Ok(Chain {
            _anvil: anvil,
            deployment,
            rewards,
            payouts: HashMap::new(),
        })
    }

    /// Deployment gas and runtime size of every contract.
    pub fn deployments(&self) -> Vec<(String, u64, usize)> {
        self.deployment
            .contracts()
            .into_iter()
            .map(|d| (d.name.clone(), d.gas_used, d.code_size))
            .collect()
    }

    /// Accepts the epoch's policy hashes and client registry root and sets
    /// its beacon, as the prover published them.
    pub async fn publish_epoch(&self, policy: &pb::EpochPolicy) -> Result<()> {
        let field = |what: &str, v: &str| {
            decimal_to_u256(v).with_context(|| format!("the prover's {what} {v:?}"))
        };
        for (kind, hash) in [
            (StatementKind::Uptime, &policy.uptime_policy_hash),
            (StatementKind::Bandwidth, &policy.bandwidth_policy_hash),
            (StatementKind::Coverage, &policy.coverage_policy_hash),
        ] {
            self.rewards
                .set_policy(kind, field("policy hash", hash)?, true)
                .await?;
        }
        self.rewards
            .set_beacon(policy.epoch, field("beacon", &policy.beacon)?)
            .await?;
        self.rewards
            .set_registry_root(field("registry root", &policy.registry_root)?, true)
            .await?;
        Ok(())
    }

    /// Registers every device with a payout address of its own.
    pub async fn register_devices(&mut self, ids: &[Fr]) -> Result<()> {
        let pairs: Vec<(U256, Address)> = ids
            .iter()
            .map(|id| {
                let id = fr_to_u256(id);
                (id, payout_address(id))
            })
            .collect();
        for chunk in pairs.chunks(100) {
            self.rewards.register_devices(chunk).await?;
        }
        self.payouts.extend(pairs);
        Ok(())
    }

    /// Sends a claim with the prover's calldata, unchanged. Paid only when
    /// the device's payout balance grew by exactly the reward the proof
    /// shows.
    pub async fn claim(&self, calldata: &[u8]) -> Result<ClaimOutcome> {
        let claim = Claim::from_calldata(calldata)?;
        let device = claim.device_id().context("claim without a device id")?;
        let reward = claim.header().context("claim without a header")?.reward;
        let payout = *self
            .payouts
            .get(&device)
            .context("a proof for a device the demo did not register")?;
        let before = self.rewards.balance_of(payout).await?;
        match self.rewards.claim_calldata(calldata).await {
            Ok(receipt) => {
                let after = self.rewards.balance_of(payout).await?;
                let paid = after - before;
                if paid != U256::from(reward) || receipt.payment.payout != payout {
                    bail!(
                        "claim of device {device} paid {paid} to {}, expected {reward} to {payout}",
                        receipt.payment.payout
                    );
                }
                Ok(ClaimOutcome::Paid {
                    amount: reward,
                    gas: receipt.tx.gas_used,
                })
            }
            Err(e) => refused(e),
        }
    }

    /// Attacks with a valid claim before it is paid: its reward raised,
    /// and its proof presented for another device. Each entry is the attack
    /// and the contract's error (`None` if it paid).
    pub async fn tamper_attacks(
        &self,
        calldata: &[u8],
        others: &[Fr],
    ) -> Result<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        let claim = Claim::from_calldata(calldata)?;
        let mut inflated = claim.clone();
        let mut header = claim.header().context("claim without a header")?;
        header.reward += 1;
        inflated.public_inputs[0] = pack_header(&header);
        out.push((
            "the reward raised by one".to_string(),
            refusal(self.claim(&inflated.calldata()).await?),
        ));

        let device = claim.device_id().context("claim without a device id")?;
        if let Some(other) = others.iter().map(fr_to_u256).find(|o| *o != device) {
            let mut stolen = claim.clone();
            stolen.public_inputs[1] = other;
            out.push((
                "the proof presented for another device".to_string(),
                refusal(self.claim(&stolen.calldata()).await?),
            ));
        }
        Ok(out)
    }

    /// Applies a batch with the prover's `submitBatch` calldata, unchanged:
    /// the contract's batch id and the transaction's gas, or the contract's
    /// refusal.
    pub async fn submit_batch(
        &self,
        calldata: &[u8],
    ) -> Result<std::result::Result<(U256, u64), String>> {
        let batch = BatchSubmission::from_calldata(calldata)?;
        match self.rewards.submit_batch(&batch).await {
            Ok(applied) => Ok(Ok((applied.batch_id, applied.tx.gas_used))),
            Err(e) => match e.contract_error() {
                Some(err) => Ok(Err(err.name().to_string())),
                None => Err(e).context("sending a batch"),
            },
        }
    }

    /// Withdraws a device's rewards with the prover's withdrawal, under
    /// the contract's batch `batch_id`, to `payout` (the device's own when
    /// `None`). Paid only when the payout balance grew by exactly
    /// `expected`.
    pub async fn withdraw(
        &self,
        w: &pb::Withdrawal,
        batch_id: U256,
        payout: Option<Address>,
        expected: u64,
    ) -> Result<ClaimOutcome> {
        let kind = depin_proto::convert::kind("kind", w.kind)?;
        let device = decimal_to_u256(&w.device_id)?;
        let own = *self
            .payouts
            .get(&device)
            .context("a withdrawal for a device the demo did not register")?;
        let payout = payout.unwrap_or(own);
        let siblings = w
            .siblings
            .iter()
            .map(|s| {
                <[u8; 32]>::try_from(s.as_slice())
                    .map(FixedBytes::from)
                    .map_err(|_| anyhow::anyhow!("a sibling of {} bytes", s.len()))
            })
            .collect::<Result<Vec<_>>>()?;
        let withdrawal = Withdrawal {
            kind: kind.code(),
            device_id: device,
            payout,
            batch_id,
            cumulative: w
                .cumulative
                .parse()
                .context("the withdrawal's cumulative")?,
            position: U256::from(w.position),
            siblings,
        };
        let before = self.rewards.balance_of(payout).await?;
        match self.rewards.withdraw(&withdrawal).await {
            Ok(receipt) => {
                let paid = self.rewards.balance_of(payout).await? - before;
                if paid != U256::from(expected) || receipt.payout != own {
                    bail!(
                        "withdrawal of device {device} paid {paid} to {}, expected {expected} to {own}",
                        receipt.payout
                    );
                }
                Ok(ClaimOutcome::Paid {
                    amount: expected,
                    gas: receipt.tx.gas_used,
                })
            }
            Err(e) => refused(e),
        }
    }

    /// Sends a claim that was already paid again.
    pub async fn replay(&self, calldata: &[u8]) -> Result<(String, Option<String>)> {
        Ok((
            "the same claim again (replay)".to_string(),
            refusal(self.claim(calldata).await?),
        ))
    }
}

/// The contract's error, or `None` if the attack was paid.
pub(crate) fn refusal(c: ClaimOutcome) -> Option<String> {
    match c {
        ClaimOutcome::Refused(e) => Some(e),
        ClaimOutcome::Paid { .. } | ClaimOutcome::NotClaimed => None,
    }
}

/// The contract's refusal as an outcome; any other failure is an error.
fn refused(e: ChainError) -> Result<ClaimOutcome> {
    match e.contract_error() {
        Some(err) => Ok(ClaimOutcome::Refused(err.name().to_string())),
        None => Err(e).context("sending a claim"),
    }
}

/// A payout address of the device's own: the last 20 bytes of
/// keccak256("depin-demo payout" || device id).
fn payout_address(device: U256) -> Address {
    let mut k = Keccak::v256();
    k.update(b"depin-demo payout");
    k.update(&device.to_be_bytes::<32>());
    let mut h = [0u8; 32];
    k.finalize(&mut h);
    Address::from_slice(&h[12..])
}
