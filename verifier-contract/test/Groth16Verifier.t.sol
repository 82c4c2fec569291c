// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {TestUptimeVerifier} from "./generated/TestUptimeVerifier.sol";
import {DepinRewards} from "depin/DepinRewards.sol";

/// The generated Groth16 verifier (prover/templates/Groth16Verifier.sol.tpl)
/// on proofs from arkworks: valid proofs verify within the gas bound, and
/// every malformed or wrong proof reverts with its custom error.
contract Groth16VerifierTest is Fixture {
    /// EIP-1108: one 4-pair pairing (45,000 + 4 * 34,000) plus 150, and an
    /// ecMul (6,000) and ecAdd (150) per public input.
    function floorGas(uint256 nPublic) internal pure returns (uint256) {
        return 181_150 + 6_150 * nPublic;
    }

    /// Allowed overhead over the floor.
    uint256 internal constant SLACK = 10_000;

    function up(uint256 i) internal view returns (uint256[8] memory p, uint256[5] memory x) {
        return five(claimAt("uptime", i));
    }

    function five(DepinRewards.Claim memory c)
        internal
        pure
        returns (uint256[8] memory p, uint256[5] memory x)
    {
        p = c.proof;
        for (uint256 k; k < 5; k++) {
            x[k] = c.publicInputs[k];
        }
    }

    function six(DepinRewards.Claim memory c)
        internal
        pure
        returns (uint256[8] memory p, uint256[6] memory x)
    {
        p = c.proof;
        for (uint256 k; k < 6; k++) {
            x[k] = c.publicInputs[k];
        }
    }

    function test_metadata() public view {
        assertKeccak(uptimeVerifier.STATEMENT(), "test_uptime");
        assertKeccak(bandwidthVerifier.STATEMENT(), "test_bandwidth");
        assertKeccak(coverageVerifier.STATEMENT(), "test_coverage");
        vm.assertEq(uptimeVerifier.VERSION(), 1, "version");
        vm.assertEq(uptimeVerifier.N_PUBLIC(), 5, "uptime inputs");
        vm.assertEq(bandwidthVerifier.N_PUBLIC(), 6, "bandwidth inputs");
        vm.assertEq(coverageVerifier.N_PUBLIC(), 6, "coverage inputs");
    }

    function assertKeccak(string memory have, string memory want) internal pure {
        vm.assertEq(keccak256(bytes(have)), keccak256(bytes(want)), want);
    }

    function test_valid_proofs_verify() public view {
        for (uint256 i; i < 60; i++) {
            (uint256[8] memory p, uint256[5] memory x) = up(i);
            vm.assertTrue(uptimeVerifier.verifyProof(p, x), "uptime");
        }
        for (uint256 i; i < 3; i++) {
            (uint256[8] memory p, uint256[6] memory x) = six(claimAt("bandwidth", i));
            vm.assertTrue(bandwidthVerifier.verifyProof(p, x), "bandwidth");
            (p, x) = six(claimAt("coverage", i));
            vm.assertTrue(coverageVerifier.verifyProof(p, x), "coverage");
        }
        // The refused claims are refused by the reward contract, not the verifier.
        string[6] memory names = [
            "zeroReward",
            "version2",
            "wrongPolicy",
            "wrongBeacon",
            "unpublishedEpoch",
            "unregisteredDevice"
        ];
        for (uint256 i; i < names.length; i++) {
            (uint256[8] memory p, uint256[5] memory x) = five(bad(names[i]));
            vm.assertTrue(uptimeVerifier.verifyProof(p, x), names[i]);
        }
    }

    // ------------------------------------------------------------------
    // Gas: at most 181,150 + 6,150 * nPublic + 10,000, as forge measures the
    // verifier's call frame.

    function test_gas_verify_uptime() public {
        vm.pauseGasMetering();
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        vm.resumeGasMetering();
        uptimeVerifier.verifyProof(p, x);
        checkGas("uptime (5 inputs)", 5);
    }

    function test_gas_verify_bandwidth() public {
        vm.pauseGasMetering();
        (uint256[8] memory p, uint256[6] memory x) = six(claimAt("bandwidth", 0));
        vm.resumeGasMetering();
        bandwidthVerifier.verifyProof(p, x);
        checkGas("bandwidth (6 inputs)", 6);
    }

    function test_gas_verify_coverage() public {
        vm.pauseGasMetering();
        (uint256[8] memory p, uint256[6] memory x) = six(claimAt("coverage", 0));
        vm.resumeGasMetering();
        coverageVerifier.verifyProof(p, x);
        checkGas("coverage (6 inputs)", 6);
    }

    function checkGas(string memory what, uint256 nPublic) internal {
        uint256 used = vm.lastCallGas().gasTotalUsed;
        emit log_named_uint(string.concat("verifyProof gas, ", what), used);
        emit log_named_uint("floor (181,150 + 6,150 * nPublic)", floorGas(nPublic));
        vm.assertLe(used, floorGas(nPublic) + SLACK, "verifier over its gas bound");
    }

    // ------------------------------------------------------------------
    // Wrong proofs: InvalidProof.

    function test_tampered_input_reverts_InvalidProof() public {
        for (uint256 j; j < 5; j++) {
            (uint256[8] memory p, uint256[5] memory x) = up(0);
            x[j] = x[j] == 0 ? 1 : x[j] - 1;
            vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
            uptimeVerifier.verifyProof(p, x);
        }
    }

    function testFuzz_other_device_reverts_InvalidProof(uint256 deviceId) public {
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        deviceId = deviceId % R;
        vm.assume(deviceId != x[1]);
        x[1] = deviceId;
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);
    }

    function test_proof_for_other_inputs_reverts_InvalidProof() public {
        (uint256[8] memory p,) = up(0);
        (, uint256[5] memory x) = up(1);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);
    }

    function test_proof_under_other_key_reverts_InvalidProof() public {
        (uint256[8] memory p, uint256[6] memory x) = six(claimAt("bandwidth", 0));
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        coverageVerifier.verifyProof(p, x);
    }

    function test_swapped_or_negated_points_revert_InvalidProof() public {
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        (p[0], p[1], p[6], p[7]) = (p[6], p[7], p[0], p[1]);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);

        (p, x) = up(0);
        p[1] = Q - p[1]; // -A
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);
    }

    function test_points_at_infinity_revert_InvalidProof() public {
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        (p[0], p[1]) = (0, 0);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);

        (p, x) = up(0);
        (p[6], p[7]) = (0, 0);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof(p, x);
    }

    /// A failing precompile consumes the gas it was given (all but 1/64 of
    /// the verifier's), so each call gets a bounded budget here, as the
    /// reward contract gives it (`verifyGas`).
    function test_points_off_curve_revert_InvalidProof() public {
        // (1, 2) generates G1 (y^2 = x^3 + 3); (1, 3) is not on the curve.
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        (p[0], p[1]) = (1, 3);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof{gas: VERIFY_GAS}(p, x);

        (p, x) = up(0);
        (p[6], p[7]) = (1, 3);
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof{gas: VERIFY_GAS}(p, x);

        (p, x) = up(0);
        p[5] = addmod(p[5], 1, Q); // B.y.re + 1: off the twist
        vm.expectRevert(TestUptimeVerifier.InvalidProof.selector);
        uptimeVerifier.verifyProof{gas: VERIFY_GAS}(p, x);
    }

    // ------------------------------------------------------------------
    // Malformed proofs and inputs.

    function test_coordinate_not_below_q_reverts_MalformedProof() public {
        for (uint256 k; k < 8; k++) {
            (uint256[8] memory p, uint256[5] memory x) = up(0);
            p[k] += Q; // the same residue, not canonical
            vm.expectRevert(TestUptimeVerifier.MalformedProof.selector);
            uptimeVerifier.verifyProof(p, x);
        }
        (uint256[8] memory p2, uint256[5] memory x2) = up(0);
        p2[3] = Q;
        vm.expectRevert(TestUptimeVerifier.MalformedProof.selector);
        uptimeVerifier.verifyProof(p2, x2);
    }

    function test_input_not_below_r_reverts_MalformedInput() public {
        for (uint256 j; j < 5; j++) {
            (uint256[8] memory p, uint256[5] memory x) = up(0);
            x[j] += R; // the same field element, not canonical
            vm.expectRevert(TestUptimeVerifier.MalformedInput.selector);
            uptimeVerifier.verifyProof(p, x);
        }
        (uint256[8] memory p2, uint256[5] memory x2) = up(0);
        x2[2] = R;
        vm.expectRevert(TestUptimeVerifier.MalformedInput.selector);
        uptimeVerifier.verifyProof(p2, x2);
        x2[2] = type(uint256).max;
        vm.expectRevert(TestUptimeVerifier.MalformedInput.selector);
        uptimeVerifier.verifyProof(p2, x2);
    }

    function test_short_calldata_reverts() public view {
        (uint256[8] memory p, uint256[5] memory x) = up(0);
        bytes memory data = abi.encodeCall(TestUptimeVerifier.verifyProof, (p, x));
        assembly {
            mstore(data, sub(mload(data), 32)) // drop the last input
        }
        (bool ok,) = address(uptimeVerifier).staticcall(data);
        vm.assertFalse(ok, "short calldata accepted");
    }
}
