// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Sherd's shard tree (docs/protocol.md, "Merkle tree"): leaf = keccak256(0x00 ‖
/// commitment ‖ sha256), inner node = keccak256(0x01 ‖ left ‖ right). A level with an odd
/// number of nodes pairs its last node with the zero hash (32 zero bytes), at every level; the
/// tree is not padded to a power of two with hashes of empty subtrees. A proof is the sibling
/// list from the bottom and has exactly the tree's depth, ⌈log2(leafCount)⌉.
library Merkle {
    function leaf(bytes calldata commitment, bytes32 shardHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), commitment, shardHash));
    }

    function depth(uint256 leafCount) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < leafCount) d++;
    }

    /// @dev Whether `leafHash` sits at `position` of a tree of `leafCount` leaves under `root`.
    function included(bytes32 root, bytes32 leafHash, uint256 position, uint256 leafCount, bytes32[] calldata proof)
        internal pure returns (bool)
    {
        if (position >= leafCount || proof.length != depth(leafCount)) return false;
        bytes32 node = leafHash;
        for (uint256 d = 0; d < proof.length; d++) {
            node = (position >> d) & 1 == 0
                ? keccak256(abi.encodePacked(bytes1(0x01), node, proof[d]))
                : keccak256(abi.encodePacked(bytes1(0x01), proof[d], node));
        }
        return node == root;
    }
}
