import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../proofs/errors.ts';

/** What upload accepts: a file path, bytes in memory, or any byte stream. */
export type UploadSource = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

export async function sourceSize(source: UploadSource): Promise<number | undefined> {
  if (typeof source === 'string') return (await stat(source)).size;
  if (source instanceof Uint8Array) return source.length;
  return undefined;
}

export function sourceStream(source: UploadSource): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') return createReadStream(source, { highWaterMark: 1 << 20 });
  if (source instanceof Uint8Array)
    return (async function* () {
      yield source;
    })();
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function')
    return source as AsyncIterable<Uint8Array>;
  throw new InvalidArgumentError('upload source must be a file path, a Uint8Array or an async iterable of bytes');
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
