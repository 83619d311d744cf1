import { loadCKzg } from '../proofs/kzg.ts';
import { loadBatchBackend, verifyCommitment, verifyCommitmentsBatch } from '../proofs/rlc.ts';

export interface VerifyTask {
  blobs: Uint8Array[];
  commitments: Uint8Array[];
}

export interface OpenTask {
  blob: Uint8Array;
  z: Uint8Array;
}

/**
 * Runs in a piscina worker. One random-linear-combination check for the whole batch; only
 * if it fails are the blobs checked one by one, to say which were bad. (The mcl backend is
 * loaded on the first task: a top-level await here stops the tsx loader from handling the
 * worker module.)
 */
export default async function verifyBatch(task: VerifyTask): Promise<boolean[]> {
  await loadBatchBackend();
  const kzg = loadCKzg();
  if (verifyCommitmentsBatch(kzg, task.blobs, task.commitments)) return task.blobs.map(() => true);
  return task.blobs.map((blob, i) => verifyCommitment(kzg, blob, task.commitments[i]!));
}

/** Opens a blob at z for a sample or a challenge: y = p(z) and the KZG proof (one MSM, ~65 ms). */
export function openAt(task: OpenTask): { y: Uint8Array; proof: Uint8Array } {
  return loadCKzg().computeProof(task.blob, task.z);
}
