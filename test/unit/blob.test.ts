import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB, findNonCanonicalElement, packBlob, PAYLOAD_BYTES_PER_BLOB, unpackBlob } from '../../proofs/blob.ts';

describe('blob packing', () => {
  it('round-trips a full payload and keeps every top byte zero', () => {
    const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB));
    const blob = packBlob(payload);
    expect(blob.length).toBe(BYTES_PER_BLOB);
    expect(findNonCanonicalElement(blob)).toBe(-1);
    expect(Buffer.compare(unpackBlob(blob), payload)).toBe(0);
  });

  it('zero-pads a short payload', () => {
    const payload = new Uint8Array([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    ]);
    const blob = packBlob(payload);
    expect(blob[0]).toBe(0);
    expect(blob[1]).toBe(1);
    expect(blob[31]).toBe(31);
    expect(blob[32]).toBe(0);
    expect(blob[33]).toBe(32);
    expect(blob.subarray(34).every((b) => b === 0)).toBe(true);
  });

  it('rejects an oversized payload and finds a set top byte', () => {
    expect(() => packBlob(new Uint8Array(PAYLOAD_BYTES_PER_BLOB + 1))).toThrowError(
      'payload of 126977 bytes does not fit one blob (126976)',
    );
    const blob = packBlob(new Uint8Array(10));
    blob[32 * 77] = 1;
    expect(findNonCanonicalElement(blob)).toBe(77);
  });
});
