import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, integer, parse, positionals, print, untilSignal } from '../args.ts';
import { Devnet, nodePidFile, SHERD_BIN } from '../devnet.ts';
import { DEFAULT_DEVNET_DIR, readDevnetFile, type DevnetFile } from '../devnet-file.ts';

export const DEVNET_USAGE = 'sherd devnet [--nodes 8] [--dir D] [--detach] [--json] | sherd devnet stop [--dir D]';

/** The devnet process's id, beside devnet.json while it runs. */
const pidFile = (dir: string) => join(dir, 'devnet.pid');

/**
 * Whether `pid` runs and is one of ours: a pid file can outlive its process (a reboot, a
 * SIGKILL), and the number may since belong to something else. Where /proc exists, the
 * process's command line must name the sherd binary; a process we may not signal is not ours.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(SHERD_BIN);
  } catch {
    return true; // no /proc: trust the pid file
  }
}

async function readPid(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = text === undefined ? Number.NaN : Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Sends SIGTERM, waits up to `graceMs` for the process to go, then SIGKILL; resolves once it is gone. */
async function stopProcess(pid: number, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (!alive(pid)) return;
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
}

/** A devnet already running in `dir` is an error that says how to stop it; a stale pid file is removed. */
async function refuseIfRunning(dir: string): Promise<void> {
  const pid = await readPid(pidFile(dir));
  if (pid !== undefined && alive(pid)) {
    throw new CliError(
      'devnet_running',
      `a devnet is already running in ${dir} (pid ${pid}); stop it with \`sherd devnet stop --dir ${dir}\``,
    );
  }
  await rm(pidFile(dir), { force: true });
}

function describe(file: DevnetFile, path: string, ending: string): string {
  return [
    `devnet of ${file.nodes.length} nodes is up; devnet file ${path}`,
    ...file.nodes.map((n, i) => `  node ${i}  ${n.url}`),
    ending,
  ].join('\n');
}

/** `sherd devnet stop`: stops the devnet process and every node it started, and waits until they are gone. */
async function stopDevnet(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { dir: { type: 'string' }, json: { type: 'boolean' } }, 'devnet stop');
  positionals(given, 0, 'sherd devnet stop [--dir D]');
  const dir = resolve(values.dir ?? DEFAULT_DEVNET_DIR);
  const pid = await readPid(pidFile(dir));
  const nodeDirs = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^node-\d+$/.test(name));
  const nodePids = (await Promise.all(nodeDirs.map((name) => readPid(nodePidFile({ logFile: join(dir, name, 'node.log') }))))).filter(
    (p): p is number => p !== undefined && alive(p),
  );
  if ((pid === undefined || !alive(pid)) && nodePids.length === 0) {
    await rm(pidFile(dir), { force: true });
    throw new CliError('devnet_not_running', `no devnet is running in ${dir}`);
  }
  // The devnet stops its own nodes on SIGTERM; nodes left behind by a devnet that died are stopped here.
  if (pid !== undefined) await stopProcess(pid, 30_000);
  await Promise.all(nodePids.map((p) => stopProcess(p, 10_000)));
  await rm(pidFile(dir), { force: true });
  print(values.json === true, { stopped: true, dir, pid: pid ?? null, nodes: nodePids.length }, `stopped the devnet in ${dir}`);
  return 0;
}

/** Starts the devnet in its own process, detached, and returns once it is up (its pid file is written after devnet.json). */
async function detach(args: string[], dir: string, json: boolean): Promise<number> {
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'devnet.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [SHERD_BIN, 'devnet', ...args.filter((a) => a !== '--detach' && a !== '--json')], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + 300_000;
  while ((await readPid(pidFile(dir))) !== child.pid) {
    if (exited !== undefined) throw new CliError('devnet_failed', `the devnet did not start (it exited with ${exited}); see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new CliError('devnet_failed', `the devnet did not start (no answer within 5 minutes); see ${logFile}`);
    }
    await sleep(200);
  }
  const path = join(dir, 'devnet.json');
  const file = await readDevnetFile(path);
  const ending = `running in the background (pid ${child.pid}, log ${logFile}); stop it with \`sherd devnet stop --dir ${dir}\``;
  print(json, { devnetFile: path, pid: child.pid, nodes: file.nodes.map((n) => n.url) }, describe(file, path, ending));
  return 0;
}

/**
 * `sherd devnet`: a local chain and N node processes until SIGINT or SIGTERM (or, with
 * --detach, in the background until `sherd devnet stop`). Writes DIR/devnet.json, then
 * DIR/devnet.pid with its process id.
 */
export async function cmdDevnet(args: string[]): Promise<number> {
  if (args[0] === 'stop') return stopDevnet(args.slice(1));
  const options = { nodes: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' }, detach: { type: 'boolean' } } as const;
  const { values, positionals: given } = parse(args, options, 'devnet');
  positionals(given, 0, DEVNET_USAGE);
  const nodes = integer('nodes', values.nodes, { min: 2, max: 256 }, 8)!;
  const dir = resolve(values.dir ?? DEFAULT_DEVNET_DIR);
  await refuseIfRunning(dir);
  if (values.detach) return detach(args, dir, values.json === true);
  // One block a second, so challenge epochs pass on their own while the devnet runs.
  const stop = untilSignal();
  const devnet = await Devnet.start({ nodes, dir, blockSeconds: 1 });
  await writeFile(pidFile(dir), `${process.pid}\n`);
  print(
    values.json === true,
    { devnetFile: devnet.path, pid: process.pid, nodes: devnet.endpoints.map((e) => e.url) },
    describe(devnet.file, devnet.path, `Ctrl-C or \`sherd devnet stop --dir ${dir}\` stops them all.`),
  );
  await stop;
  process.stderr.write('stopping the devnet\n');
  await devnet.stop();
  await rm(pidFile(dir), { force: true });
  return 0;
}
