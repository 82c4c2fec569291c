// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {DepinToken} from "depin/DepinToken.sol";

contract DepinTokenTest is Test {
    DepinToken internal token;
    address internal owner = address(0x0A11CE);
    address internal alice = address(0xA);
    address internal bob = address(0xB);

    function setUp() public {
        token = new DepinToken("DePIN Reward", "DPR", owner);
        vm.prank(owner);
        token.mint(alice, 100);
    }

    function test_metadata_and_mint() public view {
        vm.assertEq(token.decimals(), 18, "decimals");
        vm.assertEq(keccak256(bytes(token.symbol())), keccak256("DPR"), "symbol");
        vm.assertEq(token.totalSupply(), 100, "supply");
        vm.assertEq(token.balanceOf(alice), 100, "balance");
    }

    function test_only_owner_mints() public {
        vm.prank(alice);
        vm.expectRevert(DepinToken.NotOwner.selector);
        token.mint(alice, 1);
        vm.prank(owner);
        vm.expectRevert(DepinToken.ZeroAddress.selector);
        token.mint(address(0), 1);
    }

    function test_transfer() public {
        vm.expectEmit(true, true, true, true);
        emit DepinToken.Transfer(alice, bob, 40);
        vm.prank(alice);
        vm.assertTrue(token.transfer(bob, 40), "transfer");
        vm.assertEq(token.balanceOf(alice), 60, "alice");
        vm.assertEq(token.balanceOf(bob), 40, "bob");
        vm.prank(alice);
        vm.expectRevert(DepinToken.InsufficientBalance.selector);
        token.transfer(bob, 61);
        vm.prank(alice);
        vm.expectRevert(DepinToken.ZeroAddress.selector);
        token.transfer(address(0), 1);
    }

    function test_approve_and_transfer_from() public {
        vm.prank(alice);
        token.approve(bob, 30);
        vm.startPrank(bob);
        vm.expectRevert(DepinToken.InsufficientAllowance.selector);
        token.transferFrom(alice, bob, 31);
        token.transferFrom(alice, bob, 30);
        vm.stopPrank();
        vm.assertEq(token.allowance(alice, bob), 0, "allowance spent");
        vm.assertEq(token.balanceOf(bob), 30, "bob");
        vm.prank(alice);
        token.approve(bob, type(uint256).max);
        vm.prank(bob);
        token.transferFrom(alice, bob, 10);
        vm.assertEq(token.allowance(alice, bob), type(uint256).max, "infinite allowance");
    }

    function test_transfer_ownership() public {
        vm.prank(owner);
        token.transferOwnership(alice);
        vm.prank(alice);
        token.mint(bob, 1);
        vm.prank(owner);
        vm.expectRevert(DepinToken.NotOwner.selector);
        token.mint(bob, 1);
    }
}
