import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerModule } from '../proofs/worker-module.ts';
import { DownloadError, throwIfAborted } from './errors.ts';
import type { NodeHealth, NodeRef } from './node-health.ts';
import type { ReadResult, ReadTask } from './read-worker.ts';
import type { FetchedSegment, FetchTerms } from './segment-fetcher.ts';

interface Waiting {
  segment: number;
  resolve(segment: FetchedSegment): void;
  reject(error: unknown): void;
}

interface Group {
  id: Uint8Array;
  terms: FetchTerms;
  refs: ReadonlyArray<NodeRef | undefined>;
  health: NodeHealth;
  timeoutMs: number;
  waiting: Waiting[];
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
  private readonly groups = new Map<string, Group>();

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
      const key = Buffer.from(id).toString('hex');
      let group = this.groups.get(key);
      if (!group) {
        group = { id, terms, refs, health, timeoutMs: options.timeoutMs, waiting: [] };
        this.groups.set(key, group);
        const scheduled = group;
        setImmediate(() => {
          if (this.groups.get(key) === scheduled) this.groups.delete(key);
          void this.run(scheduled);
        });
      }
      group.waiting.push({ segment, resolve, reject });
    }).then((fetched) => {
      throwIfAborted(options.signal);
      return fetched;
    });
  }

  private async run(group: Group): Promise<void> {
    const { refs, health } = group;
    const task: ReadTask = {
      id: group.id,
      terms: group.terms,
      urls: refs.map((ref) => ref?.url),
      segments: group.waiting.map((w) => w.segment),
      ranks: refs.map((ref) => (ref ? health.rank(ref) : 3)),
      hedgeDelayMs: health.hedgeDelayMs(),
      timeoutMs: group.timeoutMs,
    };
    let result: ReadResult;
    try {
      result = (await this.pool.run(task)) as ReadResult;
    } catch (cause) {
      const error = new DownloadError('read_failed', `a read thread failed: ${(cause as Error).message}`, { cause });
      for (const w of group.waiting) w.reject(error);
      return;
    }
    for (const event of result.events) {
      const ref = refs[event.node];
      if (!ref) continue;
      if (event.kind === 'served') health.served(ref, event.ms);
      else if (event.kind === 'failed') health.failed(ref, event.reason);
      else health.hedged(ref);
    }
    group.waiting.forEach((w, j) => {
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
