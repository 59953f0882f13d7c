// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title A stand-in for Alpha-Orion's FlashLoanArbitrage contract, for tests and drills.
/// @notice It holds ETH and ERC-20 tokens; its owner can pause it and withdraw every
/// asset to the cold wallet fixed at deployment.
/// The deliberate "vulnerability" the DR plan's section 5.2 reacts to: anyone may
/// make the contract call any target with any value (executeArbitrage has no onlyOwner).
contract FlashLoanArbitrage is Ownable, Pausable {
    using SafeERC20 for IERC20;

    /// @notice The cold wallet (the multisig) every withdrawal goes to, fixed at deployment.
    address payable public immutable coldWallet;

    /// @notice Total wei each address has deposited.
    mapping(address => uint256) public deposits;

    event Deposited(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event TokenWithdrawn(address indexed token, address indexed to, uint256 amount);
    event Executed(address indexed target, uint256 value);

    error NothingToWithdraw();
    error TransferFailed(address to, uint256 amount);
    error CallFailed(address target);
    error NoColdWallet();

    constructor(address initialOwner, address payable coldWallet_) Ownable(initialOwner) {
        if (coldWallet_ == address(0)) revert NoColdWallet();
        coldWallet = coldWallet_;
    }

    receive() external payable {
        _deposit();
    }

    /// @notice Adds the sent wei to the contract's funds.
    function deposit() external payable {
        _deposit();
    }

    /// @notice Runs one leg of an arbitrage. BUG: missing onlyOwner.
    function executeArbitrage(address target, uint256 value, bytes calldata data) external whenNotPaused {
        (bool ok, ) = target.call{value: value}(data);
        if (!ok) revert CallFailed(target);
        emit Executed(target, value);
    }

    /// @notice Stops deposits and arbitrage; the emergency brake.
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Lifts the emergency brake.
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @notice Sends the whole ether balance to the cold wallet; allowed while paused,
    /// which is the emergency path (the DR plan's `withdraw()`).
    function withdraw() external onlyOwner {
        uint256 amount = address(this).balance;
        if (amount == 0) revert NothingToWithdraw();
        (bool ok, ) = coldWallet.call{value: amount}("");
        if (!ok) revert TransferFailed(coldWallet, amount);
        emit Withdrawn(coldWallet, amount);
    }

    /// @notice Sends the contract's whole balance of `token` to the cold wallet;
    /// allowed while paused.
    function withdrawToken(IERC20 token) external onlyOwner {
        uint256 amount = token.balanceOf(address(this));
        if (amount == 0) revert NothingToWithdraw();
        token.safeTransfer(coldWallet, amount);
        emit TokenWithdrawn(address(token), coldWallet, amount);
    }

    /// @notice Sends the contract's whole balance of each of `tokens` to the cold
    /// wallet, skipping those it holds none of; reverts when it holds none of any.
    function withdrawTokens(IERC20[] calldata tokens) external onlyOwner {
        bool any;
        for (uint256 i = 0; i < tokens.length; i++) {
            uint256 amount = tokens[i].balanceOf(address(this));
            if (amount == 0) continue;
            any = true;
            tokens[i].safeTransfer(coldWallet, amount);
            emit TokenWithdrawn(address(tokens[i]), coldWallet, amount);
        }
        if (!any) revert NothingToWithdraw();
    }

    function _deposit() internal whenNotPaused {
        deposits[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }
}
