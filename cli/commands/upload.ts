import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nodesFromChain, uploadChainFor } from '../../client/chain-context.ts';
import { chooseCode, type CodeChoice, DEFAULT_DURABILITY } from '../../client/durability.ts';
import { codeFor, DEFAULT_STORAGE_EPOCHS, upload, type UploadResult } from '../../client/upload.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { MAX_TOTAL_SHARDS } from '../../proofs/fr-code.ts';
import { certificateToJson, type CertificateJson } from '../../protocol/certificate.ts';
import { CliError, integer, parse, print, UsageError } from '../args.ts';
import { certificatePath, chainFrom, chainOptions } from '../context.ts';
import { formatBytes, ProgressBar } from '../progress.ts';

export const UPLOAD_USAGE =
  'sherd upload PATH... [--devnet F | --rpc URL --registry ADDR --account-key FILE] [--encrypt] [--k K --m M | --durability D] [--epochs E] [--workers W] [--json]';

/** --durability: a probability strictly between 0 and 1 (default eleven nines); it only chooses a code, so not with --k or --m. */
function durabilityArg(text: string | undefined, explicitCode: number | undefined): number {
  if (text === undefined) return DEFAULT_DURABILITY;
  if (explicitCode !== undefined) throw new UsageError('--durability chooses k and m: give it, or --k and --m, not both');
  const value = Number(text);
  if (text.trim() === '' || !(value > 0 && value < 1)) {
    throw new UsageError(`--durability must be a probability between 0 and 1 (say 0.99999999999), got ${text}`);
  }
  return value;
}

/** Every path to upload exists (a file or a directory); said in a sentence otherwise, before anything is read or paid. */
export async function checkPaths(paths: string[]): Promise<void> {
  for (const path of paths) {
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new CliError('no_such_file', `no such file: ${path}`);
      throw error;
    });
  }
}

/** A file to read, not a directory, for a command that takes one. */
export async function checkFile(path: string): Promise<void> {
  await checkPaths([path]);
  if ((await stat(path)).isDirectory()) throw new CliError('is_directory', `${path} is a directory; give a file`);
}

/** The line that says why the code is what it is. */
function codeLine(choice: CodeChoice | undefined): string[] {
  if (!choice) return [];
  const target = `target ${(1 - choice.durability).toExponential(0)} a year`;
  const model = `${choice.model.nodeFailuresPerYear * 100}% of nodes lose their data a year, ${choice.model.repairHours} h to repair`;
  return [
    `code chosen for durability ${choice.durability}: k=${choice.k}, m=${choice.m}, expected loss ${choice.lossPerYear.toExponential(1)} ` +
      `per dataset-year (${target}; model: ${model})${choice.meetsTarget ? '' : '; too few nodes to meet the target'}`,
  ];
}

function humanReport(result: UploadResult, id: string, seconds: number, certificateFile: string, choice?: CodeChoice): string {
  const files = result.files.length === 1 ? `1 file, ${result.files[0]!.path}` : `${result.files.length} files`;
  const chain = result.chain;
  const certified = result.alreadyCertified
    ? `already certified on chain (tx ${chain?.certifiedTx}): nothing paid or sent`
    : `certified on chain: ${result.signers.length} of ${result.nodeCount} nodes signed (quorum ${result.quorum}); ` +
      `tx ${chain?.certifiedTx}, ${chain?.certifyGas} gas`;
  return [
    `dataset ${id}`,
    ...codeLine(choice),
    `${formatBytes(result.size)} in ${result.segments} segments, ${result.shards} shards (k=${result.k}, m=${result.m}) ` +
      `on ${result.nodeCount} nodes in ${seconds} s`,
    `${files}; content root ${toHex(result.contentRoot)}`,
    `owner ${result.owner}`,
    ...(result.encryption
      ? [
          `encrypted: the nodes hold ciphertext and one key share each; ${result.encryption.threshold} of ${result.nodeCount} ` +
            'release the key to licensees (`sherd license offer` to sell licenses)',
        ]
      : []),
    ...result.skippedLinks.map((link) => `skipped the symbolic link ${link} (links are not followed)`),
    ...(result.resumed ? [`resumed an earlier upload: ${result.shardsSkipped} shards were already on their nodes`] : []),
    certified,
    `certificate saved to ${certificateFile}`,
    ...result.sameContent.map(
      (other) => `note: ${other.owner} registered the same content as its own dataset ${toHex(other.datasetId)}; this one is yours`,
    ),
    ...result.failedNodes.map((f) => `warning: node ${f.index} (${f.url}) was routed around: ${f.error}`),
  ].join('\n');
}

/** What `sherd upload --json` prints. */
function jsonReport(result: UploadResult, seconds: number, certificateFile: string, certificate: CertificateJson) {
  return {
    datasetId: toHex(result.datasetId),
    contentRoot: toHex(result.contentRoot),
    owner: result.owner,
    bytes: result.files.reduce((sum, f) => sum + f.length, 0),
    datasetBytes: result.size,
    k: result.k,
    m: result.m,
    segments: result.segments,
    shards: result.shards,
    nodes: result.nodeCount,
    signers: result.signers.length,
    quorum: result.quorum,
    failedNodes: result.failedNodes,
    seconds,
    alreadyCertified: result.alreadyCertified,
    resumed: result.resumed,
    shardsSkipped: result.shardsSkipped,
    registerTx: result.chain?.registerTx ?? null,
    certifiedTx: result.chain?.certifiedTx,
    certifyGas: result.chain?.certifyGas,
    certificateFile,
    certificate,
    files: result.files.map((f) => ({ path: f.path, offset: f.offset, length: f.length, sha256: toHex(f.sha256) })),
    skippedLinks: result.skippedLinks,
    encryption: result.encryption ?? null,
    sameContent: result.sameContent.map((other) => ({ datasetId: toHex(other.datasetId), owner: other.owner })),
  };
}

/**
 * `sherd upload PATH...`: one dataset of the files and directories given; register, code,
 * disperse and certify. Run again, it resumes, or reports the dataset already certified.
 */
export async function cmdUpload(args: string[]): Promise<number> {
  const options = {
    ...chainOptions,
    k: { type: 'string' },
    m: { type: 'string' },
    epochs: { type: 'string' },
    workers: { type: 'string' },
    encrypt: { type: 'boolean' },
    durability: { type: 'string' },
    json: { type: 'boolean' },
  } as const;
  const { values, positionals: given } = parse(args, options, 'upload');
  if (given.length === 0) throw new UsageError(`usage: ${UPLOAD_USAGE}`);
  const epochs = integer('epochs', values.epochs, { min: 1, max: 0xffffffff });
  const k = integer('k', values.k, { min: 1, max: MAX_TOTAL_SHARDS - 1 });
  const m = integer('m', values.m, { min: 1, max: MAX_TOTAL_SHARDS - 1 });
  if (k !== undefined && m !== undefined && k + m > MAX_TOTAL_SHARDS)
    throw new UsageError(`--k ${k} --m ${m}: k + m must be at most ${MAX_TOTAL_SHARDS}`);
  const workers = integer('workers', values.workers, { min: 1, max: 256 });
  const durability = durabilityArg(values.durability, k ?? m);
  await checkPaths(given);
  const { context, accountKey, stateDir } = await chainFrom(values);
  const bar = new ProgressBar();
  const started = performance.now();
  try {
    if (!accountKey) throw new UsageError('an upload pays on chain: pass --account-key FILE');
    const nodes = await nodesFromChain(context.registry);
    // Without --k and --m, the code is the cheapest that meets the durability asked for (client/durability.ts).
    const choice = k === undefined && m === undefined ? chooseCode(nodes.length, { durability }) : undefined;
    const code = choice ?? codeFor(nodes.length, k, m);
    if (code.k + code.m > nodes.length) {
      throw new UsageError(`k + m = ${code.k + code.m} shards per segment need as many nodes; the chain has ${nodes.length} active`);
    }
    const result = await upload(given, {
      nodes,
      chain: uploadChainFor(context, accountKey),
      uploaderKey: fromHex(accountKey, 32),
      k: code.k,
      m: code.m,
      epochs,
      workers,
      encrypt: values.encrypt === true,
      onProgress: (e) => {
        if (e.phase === 'encode') bar.update('encode', e.bytes, e.totalBytes);
        if (e.phase === 'disperse') bar.update('disperse', e.shardsSent, e.shardsTotal, 'count');
      },
    });
    bar.done();
    const id = toHex(result.datasetId);
    const certificateFile = certificatePath(stateDir, id);
    const certificate = certificateToJson(result.certificate);
    await mkdir(dirname(certificateFile), { recursive: true });
    await writeFile(certificateFile, `${JSON.stringify(certificate, null, 2)}\n`);
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const report = {
      ...jsonReport(result, seconds, certificateFile, certificate),
      codeChoice: choice
        ? { durability: choice.durability, lossPerYear: choice.lossPerYear, meetsTarget: choice.meetsTarget, model: choice.model }
        : null,
    };
    print(values.json === true, report, humanReport(result, id, seconds, certificateFile, choice));
    return 0;
  } finally {
    bar.done();
    context.close();
  }
}

export { DEFAULT_STORAGE_EPOCHS };
