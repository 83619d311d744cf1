import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { BYTES_PER_BLOB, BYTES_PER_FIELD_ELEMENT, FIELD_ELEMENTS_PER_BLOB, PAYLOAD_BYTES_PER_BLOB, unpackBlob } from './blob.ts';
import { assertBytes, CodecError, InvalidArgumentError, KzgError, SherdError } from './errors.ts';
import { BLS_MODULUS, bitReverse, scalarToBytes } from './field.ts';
import { loadCKzg, TRUSTED_SETUP_PATH } from './kzg.ts';

/**
 * The hot loops of the code over Fr behind one interface, with two backends that give the
 * same bytes: `native` (native/, on the blst that c-kzg ships) and `js` (BigInt and noble, and
 * c-kzg for blob commitments), the fallback where the addon did not build. One test suite
 * (test/unit/fr-backend.test.ts) runs against both and checks them against c-kzg.
 */
export type FrBackendName = 'native' | 'js';
export const FR_BACKENDS: readonly FrBackendName[] = ['native', 'js'];

/** A matrix over Fr, with its 32-byte big-endian encoding (row-major) made once. */
export interface FrMatrix {
  readonly rows: number;
  readonly columns: number;
  readonly values: readonly (readonly bigint[])[];
  readonly bytes: Uint8Array;
}

export function frMatrix(values: bigint[][]): FrMatrix {
  const rows = values.length;
  const columns = values[0]?.length ?? 0;
  if (rows === 0 || columns === 0) throw new InvalidArgumentError('a matrix needs at least one row and one column');
  const bytes = new Uint8Array(rows * columns * BYTES_PER_FIELD_ELEMENT);
  values.forEach((row, j) => {
    if (row.length !== columns) throw new InvalidArgumentError('every matrix row must have the same length');
    row.forEach((value, i) => {
      if (value < 0n || value >= BLS_MODULUS) throw new InvalidArgumentError('matrix elements must be below the scalar modulus');
      bytes.set(scalarToBytes(value), (j * columns + i) * BYTES_PER_FIELD_ELEMENT);
    });
  });
  return { rows, columns, values, bytes };
}

export interface FrBackend {
  readonly name: FrBackendName;
  /** A blob's KZG commitment: natively the fixed-base (BGMW) MSM, byte-identical to c-kzg. */
  commitBlob(blob: Uint8Array): Uint8Array;
  /** Σ scalarᵢ·pointᵢ over 48-byte compressed points, each checked to be in G1. */
  msm(points: readonly Uint8Array[], scalars: readonly bigint[]): Uint8Array;
  /** Row j of the result: Σᵢ matrix[j][i]·commitmentᵢ. */
  combineCommitments(commitments: readonly Uint8Array[], matrix: FrMatrix): Uint8Array[];
  /**
   * Row j, element e: Σᵢ matrix[j][i]·blobᵢ[e] in Fr. `blobs` holds matrix.columns blobs back to
   * back; the result holds matrix.rows blobs back to back. Every element must be below r.
   */
  combineBlobs(blobs: Uint8Array, matrix: FrMatrix): Uint8Array;
  /**
   * The same parity as combineBlobs with the code's parity matrix, by FFT, for k a power of two
   * (natively only). `params`: ω of order k, ω⁻¹, k⁻¹, then each parity coset's shift, 32 bytes each.
   */
  fftEncode?(data: Uint8Array, params: Uint8Array, m: number): Uint8Array;
  /** A data blob's payload (the 31 low bytes of each element, back to back) into `out`: every byte a reader gets passes here. */
  unpackBlob(blob: Uint8Array, out: Uint8Array): Uint8Array;
}

interface NativeAddon {
  loadSetup(points: Uint8Array): void;
  commitBlob(blob: Uint8Array): Uint8Array;
  msm(points: Uint8Array, scalars: Uint8Array, checkSubgroup: boolean): Uint8Array;
  combineCommitments(commitments: Uint8Array, matrix: Uint8Array): Uint8Array;
  combineBlobs(blobs: Uint8Array, matrix: Uint8Array): Uint8Array;
  fftEncode(blobs: Uint8Array, params: Uint8Array, m: number): Uint8Array;
  unpackBlob(blob: Uint8Array, out: Uint8Array): Uint8Array;
}

export const NATIVE_ADDON_PATH = new URL('../native/build/Release/sherd_native.node', import.meta.url);

function concat(parts: readonly Uint8Array[], each: number, name: string): Uint8Array {
  const out = new Uint8Array(parts.length * each);
  parts.forEach((part, i) => {
    assertBytes(`${name} ${i}`, part, each);
    out.set(part, i * each);
  });
  return out;
}

function split(bytes: Uint8Array, each: number): Uint8Array[] {
  return Array.from({ length: bytes.length / each }, (_, i) => bytes.slice(i * each, (i + 1) * each));
}

/** The addon's errors carry a stable `code`; they become Sherd's errors of the caller's kind, cause kept. */
function rethrow(kind: typeof KzgError | typeof CodecError, operation: string, cause: unknown): never {
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'invalid_argument') throw new InvalidArgumentError(message, { cause });
  throw new kind(typeof code === 'string' ? code : `${operation}_failed`, `${operation}: ${message}`, { cause });
}

/**
 * The 4096 G1 Lagrange points of the EIP-4844 setup, in the order a blob's elements multiply
 * them: the file's order bit-reversed, as c-kzg arranges them at load.
 */
export function lagrangeSetupPoints(): Uint8Array {
  const lines = readFileSync(TRUSTED_SETUP_PATH, 'utf8').trim().split('\n');
  const count = Number(lines[0]);
  if (count !== FIELD_ELEMENTS_PER_BLOB) throw new KzgError('kzg_setup_failed', `the trusted setup has ${count} G1 points, not 4096`);
  const out = new Uint8Array(count * 48);
  const bits = Math.log2(count);
  for (let i = 0; i < count; i++) out.set(Buffer.from(lines[2 + bitReverse(i, bits)]!.trim(), 'hex'), i * 48);
  return out;
}

/** An MSM's arguments checked: one scalar per point, each a bigint below r. */
function checkMsmArguments(points: readonly Uint8Array[], scalars: readonly bigint[]): void {
  if (points.length !== scalars.length) throw new InvalidArgumentError('one scalar per point');
  for (const s of scalars) {
    if (typeof s !== 'bigint' || s < 0n || s >= BLS_MODULUS) throw new InvalidArgumentError('scalars must be below the scalar modulus');
  }
}

function nativeBackend(addon: NativeAddon): FrBackend {
  let setupLoaded = false;
  const scalarBytes = (scalars: readonly bigint[]) => {
    const out = new Uint8Array(scalars.length * 32);
    scalars.forEach((s, i) => {
      out.set(scalarToBytes(s), i * 32);
    });
    return out;
  };
  return {
    name: 'native',
    commitBlob(blob) {
      assertBytes('blob', blob, BYTES_PER_BLOB);
      try {
        // Once per process: the addon keeps one table for every thread (about 0.9 s, 7.5 MiB).
        if (!setupLoaded) addon.loadSetup(lagrangeSetupPoints());
        setupLoaded = true;
        return addon.commitBlob(blob);
      } catch (cause) {
        return rethrow(KzgError, 'commit', cause);
      }
    },
    msm(points, scalars) {
      checkMsmArguments(points, scalars);
      const pointBytes = concat(points, 48, 'point');
      const scalarsBytes = scalarBytes(scalars);
      try {
        return addon.msm(pointBytes, scalarsBytes, true);
      } catch (cause) {
        return rethrow(KzgError, 'msm', cause);
      }
    },
    combineCommitments(commitments, matrix) {
      if (commitments.length !== matrix.columns) throw new InvalidArgumentError(`expected ${matrix.columns} commitments`);
      const bytes = concat(commitments, 48, 'commitment');
      try {
        return split(addon.combineCommitments(bytes, matrix.bytes), 48);
      } catch (cause) {
        return rethrow(KzgError, 'combine commitments', cause);
      }
    },
    combineBlobs(blobs, matrix) {
      assertBytes('blobs', blobs, matrix.columns * BYTES_PER_BLOB);
      try {
        return addon.combineBlobs(blobs, matrix.bytes);
      } catch (cause) {
        return rethrow(CodecError, 'combine blobs', cause);
      }
    },
    fftEncode(data, params, m) {
      try {
        return addon.fftEncode(data, params, m);
      } catch (cause) {
        return rethrow(CodecError, 'FFT encode', cause);
      }
    },
    unpackBlob(blob, out) {
      assertBytes('blob', blob, BYTES_PER_BLOB);
      assertBytes('out', out, PAYLOAD_BYTES_PER_BLOB);
      return addon.unpackBlob(blob, out);
    },
  };
}

type G1Point = ReturnType<typeof bls12_381.G1.Point.fromBytes>;

function pointOf(bytes: Uint8Array, index: number): G1Point {
  assertBytes(`point ${index}`, bytes, 48);
  try {
    const point = bls12_381.G1.Point.fromBytes(bytes);
    point.assertValidity(); // on the curve and in the prime-order subgroup
    return point;
  } catch (cause) {
    throw new KzgError('bad_point', `point ${index} is not a compressed point of G1`, { cause });
  }
}

/** The compressed point at infinity: the flags byte 0xc0, then zeros. */
export const G1_INFINITY: Uint8Array = Uint8Array.of(0xc0, ...new Uint8Array(47));

function jsMsm(points: G1Point[], scalars: readonly bigint[]): Uint8Array {
  const terms = points.flatMap((p, i) => (scalars[i] === 0n || p.is0() ? [] : [{ p, s: scalars[i]! }]));
  if (terms.length === 0) return G1_INFINITY.slice();
  const sum = pippenger(
    bls12_381.G1.Point,
    terms.map((t) => t.p),
    terms.map((t) => t.s),
  );
  // noble refuses to encode a sum that came out as infinity; it has one encoding.
  return sum.is0() ? G1_INFINITY.slice() : sum.toBytes(true);
}

/** The blob's elements as bigints; CodecError when one is not below r. */
function blobElements(blobs: Uint8Array, index: number): bigint[] {
  const view = new DataView(blobs.buffer, blobs.byteOffset + index * BYTES_PER_BLOB, BYTES_PER_BLOB);
  return Array.from({ length: FIELD_ELEMENTS_PER_BLOB }, (_, e) => {
    const o = e * BYTES_PER_FIELD_ELEMENT;
    const value =
      (view.getBigUint64(o) << 192n) | (view.getBigUint64(o + 8) << 128n) | (view.getBigUint64(o + 16) << 64n) | view.getBigUint64(o + 24);
    if (value >= BLS_MODULUS) {
      throw new CodecError(
        'non_canonical_field_element',
        `combine blobs: element ${e} of input blob ${index} is not below the BLS12-381 scalar modulus`,
      );
    }
    return value;
  });
}

const jsBackend: FrBackend = {
  name: 'js',
  unpackBlob,
  commitBlob: (blob) => loadCKzg().blobToCommitment(blob),
  msm(points, scalars) {
    checkMsmArguments(points, scalars);
    return jsMsm(points.map(pointOf), scalars);
  },
  combineCommitments(commitments, matrix) {
    if (commitments.length !== matrix.columns) throw new InvalidArgumentError(`expected ${matrix.columns} commitments`);
    const points = commitments.map(pointOf);
    return matrix.values.map((row) => jsMsm(points, row));
  },
  combineBlobs(blobs, matrix) {
    assertBytes('blobs', blobs, matrix.columns * BYTES_PER_BLOB);
    const inputs = Array.from({ length: matrix.columns }, (_, i) => blobElements(blobs, i));
    const out = new Uint8Array(matrix.rows * BYTES_PER_BLOB);
    const view = new DataView(out.buffer);
    const mask = 0xffffffffffffffffn;
    matrix.values.forEach((row, j) => {
      for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
        let sum = 0n;
        for (let i = 0; i < row.length; i++) sum += row[i]! * inputs[i]![e]!;
        sum %= BLS_MODULUS;
        const o = j * BYTES_PER_BLOB + e * BYTES_PER_FIELD_ELEMENT;
        view.setBigUint64(o, sum >> 192n);
        view.setBigUint64(o + 8, (sum >> 128n) & mask);
        view.setBigUint64(o + 16, (sum >> 64n) & mask);
        view.setBigUint64(o + 24, sum & mask);
      }
    });
    return out;
  },
};

let nativeLoad: { backend?: FrBackend; error?: unknown } | undefined;

/** The native backend, or why it cannot load (the addon did not build, or was built for another Node). */
function tryNative(): { backend?: FrBackend; error?: unknown } {
  if (!nativeLoad) {
    try {
      const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH.pathname) as NativeAddon;
      nativeLoad = { backend: nativeBackend(addon) };
    } catch (error) {
      nativeLoad = { error };
    }
  }
  return nativeLoad;
}

let warned = false;

/**
 * The backend to use: `native` when the addon loads, else `js` with one process warning
 * (same bytes, slower). SHERD_FR_BACKEND=js forces the fallback; asking for `native` by name
 * throws when it is not there.
 */
export function loadFrBackend(name?: FrBackendName): FrBackend {
  const wanted = name ?? (process.env.SHERD_FR_BACKEND as FrBackendName | undefined);
  if (wanted === 'js') return jsBackend;
  if (wanted !== undefined && wanted !== 'native') {
    throw new InvalidArgumentError(`unknown Fr backend ${String(wanted)} (choose native or js)`);
  }
  const native = tryNative();
  if (native.backend) return native.backend;
  if (wanted === 'native') {
    throw new SherdError('native_unavailable', 'the native addon is not built (run npm install, or npm run build:native)', {
      cause: native.error,
    });
  }
  if (!warned) {
    warned = true;
    process.emitWarning('the native addon (native/) is not built: coding and commitments fall back to JavaScript, same bytes, slower', {
      code: 'SHERD_NATIVE_UNAVAILABLE',
      detail: String((native.error as Error | undefined)?.message ?? native.error),
    });
  }
  return jsBackend;
}
