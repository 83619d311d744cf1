import { BLS_MODULUS, bytesToScalar, frInverse, frMod, isFieldElement, randomFieldElement, scalarToBytes } from './field.ts';
import { assertInteger, InvalidArgumentError } from './errors.ts';

/**
 * Shamir secret sharing over the BLS12-381 scalar field Fr: the secret is the constant term
 * of a random polynomial of degree t − 1 and share x is its value at x. Any t shares give
 * the secret by Lagrange interpolation at 0; any t − 1 are uniformly distributed whatever
 * the secret, so they say nothing about it (information-theoretically).
 */
export interface Share {
  /** The evaluation point, 1 … 65535 (never 0, which is the secret). */
  x: number;
  /** The polynomial's value there, 32 big-endian bytes below the field order. */
  y: Uint8Array;
}

/** Splits `secret` (a field element) into shares at x = 1 … count, any `threshold` of which recover it. */
export function splitSecret(secret: Uint8Array, threshold: number, count: number): Share[] {
  if (!isFieldElement(secret)) throw new InvalidArgumentError('a secret to share must be 32 bytes below the field order');
  assertInteger('share count', count, 1, 0xffff);
  assertInteger('threshold', threshold, 1, count);
  const coefficients = [bytesToScalar(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(bytesToScalar(randomFieldElement()));
  return Array.from({ length: count }, (_, i) => {
    const x = BigInt(i + 1);
    let y = 0n;
    for (let j = coefficients.length - 1; j >= 0; j--) y = (y * x + coefficients[j]!) % BLS_MODULUS;
    return { x: i + 1, y: scalarToBytes(y) };
  });
}

/**
 * The value at 0 of the polynomial through `shares`: the secret when they are at least
 * `threshold` true shares of it (with fewer, a value that says nothing about it).
 */
export function combineShares(shares: readonly Share[]): Uint8Array {
  if (!Array.isArray(shares) || shares.length === 0) throw new InvalidArgumentError('combining needs at least one share');
  const xs = new Set<number>();
  for (const share of shares) {
    assertInteger('share x', share.x, 1, 0xffff);
    if (!isFieldElement(share.y)) throw new InvalidArgumentError(`share ${share.x} is not a field element`);
    if (xs.has(share.x)) throw new InvalidArgumentError(`share ${share.x} is given twice`);
    xs.add(share.x);
  }
  let secret = 0n;
  for (const [i, share] of shares.entries()) {
    // Lagrange basis polynomial i at 0: Π_{j≠i} x_j / (x_j − x_i).
    let numerator = 1n;
    let denominator = 1n;
    for (const [j, other] of shares.entries()) {
      if (i === j) continue;
      numerator = (numerator * BigInt(other.x)) % BLS_MODULUS;
      denominator = frMod(denominator * BigInt(other.x - share.x));
    }
    secret = (secret + bytesToScalar(share.y) * numerator * frInverse(denominator)) % BLS_MODULUS;
  }
  return scalarToBytes(secret);
}
