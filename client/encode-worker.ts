import { Piscina } from 'piscina';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { codecFor } from '../proofs/codec.ts';
import { sha256 } from '../proofs/hash.ts';
import { loadCKzg } from '../proofs/kzg.ts';
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

function commitmentOf(kzg: ReturnType<typeof loadCKzg>, blob: Uint8Array, hash: Uint8Array): Uint8Array {
  const key = Buffer.from(hash).toString('hex');
  let commitment = recentCommitments.get(key);
  if (commitment) {
    recentCommitments.delete(key); // refreshed: most recent last
  } else {
    commitment = kzg.blobToCommitment(blob);
    if (recentCommitments.size >= RECENT_COMMITMENTS) recentCommitments.delete(recentCommitments.keys().next().value!);
  }
  recentCommitments.set(key, commitment);
  return commitment;
}

/**
 * Runs in a piscina worker; only bytes cross the thread boundary. `commit` codes a segment
 * and returns each shard's commitment and SHA-256 (80 bytes per shard, not the shards);
 * `shard` codes it again and hands back the blobs for dispersal, transferred, not copied.
 */
export default function encode(task: EncodeTask): CommitResult | Uint8Array {
  const blobs = segmentToBlobs(codecFor(task.k, task.m), task.payload);
  const n = task.k + task.m;
  if (task.kind === 'shard') return Piscina.move(blobs) as unknown as Uint8Array;
  const kzg = loadCKzg();
  const commitments = new Uint8Array(n * 48);
  const hashes = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    const blob = blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB);
    const hash = sha256(blob);
    commitments.set(commitmentOf(kzg, blob, hash), i * 48);
    hashes.set(hash, i * 32);
  }
  return { commitments, hashes };
}
