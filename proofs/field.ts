import { randomBytes } from 'node:crypto';

/**
 * The BLS12-381 scalar field Fr, in which blob elements, KZG evaluation points and sampling
 * coefficients live. One home for its modulus (SherdRegistry.sol has the same constant).
 */
export const BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** a mod r, in [0, r). */
export const frMod = (a: bigint): bigint => ((a % BLS_MODULUS) + BLS_MODULUS) % BLS_MODULUS;

/** base^exponent mod r, by squaring. */
export function frPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = frMod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % BLS_MODULUS;
    b = (b * b) % BLS_MODULUS;
  }
  return result;
}

/** a⁻¹ mod r by Fermat (a^(r−2)); a must not be 0 mod r (the caller says what that means). */
export const frInverse = (a: bigint): bigint => frPow(a, BLS_MODULUS - 2n);

/** i with its low `bits` bits in reverse order: EIP-4844's order of roots of unity and of setup points. */
export function bitReverse(i: number, bits: number): number {
  let out = 0;
  for (let b = 0; b < bits; b++) out |= ((i >> b) & 1) << (bits - 1 - b);
  return out;
}

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
