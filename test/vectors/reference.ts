import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

/**
 * An independent implementation of docs/protocol.md, written from the spec and not from the
 * code: it imports nothing of Sherd's, so a rule that drifts in the code (proofs/merkle.ts,
 * protocol/*.ts) or in the Solidity shows up as a disagreement with this file. Section names
 * in the comments are the spec's. The erasure code is specified by reference to its crate and
 * is deliberately not reimplemented here (it is due to be replaced); KZG goes through c-kzg
 * because nothing else computes EIP-4844 commitments.
 */

// ---------------------------------------------------------------- conventions

export const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;

export function unhex(text: string): Uint8Array {
  if (!/^0x([0-9a-f]{2})*$/.test(text)) throw new Error(`not lower-case 0x hex: ${text.slice(0, 20)}`);
  return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
}

export const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'ascii'));

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
export const keccak256 = (data: Uint8Array): Uint8Array => keccak_256(data);

/** An unsigned integer as `width` big-endian bytes. */
export function uintBE(value: bigint | number, width: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new Error(`${value} does not fit ${width} bytes`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export const toBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(hex(bytes)));

/** The vectors' fixed inputs: SHA-256(ascii(label) ‖ u32be(0)) ‖ SHA-256(ascii(label) ‖ u32be(1)) ‖ …, cut to `length`. */
export function vectorBytes(label: string, length: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let counter = 0; counter * 32 < length; counter++) blocks.push(sha256(concat(ascii(label), uintBE(counter, 4))));
  return concat(...blocks).slice(0, length);
}

// ---------------------------------------------------------------- constants

export const FIELD_ELEMENTS_PER_BLOB = 4096;
export const BYTES_PER_BLOB = 131_072;
export const PAYLOAD_BYTES_PER_ELEMENT = 31;
export const PAYLOAD_BYTES_PER_BLOB = 126_976;
export const BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
export const DATASET_DOMAIN = 'SHERD_DATASET_V1';
export const ATTESTATION_DOMAIN = 'SHERD_ATTESTATION_V1';
export const ANNOUNCE_DOMAIN = 'SHERD_ANNOUNCE_V1';
export const SIGNATURE_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

// ---------------------------------------------------------------- blob packing, segments

/** Blob packing: element e = 0x00 ‖ payload[31e, 31e + 31), zero-padded. */
export function packBlob(payload: Uint8Array): Uint8Array {
  if (payload.length > PAYLOAD_BYTES_PER_BLOB) throw new Error('payload does not fit one blob');
  const blob = new Uint8Array(BYTES_PER_BLOB);
  for (let e = 0; e * PAYLOAD_BYTES_PER_ELEMENT < payload.length; e++) {
    blob.set(payload.subarray(e * PAYLOAD_BYTES_PER_ELEMENT, (e + 1) * PAYLOAD_BYTES_PER_ELEMENT), e * 32 + 1);
  }
  return blob;
}

export const segmentBytes = (k: number): number => k * PAYLOAD_BYTES_PER_BLOB;
export const segmentCount = (size: number, k: number): number => Math.max(1, Math.ceil(size / segmentBytes(k)));

/** Segment s of the dataset: k × 126,976 bytes, the last one zero-padded. */
export function segmentPayload(data: Uint8Array, segment: number, k: number): Uint8Array {
  const out = new Uint8Array(segmentBytes(k));
  out.set(data.subarray(segment * segmentBytes(k), (segment + 1) * segmentBytes(k)));
  return out;
}

/** The k data blobs of a segment (shards 0..k−1; parityBlobs gives the m parity shards). */
export function dataBlobs(data: Uint8Array, segment: number, k: number): Uint8Array[] {
  const payload = segmentPayload(data, segment, k);
  return Array.from({ length: k }, (_, i) => packBlob(payload.subarray(i * PAYLOAD_BYTES_PER_BLOB, (i + 1) * PAYLOAD_BYTES_PER_BLOB)));
}

// ---------------------------------------------------------------- the erasure code over Fr

const modR = (a: bigint): bigint => ((a % BLS_MODULUS) + BLS_MODULUS) % BLS_MODULUS;

function powR(base: bigint, exponent: bigint): bigint {
  let out = 1n;
  for (let b = modR(base), e = exponent; e > 0n; e >>= 1n, b = (b * b) % BLS_MODULUS) if (e & 1n) out = (out * b) % BLS_MODULUS;
  return out;
}

/** Point i = ω^reverse(i), ω a primitive N-th root of unity (7^((r−1)/N)), N = the power of two ≥ k + m. */
export function codePoints(k: number, m: number): bigint[] {
  let bits = 0;
  while (1 << bits < k + m) bits++;
  const omega = powR(7n, (BLS_MODULUS - 1n) / (1n << BigInt(bits)));
  const reverse = (i: number) => Number.parseInt(i.toString(2).padStart(bits, '0').split('').reverse().join('') || '0', 2);
  return Array.from({ length: k + m }, (_, i) => powR(omega, BigInt(reverse(i))));
}

/** Parity row j: the Lagrange basis over the k data points, evaluated at point k + j, each as Π (x − xₗ) / (xᵢ − xₗ). */
export function parityRow(k: number, m: number, j: number): bigint[] {
  const points = codePoints(k, m);
  const x = points[k + j]!;
  return Array.from({ length: k }, (_, i) => {
    let numerator = 1n;
    let denominator = 1n;
    for (let l = 0; l < k; l++) {
      if (l === i) continue;
      numerator = (numerator * modR(x - points[l]!)) % BLS_MODULUS;
      denominator = (denominator * modR(points[i]! - points[l]!)) % BLS_MODULUS;
    }
    return (numerator * powR(denominator, BLS_MODULUS - 2n)) % BLS_MODULUS;
  });
}

/** The m parity blobs of k data blobs: element e of parity j is Σᵢ row_j[i] · dataᵢ[e] mod r, 32 bytes big-endian. */
export function parityBlobs(data: Uint8Array[], m: number): Uint8Array[] {
  const k = data.length;
  return Array.from({ length: m }, (_, j) => {
    const row = parityRow(k, m, j);
    const blob = new Uint8Array(BYTES_PER_BLOB);
    for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++) {
      let sum = 0n;
      for (let i = 0; i < k; i++) sum += row[i]! * toBigInt(data[i]!.subarray(e * 32, e * 32 + 32));
      blob.set(uintBE(sum % BLS_MODULUS, 32), e * 32);
    }
    return blob;
  });
}

// ---------------------------------------------------------------- Merkle tree

const ZERO32 = new Uint8Array(32);

export const leafHash = (commitment: Uint8Array, shardHash: Uint8Array): Uint8Array => {
  if (commitment.length !== 48 || shardHash.length !== 32) throw new Error('a leaf is over a 48-byte commitment and a 32-byte hash');
  return keccak256(concat(new Uint8Array([0x00]), commitment, shardHash));
};

export const innerHash = (left: Uint8Array, right: Uint8Array): Uint8Array => keccak256(concat(new Uint8Array([0x01]), left, right));

export function treeDepth(leafCount: number): number {
  return Math.ceil(Math.log2(leafCount));
}

/** Every level, leaves first: the last node of an odd level is paired with 32 zero bytes. */
export function treeLevels(leaves: Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new Error('no leaves');
  const levels = [leaves];
  for (let d = 0; d < treeDepth(leaves.length); d++) {
    const below = levels[d]!;
    const above: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(innerHash(below[i]!, below[i + 1] ?? ZERO32));
    levels.push(above);
  }
  return levels;
}

export const treeRoot = (leaves: Uint8Array[]): Uint8Array => treeLevels(leaves).at(-1)![0]!;

/** Siblings from the bottom up; a missing sibling is the zero hash. */
export function treeProof(leaves: Uint8Array[], position: number): Uint8Array[] {
  const levels = treeLevels(leaves);
  return levels.slice(0, -1).map((level, d) => level[(position >> d) ^ 1] ?? ZERO32);
}

export function verifyProof(root: Uint8Array, leaf: Uint8Array, position: number, leafCount: number, proof: Uint8Array[]): boolean {
  if (position < 0 || position >= leafCount || proof.length !== treeDepth(leafCount)) return false;
  let node = leaf;
  proof.forEach((sibling, d) => {
    node = ((position >> d) & 1) === 0 ? innerHash(node, sibling) : innerHash(sibling, node);
  });
  return hex(node) === hex(root);
}

/** The wire form (x-sherd-proof header, sample answers): hex of the concatenated siblings. */
export const proofToWire = (proof: Uint8Array[]): string => hex(concat(...proof));

export function proofFromWire(wire: string): Uint8Array[] {
  const bytes = unhex(wire);
  if (bytes.length % 32 !== 0) throw new Error('a proof is a whole number of 32-byte siblings');
  return Array.from({ length: bytes.length / 32 }, (_, i) => bytes.slice(32 * i, 32 * i + 32));
}

// ---------------------------------------------------------------- manifest

export interface ManifestFields {
  size: number;
  k: number;
  m: number;
  nodeKeys: Uint8Array[];
  shards: Array<{ commitment: Uint8Array; shardHash: Uint8Array }>;
}

export function encodeManifest(f: ManifestFields): Uint8Array {
  if (f.k < 1 || f.m < 1 || f.k + f.m > 256) throw new Error('bad code');
  if (f.size < 1 || !Number.isSafeInteger(f.size)) throw new Error('bad size');
  if (f.nodeKeys.length < f.k + f.m || f.nodeKeys.length > 0xffff) throw new Error('bad node count');
  if (f.shards.length !== segmentCount(f.size, f.k) * (f.k + f.m)) throw new Error('bad shard count');
  return concat(
    ascii('SHRD'),
    uintBE(2, 1),
    uintBE(0, 1),
    uintBE(f.k, 2),
    uintBE(f.m, 2),
    uintBE(f.size, 8),
    uintBE(f.nodeKeys.length, 2),
    ...f.nodeKeys,
    ...f.shards.flatMap((s) => [s.commitment, s.shardHash]),
  );
}

// ---------------------------------------------------------------- ids and messages

export function datasetId(owner: string, contentRoot: Uint8Array): Uint8Array {
  return keccak256(concat(ascii(DATASET_DOMAIN), unhex(owner.toLowerCase()), contentRoot));
}

export function attestationMessage(chainId: bigint, registry: string, id: Uint8Array): Uint8Array {
  return keccak256(concat(ascii(ATTESTATION_DOMAIN), uintBE(chainId, 32), unhex(registry.toLowerCase()), id));
}

export function announceDigest(id: Uint8Array, manifest: Uint8Array): Uint8Array {
  return keccak256(concat(ascii(ANNOUNCE_DOMAIN), id, keccak256(manifest)));
}

// ---------------------------------------------------------------- accounts (secp256k1)

export function ownerAddress(secretKey: Uint8Array): string {
  return hex(keccak256(secp256k1.getPublicKey(secretKey, false).subarray(1)).subarray(12));
}

/** 65 bytes r ‖ s ‖ v with v = 27 + recovery id, over the digest itself (no EIP-191 prefix). */
export function signAnnouncement(secretKey: Uint8Array, digest: Uint8Array): Uint8Array {
  const recovered = secp256k1.sign(digest, secretKey, { prehash: false, format: 'recovered' });
  return concat(recovered.subarray(1), new Uint8Array([27 + recovered[0]!]));
}

export function recoverSigner(digest: Uint8Array, signature: Uint8Array): string {
  const noble = concat(new Uint8Array([signature[64]! - 27]), signature.subarray(0, 64));
  const publicKey = secp256k1.Point.fromBytes(secp256k1.recoverPublicKey(noble, digest, { prehash: false })).toBytes(false);
  return hex(keccak256(publicKey.subarray(1)).subarray(12));
}

// ---------------------------------------------------------------- BLS (min-pk)

const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;

export const blsPublicKey = (secretKey: bigint): Uint8Array => G1.BASE.multiply(secretKey).toBytes(true);

export const blsSign = (secretKey: bigint, message: Uint8Array, dst = SIGNATURE_DST): Uint8Array =>
  bls12_381.G2.hashToCurve(message, { DST: dst }).multiply(secretKey).toBytes(true);

export const blsProofOfPossession = (secretKey: bigint): Uint8Array => blsSign(secretKey, blsPublicKey(secretKey), POP_DST);

export function blsAggregate(signatures: Uint8Array[]): Uint8Array {
  return signatures
    .map((s) => G2.fromBytes(s))
    .reduce((sum, p) => sum.add(p))
    .toBytes(true);
}

/** e(Σ pk, H(m)) = e(g1, σ). */
export function blsVerifyAggregate(publicKeys: Uint8Array[], message: Uint8Array, signature: Uint8Array, dst = SIGNATURE_DST): boolean {
  const key = publicKeys.map((k) => G1.fromBytes(k)).reduce((sum, p) => sum.add(p));
  const hashed = bls12_381.G2.hashToCurve(message, { DST: dst });
  const lhs = bls12_381.pairing(key, G2.fromAffine(hashed.toAffine()));
  const rhs = bls12_381.pairing(G1.BASE, G2.fromBytes(signature));
  return bls12_381.fields.Fp12.eql(lhs, rhs);
}

/** EIP-2537: an Fp element is 64 bytes, 16 zero bytes and the 48-byte big-endian value. */
const fp64 = (value: bigint): Uint8Array => uintBE(value, 64);

export function g1Eip2537(compressed: Uint8Array): Uint8Array {
  const { x, y } = G1.fromBytes(compressed).toAffine();
  return concat(fp64(x), fp64(y));
}

export function g2Eip2537(compressed: Uint8Array): Uint8Array {
  const { x, y } = G2.fromBytes(compressed).toAffine();
  return concat(fp64(x.c0), fp64(x.c1), fp64(y.c0), fp64(y.c1));
}

// ---------------------------------------------------------------- placement, quorum, certificate

export const nodeForShard = (segment: number, index: number, nodeCount: number): number => (index + segment) % nodeCount;

/** By enumeration, as the rule reads (the code and the contract use an O(1) formula). */
export function assignedShardCount(member: number, segments: number, n: number, nodeCount: number): number {
  let count = 0;
  for (let s = 0; s < segments; s++) for (let i = 0; i < n; i++) if (nodeForShard(s, i, nodeCount) === member) count++;
  return count;
}

export function quorum(nodeCount: number, k: number, m: number): number {
  return Math.min(nodeCount, Math.max(k + (nodeCount - (k + m)), Math.ceil((2 * nodeCount) / 3)));
}

/** Bit i of the signer bitmap is bit (i mod 8), least significant first, of byte ⌊i / 8⌋. */
export function signerBitmap(signers: number[], nodeCount: number): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(nodeCount / 8));
  for (const i of signers) bitmap[Math.floor(i / 8)]! |= 1 << (i % 8);
  return bitmap;
}

export interface CertificateInput {
  owner: string;
  contentRoot: Uint8Array;
  size: number;
  k: number;
  m: number;
  chainId: bigint;
  registryAddress: string;
  nodeCount: number;
  signers: number[];
  signature: Uint8Array;
}

/** The certificate's JSON form, fields in this order. */
export function certificateJson(c: CertificateInput): Record<string, unknown> {
  return {
    version: 2,
    datasetId: hex(datasetId(c.owner, c.contentRoot)),
    owner: c.owner.toLowerCase(),
    contentRoot: hex(c.contentRoot),
    size: c.size,
    k: c.k,
    m: c.m,
    chainId: c.chainId.toString(10),
    registryAddress: c.registryAddress.toLowerCase(),
    nodeCount: c.nodeCount,
    signers: hex(signerBitmap(c.signers, c.nodeCount)),
    signature: hex(c.signature),
  };
}

// ---------------------------------------------------------------- KZG (c-kzg: nothing else computes EIP-4844 commitments)

interface CKzg {
  loadTrustedSetup(path: string): void;
  blobToKzgCommitment(blob: Uint8Array): Uint8Array;
  verifyKzgProof(commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean;
}

let ckzg: CKzg | undefined;

/** c-kzg with the EIP-4844 mainnet trusted setup (the file Sherd ships; one setup per process, so "already loaded" is fine). */
function kzg(): CKzg {
  if (ckzg) return ckzg;
  const loaded = createRequire(import.meta.url)('c-kzg') as CKzg;
  try {
    loaded.loadTrustedSetup(fileURLToPath(new URL('../../proofs/trusted_setup.txt', import.meta.url)));
  } catch (error) {
    if (!/already loaded/i.test(String(error))) throw error;
  }
  ckzg = loaded;
  return loaded;
}

export const kzgCommitment = (blob: Uint8Array): Uint8Array => new Uint8Array(kzg().blobToKzgCommitment(blob));
export const kzgVerify = (commitment: Uint8Array, z: Uint8Array, y: Uint8Array, proof: Uint8Array): boolean =>
  kzg().verifyKzgProof(commitment, z, y, proof);

// ---------------------------------------------------------------- samples, challenges

/** EIP-4844 versioned hash: 0x01 ‖ sha256(commitment)[1..32). */
export const versionedHash = (commitment: Uint8Array): Uint8Array => concat(new Uint8Array([0x01]), sha256(commitment).subarray(1));

/** The point-evaluation precompile's 192-byte input. */
export const pointEvaluationInput = (commitment: Uint8Array, z: Uint8Array, y: Uint8Array, kzgProof: Uint8Array): Uint8Array =>
  concat(versionedHash(commitment), z, y, commitment, kzgProof);

/** abi.encode(bytes32 blockhash, address registry, bytes32 datasetId, uint32 epoch, uint32 member): five 32-byte words. */
export function challengeSeedPreimage(blockHash: Uint8Array, registry: string, id: Uint8Array, epoch: number, member: number): Uint8Array {
  return concat(blockHash, uintBE(toBigInt(unhex(registry.toLowerCase())), 32), id, uintBE(epoch, 32), uintBE(member, 32));
}

/** abi.encode(bytes32 seed, "z"): the literal is a dynamic string, so head (seed, offset 0x40), then length 1 and "z" padded. */
export const zPreimage = (seed: Uint8Array): Uint8Array =>
  concat(seed, uintBE(0x40, 32), uintBE(1, 32), concat(ascii('z'), new Uint8Array(31)));

export interface ChallengeDraw {
  seed: Uint8Array;
  drawnSegment: number;
  segment: number;
  index: number;
  z: Uint8Array;
}

export function drawChallenge(
  blockHash: Uint8Array,
  registry: string,
  id: Uint8Array,
  epoch: number,
  member: number,
  code: { segments: number; k: number; m: number; nodeCount: number },
): ChallengeDraw {
  const seed = keccak256(challengeSeedPreimage(blockHash, registry, id, epoch, member));
  const n = code.k + code.m;
  const N = code.nodeCount;
  const drawnSegment = Number(toBigInt(seed) % BigInt(code.segments));
  let segment = drawnSegment;
  let index = (member + N - (segment % N)) % N;
  for (let steps = 0; index >= n; steps++) {
    if (steps > code.segments) throw new Error('member holds no shard: it has no challenge');
    segment = (segment + 1) % code.segments;
    index = (member + N - (segment % N)) % N;
  }
  const z = uintBE(toBigInt(keccak256(zPreimage(seed))) % BLS_MODULUS, 32);
  return { seed, drawnSegment, segment, index, z };
}
