// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS} from "../BLS.sol";

/// @notice Exposes the BLS library so tests can compare it with @noble/curves. Not deployed by devnets.
contract BLSHarness {
    function hashToG2(bytes calldata message, string calldata dst) external view returns (bytes memory) {
        return BLS.hashToG2(message, dst);
    }

    function expandMessageXmd(bytes calldata message, string calldata dst, uint256 length) external pure returns (bytes memory) {
        return BLS.expandMessageXmd(message, bytes(dst), length);
    }

    function aggregate(bytes[] calldata keys) external view returns (bytes memory) {
        BLS.G1Point memory sum = BLS.fromBytes(keys[0]);
        for (uint256 i = 1; i < keys.length; i++) sum = BLS.add(sum, BLS.fromBytes(keys[i]));
        return abi.encode(sum.xHi, sum.xLo, sum.yHi, sum.yLo);
    }

    function compress(bytes calldata key) external pure returns (bytes memory) {
        return BLS.compress(BLS.fromBytes(key));
    }

    function verify(bytes calldata key, bytes calldata message, string calldata dst, bytes calldata signature)
        external view returns (bool)
    {
        return BLS.verify(BLS.fromBytes(key), message, dst, signature);
    }
}
