import { beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { fromHex } from '../../proofs/bytes.ts';
import { KzgError } from '../../proofs/errors.ts';
import { KZG_BACKENDS, loadCKzg, loadKzg, TRUSTED_SETUP_PATH, TRUSTED_SETUP_SHA256, type Kzg } from '../../proofs/kzg.ts';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { BLS_MODULUS } from '../../proofs/field.ts';
import { FR_BACKENDS, frMatrix, loadFrBackend } from '../../proofs/fr-backend.ts';
import { verifyCommitmentsBatch } from '../../proofs/rlc.ts';

const blobs = Array.from({ length: 3 }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
const reference = loadCKzg();
const commitments = blobs.map((b) => reference.blobToCommitment(b));
const blobProofs = blobs.map((b, i) => reference.computeBlobProof(b, commitments[i]!));
const z = new Uint8Array(32);
z[31] = 42;
const opening = reference.computeProof(blobs[0]!, z);

/** A compressed point on the curve but outside the prime-order subgroup (not a valid commitment). */
function pointOutsideSubgroup(): Uint8Array {
  const { Fp } = bls12_381.fields;
  for (let x = 1n; ; x++) {
    const y2 = Fp.add(Fp.pow(x, 3n), 4n);
    if (Fp.pow(y2, (Fp.ORDER - 1n) / 2n) !== 1n) continue;
    const point = bls12_381.G1.Point.fromAffine({ x, y: Fp.sqrt(y2) });
    if (point.isTorsionFree()) continue;
    // noble will not serialize such a point; encode it by hand (ZCash compressed form).
    const bytes = fromHex(x.toString(16).padStart(96, '0'), 48);
    bytes[0]! |= 0x80 | (Fp.sqrt(y2) > (Fp.ORDER - 1n) / 2n ? 0x20 : 0);
    return bytes;
  }
}

describe.each(FR_BACKENDS)('the batch check on the %s backend', (name) => {
  const backend = loadFrBackend(name);

  it('checks many commitments with one random linear combination', () => {
    expect(verifyCommitmentsBatch(backend, blobs, commitments)).toBe(true);
    expect(verifyCommitmentsBatch(backend, blobs, [commitments[0]!, commitments[2]!, commitments[1]!])).toBe(false);
    expect(verifyCommitmentsBatch(backend, blobs, commitments.slice(1))).toBe(false);
  });

  it('refuses, in a batch, a commitment on the curve but outside the subgroup', () => {
    const rogue = pointOutsideSubgroup();
    expect(verifyCommitmentsBatch(backend, blobs, [commitments[0]!, rogue, commitments[2]!])).toBe(false);
  });

  it('combines blobs exactly like the BigInt definition, across extreme values', () => {
    const extreme = new Uint8Array(131072);
    for (let e = 0; e < 4096; e++) extreme.set(fromHex((BLS_MODULUS - 1n).toString(16).padStart(64, '0'), 32), e * 32);
    const list = [...Array.from({ length: 70 }, (_, i) => (i % 7 === 0 ? extreme : blobs[i % 3]!))];
    const coefficients = list.map((_, i) => (i % 5 === 0 ? (1n << 128n) - 1n : BigInt(`0x${randomBytes(16).toString('hex')}`)));
    const all = new Uint8Array(list.length * 131072);
    list.forEach((blob, i) => {
      all.set(blob, i * 131072);
    });
    expect(Buffer.compare(backend.combineBlobs(all, frMatrix([coefficients])), combineReference(list, coefficients))).toBe(0);
  });
});

/** The plain definition, element by element in BigInt: what combineBlobs must equal. */
function combineReference(list: Uint8Array[], coefficients: bigint[]): Uint8Array {
  const out = new Uint8Array(131072);
  for (let e = 0; e < 4096; e++) {
    let acc = 0n;
    list.forEach((blob, i) => {
      acc += BigInt(`0x${Buffer.from(blob.subarray(e * 32, e * 32 + 32)).toString('hex')}`) * coefficients[i]!;
    });
    out.set(fromHex((acc % BLS_MODULUS).toString(16).padStart(64, '0'), 32), e * 32);
  }
  return out;
}

it('ships the EIP-4844 ceremony setup unchanged', () => {
  const digest = createHash('sha256').update(readFileSync(TRUSTED_SETUP_PATH)).digest('hex');
  expect(`0x${digest}`).toBe(TRUSTED_SETUP_SHA256);
});

describe.each(KZG_BACKENDS)('Kzg backend %s', (backend) => {
  let kzg: Kzg;
  beforeAll(async () => {
    kzg = await loadKzg(backend);
  }, 120_000);

  it('gives the same commitments as every other backend', () => {
    blobs.forEach((blob, i) => {
      expect(Buffer.from(kzg.blobToCommitment(blob)).toString('hex')).toBe(Buffer.from(commitments[i]!).toString('hex'));
    });
  });

  it('accepts blob proofs made by the reference backend, and its own are accepted there', () => {
    expect(kzg.verifyBlobProof(blobs[0]!, commitments[0]!, blobProofs[0]!)).toBe(true);
    expect(kzg.verifyBlobProofBatch(blobs, commitments, blobProofs)).toBe(true);
    const own = kzg.computeBlobProof(blobs[1]!, commitments[1]!);
    expect(reference.verifyBlobProof(blobs[1]!, commitments[1]!, own)).toBe(true);
  });

  it('verifies an opening at a point', () => {
    expect(kzg.verifyProof(commitments[0]!, z, opening.y, opening.proof)).toBe(true);
    expect(kzg.verifyProof(commitments[1]!, z, opening.y, opening.proof)).toBe(false);
    const otherZ = z.slice();
    otherZ[31] = 43;
    expect(kzg.verifyProof(commitments[0]!, otherZ, opening.y, opening.proof)).toBe(false);
  });

  it('opens at a point where it can, and says clearly where it cannot', () => {
    if (kzg.canOpenAtPoint) {
      const own = kzg.computeProof(blobs[0]!, z);
      expect(Buffer.compare(own.y, opening.y)).toBe(0);
      expect(reference.verifyProof(commitments[0]!, z, own.y, own.proof)).toBe(true);
    } else {
      expect(() => kzg.computeProof(blobs[0]!, z)).toThrowError(KzgError);
      expect(() => kzg.computeProof(blobs[0]!, z)).toThrowError(/cannot open a blob at an arbitrary point/);
    }
  });

  it('returns false, never throws, on malformed input to verify', () => {
    const nonCanonical = blobs[0]!.slice();
    nonCanonical.fill(0xff, 0, 32);
    const notAPoint = new Uint8Array(48).fill(0x11);
    expect(kzg.verifyBlobProof(blobs[0]!.subarray(1), commitments[0]!, blobProofs[0]!)).toBe(false);
    expect(kzg.verifyBlobProof(nonCanonical, commitments[0]!, blobProofs[0]!)).toBe(false);
    expect(kzg.verifyBlobProof(blobs[0]!, notAPoint, blobProofs[0]!)).toBe(false);
    expect(kzg.verifyBlobProof(blobs[0]!, commitments[0]!, new Uint8Array(47))).toBe(false);
    expect(kzg.verifyBlobProof(blobs[1]!, commitments[0]!, blobProofs[0]!)).toBe(false);
    expect(kzg.verifyProof(commitments[0]!, new Uint8Array(31), opening.y, opening.proof)).toBe(false);
    expect(kzg.verifyProof(commitments[0]!, new Uint8Array(32).fill(0xff), opening.y, opening.proof)).toBe(false);
    expect(kzg.verifyProof(notAPoint, z, opening.y, opening.proof)).toBe(false);
    expect(kzg.verifyBlobProofBatch(blobs, commitments.slice(1), blobProofs)).toBe(false);
    expect(kzg.verifyBlobProof(undefined as unknown as Uint8Array, commitments[0]!, blobProofs[0]!)).toBe(false);
  });

  it('throws from compute on malformed input', () => {
    expect(() => kzg.blobToCommitment(new Uint8Array(100))).toThrowError('blob must be 131072 bytes, got 100');
  });
});
