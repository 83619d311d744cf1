import { Piscina } from 'piscina';
import { G1_INFINITY } from '../proofs/fr-backend.ts';
import { workerModule } from '../proofs/worker-module.ts';
import type { PointOpening } from '../proofs/kzg.ts';
import type { EncodingTask, OpenTask, VerifyTask } from './kzg-worker.ts';

/**
 * Checks shards against their KZG commitments off the event loop. Requests arriving close
 * together are gathered into one batch (up to `maxBatch`, or whatever arrived within
 * `maxDelayMs`), so a node pays one commitment per batch instead of one per shard.
 */
export interface ShardVerifier {
  verify(blob: Uint8Array, commitment: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Checks a manifest's encoding at announcement: every parity commitment is the code's
 * combination of its segment's data commitments (docs/protocol.md, "Erasure code").
 */
export interface EncodingChecker {
  /** `commitments`: segment-major, k + m per segment, 48 bytes each. */
  encodingConsistent(k: number, m: number, commitments: Uint8Array): Promise<boolean>;
}

/** Opens stored blobs at a point, for samples and challenges. */
export interface ShardOpener {
  open(blob: Uint8Array, z: Uint8Array): Promise<PointOpening>;
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

/** The node's KZG thread pool: batched verification of incoming shards, and openings. */
export class BatchingVerifier implements ShardVerifier, ShardOpener, EncodingChecker {
  private readonly pool: Piscina;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly threads: number;
  private running = 0;
  private drainNow = false;

  constructor(private readonly options: VerifierOptions = {}) {
    const threads = options.threads ?? 1;
    this.threads = threads;
    this.pool = new Piscina({ ...workerModule(new URL('./kzg-worker.ts', import.meta.url)), minThreads: threads, maxThreads: threads });
    this.maxBatch = options.maxBatch ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 20;
  }

  /** Loads the trusted setup in every worker now, instead of on the first upload. */
  async warmUp(): Promise<void> {
    const zeroBlob = new Uint8Array(131_072);
    const infinity = G1_INFINITY; // the commitment of the zero polynomial
    const runs = Array.from(
      { length: this.pool.options.maxThreads },
      () => this.pool.run({ blobs: [zeroBlob], commitments: [infinity] } satisfies VerifyTask) as Promise<boolean[]>,
    );
    const results = await Promise.all(runs);
    if (!results.every((r) => r[0] === true)) throw new Error('KZG self-check failed: the zero blob does not commit to infinity');
  }

  verify(blob: Uint8Array, commitment: Uint8Array): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ blob, commitment, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Adaptive batching: a batch goes out when it is full, or after maxDelayMs, but only to a
   * free thread. While every thread is busy, arrivals keep gathering, so batches grow with
   * load and each commitment covers as many shards as possible.
   */
  private schedule(): void {
    if (this.queue.length === 0 || this.running >= this.threads) return;
    if (this.queue.length >= this.maxBatch || this.drainNow) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.drainNow = true;
      this.schedule();
    }, this.maxDelayMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.drainNow = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.running++;
    const started = performance.now();
    const task: VerifyTask = { blobs: batch.map((p) => p.blob), commitments: batch.map((p) => p.commitment) };
    this.pool
      .run(task)
      .then(
        (results: boolean[]) => {
          this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
          batch.forEach((p, i) => {
            p.resolve(results[i] === true);
          });
        },
        (error: unknown) =>
          batch.forEach((p) => {
            p.reject(error);
          }),
      )
      .finally(() => {
        this.running--;
        // Whatever gathered meanwhile has waited long enough.
        if (this.queue.length > 0) this.drainNow = true;
        this.schedule();
      });
  }

  /** Openings go to the same threads: piscina queues them with the verification batches. */
  async open(blob: Uint8Array, z: Uint8Array): Promise<PointOpening> {
    return (await this.pool.run({ blob, z } satisfies OpenTask, { name: 'openAt' })) as PointOpening;
  }

  /** Off the event loop too: one MSM over the manifest's commitments, in the same threads. */
  async encodingConsistent(k: number, m: number, commitments: Uint8Array): Promise<boolean> {
    return (await this.pool.run({ k, m, commitments } satisfies EncodingTask, { name: 'checkEncoding' })) as boolean;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.queue.forEach((p) => {
      p.reject(new Error('verifier closed'));
    });
    this.queue = [];
    await this.pool.destroy();
  }
}
