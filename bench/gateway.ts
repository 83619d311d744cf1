/**
 * The read gateway as training jobs use it, in its own process (`sherd gateway`) against a
 * 6-node devnet (k = m = 3):
 * - throughput reading a 256 MiB multi-file dataset, against raw loopback GETs of the same
 *   data shards from the same nodes (one shard a request, 4 segments at a time, no checking;
 *   the gateway reads 8 segments ahead, in batches): all nodes up, and m down;
 * - 8 concurrent readers against 1;
 * - p99 latency of 1 MiB ranged reads, all nodes healthy and with a third of them down or
 *   frozen (one killed, one SIGSTOPped: it accepts connections and answers nothing);
 * - time to first byte and peak RSS of a fresh gateway on a 64 MiB and a 1 GiB dataset.
 * The 64 MiB and 1 GiB datasets repeat a random block of whole segments, so the client commits
 * each distinct blob once (its commitment memo); the gateway sees their shards like any other.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomFile } from '../cli/demo.ts';
import { Devnet } from '../cli/devnet.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { segmentCount, segmentPayloadBytes } from '../protocol/manifest.ts';
import { type GatewayProcess, httpGet, readFiles, startGateway } from './gateway-process.ts';
import { mbps, rawShardReads, table, timed, writeResult } from './lib.ts';

const MiB = 1024 * 1024;
const NODES = 6;

export interface GatewayBench {
  gatewayVsLoopback: number;
  degradedVsLoopback: number;
  parallel8v1: number;
  ttfb1GiBvs64MiB: number;
  peakRssMiB: number;
  p99DegradedVsHealthy: number;
}

/** Writes `files` files of `segmentsPerFile` segments each, all the same random block (see the header). */
async function writeRepeatingTree(dir: string, k: number, segmentsPerFile: number, files: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const block = randomBytes(segmentPayloadBytes(k) * segmentsPerFile);
  for (let i = 0; i < files; i++) {
    const out = createWriteStream(join(dir, `part-${String(i).padStart(5, '0')}.bin`));
    await new Promise<void>((done, fail) => out.end(block, () => done()).once('error', fail));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** `count` 1 MiB ranged reads at random offsets of `files` (each `fileBytes` long), 4 at a time; each one's latency. */
async function rangedLatencies(base: string, files: string[], fileBytes: number, count: number): Promise<number[]> {
  const latencies: number[] = [];
  let left = count;
  const worker = async () => {
    while (left-- > 0) {
      const file = files[Math.floor(Math.random() * files.length)]!;
      const start = Math.floor(Math.random() * (fileBytes - MiB));
      const started = performance.now();
      const { bytes } = await httpGet(`${base}/${file}`, [start, start + MiB]);
      if (bytes !== MiB) throw new Error(`a ranged read returned ${bytes} bytes`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return latencies;
}

/**
 * Median time to first byte of a file in the middle of `id` when the gateway has not opened
 * `id` yet, each time from a fresh gateway process warmed on `warmUp`; and its peak RSS.
 */
async function coldFirstByte(
  devnet: Devnet,
  id: Uint8Array,
  file: string,
  trials: number,
  warmUp: string,
): Promise<{ ms: number; rssMiB: number }> {
  const times: number[] = [];
  let rssMiB = 0;
  for (let t = 0; t < trials; t++) {
    const gateway = await startGateway(devnet);
    try {
      await httpGet(`${gateway.url}${warmUp}`);
      times.push((await httpGet(`${gateway.url}/datasets/${toHex(id)}/${file}`, [0, MiB])).firstByteMs);
      rssMiB = Math.max(rssMiB, await gateway.peakRssMiB());
    } finally {
      await gateway.stop();
    }
  }
  return { ms: percentile(times, 0.5), rssMiB };
}

export async function benchGateway(quick: boolean): Promise<GatewayBench> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-gateway-'));
  const devnet = await Devnet.start({ nodes: NODES, dir: join(dir, 'devnet') });
  try {
    return await runGatewayBench(devnet, dir, quick);
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function uploadTree(devnet: Devnet, path: string) {
  return upload(path, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
}

/** The three datasets: 256 MiB of random files for throughput, and 64 MiB and 1 GiB (repeating, see the header). */
async function prepareDatasets(devnet: Devnet, dir: string) {
  const fileBytes = 8 * MiB;
  const trainFiles = Array.from({ length: 32 }, (_, i) => `train-${String(i).padStart(6, '0')}.bin`);
  await mkdir(join(dir, 'train'));
  for (const name of trainFiles) await writeRandomFile(join(dir, 'train', name), fileBytes);
  const train = await uploadTree(devnet, join(dir, 'train'));
  // 64 MiB and 1 GiB, in files of 32 segments (~11.6 MiB at k = 3).
  const filesOf = (bytes: number) => Math.ceil(bytes / (32 * segmentPayloadBytes(train.k)));
  await writeRepeatingTree(join(dir, 'small'), train.k, 32, filesOf(64 * MiB));
  await writeRepeatingTree(join(dir, 'large'), train.k, 32, filesOf(1024 * MiB));
  const small = await uploadTree(devnet, join(dir, 'small'));
  const large = await uploadTree(devnet, join(dir, 'large'));
  return { train, trainFiles, trainBytes: trainFiles.length * fileBytes, small, large };
}
type Datasets = Awaited<ReturnType<typeof prepareDatasets>>;

/** Whole-file reads of the 256 MiB dataset: 1 reader, 8 readers, 1 reader with m nodes down; the raw baseline around them. */
async function measureThroughput(devnet: Devnet, sets: Datasets, warmUp: string[]) {
  const { train, trainFiles, trainBytes } = sets;
  const base = (gateway: GatewayProcess) => `${gateway.url}/datasets/${toHex(train.datasetId)}`;
  const segments = segmentCount(trainBytes, train.k);
  // The baseline drifts with the machine: it is measured around the gateway's phases, and its median taken.
  const raw = async () => (await timed(() => rawShardReads(devnet.endpoints, train.datasetId, train.k, segments, 4)))[1];
  await raw(); // warms the nodes' page cache for every read below
  const rawTimes = [await raw()];
  const healthyMs = await phase(devnet, warmUp, async (gateway) => (await timed(() => readFiles(base(gateway), trainFiles)))[1]);
  rawTimes.push(await raw());
  const [parallelMs, peakRssMiB] = await phase(devnet, warmUp, async (gateway) => {
    const groups = Array.from({ length: 8 }, (_, r) => trainFiles.filter((_, i) => i % 8 === r));
    const [, ms] = await timed(() => Promise.all(groups.map((group) => readFiles(base(gateway), group))));
    return [ms, await gateway.peakRssMiB()] as const;
  });
  rawTimes.push(await raw());
  const down = [0, 2, 4]; // m = 3 of 6
  await Promise.all(down.map((i) => devnet.stopNode(i, { kill: true })));
  try {
    const degradedMs = await phase(devnet, warmUp, async (gateway) => (await timed(() => readFiles(base(gateway), trainFiles)))[1]);
    return { rawMs: percentile(rawTimes, 0.5), rawTimes, healthyMs, parallelMs, peakRssMiB, degradedMs };
  } finally {
    await Promise.all(down.map((i) => devnet.startNode(i)));
  }
}

/** 1 MiB ranged reads of the 1 GiB dataset, all nodes healthy and with a third of them down or frozen. */
async function measureLatency(devnet: Devnet, sets: Datasets, warmUp: string[], reads: number) {
  const base = (gateway: GatewayProcess) => `${gateway.url}/datasets/${toHex(sets.large.datasetId)}`;
  const files = sets.large.files.map((f) => f.path);
  const fileBytes = sets.large.files[0]!.length;
  const healthy = await phase(devnet, warmUp, (gateway) => rangedLatencies(base(gateway), files, fileBytes, reads));
  await devnet.stopNode(0, { kill: true });
  devnet.pauseNode(3, true);
  try {
    const degraded = await phase(devnet, warmUp, (gateway) => rangedLatencies(base(gateway), files, fileBytes, reads));
    return { healthy, degraded, p99Healthy: percentile(healthy, 0.99), p99Degraded: percentile(degraded, 0.99) };
  } finally {
    devnet.pauseNode(3, false);
    await devnet.startNode(0);
  }
}

async function runGatewayBench(devnet: Devnet, dir: string, quick: boolean): Promise<GatewayBench> {
  const sets = await prepareDatasets(devnet, dir);
  const { train, small, large, trainBytes } = sets;
  const warmUp = small.files.map((file) => `/datasets/${toHex(small.datasetId)}/${file.path}`);
  const throughput = await measureThroughput(devnet, sets, warmUp);
  const reads = quick ? 120 : 400;
  const latency = await measureLatency(devnet, sets, warmUp, reads);
  const trials = quick ? 3 : 7;
  const trainWarmUp = `/datasets/${toHex(train.datasetId)}/${sets.trainFiles[0]}`;
  const middle = (set: typeof small) => set.files[set.files.length >> 1]!.path;
  const ttfbSmall = await coldFirstByte(devnet, small.datasetId, middle(small), trials, trainWarmUp);
  const ttfbLarge = await coldFirstByte(devnet, large.datasetId, middle(large), trials, trainWarmUp);
  const result: GatewayBench = {
    gatewayVsLoopback: throughput.rawMs / throughput.healthyMs,
    degradedVsLoopback: throughput.rawMs / throughput.degradedMs,
    parallel8v1: throughput.healthyMs / throughput.parallelMs,
    ttfb1GiBvs64MiB: ttfbLarge.ms / ttfbSmall.ms,
    peakRssMiB: throughput.peakRssMiB,
    p99DegradedVsHealthy: latency.p99Degraded / latency.p99Healthy,
  };
  reportGateway(sets, throughput, latency, reads, { trials, small: ttfbSmall, large: ttfbLarge });
  await writeResult('gateway', {
    k: train.k,
    m: train.m,
    nodes: NODES,
    trainBytes,
    ...throughput,
    p99HealthyMs: latency.p99Healthy,
    p99DegradedMs: latency.p99Degraded,
    ttfb64MiBMs: ttfbSmall.ms,
    ttfb1GiBMs: ttfbLarge.ms,
    rss64MiB: ttfbSmall.rssMiB,
    rss1GiB: ttfbLarge.rssMiB,
    ...result,
  });
  return result;
}

function reportGateway(
  sets: Datasets,
  throughput: Awaited<ReturnType<typeof measureThroughput>>,
  latency: Awaited<ReturnType<typeof measureLatency>>,
  reads: number,
  ttfb: { trials: number; small: { ms: number; rssMiB: number }; large: { ms: number; rssMiB: number } },
): void {
  const { rawMs, healthyMs, degradedMs, parallelMs, peakRssMiB } = throughput;
  const { train, trainBytes } = sets;
  const row = (read: string, ms: number) => ({ read, 'MB/s': mbps(trainBytes, ms), 'vs raw': rawMs / ms });
  table(`Gateway reads, ${trainBytes / MiB} MiB in ${sets.trainFiles.length} files, ${NODES} nodes, k=${train.k} m=${train.m}`, [
    row('raw loopback GET of the data shards', rawMs),
    row('gateway, 1 reader, all nodes up', healthyMs),
    row(`gateway, 1 reader, ${train.m} of ${NODES} nodes down`, degradedMs),
    row('gateway, 8 readers at once (aggregate)', parallelMs),
  ]);
  table(`1 MiB ranged reads of the 1 GiB dataset, 4 at a time (${reads} each)`, [
    { nodes: 'all healthy', 'p50 ms': percentile(latency.healthy, 0.5), 'p99 ms': latency.p99Healthy },
    { nodes: '1 killed, 1 frozen (a third)', 'p50 ms': percentile(latency.degraded, 0.5), 'p99 ms': latency.p99Degraded },
  ]);
  table(`Cold gateway: first byte of a file (median of ${ttfb.trials}) and peak RSS`, [
    { dataset: '64 MiB', 'first byte ms': ttfb.small.ms, 'peak RSS MiB': ttfb.small.rssMiB },
    { dataset: '1 GiB', 'first byte ms': ttfb.large.ms, 'peak RSS MiB': ttfb.large.rssMiB },
  ]);
  table('Gateway peak RSS with 8 readers', [{ 'peak RSS MiB': peakRssMiB, cache: '256 MiB' }]);
}

/**
 * Runs `body` against a fresh gateway process (an empty cache), stopped afterwards. The
 * gateway first reads `warmUp` (another dataset's files, 64 MiB): a gateway is a long-running
 * service, and its first hundred megabytes (module loading, JIT tiers, heaps growing to their
 * working set, the hedge delay learning the nodes) are not what a training job sees.
 */
async function phase<T>(devnet: Devnet, warmUp: string[], body: (gateway: GatewayProcess) => Promise<T>): Promise<T> {
  const gateway = await startGateway(devnet);
  try {
    for (const path of warmUp) await httpGet(`${gateway.url}${path}`);
    return await body(gateway);
  } finally {
    await gateway.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchGateway(process.argv.includes('--quick'));
}
