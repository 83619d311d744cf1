/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (small sizes).
 * Each benchmark prints a table and writes bench/results/NAME.json; this runner writes
 * bench/results/summary.json with one number per goal of the performance issue. Metrics not
 * measured yet are null, with the reason under `notes`.
 */
import { benchEncode } from './encode.ts';
import { writeResult } from './lib.ts';
import { benchRead } from './read.ts';
import { benchVerify } from './verify.ts';

const quick = process.argv.includes('--quick');
const started = performance.now();
const encode = await benchEncode(quick);
const verify = await benchVerify(quick);
const read = await benchRead(quick);

const summary = {
  mode: quick ? 'quick' : 'full',
  machine: `${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
  encode_vs_kzg_ratio: round(encode.encodeVsKzg),
  workers_2v1_ratio: round(encode.workers2v1),
  node_verify_mb_s_per_core: round(verify.nodeVerifyMbps),
  per_node_work_16v1_ratio: null,
  read_vs_loopback_ratio: round(read.readVsLoopback),
  read_degraded_vs_loopback_ratio: round(read.degradedVsLoopback),
  upload_peak_rss_mib: null,
  download_peak_rss_mib: null,
  notes: {
    per_node_work_16v1_ratio: 'not measured yet',
    upload_peak_rss_mib: 'not measured yet',
    download_peak_rss_mib: 'not measured yet',
  },
  seconds: round((performance.now() - started) / 1000),
};
await writeResult('summary', summary);
process.stdout.write(`\n${JSON.stringify(summary, null, 2)}\n`);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
