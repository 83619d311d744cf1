import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { equalBytes, toHex } from '../proofs/bytes.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { decodeFileIndex, decodeFileIndexTrailer, FILE_INDEX_TRAILER_BYTES, type FileEntry } from '../protocol/file-index.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { DatasetReader, type DownloadOptions } from './download.ts';
import { matchingFiles } from './epoch-plan.ts';
import { type ByteView, DecryptedView, fetchDatasetKey, lastBytes, type LicenseAccount, readEnvelope, readTail } from './encryption.ts';
import { DownloadError } from './errors.ts';
import { type Sample, type SamplesOptions, samples } from './samples.ts';
import type { KeyProgress } from './types.ts';

/**
 * A dataset as files. Opening reads only its end, the file index and its trailer, through
 * the same checked shards as any byte (DatasetReader): the names, offsets, lengths and
 * SHA-256s are covered by the content root on chain.
 */
export class Dataset {
  private readonly byPath: Map<string, FileEntry>;

  private constructor(
    /** The dataset's bytes as stored (the ciphertext, for an encrypted dataset). */
    readonly reader: DatasetReader,
    /** The bytes the files are read from: the reader itself, or its decryption. */
    private readonly bytes: ByteView,
    readonly files: readonly FileEntry[],
  ) {
    this.byPath = new Map(files.map((file) => [file.path, file]));
  }

  /**
   * Opens dataset `id`. An encrypted one (its last bytes are an envelope) needs `license`: its
   * key is asked of its nodes first (fetchDatasetKey); without one, DownloadError `encrypted_dataset`.
   */
  static async open(id: Uint8Array, options: DatasetOptions): Promise<Dataset> {
    const reader = await DatasetReader.open(id, options);
    try {
      // The last segment holds the trailer that says which (a file index or an envelope): read once for both.
      const tail = await readTail(reader, FILE_INDEX_TRAILER_BYTES);
      const bytes = await plaintextOf(reader, tail, options);
      return new Dataset(reader, bytes, await readIndex(bytes, bytes === reader ? tail : undefined));
    } catch (error) {
      await reader.close();
      if (error instanceof ProtocolError) {
        const what = error.code === 'bad_envelope' ? 'encryption envelope' : 'file index';
        throw new DownloadError(error.code, `dataset's ${what} is unreadable: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /** Whether the dataset is stored encrypted (and read here through its key). */
  get encrypted(): boolean {
    return this.bytes !== this.reader;
  }

  get id(): Uint8Array {
    return this.reader.id;
  }

  /** Bytes of all files (the dataset without its index). */
  get size(): number {
    return this.files.reduce((sum, file) => sum + file.length, 0);
  }

  file(path: string): FileEntry | undefined {
    return this.byPath.get(path);
  }

  /** The only file of a single-file dataset; undefined when it has several. */
  get single(): FileEntry | undefined {
    return this.files.length === 1 ? this.files[0] : undefined;
  }

  /**
   * The bytes [start, end) of `path`, checked shard by shard; a whole file is also checked
   * against its SHA-256 in the index at the end.
   */
  async *read(path: string, start = 0, end?: number): AsyncGenerator<Uint8Array> {
    const file = this.byPath.get(path);
    if (!file) throw new DownloadError('no_such_file', `the dataset has no file ${path}`);
    const stop = end ?? file.length;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || start < 0 || stop > file.length || start > stop) {
      throw new InvalidArgumentError(`byte range ${start}-${stop} is outside ${path} (0-${file.length})`);
    }
    const whole = start === 0 && stop === file.length;
    const hash = whole ? createHash('sha256') : undefined;
    for await (const chunk of this.bytes.read(file.offset + start, file.offset + stop)) {
      hash?.update(chunk);
      yield chunk;
    }
    if (hash && !equalBytes(new Uint8Array(hash.digest()), file.sha256)) {
      throw new DownloadError('file_hash_mismatch', `${path} does not match its SHA-256 in the file index`);
    }
  }

  /** The files matching `glob` (docs/training.md; default every file), in path order. */
  matching(glob = '**'): FileEntry[] {
    return matchingFiles(this.files, glob);
  }

  /** One epoch of samples for one worker of one rank, shuffled, split and resumable (see `samples`). */
  samples(options: SamplesOptions = {}): AsyncGenerator<Sample> {
    return samples(this, options);
  }

  /** The same as a Node stream. */
  createReadStream(path: string, range: { start?: number; end?: number } = {}): Readable {
    return Readable.from(this.read(path, range.start, range.end), { objectMode: false, highWaterMark: 1 });
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** The options of Dataset.open: a reader's, and the licensed account an encrypted dataset is read with. */
export interface DatasetOptions extends DownloadOptions {
  license?: LicenseAccount;
  onKeyProgress?: (event: KeyProgress) => void;
}

/** The dataset's plaintext: the reader itself, or, when the dataset ends with an envelope, its decryption with the key from its nodes. */
async function plaintextOf(reader: DatasetReader, tail: Uint8Array, options: DatasetOptions): Promise<ByteView> {
  const envelope = await readEnvelope(reader, tail);
  if (!envelope) return reader;
  if (!options.license) {
    throw new DownloadError(
      'encrypted_dataset',
      `dataset ${toHex(reader.id)} is encrypted: reading it needs an account that holds a license (--account-key)`,
    );
  }
  const holders = { id: reader.id, envelope, urls: reader.nodeUrls, nodeKeys: reader.terms.nodeKeys };
  const secret = await fetchDatasetKey(holders, options.license, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onProgress: options.onKeyProgress,
  });
  return new DecryptedView(reader, envelope, secret);
}

/** The file index from the dataset's end, read from its tail (the last segment, or the last chunk: it holds the index whole, usually). */
async function readIndex(bytes: ByteView, tail?: Uint8Array): Promise<FileEntry[]> {
  const size = bytes.size;
  if (size < FILE_INDEX_TRAILER_BYTES) throw new ProtocolError('bad_file_index', 'the dataset is shorter than a file index trailer');
  const end = tail ?? (await readTail(bytes, FILE_INDEX_TRAILER_BYTES));
  const { fileCount, indexBytes } = decodeFileIndexTrailer(end.subarray(end.length - FILE_INDEX_TRAILER_BYTES));
  const need = indexBytes + FILE_INDEX_TRAILER_BYTES;
  if (need > size) throw new ProtocolError('bad_file_index', 'the file index is longer than the dataset');
  const index = (await lastBytes(bytes, end, need)).subarray(0, indexBytes);
  return decodeFileIndex(index, fileCount, size);
}

/** Opens dataset `id` as files (see Dataset). */
export function openDataset(id: Uint8Array, options: DatasetOptions): Promise<Dataset> {
  return Dataset.open(id, options);
}

/**
 * The SDK's download: a byte stream of one file of the dataset (`file`, or its only file),
 * or of bytes [start, end) of it; every byte checked against the content root on chain.
 */
export function download(id: Uint8Array, options: DatasetOptions & { file?: string }): Readable {
  return Readable.from(
    (async function* () {
      const dataset = await Dataset.open(id, options);
      try {
        const path = options.file ?? dataset.single?.path;
        if (path === undefined) {
          throw new InvalidArgumentError(`the dataset has ${dataset.files.length} files; name the one to download with \`file\``);
        }
        yield* dataset.read(path, options.start ?? 0, options.end);
      } finally {
        await dataset.close();
      }
    })(),
    { objectMode: false, highWaterMark: 1 },
  );
}
