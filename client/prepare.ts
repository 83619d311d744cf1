import type { MerkleTree } from '../proofs/merkle.ts';
import { encryptedSize } from '../protocol/encryption.ts';
import type { FileEntry } from '../protocol/file-index.ts';
import { encodeManifest, type Manifest, manifestTree, segmentCount, segmentPayloadBytes, type ShardRecord } from '../protocol/manifest.ts';
import { mapOrdered } from './concurrency.ts';
import type { EncoderPool } from './encoder.ts';
import type { DatasetSealer } from './encryption.ts';
import { UploadError } from './errors.ts';
import { type DatasetFile, datasetSize, datasetStream, fixedChunks } from './source.ts';

export interface PrepareOptions {
  k: number;
  m: number;
  /** The node set's BLS keys in placement order: the manifest lists them. */
  nodes: Uint8Array[];
  encoder: EncoderPool;
  /** Seals the bytes before coding (an encrypted dataset). */
  sealer?: DatasetSealer;
  signal?: AbortSignal;
  /** After every segment, in order. */
  onSegment?: (progress: { bytes: number; totalBytes: number | undefined; segments: number }) => void;
}

export interface PreparedDataset {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  tree: MerkleTree;
  /** The file index the dataset ends with. */
  files: FileEntry[];
}

/** What is stored: the plain dataset's bytes, or their sealing. */
export function datasetBytes(plain: AsyncIterable<Uint8Array>, sealer: DatasetSealer | undefined): AsyncIterable<Uint8Array> {
  return sealer ? sealer.seal(plain) : plain;
}

/**
 * The client's preparation, without sending anything: the dataset's bytes (its files, then
 * their index, sealed when a sealer is given) cut into segments and coded and committed in the
 * worker pool, threads + 1 segments in flight (the backpressure: the input is not read ahead of
 * the workers). Only 80 bytes a shard are kept, in the two flat buffers each worker returns.
 */
export async function prepareDataset(files: DatasetFile[], options: PrepareOptions): Promise<PreparedDataset> {
  const { k, m, encoder, signal, sealer } = options;
  const segmentBytes = segmentPayloadBytes(k);
  const plainBytes = datasetSize(files);
  const totalBytes = sealer && plainBytes !== undefined ? encryptedSize(plainBytes, sealer.chunkBytes, options.nodes.length) : plainBytes;
  let entries: FileEntry[] = [];
  const stream = datasetBytes(
    datasetStream(files, (indexed) => {
      entries = indexed;
    }),
    sealer,
  );
  const records: ShardRecord[] = [];
  let size = 0;
  let segments = 0;
  const commits = mapOrdered(
    fixedChunks(stream, segmentBytes),
    encoder.threads + 1,
    async (chunk) => {
      size += chunk.length;
      return encoder.commit(chunk, k, m, signal);
    },
    signal,
  );
  for await (const { commitments, hashes } of commits) {
    // Views into the worker's two buffers: 2 allocations per segment, not 2 per shard (2 GiB ≈ 135k shards).
    for (let i = 0; i < k + m; i++) {
      records.push({ commitment: commitments.subarray(i * 48, i * 48 + 48), hash: hashes.subarray(i * 32, i * 32 + 32) });
    }
    segments++;
    options.onSegment?.({ bytes: Math.min(size, segments * segmentBytes), totalBytes, segments });
  }
  if (segments !== segmentCount(size, k)) throw new UploadError('internal', 'segment count does not match the size');
  const manifest: Manifest = { size, k, m, nodes: options.nodes, shards: records };
  return { manifest, manifestBytes: encodeManifest(manifest), tree: manifestTree(manifest), files: entries };
}
