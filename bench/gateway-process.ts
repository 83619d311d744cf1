import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { Devnet } from '../cli/devnet.ts';

const SHERD = fileURLToPath(new URL('../bin/sherd.js', import.meta.url));

/** A `sherd gateway` process on 127.0.0.1: its URL, and its peak RSS read from /proc. */
export interface GatewayProcess {
  url: string;
  pid: number;
  peakRssMiB(): Promise<number>;
  stop(): Promise<void>;
}

/** `nodeArgs` go to node itself (e.g. `--perf-basic-prof`). */
export async function startGateway(devnet: Devnet, cache = '256MiB', nodeArgs: string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...nodeArgs, SHERD, 'gateway', '--devnet', devnet.path, '--port', '0', '--cache', cache], {
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
    pid: child.pid!,
    async peakRssMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GETs `url` (with `range` if given) and returns the bytes read and when the first byte came (ms after the request). */
export async function httpGet(url: string, range?: [number, number]): Promise<{ bytes: number; firstByteMs: number }> {
  const started = performance.now();
  const res = await request(url, { headers: range ? { range: `bytes=${range[0]}-${range[1] - 1}` } : {} });
  if (res.statusCode !== 200 && res.statusCode !== 206) throw new Error(`${url}: HTTP ${res.statusCode}: ${await res.body.text()}`);
  let bytes = 0;
  let firstByteMs = 0;
  for await (const chunk of res.body) {
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += (chunk as Buffer).length;
  }
  return { bytes, firstByteMs };
}

/** Reads `files` one after the other through the gateway; the bytes read. */
export async function readFiles(base: string, files: string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await httpGet(`${base}/${file}`)).bytes;
  return bytes;
}

/** The gateway's counters of hedged shard requests and rebuilt segments, from its /metrics. */
export async function gatewayCounters(url: string): Promise<{ hedged: number; reconstructed: number }> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { hedged: counter('sherd_gateway_hedged_requests_total'), reconstructed: counter('sherd_gateway_reconstructed_segments_total') };
}
