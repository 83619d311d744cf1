import { describe, expect, it } from 'vitest';
import { NodeHealth } from '../../client/node-health.ts';

const a = { publicKey: '0xaa', url: 'http://127.0.0.1:1' };
const b = { publicKey: '0xbb', url: 'http://127.0.0.1:2' };

describe('NodeHealth', () => {
  it('asks failed nodes last, slow ones after healthy ones, and forgives them after forgetAfterMs and slowForgetAfterMs', () => {
    let now = 0;
    const health = new NodeHealth({ forgetAfterMs: 1000, slowForgetAfterMs: 300, now: () => now });
    expect([health.rank(a), health.rank(b)]).toEqual([0, 0]);
    health.failed(a, 'corrupt');
    health.hedged(b);
    expect([health.rank(a), health.rank(b)]).toEqual([2, 1]);
    now = 299;
    expect([health.rank(a), health.rank(b)]).toEqual([2, 1]);
    now = 301;
    expect([health.rank(a), health.rank(b)]).toEqual([2, 0]);
    now = 999;
    expect(health.rank(a)).toBe(2);
    now = 1001;
    expect([health.rank(a), health.rank(b)]).toEqual([0, 0]);
  });

  it('keeps a failed node failed when it is also hedged, and clears a slow one that answers within the longest hedge delay', () => {
    const health = new NodeHealth({ minHedgeMs: 20, maxHedgeMs: 2000 });
    health.failed(a, 'timeout');
    health.hedged(a);
    expect(health.rank(a)).toBe(2);
    for (let i = 0; i < 16; i++) health.served(a, 10);
    expect(health.hedgeDelayMs()).toBe(20);
    health.hedged(b);
    health.served(b, 2500); // a stuck node's late answer: still slow
    expect(health.rank(b)).toBe(1);
    health.served(b, 400); // past the hedge delay, but an answer: behind, not stuck
    expect(health.rank(b)).toBe(0);
  });

  it('hedges after 250 ms until it knows 16 latencies, then after twice their p95, within its bounds', () => {
    const health = new NodeHealth({ minHedgeMs: 20, maxHedgeMs: 2000 });
    expect(health.hedgeDelayMs()).toBe(250);
    for (let i = 0; i < 15; i++) health.served(a, 10);
    expect(health.hedgeDelayMs()).toBe(250);
    health.served(a, 10);
    expect(health.hedgeDelayMs()).toBe(20); // 2 × 10 ms
    for (let i = 0; i < 100; i++) health.served(a, 30 + (i % 10));
    expect(health.hedgeDelayMs()).toBe(2 * 39);
    for (let i = 0; i < 256; i++) health.served(a, 5000);
    expect(health.hedgeDelayMs()).toBe(2000);
    expect(new NodeHealth({ maxHedgeMs: 100 }).hedgeDelayMs()).toBe(100);
  });

  it('counts shards, failures by reason and hedges per node', () => {
    const health = new NodeHealth();
    health.served(a, 5);
    health.failed(a, 'unreachable');
    health.failed(a, 'unreachable');
    health.hedged(b);
    expect(health.nodes().get('0xaa')).toEqual({
      url: a.url,
      shards: 1,
      hedged: 0,
      failures: { unreachable: 2, timeout: 0, corrupt: 0, error: 0 },
    });
    expect([health.nodes().get('0xbb')!.hedged, health.hedgedRequests]).toEqual([1, 1]);
  });
});
