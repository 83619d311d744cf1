import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { loadFrBackend } from '../proofs/fr-backend.ts';

/** The bound's thread: commits blobs [from, to) of a shared buffer with the fixed-base MSM, nothing else. */
export default function commitRange(task: { blobs: SharedArrayBuffer; from: number; to: number }): number {
  const backend = loadFrBackend();
  const view = new Uint8Array(task.blobs);
  for (let i = task.from; i < task.to; i++) backend.commitBlob(view.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
  return task.to - task.from;
}
