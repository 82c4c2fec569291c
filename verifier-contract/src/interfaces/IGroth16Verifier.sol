// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title IGroth16Verifier
/// @notice What the reward contract needs from a generated verifier
/// (prover/templates/Groth16Verifier.sol.tpl). `verifyProof` itself takes
/// `uint256[N_PUBLIC]` and so has one selector per input count; the reward
/// contract computes it from `N_PUBLIC`. The generated halo2 verifiers
/// (depin-halo2-prover) declare the same three constants beside their
/// fallback, and the reward contract checks them the same way.
interface IGroth16Verifier {
    /// The statement name the key proves (`uptime`, `bandwidth`, ...).
    function STATEMENT() external view returns (string memory);
    /// The statement version the key was made for.
    function VERSION() external view returns (uint32);
    /// Number of public inputs.
    function N_PUBLIC() external view returns (uint256);
}
