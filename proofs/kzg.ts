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

function checkBlob(blob: Uint8Array): void {
  assertBytes('blob', blob, BYTES_PER_BLOB);
}

function wrapCompute<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new KzgError('kzg_failed', `KZG ${operation} failed`, { cause });
  }
}

function safeVerify(fn: () => boolean): boolean {
  try {
    return fn() === true;
  } catch {
    return false;
  }
}

function isLength(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
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
  cKzgSingleton = {
    backend: 'c-kzg',
    canOpenAtPoint: true,
    blobToCommitment(blob) {
      checkBlob(blob);
      return wrapCompute('commit', () => ckzg.blobToKzgCommitment(blob));
    },
    computeBlobProof(blob, commitment) {
      checkBlob(blob);
      assertBytes('commitment', commitment, BYTES_PER_COMMITMENT);
      return wrapCompute('blob proof', () => ckzg.computeBlobKzgProof(blob, commitment));
    },
    computeProof(blob, z) {
      checkBlob(blob);
      assertBytes('z', z, BYTES_PER_SCALAR);
      const [proof, y] = wrapCompute('opening', () => ckzg.computeKzgProof(blob, z));
      // Plain copies: c-kzg hands back Buffers, whose slice() is a view, not a copy.
      return { proof: new Uint8Array(proof), y: new Uint8Array(y) };
    },
    verifyProof(commitment, z, y, proof) {
      if (!isLength(commitment, 48) || !isLength(z, 32) || !isLength(y, 32) || !isLength(proof, 48)) return false;
      return safeVerify(() => ckzg.verifyKzgProof(commitment, z, y, proof));
    },
    verifyBlobProof(blob, commitment, proof) {
      if (!isLength(blob, BYTES_PER_BLOB) || !isLength(commitment, 48) || !isLength(proof, 48)) return false;
      return safeVerify(() => ckzg.verifyBlobKzgProof(blob, commitment, proof));
    },
    verifyBlobProofBatch(blobs, commitments, proofs) {
      if (!Array.isArray(blobs) || blobs.length !== commitments.length || blobs.length !== proofs.length) return false;
      if (!blobs.every((b) => isLength(b, BYTES_PER_BLOB))) return false;
      if (!commitments.every((c) => isLength(c, 48)) || !proofs.every((p) => isLength(p, 48))) return false;
      return safeVerify(() => ckzg.verifyBlobKzgProofBatch(blobs, commitments, proofs));
    },
  };
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
    return {
      backend: 'kzg-wasm',
      canOpenAtPoint: false,
      blobToCommitment(blob) {
        checkBlob(blob);
        return wrapCompute('commit', () => fromHex(wasm.blobToKZGCommitment(hex(blob)), BYTES_PER_COMMITMENT));
      },
      computeBlobProof(blob, commitment) {
        checkBlob(blob);
        assertBytes('commitment', commitment, BYTES_PER_COMMITMENT);
        return wrapCompute('blob proof', () => fromHex(wasm.computeBlobKZGProof(hex(blob), hex(commitment)), BYTES_PER_PROOF));
      },
      computeProof() {
        throw new KzgError('kzg_unsupported', 'the kzg-wasm backend cannot open a blob at an arbitrary point; use the c-kzg backend');
      },
      verifyProof(commitment, z, y, proof) {
        if (!isLength(commitment, 48) || !isLength(z, 32) || !isLength(y, 32) || !isLength(proof, 48)) return false;
        return safeVerify(() => wasm.verifyKZGProof(hex(commitment), hex(z), hex(y), hex(proof)));
      },
      verifyBlobProof(blob, commitment, proof) {
        if (!isLength(blob, BYTES_PER_BLOB) || !isLength(commitment, 48) || !isLength(proof, 48)) return false;
        return safeVerify(() => wasm.verifyBlobKZGProof(hex(blob), hex(commitment), hex(proof)));
      },
      verifyBlobProofBatch(blobs, commitments, proofs) {
        if (!Array.isArray(blobs) || blobs.length !== commitments.length || blobs.length !== proofs.length) return false;
        if (!blobs.every((b) => isLength(b, BYTES_PER_BLOB))) return false;
        if (!commitments.every((c) => isLength(c, 48)) || !proofs.every((p) => isLength(p, 48))) return false;
        return safeVerify(() => wasm.verifyBlobKZGProofBatch(blobs.map(hex), commitments.map(hex), proofs.map(hex)));
      },
    } satisfies Kzg;
  })();
  return kzgWasmPromise;
}

export async function loadKzg(backend: KzgBackendName = 'c-kzg'): Promise<Kzg> {
  if (backend === 'c-kzg') return loadCKzg();
  if (backend === 'kzg-wasm') return loadKzgWasm();
  throw new KzgError('kzg_unknown_backend', `unknown KZG backend ${String(backend)} (choose c-kzg or kzg-wasm)`);
}
