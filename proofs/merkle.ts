import { keccak256 } from './hash.ts';
import { assertBytes, assertInteger, InvalidArgumentError } from './errors.ts';

/**
 * Binary keccak256 Merkle tree, shaped so Solidity can check inclusion cheaply
 * (chain/contracts/Merkle.sol; docs/protocol.md is the spec):
 *   leaf = keccak256(0x00 ‖ commitment(48) ‖ sha256(32))
 *   node = keccak256(0x01 ‖ left(32) ‖ right(32))
 * The prefixes separate leaves from inner nodes (no second-preimage tricks). A level with an
 * odd number of nodes pairs its last node with the zero hash (32 zero bytes), at every level;
 * nothing is padded with hashes of empty subtrees. The depth is ⌈log2(leaves)⌉, a leaf's
 * position is its index bits, and a proof is the sibling list from the bottom up.
 */
export const HASH_BYTES = 32;
const ZERO_HASH = new Uint8Array(HASH_BYTES);

export function merkleLeaf(commitment: Uint8Array, shardHash: Uint8Array): Uint8Array {
  assertBytes('commitment', commitment, 48);
  assertBytes('shard hash', shardHash, 32);
  const buf = new Uint8Array(1 + 48 + 32);
  buf[0] = 0x00;
  buf.set(commitment, 1);
  buf.set(shardHash, 49);
  return keccak256(buf);
}

const innerBuf = new Uint8Array(1 + 2 * HASH_BYTES);
export function merkleNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  innerBuf[0] = 0x01;
  innerBuf.set(left, 1);
  innerBuf.set(right, 1 + HASH_BYTES);
  return keccak256(innerBuf);
}

export function merkleDepth(leafCount: number): number {
  let depth = 0;
  while (2 ** depth < leafCount) depth++; // not 1 << depth: that wraps at 2^31 and never ends
  return depth;
}

export class MerkleTree {
  /** One flat buffer a level, 32 bytes a node: no object per node (a 2 GiB dataset has ~70k). */
  private readonly levels: Uint8Array[];
  private readonly counts: number[];

  constructor(leaves: Uint8Array[]) {
    if (leaves.length === 0) throw new InvalidArgumentError('a Merkle tree needs at least one leaf');
    if (leaves.length > 2 ** 31) throw new InvalidArgumentError('too many leaves');
    const depth = merkleDepth(leaves.length);
    let level = new Uint8Array(leaves.length * HASH_BYTES);
    leaves.forEach((leaf, i) => {
      assertBytes(`leaf ${i}`, leaf, HASH_BYTES);
      level.set(leaf, i * HASH_BYTES);
    });
    let count = leaves.length;
    this.levels = [level];
    this.counts = [count];
    for (let d = 0; d < depth; d++) {
      const nextCount = Math.ceil(count / 2);
      const next = new Uint8Array(nextCount * HASH_BYTES);
      const at = (i: number) => level.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      // The last node of an odd level is paired with the zero hash, not with the hash of an empty subtree.
      for (let i = 0; i < count; i += 2) next.set(merkleNode(at(i), i + 1 < count ? at(i + 1) : ZERO_HASH), (i / 2) * HASH_BYTES);
      level = next;
      count = nextCount;
      this.levels.push(level);
      this.counts.push(count);
    }
  }

  get leafCount(): number {
    return this.counts[0]!;
  }

  get root(): Uint8Array {
    return this.levels[this.levels.length - 1]!.slice(0, HASH_BYTES);
  }

  /** The siblings from the bottom up, each a copy (the tree's buffers stay its own). */
  proof(index: number): Uint8Array[] {
    assertInteger('leaf index', index, 0, this.leafCount - 1);
    const siblings: Uint8Array[] = [];
    for (let d = 0; d < this.levels.length - 1; d++) {
      const sibling = (index >> d) ^ 1;
      siblings.push(
        sibling < this.counts[d]! ? this.levels[d]!.slice(sibling * HASH_BYTES, (sibling + 1) * HASH_BYTES) : ZERO_HASH.slice(),
      );
    }
    return siblings;
  }
}

/** Whether the arguments of a proof check have the right shapes (then the proof's siblings are checked as they are used). */
function wellFormed(root: Uint8Array, leaf: Uint8Array, index: number, proof: Uint8Array[], leafCount: number): boolean {
  if (!(root instanceof Uint8Array) || root.length !== HASH_BYTES) return false;
  if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_BYTES) return false;
  if (!Number.isInteger(leafCount) || leafCount < 1 || !Number.isInteger(index) || index < 0 || index >= leafCount) return false;
  return Array.isArray(proof) && proof.length === merkleDepth(leafCount);
}

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < HASH_BYTES; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Checks that `leaf` sits at `index` under `root`. False on any malformed input. The proof
 * must have exactly the depth of a tree of `leafCount` leaves, so an index cannot alias.
 */
export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, index: number, proof: Uint8Array[], leafCount: number): boolean {
  if (!wellFormed(root, leaf, index, proof, leafCount)) return false;
  let node = leaf;
  for (let d = 0; d < proof.length; d++) {
    const sibling = proof[d];
    if (!(sibling instanceof Uint8Array) || sibling.length !== HASH_BYTES) return false;
    node = ((index >> d) & 1) === 0 ? merkleNode(node, sibling) : merkleNode(sibling, node);
  }
  return equalHashes(node, root);
}

/**
 * verifyMerkleProof for many leaves of one tree, remembering the nodes already proven under
 * its root (those on checked paths and their siblings, which the parents bind). A leaf is
 * hashed up only until it meets a proven node at the same position: neighbouring leaves, as a
 * reader's shards are, cost about two hashes instead of depth + 1. It accepts every proof
 * verifyMerkleProof accepts and only leaves that are at their index under the root (a leaf
 * already proven is accepted whatever proof comes with it). Bounded by `maxNodes`, forgotten
 * all at once when full.
 */
export class MerkleVerifier {
  private readonly proven = new Map<number, Uint8Array>();

  constructor(
    readonly root: Uint8Array,
    readonly leafCount: number,
    private readonly maxNodes = 8192,
  ) {}

  verify(leaf: Uint8Array, index: number, proof: Uint8Array[]): boolean {
    if (!wellFormed(this.root, leaf, index, proof, this.leafCount)) return false;
    const path: Uint8Array[] = [];
    let node = leaf;
    let d = 0;
    let known: Uint8Array | undefined;
    for (; d < proof.length; d++) {
      known = this.proven.get(key(d, index >> d));
      if (known) break;
      const sibling = proof[d];
      if (!(sibling instanceof Uint8Array) || sibling.length !== HASH_BYTES) return false;
      path.push(node);
      node = ((index >> d) & 1) === 0 ? merkleNode(node, sibling) : merkleNode(sibling, node);
    }
    if (!equalHashes(node, known ?? this.root)) return false;
    if (this.proven.size + 2 * path.length > this.maxNodes) this.proven.clear();
    path.forEach((below, level) => {
      this.proven.set(key(level, index >> level), below);
      // A copy: a sibling may be a view into a large response body, which it would keep alive.
      this.proven.set(key(level, (index >> level) ^ 1), proof[level]!.slice());
    });
    return true;
  }
}

/** A node's place: level and index (index < 2^31, level ≤ 31). */
function key(level: number, index: number): number {
  return index * 32 + level;
}

export function encodeMerkleProof(proof: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(proof.length * HASH_BYTES);
  proof.forEach((sibling, i) => {
    out.set(sibling, i * HASH_BYTES);
  });
  return out;
}

export function decodeMerkleProof(bytes: Uint8Array): Uint8Array[] | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length % HASH_BYTES !== 0) return undefined;
  return Array.from({ length: bytes.length / HASH_BYTES }, (_, i) => bytes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
}
