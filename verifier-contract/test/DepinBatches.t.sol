// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {DepinRewards} from "depin/DepinRewards.sol";
import {TestBatchVerifier} from "./generated/TestBatchVerifier.sol";

/// Batches on the fixture network of test/fixtures/batches.json (generated
/// by prover/evm/tests/solidity.rs): three uptime batches of 4 that chain
/// from the empty tree, a bandwidth batch, a full batch of 32, and valid
/// proofs over headers the contract writes otherwise. Every refused batch
/// or withdrawal reverts with its own error and changes nothing.
contract DepinBatchesTest is Fixture {
    string internal constant BATCHES = "test/fixtures/batches.json";
    uint8 internal constant UPTIME = 1;
    uint8 internal constant BANDWIDTH = 2;

    string internal batches;
    TestBatchVerifier internal batchVerifier;
    uint256 internal genesis;

    /// A batch as `submitBatch` takes it.
    struct Batch {
        uint256[8] proof;
        uint32 epoch;
        uint8 kind;
        uint256 oldCommitment;
        uint256 newCommitment;
        uint256 policyHash;
        uint256 registryRoot;
        bytes publicData;
    }

    /// A withdrawal proof.
    struct Proof {
        uint256 device;
        uint128 cumulative;
        uint256 position;
        bytes32[] siblings;
    }

    function setUp() public override {
        super.setUp();
        batches = vm.readFile(BATCHES);
        genesis = vm.parseJsonUint(batches, ".genesis");
        batchVerifier = new TestBatchVerifier();
        vm.startPrank(owner);
        rewards.setBatchVerifier(UPTIME, address(batchVerifier), 1, 4, genesis);
        rewards.setBatchVerifier(BANDWIDTH, address(batchVerifier), 1, 4, genesis);
        vm.stopPrank();
    }

    function loadBatch(string memory key) internal view returns (Batch memory b) {
        uint256[] memory p = vm.parseJsonUintArray(batches, string.concat(key, ".proof"));
        for (uint256 k; k < 8; k++) {
            b.proof[k] = p[k];
        }
        // Fixture values are small: the casts do not truncate.
        // forge-lint: disable-next-line(unsafe-typecast)
        b.epoch = uint32(vm.parseJsonUint(batches, string.concat(key, ".epoch")));
        // forge-lint: disable-next-line(unsafe-typecast)
        b.kind = uint8(vm.parseJsonUint(batches, string.concat(key, ".kind")));
        b.oldCommitment = vm.parseJsonUint(batches, string.concat(key, ".oldCommitment"));
        b.newCommitment = vm.parseJsonUint(batches, string.concat(key, ".newCommitment"));
        b.policyHash = vm.parseJsonUint(batches, string.concat(key, ".policyHash"));
        b.registryRoot = vm.parseJsonUint(batches, string.concat(key, ".registryRoot"));
        b.publicData = vm.parseJsonBytes(batches, string.concat(key, ".publicData"));
    }

    function uptime(uint256 i) internal view returns (Batch memory) {
        return loadBatch(string.concat(".uptime[", vm.toString(i), "]"));
    }

    function withdrawal(string memory batch, uint256 i) internal view returns (Proof memory w) {
        string memory key = string.concat(batch, ".withdrawals[", vm.toString(i), "]");
        w.device = vm.parseJsonUint(batches, string.concat(key, ".device"));
        // forge-lint: disable-next-line(unsafe-typecast)
        w.cumulative = uint128(vm.parseJsonUint(batches, string.concat(key, ".cumulative")));
        w.position = vm.parseJsonUint(batches, string.concat(key, ".position"));
        w.siblings = vm.parseJsonBytes32Array(batches, string.concat(key, ".siblings"));
    }

    function submit(Batch memory b) internal returns (uint256) {
        return rewards.submitBatch(
            b.proof,
            b.epoch,
            b.kind,
            b.oldCommitment,
            b.newCommitment,
            b.policyHash,
            b.registryRoot,
            b.publicData
        );
    }

    function expectRefused(Batch memory b, bytes4 reason) internal {
        uint256 before = rewards.treeCommitment(b.kind);
        uint256 count = rewards.batchCount();
        vm.expectRevert(reason);
        submit(b);
        vm.assertEq(rewards.treeCommitment(b.kind), before, "tree unchanged");
        vm.assertEq(rewards.batchCount(), count, "no batch recorded");
    }

    function withdraw(uint8 kind, uint256 batchId, Proof memory w, address payout)
        internal
        returns (uint256)
    {
        return rewards.withdraw(
            kind, w.device, payout, batchId, w.cumulative, w.position, w.siblings
        );
    }

    // ------------------------------------------------------------------
    // Applying batches.

    function test_batches_chain_from_the_genesis_tree() public {
        vm.assertEq(rewards.treeCommitment(UPTIME), genesis, "genesis");
        for (uint256 i; i < 3; i++) {
            Batch memory b = uptime(i);
            bytes32 root = vm.parseJsonBytes32(
                batches, string.concat(".uptime[", vm.toString(i), "].withdrawalRoot")
            );
            vm.expectEmit(true, true, true, true);
            emit DepinRewards.BatchSubmitted(
                i, UPTIME, b.epoch, b.oldCommitment, b.newCommitment, root
            );
            vm.prank(stranger); // anyone may submit
            vm.assertEq(submit(b), i, "batch id");
            vm.assertEq(rewards.treeCommitment(UPTIME), b.newCommitment, "tree");
            vm.assertEq(rewards.batchWithdrawalRoot(i), keccak256(abi.encode(UPTIME, root)), "root");
        }
        vm.assertEq(rewards.batchCount(), 3, "count");
        // Batches of one kind leave the other kinds' trees alone.
        vm.assertEq(rewards.treeCommitment(BANDWIDTH), genesis, "bandwidth tree");
    }

    function test_bandwidth_batch_needs_an_accepted_registry_root() public {
        Batch memory b = loadBatch(".bandwidth");
        b.registryRoot += 1;
        expectRefused(b, DepinRewards.RegistryRootMismatch.selector);
        b.registryRoot -= 1;
        submit(b);
        vm.assertEq(rewards.treeCommitment(BANDWIDTH), b.newCommitment, "applied");
        // Other kinds carry no registry root.
        Batch memory u = uptime(0);
        u.registryRoot = b.registryRoot;
        expectRefused(u, DepinRewards.RegistryRootMismatch.selector);
    }

    function test_replayed_batch_is_refused() public {
        Batch memory b = uptime(0);
        submit(b);
        expectRefused(b, DepinRewards.StaleRoot.selector);
    }

    function test_batch_on_a_stale_root_is_refused() public {
        // The second batch before the first, and the first again after both.
        expectRefused(uptime(1), DepinRewards.StaleRoot.selector);
        submit(uptime(0));
        submit(uptime(1));
        expectRefused(uptime(0), DepinRewards.StaleRoot.selector);
        expectRefused(uptime(1), DepinRewards.StaleRoot.selector);
    }

    function test_headers_the_contract_writes_otherwise_are_refused() public {
        string[5] memory names =
            ["otherBeacon", "otherEpoch", "otherPolicy", "otherVersion", "otherKind"];
        for (uint256 i; i < names.length; i++) {
            expectRefused(
                loadBatch(string.concat(".bad.", names[i])), DepinRewards.InvalidProof.selector
            );
        }
    }

    function test_tampered_public_data_is_refused() public {
        Batch memory b = uptime(0);
        b.publicData[39] = bytes1(uint8(b.publicData[39]) + 1); // first reward's last byte
        expectRefused(b, DepinRewards.InvalidProof.selector);
        b = uptime(0);
        b.newCommitment += 1;
        expectRefused(b, DepinRewards.InvalidProof.selector);
        b = uptime(0);
        b.proof[0] = b.proof[0] ^ 1;
        vm.expectRevert();
        submit(b);
        vm.assertEq(rewards.treeCommitment(UPTIME), genesis, "tree unchanged");
    }

    function test_policy_beacon_length_and_kind_are_checked_first() public {
        Batch memory b = uptime(0);
        b.policyHash = b.policyHash + 1;
        expectRefused(b, DepinRewards.PolicyNotAccepted.selector);
        b = uptime(0);
        b.epoch = 7; // no beacon published
        expectRefused(b, DepinRewards.BeaconMismatch.selector);
        b = uptime(0);
        b.publicData = bytes.concat(b.publicData, bytes1(0));
        expectRefused(b, DepinRewards.MalformedInput.selector);
        b = uptime(0);
        b.kind = 3; // no batch verifier for coverage
        expectRefused(b, DepinRewards.UnknownStatement.selector);
    }

    function test_only_the_owner_sets_batch_verifiers_and_keys_must_fit() public {
        vm.prank(operator);
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.setBatchVerifier(3, address(batchVerifier), 1, 4, genesis);
        vm.startPrank(owner);
        // A statement verifier (five inputs) is not a batch verifier.
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setBatchVerifier(3, address(uptimeVerifier), 1, 4, genesis);
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setBatchVerifier(3, address(batchVerifier), 2, 4, genesis);
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setBatchVerifier(3, address(batchVerifier), 1, 0, genesis);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setBatchVerifier(3, address(batchVerifier), 1, 4, 0);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.setBatchVerifier(4, address(batchVerifier), 1, 4, genesis);
        // A new verifier keeps the tree: the genesis is taken once.
        submit(uptime(0));
        uint256 tree = rewards.treeCommitment(UPTIME);
        rewards.setBatchVerifier(UPTIME, address(batchVerifier), 1, 4, genesis + 1);
        vm.assertEq(rewards.treeCommitment(UPTIME), tree, "tree kept");
        vm.stopPrank();
    }

    // ------------------------------------------------------------------
    // Withdrawals.

    function test_withdrawals_pay_the_cumulative_reward_once() public {
        submit(uptime(0));
        submit(uptime(1));
        submit(uptime(2));
        // Device 1: 110 in batch 0, 320 after batch 1, 630 after batch 2.
        Proof memory w0 = withdrawal(".uptime[0]", 1);
        vm.assertEq(w0.device, devices[1], "device 1");
        vm.assertEq(w0.cumulative, 110, "cumulative after batch 0");
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.Withdrawn(devices[1], UPTIME, payoutOf(1), 110, 110, 0);
        vm.prank(stranger); // anyone may relay; the registered address is paid
        vm.assertEq(withdraw(UPTIME, 0, w0, payoutOf(1)), 110, "paid");
        vm.assertEq(token.balanceOf(payoutOf(1)), 110, "balance");

        Proof memory w2 = withdrawal(".uptime[2]", 1);
        vm.assertEq(w2.cumulative, 630, "cumulative after batch 2");
        vm.assertEq(withdraw(UPTIME, 2, w2, payoutOf(1)), 520, "the rest");
        vm.assertEq(token.balanceOf(payoutOf(1)), 630, "balance");
        vm.assertEq(rewards.withdrawn(UPTIME, devices[1]), 630, "withdrawn");

        // Twice the same proof, or an older one, pays nothing.
        vm.expectRevert(DepinRewards.NothingToWithdraw.selector);
        withdraw(UPTIME, 2, w2, payoutOf(1));
        Proof memory w1 = withdrawal(".uptime[1]", 0);
        vm.assertEq(w1.device, devices[1], "device 1 in batch 1");
        vm.expectRevert(DepinRewards.NothingToWithdraw.selector);
        withdraw(UPTIME, 1, w1, payoutOf(1));
        vm.assertEq(token.balanceOf(payoutOf(1)), 630, "balance unchanged");
    }

    function test_withdrawal_attacks_are_refused() public {
        submit(uptime(0));
        submit(loadBatch(".bandwidth"));
        Proof memory w = withdrawal(".uptime[0]", 2); // device 2, 120
        // Above the cumulative amount.
        w.cumulative += 1;
        vm.expectRevert(DepinRewards.InvalidWithdrawalProof.selector);
        withdraw(UPTIME, 0, w, payoutOf(2));
        w.cumulative -= 1;
        // To an address not registered for the device.
        vm.expectRevert(DepinRewards.NotPayoutAddress.selector);
        withdraw(UPTIME, 0, w, stranger);
        // Another device's position, another batch, another kind.
        Proof memory other = withdrawal(".uptime[0]", 1);
        w.position = other.position;
        vm.expectRevert(DepinRewards.InvalidWithdrawalProof.selector);
        withdraw(UPTIME, 0, w, payoutOf(2));
        w = withdrawal(".uptime[0]", 2);
        vm.expectRevert(DepinRewards.InvalidWithdrawalProof.selector);
        withdraw(UPTIME, 1, w, payoutOf(2));
        vm.expectRevert(DepinRewards.InvalidWithdrawalProof.selector);
        withdraw(BANDWIDTH, 0, w, payoutOf(2));
        // A position beyond the path.
        w.position += 1 << w.siblings.length;
        vm.expectRevert(DepinRewards.InvalidWithdrawalProof.selector);
        withdraw(UPTIME, 0, w, payoutOf(2));
        // A device with no payout address.
        vm.prank(operator);
        rewards.registerDevice(devices[2], address(0));
        w = withdrawal(".uptime[0]", 2);
        vm.expectRevert(DepinRewards.DeviceNotRegistered.selector);
        withdraw(UPTIME, 0, w, payoutOf(2));
        vm.assertEq(token.balanceOf(payoutOf(2)), 0, "nothing paid");
        vm.assertEq(token.balanceOf(stranger), 0, "nothing paid");
    }

    function test_withdrawal_needs_funds() public {
        submit(uptime(0));
        vm.prank(owner);
        rewards.withdrawFunds(owner, FUNDS);
        Proof memory w = withdrawal(".uptime[0]", 0);
        vm.expectRevert(DepinRewards.InsufficientFunds.selector);
        withdraw(UPTIME, 0, w, payoutOf(0));
        vm.assertEq(rewards.withdrawn(UPTIME, devices[0]), 0, "nothing recorded");
    }

    // ------------------------------------------------------------------
    // Gas.

    /// Intrinsic gas of a transaction with `data` (21,000 and EIP-2028's
    /// 16 a nonzero byte, 4 a zero byte).
    function intrinsic(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; i++) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// A full batch of 32 new devices: the transaction's gas divided by 32
    /// is the on-chain cost of a device-epoch.
    function test_gas_submit_batch_of_32() public {
        vm.prank(owner);
        rewards.setBatchVerifier(UPTIME, address(batchVerifier), 1, 32, genesis);
        Batch memory b = loadBatch(".full32");
        bytes memory data = abi.encodeCall(
            DepinRewards.submitBatch,
            (
                b.proof,
                b.epoch,
                b.kind,
                b.oldCommitment,
                b.newCommitment,
                b.policyHash,
                b.registryRoot,
                b.publicData
            )
        );
        submit(b);
        uint256 frame = vm.lastCallGas().gasTotalUsed;
        uint256 total = frame + intrinsic(data);
        emit log_named_uint("submitBatch (32) gas, call frame", frame);
        emit log_named_uint("submitBatch (32) gas, transaction", total);
        emit log_named_uint("gas per device-epoch (batches of 32)", total / 32);
        vm.assertLe(total / 32, 10_000, "goal: at most 10,000 a device-epoch");
    }

    /// A withdrawal from a batch of 4 to an address that holds no tokens.
    function test_gas_withdraw() public {
        submit(uptime(0));
        Proof memory w = withdrawal(".uptime[0]", 0);
        bytes memory data = abi.encodeCall(
            DepinRewards.withdraw,
            (UPTIME, w.device, payoutOf(0), 0, w.cumulative, w.position, w.siblings)
        );
        withdraw(UPTIME, 0, w, payoutOf(0));
        uint256 total = vm.lastCallGas().gasTotalUsed + intrinsic(data);
        emit log_named_uint("withdrawal gas, transaction", total);
        vm.assertLe(total, 100_000, "goal: at most 100,000 a withdrawal");
    }
}
