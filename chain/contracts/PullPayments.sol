// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Pull payments, shared by the registry and the license registry
/// @notice Money owed is credited to `balanceOf` and paid only when its owner calls `withdraw`:
/// no transfer to an arbitrary address ever runs inside another account's transaction.
abstract contract PullPayments {
    mapping(address account => uint256) public balanceOf;

    event Withdrawn(address indexed account, uint256 amount);

    error NothingToWithdraw();

    /// @notice Pays out the caller's balance.
    function withdraw() external {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "PullPayments: transfer failed");
    }
}
