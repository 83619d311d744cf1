import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
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
