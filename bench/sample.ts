/**
 * Sample-check latency: `sampleDataset` with 30 and 300 samples against an 8-node devnet,
 * every answer checked (inclusion under the root on chain, KZG opening). The baseline, run in
 * this process, is the bare work the nodes cannot avoid: one c-kzg opening per sample, spread
 * over the machine's cores as the 8 node processes spread it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodesFromChain } from '../client/chain-context.ts';
import { Devnet } from '../cli/devnet.ts';
import { sampleDataset } from '../client/sample.ts';
import { upload } from '../client/upload.ts';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../proofs/blob.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import { randomFieldElement } from '../proofs/field.ts';
import { table, timed, writeResult } from './lib.ts';

export async function benchSample(
  quick: boolean,
): Promise<{ sample30Seconds: number; sample300Seconds: number; sample300VsOpenings: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-sample-'));
  const devnet = await Devnet.start({ nodes: 8, dir });
  try {
    // 300 distinct samples need at least 300 shards: 32 MiB is 67 segments of 8.
    const size = (quick ? 32 : 128) * 1024 * 1024;
    const result = await upload(new Uint8Array(randomBytes(size)), {
      nodes: await nodesFromChain(devnet.registry),
      chain: devnet.uploadChain(),
      uploaderKey: devnet.uploaderKey,
    });
    const id = result.datasetId;

    const kzg = loadCKzg();
    const blob = packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB)));
    const [, openingMs] = await timed(() => {
      for (let i = 0; i < 10; i++) kzg.computeProof(blob, randomFieldElement());
    });
    const msPerOpening = openingMs / 10;
    const cores = cpus().length;

    const rows = [];
    const out: Record<number, number> = {};
    for (const samples of [30, 300]) {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [report, ms] = await timed(() => sampleDataset(id, { registry: devnet.registry, samples }));
        if (report.failed !== 0 || report.samples !== samples)
          throw new Error(`sampling went wrong: ${report.failed} of ${report.samples} failed`);
        runs.push(ms);
      }
      const median = runs.sort((a, b) => a - b)[1]!;
      const baseline = (samples * msPerOpening) / cores;
      out[samples] = median;
      rows.push({
        samples,
        'median (ms)': median,
        'min (ms)': runs[0]!,
        'bare openings / cores (ms)': baseline,
        'vs baseline': median / baseline,
        'per sample (ms)': median / samples,
      });
    }
    table(
      `Sample-check latency (8 nodes, ${result.segments} segments of k=${result.k} + m=${result.m}; ` +
        `c-kzg opening ${msPerOpening.toFixed(1)} ms, ${cores} cores)`,
      rows,
    );
    const summary = {
      sample30Seconds: out[30]! / 1000,
      sample300Seconds: out[300]! / 1000,
      sample300VsOpenings: out[300]! / ((300 * msPerOpening) / cores),
    };
    await writeResult('sample', { size, nodes: 8, segments: result.segments, msPerOpening, cores, rows, ...summary });
    return summary;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// `npx tsx bench/sample.ts [--quick]` runs it alone.
if (process.argv[1]?.endsWith('sample.ts')) await benchSample(process.argv.includes('--quick'));
