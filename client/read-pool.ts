import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerModule } from '../proofs/worker-module.ts';
import { DownloadError } from './errors.ts';
import type { NodeHealth, NodeRef } from './node-health.ts';
import type { ReadResult, ReadTask } from './read-worker.ts';
import type { FetchedSegment, FetchTerms } from './segment-fetcher.ts';

/**
 * Worker threads that fetch, check and decode segments (client/read-worker.ts), so a process
 * serving many reads (the gateway) spends its main thread on sending bytes. Tasks carry plain
 * values; the payload comes back moved. What the workers see of the nodes is applied to the
 * caller's NodeHealth, which also ranks the nodes for every task: one view of the nodes for
 * all threads.
 */
export class ReadPool {
  private readonly pool: Piscina;

  constructor(options: { threads?: number; tasksPerThread?: number } = {}) {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.pool = new Piscina({
      ...workerModule(new URL('./read-worker.ts', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      // Fetching is mostly waiting on nodes: each thread runs several segments at once.
      concurrentTasksPerWorker: options.tasksPerThread ?? 8,
    });
  }

  async fetch(
    id: Uint8Array,
    terms: FetchTerms,
    refs: ReadonlyArray<NodeRef | undefined>,
    segment: number,
    health: NodeHealth,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<FetchedSegment> {
    const task: ReadTask = {
      id,
      terms,
      urls: refs.map((ref) => ref?.url),
      segment,
      ranks: refs.map((ref) => (ref ? health.rank(ref) : 3)),
      hedgeDelayMs: health.hedgeDelayMs(),
      timeoutMs: options.timeoutMs,
    };
    const result = (await this.pool.run(task, { signal: options.signal })) as ReadResult;
    for (const event of result.events) {
      const ref = refs[event.node];
      if (!ref) continue;
      if (event.kind === 'served') health.served(ref, event.ms);
      else if (event.kind === 'failed') health.failed(ref, event.reason);
      else health.hedged(ref);
    }
    if (!result.payload) {
      const error = result.error ?? { code: 'read_failed', message: `segment ${segment} could not be read` };
      throw new DownloadError(error.code, error.message, { details: error.details });
    }
    return { payload: result.payload, reconstructed: result.reconstructed };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
