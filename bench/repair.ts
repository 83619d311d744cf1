/**
 * Repair: one node of the demo devnet (8 nodes, 64 MiB, k = m = 4) loses its disk and starts
 * again; the time until it has rebuilt every shard it holds, and the peer bytes that took per
 * byte restored. Baseline in the same process: raw loopback GETs of as many shards from the
 * same nodes, with no checking, decoding or storing. Run alone: `npx tsx bench/repair.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Devnet } from '../cli/devnet.ts';
import { upload } from '../client/upload.ts';
import { assignedShardCount } from '../protocol/placement.ts';
import { metricSum, nodeMetricsText } from '../test/helpers/metrics.ts';
import { rawShardReads, table, writeResult } from './lib.ts';

const NODES = 8;
const K = 4;
const M = 4;
const BYTES = 64 * 1024 * 1024;
const VICTIM = 3;

export interface RepairResult {
  repairSeconds: number;
  readAmplification: number;
  shardsRebuilt: number;
  baselineSeconds: number;
  repairVsRawReadsRatio: number;
}

const metricsOf = nodeMetricsText;
const metric = metricSum;

export async function benchRepair(_quick = false): Promise<RepairResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-repair-'));
  const devnet = await Devnet.start({ nodes: NODES, dir: join(dir, 'devnet') });
  try {
    const uploaded = await upload(new Uint8Array(randomBytes(BYTES)), {
      nodes: devnet.endpoints,
      chain: devnet.uploadChain(),
      uploaderKey: devnet.uploaderKey,
      k: K,
      m: M,
    });
    const shards = assignedShardCount(VICTIM, uploaded.segments, K + M, NODES);
    // Baseline: k raw shard GETs per shard rebuilt, as many segments as the victim holds shards of (one each at N = n).
    const rawStarted = performance.now();
    await rawShardReads(devnet.endpoints, uploaded.datasetId, K, shards, 2);
    const baselineSeconds = (performance.now() - rawStarted) / 1000;

    await devnet.stopNode(VICTIM);
    await rm(devnet.file.nodes[VICTIM]!.dataDir, { recursive: true, force: true });
    const started = performance.now();
    await devnet.startNode(VICTIM);
    const url = devnet.endpoints[VICTIM]!.url;
    let text = '';
    for (;;) {
      text = await metricsOf(url);
      if (metric(text, 'sherd_repaired_shards_total') >= shards) break;
      if (metric(text, 'sherd_repair_failures_total') > 0) throw new Error('a rebuild failed; see the node log');
      if (performance.now() - started > 600_000) throw new Error('repair did not finish in 10 minutes');
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    const repairSeconds = (performance.now() - started) / 1000;
    const readAmplification = metric(text, 'sherd_repair_bytes_fetched_total') / metric(text, 'sherd_repair_bytes_restored_total');
    const result: RepairResult = {
      repairSeconds,
      readAmplification,
      shardsRebuilt: shards,
      baselineSeconds,
      repairVsRawReadsRatio: baselineSeconds / repairSeconds,
    };
    table(`Repair of one wiped node (64 MiB, ${NODES} nodes, k = m = ${K}: ${shards} shards)`, [
      { step: 'raw loopback GETs of k shards per rebuilt shard, s', value: baselineSeconds.toFixed(2) },
      { step: 'restart on an empty disk to whole (fetch, check, decode, encode, store), s', value: repairSeconds.toFixed(2) },
      { step: 'read amplification (peer bytes / bytes restored)', value: readAmplification.toFixed(2) },
    ]);
    await writeResult('repair', { ...result, nodes: NODES, k: K, m: M, bytes: BYTES });
    return result;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchRepair(process.argv.includes('--quick'));
