import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerModule } from '../proofs/worker-module.ts';
import { sameTurnGroups } from './concurrency.ts';
import { DownloadError, throwIfAborted } from './errors.ts';
import type { NodeHealth, NodeRef } from './node-health.ts';
import type { ReadResult, ReadTask } from './read-worker.ts';
import { type FetchedSegment, type FetchTerms, shardHealthOf } from './segment-fetcher.ts';

/** One segment asked for, with its reader's context (the first of a group speaks for it: groups are by reader). */
interface Waiting {
  id: Uint8Array;
  terms: FetchTerms;
  refs: ReadonlyArray<NodeRef | undefined>;
  health: NodeHealth;
  timeoutMs: number;
  segment: number;
  resolve(segment: FetchedSegment): void;
  reject(error: unknown): void;
}

/**
 * Worker threads that fetch, check and decode segments (client/read-worker.ts), so a process
 * serving many reads (the gateway) spends its main thread on sending bytes. The segments of a
 * dataset asked for in one turn of the event loop go to one thread as one task, so the shards
 * each node holds for them go out as one batch request. Tasks carry plain values; payloads
 * come back moved. What the workers see of the nodes is applied to the caller's NodeHealth,
 * which also ranks the nodes for every task: one view of the nodes for all threads.
 */
export class ReadPool {
  private readonly pool: Piscina;
  private readonly enqueue = sameTurnGroups<Waiting>((group) => void this.run(group));
  /** A number for each reader's node list, to group by reader (a dataset may have readers with other nodes or health). */
  private readonly readers = new WeakMap<object, number>();
  private nextReader = 0;

  constructor(options: { threads?: number; tasksPerThread?: number } = {}) {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.pool = new Piscina({
      ...workerModule(new URL('./read-worker.ts', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      // Fetching is mostly waiting on nodes: each thread runs several groups at once.
      concurrentTasksPerWorker: options.tasksPerThread ?? 8,
    });
  }

  /**
   * Segment `segment` of dataset `id`. `signal` is checked before and after, not passed to the
   * pool: piscina ends a whole worker to abort a task, and would take other reads with it.
   */
  fetch(
    id: Uint8Array,
    terms: FetchTerms,
    refs: ReadonlyArray<NodeRef | undefined>,
    segment: number,
    health: NodeHealth,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<FetchedSegment> {
    throwIfAborted(options.signal);
    return new Promise<FetchedSegment>((resolve, reject) => {
      let reader = this.readers.get(refs);
      if (reader === undefined) {
        reader = this.nextReader++;
        this.readers.set(refs, reader);
      }
      this.enqueue(String(reader), { id, terms, refs, health, timeoutMs: options.timeoutMs, segment, resolve, reject });
    }).then((fetched) => {
      throwIfAborted(options.signal);
      return fetched;
    });
  }

  private async run(group: Waiting[]): Promise<void> {
    const { id, terms, refs, health, timeoutMs } = group[0]!;
    const nodes = shardHealthOf(health, refs);
    const task: ReadTask = {
      id,
      terms,
      urls: refs.map((ref) => ref?.url),
      segments: group.map((w) => w.segment),
      ranks: refs.map((_, node) => nodes.rank(node)),
      hedgeDelayMs: nodes.hedgeDelayMs(),
      maxHedgeMs: nodes.maxHedgeMs(),
      timeoutMs,
    };
    let result: ReadResult;
    try {
      result = (await this.pool.run(task)) as ReadResult;
    } catch (cause) {
      const error = new DownloadError('read_failed', `a read thread failed: ${(cause as Error).message}`, { cause });
      for (const w of group) w.reject(error);
      return;
    }
    for (const event of result.events) {
      if (event.kind === 'served') nodes.served(event.node, event.ms);
      else if (event.kind === 'failed') nodes.failed(event.node, event.reason);
      else nodes.hedged(event.node);
    }
    group.forEach((w, j) => {
      const outcome = result.outcomes[j];
      if (outcome && 'payload' in outcome) w.resolve(outcome);
      else {
        const error = outcome?.error ?? { code: 'read_failed', message: `segment ${w.segment} could not be read` };
        w.reject(new DownloadError(error.code, error.message, { details: error.details }));
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
