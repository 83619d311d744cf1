import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { datasetNodesFromChain } from '../../client/chain-context.ts';
import { DatasetReader } from '../../client/download.ts';
import { toHex } from '../../proofs/bytes.ts';
import { parse, positionals, print, UsageError } from '../args.ts';
import { chainFrom, chainOptions, datasetArg } from '../context.ts';
import { formatBytes, ProgressBar } from '../progress.ts';

export const DOWNLOAD_USAGE = 'sherd download DATASET OUT [--devnet F | --rpc URL --registry ADDR] [--range START-END] [--json]';

/** START-END (END exclusive) or START-, checked against the dataset's size: a bad range is bad usage. */
export function parseRange(text: string | undefined, size: number): { start: number; end: number } {
  if (text === undefined) return { start: 0, end: size };
  const match = /^(\d+)-(\d*)$/.exec(text);
  if (!match) throw new UsageError(`--range must look like START-END (bytes, END exclusive) or START-, got ${text}`);
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : size;
  if (end < start) throw new UsageError(`--range ${text}: the range is reversed; END must not be less than START`);
  if (end > size) throw new UsageError(`--range ${text} ends past the end of the dataset (${size} bytes)`);
  return { start, end };
}

/**
 * `sherd download DATASET OUT`: streams the dataset (or a range) to OUT, or to stdout for `-`.
 * A file is written beside OUT and renamed into place only when complete, so a failed download
 * leaves nothing behind; a closed stdout (`| head`) ends the command quietly (runCli).
 */
export async function cmdDownload(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, range: { type: 'string' }, json: { type: 'boolean' } }, 'download');
  const [datasetText, out] = positionals(given, 2, DOWNLOAD_USAGE) as [string, string];
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
  try {
    const { start, end } = parseRange(values.range, reader.size);
    if (out === '-') {
      await pipeline(reader.read(start, end), process.stdout, { end: false });
      return 0;
    }
    const partial = `${out}.sherd-partial`;
    try {
      await pipeline(reader.read(start, end), createWriteStream(partial));
      await rename(partial, out);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    bar.done();
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const report = {
      datasetId: toHex(id),
      bytes: end - start,
      start,
      end,
      out,
      seconds,
      reconstructedSegments: reader.reconstructedSegments,
    };
    const human = `wrote ${formatBytes(end - start)} to ${out} in ${seconds} s (${reader.reconstructedSegments} segments rebuilt from parity)`;
    print(values.json === true, report, human);
    return 0;
  } finally {
    bar.done();
    await reader.close();
  }
}
