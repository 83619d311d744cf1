import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_BLOB, FIELD_ELEMENTS_PER_BLOB, packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { BLS_MODULUS, bytesToScalar, randomFieldElement, scalarToBytes } from '../../proofs/field.ts';
import { FR_BACKENDS, frMatrix, loadFrBackend, NATIVE_ADDON_PATH } from '../../proofs/fr-backend.ts';
import { encodeColumns } from '../../proofs/fr-code.ts';
import { loadCKzg } from '../../proofs/kzg.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const randomScalar = () => bytesToScalar(randomFieldElement());

/** A blob of uniform field elements (full 32-byte elements, as parity blobs are). */
function fullBlob(): Uint8Array {
  const out = new Uint8Array(BYTES_PER_BLOB);
  for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) out.set(randomFieldElement(), e * 32);
  return out;
}

function elements(blob: Uint8Array): bigint[] {
  return Array.from({ length: FIELD_ELEMENTS_PER_BLOB }, (_, e) => bytesToScalar(blob.subarray(e * 32, e * 32 + 32)));
}

const concat = (blobs: Uint8Array[]) => {
  const out = new Uint8Array(blobs.length * BYTES_PER_BLOB);
  blobs.forEach((b, i) => {
    out.set(b, i * BYTES_PER_BLOB);
  });
  return out;
};

// The native addon is built by `npm install`; in npm test it must be there, not silently replaced.
it('the native addon is built and loads', () => {
  expect(loadFrBackend().name).toBe('native');
});

describe.each(FR_BACKENDS)('Fr backend %s', (name) => {
  const backend = loadFrBackend(name);
  const kzg = loadCKzg();

  it('commits a blob byte-identically to c-kzg: packed data, full elements, zero and edge values', () => {
    const packed = packBlob(randomBytes(PAYLOAD_BYTES_PER_BLOB));
    const full = fullBlob();
    full.set(scalarToBytes(BLS_MODULUS - 1n), 0); // the largest element
    const sparse = new Uint8Array(BYTES_PER_BLOB);
    sparse[BYTES_PER_BLOB - 1] = 1;
    for (const blob of [packed, full, sparse, new Uint8Array(BYTES_PER_BLOB)]) {
      expect(hex(backend.commitBlob(blob))).toBe(hex(kzg.blobToCommitment(blob)));
    }
  });

  it('refuses a blob with an element not below the modulus, naming it', () => {
    const blob = fullBlob();
    blob.set(scalarToBytes(BLS_MODULUS), 9 * 32);
    if (name === 'native') {
      expect(() => backend.commitBlob(blob)).toThrow('field element 9 is not below the BLS12-381 scalar modulus');
    } else {
      expect(() => backend.commitBlob(blob)).toThrow('KZG commit failed');
    }
    expect(() => backend.commitBlob(new Uint8Array(100))).toThrow('blob must be 131072 bytes, got 100');
  });

  it('computes multi-scalar multiplications as noble does, and refuses bytes that are no point of G1', () => {
    const G = bls12_381.G1.Point;
    const points = Array.from({ length: 40 }, () => G.BASE.multiply(randomScalar()));
    const scalars = points.map((_, i) => (i === 3 ? 0n : i === 4 ? BLS_MODULUS - 1n : randomScalar()));
    const bytes = points.map((p) => p.toBytes(true));
    bytes[5] = G.ZERO.toBytes(true); // infinity contributes nothing
    const expected = pippenger(
      G,
      points.map((p, i) => (i === 5 ? G.ZERO : p)),
      scalars,
    );
    expect(hex(backend.msm(bytes, scalars))).toBe(hex(expected.toBytes(true)));
    expect(hex(backend.msm(bytes.slice(0, 1), scalars.slice(0, 1)))).toBe(hex(points[0]!.multiply(scalars[0]!).toBytes(true)));
    expect(hex(backend.msm([], []))).toBe(hex(G.ZERO.toBytes(true)));
    const notAPoint = new Uint8Array(48).fill(0x11);
    expect(() => backend.msm([bytes[0]!, notAPoint], [1n, 2n])).toThrow('point 1 is not a compressed point of G1');
    expect(() => backend.msm([bytes[0]!], [BLS_MODULUS])).toThrow('scalars must be below the scalar modulus');
    expect(() => backend.msm([bytes[0]!], [1n, 2n])).toThrow('one scalar per point');
  });

  it('combines commitments row by row, as the matching combination of blobs commits (linearity, c-kzg)', () => {
    const blobs = [fullBlob(), fullBlob(), fullBlob()];
    const matrix = frMatrix([
      [1n, 2n, 3n],
      [randomScalar(), 0n, randomScalar()],
    ]);
    const combined = backend.combineBlobs(concat(blobs), matrix);
    const commitments = backend.combineCommitments(
      blobs.map((b) => kzg.blobToCommitment(b)),
      matrix,
    );
    expect(commitments.map(hex)).toEqual(
      [0, 1].map((row) => hex(kzg.blobToCommitment(combined.subarray(row * BYTES_PER_BLOB, (row + 1) * BYTES_PER_BLOB)))),
    );
  });

  it('combines blobs element by element exactly as the BigInt reference code', () => {
    const blobs = [fullBlob(), packBlob(randomBytes(1000)), fullBlob(), fullBlob()];
    const data = blobs.map(elements);
    const parity = encodeColumns(data, 3);
    // The reference's parity rows are a combination too: recover them with the code's own matrix.
    const rows = Array.from({ length: 3 }, (_, j) => Array.from({ length: 4 }, (_, i) => encodeColumns(unit(4, i), 3)[j]![0]!));
    const out = backend.combineBlobs(concat(blobs), frMatrix(rows));
    for (let j = 0; j < 3; j++) expect(elements(out.subarray(j * BYTES_PER_BLOB, (j + 1) * BYTES_PER_BLOB))).toEqual(parity[j]);
  });

  it('refuses input elements not below the modulus, and matrices that do not fit the blobs', () => {
    const blobs = [fullBlob(), fullBlob()];
    blobs[1]!.set(scalarToBytes(BLS_MODULUS + 5n), 17 * 32);
    expect(() => backend.combineBlobs(concat(blobs), frMatrix([[1n, 1n]]))).toThrow(
      'element 17 of input blob 1 is not below the BLS12-381 scalar modulus',
    );
    expect(() => backend.combineBlobs(concat(blobs), frMatrix([[1n, 1n, 1n]]))).toThrow('blobs must be 393216 bytes, got 262144');
    expect(() => frMatrix([[BLS_MODULUS]])).toThrow('matrix elements must be below the scalar modulus');
  });

  it('unpacks a data blob into its payload, into a view at any offset, and refuses wrong sizes', () => {
    const payload = randomBytes(PAYLOAD_BYTES_PER_BLOB);
    const blob = packBlob(payload);
    // A view into a larger buffer, as a segment's payload is: the bytes land at its offset, nowhere else.
    const segment = new Uint8Array(3 * PAYLOAD_BYTES_PER_BLOB).fill(7);
    backend.unpackBlob(blob, segment.subarray(PAYLOAD_BYTES_PER_BLOB, 2 * PAYLOAD_BYTES_PER_BLOB));
    expect(hex(segment.subarray(PAYLOAD_BYTES_PER_BLOB, 2 * PAYLOAD_BYTES_PER_BLOB))).toBe(hex(payload));
    expect(segment.subarray(0, PAYLOAD_BYTES_PER_BLOB).every((b) => b === 7)).toBe(true);
    expect(segment.subarray(2 * PAYLOAD_BYTES_PER_BLOB).every((b) => b === 7)).toBe(true);
    expect(() => backend.unpackBlob(blob.subarray(1), new Uint8Array(PAYLOAD_BYTES_PER_BLOB))).toThrow(
      'blob must be 131072 bytes, got 131071',
    );
    expect(() => backend.unpackBlob(blob, new Uint8Array(PAYLOAD_BYTES_PER_BLOB + 1))).toThrow('out must be 126976 bytes, got 126977');
  });
});

/**
 * The fixed-base commitment adds in affine coordinates, with a general formula for the sums the
 * affine one cannot make: P + P, P − P and the point at infinity. With the real setup they are
 * rare (an empty bucket makes the weighing add a sum to itself; the buckets' own sums meet them
 * with negligible probability); a setup of small multiples of G meets them all the time. The
 * addon keeps one setup per process, so this runs in a child process of its own.
 */
it('native: commits exactly under a setup that forces P + P, P − P and infinity in the buckets', () => {
  const G = bls12_381.G1.Point;
  // Neighbours in a bucket: 1 + 1 doubles, 2 − 2 cancels, and later rounds add to what cancelled.
  const factors = [1n, 1n, 2n, BLS_MODULUS - 2n, 3n, 5n, BLS_MODULUS - 1n, 7n];
  const factor = (i: number) => factors[i % factors.length]!;
  const points = factors.map((f) => G.BASE.multiply(f).toBytes(true));
  const setup = Buffer.concat(Array.from({ length: FIELD_ELEMENTS_PER_BLOB }, (_, i) => points[i % factors.length]!));
  const same = new Uint8Array(BYTES_PER_BLOB);
  for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) same.set(scalarToBytes(123_456_789n), e * 32); // every bucket full of equal points
  const cancelling = new Uint8Array(BYTES_PER_BLOB); // 1·s + 1·(r − s): the commitment is infinity
  cancelling.set(scalarToBytes(987_654_321n), 0);
  cancelling.set(scalarToBytes(BLS_MODULUS - 987_654_321n), 32);
  const blobs = [fullBlob(), packBlob(randomBytes(PAYLOAD_BYTES_PER_BLOB)), same, cancelling, new Uint8Array(BYTES_PER_BLOB)];
  const expected = blobs.map((blob) => {
    const sum = elements(blob).reduce((acc, s, i) => (acc + s * factor(i)) % BLS_MODULUS, 0n);
    return hex((sum === 0n ? G.ZERO : G.BASE.multiply(sum)).toBytes(true));
  });
  const script = [
    'const addon = require(process.argv[1]);',
    "const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));",
    "addon.loadSetup(Buffer.from(input.setup, 'hex'));",
    "const out = input.blobs.map((blob) => Buffer.from(addon.commitBlob(new Uint8Array(Buffer.from(blob, 'hex')))).toString('hex'));",
    'process.stdout.write(JSON.stringify(out));',
  ].join('\n');
  const run = spawnSync(process.execPath, ['-e', script, fileURLToPath(NATIVE_ADDON_PATH)], {
    input: JSON.stringify({ setup: hex(setup), blobs: blobs.map(hex) }),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual(expected);
  expect(expected[3]).toBe(hex(G.ZERO.toBytes(true)));
});

/** k unit columns of length 1: encoding them reads off the generator's parity rows. */
function unit(k: number, i: number): bigint[][] {
  return Array.from({ length: k }, (_, j) => [j === i ? 1n : 0n]);
}
