import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BYTES_PER_BLOB } from './blob.ts';
import { fromHex, toHex } from './bytes.ts';
import { assertBytes, KzgError } from './errors.ts';

export const BYTES_PER_COMMITMENT = 48;
export const BYTES_PER_PROOF = 48;
export const BYTES_PER_SCALAR = 32;

export interface PointOpening {
  /** The KZG opening proof π (48 bytes). */
  proof: Uint8Array;
  /** y = p(z), 32 bytes big-endian. */
  y: Uint8Array;
}

/**
 * KZG over the EIP-4844 trusted setup. Following noble, `compute*` throws (KzgError or
 * InvalidArgumentError) and `verify*` returns false on any malformed input.
 */
export interface Kzg {
  readonly backend: KzgBackendName;
  /** Whether computeProof (opening at an arbitrary z) is available. */
  readonly canOpenAtPoint: boolean;
  blobToCommitment(blob: Uint8Array): Uint8Array;
  computeBlobProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array;
  /** Opens the blob's polynomial at z. Throws KzgError `kzg_unsupported` where the backend cannot. */
  computeProof(blob: Uint8Array, z: Uint8Array): PointOpening;
  verifyProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobProof(blob: Uint8Array, commitment: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobProofBatch(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): boolean;
}

export type KzgBackendName = 'c-kzg' | 'kzg-wasm';
export const KZG_BACKENDS: readonly KzgBackendName[] = ['c-kzg', 'kzg-wasm'];

/** A backend's bare operations, on inputs `checkedKzg` has already validated. */
interface KzgOperations {
  commit(blob: Uint8Array): Uint8Array;
  blobProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array;
  /** Undefined where the backend cannot open at an arbitrary point. */
  openAt?(blob: Uint8Array, z: Uint8Array): PointOpening;
  verifyProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobProof(blob: Uint8Array, commitment: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobProofBatch(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): boolean;
}

function isLength(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function compute<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new KzgError('kzg_failed', `KZG ${operation} failed`, { cause });
  }
}

function verify(valid: boolean, fn: () => boolean): boolean {
  if (!valid) return false;
  try {
    return fn() === true;
  } catch {
    return false;
  }
}

/**
 * Wraps a backend in the checks every backend shares, written once: `compute*` throws
 * InvalidArgumentError on malformed input and KzgError when the backend fails; `verify*`
 * returns false on malformed input and on any backend error.
 */
function checkedKzg(backend: KzgBackendName, ops: KzgOperations): Kzg {
  const blobOk = (blob: unknown) => isLength(blob, BYTES_PER_BLOB);
  return {
    backend,
    canOpenAtPoint: ops.openAt !== undefined,
    blobToCommitment(blob) {
      assertBytes('blob', blob, BYTES_PER_BLOB);
      return compute('commit', () => ops.commit(blob));
    },
    computeBlobProof(blob, commitment) {
      assertBytes('blob', blob, BYTES_PER_BLOB);
      assertBytes('commitment', commitment, BYTES_PER_COMMITMENT);
      return compute('blob proof', () => ops.blobProof(blob, commitment));
    },
    computeProof(blob, z) {
      if (!ops.openAt)
        throw new KzgError('kzg_unsupported', `the ${backend} backend cannot open a blob at an arbitrary point; use the c-kzg backend`);
      assertBytes('blob', blob, BYTES_PER_BLOB);
      assertBytes('z', z, BYTES_PER_SCALAR);
      const openAt = ops.openAt;
      return compute('opening', () => openAt(blob, z));
    },
    verifyProof(commitment, z, y, proof) {
      const valid =
        isLength(commitment, BYTES_PER_COMMITMENT) &&
        isLength(z, BYTES_PER_SCALAR) &&
        isLength(y, BYTES_PER_SCALAR) &&
        isLength(proof, BYTES_PER_PROOF);
      return verify(valid, () => ops.verifyProof(commitment, z, y, proof));
    },
    verifyBlobProof(blob, commitment, proof) {
      const valid = blobOk(blob) && isLength(commitment, BYTES_PER_COMMITMENT) && isLength(proof, BYTES_PER_PROOF);
      return verify(valid, () => ops.verifyBlobProof(blob, commitment, proof));
    },
    verifyBlobProofBatch(blobs, commitments, proofs) {
      const valid =
        Array.isArray(blobs) &&
        Array.isArray(commitments) &&
        Array.isArray(proofs) &&
        blobs.length === commitments.length &&
        blobs.length === proofs.length &&
        blobs.every(blobOk) &&
        commitments.every((c) => isLength(c, BYTES_PER_COMMITMENT)) &&
        proofs.every((p) => isLength(p, BYTES_PER_PROOF));
      return verify(valid, () => ops.verifyBlobProofBatch(blobs, commitments, proofs));
    },
  };
}

/**
 * The EIP-4844 ceremony output (4096 G1 Lagrange points, 65 G2 points), shipped with Sherd.
 * c-kzg 2.x is used rather than 4.x: same commitments and proofs, but 4.x spends ~3 s per
 * thread at load precomputing for PeerDAS, which Sherd does not use, and every node process
 * and worker loads the setup. test/unit/kzg.test.ts pins the file's SHA-256.
 */
export const TRUSTED_SETUP_PATH = fileURLToPath(new URL('./trusted_setup.txt', import.meta.url));
export const TRUSTED_SETUP_SHA256 = '0xd39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7';

type CKzgModule = {
  loadTrustedSetup(path: string): void;
  blobToKzgCommitment(blob: Uint8Array): Uint8Array;
  computeBlobKzgProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array;
  computeKzgProof(blob: Uint8Array, z: Uint8Array): [Uint8Array, Uint8Array];
  verifyKzgProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobKzgProof(blob: Uint8Array, commitment: Uint8Array, proof: Uint8Array): boolean;
  verifyBlobKzgProofBatch(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): boolean;
};

let cKzgSingleton: Kzg | undefined;

/** Native c-kzg (default): the trusted setup is loaded once per thread. */
export function loadCKzg(): Kzg {
  if (cKzgSingleton) return cKzgSingleton;
  const ckzg = createRequire(import.meta.url)('c-kzg') as CKzgModule;
  try {
    ckzg.loadTrustedSetup(TRUSTED_SETUP_PATH);
  } catch (cause) {
    if (!/already loaded/i.test(String(cause))) throw new KzgError('kzg_setup_failed', 'could not load the KZG trusted setup', { cause });
  }
  cKzgSingleton = checkedKzg('c-kzg', {
    commit: (blob) => ckzg.blobToKzgCommitment(blob),
    blobProof: (blob, commitment) => ckzg.computeBlobKzgProof(blob, commitment),
    openAt(blob, z) {
      const [proof, y] = ckzg.computeKzgProof(blob, z);
      // Plain copies: c-kzg hands back Buffers, whose slice() is a view, not a copy.
      return { proof: new Uint8Array(proof), y: new Uint8Array(y) };
    },
    verifyProof: (commitment, z, y, proof) => ckzg.verifyKzgProof(commitment, z, y, proof),
    verifyBlobProof: (blob, commitment, proof) => ckzg.verifyBlobKzgProof(blob, commitment, proof),
    verifyBlobProofBatch: (blobs, commitments, proofs) => ckzg.verifyBlobKzgProofBatch(blobs, commitments, proofs),
  });
  return cKzgSingleton;
}

type KzgWasm = Awaited<ReturnType<typeof import('kzg-wasm').loadKZG>>;
let kzgWasmPromise: Promise<Kzg> | undefined;

/**
 * kzg-wasm: portable (browsers), about 8x slower to commit and ~10 s to load. It has no
 * opening at an arbitrary point, so computeProof throws `kzg_unsupported`.
 */
export function loadKzgWasm(): Promise<Kzg> {
  kzgWasmPromise ??= (async () => {
    const { loadKZG } = await import('kzg-wasm');
    const wasm: KzgWasm = await loadKZG();
    const hex = (bytes: Uint8Array): string => toHex(bytes);
    return checkedKzg('kzg-wasm', {
      commit: (blob) => fromHex(wasm.blobToKZGCommitment(hex(blob)), BYTES_PER_COMMITMENT),
      blobProof: (blob, commitment) => fromHex(wasm.computeBlobKZGProof(hex(blob), hex(commitment)), BYTES_PER_PROOF),
      verifyProof: (commitment, z, y, proof) => wasm.verifyKZGProof(hex(commitment), hex(z), hex(y), hex(proof)),
      verifyBlobProof: (blob, commitment, proof) => wasm.verifyBlobKZGProof(hex(blob), hex(commitment), hex(proof)),
      verifyBlobProofBatch: (blobs, commitments, proofs) =>
        wasm.verifyBlobKZGProofBatch(blobs.map(hex), commitments.map(hex), proofs.map(hex)),
    });
  })();
  return kzgWasmPromise;
}

export async function loadKzg(backend: KzgBackendName = 'c-kzg'): Promise<Kzg> {
  if (backend === 'c-kzg') return loadCKzg();
  if (backend === 'kzg-wasm') return loadKzgWasm();
  throw new KzgError('kzg_unknown_backend', `unknown KZG backend ${String(backend)} (choose c-kzg or kzg-wasm)`);
}
