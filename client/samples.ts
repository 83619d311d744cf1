import { collectBytes } from '../proofs/bytes.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import type { Dataset } from './dataset.ts';
import { matchingFiles, sampleKeyOf, shareOf, shuffled } from './epoch-plan.ts';
import { throwIfAborted } from './errors.ts';
import { rangedSource, streamedSource, type TarEntry, tarEntries } from './tar.ts';

/** Where one stream (one worker of one rank) stands in an epoch: `consumed` of its samples have been yielded. */
export interface SampleCheckpoint {
  epoch: number;
  consumed: number;
}

interface SampleBase {
  /** The file's path, or the WebDataset key (a member's path up to the first `.` of its name). */
  key: string;
  /** The dataset file it came from. */
  file: string;
  /** Resume from this to get the samples after this one. */
  checkpoint: SampleCheckpoint;
}

/** A whole file as one sample. */
export interface FileSample extends SampleBase {
  kind: 'file';
  data: Uint8Array;
}

/** The members of a tar that share a key, by extension (`jpg`, `cls`, `seg.png`). */
export interface TarSample extends SampleBase {
  kind: 'tar';
  members: Record<string, Uint8Array>;
}

export type Sample = FileSample | TarSample;

export interface SamplesOptions {
  /** Which files make the epoch (docs/training.md's glob; default every file). */
  files?: string;
  /** WebDataset samples from tar members (default: when every matched file ends in .tar), or one sample per file. */
  tar?: boolean;
  shuffleSeed?: string | number | bigint;
  epoch?: number;
  rank?: number;
  worldSize?: number;
  workerId?: number;
  numWorkers?: number;
  /** A checkpoint this stream yielded (same files, seed and split): the epoch goes on after it. */
  resumeFrom?: SampleCheckpoint;
  signal?: AbortSignal;
}

/** What samples are read from: a dataset's files and checked reads of them (a Dataset, or anything as narrow). */
export type SampleSource = Pick<Dataset, 'files' | 'file' | 'read'>;

/** Samples per tar file, counted once per opened dataset: the files never change under their root. */
const sampleCounts = new WeakMap<SampleSource, Map<string, number>>();

/**
 * One epoch of `dataset` as one worker of one rank reads it (docs/training.md): the matched
 * files in the epoch's shuffled order, dealt to ranks and then workers in turn, each read
 * front to back (bounded by the reader's read-ahead), every byte checked as any read is.
 * Each sample carries the checkpoint to resume after it; a resumed epoch skips whole files by
 * their sample counts (a tar's from its headers only) and starts inside the file it stopped in.
 */
export async function* samples(dataset: SampleSource, options: SamplesOptions = {}): AsyncGenerator<Sample> {
  const plan = planOf(dataset, options);
  const checkpoint = (consumed: number) => ({ epoch: plan.epoch, consumed });
  let position = 0; // samples of the stream before the next one
  for (const path of plan.files) {
    throwIfAborted(options.signal);
    if (!plan.tar) {
      if (position++ < plan.skip) continue;
      yield { kind: 'file', key: path, file: path, data: await collectBytes(dataset.read(path)), checkpoint: checkpoint(position) };
      continue;
    }
    if (position < plan.skip) {
      const count = await tarSampleCount(dataset, path);
      if (position + count <= plan.skip) {
        position += count;
        continue;
      }
    }
    const skipInFile = Math.max(0, plan.skip - position);
    position += skipInFile;
    for await (const sample of tarSamples(dataset, path, skipInFile)) {
      position++;
      yield { ...sample, checkpoint: checkpoint(position) };
    }
  }
}

/** The options checked, and what they make: the stream's files, its mode and where it starts. */
function planOf(dataset: SampleSource, options: SamplesOptions) {
  const split = {
    rank: options.rank ?? 0,
    worldSize: options.worldSize ?? 1,
    workerId: options.workerId ?? 0,
    numWorkers: options.numWorkers ?? 1,
  };
  const epoch = options.resumeFrom?.epoch ?? options.epoch ?? 0;
  if (options.resumeFrom) {
    const { epoch: resumeEpoch, consumed } = options.resumeFrom;
    if (options.epoch !== undefined && options.epoch !== resumeEpoch) {
      throw new InvalidArgumentError(`resumeFrom is a checkpoint of epoch ${resumeEpoch}, not of epoch ${options.epoch}`);
    }
    if (!Number.isSafeInteger(consumed) || consumed < 0)
      throw new InvalidArgumentError(`a checkpoint's consumed count must be an integer ≥ 0, not ${consumed}`);
  }
  // The file index is in path order (UTF-8 bytes, protocol/file-index.ts): the order the shuffle starts from.
  const matched = matchingFiles(dataset.files, options.files).map((file) => file.path);
  const tar = options.tar ?? (matched.length > 0 && matched.every((path) => path.endsWith('.tar')));
  const files = shareOf(shuffled(matched, String(options.shuffleSeed ?? 0), epoch), split);
  return { epoch, tar, files, skip: options.resumeFrom?.consumed ?? 0 };
}

/**
 * The samples of tar `path` after the first `skip`, read front to back: members are grouped
 * by key while they follow one another, and the bodies of skipped samples are passed over.
 */
async function* tarSamples(dataset: SampleSource, path: string, skip: number): AsyncGenerator<Omit<TarSample, 'checkpoint'>> {
  let current: { key: string; members: Record<string, Uint8Array> } | undefined;
  let index = -1;
  for await (const { entry, key, extension, first } of sampleMembers(tarEntries(streamedSource(dataset.read(path))))) {
    if (first) {
      if (current && index >= skip) yield { kind: 'tar', key: current.key, file: path, members: current.members };
      current = { key, members: {} };
      index++;
    }
    if (index >= skip) current!.members[extension] = new Uint8Array(await entry.read());
  }
  if (current && index >= skip) yield { kind: 'tar', key: current.key, file: path, members: current.members };
  recordCount(dataset, path, index + 1);
}

function recordCount(dataset: SampleSource, path: string, count: number): void {
  const counts = sampleCounts.get(dataset) ?? new Map<string, number>();
  sampleCounts.set(dataset, counts.set(path, count));
}

/** How many samples tar `path` holds, from its headers alone (ranged reads that hop over member bodies). */
export async function tarSampleCount(dataset: SampleSource, path: string): Promise<number> {
  const known = sampleCounts.get(dataset)?.get(path);
  if (known !== undefined) return known;
  const file = dataset.file(path);
  if (!file) throw new InvalidArgumentError(`the dataset has no file ${path}`);
  const source = rangedSource((start, end) => collectBytes(dataset.read(path, start, end)), file.length);
  let count = 0;
  for await (const { first } of sampleMembers(tarEntries(source))) if (first) count++;
  recordCount(dataset, path, count);
  return count;
}

/**
 * The one rule of what a tar sample is: regular members, grouped by key while they follow one
 * another (WebDataset's). Each member with its key and extension; `first` starts a sample.
 */
async function* sampleMembers(
  entries: AsyncIterable<TarEntry>,
): AsyncGenerator<{ entry: TarEntry; key: string; extension: string; first: boolean }> {
  let lastKey: string | undefined;
  for await (const entry of entries) {
    if (!entry.regular) continue;
    const { key, extension } = sampleKeyOf(entry.path);
    yield { entry, key, extension, first: key !== lastKey };
    lastKey = key;
  }
}
