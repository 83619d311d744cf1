import { Piscina } from 'piscina';
import { G1_INFINITY } from '../proofs/fr-backend.ts';
import { workerModule } from '../proofs/worker-module.ts';
import type { PointOpening } from '../proofs/kzg.ts';
import type { EncodingTask, OpenTask, VerifyTask } from './kzg-worker.ts';

/**
 * Checks shards against their KZG commitments off the event loop. Requests arriving close
 * together are gathered into one batch (up to `maxBatch`, or whatever arrived within the
 * gathering window), so a node pays one commitment per batch instead of one per shard.
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
  /** The shortest gathering window (ms): how long a shard reaching an idle node waits for others. */
  minGatherMs?: number;
  /** The longest (ms): after a batch, the next gathers for as long as that one took, up to this. */
  maxGatherMs?: number;
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
  private readonly minGatherMs: number;
  private readonly maxGatherMs: number;
  /** The current gathering window: the last batch's duration, within [minGatherMs, maxGatherMs]. */
  private gatherMs: number;
  private readonly threads: number;
  private running = 0;
  private drainNow = false;

  constructor(private readonly options: VerifierOptions = {}) {
    const threads = options.threads ?? 1;
    this.threads = threads;
    this.pool = new Piscina({ ...workerModule(new URL('./kzg-worker.ts', import.meta.url)), minThreads: threads, maxThreads: threads });
    this.maxBatch = options.maxBatch ?? 64;
    this.minGatherMs = options.minGatherMs ?? 20;
    this.maxGatherMs = Math.max(this.minGatherMs, options.maxGatherMs ?? 250);
    this.gatherMs = this.minGatherMs;
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
   * Adaptive batching: a batch goes out when it is full, or when the gathering window has
   * passed, but only to a free thread. A batch costs one commitment (~25 ms) whatever its size,
   * so under load the window stretches to the last batch's duration: handing a free thread
   * whatever arrived during the last batch gave ~6 shards a batch to a demo node sharing 2
   * cores with 7 others, at ~7.5 ms of CPU a shard; gathering as long again gives ~12, at half
   * that (docs/benchmarks.md, "Upload through the demo"). A shard reaching an idle node waits at
   * most the last batch's duration, once: that batch is quick, and the window shrinks to it.
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
    }, this.gatherMs);
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
          // Answers first: a throwing onBatch must not leave the batch's shards waiting forever.
          batch.forEach((p, i) => {
            p.resolve(results[i] === true);
          });
          this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
        },
        (error: unknown) =>
          batch.forEach((p) => {
            p.reject(error);
          }),
      )
      .finally(() => {
        this.running--;
        // A busy node's batches take long and so gather long; an idle node's next batch is quick and the window shrinks back.
        this.gatherMs = Math.min(this.maxGatherMs, Math.max(this.minGatherMs, performance.now() - started));
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
