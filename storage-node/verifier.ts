import { Piscina } from 'piscina';
import type { VerifyTask } from './verify-worker.ts';

/**
 * Checks shards against their KZG commitments off the event loop. Requests arriving close
 * together are gathered into one batch (up to `maxBatch`, or whatever arrived within
 * `maxDelayMs`), so a node pays one commitment per batch instead of one per shard.
 */
export interface ShardVerifier {
  verify(blob: Uint8Array, commitment: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

export interface VerifierOptions {
  threads?: number;
  maxBatch?: number;
  maxDelayMs?: number;
  onBatch?: (size: number, seconds: number) => void;
}

interface Pending {
  blob: Uint8Array;
  commitment: Uint8Array;
  resolve: (ok: boolean) => void;
  reject: (error: unknown) => void;
}

export function workerOptions(file: URL): { filename: string; execArgv: string[] } {
  // Sources run through tsx; workers need the loader too when they load a .ts file.
  return { filename: file.href, execArgv: file.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [] };
}

export class BatchingVerifier implements ShardVerifier {
  private readonly pool: Piscina;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: VerifierOptions = {}) {
    const threads = options.threads ?? 1;
    this.pool = new Piscina({ ...workerOptions(new URL('./verify-worker.ts', import.meta.url)), minThreads: threads, maxThreads: threads });
    this.maxBatch = options.maxBatch ?? 32;
    this.maxDelayMs = options.maxDelayMs ?? 15;
  }

  verify(blob: Uint8Array, commitment: Uint8Array): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ blob, commitment, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0) return;
    const started = performance.now();
    const task: VerifyTask = { blobs: batch.map((p) => p.blob), commitments: batch.map((p) => p.commitment) };
    this.pool.run(task).then(
      (results: boolean[]) => {
        this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
        batch.forEach((p, i) => p.resolve(results[i] === true));
      },
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.queue.forEach((p) => p.reject(new Error('verifier closed')));
    this.queue = [];
    await this.pool.destroy();
  }
}
