import { loadFrBackend } from '../proofs/fr-backend.ts';
import { frCodeFor, type SegmentCommitments } from '../proofs/fr-code.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import { verifyCommitment, verifyCommitmentsBatch } from '../proofs/rlc.ts';

export interface VerifyTask {
  blobs: Uint8Array[];
  commitments: Uint8Array[];
}

/** A manifest's commitments, segment-major, k + m per segment, 48 bytes each, back to back. */
export interface EncodingTask {
  k: number;
  m: number;
  commitments: Uint8Array;
}

export interface OpenTask {
  blob: Uint8Array;
  z: Uint8Array;
}

/**
 * Runs in a piscina worker. One random-linear-combination check for the whole batch; only
 * if it fails are the blobs checked one by one, to say which were bad. The warm-up's first
 * task loads the fixed-base tables (once per process).
 */
export default async function verifyBatch(task: VerifyTask): Promise<boolean[]> {
  const backend = loadFrBackend();
  if (verifyCommitmentsBatch(backend, task.blobs, task.commitments)) return task.blobs.map(() => true);
  return task.blobs.map((blob, i) => verifyCommitment(backend, blob, task.commitments[i]!));
}

/** Opens a blob at z for a sample or a challenge: y = p(z) and the KZG proof (one MSM, ~65 ms). */
export function openAt(task: OpenTask): { y: Uint8Array; proof: Uint8Array } {
  return loadCKzg().computeProof(task.blob, task.z);
}

/** Whether every segment's parity commitments are the code's combinations of its data commitments (one MSM). */
export function checkEncoding(task: EncodingTask): boolean {
  const n = task.k + task.m;
  const at = (i: number) => task.commitments.subarray(i * 48, (i + 1) * 48);
  const segments: SegmentCommitments[] = [];
  for (let s = 0; s * n * 48 < task.commitments.length; s++) {
    segments.push({
      data: Array.from({ length: task.k }, (_, i) => at(s * n + i)),
      parity: Array.from({ length: task.m }, (_, j) => at(s * n + task.k + j)),
    });
  }
  return frCodeFor(task.k, task.m).parityCommitmentsConsistent(segments);
}
