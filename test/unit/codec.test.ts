import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { BYTES_PER_BLOB, findNonCanonicalElement, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { ErasureCodec, MAX_TOTAL_SHARDS } from '../../proofs/codec.ts';
import { CodecError, InvalidArgumentError } from '../../proofs/errors.ts';
import { blobsToSegment, segmentToBlobs } from '../../protocol/segment.ts';

type Params = { k: number; m: number };
type ErrorClass = typeof CodecError | typeof InvalidArgumentError;

// One long-lived codec per (k, m), shared by every property in this file, so each instance
// sees many erasure patterns, shard sizes and refusals in a row: the situation in which a
// reused wasm instance was seen returning wrong bytes and trapping.
const codecs = new Map<string, ErasureCodec>();
const uses = new Map<string, number>();
function codecFor({ k, m }: Params): ErasureCodec {
  const key = `${k},${m}`;
  uses.set(key, (uses.get(key) ?? 0) + 1);
  const codec = codecs.get(key) ?? new ErasureCodec(k, m);
  codecs.set(key, codec);
  return codec;
}

const otherSize = (size: number) => fc.integer({ min: 0, max: 64 }).filter((x) => x !== size);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const concat = (a: Uint8Array, b: Uint8Array) => Buffer.concat([a, b]);

/**
 * `length` bytes. Small buffers sometimes come straight from fast-check (biased towards
 * zeros, repeats and extremes); any buffer can be an AES-CTR stream under an arbitrary key,
 * because fast-check builds bytes one by one (~0.3 µs each) and a run can need tens of KB.
 * Both replay from the fast-check seed, and a stream makes every shard differ from the others.
 */
function bytes(length: number): fc.Arbitrary<Uint8Array> {
  const stream = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((key) => {
    const out = createCipheriv('aes-128-ctr', key, new Uint8Array(16)).update(new Uint8Array(length));
    return new Uint8Array(out);
  });
  return length <= 2048 ? fc.oneof(fc.uint8Array({ minLength: length, maxLength: length }), stream) : stream;
}

/**
 * (k, m) tiers, so runs can be budgeted by cost, which grows with k: one encode or reconstruct
 * call takes ~0.4 ms at k = 4, ~1 ms at k = 32, ~30 ms at k = 128 and ~100 ms at k = 255.
 * Each tier mixes fixed pairs, which then meet many patterns on one instance, with arbitrary
 * pairs from the whole tier.
 */
const pairs = (list: Array<[number, number]>) => fc.constantFrom(...list.map(([k, m]) => ({ k, m })));
const SMALL_PAIRS: Array<[number, number]> = [
  [1, 1],
  [2, 1],
  [1, 3],
  [3, 2],
  [4, 4],
  [5, 3],
  [10, 6],
  [16, 16],
  [32, 32],
  [17, 47],
  [63, 1],
];
// k + m ≤ 64
const SMALL = fc.oneof(
  pairs(SMALL_PAIRS),
  fc.integer({ min: 2, max: 64 }).chain((n) => fc.integer({ min: 1, max: n - 1 }).map((k) => ({ k, m: n - k }))),
);
// k ≤ 32, 64 < k + m ≤ 256: cheap despite many shards
const WIDE = fc.oneof(
  pairs([
    [1, 255],
    [2, 254],
    [8, 120],
    [32, 224],
  ]),
  fc.integer({ min: 1, max: 32 }).chain((k) => fc.integer({ min: 65 - k, max: MAX_TOTAL_SHARDS - k }).map((m) => ({ k, m }))),
);
// 33 ≤ k ≤ 255, k + m ≤ 256
const LARGE = fc.oneof(
  pairs([
    [64, 64],
    [100, 28],
    [128, 128],
    [200, 56],
    [250, 6],
    [255, 1],
  ]),
  fc.integer({ min: 33, max: MAX_TOTAL_SHARDS - 1 }).chain((k) => fc.integer({ min: 1, max: MAX_TOTAL_SHARDS - k }).map((m) => ({ k, m }))),
);
const ANY = fc.oneof(SMALL, WIDE, LARGE);

/**
 * Indices of lost shards, at most m of them: exactly m (the limit) most often, sometimes
 * fewer, and sometimes as many data shards as possible (the hardest case for the decoder,
 * while losing only parity or nothing skips it).
 */
function erasures({ k, m }: Params): fc.Arbitrary<number[]> {
  const all = range(k + m);
  const dataFirst = Math.min(k, m);
  return fc.oneof(
    { weight: 3, arbitrary: fc.shuffledSubarray(all, { minLength: m, maxLength: m }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: m }).chain((c) => fc.shuffledSubarray(all, { minLength: c, maxLength: c })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.shuffledSubarray(range(k), { minLength: dataFirst, maxLength: dataFirst }),
          fc.shuffledSubarray(range(m, k), { minLength: m - dataFirst, maxLength: m - dataFirst }),
        )
        .map(([data, parity]) => [...data, ...parity]),
    },
  );
}

/** More than m lost shards, up to all of them. */
function tooManyErasures({ k, m }: Params): fc.Arbitrary<number[]> {
  return fc.integer({ min: m + 1, max: k + m }).chain((c) => fc.shuffledSubarray(range(k + m), { minLength: c, maxLength: c }));
}

/** (k, m), a shard size, the k data shards back to back, and `patterns` erasure sets of ≤ m shards. */
function scenario(params: fc.Arbitrary<Params>, maxShardSize: number, patterns = 1) {
  return params.chain((p) =>
    fc.integer({ min: 1, max: maxShardSize }).chain((size) =>
      fc.record({
        p: fc.constant(p),
        size: fc.constant(size),
        data: bytes(p.k * size),
        patterns: fc.array(erasures(p), { minLength: patterns, maxLength: patterns }),
      }),
    ),
  );
}

function shardsOf(buffer: Uint8Array, count: number, size: number): Uint8Array[] {
  return range(count).map((i) => buffer.subarray(i * size, (i + 1) * size));
}

function expectError(fn: () => unknown, type: ErrorClass, code: string, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(type);
  expect(error).toMatchObject({ code, message });
}

/** Encodes with encode() and checks that each erasure pattern gives back the data. */
function roundTrip({ p, size, data, patterns }: { p: Params; size: number; data: Uint8Array; patterns: number[][] }): void {
  const codec = codecFor(p);
  const pristine = data.slice();
  const dataShards = shardsOf(data, p.k, size);
  const parity = codec.encode(dataShards);
  // One expect per check, not per shard: with up to 255 shards a run, expect() itself shows up in the profile.
  expect(parity.map((shard) => shard.length)).toEqual(range(p.m).map(() => size));
  // encode() must not touch its input.
  expect(same(data, pristine)).toBe(true);
  const all = [...dataShards, ...parity];
  for (const lost of patterns) {
    const erased = new Set(lost);
    const rebuilt = codec.reconstruct(all.map((s, i) => (erased.has(i) ? undefined : s)));
    expect(rebuilt).toHaveLength(p.k);
    expect(range(p.k).filter((i) => !same(rebuilt[i]!, pristine.subarray(i * size, (i + 1) * size)))).toEqual([]);
    // Present data shards come back as given, not as copies.
    expect(range(p.k).filter((i) => !erased.has(i) && rebuilt[i] !== dataShards[i])).toEqual([]);
  }
}

describe('ErasureCodec', () => {
  it('reconstructs the data from every random pattern of at most m erasures, k + m up to 256, on long-lived instances', () => {
    // Two patterns per encoding; fewer runs where a call is dear (see the tiers above).
    fc.assert(fc.property(scenario(SMALL, 300, 2), roundTrip), { numRuns: 500 });
    fc.assert(fc.property(scenario(WIDE, 64, 2), roundTrip), { numRuns: 100 });
    fc.assert(fc.property(scenario(LARGE, 48, 2), roundTrip), { numRuns: 14 });
    // The point is reuse: each fixed pair's one instance served many runs (~20 expected here alone).
    expect(Math.min(...SMALL_PAIRS.map(([k, m]) => uses.get(`${k},${m}`) ?? 0))).toBeGreaterThanOrEqual(5);
  });

  it('rebuilds every pattern of at most m erasures of a (6, 3) code, exhaustively', () => {
    const codec = codecFor({ k: 6, m: 3 });
    const patterns: number[][] = [[]];
    for (let a = 0; a < 9; a++) {
      patterns.push([a]);
      for (let b = a + 1; b < 9; b++) {
        patterns.push([a, b]);
        for (let c = b + 1; c < 9; c++) patterns.push([a, b, c]);
      }
    }
    expect(patterns).toHaveLength(1 + 9 + 36 + 84);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }).chain((size) => fc.tuple(fc.constant(size), bytes(6 * size))),
        ([size, data]) => {
          const pristine = data.slice();
          const dataShards = shardsOf(data, 6, size);
          const all = [...dataShards, ...codec.encode(dataShards)];
          for (const lost of patterns) {
            const rebuilt = codec.reconstruct(all.map((s, i) => (lost.includes(i) ? undefined : s)));
            expect(range(6).filter((i) => !same(rebuilt[i]!, pristine.subarray(i * size, (i + 1) * size)))).toEqual([]);
          }
        },
      ),
      { numRuns: 3 },
    );
  });

  it('encodeInPlace fills the parity region whatever it held, leaves the data alone, and agrees with encode', () => {
    fc.assert(
      fc.property(
        scenario(
          fc.oneof(
            { weight: 4, arbitrary: SMALL },
            { weight: 2, arbitrary: WIDE },
            {
              weight: 1,
              arbitrary: pairs([
                [64, 64],
                [100, 28],
              ]),
            },
          ),
          200,
        ).chain((s) => fc.tuple(fc.constant(s), bytes(s.p.m * s.size))),
        ([{ p, size, data }, junk]) => {
          const codec = codecFor(p);
          const buffer = new Uint8Array((p.k + p.m) * size);
          buffer.set(data);
          buffer.set(junk, p.k * size);
          expect(codec.encodeInPlace(buffer)).toBe(buffer);
          expect(same(buffer.subarray(0, p.k * size), data)).toBe(true);
          const parity = codec.encode(shardsOf(data, p.k, size));
          expect(range(p.m).filter((j) => !same(parity[j]!, buffer.subarray((p.k + j) * size, (p.k + j + 1) * size)))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is linear over GF(2^8) and works column by column (so no call leaks bytes, offsets or state into another)', () => {
    const xor = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x ^ b[i]!);
    fc.assert(
      fc.property(
        scenario(fc.oneof(SMALL, WIDE), 200).chain((s) =>
          fc.tuple(fc.constant(s), bytes(s.data.length), fc.integer({ min: 0, max: s.size })),
        ),
        ([{ p, size, data }, other, cut]) => {
          const codec = codecFor(p);
          const parity = (buffer: Uint8Array, width: number) => codec.encode(shardsOf(buffer, p.k, width));
          const a = parity(data, size);
          const b = parity(other, size);
          // Reed-Solomon parity is a GF(2^8)-linear map of the data, and addition is XOR.
          const sum = parity(xor(data, other), size);
          expect(range(p.m).filter((j) => !same(sum[j]!, xor(a[j]!, b[j]!)))).toEqual([]);
          // Byte c of every parity shard depends only on byte c of the data shards.
          if (cut === 0 || cut === size) return;
          const columns = (from: number, to: number) => {
            const out = new Uint8Array(p.k * (to - from));
            for (let i = 0; i < p.k; i++) out.set(data.subarray(i * size + from, i * size + to), i * (to - from));
            return parity(out, to - from);
          };
          const left = columns(0, cut);
          const right = columns(cut, size);
          expect(range(p.m).filter((j) => !same(a[j]!, concat(left[j]!, right[j]!)))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses more than m erasures with its typed error, and the instance still works afterwards', () => {
    // Refusal comes before any wasm call, so unencoded bytes will do and every tier is cheap.
    fc.assert(
      fc.property(
        ANY.chain((p) => fc.tuple(fc.constant(p), tooManyErasures(p))),
        ([p, lost]) => {
          const codec = codecFor(p);
          const shard = new Uint8Array(8);
          const received = range(p.k + p.m).map((i) => (lost.includes(i) ? undefined : shard));
          expectError(
            () => codec.reconstruct(received),
            CodecError,
            'codec_too_few_shards',
            `need ${p.k} shards to reconstruct, have ${p.k + p.m - lost.length}`,
          );
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        scenario(SMALL, 64).chain((s) => fc.tuple(fc.constant(s), tooManyErasures(s.p))),
        ([s, tooMany]) => {
          const codec = codecFor(s.p);
          const dataShards = shardsOf(s.data, s.p.k, s.size);
          const all = [...dataShards, ...codec.encode(dataShards)];
          expectError(
            () => codec.reconstruct(all.map((x, i) => (tooMany.includes(i) ? undefined : x))),
            CodecError,
            'codec_too_few_shards',
            `need ${s.p.k} shards to reconstruct, have ${s.p.k + s.p.m - tooMany.length}`,
          );
          roundTrip(s);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('checks its parameters with exact messages', () => {
    const notAnInteger = fc.oneof(
      fc.double().filter((x) => !Number.isInteger(x)), // includes NaN and ±Infinity
      fc.constantFrom<unknown>('4', 4n, null, undefined, [4]),
    );
    const badK = fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_TOTAL_SHARDS }), notAnInteger);
    fc.assert(
      fc.property(badK, fc.integer({ min: 1, max: 10 }), (k, m) =>
        expectError(
          () => new ErasureCodec(k as number, m),
          InvalidArgumentError,
          'invalid_argument',
          `data shards (k) must be an integer in [1, 255], got ${String(k)}`,
        ),
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: MAX_TOTAL_SHARDS - 1 })
          .chain((k) =>
            fc.tuple(fc.constant(k), fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_TOTAL_SHARDS - k + 1 }), notAnInteger)),
          ),
        ([k, m]) =>
          expectError(
            () => new ErasureCodec(k, m as number),
            InvalidArgumentError,
            'invalid_argument',
            `parity shards (m) must be an integer in [1, ${MAX_TOTAL_SHARDS - k}], got ${String(m)}`,
          ),
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(ANY, ({ k, m }) => {
        const codec = new ErasureCodec(k, m);
        expect([codec.dataShards, codec.parityShards, codec.totalShards]).toEqual([k, m, k + m]);
      }),
      { numRuns: 200 },
    );
    // The boundaries, spelled out.
    expectError(
      () => new ErasureCodec(0, 1),
      InvalidArgumentError,
      'invalid_argument',
      'data shards (k) must be an integer in [1, 255], got 0',
    );
    expectError(
      () => new ErasureCodec(3, 0),
      InvalidArgumentError,
      'invalid_argument',
      'parity shards (m) must be an integer in [1, 253], got 0',
    );
    expectError(
      () => new ErasureCodec(200, 57),
      InvalidArgumentError,
      'invalid_argument',
      'parity shards (m) must be an integer in [1, 56], got 57',
    );
    expectError(
      () => new ErasureCodec(256, 1),
      InvalidArgumentError,
      'invalid_argument',
      'data shards (k) must be an integer in [1, 255], got 256',
    );
    expect(new ErasureCodec(255, 1).totalShards).toBe(256);
  });

  it('checks its inputs with exact messages', () => {
    const params = fc.oneof(SMALL, WIDE);
    // encode: wrong number of data shards, one data shard of another size, empty shards.
    fc.assert(
      fc.property(
        params.chain((p) =>
          fc.tuple(
            fc.constant(p),
            fc.integer({ min: 0, max: p.k + 5 }).filter((c) => c !== p.k),
          ),
        ),
        ([p, count]) =>
          expectError(
            () => codecFor(p).encode(range(count).map(() => new Uint8Array(4))),
            CodecError,
            'codec_bad_shards',
            `expected ${p.k} data shards, got ${count}`,
          ),
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        params
          .filter((p) => p.k >= 2)
          .chain((p) =>
            fc
              .integer({ min: 1, max: 64 })
              .chain((size) => fc.tuple(fc.constant(p), fc.constant(size), otherSize(size), fc.integer({ min: 1, max: p.k - 1 }))),
          ),
        ([p, size, other, odd]) => {
          const shards = range(p.k).map((i) => new Uint8Array(i === odd ? other : size));
          expectError(
            () => codecFor(p).encode(shards),
            InvalidArgumentError,
            'invalid_argument',
            `data shard ${odd} must be ${size} bytes, got ${other}`,
          );
        },
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(params, (p) =>
        expectError(
          () => codecFor(p).encode(range(p.k).map(() => new Uint8Array(0))),
          CodecError,
          'codec_bad_shards',
          `buffer of 0 bytes is not ${p.k + p.m} equal, non-empty shards`,
        ),
      ),
      { numRuns: 50 },
    );
    // encodeInPlace: a length that is not n equal, non-empty shards, or not bytes at all.
    fc.assert(
      fc.property(
        params.chain((p) =>
          fc.tuple(
            fc.constant(p),
            fc.integer({ min: 0, max: 4096 }).filter((len) => len === 0 || len % (p.k + p.m) !== 0),
          ),
        ),
        ([p, length]) =>
          expectError(
            () => codecFor(p).encodeInPlace(new Uint8Array(length)),
            CodecError,
            'codec_bad_shards',
            `buffer of ${length} bytes is not ${p.k + p.m} equal, non-empty shards`,
          ),
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(params, fc.constantFrom<unknown>([1, 2, 3, 4], 'abcd', new ArrayBuffer(8), null), (p, notBytes) =>
        expectError(
          () => codecFor(p).encodeInPlace(notBytes as Uint8Array),
          InvalidArgumentError,
          'invalid_argument',
          'shards must be a Uint8Array',
        ),
      ),
      { numRuns: 50 },
    );
    // reconstruct: wrong number of slots, a present shard of another size, empty shards.
    fc.assert(
      fc.property(
        params.chain((p) =>
          fc.tuple(
            fc.constant(p),
            fc.integer({ min: 0, max: p.k + p.m + 5 }).filter((c) => c !== p.k + p.m),
          ),
        ),
        ([p, count]) =>
          expectError(
            () => codecFor(p).reconstruct(range(count).map(() => new Uint8Array(4))),
            CodecError,
            'codec_bad_shards',
            `expected ${p.k + p.m} shard slots, got ${count}`,
          ),
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        params
          .filter((p) => p.k + p.m >= 3)
          .chain((p) =>
            fc.integer({ min: 0, max: p.k - 1 }).chain((missing) => {
              // A data shard must be missing, or reconstruct returns the data without looking further;
              // the odd shard is present but not the first present one, whose size is the reference.
              const present = range(p.k + p.m).filter((i) => i !== missing);
              return fc
                .integer({ min: 1, max: 40 })
                .chain((size) =>
                  fc.tuple(fc.constant(p), fc.constant(missing), fc.constantFrom(...present.slice(1)), fc.constant(size), otherSize(size)),
                );
            }),
          ),
        ([p, missing, odd, size, other]) => {
          const received = range(p.k + p.m).map((i) => (i === missing ? undefined : new Uint8Array(i === odd ? other : size)));
          expectError(
            () => codecFor(p).reconstruct(received),
            InvalidArgumentError,
            'invalid_argument',
            `shard ${odd} must be ${size} bytes, got ${other}`,
          );
        },
      ),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(params, (p) =>
        expectError(
          () => codecFor(p).reconstruct(range(p.k + p.m).map(() => new Uint8Array(0))),
          CodecError,
          'codec_bad_shards',
          'shards must not be empty',
        ),
      ),
      { numRuns: 50 },
    );
    // The cases the hand-written test checked, spelled out.
    const codec = new ErasureCodec(2, 2);
    expect(() => codec.encode([new Uint8Array(4)])).toThrowError('expected 2 data shards, got 1');
    expect(() => codec.encode([new Uint8Array(4), new Uint8Array(5)])).toThrowError('data shard 1 must be 4 bytes, got 5');
    expect(() => codec.encodeInPlace(new Uint8Array(10))).toThrowError('buffer of 10 bytes is not 4 equal, non-empty shards');
    expect(() => codec.reconstruct([undefined, undefined])).toThrowError('expected 4 shard slots, got 2');
    const four = new ErasureCodec(4, 2);
    expectError(
      () => four.reconstruct([undefined, undefined, undefined, new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]),
      CodecError,
      'codec_too_few_shards',
      'need 4 shards to reconstruct, have 3',
    );
  });

  it('turns a segment into canonical blobs and back through any k of them', () => {
    const codec = codecFor({ k: 4, m: 4 });
    const segment = fc
      .integer({ min: 0, max: 4 * PAYLOAD_BYTES_PER_BLOB })
      .chain((length) => fc.tuple(bytes(length), fc.array(erasures({ k: 4, m: 4 }), { minLength: 3, maxLength: 3 })));
    fc.assert(
      fc.property(segment, ([payload, patterns]) => {
        const blobs = segmentToBlobs(codec, payload);
        expect(blobs).toHaveLength(8 * BYTES_PER_BLOB);
        const list = range(8).map((i) => blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
        expect(list.map((blob) => findNonCanonicalElement(blob))).toEqual(range(8).map(() => -1));
        for (const lost of [[], [0, 1, 2, 3], ...patterns]) {
          const rebuilt = blobsToSegment(
            codec,
            list.map((b, i) => (lost.includes(i) ? undefined : b)),
          );
          expect(rebuilt).toHaveLength(4 * PAYLOAD_BYTES_PER_BLOB);
          expect(same(rebuilt.subarray(0, payload.length), payload)).toBe(true);
          // Past the payload the segment is zero padding, also when rebuilt from parity.
          expect(rebuilt.subarray(payload.length).every((b) => b === 0)).toBe(true);
        }
      }),
      { numRuns: 5 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 4 * PAYLOAD_BYTES_PER_BLOB + 1, max: 4 * PAYLOAD_BYTES_PER_BLOB + 4096 }), (length) =>
        expectError(
          () => segmentToBlobs(codec, new Uint8Array(length)),
          InvalidArgumentError,
          'invalid_argument',
          `segment payload of ${length} bytes exceeds k × ${PAYLOAD_BYTES_PER_BLOB}`,
        ),
      ),
      { numRuns: 10 },
    );
  });
});
