import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decodeMerkleProof, encodeMerkleProof, merkleDepth, MerkleTree, verifyMerkleProof } from '../../proofs/merkle.ts';

describe('keccak Merkle tree', () => {
  it.each([1, 2, 3, 5, 8, 33, 1000])('proves every leaf of a %i-leaf tree and nothing else', (count) => {
    const leaves = Array.from({ length: count }, () => new Uint8Array(randomBytes(32)));
    const tree = new MerkleTree(leaves);
    for (let i = 0; i < count; i += Math.max(1, Math.floor(count / 50))) {
      const proof = tree.proof(i);
      expect(proof).toHaveLength(merkleDepth(count));
      expect(verifyMerkleProof(tree.root, leaves[i]!, i, proof, count)).toBe(true);
      if (count > 1) {
        expect(verifyMerkleProof(tree.root, leaves[i]!, (i + 1) % count, proof, count)).toBe(false);
        expect(verifyMerkleProof(tree.root, leaves[(i + 1) % count]!, i, proof, count)).toBe(false);
      }
    }
  });

  it('rejects wrong roots, truncated proofs, out-of-range indices and malformed input', () => {
    const leaves = Array.from({ length: 6 }, () => new Uint8Array(randomBytes(32)));
    const tree = new MerkleTree(leaves);
    const proof = tree.proof(4);
    expect(verifyMerkleProof(new Uint8Array(32), leaves[4]!, 4, proof, 6)).toBe(false);
    expect(verifyMerkleProof(tree.root, leaves[4]!, 4, proof.slice(1), 6)).toBe(false);
    expect(verifyMerkleProof(tree.root, leaves[4]!, 6, proof, 6)).toBe(false);
    expect(verifyMerkleProof(tree.root, leaves[4]!, 4, [...proof.slice(0, 2), new Uint8Array(31)], 6)).toBe(false);
    expect(verifyMerkleProof(tree.root, leaves[4]!, 4, proof, 0)).toBe(false);
    const roundTrip = decodeMerkleProof(encodeMerkleProof(proof))!;
    expect(verifyMerkleProof(tree.root, leaves[4]!, 4, roundTrip, 6)).toBe(true);
    expect(decodeMerkleProof(new Uint8Array(33))).toBeUndefined();
    expect(() => new MerkleTree([])).toThrowError('a Merkle tree needs at least one leaf');
  });
});
