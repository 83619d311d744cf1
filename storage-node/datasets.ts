import { equalBytes, toHex } from '../proofs/bytes.ts';
import type { MerkleTree } from '../proofs/merkle.ts';
import { ApiError } from '../protocol/errors.ts';
import { decodeManifest, manifestSegments, manifestTree, shardsPerSegment, type Manifest } from '../protocol/manifest.ts';
import { assignedShardCount } from '../protocol/placement.ts';
import type { ShardStore } from './store.ts';

/**
 * A dataset as this node works with it (not its registration on chain): its id, the manifest
 * and its Merkle tree, whose root is the content root, and its own place in the node set.
 */
export interface DatasetState {
  id: Uint8Array;
  uploader: string;
  manifest: Manifest;
  tree: MerkleTree;
  /** This node's position in the manifest's node set (−1 if absent). */
  nodeIndex: number;
  assignedShards: number;
}

export function contentRoot(state: DatasetState): Uint8Array {
  return state.tree.root;
}

/** Parsed manifests and trees kept in memory; older ones are parsed again from LevelDB on demand. */
const MAX_CACHED_DATASETS = 64;

/** The datasets this node stores, parsed once and shared by the HTTP handlers and the challenge responder. */
export class DatasetCatalog {
  private readonly cache = new Map<string, DatasetState>();

  constructor(
    private readonly store: Pick<ShardStore, 'getManifest' | 'getMeta' | 'listDatasets'>,
    private readonly publicKey: Uint8Array,
  ) {}

  /**
   * Builds the state of a manifest (checked by the caller) without storing it. The node's place
   * is its key's in the manifest's node set, or `slot` when it took the slot over as a replacement.
   */
  describe(id: Uint8Array, uploader: string, manifest: Manifest, slot?: number): DatasetState {
    const nodeIndex = slot ?? manifest.nodes.findIndex((key) => equalBytes(key, this.publicKey));
    const assignedShards =
      nodeIndex < 0 ? 0 : assignedShardCount(nodeIndex, manifestSegments(manifest), shardsPerSegment(manifest), manifest.nodes.length);
    return { id, uploader, manifest, tree: manifestTree(manifest), nodeIndex, assignedShards };
  }

  remember(state: DatasetState): void {
    const key = toHex(state.id);
    this.cache.delete(key);
    this.cache.set(key, state);
    if (this.cache.size > MAX_CACHED_DATASETS) this.cache.delete(this.cache.keys().next().value!);
  }

  /** The stored dataset `id`; ApiError unknown_dataset when it was never announced here. */
  async get(id: Uint8Array): Promise<DatasetState> {
    const cached = this.cache.get(toHex(id));
    if (cached) return cached;
    const [bytes, meta] = await Promise.all([this.store.getManifest(id), this.store.getMeta(id)]);
    if (!bytes || !meta) throw new ApiError('unknown_dataset', `dataset ${toHex(id)} was not announced to this node`);
    const state = this.describe(id, meta.uploader, decodeManifest(bytes), meta.slot);
    this.remember(state);
    return state;
  }

  list(): Promise<Uint8Array[]> {
    return this.store.listDatasets();
  }
}
