import { describe, expect, it } from 'vitest';
import { sha256 } from '../../proofs/hash.ts';
import { BLS_MODULUS, isFieldElement, randomFieldElement } from '../../proofs/field.ts';
import { drawDistinct, samplesPerSegment, undetectedProbability, versionedHash } from '../../proofs/sampling.ts';

const bigint = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

describe('sampling math', () => {
  it('bounds the chance that a lost segment answers every sample (hypergeometric)', () => {
    // k = 4 of n = 8: a lost segment keeps at most 3 shards.
    expect(undetectedProbability(4, 8, 1)).toBeCloseTo(3 / 8, 12);
    expect(undetectedProbability(4, 8, 2)).toBeCloseTo(3 / 28, 12);
    expect(undetectedProbability(4, 8, 3)).toBeCloseTo(1 / 56, 12);
    expect(undetectedProbability(4, 8, 4)).toBe(0);
    expect(undetectedProbability(4, 8, 0)).toBe(1);
  });

  it('draws the fewest samples per segment that reach the confidence', () => {
    expect(samplesPerSegment(4, 8, 0.6)).toBe(1);
    expect(samplesPerSegment(4, 8, 0.85)).toBe(2);
    expect(samplesPerSegment(4, 8, 0.95)).toBe(3);
    expect(samplesPerSegment(4, 8, 0.99)).toBe(4);
    expect(samplesPerSegment(2, 4, 0.99)).toBe(2);
    // A rate-1/2 code of 128 + 128 needs few samples: C(127, t) / C(256, t) ≈ 2^-t.
    expect(samplesPerSegment(128, 256, 0.99)).toBe(7);
    expect(() => samplesPerSegment(4, 8, 1)).toThrow('confidence must be a number strictly between 0 and 1, got 1');
    expect(() => samplesPerSegment(4, 8, Number.NaN)).toThrow('confidence must be a number strictly between 0 and 1, got NaN');
  });

  it('draws distinct shard indices, each as often as the others', () => {
    const counts = new Array<number>(8).fill(0);
    for (let trial = 0; trial < 4000; trial++) {
      const drawn = drawDistinct(8, 3);
      expect(new Set(drawn).size).toBe(3);
      for (const i of drawn) counts[i]!++;
    }
    // 1500 expected per index; 6 sigma is about 170.
    for (const count of counts) expect(Math.abs(count - 1500)).toBeLessThan(200);
    expect(drawDistinct(8, 8).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => drawDistinct(8, 9)).toThrow('samples must be an integer in [0, 8], got 9');
  });

  it('draws points in the scalar field and recognises them', () => {
    for (let i = 0; i < 200; i++) {
      const z = randomFieldElement();
      expect(z.length).toBe(32);
      expect(bigint(z) < BLS_MODULUS).toBe(true);
      expect(isFieldElement(z)).toBe(true);
    }
    const modulus = Buffer.from(BLS_MODULUS.toString(16).padStart(64, '0'), 'hex');
    expect(isFieldElement(new Uint8Array(modulus))).toBe(false);
    const below = new Uint8Array(modulus);
    below[31]! -= 1;
    expect(isFieldElement(below)).toBe(true);
    expect(isFieldElement(new Uint8Array(31))).toBe(false);
  });

  it('makes the EIP-4844 versioned hash of a commitment', () => {
    const commitment = new Uint8Array(48).fill(7);
    const expected = sha256(commitment);
    expected[0] = 1;
    expect(versionedHash(commitment)).toEqual(expected);
    expect(() => versionedHash(new Uint8Array(47))).toThrow('commitment must be 48 bytes, got 47');
  });
});
