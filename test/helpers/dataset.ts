import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { FrCode } from '../../proofs/fr-code.ts';
import { sha256 } from '../../proofs/hash.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import type { MerkleTree } from '../../proofs/merkle.ts';
import {
  encodeManifest,
  manifestTree,
  segmentCount,
  segmentPayloadBytes,
  type Manifest,
  type ShardRecord,
} from '../../protocol/manifest.ts';
import { segmentToBlobs } from '../../protocol/segment.ts';

export interface BuiltDataset {
  payload: Uint8Array;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  tree: MerkleTree;
  root: Uint8Array;
  /** blobs[segment][index] */
  blobs: Uint8Array[][];
}

/**
 * Codes a dataset the way the client does, in memory, so tests can send hand-made
 * (and hand-broken) requests to real nodes. `tamper` may edit shard records before the
 * manifest and root are fixed.
 */
export function buildDataset(
  nodeKeys: Uint8Array[],
  k: number,
  m: number,
  size: number,
  tamper?: (records: ShardRecord[]) => void,
): BuiltDataset {
  const kzg = loadCKzg();
  const code = new FrCode(k, m);
  const payload = new Uint8Array(randomBytes(size));
  const blobs: Uint8Array[][] = [];
  const records: ShardRecord[] = [];
  for (let s = 0; s < segmentCount(size, k); s++) {
    const segment = payload.subarray(s * segmentPayloadBytes(k), (s + 1) * segmentPayloadBytes(k));
    const packed = segmentToBlobs(code, segment);
    const list = Array.from({ length: k + m }, (_, i) => packed.slice(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
    blobs.push(list);
    for (const blob of list) records.push({ commitment: kzg.blobToCommitment(blob), hash: sha256(blob) });
  }
  tamper?.(records);
  const manifest: Manifest = { size, k, m, nodes: nodeKeys, shards: records };
  const tree = manifestTree(manifest);
  return { payload, manifest, manifestBytes: encodeManifest(manifest), tree, root: tree.root, blobs };
}
