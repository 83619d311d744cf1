import { toHex } from '../proofs/bytes.ts';
import { MAX_SHARDS_PER_BATCH } from '../protocol/shard-batch.ts';
import { sameTurnGroups } from './concurrency.ts';
import { NO_LONGER_NEEDED, RemoteError } from './errors.ts';
import type { NodeClient, ProvenShard } from './node-client.ts';

/** Where a segment fetch gets a shard with its proof: a node client, or a batcher in front of one. */
export type ShardSource = Pick<NodeClient, 'getShardWithProof' | 'url'>;

interface Waiting {
  id: Uint8Array;
  segment: number;
  index: number;
  signal?: AbortSignal;
  resolve(shard: ProvenShard): void;
  reject(error: unknown): void;
}

/**
 * Shard reads to one node asked for in the same turn of the event loop go out as one batch
 * request (up to 16 shards; routes.getShardBatch), a lone one as a plain GET. Each caller
 * still gets its own answer, error or cancellation: a caller that aborts is answered at once
 * and the batch goes on for the others (it is cancelled when none is left waiting).
 */
export class ShardBatcher implements ShardSource {
  /** Set once the node has answered that it has no batch route. */
  private noBatchRoute = false;
  private readonly enqueue = sameTurnGroups<Waiting>((queue) => void this.send(queue[0]!.id, queue), MAX_SHARDS_PER_BATCH);

  constructor(private readonly client: Pick<NodeClient, 'getShardWithProof' | 'getShardBatch' | 'url'>) {}

  get url(): string {
    return this.client.url;
  }

  getShardWithProof(id: Uint8Array, segment: number, index: number, signal?: AbortSignal): Promise<ProvenShard> {
    return new Promise((resolve, reject) => this.enqueue(toHex(id), { id, segment, index, signal, resolve, reject }));
  }

  private async send(id: Uint8Array, queue: Waiting[]): Promise<void> {
    const live = queue.filter((w) => {
      if (w.signal?.aborted) w.reject(w.signal.reason);
      return !w.signal?.aborted;
    });
    if (live.length === 0) return;
    if (live.length === 1) {
      const [only] = live as [Waiting];
      await this.client.getShardWithProof(id, only.segment, only.index, only.signal).then(only.resolve, only.reject);
      return;
    }
    if (this.noBatchRoute) {
      for (const w of live) void this.client.getShardWithProof(id, w.segment, w.index, w.signal).then(w.resolve, w.reject);
      return;
    }
    const controller = new AbortController();
    let left = live.length;
    const settled = new Set<Waiting>();
    const onAbort = new Map<Waiting, () => void>();
    const settle = (w: Waiting, fn: () => void) => {
      if (settled.has(w)) return;
      settled.add(w);
      const listener = onAbort.get(w);
      if (listener) w.signal?.removeEventListener('abort', listener);
      fn();
      if (--left === 0) controller.abort(NO_LONGER_NEEDED);
    };
    for (const w of live) {
      const listener = () => settle(w, () => w.reject(w.signal!.reason));
      onAbort.set(w, listener);
      w.signal?.addEventListener('abort', listener, { once: true });
    }
    try {
      const shards = await this.client.getShardBatch(
        id,
        live.map((w) => [w.segment, w.index] as const),
        controller.signal,
      );
      live.forEach((w, j) => {
        const shard = shards[j];
        settle(w, () =>
          shard
            ? w.resolve(shard)
            : w.reject(
                new RemoteError('unknown_shard', `${this.client.url} does not hold shard ${w.segment}/${w.index}`, this.client.url, {
                  status: 404,
                }),
              ),
        );
      });
    } catch (error) {
      // A node without the batch route (an older version) answers 404 not_found: ask it one shard at a time from now on.
      if (error instanceof RemoteError && error.status === 404 && error.code === 'not_found') {
        this.noBatchRoute = true;
        for (const w of live) {
          if (!settled.has(w))
            void this.client.getShardWithProof(id, w.segment, w.index, w.signal).then(
              (shard) => settle(w, () => w.resolve(shard)),
              (cause: unknown) => settle(w, () => w.reject(cause)),
            );
        }
        return;
      }
      for (const w of live) settle(w, () => w.reject(error));
    }
  }
}
