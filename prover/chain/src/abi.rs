//! The contracts' ABI, declared with `alloy::sol!` from
//! `verifier-contract/src/`: calls, events and custom errors. Only what the
//! client uses is declared; the selectors are those of the Solidity sources.

#![allow(missing_docs)]

alloy::sol! {
    /// `verifier-contract/src/DepinRewards.sol`.
    #[derive(Debug, PartialEq, Eq)]
    contract DepinRewards {
        struct Claim {
            uint256[8] proof;
            uint256[] publicInputs;
        }

        struct Halo2Claim {
            uint256[] publicInputs;
            bytes proof;
        }

        error NotOwner();
        error NotOperator();
        error ZeroAddress();
        error LengthMismatch();
        error InvalidProof();
        error MalformedProof();
        error MalformedInput();
        error UnknownStatement();
        error UnsupportedVersion();
        error ZeroReward();
        error PolicyNotAccepted();
        error BeaconMismatch();
        error RegistryRootMismatch();
        error DeviceNotRegistered();
        error NullifierUsed();
        error InsufficientFunds();
        error InsufficientGas();
        error VerifierMismatch();
        error BeaconAlreadySet();
        error StaleRoot();
        error NotPayoutAddress();
        error InvalidWithdrawalProof();
        error NothingToWithdraw();

        event Claimed(
            uint256 indexed deviceId,
            uint256 indexed epoch,
            address indexed payout,
            uint8 kind,
            uint256 reward,
            uint256 nullifier
        );
        event ClaimRejected(uint256 indexed index, bytes4 reason);
        event BatchSubmitted(
            uint256 indexed batchId,
            uint8 indexed kind,
            uint256 indexed epoch,
            uint256 oldCommitment,
            uint256 newCommitment,
            bytes32 withdrawalRoot
        );
        event Withdrawn(
            uint256 indexed deviceId,
            uint8 indexed kind,
            address indexed payout,
            uint256 amount,
            uint256 cumulative,
            uint256 batchId
        );

        constructor(address token_, address owner_, uint256 verifyGas_);

        function token() external view returns (address);
        function verifyGas() external view returns (uint256);
        function owner() external view returns (address);
        function isOperator(address operator) external view returns (bool);
        function policyAccepted(uint8 kind, uint256 policyHash) external view returns (bool);
        function beaconOf(uint256 epoch) external view returns (uint256);
        function registryRootAccepted(uint256 root) external view returns (bool);
        function payoutOf(uint256 deviceId) external view returns (address);
        function nullifierUsed(uint256 nullifier) external view returns (bool);
        function treeCommitment(uint8 kind) external view returns (uint256);
        function batchCount() external view returns (uint256);
        function withdrawn(uint8 kind, uint256 deviceId) external view returns (uint256);

        function claim(uint256[8] calldata proof, uint256[] calldata publicInputs) external;
        function claimBatch(Claim[] calldata claims) external returns (uint256 paid);
        function claimHalo2(uint256[] calldata publicInputs, bytes calldata proof) external;
        function claimBatchHalo2(Halo2Claim[] calldata claims) external returns (uint256 paid);
        function halo2Statements(uint8 kind)
            external
            view
            returns (address verifier, uint32 version, uint8 nPublic, uint32 verifyGas);
        function decodeHeader(uint256 header)
            external
            pure
            returns (uint8 kind, uint32 version, uint32 epoch, uint256 reward);

        function transferOwnership(address newOwner) external;
        function setOperator(address operator, bool enabled) external;
        function setStatement(uint8 kind, address verifier, uint32 version) external;
        function setHalo2Statement(
            uint8 kind,
            address verifier,
            uint32 version,
            uint32 verifyGas_
        ) external;
        function withdrawFunds(address to, uint256 amount) external;
        function setPolicy(uint8 kind, uint256 policyHash, bool accepted) external;
        function setBeacon(uint256 epoch, uint256 beacon) external;
        function setRegistryRoot(uint256 root, bool accepted) external;
        function registerDevice(uint256 deviceId, address payout) external;
        function registerDevices(uint256[] calldata deviceIds, address[] calldata payouts) external;
        function setBatchVerifier(
            uint8 kind,
            address verifier,
            uint32 version,
            uint32 batchSize,
            uint256 genesis
        ) external;
        function submitBatch(
            uint256[8] calldata proof,
            uint32 epoch,
            uint8 kind,
            uint256 oldCommitment,
            uint256 newCommitment,
            uint256 policyHash,
            uint256 registryRoot,
            bytes calldata publicData
        ) external returns (uint256 batchId);
        function withdraw(
            uint8 kind,
            uint256 deviceId,
            address payout,
            uint256 batchId,
            uint128 cumulative,
            uint256 position,
            bytes32[] calldata siblings
        ) external returns (uint256 amount);
    }

    /// `verifier-contract/src/DepinToken.sol`.
    #[derive(Debug, PartialEq, Eq)]
    contract DepinToken {
        error NotOwner();
        error InsufficientBalance();
        error InsufficientAllowance();
        error ZeroAddress();

        event Transfer(address indexed from, address indexed to, uint256 value);

        constructor(string name_, string symbol_, address owner_);

        function balanceOf(address holder) external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
        function mint(address to, uint256 amount) external;
    }

    /// A generated verifier (`prover/templates/Groth16Verifier.sol.tpl`, and
    /// the halo2 verifiers of `depin_halo2_prover::solidity`, which declare
    /// the same constants).
    #[derive(Debug, PartialEq, Eq)]
    contract IGroth16Verifier {
        function STATEMENT() external view returns (string memory);
        function VERSION() external view returns (uint32);
        function N_PUBLIC() external view returns (uint256);
    }
}
