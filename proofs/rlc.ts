import { pippenger } from '@noble/curves/abstract/curve.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB, BYTES_PER_FIELD_ELEMENT, FIELD_ELEMENTS_PER_BLOB } from './blob.ts';
import type { Kzg } from './kzg.ts';

/** The BLS12-381 scalar field modulus. */
export const BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const G1 = bls12_381.G1.Point;

/**
 * Checks many (blob, commitment) pairs with one KZG commitment. KZG commitments are linear,
 * so with secret random 128-bit coefficients r_i:
 *     commit(Σ r_i·blob_i) == Σ r_i·C_i
 * holds for honest pairs and, if any pair is wrong, fails except with probability 2^-128.
 * Cost: one commit plus an MSM over the commitments, instead of one commit per blob.
 * Returns false on any malformed input; the caller then checks the pairs one by one to
 * find the culprit.
 */
export function verifyCommitmentsBatch(kzg: Kzg, blobs: Uint8Array[], commitments: Uint8Array[]): boolean {
  const n = blobs.length;
  if (n === 0 || commitments.length !== n) return false;
  if (n === 1) return verifyCommitment(kzg, blobs[0]!, commitments[0]!);
  for (let i = 0; i < n; i++) {
    if (!(blobs[i] instanceof Uint8Array) || blobs[i]!.length !== BYTES_PER_BLOB) return false;
    if (!(commitments[i] instanceof Uint8Array) || commitments[i]!.length !== 48) return false;
  }
  const coefficients = randomCoefficients(n);
  const combined = combineBlobs(blobs, coefficients);
  try {
    const points = commitments.map((c) => G1.fromBytes(c));
    const expected = pippenger(G1, points, coefficients).toBytes(true);
    const actual = kzg.blobToCommitment(combined);
    return Buffer.compare(expected, actual) === 0;
  } catch {
    return false;
  }
}

export function verifyCommitment(kzg: Kzg, blob: Uint8Array, commitment: Uint8Array): boolean {
  try {
    return Buffer.compare(kzg.blobToCommitment(blob), commitment) === 0;
  } catch {
    return false;
  }
}

function randomCoefficients(n: number): bigint[] {
  const bytes = randomBytes(16 * n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => {
    const c = (view.getBigUint64(16 * i) << 64n) | view.getBigUint64(16 * i + 8);
    return c === 0n ? 1n : c;
  });
}

/**
 * Σ r_i·blob_i element-wise mod the field modulus, as a canonical blob. Reduction is lazy:
 * each element accumulates unreduced products (< n·2^256·2^128) and is reduced once.
 */
export function combineBlobs(blobs: Uint8Array[], coefficients: bigint[]): Uint8Array {
  const views = blobs.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
  const out = new Uint8Array(BYTES_PER_BLOB);
  const outView = new DataView(out.buffer);
  const mask64 = 0xffffffffffffffffn;
  for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
    const offset = e * BYTES_PER_FIELD_ELEMENT;
    let acc = 0n;
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      const element =
        (v.getBigUint64(offset) << 192n) |
        (v.getBigUint64(offset + 8) << 128n) |
        (v.getBigUint64(offset + 16) << 64n) |
        v.getBigUint64(offset + 24);
      acc += element * coefficients[i]!;
    }
    acc %= BLS_MODULUS;
    outView.setBigUint64(offset + 24, acc & mask64);
    outView.setBigUint64(offset + 16, (acc >> 64n) & mask64);
    outView.setBigUint64(offset + 8, (acc >> 128n) & mask64);
    outView.setBigUint64(offset, acc >> 192n);
  }
  return out;
}
