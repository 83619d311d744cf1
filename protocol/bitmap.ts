import { ProtocolError } from './errors.ts';

/**
 * Bitmaps over an ordered list (a certificate's signers, a node's held shards): item i is
 * bit i & 7 of byte i >> 3, least significant bit first; ceil(count / 8) bytes.
 */
export function bitmapFromIndices(indices: Iterable<number>, count: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(count / 8));
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new ProtocolError('bad_bitmap', `bitmap index ${i} out of range`);
    bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return bitmap;
}

export function indicesFromBitmap(bitmap: Uint8Array, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}
