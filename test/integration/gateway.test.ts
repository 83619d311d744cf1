import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../../client/upload.ts';
import { Devnet } from '../../cli/devnet.ts';
import type { GatewayRegistry } from '../../gateway/datasets.ts';
import { toHex } from '../../proofs/bytes.ts';
import { FaultyProxy } from '../helpers/faulty-proxy.ts';
import { listeningGateway as listening } from '../helpers/gateway.ts';

/** The gateway on a devnet of real node processes, read with curl (a client no one here wrote) and fetch. */
let dir: string;
let devnet: Devnet;
let gateway: FastifyInstance;
let base: string;
let id: string;
const files: Record<string, Buffer> = {};

interface Curl {
  code: number;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** curl, with its response headers and body apart (-D to a file would race; -i and split on the blank line). */
function curl(args: string[]): Promise<Curl> {
  return new Promise((done) => {
    execFile('curl', ['-s', '-i', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (error, stdout) => {
      const split = stdout.indexOf('\r\n\r\n');
      const head = stdout.subarray(0, split).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        head.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      done({ code: error ? Number(error.code) : 0, status: Number(head[0]!.split(' ')[1]), headers, body: stdout.subarray(split + 4) });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-gateway-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  const tree = join(dir, 'shards');
  await mkdir(join(tree, 'val'), { recursive: true });
  for (const [name, size] of [
    ['train-000000.tar', 700_000],
    ['train-000001.tar', 300_001],
    ['val/val-000000.jsonl', 12_345],
    // Ten segments at k = 2: a read of it starts eight at once, so every node gets a batch request.
    ['big.bin', 2_500_000],
  ] as const) {
    files[name] = randomBytes(size);
    await writeFile(join(tree, name), files[name]);
  }
  const result = await upload(tree, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
  id = toHex(result.datasetId);
  [gateway, base] = await listening(devnet.registry);
}, 120_000);

/** One metric's samples from Prometheus text, by their label sets. */
function samplesOf(metrics: string, name: string): Array<{ labels: string; value: number }> {
  return [...metrics.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => ({
    labels: m[1] ?? '',
    value: Number(m[2]),
  }));
}

afterAll(async () => {
  await gateway?.close();
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('the gateway, with a standard-library Python reader (examples/python)', () => {
  it('streams WebDataset-style tar shards member by member, every member as in the source', async () => {
    // Two shards of samples (an image-like blob and a label each), tarred by the system's tar.
    const root = join(dir, 'wds');
    const expected: Record<string, { bytes: number; sha256: string }> = {};
    for (const shard of ['train-000000', 'train-000001']) {
      const members = join(dir, `members-${shard}`);
      await mkdir(members, { recursive: true });
      const names: string[] = [];
      for (let sample = 0; sample < 5; sample++) {
        for (const [extension, size] of [
          ['jpg', 40_000 + sample * 777],
          ['cls', 3],
        ] as const) {
          const name = `sample${String(sample).padStart(4, '0')}.${extension}`;
          const bytes = randomBytes(size);
          await writeFile(join(members, name), bytes);
          names.push(name);
          expected[`${shard}.tar/${name}`] = { bytes: size, sha256: createHash('sha256').update(bytes).digest('hex') };
        }
      }
      await mkdir(root, { recursive: true });
      expect((await run('tar', ['-cf', join(root, `${shard}.tar`), ...names], members)).code).toBe(0);
    }
    const result = await upload(root, { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
    const reader = join(import.meta.dirname, '../../examples/python/read_tar_shards.py');
    const python = await run('/usr/bin/python3', [reader, `${base}/datasets/${toHex(result.datasetId)}/`, '--json']);
    expect([python.code, python.stderr]).toEqual([0, '']);
    expect(JSON.parse(python.stdout)).toEqual(expected);
  }, 120_000);
});

describe('the gateway, with fsspec (Debian python3-fsspec + python3-aiohttp)', () => {
  it('lists, globs, seeks and reads, and cat_file reads ranges, byte for byte', async () => {
    const script = join(import.meta.dirname, 'python/fsspec_read.py');
    const base_ = `${base}/datasets/${id}/`;
    const python = await run('/usr/bin/python3', [script, base_]);
    expect([python.code, python.stderr]).toEqual([0, '']);
    const seen = JSON.parse(python.stdout) as {
      ls: string[];
      sizes: Record<string, number>;
      glob: string[];
      reads: Array<{ url: string; start: number; length?: number; end?: number; bytes: string }>;
    };
    const names = Object.keys(files).sort();
    expect(seen.ls).toEqual(names.map((name) => base_ + name));
    expect(seen.sizes).toEqual(Object.fromEntries(names.map((name) => [base_ + name, files[name]!.length])));
    expect(seen.glob).toEqual(['train-000000.tar', 'train-000001.tar'].map((name) => base_ + name));
    expect(seen.reads.length).toBe(18);
    for (const read of seen.reads) {
      const source = files[read.url.slice(base_.length)]!;
      // A read past the end returns what there is, as a file would.
      const expected = source.subarray(read.start, read.end ?? read.start + read.length!);
      expect(expected.length).toBeGreaterThan(0);
      expect(Buffer.from(read.bytes, 'hex').equals(expected)).toBe(true);
    }
  }, 60_000);
});

describe('the gateway, with curl', () => {
  const url = (path: string) => `${base}/datasets/${id}/${path}`;

  it('answers HEAD with the exact length, ranges, a strong ETag, the type and immutable caching', async () => {
    const head = await curl(['-I', url('train-000000.tar')]);
    expect(head.status).toBe(200);
    expect(head.headers).toMatchObject({
      'content-length': '700000',
      'accept-ranges': 'bytes',
      'content-type': 'application/x-tar',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect(head.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(new Date(head.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });

  it('serves whole files, a range, a suffix range and an open range, byte for byte', async () => {
    for (const [name, bytes] of Object.entries(files)) expect((await curl([url(name)])).body.equals(bytes)).toBe(true);
    const range = await curl(['-r', '1000-200999', url('train-000000.tar')]);
    expect([range.status, range.headers['content-range'], range.headers['content-length']]).toEqual([
      206,
      'bytes 1000-200999/700000',
      '200000',
    ]);
    expect(range.body.equals(files['train-000000.tar']!.subarray(1000, 201000))).toBe(true);
    const suffix = await curl(['-H', 'Range: bytes=-100', url('train-000001.tar')]);
    expect([suffix.status, suffix.headers['content-range']]).toEqual([206, 'bytes 299901-300000/300001']);
    expect(suffix.body.equals(files['train-000001.tar']!.subarray(-100))).toBe(true);
    const open = await curl(['-H', 'Range: bytes=12000-', url('val/val-000000.jsonl')]);
    expect(open.body.equals(files['val/val-000000.jsonl']!.subarray(12000))).toBe(true);
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const past = await curl(['-H', 'Range: bytes=700000-', url('train-000000.tar')]);
    expect([past.status, past.headers['content-range']]).toEqual([416, 'bytes */700000']);
  });

  it('honours If-None-Match (304), If-Match (412) and If-Range', async () => {
    const { etag } = (await curl(['-I', url('train-000001.tar')])).headers;
    expect((await curl(['-H', `If-None-Match: ${etag}`, url('train-000001.tar')])).status).toBe(304);
    expect((await curl(['-H', 'If-Match: "other"', url('train-000001.tar')])).status).toBe(412);
    const stale = await curl(['-H', 'If-Range: "other"', '-H', 'Range: bytes=0-9', url('train-000001.tar')]);
    expect([stale.status, stale.body.length]).toEqual([200, 300_001]);
    const fresh = await curl(['-H', `If-Range: ${etag}`, '-H', 'Range: bytes=0-9', url('train-000001.tar')]);
    expect([fresh.status, fresh.body.length]).toEqual([206, 10]);
  });

  it('lists the files as HTML links and as JSON', async () => {
    const html = (await curl([`${base}/datasets/${id}/`])).body.toString();
    for (const name of Object.keys(files)) expect(html).toContain(`<a href="${name}">`);
    const json = JSON.parse((await curl(['-H', 'Accept: application/json', `${base}/datasets/${id}/`])).body.toString()) as {
      files: Array<{ path: string; sha256: string }>;
    };
    expect(json.files.map((f) => f.path)).toEqual(Object.keys(files).sort());
    expect(json.files[0]!.sha256).toBe(`0x${createHash('sha256').update(files[json.files[0]!.path]!).digest('hex')}`);
  });

  it('answers bad requests with 4xx and a JSON error', async () => {
    const cases: Array<[string, number, string]> = [
      [`${base}/datasets/0x12/x`, 400, 'bad_dataset_id'],
      [`${base}/datasets/0x${'00'.repeat(32)}/x`, 404, 'dataset_not_registered'],
      [url('nope.tar'), 404, 'no_such_file'],
      [url('val/../train-000000.tar'), 404, 'no_such_file'],
      [url('train-%zz.tar'), 400, 'bad_request'],
      [`${base}/nope`, 404, 'not_found'],
    ];
    for (const [target, status, error] of cases) {
      const answer = await curl(['--path-as-is', target]);
      expect([target, answer.status, (JSON.parse(answer.body.toString()) as { error: string }).error]).toEqual([target, status, error]);
    }
  });

  it('reads right with m nodes killed, and says so in /metrics', async () => {
    // A second gateway with an empty cache, so every segment comes from the nodes that are left.
    const [cold, coldBase] = await listening(devnet.registry);
    await Promise.all([0, 2].map((i) => devnet.stopNode(i, { kill: true })));
    try {
      const again = await curl(['-H', 'Range: bytes=5-300000', `${coldBase}/datasets/${id}/train-000001.tar`]);
      expect(again.body.equals(files['train-000001.tar']!.subarray(5, 300001))).toBe(true);
      const metrics = (await curl([`${coldBase}/metrics`])).body.toString();
      expect(samplesOf(metrics, 'sherd_gateway_reconstructed_segments_total')[0]!.value).toBeGreaterThan(0);
      const unreachable = samplesOf(metrics, 'sherd_gateway_node_failures_total').filter(
        (sample) => sample.labels.includes('reason="unreachable"') && sample.value > 0,
      );
      const killed = [0, 2].map((i) => devnet.endpoints[i]!.url);
      expect(unreachable.map((sample) => /url="([^"]+)"/.exec(sample.labels)![1]).sort()).toEqual(killed.sort());
    } finally {
      for (const i of [0, 2]) await devnet.startNode(i);
      await cold.close();
    }
    const metrics = (await curl([`${base}/metrics`])).body.toString();
    expect(Number(/^sherd_gateway_bytes_served_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(1_000_000);
    expect(Number(/^sherd_gateway_cache_hits_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });
});

describe('the gateway, with one node slow and one lying', () => {
  it('serves the right bytes around both, hedges the slow one, and counts both in /metrics', async () => {
    const [slowIndex, lyingIndex] = [1, 3];
    const slow = await FaultyProxy.start(devnet.endpoints[slowIndex]!.url);
    const lying = await FaultyProxy.start(devnet.endpoints[lyingIndex]!.url);
    // The chain is the real one; only two nodes' endpoints lead through the proxies, as a slow disk or a lying operator would.
    const registry = devnet.registry;
    const proxied = new Map([
      [devnet.endpoints[slowIndex]!.url, slow.url],
      [devnet.endpoints[lyingIndex]!.url, lying.url],
    ]);
    const rerouted: GatewayRegistry = {
      dataset: (datasetId) => registry.dataset(datasetId),
      nodeSetMembers: (nodeSet) => registry.nodeSetMembers(nodeSet),
      datasetMembers: (datasetId) => registry.datasetMembers(datasetId),
      activeNodeIds: () => registry.activeNodeIds(),
      certifiedAt: (datasetId) => registry.certifiedAt(datasetId),
      certifiedDatasets: () => registry.certifiedDatasets(),
      node: async (nodeId) => {
        const node = await registry.node(nodeId);
        return { ...node, endpoint: proxied.get(node.endpoint) ?? node.endpoint };
      },
    };
    const gateways: FastifyInstance[] = [];
    const fresh = async () => {
      const [app, url] = await listening(rerouted);
      gateways.push(app);
      return url;
    };
    const metricsOf = async (url: string) => {
      const metrics = (await curl([`${url}/metrics`])).body.toString();
      return (name: string, node: string, reason?: string) =>
        samplesOf(metrics, name)
          .filter((s) => s.labels.includes(`url="${node}"`) && (!reason || s.labels.includes(`reason="${reason}"`)))
          .reduce((sum, s) => sum + s.value, 0);
    };
    try {
      // One shard a request: ranged reads within one segment, then whole files, faults on from the start.
      slow.fault = { kind: 'slow', delayMs: 5000 };
      lying.fault = { kind: 'corrupt' };
      const single = await fresh();
      const source = files['train-000000.tar']!;
      const latencies: number[] = [];
      for (let read = 0; read < 24; read++) {
        const start = (read * 27_449) % (source.length - 65_536);
        const started = performance.now();
        const answer = await curl(['-H', `Range: bytes=${start}-${start + 65_535}`, `${single}/datasets/${id}/train-000000.tar`]);
        latencies.push(performance.now() - started);
        expect([answer.status, answer.body.equals(source.subarray(start, start + 65_536))]).toEqual([206, true]);
      }
      for (const [name, bytes] of Object.entries(files)) {
        expect((await curl([`${single}/datasets/${id}/${name}`])).body.equals(bytes)).toBe(true);
      }
      const p99 = [...latencies].sort((a, b) => a - b)[Math.ceil(0.99 * latencies.length) - 1]!;
      process.stdout.write(`ranged reads with a node 5 s slow and one lying: p99 ${p99.toFixed(0)} ms over ${latencies.length}\n`);
      // The slow node's answers take 5 s; no read waited for one.
      expect(Math.max(...latencies)).toBeLessThan(5000);
      expect([slow.shardRequests > 0, lying.shardRequests > 0]).toEqual([true, true]);
      const of = await metricsOf(single);
      expect(of('sherd_gateway_node_failures_total', lying.url, 'corrupt')).toBeGreaterThan(0);
      expect(of('sherd_gateway_node_shards_total', lying.url)).toBe(0);
      expect(of('sherd_gateway_node_hedged_total', slow.url)).toBeGreaterThan(0);
      // Healthy nodes delivered and were not counted as failing.
      for (const i of [0, 2]) {
        expect(of('sherd_gateway_node_shards_total', devnet.endpoints[i]!.url)).toBeGreaterThan(0);
        expect(of('sherd_gateway_node_failures_total', devnet.endpoints[i]!.url)).toBe(0);
      }

      // Batches: a new gateway opens the dataset while every node is well (none ranked last yet), then the
      // faults begin and a read of ten segments asks every node for several shards in one request.
      slow.fault = { kind: 'none' };
      lying.fault = { kind: 'none' };
      const batched = await fresh();
      expect((await curl(['-I', `${batched}/datasets/${id}/big.bin`])).status).toBe(200);
      const [slowBatches, lyingBatches] = [slow.batchRequests, lying.batchRequests];
      slow.fault = { kind: 'slow', delayMs: 5000 };
      lying.fault = { kind: 'corrupt' };
      const started = performance.now();
      expect((await curl([`${batched}/datasets/${id}/big.bin`])).body.equals(files['big.bin']!)).toBe(true);
      expect(performance.now() - started).toBeLessThan(5000);
      expect([slow.batchRequests > slowBatches, lying.batchRequests > lyingBatches]).toEqual([true, true]);
      const ofBatched = await metricsOf(batched);
      expect(ofBatched('sherd_gateway_node_failures_total', lying.url, 'corrupt')).toBeGreaterThan(0);
      expect(ofBatched('sherd_gateway_node_hedged_total', slow.url)).toBeGreaterThan(0);
      expect(
        samplesOf((await curl([`${batched}/metrics`])).body.toString(), 'sherd_gateway_hedged_requests_total')[0]!.value,
      ).toBeGreaterThan(0);
    } finally {
      for (const app of gateways) await app.close();
      await Promise.all([slow.close(), lying.close()]);
    }
  }, 120_000);
});
