import { equalBytes, toHex } from '../proofs/bytes.ts';
import { sha256 } from '../proofs/hash.ts';
import { manifestSegments, shardPosition, shardsPerSegment } from '../protocol/manifest.ts';
import { shardsOnNode } from '../protocol/placement.ts';
import type { DatasetCatalog } from './datasets.ts';
import type { Metrics } from './metrics.ts';
import type { Repairer } from './repair.ts';
import type { ShardStore } from './store.ts';

/** A modest default: a node holding 1 TB is swept about every 3 days without taking a disk's attention from reads. */
export const DEFAULT_SCRUB_MB_S = 4;

export interface ScrubDeps {
  store: Pick<ShardStore, 'getShard'>;
  catalog: Pick<DatasetCatalog, 'list' | 'get'>;
  repairer: Pick<Repairer, 'enqueue'>;
  /** Whether a dataset is certified: one still being uploaded has shards on their way, not lost. */
  certified: (id: Uint8Array) => Promise<boolean>;
  metrics: Metrics;
  /** Bytes re-read per second, at most (0 stops the scrub). */
  bytesPerSecond: number;
  /** Pause between two sweeps (default 60 s). */
  restMs?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Re-reads every shard this node should hold, at a bounded rate, and checks it against its
 * SHA-256 in the manifest: a shard that is gone, unreadable (LevelDB reports corruption) or
 * changed is queued for repair. Silent corruption is what a scrub is for: nothing else reads
 * a shard nobody asks for. /metrics shows the sweep's progress and what it found.
 */
export class Scrubber {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: ScrubDeps) {}

  start(): void {
    if (this.deps.bytesPerSecond <= 0) return;
    this.running = this.loop().catch((error: unknown) => this.deps.log?.('warn', `scrub stopped: ${(error as Error).message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.sweep();
      this.deps.metrics.inc('sherd_scrub_sweeps_total');
      await this.sleep(this.deps.restMs ?? 60_000);
    }
  }

  /** One sweep over every assigned shard of every stored dataset; returns the shards found damaged. */
  async sweep(): Promise<number> {
    const { metrics } = this.deps;
    const datasets = [];
    for (const id of await this.deps.catalog.list()) {
      const state = await this.deps.catalog.get(id).catch(() => undefined);
      if (state && state.nodeIndex >= 0 && (await this.deps.certified(id).catch(() => false))) datasets.push(state);
    }
    const total = datasets.reduce((sum, state) => sum + state.assignedShards, 0);
    let checked = 0;
    let damaged = 0;
    metrics.set('sherd_scrub_progress', 0);
    for (const state of datasets) {
      const { manifest } = state;
      for (const [s, i] of shardsOnNode(state.nodeIndex, manifestSegments(manifest), shardsPerSegment(manifest), manifest.nodes.length)) {
        if (this.stopped) return damaged;
        const started = performance.now();
        const blob = await this.deps.store.getShard(state.id, s, i).then(
          (bytes) => bytes ?? 'missing',
          () => 'unreadable' as const,
        );
        const hash = manifest.shards[shardPosition(manifest, s, i)]!.hash;
        const problem = typeof blob === 'string' ? blob : equalBytes(sha256(blob), hash) ? undefined : 'corrupt';
        if (problem) {
          damaged++;
          if (problem !== 'missing') metrics.inc('sherd_corrupt_shards_total');
          this.deps.log?.('warn', `scrub: shard ${s}/${i} of ${toHex(state.id)} is ${problem}; repairing it`);
          this.deps.repairer.enqueue(state, s, i, problem === 'missing' ? 'scrub' : 'corrupt');
        }
        checked++;
        metrics.inc('sherd_scrub_shards_checked_total');
        metrics.set('sherd_scrub_progress', total === 0 ? 1 : checked / total);
        const bytes = typeof blob === 'string' ? 0 : blob.length;
        metrics.inc('sherd_scrub_bytes_total', bytes);
        // Paced to the rate: a shard of B bytes takes at least B / rate seconds.
        const due = (bytes / this.deps.bytesPerSecond) * 1000 - (performance.now() - started);
        if (due > 0) await this.sleep(due);
      }
    }
    metrics.set('sherd_scrub_progress', 1);
    return damaged;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolveSleep) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolveSleep();
      }
      this.wake = done;
    });
  }
}
