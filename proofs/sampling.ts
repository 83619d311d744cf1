import { sha256 } from './hash.ts';
import { randomBytes } from 'node:crypto';
import { assertBytes, assertInteger, InvalidArgumentError } from './errors.ts';

/**
 * Sampling math. A sample is (shard, z): the holder answers y = p(z) and a KZG opening proof,
 * which it cannot make without the shard's blob.
 *
 * Confidence. A segment of n = k + m shards is lost only when more than m of its shards are
 * gone, that is when at most k − 1 remain. Draw t distinct shards of the segment uniformly:
 * if it is lost, all t answer with probability at most C(k − 1, t) / C(n, t) (hypergeometric;
 * zero once t ≥ k). Drawing t per segment, with t the least for which that bound is ≤ 1 − C,
 * means a dataset with any lost segment passes with probability at most 1 − C, whatever the
 * number of segments: each lost segment is caught on its own samples. Segments where a
 * sample fails are then sampled in full, so their verdict is exact.
 */
/** EIP-4844's versioned hash of a commitment: 0x01 ‖ sha256(commitment)[1:]. */
export function versionedHash(commitment: Uint8Array): Uint8Array {
  assertBytes('commitment', commitment, 48);
  const hash = sha256(commitment);
  hash[0] = 0x01;
  return hash;
}

function binomial(n: number, r: number): number {
  if (r < 0 || r > n) return 0;
  let result = 1;
  for (let i = 1; i <= r; i++) result = (result * (n - r + i)) / i;
  return result;
}

/** Probability that t distinct samples of a lost segment (≤ k − 1 of n shards left) all answer. */
export function undetectedProbability(k: number, n: number, t: number): number {
  assertInteger('k', k, 1, 256);
  assertInteger('n', n, k + 1, 256);
  assertInteger('samples per segment', t, 0, n);
  return binomial(k - 1, t) / binomial(n, t);
}

/** The least number of distinct samples per segment that detects a lost segment with probability ≥ confidence. */
export function samplesPerSegment(k: number, n: number, confidence: number): number {
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new InvalidArgumentError(`confidence must be a number strictly between 0 and 1, got ${String(confidence)}`);
  }
  for (let t = 1; t <= n; t++) if (undetectedProbability(k, n, t) <= 1 - confidence) return t;
  return n;
}

/** t distinct shard indices of n, uniformly (a partial Fisher–Yates shuffle). */
export function drawDistinct(n: number, t: number): number[] {
  assertInteger('n', n, 1, 256);
  assertInteger('samples', t, 0, n);
  const indices = Array.from({ length: n }, (_, i) => i);
  const random = randomBytes(t * 4);
  for (let i = 0; i < t; i++) {
    const j = i + (random.readUInt32BE(i * 4) % (n - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices.slice(0, t);
}
