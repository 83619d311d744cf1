import { createCipheriv, createDecipheriv } from 'node:crypto';
import { assertBytes, assertInteger, SherdError } from './errors.ts';

/**
 * AES-256-GCM in fixed chunks, the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár):
 * chunk i is sealed with nonce 0⁵⁶ ‖ i (u32, big-endian) ‖ last (one byte, 1 for the final
 * chunk, else 0), so every chunk decrypts on its own (a byte range costs at most two extra
 * chunks) while moving, dropping, repeating or cutting chunks fails authentication: a chunk
 * only opens at its own index, and only the true last chunk opens with the final flag. The
 * key must be used for one stream only (the nonce is a counter). Every chunk holds
 * `chunkBytes` plaintext bytes but the last, which holds 0 … chunkBytes (an empty stream is one
 * empty final chunk), and grows by a 16-byte tag.
 */
export const STREAM_TAG_BYTES = 16;
export const DEFAULT_STREAM_CHUNK_BYTES = 64 * 1024;
const KEY_BYTES = 32;

/** Authentication failed: the ciphertext was changed, moved, cut, or the key is wrong. Nothing of it is returned. */
export class DecryptionError extends SherdError {
  override name = 'DecryptionError';
}

export function chunkNonce(index: number, last: boolean): Uint8Array {
  assertInteger('chunk index', index, 0, 0xffffffff);
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** The shape of a stream of `plainBytes` in chunks of `chunkBytes`: its chunk count and ciphertext size. */
export function streamLayout(plainBytes: number, chunkBytes: number): { chunks: number; cipherBytes: number } {
  assertInteger('plaintext size', plainBytes, 0, Number.MAX_SAFE_INTEGER);
  assertInteger('chunk size', chunkBytes, 1, 0x7fffffff);
  const chunks = Math.max(1, Math.ceil(plainBytes / chunkBytes));
  return { chunks, cipherBytes: plainBytes + chunks * STREAM_TAG_BYTES };
}

/** The plaintext size of a ciphertext of `cipherBytes`, or undefined when no stream has that size. */
export function plainSizeOf(cipherBytes: number, chunkBytes: number): number | undefined {
  if (!Number.isSafeInteger(cipherBytes) || !Number.isSafeInteger(chunkBytes) || chunkBytes < 1) return undefined;
  const sealed = chunkBytes + STREAM_TAG_BYTES;
  if (cipherBytes < STREAM_TAG_BYTES) return undefined;
  const chunks = Math.max(1, Math.ceil(cipherBytes / sealed));
  const last = cipherBytes - (chunks - 1) * sealed - STREAM_TAG_BYTES;
  // A last chunk can be empty only when it is the only one.
  if (last < 0 || (last === 0 && chunks > 1)) return undefined;
  return cipherBytes - chunks * STREAM_TAG_BYTES;
}

export function sealChunk(key: Uint8Array, index: number, last: boolean, plaintext: Uint8Array): Uint8Array {
  assertBytes('stream key', key, KEY_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(index, last));
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const out = new Uint8Array(body.length + final.length + STREAM_TAG_BYTES);
  out.set(body, 0);
  out.set(final, body.length);
  out.set(cipher.getAuthTag(), body.length + final.length);
  return out;
}

/** Opens chunk `index`; DecryptionError (and no plaintext) when it is not that chunk of this key's stream. */
export function openChunk(key: Uint8Array, index: number, last: boolean, sealed: Uint8Array): Uint8Array {
  assertBytes('stream key', key, KEY_BYTES);
  if (sealed.length < STREAM_TAG_BYTES) throw new DecryptionError('bad_ciphertext', `chunk ${index} is shorter than its tag`);
  const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(index, last));
  decipher.setAuthTag(sealed.subarray(sealed.length - STREAM_TAG_BYTES));
  const body = decipher.update(sealed.subarray(0, sealed.length - STREAM_TAG_BYTES));
  try {
    const final = decipher.final();
    return final.length === 0 ? new Uint8Array(body.buffer, body.byteOffset, body.length) : new Uint8Array(Buffer.concat([body, final]));
  } catch (cause) {
    throw new DecryptionError(
      'decryption_failed',
      `ciphertext chunk ${index} failed authentication: it was changed, moved or cut, or the key is wrong`,
      { cause },
    );
  }
}

/**
 * Seals a byte stream chunk by chunk. Holds one chunk, so memory does not grow with the stream;
 * the chunk that ends the stream is known only when the input ends, so one chunk is held back.
 */
export async function* sealStream(
  key: Uint8Array,
  plaintext: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  chunkBytes = DEFAULT_STREAM_CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  assertBytes('stream key', key, KEY_BYTES);
  assertInteger('chunk size', chunkBytes, 1, 0x7fffffff);
  let pending = new Uint8Array(chunkBytes);
  let filled = 0;
  let index = 0;
  for await (const piece of plaintext) {
    let at = 0;
    while (at < piece.length) {
      // A full chunk is sealed only once more input shows it is not the last.
      if (filled === chunkBytes) {
        yield sealChunk(key, index++, false, pending);
        pending = new Uint8Array(chunkBytes);
        filled = 0;
      }
      const take = Math.min(chunkBytes - filled, piece.length - at);
      pending.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
    }
  }
  yield sealChunk(key, index, true, pending.subarray(0, filled));
}

/** Where plaintext bytes [start, end) sit in the ciphertext: the chunks covering them and the cut inside the first. */
export function cipherRange(
  start: number,
  end: number,
  plainBytes: number,
  chunkBytes: number,
): { firstChunk: number; lastChunk: number; cipherStart: number; cipherEnd: number; skip: number } {
  const { chunks, cipherBytes } = streamLayout(plainBytes, chunkBytes);
  assertInteger('range start', start, 0, plainBytes);
  assertInteger('range end', end, start, plainBytes);
  const sealed = chunkBytes + STREAM_TAG_BYTES;
  const firstChunk = Math.min(Math.floor(start / chunkBytes), chunks - 1);
  const lastChunk = end <= start ? firstChunk : Math.min(Math.floor((end - 1) / chunkBytes), chunks - 1);
  const cipherEnd = Math.min((lastChunk + 1) * sealed, cipherBytes);
  return { firstChunk, lastChunk, cipherStart: firstChunk * sealed, cipherEnd, skip: start - firstChunk * chunkBytes };
}

/**
 * Opens plaintext bytes [start, end) from `ciphertext`, which yields the ciphertext from the
 * first covering chunk on (cipherRange). Each chunk is authenticated before any of it is
 * yielded; a failure throws DecryptionError.
 */
export async function* openRange(
  key: Uint8Array,
  ciphertext: AsyncIterable<Uint8Array>,
  range: { start: number; end: number; plainBytes: number; chunkBytes: number },
): AsyncGenerator<Uint8Array> {
  const { start, end, plainBytes, chunkBytes } = range;
  const { firstChunk, lastChunk, skip } = cipherRange(start, end, plainBytes, chunkBytes);
  if (start === end) return;
  const { chunks } = streamLayout(plainBytes, chunkBytes);
  const sealed = chunkBytes + STREAM_TAG_BYTES;
  let index = firstChunk;
  let buffer: Uint8Array = new Uint8Array(0);
  let emitted = 0;
  const want = end - start;
  const sizeOf = (i: number) => (i === chunks - 1 ? plainBytes - i * chunkBytes + STREAM_TAG_BYTES : sealed);
  for await (const piece of ciphertext) {
    buffer = buffer.length === 0 ? piece : new Uint8Array(Buffer.concat([buffer, piece]));
    while (index <= lastChunk && buffer.length >= sizeOf(index)) {
      const size = sizeOf(index);
      const plain = openChunk(key, index, index === chunks - 1, buffer.subarray(0, size));
      buffer = buffer.subarray(size);
      const from = index === firstChunk ? skip : 0;
      const take = Math.min(plain.length - from, want - emitted);
      if (take > 0) yield plain.subarray(from, from + take);
      emitted += Math.max(0, take);
      index++;
    }
    if (index > lastChunk) return;
  }
  throw new DecryptionError('truncated_ciphertext', `the ciphertext ended before chunk ${index}`);
}
