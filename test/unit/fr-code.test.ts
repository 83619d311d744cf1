import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB, FIELD_ELEMENTS_PER_BLOB, packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { BLS_MODULUS, bytesToScalar, randomFieldElement, scalarToBytes } from '../../proofs/field.ts';
import { FR_BACKENDS, frMatrix, loadFrBackend } from '../../proofs/fr-backend.ts';
import { decodeColumns, encodesByFft, encodeColumns, evaluationPoints, FrCode, fftParameters, parityMatrix } from '../../proofs/fr-code.ts';
import { loadCKzg } from '../../proofs/kzg.ts';

const randomColumn = (length: number) => Array.from({ length }, () => bytesToScalar(randomFieldElement()));

/** Every way to keep exactly k of n indices. */
function* subsets(n: number, k: number, from = 0, picked: number[] = []): Generator<number[]> {
  if (picked.length === k) {
    yield [...picked];
    return;
  }
  for (let i = from; i <= n - (k - picked.length); i++) yield* subsets(n, k, i + 1, [...picked, i]);
}

function decodeKeeping(columns: bigint[][], keep: number[], k: number, m: number): bigint[][] {
  return decodeColumns(
    columns.map((column, i) => (keep.includes(i) ? column : undefined)),
    k,
    m,
  );
}

describe('Reed-Solomon over Fr', () => {
  it('uses distinct evaluation points, data points first, for every code up to 256 shards', () => {
    for (const [k, m] of [
      [1, 1],
      [3, 5],
      [4, 4],
      [16, 16],
      [100, 156],
      [128, 128],
    ] as const) {
      const points = evaluationPoints(k, m);
      expect(new Set(points.map(String)).size).toBe(k + m);
      expect(points.every((x) => x > 0n && x < BLS_MODULUS)).toBe(true);
    }
    // With k a power of two, the data points are the subgroup of order k (x^k = 1 for each).
    const points = evaluationPoints(4, 4);
    expect(points.slice(0, 4).every((x) => (x * x * x * x) % BLS_MODULUS === 1n)).toBe(true);
  });

  it('rebuilds the data from every k of k + m shards, for every small code', () => {
    for (let n = 2; n <= 8; n++) {
      for (let k = 1; k < n; k++) {
        const m = n - k;
        const data = Array.from({ length: k }, () => randomColumn(3));
        const columns = [...data, ...encodeColumns(data, m)];
        for (const keep of subsets(n, k)) expect(decodeKeeping(columns, keep, k, m)).toEqual(data);
      }
    }
  });

  it('rebuilds the data from random k-subsets of codes up to k + m = 256', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 160 }), fc.integer({ min: 1, max: 96 }), fc.infiniteStream(fc.nat()), (k, m, picks) => {
        const n = Math.min(256, k + m);
        const parity = n - k;
        if (parity < 1) return;
        const data = Array.from({ length: k }, () => randomColumn(1));
        const columns = [...data, ...encodeColumns(data, parity)];
        const order = [...Array(n).keys()];
        const it = picks[Symbol.iterator]();
        for (let i = n - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        expect(decodeKeeping(columns, order.slice(0, k), k, parity)).toEqual(data);
      }),
      { numRuns: 12 },
    );
  });

  it('refuses to decode from fewer than k shards, with a clear error', () => {
    const data = [randomColumn(2), randomColumn(2)];
    const columns = [...data, ...encodeColumns(data, 2)];
    expect(() => decodeKeeping(columns, [3], 2, 2)).toThrow('decoding needs 2 of the 4 shards, got 1');
    expect(() => encodeColumns([randomColumn(2), randomColumn(3)], 1)).toThrow('every data column must have the same length');
  });
});

const blobOf = (column: bigint[]) => {
  const out = new Uint8Array(BYTES_PER_BLOB);
  for (const [e, value] of column.entries()) out.set(scalarToBytes(value), e * 32);
  return out;
};
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** k data blobs of Sherd's packing (a zero top byte), back to back. */
function dataBlobs(k: number): Uint8Array {
  const out = new Uint8Array(k * BYTES_PER_BLOB);
  for (let i = 0; i < k; i++) packBlob(randomBytes(PAYLOAD_BYTES_PER_BLOB), out.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
  return out;
}

function shardsOf(code: FrCode, data: Uint8Array): Uint8Array[] {
  const parity = code.encode(data);
  return [
    ...Array.from({ length: code.k }, (_, i) => data.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB)),
    ...Array.from({ length: code.m }, (_, j) => parity.subarray(j * BYTES_PER_BLOB, (j + 1) * BYTES_PER_BLOB)),
  ];
}

describe.each(FR_BACKENDS)('FrCode on the %s backend', (name) => {
  const backend = loadFrBackend(name);
  const kzg = loadCKzg();

  it('encodes as the reference does and rebuilds the data blobs from every k of k + m, for every code up to 6 shards', () => {
    for (let n = 2; n <= 6; n++) {
      for (let k = 1; k < n; k++) {
        const code = new FrCode(k, n - k, backend);
        const data = dataBlobs(k);
        const shards = shardsOf(code, data);
        const columns = shards
          .slice(0, k)
          .map((b) => Array.from({ length: 4 }, (_, e) => BigInt(`0x${hex(b.subarray(e * 32, e * 32 + 32))}`)));
        const reference = encodeColumns(columns, n - k);
        for (const [j, column] of reference.entries())
          expect(hex(shards[k + j]!.subarray(0, 128))).toBe(hex(blobOf(column).subarray(0, 128)));
        for (const keep of subsets(n, k)) {
          const decoded = code.decode(shards.map((s, i) => (keep.includes(i) ? s : undefined)));
          expect(decoded.map(hex)).toEqual(shards.slice(0, k).map(hex));
        }
      }
    }
  });

  it('derives parity commitments from data commitments, equal to c-kzg’s commitments of the parity blobs', () => {
    const code = new FrCode(3, 2, backend);
    const shards = shardsOf(code, dataBlobs(3));
    const derived = code.parityCommitments(shards.slice(0, 3).map((b) => kzg.blobToCommitment(b)));
    expect(derived.map(hex)).toEqual(shards.slice(3).map((b) => hex(kzg.blobToCommitment(b))));
    // A parity blob changed in one element no longer matches: the check could fail.
    const tampered = shards[3]!.slice();
    tampered[7 * 32 + 31]! ^= 1;
    expect(hex(kzg.blobToCommitment(tampered))).not.toBe(hex(derived[0]!));
  });

  it('checks a whole manifest’s parity commitments against its data commitments in one batch', () => {
    const k = 2;
    const m = 2;
    const code = new FrCode(k, m, backend);
    const segments = Array.from({ length: 3 }, () => {
      const commitments = shardsOf(code, dataBlobs(k))
        .slice(0, k)
        .map((b) => kzg.blobToCommitment(b));
      return { data: commitments, parity: code.parityCommitments(commitments) };
    });
    expect(code.parityCommitmentsConsistent(segments)).toBe(true);
    expect(code.parityCommitmentsConsistent([])).toBe(true);
    // A parity shard consistent with its own blob but not with the data: an honest commitment of a wrong blob.
    const other = kzg.blobToCommitment(blobOf(randomColumn(FIELD_ELEMENTS_PER_BLOB)));
    const wrongBlob = segments.map((s, i) => (i === 1 ? { ...s, parity: [other, s.parity[1]!] } : s));
    expect(code.parityCommitmentsConsistent(wrongBlob)).toBe(false);
    // Two segments' parity swapped: each is a valid combination, of the wrong data.
    const swapped = segments.map((s, i) => (i === 0 ? { ...s, parity: segments[2]!.parity } : s));
    expect(code.parityCommitmentsConsistent(swapped)).toBe(false);
    // Malformed: wrong counts, bytes that are no point.
    expect(code.parityCommitmentsConsistent([{ data: segments[0]!.data, parity: [segments[0]!.parity[0]!] }])).toBe(false);
    expect(code.parityCommitmentsConsistent([{ ...segments[0]!, data: [new Uint8Array(48).fill(1), segments[0]!.data[1]!] }])).toBe(false);
  });

  it('refuses to decode from fewer than k shards, and codes that cannot be', () => {
    const code = new FrCode(2, 2, backend);
    const shards = shardsOf(code, dataBlobs(2));
    expect(() => code.decode([undefined, undefined, undefined, shards[3]])).toThrow('decoding needs 2 of the 4 shards, got 1');
    expect(() => code.decode(shards.slice(0, 3))).toThrow('expected 4 shard slots, got 3');
    expect(() => new FrCode(0, 2, backend)).toThrow('data shards (k) must be an integer in [1, 255], got 0');
    expect(() => new FrCode(200, 57, backend)).toThrow('k + m must be at most 256, got 257');
  });
});

it('rebuilds blobs from random erasure patterns of codes up to k + m = 256 (native)', () => {
  const backend = loadFrBackend('native');
  for (const [k, m] of [
    [128, 128],
    [17, 239],
    [200, 56],
    [16, 16],
  ] as const) {
    const code = new FrCode(k, m, backend);
    const shards = shardsOf(code, dataBlobs(k));
    const order = [...Array(k + m).keys()].sort(() => Math.random() - 0.5);
    const keep = new Set(order.slice(0, k));
    const decoded = code.decode(shards.map((s, i) => (keep.has(i) ? s : undefined)));
    expect(decoded.map(hex)).toEqual(shards.slice(0, k).map(hex));
  }
});

describe('encoding by FFT (native, k a power of two)', () => {
  const backend = loadFrBackend('native');

  it('gives the matrix code’s parity byte for byte, for every coset layout', () => {
    // m < k, m = k, m a multiple of k, m past several cosets, and small k the code itself would not FFT.
    for (const [k, m] of [
      [2, 1],
      [2, 6],
      [4, 4],
      [8, 3],
      [16, 16],
      [16, 3],
      [32, 96],
      [64, 64],
      [16, 240],
    ] as const) {
      const data = dataBlobs(k);
      const byMatrix = backend.combineBlobs(data, frMatrix(parityMatrix(k, m)));
      const byFft = backend.fftEncode!(data, fftParameters(k, m, evaluationPoints(k, m)), m);
      expect(hex(byFft), `k = ${k}, m = ${m}`).toBe(hex(byMatrix));
    }
  });

  it('is what FrCode uses where it pays, and its parity decodes', () => {
    expect([encodesByFft(16, 16), encodesByFft(16, 8), encodesByFft(16, 3), encodesByFft(12, 12), encodesByFft(4, 1)]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    const code = new FrCode(16, 8, backend);
    const shards = shardsOf(code, dataBlobs(16));
    const keep = new Set([...Array(24).keys()].slice(8));
    expect(code.decode(shards.map((s, i) => (keep.has(i) ? s : undefined))).map(hex)).toEqual(shards.slice(0, 16).map(hex));
  });

  it('refuses k that is not a power of two, and an element not below the modulus', () => {
    expect(() => backend.fftEncode!(dataBlobs(3), fftParameters(4, 1, evaluationPoints(4, 1)), 1)).toThrow(
      'fftEncode takes k (a power of two) blobs',
    );
    const data = dataBlobs(2);
    data.set(scalarToBytes(BLS_MODULUS), BYTES_PER_BLOB + 5 * 32);
    expect(() => backend.fftEncode!(data, fftParameters(2, 2, evaluationPoints(2, 2)), 2)).toThrow(
      'element 5 of input blob 1 is not below the BLS12-381 scalar modulus',
    );
  });
});
