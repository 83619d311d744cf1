import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BYTES_PER_BLOB, findElementAboveModulus, findNonCanonicalElement, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { FrCode } from '../../proofs/fr-code.ts';
import { blobsToSegment, segmentToBlobs } from '../../protocol/segment.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** `length` bytes replayable from fast-check's seed: an AES-CTR stream under an arbitrary key. */
const bytes = (length: number) =>
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((key) => new Uint8Array(createCipheriv('aes-128-ctr', key, new Uint8Array(16)).update(new Uint8Array(length))));

describe('segments and shards', () => {
  const code = new FrCode(4, 4);
  const erasures = fc.shuffledSubarray(range(8), { minLength: 0, maxLength: 4 });

  it('turns a segment into blobs (data packed, parity canonical) and back through any k of them', () => {
    const segment = fc
      .integer({ min: 0, max: 4 * PAYLOAD_BYTES_PER_BLOB })
      .chain((length) => fc.tuple(bytes(length), fc.array(erasures, { minLength: 3, maxLength: 3 })));
    fc.assert(
      fc.property(segment, ([payload, patterns]) => {
        const blobs = segmentToBlobs(code, payload);
        expect(blobs).toHaveLength(8 * BYTES_PER_BLOB);
        const list = range(8).map((i) => blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
        expect(list.slice(0, 4).map((blob) => findNonCanonicalElement(blob))).toEqual([-1, -1, -1, -1]);
        expect(list.slice(4).map((blob) => findElementAboveModulus(blob))).toEqual([-1, -1, -1, -1]);
        for (const lost of [[], [0, 1, 2, 3], ...patterns]) {
          const rebuilt = blobsToSegment(
            code,
            list.map((b, i) => (lost.includes(i) ? undefined : b)),
          );
          expect(rebuilt).toHaveLength(4 * PAYLOAD_BYTES_PER_BLOB);
          expect(Buffer.compare(rebuilt.subarray(0, payload.length), payload)).toBe(0);
          // Past the payload the segment is zero padding, also when rebuilt from parity.
          expect(rebuilt.subarray(payload.length).every((b) => b === 0)).toBe(true);
        }
      }),
      { numRuns: 5 },
    );
  });

  it('refuses a payload longer than a segment, and a segment with fewer than k shards', () => {
    const length = 4 * PAYLOAD_BYTES_PER_BLOB + 1;
    expect(() => segmentToBlobs(code, new Uint8Array(length))).toThrow(
      `segment payload of ${length} bytes exceeds k × ${PAYLOAD_BYTES_PER_BLOB}`,
    );
    const blobs = segmentToBlobs(code, new Uint8Array(10));
    const list = range(8).map((i) => (i < 5 ? undefined : blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB)));
    expect(() => blobsToSegment(code, list)).toThrow('decoding needs 4 of the 8 shards, got 3');
  });
});
