import { describe, expect, it } from 'vitest';
import { ChallengeResponder, type ChallengeResponderDeps } from '../../storage-node/challenger.ts';
import { nodeMetrics } from '../../storage-node/metrics.ts';

/** A responder over in-memory parts that counts what it asks the chain. */
function responder(options: { ids: Uint8Array[] }) {
  let block = 100;
  let chainDown = false;
  const asked = { dataset: 0, earnings: 0 };
  const registry: ChallengeResponderDeps['registry'] = {
    epochParameters: async () => ({ genesisBlock: 0, epochBlocks: 10, challengeWindow: 5 }),
    // Not certified yet (startEpoch 0): a responder asks again at each new block until it is.
    dataset: async () => {
      asked.dataset++;
      if (chainDown) throw new Error('the RPC endpoint is down');
      return { startEpoch: 0, epochs: 4 } as Awaited<ReturnType<ChallengeResponderDeps['registry']['dataset']>>;
    },
    challenge: async () => {
      throw new Error('not asked in these tests');
    },
    nodeIdByKey: async () => 1,
    nodeEarnings: async () => {
      asked.earnings++;
      return { earned: 0n, unclaimed: 0n, slashed: 0n } as Awaited<ReturnType<ChallengeResponderDeps['registry']['nodeEarnings']>>;
    },
  };
  const deps: ChallengeResponderDeps = {
    registry,
    writer: { answerChallenge: async () => undefined as never, reportMissed: async () => undefined as never },
    blockNumber: async () => block,
    catalog: { list: async () => options.ids, get: async () => undefined as never },
    store: { getShard: async () => undefined },
    opener: {} as ChallengeResponderDeps['opener'],
    publicKey: new Uint8Array(48),
    metrics: nodeMetrics(),
  };
  return {
    responder: new ChallengeResponder(deps),
    asked,
    setBlock: (n: number) => {
      block = n;
    },
    setChainDown: (down: boolean) => {
      chainDown = down;
    },
  };
}

describe('ChallengeResponder polls', () => {
  it('ask the chain about its datasets once a block, again for a new dataset, and again after a failure', async () => {
    const ids = [new Uint8Array(32).fill(1)];
    const { responder: r, asked, setBlock, setChainDown } = responder({ ids });
    await r.tick();
    expect(asked).toEqual({ dataset: 1, earnings: 1 });
    await r.tick();
    await r.tick();
    expect(asked).toEqual({ dataset: 1, earnings: 1 }); // same block, same datasets: nothing to ask
    setBlock(101);
    await r.tick();
    expect(asked.dataset).toBe(2);
    ids.push(new Uint8Array(32).fill(2));
    await r.tick();
    expect(asked.dataset).toBe(4); // a dataset stored since: both looked at again, at the same block
    setBlock(102);
    setChainDown(true);
    await expect(r.tick()).rejects.toThrow('the RPC endpoint is down');
    expect(asked.dataset).toBe(5);
    setChainDown(false);
    await r.tick();
    expect(asked.dataset).toBe(7); // the failed tick did not count as done: asked again at the same block
    await r.tick();
    expect(asked.dataset).toBe(7);
    ids[1] = new Uint8Array(32).fill(3); // one dataset gone and another stored, at the same block
    await r.tick();
    expect(asked.dataset).toBe(9);
  });
});
