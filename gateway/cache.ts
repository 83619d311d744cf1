import type { SegmentCache } from '../client/download.ts';
import { PAYLOAD_BYTES_PER_BLOB } from '../proofs/blob.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';

/** The share of the cache that segments read once may take (the probation queue). */
const PROBATION_SHARE = 1 / 8;

/**
 * Decoded segments shared by every reader of the gateway, bounded in bytes and scan-resistant
 * (a segmented LRU). A segment enters a small probation queue (an eighth of the bytes, first in
 * first out) and moves to the protected LRU only when it is read again: a second reader of a
 * file, or the many small ranged reads of tar members that fall in one segment. The keys (not
 * the bytes) of segments dropped from probation are remembered for a while, as 2Q does, so a
 * segment fetched again (the next epoch of a dataset that fits) goes straight to the protected
 * LRU. Whole files streamed once, the bulk of a training job's bytes, churn through probation
 * alone: they neither flush the segments that are read again (small files, file-index tails)
 * nor keep the whole cache's worth of buffers alive for nothing (memory and garbage collection
 * that a plain LRU paid in the gateway benchmark, docs/benchmarks.md).
 */
export class SegmentLru implements SegmentCache {
  private readonly probation = new Map<string, Uint8Array>();
  private readonly protected = new Map<string, Uint8Array>();
  /** Keys of segments dropped from probation, oldest first. */
  private readonly dropped = new Set<string>();
  private readonly maxDropped: number;
  private probationBytes = 0;
  private protectedBytes = 0;
  private readonly maxProbationBytes: number;
  hits = 0;
  misses = 0;
  /** Segments moved from probation to the protected LRU by a second read. */
  promotions = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new InvalidArgumentError(`a cache size is a byte count, not ${maxBytes}`);
    this.maxProbationBytes = Math.floor(maxBytes * PROBATION_SHARE);
    // As many keys as segments of the smallest kind (k = 1, one blob's payload) would fill the cache.
    this.maxDropped = Math.ceil(maxBytes / PAYLOAD_BYTES_PER_BLOB);
  }

  get(key: string): Uint8Array | undefined {
    const kept = this.protected.get(key);
    if (kept) {
      this.hits++;
      this.protected.delete(key);
      this.protected.set(key, kept);
      return kept;
    }
    const once = this.probation.get(key);
    if (!once) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.promotions++;
    this.protect(key, once);
    return once;
  }

  set(key: string, payload: Uint8Array): void {
    if (payload.length > this.maxBytes) {
      this.forget(key);
      return;
    }
    if (this.protected.has(key) || this.dropped.delete(key)) {
      this.protect(key, payload);
      return;
    }
    this.forget(key);
    this.probation.set(key, payload);
    this.probationBytes += payload.length;
    // A segment larger than probation's share still enters, alone.
    this.probationBytes = evictOldest(this.probation, this.probationBytes, Math.max(this.maxProbationBytes, payload.length), (gone) =>
      this.remember(gone),
    );
    this.protectedBytes = evictOldest(this.protected, this.protectedBytes, this.maxBytes - this.probationBytes);
  }

  /** Bytes held, probation and protected together (never above maxBytes). */
  get size(): number {
    return this.probationBytes + this.protectedBytes;
  }

  /** Drops `key`'s bytes, wherever they are. */
  private forget(key: string): void {
    const once = this.probation.get(key);
    if (once && this.probation.delete(key)) this.probationBytes -= once.length;
    const kept = this.protected.get(key);
    if (kept && this.protected.delete(key)) this.protectedBytes -= kept.length;
  }

  private remember(key: string): void {
    this.dropped.add(key);
    if (this.dropped.size > this.maxDropped) this.dropped.delete(this.dropped.values().next().value!);
  }

  /** Puts `key` at the protected LRU's newest end, in place of any bytes it had. */
  private protect(key: string, payload: Uint8Array): void {
    this.forget(key);
    this.protected.set(key, payload);
    this.protectedBytes += payload.length;
    this.protectedBytes = evictOldest(this.protected, this.protectedBytes, this.maxBytes - this.probationBytes);
  }
}

/** Drops `entries`' oldest (first inserted) until they hold at most `limit` bytes; returns the bytes left. */
function evictOldest(entries: Map<string, Uint8Array>, bytes: number, limit: number, onDrop?: (key: string) => void): number {
  for (const [oldest, value] of entries) {
    if (bytes <= limit) break;
    entries.delete(oldest);
    bytes -= value.length;
    onDrop?.(oldest);
  }
  return bytes;
}
