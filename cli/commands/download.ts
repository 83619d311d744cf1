import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { licenseAccount, registeredDataset } from '../../client/chain-context.ts';
import { Dataset } from '../../client/dataset.ts';
import { DownloadError } from '../../client/errors.ts';
import { accountAddress } from '../../proofs/account.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import type { FileEntry } from '../../protocol/file-index.ts';
import { CliError, parse, positionals, print, UsageError } from '../args.ts';
import { chainFrom, chainOptions, datasetArg, type ChainArgs } from '../context.ts';
import { formatBytes, ProgressBar } from '../progress.ts';

export const DOWNLOAD_USAGE =
  'sherd download DATASET OUT [--file PATH] [--devnet F | --rpc URL --registry ADDR] [--account-key FILE] [--range START-END] [--json]';
export const LS_USAGE = 'sherd ls DATASET [--devnet F | --rpc URL --registry ADDR] [--account-key FILE] [--json]';

/** START-END (END exclusive) or START-, checked against the file's size: a bad range is bad usage. */
export function parseRange(text: string | undefined, size: number): { start: number; end: number } {
  if (text === undefined) return { start: 0, end: size };
  const match = /^(\d+)-(\d*)$/.exec(text);
  if (!match) throw new UsageError(`--range must look like START-END (bytes, END exclusive) or START-, got ${text}`);
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : size;
  if (end < start) throw new UsageError(`--range ${text}: the range is reversed; END must not be less than START`);
  if (end > size) throw new UsageError(`--range ${text} ends past the end of the file (${size} bytes)`);
  return { start, end };
}

/**
 * The dataset, opened from the chain the flags name. An encrypted one is read with the
 * account of --account-key (the devnet's uploader by default), which must hold a license.
 */
async function openFromChain(values: ChainArgs, id: Uint8Array): Promise<Dataset> {
  const { context, accountKey } = await chainFrom(values);
  try {
    const { terms, nodes } = await registeredDataset(context.registry, id);
    const license = accountKey ? await licenseAccount(context, fromHex(accountKey, 32)) : undefined;
    return await Dataset.open(id, { nodes, registration: terms, license });
  } catch (error) {
    // One line that names the reason; the nodes' refusals one by one are for SHERD_DEBUG.
    if (error instanceof DownloadError && error.code === 'no_license') {
      const account = accountAddress(fromHex(accountKey!, 32));
      throw new CliError('no_license', `no_license: ${account} holds no license to dataset ${toHex(id)}`, { cause: error });
    }
    if (error instanceof DownloadError && error.code === 'encrypted_dataset') {
      throw new CliError(
        'encrypted_dataset',
        `encrypted_dataset: dataset ${toHex(id)} is encrypted; pass --account-key FILE of an account that holds a license`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    context.close();
  }
}

/** Partial files to remove if the command is stopped (SIGINT, SIGTERM) while writing them. */
const partials = new Set<string>();
function removePartialsAndExit(signal: NodeJS.Signals): void {
  // Synchronously: the process exits right after.
  for (const path of partials) rmSync(path, { force: true });
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/**
 * Writes `bytes` to `path` whole or not at all: into `path.sherd-partial`, renamed into place
 * when complete, removed on any failure or signal. A path that exists and is not a regular
 * file (/dev/null, a FIFO) is written directly.
 */
async function writeWhole(bytes: Readable | AsyncIterable<Uint8Array>, path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile()) {
    if (existing.isDirectory()) throw new CliError('is_directory', `${path} is a directory; give a file to write`);
    await pipeline(bytes, createWriteStream(path));
    return;
  }
  const partial = `${path}.sherd-partial`;
  partials.add(partial);
  const onSignal = removePartialsAndExit;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await pipeline(bytes, createWriteStream(partial));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).path === partial) {
      throw new CliError('no_such_directory', `no such directory: ${dirname(path)}`);
    }
    throw error;
  } finally {
    partials.delete(partial);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Every file of the dataset into directory `out` (made here: it must not exist, or be empty); on failure, nothing is left. */
async function writeDirectory(dataset: Dataset, out: string, bar: ProgressBar): Promise<void> {
  const existing = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    if (error.code === 'ENOTDIR')
      throw new CliError('not_a_directory', `${out} is a file; a dataset of ${dataset.files.length} files is written to a directory`);
    throw error;
  });
  if (existing && existing.length > 0) throw new CliError('directory_not_empty', `${out} is not empty; give a new or empty directory`);
  await mkdir(out, { recursive: true });
  let written = 0;
  try {
    for (const file of dataset.files) {
      const path = join(out, ...file.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeWhole(dataset.read(file.path), path);
      written += file.length;
      bar.update('download', written, dataset.size);
    }
  } catch (error) {
    if (!existing) await rm(out, { recursive: true, force: true });
    throw error;
  }
}

/** Which file to write: --file, or the only one; a multi-file dataset without --file goes to a directory (undefined). */
function chosenFile(dataset: Dataset, path: string | undefined): FileEntry | undefined {
  if (path === undefined) return dataset.single;
  const file = dataset.file(path);
  if (!file) throw new CliError('no_such_file', `the dataset has no file ${path}; \`sherd ls\` lists them`);
  return file;
}

/**
 * `sherd download DATASET OUT`: a single-file dataset (or `--file PATH` of any) to the file
 * OUT or to stdout for `-`, whole or `--range`; a dataset of many files to the directory OUT.
 * Files land whole or not at all; a closed stdout (`| head`) ends the command quietly.
 */
export async function cmdDownload(args: string[]): Promise<number> {
  const options = { ...chainOptions, range: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' } } as const;
  const { values, positionals: given } = parse(args, options, 'download');
  const [datasetText, out] = positionals(given, 2, DOWNLOAD_USAGE) as [string, string];
  const id = datasetArg(datasetText);
  const dataset = await openFromChain(values, id);
  const bar = new ProgressBar();
  const started = performance.now();
  try {
    const file = chosenFile(dataset, values.file);
    if (!file && (out === '-' || values.range !== undefined)) {
      throw new UsageError(
        `the dataset has ${dataset.files.length} files; give --file PATH to ${out === '-' ? 'write one to stdout' : 'read a range of one'}`,
      );
    }
    const { start, end } = file ? parseRange(values.range, file.length) : { start: 0, end: dataset.size };
    if (file && out === '-') {
      await pipeline(dataset.read(file.path, start, end), process.stdout, { end: false });
      return 0;
    }
    if (file) await writeWhole(dataset.createReadStream(file.path, { start, end }), out);
    else await writeDirectory(dataset, out, bar);
    bar.done();
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const rebuilt = dataset.reader.reconstructedSegments;
    const what = file ? `${formatBytes(end - start)} of ${file.path}` : `${dataset.files.length} files, ${formatBytes(end - start)}`;
    const report = {
      datasetId: toHex(id),
      file: file?.path ?? null,
      files: dataset.files.length,
      bytes: end - start,
      start,
      end,
      out,
      seconds,
      reconstructedSegments: rebuilt,
    };
    print(values.json === true, report, `wrote ${what} to ${out} in ${seconds} s (${rebuilt} segments rebuilt from parity)`);
    return 0;
  } finally {
    bar.done();
    await dataset.close();
  }
}

/** `sherd ls DATASET`: the dataset's files, from its index (checked like every byte). */
export async function cmdLs(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, json: { type: 'boolean' } }, 'ls');
  const id = datasetArg(positionals(given, 1, LS_USAGE)[0]);
  const dataset = await openFromChain(values, id);
  try {
    const files = dataset.files.map((f) => ({ path: f.path, length: f.length, sha256: toHex(f.sha256) }));
    const width = Math.max(...files.map((f) => String(f.length).length), 1);
    const human = files.map((f) => `${String(f.length).padStart(width)}  ${f.sha256}  ${f.path}`).join('\n');
    print(values.json === true, { datasetId: toHex(id), files }, human);
    return 0;
  } finally {
    await dataset.close();
  }
}
