import { randomBytes } from 'node:crypto';

/**
 * The BLS12-381 scalar field Fr, in which blob elements, KZG evaluation points and sampling
 * coefficients live. One home for its modulus (SherdRegistry.sol has the same constant).
 */
export const BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** 32 big-endian bytes as a number (no reduction). */
export function bytesToScalar(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

/** A scalar below 2^256 as 32 big-endian bytes. */
export function scalarToBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
  return out;
}

/** Whether 32 big-endian bytes are a canonical scalar (below the BLS12-381 field order). */
export function isFieldElement(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return false;
  return bytesToScalar(bytes) < BLS_MODULUS;
}

/** A uniform random scalar: 64 random bytes reduced mod r, so the bias is below 2^-250. */
export function randomFieldElement(): Uint8Array {
  return scalarToBytes(bytesToScalar(randomBytes(64)) % BLS_MODULUS);
}
