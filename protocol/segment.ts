import { BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB, packBlob } from '../proofs/blob.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import type { FrCode } from '../proofs/fr-code.ts';

/**
 * How a segment's payload becomes shards, and back. The payload (k × 126,976 bytes, the last
 * segment zero-padded) is cut into k pieces, each packed into a data blob (0x00 ‖ 31 payload
 * bytes per element); the m parity blobs are the Reed-Solomon code over Fr of the data blobs,
 * element by element, so their elements are full field elements (docs/protocol.md).
 */
export function segmentToBlobs(code: FrCode, payload: Uint8Array): Uint8Array {
  const k = code.k;
  if (payload.length > k * PAYLOAD_BYTES_PER_BLOB) {
    throw new InvalidArgumentError(`segment payload of ${payload.length} bytes exceeds k × ${PAYLOAD_BYTES_PER_BLOB}`);
  }
  const blobs = new Uint8Array(code.totalShards * BYTES_PER_BLOB);
  for (let i = 0; i < k; i++) {
    const piece = payload.subarray(
      Math.min(payload.length, i * PAYLOAD_BYTES_PER_BLOB),
      Math.min(payload.length, (i + 1) * PAYLOAD_BYTES_PER_BLOB),
    );
    packBlob(piece, blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
  }
  blobs.set(code.encode(blobs.subarray(0, k * BYTES_PER_BLOB)), k * BYTES_PER_BLOB);
  return blobs;
}

/**
 * Rebuilds a segment's payload from any k of its blobs (undefined = missing). Returns the
 * full k × 126,976 bytes; the caller trims the last segment to the dataset size.
 */
export function blobsToSegment(code: FrCode, blobs: ReadonlyArray<Uint8Array | undefined>): Uint8Array {
  const k = code.k;
  const payload = new Uint8Array(k * PAYLOAD_BYTES_PER_BLOB);
  // decode hands back present data shards as given: the common case costs no arithmetic.
  code.decode(blobs).forEach((blob, i) => {
    code.backend.unpackBlob(blob, payload.subarray(i * PAYLOAD_BYTES_PER_BLOB, (i + 1) * PAYLOAD_BYTES_PER_BLOB));
  });
  return payload;
}
