import { equalBytes, fromHex } from '../proofs/bytes.ts';
import type { MerkleTree } from '../proofs/merkle.ts';
import { ApiError } from '../protocol/errors.ts';
import { decodeManifest, manifestSegments, manifestTree, shardsPerSegment, type Manifest } from '../protocol/manifest.ts';
import { assignedShardCount } from '../protocol/placement.ts';
import type { ShardStore } from './store.ts';

/** A dataset as the node works with it: manifest, Merkle tree, and its own place in the node set. */
export interface DatasetState {
  root: Uint8Array;
  manifest: Manifest;
  tree: MerkleTree;
  /** This node's position in the manifest's node set (−1 if absent). */
  nodeIndex: number;
  assignedShards: number;
}

/** Parsed manifests and trees kept in memory; older ones are parsed again from LevelDB on demand. */
const MAX_CACHED_DATASETS = 64;

/** The datasets this node stores, parsed once and shared by the HTTP handlers and the challenge responder. */
export class DatasetCatalog {
  private readonly cache = new Map<string, DatasetState>();

  constructor(private readonly store: ShardStore, private readonly publicKey: Uint8Array) {}

  /** Builds the state of a manifest (checked by the caller) without storing it. */
  describe(root: Uint8Array, manifest: Manifest): DatasetState {
    const nodeIndex = manifest.nodes.findIndex((key) => equalBytes(key, this.publicKey));
    const assignedShards = nodeIndex < 0 ? 0
      : assignedShardCount(nodeIndex, manifestSegments(manifest), shardsPerSegment(manifest), manifest.nodes.length);
    return { root, manifest, tree: manifestTree(manifest), nodeIndex, assignedShards };
  }

  remember(rootHex: string, state: DatasetState): void {
    this.cache.delete(rootHex);
    this.cache.set(rootHex, state);
    if (this.cache.size > MAX_CACHED_DATASETS) this.cache.delete(this.cache.keys().next().value!);
  }

  /** The stored dataset `rootHex`; ApiError unknown_dataset when it was never announced here. */
  async get(rootHex: string): Promise<DatasetState> {
    const cached = this.cache.get(rootHex);
    if (cached) return cached;
    const bytes = await this.store.getManifest(rootHex);
    if (!bytes) throw new ApiError('unknown_dataset', `dataset ${rootHex} was not announced to this node`);
    const state = this.describe(fromHex(rootHex, 32), decodeManifest(bytes));
    this.remember(rootHex, state);
    return state;
  }

  list(): Promise<string[]> {
    return this.store.listDatasets();
  }
}
