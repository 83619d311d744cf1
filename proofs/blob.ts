import { assertBytes, InvalidArgumentError } from './errors.ts';
import { BLS_MODULUS } from './field.ts';

/** EIP-4844 blob geometry. */
export const FIELD_ELEMENTS_PER_BLOB = 4096;
export const BYTES_PER_FIELD_ELEMENT = 32;
export const BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT; // 131,072
/** Each element keeps a zero top byte so it is always below the BLS12-381 scalar modulus. */
export const PAYLOAD_BYTES_PER_ELEMENT = 31;
export const PAYLOAD_BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * PAYLOAD_BYTES_PER_ELEMENT; // 126,976

/**
 * Packs up to 126,976 payload bytes into a canonical blob: element i is 0x00 followed by
 * payload bytes [31i, 31i + 31). Short payloads are zero-padded.
 */
export function packBlob(payload: Uint8Array, out: Uint8Array = new Uint8Array(BYTES_PER_BLOB)): Uint8Array {
  assertBytes('payload', payload);
  assertBytes('out', out, BYTES_PER_BLOB);
  if (payload.length > PAYLOAD_BYTES_PER_BLOB) {
    throw new InvalidArgumentError(`payload of ${payload.length} bytes does not fit one blob (${PAYLOAD_BYTES_PER_BLOB})`);
  }
  out.fill(0);
  for (let element = 0, src = 0; src < payload.length; element++, src += PAYLOAD_BYTES_PER_ELEMENT) {
    out.set(payload.subarray(src, src + PAYLOAD_BYTES_PER_ELEMENT), element * BYTES_PER_FIELD_ELEMENT + 1);
  }
  return out;
}

/** Inverse of packBlob; returns all 126,976 payload bytes (padding included). */
export function unpackBlob(blob: Uint8Array, out: Uint8Array = new Uint8Array(PAYLOAD_BYTES_PER_BLOB)): Uint8Array {
  assertBytes('blob', blob, BYTES_PER_BLOB);
  assertBytes('out', out, PAYLOAD_BYTES_PER_BLOB);
  // Every read byte goes through here: 31 bytes an element as 7 words, a half-word and a byte
  // (unaligned DataView access) are about 4× faster than 4,096 subarray copies.
  const from = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const to = new DataView(out.buffer, out.byteOffset, out.length);
  for (
    let element = 0, s = 1, o = 0;
    element < FIELD_ELEMENTS_PER_BLOB;
    element++, s += BYTES_PER_FIELD_ELEMENT, o += PAYLOAD_BYTES_PER_ELEMENT
  ) {
    for (let w = 0; w < 28; w += 4) to.setUint32(o + w, from.getUint32(s + w, true), true);
    to.setUint16(o + 28, from.getUint16(s + 28, true), true);
    to.setUint8(o + 30, from.getUint8(s + 30));
  }
  return out;
}

/**
 * Returns the index of the first field element whose top byte is not zero, or -1 when the
 * blob has Sherd's packing. Data blobs need a zero top byte (stricter than "below the
 * modulus") because a set top byte would be silently dropped by unpackBlob.
 */
export function findNonCanonicalElement(blob: Uint8Array): number {
  for (let element = 0; element < FIELD_ELEMENTS_PER_BLOB; element++) {
    if (blob[element * BYTES_PER_FIELD_ELEMENT] !== 0) return element;
  }
  return -1;
}

/** The BLS12-381 scalar modulus r as four big-endian 64-bit words. */
const MODULUS_WORDS = [192n, 128n, 64n, 0n].map((shift) => (BLS_MODULUS >> shift) & 0xffffffffffffffffn);

/**
 * Returns the index of the first field element not below r, or -1 when every element is a
 * canonical field element: what a parity blob (full elements) must be.
 */
export function findElementAboveModulus(blob: Uint8Array): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let element = 0; element < FIELD_ELEMENTS_PER_BLOB; element++) {
    const offset = element * BYTES_PER_FIELD_ELEMENT;
    // Most elements differ from r in the first word; compare word by word, big-endian.
    for (let w = 0; w < 4; w++) {
      const word = view.getBigUint64(offset + 8 * w);
      if (word < MODULUS_WORDS[w]!) break;
      if (word > MODULUS_WORDS[w]! || w === 3) return element;
    }
  }
  return -1;
}
