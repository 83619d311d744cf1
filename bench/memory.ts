/**
 * Peak RSS of the client uploading a 256 MiB and a 2 GiB file, then downloading the 2 GiB one,
 * each in its own process against a 6-node devnet. Streams, flat per-shard records and a
 * manifest sent once must keep upload memory flat in the dataset's size (issue 15: the two
 * uploads within 20% of each other).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomFile } from '../cli/demo.ts';
import { Devnet } from '../cli/devnet.ts';
import { table, writeResult } from './lib.ts';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

function child(args: string[]): Promise<{ datasetId?: string; bytes: number; sha256?: string; seconds: number; peakRssMiB: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSX, CHILD, ...args], { maxBuffer: 1 << 20, timeout: 4 * 3600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${args[0]} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

export interface MemoryResult {
  uploadPeakRssMiB: number;
  downloadPeakRssMiB: number;
  upload2GiBvs256MiB: number;
  bytes: number;
}

export async function benchMemory(_quick: boolean): Promise<MemoryResult> {
  const MiB = 1024 * 1024;
  const small = 256 * MiB;
  const size = 2048 * MiB;
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-memory-'));
  const devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
  try {
    const smallFile = join(dir, 'small.bin');
    await writeRandomFile(smallFile, small);
    const upSmall = await child(['upload', devnet.path, smallFile]);
    await rm(smallFile);
    const file = join(dir, 'input.bin');
    const inputSha256 = await writeRandomFile(file, size);
    const up = await child(['upload', devnet.path, file]);
    const down = await child(['download', devnet.path, up.datasetId!]);
    if (down.sha256 !== inputSha256) throw new Error('downloaded bytes differ from the input');
    const row = (operation: string, bytes: number, run: { peakRssMiB: number; seconds: number }) => ({
      operation,
      'peak RSS (MiB)': run.peakRssMiB,
      seconds: run.seconds,
      'MiB/s': bytes / MiB / run.seconds,
    });
    table('Client peak RSS, 6 nodes', [
      row('upload 256 MiB', small, upSmall),
      row('upload 2 GiB', size, up),
      row('download 2 GiB', size, down),
    ]);
    const result = {
      uploadPeakRssMiB: up.peakRssMiB,
      downloadPeakRssMiB: down.peakRssMiB,
      upload2GiBvs256MiB: up.peakRssMiB / upSmall.peakRssMiB,
      bytes: size,
    };
    await writeResult('memory', {
      ...result,
      upload256MiBPeakRssMiB: upSmall.peakRssMiB,
      upload256MiBSeconds: upSmall.seconds,
      uploadSeconds: up.seconds,
      downloadSeconds: down.seconds,
    });
    return result;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
