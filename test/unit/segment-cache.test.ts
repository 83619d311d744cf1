import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentLru } from '../../gateway/cache.ts';
import { InvalidArgumentError } from '../../proofs/errors.ts';

const KiB = 1024;
const segment = (fill: number, bytes = 100 * KiB) => new Uint8Array(bytes).fill(fill);

describe('the gateway segment cache (segmented LRU)', () => {
  it('keeps a segment read twice while a scan of segments read once passes through probation', () => {
    const cache = new SegmentLru(1000 * KiB); // probation: 125 KiB, one segment
    cache.set('hot', segment(1));
    expect(cache.get('hot')).toEqual(segment(1)); // second read: promoted
    for (let s = 0; s < 50; s++) cache.set(`scan:${s}`, segment(2)); // a whole file streamed once
    expect(cache.get('hot')).toEqual(segment(1));
    expect(cache.get('scan:0')).toBeUndefined();
    expect(cache.get('scan:49')).toEqual(segment(2)); // the newest is still in probation
    expect(cache.size).toBeLessThanOrEqual(1000 * KiB);
    expect([cache.hits, cache.misses, cache.promotions]).toEqual([3, 1, 2]);
  });

  it('keeps the second epoch of a dataset that fits: a segment fetched again after it left probation is protected', () => {
    const cache = new SegmentLru(1000 * KiB);
    const epoch = () => {
      let hits = 0;
      for (let s = 0; s < 8; s++) {
        if (cache.get(`seg:${s}`)) hits++;
        else cache.set(`seg:${s}`, segment(s));
      }
      return hits;
    };
    expect([epoch(), epoch(), epoch()]).toEqual([0, 1, 8]); // epoch 2 re-fetches all but the one still in probation
    expect(cache.size).toBe(800 * KiB);
  });

  it('evicts the least recently read protected segment first', () => {
    const cache = new SegmentLru(350 * KiB); // probation 43.75 KiB: each new segment enters alone
    for (const key of ['a', 'b', 'c']) {
      cache.set(key, segment(0));
      cache.get(key);
    }
    cache.get('a'); // b is now the least recently read
    cache.set('d', segment(0));
    cache.get('d');
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key) !== undefined)).toEqual([true, false, true, true]);
  });

  it('caches nothing larger than itself and refuses a size that is not a byte count', () => {
    const cache = new SegmentLru(50 * KiB);
    cache.set('big', segment(3));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('kept', segment(4, 10 * KiB));
    cache.get('kept'); // protected now
    cache.set('kept', segment(5)); // too large: the old bytes must not be answered for it either
    expect([cache.get('kept'), cache.size]).toEqual([undefined, 0]);
    expect(() => new SegmentLru(-1)).toThrow(new InvalidArgumentError('a cache size is a byte count, not -1'));
  });

  it('never holds more than its bound and answers a key with the last bytes set for it', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), bytes: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.array(op, { maxLength: 200 }), (maxBytes, ops) => {
        const cache = new SegmentLru(maxBytes);
        const last = new Map<number, Uint8Array>();
        let version = 0;
        for (const step of ops) {
          if (step.kind === 'set') {
            const payload = new Uint8Array(step.bytes).fill(++version % 256);
            cache.set(String(step.key), payload);
            last.set(step.key, payload);
          } else {
            const got = cache.get(String(step.key));
            if (got !== undefined) expect(got).toBe(last.get(step.key));
          }
          expect(cache.size).toBeLessThanOrEqual(maxBytes);
        }
      }),
      { numRuns: 500 },
    );
  });
});
