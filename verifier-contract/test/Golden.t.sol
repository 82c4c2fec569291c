// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {DepinRewards} from "depin/DepinRewards.sol";
import {DepinToken} from "depin/DepinToken.sol";

interface IVerifier5 {
    function verifyProof(uint256[8] calldata proof, uint256[5] calldata input)
        external
        view
        returns (bool);
}

interface IVerifier6 {
    function verifyProof(uint256[8] calldata proof, uint256[6] calldata input)
        external
        view
        returns (bool);
}

/// The statements' real verifiers (src/generated, from the committed golden
/// keys prover/golden/v1/<statement>/verifying_key.bin) on the golden proofs
/// (test/fixtures/golden.json, written from proof.bin by
/// prover/evm/tests/solidity.rs): each verifies, within the gas bound, and pays
/// through DepinRewards.
contract GoldenTest is Test {
    string internal constant GOLDEN = "test/fixtures/golden.json";
    uint256 internal constant SLACK = 10_000;

    string internal json;

    function setUp() public {
        json = vm.readFile(GOLDEN);
    }

    function load(string memory kind)
        internal
        returns (uint256[8] memory proof, uint256[] memory inputs)
    {
        uint256[] memory p = vm.parseJsonUintArray(json, string.concat(".", kind, ".proof"));
        for (uint256 k; k < 8; k++) {
            proof[k] = p[k];
        }
        inputs = vm.parseJsonUintArray(json, string.concat(".", kind, ".inputs"));
    }

    /// The generated verifier `src/generated/<Name>Verifier.sol`, deployed
    /// from its artifact (so this file compiles before it exists).
    function deploy(string memory name) internal returns (address) {
        return vm.deployCode(string.concat(name, "Verifier.sol:", name, "Verifier"));
    }

    function verify(address verifier, uint256[8] memory proof, uint256[] memory inputs)
        internal
        view
    {
        if (inputs.length == 5) {
            uint256[5] memory x;
            for (uint256 k; k < 5; k++) {
                x[k] = inputs[k];
            }
            vm.assertTrue(IVerifier5(verifier).verifyProof(proof, x), "verify");
        } else {
            uint256[6] memory x;
            for (uint256 k; k < 6; k++) {
                x[k] = inputs[k];
            }
            vm.assertTrue(IVerifier6(verifier).verifyProof(proof, x), "verify");
        }
    }

    function check(string memory kind, string memory name, uint8 code) internal {
        vm.pauseGasMetering();
        (uint256[8] memory proof, uint256[] memory inputs) = load(kind);
        address verifier = deploy(name);
        vm.resumeGasMetering();

        verify(verifier, proof, inputs);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        uint256 floor = 181_150 + 6_150 * inputs.length;
        emit log_named_uint(string.concat("golden verifyProof gas, ", kind), used);
        vm.assertLe(used, floor + SLACK, "verifier over its gas bound");

        // A tampered input is refused.
        vm.pauseGasMetering();
        inputs[1] ^= 1;
        vm.expectRevert(DepinRewards.InvalidProof.selector);
        this.verifyExternal(verifier, proof, inputs);
        inputs[1] ^= 1;

        // The golden claim pays through the reward contract.
        address owner = address(0x0A11CE);
        DepinToken token = new DepinToken("DePIN Reward", "DPR", owner);
        DepinRewards rewards = new DepinRewards(address(token), owner, 400_000);
        (uint8 k, uint32 version, uint32 epoch, uint256 reward) = rewards.decodeHeader(inputs[0]);
        vm.assertEq(k, code, "kind");
        vm.startPrank(owner);
        token.mint(address(rewards), reward);
        rewards.setStatement(code, verifier, version);
        rewards.setPolicy(code, inputs[2], true);
        rewards.setBeacon(epoch, inputs[3]);
        if (code == 2) rewards.setRegistryRoot(inputs[5], true);
        rewards.registerDevice(inputs[1], address(0xD0));
        vm.stopPrank();
        vm.resumeGasMetering();
        rewards.claim(proof, inputs);
        emit log_named_uint(
            string.concat("golden claim gas, ", kind), vm.lastCallGas().gasTotalUsed
        );
        vm.assertEq(token.balanceOf(address(0xD0)), reward, "paid");
        vm.expectRevert(DepinRewards.NullifierUsed.selector);
        rewards.claim(proof, inputs);
    }

    function verifyExternal(address verifier, uint256[8] memory proof, uint256[] memory inputs)
        external
        view
    {
        verify(verifier, proof, inputs);
    }

    function test_golden_uptime() public {
        check("uptime", "Uptime", 1);
    }

    function test_golden_bandwidth() public {
        check("bandwidth", "Bandwidth", 2);
    }

    function test_golden_coverage() public {
        check("coverage", "Coverage", 3);
    }
}
