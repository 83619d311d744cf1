import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { InvalidArgumentError } from '../../proofs/errors.ts';
import {
  decodeMerkleProof,
  encodeMerkleProof,
  merkleDepth,
  merkleLeaf,
  merkleNode,
  MerkleTree,
  MerkleVerifier,
  verifyMerkleProof,
} from '../../proofs/merkle.ts';

// The rule, written out again here so the tests do not trust proofs/merkle.ts for it:
// leaf = keccak(0x00 ‖ commitment ‖ shard hash), node = keccak(0x01 ‖ left ‖ right); the
// last node of an odd level is paired with 32 zero bytes, at every level; the proof of leaf i
// is the sibling at each level from the bottom up, and there are ⌈log2(leaves)⌉ levels.
const ZERO = new Uint8Array(32);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const refNode = (left: Uint8Array, right: Uint8Array) => keccak_256(concat(Uint8Array.of(1), left, right));
function refLevels(leaves: Uint8Array[]): Uint8Array[][] {
  const levels = [leaves];
  for (let level = leaves; level.length > 1; levels.push(level)) {
    const below = level;
    level = Array.from({ length: Math.ceil(below.length / 2) }, (_, i) => refNode(below[2 * i]!, below[2 * i + 1] ?? ZERO));
  }
  return levels;
}
const refProof = (levels: Uint8Array[][], index: number) => levels.slice(0, -1).map((level, d) => level[(index >> d) ^ 1] ?? ZERO);

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const sameList = (a: Uint8Array[], b: Uint8Array[]) => a.length === b.length && a.every((x, i) => same(x, b[i]!));

function expectInvalid(fn: () => unknown, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error).toMatchObject({ code: 'invalid_argument', message });
}

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** Anything in 1..max, with the edges of the padding rule (2^d - 1, 2^d, 2^d + 1) drawn often. */
const countsUpTo = (max: number) =>
  fc.oneof(
    fc.integer({ min: 1, max }),
    fc
      .integer({ min: 0, max: Math.ceil(Math.log2(max)) })
      .chain((d) => fc.constantFrom(2 ** d - 1, 2 ** d, 2 ** d + 1))
      .filter((n) => n >= 1 && n <= max),
  );
const leafCount = countsUpTo(600);
// For properties whose cost is building the tree rather than what they check.
const smallCount = countsUpTo(130);
/**
 * Leaves, mostly arbitrary, sometimes drawn from three values so that equal leaves, and leaves
 * equal to the zero padding, are common rather than astronomically rare.
 */
const leavesOf = (n: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(hash32, { minLength: n, maxLength: n }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.constantFrom(ZERO, new Uint8Array(32).fill(0xff), keccak_256(ZERO)), { minLength: n, maxLength: n }),
    },
  );
const trees = (counts: fc.Arbitrary<number> = leafCount) =>
  counts.chain(leavesOf).map((leaves) => ({ leaves, tree: new MerkleTree(leaves), n: leaves.length }));
/** A tree and one of its leaves, with that leaf's proof. */
const provenLeaf = (counts?: fc.Arbitrary<number>) =>
  trees(counts).chain((t) => fc.integer({ min: 0, max: t.n - 1 }).map((i) => ({ ...t, i, leaf: t.leaves[i]!, proof: t.tree.proof(i) })));

describe('keccak Merkle tree', () => {
  it('matches an independent computation of the root and proofs from the padding rule', () => {
    fc.assert(
      fc.property(provenLeaf(), ({ leaves, tree, n, i, proof }) => {
        const levels = refLevels(leaves);
        expect(tree.leafCount).toBe(n);
        expect(merkleDepth(n)).toBe(levels.length - 1);
        expect(same(tree.root, levels.at(-1)![0]!)).toBe(true);
        expect(sameList(proof, refProof(levels, i))).toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  it('has depth ⌈log2(leaves)⌉', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (n) => {
        const d = merkleDepth(n);
        expect(2 ** d >= n && (d === 0 ? n === 1 : 2 ** (d - 1) < n)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), (d) => {
        expect(merkleDepth(2 ** d)).toBe(d);
        if (d < 30) expect(merkleDepth(2 ** d + 1)).toBe(d + 1);
      }),
      { numRuns: 100 },
    );
  });

  it('proves every leaf with exactly depth siblings', () => {
    fc.assert(
      fc.property(trees(), ({ leaves, tree, n }) => {
        const depth = merkleDepth(n);
        const failing = leaves
          .map((_, i) => i)
          .filter((i) => {
            const proof = tree.proof(i);
            return proof.length !== depth || !verifyMerkleProof(tree.root, leaves[i]!, i, proof, n);
          });
        expect(failing).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });

  it('accepts a proof at another index, or for another leaf, only where leaf and proof are the very same', () => {
    // Anything else would need a keccak collision; equal leaves make the "same" case common.
    fc.assert(
      fc.property(provenLeaf(), ({ leaves, tree, n, i, leaf, proof }) => {
        const indices = leaves.map((_, j) => j);
        const wrongIndex = indices.filter(
          (j) => verifyMerkleProof(tree.root, leaf, j, proof, n) !== (same(leaves[j]!, leaf) && sameList(tree.proof(j), proof)),
        );
        expect(wrongIndex).toEqual([]);
        const wrongLeaf = indices.filter((j) => verifyMerkleProof(tree.root, leaves[j]!, i, proof, n) !== same(leaves[j]!, leaf));
        expect(wrongLeaf).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects a flip of any byte of any sibling, of the leaf or of the root, and any other root', () => {
    fc.assert(
      fc.property(provenLeaf(), fc.integer({ min: 1, max: 255 }), hash32, ({ tree, n, i, leaf, proof }, mask, otherRoot) => {
        const flipped = (bytes: Uint8Array, at: number) => bytes.map((b, j) => (j === at ? b ^ mask : b));
        const accepted: string[] = [];
        for (let at = 0; at < 32; at++) {
          if (verifyMerkleProof(tree.root, flipped(leaf, at), i, proof, n)) accepted.push(`leaf byte ${at}`);
          if (verifyMerkleProof(flipped(tree.root, at), leaf, i, proof, n)) accepted.push(`root byte ${at}`);
          proof.forEach((_, d) => {
            const tampered = proof.map((s, e) => (e === d ? flipped(s, at) : s));
            if (verifyMerkleProof(tree.root, leaf, i, tampered, n)) accepted.push(`sibling ${d} byte ${at}`);
          });
        }
        expect(accepted).toEqual([]);
        expect(verifyMerkleProof(otherRoot, leaf, i, proof, n)).toBe(same(otherRoot, tree.root));
        expect(verifyMerkleProof(tree.root, leaf, i, proof, n)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a proof with a sibling too many or too few', () => {
    fc.assert(
      fc.property(
        provenLeaf(smallCount).chain((t) =>
          fc.tuple(
            fc.constant(t),
            fc.nat(t.proof.length),
            fc.nat(Math.max(0, t.proof.length - 1)),
            // The extra sibling: arbitrary, the zero padding, or a copy of a real one.
            fc.oneof(hash32, fc.constant(ZERO), fc.constantFrom(...t.proof, t.leaf, t.tree.root)),
          ),
        ),
        ([{ tree, n, i, leaf, proof }, insertAt, removeAt, extra]) => {
          const longer = [...proof.slice(0, insertAt), extra, ...proof.slice(insertAt)];
          expect(verifyMerkleProof(tree.root, leaf, i, longer, n)).toBe(false);
          if (proof.length === 0) return;
          const shorter = proof.filter((_, d) => d !== removeAt);
          expect(verifyMerkleProof(tree.root, leaf, i, shorter, n)).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects a leaf count that changes the depth, with the proof as it is or resized to fit', () => {
    fc.assert(
      fc.property(
        provenLeaf(smallCount).chain((t) => {
          const depths = Array.from({ length: 31 }, (_, d) => d).filter((d) => d !== t.proof.length && 2 ** d > t.i);
          return fc.constantFrom(...depths).chain((d) =>
            // A count with depth d that still has index i in range, so only the depth is wrong.
            fc.integer({ min: d === 0 ? 1 : Math.max(t.i + 1, 2 ** (d - 1) + 1), max: 2 ** d }).map((count) => ({ ...t, d, count })),
          );
        }),
        ({ tree, i, leaf, proof, d, count }) => {
          expect(merkleDepth(count)).toBe(d);
          expect(i).toBeLessThan(count);
          expect(verifyMerkleProof(tree.root, leaf, i, proof, count)).toBe(false);
          const resized = d < proof.length ? proof.slice(0, d) : [...proof, ...Array.from({ length: d - proof.length }, () => ZERO)];
          expect(verifyMerkleProof(tree.root, leaf, i, resized, count)).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns false, never throws, on malformed input', () => {
    type Args = [root: unknown, leaf: unknown, index: unknown, proof: unknown, leafCount: unknown];
    const notBytes = fc.oneof(
      fc.constantFrom<unknown>(undefined, null, 0, '', new ArrayBuffer(32), new Uint16Array(16), new DataView(new ArrayBuffer(32)), {}),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 32, maxLength: 32 }),
      fc.string({ minLength: 32, maxLength: 32 }),
    );
    const badHash = fc.oneof(
      notBytes,
      fc
        .integer({ min: 0, max: 100 })
        .filter((len) => len !== 32)
        .map((len) => new Uint8Array(len)),
    );
    const nonInteger = fc.oneof(
      fc.double().filter((x) => !Number.isInteger(x)), // 0.5, NaN, ±Infinity, ...
      fc.constantFrom<unknown>('0', '1', 0n, 1n, null, undefined, true, [0], {}),
    );
    const corrupt = (t: { tree: MerkleTree; n: number; i: number; leaf: Uint8Array; proof: Uint8Array[] }): fc.Arbitrary<Args> => {
      const valid: Args = [t.tree.root, t.leaf, t.i, t.proof, t.n];
      const at = <T>(slot: number, arb: fc.Arbitrary<T>) => arb.map((v) => valid.map((x, s) => (s === slot ? v : x)) as Args);
      const options: Array<fc.Arbitrary<Args>> = [
        at(0, badHash),
        at(1, badHash),
        at(2, fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: t.n, max: 2 ** 31 }), nonInteger)),
        at(3, fc.oneof(notBytes, fc.constant(encodeMerkleProof(t.proof)), fc.constant({ length: t.proof.length }))),
        // leafCount: not a positive integer, or too small for the index. None above 2^30 are drawn:
        // merkleDepth never returns for those (1 << depth wraps at 32), a bug outside this file.
        at(4, fc.oneof(fc.integer({ min: -(2 ** 31), max: 0 }), nonInteger, t.i === 0 ? fc.constant(0) : fc.integer({ min: 1, max: t.i }))),
      ];
      if (t.proof.length > 0) {
        options.push(
          fc
            .tuple(fc.nat(t.proof.length - 1), fc.oneof(badHash, fc.constant(undefined)))
            .map(([d, bad]) => [t.tree.root, t.leaf, t.i, t.proof.map((s, e) => (e === d ? bad : s)), t.n] as Args),
        );
      }
      return fc.oneof(...options);
    };
    fc.assert(
      fc.property(
        provenLeaf(fc.integer({ min: 1, max: 70 })).chain((t) => fc.tuple(fc.constant(t), corrupt(t))),
        ([t, args]) => {
          // The uncorrupted call succeeds, so the corruption is what is refused.
          expect(verifyMerkleProof(t.tree.root, t.leaf, t.i, t.proof, t.n)).toBe(true);
          expect(verifyMerkleProof(...(args as Parameters<typeof verifyMerkleProof>))).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes proofs as 32-byte siblings back to back, and decodes only whole siblings', () => {
    fc.assert(
      fc.property(fc.array(hash32, { maxLength: 40 }), (proof) => {
        const bytes = encodeMerkleProof(proof);
        expect(bytes).toHaveLength(32 * proof.length);
        expect(same(bytes, concat(...proof))).toBe(true);
        expect(sameList(decodeMerkleProof(bytes)!, proof)).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((c) => fc.uint8Array({ minLength: 32 * c, maxLength: 32 * c })),
        (bytes) => {
          const proof = decodeMerkleProof(bytes)!;
          expect(proof).toHaveLength(bytes.length / 32);
          expect(same(encodeMerkleProof(proof), bytes)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }).filter((len) => len % 32 !== 0),
        (length) => {
          expect(decodeMerkleProof(new Uint8Array(length))).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
    for (const notBytes of [undefined, null, 'ab'.repeat(32), Array.from({ length: 32 }, () => 0), new ArrayBuffer(32)]) {
      expect(decodeMerkleProof(notBytes as unknown as Uint8Array)).toBeUndefined();
    }
    // A decoded proof still proves its leaf.
    fc.assert(
      fc.property(provenLeaf(), ({ tree, n, i, leaf, proof }) => {
        expect(verifyMerkleProof(tree.root, leaf, i, decodeMerkleProof(encodeMerkleProof(proof))!, n)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('hashes leaves and nodes with their domain prefixes, and checks leaf inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), hash32, hash32, hash32, (commitment, shardHash, left, right) => {
        const leaf = merkleLeaf(commitment, shardHash);
        expect(same(leaf, keccak_256(concat(Uint8Array.of(0), commitment, shardHash)))).toBe(true);
        const node = merkleNode(left, right);
        // merkleNode hashes through a shared buffer: a later call must not change an earlier result.
        merkleNode(right, left);
        expect(same(node, refNode(left, right))).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }).filter((len) => len !== 48),
        (len) => {
          expectInvalid(() => merkleLeaf(new Uint8Array(len), ZERO), `commitment must be 48 bytes, got ${len}`);
        },
      ),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }).filter((len) => len !== 32),
        (len) => {
          expectInvalid(() => merkleLeaf(new Uint8Array(48), new Uint8Array(len)), `shard hash must be 32 bytes, got ${len}`);
        },
      ),
      { numRuns: 50 },
    );
    expectInvalid(() => merkleLeaf([] as unknown as Uint8Array, ZERO), 'commitment must be a Uint8Array');
    expectInvalid(() => merkleLeaf(new Uint8Array(48), 'x' as unknown as Uint8Array), 'shard hash must be a Uint8Array');
  });

  it('checks tree inputs and proof indices with exact messages', () => {
    expectInvalid(() => new MerkleTree([]), 'a Merkle tree needs at least one leaf');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(
            fc.array(hash32, { minLength: n, maxLength: n }),
            fc.nat(n - 1),
            fc.oneof(
              fc
                .integer({ min: 0, max: 100 })
                .filter((len) => len !== 32)
                .map((len) => new Uint8Array(len)),
              fc.constant(null),
            ),
          ),
        ),
        ([leaves, at, bad]) => {
          const broken: unknown[] = leaves.map((leaf, i) => (i === at ? bad : leaf));
          expectInvalid(
            () => new MerkleTree(broken as Uint8Array[]),
            bad instanceof Uint8Array ? `leaf ${at} must be 32 bytes, got ${bad.length}` : `leaf ${at} must be a Uint8Array`,
          );
        },
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        trees(fc.integer({ min: 1, max: 40 })).chain((t) =>
          fc.tuple(
            fc.constant(t),
            fc.oneof(
              fc.integer({ max: -1 }),
              fc.integer({ min: t.n }),
              fc.double().filter((x) => !Number.isInteger(x)),
            ),
          ),
        ),
        ([{ tree, n }, index]) => {
          expectInvalid(() => tree.proof(index), `leaf index must be an integer in [0, ${n - 1}], got ${String(index)}`);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('MerkleVerifier accepts every proof verifyMerkleProof accepts, and nothing but leaves at their place, over honest and forged proofs', () => {
    // Each step checks leaf j's proof at index i, either honest or with one byte of a sibling or of the leaf flipped.
    const steps = fc.array(fc.record({ i: fc.nat(), j: fc.nat(), flip: fc.option(fc.nat(), { nil: undefined }) }), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(trees(), steps, fc.constantFrom(2, 8, 8192), ({ leaves, tree, n }, sequence, maxNodes) => {
        const verifier = new MerkleVerifier(tree.root, n, maxNodes);
        const disagreements = sequence.flatMap(({ i, j, flip }) => {
          const index = i % n;
          const leaf = Uint8Array.from(leaves[j % n]!);
          const proof = tree.proof(index).map((sibling) => Uint8Array.from(sibling));
          if (flip !== undefined) {
            const target = proof.length === 0 || flip % (proof.length + 1) === proof.length ? leaf : proof[flip % (proof.length + 1)]!;
            target[flip % 32]! ^= 1;
          }
          const honest = verifyMerkleProof(tree.root, leaf, index, proof, n);
          const accepted = verifier.verify(leaf, index, proof);
          // Sound: only a leaf that is there. Complete: every valid proof. (A proven leaf may come with a wrong proof.)
          const ok = accepted ? same(leaf, leaves[index]!) : !honest;
          return ok ? [] : [{ index, j: j % n, flip, honest, accepted }];
        });
        expect(disagreements).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('MerkleVerifier hashes a neighbour of a proven leaf up to the first proven node only', () => {
    const leaves = Array.from({ length: 1024 }, (_, i) => keccak_256(Uint8Array.of(i & 255, i >> 8)));
    const tree = new MerkleTree(leaves);
    const verifier = new MerkleVerifier(tree.root, leaves.length);
    expect(verifier.verify(leaves[0]!, 0, tree.proof(0))).toBe(true);
    // Leaf 1 was proven as leaf 0's sibling: a wrong proof for it is not even looked at.
    expect(
      verifier.verify(
        leaves[1]!,
        1,
        tree.proof(1).map(() => new Uint8Array(32)),
      ),
    ).toBe(true);
    expect(verifier.verify(leaves[2]!, 1, tree.proof(1))).toBe(false);
    expect(verifier.verify(leaves[1]!, 1, [])).toBe(false); // malformed: still refused
  });
});
