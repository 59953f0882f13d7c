// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title The fixed FlashLoanArbitrage, deployed by the DR plan's section 5.2 step 3.
/// @notice Same interface as FlashLoanArbitrage; executeArbitrage is now onlyOwner.
contract FlashLoanArbitrageV2 is Ownable, Pausable {
    /// @notice The release, so a runbook can check which contract it talks to.
    string public constant VERSION = "2.0.0";

    /// @notice Total wei each address has deposited.
    mapping(address => uint256) public deposits;

    event Deposited(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event Executed(address indexed target, uint256 value);

    error NothingToWithdraw();
    error TransferFailed(address to, uint256 amount);
    error CallFailed(address target);

    constructor(address initialOwner) Ownable(initialOwner) {}

    receive() external payable {
        _deposit();
    }

    /// @notice Adds the sent wei to the contract's funds.
    function deposit() external payable {
        _deposit();
    }

    /// @notice Runs one leg of an arbitrage; only the owner may.
    function executeArbitrage(address target, uint256 value, bytes calldata data) external onlyOwner whenNotPaused {
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

    /// @notice Sends the whole balance to `to`; allowed while paused.
    function withdraw(address payable to) external onlyOwner {
        uint256 amount = address(this).balance;
        if (amount == 0) revert NothingToWithdraw();
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
        emit Withdrawn(to, amount);
    }

    function _deposit() internal whenNotPaused {
        deposits[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }
}
