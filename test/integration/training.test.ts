import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Devnet } from '../../cli/devnet.ts';
import { openDataset } from '../../client/dataset.ts';
import { upload } from '../../client/upload.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { listeningGateway } from '../helpers/gateway.ts';
import { installSherdData, SYSTEM_PYTHON as PYTHON } from '../helpers/python.ts';
import { makeTar } from '../helpers/tar-writer.ts';

/**
 * PyTorch's DataLoader (Debian's python3-torch, under /usr/bin/python3) over
 * SherdIterableDataset from python/sherd_data, installed with pip, reading WebDataset tar
 * shards through a gateway on a devnet of real node processes.
 */
const LOOP = fileURLToPath(new URL('./python/torch_loader.py', import.meta.url));

let dir: string;
let site: string;
let devnet: Devnet;
let gateway: FastifyInstance;
let base: string;
let id: string;
/** Every sample of the dataset: key → member extension → SHA-256. */
const expected = new Map<string, Record<string, string>>();

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 240_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-training-'));
  site = await installSherdData(dir);
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  const shards = join(dir, 'shards');
  await mkdir(shards);
  // 7 shards of 4 to 9 samples, an image-like member (100-200 KB) and a label each: about 6 MB.
  const counts = [5, 6, 7, 8, 9, 4, 6];
  for (const [f, count] of counts.entries()) {
    const members: Array<[string, Uint8Array]> = [];
    for (let s = 0; s < count; s++) {
      const key = `shard${f}/sample${String(s).padStart(4, '0')}`;
      const jpg = randomBytes(100_000 + ((s * 7919) % 100_000));
      const cls = Buffer.from(String((f * 31 + s) % 10));
      members.push([`${key}.jpg`, jpg], [`${key}.cls`, cls]);
      expected.set(key, { jpg: sha256(jpg), cls: sha256(cls) });
    }
    await writeFile(join(shards, `train-${String(f).padStart(6, '0')}.tar`), makeTar(members));
  }
  await writeFile(join(shards, 'README.txt'), 'not a shard: the pattern leaves it out');
  const result = await upload(shards, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
  id = toHex(result.datasetId);
  // A small cache, so that the reads of an epoch go to the nodes.
  [gateway, base] = await listeningGateway(devnet.registry, 2 * 1024 * 1024);
}, 240_000);

afterAll(async () => {
  await gateway?.close();
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface BatchLine {
  epoch: number;
  samples?: Array<[string, Record<string, string>]>;
  state?: Record<string, unknown>;
  end?: boolean;
}

/**
 * The training loop as a process: its lines as they come, and a way to kill it (SIGKILL) once it
 * has printed `killAfter` batches. It runs in its own process group and the whole group is
 * killed, DataLoader workers too, as a job scheduler kills a job: killing the main process alone
 * left its workers behind.
 */
function loop(
  args: string[],
  env: Record<string, string>,
  killAfter?: number,
  onBatch?: (line: BatchLine) => void,
): { lines: Promise<BatchLine[]>; child: ChildProcess } {
  const child = spawn(PYTHON, [LOOP, '--gateway', base, '--dataset', id, ...args], {
    env: { ...process.env, PYTHONPATH: site, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: BatchLine[] = [];
  let batches = 0;
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as BatchLine;
    lines.push(line);
    if (line.samples) {
      batches++;
      onBatch?.(line);
      if (killAfter !== undefined && batches === killAfter) process.kill(-child.pid!, 'SIGKILL');
    }
  });
  return {
    child,
    lines: new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => {
        if (code === 0 || (killAfter !== undefined && signal === 'SIGKILL')) resolve(lines);
        else reject(new Error(`the training loop exited with ${code ?? signal}: ${stderr}`));
      });
    }),
  };
}

/** The samples of `lines` by epoch, checked against the source byte for byte (by SHA-256). */
function byEpoch(lines: BatchLine[]): Map<number, string[]> {
  const epochs = new Map<number, string[]>();
  for (const line of lines) {
    if (!line.samples) continue;
    const keys = epochs.get(line.epoch) ?? [];
    for (const [key, members] of line.samples) {
      expect([key, members]).toEqual([key, expected.get(key)]);
      keys.push(key);
    }
    epochs.set(line.epoch, keys);
  }
  return epochs;
}

const allKeys = () => [...expected.keys()].sort();

describe('PyTorch DataLoader over SherdIterableDataset (2 workers a rank)', () => {
  it('gives every sample once per epoch across ranks, byte-equal, in an order that changes with the epoch and repeats with the seed', async () => {
    const orders: Record<string, string[]> = {};
    for (const worldSize of [1, 2]) {
      const ranks = await Promise.all(
        Array.from({ length: worldSize }, (_, rank) => loop(['--seed', '11'], { RANK: String(rank), WORLD_SIZE: String(worldSize) }).lines),
      );
      for (const epoch of [0, 1]) {
        const perRank = ranks.map((lines) => byEpoch(lines).get(epoch) ?? []);
        expect(perRank.flat().sort()).toEqual(allKeys());
        perRank.forEach((keys, rank) => {
          orders[`${worldSize}:${rank}:${epoch}`] = keys;
        });
      }
      expect(ranks.every((lines) => lines.filter((line) => line.end).length === 2)).toBe(true);
    }
    // Ranks of a world of 2 share nothing; the order changes between epochs; the seed repeats it.
    expect(orders['2:0:0']!.filter((key) => orders['2:1:0']!.includes(key))).toEqual([]);
    expect(orders['1:0:1']).not.toEqual(orders['1:0:0']);
    const again = byEpoch(await loop(['--seed', '11', '--epochs', '0,0'], { RANK: '0', WORLD_SIZE: '1' }).lines);
    expect(again.get(0)).toEqual(orders['1:0:0']);
    const otherSeed = byEpoch(await loop(['--seed', '12', '--epochs', '0,0'], { RANK: '0', WORLD_SIZE: '1' }).lines);
    expect(otherSeed.get(0)).not.toEqual(orders['1:0:0']);
  }, 240_000);

  it('resumes a killed run from its last state with exactly the rest, twice, and across an epoch boundary', async () => {
    for (const worldSize of [1, 2]) {
      for (let rank = 0; rank < worldSize; rank++) {
        const env = { RANK: String(rank), WORLD_SIZE: String(worldSize) };
        const wholeLines = await loop(['--seed', '5'], env).lines;
        const whole = byEpoch(wholeLines);
        const batchesInEpoch0 = wholeLines.filter((line) => line.samples && line.epoch === 0).length;
        // Each pattern is killed twice and then run to its end: mid-epoch and then in epoch 1 (the second run
        // crosses the boundary), or one batch before the end of epoch 0 (after a worker has run out) and then
        // two batches later, across the boundary.
        for (const kills of [
          [Math.max(1, batchesInEpoch0 >> 1), batchesInEpoch0],
          [batchesInEpoch0 - 1, 2],
        ]) {
          const seen: BatchLine[] = [];
          let state: string | undefined;
          for (const killAfter of [...kills, undefined]) {
            const args = ['--seed', '5', ...(state ? ['--state', state] : [])];
            const batches = (await loop(args, env, killAfter).lines).filter((line) => line.samples);
            seen.push(...batches);
            if (killAfter !== undefined) {
              // What the loop saved last: the state printed with the last batch it got.
              state = join(dir, `state-${worldSize}-${rank}-${kills.join('-')}-${killAfter}.json`);
              await writeFile(state, JSON.stringify(batches.at(-1)!.state));
            }
          }
          const resumed = byEpoch(seen);
          expect([kills, resumed.get(0), resumed.get(1)]).toEqual([kills, whole.get(0), whole.get(1)]);
        }
      }
    }
  }, 360_000);

  it('completes an epoch with equal bytes when m nodes are killed in the middle of it', async () => {
    const down: number[] = [];
    const run = loop(['--seed', '3', '--epochs', '0,0'], { RANK: '0', WORLD_SIZE: '1' }, undefined, () => {
      if (down.length === 0) {
        down.push(0, 1); // m = 2 of 4
        for (const i of down) void devnet.stopNode(i, { kill: true });
      }
    });
    try {
      const epoch = byEpoch(await run.lines).get(0)!;
      expect([...epoch].sort()).toEqual(allKeys());
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(Number(/^sherd_gateway_reconstructed_segments_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(0);
    } finally {
      await Promise.all(down.map((i) => devnet.startNode(i)));
    }
  }, 240_000);

  it('refuses to resume with another worker count, and reads as a plain iterable where torch cannot be imported', async () => {
    const lines = await loop(['--seed', '5', '--epochs', '0,0'], { RANK: '0', WORLD_SIZE: '1' }, 2).lines;
    const state = join(dir, 'state-workers.json');
    await writeFile(state, JSON.stringify(lines.filter((line) => line.samples).at(-1)!.state));
    await expect(loop(['--seed', '5', '--state', state, '--workers', '3'], { RANK: '0', WORLD_SIZE: '1' }).lines).rejects.toThrow(
      'ValueError: the state was saved with 2 DataLoader workers, this loader has 3: resume with 2 (0 and 1 are the same)',
    );
    const script = [
      'import sys, json',
      "sys.modules['torch'] = None  # as if torch were not installed",
      'from sherd_data import SherdIterableDataset',
      `dataset = SherdIterableDataset(${JSON.stringify(base)}, ${JSON.stringify(id)}, pattern="*.tar")`,
      'print(json.dumps([type(dataset).__mro__[1].__name__, sorted(s["__key__"] for s in dataset)]))',
    ].join('\n');
    const plain = await run(PYTHON, ['-c', script], { PYTHONPATH: site });
    expect({ code: plain.code, stderr: plain.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(plain.stdout)).toEqual(['object', allKeys()]);
  }, 120_000);
});

describe('the TypeScript samples() over the same dataset, read from the nodes', () => {
  it('splits an epoch across 2 ranks × 2 workers with every sample once, byte-equal, and resumes mid-file', async () => {
    const dataset = await openDataset(fromHex(id, 32), { registry: devnet.registry, nodes: devnet.endpoints });
    try {
      const seen: string[] = [];
      for (const rank of [0, 1]) {
        for (const workerId of [0, 1]) {
          for await (const sample of dataset.samples({
            files: '*.tar',
            shuffleSeed: 9,
            epoch: 3,
            rank,
            worldSize: 2,
            workerId,
            numWorkers: 2,
          })) {
            expect(sample.kind).toBe('tar');
            if (sample.kind !== 'tar') continue;
            const members = Object.fromEntries(Object.entries(sample.members).map(([extension, bytes]) => [extension, sha256(bytes)]));
            expect([sample.key, members]).toEqual([sample.key, expected.get(sample.key)]);
            seen.push(sample.key);
          }
        }
      }
      expect(seen.sort()).toEqual(allKeys());
      const whole = [];
      for await (const sample of dataset.samples({ files: '*.tar', shuffleSeed: 9 })) whole.push(sample);
      const rest = [];
      for await (const sample of dataset.samples({ files: '*.tar', shuffleSeed: 9, resumeFrom: whole[20]!.checkpoint }))
        rest.push(sample.key);
      expect(rest).toEqual(whole.slice(21).map((sample) => sample.key));
    } finally {
      await dataset.close();
    }
  }, 120_000);
});
