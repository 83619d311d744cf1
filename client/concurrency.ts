import { throwIfAborted } from './errors.ts';

/** Bounds bytes in flight: acquire waits until the budget has room. */
export class ByteBudget {
  private used = 0;
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];

  constructor(readonly limit: number) {}

  async acquire(bytes: number): Promise<void> {
    if (this.used + bytes <= this.limit || this.used === 0) {
      this.used += bytes;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.used -= bytes;
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (this.used + next.bytes > this.limit && this.used !== 0) break;
      this.waiters.shift();
      this.used += next.bytes;
      next.resolve();
    }
  }
}

/**
 * Maps `fn` over `source` with at most `concurrency` calls running, yielding results in
 * source order. Pulls from the source only when a slot is free, so memory stays bounded.
 * With `refillBatch`, new calls start only once that many slots are free, together (in one
 * turn of the event loop: what a request batcher merges).
 */
export async function* mapOrdered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
  options: { refillBatch?: number } = {},
): AsyncGenerator<R> {
  const refillBatch = Math.min(concurrency, Math.max(1, options.refillBatch ?? 1));
  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  const pending: Promise<R>[] = [];
  let index = 0;
  let done = false;
  try {
    while (true) {
      const refill = pending.length === 0 || concurrency - pending.length >= refillBatch;
      while (refill && !done && pending.length < concurrency) {
        throwIfAborted(signal);
        const next = await iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        const promise = fn(next.value, index++);
        promise.catch(() => undefined); // observed when awaited below; avoids an unhandled rejection meanwhile
        pending.push(promise);
      }
      const head = pending.shift();
      if (!head) return;
      yield await head;
    }
  } finally {
    if (!done) await iterator.return?.();
    await Promise.allSettled(pending);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Collects what is asked for in one turn of the event loop, by key, and hands each group to
 * `flush` once the turn ends (setImmediate), or at once when it reaches `max` items: how
 * request batchers merge the calls a burst of work makes.
 */
export function sameTurnGroups<T>(flush: (items: T[]) => void, max = Number.POSITIVE_INFINITY): (key: string, item: T) => void {
  const groups = new Map<string, T[]>();
  return (key, item) => {
    let group = groups.get(key);
    if (!group) {
      const scheduled: T[] = [];
      group = scheduled;
      groups.set(key, scheduled);
      setImmediate(() => {
        if (groups.get(key) === scheduled) groups.delete(key);
        if (scheduled.length > 0) flush(scheduled.splice(0));
      });
    }
    group.push(item);
    if (group.length >= max) flush(group.splice(0));
  };
}
