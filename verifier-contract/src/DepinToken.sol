// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title DepinToken
/// @notice A minimal ERC-20 (EIP-20) reward token for the demo network: the
/// owner mints, anyone transfers. No hooks, no fees, no rebasing, so the
/// reward contract's payouts are exact.
contract DepinToken {
    /// The caller is not the owner.
    error NotOwner();
    /// The sender's balance is below the amount.
    error InsufficientBalance();
    /// The spender's allowance is below the amount.
    error InsufficientAllowance();
    /// Transfers and mints to the zero address are refused.
    error ZeroAddress();

    /// EIP-20 `Transfer` (also emitted by `mint`, from the zero address).
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// EIP-20 `Approval`.
    event Approval(address indexed owner, address indexed spender, uint256 value);
    /// The owner changed.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// Token name.
    string public name;
    /// Token symbol.
    string public symbol;
    /// Decimals of the display unit.
    uint8 public constant decimals = 18;

    /// Tokens in existence.
    uint256 public totalSupply;
    /// Balance of each holder.
    mapping(address => uint256) public balanceOf;
    /// Allowance of each spender for each holder.
    mapping(address => mapping(address => uint256)) public allowance;
    /// The only account that mints.
    address public owner;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param owner_ The minter.
    constructor(string memory name_, string memory symbol_, address owner_) {
        if (owner_ == address(0)) revert ZeroAddress();
        name = name_;
        symbol = symbol_;
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    /// @notice Moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to` with the caller's allowance
    /// (an allowance of `type(uint256).max` is never decreased).
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) revert InsufficientAllowance();
            unchecked {
                allowance[from][msg.sender] = allowed - amount;
            }
        }
        _transfer(from, to, amount);
        return true;
    }

    /// @notice Lets `spender` move up to `amount` of the caller's tokens.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Creates `amount` tokens for `to` (owner only).
    function mint(address to, uint256 amount) external {
        if (msg.sender != owner) revert NotOwner();
        if (to == address(0)) revert ZeroAddress();
        totalSupply += amount;
        unchecked {
            // Cannot overflow: no balance exceeds totalSupply.
            balanceOf[to] += amount;
        }
        emit Transfer(address(0), to, amount);
    }

    /// @notice Hands the minter role to `newOwner`.
    function transferOwnership(address newOwner) external {
        if (msg.sender != owner) revert NotOwner();
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _transfer(address from, address to, uint256 amount) private {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = balanceOf[from];
        if (balance < amount) revert InsufficientBalance();
        unchecked {
            // Cannot overflow: the sum of balances is totalSupply.
            balanceOf[from] = balance - amount;
            balanceOf[to] += amount;
        }
        emit Transfer(from, to, amount);
    }
}
