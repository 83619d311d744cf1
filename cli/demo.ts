import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { toHex } from '../proofs/bytes.ts';
import { Devnet } from './devnet.ts';
import { download } from '../client/dataset.ts';
import { SherdError } from '../proofs/errors.ts';
import { nodesFromChain } from '../client/chain-context.ts';
import { sampleDataset } from '../client/sample.ts';
import { upload } from '../client/upload.ts';
import type { DownloadProgress, UploadProgress } from '../client/types.ts';

export interface DemoOptions {
  nodes?: number;
  /** Size of the random dataset when no file is given (default 64 MiB). */
  size?: number;
  file?: string;
  dir?: string;
  keep?: boolean;
  workers?: number;
  onStep?: (message: string) => void;
  onUploadProgress?: (event: UploadProgress) => void;
  onDownloadProgress?: (event: DownloadProgress) => void;
}

export interface DemoReport {
  datasetId: string;
  contentRoot: string;
  bytes: number;
  /** The dataset's size on chain: the file with its index. */
  datasetBytes: number;
  k: number;
  m: number;
  segments: number;
  shards: number;
  nodes: number;
  signers: number;
  quorum: number;
  certificateVerified: boolean;
  certifiedOnChain: boolean;
  certifiedTx: string;
  certifyGas: number;
  registryAddress: string;
  /** Availability samples after the upload, each checked against the root on chain. */
  samples: number;
  sampleFailures: number;
  sampleConfidence: number;
  sampleSeconds: number;
  /** One challenge epoch: every node answers its challenge on chain without help. */
  challengeEpoch: number;
  challengesAnswered: number;
  challengesMissed: number;
  /** Wei of storage fees released to the nodes that answered, as a decimal string. */
  rewardsPaid: string;
  nodesStopped: number;
  stoppedNodes: number[];
  reconstructedSegments: number;
  uploadSeconds: number;
  downloadSeconds: number;
  uploadMiBps: number;
  downloadMiBps: number;
  inputSha256: string;
  outputSha256: string;
  readBackEqual: boolean;
  dir: string | null;
}

export class DemoError extends SherdError {
  override name = 'DemoError';
}

/** Writes `size` random bytes to `path` in 1 MiB chunks and returns their SHA-256 (hex). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = randomBytes(Math.min(1 << 20, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    written += chunk.length;
  }
  out.end();
  await once(out, 'close');
  return hash.digest('hex');
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The input: the given file, or a random one of `size` bytes written to `dir`; with its SHA-256. */
async function prepareInput(
  options: DemoOptions,
  dir: string,
  step: (message: string) => void,
): Promise<{ input: string; sha256: string; bytes: number }> {
  let input = options.file;
  let sha256: string;
  if (input) {
    step(`hashing ${input}`);
    sha256 = await hashFile(input);
  } else {
    input = join(dir, 'dataset.bin');
    const size = options.size ?? 64 * 1024 * 1024;
    step(`writing a ${(size / 1048576).toFixed(0)} MiB random dataset`);
    sha256 = await writeRandomFile(input, size);
  }
  return { input, sha256, bytes: (await stat(input)).size };
}

/** Reads the dataset back into `output`, returning its SHA-256 and how many segments were rebuilt from parity. */
async function downloadTo(
  devnet: Devnet,
  id: Uint8Array,
  output: string,
  options: DemoOptions,
): Promise<{ sha256: string; reconstructedSegments: number }> {
  const outHash = createHash('sha256');
  let reconstructedSegments = 0;
  await pipeline(
    download(id, {
      nodes: devnet.endpoints,
      registry: devnet.registry,
      onProgress: (event) => {
        reconstructedSegments = event.reconstructedSegments;
        options.onDownloadProgress?.(event);
      },
    }),
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        outHash.update(chunk);
        done(null, chunk);
      },
    }),
    createWriteStream(output),
  );
  return { sha256: outHash.digest('hex'), reconstructedSegments };
}

/** Samples the dataset and runs one challenge epoch; fails the demo when a segment cannot be recovered. */
async function checkAvailability(devnet: Devnet, id: Uint8Array, step: (message: string) => void) {
  step('sampling the dataset from the nodes: random (shard, z), each opening checked against the content root on chain');
  const sampled = await sampleDataset(id, { registry: devnet.registry });
  if (!sampled.recoverable)
    throw new DemoError('demo_failed', `sampling says segments ${sampled.lostSegments.join(', ')} cannot be recovered`);
  step(
    `${sampled.samples} samples, ${sampled.failed} failed, in ${sampled.seconds.toFixed(2)} s: ` +
      `every segment recoverable with confidence ${sampled.confidence.toFixed(4)}`,
  );
  step('running a challenge epoch: the nodes answer on chain by themselves');
  const epoch = await devnet.runChallengeEpoch(id, { onStep: step });
  step(
    `epoch ${epoch.epoch}: ${epoch.answered.length} of ${epoch.challenges} challenges answered, ` +
      `${epoch.missed.length} missed; ${epoch.rewardsPaidWei} wei paid`,
  );
  return { sampled, epoch };
}

/** Kills m nodes spread over the ring (every segment loses exactly m of its n shards) and reads the dataset back. */
async function downloadDegraded(
  devnet: Devnet,
  id: Uint8Array,
  m: number,
  dir: string,
  options: DemoOptions,
  step: (message: string) => void,
) {
  const nodeCount = devnet.file.nodes.length;
  const stride = nodeCount / m;
  const stoppedNodes = Array.from({ length: m }, (_, i) => Math.floor(i * stride));
  step(`killing ${stoppedNodes.length} of ${nodeCount} nodes (${stoppedNodes.join(', ')}): the code tolerates m = ${m}`);
  await Promise.all(stoppedNodes.map((i) => devnet.stopNode(i, { kill: true })));

  step('downloading with those nodes down');
  const downloadStarted = performance.now();
  const readBack = await downloadTo(devnet, id, join(dir, 'readback.bin'), options);
  const downloadSeconds = (performance.now() - downloadStarted) / 1000;
  return { stoppedNodes, readBack, downloadSeconds };
}

/**
 * The main job, end to end on real processes: a devnet (local chain + node processes), a
 * dataset registered and certified on chain, sampled for availability, one challenge epoch
 * answered by the nodes and paid for, then as many nodes killed as the code tolerates (m of
 * n), and a download that must reproduce the input byte for byte.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const step = options.onStep ?? (() => undefined);
  const nodeCount = options.nodes ?? 8;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sherd-demo-')));
  let devnet: Devnet | undefined;
  try {
    step(`starting a devnet of ${nodeCount} storage-node processes in ${dir}`);
    // Nodes look at the chain once a second, their own default, not the devnet's 4 times (kept
    // for tests' short epochs): 8 nodes polling that often took ~4% of the 2 cores the upload
    // measured here runs on, through their own threads and the chain's RPC in this process.
    devnet = await Devnet.start({ nodes: nodeCount, dir: join(dir, 'devnet'), pollMs: 1000 });
    const input = await prepareInput(options, dir, step);

    step('uploading: erasure-coding, committing, dispersing, certifying');
    const uploadStarted = performance.now();
    const result = await upload(input.input, {
      nodes: await nodesFromChain(devnet.registry),
      chain: devnet.uploadChain(),
      uploaderKey: devnet.uploaderKey,
      workers: options.workers,
      onProgress: options.onUploadProgress,
    });
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    // The contract verified the aggregate signature; read the outcome back from the chain.
    const id = result.datasetId;
    const onChain = await devnet.registry.dataset(id);
    if (!onChain.certified) throw new DemoError('demo_failed', 'the dataset is not certified on chain after the upload');
    step(`certified on chain: ${onChain.signers} signers, ${result.chain!.certifyGas} gas (tx ${result.chain!.certifiedTx})`);

    const { sampled, epoch } = await checkAvailability(devnet, id, step);

    const { stoppedNodes, readBack, downloadSeconds } = await downloadDegraded(devnet, id, result.m, dir, options, step);
    const mib = input.bytes / 1048576;
    return {
      datasetId: toHex(id),
      contentRoot: toHex(result.contentRoot),
      bytes: input.bytes,
      datasetBytes: result.size,
      k: result.k,
      m: result.m,
      segments: result.segments,
      shards: result.shards,
      nodes: nodeCount,
      signers: result.signers.length,
      quorum: result.quorum,
      certificateVerified: true,
      certifiedOnChain: onChain.certified,
      certifiedTx: result.chain!.certifiedTx,
      certifyGas: result.chain!.certifyGas,
      registryAddress: devnet.registry.address,
      samples: sampled.samples,
      sampleFailures: sampled.failed,
      sampleConfidence: round(sampled.confidence * 10_000) / 10_000,
      sampleSeconds: round(sampled.seconds),
      challengeEpoch: epoch.epoch,
      challengesAnswered: epoch.answered.length,
      challengesMissed: epoch.missed.length,
      rewardsPaid: epoch.rewardsPaidWei.toString(),
      nodesStopped: stoppedNodes.length,
      stoppedNodes,
      reconstructedSegments: readBack.reconstructedSegments,
      uploadSeconds: round(uploadSeconds),
      downloadSeconds: round(downloadSeconds),
      uploadMiBps: round(mib / uploadSeconds),
      downloadMiBps: round(mib / downloadSeconds),
      inputSha256: input.sha256,
      outputSha256: readBack.sha256,
      readBackEqual: input.sha256 === readBack.sha256,
      dir: options.keep ? dir : null,
    };
  } finally {
    await devnet?.stop();
    if (!options.keep && !options.dir) await rm(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
