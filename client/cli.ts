import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { generateBlsKeyPair } from '../proofs/bls.ts';
import { fromHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';
import { certificateToJson } from '../protocol/certificate.ts';
import { writeNodeKey } from '../protocol/keyfile.ts';
import { startNode } from '../storage-node/node.ts';
import { runDemo } from './demo.ts';
import { DEFAULT_DEVNET_DIR, DEFAULT_DEVNET_FILE, Devnet, readDevnetFile } from './devnet.ts';
import { DatasetReader } from './download.ts';
import { formatBytes, parseBytes, ProgressBar } from './progress.ts';
import { upload } from './upload.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `sherd ${VERSION}: erasure-coded, KZG-committed storage for AI datasets

usage:
  sherd demo [--nodes 8] [--size 64MiB] [--file F] [--json] [--keep]
      start a devnet, upload, kill m nodes, download, compare (the main job)
  sherd devnet [--nodes 8] [--dir ${DEFAULT_DEVNET_DIR}]
      run N storage-node processes on 127.0.0.1 until Ctrl-C; writes DIR/devnet.json
  sherd upload FILE [--devnet F] [--k K] [--m M] [--workers W] [--json]
      erasure-code FILE, disperse it, aggregate the nodes' signatures into a certificate
  sherd download ROOT OUT [--devnet F] [--range START-END] [--json]
      read a dataset back (OUT may be - for stdout), routing around failed nodes
  sherd node start --port P --data-dir D --key K [--host 127.0.0.1] [--verify-threads 1] [--log-level warn] [--json]
      run one storage node
  sherd node keygen --out K
      write a fresh BLS node key file

  --devnet defaults to ${DEFAULT_DEVNET_FILE}. Progress goes to stderr on a terminal;
  --json prints one JSON object on stdout. Exit status is non-zero on any failure.`;

class UsageError extends SherdError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(name: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return Number(value);
}

function print(json: boolean, object: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(object, null, 2)}\n` : `${human}\n`);
}

async function cmdDemo(args: string[]): Promise<number> {
  const { values } = parse(args, {
    nodes: { type: 'string' }, size: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' },
    keep: { type: 'boolean' }, workers: { type: 'string' },
  });
  const json = values.json === true;
  const bar = new ProgressBar();
  const report = await runDemo({
    nodes: integer('nodes', values.nodes, 8),
    size: values.size ? parseBytes(values.size) : undefined,
    file: values.file,
    keep: values.keep === true,
    workers: integer('workers', values.workers),
    onStep: (message) => {
      bar.done();
      if (!json) process.stderr.write(`• ${message}\n`);
    },
    onUploadProgress: (e) => {
      if (e.phase === 'encode') bar.update('encode', e.bytes, e.totalBytes);
      if (e.phase === 'disperse') bar.update('disperse', e.shardsSent, e.shardsTotal, 'count');
    },
    onDownloadProgress: (e) => bar.update('download', e.bytes, e.totalBytes),
  });
  bar.done();
  print(json, report, [
    '',
    `Sherd demo: ${report.readBackEqual ? 'OK' : 'FAILED'}`,
    `  dataset      ${formatBytes(report.bytes)}, root ${report.datasetRoot}`,
    `  code         k=${report.k} data + m=${report.m} parity per segment; ${report.segments} segments, ${report.shards} shards`,
    `  certificate  ${report.signers} of ${report.nodes} nodes signed (quorum ${report.quorum}), aggregate BLS signature verified`,
    `  upload       ${report.uploadSeconds} s (${report.uploadMiBps} MiB/s)`,
    `  failure      killed ${report.nodesStopped} of ${report.nodes} nodes (${report.stoppedNodes.join(', ')})`,
    `  download     ${report.downloadSeconds} s (${report.downloadMiBps} MiB/s), ${report.reconstructedSegments} segments rebuilt from parity`,
    `  read back    sha256 ${report.outputSha256} ${report.readBackEqual ? '== input' : `!= input ${report.inputSha256}`}`,
    ...(report.dir ? [`  kept         ${report.dir}`] : []),
  ].join('\n'));
  return report.readBackEqual ? 0 : 1;
}

async function cmdDevnet(args: string[]): Promise<number> {
  const { values } = parse(args, { nodes: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } });
  const devnet = await Devnet.start({ nodes: integer('nodes', values.nodes, 8)!, dir: values.dir ?? DEFAULT_DEVNET_DIR });
  print(values.json === true, { devnetFile: devnet.path, nodes: devnet.endpoints.map((e) => e.url) },
    `devnet of ${devnet.file.nodes.length} nodes is up; devnet file ${devnet.path}\n${devnet.endpoints.map((e, i) => `  node ${i}  ${e.url}`).join('\n')}\nCtrl-C stops them all.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('stopping the devnet\n');
  await devnet.stop();
  return 0;
}

async function cmdUpload(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    devnet: { type: 'string' }, k: { type: 'string' }, m: { type: 'string' }, workers: { type: 'string' }, json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('usage: sherd upload FILE');
  const devnetPath = values.devnet ?? DEFAULT_DEVNET_FILE;
  const devnet = await readDevnetFile(devnetPath);
  const bar = new ProgressBar();
  const started = performance.now();
  const result = await upload(positionals[0]!, {
    nodes: devnet.nodes,
    uploaderKey: fromHex(devnet.uploaderKey, 32),
    k: integer('k', values.k),
    m: integer('m', values.m),
    workers: integer('workers', values.workers),
    chainId: BigInt(devnet.chainId),
    registry: devnet.registry,
    onProgress: (e) => {
      if (e.phase === 'encode') bar.update('encode', e.bytes, e.totalBytes);
      if (e.phase === 'disperse') bar.update('disperse', e.shardsSent, e.shardsTotal, 'count');
    },
  });
  bar.done();
  const certificateFile = join(dirname(devnetPath), 'certificates', `${result.datasetRoot}.json`);
  await mkdir(dirname(certificateFile), { recursive: true });
  const certificate = certificateToJson(result.certificate);
  await writeFile(certificateFile, `${JSON.stringify(certificate, null, 2)}\n`);
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  print(values.json === true, {
    datasetRoot: result.datasetRoot, bytes: result.size, k: result.k, m: result.m, segments: result.segments,
    shards: result.shards, nodes: result.nodes, signers: result.signers.length, quorum: result.quorum,
    failedNodes: result.failedNodes, seconds, certificateFile, certificate,
  }, [
    `dataset root ${result.datasetRoot}`,
    `${formatBytes(result.size)} in ${result.segments} segments, ${result.shards} shards (k=${result.k}, m=${result.m}) on ${result.nodes} nodes in ${seconds} s`,
    `certificate: ${result.signers.length} of ${result.nodes} nodes signed (quorum ${result.quorum}); saved to ${certificateFile}`,
    ...result.failedNodes.map((f) => `warning: node ${f.index} (${f.url}) was routed around: ${f.error}`),
  ].join('\n'));
  return 0;
}

async function cmdDownload(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { devnet: { type: 'string' }, range: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 2) throw new UsageError('usage: sherd download ROOT OUT');
  const [root, out] = positionals as [string, string];
  if (!/^0x[0-9a-fA-F]{64}$/.test(root)) throw new UsageError(`ROOT must be 0x followed by 64 hex digits, got ${root}`);
  const devnet = await readDevnetFile(values.devnet ?? DEFAULT_DEVNET_FILE);
  const bar = new ProgressBar();
  const started = performance.now();
  const reader = await DatasetReader.open(root, {
    nodes: devnet.nodes,
    onProgress: (e) => bar.update('download', e.bytes, e.totalBytes),
  });
  let start = 0;
  let end = reader.size;
  if (values.range) {
    const match = /^(\d+)-(\d*)$/.exec(values.range);
    if (!match) throw new UsageError('--range must look like START-END (bytes, END exclusive) or START-');
    start = Number(match[1]);
    end = match[2] ? Number(match[2]) : reader.size;
  }
  try {
    const output = out === '-' ? process.stdout : createWriteStream(out);
    await pipeline(reader.read(start, end), output);
  } finally {
    await reader.close();
  }
  bar.done();
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  if (out !== '-') {
    print(values.json === true, { datasetRoot: root, bytes: end - start, start, end, out, seconds, reconstructedSegments: reader.reconstructedSegments },
      `wrote ${formatBytes(end - start)} to ${out} in ${seconds} s (${reader.reconstructedSegments} segments rebuilt from parity)`);
  }
  return 0;
}

async function cmdNode(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'keygen') {
    const { values } = parse(rest, { out: { type: 'string' } });
    if (!values.out) throw new UsageError('usage: sherd node keygen --out FILE');
    await writeNodeKey(values.out, generateBlsKeyPair().secretKey).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'EEXIST') throw new UsageError(`${values.out} exists; refusing to overwrite a key`);
      throw cause;
    });
    process.stdout.write(`wrote ${values.out}\n`);
    return 0;
  }
  if (sub !== 'start') throw new UsageError('usage: sherd node start ... | sherd node keygen --out FILE');
  const { values } = parse(rest, {
    port: { type: 'string' }, 'data-dir': { type: 'string' }, key: { type: 'string' }, host: { type: 'string' },
    'verify-threads': { type: 'string' }, 'log-level': { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.port === undefined || !values['data-dir'] || !values.key) {
    throw new UsageError('usage: sherd node start --port P --data-dir D --key K');
  }
  const node = await startNode({
    port: integer('port', values.port)!,
    host: values.host,
    dataDir: values['data-dir'],
    keyFile: values.key,
    verifyThreads: integer('verify-threads', values['verify-threads']),
    logLevel: values['log-level'],
  });
  // One line either way: supervisors (devnet) wait for it.
  process.stdout.write(values.json ? `${JSON.stringify({ event: 'listening', url: node.url })}\n` : `sherd node listening on ${node.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.close();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'demo': return cmdDemo(args);
    case 'devnet': return cmdDevnet(args);
    case 'upload': return cmdUpload(args);
    case 'download': return cmdDownload(args);
    case 'node': return cmdNode(args);
    case '--version': case '-v': process.stdout.write(`${VERSION}\n`); return 0;
    case undefined: case '--help': case '-h': case 'help': process.stdout.write(`${HELP}\n`); return command === undefined ? 2 : 0;
    default: throw new UsageError(`unknown command ${command}; see sherd --help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const e = error as SherdError;
    const details = e instanceof SherdError && e.details ? ` (${e.details})` : '';
    process.stderr.write(`sherd: ${e?.message ?? String(error)}${details}\n`);
    if (process.env.SHERD_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
