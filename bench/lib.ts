import { mkdir, writeFile } from 'node:fs/promises';
import { Pool } from 'undici';
import { toHex } from '../proofs/bytes.ts';
import { nodeForShard } from '../protocol/placement.ts';
import { routePath } from '../protocol/routes.ts';

/** Shared by the benchmarks: a table printer and a JSON writer into bench/results/. */
export const RESULTS_DIR = new URL('./results/', import.meta.url);

export function table(title: string, rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(2)) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(cell(r[c] ?? '')).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(columns)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(cell(row[c] ?? ''))))}\n`);
}

export async function writeResult(name: string, data: unknown): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    new URL(`${name}.json`, RESULTS_DIR),
    `${JSON.stringify({ date: new Date().toISOString(), ...(data as object) }, null, 2)}\n`,
  );
}

export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/**
 * The read benchmarks' baseline: raw loopback GETs of every data shard of `id`'s first
 * `segments` segments from the nodes that hold them, `concurrency` segments at a time, with no
 * checking and no unpacking.
 */
export async function rawShardReads(
  nodes: ReadonlyArray<{ url: string }>,
  id: Uint8Array,
  k: number,
  segments: number,
  concurrency: number,
): Promise<void> {
  const pools = nodes.map((node) => new Pool(node.url, { connections: 8 }));
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
          const body = await res.body.arrayBuffer();
          if (res.statusCode !== 200 || body.byteLength !== 131_072) throw new Error(`raw GET of shard ${s}/${i}: HTTP ${res.statusCode}`);
        }),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
