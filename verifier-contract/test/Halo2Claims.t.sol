// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test, Vm} from "./utils/Test.sol";
import {DepinRewards} from "depin/DepinRewards.sol";
import {DepinToken} from "depin/DepinToken.sol";

/// halo2 claims through DepinRewards with the real generated halo2
/// verifiers (src/generated/halo2) and the golden halo2 proofs
/// (test/fixtures/halo2.json): each pays its device once; a replay, an
/// aliased input (`x + r`, which the verifier alone would accept), a
/// tampered proof or reward are refused with their own error; a Groth16
/// claim and a halo2 claim of one device-epoch share the nullifier, so the
/// epoch pays once whichever backend proves it; `setHalo2Statement` takes
/// only a verifier of the kind's input count and version.
contract Halo2ClaimsTest is Test {
    string internal constant HALO2 = "test/fixtures/halo2.json";
    string internal constant GROTH16 = "test/fixtures/golden.json";
    /// The BN254 scalar field modulus.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint32 internal constant VERIFY_GAS = 500_000;

    address internal owner = address(0x0A11CE);
    address internal payout = address(0xD0);
    DepinToken internal token;
    DepinRewards internal rewards;
    string internal json;

    function setUp() public {
        json = vm.readFile(HALO2);
        token = new DepinToken("DePIN Reward", "DPR", owner);
        rewards = new DepinRewards(address(token), owner, 400_000);
        vm.prank(owner);
        token.mint(address(rewards), 1e30);
    }

    function inputs(string memory kind) internal view returns (uint256[] memory) {
        return vm.parseJsonUintArray(json, string.concat(".", kind, ".inputs"));
    }

    function proof(string memory kind) internal view returns (bytes memory) {
        return vm.parseJsonBytes(json, string.concat(".", kind, ".proof"));
    }

    function verifier(string memory kind) internal returns (address) {
        string memory name = vm.parseJsonString(json, string.concat(".", kind, ".contract"));
        return vm.deployCode(string.concat(name, ".sol:", name));
    }

    /// Enables `kind`'s halo2 verifier and everything its golden claim
    /// needs (policy, beacon, registry root, the device's payout address).
    function open(string memory kind, uint8 code) internal returns (uint256[] memory x) {
        x = inputs(kind);
        address v = verifier(kind);
        (uint8 k, uint32 version, uint32 epoch,) = rewards.decodeHeader(x[0]);
        vm.assertEq(k, code, "kind");
        vm.startPrank(owner);
        rewards.setHalo2Statement(code, v, version, VERIFY_GAS);
        rewards.setPolicy(code, x[2], true);
        if (rewards.beaconOf(epoch) == 0) rewards.setBeacon(epoch, x[3]);
        if (code == 2) rewards.setRegistryRoot(x[5], true);
        rewards.registerDevice(x[1], payout);
        vm.stopPrank();
    }

    function paysOnce(string memory kind, uint8 code) internal {
        vm.pauseGasMetering();
        uint256[] memory x = open(kind, code);
        bytes memory p = proof(kind);
        (,,, uint256 reward) = rewards.decodeHeader(x[0]);
        uint256 before = token.balanceOf(payout);
        vm.resumeGasMetering();

        vm.expectEmit(true, true, true, true);
        emit DepinRewards.Claimed(x[1], uint32(x[0] >> 40), payout, code, reward, x[4]);
        rewards.claimHalo2(x, p);
        emit log_named_uint(string.concat("halo2 claim gas, ", kind), vm.lastCallGas().gasTotalUsed);
        vm.assertEq(token.balanceOf(payout) - before, reward, "paid");
        vm.assertTrue(rewards.nullifierUsed(x[4]), "nullifier spent");

        vm.expectRevert(DepinRewards.NullifierUsed.selector);
        rewards.claimHalo2(x, p);
    }

    function test_halo2_uptime_claim_pays_once() public {
        paysOnce("uptime", 1);
    }

    function test_halo2_bandwidth_claim_pays_once() public {
        paysOnce("bandwidth", 2);
    }

    function test_halo2_coverage_claim_pays_once() public {
        paysOnce("coverage", 3);
    }

    /// The fixture's `claimCalldata` (depin_evm::calldata::halo2_claim_calldata,
    /// what GetProof returns) is this very call.
    function test_halo2_claim_calldata_pays() public {
        uint256[] memory x = open("coverage", 3);
        (bool ok,) = address(rewards).call(vm.parseJsonBytes(json, ".coverage.claimCalldata"));
        vm.assertTrue(ok, "claimCalldata refused");
        vm.assertTrue(rewards.nullifierUsed(x[4]), "nullifier spent");
    }

    /// The verifier reduces its inputs modulo r, so `nullifier + r` verifies
    /// on its own; the contract refuses it (or the epoch would pay twice).
    function test_aliased_input_refused() public {
        uint256[] memory x = open("uptime", 1);
        bytes memory p = proof("uptime");
        (address v,,,) = rewards.halo2Statements(1);
        x[4] += R;
        (bool ok,) = v.staticcall(abi.encodePacked(x, p));
        vm.assertTrue(ok, "the verifier alone accepts the alias");
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.claimHalo2(x, p);
        x[4] -= R;
        rewards.claimHalo2(x, p);
    }

    function test_tampered_proof_and_reward_refused() public {
        uint256[] memory x = open("uptime", 1);
        bytes memory p = proof("uptime");
        p[100] ^= 0x01;
        vm.expectRevert(DepinRewards.InvalidProof.selector);
        rewards.claimHalo2(x, p);
        p[100] ^= 0x01;
        // A larger reward in the header.
        x[0] += 1 << 72;
        vm.expectRevert(DepinRewards.InvalidProof.selector);
        rewards.claimHalo2(x, p);
        x[0] -= 1 << 72;
        // A proof cut short.
        bytes memory cut = new bytes(p.length - 32);
        for (uint256 i; i < cut.length; i++) {
            cut[i] = p[i];
        }
        vm.expectRevert(DepinRewards.InvalidProof.selector);
        rewards.claimHalo2(x, cut);
        rewards.claimHalo2(x, p);
    }

    /// Each state check refuses before the proof is looked at: the same
    /// errors with a valid and with a flipped proof.
    function test_halo2_claim_checks_the_state_first() public {
        stateChecks(proof("uptime"));
    }

    function test_halo2_claim_checks_the_state_before_the_proof() public {
        bytes memory p = proof("uptime");
        p[100] ^= 0x01;
        stateChecks(p);
    }

    function stateChecks(bytes memory p) internal {
        uint256[] memory x = inputs("uptime");
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.claimHalo2(x, p);
        open("uptime", 1);
        vm.prank(owner);
        rewards.registerDevice(x[1], address(0));
        vm.expectRevert(DepinRewards.DeviceNotRegistered.selector);
        rewards.claimHalo2(x, p);
        vm.prank(owner);
        rewards.setPolicy(1, x[2], false);
        vm.expectRevert(DepinRewards.PolicyNotAccepted.selector);
        rewards.claimHalo2(x, p);
        uint256[] memory short = new uint256[](4);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.claimHalo2(short, p);
        // Disabled again: halo2 claims of the kind are refused.
        vm.prank(owner);
        rewards.setHalo2Statement(1, address(0), 0, 0);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.claimHalo2(x, p);
    }

    /// The golden Groth16 and halo2 proofs of uptime prove the same sample
    /// epoch: the same public inputs, so one nullifier between them.
    function test_one_nullifier_across_backends() public {
        (uint256[] memory x, uint256[8] memory gproof, uint256[] memory gx) = bothBackends();
        rewards.claim(gproof, gx);
        vm.expectRevert(DepinRewards.NullifierUsed.selector);
        rewards.claimHalo2(x, proof("uptime"));
    }

    function test_one_nullifier_across_backends_halo2_first() public {
        (uint256[] memory x, uint256[8] memory gproof, uint256[] memory gx) = bothBackends();
        rewards.claimHalo2(x, proof("uptime"));
        vm.expectRevert(DepinRewards.NullifierUsed.selector);
        rewards.claim(gproof, gx);
    }

    /// Uptime open for both backends; the halo2 inputs, and the golden
    /// Groth16 proof and inputs (checked equal to the halo2 ones).
    function bothBackends()
        internal
        returns (uint256[] memory x, uint256[8] memory gproof, uint256[] memory gx)
    {
        x = open("uptime", 1);
        string memory g = vm.readFile(GROTH16);
        gx = vm.parseJsonUintArray(g, ".uptime.inputs");
        vm.assertEq(gx.length, x.length, "input count");
        for (uint256 i; i < x.length; i++) {
            vm.assertEq(gx[i], x[i], "the backends' public inputs differ");
        }
        uint256[] memory gp = vm.parseJsonUintArray(g, ".uptime.proof");
        for (uint256 k; k < 8; k++) {
            gproof[k] = gp[k];
        }
        address g16 = vm.deployCode("UptimeVerifier.sol:UptimeVerifier");
        (, uint32 version,,) = rewards.decodeHeader(x[0]);
        vm.prank(owner);
        rewards.setStatement(1, g16, version);
    }

    function test_set_halo2_statement_checks_the_verifier() public {
        address uptime = verifier("uptime");
        address bandwidth = verifier("bandwidth");
        vm.startPrank(owner);
        // Five inputs where bandwidth has six.
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setHalo2Statement(2, uptime, 1, VERIFY_GAS);
        vm.expectRevert(DepinRewards.VerifierMismatch.selector);
        rewards.setHalo2Statement(2, bandwidth, 2, VERIFY_GAS);
        vm.expectRevert(DepinRewards.MalformedInput.selector);
        rewards.setHalo2Statement(2, bandwidth, 1, 0);
        vm.expectRevert(DepinRewards.UnknownStatement.selector);
        rewards.setHalo2Statement(4, bandwidth, 1, VERIFY_GAS);
        vm.expectEmit(true, true, true, true);
        emit DepinRewards.Halo2StatementSet(2, bandwidth, 1, VERIFY_GAS);
        rewards.setHalo2Statement(2, bandwidth, 1, VERIFY_GAS);
        vm.stopPrank();
        (address v, uint32 version, uint8 n, uint32 gas) = rewards.halo2Statements(2);
        vm.assertEq(v, bandwidth, "verifier");
        vm.assertEq(version, 1, "version");
        vm.assertEq(n, 6, "inputs");
        vm.assertEq(gas, VERIFY_GAS, "gas");
        vm.expectRevert(DepinRewards.NotOwner.selector);
        rewards.setHalo2Statement(2, address(0), 0, 0);
    }

    /// A verifier given too little gas reverts the claim with
    /// `InsufficientGas`, never refuses a valid proof.
    function test_insufficient_gas_reverts() public {
        uint256[] memory x = open("uptime", 1);
        bytes memory p = proof("uptime");
        vm.expectRevert(DepinRewards.InsufficientGas.selector);
        rewards.claimHalo2{gas: 400_000}(x, p);
        rewards.claimHalo2(x, p);
    }

    function test_batch_pays_the_valid_and_reports_the_rest() public {
        uint256[] memory u = open("uptime", 1);
        uint256[] memory c = open("coverage", 3);
        bytes memory flipped = proof("coverage");
        flipped[64] ^= 0x01;
        DepinRewards.Halo2Claim[] memory claims = new DepinRewards.Halo2Claim[](4);
        claims[0] = DepinRewards.Halo2Claim(u, proof("uptime"));
        claims[1] = DepinRewards.Halo2Claim(u, proof("uptime"));
        claims[2] = DepinRewards.Halo2Claim(c, flipped);
        claims[3] = DepinRewards.Halo2Claim(c, proof("coverage"));
        vm.recordLogs();
        uint256 paid = rewards.claimBatchHalo2(claims);
        vm.assertEq(paid, 2, "paid");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 rejected = keccak256("ClaimRejected(uint256,bytes4)");
        uint256 seen;
        for (uint256 i; i < logs.length; i++) {
            if (logs[i].topics[0] != rejected) continue;
            bytes4 reason = abi.decode(logs[i].data, (bytes4));
            if (uint256(logs[i].topics[1]) == 1) {
                vm.assertEq(bytes32(reason), bytes32(DepinRewards.NullifierUsed.selector), "1");
            } else {
                vm.assertEq(uint256(logs[i].topics[1]), 2, "index");
                vm.assertEq(bytes32(reason), bytes32(DepinRewards.InvalidProof.selector), "2");
            }
            seen++;
        }
        vm.assertEq(seen, 2, "rejections");
        vm.assertTrue(rewards.nullifierUsed(c[4]), "coverage paid");
    }
}
