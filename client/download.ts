import type { Registry } from '../chain/registry.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { equalBytes, fromHex, toHex } from '../proofs/bytes.ts';
import { ErasureCodec } from '../proofs/codec.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { sha256 } from '../proofs/hash.ts';
import { merkleLeaf, verifyMerkleProof } from '../proofs/merkle.ts';
import { segmentCount, segmentPayloadBytes, shardPosition } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import type { RegisteredTerms } from '../protocol/registration.ts';
import { blobsToSegment } from '../protocol/segment.ts';
import { mapOrdered } from './concurrency.ts';
import { DownloadError, RemoteError } from './errors.ts';
import { NodeClient } from './node-client.ts';
import { NodeHealth, type NodeRef, type ShardFailure } from './node-health.ts';
import type { DownloadProgress, NodeEndpoint } from './types.ts';

/** What a reader reads on chain: the dataset's registration and its node set's keys. */
export type ReaderRegistryView = Pick<Registry, 'registeredTerms'>;

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
  /** The longest wait for a shard before another holder is asked too (default 2 s); the delay follows observed latencies below that. */
  hedgeAfterMs?: number;
  /** What is known about the nodes, shared between readers (a gateway's); by default each reader keeps its own. */
  health?: NodeHealth;
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
 * within `hedgeAfterMs`) or returns bad bytes is replaced by a parity shard from another node,
 * and remembered, so later segments go around it from the start.
 */
export class DatasetReader {
  readonly health: NodeHealth;
  private readonly codec: ErasureCodec;
  private readonly clientsByNode: Array<NodeClient | undefined>;
  private readonly refs: NodeRef[];
  private readonly segments: number;
  reconstructedSegments = 0;
  private lastSegment: [number, Uint8Array] | undefined;

  private constructor(
    readonly id: Uint8Array,
    readonly terms: RegisteredTerms,
    clients: Map<string, NodeClient>,
    private readonly options: DownloadOptions,
  ) {
    this.codec = new ErasureCodec(terms.k, terms.m);
    this.segments = segmentCount(terms.size, terms.k);
    this.clientsByNode = terms.nodeKeys.map((key) => clients.get(toHex(fromHex(key, 48))));
    this.refs = terms.nodeKeys.map((key, i) => ({ publicKey: toHex(fromHex(key, 48)), url: this.clientsByNode[i]?.url ?? '' }));
    this.health = options.health ?? new NodeHealth({ maxHedgeMs: options.hedgeAfterMs });
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
    const clients = new Map<string, NodeClient>();
    for (const node of options.nodes) {
      clients.set(toHex(fromHex(node.publicKey, 48)), new NodeClient(node.url, { connections: 4, timeoutMs: options.timeoutMs ?? 15_000 }));
    }
    return new DatasetReader(id, terms, clients, options);
  }

  get size(): number {
    return this.terms.size;
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
    const segments = mapOrdered(indices, this.options.concurrency ?? 4, (s) => this.readSegment(s), this.options.signal);
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

  /** Shard indices of segment `s` in the order to ask for them: data first, nodes that failed before last. */
  private candidateOrder(s: number): number[] {
    const n = this.terms.k + this.terms.m;
    const rank = (i: number) => {
      const node = nodeForShard(s, i, this.terms.nodeKeys.length);
      return (this.clientsByNode[node] ? this.health.rank(this.refs[node]!) : 3) * 1000 + i;
    };
    return Array.from({ length: n }, (_, i) => i).sort((a, b) => rank(a) - rank(b));
  }

  /**
   * One shard from its node, checked against the content root alone: its SHA-256 is the one in
   * the leaf the node sent, and that leaf sits at the shard's position under the root. The
   * blob, or why not (and what the node did is told to `health`).
   */
  private async fetchShard(s: number, i: number, node: number, client: NodeClient, signal: AbortSignal): Promise<Uint8Array | string> {
    const ref = this.refs[node]!;
    const started = performance.now();
    try {
      const shard = await client.getShardWithProof(this.id, s, i, signal);
      const position = shardPosition(this.terms, s, i);
      const leafCount = this.segments * (this.terms.k + this.terms.m);
      const leaf = merkleLeaf(shard.commitment, shard.shardHash);
      if (
        shard.blob.length === BYTES_PER_BLOB &&
        equalBytes(sha256(shard.blob), shard.shardHash) &&
        verifyMerkleProof(this.terms.contentRoot, leaf, position, shard.inclusionProof, leafCount)
      ) {
        this.health.served(ref, performance.now() - started);
        return shard.blob;
      }
      this.health.failed(ref, 'corrupt');
      return `shard ${i} from node ${node}: bytes do not match the content root`;
    } catch (error) {
      if (signal.aborted) return `shard ${i} from node ${node}: cancelled`;
      this.health.failed(ref, failureOf(error));
      return `shard ${i} from node ${node}: ${(error as Error).message}`;
    }
  }

  /** Segment `s`'s full payload, from the shared cache when there is one. */
  async readSegment(s: number): Promise<[number, Uint8Array]> {
    if (!Number.isInteger(s) || s < 0 || s >= this.segments) throw new InvalidArgumentError(`no segment ${s}`);
    const key = `${toHex(this.id)}:${s}`;
    const cached = this.options.cache?.get(key) ?? (this.lastSegment?.[0] === s ? this.lastSegment[1] : undefined);
    if (cached) return [s, cached];
    const payload = await this.fetchSegment(s);
    this.options.cache?.set(key, payload);
    // The last segment holds the file index, read when a dataset opens and again with its last file: kept, once.
    if (s === this.segments - 1) this.lastSegment = [s, payload];
    return [s, payload];
  }

  /**
   * Fetches any k good shards of segment `s` and decodes its payload. k requests go out at
   * once; each failure launches the next candidate, and so does a request still unanswered
   * after `hedgeAfterMs` (its node is marked slow). Once k are good the rest are cancelled.
   */
  private async fetchSegment(s: number): Promise<Uint8Array> {
    const { k, m } = this.terms;
    const candidates = this.candidateOrder(s);
    const blobs: Array<Uint8Array | undefined> = new Array(k + m).fill(undefined);
    const errors: string[] = [];
    const controller = new AbortController();
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, controller.signal]) : controller.signal;
    let good = 0;
    let next = 0;
    let pending = 0;

    await new Promise<void>((resolve, reject) => {
      const settleIfDone = () => {
        if (good >= k) {
          controller.abort();
          resolve();
        } else if (pending === 0 && next >= candidates.length) {
          reject(
            new DownloadError('segment_unrecoverable', `segment ${s} has only ${good} of the ${k} good shards it needs`, {
              details: errors.join('; '),
            }),
          );
        }
      };
      const launch = (): void => {
        if (next >= candidates.length) return;
        const i = candidates[next++]!;
        const node = nodeForShard(s, i, this.terms.nodeKeys.length);
        const client = this.clientsByNode[node];
        if (!client) {
          errors.push(`shard ${i}: node ${node} is not among the known nodes`);
          launch();
          return;
        }
        pending++;
        const hedge = setTimeout(() => {
          if (good >= k || next >= candidates.length) return;
          this.health.hedged(this.refs[node]!);
          launch();
        }, this.health.hedgeDelayMs());
        void this.fetchShard(s, i, node, client, signal).then((result) => {
          clearTimeout(hedge);
          pending--;
          if (this.options.signal?.aborted) {
            reject(this.options.signal.reason);
            return;
          }
          if (typeof result !== 'string' && good < k) {
            blobs[i] = result;
            good++;
          } else if (typeof result === 'string' && !controller.signal.aborted) {
            errors.push(result);
            if (good < k) launch();
          }
          settleIfDone();
        });
      };
      for (let j = 0; j < k; j++) launch();
      settleIfDone();
    });

    if (blobs.slice(0, k).some((b) => b === undefined)) {
      this.reconstructedSegments++;
      this.health.reconstructedSegments++;
    }
    return blobsToSegment(this.codec, blobs);
  }
}

function failureOf(error: unknown): ShardFailure {
  if (!(error instanceof RemoteError)) return 'error';
  if (error.code === 'unreachable' || error.code === 'timeout') return error.code;
  return error.code === 'bad_response' ? 'corrupt' : 'error';
}

/** The registration of `id` on chain: content root, size, code and node set. */
async function registeredTerms(registry: ReaderRegistryView | undefined, id: Uint8Array): Promise<RegisteredTerms> {
  if (!registry) throw new InvalidArgumentError('reading a dataset needs the registry it is registered in, or its registration');
  const terms = await registry.registeredTerms(id);
  if (!terms.registered) throw new DownloadError('dataset_not_registered', `dataset ${toHex(id)} is not registered on chain`);
  return terms;
}
