import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';
import { InvalidArgumentError } from './errors.ts';

/** Lower-case hex with a 0x prefix: the one hex form Sherd writes everywhere. */
export function toHex(bytes: Uint8Array): `0x${string}` {
  return `0x${nobleBytesToHex(bytes)}`;
}

/** Parses hex with or without 0x; throws InvalidArgumentError on odd length, bad digits or a wrong length. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new InvalidArgumentError('hex value must be a string');
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new InvalidArgumentError(`not a hex string: ${hex.length > 20 ? `${hex.slice(0, 20)}…` : hex}`);
  }
  const bytes = nobleHexToBytes(body);
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new InvalidArgumentError(`expected ${expectedLength} bytes of hex, got ${bytes.length}`);
  }
  return bytes;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return joined(parts);
}

/** `parts` in one array (an array, not arguments: a large stream has more chunks than a call takes arguments). */
function joined(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Every chunk of a byte stream, in one array (the one chunk itself when there is only one). */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : joined(parts);
}
