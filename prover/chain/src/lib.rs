//! The DePIN reward contracts on an EVM chain: a local node, the contracts'
//! bytecode, their deployment and an operator/claimant client.
//!
//! - [`anvil`]: [`Anvil`] runs the pinned `anvil` (`tools/js`, installed by
//!   `scripts/setup.sh`) on a free loopback port and stops it when dropped.
//! - [`artifacts`]: [`Artifacts::load`] reads the bytecode forge wrote under
//!   `verifier-contract/out/` (`scripts/forge.sh build`).
//! - [`chain`]: [`Chain`], a JSON-RPC connection with one signing account:
//!   sends transactions, decodes reverts, deploys code.
//! - [`deploy()`]: deploys `DepinToken`, the three generated Groth16
//!   verifiers, their batch verifiers and `DepinRewards`, and wires the
//!   statements to their verifiers and batches to theirs.
//! - [`rewards`]: [`Rewards`], the reward contract's client: devices,
//!   policies, beacons, registry roots, funding and claims, including the
//!   exact calldata the prover service returns (`GetProofResponse.calldata`).
//! - [`batches`]: epoch batches on chain: [`BatchSubmission`] and
//!   [`Withdrawal`], sent with [`Rewards::submit_batch`] and
//!   [`Rewards::withdraw`].
//! - [`indexer`]: the applied batches read back from the logs and their
//!   calldata ([`Rewards::applied_batches`]) and a kind's rewards tree
//!   rebuilt from them ([`Rewards::rebuild_tree`]).
//! - [`errors`]: [`ChainError`], and [`ContractError`], every custom error
//!   the contracts revert with, decoded by selector.
//! - [`field`]: BN254 field elements (`ark_bn254::Fr` or decimal strings)
//!   to and from `uint256`, and the packed claim header.
//! - [`abi`]: the contracts' interfaces (`alloy::sol!`), declared inline so
//!   the Rust build never reads forge output.
//!
//! The client is async (alloy); run it on a tokio runtime.

pub mod abi;
pub mod anvil;
pub mod artifacts;
pub mod batches;
pub mod chain;
pub mod deploy;
pub mod errors;
pub mod field;
pub mod indexer;
pub mod rewards;

pub use alloy::primitives::{Address, Bytes, FixedBytes, TxHash, U256};
pub use anvil::Anvil;
pub use artifacts::{Artifact, Artifacts};
pub use batches::{BatchApplied, BatchSubmission, Withdrawal, WithdrawalReceipt};
pub use chain::{Chain, TxSummary};
pub use depin_statements::{StatementKind, STATEMENT_VERSION};
pub use deploy::{deploy, DeployConfig, Deployed, Deployment, DEFAULT_HALO2_VERIFY_GAS};
pub use errors::{ChainError, ContractError, Revert};
pub use field::{
    decimal_to_fr, decimal_to_u256, fq_to_u256, fr_to_u256, pack_header, u256_to_fr, unpack_header,
    ClaimHeader,
};
pub use indexer::AppliedBatch;
pub use rewards::{BatchReceipt, Claim, ClaimReceipt, Halo2Claim, Payment, Rejection, Rewards};
