import { randomBytes } from 'node:crypto';
import { BYTES_PER_BLOB } from './blob.ts';
import { assertBytes, assertInteger, CodecError, InvalidArgumentError } from './errors.ts';
import { BLS_MODULUS, bitReverse, frInverse, frMod, frPow, scalarToBytes } from './field.ts';
import { type FrBackend, type FrMatrix, frMatrix, G1_INFINITY, loadFrBackend } from './fr-backend.ts';
import { equalBytes } from './bytes.ts';

/**
 * Sherd's erasure code: systematic Reed-Solomon over the BLS12-381 scalar field Fr. FrCode
 * codes blobs through an FrBackend (native, or the JS fallback); the BigInt functions below it
 * (encodeColumns, decodeColumns) are the plain reference both are tested against.
 *
 * Element by element across a segment's blobs, the k data values are the evaluations at
 * points x₀ … x_{k−1} of the unique polynomial of degree < k through them, and parity j is its
 * evaluation at x_{k+j}. The points are the bit-reversed powers of a primitive N-th root of
 * unity, N = 2^⌈log₂(k + m)⌉ (EIP-4844's blob domain, in its order): distinct, so any k of the
 * k + m values determine the polynomial (every k × k submatrix of the generator is
 * invertible), and when k is a power of two the data points are a subgroup, where encoding is
 * an inverse FFT and FFTs over cosets. Parity j = Σᵢ G[j][i]·dataᵢ with G[j][i] = Lᵢ(x_{k+j}),
 * the Lagrange basis over the data points, is linear: a parity blob's KZG commitment is the same
 * combination of the data blobs' commitments.
 */
const r = BLS_MODULUS;
const mod = frMod;
const pow = frPow;

const inverse = (a: bigint) => {
  if (mod(a) === 0n) throw new CodecError('codec_failed', 'no inverse of zero');
  return frInverse(a);
};

/** 7 generates Fr's multiplicative group (EIP-4844's PRIMITIVE_ROOT_OF_UNITY); Fr has 2-adicity 32. */
const PRIMITIVE_ROOT = 7n;

/** The code's k + m evaluation points, data points first. */
export function evaluationPoints(k: number, m: number): bigint[] {
  checkCode(k, m);
  const bits = Math.ceil(Math.log2(k + m));
  const root = pow(PRIMITIVE_ROOT, (r - 1n) / (1n << BigInt(bits)));
  return Array.from({ length: k + m }, (_, i) => pow(root, BigInt(bitReverse(i, bits))));
}

/** At most 256 shards a segment: the evaluation domain stays within 2^8 points. */
export const MAX_TOTAL_SHARDS = 256;

function checkCode(k: number, m: number): void {
  assertInteger('data shards (k)', k, 1, MAX_TOTAL_SHARDS - 1);
  assertInteger('parity shards (m)', m, 1, MAX_TOTAL_SHARDS - 1);
  if (k + m > MAX_TOTAL_SHARDS) throw new InvalidArgumentError(`k + m must be at most ${MAX_TOTAL_SHARDS}, got ${k + m}`);
}

/** Inverses of every value at the cost of one (Montgomery's trick); none may be zero. */
function batchInverse(values: bigint[]): bigint[] {
  const prefix: bigint[] = [];
  let running = 1n;
  for (const v of values) {
    prefix.push(running);
    running = (running * v) % r;
  }
  let inv = inverse(running);
  const out = new Array<bigint>(values.length);
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % r;
    inv = (inv * values[i]!) % r;
  }
  return out;
}

/** Barycentric weights of `points`: wᵢ = 1 / Π_{j≠i} (xᵢ − xⱼ). */
function weightsOf(points: bigint[]): bigint[] {
  return batchInverse(points.map((xi, i) => points.reduce((product, xj, j) => (i === j ? product : (product * mod(xi - xj)) % r), 1n)));
}

/** Lagrange basis over `from` (with its weights), at `at` (not one of them): Lᵢ(at) = ℓ(at)·wᵢ / (at − xᵢ). */
function lagrangeRow(from: bigint[], weights: bigint[], at: bigint): bigint[] {
  const ell = from.reduce((product, x) => (product * mod(at - x)) % r, 1n);
  const inverses = batchInverse(from.map((x) => mod(at - x)));
  return from.map((_, i) => (((ell * weights[i]!) % r) * inverses[i]!) % r);
}

/** The m × k generator's parity rows: G[j][i] = Lᵢ(x_{k+j}). */
export function parityMatrix(k: number, m: number): bigint[][] {
  const points = evaluationPoints(k, m);
  const data = points.slice(0, k);
  const weights = weightsOf(data);
  return points.slice(k).map((x) => lagrangeRow(data, weights, x));
}

/**
 * Parity values for data values `data` (k columns of field elements, each the same length):
 * m columns. Values are bigints below the modulus.
 */
export function encodeColumns(data: bigint[][], m: number): bigint[][] {
  const k = data.length;
  const matrix = parityMatrix(k, m);
  const length = data[0]?.length ?? 0;
  for (const column of data) {
    if (column.length !== length) throw new InvalidArgumentError('every data column must have the same length');
  }
  return matrix.map((row) =>
    Array.from({ length }, (_, e) => {
      let sum = 0n;
      for (let i = 0; i < k; i++) sum += row[i]! * data[i]![e]!;
      return sum % r;
    }),
  );
}

/**
 * The k data columns from any k of the k + m (`present[i]` is column i, data first, or
 * undefined when lost). CodecError with fewer than k.
 */
export function decodeColumns(present: Array<bigint[] | undefined>, k: number, m: number): bigint[][] {
  checkCode(k, m);
  if (present.length !== k + m) throw new InvalidArgumentError(`expected ${k + m} columns, got ${present.length}`);
  const have = present.flatMap((column, i) => (column ? [i] : [])).slice(0, k);
  if (have.length < k) throw new CodecError('too_few_shards', `decoding needs ${k} of the ${k + m} shards, got ${have.length}`);
  if (have.every((index, j) => index === j)) return present.slice(0, k) as bigint[][];
  const points = evaluationPoints(k, m);
  const from = have.map((i) => points[i]!);
  const weights = weightsOf(from);
  const columns = have.map((i) => present[i]!);
  const length = columns[0]!.length;
  return points.slice(0, k).map((x, target) => {
    if (present[target]) return present[target]!;
    const row = lagrangeRow(from, weights, x);
    return Array.from({ length }, (_, e) => {
      let sum = 0n;
      for (let i = 0; i < k; i++) sum += row[i]! * columns[i]![e]!;
      return sum % r;
    });
  });
}

/**
 * Whether encoding by FFT costs fewer field multiplications a position than the k × m matrix:
 * it needs k a power of two, then an inverse FFT, and per coset of k parity points a scaling and
 * a forward FFT. It pays once m is not small against k (16 + 16: 3.3× fewer; 16 + 3: the
 * matrix wins; docs/benchmarks.md, "Encoding by FFT").
 */
export function encodesByFft(k: number, m: number): boolean {
  if (k < 2 || (k & (k - 1)) !== 0) return false;
  const butterflies = (k / 2) * Math.log2(k);
  const cosets = Math.ceil(m / k);
  return butterflies * (1 + cosets) + cosets * k + 2 * k < k * m;
}

/**
 * The FFT encoder's parameters: with k a power of two the data points are the subgroup H of
 * order k (bit-reversed), and parity point c·k + t is s_c·ω^rev(t), s_c = x_{c·k}, the first
 * point of coset c (c ≥ 1). So: ω = 7^((r−1)/k), ω⁻¹, k⁻¹, and s_1 … s_C with C = ⌈m / k⌉.
 */
export function fftParameters(k: number, m: number, points: bigint[]): Uint8Array {
  const omega = pow(PRIMITIVE_ROOT, (r - 1n) / BigInt(k));
  const shifts = Array.from({ length: Math.ceil(m / k) }, (_, c) => points[(c + 1) * k]!);
  const values = [omega, inverse(omega), inverse(BigInt(k)), ...shifts];
  const out = new Uint8Array(values.length * 32);
  values.forEach((v, i) => {
    out.set(scalarToBytes(v), i * 32);
  });
  return out;
}

/** One segment's shard commitments, 48-byte compressed G1 points: k data, m parity. */
export interface SegmentCommitments {
  data: Uint8Array[];
  parity: Uint8Array[];
}

/**
 * The code on blobs, through a backend. Parity blob j's element e is Σᵢ G[j][i]·dataᵢ[e], a
 * full canonical field element; parity commitments are the same combinations of the data
 * commitments (KZG is linear over Fr), so a client commits to its data blobs only.
 */
export class FrCode {
  readonly k: number;
  readonly m: number;
  private readonly parity: FrMatrix;
  private readonly points: bigint[];
  /** When encoding by FFT pays (encodesByFft): ω, ω⁻¹, k⁻¹ and the parity cosets' shifts. */
  private readonly fftParams: Uint8Array | undefined;
  /** Decoding matrices by erasure pattern: a reader meets few patterns, and each costs k² BigInt steps. */
  private readonly decoders = new Map<string, FrMatrix>();

  constructor(
    k: number,
    m: number,
    readonly backend: FrBackend = loadFrBackend(),
  ) {
    checkCode(k, m);
    this.k = k;
    this.m = m;
    this.points = evaluationPoints(k, m);
    this.parity = frMatrix(parityMatrix(k, m));
    this.fftParams = backend.fftEncode && encodesByFft(k, m) ? fftParameters(k, m, this.points) : undefined;
  }

  get totalShards(): number {
    return this.k + this.m;
  }

  /** The m parity blobs (back to back) of k data blobs (back to back). */
  encode(data: Uint8Array): Uint8Array {
    assertBytes('data blobs', data, this.k * BYTES_PER_BLOB);
    if (this.fftParams && this.backend.fftEncode) return this.backend.fftEncode(data, this.fftParams, this.m);
    return this.backend.combineBlobs(data, this.parity);
  }

  /** The m parity commitments from the k data commitments. */
  parityCommitments(dataCommitments: readonly Uint8Array[]): Uint8Array[] {
    if (dataCommitments.length !== this.k)
      throw new InvalidArgumentError(`expected ${this.k} data commitments, got ${dataCommitments.length}`);
    return this.backend.combineCommitments(dataCommitments, this.parity);
  }

  /**
   * The k data blobs from any k of the k + m (`blobs[i]` is shard i, or undefined when lost).
   * Present data blobs come back as given. CodecError `too_few_shards` with fewer than k.
   */
  decode(blobs: ReadonlyArray<Uint8Array | undefined>): Uint8Array[] {
    if (blobs.length !== this.totalShards) throw new InvalidArgumentError(`expected ${this.totalShards} shard slots, got ${blobs.length}`);
    const have = blobs.flatMap((blob, i) => (blob ? [i] : [])).slice(0, this.k);
    if (have.length < this.k) {
      throw new CodecError('too_few_shards', `decoding needs ${this.k} of the ${this.totalShards} shards, got ${have.length}`);
    }
    const missing = Array.from({ length: this.k }, (_, i) => i).filter((i) => !blobs[i]);
    if (missing.length === 0) return blobs.slice(0, this.k) as Uint8Array[];
    const input = new Uint8Array(this.k * BYTES_PER_BLOB);
    have.forEach((index, slot) => {
      assertBytes(`shard ${index}`, blobs[index], BYTES_PER_BLOB);
      input.set(blobs[index]!, slot * BYTES_PER_BLOB);
    });
    const rebuilt = this.backend.combineBlobs(input, this.decoder(have, missing));
    const out = blobs.slice(0, this.k) as Uint8Array[];
    missing.forEach((index, row) => {
      out[index] = rebuilt.subarray(row * BYTES_PER_BLOB, (row + 1) * BYTES_PER_BLOB);
    });
    return out;
  }

  private decoder(have: number[], missing: number[]): FrMatrix {
    const key = `${have.join(',')}>${missing.join(',')}`;
    let matrix = this.decoders.get(key);
    if (!matrix) {
      const from = have.map((i) => this.points[i]!);
      const weights = weightsOf(from);
      matrix = frMatrix(missing.map((target) => lagrangeRow(from, weights, this.points[target]!)));
      if (this.decoders.size >= 64) this.decoders.delete(this.decoders.keys().next().value!);
      this.decoders.set(key, matrix);
    }
    return matrix;
  }

  /**
   * Whether every segment's parity commitments are the code's combinations of its data
   * commitments, so that (with each blob checked against its commitment) any k shards of a
   * segment decode to the same bytes. Batched with a random 128-bit coefficient ρ per parity
   * shard, one multi-scalar multiplication for the whole set:
   *   Σ_{s,j} ρ_{s,j}·P_{s,j} − Σ_{s,i} (Σ_j ρ_{s,j}·G[j][i])·C_{s,i} = 0,
   * which a wrong parity commitment fails except with probability 2⁻¹²⁸. False on malformed
   * input (wrong counts, bytes that are not points of G1), never a throw.
   */
  parityCommitmentsConsistent(segments: readonly SegmentCommitments[]): boolean {
    const matrix = this.parity.values;
    const points: Uint8Array[] = [];
    const scalars: bigint[] = [];
    for (const segment of segments) {
      if (segment.data.length !== this.k || segment.parity.length !== this.m) return false;
      const dataScalars = new Array<bigint>(this.k).fill(0n);
      for (const [j, commitment] of segment.parity.entries()) {
        const rho = BigInt(`0x${randomBytes(16).toString('hex')}`) + 1n;
        points.push(commitment);
        scalars.push(rho);
        for (let i = 0; i < this.k; i++) dataScalars[i] = (dataScalars[i]! + rho * matrix[j]![i]!) % r;
      }
      for (const [i, commitment] of segment.data.entries()) {
        points.push(commitment);
        scalars.push(mod(-dataScalars[i]!));
      }
    }
    if (points.length === 0) return true;
    try {
      return equalBytes(this.backend.msm(points, scalars), G1_INFINITY);
    } catch {
      return false;
    }
  }
}

const sharedCodes = new Map<string, FrCode>();

/** One code per (k, m) for the whole thread: workers code many segments with few codes. */
export function frCodeFor(k: number, m: number): FrCode {
  let code = sharedCodes.get(`${k}/${m}`);
  if (!code) {
    code = new FrCode(k, m);
    sharedCodes.set(`${k}/${m}`, code);
  }
  return code;
}
