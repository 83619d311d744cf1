import { Piscina } from 'piscina';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { frCodeFor } from '../proofs/fr-code.ts';
import { sha256 } from '../proofs/hash.ts';
import { segmentToBlobs } from '../protocol/segment.ts';

export interface EncodeTask {
  kind: 'commit' | 'shard';
  payload: Uint8Array;
  k: number;
  m: number;
}

export interface CommitResult {
  /** n × 48 bytes. */
  commitments: Uint8Array;
  /** n × 32 bytes. */
  hashes: Uint8Array;
}

/** Commitments of blobs seen lately, by SHA-256: identical blobs (zero runs, repeated content) are committed once. */
const recentCommitments = new Map<string, Uint8Array>();
const RECENT_COMMITMENTS = 1024;

function commitmentOf(commit: (blob: Uint8Array) => Uint8Array, blob: Uint8Array, hash: Uint8Array): Uint8Array {
  const key = Buffer.from(hash).toString('hex');
  let commitment = recentCommitments.get(key);
  if (commitment) {
    recentCommitments.delete(key); // refreshed: most recent last
  } else {
    commitment = commit(blob);
    if (recentCommitments.size >= RECENT_COMMITMENTS) recentCommitments.delete(recentCommitments.keys().next().value!);
  }
  recentCommitments.set(key, commitment);
  return commitment;
}

/**
 * Runs in a piscina worker; only bytes cross the thread boundary. `commit` codes a segment
 * and returns each shard's commitment and SHA-256 (80 bytes per shard, not the shards);
 * `shard` codes it again and hands back the blobs for dispersal, transferred, not copied.
 * Only the k data blobs are committed (by the fixed-base MSM): the parity commitments are
 * their combinations by the code's matrix, a k-point MSM each.
 */
export default function encode(task: EncodeTask): CommitResult | Uint8Array {
  const code = frCodeFor(task.k, task.m);
  const blobs = segmentToBlobs(code, task.payload);
  const n = code.totalShards;
  if (task.kind === 'shard') return Piscina.move(blobs) as unknown as Uint8Array;
  const commit = (blob: Uint8Array) => code.backend.commitBlob(blob);
  const commitments = new Uint8Array(n * 48);
  const hashes = new Uint8Array(n * 32);
  const dataCommitments: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const blob = blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB);
    const hash = sha256(blob);
    hashes.set(hash, i * 32);
    if (i < task.k) dataCommitments.push(commitmentOf(commit, blob, hash));
  }
  [...dataCommitments, ...code.parityCommitments(dataCommitments)].forEach((c, i) => {
    commitments.set(c, i * 48);
  });
  return { commitments, hashes };
}
