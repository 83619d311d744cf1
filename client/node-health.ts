/** Why a shard did not come from a node. */
export type ShardFailure = 'unreachable' | 'timeout' | 'corrupt' | 'error';

const FAILURES: readonly ShardFailure[] = ['unreachable', 'timeout', 'corrupt', 'error'];

export interface NodeRef {
  /** The node's BLS public key, hex: its identity. */
  publicKey: string;
  url: string;
}

export interface NodeCounters {
  url: string;
  shards: number;
  failures: Record<ShardFailure, number>;
  /** Requests to this node that were hedged: it had not answered within the hedge delay. */
  hedged: number;
}

export interface NodeHealthOptions {
  /** How long a node that failed is asked last (default 30 s); then it gets another chance. */
  forgetAfterMs?: number;
  /**
   * How long a node that was hedged is asked after the others (default 5 s) unless it answers
   * sooner: a hedge is a weaker sign than a failure (the request it was hedged on is often
   * cancelled, so the node gets no chance to answer), and while it is ranked last its data
   * shards are rebuilt from parity.
   */
  slowForgetAfterMs?: number;
  /** Bounds of the hedge delay, which follows the recent shard latencies (default 20 ms to 2 s). */
  minHedgeMs?: number;
  maxHedgeMs?: number;
  /** The clock, in ms (default performance.now). */
  now?: () => number;
}

/** Latencies kept for the hedge delay, and how many before it is trusted. */
const LATENCY_WINDOW = 256;
const LATENCY_WARMUP = 16;
/** The hedge delay before enough latencies are known. */
const INITIAL_HEDGE_MS = 250;

/**
 * What readers learn about storage nodes, shared by every reader given the same instance (a
 * gateway gives all its readers one). A node that failed is asked last until `forgetAfterMs`
 * passes, one that was slow (hedged) until `slowForgetAfterMs` passes or it answers within the
 * longest hedge delay; the hedge delay is twice the 95th percentile of recent shard latencies
 * ("The Tail at Scale"), so a slow node costs a read little more than a healthy one.
 * Counters per node feed the gateway's /metrics.
 */
export class NodeHealth {
  private readonly suspects = new Map<string, { state: 'slow' | 'failed'; at: number }>();
  private readonly counters = new Map<string, NodeCounters>();
  private readonly latencies: number[] = [];
  private latencyCursor = 0;
  /** hedgeDelayMs() as last computed, and how many latencies ago (it is asked for every shard request). */
  private hedgeDelay = 0;
  private latenciesSinceDelay = Number.POSITIVE_INFINITY;
  private readonly forgetAfterMs: number;
  private readonly slowForgetAfterMs: number;
  private readonly minHedgeMs: number;
  readonly maxHedgeMs: number;
  private readonly now: () => number;
  hedgedRequests = 0;
  reconstructedSegments = 0;

  constructor(options: NodeHealthOptions = {}) {
    this.forgetAfterMs = options.forgetAfterMs ?? 30_000;
    this.slowForgetAfterMs = options.slowForgetAfterMs ?? 5_000;
    this.minHedgeMs = options.minHedgeMs ?? 20;
    this.maxHedgeMs = Math.max(this.minHedgeMs, options.maxHedgeMs ?? 2000);
    this.now = options.now ?? (() => performance.now());
  }

  /** 0 for a node in good standing, 1 for a slow one, 2 for one that failed: readers ask in this order. */
  rank(node: NodeRef): number {
    const suspect = this.suspects.get(node.publicKey);
    if (!suspect) return 0;
    if (this.now() - suspect.at > (suspect.state === 'slow' ? this.slowForgetAfterMs : this.forgetAfterMs)) {
      this.suspects.delete(node.publicKey);
      return 0;
    }
    return suspect.state === 'slow' ? 1 : 2;
  }

  served(node: NodeRef, ms: number): void {
    this.countersOf(node).shards++;
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(ms);
    else this.latencies[this.latencyCursor++ % LATENCY_WINDOW] = ms;
    this.latenciesSinceDelay++;
    // A node that answers within the longest hedge delay was behind (a loaded node, a busy reader), not stuck:
    // kept last, it would have its data shards rebuilt from parity for slowForgetAfterMs, which loads the rest.
    if (this.suspects.get(node.publicKey)?.state === 'slow' && ms < this.maxHedgeMs) this.suspects.delete(node.publicKey);
  }

  failed(node: NodeRef, reason: ShardFailure): void {
    this.countersOf(node).failures[reason]++;
    this.suspects.set(node.publicKey, { state: 'failed', at: this.now() });
  }

  /** A request to `node` went unanswered past the hedge delay, so another holder was asked too. */
  hedged(node: NodeRef): void {
    this.hedgedRequests++;
    this.countersOf(node).hedged++;
    if (!this.suspects.has(node.publicKey)) this.suspects.set(node.publicKey, { state: 'slow', at: this.now() });
  }

  hedgeDelayMs(): number {
    if (this.latencies.length < LATENCY_WARMUP) return Math.min(this.maxHedgeMs, Math.max(this.minHedgeMs, INITIAL_HEDGE_MS));
    // Sorted again only every 16 latencies: enough to follow the load, cheap beside a request.
    if (this.latenciesSinceDelay >= LATENCY_WARMUP) {
      const sorted = [...this.latencies].sort((a, b) => a - b);
      this.hedgeDelay = Math.min(this.maxHedgeMs, Math.max(this.minHedgeMs, 2 * sorted[Math.floor(0.95 * (sorted.length - 1))]!));
      this.latenciesSinceDelay = 0;
    }
    return this.hedgeDelay;
  }

  /** Counters of every node asked so far, by public key. */
  nodes(): ReadonlyMap<string, Readonly<NodeCounters>> {
    return this.counters;
  }

  private countersOf(node: NodeRef): NodeCounters {
    let counters = this.counters.get(node.publicKey);
    if (!counters) {
      counters = {
        url: node.url,
        shards: 0,
        hedged: 0,
        failures: Object.fromEntries(FAILURES.map((f) => [f, 0])) as NodeCounters['failures'],
      };
      this.counters.set(node.publicKey, counters);
    }
    return counters;
  }
}
