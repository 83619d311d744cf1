import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSherdData } from '../helpers/python.ts';

/**
 * The README's shell blocks, run as written in a fresh directory where `npx sherd` is this
 * checkout's binary: a README example cannot break unnoticed. Only what the README leaves to
 * the reader is substituted (the dataset id a command printed, the registry address, free
 * ports for fixed ones), and "a second node the same way" is done the same way.
 */
const REPO = resolve(import.meta.dirname, '../..');
let dir: string;
const background: ChildProcess[] = [];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The README from `marker` to the next `## ` heading. */
async function section(marker: string): Promise<string> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const from = readme.indexOf(marker);
  if (from < 0) throw new Error(`the README has no "${marker}"`);
  const end = readme.indexOf('\n## ', from + marker.length);
  return readme.slice(from, end < 0 ? undefined : end);
}

/** The ```sh block that follows `marker` in the README, as commands: continuations joined, comments dropped. */
async function shellBlock(marker: string): Promise<string[]> {
  const block = /```sh\n([\s\S]*?)```/.exec(await section(marker))![1]!;
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.length > 0);
}

function run(command: string, cwd = dir): Promise<Ran> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${command}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('exit', (code) =>
      done({ code: code ?? -1, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString() }),
    );
  });
}

/** A command the README runs with `&`: started, and ready once it prints its first line (as a reader would wait for it). */
function runInBackground(command: string, cwd = dir): Promise<string> {
  // Its own process group, so that stopping it reaches the node process npx started, as a shell's `kill %1` would.
  const child = spawn('bash', ['-c', `exec ${command.replace(/&$/, '')}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  background.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((ready, fail) => {
    createInterface({ input: child.stdout! }).once('line', ready);
    child.once('exit', (code) => fail(new Error(`${command} exited ${code}: ${stderr}`)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-readme-'));
  await mkdir(join(dir, 'node_modules/.bin'), { recursive: true });
  await symlink(join(REPO, 'bin/sherd.js'), join(dir, 'node_modules/.bin/sherd'));
});

afterAll(async () => {
  for (const child of background) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await run('npx sherd devnet stop >/dev/null 2>&1 || true');
  await run('npx sherd devnet stop >/dev/null 2>&1 || true', join(dir, 'checkout'));
  await rm(dir, { recursive: true, force: true });
});

describe('the README, as written', () => {
  it('runs the typical session: devnet, upload, download, a range through head, sample, status, rewards, stop', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 777);
    await writeFile(join(dir, 'train-00001.parquet'), data);
    let dataset = '';
    const seen = new Set<string>();
    for (const line of await shellBlock('A typical session')) {
      const command = line.replaceAll('0x<dataset>', dataset);
      const result = await run(command);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
      for (const step of ['devnet', 'upload', 'download', 'head', 'sample', 'status', 'rewards', 'stop'])
        if (command.includes(` ${step}`)) seen.add(step);
      if (command.includes(' upload ')) dataset = /^dataset (0x[0-9a-f]{64})$/m.exec(result.stdout)![1]!;
      if (command.includes('| head -c 100')) expect(Buffer.from(result.stdout, 'latin1').equals(data.subarray(0, 100))).toBe(true);
      if (command.includes(' sample ')) expect(result.stdout).toContain('recoverable: every segment has at least k = 4 shards answering');
    }
    // The checks above are tied to lines of the README: they must all have run.
    expect([...seen].sort()).toEqual(['devnet', 'download', 'head', 'rewards', 'sample', 'status', 'stop', 'upload']);
    expect(await readFile(join(dir, 'copy.parquet'))).toEqual(data);
    const certificate = JSON.parse(await readFile(join(dir, '.sherd/devnet/certificates', `${dataset}.json`), 'utf8')) as {
      datasetId: string;
    };
    expect(certificate.datasetId).toBe(dataset);
    // `sherd devnet stop` waited for everything to go.
    await expect(stat(join(dir, '.sherd/devnet/devnet.pid'))).rejects.toThrow();
    const nodes = (JSON.parse(await readFile(join(dir, '.sherd/devnet/devnet.json'), 'utf8')) as { nodes: Array<{ url: string }> }).nodes;
    const answers = await Promise.all(
      nodes.map((node) =>
        fetch(`${node.url}/health`).then(
          () => 'answered',
          () => 'gone',
        ),
      ),
    );
    expect(answers).toEqual(nodes.map(() => 'gone'));
  }, 300_000);

  it('runs "Running on another chain" on the local chain, then uploads and reads the status there', async () => {
    const [chainPort, port0, port1] = [await freePort(), await freePort(), await freePort()];
    const ports = (line: string) => line.replaceAll('8545', String(chainPort)).replaceAll('7000', String(port0));
    let registry = '';
    const lines = (await shellBlock('To try it on\none machine')).map(ports);
    // "… and a second node the same way, on 7001".
    const secondNode = lines
      .slice(-3)
      .map((line) =>
        line
          .replaceAll('node0', 'node1')
          .replaceAll('db0', 'db1')
          .replaceAll('account-1', 'account-2')
          .replaceAll(String(port0), String(port1)),
      );
    for (const line of [...lines, ...secondNode]) {
      const command = line.replaceAll('0xREG', registry);
      if (command.endsWith('&')) {
        await runInBackground(command);
        continue;
      }
      const result = await run(command);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
      if (command.includes('chain deploy')) registry = /deployed at (0x[0-9a-f]{40})/.exec(result.stdout)![1]!;
    }
    // The public-chain block's upload and status, pointed at the local chain.
    await writeFile(join(dir, 'data.bin'), randomBytes(500_000));
    const rpc = `http://127.0.0.1:${chainPort}`;
    const publicLines = (await shellBlock('On a public chain')).filter((line) => / (upload|status) /.test(line));
    let dataset = '';
    expect(publicLines.map((line) => / (upload|status) /.exec(line)![1])).toEqual(['upload', 'status']);
    for (const line of publicLines) {
      const command = line
        .replaceAll('https://rpc.example', rpc)
        .replaceAll('0xREG', registry)
        .replaceAll('uploader.key', '.sherd/local-chain/account-3.key')
        .replaceAll('0x<dataset>', dataset);
      const result = await run(command);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
      if (command.includes(' upload ')) dataset = /^dataset (0x[0-9a-f]{64})$/m.exec(result.stdout)![1]!;
      if (command.includes(' status ')) expect(result.stdout).toContain('certified   yes, 2 signers');
    }
  }, 300_000);

  it('runs "Stream a dataset into training": devnet, tar shards, upload, gateway, the Python reader, curl, then urllib, fsspec, PyTorch and boto3', async () => {
    // A reader's checkout: the files the block tars and the example it runs.
    const checkout = join(dir, 'checkout');
    await mkdir(join(checkout, 'node_modules/.bin'), { recursive: true });
    await symlink(join(REPO, 'bin/sherd.js'), join(checkout, 'node_modules/.bin/sherd'));
    for (const tree of ['examples', 'docs']) await symlink(join(REPO, tree), join(checkout, tree));
    await writeFile(join(checkout, 'README.md'), await readFile(join(REPO, 'README.md')));
    const port = String(await freePort());
    const text = await section('## Stream a dataset into training');
    let dataset = '';
    const ran: string[] = [];
    for (const line of (await shellBlock('## Stream a dataset into training')).map((l) => l.replaceAll('8080', port))) {
      const command = line.replaceAll('0x<dataset>', dataset);
      if (command.endsWith('&')) {
        expect(await runInBackground(command, checkout)).toBe(
          `sherd gateway listening on http://127.0.0.1:${port} (datasets at http://127.0.0.1:${port}/datasets/DATASET/PATH)`,
        );
        continue;
      }
      const result = await run(command, checkout);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
      ran.push(command.split(' ')[command.startsWith('npx') ? 2 : 0]!);
      if (command.includes(' upload ')) dataset = /^dataset (0x[0-9a-f]{64})$/m.exec(result.stdout)![1]!;
      if (command.includes('read_tar_shards.py')) expect(result.stdout).toContain('README.md');
      if (command.startsWith('curl -sI')) expect(result.stdout).toMatch(/^accept-ranges: bytes\r$/im);
    }
    expect(ran).toEqual(['devnet', 'mkdir', 'upload', 'python3', 'curl', 'curl', 'curl']);
    expect(await readFile(join(checkout, 'first-kib.bin'))).toEqual(
      (await readFile(join(checkout, 'shards/train-000000.tar'))).subarray(0, 1024),
    );
    // The Python blocks: every one said to work is run (with Debian's python3, which has fsspec); WebDataset is only "should work".
    const blocks = [...text.matchAll(/```python\n([\s\S]*?)```/g)].map((m) =>
      m[1]!.replaceAll('8080', port).replaceAll('0x<dataset>', dataset),
    );
    const runnable = blocks.filter((block) => !block.includes('import webdataset'));
    // `pip install ./python`, as the PyTorch block asks.
    const site = await installSherdData(dir);
    expect([blocks.length, runnable.length]).toEqual([5, 4]);
    expect(text).toMatch(/\*\*Should work with\*\* WebDataset/);
    for (const block of runnable) {
      await writeFile(join(checkout, 'block.py'), block);
      const result = await run(`PYTHONPATH=${site} /usr/bin/python3 block.py`, checkout);
      expect({ block, code: result.code, stderr: result.stderr }).toEqual({ block, code: 0, stderr: '' });
      const expected = block.includes('fsspec')
        ? /train-000001\.tar'\] b'/
        : block.includes('DataLoader')
          ? /^1 0 \['README'\]$/m
          : block.includes('boto3')
            ? new RegExp(`^${dataset}/train-000000\\.tar \\d+$`, 'm')
            : /^README\.md \d+$/m;
      expect(result.stdout).toMatch(expected);
    }
    // The PyTorch block saved where it stood. Its one sample is README.md: the other shard holds only a symlink (docs), which is no sample.
    expect(JSON.parse(await readFile(join(checkout, 'loader-state.json'), 'utf8'))).toMatchObject({ epoch: 1, batches: 1, num_workers: 2 });
    // The boto3 block's download_file, through the S3 facade.
    expect(await readFile(join(checkout, 'train-000000.tar'))).toEqual(await readFile(join(checkout, 'shards/train-000000.tar')));
    await run('npx sherd devnet stop', checkout);
  }, 300_000);

  it('runs "License a dataset": an encrypted upload, an offer, a purchase, a decrypted download, the status, the proceeds', async () => {
    const work = join(dir, 'licensing');
    await mkdir(join(work, 'node_modules/.bin'), { recursive: true });
    await symlink(join(REPO, 'bin/sherd.js'), join(work, 'node_modules/.bin/sherd'));
    const files = { 'a.jsonl': randomBytes(300_000), 'sub/b.bin': randomBytes(1_000_001) };
    for (const [path, bytes] of Object.entries(files)) {
      await mkdir(join(work, 'private', path, '..'), { recursive: true });
      await writeFile(join(work, 'private', path), bytes);
    }
    await writeFile(join(work, 'terms.txt'), 'Research use only.\n');
    let dataset = '';
    const seen: string[] = [];
    try {
      for (const line of await shellBlock('## License a dataset')) {
        const command = line.replaceAll('0x<dataset>', dataset);
        const result = await run(command, work);
        expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
        // The command's words, up to its first argument or flag: `license offer`, `devnet stop`, `upload`.
        seen.push(
          command
            .split(' ')
            .slice(2)
            .filter((word, i, all) => all.slice(0, i + 1).every((w) => /^[a-z][a-z-]*$/.test(w)))
            .join(' '),
        );
        if (command.includes(' upload ')) dataset = /^dataset (0x[0-9a-f]{64})$/m.exec(result.stdout)![1]!;
        if (command.includes(' download ')) {
          for (const [path, bytes] of Object.entries(files)) expect(await readFile(join(work, 'bought', path))).toEqual(bytes);
          // The owner buys nothing: its own reads need no license, a stranger's are refused.
          await writeFile(join(work, 'stranger.key'), `0x${randomBytes(32).toString('hex')}\n`);
          const refused = await run(`npx sherd download ${dataset} ./nope/ --account-key stranger.key`, work);
          expect(refused.code).toBe(1);
          expect(refused.stderr).toMatch(new RegExp(`^sherd: no_license: 0x[0-9a-f]{40} holds no license to dataset ${dataset}\n$`));
        }
        if (command.includes(' license status '))
          expect(Buffer.from(result.stdout, 'latin1').toString()).toMatch(/^ {4}node \d → 0x[0-9a-f]{40} at /m);
        if (command.includes(' proceeds ')) expect(result.stdout).toMatch(/^withdrew 1000000000000000 wei; tx 0x/);
      }
    } finally {
      await run('npx sherd devnet stop >/dev/null 2>&1 || true', work);
    }
    expect(seen).toEqual([
      'devnet',
      'upload',
      'license offer',
      'license buy',
      'download',
      'license status',
      'license proceeds',
      'devnet stop',
    ]);
  }, 300_000);
});
