import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { equalBytes } from '../../proofs/bytes.ts';
import { shardsOnNode } from '../../protocol/placement.ts';
import { Devnet } from '../../cli/devnet.ts';
import { sampleDataset } from '../../client/sample.ts';
import { upload, type UploadResult } from '../../client/upload.ts';
import { ShardStore } from '../../storage-node/store.ts';
import { metricSum, nodeMetricsText } from '../helpers/metrics.ts';
import { sherd } from '../helpers/sherd.ts';

/**
 * Self-repair on a devnet of four real node processes (k = 2, m = 2: every node holds one
 * shard of each of the 9 segments): a node back with an empty disk, a pass run by hand over
 * deleted shards, and the scrub finding bytes changed inside LevelDB values.
 */
let dir: string;
let devnet: Devnet;
let uploaded: UploadResult;
let id: Uint8Array;

const metricsOf = (node: number) => nodeMetricsText(devnet.endpoints[node]!.url);
const metric = metricSum;

/** Every shard of the dataset, read from the nodes' stores while they are stopped: what repair must give back. */
async function storedShards(node: number): Promise<Map<string, Uint8Array>> {
  const store = await ShardStore.open(devnet.file.nodes[node]!.dataDir);
  try {
    const shards = new Map<string, Uint8Array>();
    for (const [s, i] of await store.listShards(id)) shards.set(`${s}/${i}`, (await store.getShard(id, s, i))!);
    return shards;
  } finally {
    await store.close();
  }
}

async function expectWholeAndEqual(node: number, before: Map<string, Uint8Array>): Promise<void> {
  await devnet.stopNode(node);
  const after = await storedShards(node);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [key, blob] of before) expect(equalBytes(after.get(key)!, blob), key).toBe(true);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-repair-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  uploaded = await upload(new Uint8Array(randomBytes(2 * 1024 * 1024)), {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    epochs: 20,
  });
  id = uploaded.datasetId;
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  if (process.env.KEEP) console.log(dir);
  else await rm(dir, { recursive: true, force: true });
});

describe('self-repair', () => {
  it('makes a node restarted on an empty data directory whole at start-up, without any other action', async () => {
    const node = 2;
    await devnet.stopNode(node);
    const before = await storedShards(node);
    expect(before.size).toBe([...shardsOnNode(node, uploaded.segments, 4, 4)].length);
    await rm(devnet.file.nodes[node]!.dataDir, { recursive: true, force: true });
    await devnet.startNode(node);
    await vi.waitFor(async () => expect(metric(await metricsOf(node), 'sherd_repaired_shards_total')).toBe(before.size), {
      timeout: 30_000,
      interval: 250,
    });
    const metrics = await metricsOf(node);
    expect(metric(metrics, 'sherd_repair_manifests_fetched_total')).toBe(1);
    expect(metric(metrics, 'sherd_repair_failures_total')).toBe(0);
    // Each rebuild read k = 2 shards of 128 KiB from peers.
    expect(metric(metrics, 'sherd_repair_bytes_fetched_total')).toBe(before.size * 2 * 131_072);
    const report = await sampleDataset(id, { registry: devnet.registry, samples: 36 });
    expect(report.failures).toEqual([]);
    await expectWholeAndEqual(node, before);
    await devnet.startNode(node);
  }, 90_000);

  it("rebuilds deleted shards with `sherd node repair`, and refuses to share a running node's data directory", async () => {
    const node = 3;
    const locked = await sherd(['node', 'repair', '--devnet', devnet.path, '--node', String(node)]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(
      /^sherd: data dir .* is held by a running node, which repairs by itself .*; stop it to run a pass by hand\n$/,
    );
    await devnet.stopNode(node);
    const before = await storedShards(node);
    const store = await ShardStore.open(devnet.file.nodes[node]!.dataDir);
    const gone = [...before.keys()].slice(0, 3);
    for (const key of gone) {
      const [s, i] = key.split('/').map(Number);
      await store.deleteShard(id, s!, i!);
    }
    await store.close();
    const run = await sherd(['node', 'repair', '--devnet', devnet.path, '--node', String(node), '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      datasets: 1,
      manifestsFetched: 0,
      assigned: before.size,
      missing: 3,
      repaired: 3,
      failed: 0,
      bytesFetched: 3 * 2 * 131_072,
      errors: [],
    });
    await expectWholeAndEqual(node, before);
    await devnet.startNode(node);
  }, 90_000);

  it('finds bytes changed inside LevelDB values by its scrub, and rebuilds them', async () => {
    const node = 1;
    await devnet.stopNode(node);
    const before = await storedShards(node);
    const store = await ShardStore.open(devnet.file.nodes[node]!.dataDir);
    const changed = [...before.keys()].slice(2, 4);
    for (const key of changed) {
      const [s, i] = key.split('/').map(Number);
      const blob = new Uint8Array(before.get(key)!); // a copy: LevelDB hands out Buffers, whose slice() is a view
      blob[1000] = blob[1000]! ^ 0x01; // one bit, in a payload byte: still a valid blob, no longer the one committed to
      await store.putShard(id, s!, i!, blob);
    }
    await store.close();
    await devnet.startNode(node, { args: ['--scrub-mb-s', '50'] });
    await vi.waitFor(
      async () => {
        const metrics = await metricsOf(node);
        expect(metric(metrics, 'sherd_corrupt_shards_total')).toBe(2);
        expect(metric(metrics, 'sherd_repaired_shards_total')).toBe(2);
      },
      { timeout: 30_000, interval: 250 },
    );
    const metrics = await metricsOf(node);
    expect(metrics).toMatch(/^sherd_repaired_shards_total\{reason="corrupt"\} 2$/m);
    expect(metric(metrics, 'sherd_scrub_shards_checked_total')).toBeGreaterThanOrEqual(before.size);
    await expectWholeAndEqual(node, before);
    await devnet.startNode(node);
  }, 90_000);
});
