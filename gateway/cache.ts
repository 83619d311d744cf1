import type { SegmentCache } from '../client/download.ts';

/** Decoded segments shared by every reader of the gateway, least recently used evicted first, bounded in bytes. */
export class SegmentLru implements SegmentCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): Uint8Array | undefined {
    const payload = this.entries.get(key);
    if (!payload) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, payload);
    return payload;
  }

  set(key: string, payload: Uint8Array): void {
    if (payload.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, payload);
    this.bytes += payload.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}
