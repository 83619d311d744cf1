import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../client/errors.ts';
import type { ProvenShard } from '../../client/node-client.ts';
import { ShardBatcher } from '../../client/shard-batcher.ts';

const ID = new Uint8Array(32);
const shardOf = (segment: number, index: number): ProvenShard => ({
  blob: Uint8Array.of(segment, index),
  commitment: new Uint8Array(48),
  shardHash: new Uint8Array(32),
  inclusionProof: [],
});

/** A node client that records what it is asked and answers as told. */
function fakeClient(
  answer: (list: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal) => Promise<Array<ProvenShard | undefined>>,
) {
  const calls: Array<{ kind: 'single' | 'batch'; shards: Array<readonly [number, number]>; signal?: AbortSignal }> = [];
  return {
    calls,
    client: {
      url: 'http://127.0.0.1:1',
      getShardWithProof: async (_id: Uint8Array, segment: number, index: number) => {
        calls.push({ kind: 'single', shards: [[segment, index]] });
        return shardOf(segment, index);
      },
      getShardBatch: (_id: Uint8Array, shards: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal) => {
        calls.push({ kind: 'batch', shards: [...shards], signal });
        return answer(shards, signal);
      },
    },
  };
}
const allHeld = async (list: ReadonlyArray<readonly [number, number]>) => list.map(([s, i]) => shardOf(s, i));

describe('ShardBatcher', () => {
  it('sends a lone request as a plain GET, and requests made in one turn as one batch in order', async () => {
    const { client, calls } = fakeClient(allHeld);
    const batcher = new ShardBatcher(client);
    expect((await batcher.getShardWithProof(ID, 7, 1)).blob).toEqual(Uint8Array.of(7, 1));
    const many = await Promise.all([
      batcher.getShardWithProof(ID, 1, 0),
      batcher.getShardWithProof(ID, 2, 3),
      batcher.getShardWithProof(ID, 3, 0),
    ]);
    expect(many.map((s) => [...s.blob])).toEqual([
      [1, 0],
      [2, 3],
      [3, 0],
    ]);
    expect(calls.map((c) => [c.kind, c.shards])).toEqual([
      ['single', [[7, 1]]],
      [
        'batch',
        [
          [1, 0],
          [2, 3],
          [3, 0],
        ],
      ],
    ]);
  });

  it('splits more than 16 into batches of at most 16', async () => {
    const { client, calls } = fakeClient(allHeld);
    const batcher = new ShardBatcher(client);
    await Promise.all(Array.from({ length: 20 }, (_, s) => batcher.getShardWithProof(ID, s, 0)));
    expect(calls.map((c) => [c.kind, c.shards.length])).toEqual([
      ['batch', 16],
      ['batch', 4],
    ]);
  });

  it('rejects only the waiter whose shard is missing, and every waiter with the batch error', async () => {
    const missing = new ShardBatcher(fakeClient(async (list) => list.map(([s, i]) => (s === 2 ? undefined : shardOf(s, i)))).client);
    const [one, two] = await Promise.allSettled([missing.getShardWithProof(ID, 1, 0), missing.getShardWithProof(ID, 2, 0)]);
    expect(one.status).toBe('fulfilled');
    expect(two).toMatchObject({
      status: 'rejected',
      reason: { code: 'unknown_shard', message: 'http://127.0.0.1:1 does not hold shard 2/0' },
    });
    const failure = new RemoteError('timeout', 'http://127.0.0.1:1 did not answer within 10 ms', 'http://127.0.0.1:1');
    const failing = new ShardBatcher(fakeClient(() => Promise.reject(failure)).client);
    const both = await Promise.allSettled([failing.getShardWithProof(ID, 1, 0), failing.getShardWithProof(ID, 2, 0)]);
    expect(both).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });

  it('answers a waiter that aborts at once, goes on for the others, and cancels the batch when none is left', async () => {
    let release!: () => void;
    const gate = new Promise<void>((done) => {
      release = done;
    });
    const { client, calls } = fakeClient(async (list) => {
      await gate;
      return list.map(([s, i]) => shardOf(s, i));
    });
    const batcher = new ShardBatcher(client);
    const first = new AbortController();
    const second = new AbortController();
    const a = batcher.getShardWithProof(ID, 1, 0, first.signal);
    const b = batcher.getShardWithProof(ID, 2, 0, second.signal);
    const c = batcher.getShardWithProof(ID, 3, 0);
    await new Promise((done) => setImmediate(done));
    first.abort(new Error('not needed'));
    await expect(a).rejects.toThrow('not needed');
    release();
    expect([(await b).blob, (await c).blob]).toEqual([Uint8Array.of(2, 0), Uint8Array.of(3, 0)]);
    expect(calls[0]!.signal!.aborted).toBe(true); // all settled: the batch's own signal is let go

    const lonely = fakeClient(() => new Promise(() => undefined));
    const waiting = new ShardBatcher(lonely.client);
    const x = new AbortController();
    const y = new AbortController();
    const pending = [waiting.getShardWithProof(ID, 1, 0, x.signal), waiting.getShardWithProof(ID, 2, 0, y.signal)];
    await new Promise((done) => setImmediate(done));
    x.abort(new Error('x'));
    y.abort(new Error('y'));
    expect((await Promise.allSettled(pending)).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(lonely.calls[0]!.signal!.aborted).toBe(true);
  });

  it('falls back to single GETs, for good, when the node has no batch route', async () => {
    const notFound = new RemoteError('not_found', 'no route GET /v1/datasets/…/shard-batch', 'http://127.0.0.1:1', { status: 404 });
    const { client, calls } = fakeClient(() => Promise.reject(notFound));
    const batcher = new ShardBatcher(client);
    const first = await Promise.all([batcher.getShardWithProof(ID, 1, 0), batcher.getShardWithProof(ID, 2, 0)]);
    const again = await Promise.all([batcher.getShardWithProof(ID, 3, 0), batcher.getShardWithProof(ID, 4, 0)]);
    expect([...first, ...again].map((s) => s.blob[0])).toEqual([1, 2, 3, 4]);
    expect(calls.map((c) => c.kind)).toEqual(['batch', 'single', 'single', 'single', 'single']);
  });
});
