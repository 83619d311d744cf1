import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assertBytes, assertInteger, CodecError } from './errors.ts';

/**
 * Reed-Solomon (k, m) over GF(2^8), systematic: shards 0..k-1 are the data, k..k+m-1 parity,
 * and any k shards recover the data. Backed by the `reed-solomon-erasure` Rust crate compiled
 * to wasm (package @subspace/reed-solomon-erasure.wasm).
 *
 * That package's JS wrapper reuses one wasm instance for every call, and a reused instance
 * has been measured here returning wrong bytes and trapping ("memory access out of bounds")
 * once it has seen a few different erasure patterns. So Sherd talks to the wasm exports
 * itself and gives every call a fresh instance of the once-compiled module (0.2 ms), so no
 * state can leak from one call into the next. test/unit/codec.test.ts proves it.
 */

interface RsExports {
  memory: WebAssembly.Memory;
  encode(pointer: number, length: number, dataShards: number, parityShards: number): number;
  reconstruct(pointer: number, length: number, dataShards: number, parityShards: number, flagsPointer: number, flagsLength: number): number;
  __wbindgen_malloc(size: number): number;
  __wbindgen_free(pointer: number, size: number): void;
}

const RESULT_MESSAGES: Record<number, string> = {
  1: 'too few shards',
  2: 'too many shards',
  3: 'too few data shards',
  4: 'too many data shards',
  5: 'too few parity shards',
  6: 'too many parity shards',
  7: 'too few buffer shards',
  8: 'too many buffer shards',
  9: 'incorrect shard size',
  10: 'too few shards present',
  11: 'empty shard',
  12: 'invalid shard flags',
  13: 'invalid index',
};

export const MAX_TOTAL_SHARDS = 256;

let compiledModule: WebAssembly.Module | undefined;

function rsModule(): WebAssembly.Module {
  if (!compiledModule) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@subspace/reed-solomon-erasure.wasm'));
    compiledModule = new WebAssembly.Module(readFileSync(join(dir, 'reed_solomon_erasure_bg.wasm')));
  }
  return compiledModule;
}

function freshInstance(): RsExports {
  return new WebAssembly.Instance(rsModule()).exports as unknown as RsExports;
}

export class ErasureCodec {
  readonly dataShards: number;
  readonly parityShards: number;

  constructor(dataShards: number, parityShards: number) {
    assertInteger('data shards (k)', dataShards, 1, MAX_TOTAL_SHARDS - 1);
    assertInteger('parity shards (m)', parityShards, 1, MAX_TOTAL_SHARDS - dataShards);
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    rsModule();
  }

  get totalShards(): number {
    return this.dataShards + this.parityShards;
  }

  /**
   * `shards` holds k + m equal shards back to back; the first k are data. Fills the last m
   * with parity in place and returns the same buffer.
   */
  encodeInPlace(shards: Uint8Array): Uint8Array {
    const shardSize = this.checkLayout(shards);
    const wasm = freshInstance();
    const pointer = wasm.__wbindgen_malloc(shards.length);
    new Uint8Array(wasm.memory.buffer).set(shards, pointer);
    const result = this.call(() => wasm.encode(pointer, shards.length, this.dataShards, this.parityShards));
    const memory = new Uint8Array(wasm.memory.buffer);
    const parityStart = shardSize * this.dataShards;
    shards.set(memory.subarray(pointer + parityStart, pointer + shards.length), parityStart);
    if (result !== 0) throw this.resultError('encode', result);
    return shards;
  }

  /** Encodes k data shards of equal size and returns the m parity shards. */
  encode(dataShards: Uint8Array[]): Uint8Array[] {
    if (dataShards.length !== this.dataShards) {
      throw new CodecError('codec_bad_shards', `expected ${this.dataShards} data shards, got ${dataShards.length}`);
    }
    const shardSize = dataShards[0]?.length ?? 0;
    const buffer = new Uint8Array(shardSize * this.totalShards);
    dataShards.forEach((shard, i) => {
      assertBytes(`data shard ${i}`, shard, shardSize);
      buffer.set(shard, i * shardSize);
    });
    this.encodeInPlace(buffer);
    return Array.from({ length: this.parityShards }, (_, j) =>
      buffer.slice((this.dataShards + j) * shardSize, (this.dataShards + j + 1) * shardSize),
    );
  }

  /**
   * Rebuilds the k data shards from any k of the k + m. `shards[i]` is shard i or undefined
   * when it is missing. Returns the data shards (present ones are returned as given).
   */
  reconstruct(shards: ReadonlyArray<Uint8Array | undefined>): Uint8Array[] {
    if (shards.length !== this.totalShards) {
      throw new CodecError('codec_bad_shards', `expected ${this.totalShards} shard slots, got ${shards.length}`);
    }
    const present = shards.filter((s): s is Uint8Array => s !== undefined);
    if (present.length < this.dataShards) {
      throw new CodecError('codec_too_few_shards', `need ${this.dataShards} shards to reconstruct, have ${present.length}`);
    }
    const shardSize = present[0]!.length;
    if (shardSize === 0) throw new CodecError('codec_bad_shards', 'shards must not be empty');
    if (shards.slice(0, this.dataShards).every((s) => s !== undefined)) return shards.slice(0, this.dataShards) as Uint8Array[];

    const buffer = new Uint8Array(shardSize * this.totalShards);
    const flags = new Uint8Array(this.totalShards);
    shards.forEach((shard, i) => {
      if (shard === undefined) return;
      assertBytes(`shard ${i}`, shard, shardSize);
      buffer.set(shard, i * shardSize);
      flags[i] = 1;
    });
    const wasm = freshInstance();
    const pointer = wasm.__wbindgen_malloc(buffer.length);
    const flagsPointer = wasm.__wbindgen_malloc(flags.length);
    const memory = new Uint8Array(wasm.memory.buffer);
    memory.set(buffer, pointer);
    memory.set(flags, flagsPointer);
    const result = this.call(() =>
      wasm.reconstruct(pointer, buffer.length, this.dataShards, this.parityShards, flagsPointer, flags.length),
    );
    if (result !== 0) throw this.resultError('reconstruct', result);
    const out = new Uint8Array(wasm.memory.buffer);
    return Array.from(
      { length: this.dataShards },
      (_, i) => shards[i] ?? out.slice(pointer + i * shardSize, pointer + (i + 1) * shardSize),
    );
  }

  private checkLayout(shards: Uint8Array): number {
    assertBytes('shards', shards);
    if (shards.length === 0 || shards.length % this.totalShards !== 0) {
      throw new CodecError('codec_bad_shards', `buffer of ${shards.length} bytes is not ${this.totalShards} equal, non-empty shards`);
    }
    return shards.length / this.totalShards;
  }

  private call(fn: () => number): number {
    try {
      return fn();
    } catch (cause) {
      throw new CodecError('codec_wasm_trap', 'the erasure codec failed inside wasm', { cause });
    }
  }

  private resultError(operation: string, result: number): CodecError {
    return new CodecError('codec_failed', `${operation} failed: ${RESULT_MESSAGES[result] ?? `code ${result}`}`);
  }
}

const sharedCodecs = new Map<string, ErasureCodec>();

/** One codec per (k, m) for the whole thread: workers code many segments with few codes. */
export function codecFor(k: number, m: number): ErasureCodec {
  let codec = sharedCodecs.get(`${k}/${m}`);
  if (!codec) {
    codec = new ErasureCodec(k, m);
    sharedCodecs.set(`${k}/${m}`, codec);
  }
  return codec;
}
