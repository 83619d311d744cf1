/**
 * The client's preparation of one file for upload, against its bound and its peers, side by
 * side in one run (issue 15):
 *  - bound: the bare fixed-base (BGMW) commitment loop over the file's data blobs, on as many
 *    threads as Sherd's default workers: the work no client that commits to its data can skip;
 *  - Sherd: the whole preparation (pack, code over Fr, commit to data, derive parity
 *    commitments, SHA-256 every shard, Merkle tree, manifest) with its default workers;
 *  - 0G TS SDK: its file Merkle tree (keccak, no coding), as it runs by default (one thread);
 *  - BNB Greenfield: RS(4, 2) + SHA-256 checksums, as it runs by default (one thread).
 * Also: BGMW against c-kzg per blob (one thread), a k = 16 parity commitment, and how the
 * preparation rate changes with k / (k + m).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZgFile } from '@0glabs/0g-ts-sdk';
import { ReedSolomon } from '@bnb-chain/reed-solomon';
import { Piscina } from 'piscina';
import { writeRandomFile } from '../cli/demo.ts';
import { EncoderPool } from '../client/encoder.ts';
import { prepareDataset } from '../client/prepare.ts';
import { collectFiles } from '../client/source.ts';
import { BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB, packBlob } from '../proofs/blob.ts';
import { generateBlsKeyPair } from '../proofs/bls.ts';
import { loadFrBackend } from '../proofs/fr-backend.ts';
import { FrCode } from '../proofs/fr-code.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import { workerModule } from '../proofs/worker-module.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

export interface PrepareResult {
  prepareVsKzgBound: number;
  prepareVs0g: number;
  prepareVsGreenfield: number;
  bgmwVsCkzg: number;
  parityCommitMsK16: number;
}

const nodeKeys = (n: number) => Array.from({ length: n }, () => generateBlsKeyPair().publicKey);

/** Sherd's whole preparation of `file` with the default workers; milliseconds. */
async function sherdPrepare(file: string, k: number, m: number): Promise<number> {
  const encoder = new EncoderPool();
  try {
    await Promise.all(Array.from({ length: encoder.threads }, () => encoder.commit(new Uint8Array(PAYLOAD_BYTES_PER_BLOB), k, m)));
    const { files } = await collectFiles([file]);
    const [, ms] = await timed(() => prepareDataset(files, { k, m, nodes: nodeKeys(k + m), encoder }));
    return ms;
  } finally {
    await encoder.close();
  }
}

/** The bound: every data blob of the file committed by the fixed-base MSM, split over `threads` threads; milliseconds. */
async function kzgBound(data: Uint8Array, threads: number): Promise<number> {
  const count = Math.ceil(data.length / PAYLOAD_BYTES_PER_BLOB);
  const shared = new SharedArrayBuffer(count * BYTES_PER_BLOB);
  const blobs = new Uint8Array(shared);
  for (let i = 0; i < count; i++) {
    packBlob(
      data.subarray(i * PAYLOAD_BYTES_PER_BLOB, (i + 1) * PAYLOAD_BYTES_PER_BLOB),
      blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB),
    );
  }
  const pool = new Piscina({ ...workerModule(new URL('./commit-worker.ts', import.meta.url)), minThreads: threads, maxThreads: threads });
  try {
    await Promise.all(Array.from({ length: threads }, () => pool.run({ blobs: shared, from: 0, to: 1 })));
    const per = Math.ceil(count / threads);
    const [, ms] = await timed(() =>
      Promise.all(
        Array.from({ length: threads }, (_, t) => pool.run({ blobs: shared, from: t * per, to: Math.min(count, (t + 1) * per) })),
      ),
    );
    return ms;
  } finally {
    await pool.destroy();
  }
}

async function zeroGPrepare(file: string): Promise<number> {
  const [, ms] = await timed(async () => {
    const zg = await ZgFile.fromFilePath(file);
    const [tree, error] = await zg.merkleTree();
    await zg.close();
    if (error || !tree) throw error ?? new Error('0G SDK built no tree');
  });
  return ms;
}

async function greenfieldPrepare(file: string): Promise<number> {
  const [, ms] = await timed(async () => {
    const data = await readFile(file);
    const pieces = new ReedSolomon(4, 2).encode(new Uint8Array(data));
    if (pieces.length === 0) throw new Error('Greenfield RS gave no pieces');
  });
  return ms;
}

/** One blob, committed by c-kzg and by the fixed-base MSM, best of `rounds` each, interleaved. */
function commitOneBlob(rounds: number): { ckzgMs: number; bgmwMs: number } {
  const kzg = loadCKzg();
  const native = loadFrBackend('native');
  const blob = packBlob(randomBytes(PAYLOAD_BYTES_PER_BLOB));
  if (!Buffer.from(native.commitBlob(blob)).equals(Buffer.from(kzg.blobToCommitment(blob)))) throw new Error('BGMW differs from c-kzg');
  let ckzgMs = Number.POSITIVE_INFINITY;
  let bgmwMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    kzg.blobToCommitment(blob);
    ckzgMs = Math.min(ckzgMs, performance.now() - t);
    t = performance.now();
    native.commitBlob(blob);
    bgmwMs = Math.min(bgmwMs, performance.now() - t);
  }
  return { ckzgMs, bgmwMs };
}

/** A k = 16, m = 16 segment's parity commitments from its data commitments, per parity commitment. */
function parityCommitK16(rounds: number): number {
  const code = new FrCode(16, 16);
  const kzg = loadCKzg();
  const commitments = Array.from({ length: 16 }, () => kzg.blobToCommitment(packBlob(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
  code.parityCommitments(commitments);
  const started = performance.now();
  for (let r = 0; r < rounds; r++) code.parityCommitments(commitments);
  return (performance.now() - started) / rounds / 16;
}

export async function benchPrepare(quick: boolean): Promise<PrepareResult> {
  const size = 256 * 1024 * 1024;
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-prepare-'));
  try {
    const file = join(dir, 'input.bin');
    await writeRandomFile(file, size);
    const data = new Uint8Array(await readFile(file));
    const threads = availableParallelism();
    const k = 4;
    const m = 4;
    // Interleaved, best of the runs: shared machines drift.
    let boundMs = Number.POSITIVE_INFINITY;
    let sherdMs = Number.POSITIVE_INFINITY;
    for (let run = 0; run < (quick ? 1 : 2); run++) {
      boundMs = Math.min(boundMs, await kzgBound(data, threads));
      sherdMs = Math.min(sherdMs, await sherdPrepare(file, k, m));
    }
    const zgMs = await zeroGPrepare(file);
    const greenfieldMs = await greenfieldPrepare(file);
    const { ckzgMs, bgmwMs } = commitOneBlob(quick ? 10 : 30);
    const parityMs = parityCommitK16(quick ? 20 : 100);

    const codes: Array<[number, number]> = [
      [4, 4],
      [8, 4],
      [16, 16],
      [4, 12],
      [32, 8],
    ];
    const small = join(dir, 'small.bin');
    await writeRandomFile(small, (quick ? 32 : 64) * 1024 * 1024);
    const byCode: Array<Record<string, string | number>> = [];
    for (const [ck, cm] of codes) {
      const ms = await sherdPrepare(small, ck, cm);
      const bytes = (quick ? 32 : 64) * 1024 * 1024;
      byCode.push({
        code: `${ck} + ${cm}`,
        'k / (k + m)': ck / (ck + cm),
        'MB/s of input': mbps(bytes, ms),
        'MB/s of shards': mbps((bytes * (ck + cm)) / ck, ms),
      });
    }

    const rows = [
      { path: `bound: bare BGMW commit loop over the data blobs, ${threads} threads`, 'MB/s of input': mbps(size, boundMs) },
      { path: `Sherd: whole preparation, RS(${k}, ${m}) over Fr, ${threads} workers (default)`, 'MB/s of input': mbps(size, sherdMs) },
      { path: '0G TS SDK 0.3.3: file Merkle tree (keccak, 256-byte leaves), one thread', 'MB/s of input': mbps(size, zgMs) },
      { path: 'BNB Greenfield reed-solomon 1.1.4: RS(4, 2) + SHA-256, one thread', 'MB/s of input': mbps(size, greenfieldMs) },
    ];
    table(`Preparing a ${size / 1048576} MiB file for upload`, rows);
    table('One blob commitment, one thread (best of the rounds)', [
      { backend: 'c-kzg blobToKzgCommitment (Pippenger)', ms: ckzgMs },
      { backend: 'native BGMW fixed-base MSM (window 13, batch-affine buckets)', ms: bgmwMs },
      { backend: 'a k = 16 parity commitment (16-point MSM)', ms: parityMs },
    ]);
    table(`Sherd preparation by code, ${quick ? 32 : 64} MiB, ${threads} workers`, byCode);
    const result: PrepareResult = {
      prepareVsKzgBound: boundMs / sherdMs,
      prepareVs0g: zgMs / sherdMs,
      prepareVsGreenfield: greenfieldMs / sherdMs,
      bgmwVsCkzg: ckzgMs / bgmwMs,
      parityCommitMsK16: parityMs,
    };
    await writeResult('prepare', { size, threads, k, m, boundMs, sherdMs, zgMs, greenfieldMs, ckzgMs, bgmwMs, byCode, ...result });
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
