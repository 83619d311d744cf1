/**
 * Reads against the raw network: the same data shards fetched with plain loopback GETs from
 * the same nodes (same concurrency, no checking, no unpacking) are the baseline; then Sherd's
 * download with all nodes up, and with m shard-holders killed (every segment rebuilt).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Devnet } from '../cli/devnet.ts';
import { DatasetReader } from '../client/download.ts';
import { nodesFromChain } from '../client/chain-context.ts';
import { upload } from '../client/upload.ts';
import { mbps, rawShardReads, table, timed, writeResult } from './lib.ts';

export async function benchRead(quick: boolean): Promise<{ readVsLoopback: number; degradedVsLoopback: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-read-'));
  const devnet = await Devnet.start({ nodes: 6, dir });
  try {
    const size = (quick ? 12 : 96) * 1024 * 1024;
    const data = new Uint8Array(randomBytes(size));
    const result = await upload(data, {
      nodes: await nodesFromChain(devnet.registry),
      chain: devnet.uploadChain(),
      uploaderKey: devnet.uploaderKey,
    });
    const { k, m, segments } = result;
    const id = result.datasetId;
    const concurrency = 4;

    const rawGet = () => rawShardReads(devnet.endpoints, id, k, segments, concurrency);
    const sherdRead = async () => {
      const reader = await DatasetReader.open(id, { nodes: devnet.endpoints, registry: devnet.registry, concurrency });
      let bytes = 0;
      for await (const chunk of reader.read()) bytes += chunk.length;
      await reader.close();
      // The whole dataset: the file and its file index (a few dozen bytes past it).
      if (bytes !== reader.size || reader.size < size) throw new Error(`read ${bytes} of ${reader.size} bytes`);
      return reader.reconstructedSegments;
    };
    await rawGet(); // warm connections and page cache alike for both
    const [, rawMs] = await timed(rawGet);
    await sherdRead();
    const [, readMs] = await timed(sherdRead);
    for (let i = 0; i < m; i++) await devnet.stopNode((i * 2) % 6, { kill: true });
    const [rebuilt, degradedMs] = await timed(sherdRead);

    const rows = [
      { read: 'raw loopback GET of the data shards', 'MB/s': mbps(size, rawMs), 'vs raw': 1 },
      { read: 'Sherd download, all nodes up', 'MB/s': mbps(size, readMs), 'vs raw': rawMs / readMs },
      {
        read: `Sherd download, ${m} of 6 nodes killed (${rebuilt} of ${segments} segments rebuilt)`,
        'MB/s': mbps(size, degradedMs),
        'vs raw': rawMs / degradedMs,
      },
    ];
    table(`Reads, ${(size / 1048576).toFixed(0)} MiB, 6 nodes, k=${k} m=${m}`, rows);
    const out = { readVsLoopback: rawMs / readMs, degradedVsLoopback: rawMs / degradedMs };
    await writeResult('read', { size, k, m, segments, rawMs, readMs, degradedMs, rebuilt, ...out });
    return out;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
