import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ProvenShard } from '../../client/node-client.ts';
import { type FetchTerms, fetchSegment, type ShardHealth } from '../../client/segment-fetcher.ts';
import { BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { frCodeFor } from '../../proofs/fr-code.ts';
import { sha256 } from '../../proofs/hash.ts';
import { MerkleTree, MerkleVerifier, merkleLeaf } from '../../proofs/merkle.ts';
import { segmentPayloadBytes } from '../../protocol/manifest.ts';
import { segmentToBlobs } from '../../protocol/segment.ts';

const k = 2;
const m = 2;

/** One segment's four shards on four in-memory nodes, each answering after its own delay (Infinity: never). */
function segmentOnNodes(delaysMs: number[]) {
  const payload = randomBytes(segmentPayloadBytes(k));
  const blobs = segmentToBlobs(frCodeFor(k, m), payload);
  const shards = Array.from({ length: k + m }, (_, i) => blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
  // The leaf binds whatever commitment the node states; fetchSegment checks leaves against the root, not KZG.
  const commitments = shards.map(() => randomBytes(48));
  const tree = new MerkleTree(shards.map((blob, i) => merkleLeaf(commitments[i]!, sha256(blob))));
  const asked: number[] = [];
  const clients = delaysMs.map((delay, node) => ({
    url: `memory://${node}`,
    getShardWithProof: (_id: Uint8Array, _s: number, i: number, signal?: AbortSignal) =>
      new Promise<ProvenShard>((resolve, reject) => {
        asked.push(i);
        const answer = () =>
          resolve({ blob: shards[i]!, commitment: commitments[i]!, shardHash: sha256(shards[i]!), inclusionProof: tree.proof(i) });
        const timer = Number.isFinite(delay) ? setTimeout(answer, delay) : undefined;
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
  }));
  const terms: FetchTerms = { contentRoot: tree.root, size: payload.length, k, m, nodeCount: k + m };
  return { payload, clients, terms, merkle: new MerkleVerifier(tree.root, k + m), asked };
}

function health(hedgeDelayMs: number, maxHedgeMs: number) {
  const hedged: number[] = [];
  const view: ShardHealth = {
    rank: () => 0,
    hedgeDelayMs: () => hedgeDelayMs,
    maxHedgeMs: () => maxHedgeMs,
    served: () => {},
    failed: () => {},
    hedged: (node) => hedged.push(node),
  };
  return { view, hedged };
}

describe('fetchSegment hedging', () => {
  it('does not hedge when every node is slow alike: no shard came back, so the nodes are loaded, not one of them slow', async () => {
    // Both answer at 110 ms, between the hedge checks at 80 and 120 ms (not on one: that would race).
    const { payload, clients, terms, merkle, asked } = segmentOnNodes([110, 110, 5, 5]);
    const { view, hedged } = health(40, 2000);
    const fetched = await fetchSegment(new Uint8Array(32), terms, 0, { clients, merkle, health: view });
    expect(fetched.reconstructed).toBe(false);
    expect(Buffer.from(fetched.payload.subarray(0, payload.length)).equals(payload)).toBe(true);
    expect([hedged, asked]).toEqual([[], [0, 1]]);
  });

  it('hedges a node still silent after the delay once another shard of the segment has come back', async () => {
    const { payload, clients, terms, merkle } = segmentOnNodes([Number.POSITIVE_INFINITY, 5, 5, 5]);
    const { view, hedged } = health(20, 2000);
    const fetched = await fetchSegment(new Uint8Array(32), terms, 0, { clients, merkle, health: view });
    expect(fetched.reconstructed).toBe(true);
    expect(Buffer.from(fetched.payload.subarray(0, payload.length)).equals(payload)).toBe(true);
    expect(hedged).toEqual([0]);
  });

  it('does not hedge a request past the delay but within three times what the first answer of its segment took', async () => {
    // Under load every latency is past a hedge delay learnt when the gateway was quiet: the siblings are the measure.
    const { clients, terms, merkle, asked } = segmentOnNodes([100, 150, 5, 5]);
    const { view, hedged } = health(20, 2000);
    const fetched = await fetchSegment(new Uint8Array(32), terms, 0, { clients, merkle, health: view });
    expect(fetched.reconstructed).toBe(false);
    expect([hedged, asked]).toEqual([[], [0, 1]]);
  });

  it('hedges after the longest delay even when nothing has come back', async () => {
    const { clients, terms, merkle } = segmentOnNodes([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 5, 5]);
    const { view, hedged } = health(20, 100);
    const started = performance.now();
    const fetched = await fetchSegment(new Uint8Array(32), terms, 0, { clients, merkle, health: view });
    expect(fetched.reconstructed).toBe(true);
    expect(hedged.sort()).toEqual([0, 1]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });
});
