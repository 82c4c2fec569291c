//! A JSON-RPC connection with one signing account.
//!
//! Transactions are filled (nonce, gas, fees, chain id) and signed locally,
//! then sent with `eth_sendRawTransaction`. The gas limit comes from
//! `eth_estimateGas`, so a transaction that would revert is refused before
//! it is sent: its revert data is decoded into [`Revert`] and returned as
//! [`ChainError::Reverted`]. A transaction mined with a failed status is
//! replayed with `eth_call` on the state before its block to recover the
//! reason.

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, TxHash};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockId, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use alloy::transports::TransportError;

use crate::errors::{ChainError, Revert};

/// How long [`Chain::send`] waits for a receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// What a mined transaction cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxSummary {
    /// The transaction hash.
    pub hash: TxHash,
    /// The block it was mined in.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Whether it succeeded (the client returns an error for a failed one,
    /// so a summary it returns says `true`).
    pub success: bool,
}

impl From<&TransactionReceipt> for TxSummary {
    fn from(r: &TransactionReceipt) -> Self {
        TxSummary {
            hash: r.transaction_hash,
            block: r.block_number.unwrap_or_default(),
            gas_used: r.gas_used,
            success: r.status(),
        }
    }
}

/// A connection to a node with one signing account. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Chain {
    provider: DynProvider,
    from: Address,
    url: String,
}

impl Chain {
    /// Connects to the HTTP JSON-RPC endpoint `url` with the account of
    /// `private_key` (32 bytes in hex, `0x` optional).
    ///
    /// # Errors
    ///
    /// [`ChainError::Config`] when the URL or the key does not parse.
    pub fn connect(url: &str, private_key: &str) -> Result<Self, ChainError> {
        let signer: PrivateKeySigner =
            private_key
                .trim()
                .parse()
                .map_err(
                    |e: alloy::signers::local::LocalSignerError| ChainError::Config {
                        what: "private key",
                        reason: e.to_string(),
                    },
                )?;
        let from = signer.address();
        let endpoint = url.parse().map_err(|e| ChainError::Config {
            what: "JSON-RPC URL",
            reason: format!("{url:?}: {e}"),
        })?;
        // Nonces are read from the node for every transaction: a cached
        // nonce would be spent by a transaction refused at gas estimation
        // and leave a gap that stalls every later one.
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(signer))
            .connect_http(endpoint)
            .erased();
        Ok(Chain {
            provider,
            from,
            url: url.to_string(),
        })
    }

    /// The signing account.
    pub fn address(&self) -> Address {
        self.from
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The alloy provider (signing with [`Chain::address`]), for anything
    /// this client does not wrap.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The node's chain id.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        Ok(self.provider.get_chain_id().await?)
    }

    /// The runtime code at `address` (empty for an account).
    pub async fn code_at(&self, address: Address) -> Result<Bytes, ChainError> {
        Ok(self.provider.get_code_at(address).await?)
    }

    /// Sends a transaction to `to` with input `input` and waits for its
    /// receipt (at most [`RECEIPT_TIMEOUT`]). `what` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] when gas estimation reverts (nothing is
    /// sent) or the mined transaction failed; [`ChainError::Rpc`] or
    /// [`ChainError::Pending`] when the node cannot be reached.
    pub async fn send(
        &self,
        what: &str,
        to: Address,
        input: Bytes,
    ) -> Result<TransactionReceipt, ChainError> {
        let tx = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_input(input);
        self.send_request(what, tx).await
    }

    /// Sends the ABI-encoded `call` to `to` ([`Chain::send`]).
    pub async fn send_call<C: SolCall>(
        &self,
        to: Address,
        call: &C,
    ) -> Result<TransactionReceipt, ChainError> {
        self.send(C::SIGNATURE, to, call.abi_encode().into()).await
    }

    /// Deploys `init_code` (creation code with its constructor arguments)
    /// and returns the receipt; its `contract_address` is the new contract.
    pub async fn deploy_code(
        &self,
        what: &str,
        init_code: Bytes,
    ) -> Result<TransactionReceipt, ChainError> {
        let tx = TransactionRequest::default()
            .with_from(self.from)
            .with_deploy_code(init_code);
        let receipt = self.send_request(what, tx).await?;
        if receipt.contract_address.is_none() {
            return Err(ChainError::Unexpected(format!(
                "{what}: the receipt of {} names no contract address",
                receipt.transaction_hash
            )));
        }
        Ok(receipt)
    }

    /// `eth_call` of `input` on `to` from [`Chain::address`] at the latest
    /// block.
    ///
    /// # Errors
    ///
    /// [`ChainError::Reverted`] when it reverts.
    pub async fn call(&self, what: &str, to: Address, input: Bytes) -> Result<Bytes, ChainError> {
        let tx = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_input(input);
        self.provider
            .call(tx)
            .await
            .map_err(|e| reverted_or_rpc(what, e, None))
    }

    /// Calls the view function `call` on `to` and decodes what it returns.
    pub async fn view<C: SolCall>(&self, to: Address, call: &C) -> Result<C::Return, ChainError> {
        let out = self
            .call(C::SIGNATURE, to, call.abi_encode().into())
            .await?;
        C::abi_decode_returns(&out).map_err(|e| {
            ChainError::Unexpected(format!("{} at {to} returned {out}: {e}", C::SIGNATURE))
        })
    }

    async fn send_request(
        &self,
        what: &str,
        tx: TransactionRequest,
    ) -> Result<TransactionReceipt, ChainError> {
        let pending = self
            .provider
            .send_transaction(tx.clone())
            .await
            .map_err(|e| reverted_or_rpc(what, e, None))?;
        let receipt = pending
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await?;
        if receipt.status() {
            return Ok(receipt);
        }
        // Mined but failed: replay it on the state before its block (with
        // automine there is one transaction per block) to get the reason.
        let hash = receipt.transaction_hash;
        let mut replay = self.provider.call(tx);
        if let Some(n) = receipt.block_number.filter(|&n| n > 0) {
            replay = replay.block(BlockId::number(n - 1));
        }
        let revert = match replay.await {
            Err(e) => match revert_data(&e) {
                Some(data) => Revert::decode(&data),
                None => return Err(ChainError::Rpc(e)),
            },
            Ok(_) => Revert::Unknown(Bytes::new()),
        };
        Err(ChainError::Reverted {
            what: what.to_string(),
            revert,
            tx: Some(hash),
        })
    }
}

/// The revert data of a JSON-RPC error, when it is a revert.
fn revert_data(e: &TransportError) -> Option<Bytes> {
    e.as_error_resp().and_then(|p| p.as_revert_data())
}

fn reverted_or_rpc(what: &str, e: TransportError, tx: Option<TxHash>) -> ChainError {
    match revert_data(&e) {
        Some(data) => ChainError::Reverted {
            what: what.to_string(),
            revert: Revert::decode(&data),
            tx,
        },
        None => ChainError::Rpc(e),
    }
}
