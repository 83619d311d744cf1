/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (small sizes).
 * Each benchmark prints a table and writes bench/results/NAME.json; this runner writes
 * bench/results/summary.json with one number per goal of the performance issue.
 */
import { benchEncode } from './encode.ts';
import { benchGateway } from './gateway.ts';
import { benchLicensing } from './licensing.ts';
import { benchLoader } from './loader.ts';
import { benchKzgBackends } from './kzg-backends.ts';
import { writeResult } from './lib.ts';
import { benchRead } from './read.ts';
import { benchMemory } from './memory.ts';
import { benchPeers } from './peers.ts';
import { benchPrepare } from './prepare.ts';
import { benchDemo } from './demo.ts';
import { benchDurability } from './durability.ts';
import { benchRepair } from './repair.ts';
import { benchSample } from './sample.ts';
import { benchScale } from './scale.ts';
import { benchVerify } from './verify.ts';

const quick = process.argv.includes('--quick');
const started = performance.now();
await benchKzgBackends(quick);
await benchPeers(quick);
const encode = await benchEncode(quick);
const prepare = await benchPrepare(quick);
const demo = await benchDemo(quick);
const verify = await benchVerify(quick);
const read = await benchRead(quick);
const scale = await benchScale(quick);
const sample = await benchSample(quick);
const memory = await benchMemory(quick);
const gateway = await benchGateway(quick);
const loader = await benchLoader(quick);
const licensing = await benchLicensing(quick);
const repair = await benchRepair(quick);
const durability = await benchDurability(quick);
const lossOf = (code: string) =>
  durability.grid.find((g) => g.code === code && g.failuresPerYear === 0.1 && g.repairHours === 24)!.lossPerYear;

const summary = {
  mode: quick ? 'quick' : 'full',
  machine: `${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
  encode_vs_kzg_ratio: round(encode.encodeVsKzg),
  workers_2v1_ratio: round(encode.workers2v1),
  client_prepare_vs_kzg_bound_ratio: round(prepare.prepareVsKzgBound),
  client_prepare_vs_0g_ratio: round(prepare.prepareVs0g),
  client_prepare_vs_greenfield_ratio: round(prepare.prepareVsGreenfield),
  bgmw_vs_ckzg_commit_ratio: round(prepare.bgmwVsCkzg),
  parity_commit_ms_k16: round(prepare.parityCommitMsK16),
  demo_upload_mib_s: round(demo.uploadMiBps),
  node_verify_mb_s_per_core: round(verify.nodeVerifyMbps),
  per_node_work_16v1_ratio: round(scale.perNodeWork16v1),
  read_vs_loopback_ratio: round(read.readVsLoopback),
  read_degraded_vs_loopback_ratio: round(read.degradedVsLoopback),
  upload_peak_rss_mib: round(memory.uploadPeakRssMiB),
  download_peak_rss_mib: round(memory.downloadPeakRssMiB),
  upload_rss_2gib_vs_256mib_ratio: round(memory.upload2GiBvs256MiB),
  sample_30_seconds: round(sample.sample30Seconds),
  sample_300_seconds: round(sample.sample300Seconds),
  sample_300_vs_bare_openings_ratio: round(sample.sample300VsOpenings),
  rss_file_mib: memory.bytes / 1048576,
  gateway_vs_loopback_ratio: round(gateway.gatewayVsLoopback),
  gateway_degraded_vs_loopback_ratio: round(gateway.degradedVsLoopback),
  gateway_parallel_readers_8v1_ratio: round(gateway.parallel8v1),
  ttfb_1gib_vs_64mib_ratio: round(gateway.ttfb1GiBvs64MiB),
  gateway_peak_rss_mib: round(gateway.peakRssMiB),
  gateway_p99_degraded_vs_healthy_ratio: round(gateway.p99DegradedVsHealthy),
  loader_samples_per_s: round(loader.loaderSamplesPerS),
  loader_vs_local_files_ratio: round(loader.loaderVsLocalFiles),
  s3_get_vs_http_get_ratio: round(loader.s3VsHttp),
  encrypted_upload_vs_plain_ratio: round(licensing.encryptedVsPlain),
  key_release_seconds: round(licensing.keyReleaseSeconds),
  repair_read_amplification: round(repair.readAmplification),
  repair_seconds_64mib: round(repair.repairSeconds),
  repair_vs_raw_reads_ratio: round(repair.repairVsRawReadsRatio),
  durability_loss_per_year_demo_code: lossOf('4 + 4 on 8 (demo)'),
  durability_loss_per_year_k16_m16: lossOf('16 + 16 on 32'),
  notes: {
    sample: 'sample-check latency against 8 nodes; the baseline is one c-kzg opening per sample divided over the cores',
    per_node_work_16v1_ratio: 'busiest of 16 nodes / all 16 together (one node cannot hold k + m ≥ 2 distinct shards); ideal 1/16 = 0.0625',
    gateway:
      'sherd gateway in its own process, 6 nodes k = m = 3, 256 MiB in 32 files; baseline: raw loopback GETs of the same data shards',
    loader:
      'PyTorch DataLoader, 2 workers, WebDataset tars through sherd gateway (16 MiB cache) vs the same loader over the same files on local disk; S3 GetObject vs plain GET of the same files from a warm gateway',
    licensing:
      'encrypted vs plain upload of the same size on 6 nodes (throughput ratio, medians of 3 interleaved runs); key release: one signed request to all 6 nodes, each checking the license on chain, t = 3 shares combined',
    rss: 'upload and download peak RSS of a 2 GiB file; the ratio divides it by a 256 MiB upload (both modes)',
    prepare:
      '256 MiB file, RS(4, 4) over Fr, default workers; bound: bare fixed-base commit loop over the same data blobs on as many threads; 0G and Greenfield as they run by default (one thread)',
    demo: 'the upload rate sherd demo reports: 64 MiB to 8 nodes on this machine, nodes verifying on the same cores',
    repair:
      'one node of the demo devnet (64 MiB, 8 nodes, k = m = 4) restarted on an empty disk until whole, process start included; amplification: peer bytes fetched / bytes restored (RS reads k); baseline: raw loopback GETs of as many shards',
    durability:
      'loss per dataset-year from the model of client/durability.ts at 10% node failures a year and 24 h repair (bench/durability.ts checks it against a simulation)',
  },
  seconds: round((performance.now() - started) / 1000),
};
await writeResult('summary', summary);
process.stdout.write(`\n${JSON.stringify(summary, null, 2)}\n`);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
