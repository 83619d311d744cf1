import { beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { KzgError } from '../../proofs/errors.ts';
import { KZG_BACKENDS, loadCKzg, loadKzg, TRUSTED_SETUP_PATH, TRUSTED_SETUP_SHA256, type Kzg } from '../../proofs/kzg.ts';
import { verifyCommitmentsBatch } from '../../proofs/rlc.ts';

const blobs = Array.from({ length: 3 }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
const reference = loadCKzg();
const commitments = blobs.map((b) => reference.blobToCommitment(b));
const blobProofs = blobs.map((b, i) => reference.computeBlobProof(b, commitments[i]!));
const z = new Uint8Array(32);
z[31] = 42;
const opening = reference.computeProof(blobs[0]!, z);

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
    blobs.forEach((blob, i) => expect(Buffer.from(kzg.blobToCommitment(blob)).toString('hex')).toBe(Buffer.from(commitments[i]!).toString('hex')));
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

  it('checks many commitments with one random linear combination', () => {
    expect(verifyCommitmentsBatch(kzg, blobs, commitments)).toBe(true);
    expect(verifyCommitmentsBatch(kzg, blobs, [commitments[0]!, commitments[2]!, commitments[1]!])).toBe(false);
    expect(verifyCommitmentsBatch(kzg, blobs, commitments.slice(1))).toBe(false);
  });
});
