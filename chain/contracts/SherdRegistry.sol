// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS} from "./BLS.sol";

/// @title Sherd's verification channel
/// @notice Who the storage nodes are (stake, BLS key proven by possession, endpoint), which
/// datasets exist (root, size, code, fee, node set fixed at registration), and which are
/// certified: an aggregate BLS signature of a quorum of the dataset's nodes over
///   keccak256("SHERD_ATTESTATION_V1" ‖ chainid ‖ address(this) ‖ root),
/// checked here with the EIP-2537 precompiles. Binding chain id and this address means a
/// certificate cannot be replayed on another chain or deployment.
contract SherdRegistry {
    string private constant SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    string private constant POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    bytes private constant ATTESTATION_DOMAIN = "SHERD_ATTESTATION_V1";

    struct Node {
        BLS.G1Point key;
        address operator;
        uint96 stake;
        uint64 exitAt;
        bool active;
        string endpoint;
    }

    /// @dev A snapshot of the active nodes, in placement order, with the sum of their keys.
    struct NodeSet {
        uint32[] members;
        BLS.G1Point totalKey;
    }

    struct Dataset {
        address owner;
        uint64 size;
        uint16 k;
        uint16 m;
        uint32 nodeSet;
        uint16 signers;
        bool certified;
        uint128 fee;
    }

    uint256 public immutable minStake;
    uint256 public immutable exitDelay;
    uint256 public immutable feePerByte;

    Node[] private nodes;
    mapping(bytes32 keyHash => uint256 idPlusOne) private nodeByKey;
    uint32[] private activeIds;
    mapping(uint32 id => uint256 indexPlusOne) private activeIndex;
    NodeSet[] private nodeSets;
    bool private nodeSetStale = true;
    mapping(bytes32 root => Dataset) private datasets;

    event NodeRegistered(uint32 indexed id, address indexed operator, bytes compressedKey, string endpoint);
    event NodeExitRequested(uint32 indexed id, uint64 exitAt);
    event StakeWithdrawn(uint32 indexed id, address indexed operator, uint256 amount);
    event NodeSetCreated(uint32 indexed id, uint32[] members);
    event DatasetRegistered(bytes32 indexed root, address indexed owner, uint64 size, uint16 k, uint16 m, uint32 nodeSet, uint256 fee);
    event DatasetCertified(bytes32 indexed root, uint32 nodeSet, uint16 signers, bytes signerBitmap);

    error InsufficientStake(uint256 sent, uint256 required);
    error InvalidPublicKey();
    error KeyAlreadyRegistered();
    error InvalidProofOfPossession();
    error UnknownNode(uint32 id);
    error NotOperator(uint32 id, address caller);
    error NodeNotActive(uint32 id);
    error ExitPending(uint64 exitAt);
    error EmptyDataset();
    error InvalidCodeParameters(uint16 k, uint16 m);
    error TooFewNodes(uint256 needed, uint256 active);
    error InsufficientFee(uint256 sent, uint256 required);
    error DatasetAlreadyRegistered(bytes32 root);
    error UnknownDataset(bytes32 root);
    error AlreadyCertified(bytes32 root);
    error BadBitmapLength(uint256 length, uint256 expected);
    error BitmapOutOfRange();
    error BelowQuorum(uint256 signers, uint256 quorum);
    error InvalidSignature();

    constructor(uint256 minStake_, uint256 exitDelay_, uint256 feePerByte_) {
        minStake = minStake_;
        exitDelay = exitDelay_;
        feePerByte = feePerByte_;
    }

    // ---------------------------------------------------------------- nodes

    /// @param publicKey the BLS G1 key, 128 bytes in EIP-2537 encoding
    /// @param proofOfPossession a BLS signature (G2, 256 bytes) of the key's 48-byte compressed form under the PoP DST
    function registerNode(bytes calldata publicKey, bytes calldata proofOfPossession, string calldata endpoint)
        external payable returns (uint32 id)
    {
        if (msg.value < minStake) revert InsufficientStake(msg.value, minStake);
        if (publicKey.length != 128) revert InvalidPublicKey();
        BLS.G1Point memory key = BLS.fromBytes(publicKey);
        if (BLS.isZero(key)) revert InvalidPublicKey();
        bytes32 keyHash = keccak256(publicKey);
        if (nodeByKey[keyHash] != 0) revert KeyAlreadyRegistered();
        bytes memory compressed = BLS.compress(key);
        // The pairing precompile also rejects keys off the curve or outside the subgroup.
        if (!BLS.verify(key, compressed, POP_DST, proofOfPossession)) revert InvalidProofOfPossession();

        id = uint32(nodes.length);
        nodes.push(Node({ key: key, operator: msg.sender, stake: uint96(msg.value), exitAt: 0, active: true, endpoint: endpoint }));
        nodeByKey[keyHash] = uint256(id) + 1;
        activeIds.push(id);
        activeIndex[id] = activeIds.length;
        nodeSetStale = true;
        emit NodeRegistered(id, msg.sender, compressed, endpoint);
    }

    /// @notice Leave: the node stops being placed on new datasets now; its stake can be withdrawn after exitDelay.
    function requestExit(uint32 id) external {
        Node storage node = _node(id);
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        if (!node.active) revert NodeNotActive(id);
        node.active = false;
        node.exitAt = uint64(block.timestamp + exitDelay);
        uint256 index = activeIndex[id] - 1;
        uint32 last = activeIds[activeIds.length - 1];
        activeIds[index] = last;
        activeIndex[last] = index + 1;
        activeIds.pop();
        delete activeIndex[id];
        nodeSetStale = true;
        emit NodeExitRequested(id, node.exitAt);
    }

    function withdrawStake(uint32 id) external {
        Node storage node = _node(id);
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        if (node.active || node.exitAt == 0) revert NodeNotActive(id);
        if (block.timestamp < node.exitAt) revert ExitPending(node.exitAt);
        uint256 amount = node.stake;
        node.stake = 0;
        emit StakeWithdrawn(id, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "SherdRegistry: stake transfer failed");
    }

    function activeNodes() external view returns (uint32[] memory) {
        return activeIds;
    }

    function nodeCount() external view returns (uint256) {
        return nodes.length;
    }

    function getNode(uint32 id) external view returns (
        bytes memory publicKey, address operator, uint256 stake, uint64 exitAt, bool active, string memory endpoint
    ) {
        Node storage node = _node(id);
        BLS.G1Point memory key = node.key;
        return (abi.encode(key.xHi, key.xLo, key.yHi, key.yLo), node.operator, node.stake, node.exitAt, node.active, node.endpoint);
    }

    function nodeSetMembers(uint32 id) external view returns (uint32[] memory) {
        return nodeSets[id].members;
    }

    // ------------------------------------------------------------- datasets

    /// @notice Registers a dataset and pays its storage fee. The current active nodes, in
    /// their current order, become the dataset's node set: placement and certification use it.
    function registerDataset(bytes32 root, uint64 size, uint16 k, uint16 m) external payable returns (uint32 nodeSetId) {
        if (datasets[root].owner != address(0)) revert DatasetAlreadyRegistered(root);
        if (size == 0) revert EmptyDataset();
        if (k == 0 || m == 0 || uint256(k) + m > 256) revert InvalidCodeParameters(k, m);
        if (activeIds.length < uint256(k) + m) revert TooFewNodes(uint256(k) + m, activeIds.length);
        uint256 fee = uint256(size) * feePerByte;
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);
        nodeSetId = _currentNodeSet();
        datasets[root] = Dataset({
            owner: msg.sender, size: size, k: k, m: m, nodeSet: nodeSetId, signers: 0, certified: false, fee: uint128(msg.value)
        });
        emit DatasetRegistered(root, msg.sender, size, k, m, nodeSetId, msg.value);
    }

    /// @notice Records the dataset as certified if a quorum of its node set signed its root.
    /// @param signers bitmap over the node set: bit i (byte i / 8, bit i % 8) = member i signed
    /// @param signature the aggregate BLS signature, G2 in EIP-2537 encoding (256 bytes)
    function certify(bytes32 root, bytes calldata signers, bytes calldata signature) external {
        Dataset storage dataset = datasets[root];
        if (dataset.owner == address(0)) revert UnknownDataset(root);
        if (dataset.certified) revert AlreadyCertified(root);
        NodeSet storage set = nodeSets[dataset.nodeSet];
        uint256 count = set.members.length;
        if (signers.length != (count + 7) / 8) revert BadBitmapLength(signers.length, (count + 7) / 8);
        uint256 signerCount = _countSigners(signers, count);
        uint256 needed = quorum(count, dataset.k, dataset.m);
        if (signerCount < needed) revert BelowQuorum(signerCount, needed);

        BLS.G1Point memory aggregateKey = _aggregateKey(set, signers, signerCount);
        bytes32 message = attestationMessage(root);
        if (!BLS.verify(aggregateKey, abi.encodePacked(message), SIGNATURE_DST, signature)) revert InvalidSignature();

        dataset.certified = true;
        dataset.signers = uint16(signerCount);
        emit DatasetCertified(root, dataset.nodeSet, uint16(signerCount), signers);
    }

    function getDataset(bytes32 root) external view returns (
        bool registered, bool certified, uint16 signers, uint64 size, uint16 k, uint16 m, uint32 nodeSet, address owner, uint256 fee
    ) {
        Dataset storage d = datasets[root];
        return (d.owner != address(0), d.certified, d.signers, d.size, d.k, d.m, d.nodeSet, d.owner, d.fee);
    }

    /// @notice What every node signs for `root` on this chain and deployment.
    function attestationMessage(bytes32 root) public view returns (bytes32) {
        return keccak256(abi.encodePacked(ATTESTATION_DOMAIN, block.chainid, address(this), root));
    }

    /// @notice Signers needed over N nodes with n = k + m: max(k + (N − n), ⌈2N/3⌉), at most N.
    function quorum(uint256 nodeCount_, uint16 k, uint16 m) public pure returns (uint256) {
        uint256 spare = nodeCount_ - (uint256(k) + m);
        uint256 byCode = uint256(k) + spare;
        uint256 byThirds = (2 * nodeCount_ + 2) / 3;
        uint256 q = byCode > byThirds ? byCode : byThirds;
        return q > nodeCount_ ? nodeCount_ : q;
    }

    // -------------------------------------------------------------- internal

    function _node(uint32 id) private view returns (Node storage) {
        if (id >= nodes.length) revert UnknownNode(id);
        return nodes[id];
    }

    function _currentNodeSet() private returns (uint32 id) {
        if (!nodeSetStale) return uint32(nodeSets.length - 1);
        id = uint32(nodeSets.length);
        NodeSet storage set = nodeSets.push();
        BLS.G1Point memory total = nodes[activeIds[0]].key;
        set.members.push(activeIds[0]);
        for (uint256 i = 1; i < activeIds.length; i++) {
            set.members.push(activeIds[i]);
            total = BLS.add(total, nodes[activeIds[i]].key);
        }
        set.totalKey = total;
        nodeSetStale = false;
        emit NodeSetCreated(id, set.members);
    }

    function _countSigners(bytes calldata bitmap, uint256 count) private pure returns (uint256 signerCount) {
        for (uint256 byteIndex = 0; byteIndex < bitmap.length; byteIndex++) {
            uint8 b = uint8(bitmap[byteIndex]);
            for (uint256 bit = 0; bit < 8; bit++) {
                if ((b >> bit) & 1 == 1) {
                    if (byteIndex * 8 + bit >= count) revert BitmapOutOfRange();
                    signerCount++;
                }
            }
        }
    }

    /// @dev Sums whichever side is smaller: the signers' keys, or the stored total minus the
    /// non-signers' keys. Each key costs its storage reads (~8.4k gas cold) and one G1ADD (375).
    function _aggregateKey(NodeSet storage set, bytes calldata bitmap, uint256 signerCount)
        private view returns (BLS.G1Point memory sum)
    {
        uint256 count = set.members.length;
        bool subtract = count - signerCount < signerCount;
        bool started = subtract;
        if (subtract) sum = set.totalKey;
        for (uint256 i = 0; i < count; i++) {
            bool signed = (uint8(bitmap[i / 8]) >> (i % 8)) & 1 == 1;
            if (signed == subtract) continue;
            BLS.G1Point memory key = nodes[set.members[i]].key;
            if (subtract) key = BLS.negate(key);
            if (!started) {
                sum = key;
                started = true;
            } else {
                sum = BLS.add(sum, key);
            }
        }
    }
}
