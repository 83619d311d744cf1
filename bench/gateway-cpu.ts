/**
 * Where the read path's CPU goes (docs/benchmarks.md, "Gateway"): a 6-node devnet (k = m = 3),
 * a dataset of 8 MiB files, raw loopback GETs of its data shards, then `sherd gateway` in its
 * own process read whole several times in a row. For each read: MB/s, CPU-s of the gateway's
 * main thread, its busiest other thread (the read thread), its remaining threads (V8's
 * platform threads: concurrent GC, compilation), the nodes and this reading process, and the
 * gateway's minor page faults, all from /proc. Not part of `npm run bench`: a tool for finding
 * the gateway's costs, with `perf record -p PID` beside it (`--perf` starts the gateway with
 * `--perf-basic-prof` and prints its pid).
 *
 *   npx tsx bench/gateway-cpu.ts [--mib 128] [--reads 3] [--readers 1] [--cache 16MiB] [--perf]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { writeRandomFile } from '../cli/demo.ts';
import { Devnet, nodePidFile } from '../cli/devnet.ts';
import { startGateway } from './gateway-process.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { segmentCount } from '../protocol/manifest.ts';
import { mbps, rawShardReads, table, timed, writeResult } from './lib.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 8 * MiB;
/** USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_S = 100;

/** The fields of a /proc stat line after the command name (which may hold spaces). */
function statFields(path: string): string[] {
  const line = readFileSync(path, 'utf8');
  return line.slice(line.lastIndexOf(')') + 2).split(' ');
}

const cpuSeconds = (fields: string[]) => (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;

/** CPU-s of each thread of `pid`, by thread id. */
function threadCpu(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), cpuSeconds(statFields(`/proc/${pid}/task/${tid}/stat`)));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return threads;
}

async function getWhole(url: string): Promise<number> {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}: ${await res.body.text()}`);
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  return bytes;
}

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '128' },
    reads: { type: 'string', default: '3' },
    readers: { type: 'string', default: '1' },
    cache: { type: 'string', default: '16MiB' },
    perf: { type: 'boolean', default: false },
  },
});
const files = Array.from({ length: Math.max(2, Math.round(Number(values.mib) / 8)) }, (_, i) => `part-${String(i).padStart(4, '0')}.bin`);
const bytes = files.length * FILE_BYTES;
const readers = Number(values.readers);
const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-gateway-cpu-'));
const devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
try {
  await mkdir(join(dir, 'data'));
  for (const name of files) await writeRandomFile(join(dir, 'data', name), FILE_BYTES);
  const dataset = await upload(join(dir, 'data'), {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
  });
  const nodePids = devnet.file.nodes.map((node) => Number(readFileSync(nodePidFile(node), 'utf8')));
  const nodesCpu = () => nodePids.reduce((sum, pid) => sum + cpuSeconds(statFields(`/proc/${pid}/stat`)), 0);
  const selfCpu = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1e6;
  };
  const rows: Array<Record<string, string | number>> = [];
  const segments = segmentCount(bytes, dataset.k);
  for (let r = 0; r < 3; r++) {
    const [nodes0, self0] = [nodesCpu(), selfCpu()];
    const [, ms] = await timed(() => rawShardReads(devnet.endpoints, dataset.datasetId, dataset.k, segments, 4));
    // The gateway's columns too, empty, so the table (which takes its columns from the first row) shows them.
    rows.push({
      read: `raw ${r + 1}`,
      'MB/s': mbps(bytes, ms),
      'main CPU-s': '',
      'read thread CPU-s': '',
      'other threads CPU-s': '',
      'nodes CPU-s': nodesCpu() - nodes0,
      'reader CPU-s': selfCpu() - self0,
      'minor faults': '',
    });
  }
  const gateway = await startGateway(devnet, values.cache, values.perf ? ['--perf-basic-prof'] : []);
  if (values.perf) process.stdout.write(`gateway pid ${gateway.pid}: perf record -g -p ${gateway.pid}\n`);
  try {
    const base = `${gateway.url}/datasets/${toHex(dataset.datasetId)}`;
    for (const name of files.slice(0, 2)) await getWhole(`${base}/${name}`); // module loading and JIT, as in bench/gateway.ts
    const groups = Array.from({ length: readers }, (_, r) => files.filter((_, i) => i % readers === r));
    for (let read = 1; read <= Number(values.reads); read++) {
      const [threads0, faults0, nodes0, self0] = [
        threadCpu(gateway.pid),
        Number(statFields(`/proc/${gateway.pid}/stat`)[7]),
        nodesCpu(),
        selfCpu(),
      ];
      const [, ms] = await timed(() =>
        Promise.all(
          groups.map(async (group) => {
            for (const name of group) await getWhole(`${base}/${name}`);
          }),
        ),
      );
      const spent = [...threadCpu(gateway.pid)].map(([tid, cpu]) => [tid, cpu - (threads0.get(tid) ?? 0)] as const);
      const main = spent.find(([tid]) => tid === gateway.pid)?.[1] ?? 0;
      const others = spent
        .filter(([tid]) => tid !== gateway.pid)
        .map(([, cpu]) => cpu)
        .sort((a, b) => b - a);
      rows.push({
        read: `gateway ${read}, ${readers} reader(s)`,
        'MB/s': mbps(bytes, ms),
        'main CPU-s': main,
        'read thread CPU-s': others[0] ?? 0,
        'other threads CPU-s': others.slice(1).reduce((a, b) => a + b, 0),
        'nodes CPU-s': nodesCpu() - nodes0,
        'reader CPU-s': selfCpu() - self0,
        'minor faults': Number(statFields(`/proc/${gateway.pid}/stat`)[7]) - faults0,
      });
    }
  } finally {
    await gateway.stop();
  }
  table(`Read path CPU, ${bytes / MiB} MiB in ${files.length} files, 6 nodes, k=${dataset.k} m=${dataset.m}, cache ${values.cache}`, rows);
  await writeResult('gateway-cpu', { bytes, readers, cache: values.cache, rows });
} finally {
  await devnet.stop();
  await rm(dir, { recursive: true, force: true });
}
