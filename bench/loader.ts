/**
 * Training reads, as a job does them, on a 6-node devnet with `sherd gateway` in its own process:
 * - PyTorch's DataLoader (2 workers) over SherdIterableDataset through the gateway (with a
 *   small cache, so an epoch reads from the nodes), against the same loader over the same tar
 *   shards on local disk (python/sherd_data's LocalFiles), epochs alternating in one process;
 * - the S3 facade against the plain HTTP path: the same files read whole with the AWS SDK's
 *   GetObject and with plain GETs, alternating, from a gateway whose cache holds them (the two
 *   differ only in the protocol around the same checked route).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { Devnet } from '../cli/devnet.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { makeTar } from '../test/helpers/tar-writer.ts';
import { table, timed, writeResult } from './lib.ts';

const SHERD = fileURLToPath(new URL('../bin/sherd.js', import.meta.url));
const PYTHON = '/usr/bin/python3';
const EPOCH_SCRIPT = fileURLToPath(new URL('./python/loader_epoch.py', import.meta.url));
const PYTHON_PACKAGE = fileURLToPath(new URL('../python', import.meta.url));

export interface LoaderBench {
  loaderSamplesPerS: number;
  loaderVsLocalFiles: number;
  s3VsHttp: number;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr}`));
      else resolve(String(stdout));
    });
  });
}

async function startGateway(devnet: Devnet, cache: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [SHERD, 'gateway', '--devnet', devnet.path, '--port', '0', '--cache', cache], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sherd gateway exited with ${code}: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `files` tar shards of `samples` WebDataset samples each (a 64 KiB image-like member and a label). */
async function writeShards(folder: string, files: number, samples: number): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const names: string[] = [];
  for (let f = 0; f < files; f++) {
    const members: Array<[string, Uint8Array]> = [];
    for (let s = 0; s < samples; s++) {
      const key = `s${String(f * samples + s).padStart(7, '0')}`;
      members.push([`${key}.jpg`, randomBytes(64 * 1024)], [`${key}.cls`, Buffer.from(String(s % 10))]);
    }
    const name = `train-${String(f).padStart(6, '0')}.tar`;
    await writeFile(join(folder, name), makeTar(members));
    names.push(name);
  }
  return names;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export async function benchLoader(quick: boolean): Promise<LoaderBench> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-loader-'));
  const devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
  try {
    const shards = join(dir, 'shards');
    const files = quick ? 8 : 24;
    const names = await writeShards(shards, files, 64);
    const uploaded = await upload(shards, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
    const id = toHex(uploaded.datasetId);
    const site = join(dir, 'site');
    await cp(PYTHON_PACKAGE, join(dir, 'python'), { recursive: true });
    await run(PYTHON, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--root-user-action=ignore',
      '--no-index',
      '--no-build-isolation',
      '--target',
      site,
      join(dir, 'python'),
    ]);

    const cold = await startGateway(devnet, '16MiB');
    let epochs: { samples: number; sherd: number[]; local: number[] };
    try {
      epochs = JSON.parse(await run(PYTHON, [EPOCH_SCRIPT, cold.url, id, shards, quick ? '2' : '3'], { PYTHONPATH: site }));
    } finally {
      await cold.stop();
    }

    const warm = await startGateway(devnet, '512MiB');
    const times = { http: [] as number[], s3: [] as number[] };
    let bytes = 0;
    try {
      const s3 = new S3Client({
        endpoint: warm.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      });
      const viaHttp = async () => {
        let read = 0;
        for (const name of names) {
          const res = await request(`${warm.url}/datasets/${id}/${name}`);
          for await (const chunk of res.body) read += (chunk as Buffer).length;
        }
        return read;
      };
      const viaS3 = async () => {
        let read = 0;
        for (const name of names) {
          const answer = await s3.send(new GetObjectCommand({ Bucket: 'datasets', Key: `${id}/${name}` }));
          for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) read += chunk.length;
        }
        return read;
      };
      bytes = await viaHttp(); // fills the cache
      for (let round = 0; round < (quick ? 3 : 5); round++) {
        const [httpBytes, httpMs] = await timed(viaHttp);
        const [s3Bytes, s3Ms] = await timed(viaS3);
        if (httpBytes !== bytes || s3Bytes !== bytes) throw new Error(`read ${httpBytes} and ${s3Bytes} bytes, not ${bytes}`);
        times.http.push(httpMs);
        times.s3.push(s3Ms);
      }
      s3.destroy();
    } finally {
      await warm.stop();
    }

    const result: LoaderBench = {
      loaderSamplesPerS: median(epochs.sherd),
      loaderVsLocalFiles: median(epochs.sherd) / median(epochs.local),
      s3VsHttp: median(times.http) / median(times.s3),
    };
    table(
      `PyTorch DataLoader, 2 workers, ${epochs.samples} WebDataset samples in ${files} tar shards (median of ${epochs.sherd.length} epochs)`,
      [
        { source: 'local disk (LocalFiles)', 'samples/s': median(epochs.local), 'vs local': 1 },
        { source: 'sherd gateway (16 MiB cache)', 'samples/s': median(epochs.sherd), 'vs local': result.loaderVsLocalFiles },
      ],
    );
    const mb = (ms: number) => bytes / 1e3 / ms;
    table(`The same ${names.length} files read whole through a warm gateway (median of ${times.http.length})`, [
      { path: 'plain HTTP GET', 'MB/s': mb(median(times.http)), 'vs HTTP': 1 },
      { path: 'S3 GetObject (@aws-sdk/client-s3)', 'MB/s': mb(median(times.s3)), 'vs HTTP': result.s3VsHttp },
    ]);
    await writeResult('loader', { files, samples: epochs.samples, bytes, epochs, times, ...result });
    return result;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchLoader(process.argv.includes('--quick'));
}
