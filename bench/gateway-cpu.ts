/**
 * Where the read path's CPU goes (docs/benchmarks.md, "Gateway"): a 6-node devnet (k = m = 3),
 * a dataset of 8 MiB files, raw loopback GETs of its data shards, then `sherd gateway` in its
 * own process read whole several times in a row. For each read: MB/s, CPU-s of the gateway's
 * main thread, its busiest other thread (the read thread), its remaining threads (V8's
 * platform threads: concurrent GC, compilation), the nodes, this process (the reader and the
 * devnet's chain, which runs in it) and the gateway's minor page faults, all from /proc, and
 * the gateway's hedged shard requests and rebuilt segments, from its /metrics. Not part of `npm run bench`: a tool for finding
 * the gateway's costs, with `perf record -p PID` beside it (`--perf` starts the gateway with
 * `--perf-basic-prof` and prints its pid).
 *
 *   npx tsx bench/gateway-cpu.ts [--mib 128] [--reads 3] [--readers 1] [--cache 16MiB] [--perf]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomFile } from '../cli/demo.ts';
import { integer, parse, UsageError } from '../cli/args.ts';
import { Devnet, nodePidFile } from '../cli/devnet.ts';
import { parseBytes } from '../cli/progress.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { segmentCount } from '../protocol/manifest.ts';
import { gatewayCounters, httpGet, readFiles, startGateway } from './gateway-process.ts';
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

/** The options, checked before a devnet starts: a bad one is one line and exit 2. */
function options() {
  const { values } = parse(
    process.argv.slice(2),
    {
      mib: { type: 'string' },
      reads: { type: 'string' },
      readers: { type: 'string' },
      cache: { type: 'string' },
      perf: { type: 'boolean' },
    },
    'bench/gateway-cpu.ts',
  );
  const cache = values.cache ?? '16MiB';
  try {
    parseBytes(cache);
  } catch {
    throw new UsageError(`--cache: not a size: ${cache} (try 16MiB)`);
  }
  // The dataset is files of 8 MiB; each reader reads whole files, so there are no more readers than files.
  const fileCount = Math.ceil(integer('mib', values.mib, { min: 8, max: 4096 }, 128)! / 8);
  return {
    fileCount,
    reads: integer('reads', values.reads, { min: 1, max: 100 }, 3)!,
    readers: integer('readers', values.readers, { min: 1, max: fileCount }, 1)!,
    cache,
    perf: values.perf ?? false,
  };
}

let given: ReturnType<typeof options>;
try {
  given = options();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
const { reads, readers, cache, perf } = given;
const files = Array.from({ length: given.fileCount }, (_, i) => `part-${String(i).padStart(4, '0')}.bin`);
/** Read once before measuring (module loading, JIT), and not among `files`: the measured reads start with none of theirs cached. */
const WARM_UP = 'warm-up.bin';
const bytes = files.length * FILE_BYTES;
const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-gateway-cpu-'));
const devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
try {
  await mkdir(join(dir, 'data'));
  for (const name of [...files, WARM_UP]) await writeRandomFile(join(dir, 'data', name), FILE_BYTES);
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
      'this process CPU-s': selfCpu() - self0,
      'minor faults': '',
      hedged: '',
      rebuilt: '',
    });
  }
  const gateway = await startGateway(devnet, cache, perf ? ['--perf-basic-prof'] : []);
  if (perf) process.stdout.write(`gateway pid ${gateway.pid}: perf record -g -p ${gateway.pid}\n`);
  try {
    const base = `${gateway.url}/datasets/${toHex(dataset.datasetId)}`;
    await httpGet(`${base}/${WARM_UP}`);
    const groups = Array.from({ length: readers }, (_, r) => files.filter((_, i) => i % readers === r));
    for (let read = 1; read <= reads; read++) {
      const counters0 = await gatewayCounters(gateway.url);
      const [threads0, faults0, nodes0, self0] = [
        threadCpu(gateway.pid),
        Number(statFields(`/proc/${gateway.pid}/stat`)[7]),
        nodesCpu(),
        selfCpu(),
      ];
      const [, ms] = await timed(() => Promise.all(groups.map((group) => readFiles(base, group))));
      const counters = await gatewayCounters(gateway.url);
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
        'this process CPU-s': selfCpu() - self0,
        'minor faults': Number(statFields(`/proc/${gateway.pid}/stat`)[7]) - faults0,
        hedged: counters.hedged - counters0.hedged,
        rebuilt: counters.reconstructed - counters0.reconstructed,
      });
    }
  } finally {
    await gateway.stop();
  }
  table(`Read path CPU, ${bytes / MiB} MiB in ${files.length} files, 6 nodes, k=${dataset.k} m=${dataset.m}, cache ${cache}`, rows);
  await writeResult('gateway-cpu', { bytes, readers, cache, rows });
} finally {
  await devnet.stop();
  await rm(dir, { recursive: true, force: true });
}
