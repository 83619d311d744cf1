import { PAYLOAD_BYTES_PER_BLOB } from '../proofs/blob.ts';
import { BLS_PUBLIC_KEY_BYTES } from '../proofs/bls.ts';
import { MAX_TOTAL_SHARDS } from '../proofs/fr-code.ts';
import { MerkleTree, merkleLeaf } from '../proofs/merkle.ts';
import { ProtocolError } from './errors.ts';
import { placementProblem } from './placement.ts';

/**
 * The manifest describes a dataset completely: its size, code, node set (in placement order)
 * and, per shard in segment-major order, the blob's KZG commitment and SHA-256. The dataset
 * root is the Merkle root over the shard leaves, so a manifest is checked against a root by
 * recomputing it.
 *
 * Binary layout (big-endian):
 *   "SHRD" | version u8 (2) | flags u8 | k u16 | m u16 | size u64 | node count u16 |
 *   node BLS keys (48 each) | shards: commitment (48) ‖ sha256 (32), segments × (k + m)
 */
export interface ShardRecord {
  commitment: Uint8Array;
  hash: Uint8Array;
}

export interface Manifest {
  size: number;
  k: number;
  m: number;
  /** BLS public keys of the nodes, in placement order. */
  nodes: Uint8Array[];
  shards: ShardRecord[];
}

const MAGIC = [0x53, 0x48, 0x52, 0x44]; // "SHRD"
/** 2: parity is Reed-Solomon over Fr (full field elements); 1 coded over GF(2^8) and is refused. */
const VERSION = 2;
const HEADER_BYTES = 4 + 1 + 1 + 2 + 2 + 8 + 2;
const SHARD_RECORD_BYTES = 48 + 32;
export const MAX_DATASET_BYTES = Number.MAX_SAFE_INTEGER;

export function segmentPayloadBytes(k: number): number {
  return k * PAYLOAD_BYTES_PER_BLOB;
}

export function segmentCount(size: number, k: number): number {
  return Math.max(1, Math.ceil(size / segmentPayloadBytes(k)));
}

export function shardsPerSegment(manifest: Pick<Manifest, 'k' | 'm'>): number {
  return manifest.k + manifest.m;
}

export function manifestSegments(manifest: Manifest): number {
  return segmentCount(manifest.size, manifest.k);
}

/** Position of shard (segment, index) in the manifest and in the Merkle tree. */
export function shardPosition(manifest: Pick<Manifest, 'k' | 'm'>, segment: number, index: number): number {
  return segment * shardsPerSegment(manifest) + index;
}

export function checkCodeParameters(k: number, m: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > MAX_TOTAL_SHARDS) {
    throw new ProtocolError(
      'bad_code_parameters',
      `code parameters k=${k}, m=${m} must be positive integers with k + m ≤ ${MAX_TOTAL_SHARDS}`,
    );
  }
}

export function validateManifest(manifest: Manifest): void {
  checkCodeParameters(manifest.k, manifest.m);
  if (!Number.isSafeInteger(manifest.size) || manifest.size < 1) {
    throw new ProtocolError('bad_manifest', `dataset size must be a positive integer, got ${manifest.size}`);
  }
  // A manifest from the wire is bad input, not a programming error: ProtocolError, like every check here.
  const placement = placementProblem(shardsPerSegment(manifest), manifest.nodes.length);
  if (placement) throw new ProtocolError('bad_manifest', placement);
  if (manifest.nodes.length > 0xffff) throw new ProtocolError('bad_manifest', 'too many nodes');
  for (const key of manifest.nodes) {
    if (!(key instanceof Uint8Array) || key.length !== BLS_PUBLIC_KEY_BYTES) {
      throw new ProtocolError('bad_manifest', 'every node key must be 48 bytes');
    }
  }
  const expected = manifestSegments(manifest) * shardsPerSegment(manifest);
  if (manifest.shards.length !== expected) {
    throw new ProtocolError('bad_manifest', `manifest lists ${manifest.shards.length} shards, the size and code need ${expected}`);
  }
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  validateManifest(manifest);
  const out = new Uint8Array(HEADER_BYTES + manifest.nodes.length * 48 + manifest.shards.length * SHARD_RECORD_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = 0;
  view.setUint16(6, manifest.k);
  view.setUint16(8, manifest.m);
  view.setBigUint64(10, BigInt(manifest.size));
  view.setUint16(18, manifest.nodes.length);
  let offset = HEADER_BYTES;
  for (const key of manifest.nodes) {
    out.set(key, offset);
    offset += 48;
  }
  for (const shard of manifest.shards) {
    out.set(shard.commitment, offset);
    out.set(shard.hash, offset + 48);
    offset += SHARD_RECORD_BYTES;
  }
  return out;
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES) {
    throw new ProtocolError('bad_manifest', 'manifest is shorter than its header');
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw new ProtocolError('bad_manifest', 'not a Sherd manifest (bad magic)');
  if (bytes[4] !== VERSION) throw new ProtocolError('bad_manifest', `unsupported manifest version ${bytes[4]}`);
  // No flags are defined: a set one would change the manifest's hash (and so its announcement) without changing what it decodes to.
  if (bytes[5] !== 0) throw new ProtocolError('bad_manifest', `unknown manifest flags ${bytes[5]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = view.getUint16(6);
  const m = view.getUint16(8);
  const size = view.getBigUint64(10);
  if (size > BigInt(MAX_DATASET_BYTES)) throw new ProtocolError('bad_manifest', 'dataset size out of range');
  const nodeCount = view.getUint16(18);
  checkCodeParameters(k, m);
  const segments = segmentCount(Number(size), k);
  const shardCount = segments * (k + m);
  const expectedLength = HEADER_BYTES + nodeCount * 48 + shardCount * SHARD_RECORD_BYTES;
  if (bytes.length !== expectedLength) {
    throw new ProtocolError('bad_manifest', `manifest is ${bytes.length} bytes, its header says ${expectedLength}`);
  }
  let offset = HEADER_BYTES;
  const nodes: Uint8Array[] = [];
  for (let i = 0; i < nodeCount; i++, offset += 48) nodes.push(bytes.slice(offset, offset + 48));
  const shards: ShardRecord[] = [];
  for (let i = 0; i < shardCount; i++, offset += SHARD_RECORD_BYTES) {
    shards.push({ commitment: bytes.slice(offset, offset + 48), hash: bytes.slice(offset + 48, offset + SHARD_RECORD_BYTES) });
  }
  const manifest = { size: Number(size), k, m, nodes, shards };
  validateManifest(manifest);
  return manifest;
}

/** Every shard's commitment, segment-major, 48 bytes each, back to back. */
export function manifestCommitments(manifest: Manifest): Uint8Array {
  const out = new Uint8Array(manifest.shards.length * 48);
  manifest.shards.forEach((shard, i) => {
    out.set(shard.commitment, i * 48);
  });
  return out;
}

export function manifestTree(manifest: Manifest): MerkleTree {
  return new MerkleTree(manifest.shards.map((s) => merkleLeaf(s.commitment, s.hash)));
}

export function datasetRoot(manifest: Manifest): Uint8Array {
  return manifestTree(manifest).root;
}
