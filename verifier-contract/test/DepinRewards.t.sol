// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/Test.sol";
import {DepinRewards} from "depin/DepinRewards.sol";
import {DepinToken} from "depin/DepinToken.sol";

/// The reward contract on the fixture network: valid claims pay the
/// registered payout address once; every refused claim reverts with its own
/// error and changes nothing.
contract DepinRewardsTest is Fixture {
    function submit(DepinRewards.Claim memory c) internal {
        rewards.claim(c.proof, c.publicInputs);
    }

    function expectRefused(DepinRewards.Claim memory c, bytes4 reason) internal {
        vm.expectRevert(reason);
        rewards.claim(c.proof, c.publicInputs);
    }

    // ------------------------------------------------------------------
    // Paying.

    function test_claim_pays_registered_payout() public {
        DepinRewards.Claim memory c = claimAt("uptime", 13); // device 3, epoch 2
        uint256 reward = rewardOf(c);
        vm.assertEq(reward, 1000 + 2 * 100 + 3, "fixture reward");
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.Claimed(devices[3], 2, payoutOf(3), 1, reward, c.publicInputs[4]);
        vm.prank(stranger); // anyone may submit; the device's address is paid
        submit(c);
        vm.assertEq(token.balanceOf(payoutOf(3)), reward, "payout");
        vm.assertEq(token.balanceOf(stranger), 0, "submitter");
        vm.assertEq(token.balanceOf(address(rewards)), FUNDS - reward, "funds");
        vm.assertTrue(rewards.nullifierUsed(c.publicInputs[4]), "nullifier spent");
    }

    function test_claim_bandwidth_and_coverage() public {
        for (uint256 i; i < 3; i++) {
            submit(claimAt("bandwidth", i));
            submit(claimAt("coverage", i));
            vm.assertEq(token.balanceOf(payoutOf(i)), 5000 + i + 7000 + i, "paid");
        }
    }

    /// One claim, paid to an address that holds no tokens yet.
    function test_gas_claim_uptime() public {
        vm.pauseGasMetering();
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        vm.resumeGasMetering();
        submit(c);
        emit log_named_uint("claim gas (uptime), call frame", vm.lastCallGas().gasTotalUsed);
    }

    function test_gas_claim_bandwidth() public {
        vm.pauseGasMetering();
        DepinRewards.Claim memory c = claimAt("bandwidth", 0);
        vm.resumeGasMetering();
        submit(c);
        emit log_named_uint("claim gas (bandwidth), call frame", vm.lastCallGas().gasTotalUsed);
    }

    /// One claim, paid to an address that already holds tokens (its balance
    /// slot is not new).
    function test_gas_claim_uptime_funded_payout() public {
        vm.pauseGasMetering();
        DepinRewards.Claim memory c = claimAt("uptime", 10); // device 0, epoch 2
        vm.prank(owner);
        token.mint(payoutOf(0), 1);
        vm.resumeGasMetering();
        submit(c);
        emit log_named_uint(
            "claim gas (uptime, funded payout), call frame", vm.lastCallGas().gasTotalUsed
        );
    }

    function test_decode_header() public view {
        DepinRewards.Claim memory c = claimAt("uptime", 59); // device 9, epoch 6
        (uint8 kind, uint32 version, uint32 epoch, uint256 reward) =
            rewards.decodeHeader(c.publicInputs[0]);
        vm.assertEq(kind, 1, "kind");
        vm.assertEq(version, 1, "version");
        vm.assertEq(epoch, 6, "epoch");
        vm.assertEq(reward, 1000 + 6 * 100 + 9, "reward");
        vm.assertEq(c.publicInputs[1], devices[9], "device");
    }

    // ------------------------------------------------------------------
    // Refusals, one error each.

    function test_same_proof_twice_reverts_NullifierUsed() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        submit(c);
        expectRefused(c, DepinRewards.NullifierUsed.selector);
        // A different proof (fresh randomness) of the same statement too.
        DepinRewards.Claim memory again = claimAt("uptime", 0);
        again.proof[1] = again.proof[1]; // same inputs, same nullifier
        expectRefused(again, DepinRewards.NullifierUsed.selector);
    }

    function test_proof_for_one_device_cannot_pay_another() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0); // device 0
        c.publicInputs[1] = devices[1];
        expectRefused(c, DepinRewards.InvalidProof.selector);
        // Nor with device 1's nullifier for that epoch.
        c.publicInputs[4] = claimAt("uptime", 1).publicInputs[4];
        expectRefused(c, DepinRewards.InvalidProof.selector);
        // Re-registering nothing changes that: the payout follows the proven id.
        vm.assertEq(token.balanceOf(payoutOf(1)), 0, "paid another device");
    }

    function test_inflated_reward_reverts_InvalidProof() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        c.publicInputs[0] += 1 << 72; // reward + 1
        expectRefused(c, DepinRewards.InvalidProof.selector);
        c = claimAt("uptime", 0);
        c.publicInputs[0] += 1 << 40; // epoch + 1 (its beacon differs first)
        expectRefused(c, DepinRewards.BeaconMismatch.selector);
    }

    function test_tampered_proof_reverts_InvalidProof() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        c.proof[0] = claimAt("uptime", 1).proof[0];
        c.proof[1] = claimAt("uptime", 1).proof[1];
        expectRefused(c, DepinRewards.InvalidProof.selector);
        c = claimAt("uptime", 0);
        (c.proof[0], c.proof[1]) = (1, 3); // off the curve: the precompile fails
        expectRefused(c, DepinRewards.InvalidProof.selector);
    }

    function test_zero_reward_reverts_ZeroReward_and_keeps_nullifier() public {
        DepinRewards.Claim memory zero = bad("zeroReward"); // device 0, epoch 1, reward 0
        DepinRewards.Claim memory real = claimAt("uptime", 0);
        vm.assertEq(zero.publicInputs[4], real.publicInputs[4], "same nullifier");
        expectRefused(zero, DepinRewards.ZeroReward.selector);
        vm.assertFalse(rewards.nullifierUsed(zero.publicInputs[4]), "nullifier spent");
        // In a batch too: skipped, and the real claim after it is paid.
        DepinRewards.Claim[] memory cs = new DepinRewards.Claim[](2);
        cs[0] = zero;
        cs[1] = real;
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.ClaimRejected(0, DepinRewards.ZeroReward.selector);
        vm.assertEq(rewards.claimBatch(cs), 1, "paid");
        vm.assertEq(token.balanceOf(payoutOf(0)), rewardOf(real), "real claim paid");
    }

    function test_unsupported_version_reverts() public {
        expectRefused(bad("version2"), DepinRewards.UnsupportedVersion.selector);
    }

    function test_policy_not_accepted_reverts() public {
        expectRefused(bad("wrongPolicy"), DepinRewards.PolicyNotAccepted.selector);
        // A revoked policy too.
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        vm.prank(operator);
        rewards.setPolicy(1, c.publicInputs[2], false);
        expectRefused(c, DepinRewards.PolicyNotAccepted.selector);
        // A policy of another kind is not accepted for this kind.
        uint256[] memory policies = vm.parseJsonUintArray(json, ".policies");
        c.publicInputs[2] = policies[1];
        expectRefused(c, DepinRewards.PolicyNotAccepted.selector);
    }

    function test_beacon_mismatch_reverts() public {
        expectRefused(bad("wrongBeacon"), DepinRewards.BeaconMismatch.selector);
        // Epoch 7 has no beacon, and the claim's beacon 0 does not match "unset".
        expectRefused(bad("unpublishedEpoch"), DepinRewards.BeaconMismatch.selector);
    }

    function test_registry_root_mismatch_reverts() public {
        expectRefused(bad("wrongRoot"), DepinRewards.RegistryRootMismatch.selector);
        DepinRewards.Claim memory c = claimAt("bandwidth", 0);
        vm.prank(operator);
        rewards.setRegistryRoot(c.publicInputs[5], false);
        expectRefused(c, DepinRewards.RegistryRootMismatch.selector);
    }

    function test_device_not_registered_reverts() public {
        expectRefused(bad("unregisteredDevice"), DepinRewards.DeviceNotRegistered.selector);
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        vm.prank(operator);
        rewards.registerDevice(devices[0], address(0));
        expectRefused(c, DepinRewards.DeviceNotRegistered.selector);
    }

    function test_malformed_inputs_revert_MalformedInput() public {
        // Wrong count for the kind: an uptime header with six inputs.
        expectRefused(bad("uptimeWithSixInputs"), DepinRewards.MalformedInput.selector);
        // Too few inputs for a header.
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        uint256[] memory four = new uint256[](4);
        for (uint256 k; k < 4; k++) {
            four[k] = c.publicInputs[k];
        }
        c.publicInputs = four;
        expectRefused(c, DepinRewards.MalformedInput.selector);
        // Header wider than 136 bits.
        c = claimAt("uptime", 0);
        c.publicInputs[0] |= 1 << 136;
        expectRefused(c, DepinRewards.MalformedInput.selector);
        // The nullifier plus r: the same field element, a fresh mapping key.
        c = claimAt("uptime", 0);
        submit(claimAt("uptime", 0));
        c.publicInputs[4] += R;
        expectRefused(c, DepinRewards.MalformedInput.selector);
        // Bandwidth with five inputs.
        c = claimAt("bandwidth", 0);
        uint256[] memory five = new uint256[](5);
        for (uint256 k; k < 5; k++) {
            five[k] = c.publicInputs[k];
        }
        c.publicInputs = five;
        expectRefused(c, DepinRewards.MalformedInput.selector);
    }

    function test_malformed_proof_reverts_MalformedProof() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        c.proof[6] += Q;
        expectRefused(c, DepinRewards.MalformedProof.selector);
    }

    function test_unknown_statement_reverts() public {
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        c.publicInputs[0] = (c.publicInputs[0] >> 8 << 8) | 4; // kind 4
        expectRefused(c, DepinRewards.UnknownStatement.selector);
        c = claimAt("uptime", 0);
        vm.prank(owner);
        rewards.setStatement(1, address(0), 0); // disable uptime
        expectRefused(c, DepinRewards.UnknownStatement.selector);
    }

    function test_insufficient_funds_reverts_and_keeps_nullifier() public {
        vm.prank(owner);
        rewards.withdrawFunds(owner, FUNDS);
        DepinRewards.Claim memory c = claimAt("uptime", 0);
        expectRefused(c, DepinRewards.InsufficientFunds.selector);
        DepinRewards.Claim[] memory cs = new DepinRewards.Claim[](1);
        cs[0] = c;
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.ClaimRejected(0, DepinRewards.InsufficientFunds.selector);
        vm.assertEq(rewards.claimBatch(cs), 0, "paid");
        vm.assertFalse(rewards.nullifierUsed(c.publicInputs[4]), "nullifier spent");
        // Refunded, the claim goes through.
        vm.prank(owner);
        token.mint(address(rewards), rewardOf(c));
        submit(c);
        vm.assertEq(token.balanceOf(payoutOf(0)), rewardOf(c), "paid after funding");
    }

    // ------------------------------------------------------------------
    // Batches (skip-failed).

    function batch(uint256 n) internal {
        vm.pauseGasMetering();
        DepinRewards.Claim[] memory cs = uptimeClaims(n);
        vm.resumeGasMetering();
        uint256 paid = rewards.claimBatch(cs);
        uint256 g = vm.lastCallGas().gasTotalUsed;
        vm.pauseGasMetering();
        vm.assertEq(paid, n, "paid");
        uint256 total;
        for (uint256 i; i < n; i++) {
            vm.assertTrue(rewards.nullifierUsed(cs[i].publicInputs[4]), "nullifier");
            total += rewardOf(cs[i]);
        }
        vm.assertEq(token.balanceOf(address(rewards)), FUNDS - total, "funds");
        emit log_named_uint(string.concat("claimBatch(", vm.toString(n), ") gas, call frame"), g);
        emit log_named_uint("gas per claim", g / n);
        vm.resumeGasMetering();
    }

    function test_gas_batch_1() public {
        batch(1);
    }

    function test_gas_batch_10() public {
        batch(10);
    }

    function test_gas_batch_50() public {
        batch(50);
    }

    function test_batch_skips_failed_claims() public {
        DepinRewards.Claim[] memory cs = new DepinRewards.Claim[](6);
        cs[0] = claimAt("uptime", 0);
        cs[1] = claimAt("uptime", 0); // duplicate in the batch
        cs[2] = bad("wrongBeacon");
        cs[3] = claimAt("bandwidth", 1);
        cs[4] = claimAt("uptime", 12);
        cs[4].publicInputs[1] = devices[3]; // another device's id: invalid
        cs[5] = claimAt("coverage", 2);
        vm.recordLogs();
        vm.assertEq(rewards.claimBatch(cs), 3, "paid");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes4[6] memory want = [
            bytes4(0),
            DepinRewards.NullifierUsed.selector,
            DepinRewards.BeaconMismatch.selector,
            bytes4(0),
            DepinRewards.InvalidProof.selector,
            bytes4(0)
        ];
        uint256 rejected;
        for (uint256 i; i < logs.length; i++) {
            if (logs[i].topics[0] != DepinRewards.ClaimRejected.selector) continue;
            uint256 index = uint256(logs[i].topics[1]);
            bytes4 reason = abi.decode(logs[i].data, (bytes4));
            vm.assertEq(bytes32(reason), bytes32(want[index]), "reason");
            rejected++;
        }
        vm.assertEq(rejected, 3, "rejected");
        vm.assertEq(token.balanceOf(payoutOf(0)), rewardOf(cs[0]), "device 0");
        vm.assertEq(token.balanceOf(payoutOf(1)), rewardOf(cs[3]), "device 1");
        vm.assertEq(token.balanceOf(payoutOf(2)), rewardOf(cs[5]), "device 2");
        vm.assertEq(token.balanceOf(payoutOf(3)), 0, "device 3");
    }

    /// A proof whose B is off the twist makes the pairing precompile fail
    /// and consume its gas; the verifier call is capped at `verifyGas`, so
    /// the claim costs at most that and the rest of the batch is paid.
    function test_batch_bad_point_costs_at_most_verifyGas() public {
        DepinRewards.Claim[] memory cs = uptimeClaims(3);
        cs[1].proof[5] = addmod(cs[1].proof[5], 1, Q);
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.ClaimRejected(1, DepinRewards.InvalidProof.selector);
        uint256 g = gasleft();
        vm.assertEq(rewards.claimBatch{gas: 3_000_000}(cs), 2, "paid");
        g -= gasleft();
        vm.assertLe(g, 2 * 300_000 + VERIFY_GAS + 20_000, "bad claim cost");
        vm.assertEq(token.balanceOf(payoutOf(2)), rewardOf(cs[2]), "claim after it paid");
    }

    function test_batch_of_same_proof_pays_once() public {
        DepinRewards.Claim[] memory cs = new DepinRewards.Claim[](3);
        cs[0] = cs[1] = cs[2] = claimAt("uptime", 7);
        vm.assertEq(rewards.claimBatch(cs), 1, "paid");
        vm.assertEq(token.balanceOf(payoutOf(7)), rewardOf(cs[0]), "paid once");
    }

    function test_batch_short_of_gas_reverts_InsufficientGas() public {
        DepinRewards.Claim[] memory cs = uptimeClaims(2);
        vm.expectRevert(DepinRewards.InsufficientGas.selector);
        rewards.claimBatch{gas: 300_000}(cs);
        vm.assertFalse(rewards.nullifierUsed(cs[0].publicInputs[4]), "nothing claimed");
    }

    function test_empty_batch() public {
        vm.assertEq(rewards.claimBatch(new DepinRewards.Claim[](0)), 0, "paid");
    }

    // ------------------------------------------------------------------
    // Access control and configuration.

    function test_operator_functions_revert_NotOperator() public {
        vm.startPrank(stranger);
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.registerDevice(1, stranger);
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.registerDevices(new uint256[](0), new address[](0));
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.setPolicy(1, 1, true);
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.setBeacon(9, 1);
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.setRegistryRoot(1, true);
        vm.stopPrank();
        // The owner is an operator too.
        vm.prank(owner);
        rewards.setBeacon(9, 1);
    }

    function test_owner_functions_revert_NotOwner() public {
        vm.startPrank(operator);
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.setStatement(1, address(uptimeVerifier), 1);
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.setOperator(stranger, true);
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.withdrawFunds(operator, 1);
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.transferOwnership(operator);
        vm.stopPrank();
    }

    function test_ownership_and_operators() public {
        vm.prank(owner);
        rewards.transferOwnership(operator);
        vm.assertEq(rewards.owner(), operator, "owner");
        vm.prank(operator);
        rewards.setOperator(operator, false);
        vm.prank(owner); // the old owner is nobody now
        vm.expectRevert(DepinRewards.NotOperator.selector);
        rewards.setBeacon(9, 1);
        vm.prank(operator);
        vm.expectRevert(DepinRewards.ZeroAddress.selector);
        rewards.transferOwnership(address(0));
    }

    function test_set_statement_checks_the_verifier() public {
        vm.startPrank(owner);
        // Uptime takes 5 inputs; the bandwidth verifier takes 6.
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setStatement(1, address(bandwidthVerifier), 1);
        // The verifier was generated for version 1.
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setStatement(1, address(uptimeVerifier), 2);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.setStatement(4, address(uptimeVerifier), 1);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.setStatement(0, address(0), 0);
        vm.stopPrank();
    }

    function test_operator_inputs_are_checked() public {
        vm.startPrank(operator);
        vm.expectRevert(DepinRewards.BeaconAlreadySet.selector);
        rewards.setBeacon(1, 5);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setBeacon(9, 0);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setBeacon(9, R);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setBeacon(1 << 32, 1);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.registerDevice(R, stranger);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setPolicy(1, R, true);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.setPolicy(7, 1, true);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setRegistryRoot(R, true);
        vm.expectRevert(DepinRewards.LengthMismatch.selector);
        rewards.registerDevices(new uint256[](2), new address[](1));
        vm.stopPrank();
    }

    function test_withdrawFunds() public {
        vm.startPrank(owner);
        rewards.withdrawFunds(owner, 5);
        vm.assertEq(token.balanceOf(owner), 5, "withdrawn");
        vm.expectRevert(DepinRewards.InsufficientFunds.selector);
        rewards.withdrawFunds(owner, FUNDS);
        vm.expectRevert(DepinRewards.ZeroAddress.selector);
        rewards.withdrawFunds(address(0), 1);
        vm.stopPrank();
    }

    function test_constructor_checks() public {
        vm.expectRevert(DepinRewards.ZeroAddress.selector);
        new DepinRewards(address(0x1234), owner, VERIFY_GAS); // no code
        vm.expectRevert(DepinRewards.ZeroAddress.selector);
        new DepinRewards(address(token), address(0), VERIFY_GAS);
    }
}
