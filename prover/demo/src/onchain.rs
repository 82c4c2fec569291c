//! The chain side of the demo: anvil (or a given node), the contracts
//! deployed and funded, the epoch's policies and beacon, device payouts,
//! claims, and attacks on the contract with a paid proof.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use depin_chain::{
    decimal_to_u256, deploy, fr_to_u256, pack_header, unpack_header, Address, Anvil, Artifacts,
    BatchSubmission, Bytes, Chain as Node, ChainError, Claim, ClaimHeader, DeployConfig,
    Deployment, FixedBytes, Halo2Claim, Rewards, StatementKind, Withdrawal,
    DEFAULT_HALO2_VERIFY_GAS, STATEMENT_VERSION, U256,
};

use depin_crypto::Fr;
use depin_device_sdk::client::pb;
use tiny_keccak::{Hasher, Keccak};

use crate::report::ClaimOutcome;

/// Tokens minted to the reward contract: far more than a demo pays.
const FUNDING: u64 = 1_000_000_000_000;

/// A claim of either proof system, as the prover's calldata encodes it
/// (`claim` for Groth16, `claimHalo2` for halo2).
#[derive(Debug, Clone)]
enum AnyClaim {
    Groth16(Box<Claim>),
    Halo2(Halo2Claim),
}

impl AnyClaim {
    fn from_calldata(calldata: &[u8]) -> Result<Self> {
        let halo2 = depin_evm::calldata::selector(depin_evm::calldata::HALO2_CLAIM_FUNCTION);
        Ok(if calldata.get(..4) == Some(&halo2[..]) {
            AnyClaim::Halo2(Halo2Claim::from_calldata(calldata)?)
        } else {
            AnyClaim::Groth16(Box::new(Claim::from_calldata(calldata)?))
        })
    }

    fn public_inputs(&self) -> &[U256] {
        match self {
            AnyClaim::Groth16(c) => &c.public_inputs,
            AnyClaim::Halo2(c) => &c.public_inputs,
        }
    }

    fn public_inputs_mut(&mut self) -> &mut Vec<U256> {
        match self {
            AnyClaim::Groth16(c) => &mut c.public_inputs,
            AnyClaim::Halo2(c) => &mut c.public_inputs,
        }
    }

    fn header(&self) -> Result<ClaimHeader> {
        self.public_inputs()
            .first()
            .copied()
            .and_then(unpack_header)
            .context("claim without a header")
    }

    fn device_id(&self) -> Result<U256> {
        self.public_inputs()
            .get(1)
            .copied()
            .context("claim without a device id")
    }

    fn calldata(&self) -> Bytes {
        match self {
            AnyClaim::Groth16(c) => c.calldata(),
            AnyClaim::Halo2(c) => c.calldata(),
        }
    }
}

/// A chain with the contracts deployed.
pub struct Chain {
    // Kept alive for the run: dropping it stops the node.
    _anvil: Option<Anvil>,
    deployment: Deployment,
    rewards: Rewards,
    payouts: HashMap<U256, Address>,
    /// Contracts deployed after the deployment: name, gas, runtime size.
    extra: Vec<(String, u64, usize)>,
}

impl Chain {
    /// Starts anvil (or connects to `rpc` with `key`), deploys the three
    /// verifiers (and with `halo2` the three halo2 verifiers, claims
    /// enabled), the token and the reward contract, and funds it.
    pub async fn start(
        repo: &Path,
        rpc: Option<&str>,
        key: Option<&str>,
        halo2: bool,
    ) -> Result<Self> {
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
        let config = DeployConfig {
            halo2_verify_gas: halo2.then_some(DEFAULT_HALO2_VERIFY_GAS),
            ..DeployConfig::default()
        };
        let deployment = deploy(&node, &artifacts, &config)
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
            extra: Vec::new(),
        })
    }

    /// Makes the contract take epoch batches of `batch_size` (the
    /// deployment carries verifiers for batches of
    /// `depin_batch::DEFAULT_BATCH_SIZE`): for each statement, the
    /// verifying key of the development batch key the demo's prover makes
    /// (the golden setup seed), its verifier rendered by the prover's one
    /// template, compiled with the project's pinned solc, deployed and set
    /// with `setBatchVerifier`. Adds each to the deployments.
    pub async fn enable_batches(&mut self, repo: &Path, batch_size: usize) -> Result<()> {
        if batch_size == depin_batch::DEFAULT_BATCH_SIZE {
            return Ok(());
        }
        let size = u32::try_from(batch_size).context("the batch size")?;
        let genesis = fr_to_u256(
            &depin_batch::RewardsTree::new(depin_batch::TREE_DEPTH)
                .context("the empty rewards tree")?
                .commitment(),
        );
        for kind in StatementKind::ALL {
            let vk = tokio::task::spawn_blocking(move || {
                depin_groth16::batch::dev_batch_verifying_key(
                    kind,
                    batch_size,
                    depin_groth16::golden::SETUP_SEED,
                )
            })
            .await
            .context("the verifying key task")?
            .with_context(|| format!("the {} batch verifying key", kind.as_str()))?;
            let statement = depin_batch::batch_statement_name(kind.as_str(), batch_size);
            let name = depin_evm::solidity::contract_name(&statement);
            let source = depin_evm::solidity::render_verifier(&vk, &statement, STATEMENT_VERSION);
            let code = compile(repo, &name, &source)?;
            let receipt = self
                .rewards
                .chain()
                .deploy_code(&name, code.clone().into())
                .await?;
            let address = receipt
                .contract_address
                .context("the verifier's deployment names no address")?;
            self.rewards
                .set_batch_verifier(kind, address, STATEMENT_VERSION, size, genesis)
                .await?;
            let runtime = self.rewards.chain().code_at(address).await?.len();
            self.extra.push((name, receipt.gas_used, runtime));
        }
        Ok(())
    }

    /// Deployment gas and runtime size of every contract.
    pub fn deployments(&self) -> Vec<(String, u64, usize)> {
        self.deployment
            .contracts()
            .into_iter()
            .map(|d| (d.name.clone(), d.gas_used, d.code_size))
            .chain(self.extra.iter().cloned())
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

    /// Sends a claim with the prover's calldata (`claim` or
    /// `claimHalo2`), unchanged. Paid only when the device's payout balance
    /// grew by exactly the reward the proof shows.
    pub async fn claim(&self, calldata: &[u8]) -> Result<ClaimOutcome> {
        let claim = AnyClaim::from_calldata(calldata)?;
        let device = claim.device_id()?;
        let reward = claim.header()?.reward;
        let payout = *self
            .payouts
            .get(&device)
            .context("a proof for a device the demo did not register")?;
        let before = self.rewards.balance_of(payout).await?;
        let sent = match claim {
            AnyClaim::Groth16(_) => self.rewards.claim_calldata(calldata).await,
            AnyClaim::Halo2(_) => self.rewards.claim_halo2_calldata(calldata).await,
        };
        match sent {
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
        let claim = AnyClaim::from_calldata(calldata)?;
        let mut inflated = claim.clone();
        let mut header = claim.header()?;
        header.reward += 1;
        inflated.public_inputs_mut()[0] = pack_header(&header);
        out.push((
            "the reward raised by one".to_string(),
            refusal(self.claim(&inflated.calldata()).await?),
        ));

        let device = claim.device_id()?;
        if let Some(other) = others.iter().map(fr_to_u256).find(|o| *o != device) {
            let mut stolen = claim.clone();
            stolen.public_inputs_mut()[1] = other;
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

/// Compiles one Solidity source with the project's pinned solc
/// (`scripts/solc-native`, standard JSON, the settings of
/// `verifier-contract/foundry.toml`) and returns contract `name`'s creation
/// code.
fn compile(repo: &Path, name: &str, source: &str) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let input = serde_json::json!({
        "language": "Solidity",
        "sources": { "Verifier.sol": { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": 1_000_000 },
            "evmVersion": "cancun",
            "metadata": { "bytecodeHash": "none", "appendCBOR": false },
            "outputSelection": { "*": { "*": ["evm.bytecode.object"] } }
        }
    });
    let mut child = std::process::Command::new(repo.join("scripts/solc-native"))
        .arg("--standard-json")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running scripts/solc-native (scripts/setup.sh installs solc)")?;
    child
        .stdin
        .take()
        .context("solc's input")?
        .write_all(input.to_string().as_bytes())
        .context("writing solc's input")?;
    let out = child.wait_with_output().context("waiting for solc")?;
    if !out.status.success() {
        bail!("solc failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("solc's answer is not JSON")?;
    if let Some(errors) = json["errors"].as_array() {
        let fatal: Vec<&str> = errors
            .iter()
            .filter(|e| e["severity"] == "error")
            .filter_map(|e| e["formattedMessage"].as_str())
            .collect();
        if !fatal.is_empty() {
            bail!("solc refused the {name} verifier:\n{}", fatal.join("\n"));
        }
    }
    let hex = json["contracts"]["Verifier.sol"][name]["evm"]["bytecode"]["object"]
        .as_str()
        .with_context(|| format!("solc gave no bytecode for {name}"))?;
    hex::decode(hex).context("solc's bytecode is not hex")
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

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G2Affine};
    use ark_ec::AffineRepr;

    /// A verifier rendered by the prover's template for a one-input key
    /// (as a batch key's) compiles with the pinned solc into creation code.
    #[test]
    fn a_rendered_batch_verifier_compiles() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        let vk = ark_groth16::VerifyingKey::<ark_bn254::Bn254> {
            alpha_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: vec![g1, g1],
        };
        let statement = depin_batch::batch_statement_name("uptime", 2);
        let name = depin_evm::solidity::contract_name(&statement);
        let source = depin_evm::solidity::render_verifier(&vk, &statement, STATEMENT_VERSION);
        let code = compile(&repo, &name, &source).expect("compile");
        assert!(code.len() > 1000, "{} bytes of creation code", code.len());
        let broken = compile(&repo, &name, "contract {");
        assert!(broken.is_err());
    }
}
