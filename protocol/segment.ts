import { BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB, packBlob, unpackBlob } from '../proofs/blob.ts';
import type { ErasureCodec } from '../proofs/codec.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';

/**
 * How a segment's payload becomes shards, and back. The payload (k × 126,976 bytes, the
 * last segment zero-padded) is cut into k data pieces; Reed-Solomon adds m parity pieces
 * over the same payload bytes; each piece is packed into a canonical blob. Coding before
 * packing keeps every blob canonical.
 */
export function segmentToBlobs(codec: ErasureCodec, payload: Uint8Array): Uint8Array {
  const k = codec.dataShards;
  const n = codec.totalShards;
  if (payload.length > k * PAYLOAD_BYTES_PER_BLOB) {
    throw new InvalidArgumentError(`segment payload of ${payload.length} bytes exceeds k × ${PAYLOAD_BYTES_PER_BLOB}`);
  }
  const pieces = new Uint8Array(n * PAYLOAD_BYTES_PER_BLOB);
  pieces.set(payload, 0);
  codec.encodeInPlace(pieces);
  const blobs = new Uint8Array(n * BYTES_PER_BLOB);
  for (let i = 0; i < n; i++) {
    packBlob(
      pieces.subarray(i * PAYLOAD_BYTES_PER_BLOB, (i + 1) * PAYLOAD_BYTES_PER_BLOB),
      blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB),
    );
  }
  return blobs;
}

/**
 * Rebuilds a segment's payload from any k of its blobs (undefined = missing). Returns the
 * full k × 126,976 bytes; the caller trims the last segment to the dataset size.
 */
export function blobsToSegment(codec: ErasureCodec, blobs: ReadonlyArray<Uint8Array | undefined>): Uint8Array {
  const k = codec.dataShards;
  const payload = new Uint8Array(k * PAYLOAD_BYTES_PER_BLOB);
  const piece = (i: number) => payload.subarray(i * PAYLOAD_BYTES_PER_BLOB, (i + 1) * PAYLOAD_BYTES_PER_BLOB);
  // Common case, every data shard present: unpack straight into the payload, no RS, no copies.
  if (blobs.slice(0, k).every((b) => b !== undefined)) {
    for (let i = 0; i < k; i++) unpackBlob(blobs[i]!, piece(i));
    return payload;
  }
  const data = codec.reconstruct(blobs.map((blob) => (blob === undefined ? undefined : unpackBlob(blob))));
  data.forEach((p, i) => {
    payload.set(p, i * PAYLOAD_BYTES_PER_BLOB);
  });
  return payload;
}
