import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Wallet } from 'ethers';
import { openRpc } from '../chain/rpc.ts';
import { deployRegistry } from '../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS, type RegistryParameters } from '../chain/registry.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { certificateToJson } from '../protocol/certificate.ts';
import { integer, parse, print, runCli, UsageError, wholeNumber } from './args.ts';
import { readAccountKey } from './keyfile.ts';
import { runDemo } from './demo.ts';
import { DEFAULT_DEVNET_DIR, DEFAULT_DEVNET_FILE, Devnet, readDevnetFile } from './devnet.ts';
import { connectChain, datasetNodesFromChain, nodesFromChain, uploadChainFor, type ChainContext } from '../client/chain-context.ts';
import { DatasetReader } from '../client/download.ts';
import { cmdNode } from './node-commands.ts';
import { formatBytes, parseBytes, ProgressBar } from './progress.ts';
import { sampleDataset } from '../client/sample.ts';
import { DEFAULT_STORAGE_EPOCHS, upload } from '../client/upload.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `sherd ${VERSION}: erasure-coded, KZG-committed storage for AI datasets

usage:
  sherd demo [--nodes 8] [--size 64MiB] [--file F] [--json] [--keep]
      start a devnet, upload, kill m nodes, download, compare (the main job)
  sherd devnet [--nodes 8] [--dir ${DEFAULT_DEVNET_DIR}]
      run N storage-node processes on 127.0.0.1 until Ctrl-C; writes DIR/devnet.json
  sherd upload FILE [--devnet F | --rpc URL --registry ADDR --account-key FILE] [--k K] [--m M] [--epochs E] [--workers W] [--json]
      register FILE on chain (paying for E epochs of storage, default ${DEFAULT_STORAGE_EPOCHS}), erasure-code and disperse it, certify it
  sherd sample DATASET [--devnet F | --rpc URL --registry ADDR] [--confidence 0.99 | --samples N] [--json]
      check by random samples, each proven against the content root on chain, that every segment can still be
      recovered; exits 1 when some segment has fewer than k shards answering
  sherd download DATASET OUT [--devnet F | --rpc URL --registry ADDR] [--range START-END] [--json]
      read a dataset back (OUT may be - for stdout), routing around failed nodes
  sherd status DATASET [--devnet F | --rpc URL --registry ADDR] [--json]
      the dataset's state on chain: registered, certified, signers, size, k, m, epochs paid
  sherd chain deploy --rpc URL --account-key FILE [--min-stake WEI] [--exit-delay S] [--fee-per-byte-epoch WEI]
                    [--epoch-blocks B] [--challenge-window B] [--slash-amount WEI] [--reporter-share-bps BPS] [--json]
      deploy the registry on any chain with the Prague precompiles (docs/economics.md explains the defaults)
  sherd node start --port P --data-dir D --key K [--host 127.0.0.1] [--verify-threads 1] [--log-level warn] [--json]
      run one storage node
  sherd node keygen --out K
      write a fresh BLS node key file
  sherd node register --rpc URL --registry ADDR --key K --account-key FILE --endpoint URL [--stake WEI]
      stake and register a node's BLS key (with its proof of possession) on chain
  sherd node start ... --rpc URL --registry ADDR --account-key FILE
      with the operator's key, the node answers its storage challenges itself and reports peers that miss
  sherd node rewards (--rpc URL --registry ADDR --key K | --devnet F --node I) [--claim [--account-key FILE]] [--json]
      challenges answered and missed, rewards earned and unclaimed, stake slashed; --claim pays out

  DATASET is a dataset id (0x + 64 hex digits), as upload prints it.
  --devnet defaults to ${DEFAULT_DEVNET_FILE}; --rpc/--registry override it. --account-key FILE
  holds a 0x secp256k1 private key (the devnet's uploader key by default). Progress goes to stderr on a terminal;
  --json prints one JSON object on stdout. Exit status is non-zero on any failure.`;

const chainOptions = {
  devnet: { type: 'string' },
  rpc: { type: 'string' },
  registry: { type: 'string' },
  'account-key': { type: 'string' },
} as const;

interface ChainArgs {
  devnet?: string;
  rpc?: string;
  registry?: string;
  'account-key'?: string;
}

/** The chain to talk to: --rpc/--registry if given, else the devnet file's. */
async function chainFrom(
  values: ChainArgs,
): Promise<{ context: ChainContext; accountKey: string | undefined; devnetPath: string | undefined }> {
  if (values.rpc || values.registry) {
    if (!values.rpc || !values.registry) throw new UsageError('--rpc and --registry go together');
    return {
      context: await connectChain(values.rpc, values.registry),
      accountKey: await readAccountKey(values['account-key']),
      devnetPath: undefined,
    };
  }
  const devnetPath = values.devnet ?? DEFAULT_DEVNET_FILE;
  const devnet = await readDevnetFile(devnetPath);
  return {
    context: await connectChain(devnet.rpc, devnet.registryAddress),
    accountKey: (await readAccountKey(values['account-key'])) ?? devnet.uploaderKey,
    devnetPath,
  };
}

/** feePerByteEpoch → fee-per-byte-epoch */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function sizeArg(text: string): number {
  try {
    return parseBytes(text);
  } catch (error) {
    throw new UsageError(`--size: ${(error as Error).message}`);
  }
}

function datasetArg(text: string | undefined): Uint8Array {
  if (!text || !/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new UsageError(`DATASET must be a dataset id, 0x followed by 64 hex digits, got ${text ?? 'nothing'}`);
  return fromHex(text, 32);
}

async function cmdStatus(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...chainOptions, json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('usage: sherd status DATASET');
  const id = datasetArg(positionals[0]);
  const { context } = await chainFrom(values);
  try {
    const d = await context.registry.dataset(id);
    const lastEpoch = d.startEpoch + d.epochs - 1;
    const status = {
      datasetId: toHex(id),
      contentRoot: d.registered ? toHex(d.contentRoot) : null,
      registered: d.registered,
      certified: d.certified,
      signers: d.signers,
      size: d.size,
      k: d.k,
      m: d.m,
      nodeSet: d.nodeSet,
      owner: d.owner,
      feeWei: d.fee.toString(),
      epochs: d.epochs,
      firstEpoch: d.certified ? d.startEpoch : null,
      registryAddress: context.registry.address,
      chainId: context.chainId.toString(),
    };
    print(
      values.json === true,
      status,
      !d.registered
        ? `dataset ${status.datasetId} is not registered on chain ${status.chainId} (registry ${status.registryAddress})`
        : [
            `dataset ${status.datasetId}`,
            `  registered  yes, by ${d.owner}, fee ${d.fee} wei; content root ${status.contentRoot}`,
            `  certified   ${d.certified ? `yes, ${d.signers} signers` : 'no'}`,
            `  size        ${formatBytes(d.size)} (${d.size} bytes), k=${d.k}, m=${d.m}, node set ${d.nodeSet}`,
            `  storage     ${d.epochs} epochs paid${d.certified ? `, challenged in epochs ${d.startEpoch}–${lastEpoch}` : ''}`,
          ].join('\n'),
    );
    return 0;
  } finally {
    context.close();
  }
}

async function cmdSample(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...chainOptions,
    confidence: { type: 'string' },
    samples: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('usage: sherd sample DATASET [--confidence C | --samples N]');
  const id = datasetArg(positionals[0]);
  if (values.confidence !== undefined && values.samples !== undefined)
    throw new UsageError('--confidence and --samples exclude each other');
  const confidence = values.confidence === undefined ? undefined : Number(values.confidence);
  if (confidence !== undefined && !(confidence > 0 && confidence < 1))
    throw new UsageError(`--confidence must be a number between 0 and 1 (exclusive), got ${values.confidence}`);
  const samples = integer('samples', values.samples);
  if (samples === 0) throw new UsageError('--samples must be at least 1');
  const { context } = await chainFrom(values);
  const bar = new ProgressBar();
  try {
    const report = await sampleDataset(id, {
      registry: context.registry,
      confidence,
      samples,
      onProgress: (e) => bar.update('sample', e.checked, e.total, 'count'),
    });
    bar.done();
    const plural = report.lostSegments.length > 1;
    const followUp = report.followUpSamples ? `, ${report.followUpSamples} more where one failed` : '';
    const verdict = report.recoverable
      ? `recoverable: every segment has at least k = ${report.k} shards answering (confidence ${report.confidence.toFixed(4)})`
      : `NOT RECOVERABLE: ${plural ? 'segments' : 'segment'} ${report.lostSegments.join(', ')} ${plural ? 'have' : 'has'} ` +
        `fewer than k = ${report.k} shards answering`;
    print(
      values.json === true,
      { ...report, datasetId: toHex(report.datasetId), contentRoot: toHex(report.contentRoot) },
      [
        `dataset ${toHex(report.datasetId)}${report.certified ? '' : ' (registered, not certified)'}: ` +
          `${report.segments} segments, k=${report.k}, m=${report.m}`,
        `${report.samples} samples (${report.perSegment} per segment${followUp}), ` +
          `${report.failed} failed, in ${report.seconds.toFixed(2)} s`,
        ...report.nodes
          .filter((n) => n.samples > 0)
          .map(
            (n) =>
              `  node ${String(n.index).padStart(3)}  ${n.url}  ${n.samples - n.failed}/${n.samples} ok${
                n.failed
                  ? `  (${Object.entries(n.errors)
                      .map(([code, count]) => `${code} ×${count}`)
                      .join(', ')})`
                  : ''
              }`,
          ),
        ...report.failures.slice(0, 20).map((f) => `  failed  shard ${f.segment}/${f.index} on node ${f.node}: ${f.code}`),
        ...(report.failures.length > 20 ? [`  … and ${report.failures.length - 20} more failures (--json lists them all)`] : []),
        verdict,
      ].join('\n'),
    );
    return report.recoverable ? 0 : 1;
  } finally {
    bar.done();
    context.close();
  }
}

async function cmdChain(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'deploy') throw new UsageError('usage: sherd chain deploy --rpc URL --account-key FILE');
  const flags = Object.fromEntries(Object.keys(DEFAULT_REGISTRY_PARAMETERS).map((name) => [kebab(name), { type: 'string' as const }]));
  const { values } = parse(rest, { rpc: { type: 'string' }, 'account-key': { type: 'string' }, json: { type: 'boolean' }, ...flags });
  if (typeof values.rpc !== 'string' || typeof values['account-key'] !== 'string')
    throw new UsageError('usage: sherd chain deploy --rpc URL --account-key FILE');
  const parameters = Object.fromEntries(
    Object.entries(DEFAULT_REGISTRY_PARAMETERS).map(([name, fallback]) => [
      name,
      wholeNumber(kebab(name), (values as Record<string, string | boolean | undefined>)[kebab(name)] as string | undefined) ?? fallback,
    ]),
  ) as unknown as RegistryParameters;
  const key = (await readAccountKey(values['account-key']))!;
  const { provider, chainId, close } = await openRpc(values.rpc);
  try {
    const registry = await deployRegistry(new Wallet(key, provider), parameters);
    print(
      values.json === true,
      {
        registry: registry.address,
        chainId: chainId.toString(),
        ...Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.toString()])),
      },
      `SherdRegistry deployed at ${registry.address} on chain ${chainId}`,
    );
    return 0;
  } finally {
    close();
  }
}

async function cmdDemo(args: string[]): Promise<number> {
  const { values } = parse(args, {
    nodes: { type: 'string' },
    size: { type: 'string' },
    file: { type: 'string' },
    json: { type: 'boolean' },
    keep: { type: 'boolean' },
    workers: { type: 'string' },
  });
  const json = values.json === true;
  const bar = new ProgressBar();
  const report = await runDemo({
    nodes: integer('nodes', values.nodes, 8),
    size: values.size === undefined ? undefined : sizeArg(values.size),
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
  print(
    json,
    report,
    [
      '',
      `Sherd demo: ${report.readBackEqual ? 'OK' : 'FAILED'}`,
      `  dataset      ${formatBytes(report.bytes)}, id ${report.datasetId}`,
      `  code         k=${report.k} data + m=${report.m} parity per segment; ${report.segments} segments, ${report.shards} shards`,
      `  certificate  ${report.signers} of ${report.nodes} nodes signed (quorum ${report.quorum}); ` +
        `verified on chain by SherdRegistry ${report.registryAddress}`,
      `               certify tx ${report.certifiedTx}: ${report.certifyGas} gas`,
      `  upload       ${report.uploadSeconds} s (${report.uploadMiBps} MiB/s)`,
      `  sampling     ${report.samples} samples, ${report.sampleFailures} failed, in ${report.sampleSeconds} s: ` +
        `recoverable with confidence ${report.sampleConfidence}`,
      `  challenges   epoch ${report.challengeEpoch}: ${report.challengesAnswered} answered, ${report.challengesMissed} missed ` +
        '(KZG proofs checked on chain by the point-evaluation precompile)',
      `               ${report.rewardsPaid} wei of storage fees paid to the nodes that answered`,
      `  failure      killed ${report.nodesStopped} of ${report.nodes} nodes (${report.stoppedNodes.join(', ')})`,
      `  download     ${report.downloadSeconds} s (${report.downloadMiBps} MiB/s), ` +
        `${report.reconstructedSegments} segments rebuilt from parity`,
      `  read back    sha256 ${report.outputSha256} ${report.readBackEqual ? '== input' : `!= input ${report.inputSha256}`}`,
      ...(report.dir ? [`  kept         ${report.dir}`] : []),
    ].join('\n'),
  );
  return report.readBackEqual && report.challengesMissed === 0 && report.sampleFailures === 0 ? 0 : 1;
}

async function cmdDevnet(args: string[]): Promise<number> {
  const { values } = parse(args, { nodes: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } });
  // One block a second, so challenge epochs pass on their own while the devnet runs.
  const devnet = await Devnet.start({ nodes: integer('nodes', values.nodes, 8)!, dir: values.dir ?? DEFAULT_DEVNET_DIR, blockSeconds: 1 });
  print(
    values.json === true,
    { devnetFile: devnet.path, nodes: devnet.endpoints.map((e) => e.url) },
    [
      `devnet of ${devnet.file.nodes.length} nodes is up; devnet file ${devnet.path}`,
      ...devnet.endpoints.map((e, i) => `  node ${i}  ${e.url}`),
      'Ctrl-C stops them all.',
    ].join('\n'),
  );
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
    ...chainOptions,
    k: { type: 'string' },
    m: { type: 'string' },
    epochs: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  });
  const epochs = integer('epochs', values.epochs);
  if (epochs === 0) throw new UsageError('--epochs must be at least 1');
  if (positionals.length !== 1) throw new UsageError('usage: sherd upload FILE');
  const { context, accountKey, devnetPath } = await chainFrom(values);
  if (!accountKey) throw new UsageError('an upload pays on chain: pass --account-key FILE');
  const bar = new ProgressBar();
  const started = performance.now();
  try {
    const result = await upload(positionals[0]!, {
      nodes: await nodesFromChain(context.registry),
      chain: uploadChainFor(context, accountKey),
      uploaderKey: fromHex(accountKey, 32),
      k: integer('k', values.k),
      m: integer('m', values.m),
      epochs,
      workers: integer('workers', values.workers),
      onProgress: (e) => {
        if (e.phase === 'encode') bar.update('encode', e.bytes, e.totalBytes);
        if (e.phase === 'disperse') bar.update('disperse', e.shardsSent, e.shardsTotal, 'count');
      },
    });
    bar.done();
    const id = toHex(result.datasetId);
    const certificateFile = join(devnetPath ? dirname(devnetPath) : '.sherd', 'certificates', `${id}.json`);
    await mkdir(dirname(certificateFile), { recursive: true });
    const certificate = certificateToJson(result.certificate);
    await writeFile(certificateFile, `${JSON.stringify(certificate, null, 2)}\n`);
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    print(
      values.json === true,
      {
        datasetId: id,
        contentRoot: toHex(result.contentRoot),
        owner: result.owner,
        bytes: result.size,
        k: result.k,
        m: result.m,
        segments: result.segments,
        shards: result.shards,
        nodes: result.nodeCount,
        signers: result.signers.length,
        quorum: result.quorum,
        failedNodes: result.failedNodes,
        seconds,
        registerTx: result.chain?.registerTx ?? null,
        certifiedTx: result.chain?.certifiedTx,
        certifyGas: result.chain?.certifyGas,
        certificateFile,
        certificate,
      },
      [
        `dataset ${id}`,
        `${formatBytes(result.size)} in ${result.segments} segments, ${result.shards} shards (k=${result.k}, m=${result.m}) ` +
          `on ${result.nodeCount} nodes in ${seconds} s`,
        `content root ${toHex(result.contentRoot)}, owner ${result.owner}`,
        `certified on chain: ${result.signers.length} of ${result.nodeCount} nodes signed (quorum ${result.quorum}); ` +
          `tx ${result.chain?.certifiedTx}, ${result.chain?.certifyGas} gas`,
        `certificate saved to ${certificateFile}`,
        ...result.failedNodes.map((f) => `warning: node ${f.index} (${f.url}) was routed around: ${f.error}`),
      ].join('\n'),
    );
    return 0;
  } finally {
    context.close();
  }
}

async function cmdDownload(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...chainOptions, range: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 2) throw new UsageError('usage: sherd download DATASET OUT');
  const [datasetText, out] = positionals as [string, string];
  const id = datasetArg(datasetText);
  const { context } = await chainFrom(values);
  const bar = new ProgressBar();
  const started = performance.now();
  let reader: DatasetReader;
  try {
    reader = await DatasetReader.open(id, {
      nodes: await datasetNodesFromChain(context.registry, id),
      registry: context.registry,
      onProgress: (e) => bar.update('download', e.bytes, e.totalBytes),
    });
  } finally {
    context.close();
  }
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
    print(
      values.json === true,
      { datasetId: toHex(id), bytes: end - start, start, end, out, seconds, reconstructedSegments: reader.reconstructedSegments },
      `wrote ${formatBytes(end - start)} to ${out} in ${seconds} s (${reader.reconstructedSegments} segments rebuilt from parity)`,
    );
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'demo':
      return cmdDemo(args);
    case 'devnet':
      return cmdDevnet(args);
    case 'upload':
      return cmdUpload(args);
    case 'download':
      return cmdDownload(args);
    case 'status':
      return cmdStatus(args);
    case 'sample':
      return cmdSample(args);
    case 'chain':
      return cmdChain(args);
    case 'node':
      return cmdNode(args);
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${command}; see sherd --help`);
  }
}

runCli(main);
