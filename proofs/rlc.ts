import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB } from './blob.ts';
import { equalBytes } from './bytes.ts';
import { type FrBackend, frMatrix } from './fr-backend.ts';

/**
 * Checks many (blob, commitment) pairs with one KZG commitment. KZG commitments are linear,
 * so with secret random coefficients r_i:
 *     commit(Σ r_i·blob_i) == Σ r_i·C_i
 * holds for honest pairs and, if any pair is wrong, fails except with probability 2^-64.
 * Cost: one commitment (the fixed-base MSM, natively), one combination of the blobs in Fr and
 * an MSM over the commitments, instead of one commitment per blob. Returns false on any
 * malformed input, including a commitment that is not a point of G1 (the MSM checks the
 * subgroup: a commitment outside G1 could never be opened later) or a blob element not below r;
 * the caller then checks the pairs one by one to find the culprit.
 */
export function verifyCommitmentsBatch(backend: FrBackend, blobs: Uint8Array[], commitments: Uint8Array[]): boolean {
  const n = blobs.length;
  if (n === 0 || commitments.length !== n) return false;
  if (n === 1) return verifyCommitment(backend, blobs[0]!, commitments[0]!);
  const all = new Uint8Array(n * BYTES_PER_BLOB);
  for (let i = 0; i < n; i++) {
    if (!(blobs[i] instanceof Uint8Array) || blobs[i]!.length !== BYTES_PER_BLOB) return false;
    if (!(commitments[i] instanceof Uint8Array) || commitments[i]!.length !== 48) return false;
    all.set(blobs[i]!, i * BYTES_PER_BLOB);
  }
  const coefficients = randomCoefficients(n);
  try {
    const combined = backend.combineBlobs(all, frMatrix([coefficients]));
    return equalBytes(backend.commitBlob(combined), backend.msm(commitments, coefficients));
  } catch {
    return false;
  }
}

export function verifyCommitment(backend: FrBackend, blob: Uint8Array, commitment: Uint8Array): boolean {
  try {
    return equalBytes(backend.commitBlob(blob), commitment);
  } catch {
    return false;
  }
}

/**
 * 64-bit coefficients, drawn by the node after the shards arrived: a cheating uploader
 * cannot search offline for a batch that passes, and each online try succeeds with
 * probability 2^-64 at the price of an upload. blst's batch signature verification (used by
 * Ethereum consensus clients) relies on 64-bit randomness the same way. Against 128-bit
 * coefficients this halves the MSM's doublings.
 */
function randomCoefficients(n: number): bigint[] {
  const bytes = randomBytes(8 * n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => {
    const c = view.getBigUint64(8 * i);
    return c === 0n ? 1n : c;
  });
}
