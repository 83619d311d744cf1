/**
 * Training reads, as a job does them, on a 6-node devnet with `sherd gateway` in its own process:
 * - PyTorch's DataLoader (2 workers) over SherdIterableDataset through the gateway (with a
 *   small cache, so an epoch reads from the nodes), against the same loader over the same tar
 *   shards on local disk (python/sherd_data's LocalFiles), epochs alternating in one process,
 *   each with the machine's busy cores over it (/proc/stat: loader, gateway and nodes together)
 *   and so the CPU a sample costs. The loader is measured again through a gateway whose cache
 *   holds the dataset (a job's later epochs over data that fits), for context;
 * - the S3 facade against the plain HTTP path, from a gateway whose cache holds the files: the
 *   same files read whole by the same HTTP client (undici) as an S3 client sends them (signed,
 *   with x-amz- headers, so the gateway answers as S3) and as plain GETs, alternating. That is
 *   the facade's own cost. The AWS SDK's GetObject is timed too: its HTTP stack is slower than
 *   undici's, which is the client's cost, not the facade's.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { Devnet } from '../cli/devnet.ts';
import { upload } from '../client/upload.ts';
import { toHex } from '../proofs/bytes.ts';
import { installSherdData, SYSTEM_PYTHON as PYTHON } from '../test/helpers/python.ts';
import { makeTar } from '../test/helpers/tar-writer.ts';
import { startGateway } from './gateway-process.ts';
import { table, timed, writeResult } from './lib.ts';

const EPOCH_SCRIPT = fileURLToPath(new URL('./python/loader_epoch.py', import.meta.url));

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
    const site = await installSherdData(dir);

    const cold = await startGateway(devnet, '16MiB');
    /** Samples/s of each epoch, and the machine's busy cores over it (every process: loader, gateway, nodes). */
    let epochs: { samples: number; sherd: number[]; local: number[]; busy: { sherd: number[]; local: number[] } };
    try {
      epochs = JSON.parse(await run(PYTHON, [EPOCH_SCRIPT, cold.url, id, shards, quick ? '3' : '5'], { PYTHONPATH: site }));
    } finally {
      await cold.stop();
    }

    const warm = await startGateway(devnet, '512MiB');
    const times = { http: [] as number[], s3: [] as number[], sdk: [] as number[] };
    let warmEpochs: typeof epochs;
    let bytes = 0;
    try {
      const s3 = new S3Client({
        endpoint: warm.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      });
      const readAll = async (headers: Record<string, string>) => {
        let read = 0;
        for (const name of names) {
          const res = await request(`${warm.url}/datasets/${id}/${name}`, { headers });
          if (res.statusCode !== 200) throw new Error(`GET ${name}: HTTP ${res.statusCode}`);
          for await (const chunk of res.body) read += (chunk as Buffer).length;
        }
        return read;
      };
      const viaHttp = () => readAll({});
      // What an S3 client sends with a GetObject (the gateway checks no signature, so any will do).
      const s3Headers = {
        authorization: 'AWS4-HMAC-SHA256 Credential=bench/20261201/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
        'x-amz-date': '20261201T000000Z',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      };
      const viaS3 = () => readAll(s3Headers);
      const viaSdk = async () => {
        let read = 0;
        for (const name of names) {
          const answer = await s3.send(new GetObjectCommand({ Bucket: 'datasets', Key: `${id}/${name}` }));
          for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) read += chunk.length;
        }
        return read;
      };
      bytes = await viaHttp(); // fills the cache
      const paths = [
        ['http', viaHttp],
        ['s3', viaS3],
        ['sdk', viaSdk],
      ] as const;
      // The order turns each round, so that no path always runs first (the devnet's own work comes and goes).
      // A round takes ~0.2 s and single reads spread ±25%: the medians need a few dozen to tell 10% apart.
      for (let round = 0; round < (quick ? 24 : 48); round++) {
        for (let j = 0; j < paths.length; j++) {
          const [path, read] = paths[(round + j) % paths.length]!;
          const [got, ms] = await timed(read);
          if (got !== bytes) throw new Error(`${path} read ${got} bytes, not ${bytes}`);
          times[path].push(ms);
        }
      }
      warmEpochs = JSON.parse(await run(PYTHON, [EPOCH_SCRIPT, warm.url, id, shards, '2'], { PYTHONPATH: site }));
      s3.destroy();
    } finally {
      await warm.stop();
    }

    const result: LoaderBench = {
      loaderSamplesPerS: median(epochs.sherd),
      loaderVsLocalFiles: median(epochs.sherd) / median(epochs.local),
      s3VsHttp: median(times.http) / median(times.s3),
    };
    // CPU per sample shows what bounds the ratio: the loader alone (local files) against loader, gateway and nodes.
    const cpu = (of: typeof epochs, source: 'sherd' | 'local') => ({
      'cores busy': median(of.busy[source]),
      'CPU ms per sample': (median(of.busy[source]) / median(of[source])) * 1000,
    });
    table(
      `PyTorch DataLoader, 2 workers, ${epochs.samples} WebDataset samples in ${files} tar shards (median of ${epochs.sherd.length} epochs)`,
      [
        { source: 'local disk (LocalFiles)', 'samples/s': median(epochs.local), 'vs local': 1, ...cpu(epochs, 'local') },
        {
          source: 'sherd gateway (16 MiB cache): from the nodes',
          'samples/s': median(epochs.sherd),
          'vs local': result.loaderVsLocalFiles,
          ...cpu(epochs, 'sherd'),
        },
        {
          source: 'sherd gateway, its cache holding the dataset',
          'samples/s': median(warmEpochs.sherd),
          'vs local': median(warmEpochs.sherd) / median(warmEpochs.local),
          ...cpu(warmEpochs, 'sherd'),
        },
      ],
    );
    const mb = (ms: number) => bytes / 1e3 / ms;
    table(`The same ${names.length} files read whole through a warm gateway (median of ${times.http.length})`, [
      { path: 'plain HTTP GET', 'MB/s': mb(median(times.http)), 'vs HTTP': 1 },
      { path: 'S3 GetObject as an S3 client sends it (same client)', 'MB/s': mb(median(times.s3)), 'vs HTTP': result.s3VsHttp },
      { path: 'S3 GetObject with @aws-sdk/client-s3', 'MB/s': mb(median(times.sdk)), 'vs HTTP': median(times.http) / median(times.sdk) },
    ]);
    await writeResult('loader', { files, samples: epochs.samples, bytes, epochs, warmEpochs, times, ...result });
    return result;
  } finally {
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchLoader(process.argv.includes('--quick'));
}
