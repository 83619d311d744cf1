import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_BLOB, FIELD_ELEMENTS_PER_BLOB } from '../../proofs/blob.ts';
import { BLS_MODULUS, bytesToScalar, randomFieldElement, scalarToBytes } from '../../proofs/field.ts';
import { decodeColumns, encodeColumns, evaluationPoints, parityCommitments, parityCommitmentsConsistent } from '../../proofs/fr-code.ts';
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

  it('is linear, so a parity blob’s KZG commitment is the same combination of the data blobs’ commitments (c-kzg)', () => {
    const kzg = loadCKzg();
    const k = 3;
    const m = 2;
    const data = Array.from({ length: k }, () => randomColumn(FIELD_ELEMENTS_PER_BLOB));
    const parity = encodeColumns(data, m);
    const blob = (column: bigint[]) => {
      const out = new Uint8Array(BYTES_PER_BLOB);
      for (const [e, value] of column.entries()) out.set(scalarToBytes(value), e * 32);
      return out;
    };
    const derived = parityCommitments(
      data.map((column) => kzg.blobToCommitment(blob(column))),
      m,
    );
    expect(derived.map((c) => Buffer.from(c).toString('hex'))).toEqual(
      parity.map((column) => Buffer.from(kzg.blobToCommitment(blob(column))).toString('hex')),
    );
    // A parity blob changed in one element no longer matches: the check could fail.
    const tampered = [...parity[0]!];
    tampered[7] = (tampered[7]! + 1n) % BLS_MODULUS;
    expect(Buffer.from(kzg.blobToCommitment(blob(tampered))).equals(Buffer.from(derived[0]!))).toBe(false);
  });

  it('checks a whole manifest’s parity commitments against its data commitments in one batch', () => {
    const kzg = loadCKzg();
    const k = 2;
    const m = 2;
    const blob = (column: bigint[]) => {
      const out = new Uint8Array(BYTES_PER_BLOB);
      for (const [e, value] of column.entries()) out.set(scalarToBytes(value), e * 32);
      return out;
    };
    const segments = Array.from({ length: 3 }, () => {
      const data = Array.from({ length: k }, () => randomColumn(FIELD_ELEMENTS_PER_BLOB));
      const commitments = data.map((column) => kzg.blobToCommitment(blob(column)));
      return { data: commitments, parity: parityCommitments(commitments, m) };
    });
    expect(parityCommitmentsConsistent(segments, k, m)).toBe(true);
    // A parity shard consistent with its own blob but not with the data: an honest commitment of a wrong blob.
    const other = blob(randomColumn(FIELD_ELEMENTS_PER_BLOB));
    const wrongBlob = segments.map((s, i) => (i === 1 ? { ...s, parity: [kzg.blobToCommitment(other), s.parity[1]!] } : s));
    expect(parityCommitmentsConsistent(wrongBlob, k, m)).toBe(false);
    // Two segments' parity swapped: each is a valid combination, of the wrong data.
    const swapped = segments.map((s, i) => (i === 0 ? { ...s, parity: segments[2]!.parity } : s));
    expect(parityCommitmentsConsistent(swapped, k, m)).toBe(false);
    // Malformed: wrong counts, bytes that are no point, a code that cannot be.
    expect(parityCommitmentsConsistent([{ data: segments[0]!.data, parity: [segments[0]!.parity[0]!] }], k, m)).toBe(false);
    expect(parityCommitmentsConsistent([{ ...segments[0]!, data: [new Uint8Array(48).fill(1), segments[0]!.data[1]!] }], k, m)).toBe(false);
    expect(parityCommitmentsConsistent(segments, 0, m)).toBe(false);
  });
});
