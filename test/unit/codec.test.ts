import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { ErasureCodec } from '../../proofs/codec.ts';
import { CodecError, InvalidArgumentError } from '../../proofs/errors.ts';
import { blobsToSegment, segmentToBlobs } from '../../protocol/segment.ts';

/** Deterministic PRNG so a failing trial can be replayed from its seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomErasure(n: number, maxLost: number, rand: () => number): Set<number> {
  const lost = new Set<number>();
  const count = Math.floor(rand() * (maxLost + 1));
  while (lost.size < count) lost.add(Math.floor(rand() * n));
  return lost;
}

/** (k, m, trials): trials are weighted by cost, since the codec inverts a k × k matrix per call. */
const GRID: Array<[number, number, number]> = [
  [1, 1, 300], [2, 1, 300], [1, 3, 300], [3, 2, 300], [4, 4, 300], [5, 3, 300], [10, 6, 300], [16, 16, 300],
  [32, 32, 200], [17, 47, 200], [1, 255, 200], [64, 64, 30], [100, 28, 12], [128, 128, 8], [200, 56, 4], [250, 6, 3], [255, 1, 3],
];

describe('ErasureCodec', () => {
  it('reconstructs from every random erasure pattern over a grid of (k, m) up to k + m = 256, reusing instances', () => {
    const rand = prng(2026);
    // One long-lived codec per (k, m), used in rotation so each sees many different
    // patterns and sizes in a row: the situation in which the raw wasm wrapper was seen
    // returning wrong bytes and trapping.
    const codecs = GRID.map(([k, m, trials]) => ({ codec: new ErasureCodec(k, m), left: trials }));
    let trials = 0;
    while (codecs.some((c) => c.left > 0)) {
      for (const entry of codecs) {
        if (entry.left === 0) continue;
        entry.left--;
        const { codec } = entry;
        const k = codec.dataShards;
        const n = codec.totalShards;
        const shardSize = 1 + Math.floor(rand() * (n > 64 ? 48 : 300));
        const data = Array.from({ length: k }, () => new Uint8Array(randomBytes(shardSize)));
        const parity = codec.encode(data);
        expect(parity).toHaveLength(codec.parityShards);
        const all = [...data, ...parity];
        const lost = randomErasure(n, codec.parityShards, rand);
        const received = all.map((s, i) => (lost.has(i) ? undefined : s));
        const rebuilt = codec.reconstruct(received);
        for (let i = 0; i < k; i++) {
          if (Buffer.compare(rebuilt[i]!, data[i]!) !== 0) {
            throw new Error(`trial ${trials}: k=${k} m=${codec.parityShards} size=${shardSize} lost=${[...lost]} shard ${i} differs`);
          }
        }
        trials++;
      }
    }
    expect(trials).toBe(GRID.reduce((sum, [, , t]) => sum + t, 0));
    expect(trials).toBeGreaterThanOrEqual(3000);
  });

  it('rebuilds parity-only and data-only losses at the limit of m erasures', () => {
    const codec = new ErasureCodec(6, 3);
    const data = Array.from({ length: 6 }, () => new Uint8Array(randomBytes(1000)));
    const all = [...data, ...codec.encode(data)];
    for (const lost of [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 5, 8]]) {
      const rebuilt = codec.reconstruct(all.map((s, i) => (lost.includes(i) ? undefined : s)));
      rebuilt.forEach((shard, i) => expect(Buffer.compare(shard, data[i]!)).toBe(0));
    }
  });

  it('refuses to reconstruct from fewer than k shards with a typed error', () => {
    const codec = new ErasureCodec(4, 2);
    const data = Array.from({ length: 4 }, () => new Uint8Array(randomBytes(64)));
    const all = [...data, ...codec.encode(data)];
    const tooFew = all.map((s, i) => (i < 3 ? undefined : s));
    expect(() => codec.reconstruct(tooFew)).toThrowError(CodecError);
    try {
      codec.reconstruct(tooFew);
    } catch (error) {
      expect((error as CodecError).code).toBe('codec_too_few_shards');
      expect((error as CodecError).message).toBe('need 4 shards to reconstruct, have 3');
    }
    // The instance is still good after the refusal.
    const rebuilt = codec.reconstruct(all.map((s, i) => (i < 2 ? undefined : s)));
    expect(Buffer.compare(rebuilt[0]!, data[0]!)).toBe(0);
  });

  it('checks its parameters and inputs', () => {
    expect(() => new ErasureCodec(0, 1)).toThrowError(InvalidArgumentError);
    expect(() => new ErasureCodec(200, 57)).toThrowError('parity shards (m) must be an integer in [1, 56], got 57');
    expect(() => new ErasureCodec(3, 0)).toThrowError(InvalidArgumentError);
    const codec = new ErasureCodec(2, 2);
    expect(() => codec.encode([new Uint8Array(4)])).toThrowError('expected 2 data shards, got 1');
    expect(() => codec.encode([new Uint8Array(4), new Uint8Array(5)])).toThrowError('data shard 1 must be 4 bytes, got 5');
    expect(() => codec.encodeInPlace(new Uint8Array(10))).toThrowError('buffer of 10 bytes is not 4 equal, non-empty shards');
    expect(() => codec.reconstruct([undefined, undefined])).toThrowError('expected 4 shard slots, got 2');
  });

  it('turns a segment into canonical blobs and back through any k of them', () => {
    const codec = new ErasureCodec(4, 4);
    const payload = new Uint8Array(randomBytes(4 * PAYLOAD_BYTES_PER_BLOB - 12345));
    const blobs = segmentToBlobs(codec, payload);
    const list = Array.from({ length: 8 }, (_, i) => blobs.subarray(i * 131072, (i + 1) * 131072));
    for (const lost of [[], [0, 1, 2, 3], [4, 5, 6, 7], [1, 3, 4, 6]]) {
      const rebuilt = blobsToSegment(codec, list.map((b, i) => (lost.includes(i) ? undefined : b)));
      expect(Buffer.compare(rebuilt.subarray(0, payload.length), payload)).toBe(0);
      expect(rebuilt.subarray(payload.length).every((b) => b === 0)).toBe(true);
    }
  });
});
