import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeNodeKey } from '../../cli/keyfile.ts';
import { generateBlsKeyPair } from '../../proofs/bls.ts';
import { spawn } from 'node:child_process';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { upload } from '../../client/upload.ts';
import { toHex } from '../../proofs/bytes.ts';
import { Devnet, SHERD_BIN } from '../../cli/devnet.ts';
import { sherd, type Run } from '../helpers/sherd.ts';

/**
 * Every message docs/cli.md lists, produced by the real command on a real devnet: the table is
 * read from the doc, so a message changed in one place and not the other fails here.
 */
const DOC = resolve(import.meta.dirname, '../../docs/cli.md');
const NOBODY = `0x${'00'.repeat(32)}`;

let dir: string;
let devnet: Devnet;
let dataset: string;
/** A dataset of two files, a.txt and sub/b.txt. */
let multi: string;
let big: string;
/** An encrypted dataset of the devnet uploader, offered to no one. */
let encrypted: string;
const file = () => join(dir, 'data.bin');

interface Row {
  message: string;
  exit: number;
  stream: 'stderr' | 'stdout';
}

/** The doc's message tables: exit 2 under "Bad usage", exit 1 under "Failures" (stderr) and the reports (stdout). */
async function documentedRows(): Promise<Row[]> {
  const rows: Row[] = [];
  let section: Omit<Row, 'message'> | undefined;
  for (const line of (await readFile(DOC, 'utf8')).split('\n')) {
    if (line.startsWith('## Bad usage')) section = { exit: 2, stream: 'stderr' };
    else if (line.startsWith('## Failures')) section = { exit: 1, stream: 'stderr' };
    else if (line.startsWith('Reports that end with status 1')) section = { exit: 1, stream: 'stdout' };
    const cell = /^\| (`+) ?(.+?) ?\1\s*\|/.exec(line);
    if (section && cell) rows.push({ message: cell[2]!, ...section });
  }
  return rows;
}

/** A documented message with its `<…>` parts as wildcards, matched against a whole line. */
function pattern(message: string): RegExp {
  const parts = message.split(/<[^>]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}$`);
}

const withDevnet = (args: string[]) => [...args, '--devnet', devnet.path];

/** How each documented message is produced. Keys are the doc's messages, exactly. */
const cases: Record<string, () => Promise<Run>> = {
  'unknown command <command>; see sherd --help': () => sherd(['frobnicate']),
  'unknown option <flag> for sherd <command>; see sherd --help': () => sherd(['upload', file(), '--frob']),
  '<flag> needs a value': () => sherd(['upload', file(), '--k']),
  '<flag> takes no value': () => sherd(['upload', file(), '--json=1']),
  'usage: <usage>': () => sherd(['download', dataset]),
  '--<flag> must be an integer from <min> to <max>, got <value>': () => sherd(['upload', file(), '--k', '0']),
  '--<flag> must be a whole number, got <value>': () =>
    sherd([
      'node',
      'register',
      '--rpc',
      devnet.file.rpc,
      '--registry',
      devnet.file.registryAddress,
      '--key',
      'k.json',
      '--account-key',
      'a.key',
      '--endpoint',
      'http://127.0.0.1:1',
      '--stake',
      'abc',
    ]),
  '--k <k> --m <m>: k + m must be at most <max>': () => sherd(['upload', file(), '--k', '200', '--m', '100']),
  'k + m = <n> shards per segment need as many nodes; the chain has <count> active': () =>
    sherd(withDevnet(['upload', file(), '--k', '4'])),
  'DATASET must be a dataset id, 0x followed by 64 hex digits, got <text>': () => sherd(['download', '0x1234', 'out.bin']),
  '--range must look like START-END (bytes, END exclusive) or START-, got <text>': () =>
    sherd(withDevnet(['download', dataset, join(dir, 'r.bin'), '--range', '10'])),
  '--range <text>: the range is reversed; END must not be less than START': () =>
    sherd(withDevnet(['download', dataset, join(dir, 'r.bin'), '--range', '1000-10'])),
  'the dataset has <count> files; give --file PATH to <what>': () => sherd(withDevnet(['download', multi, '-'])),
  '--range <text> ends past the end of the file (<size> bytes)': () =>
    sherd(withDevnet(['download', dataset, join(dir, 'r.bin'), '--range', '0-30000000'])),
  '--confidence must be a number between 0 and 1 (exclusive), got <text>': () =>
    sherd(withDevnet(['sample', dataset, '--confidence', '1.5'])),
  '--confidence and --samples exclude each other': () => sherd(withDevnet(['sample', dataset, '--confidence', '0.9', '--samples', '3'])),
  '--samples must be an integer from 1 to <shards>, got <value>': () => sherd(withDevnet(['sample', dataset, '--samples', '1000'])),
  '--size: not a size: <text> (try 64MiB)': () => sherd(['demo', '--size', 'lots']),
  '--cache: not a size: <text> (try 256MiB)': () => sherd(withDevnet(['gateway', '--cache', 'lots'])),
  '--rpc and --registry go together': () => sherd(['status', dataset, '--rpc', devnet.file.rpc]),
  '--rpc must be an http(s) URL, got <text>': () =>
    sherd(['status', dataset, '--rpc', 'localhost:8545', '--registry', devnet.file.registryAddress]),
  '--registry must be an address, 0x followed by 40 hex digits, got <text>': () =>
    sherd(['status', dataset, '--rpc', devnet.file.rpc, '--registry', '0x12']),
  'an upload pays on chain: pass --account-key FILE': () =>
    sherd(['upload', file(), '--rpc', devnet.file.rpc, '--registry', devnet.file.registryAddress]),
  '--claim pays the operator: pass --account-key FILE': () =>
    sherd([
      'node',
      'rewards',
      '--rpc',
      devnet.file.rpc,
      '--registry',
      devnet.file.registryAddress,
      '--key',
      devnet.file.nodes[0]!.keyFile,
      '--claim',
    ]),
  'the devnet has no node <index> (it has <count>)': () => sherd(withDevnet(['node', 'rewards', '--node', '9'])),
  '<file> exists; refusing to overwrite a key': () => sherd(['node', 'keygen', '--out', devnet.file.nodes[0]!.keyFile]),

  'this sends a transaction: pass --account-key FILE': () =>
    sherd(['license', 'buy', encrypted, '--rpc', devnet.file.rpc, '--registry', devnet.file.registryAddress]),
  '--price must be a whole number of wei, got <text>': () => sherd(withDevnet(['license', 'offer', encrypted, '--price', 'lots'])),
  '--to must be an address, 0x followed by 40 hex digits, got <text>': () =>
    sherd(withDevnet(['license', 'grant', encrypted, '--to', '0x12'])),
  '--token must be at least 16 characters without spaces': () => sherd(withDevnet(['gateway', '--token', 'short'])),
  'no_license: <account> holds no license to dataset <id>': () =>
    sherd(withDevnet(['download', encrypted, join(dir, 'secret'), '--account-key', join(dir, 'nobody.key')])),
  'encrypted_dataset: dataset <id> is encrypted; pass --account-key FILE of an account that holds a license': () =>
    sherd(['download', encrypted, join(dir, 'secret'), '--rpc', devnet.file.rpc, '--registry', devnet.file.registryAddress]),
  'dataset <id> has no offer to buy': () => sherd(withDevnet(['license', 'buy', encrypted])),

  'no such file: <path>': () => sherd(withDevnet(['upload', join(dir, 'nope.bin')])),
  '<path> is a directory; give a file': () => sherd(['demo', '--file', dir]),
  '<path> is a directory; give a file to write': () => sherd(withDevnet(['download', multi, dir, '--file', 'a.txt'])),
  'the dataset has no file <path>; `sherd ls` lists them': () =>
    sherd(withDevnet(['download', multi, join(dir, 'n.bin'), '--file', 'nope'])),
  '<dir> is not empty; give a new or empty directory': () => sherd(withDevnet(['download', multi, join(dir, 'tree')])),
  '<path> is a file; a dataset of <count> files is written to a directory': () => sherd(withDevnet(['download', multi, file()])),
  'no such directory: <dir>': () => sherd(withDevnet(['download', dataset, join(dir, 'no/such/out.bin')])),
  'no devnet file at <path>; start one with `sherd devnet --nodes 8` or pass --devnet FILE': () =>
    sherd(['upload', file(), '--devnet', join(dir, 'missing.json')]),
  'cannot read account key file <path>': () => sherd(withDevnet(['upload', file(), '--account-key', join(dir, 'missing.key')])),
  '<path> must hold a 0x-prefixed 32-byte hex private key': () =>
    sherd(withDevnet(['upload', file(), '--account-key', join(dir, 'bad.key')])),
  'cannot read key file <path>': () =>
    sherd(['node', 'start', '--port', '0', '--data-dir', join(dir, 'db'), '--key', join(dir, 'missing.json')]),
  'cannot reach the chain at <url>; check that it runs and that the URL is right': () =>
    sherd(['status', NOBODY, '--rpc', 'http://127.0.0.1:1', '--registry', devnet.file.registryAddress]),
  'dataset <id> is not registered on chain': () => sherd(withDevnet(['download', NOBODY, join(dir, 'x.bin')])),
  'the dataset is empty; there is nothing to store': () => sherd(withDevnet(['upload', join(dir, 'empty')])),
  'port <port> is in use; choose another with --port': () =>
    sherd([
      'node',
      'start',
      '--port',
      String(devnet.file.nodes[0]!.port),
      '--data-dir',
      join(dir, 'fresh-db'),
      '--key',
      devnet.file.nodes[0]!.keyFile,
    ]),
  '--durability must be a probability between 0 and 1 (say 0.99999999999), got <text>': () =>
    sherd(['upload', file(), '--durability', '2']),
  '--durability chooses k and m: give it, or --k and --m, not both': () => sherd(['upload', file(), '--k', '4', '--durability', '0.999']),
  '--scrub-mb-s must be a number of MB per second from 0 (off) to 10000, got <text>': () =>
    sherd(['node', 'start', '--port', '0', '--data-dir', join(dir, 'db'), '--key', join(dir, 'missing.json'), '--scrub-mb-s', 'fast']),
  'data dir <dir> is held by a running node, which repairs by itself (at start-up, by its scrub, for every new slot); stop it to run a pass by hand':
    () => sherd(withDevnet(['node', 'repair', '--node', '0'])),
  'data dir <dir> is held by another running node; stop it or choose another --data-dir': () =>
    sherd(['node', 'start', '--port', '0', '--data-dir', devnet.file.nodes[0]!.dataDir, '--key', devnet.file.nodes[0]!.keyFile]),
  'a devnet is already running in <dir> (pid <pid>); stop it with `sherd devnet stop --dir <dir>`': () =>
    sherd(['devnet', '--nodes', '2', '--dir', join(dir, 'busy')]),
  'cannot open the data dir <dir>: <reason>': async () => {
    // A LevelDB whose CURRENT file names a manifest that is not there.
    await mkdir(join(dir, 'damaged'), { recursive: true });
    await writeFile(join(dir, 'damaged', 'CURRENT'), 'MANIFEST-000009\n');
    return sherd(['node', 'start', '--port', '0', '--data-dir', join(dir, 'damaged'), '--key', devnet.file.nodes[0]!.keyFile]);
  },
  'the devnet did not start (<why>); see <log>': async () => {
    // A file where the devnet wants node 0's directory: the detached devnet fails at once.
    await mkdir(join(dir, 'blocked'), { recursive: true });
    await writeFile(join(dir, 'blocked', 'node-0'), 'in the way');
    return sherd(['devnet', '--nodes', '2', '--dir', join(dir, 'blocked'), '--detach']);
  },
  'no devnet is running in <dir>': () => sherd(['devnet', 'stop', '--dir', join(dir, 'idle')]),
  'the key in <file> is not registered in <registry>': () =>
    sherd(['node', 'rewards', '--rpc', devnet.file.rpc, '--registry', devnet.file.registryAddress, '--key', join(dir, 'stranger.json')]),
  'node <id> is operated by <address>, not by the key in <file>': () =>
    sherd(withDevnet(['node', 'rewards', '--node', '0', '--claim', '--account-key', devnet.file.nodes[1]!.operatorKeyFile])),
  'node <id> has no unclaimed rewards': () => sherd(withDevnet(['node', 'rewards', '--node', '0', '--claim'])),
  '<action> reverted: <error>(<arguments>)': () => {
    const node = devnet.file.nodes[0]!;
    return sherd([
      'node',
      'register',
      '--rpc',
      devnet.file.rpc,
      '--registry',
      devnet.file.registryAddress,
      '--key',
      node.keyFile,
      '--account-key',
      node.operatorKeyFile,
      '--endpoint',
      node.url,
    ]);
  },
  'dataset <id> is not registered on chain <chainId> (registry <address>)': () => sherd(withDevnet(['status', NOBODY])),
  'NOT RECOVERABLE: segments <list> have fewer than k = <k> shards answering': async () => {
    await Promise.all([1, 2, 3].map((i) => devnet.stopNode(i, { kill: true })));
    try {
      return await sherd(withDevnet(['sample', dataset]));
    } finally {
      for (const i of [1, 2, 3]) await devnet.startNode(i);
    }
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-cli-errors-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  await writeFile(file(), randomBytes(600_000));
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
  await writeFile(join(dir, 'tree', 'a.txt'), 'a');
  await writeFile(join(dir, 'tree', 'sub', 'b.txt'), 'bb');
  await writeFile(join(dir, 'bad.key'), 'not a key\n');
  await mkdir(join(dir, 'busy'));
  // A live sherd process (devnet node 0), as a running devnet's pid file would name.
  await writeFile(join(dir, 'busy', 'devnet.pid'), await readFile(join(dirname(devnet.file.nodes[0]!.logFile), 'node.pid')));
  await writeNodeKey(join(dir, 'stranger.json'), generateBlsKeyPair().secretKey);
  const result = await upload(file(), { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
  dataset = toHex(result.datasetId);
  const tree = await upload(join(dir, 'tree'), { nodes: devnet.endpoints, chain: devnet.uploadChain(), uploaderKey: devnet.uploaderKey });
  multi = toHex(tree.datasetId);
  // Big enough that its download is still writing when it is stopped.
  const large = await upload(new Uint8Array(randomBytes(24 * 1024 * 1024)), {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
  });
  big = toHex(large.datasetId);
  const secret = await upload(join(dir, 'tree'), {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    encrypt: true,
  });
  encrypted = toHex(secret.datasetId);
  await writeFile(join(dir, 'nobody.key'), `${toHex(new Uint8Array(randomBytes(32)))}\n`);
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The message (or a template with `*` for its `${…}` parts) of every `new UsageError(…)` and `new CliError(code, …)` in cli/. */
async function messagesInCode(): Promise<string[]> {
  const root = resolve(import.meta.dirname, '../../cli');
  const files = (await readdir(root, { recursive: true })).filter((name) => name.endsWith('.ts')).map((name) => join(root, name));
  const messages: string[] = [];
  for (const path of files) {
    const source = ts.createSourceFile(path, await readFile(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && ['UsageError', 'CliError'].includes(node.expression.text)) {
        const argument = node.arguments?.[node.expression.text === 'CliError' ? 1 : 0];
        if (argument && (ts.isStringLiteral(argument) || ts.isNoSubstitutionTemplateLiteral(argument))) messages.push(argument.text);
        else if (argument && ts.isTemplateExpression(argument)) {
          messages.push(argument.head.text + argument.templateSpans.map((span) => `*${span.literal.text}`).join(''));
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return messages;
}

describe('docs/cli.md', () => {
  it('lists every message the commands in cli/ can print', async () => {
    const documented = (await documentedRows()).map((row) => pattern(row.message));
    const undocumented = (await messagesInCode()).filter((message) => !documented.some((p) => p.test(message.replaceAll('*', 'X'))));
    expect(undocumented).toEqual([]);
  });

  it('lists exactly the messages this test produces', async () => {
    expect((await documentedRows()).map((row) => row.message).sort()).toEqual(Object.keys(cases).sort());
  });

  it('gives each message its exit status, on one line', async () => {
    const outcomes: string[] = [];
    for (const row of await documentedRows()) {
      const run = await cases[row.message]!();
      const line = row.stream === 'stderr' ? run.stderr : (run.stdout.trim().split('\n').at(-1) ?? '');
      const text = row.stream === 'stderr' ? line.replace(/^sherd: /, '').replace(/\n$/, '') : line;
      const ok = run.code === row.exit && pattern(row.message).test(text) && (row.stream === 'stdout' || /^sherd: [^\n]*\n$/.test(line));
      if (!ok)
        outcomes.push(
          `${row.message}\n  got exit ${run.code}, ${row.stream}: ${JSON.stringify(row.stream === 'stderr' ? run.stderr : run.stdout)}`,
        );
    }
    expect(outcomes).toEqual([]);
  }, 300_000);

  it('leaves nothing behind when a command fails', async () => {
    const failures = [
      await sherd(withDevnet(['download', dataset, join(dir, 'left.bin'), '--range', '0-30000000'])),
      await sherd(withDevnet(['download', NOBODY, join(dir, 'left.bin')])),
      await sherd([
        'node',
        'start',
        '--port',
        String(devnet.file.nodes[0]!.port),
        '--data-dir',
        join(dir, 'left-db'),
        '--key',
        devnet.file.nodes[0]!.keyFile,
      ]),
    ];
    expect(failures.map((run) => run.code)).toEqual([2, 1, 1]);
    expect((await readdir(dir)).filter((name) => name.startsWith('left'))).toEqual([]);
  });

  it('removes the partial file of a download stopped by SIGTERM while it writes', async () => {
    const out = join(dir, 'stopped.bin');
    const child = spawn(process.execPath, [SHERD_BIN, ...withDevnet(['download', big, out])], { stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    await vi.waitFor(() => stat(`${out}.sherd-partial`), { timeout: 60_000, interval: 20 });
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect((await readdir(dir)).filter((name) => name.startsWith('stopped'))).toEqual([]);
  }, 120_000);
});
