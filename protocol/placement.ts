import { InvalidArgumentError } from '../proofs/errors.ts';

/**
 * Placement rule: shard i of segment s lives on node (i + s) mod N, where nodes are ordered
 * as in the manifest. With n = k + m ≤ N every segment lands on n distinct nodes. The
 * rotation by s spreads data and parity roles over all nodes: with N = n every node holds
 * exactly one shard of every segment; with N > n every node holds n shards in every N
 * consecutive segments, so counts differ by at most min(n, N − n) in a partial cycle.
 * Both client and nodes evaluate this; it is part of the protocol.
 */
export function nodeForShard(segment: number, shardIndex: number, nodeCount: number): number {
  return (shardIndex + segment) % nodeCount;
}

/** Why n shards per segment cannot be placed on N nodes, or undefined when they can. */
export function placementProblem(shardsPerSegment: number, nodeCount: number): string | undefined {
  return nodeCount < shardsPerSegment
    ? `k + m = ${shardsPerSegment} shards per segment need at least ${shardsPerSegment} distinct nodes, have ${nodeCount}`
    : undefined;
}

export function checkPlacement(shardsPerSegment: number, nodeCount: number): void {
  const problem = placementProblem(shardsPerSegment, nodeCount);
  if (problem) throw new InvalidArgumentError(problem);
}

/** Every (segment, shard index) placed on `node`, in upload order. */
export function* shardsOnNode(node: number, segments: number, shardsPerSegment: number, nodeCount: number): Generator<[number, number]> {
  for (let s = 0; s < segments; s++) {
    const i = (((node - s) % nodeCount) + nodeCount) % nodeCount;
    if (i < shardsPerSegment) yield [s, i];
  }
}

/**
 * How many shards of `segments` segments land on `node`, in O(1): every full cycle of N
 * segments gives it n; the last `segments mod N` segments give it the indices node,
 * node − 1, … (mod N), of which those below n are shards. The registry contract computes the
 * same (assignedShardCount) to split rewards and to know who can be challenged.
 */
export function assignedShardCount(node: number, segments: number, shardsPerSegment: number, nodeCount: number): number {
  const n = shardsPerSegment;
  let count = Math.floor(segments / nodeCount) * n;
  const rest = segments % nodeCount;
  if (rest === 0) return count;
  const top = Math.min(node, n - 1);
  if (node + 1 >= rest) {
    const low = node + 1 - rest;
    if (top + 1 > low) count += top + 1 - low;
  } else {
    count += top + 1;
    const wrapLow = nodeCount - (rest - node - 1);
    if (n > wrapLow) count += n - wrapLow;
  }
  return count;
}

/**
 * Default code for N nodes: n = min(N, 256) shards per segment, half of them parity. Any
 * n − m = k shards recover a segment, so up to m = ⌊n/2⌋ nodes may be down.
 */
export function defaultCodeParameters(nodeCount: number): { k: number; m: number } {
  const n = Math.min(nodeCount, 256);
  if (n < 2) throw new InvalidArgumentError('Sherd needs at least 2 nodes');
  const m = Math.floor(n / 2);
  return { k: n - m, m };
}
