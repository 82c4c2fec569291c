//! What can go wrong talking to the chain, and the contracts' custom errors
//! decoded from revert data.

use std::fmt;
use std::path::PathBuf;

use alloy::primitives::{keccak256, Bytes, TxHash, U256};
use alloy::providers::PendingTransactionError;
use alloy::sol_types::SolError;
use alloy::transports::TransportError;

/// Why a chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The anvil binary does not exist.
    #[error("anvil not found at {}: run scripts/setup.sh (or set DEPIN_ANVIL to an anvil binary)", path.display())]
    AnvilMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// anvil did not start.
    #[error("anvil ({}) did not start: {reason}", path.display())]
    AnvilStart {
        /// The binary.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A forge artifact is missing or unreadable.
    #[error("{}: {reason}", path.display())]
    Artifact {
        /// The artifact file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A private key or URL could not be parsed.
    #[error("invalid {what}: {reason}")]
    Config {
        /// What was being parsed.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A number is not a field element (or not a canonical one).
    #[error("{value:?} is not a BN254 field element: {reason}")]
    Field {
        /// The value, as given.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// Bytes that are not `claim(uint256[8],uint256[])` calldata.
    #[error("not claim(uint256[8],uint256[]) calldata: {0}")]
    Calldata(String),
    /// The JSON-RPC request failed (other than by a revert).
    #[error("JSON-RPC: {0}")]
    Rpc(#[from] TransportError),
    /// Waiting for a transaction's receipt failed.
    #[error("waiting for the receipt: {0}")]
    Pending(#[from] PendingTransactionError),
    /// The call or transaction reverted.
    #[error("{what} reverted with {revert}{}", tx.map(|h| format!(" (transaction {h})")).unwrap_or_default())]
    Reverted {
        /// What was sent (the function's name, or `deploy <Contract>`).
        what: String,
        /// The decoded revert.
        revert: Revert,
        /// The mined transaction, when it was mined (a transaction refused by
        /// gas estimation was never sent).
        tx: Option<TxHash>,
    },
    /// An applied batch does not replay onto the rewards tree rebuilt so
    /// far.
    #[error("batch {batch_id} does not replay: {source}")]
    TreeReplay {
        /// The batch.
        batch_id: U256,
        /// Why.
        source: depin_batch::ReplayError,
    },
    /// The chain answered something the contracts never produce.
    #[error("unexpected chain state: {0}")]
    Unexpected(String),
}

impl ChainError {
    /// The contract's custom error when this is a revert with one.
    pub fn contract_error(&self) -> Option<ContractError> {
        match self {
            ChainError::Reverted { revert, .. } => revert.contract_error(),
            _ => None,
        }
    }

    /// The revert, when this is one.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            ChainError::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }
}

/// Why a call reverted, decoded from its revert data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// A custom error of `DepinRewards`, `DepinToken` or a verifier.
    Contract(ContractError),
    /// `Error(string)` (`require` with a message).
    Message(String),
    /// `Panic(uint256)` (arithmetic overflow, assertion, ...).
    Panic(U256),
    /// Anything else, as returned (empty: no reason given).
    Unknown(Bytes),
}

impl Revert {
    /// Decodes revert data.
    pub fn decode(data: &[u8]) -> Self {
        if let Some(e) = data
            .get(..4)
            .filter(|_| data.len() == 4)
            .and_then(|s| ContractError::from_selector([s[0], s[1], s[2], s[3]]))
        {
            return Revert::Contract(e);
        }
        if let Ok(r) = alloy::sol_types::Revert::abi_decode(data) {
            return Revert::Message(r.reason);
        }
        if let Ok(p) = alloy::sol_types::Panic::abi_decode(data) {
            return Revert::Panic(p.code);
        }
        Revert::Unknown(Bytes::copy_from_slice(data))
    }

    /// Decodes a `bytes4` reason (`ClaimRejected`'s).
    pub fn from_selector(selector: [u8; 4]) -> Self {
        match ContractError::from_selector(selector) {
            Some(e) => Revert::Contract(e),
            None => Revert::Unknown(Bytes::copy_from_slice(&selector)),
        }
    }

    /// The custom error, when it is one of the contracts'.
    pub fn contract_error(&self) -> Option<ContractError> {
        match self {
            Revert::Contract(e) => Some(*e),
            _ => None,
        }
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revert::Contract(e) => write!(f, "{}()", e.name()),
            Revert::Message(m) => write!(f, "Error({m:?})"),
            Revert::Panic(code) => write!(f, "Panic({code:#x})"),
            Revert::Unknown(data) if data.is_empty() => f.write_str("no reason"),
            Revert::Unknown(data) => write!(f, "unknown data {data}"),
        }
    }
}

macro_rules! contract_errors {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A custom error of the reward contract, the token or a generated
        /// verifier (`verifier-contract/src/`), by name. Errors of the same
        /// name share their selector across the contracts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ContractError {
            $($(#[$doc])* $name,)*
        }

        impl ContractError {
            /// Every custom error.
            pub const ALL: &'static [ContractError] = &[$(ContractError::$name,)*];

            /// The error's Solidity name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ContractError::$name => stringify!($name),)*
                }
            }
        }
    };
}

contract_errors! {
    /// The caller is not the owner.
    NotOwner,
    /// The caller is neither an operator nor the owner.
    NotOperator,
    /// A zero address where one is not allowed.
    ZeroAddress,
    /// Two array arguments differ in length.
    LengthMismatch,
    /// The proof does not verify for these public inputs.
    InvalidProof,
    /// A proof coordinate is not below the base field modulus.
    MalformedProof,
    /// A public input is out of range, or the input count is wrong.
    MalformedInput,
    /// The header names a statement kind with no verifier.
    UnknownStatement,
    /// The header's version is not the one accepted for its kind.
    UnsupportedVersion,
    /// The claim's reward is zero.
    ZeroReward,
    /// The policy hash is not accepted for the kind.
    PolicyNotAccepted,
    /// No beacon for the epoch, or a different one.
    BeaconMismatch,
    /// The bandwidth claim's registry root is not accepted.
    RegistryRootMismatch,
    /// The device has no registered payout address.
    DeviceNotRegistered,
    /// The nullifier was already spent.
    NullifierUsed,
    /// The reward contract cannot pay the reward.
    InsufficientFunds,
    /// Too little gas left to verify a proof.
    InsufficientGas,
    /// The verifier does not fit the kind.
    VerifierMismatch,
    /// The epoch's beacon is already published.
    BeaconAlreadySet,
    /// The batch's old tree commitment is not the kind's current one (a
    /// replayed or stale batch).
    StaleRoot,
    /// The withdrawal names an address other than the device's payout.
    NotPayoutAddress,
    /// The withdrawal's branch does not lead to the batch's withdrawal root.
    InvalidWithdrawalProof,
    /// The cumulative reward was already paid up to this amount.
    NothingToWithdraw,
    /// The token sender's balance is below the amount.
    InsufficientBalance,
    /// The token spender's allowance is below the amount.
    InsufficientAllowance,
}

impl ContractError {
    /// The error's selector: the first four bytes of `keccak256("Name()")`.
    pub fn selector(self) -> [u8; 4] {
        let h = keccak256(format!("{}()", self.name()));
        [h[0], h[1], h[2], h[3]]
    }

    /// The error with this selector, if it is one of [`ContractError::ALL`].
    pub fn from_selector(selector: [u8; 4]) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.selector() == selector)
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{DepinRewards, DepinToken};

    #[test]
    fn selectors_match_the_abi() {
        assert_eq!(
            ContractError::NullifierUsed.selector(),
            DepinRewards::NullifierUsed::SELECTOR
        );
        assert_eq!(
            ContractError::InvalidProof.selector(),
            [0x09, 0xbd, 0xe3, 0x39]
        );
        assert_eq!(
            ContractError::InsufficientGas.selector(),
            [0x1c, 0x26, 0x71, 0x4c]
        );
        assert_eq!(
            ContractError::InsufficientBalance.selector(),
            DepinToken::InsufficientBalance::SELECTOR
        );
        for e in ContractError::ALL {
            assert_eq!(ContractError::from_selector(e.selector()), Some(*e));
        }
    }

    #[test]
    fn decodes_reverts() {
        let sel = ContractError::DeviceNotRegistered.selector();
        assert_eq!(
            Revert::decode(&sel),
            Revert::Contract(ContractError::DeviceNotRegistered)
        );
        assert_eq!(Revert::decode(&[]), Revert::Unknown(Bytes::new()));
        assert_eq!(
            Revert::decode(&[1, 2, 3, 4]),
            Revert::Unknown(Bytes::from_static(&[1, 2, 3, 4]))
        );
        let msg = alloy::sol_types::Revert::from("no").abi_encode();
        assert_eq!(Revert::decode(&msg), Revert::Message("no".into()));
        assert_eq!(
            Revert::Contract(ContractError::NullifierUsed).to_string(),
            "NullifierUsed()"
        );
    }
}
