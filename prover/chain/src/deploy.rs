//! Deploying and wiring the reward contracts, as the forge tests do
//! (`verifier-contract/test/Golden.t.sol`): the token, one generated
//! verifier per statement, the reward contract, each kind's verifier and
//! statement version (`setStatement`), optionally the batch verifiers
//! (`setBatchVerifier`), the halo2 verifiers (`setHalo2Statement`) and an
//! operator.

use alloy::primitives::{Address, Bytes, TxHash, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolConstructor;
use depin_statements::{StatementKind, STATEMENT_VERSION};

use crate::abi::{DepinRewards, DepinToken, IGroth16Verifier};
use crate::artifacts::{Artifact, Artifacts};
use crate::chain::{Chain, TxSummary};
use crate::errors::ChainError;
use crate::field::fr_to_u256;

/// How [`deploy`] configures the contracts. The deploying account owns the
/// token (it mints) and the reward contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployConfig {
    /// Token name.
    pub token_name: String,
    /// Token symbol.
    pub token_symbol: String,
    /// Gas given to one proof verification (`DepinRewards.verifyGas`).
    pub verify_gas: u64,
    /// The statement version claims must carry (the verifiers' `VERSION`).
    pub statement_version: u32,
    /// An operator to enable besides the owner, if any.
    pub operator: Option<Address>,
    /// Whether to deploy the batch verifiers and enable batches
    /// (`setBatchVerifier` with the empty rewards tree as genesis).
    pub batches: bool,
    /// Gas given to one halo2 verification (`setHalo2Statement`'s
    /// `verifyGas`, e.g. [`DEFAULT_HALO2_VERIFY_GAS`]); `None`, the
    /// default, deploys no halo2 verifier and leaves halo2 claims off. The
    /// committed halo2 verifiers are of the golden development parameters:
    /// enable them only where those are the prover's.
    pub halo2_verify_gas: Option<u32>,
}

/// A gas cap of one halo2 verification: the generated verifiers use
/// 342,000 to 401,000 (BENCHMARKS.md).
pub const DEFAULT_HALO2_VERIFY_GAS: u32 = 500_000;

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            token_name: "DePIN Reward".into(),
            token_symbol: "DPR".into(),
            verify_gas: 400_000,
            statement_version: STATEMENT_VERSION,
            operator: None,
            batches: true,
            halo2_verify_gas: None,
        }
    }
}

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The contract's name.
    pub name: String,
    /// Its address.
    pub address: Address,
    /// The deploying transaction.
    pub tx: TxHash,
    /// Gas the deployment used.
    pub gas_used: u64,
    /// Creation code size in bytes, constructor arguments included.
    pub init_code_size: usize,
    /// Runtime code size in bytes, as stored on chain (EIP-170 caps it at
    /// 24,576).
    pub code_size: usize,
}

/// The deployed and wired contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The chain id.
    pub chain_id: u64,
    /// The deploying account, owner of the token and the reward contract.
    pub owner: Address,
    /// `DepinToken`.
    pub token: Deployed,
    /// `DepinRewards`.
    pub rewards: Deployed,
    /// The generated verifiers, in kind order.
    pub verifiers: Vec<(StatementKind, Deployed)>,
    /// The generated batch verifiers, in kind order (none when
    /// [`DeployConfig::batches`] is off).
    pub batch_verifiers: Vec<(StatementKind, Deployed)>,
    /// The generated halo2 verifiers, in kind order (none when
    /// [`DeployConfig::halo2_verify_gas`] is `None`).
    pub halo2_verifiers: Vec<(StatementKind, Deployed)>,
    /// The wiring transactions (`setStatement` per kind, `setOperator`).
    pub setup: Vec<(String, TxSummary)>,
}

impl Deployment {
    /// `kind`'s verifier.
    pub fn verifier(&self, kind: StatementKind) -> Option<&Deployed> {
        self.verifiers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, d)| d)
    }

    /// `kind`'s halo2 verifier.
    pub fn halo2_verifier(&self, kind: StatementKind) -> Option<&Deployed> {
        self.halo2_verifiers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, d)| d)
    }

    /// Every deployed contract: token, verifiers, batch verifiers, halo2
    /// verifiers, rewards.
    pub fn contracts(&self) -> Vec<&Deployed> {
        let mut all = vec![&self.token];
        all.extend(self.verifiers.iter().map(|(_, d)| d));
        all.extend(self.batch_verifiers.iter().map(|(_, d)| d));
        all.extend(self.halo2_verifiers.iter().map(|(_, d)| d));
        all.push(&self.rewards);
        all
    }

    /// Gas of every deployment and wiring transaction.
    pub fn total_gas(&self) -> u64 {
        self.contracts().iter().map(|d| d.gas_used).sum::<u64>()
            + self.setup.iter().map(|(_, s)| s.gas_used).sum::<u64>()
    }
}

/// Deploys `DepinToken`, the verifiers and `DepinRewards` from `artifacts`
/// with `chain`'s account as owner, sets each kind's verifier and
/// `config.statement_version`, the batch and halo2 verifiers as `config`
/// asks, and enables `config.operator`.
///
/// # Errors
///
/// [`ChainError::Reverted`] when a constructor or `setStatement` reverts
/// (`VerifierMismatch`: a verifier made for another version or input
/// count), [`ChainError::Unexpected`] when a verifier's `STATEMENT` is not
/// its kind's, and RPC errors.
pub async fn deploy(
    chain: &Chain,
    artifacts: &Artifacts,
    config: &DeployConfig,
) -> Result<Deployment, ChainError> {
    let owner = chain.address();
    let chain_id = chain.chain_id().await?;

    let token_args = DepinToken::constructorCall {
        name_: config.token_name.clone(),
        symbol_: config.token_symbol.clone(),
        owner_: owner,
    }
    .abi_encode();
    let token = deploy_one(chain, &artifacts.token, &token_args).await?;

    let mut verifiers = Vec::with_capacity(artifacts.verifiers.len());
    for (kind, artifact) in &artifacts.verifiers {
        verifiers.push((
            *kind,
            deploy_verifier(chain, artifact, kind.as_str()).await?,
        ));
    }

    let mut batch_verifiers = Vec::new();
    if config.batches {
        for (kind, artifact) in &artifacts.batch_verifiers {
            let statement =
                depin_batch::batch_statement_name(kind.as_str(), depin_batch::DEFAULT_BATCH_SIZE);
            batch_verifiers.push((*kind, deploy_verifier(chain, artifact, &statement).await?));
        }
    }

    let mut halo2_verifiers = Vec::new();
    if config.halo2_verify_gas.is_some() {
        for (kind, artifact) in &artifacts.halo2_verifiers {
            halo2_verifiers.push((
                *kind,
                deploy_verifier(chain, artifact, kind.as_str()).await?,
            ));
        }
    }

    let rewards_args = DepinRewards::constructorCall {
        token_: token.address,
        owner_: owner,
        verifyGas_: U256::from(config.verify_gas),
    }
    .abi_encode();
    let rewards = deploy_one(chain, &artifacts.rewards, &rewards_args).await?;

    let mut setup = Vec::new();
    for (kind, v) in &verifiers {
        let r = chain
            .send_call(
                rewards.address,
                &DepinRewards::setStatementCall {
                    kind: kind.code(),
                    verifier: v.address,
                    version: config.statement_version,
                },
            )
            .await?;
        setup.push((format!("setStatement({})", kind.as_str()), (&r).into()));
    }
    if !batch_verifiers.is_empty() {
        let genesis = depin_batch::RewardsTree::new(depin_batch::TREE_DEPTH)
            .map_err(|e| ChainError::Unexpected(format!("the empty rewards tree: {e}")))?
            .commitment();
        for (kind, v) in &batch_verifiers {
            let r = chain
                .send_call(
                    rewards.address,
                    &DepinRewards::setBatchVerifierCall {
                        kind: kind.code(),
                        verifier: v.address,
                        version: config.statement_version,
                        batchSize: depin_batch::DEFAULT_BATCH_SIZE as u32,
                        genesis: fr_to_u256(&genesis),
                    },
                )
                .await?;
            setup.push((format!("setBatchVerifier({})", kind.as_str()), (&r).into()));
        }
    }
    if let Some(verify_gas) = config.halo2_verify_gas {
        for (kind, v) in &halo2_verifiers {
            let r = chain
                .send_call(
                    rewards.address,
                    &DepinRewards::setHalo2StatementCall {
                        kind: kind.code(),
                        verifier: v.address,
                        version: config.statement_version,
                        verifyGas_: verify_gas,
                    },
                )
                .await?;
            setup.push((format!("setHalo2Statement({})", kind.as_str()), (&r).into()));
        }
    }
    if let Some(operator) = config.operator {
        let r = chain
            .send_call(
                rewards.address,
                &DepinRewards::setOperatorCall {
                    operator,
                    enabled: true,
                },
            )
            .await?;
        setup.push(("setOperator".into(), (&r).into()));
    }

    Ok(Deployment {
        chain_id,
        owner,
        token,
        rewards,
        verifiers,
        batch_verifiers,
        halo2_verifiers,
        setup,
    })
}

/// Deploys a generated verifier and checks that it proves `statement` (its
/// `STATEMENT`).
async fn deploy_verifier(
    chain: &Chain,
    artifact: &Artifact,
    statement: &str,
) -> Result<Deployed, ChainError> {
    let d = deploy_one(chain, artifact, &[]).await?;
    let proves = chain
        .view(d.address, &IGroth16Verifier::STATEMENTCall {})
        .await?;
    if proves != statement {
        return Err(ChainError::Unexpected(format!(
            "{} proves statement {proves:?}, not {statement:?}",
            d.name
        )));
    }
    Ok(d)
}

async fn deploy_one(
    chain: &Chain,
    artifact: &Artifact,
    args: &[u8],
) -> Result<Deployed, ChainError> {
    let mut init = Vec::with_capacity(artifact.bytecode.len() + args.len());
    init.extend_from_slice(&artifact.bytecode);
    init.extend_from_slice(args);
    let init_code_size = init.len();
    let receipt: TransactionReceipt = chain
        .deploy_code(&format!("deploy {}", artifact.name), Bytes::from(init))
        .await?;
    let address = receipt.contract_address.ok_or_else(|| {
        ChainError::Unexpected(format!("deploying {}: no contract address", artifact.name))
    })?;
    let code = chain.code_at(address).await?;
    if code.is_empty() {
        return Err(ChainError::Unexpected(format!(
            "deploying {}: no code at {address}",
            artifact.name
        )));
    }
    Ok(Deployed {
        name: artifact.name.clone(),
        address,
        tx: receipt.transaction_hash,
        gas_used: receipt.gas_used,
        init_code_size,
        code_size: code.len(),
    })
}
