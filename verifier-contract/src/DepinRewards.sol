// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";

/// @title DepinRewards
/// @notice Pays DePIN devices for proven work. A claim is a proof of one
/// statement (uptime, bandwidth, coverage) for one device and epoch, Groth16
/// (`claim`) or halo2 (`claimHalo2`), with the public inputs of
/// docs/statements.md:
/// `[header, device_id, policy_hash, beacon, nullifier, (registry_root | cell)]`,
/// `header = kind + version * 2^8 + epoch * 2^40 + reward * 2^72`.
/// The contract checks the header, the policy hash, the epoch's beacon, the
/// client registry root (bandwidth), the device's registration and the
/// nullifier, verifies the proof with the kind's verifier of that proof
/// system, marks the nullifier and pays `reward` units of `token` (held by
/// this contract) to the device's registered payout address.
///
/// Each kind has a Groth16 verifier (`setStatement`) and a halo2 verifier
/// (`setHalo2Statement`), each enabled or not on its own. Both backends
/// prove the same public inputs for a device-epoch, nullifier included, so
/// a device-epoch is paid once whichever backend proves it.
///
/// Roles: the owner sets operators, verifiers and withdraws funds; operators
/// (and the owner) register devices, accept policy hashes and registry roots
/// and publish beacons. Anyone may submit a claim: the payout address is the
/// device's registered one, whoever sends the transaction.
///
/// `claimBatch` is skip-failed: each claim is judged on its own, a refused
/// claim is reported with `ClaimRejected(index, reason)` and changes
/// nothing, the others are paid. A batch never fails as a whole because one
/// claim was front-run or refused; it reverts only when the transaction runs
/// short of gas (`InsufficientGas`), so that no claim is ever skipped for
/// lack of gas.
///
/// Epoch batches are the cheap path (docs/batches.md): `submitBatch`
/// applies one proof for many device-epochs of a kind to the kind's tree of
/// cumulative rewards, and `withdraw` pays a device what its cumulative
/// reward in a batch exceeds what it was paid before.
contract DepinRewards {
    // ------------------------------------------------------------------
    // Errors. A claim is refused with exactly one of these; the verifier's
    // own errors (InvalidProof, MalformedProof, MalformedInput) share their
    // selectors with the ones declared here.

    /// The caller is not the owner.
    error NotOwner();
    /// The caller is neither an operator nor the owner.
    error NotOperator();
    /// An address argument is zero where it must not be.
    error ZeroAddress();
    /// Two array arguments differ in length.
    error LengthMismatch();
    /// The proof does not verify for these public inputs (or a proof point
    /// is not on the curve or not in its subgroup).
    error InvalidProof();
    /// A proof coordinate is not below the base field modulus.
    error MalformedProof();
    /// A public input is not below the field modulus, the header does not
    /// fit its 136 bits, or the input count is wrong for the kind.
    error MalformedInput();
    /// The header names a statement kind with no verifier.
    error UnknownStatement();
    /// The header's version is not the one accepted for its kind.
    error UnsupportedVersion();
    /// The claim's reward is zero: such a proof exists for any device (an
    /// invalid device signature pays zero), so it must not spend the
    /// nullifier.
    error ZeroReward();
    /// The policy hash is not accepted for the kind.
    error PolicyNotAccepted();
    /// No beacon is published for the epoch, or it differs from the claim's.
    error BeaconMismatch();
    /// The bandwidth claim's client registry root is not accepted.
    error RegistryRootMismatch();
    /// The device id has no registered payout address.
    error DeviceNotRegistered();
    /// The nullifier was already spent by an earlier claim.
    error NullifierUsed();
    /// The contract's token balance cannot pay the reward.
    error InsufficientFunds();
    /// Not enough gas left to verify a proof with `verifyGas`.
    error InsufficientGas();
    /// The verifier's input count or version does not fit the kind.
    error VerifierMismatch();
    /// The epoch's beacon is already published (beacons are write-once).
    error BeaconAlreadySet();
    /// The batch's old tree commitment is not the kind's current one (a
    /// replayed batch, or one built on a stale tree).
    error StaleRoot();
    /// The payout address given is not the device's registered one.
    error NotPayoutAddress();
    /// The withdrawal proof does not lead to the batch's withdrawal root.
    error InvalidWithdrawalProof();
    /// The cumulative reward shown is already paid out.
    error NothingToWithdraw();

    // ------------------------------------------------------------------
    // Events.

    /// A claim was paid.
    event Claimed(
        uint256 indexed deviceId,
        uint256 indexed epoch,
        address indexed payout,
        uint8 kind,
        uint256 reward,
        uint256 nullifier
    );
    /// A claim of a batch was refused; `reason` is the error's selector.
    event ClaimRejected(uint256 indexed index, bytes4 reason);
    /// The owner changed.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    /// An operator was added or removed.
    event OperatorSet(address indexed operator, bool enabled);
    /// A kind's verifier and accepted version changed (zero disables).
    event StatementSet(uint8 indexed kind, address verifier, uint32 version);
    /// A kind's halo2 verifier, accepted version and verification gas
    /// changed (zero disables halo2 claims of the kind).
    event Halo2StatementSet(uint8 indexed kind, address verifier, uint32 version, uint32 verifyGas);
    /// A policy hash was accepted or revoked for a kind.
    event PolicySet(uint8 indexed kind, uint256 policyHash, bool accepted);
    /// An epoch's beacon was published.
    event BeaconSet(uint256 indexed epoch, uint256 beacon);
    /// A client registry root was accepted or revoked.
    event RegistryRootSet(uint256 root, bool accepted);
    /// A device's payout address was set (zero unregisters).
    event DeviceRegistered(uint256 indexed deviceId, address payout);
    /// The owner withdrew tokens.
    event FundsWithdrawn(address indexed to, uint256 amount);
    /// A kind's batch verifier, version and batch size changed (zero
    /// disables batches of the kind).
    event BatchVerifierSet(uint8 indexed kind, address verifier, uint32 version, uint32 batchSize);
    /// A batch was applied: the kind's tree went from `oldCommitment` to
    /// `newCommitment`. Its public data is the transaction's calldata; an
    /// indexer replays the batches of a kind in `batchId` order to rebuild
    /// the tree and every device's withdrawal proof.
    event BatchSubmitted(
        uint256 indexed batchId,
        uint8 indexed kind,
        uint256 indexed epoch,
        uint256 oldCommitment,
        uint256 newCommitment,
        bytes32 withdrawalRoot
    );
    /// A device's cumulative reward was paid up to `cumulative`.
    event Withdrawn(
        uint256 indexed deviceId,
        uint8 indexed kind,
        address indexed payout,
        uint256 amount,
        uint256 cumulative,
        uint256 batchId
    );

    // ------------------------------------------------------------------
    // Constants and configuration.

    /// Statement kind codes (docs/statements.md).
    uint8 public constant UPTIME = 1;
    /// Bandwidth statement: public input 5 is the client registry root.
    uint8 public constant BANDWIDTH = 2;
    /// Coverage statement: public input 5 is the device's cell.
    uint8 public constant COVERAGE = 3;

    /// The BN254 scalar field modulus: public inputs are below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// A claim: the proof `[A.x, A.y, B.x.im, B.x.re, B.y.im, B.y.re, C.x,
    /// C.y]` and the statement's public inputs.
    struct Claim {
        uint256[8] proof;
        uint256[] publicInputs;
    }

    /// A kind's verifier (one storage slot).
    struct Statement {
        address verifier;
        uint32 version;
        uint8 nPublic;
        bytes4 selector;
    }

    /// A halo2 claim: the statement's public inputs and the proof's bytes
    /// (the transcript `depin-prover` and `GetProof` return).
    struct Halo2Claim {
        uint256[] publicInputs;
        bytes proof;
    }

    /// A kind's halo2 verifier (one storage slot). `verifyGas` caps one
    /// verification, as `verifyGas` does for Groth16.
    struct Halo2Statement {
        address verifier;
        uint32 version;
        uint8 nPublic;
        uint32 verifyGas;
    }

    /// The reward token, held by this contract.
    address public immutable token;
    /// Gas given to one proof verification (EIP-1108 prices it near
    /// 220,000). A proof whose B point is not in G2 makes the pairing
    /// precompile consume the gas it was given; the cap bounds what such a
    /// claim costs a batch.
    uint256 public immutable verifyGas;

    /// Sets operators and verifiers, withdraws.
    address public owner;
    /// Operators register devices, policies, roots and beacons.
    mapping(address => bool) public isOperator;
    /// Verifier, accepted version and input count per kind.
    mapping(uint8 => Statement) public statements;
    /// Accepted policy hashes per kind.
    mapping(uint8 => mapping(uint256 => bool)) public policyAccepted;
    /// The beacon of each epoch (zero: not published).
    mapping(uint256 => uint256) public beaconOf;
    /// Accepted client registry roots (bandwidth).
    mapping(uint256 => bool) public registryRootAccepted;
    /// Payout address of each registered device id.
    mapping(uint256 => address) public payoutOf;
    /// Spent nullifiers (of both backends' claims).
    mapping(uint256 => bool) public nullifierUsed;
    /// halo2 verifier, accepted version, input count and gas cap per kind.
    mapping(uint8 => Halo2Statement) public halo2Statements;

    /// A kind's batch verifier (one storage slot).
    struct BatchConfig {
        address verifier;
        uint32 version;
        uint32 batchSize;
    }

    /// Bytes of one batch position: device id (32), reward (8), cumulative
    /// reward (16), big-endian (`depin_batch::public_data`).
    uint256 internal constant ENTRY_BYTES = 56;
    /// The largest batch a verifier may take.
    uint32 internal constant MAX_BATCH = 1024;
    /// Height of the withdrawal tree of the largest batch.
    uint256 internal constant MAX_BATCH_DEPTH = 10;
    /// The batch proof's public input is a SHA-256 digest with its top
    /// three bits cleared.
    uint256 internal constant DIGEST_MASK = (1 << 253) - 1;
    /// `verifyProof(uint256[8],uint256[1])`.
    bytes4 internal constant BATCH_VERIFY_SELECTOR =
        bytes4(keccak256("verifyProof(uint256[8],uint256[1])"));

    /// Batch verifier per kind.
    mapping(uint8 => BatchConfig) public batchConfigs;
    /// The commitment `Poseidon(root, size)` of each kind's rewards tree.
    mapping(uint8 => uint256) public treeCommitment;
    /// Batches applied so far; the next batch's id.
    uint256 public batchCount;
    /// Per batch, `keccak256(abi.encode(kind, withdrawalRoot))`.
    mapping(uint256 => bytes32) public batchWithdrawalRoot;
    /// Per kind and device, the cumulative reward already paid.
    mapping(uint8 => mapping(uint256 => uint256)) public withdrawn;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyOperator() {
        if (msg.sender != owner && !isOperator[msg.sender]) revert NotOperator();
        _;
    }

    /// @param token_ The ERC-20 rewards are paid in (fund this contract with it).
    /// @param owner_ The owner.
    /// @param verifyGas_ Gas cap of one proof verification (e.g. 400,000).
    constructor(address token_, address owner_, uint256 verifyGas_) {
        if (token_.code.length == 0 || owner_ == address(0)) revert ZeroAddress();
        token = token_;
        owner = owner_;
        verifyGas = verifyGas_;
        emit OwnershipTransferred(address(0), owner_);
    }

    // ------------------------------------------------------------------
    // Claims.

    /// @notice Claims the reward proven by `proof` for `publicInputs`, paid to
    /// the device's registered payout address. Reverts with the reason a
    /// claim is refused.
    function claim(uint256[8] calldata proof, uint256[] calldata publicInputs) external {
        _revertIf(_claim(proof, publicInputs));
    }

    /// @notice Claims every claim of `claims` that passes, skipping (and
    /// reporting with `ClaimRejected`) those that do not.
    /// @return paid Number of claims paid.
    function claimBatch(Claim[] calldata claims) external returns (uint256 paid) {
        uint256 n = claims.length;
        for (uint256 i; i < n;) {
            Claim calldata c = claims[i];
            bytes4 err = _claim(c.proof, c.publicInputs);
            if (err == 0) {
                unchecked {
                    ++paid;
                }
            } else {
                emit ClaimRejected(i, err);
            }
            unchecked {
                ++i;
            }
        }
    }

    /// @notice Claims the reward proven by the halo2 proof `proof` for
    /// `publicInputs` (the same inputs, checks and payment as `claim`, with
    /// the kind's halo2 verifier). Reverts with the reason a claim is
    /// refused; an input not below the field modulus is `MalformedInput`.
    function claimHalo2(uint256[] calldata publicInputs, bytes calldata proof) external {
        _revertIf(_claimHalo2(publicInputs, proof));
    }

    /// Reverts with the error whose selector is `err`, unless it is zero.
    function _revertIf(bytes4 err) private pure {
        if (err != 0) {
            assembly ("memory-safe") {
                mstore(0x00, err)
                revert(0x00, 0x04)
            }
        }
    }

    /// @notice `claimBatch` for halo2 claims: pays every claim that passes,
    /// skipping (and reporting with `ClaimRejected`) those that do not.
    /// @return paid Number of claims paid.
    function claimBatchHalo2(Halo2Claim[] calldata claims) external returns (uint256 paid) {
        uint256 n = claims.length;
        for (uint256 i; i < n;) {
            Halo2Claim calldata c = claims[i];
            bytes4 err = _claimHalo2(c.publicInputs, c.proof);
            if (err == 0) {
                unchecked {
                    ++paid;
                }
            } else {
                emit ClaimRejected(i, err);
            }
            unchecked {
                ++i;
            }
        }
    }

    /// @notice The header's parts.
    function decodeHeader(uint256 header)
        public
        pure
        returns (uint8 kind, uint32 version, uint32 epoch, uint256 reward)
    {
        // Truncation is the decoding: each part is its bits of the header.
        // forge-lint: disable-start(unsafe-typecast)
        kind = uint8(header);
        version = uint32(header >> 8);
        epoch = uint32(header >> 40);
        // forge-lint: disable-end(unsafe-typecast)
        reward = header >> 72;
    }

    /// Judges and, when it passes, pays one Groth16 claim. Returns zero on
    /// success, else the refusal's error selector with no state changed.
    /// Reverts only for lack of gas.
    function _claim(uint256[8] calldata proof, uint256[] calldata inputs)
        private
        returns (bytes4 err)
    {
        // kind (8 bits), version (32), epoch (32), reward (64): 136 bits.
        if (inputs.length < 5 || inputs[0] >> 136 != 0) return MalformedInput.selector;
        // Truncation is the decoding: the kind is the header's low byte.
        // forge-lint: disable-next-line(unsafe-typecast)
        Statement memory st = statements[uint8(inputs[0])];
        if (st.verifier == address(0)) return UnknownStatement.selector;
        address payout;
        (err, payout) = _judge(inputs, st.nPublic, st.version);
        if (err == 0) err = _verify(st, proof, inputs);
        if (err == 0) err = _pay(inputs, payout);
    }

    /// `_claim` for a halo2 proof.
    function _claimHalo2(uint256[] calldata inputs, bytes calldata proof)
        private
        returns (bytes4 err)
    {
        if (inputs.length < 5 || inputs[0] >> 136 != 0) return MalformedInput.selector;
        // Truncation is the decoding: the kind is the header's low byte.
        // forge-lint: disable-next-line(unsafe-typecast)
        Halo2Statement memory st = halo2Statements[uint8(inputs[0])];
        if (st.verifier == address(0)) return UnknownStatement.selector;
        address payout;
        (err, payout) = _judge(inputs, st.nPublic, st.version);
        if (err == 0) err = _verifyHalo2(st, inputs, proof);
        if (err == 0) err = _pay(inputs, payout);
    }

    /// Checks a claim's public inputs (whose header fits its 136 bits)
    /// against the contract's state: input count, version, a nonzero
    /// reward, the policy hash, the epoch's beacon, the registry root
    /// (bandwidth), the device's registration and the nullifier. Returns
    /// zero and the device's payout address, or the refusal's selector.
    function _judge(uint256[] calldata inputs, uint8 nPublic, uint32 version)
        private
        view
        returns (bytes4, address)
    {
        uint256 header = inputs[0];
        if (inputs.length != nPublic) return (MalformedInput.selector, address(0));
        // Truncation is the decoding: each part is its bits of the header.
        // forge-lint: disable-start(unsafe-typecast)
        if (uint32(header >> 8) != version) return (UnsupportedVersion.selector, address(0));
        if (header >> 72 == 0) return (ZeroReward.selector, address(0));
        uint8 kind = uint8(header);
        if (!policyAccepted[kind][inputs[2]]) return (PolicyNotAccepted.selector, address(0));
        uint256 beacon = beaconOf[uint32(header >> 40)];
        // forge-lint: disable-end(unsafe-typecast)
        if (beacon == 0 || beacon != inputs[3]) return (BeaconMismatch.selector, address(0));
        if (kind == BANDWIDTH && !registryRootAccepted[inputs[5]]) {
            return (RegistryRootMismatch.selector, address(0));
        }
        address payout = payoutOf[inputs[1]];
        if (payout == address(0)) return (DeviceNotRegistered.selector, address(0));
        if (nullifierUsed[inputs[4]]) return (NullifierUsed.selector, address(0));
        return (0, payout);
    }

    /// Spends the verified claim's nullifier and pays its reward to
    /// `payout`; on a failed transfer, restores the nullifier and returns
    /// `InsufficientFunds`.
    function _pay(uint256[] calldata inputs, address payout) private returns (bytes4) {
        uint256 header = inputs[0];
        uint256 nullifier = inputs[4];
        uint256 reward = header >> 72;
        nullifierUsed[nullifier] = true;
        if (!_transfer(payout, reward)) {
            nullifierUsed[nullifier] = false;
            return InsufficientFunds.selector;
        }
        // Truncation is the decoding: each part is its bits of the header.
        // forge-lint: disable-next-line(unsafe-typecast)
        emit Claimed(inputs[1], uint32(header >> 40), payout, uint8(header), reward, nullifier);
        return 0;
    }

    /// Calls `st.verifier.verifyProof(proof, inputs)` with `verifyGas`.
    /// Returns zero when it returned true, else the verifier's error when it
    /// is `MalformedInput` or `MalformedProof`, else `InvalidProof`.
    function _verify(Statement memory st, uint256[8] calldata proof, uint256[] calldata inputs)
        private
        view
        returns (bytes4 err)
    {
        address verifier = st.verifier;
        bytes4 selector = st.selector;
        uint256 cap = verifyGas;
        assembly ("memory-safe") {
            let p := mload(0x40)
            let inputBytes := shl(5, inputs.length)
            mstore(p, selector)
            calldatacopy(add(p, 0x04), proof, 0x100)
            calldatacopy(add(p, 0x104), inputs.offset, inputBytes)
            // The verifier must get the whole cap (EIP-150 keeps 1/64 here),
            // or a valid claim could be refused for lack of gas.
            if lt(gas(), add(add(cap, div(cap, 63)), 5000)) {
                mstore(0x00, 0x1c26714c) // InsufficientGas()
                revert(0x1c, 0x04)
            }
            mstore(0x00, 0)
            let ok := staticcall(cap, verifier, p, add(0x104, inputBytes), 0x00, 0x20)
            switch ok
            case 1 {
                if iszero(and(eq(returndatasize(), 0x20), eq(mload(0x00), 1))) {
                    err := shl(224, 0x09bde339) // InvalidProof()
                }
            }
            default {
                err := shl(224, 0x09bde339) // InvalidProof()
                if gt(returndatasize(), 3) {
                    returndatacopy(0x00, 0x00, 0x04)
                    let reason := and(mload(0x00), shl(224, 0xffffffff))
                    // MalformedInput() or MalformedProof()
                    if or(eq(reason, shl(224, 0xecabd0ec)), eq(reason, shl(224, 0xf4ea0ab0))) {
                        err := reason
                    }
                }
            }
        }
    }

    /// Calls `st.verifier` with the inputs as words followed by the proof,
    /// with `st.verifyGas`. Returns zero when the call succeeded (the
    /// verifier returns nothing and reverts on a bad proof),
    /// `MalformedInput` for an input not below the field modulus (the
    /// verifier would reduce it: `x + r` must not pass as `x`), else
    /// `InvalidProof`.
    function _verifyHalo2(Halo2Statement memory st, uint256[] calldata inputs, bytes calldata proof)
        private
        view
        returns (bytes4 err)
    {
        uint256 n = inputs.length;
        for (uint256 i; i < n;) {
            if (inputs[i] >= R) return MalformedInput.selector;
            unchecked {
                ++i;
            }
        }
        address verifier = st.verifier;
        uint256 cap = st.verifyGas;
        assembly ("memory-safe") {
            let p := mload(0x40)
            let inputBytes := shl(5, inputs.length)
            calldatacopy(p, inputs.offset, inputBytes)
            calldatacopy(add(p, inputBytes), proof.offset, proof.length)
            // As in _verify: the verifier gets its whole cap.
            if lt(gas(), add(add(cap, div(cap, 63)), 5000)) {
                mstore(0x00, 0x1c26714c) // InsufficientGas()
                revert(0x1c, 0x04)
            }
            if iszero(staticcall(cap, verifier, p, add(inputBytes, proof.length), 0x00, 0x00)) {
                err := shl(224, 0x09bde339) // InvalidProof()
            }
        }
    }

    // ------------------------------------------------------------------
    // Batches (docs/batches.md).

    /// @notice Applies a batch proof of `kind` for `epoch`: the kind's
    /// rewards tree goes from `oldCommitment` (which must be the current
    /// one) to `newCommitment`, crediting the devices of `publicData`
    /// (`batchSize` positions of 56 bytes: device id, epoch reward,
    /// cumulative reward). The proof's one public input is SHA-256 of the
    /// header words the contract writes (kind, version and epoch; the
    /// accepted `policyHash`; the epoch's beacon; the accepted
    /// `registryRoot` for bandwidth, else 0; the two commitments) and the
    /// public data, top three bits cleared. Stores the batch's withdrawal
    /// root (a Keccak tree over `(device, cumulative)`) for withdrawals.
    /// Anyone may submit; a replayed or stale batch fails on the root.
    function submitBatch(
        uint256[8] calldata proof,
        uint32 epoch,
        uint8 kind,
        uint256 oldCommitment,
        uint256 newCommitment,
        uint256 policyHash,
        uint256 registryRoot,
        bytes calldata publicData
    ) external returns (uint256 batchId) {
        BatchConfig memory cfg = batchConfigs[kind];
        if (cfg.verifier == address(0)) revert UnknownStatement();
        if (publicData.length != uint256(cfg.batchSize) * ENTRY_BYTES) revert MalformedInput();
        if (oldCommitment != treeCommitment[kind]) revert StaleRoot();
        if (!policyAccepted[kind][policyHash]) revert PolicyNotAccepted();
        if (kind == BANDWIDTH ? !registryRootAccepted[registryRoot] : registryRoot != 0) {
            revert RegistryRootMismatch();
        }
        // The header's six words (depin_batch::header).
        uint256[6] memory words;
        words[0] = uint256(kind) | uint256(cfg.version) << 8 | uint256(epoch) << 40;
        words[1] = policyHash;
        words[2] = beaconOf[epoch];
        if (words[2] == 0) revert BeaconMismatch();
        words[3] = registryRoot;
        words[4] = oldCommitment;
        words[5] = newCommitment;
        _verifyBatch(
            cfg.verifier, proof, uint256(sha256(abi.encodePacked(words, publicData))) & DIGEST_MASK
        );

        bytes32 root = _withdrawalRoot(publicData, cfg.batchSize);
        treeCommitment[kind] = newCommitment;
        batchId = batchCount++;
        batchWithdrawalRoot[batchId] = keccak256(abi.encode(kind, root));
        emit BatchSubmitted(batchId, kind, epoch, oldCommitment, newCommitment, root);
    }

    /// @notice Pays `deviceId`'s `kind` rewards up to `cumulative`, its
    /// cumulative reward in batch `batchId` (at `position`, with the
    /// withdrawal tree's `siblings` from the leaf up), less what was paid
    /// before, to its registered payout address, which the caller names.
    /// Cumulative rewards only grow, so a proof from an older batch pays
    /// less, never twice.
    function withdraw(
        uint8 kind,
        uint256 deviceId,
        address payout,
        uint256 batchId,
        uint128 cumulative,
        uint256 position,
        bytes32[] calldata siblings
    ) external returns (uint256 amount) {
        address registered = payoutOf[deviceId];
        if (registered == address(0)) revert DeviceNotRegistered();
        if (payout != registered) revert NotPayoutAddress();
        if (siblings.length > MAX_BATCH_DEPTH || position >> siblings.length != 0) {
            revert InvalidWithdrawalProof();
        }
        bytes32 node;
        assembly ("memory-safe") {
            mstore(0x00, deviceId)
            mstore(0x20, cumulative)
            node := keccak256(0x00, 0x40)
            for { let h := 0 } lt(h, siblings.length) { h := add(h, 1) } {
                let sibling := calldataload(add(siblings.offset, shl(5, h)))
                switch and(shr(h, position), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
        if (keccak256(abi.encode(kind, node)) != batchWithdrawalRoot[batchId]) {
            revert InvalidWithdrawalProof();
        }
        uint256 paid = withdrawn[kind][deviceId];
        if (cumulative <= paid) revert NothingToWithdraw();
        amount = cumulative - paid;
        withdrawn[kind][deviceId] = cumulative;
        if (!_transfer(registered, amount)) revert InsufficientFunds();
        emit Withdrawn(deviceId, kind, registered, amount, cumulative, batchId);
    }

    /// Calls `verifyProof(proof, [digest])` on `verifier` with `verifyGas`;
    /// reverts with the verifier's error (`InvalidProof`, `MalformedProof`)
    /// when it fails.
    function _verifyBatch(address verifier, uint256[8] calldata proof, uint256 digest)
        private
        view
    {
        bytes4 selector = BATCH_VERIFY_SELECTOR;
        uint256 cap = verifyGas;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            calldatacopy(add(p, 0x04), proof, 0x100)
            mstore(add(p, 0x104), digest)
            // The verifier must get the whole cap (EIP-150 keeps 1/64 here),
            // or a valid batch could be refused for lack of gas.
            if lt(gas(), add(add(cap, div(cap, 63)), 5000)) {
                mstore(0x00, 0x1c26714c) // InsufficientGas()
                revert(0x1c, 0x04)
            }
            mstore(0x00, 0)
            let ok := staticcall(cap, verifier, p, 0x124, 0x00, 0x20)
            if iszero(ok) {
                // The verifier's errors share their selectors with ours.
                if gt(returndatasize(), 3) {
                    returndatacopy(p, 0, returndatasize())
                    revert(p, returndatasize())
                }
                mstore(0x00, 0x09bde339) // InvalidProof()
                revert(0x1c, 0x04)
            }
            if iszero(and(eq(returndatasize(), 0x20), eq(mload(0x00), 1))) {
                mstore(0x00, 0x09bde339) // InvalidProof()
                revert(0x1c, 0x04)
            }
        }
    }

    /// The withdrawal tree's root over `n` positions of `data`: leaves
    /// `keccak256(abi.encode(deviceId, cumulative))`, zero for padding and
    /// up to the next power of two; nodes `keccak256(left ++ right)`.
    function _withdrawalRoot(bytes calldata data, uint256 n) private pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let width := 1
            for {} lt(width, n) {} { width := shl(1, width) }
            let level := mload(0x40)
            // Leaves; padding is last and all zero (the proof shows it).
            for { let i := 0 } lt(i, width) { i := add(i, 1) } {
                let leaf := 0
                if lt(i, n) {
                    let entry := add(data.offset, mul(i, 56))
                    let id := calldataload(entry)
                    if id {
                        mstore(0x00, id)
                        // The cumulative reward: bytes 40..56, big-endian.
                        mstore(0x20, shr(128, calldataload(add(entry, 40))))
                        leaf := keccak256(0x00, 0x40)
                    }
                }
                mstore(add(level, shl(5, i)), leaf)
            }
            for {} gt(width, 1) {} {
                width := shr(1, width)
                for { let i := 0 } lt(i, width) { i := add(i, 1) } {
                    mstore(add(level, shl(5, i)), keccak256(add(level, shl(6, i)), 0x40))
                }
            }
            root := mload(level)
        }
    }

    /// `token.transfer(to, amount)`; false when it reverts or returns false.
    function _transfer(address to, uint256 amount) private returns (bool ok) {
        address t = token;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(p, 0x04), to)
            mstore(add(p, 0x24), amount)
            mstore(0x00, 0)
            ok := call(gas(), t, 0, p, 0x44, 0x00, 0x20)
            // Tokens that return nothing are accepted, as SafeERC20 does.
            ok := and(
                ok,
                or(iszero(returndatasize()), and(eq(returndatasize(), 0x20), eq(mload(0x00), 1)))
            )
        }
    }

    // ------------------------------------------------------------------
    // Owner.

    /// @notice Hands ownership to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Adds or removes an operator.
    function setOperator(address operator, bool enabled) external onlyOwner {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[operator] = enabled;
        emit OperatorSet(operator, enabled);
    }

    /// @notice Sets `kind`'s verifier and the statement version its claims
    /// must carry; a zero verifier disables the kind. The verifier must take
    /// the kind's input count (5 uptime, 6 bandwidth and coverage) and have
    /// been generated for `version`.
    function setStatement(uint8 kind, address verifier, uint32 version) external onlyOwner {
        uint8 n = _inputCount(kind);
        if (n == 0) revert UnknownStatement();
        if (verifier == address(0)) {
            delete statements[kind];
        } else {
            if (
                IGroth16Verifier(verifier).N_PUBLIC() != n
                    || IGroth16Verifier(verifier).VERSION() != version
            ) revert VerifierMismatch();
            bytes4 selector = n == 5
                ? bytes4(keccak256("verifyProof(uint256[8],uint256[5])"))
                : bytes4(keccak256("verifyProof(uint256[8],uint256[6])"));
            statements[kind] = Statement(verifier, version, n, selector);
        }
        emit StatementSet(kind, verifier, version);
    }

    /// @notice Sets `kind`'s halo2 verifier, the statement version its
    /// claims must carry and the gas one verification may use; a zero
    /// verifier disables halo2 claims of the kind. The verifier (generated
    /// by depin-halo2-prover) must declare the kind's input count and
    /// `version`, as a Groth16 verifier does.
    function setHalo2Statement(uint8 kind, address verifier, uint32 version, uint32 verifyGas_)
        external
        onlyOwner
    {
        uint8 n = _inputCount(kind);
        if (n == 0) revert UnknownStatement();
        if (verifier == address(0)) {
            delete halo2Statements[kind];
        } else {
            if (
                IGroth16Verifier(verifier).N_PUBLIC() != n
                    || IGroth16Verifier(verifier).VERSION() != version
            ) revert VerifierMismatch();
            if (verifyGas_ == 0) revert MalformedInput();
            halo2Statements[kind] = Halo2Statement(verifier, version, n, verifyGas_);
        }
        emit Halo2StatementSet(kind, verifier, version, verifyGas_);
    }

    /// @notice Sends `amount` reward tokens to `to`.
    function withdrawFunds(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert ZeroAddress();
        if (!_transfer(to, amount)) revert InsufficientFunds();
        emit FundsWithdrawn(to, amount);
    }

    /// @notice Sets `kind`'s batch verifier, the batch size its key proves
    /// and the statement version; a zero verifier disables batches of the
    /// kind. `genesis` is the commitment of the kind's empty rewards tree
    /// (`depin_batch::RewardsTree::new(depth).commitment()`); it is taken
    /// only while the kind has no tree yet, so a verifier change never
    /// resets the rewards already credited.
    function setBatchVerifier(
        uint8 kind,
        address verifier,
        uint32 version,
        uint32 batchSize,
        uint256 genesis
    ) external onlyOwner {
        if (_inputCount(kind) == 0) revert UnknownStatement();
        if (verifier == address(0)) {
            delete batchConfigs[kind];
        } else {
            if (
                IGroth16Verifier(verifier).N_PUBLIC() != 1
                    || IGroth16Verifier(verifier).VERSION() != version || batchSize == 0
                    || batchSize > MAX_BATCH
            ) revert VerifierMismatch();
            batchConfigs[kind] = BatchConfig(verifier, version, batchSize);
            if (treeCommitment[kind] == 0) {
                if (genesis == 0 || genesis >= R) revert MalformedInput();
                treeCommitment[kind] = genesis;
            }
        }
        emit BatchVerifierSet(kind, verifier, version, batchSize);
    }

    // ------------------------------------------------------------------
    // Operators.

    /// @notice Accepts or revokes a policy hash for `kind`.
    function setPolicy(uint8 kind, uint256 policyHash, bool accepted) external onlyOperator {
        if (_inputCount(kind) == 0) revert UnknownStatement();
        if (policyHash >= R) revert MalformedInput();
        policyAccepted[kind][policyHash] = accepted;
        emit PolicySet(kind, policyHash, accepted);
    }

    /// @notice Publishes `epoch`'s beacon (once; nonzero, below the field
    /// modulus).
    function setBeacon(uint256 epoch, uint256 beacon) external onlyOperator {
        if (epoch > type(uint32).max || beacon == 0 || beacon >= R) revert MalformedInput();
        if (beaconOf[epoch] != 0) revert BeaconAlreadySet();
        beaconOf[epoch] = beacon;
        emit BeaconSet(epoch, beacon);
    }

    /// @notice Accepts or revokes a client registry root (bandwidth).
    function setRegistryRoot(uint256 root, bool accepted) external onlyOperator {
        if (root >= R) revert MalformedInput();
        registryRootAccepted[root] = accepted;
        emit RegistryRootSet(root, accepted);
    }

    /// @notice Sets `deviceId`'s payout address (zero unregisters it).
    function registerDevice(uint256 deviceId, address payout) external onlyOperator {
        _register(deviceId, payout);
    }

    /// @notice `registerDevice` for many devices.
    function registerDevices(uint256[] calldata deviceIds, address[] calldata payouts)
        external
        onlyOperator
    {
        if (deviceIds.length != payouts.length) revert LengthMismatch();
        for (uint256 i; i < deviceIds.length;) {
            _register(deviceIds[i], payouts[i]);
            unchecked {
                ++i;
            }
        }
    }

    function _register(uint256 deviceId, address payout) private {
        if (deviceId >= R) revert MalformedInput();
        payoutOf[deviceId] = payout;
        emit DeviceRegistered(deviceId, payout);
    }

    /// Public inputs of each kind; zero for unknown kinds.
    function _inputCount(uint8 kind) private pure returns (uint8) {
        if (kind == UPTIME) return 5;
        if (kind == BANDWIDTH || kind == COVERAGE) return 6;
        return 0;
    }
}
