import type { Registry } from '../chain/registry.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { MerkleVerifier } from '../proofs/merkle.ts';
import { segmentCount, segmentPayloadBytes } from '../protocol/manifest.ts';
import type { RegisteredTerms } from '../protocol/registration.ts';
import { mapOrdered } from './concurrency.ts';
import { DownloadError } from './errors.ts';
import { NodeClient } from './node-client.ts';
import { NodeHealth, type NodeRef } from './node-health.ts';
import type { ReadPool } from './read-pool.ts';
import { type FetchTerms, fetchSegment, type ShardHealth, shardHealthOf } from './segment-fetcher.ts';
import { ShardBatcher } from './shard-batcher.ts';
import type { DownloadProgress, NodeEndpoint } from './types.ts';

/** What a reader reads on chain: the dataset's registration and its node set's keys. */
export type ReaderRegistryView = Pick<Registry, 'readerTerms'>;

export interface DownloadOptions {
  /** Where the dataset is registered: its content root, size, code and node set come from there. */
  registry?: ReaderRegistryView;
  /** Instead of `registry` (off chain, e.g. from a certificate): the dataset's terms. */
  registration?: RegisteredTerms;
  /** Known nodes; the node set's keys are matched to these by public key. */
  nodes: NodeEndpoint[];
  /** Byte range [start, end) to read; defaults to the whole dataset. */
  start?: number;
  end?: number;
  /** Segments fetched ahead of the reader (default 4). Memory ≈ this × (k + m) × 128 KiB. */
  concurrency?: number;
  /** Decoded segments shared between readers (a gateway's LRU); keys are `datasetId hex:segment`. */
  cache?: SegmentCache;
  /** Per-request deadline (default 15 s). */
  timeoutMs?: number;
  /** The longest wait for a shard before another holder is asked too (default 2 s; the delay follows observed latencies below it). Set on `health` instead when giving one. */
  hedgeAfterMs?: number;
  /** What is known about the nodes, shared between readers (a gateway's); by default each reader keeps its own. */
  health?: NodeHealth;
  /** Worker threads to fetch, check and decode segments in (a gateway's); by default this thread does. */
  pool?: ReadPool;
  signal?: AbortSignal;
  onProgress?: (event: DownloadProgress) => void;
}

/** A store of decoded, verified segment payloads. */
export interface SegmentCache {
  get(key: string): Uint8Array | undefined;
  set(key: string, payload: Uint8Array): void;
}

/**
 * Reads a dataset back without its manifest: the registration gives the content root, size,
 * code and node set, and every shard arrives with its commitment, SHA-256 and inclusion
 * proof, so it is checked against the content root alone. Opening costs one chain read, and
 * time to first byte and memory do not grow with the dataset. Each segment needs any k
 * checked shards. Data shards are asked for first; a node that is down, slow (no answer
 * within the hedge delay, see NodeHealth) or returns bad bytes is replaced by a parity shard
 * from another node, and remembered for a while (NodeHealth), so later segments go around it
 * from the start.
 */
export class DatasetReader {
  readonly health: NodeHealth;
  private readonly clientsByNode: Array<NodeClient | undefined>;
  private readonly sources: Array<ShardBatcher | undefined>;
  private readonly refs: Array<NodeRef | undefined>;
  /** `health` by node index, for segment fetches on this thread. */
  private readonly nodeHealth: ShardHealth;
  private readonly merkle: MerkleVerifier;
  private readonly segments: number;
  private readonly fetchTerms: FetchTerms;
  reconstructedSegments = 0;
  private lastSegment: [number, Uint8Array] | undefined;

  private constructor(
    readonly id: Uint8Array,
    readonly terms: RegisteredTerms,
    nodes: Map<string, NodeEndpoint>,
    private readonly options: DownloadOptions,
  ) {
    this.segments = segmentCount(terms.size, terms.k);
    this.merkle = new MerkleVerifier(terms.contentRoot, this.segments * (terms.k + terms.m));
    const keys = terms.nodeKeys.map((key) => toHex(fromHex(key, 48)));
    const endpoints = keys.map((key) => nodes.get(key));
    this.refs = endpoints.map((node, i) => node && { publicKey: keys[i]!, url: node.url });
    // With a read pool, the pool's threads hold the connections.
    const timeoutMs = options.timeoutMs ?? 15_000;
    this.clientsByNode = endpoints.map((node) =>
      node && !options.pool ? new NodeClient(node.url, { connections: 4, timeoutMs }) : undefined,
    );
    this.sources = this.clientsByNode.map((client) => client && new ShardBatcher(client));
    this.health = options.health ?? new NodeHealth({ maxHedgeMs: options.hedgeAfterMs });
    this.nodeHealth = shardHealthOf(this.health, this.refs);
    this.fetchTerms = { contentRoot: terms.contentRoot, size: terms.size, k: terms.k, m: terms.m, nodeCount: terms.nodeKeys.length };
  }

  /** Opens dataset `id` (its dataset id, not its content root): one read of its registration, nothing from the nodes yet. */
  static async open(id: Uint8Array, options: DownloadOptions): Promise<DatasetReader> {
    if (!(id instanceof Uint8Array) || id.length !== 32) throw new InvalidArgumentError('a dataset id is 32 bytes');
    if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
      throw new InvalidArgumentError('download needs at least one storage node');
    }
    const terms = options.registration ?? (await registeredTerms(options.registry, id));
    if (terms.nodeKeys.length < terms.k + terms.m)
      throw new InvalidArgumentError(`the node set has ${terms.nodeKeys.length} nodes, the code needs ${terms.k + terms.m}`);
    const nodes = new Map(options.nodes.map((node) => [toHex(fromHex(node.publicKey, 48)), node]));
    return new DatasetReader(id, terms, nodes, options);
  }

  get size(): number {
    return this.terms.size;
  }

  /** Where the last segment starts: reading from there costs the same as reading the dataset's last bytes. */
  get tailStart(): number {
    const segmentBytes = segmentPayloadBytes(this.terms.k);
    return Math.floor((this.size - 1) / segmentBytes) * segmentBytes;
  }

  /** The node set's URLs in placement order (undefined where a node's endpoint is not known). */
  get nodeUrls(): Array<string | undefined> {
    return this.refs.map((ref) => ref?.url);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clientsByNode.map((c) => c?.close()));
  }

  /** The dataset bytes [start, end), in order, fetched `concurrency` segments ahead. */
  async *read(start = 0, end = this.size): AsyncGenerator<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > this.size || start > end) {
      throw new InvalidArgumentError(`byte range ${start}-${end} is outside the dataset (0-${this.size})`);
    }
    if (start === end) return;
    const segmentBytes = segmentPayloadBytes(this.terms.k);
    const first = Math.floor(start / segmentBytes);
    const last = Math.floor((end - 1) / segmentBytes);
    const indices = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    let bytes = 0;
    // Segments start in groups, so the shards each node holds for a group go out as one batch request.
    const concurrency = this.options.concurrency ?? 4;
    const segments = mapOrdered(indices, concurrency, (s) => this.readSegment(s), this.options.signal, {
      refillBatch: Math.max(1, concurrency >> 1),
    });
    for await (const [s, payload] of segments) {
      const segmentStart = s * segmentBytes;
      const from = Math.max(start, segmentStart) - segmentStart;
      const to = Math.min(end, segmentStart + segmentBytes) - segmentStart;
      const piece = payload.subarray(from, to);
      bytes += piece.length;
      this.options.onProgress?.({
        phase: 'download',
        bytes,
        totalBytes: end - start,
        segments: s - first + 1,
        reconstructedSegments: this.reconstructedSegments,
      });
      yield piece;
    }
  }

  /** Segment `s`'s full payload, from the shared cache when there is one. */
  async readSegment(s: number): Promise<[number, Uint8Array]> {
    if (!Number.isInteger(s) || s < 0 || s >= this.segments) throw new InvalidArgumentError(`no segment ${s}`);
    const key = `${toHex(this.id)}:${s}`;
    const cached = this.options.cache?.get(key) ?? (this.lastSegment?.[0] === s ? this.lastSegment[1] : undefined);
    if (cached) return [s, cached];
    const { payload, reconstructed } = this.options.pool
      ? await this.options.pool.fetch(this.id, this.fetchTerms, this.refs, s, this.health, {
          timeoutMs: this.options.timeoutMs ?? 15_000,
          signal: this.options.signal,
        })
      : await fetchSegment(this.id, this.fetchTerms, s, {
          clients: this.sources,
          merkle: this.merkle,
          health: this.nodeHealth,
          signal: this.options.signal,
        });
    if (reconstructed) {
      this.reconstructedSegments++;
      this.health.reconstructedSegments++;
    }
    this.options.cache?.set(key, payload);
    // The last segment holds the file index, read when a dataset opens and again with its last file: kept, once.
    if (s === this.segments - 1) this.lastSegment = [s, payload];
    return [s, payload];
  }
}

/** The registration of `id` on chain: content root, size, code, and the slots' current holders (after any replacement). */
async function registeredTerms(registry: ReaderRegistryView | undefined, id: Uint8Array): Promise<RegisteredTerms> {
  if (!registry) throw new InvalidArgumentError('reading a dataset needs the registry it is registered in, or its registration');
  const terms = await registry.readerTerms(id);
  if (!terms.registered) throw new DownloadError('dataset_not_registered', `dataset ${toHex(id)} is not registered on chain`);
  return terms;
}
