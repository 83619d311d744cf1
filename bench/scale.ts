/**
 * Write and read throughput against node count, and each node's share of the work. One
 * node cannot hold a code with k + m ≥ 2 on distinct nodes, so "1 node" is the whole
 * network's work done by one machine: the sum over nodes. The 16-node ratio is then the
 * busiest node's bytes (and CPU-seconds) over that sum; perfect sharing is 1/16.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Devnet } from '../cli/devnet.ts';
import { DatasetReader } from '../client/download.ts';
import { NodeClient } from '../client/node-client.ts';
import { nodesFromChain } from '../client/chain-context.ts';
import { upload } from '../client/upload.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

async function nodeCounters(devnet: Devnet): Promise<Array<{ bytes: number; cpu: number }>> {
  return Promise.all(
    devnet.endpoints.map(async (e) => {
      const client = new NodeClient(e.url);
      const text = await client.metrics();
      await client.close();
      const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      return { bytes: read('sherd_bytes_received_total'), cpu: read('process_cpu_seconds_total') };
    }),
  );
}

export async function benchScale(quick: boolean): Promise<{ perNodeWork16v1: number }> {
  const size = (quick ? 4 : 32) * 1024 * 1024;
  const data = new Uint8Array(randomBytes(size));
  const rows: Array<Record<string, string | number>> = [];
  let perNodeWork16v1 = Number.NaN;
  const detail: unknown[] = [];
  for (const count of [2, 4, 8, 16]) {
    const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-scale-'));
    const devnet = await Devnet.start({ nodes: count, dir });
    try {
      const before = await nodeCounters(devnet);
      const [result, writeMs] = await timed(() =>
        upload(data, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey }),
      );
      const after = await nodeCounters(devnet);
      const work = after.map((a, i) => ({ bytes: a.bytes - before[i]!.bytes, cpu: a.cpu - before[i]!.cpu }));
      const [, readMs] = await timed(async () => {
        const reader = await DatasetReader.open(result.datasetId, {
          nodes: await nodesFromChain(devnet.registry),
          registry: devnet.registry,
        });
        for await (const _ of reader.read()) {
          /* drain */
        }
        await reader.close();
      });
      const sumBytes = work.reduce((s, w) => s + w.bytes, 0);
      const sumCpu = work.reduce((s, w) => s + w.cpu, 0);
      const maxBytes = Math.max(...work.map((w) => w.bytes));
      const maxCpu = Math.max(...work.map((w) => w.cpu));
      const gb = size / 1e9;
      rows.push({
        nodes: count,
        'k + m': `${result.k} + ${result.m}`,
        'write MB/s': mbps(size, writeMs),
        'read MB/s': mbps(size, readMs),
        'bytes per node per GB': maxBytes / gb / 1e9,
        'CPU-s per node per GB': maxCpu / gb,
        'busiest node share': Math.max(maxBytes / sumBytes, maxCpu / sumCpu),
      });
      detail.push({ count, k: result.k, m: result.m, writeMs, readMs, work });
      if (count === 16) perNodeWork16v1 = Math.max(maxBytes / sumBytes, maxCpu / sumCpu);
    } finally {
      await devnet.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  table(`Throughput and per-node work against node count (${(size / 1048576).toFixed(0)} MiB, default code k = m = N/2)`, rows);
  await writeResult('scale', { size, detail, perNodeWork16v1 });
  return { perNodeWork16v1 };
}
