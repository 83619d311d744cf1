// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BLS} from "./BLS.sol";
import {Merkle} from "./Merkle.sol";
import {PullPayments} from "./PullPayments.sol";
import {IDatasetTerms, SherdLicenses} from "./SherdLicenses.sol";

/// @title Sherd's verification channel
/// @notice Who the storage nodes are (stake, BLS key proven by possession, endpoint), which
/// datasets exist (content root, size, code, fee, node set fixed at registration), and which
/// are certified: an aggregate BLS signature of a quorum of the dataset's nodes over
///   keccak256("SHERD_ATTESTATION_V1" ‖ chainid ‖ address(this) ‖ datasetId),
/// checked here with the EIP-2537 precompiles. Binding chain id and this address means a
/// certificate cannot be replayed on another chain or deployment.
///
/// Storage is then proven every epoch (epochBlocks blocks): each member of a certified
/// dataset's node set gets one challenge, a (shard, z) drawn from the hash of the epoch's
/// first block over the shards placed on it. It answers within challengeWindow blocks with
/// the shard's commitment, its inclusion proof under the content root, and y = p(z) with a KZG
/// opening proof, checked by the EIP-4844 point-evaluation precompile (0x0a). An answer
/// earns the member its share of the epoch's part of the storage fee; a challenge left
/// unanswered can be reported by anyone after the window, which slashes the node's stake,
/// pays the reporter a share of the slash and refunds the member's reward to the owner.
/// docs/economics.md gives the numbers and the reasoning.
///
/// Churn: when a member of a dataset's node set has left (exited, or slashed below the
/// minimum stake), anyone may call replaceMember(id, slot). The contract picks an active
/// non-member deterministically (the first, walking the active list from index
/// keccak256(id, slot, previous block's hash) mod count, that holds no slot of the dataset)
/// and records the slot as repairing: from the next epoch its challenges pause until the
/// first epoch after repairWindow blocks (the leaving member keeps the epochs before). The
/// replacement rebuilds the slot's shards from the other members and confirms with a BLS
/// signature over the dataset's attestation message; from then on it is challenged for the
/// slot and earns its rewards. A replacement that does not confirm in time is challenged
/// again, and whoever replaces it then has it slashed. Placement is by slot, so nothing else moves.
///
/// A dataset is known by its id, keccak256("SHERD_DATASET_V1" ‖ owner ‖ contentRoot), which the
/// contract derives from msg.sender: whoever sees a content root first can register it only
/// under its own id, never block the owner's (docs/protocol.md, "Dataset id").
contract SherdRegistry is IDatasetTerms, PullPayments {
    string private constant SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    string private constant POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    bytes private constant ATTESTATION_DOMAIN = "SHERD_ATTESTATION_V1";
    bytes private constant DATASET_DOMAIN = "SHERD_DATASET_V1";
    /// @dev The BLS12-381 scalar field order: z and y are field elements below it.
    uint256 private constant BLS_MODULUS = 52435875175126190479447740508185965837690552500527637822603658699938581184513;
    uint256 private constant FIELD_ELEMENTS_PER_BLOB = 4096;
    address private constant POINT_EVALUATION = address(0x0a);
    /// @dev 4096 field elements × 31 payload bytes: what one blob of a segment carries.
    uint256 private constant PAYLOAD_BYTES_PER_BLOB = 126_976;

    struct Node {
        BLS.G1Point key;
        address operator;
        uint96 stake;
        uint64 exitAt;
        bool active;
        /// @dev X25519 public key that dataset key shares are encrypted to (docs/licensing.md).
        bytes32 encryptionKey;
        string endpoint;
    }

    /// @dev A snapshot of the active nodes, in placement order, with the sum of their keys.
    struct NodeSet {
        uint32[] members;
        BLS.G1Point totalKey;
    }

    struct Dataset {
        /// @dev The Merkle root over the shard leaves (docs/protocol.md).
        bytes32 contentRoot;
        address owner;
        uint64 size;
        uint16 k;
        uint16 m;
        uint32 nodeSet;
        uint16 signers;
        bool certified;
        uint128 fee;
        /// @dev Epochs paid for, and the first one (set at certification: the next epoch).
        uint32 epochs;
        uint32 startEpoch;
    }

    /// @dev What a node has earned and lost through challenges.
    struct Earnings {
        uint128 unclaimed;
        uint128 earned;
        uint128 slashed;
        uint32 answered;
        uint32 missed;
    }

    /// @dev What `getDataset` returns: the registration, its certification and its storage term.
    struct DatasetInfo {
        bool registered;
        bool certified;
        uint16 signers;
        uint64 size;
        uint16 k;
        uint16 m;
        uint32 nodeSet;
        address owner;
        uint256 fee;
        bytes32 contentRoot;
        /// @dev Epochs paid for; the first challenged one (0 until certified); segments of the dataset.
        uint32 epochs;
        uint32 startEpoch;
        uint256 segments;
    }

    enum SlotState {
        Original,  // held by the node set's member at registration
        Repairing, // a replacement is rebuilding the slot; challenges paused until challengedFrom
        Confirmed  // the replacement rebuilt the slot and signed for it
    }

    /// @dev A slot of a dataset whose member was replaced (all zero while the original holds it),
    /// with one step of history: the previous holder still answers for the epochs before the
    /// replacement, so leaving does not wipe out challenges it already missed.
    struct Slot {
        uint32 nodeIdPlusOne;
        SlotState state;
        /// @dev The last block in which a repairing replacement may confirm.
        uint64 repairDeadline;
        /// @dev The slot's first challenged epoch under its current member.
        uint32 challengedFrom;
        uint32 previousNodeIdPlusOne;
        /// @dev Epochs before this one are the previous holder's; from it to challengedFrom, none.
        uint32 replacedEpoch;
        /// @dev The previous holder's own first challenged epoch (0 for an original member).
        uint32 previousFrom;
    }

    /// @dev What `datasetMembers` returns per slot.
    struct MemberInfo {
        uint32 nodeId;
        SlotState state;
        uint64 repairDeadline;
        uint32 challengedFrom;
        bool active;
    }

    /// @dev What `getNode` returns; the key in EIP-2537 encoding (128 bytes).
    struct NodeInfo {
        bytes publicKey;
        address operator;
        uint256 stake;
        uint64 exitAt;
        bool active;
        bytes32 encryptionKey;
        string endpoint;
    }

    enum ChallengeStatus {
        None,     // no challenge: dataset not certified, epoch outside its term, or no shard on the member
        Pending,  // the epoch's first block is not mined yet
        Open,     // drawn and answerable now
        Answered,
        Missed,   // reported after the window closed; the node was slashed
        Expired   // the window closed unanswered; not reported yet
    }

    struct Challenge {
        ChallengeStatus status;
        uint32 nodeId;
        uint64 segment;
        uint16 index;
        bytes32 z;
        /// @dev Answers are accepted in blocks opensAfter + 1 ... closesAt.
        uint64 opensAfter;
        uint64 closesAt;
        uint256 reward;
    }

    /// @dev One answer: the challenged shard's commitment and SHA-256, the inclusion proof of
    /// their leaf under the root (siblings from the bottom), z, y = p(z), and the KZG proof.
    struct Answer {
        bytes32 datasetId;
        uint32 epoch;
        uint32 member;
        bytes commitment;
        bytes32 shardHash;
        bytes32[] inclusionProof;
        bytes32 z;
        bytes32 y;
        bytes kzgProof;
    }

    uint256 public immutable minStake;
    uint256 public immutable exitDelay;
    uint256 public immutable feePerByteEpoch;
    uint256 public immutable epochBlocks;
    uint256 public immutable challengeWindow;
    uint256 public immutable slashAmount;
    uint256 public immutable reporterShareBps;
    uint256 public immutable genesisBlock;
    /// @notice Blocks a replacement has to rebuild its slot and confirm; its challenges pause meanwhile.
    uint256 public immutable repairWindow;
    /// @notice The license registry of this deployment's datasets, created with it.
    SherdLicenses public immutable licenses;

    Node[] private nodes;
    mapping(bytes32 keyHash => uint256 idPlusOne) private nodeByKey;
    uint32[] private activeIds;
    mapping(uint32 id => uint256 indexPlusOne) private activeIndex;
    NodeSet[] private nodeSets;
    bool private nodeSetStale = true;
    mapping(bytes32 datasetId => Dataset) private datasets;
    /// @dev keccak256(datasetId, epoch, member) => Answered or Missed, once settled.
    mapping(bytes32 challengeKey => ChallengeStatus) private settled;
    mapping(uint32 nodeId => Earnings) private earnings;
    mapping(bytes32 datasetId => mapping(uint32 slot => Slot)) private slots;
    // balanceOf (PullPayments): owners' refunds of missed rewards and reporters' shares of slashes.
    /// @dev Slashed stake not paid to reporters: locked here for good.
    uint256 public burned;

    event NodeRegistered(uint32 indexed id, address indexed operator, bytes compressedKey, bytes32 encryptionKey, string endpoint);
    event NodeExitRequested(uint32 indexed id, uint64 exitAt);
    event StakeWithdrawn(uint32 indexed id, address indexed operator, uint256 amount);
    event NodeSetCreated(uint32 indexed id, uint32[] members);
    event DatasetRegistered(
        bytes32 indexed datasetId, bytes32 indexed contentRoot, address indexed owner, uint64 size, uint16 k, uint16 m, uint32 nodeSet,
        uint256 fee, uint32 epochs
    );
    event DatasetCertified(bytes32 indexed datasetId, uint32 nodeSet, uint16 signers, bytes signerBitmap, uint32 startEpoch);
    event ChallengeAnswered(bytes32 indexed datasetId, uint32 indexed epoch, uint32 member, uint32 indexed nodeId, uint256 reward);
    event ChallengeMissed(
        bytes32 indexed datasetId, uint32 indexed epoch, uint32 member, uint32 indexed nodeId, uint256 slashed, address reporter
    );
    event MemberReplaced(
        bytes32 indexed datasetId, uint32 slot, uint32 previousNodeId, uint32 indexed nodeId, uint64 repairDeadline, uint32 challengedFrom
    );
    event ReplacementConfirmed(bytes32 indexed datasetId, uint32 slot, uint32 indexed nodeId);
    event RepairLapsed(bytes32 indexed datasetId, uint32 slot, uint32 indexed nodeId, uint256 slashed, address reporter);
    event RewardsClaimed(uint32 indexed id, address indexed operator, uint256 amount);

    error InsufficientStake(uint256 sent, uint256 required);
    error InvalidPublicKey();
    error InvalidEncryptionKey();
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
    error DatasetAlreadyRegistered(bytes32 datasetId);
    error UnknownDataset(bytes32 datasetId);
    error AlreadyCertified(bytes32 datasetId);
    error BadBitmapLength(uint256 length, uint256 expected);
    error BitmapOutOfRange();
    error BelowQuorum(uint256 signers, uint256 quorum);
    error InvalidSignature();
    error InvalidEpochParameters();
    error NoEpochs();
    error NoChallenge(bytes32 datasetId, uint32 epoch, uint32 member);
    error ChallengeNotOpen(uint256 opensAfter);
    error ChallengeClosed(uint256 closedAt);
    error ChallengeStillOpen(uint256 closesAt);
    error ChallengeAlreadySettled(ChallengeStatus status);
    error WrongPoint(bytes32 expected);
    error BadCommitmentLength(uint256 length);
    error BadInclusionProof();
    error InvalidOpeningProof();
    error NotCertified(bytes32 datasetId);
    error UnknownSlot(uint32 slot);
    error MemberStillActive(uint32 slot, uint32 nodeId);
    error NoReplacementAvailable(bytes32 datasetId, uint32 slot);
    error NotRepairing(uint32 slot);
    error RepairWindowClosed(uint256 deadline);

    /// @param challengeWindow_ blocks after an epoch's first block in which its challenges can
    /// be answered: at most 255, so that first block's hash is still readable on chain
    /// @param reporterShareBps_ the part of a slash paid to its reporter, in basis points
    /// @param repairWindow_ blocks a replacement member has to rebuild its slot and confirm
    constructor(
        uint256 minStake_,
        uint256 exitDelay_,
        uint256 feePerByteEpoch_,
        uint256 epochBlocks_,
        uint256 challengeWindow_,
        uint256 slashAmount_,
        uint256 reporterShareBps_,
        uint256 repairWindow_
    ) {
        if (epochBlocks_ == 0 || challengeWindow_ == 0 || challengeWindow_ > 255 || reporterShareBps_ > 10_000 || repairWindow_ == 0) {
            revert InvalidEpochParameters();
        }
        minStake = minStake_;
        exitDelay = exitDelay_;
        feePerByteEpoch = feePerByteEpoch_;
        epochBlocks = epochBlocks_;
        challengeWindow = challengeWindow_;
        slashAmount = slashAmount_;
        reporterShareBps = reporterShareBps_;
        repairWindow = repairWindow_;
        genesisBlock = block.number;
        licenses = new SherdLicenses(this);
    }

    // ---------------------------------------------------------------- nodes

    /// @param publicKey the BLS G1 key, 128 bytes in EIP-2537 encoding
    /// @param proofOfPossession a BLS signature (G2, 256 bytes) of the key's 48-byte compressed form under the PoP DST
    /// @param encryptionKey the X25519 key dataset key shares are encrypted to; every node holds shares, so never zero
    function registerNode(bytes calldata publicKey, bytes calldata proofOfPossession, bytes32 encryptionKey, string calldata endpoint)
        external payable returns (uint32 id)
    {
        if (msg.value < minStake) revert InsufficientStake(msg.value, minStake);
        if (publicKey.length != 128) revert InvalidPublicKey();
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        BLS.G1Point memory key = BLS.fromBytes(publicKey);
        if (BLS.isZero(key)) revert InvalidPublicKey();
        bytes32 keyHash = keccak256(publicKey);
        if (nodeByKey[keyHash] != 0) revert KeyAlreadyRegistered();
        bytes memory compressed = BLS.compress(key);
        // The pairing precompile also rejects keys off the curve or outside the subgroup.
        if (!BLS.verify(key, compressed, POP_DST, proofOfPossession)) revert InvalidProofOfPossession();

        id = uint32(nodes.length);
        nodes.push(
            Node({
                key: key, operator: msg.sender, stake: uint96(msg.value), exitAt: 0, active: true, encryptionKey: encryptionKey, endpoint: endpoint
            })
        );
        nodeByKey[keyHash] = uint256(id) + 1;
        activeIds.push(id);
        activeIndex[id] = activeIds.length;
        nodeSetStale = true;
        emit NodeRegistered(id, msg.sender, compressed, encryptionKey, endpoint);
    }

    /// @notice Leave: the node stops being placed on new datasets now; its stake can be withdrawn after exitDelay.
    function requestExit(uint32 id) external {
        Node storage node = _node(id);
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        if (!node.active) revert NodeNotActive(id);
        _deactivate(id, node);
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

    function getNode(uint32 id) external view returns (NodeInfo memory) {
        Node storage node = _node(id);
        BLS.G1Point memory key = node.key;
        return NodeInfo({
            publicKey: abi.encode(key.xHi, key.xLo, key.yHi, key.yLo), operator: node.operator, stake: node.stake, exitAt: node.exitAt,
            active: node.active, encryptionKey: node.encryptionKey, endpoint: node.endpoint
        });
    }

    function nodeSetMembers(uint32 id) external view returns (uint32[] memory) {
        return nodeSets[id].members;
    }

    // ------------------------------------------------------------- datasets

    /// @notice The id of the dataset `owner` registers with this content root.
    function datasetId(address owner, bytes32 contentRoot) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(DATASET_DOMAIN, owner, contentRoot));
    }

    /// @notice Registers a dataset under datasetId(msg.sender, contentRoot) and pays its storage
    /// fee, size × epochs × feePerByteEpoch. The current active nodes, in their current order,
    /// become the dataset's node set: placement, certification and challenges use it.
    function registerDataset(bytes32 contentRoot, uint64 size, uint16 k, uint16 m, uint32 epochs)
        external payable returns (bytes32 id)
    {
        id = datasetId(msg.sender, contentRoot);
        if (datasets[id].owner != address(0)) revert DatasetAlreadyRegistered(id);
        if (size == 0) revert EmptyDataset();
        if (epochs == 0) revert NoEpochs();
        if (k == 0 || m == 0 || uint256(k) + m > 256) revert InvalidCodeParameters(k, m);
        if (activeIds.length < uint256(k) + m) revert TooFewNodes(uint256(k) + m, activeIds.length);
        uint256 fee = uint256(size) * epochs * feePerByteEpoch;
        if (msg.value < fee) revert InsufficientFee(msg.value, fee);
        uint32 nodeSetId = _currentNodeSet();
        datasets[id] = Dataset({
            contentRoot: contentRoot, owner: msg.sender, size: size, k: k, m: m, nodeSet: nodeSetId, signers: 0, certified: false,
            fee: uint128(msg.value), epochs: epochs, startEpoch: 0
        });
        emit DatasetRegistered(id, contentRoot, msg.sender, size, k, m, nodeSetId, msg.value, epochs);
    }

    /// @notice Records the dataset as certified if a quorum of its node set signed its id.
    /// @param signers bitmap over the node set: bit i (byte i / 8, bit i % 8) = member i signed
    /// @param signature the aggregate BLS signature, G2 in EIP-2537 encoding (256 bytes)
    function certify(bytes32 id, bytes calldata signers, bytes calldata signature) external {
        Dataset storage dataset = datasets[id];
        if (dataset.owner == address(0)) revert UnknownDataset(id);
        if (dataset.certified) revert AlreadyCertified(id);
        NodeSet storage set = nodeSets[dataset.nodeSet];
        uint256 count = set.members.length;
        if (signers.length != (count + 7) / 8) revert BadBitmapLength(signers.length, (count + 7) / 8);
        uint256 signerCount = _countSigners(signers, count);
        uint256 needed = quorum(count, dataset.k, dataset.m);
        if (signerCount < needed) revert BelowQuorum(signerCount, needed);

        BLS.G1Point memory aggregateKey = _aggregateKey(set, signers, signerCount);
        bytes32 message = attestationMessage(id);
        if (!BLS.verify(aggregateKey, abi.encodePacked(message), SIGNATURE_DST, signature)) revert InvalidSignature();

        dataset.certified = true;
        dataset.signers = uint16(signerCount);
        // Challenges start with the next epoch, whose seed block is not mined yet.
        dataset.startEpoch = uint32(currentEpoch() + 1);
        emit DatasetCertified(id, dataset.nodeSet, uint16(signerCount), signers, dataset.startEpoch);
    }

    /// @notice A dataset's registration, certification and storage term; all zero if unknown.
    function getDataset(bytes32 id) external view returns (DatasetInfo memory info) {
        Dataset storage d = datasets[id];
        if (d.owner == address(0)) return info;
        return DatasetInfo({
            registered: true, certified: d.certified, signers: d.signers, size: d.size, k: d.k, m: d.m, nodeSet: d.nodeSet,
            owner: d.owner, fee: d.fee, contentRoot: d.contentRoot, epochs: d.epochs, startEpoch: d.startEpoch, segments: _segments(d)
        });
    }

    /// @notice Who owns dataset `id`, whether it is certified, and the first epoch after its
    /// storage term (0 until certified); the owner is the zero address if it is unknown.
    function datasetTerm(bytes32 id) external view returns (address owner, bool certified, uint256 endEpoch) {
        Dataset storage d = datasets[id];
        return (d.owner, d.certified, d.certified ? uint256(d.startEpoch) + d.epochs : 0);
    }

    // ----------------------------------------------------------- challenges

    function currentEpoch() public view returns (uint256) {
        return (block.number - genesisBlock) / epochBlocks;
    }

    /// @notice The first block of `epoch`: its hash seeds the epoch's challenges.
    function epochStart(uint256 epoch) public view returns (uint256) {
        return genesisBlock + epoch * epochBlocks;
    }

    /// @notice The challenge of node-set member `member` for dataset `id` in `epoch`, and where it stands.
    function challenge(bytes32 id, uint32 epoch, uint32 member) external view returns (Challenge memory c) {
        Dataset storage d = datasets[id];
        (bool exists, uint32 holder) = _challengedHolder(id, d, epoch, member);
        if (!exists) return c;
        uint256 opensAfter = epochStart(epoch);
        c.nodeId = holder;
        c.opensAfter = uint64(opensAfter);
        c.closesAt = uint64(opensAfter + challengeWindow);
        c.reward = _reward(d, member);
        ChallengeStatus done = settled[_challengeKey(id, epoch, member)];
        if (done != ChallengeStatus.None) c.status = done;
        else if (block.number <= opensAfter) c.status = ChallengeStatus.Pending;
        else if (block.number > opensAfter + challengeWindow) c.status = ChallengeStatus.Expired;
        else c.status = ChallengeStatus.Open;
        if (block.number > opensAfter && block.number <= opensAfter + 256) {
            (uint256 segment, uint256 index, bytes32 z) = _draw(id, d, epoch, member);
            (c.segment, c.index, c.z) = (uint64(segment), uint16(index), z);
        }
    }

    /// @notice Answers a challenge; pays the member's node its reward for the epoch.
    function answerChallenge(Answer calldata a) external {
        Dataset storage d = datasets[a.datasetId];
        bytes32 key = _openChallenge(d, a.datasetId, a.epoch, a.member);
        uint256 opensAfter = epochStart(a.epoch);
        if (block.number <= opensAfter) revert ChallengeNotOpen(opensAfter);
        if (block.number > opensAfter + challengeWindow) revert ChallengeClosed(opensAfter + challengeWindow);
        _checkAnswer(d, a);
        settled[key] = ChallengeStatus.Answered;
        (, uint32 nodeId) = _challengedHolder(a.datasetId, d, a.epoch, a.member);
        uint256 reward = _reward(d, a.member);
        Earnings storage e = earnings[nodeId];
        e.unclaimed += uint128(reward);
        e.earned += uint128(reward);
        e.answered += 1;
        emit ChallengeAnswered(a.datasetId, a.epoch, a.member, nodeId, reward);
    }

    /// @notice Reports a challenge left unanswered after its window: slashes the node, pays
    /// the reporter reporterShareBps of the slash, refunds the member's reward to the owner.
    function reportMissed(bytes32 id, uint32 epoch, uint32 member) external {
        Dataset storage d = datasets[id];
        bytes32 key = _openChallenge(d, id, epoch, member);
        uint256 closesAt = epochStart(epoch) + challengeWindow;
        if (block.number <= closesAt) revert ChallengeStillOpen(closesAt);
        settled[key] = ChallengeStatus.Missed;
        (, uint32 nodeId) = _challengedHolder(id, d, epoch, member);
        uint256 slash = _slash(nodeId);
        balanceOf[d.owner] += _reward(d, member);
        earnings[nodeId].missed += 1;
        emit ChallengeMissed(id, epoch, member, nodeId, slash, msg.sender);
    }

    function nodeEarnings(uint32 id) external view returns (Earnings memory) {
        _node(id);
        return earnings[id];
    }

    /// @notice Pays a node's unclaimed rewards to its operator.
    function claimRewards(uint32 id) external {
        Node storage node = _node(id);
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        uint256 amount = earnings[id].unclaimed;
        if (amount == 0) revert NothingToWithdraw();
        earnings[id].unclaimed = 0;
        emit RewardsClaimed(id, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "SherdRegistry: reward transfer failed");
    }

    // ------------------------------------------------------------------ churn

    /// @notice Replaces the member of `slot` of dataset `id` when it has left the active set
    /// (exited, or slashed below the minimum stake), or when its replacement let the repair
    /// window pass unconfirmed. Anyone may call it. Returns the new member's node id.
    function replaceMember(bytes32 id, uint32 slot) external returns (uint32 replacement) {
        Dataset storage d = datasets[id];
        if (d.owner == address(0)) revert UnknownDataset(id);
        if (!d.certified) revert NotCertified(id);
        if (slot >= nodeSets[d.nodeSet].members.length) revert UnknownSlot(slot);
        Slot storage s = slots[id][slot];
        uint32 current = _memberOf(id, d, slot);
        bool lapsed = s.state == SlotState.Repairing && block.number > s.repairDeadline;
        if (nodes[current].active && !lapsed) revert MemberStillActive(slot, current);
        // A replacement that let its window pass is slashed as for a missed challenge: it took the slot and did not rebuild it.
        if (lapsed) emit RepairLapsed(id, slot, current, _slash(current), msg.sender);
        replacement = _pickReplacement(id, d, slot);
        uint64 deadline = uint64(block.number + repairWindow);
        uint32 challengedFrom = uint32((deadline - genesisBlock) / epochBlocks + 1);
        // The current epoch's challenge (drawn or not) stays with the member leaving; the next ones pause until challengedFrom.
        slots[id][slot] = Slot({
            nodeIdPlusOne: replacement + 1,
            state: SlotState.Repairing,
            repairDeadline: deadline,
            challengedFrom: challengedFrom,
            previousNodeIdPlusOne: current + 1,
            replacedEpoch: uint32(currentEpoch() + 1),
            previousFrom: s.challengedFrom
        });
        emit MemberReplaced(id, slot, current, replacement, deadline, challengedFrom);
    }

    /// @notice The replacement of `slot` says it has rebuilt the slot's shards: `signature` is its
    /// BLS signature (G2, EIP-2537 encoding) over attestationMessage(id), the message every member
    /// signed at certification. Its challenges start with the next epoch.
    function confirmReplacement(bytes32 id, uint32 slot, bytes calldata signature) external {
        Slot storage s = slots[id][slot];
        if (s.state != SlotState.Repairing) revert NotRepairing(slot);
        if (block.number > s.repairDeadline) revert RepairWindowClosed(s.repairDeadline);
        uint32 nodeId = s.nodeIdPlusOne - 1;
        if (!BLS.verify(nodes[nodeId].key, abi.encodePacked(attestationMessage(id)), SIGNATURE_DST, signature)) revert InvalidSignature();
        s.state = SlotState.Confirmed;
        uint32 next = uint32(currentEpoch() + 1);
        if (next < s.challengedFrom) s.challengedFrom = next;
        emit ReplacementConfirmed(id, slot, nodeId);
    }

    /// @notice Who holds each slot of dataset `id` now, in placement order, and in what state.
    function datasetMembers(bytes32 id) external view returns (MemberInfo[] memory members) {
        Dataset storage d = datasets[id];
        if (d.owner == address(0)) return members;
        uint256 count = nodeSets[d.nodeSet].members.length;
        members = new MemberInfo[](count);
        for (uint32 i = 0; i < count; i++) {
            Slot storage s = slots[id][i];
            uint32 nodeId = _memberOf(id, d, i);
            members[i] = MemberInfo({
                nodeId: nodeId, state: s.state, repairDeadline: s.repairDeadline, challengedFrom: s.challengedFrom, active: nodes[nodeId].active
            });
        }
    }

    /// @notice The node registered with this BLS key (EIP-2537 encoding), if any.
    function nodeIdByKey(bytes calldata publicKey) external view returns (bool found, uint32 id) {
        uint256 idPlusOne = nodeByKey[keccak256(publicKey)];
        return (idPlusOne != 0, idPlusOne == 0 ? 0 : uint32(idPlusOne - 1));
    }

    /// @notice Shards of `segments` segments placed on `member` by the rule shard i of segment
    /// s → member (i + s) mod nodeCount, with n shards per segment. O(1); the client's
    /// protocol/placement.ts computes the same.
    function assignedShardCount(uint256 segments, uint256 n, uint256 nodeCount, uint256 member) public pure returns (uint256 count) {
        count = (segments / nodeCount) * n;
        uint256 rest = segments % nodeCount;
        if (rest == 0) return count;
        // The last `rest` segments give member the indices member, member − 1, … (mod nodeCount).
        uint256 top = member < n - 1 ? member : n - 1;
        if (member + 1 >= rest) {
            uint256 low = member + 1 - rest;
            if (top + 1 > low) count += top + 1 - low;
        } else {
            count += top + 1;
            uint256 wrapLow = nodeCount - (rest - member - 1);
            if (n > wrapLow) count += n - wrapLow;
        }
    }

    /// @notice What every node signs for dataset `id` on this chain and deployment.
    function attestationMessage(bytes32 id) public view returns (bytes32) {
        return keccak256(abi.encodePacked(ATTESTATION_DOMAIN, block.chainid, address(this), id));
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

    function _deactivate(uint32 id, Node storage node) private {
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

    /// @dev Slashes `nodeId` slashAmount (what is left, if less): reporterShareBps to the caller, the rest burned; a node
    /// below the minimum stake leaves the active set. Returns the amount slashed.
    function _slash(uint32 nodeId) private returns (uint256 slash) {
        Node storage node = nodes[nodeId];
        slash = node.stake < slashAmount ? node.stake : slashAmount;
        node.stake -= uint96(slash);
        uint256 toReporter = slash * reporterShareBps / 10_000;
        burned += slash - toReporter;
        balanceOf[msg.sender] += toReporter;
        earnings[nodeId].slashed += uint128(slash);
        // A node whose stake falls below the minimum is no longer placed on new datasets.
        if (node.active && node.stake < minStake) _deactivate(nodeId, node);
    }

    function _memberOf(bytes32 id, Dataset storage d, uint32 slot) private view returns (uint32) {
        uint32 replaced = slots[id][slot].nodeIdPlusOne;
        return replaced == 0 ? nodeSets[d.nodeSet].members[slot] : replaced - 1;
    }

    /// @dev The first active node, walking the active list from keccak256(id, slot, epoch) mod its
    /// length, that holds no slot of the dataset. One pass marks the members, one walks the list.
    function _pickReplacement(bytes32 id, Dataset storage d, uint32 slot) private view returns (uint32) {
        uint256 count = nodeSets[d.nodeSet].members.length;
        bool[] memory member = new bool[](nodes.length);
        for (uint32 i = 0; i < count; i++) {
            member[_memberOf(id, d, i)] = true;
        }
        uint256 active = activeIds.length;
        if (active == 0) revert NoReplacementAvailable(id, slot);
        // Seeded by the previous block's hash: fixed once the call is mined, not a choice of the caller's.
        uint256 start = uint256(keccak256(abi.encode(id, slot, blockhash(block.number - 1)))) % active;
        for (uint256 j = 0; j < active; j++) {
            uint32 candidate = activeIds[(start + j) % active];
            if (!member[candidate]) return candidate;
        }
        revert NoReplacementAvailable(id, slot);
    }

    function _segments(Dataset storage d) private view returns (uint256) {
        uint256 perSegment = uint256(d.k) * PAYLOAD_BYTES_PER_BLOB;
        uint256 segments = (uint256(d.size) + perSegment - 1) / perSegment;
        return segments == 0 ? 1 : segments;
    }

    function _challengeKey(bytes32 id, uint32 epoch, uint32 member) private pure returns (bytes32) {
        return keccak256(abi.encode(id, epoch, member));
    }

    /// @dev Whether slot `member` has a challenge for the dataset in `epoch`, and whose it is: the
    /// current holder's from its challengedFrom on; none while the slot repairs; the previous
    /// holder's for the epochs before the replacement (back to its own first epoch: one step of
    /// history is kept).
    function _challengedHolder(bytes32 id, Dataset storage d, uint32 epoch, uint32 member)
        private view returns (bool exists, uint32 holder)
    {
        if (!d.certified || epoch < d.startEpoch || epoch >= uint256(d.startEpoch) + d.epochs) return (false, 0);
        uint32[] storage original = nodeSets[d.nodeSet].members;
        if (member >= original.length) return (false, 0);
        if (assignedShardCount(_segments(d), uint256(d.k) + d.m, original.length, member) == 0) return (false, 0);
        Slot storage slot = slots[id][member];
        if (slot.nodeIdPlusOne == 0) return (true, original[member]);
        if (epoch >= slot.challengedFrom) return (true, slot.nodeIdPlusOne - 1);
        if (epoch >= slot.replacedEpoch || epoch < slot.previousFrom) return (false, 0);
        return (true, slot.previousNodeIdPlusOne - 1);
    }

    /// @dev Reverts unless the challenge exists and is not settled; returns its key.
    function _openChallenge(Dataset storage d, bytes32 id, uint32 epoch, uint32 member) private view returns (bytes32 key) {
        if (d.owner == address(0)) revert UnknownDataset(id);
        (bool exists,) = _challengedHolder(id, d, epoch, member);
        if (!exists) revert NoChallenge(id, epoch, member);
        key = _challengeKey(id, epoch, member);
        if (settled[key] != ChallengeStatus.None) revert ChallengeAlreadySettled(settled[key]);
    }

    /// @dev The member's share of one epoch's fee, by the shards placed on it.
    function _reward(Dataset storage d, uint32 member) private view returns (uint256) {
        uint256 n = uint256(d.k) + d.m;
        uint256 segments = _segments(d);
        uint256 assigned = assignedShardCount(segments, n, nodeSets[d.nodeSet].members.length, member);
        return uint256(d.fee) * assigned / (uint256(d.epochs) * segments * n);
    }

    /// @dev (segment, index, z) of a challenge, from the hash of the epoch's first block. A
    /// uniform segment, moved forward to the next segment with a shard on the member (there
    /// is one within nodeCount segments), and z uniform in the scalar field.
    function _draw(bytes32 id, Dataset storage d, uint32 epoch, uint32 member)
        private view returns (uint256 segment, uint256 index, bytes32 z)
    {
        bytes32 seed = keccak256(abi.encode(blockhash(epochStart(epoch)), address(this), id, epoch, member));
        uint256 segments = _segments(d);
        uint256 n = uint256(d.k) + d.m;
        uint256 count = nodeSets[d.nodeSet].members.length;
        segment = uint256(seed) % segments;
        index = (member + count - segment % count) % count;
        while (index >= n) {
            segment = (segment + 1) % segments;
            index = (member + count - segment % count) % count;
        }
        z = bytes32(uint256(keccak256(abi.encode(seed, "z"))) % BLS_MODULUS);
    }

    function _checkAnswer(Dataset storage d, Answer calldata a) private view {
        (uint256 segment, uint256 index, bytes32 z) = _draw(a.datasetId, d, a.epoch, a.member);
        if (a.z != z) revert WrongPoint(z);
        if (a.commitment.length != 48) revert BadCommitmentLength(a.commitment.length);
        uint256 n = uint256(d.k) + d.m;
        bytes32 leaf = Merkle.leaf(a.commitment, a.shardHash);
        if (!Merkle.included(d.contentRoot, leaf, segment * n + index, _segments(d) * n, a.inclusionProof)) revert BadInclusionProof();
        if (!_pointEvaluation(a.commitment, a.z, a.y, a.kzgProof)) revert InvalidOpeningProof();
    }

    /// @dev EIP-4844 point evaluation: the commitment's versioned hash, z, y, commitment, proof.
    function _pointEvaluation(bytes calldata commitment, bytes32 z, bytes32 y, bytes calldata proof) private view returns (bool) {
        if (proof.length != 48) return false;
        bytes32 versionedHash = (sha256(commitment) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(1) << 248);
        (bool ok, bytes memory out) = POINT_EVALUATION.staticcall(abi.encodePacked(versionedHash, z, y, commitment, proof));
        if (!ok || out.length != 64) return false;
        (uint256 elements, uint256 modulus) = abi.decode(out, (uint256, uint256));
        return elements == FIELD_ELEMENTS_PER_BLOB && modulus == BLS_MODULUS;
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
