import { assertBytes } from '../proofs/errors.ts';
import { ProtocolError } from './errors.ts';

/**
 * A dataset's files, under its content root like every other byte: the dataset is the files'
 * bytes packed back to back in path order, then the file index, then a fixed 20-byte trailer
 * (docs/protocol.md, "File index"). A reader knows the dataset's size from the chain, reads
 * the trailer and the index from the end, and checks them as it checks any byte: through
 * the shards' inclusion proofs. Nothing about the files is unverified.
 *
 *   entry   = path length u16 | path (UTF-8) | offset u64 | length u64 | sha256 (32)
 *   trailer = "SHIX" | version u8 (1) | flags u8 (0) | reserved u16 (0) | file count u32 | index bytes u64
 * All big-endian. Offsets are canonical: file i starts where file i − 1 ends, the first at 0.
 */
export interface FileEntry {
  /** Relative, `/`-separated, normalised (no `.`, `..` or empty segments), unique; entries sorted by path. */
  path: string;
  offset: number;
  length: number;
  sha256: Uint8Array;
}

const MAGIC = [0x53, 0x48, 0x49, 0x58]; // "SHIX"
const VERSION = 1;
export const FILE_INDEX_TRAILER_BYTES = 20;
export const MAX_PATH_BYTES = 4096;
const ENTRY_FIXED_BYTES = 2 + 8 + 8 + 32;

/** Why `path` cannot name a file in a dataset, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'a path must not be empty';
  if (new TextEncoder().encode(path).length > MAX_PATH_BYTES) return `a path must be at most ${MAX_PATH_BYTES} bytes`;
  if (path.startsWith('/')) return `path ${path} must be relative`;
  if (path.includes('\\')) return `path ${path} must use / between its parts`;
  if ([...path].some((c) => c.charCodeAt(0) < 0x20)) return `path ${JSON.stringify(path)} has a control character`;
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) return `path ${path} has an empty, . or .. part`;
  return undefined;
}

/** Sorts by path, as the index stores them: by the UTF-8 bytes, so every implementation agrees. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The index and trailer for files of these paths and lengths (already in index order), with their SHA-256s. */
export function encodeFileIndex(files: ReadonlyArray<Omit<FileEntry, 'offset'>>): Uint8Array {
  const paths = files.map((f) => {
    const problem = pathProblem(f.path);
    if (problem) throw new ProtocolError('bad_file_index', problem);
    assertBytes(`SHA-256 of ${f.path}`, f.sha256, 32);
    return new TextEncoder().encode(f.path);
  });
  for (let i = 1; i < files.length; i++) {
    if (comparePaths(files[i - 1]!.path, files[i]!.path) >= 0)
      throw new ProtocolError('bad_file_index', `paths must be unique and sorted: ${files[i]!.path}`);
  }
  const indexBytes = paths.reduce((sum, p) => sum + ENTRY_FIXED_BYTES + p.length, 0);
  const out = new Uint8Array(indexBytes + FILE_INDEX_TRAILER_BYTES);
  const view = new DataView(out.buffer);
  let at = 0;
  let offset = 0;
  files.forEach((file, i) => {
    if (!Number.isSafeInteger(file.length) || file.length < 0) throw new ProtocolError('bad_file_index', `bad length for ${file.path}`);
    view.setUint16(at, paths[i]!.length);
    out.set(paths[i]!, at + 2);
    at += 2 + paths[i]!.length;
    view.setBigUint64(at, BigInt(offset));
    view.setBigUint64(at + 8, BigInt(file.length));
    out.set(file.sha256, at + 16);
    at += 48;
    offset += file.length;
  });
  out.set(MAGIC, at);
  out[at + 4] = VERSION;
  view.setUint32(at + 8, files.length);
  view.setBigUint64(at + 12, BigInt(indexBytes));
  return out;
}

/** The trailer's fields; ProtocolError `bad_file_index` when the last 20 bytes are not one. */
export function decodeFileIndexTrailer(trailer: Uint8Array): { fileCount: number; indexBytes: number } {
  if (!(trailer instanceof Uint8Array) || trailer.length !== FILE_INDEX_TRAILER_BYTES) {
    throw new ProtocolError('bad_file_index', `a file index trailer is ${FILE_INDEX_TRAILER_BYTES} bytes`);
  }
  if (MAGIC.some((b, i) => trailer[i] !== b)) throw new ProtocolError('bad_file_index', 'the dataset has no Sherd file index (bad magic)');
  if (trailer[4] !== VERSION) throw new ProtocolError('bad_file_index', `unsupported file index version ${trailer[4]}`);
  if (trailer[5] !== 0 || trailer[6] !== 0 || trailer[7] !== 0) throw new ProtocolError('bad_file_index', 'unknown file index flags');
  const view = new DataView(trailer.buffer, trailer.byteOffset, trailer.byteLength);
  const indexBytes = view.getBigUint64(12);
  if (indexBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('bad_file_index', 'file index length out of range');
  return { fileCount: view.getUint32(8), indexBytes: Number(indexBytes) };
}

/**
 * The entries of an index of `fileCount` files, for a dataset of `datasetSize` bytes: every
 * rule checked (paths, order, canonical offsets, the files ending exactly where the index
 * begins), so an index that decodes describes the dataset completely.
 */
export function decodeFileIndex(index: Uint8Array, fileCount: number, datasetSize: number): FileEntry[] {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries: FileEntry[] = [];
  let at = 0;
  let offset = 0;
  for (let i = 0; i < fileCount; i++) {
    if (at + ENTRY_FIXED_BYTES > index.length) throw new ProtocolError('bad_file_index', 'the file index is shorter than its file count');
    const pathLength = view.getUint16(at);
    if (at + ENTRY_FIXED_BYTES + pathLength > index.length) throw new ProtocolError('bad_file_index', 'a path runs past the file index');
    let path: string;
    try {
      path = decoder.decode(index.subarray(at + 2, at + 2 + pathLength));
    } catch {
      throw new ProtocolError('bad_file_index', 'a path is not UTF-8');
    }
    const problem = pathProblem(path);
    if (problem) throw new ProtocolError('bad_file_index', problem);
    if (entries.length > 0 && comparePaths(entries.at(-1)!.path, path) >= 0)
      throw new ProtocolError('bad_file_index', `paths are not unique and sorted at ${path}`);
    at += 2 + pathLength;
    const entryOffset = view.getBigUint64(at);
    const length = view.getBigUint64(at + 8);
    if (entryOffset !== BigInt(offset)) throw new ProtocolError('bad_file_index', `${path} does not start where the file before it ends`);
    if (length > BigInt(datasetSize)) throw new ProtocolError('bad_file_index', `${path} is longer than the dataset`);
    entries.push({ path, offset, length: Number(length), sha256: index.slice(at + 16, at + 48) });
    offset += Number(length);
    at += 48;
  }
  if (at !== index.length) throw new ProtocolError('bad_file_index', 'the file index is longer than its entries');
  if (offset + index.length + FILE_INDEX_TRAILER_BYTES !== datasetSize) {
    throw new ProtocolError('bad_file_index', 'the files and the index do not add up to the dataset size');
  }
  return entries;
}
