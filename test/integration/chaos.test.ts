import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { equalBytes, toHex } from '../../proofs/bytes.ts';
import { assignedShardCount, shardsOnNode } from '../../protocol/placement.ts';
import { download } from '../../client/dataset.ts';
import { datasetNodesFromChain } from '../../client/chain-context.ts';
import { Devnet, type ChallengeEpochReport } from '../../cli/devnet.ts';
import { sampleDataset } from '../../client/sample.ts';
import { upload, type UploadResult } from '../../client/upload.ts';
import { ShardStore } from '../../storage-node/store.ts';
import { metricSum, nodeMetricsText } from '../helpers/metrics.ts';
import { sherd } from '../helpers/sherd.ts';

/**
 * Churn on a devnet of 8 real node processes holding two datasets (k = m = 4: every node holds
 * one shard of every segment). Between challenge epochs the test wipes node 1's data
 * directory, kill -9s node 2 in the middle of the second upload and starts it again, changes
 * bytes inside node 3's LevelDB values, and has node 4 exit for good while a ninth node
 * registers. The nodes do the rest themselves: start-up scans, the scrub, a peer's
 * replaceMember, the replacement's repair and confirmation. At the end both datasets read back
 * equal, every shard answers a sample, every slot is held by an active member, no challenge
 * was missed, and each node's repair counters equal what was destroyed on it.
 */
const K = 4;
const M = 4;
const N = 8;
const WIPED = 1;
const KILLED = 2;
const CORRUPTED = 3;
const EXITED = 4;

let dir: string;
let devnet: Devnet;
const payloads: Uint8Array[] = [];
const datasets: UploadResult[] = [];
const epochs: ChallengeEpochReport[] = [];
/** Shards node KILLED lacked of the second dataset when it came back: what its repair owes. */
let killedMissing = 0;
let newcomer: number;

const metricsOf = (node: number) => nodeMetricsText(devnet.endpoints[node]!.url);
const metric = metricSum;

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const shardsOf = (dataset: UploadResult, slot: number) => assignedShardCount(slot, dataset.segments, K + M, N);

async function runEpochs(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    epochs.push(
      ...(await devnet.runChallengeEpochOf(
        datasets.map((d) => d.datasetId),
        { answerTimeoutMs: 15_000 },
      )),
    );
  }
}

function uploadDataset(bytes: Uint8Array, onProgress?: Parameters<typeof upload>[1]['onProgress']): Promise<UploadResult> {
  payloads.push(bytes);
  return upload(bytes, {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    k: K,
    m: M,
    epochs: 50,
    onProgress,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-chaos-'));
  devnet = await Devnet.start({ nodes: N, dir: join(dir, 'devnet') });
  datasets.push(await uploadDataset(new Uint8Array(randomBytes(3 * 1024 * 1024))));
  await runEpochs(1);

  // Node WIPED loses its disk; node CORRUPTED has bits flipped inside two of its stored values.
  await devnet.stopNode(WIPED);
  await rm(devnet.file.nodes[WIPED]!.dataDir, { recursive: true, force: true });
  await devnet.startNode(WIPED);
  await devnet.stopNode(CORRUPTED);
  const store = await ShardStore.open(devnet.file.nodes[CORRUPTED]!.dataDir);
  for (const [s, i] of [...shardsOnNode(CORRUPTED, datasets[0]!.segments, K + M, N)].slice(1, 3)) {
    const blob = new Uint8Array((await store.getShard(datasets[0]!.datasetId, s, i))!);
    blob[4_000] = blob[4_000]! ^ 0x10;
    await store.putShard(datasets[0]!.datasetId, s, i, blob);
  }
  await store.close();
  await devnet.startNode(CORRUPTED, { args: ['--scrub-mb-s', '50'] });

  // The second upload, with node KILLED killed -9 once the dataset is announced, as its shards start to flow, and
  // started again. (Later, on a dispersal progress event, the node may already have stored all its shards: it verifies
  // and stores them in one batch, and the client counts acknowledgements as they come back from every node.)
  let killing: Promise<void> | undefined;
  const heldAfterKill = new Map<string, number>();
  const second = uploadDataset(new Uint8Array(randomBytes(4 * 1024 * 1024)), (event) => {
    if (event.phase === 'announce' && !killing) {
      killing = (async () => {
        await devnet.stopNode(KILLED, { kill: true });
        // What it holds of each dataset as it comes back (the second one's id is known once the upload ends).
        const killedStore = await ShardStore.open(devnet.file.nodes[KILLED]!.dataDir);
        for (const id of await killedStore.listDatasets()) heldAfterKill.set(toHex(id), (await killedStore.listShards(id)).length);
        await killedStore.close();
        await devnet.startNode(KILLED);
      })();
    }
  });
  datasets.push(await second);
  await killing;
  expect(datasets[1]!.failedNodes.map((f) => f.index)).toContain(KILLED);
  killedMissing = shardsOf(datasets[1]!, KILLED) - (heldAfterKill.get(toHex(datasets[1]!.datasetId)) ?? 0);

  // Node EXITED leaves for good; a new node joins. A peer replaces the slot, the newcomer repairs it and confirms.
  await devnet.exitNode(EXITED);
  await devnet.stopNode(EXITED, { kill: true });
  newcomer = await devnet.addNode();
  for (const d of datasets) {
    await until(`slot ${EXITED} of each dataset is confirmed by the newcomer`, async () => {
      const member = (await devnet.registry.datasetMembers(d.datasetId))[EXITED]!;
      return member.nodeId === devnet.file.nodes[newcomer]!.registryId && member.state === 'confirmed';
    });
  }
  await runEpochs(2);
}, 170_000);

afterAll(async () => {
  await devnet?.stop();
  if (process.env.KEEP) console.log(dir);
  else await rm(dir, { recursive: true, force: true });
});

describe('churn: a wiped disk, a kill -9 mid-write, corrupted values, an exit and a newcomer', () => {
  it('reads both datasets back equal, from the slots as they are held now', async () => {
    for (const [i, d] of datasets.entries()) {
      const nodes = await datasetNodesFromChain(devnet.registry, d.datasetId);
      expect(nodes[EXITED]!.url).toBe(devnet.endpoints[newcomer]!.url);
      const bytes = await readAll(download(d.datasetId, { nodes, registry: devnet.registry }));
      expect(equalBytes(bytes, payloads[i]!)).toBe(true);
    }
  });

  it('answers a sample of every shard of both datasets', async () => {
    for (const d of datasets) {
      const report = await sampleDataset(d.datasetId, { registry: devnet.registry, samples: d.segments * (K + M) });
      expect(report.failures).toEqual([]);
      expect(report.recoverable).toBe(true);
    }
  });

  it('has every slot held by an active member, the exited one by the newcomer', async () => {
    for (const d of datasets) {
      const members = await devnet.registry.datasetMembers(d.datasetId);
      expect(members.every((m) => m.active && m.state !== 'repairing')).toBe(true);
      expect(members.map((m) => m.nodeId)).toEqual([0, 1, 2, 3, devnet.file.nodes[newcomer]!.registryId, 5, 6, 7]);
    }
    // `sherd status` shows the same.
    const status = await sherd(['status', toHex(datasets[1]!.datasetId), '--devnet', devnet.path, '--json']);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { slots: unknown[] }).slots[EXITED]).toEqual({
      slot: EXITED,
      nodeId: devnet.file.nodes[newcomer]!.registryId,
      endpoint: devnet.endpoints[newcomer]!.url,
      state: 'confirmed',
      active: true,
      repairDeadline: null,
    });
  });

  it('missed no challenge, and the newcomer answers for the slot it took over', () => {
    expect(epochs.length).toBe(1 + 2 * 2);
    expect(epochs.flatMap((e) => e.missed)).toEqual([]);
    for (const e of epochs) expect(e.answered.length).toBe(e.challenges);
    for (const e of epochs.slice(1)) expect(e.challenged[EXITED]!.nodeId).toBe(devnet.file.nodes[newcomer]!.registryId);
  });

  it("counts in each node's repair metrics exactly what was destroyed on it", async () => {
    const [a, b] = datasets as [UploadResult, UploadResult];
    expect(metric(await metricsOf(WIPED), 'sherd_repaired_shards_total')).toBe(shardsOf(a, WIPED));
    expect(metric(await metricsOf(WIPED), 'sherd_repair_manifests_fetched_total')).toBe(1);
    const corrupted = await metricsOf(CORRUPTED);
    expect(metric(corrupted, 'sherd_corrupt_shards_total')).toBe(2);
    expect(metric(corrupted, 'sherd_repaired_shards_total')).toBe(2);
    expect(metric(await metricsOf(KILLED), 'sherd_repaired_shards_total')).toBe(killedMissing);
    expect(killedMissing).toBeGreaterThan(0);
    const fresh = await metricsOf(newcomer);
    expect(metric(fresh, 'sherd_repaired_shards_total')).toBe(shardsOf(a, EXITED) + shardsOf(b, EXITED));
    expect(metric(fresh, 'sherd_replacements_confirmed_total')).toBe(2);
    expect(metric(fresh, 'sherd_repair_failures_total')).toBe(0);
    // Untouched nodes rebuilt nothing.
    for (const node of [0, 5, 6, 7]) expect(metric(await metricsOf(node), 'sherd_repaired_shards_total')).toBe(0);
  });
});
