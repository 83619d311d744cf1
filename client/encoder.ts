import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerModule } from '../proofs/worker-module.ts';
import type { CommitResult, EncodeTask } from './encode-worker.ts';

/**
 * The worker pool that codes segments and commits to shards, off the event loop. Callers
 * bound how many tasks they submit (upload keeps threads + 1 in flight), which is the
 * backpressure: input is not read ahead of the workers.
 */
export class EncoderPool {
  private readonly pool: Piscina;
  readonly threads: number;

  constructor(threads: number = availableParallelism()) {
    this.threads = Math.max(1, threads);
    this.pool = new Piscina({
      ...workerModule(new URL('./encode-worker.ts', import.meta.url)),
      minThreads: this.threads,
      maxThreads: this.threads,
    });
  }

  commit(payload: Uint8Array, k: number, m: number, signal?: AbortSignal): Promise<CommitResult> {
    const task: EncodeTask = { kind: 'commit', payload, k, m };
    return this.pool.run(task, { signal, transferList: [payload.buffer as ArrayBuffer] });
  }

  shard(payload: Uint8Array, k: number, m: number, signal?: AbortSignal): Promise<Uint8Array> {
    const task: EncodeTask = { kind: 'shard', payload, k, m };
    return this.pool.run(task, { signal, transferList: [payload.buffer as ArrayBuffer] });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
