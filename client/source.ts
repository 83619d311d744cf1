import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { comparePaths, encodeFileIndex, FILE_INDEX_TRAILER_BYTES, pathProblem, type FileEntry } from '../protocol/file-index.ts';

/**
 * What upload accepts: paths of files and directories, bytes in memory, or any byte stream.
 * Every dataset is a set of files (one, for bytes, a stream or a single file) packed back to
 * back and followed by its file index (protocol/file-index.ts), so the content root covers
 * the files' names, offsets, lengths and SHA-256s too.
 */
export type UploadSource = string | string[] | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** One file of a dataset: its path in the dataset and where its bytes come from. */
export interface DatasetFile {
  path: string;
  /** A local file, bytes, or a stream (read once: upload spools it to read it again). */
  source: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Known for files and bytes; undefined for a stream. */
  size: number | undefined;
}

/** What a path upload skipped: symbolic links are not followed. */
export interface CollectedFiles {
  files: DatasetFile[];
  skippedLinks: string[];
}

function asDatasetPath(path: string): string {
  return path.split(sep).join('/');
}

async function walk(root: string, dir: string, into: DatasetFile[], skippedLinks: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const absolute = join(dir, entry.name);
    if (entry.isSymbolicLink()) skippedLinks.push(absolute);
    else if (entry.isDirectory()) await walk(root, absolute, into, skippedLinks);
    else if (entry.isFile())
      into.push({ path: asDatasetPath(relative(root, absolute)), source: absolute, size: (await stat(absolute)).size });
  }
}

/**
 * The files under `paths`: a file as its own name, a directory's files (recursively, symbolic
 * links not followed) by their paths relative to it; paths normalised to `/` and sorted by
 * their UTF-8 bytes, as the index keeps them. Two files that would get one path are an error.
 */
export async function collectFiles(paths: string[]): Promise<CollectedFiles> {
  const files: DatasetFile[] = [];
  const skippedLinks: string[] = [];
  for (const path of paths) {
    const info = await lstat(path);
    if (info.isSymbolicLink()) skippedLinks.push(path);
    else if (info.isDirectory()) await walk(path, path, files, skippedLinks);
    else files.push({ path: basename(path), source: path, size: info.size });
  }
  files.sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) throw new InvalidArgumentError(`two files would both be ${files[i]!.path} in the dataset`);
  }
  for (const file of files) {
    const problem = pathProblem(file.path);
    if (problem) throw new InvalidArgumentError(problem);
  }
  return { files, skippedLinks };
}

/** The files an upload source stands for; `name` names the one file of bytes or a stream. */
export async function datasetFiles(source: UploadSource, name = 'data'): Promise<CollectedFiles> {
  if (typeof source === 'string') return collectFiles([source]);
  if (Array.isArray(source)) return collectFiles(source);
  const problem = pathProblem(name);
  if (problem) throw new InvalidArgumentError(problem);
  if (source instanceof Uint8Array) return { files: [{ path: name, source, size: source.length }], skippedLinks: [] };
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return { files: [{ path: name, source: source as AsyncIterable<Uint8Array>, size: undefined }], skippedLinks: [] };
  }
  throw new InvalidArgumentError('upload source must be paths, a Uint8Array or an async iterable of bytes');
}

/** The dataset's size, when every file's size is known: the files, their index entries and the trailer. */
export function datasetSize(files: DatasetFile[]): number | undefined {
  let size = FILE_INDEX_TRAILER_BYTES;
  for (const file of files) {
    if (file.size === undefined) return undefined;
    size += file.size + 2 + Buffer.byteLength(file.path) + 48;
  }
  return size;
}

function fileBytes(source: DatasetFile['source']): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') return createReadStream(source, { highWaterMark: 1 << 20 });
  if (source instanceof Uint8Array)
    return (async function* () {
      yield source;
    })();
  return source;
}

/**
 * The dataset's bytes: every file in order, then the file index with each file's SHA-256,
 * computed on the way. Deterministic while the files do not change, so the upload's second
 * pass produces the same bytes (a file that changed in between makes the nodes refuse its
 * shards). `onIndex` receives the entries once the last file has been read.
 */
export async function* datasetStream(files: DatasetFile[], onIndex?: (entries: FileEntry[]) => void): AsyncGenerator<Uint8Array> {
  const entries: FileEntry[] = [];
  let offset = 0;
  for (const file of files) {
    const hash = createHash('sha256');
    let length = 0;
    for await (const raw of fileBytes(file.source)) {
      const chunk = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
      hash.update(chunk);
      length += chunk.length;
      yield chunk;
    }
    entries.push({ path: file.path, offset, length, sha256: new Uint8Array(hash.digest()) });
    offset += length;
  }
  yield encodeFileIndex(entries);
  onIndex?.(entries);
}

/**
 * Re-chunks a byte stream into pieces of exactly `size` bytes (the last one shorter). Each
 * piece is a fresh buffer the consumer owns; at most one piece is buffered here.
 */
export async function* fixedChunks(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let current = new Uint8Array(size);
  let filled = 0;
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(size - filled, chunk.length - offset);
      current.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield current;
        current = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield current.subarray(0, filled);
}
