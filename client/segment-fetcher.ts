import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { equalBytes } from '../proofs/bytes.ts';
import { frCodeFor } from '../proofs/fr-code.ts';
import { sha256 } from '../proofs/hash.ts';
import { type MerkleVerifier, merkleLeaf } from '../proofs/merkle.ts';
import { shardPosition } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import { blobsToSegment } from '../protocol/segment.ts';
import { DownloadError, NO_LONGER_NEEDED, RemoteError } from './errors.ts';
import type { ShardSource } from './shard-batcher.ts';
import type { NodeHealth, ShardFailure } from './node-health.ts';

/** What a segment fetch asks of and tells to node health, by node index in the node set. */
export interface ShardHealth {
  rank(node: number): number;
  hedgeDelayMs(): number;
  /** The longest a request waits before it is hedged, even when no other request of its segment has been answered. */
  maxHedgeMs(): number;
  served(node: number, ms: number): void;
  failed(node: number, reason: ShardFailure): void;
  hedged(node: number): void;
}

/** What a segment fetch needs to know of its dataset. */
export interface FetchTerms {
  contentRoot: Uint8Array;
  size: number;
  k: number;
  m: number;
  /** Nodes of the node set, in placement order. */
  nodeCount: number;
}

export interface FetchedSegment {
  payload: Uint8Array;
  /** Whether a data shard was missing, so the segment was rebuilt from parity. */
  reconstructed: boolean;
}

/** `health` seen by node index, for a reader whose nodes are `refs` (a node without a client ranks last). */
export function shardHealthOf(health: NodeHealth, refs: ReadonlyArray<{ publicKey: string; url: string } | undefined>): ShardHealth {
  return {
    rank: (node) => (refs[node] ? health.rank(refs[node]) : 3),
    hedgeDelayMs: () => health.hedgeDelayMs(),
    maxHedgeMs: () => health.maxHedgeMs,
    served: (node, ms) => refs[node] && health.served(refs[node], ms),
    failed: (node, reason) => refs[node] && health.failed(refs[node], reason),
    hedged: (node) => refs[node] && health.hedged(refs[node]),
  };
}

/**
 * Fetches one segment: any k shards, each checked against the content root alone (its SHA-256
 * is the one in the leaf the node sent, and that leaf sits at the shard's position under the
 * root), then decoded. Data shards are asked for first and nodes in bad standing last; k
 * requests go out at once, each failure launches the next candidate, and so does a request
 * that is late by its siblings' measure (hedgeDeadline; its node is told to `health` as slow).
 * Once k are good the rest are cancelled.
 * Runs on the caller's thread or in a read worker alike.
 */
export async function fetchSegment(id: Uint8Array, terms: FetchTerms, s: number, deps: SegmentFetchDeps): Promise<FetchedSegment> {
  return new SegmentFetch(id, terms, s, deps).run();
}

interface SegmentFetchDeps {
  clients: ReadonlyArray<ShardSource | undefined>;
  merkle: MerkleVerifier;
  health: ShardHealth;
  signal?: AbortSignal;
}

/** One fetchSegment call's state: the shards asked for, those still out, and how it ends. */
class SegmentFetch {
  private readonly candidates: number[];
  private readonly blobs: Array<Uint8Array | undefined>;
  private readonly errors: string[] = [];
  private readonly controller = new AbortController();
  private readonly signal: AbortSignal;
  /** Requests sent and not yet answered. */
  private readonly outstanding = new Set<Outstanding>();
  private good = 0;
  private next = 0;
  /** How long the segment's first answer (good or not) took, once there is one: what "late" is measured against. */
  private firstAnswerMs: number | undefined;
  private resolve!: () => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly id: Uint8Array,
    private readonly terms: FetchTerms,
    private readonly s: number,
    private readonly deps: SegmentFetchDeps,
  ) {
    this.candidates = candidateOrder(terms, s, deps.health);
    this.blobs = new Array(terms.k + terms.m).fill(undefined);
    this.signal = deps.signal ? AbortSignal.any([deps.signal, this.controller.signal]) : this.controller.signal;
  }

  async run(): Promise<FetchedSegment> {
    const { k, m } = this.terms;
    try {
      await new Promise<void>((resolve, reject) => {
        this.resolve = resolve;
        this.reject = reject;
        for (let j = 0; j < k; j++) this.launch();
        this.settleIfDone();
      });
    } finally {
      for (const request of this.outstanding) clearTimeout(request.hedge);
    }
    return { payload: blobsToSegment(frCodeFor(k, m), this.blobs), reconstructed: this.blobs.slice(0, k).some((b) => b === undefined) };
  }

  /** Asks for the next candidate shard, if any is left. */
  private launch(): void {
    if (this.next >= this.candidates.length) return;
    const i = this.candidates[this.next++]!;
    const node = nodeForShard(this.s, i, this.terms.nodeCount);
    const client = this.deps.clients[node];
    if (!client) {
      this.errors.push(`shard ${i}: node ${node} is not among the known nodes`);
      this.launch();
      return;
    }
    const request: Outstanding = { node, launchedAt: performance.now(), hedge: undefined };
    this.outstanding.add(request);
    this.armHedge(request);
    void fetchShard(this.id, this.terms, this.s, i, node, client, this.deps, this.signal).then((result) =>
      this.answered(request, i, result),
    );
  }

  /** (Re)sets `request`'s hedge timer for its deadline (hedgeDeadline), from now. */
  private armHedge(request: Outstanding): void {
    clearTimeout(request.hedge);
    const wait = hedgeDeadline(request.launchedAt, this.firstAnswerMs, this.deps.health) - performance.now();
    request.hedge = setTimeout(
      () => {
        request.hedge = undefined;
        if (this.good >= this.terms.k || this.next >= this.candidates.length) return;
        this.deps.health.hedged(request.node);
        this.launch();
      },
      Math.max(0, wait),
    );
  }

  private answered(request: Outstanding, i: number, result: Uint8Array | string): void {
    clearTimeout(request.hedge);
    this.outstanding.delete(request);
    if (this.firstAnswerMs === undefined) {
      // The first answer sets what late means for the requests still out and not yet hedged: their deadlines move.
      this.firstAnswerMs = performance.now() - request.launchedAt;
      for (const other of this.outstanding) if (other.hedge !== undefined) this.armHedge(other);
    }
    if (this.deps.signal?.aborted) {
      this.reject(this.deps.signal.reason);
      return;
    }
    if (typeof result !== 'string' && this.good < this.terms.k) {
      this.blobs[i] = result;
      this.good++;
    } else if (typeof result === 'string' && !this.controller.signal.aborted) {
      this.errors.push(result);
      if (this.good < this.terms.k) this.launch();
    }
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.good >= this.terms.k) {
      this.controller.abort(NO_LONGER_NEEDED);
      this.resolve();
    } else if (this.outstanding.size === 0 && this.next >= this.candidates.length) {
      this.reject(
        new DownloadError('segment_unrecoverable', `segment ${this.s} has only ${this.good} of the ${this.terms.k} good shards it needs`, {
          details: this.errors.join('; '),
        }),
      );
    }
  }
}

/** A shard request still out, and its hedge timer (undefined once it has fired: a request is hedged once). */
interface Outstanding {
  node: number;
  launchedAt: number;
  hedge: NodeJS.Timeout | undefined;
}

/** A request is late, and hedged, when it has taken LATE_FACTOR times what its segment's first answer took (and the hedge delay). */
const LATE_FACTOR = 3;

/**
 * When a request launched at `launchedAt` is hedged. Before any request of its segment has
 * been answered, only after the longest hedge delay: when none has come back, the reader or
 * every node is loaded, and more requests would only add load. After, once it has taken
 * LATE_FACTOR times what the first answer took and at least the hedge delay: siblings under
 * the same load are the measure, so a loaded gateway does not hedge (and rebuild) for
 * latencies its quiet past calls late.
 */
function hedgeDeadline(launchedAt: number, firstAnswerMs: number | undefined, health: ShardHealth): number {
  if (firstAnswerMs === undefined) return launchedAt + health.maxHedgeMs();
  return launchedAt + Math.min(health.maxHedgeMs(), Math.max(health.hedgeDelayMs(), LATE_FACTOR * firstAnswerMs));
}

/** Shard indices of segment `s` in the order to ask for them: data first, nodes in bad standing last. */
function candidateOrder(terms: FetchTerms, s: number, health: ShardHealth): number[] {
  const rank = (i: number) => health.rank(nodeForShard(s, i, terms.nodeCount)) * 1000 + i;
  return Array.from({ length: terms.k + terms.m }, (_, i) => i).sort((a, b) => rank(a) - rank(b));
}

/** One shard from its node, checked against the content root; the blob, or why not (told to health). */
async function fetchShard(
  id: Uint8Array,
  terms: FetchTerms,
  s: number,
  i: number,
  node: number,
  client: ShardSource,
  deps: { merkle: MerkleVerifier; health: ShardHealth },
  signal: AbortSignal,
): Promise<Uint8Array | string> {
  const started = performance.now();
  try {
    const shard = await client.getShardWithProof(id, s, i, signal);
    if (
      shard.blob.length === BYTES_PER_BLOB &&
      equalBytes(sha256(shard.blob), shard.shardHash) &&
      deps.merkle.verify(merkleLeaf(shard.commitment, shard.shardHash), shardPosition(terms, s, i), shard.inclusionProof)
    ) {
      deps.health.served(node, performance.now() - started);
      return shard.blob;
    }
    deps.health.failed(node, 'corrupt');
    return `shard ${i} from node ${node}: bytes do not match the content root`;
  } catch (error) {
    if (signal.aborted) return `shard ${i} from node ${node}: cancelled`;
    deps.health.failed(node, failureOf(error));
    return `shard ${i} from node ${node}: ${(error as Error).message}`;
  }
}

function failureOf(error: unknown): ShardFailure {
  if (!(error instanceof RemoteError)) return 'error';
  if (error.code === 'unreachable' || error.code === 'timeout') return error.code;
  return error.code === 'bad_response' ? 'corrupt' : 'error';
}
