/**
 * The read gateway as training jobs use it, in its own process (`sherd gateway`) against a
 * 6-node devnet (k = m = 3):
 * - throughput reading a 256 MiB multi-file dataset, against raw loopback GETs of the same
 *   data shards from the same nodes (same concurrency, no checking): all nodes up, and m down;
 * - 8 concurrent readers against 1;
 * - p99 latency of 1 MiB ranged reads, all nodes healthy and with a third of them down or
 *   frozen (one killed, one SIGSTOPped: it accepts connections and answers nothing);
 * - time to first byte and peak RSS of a fresh gateway on a 64 MiB and a 1 GiB dataset.
 * The 64 MiB and 1 GiB datasets repeat a random block of whole segments, so the client commits
 * each distinct blob once (its commitment memo); the gateway sees their shards like any other.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { writeRandomFile } from '../cli/demo.ts';
import { Devnet } from '../cli/devnet.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { segmentCount, segmentPayloadBytes } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import { routePath } from '../protocol/routes.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

const SHERD = fileURLToPath(new URL('../bin/sherd.js', import.meta.url));
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

/** A `sherd gateway` process on 127.0.0.1: its URL, and its peak RSS read from /proc. */
interface GatewayProcess {
  url: string;
  peakRssMiB(): Promise<number>;
  stop(): Promise<void>;
}

async function startGateway(devnet: Devnet, cache = '256MiB'): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [SHERD, 'gateway', '--devnet', devnet.path, '--port', '0', '--cache', cache], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sherd gateway exited with ${code}: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    async peakRssMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GETs `url` (with `range` if given) and returns the bytes read and when the first byte came (ms after the request). */
async function get(url: string, range?: [number, number]): Promise<{ bytes: number; firstByteMs: number }> {
  const started = performance.now();
  const res = await request(url, { headers: range ? { range: `bytes=${range[0]}-${range[1] - 1}` } : {} });
  if (res.statusCode !== 200 && res.statusCode !== 206) throw new Error(`${url}: HTTP ${res.statusCode}: ${await res.body.text()}`);
  let bytes = 0;
  let firstByteMs = 0;
  for await (const chunk of res.body) {
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += (chunk as Buffer).length;
  }
  return { bytes, firstByteMs };
}

/** Reads `files` one after the other through the gateway; the bytes read. */
async function readFiles(base: string, files: string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await get(`${base}/${file}`)).bytes;
  return bytes;
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

/** Raw loopback GETs of every data shard of `id`'s first `segments` segments, `concurrency` segments at a time. */
async function rawShardReads(devnet: Devnet, id: Uint8Array, k: number, segments: number, concurrency: number): Promise<void> {
  const pools = devnet.endpoints.map((e) => new Pool(e.url, { connections: 8 }));
  let next = 0;
  const worker = async () => {
    while (next < segments) {
      const s = next++;
      await Promise.all(
        Array.from({ length: k }, async (_, i) => {
          const res = await pools[nodeForShard(s, i, pools.length)]!.request({
            method: 'GET',
            path: routePath('getShard', { dataset: toHex(id), segment: s, index: i }),
          });
          await res.body.arrayBuffer();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await Promise.all(pools.map((p) => p.close()));
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
      const { bytes } = await get(`${base}/${file}`, [start, start + MiB]);
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
      await get(`${gateway.url}${warmUp}`);
      times.push((await get(`${gateway.url}/datasets/${toHex(id)}/${file}`, [0, MiB])).firstByteMs);
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

async function runGatewayBench(devnet: Devnet, dir: string, quick: boolean): Promise<GatewayBench> {
  const fileBytes = 8 * MiB;
  const trainFiles = Array.from({ length: 32 }, (_, i) => `train-${String(i).padStart(6, '0')}.bin`);
  await mkdir(join(dir, 'train'));
  for (const name of trainFiles) await writeRandomFile(join(dir, 'train', name), fileBytes);
  const train = await uploadTree(devnet, join(dir, 'train'));
  const { k, m } = train;
  // 64 MiB and 1 GiB, in files of 32 segments (~11.6 MiB at k = 3).
  const small = join(dir, 'small');
  const large = join(dir, 'large');
  await writeRepeatingTree(small, k, 32, Math.ceil((64 * MiB) / (32 * segmentPayloadBytes(k))));
  await writeRepeatingTree(large, k, 32, Math.ceil((1024 * MiB) / (32 * segmentPayloadBytes(k))));
  const smallSet = await uploadTree(devnet, small);
  const largeSet = await uploadTree(devnet, large);
  const trainBytes = trainFiles.length * fileBytes;
  const trainSegments = segmentCount(trainBytes, k);
  const base = (gateway: GatewayProcess) => `${gateway.url}/datasets/${toHex(train.datasetId)}`;
  const warmUp = `/datasets/${toHex(smallSet.datasetId)}/${smallSet.files[0]!.path}`;

  // The baseline drifts with the machine: it is measured around the gateway's phases, and its median taken.
  const raw = async () => (await timed(() => rawShardReads(devnet, train.datasetId, k, trainSegments, 4)))[1];
  await raw(); // warms the nodes' page cache for every read below
  const rawTimes = [await raw()];
  const healthy = await phase(devnet, warmUp, async (gateway) => (await timed(() => readFiles(base(gateway), trainFiles)))[1]);
  rawTimes.push(await raw());
  const [parallelMs, peakRssMiB] = await phase(devnet, warmUp, async (gateway) => {
    const groups = Array.from({ length: 8 }, (_, r) => trainFiles.filter((_, i) => i % 8 === r));
    const [, ms] = await timed(() => Promise.all(groups.map((group) => readFiles(base(gateway), group))));
    return [ms, await gateway.peakRssMiB()] as const;
  });
  rawTimes.push(await raw());
  const rawMs = percentile(rawTimes, 0.5);
  await Promise.all([0, 2, 4].map((i) => devnet.stopNode(i, { kill: true }))); // m = 3 down
  const degradedMs = await phase(devnet, warmUp, async (gateway) => (await timed(() => readFiles(base(gateway), trainFiles)))[1]);
  await Promise.all([0, 2, 4].map((i) => devnet.startNode(i)));

  const reads = quick ? 120 : 400;
  const largeBase = (gateway: GatewayProcess) => `${gateway.url}/datasets/${toHex(largeSet.datasetId)}`;
  const largeFiles = largeSet.files.map((f) => f.path);
  const largeFileBytes = largeSet.files[0]!.length;
  const healthyLatencies = await phase(devnet, warmUp, (gateway) => rangedLatencies(largeBase(gateway), largeFiles, largeFileBytes, reads));
  // A third of the nodes: one killed, one frozen.
  await devnet.stopNode(0, { kill: true });
  devnet.pauseNode(3, true);
  const degradedLatencies = await phase(devnet, warmUp, (gateway) =>
    rangedLatencies(largeBase(gateway), largeFiles, largeFileBytes, reads),
  );
  devnet.pauseNode(3, false);
  await devnet.startNode(0);

  const trials = quick ? 3 : 7;
  const trainWarmUp = `/datasets/${toHex(train.datasetId)}/${trainFiles[0]}`;
  const ttfbSmall = await coldFirstByte(devnet, smallSet.datasetId, smallSet.files[smallSet.files.length >> 1]!.path, trials, trainWarmUp);
  const ttfbLarge = await coldFirstByte(devnet, largeSet.datasetId, largeSet.files[largeSet.files.length >> 1]!.path, trials, trainWarmUp);

  const p99Healthy = percentile(healthyLatencies, 0.99);
  const p99Degraded = percentile(degradedLatencies, 0.99);
  const rows = [
    { read: 'raw loopback GET of the data shards', 'MB/s': mbps(trainBytes, rawMs), 'vs raw': 1 },
    { read: 'gateway, 1 reader, all nodes up', 'MB/s': mbps(trainBytes, healthy), 'vs raw': rawMs / healthy },
    { read: `gateway, 1 reader, ${m} of ${NODES} nodes down`, 'MB/s': mbps(trainBytes, degradedMs), 'vs raw': rawMs / degradedMs },
    { read: 'gateway, 8 readers at once (aggregate)', 'MB/s': mbps(trainBytes, parallelMs), 'vs raw': rawMs / parallelMs },
  ];
  table(`Gateway reads, ${trainBytes / MiB} MiB in ${trainFiles.length} files, ${NODES} nodes, k=${k} m=${m}`, rows);
  table(`1 MiB ranged reads of the 1 GiB dataset, 4 at a time (${reads} each)`, [
    { nodes: 'all healthy', 'p50 ms': percentile(healthyLatencies, 0.5), 'p99 ms': p99Healthy },
    { nodes: '1 killed, 1 frozen (a third)', 'p50 ms': percentile(degradedLatencies, 0.5), 'p99 ms': p99Degraded },
  ]);
  table(`Cold gateway: first byte of a file (median of ${trials}) and peak RSS`, [
    { dataset: '64 MiB', 'first byte ms': ttfbSmall.ms, 'peak RSS MiB': ttfbSmall.rssMiB },
    { dataset: '1 GiB', 'first byte ms': ttfbLarge.ms, 'peak RSS MiB': ttfbLarge.rssMiB },
  ]);
  table('Gateway peak RSS with 8 readers', [{ 'peak RSS MiB': peakRssMiB, cache: '256 MiB' }]);
  const result: GatewayBench = {
    gatewayVsLoopback: rawMs / healthy,
    degradedVsLoopback: rawMs / degradedMs,
    parallel8v1: healthy / parallelMs,
    ttfb1GiBvs64MiB: ttfbLarge.ms / ttfbSmall.ms,
    peakRssMiB,
    p99DegradedVsHealthy: p99Degraded / p99Healthy,
  };
  await writeResult('gateway', {
    k,
    m,
    nodes: NODES,
    trainBytes,
    rawMs,
    rawTimes,
    healthyMs: healthy,
    degradedMs,
    parallelMs,
    p99HealthyMs: p99Healthy,
    p99DegradedMs: p99Degraded,
    ttfb64MiBMs: ttfbSmall.ms,
    ttfb1GiBMs: ttfbLarge.ms,
    rss64MiB: ttfbSmall.rssMiB,
    rss1GiB: ttfbLarge.rssMiB,
    ...result,
  });
  return result;
}

/**
 * Runs `body` against a fresh gateway process (an empty cache), stopped afterwards. The
 * gateway first reads `warmUp` (another dataset's file): a gateway is a long-running service,
 * and its threads' first seconds (module loading, JIT) are not what a training job sees.
 */
async function phase<T>(devnet: Devnet, warmUp: string, body: (gateway: GatewayProcess) => Promise<T>): Promise<T> {
  const gateway = await startGateway(devnet);
  try {
    await get(`${gateway.url}${warmUp}`);
    return await body(gateway);
  } finally {
    await gateway.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchGateway(process.argv.includes('--quick'));
}
