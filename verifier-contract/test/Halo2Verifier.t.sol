// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";

/// The generated halo2 verifiers (src/generated/halo2, from the committed
/// golden keys prover/golden/halo2/<statement>/verifying_key.bin) on the
/// golden halo2 proofs (test/fixtures/halo2.json, written by
/// prover/halo2/tests/golden.rs): each accepts its proof, refuses another
/// public input and a flipped proof byte, and stays under the contract size
/// limit. The verifiers are compiled with the optimizer off
/// (foundry.toml's `halo2` compiler profile).
contract Halo2VerifierTest is Test {
    string internal constant FIXTURES = "test/fixtures/halo2.json";
    /// EIP-170.
    uint256 internal constant MAX_CODE_SIZE = 24_576;

    string internal json;

    function setUp() public {
        json = vm.readFile(FIXTURES);
    }

    function check(string memory kind) internal {
        string memory name = vm.parseJsonString(json, string.concat(".", kind, ".contract"));
        address verifier = vm.deployCode(string.concat(name, ".sol:", name));
        vm.assertLe(verifier.code.length, MAX_CODE_SIZE, "verifier over the size limit");
        emit log_named_uint(
            string.concat("halo2 verifier runtime bytes, ", kind), verifier.code.length
        );

        bytes memory good = vm.parseJsonBytes(json, string.concat(".", kind, ".verifierCalldata"));
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = verifier.call(good);
        uint256 used = before - gasleft();
        vm.assertTrue(ok, "golden proof refused");
        vm.assertEq(ret.length, 0, "a verifier returns nothing");
        emit log_named_uint(string.concat("halo2 verify gas, ", kind), used);

        (ok,) =
            verifier.call(vm.parseJsonBytes(json, string.concat(".", kind, ".wrongInputCalldata")));
        vm.assertFalse(ok, "another public input accepted");
        (ok,) = verifier.call{gas: 5_000_000}(
            vm.parseJsonBytes(json, string.concat(".", kind, ".flippedProofCalldata"))
        );
        vm.assertFalse(ok, "a flipped proof byte accepted");
        (ok,) = verifier.call(new bytes(0));
        vm.assertFalse(ok, "empty calldata accepted");
    }

    function test_uptime_halo2_verifier() public {
        check("uptime");
    }

    function test_bandwidth_halo2_verifier() public {
        check("bandwidth");
    }

    function test_coverage_halo2_verifier() public {
        check("coverage");
    }
}
