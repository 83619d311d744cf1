import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { generateBlsKeyPair } from '../../proofs/bls.ts';
import { equalBytes, toHex } from '../../proofs/bytes.ts';
import { SherdError } from '../../proofs/errors.ts';
import { DatasetCatalog } from '../../storage-node/datasets.ts';
import { nodeMetrics } from '../../storage-node/metrics.ts';
import { type RepairChainView, type RepairDeps, Repairer } from '../../storage-node/repair.ts';
import type { DatasetMeta } from '../../storage-node/store.ts';
import { buildDataset } from '../helpers/dataset.ts';

/**
 * The repairer with in-memory parts: a store, a chain view and peers that answer from a
 * dataset built here; peer 0 sends a manifest of another dataset and peer 2 sends changed
 * shards. The node under test holds slot 1 of 4 (k = m = 2, 2 segments).
 */
const keys = Array.from({ length: 4 }, () => generateBlsKeyPair().publicKey);
const SELF = 1;
const size = 3 * PAYLOAD_BYTES_PER_BLOB;
const dataset = buildDataset(keys, 2, 2, size);
const other = buildDataset(keys, 2, 2, size);
const id = new Uint8Array(randomBytes(32));

class MemoryStore {
  readonly shards = new Map<string, Uint8Array>();
  readonly manifests = new Map<string, Uint8Array>();
  readonly metas = new Map<string, DatasetMeta>();
  async getShard(d: Uint8Array, s: number, i: number) {
    return this.shards.get(`${toHex(d)}/${s}/${i}`);
  }
  async putShard(d: Uint8Array, s: number, i: number, blob: Uint8Array) {
    this.shards.set(`${toHex(d)}/${s}/${i}`, blob);
  }
  async listShards(d: Uint8Array): Promise<Array<[number, number]>> {
    return [...this.shards.keys()].filter((k) => k.startsWith(toHex(d))).map((k) => k.split('/').slice(1).map(Number) as [number, number]);
  }
  async getManifest(d: Uint8Array) {
    return this.manifests.get(toHex(d));
  }
  async getMeta(d: Uint8Array) {
    return this.metas.get(toHex(d));
  }
  async putDataset(d: Uint8Array, manifest: Uint8Array, meta: DatasetMeta) {
    this.manifests.set(toHex(d), manifest);
    this.metas.set(toHex(d), meta);
  }
  async putMeta(d: Uint8Array, meta: DatasetMeta) {
    this.metas.set(toHex(d), meta);
  }
  async listDatasets() {
    return [...this.manifests.keys()].map(() => id);
  }
}

const chain = {
  nodeIdByKey: async () => SELF,
  certifiedDatasets: async () => [id],
  datasetMembers: async () => keys.map((_, nodeId) => ({ nodeId, state: 'original', repairDeadline: 0, challengedFrom: 0, active: true })),
  node: async (nodeId: number) => ({ endpoint: `http://peer${nodeId}` }),
  registeredTerms: async () => ({
    registered: true,
    certified: true,
    contentRoot: dataset.root,
    size,
    k: 2,
    m: 2,
    owner: '0x00000000000000000000000000000000000000aa',
    nodeKeys: keys.map((key) => toHex(key)),
  }),
  replacements: async () => [],
} as unknown as RepairChainView;

function repairerWith(store: MemoryStore, options: Partial<Pick<RepairDeps, 'chain' | 'writer' | 'blockNumber'>> = {}) {
  const metrics = nodeMetrics();
  const fetched: string[] = [];
  const repairer = new Repairer({
    store,
    catalog: new DatasetCatalog(store, keys[SELF]!),
    chain: options.chain ?? chain,
    writer: options.writer,
    blockNumber: options.blockNumber ?? (async () => 1),
    publicKey: keys[SELF]!,
    signAttestation: () => new Uint8Array(96),
    encoding: { encodingConsistent: async () => true },
    metrics,
    fetchPeer: async (url, path) => {
      const peer = Number(/peer(\d+)/.exec(url)![1]);
      fetched.push(`${peer}${path}`);
      if (path.endsWith('/manifest')) return peer === 0 ? other.manifestBytes : dataset.manifestBytes;
      const [s, j] = path.split('/').slice(-2).map(Number) as [number, number];
      const blob = dataset.blobs[s]![j]!.slice();
      if (peer === 2) blob[100] = blob[100]! ^ 1;
      return blob;
    },
  });
  return { repairer, metrics, fetched };
}

describe('Repairer', () => {
  it('rebuilds an empty store from hash-checked peers, passing over a wrong manifest and changed shards', async () => {
    const store = new MemoryStore();
    const { repairer, metrics } = repairerWith(store);
    const report = await repairer.pass();
    expect(report).toMatchObject({ datasets: 1, manifestsFetched: 1, assigned: 2, missing: 2, repaired: 2, failed: 0, errors: [] });
    // Slot 1 holds shard 1 of segment 0 and shard 0 of segment 1, rebuilt byte for byte.
    expect(equalBytes(store.shards.get(`${toHex(id)}/0/1`)!, dataset.blobs[0]![1]!)).toBe(true);
    expect(equalBytes(store.shards.get(`${toHex(id)}/1/0`)!, dataset.blobs[1]![0]!)).toBe(true);
    expect(equalBytes(store.manifests.get(toHex(id))!, dataset.manifestBytes)).toBe(true);
    expect(metrics.value('sherd_repair_bad_peer_manifests_total')).toBe(1);
    // Segment 0 asked node 2 for shard 2, segment 1 asked it for shard 1: both changed, both refused.
    expect(metrics.value('sherd_repair_bad_peer_shards_total')).toBe(2);
    // k = 2 good shards per rebuild, and the two refused ones.
    expect(report.bytesFetched).toBe(2 * 2 * 131_072);
    expect(await repairer.pass()).toMatchObject({ missing: 0, repaired: 0, manifestsFetched: 0 });
  });

  it('rebuilds a shard reported many times once, and leaves a shard already whole alone', async () => {
    const store = new MemoryStore();
    const { repairer, metrics, fetched } = repairerWith(store);
    await repairer.pass();
    store.shards.delete(`${toHex(id)}/0/1`);
    fetched.length = 0;
    const state = await new DatasetCatalog(store, keys[SELF]!).get(id);
    for (let i = 0; i < 3; i++) repairer.enqueue(state, 0, 1, 'challenge');
    repairer.enqueue(state, 1, 0, 'sample');
    await repairer.idle();
    expect(metrics.value('sherd_repaired_shards_total', { reason: 'challenge' })).toBe(1);
    expect(metrics.value('sherd_repaired_shards_total', { reason: 'sample' })).toBe(0);
    // One rebuild: shards 0, 2 (refused), 3 of segment 0; nothing for the shard that was whole.
    expect(fetched.sort()).toEqual([0, 2, 3].map((j) => `${(j + 0) % 4}/v1/datasets/${toHex(id)}/shards/0/${j}`).sort());
    expect(equalBytes(store.shards.get(`${toHex(id)}/0/1`)!, dataset.blobs[0]![1]!)).toBe(true);
  });

  it('looks at the chain once a block, and again at the same block only after a replacement failed', async () => {
    let block = 5;
    let replacements = 0;
    let replaceError: Error = new Error('the RPC endpoint is down');
    const watched = {
      ...chain,
      // Member 3 left the active set: every look tries to replace it.
      datasetMembers: async () => {
        return keys.map((_, nodeId) => ({ nodeId, state: 'original', repairDeadline: 0, challengedFrom: 0, active: nodeId !== 3 }));
      },
    } as unknown as RepairChainView;
    const writer = {
      replaceMember: async () => {
        replacements++;
        throw replaceError;
      },
      confirmReplacement: async () => {
        throw new Error('not asked in this test');
      },
    } as unknown as RepairDeps['writer'];
    const store = new MemoryStore();
    const { repairer, metrics } = repairerWith(store, { chain: watched, writer, blockNumber: async () => block });
    await repairer.pass();
    expect(store.manifests.size).toBe(1);
    await repairer.watch();
    expect(replacements).toBe(1);
    expect(metrics.value('sherd_repair_failures_total', { code: 'error' })).toBe(1);
    await repairer.watch(); // the replacement failed: looked at again, at the same block
    expect(replacements).toBe(2);
    replaceError = new SherdError('NoReplacementAvailable', 'no active node is free to take the slot');
    await repairer.watch();
    expect(replacements).toBe(3);
    await repairer.watch(); // the chain's own answer: nothing to try until a new block
    await repairer.watch();
    expect(replacements).toBe(3);
    block = 6;
    await repairer.watch();
    expect(replacements).toBe(4);
  });
});
