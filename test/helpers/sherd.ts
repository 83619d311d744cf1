import { execFile } from 'node:child_process';
import { SHERD_BIN } from '../../cli/devnet.ts';

export interface Run {
  code: number;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs the real `sherd` binary in its own process and collects what it printed and its exit status. */
export function sherd(args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SHERD_BIN, ...args], { timeout, maxBuffer: 64 << 20, encoding: 'buffer' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr: stderr.toString('utf8') });
    });
  });
}
