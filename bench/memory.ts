/**
 * Peak RSS of the client uploading, then downloading, one large file (2 GiB in the full run),
 * each in its own process against a 6-node devnet. Streams must keep it bounded.
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

export async function benchMemory(quick: boolean): Promise<{ uploadPeakRssMiB: number; downloadPeakRssMiB: number; bytes: number }> {
  const size = quick ? 64 * 1024 * 1024 : 2 * 1024 * 1024 * 1024;
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-memory-'));
  const devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
  try {
    const file = join(dir, 'input.bin');
    const inputSha256 = await writeRandomFile(file, size);
    const up = await child(['upload', devnet.path, file]);
    const down = await child(['download', devnet.path, up.datasetId!]);
    if (down.sha256 !== inputSha256) throw new Error('downloaded bytes differ from the input');
    table(`Client peak RSS, ${(size / 1048576).toFixed(0)} MiB file, 6 nodes`, [
      { operation: 'upload', 'peak RSS (MiB)': up.peakRssMiB, seconds: up.seconds, 'MiB/s': size / 1048576 / up.seconds },
      { operation: 'download', 'peak RSS (MiB)': down.peakRssMiB, seconds: down.seconds, 'MiB/s': size / 1048576 / down.seconds },
    ]);
    const result = { uploadPeakRssMiB: up.peakRssMiB, downloadPeakRssMiB: down.peakRssMiB, bytes: size };
    await writeResult('memory', { ...result, uploadSeconds: up.seconds, downloadSeconds: down.seconds });
    return result;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
