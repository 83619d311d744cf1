import { InvalidArgumentError } from '../proofs/errors.ts';
import { DownloadError } from './errors.ts';

/**
 * A reader of tar archives (POSIX ustar, GNU long names, pax `path` records) over a byte
 * source that can either stream or seek: the loader reads a tar front to back for its
 * samples, and only its headers to count them (docs/training.md). A streaming extractor from
 * npm could not hop over member bodies, which is what makes counting cheap.
 */
export interface TarSource {
  /** Up to `length` bytes (fewer only at the end). */
  read(length: number): Promise<Uint8Array>;
  /** Moves past `length` bytes without needing them; how many there were (fewer only at the end). */
  skip(length: number): Promise<number>;
}

export interface TarEntry {
  path: string;
  size: number;
  /** A regular file (not a directory, link or device). */
  regular: boolean;
  /** Its bytes; an entry not read is skipped over. Valid until the next entry is asked for. */
  read(): Promise<Uint8Array>;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function badTar(message: string): DownloadError {
  return new DownloadError('bad_tar', message);
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** A numeric field: octal text, or (GNU, for sizes past 8 GiB) base-256 when the top bit is set. */
function numeric(block: Uint8Array, start: number, length: number): number {
  if (block[start]! & 0x80) {
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const digits = text(block, start, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw badTar(`a tar header has a numeric field that is not octal: ${digits.slice(0, 12)}`);
  return digits === '' ? 0 : Number.parseInt(digits, 8);
}

/** Checked before any other field is read, so that bytes which are not a tar are said to be so. */
function checksumHolds(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  const stated = text(block, 148, 8).trim();
  return /^[0-7]+$/.test(stated) && sum === Number.parseInt(stated, 8);
}

/** The `path` and `size` records of a pax extended header ("LEN key=VALUE\n" records). */
function paxRecords(data: Uint8Array): { path?: string; size?: number } {
  const records: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (space < 0 || !Number.isInteger(length) || length <= 0) throw badTar('a pax header record is malformed');
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf('=');
    const [key, value] = [record.slice(0, equals), record.slice(equals + 1)];
    if (key === 'path') records.path = value;
    // Past 8 GiB a member's size is only here (the header's field says 0).
    if (key === 'size' && /^\d+$/.test(value)) records.size = Number(value);
    at += length;
  }
  return records;
}

/** The entries of the tar read from `source`, in order, until its end-of-archive block (or the end of the bytes). */
export async function* tarEntries(source: TarSource): AsyncGenerator<TarEntry> {
  let longName: string | undefined;
  let extended: { path?: string; size?: number } = {};
  for (;;) {
    const header = await source.read(BLOCK);
    if (header.length === 0 || header.every((byte) => byte === 0)) return;
    if (header.length < BLOCK) throw badTar('the tar ends inside a header');
    if (!checksumHolds(header)) throw badTar('a tar header fails its checksum: this is not a tar, or it is damaged');
    const type = String.fromCharCode(header[156]!);
    const size = type === 'x' || type === 'g' || type === 'L' ? numeric(header, 124, 12) : (extended.size ?? numeric(header, 124, 12));
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'x' || type === 'g') {
      const data = (await source.read(padded)).subarray(0, size);
      if (data.length < size) throw badTar('the tar ends inside an extended header');
      if (type === 'L') longName = text(data, 0, data.length);
      if (type === 'x') extended = paxRecords(data);
      continue;
    }
    const ustar = text(header, 257, 6) === 'ustar';
    const prefix = ustar ? text(header, 345, 155) : '';
    const name = text(header, 0, 100);
    const path = extended.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    extended = {};
    let consumed = false;
    yield {
      path,
      size,
      // An old-style entry ('\0') whose name ends in `/` is a directory, as Python's tarfile reads it.
      regular: type === '0' || type === '7' || (type === '\0' && !path.endsWith('/')),
      async read() {
        if (consumed) throw new InvalidArgumentError(`tar member ${path} was read already`);
        consumed = true;
        const data = await source.read(padded);
        if (data.length < size) throw badTar(`the tar ends inside ${path}`);
        return data.subarray(0, size);
      },
    };
    if (!consumed && (await source.skip(padded)) < padded) throw badTar(`the tar ends inside ${path}`);
  }
}

/** A TarSource over a stream of chunks (skipping reads and drops). */
export function streamedSource(chunks: AsyncIterable<Uint8Array>): TarSource {
  const iterator = chunks[Symbol.asyncIterator]();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let ended = false;
  const fill = async (length: number) => {
    while (bufferedBytes < length && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else {
        buffered.push(next.value);
        bufferedBytes += next.value.length;
      }
    }
  };
  const take = (length: number): Uint8Array => {
    const all = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered);
    const part = all.subarray(0, Math.min(length, all.length));
    const rest = all.subarray(part.length);
    buffered = rest.length > 0 ? [rest] : [];
    bufferedBytes = rest.length;
    return part;
  };
  return {
    async read(length) {
      await fill(length);
      return take(length);
    },
    async skip(length) {
      let left = length;
      while (left > 0) {
        await fill(Math.min(left, 1 << 20));
        if (bufferedBytes === 0) break;
        left -= take(Math.min(left, 1 << 20)).length;
      }
      return length - left;
    },
  };
}

/**
 * A TarSource over random access (`readAt`), reading `window` bytes at a time: headers close
 * together come from one read, and a member's body is hopped over without reading it.
 */
export function rangedSource(readAt: (start: number, end: number) => Promise<Uint8Array>, size: number, window = 8 * 1024): TarSource {
  let offset = 0;
  let cached: { start: number; bytes: Uint8Array } | undefined;
  return {
    async read(length) {
      const end = Math.min(size, offset + length);
      if (!cached || offset < cached.start || end > cached.start + cached.bytes.length) {
        cached = { start: offset, bytes: await readAt(offset, Math.min(size, offset + Math.max(length, window))) };
      }
      const part = cached.bytes.subarray(offset - cached.start, end - cached.start);
      offset = end;
      return part;
    },
    async skip(length) {
      const from = offset;
      offset = Math.min(size, offset + length);
      return offset - from;
    },
  };
}
