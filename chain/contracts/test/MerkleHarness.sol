// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Merkle} from "../Merkle.sol";

/// @notice Exposes the Merkle library so the protocol test vectors can be checked against the Solidity. Not deployed by devnets.
contract MerkleHarness {
    function leaf(bytes calldata commitment, bytes32 shardHash) external pure returns (bytes32) {
        return Merkle.leaf(commitment, shardHash);
    }

    function included(bytes32 root, bytes32 leafHash, uint256 position, uint256 leafCount, bytes32[] calldata proof)
        external pure returns (bool)
    {
        return Merkle.included(root, leafHash, position, leafCount, proof);
    }
}
