import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_BLOB } from '../../proofs/blob.ts';
import {
  type BatchShard,
  decodeShardBatch,
  encodeShardBatch,
  formatShardList,
  MAX_SHARDS_PER_BATCH,
  parseShardList,
  SHARD_LIST_PATTERN,
} from '../../protocol/shard-batch.ts';

const shard = (proofLength: number): BatchShard => ({
  commitment: new Uint8Array(randomBytes(48)),
  shardHash: new Uint8Array(randomBytes(32)),
  inclusionProof: Array.from({ length: proofLength }, () => new Uint8Array(randomBytes(32))),
  blob: new Uint8Array(randomBytes(BYTES_PER_BLOB)),
});

describe('shard batches', () => {
  it('round-trips held and missing shards in order', () => {
    const shards = [shard(3), undefined, shard(0), shard(17), undefined];
    const body = encodeShardBatch(shards);
    expect(body.length).toBe(3 * (1 + 48 + 32 + 1 + BYTES_PER_BLOB) + 20 * 32 + 2);
    expect(decodeShardBatch(body, shards.length)).toEqual(shards);
  });

  it('refuses a body that ends early, runs long or has an unknown status, with bad_shard_batch', () => {
    const body = encodeShardBatch([shard(2)]);
    const cases: Array<[Uint8Array, number, string]> = [
      [body.subarray(0, body.length - 1), 1, 'the shard batch ends early'],
      [body, 2, 'the shard batch ends early'],
      [new Uint8Array([...body, 0]), 1, 'the shard batch has 1 bytes too many'],
      [Uint8Array.of(7), 1, 'shard 0 has status 7'],
    ];
    for (const [bytes, count, message] of cases) {
      expect(() => decodeShardBatch(bytes, count)).toThrow(expect.objectContaining({ code: 'bad_shard_batch', message }));
    }
  });

  it('formats and parses shard lists, and refuses malformed or too long ones with bad_shard_list', () => {
    const list: Array<[number, number]> = [
      [0, 0],
      [12, 5],
      [4_000_000_000, 255],
    ];
    expect(formatShardList(list)).toBe('0.0,12.5,4000000000.255');
    expect(parseShardList(formatShardList(list))).toEqual(list);
    // The route's schema pattern admits what parseShardList parses, up to the same count.
    const pattern = new RegExp(SHARD_LIST_PATTERN);
    const sixteen = Array.from({ length: MAX_SHARDS_PER_BATCH }, (_, i) => `${i}.0`).join(',');
    expect([pattern.test(formatShardList(list)), pattern.test(sixteen), pattern.test(`${sixteen},16.0`), pattern.test('1.2,')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const tooMany = Array.from({ length: MAX_SHARDS_PER_BATCH + 1 }, (_, i) => `${i}.0`).join(',');
    for (const [text, message] of [
      ['', 'not a shard (SEGMENT.INDEX): '],
      ['1.2,', 'not a shard (SEGMENT.INDEX): '],
      ['1-2', 'not a shard (SEGMENT.INDEX): 1-2'],
      ['1.2.3', 'not a shard (SEGMENT.INDEX): 1.2.3'],
      [tooMany, `a batch names 1 to ${MAX_SHARDS_PER_BATCH} shards`],
    ] as const) {
      expect(() => parseShardList(text)).toThrow(expect.objectContaining({ code: 'bad_shard_list', message }));
    }
  });
});
