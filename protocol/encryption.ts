import { hkdfSync } from 'node:crypto';
import { concatBytes, fromHex, utf8 } from '../proofs/bytes.ts';
import { BOX_OVERHEAD_BYTES, openBox, sealBox, X25519_KEY_BYTES, x25519PublicKey } from '../proofs/ecies.ts';
import { assertBytes, assertInteger } from '../proofs/errors.ts';
import { isFieldElement } from '../proofs/field.ts';
import { keccak256 } from '../proofs/hash.ts';
import { type Share, splitSecret } from '../proofs/shamir.ts';
import { plainSizeOf, streamLayout } from '../proofs/stream-cipher.ts';
import { BLS_PUBLIC_KEY_BYTES } from '../proofs/bls.ts';
import { ProtocolError } from './errors.ts';
import { uint256, uint64 } from './messages.ts';

/**
 * An encrypted dataset (docs/licensing.md, docs/protocol.md "Encrypted datasets"). Its bytes,
 * all under the content root, are:
 *
 *   STREAM ciphertext of the plain dataset (files, file index, trailer) ‖ envelope ‖ trailer
 *   envelope = version u8 (1) | reserved u8 (0) | chunk bytes u32 | plain bytes u64 |
 *              threshold u16 | node count u16 | key check (32) | node count × share box (80)
 *   trailer  = "SHEN" | version u8 (1) | flags u8 (0) | reserved u16 (0) | reserved u32 (0) | envelope bytes u64
 *
 * The dataset secret s is a random Fr element; the data key is HKDF-SHA256(s, "SHERD_DATA_KEY_V1")
 * and the key check HKDF-SHA256(s, "SHERD_KEY_CHECK_V1"). s is split by Shamir (x = node
 * index + 1) and share i sealed to node i's X25519 key, bound to the owner, the index and the
 * key check, so a box cannot be lifted into another owner's dataset to make a node open it.
 */
export const ENVELOPE_TRAILER_BYTES = 20;
const TRAILER_MAGIC = [0x53, 0x48, 0x45, 0x4e]; // "SHEN"
const VERSION = 1;
const ENVELOPE_FIXED_BYTES = 1 + 1 + 4 + 8 + 2 + 2 + 32;
export const SHARE_BOX_BYTES = BOX_OVERHEAD_BYTES + 32;

export const KEY_SHARE_DOMAIN = 'SHERD_KEY_SHARE_V1';
export const KEY_REQUEST_DOMAIN = 'SHERD_KEY_REQUEST_V1';
export const KEY_RELEASE_DOMAIN = 'SHERD_KEY_RELEASE_V1';
export const RELEASES_REQUEST_DOMAIN = 'SHERD_RELEASES_REQUEST_V1';
/** A signed key request names a block at most this many blocks behind the node's head. */
export const REQUEST_MAX_AGE_BLOCKS = 64;
/** The largest STREAM chunk an envelope may name: a reader holds one chunk at a time. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export interface Envelope {
  chunkBytes: number;
  plainBytes: number;
  threshold: number;
  keyCheck: Uint8Array;
  /** One per node of the node set, in placement order. */
  shareBoxes: Uint8Array[];
}

function derive(secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), utf8(info), 32));
}

export function dataKeyOf(secret: Uint8Array): Uint8Array {
  return derive(secret, 'SHERD_DATA_KEY_V1');
}

export function keyCheckOf(secret: Uint8Array): Uint8Array {
  return derive(secret, 'SHERD_KEY_CHECK_V1');
}

/** A node's X25519 secret, derived from its BLS secret key: one key file, two independent keys. */
export function nodeEncryptionSecret(blsSecretKey: Uint8Array): Uint8Array {
  assertBytes('BLS secret key', blsSecretKey, 32);
  return derive(blsSecretKey, 'SHERD_NODE_X25519_V1');
}

/** The X25519 public key a node publishes on chain for the shares sealed to it. */
export function nodeEncryptionKey(blsSecretKey: Uint8Array): Uint8Array {
  return x25519PublicKey(nodeEncryptionSecret(blsSecretKey));
}

/** The threshold of a dataset on `nodeCount` nodes with m parity shards a segment: N − m, so the key survives the m lost nodes the data does. */
export function keyThreshold(nodeCount: number, m: number): number {
  assertInteger('node count', nodeCount, 1, 0xffff);
  assertInteger('m', m, 1, 0xffff);
  return Math.max(1, nodeCount - m);
}

/** What share box i is bound to: the owner, the node's index and the key check. */
export function shareBoxContext(owner: string, nodeIndex: number, keyCheck: Uint8Array): Uint8Array {
  const index = new Uint8Array(2);
  new DataView(index.buffer).setUint16(0, nodeIndex);
  return concatBytes(utf8(KEY_SHARE_DOMAIN), fromHex(owner, 20), index, keyCheck);
}

/** Splits `secret` for these nodes (their X25519 keys, in placement order) and builds the envelope. */
export function sealEnvelope(
  secret: Uint8Array,
  owner: string,
  nodeKeys: Uint8Array[],
  threshold: number,
  plainBytes: number,
  chunkBytes: number,
): Envelope {
  assertInteger('threshold', threshold, 1, nodeKeys.length);
  const keyCheck = keyCheckOf(secret);
  const shares = splitSecret(secret, threshold, nodeKeys.length);
  const shareBoxes = shares.map((share, i) => {
    assertBytes(`node ${i}'s encryption key`, nodeKeys[i], X25519_KEY_BYTES);
    return sealBox(nodeKeys[i]!, share.y, shareBoxContext(owner, i, keyCheck));
  });
  return { chunkBytes, plainBytes, threshold, keyCheck, shareBoxes };
}

/** Node `nodeIndex` opens its share; BoxError when the box is not sealed to it for this owner and dataset key. */
export function openShare(encryptionSecret: Uint8Array, envelope: Envelope, owner: string, nodeIndex: number): Share {
  const box = envelope.shareBoxes[nodeIndex];
  if (!box) throw new ProtocolError('bad_envelope', `the envelope has no share for node ${nodeIndex}`);
  const y = openBox(encryptionSecret, box, shareBoxContext(owner, nodeIndex, envelope.keyCheck));
  if (!isFieldElement(y)) throw new ProtocolError('bad_envelope', `share ${nodeIndex} is not a field element`);
  return { x: nodeIndex + 1, y };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const { chunkBytes, plainBytes, threshold, keyCheck, shareBoxes } = envelope;
  assertInteger('chunk size', chunkBytes, 1, MAX_CHUNK_BYTES);
  assertInteger('plaintext size', plainBytes, 0, Number.MAX_SAFE_INTEGER);
  assertInteger('node count', shareBoxes.length, 1, 0xffff);
  assertInteger('threshold', threshold, 1, shareBoxes.length);
  assertBytes('key check', keyCheck, 32);
  const body = new Uint8Array(ENVELOPE_FIXED_BYTES + shareBoxes.length * SHARE_BOX_BYTES);
  const view = new DataView(body.buffer);
  body[0] = VERSION;
  view.setUint32(2, chunkBytes);
  view.setBigUint64(6, BigInt(plainBytes));
  view.setUint16(14, threshold);
  view.setUint16(16, shareBoxes.length);
  body.set(keyCheck, 18);
  shareBoxes.forEach((box, i) => {
    assertBytes(`share box ${i}`, box, SHARE_BOX_BYTES);
    body.set(box, ENVELOPE_FIXED_BYTES + i * SHARE_BOX_BYTES);
  });
  const trailer = new Uint8Array(ENVELOPE_TRAILER_BYTES);
  trailer.set(TRAILER_MAGIC, 0);
  trailer[4] = VERSION;
  new DataView(trailer.buffer).setBigUint64(12, BigInt(body.length));
  return concatBytes(body, trailer);
}

/** Whether the dataset's last 20 bytes are an envelope trailer (an encrypted dataset) rather than a file index's. */
export function isEnvelopeTrailer(trailer: Uint8Array): boolean {
  return trailer instanceof Uint8Array && trailer.length === ENVELOPE_TRAILER_BYTES && TRAILER_MAGIC.every((b, i) => trailer[i] === b);
}

/** The envelope's length from its trailer; ProtocolError `bad_envelope` when it is not one. */
export function envelopeLength(trailer: Uint8Array): number {
  if (!isEnvelopeTrailer(trailer)) throw new ProtocolError('bad_envelope', 'the dataset has no encryption envelope');
  if (trailer[4] !== VERSION) throw new ProtocolError('bad_envelope', `unsupported envelope version ${trailer[4]}`);
  if (trailer.subarray(5, 12).some((b) => b !== 0)) throw new ProtocolError('bad_envelope', 'unknown envelope flags');
  const length = new DataView(trailer.buffer, trailer.byteOffset, trailer.byteLength).getBigUint64(12);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('bad_envelope', 'envelope length out of range');
  return Number(length);
}

/**
 * The envelope of a dataset of `datasetSize` bytes from its last bytes (envelope ‖ trailer,
 * exactly), checked to describe that dataset: the ciphertext fills the rest.
 */
export function decodeEnvelope(bytes: Uint8Array, datasetSize: number): Envelope {
  if (bytes.length < ENVELOPE_TRAILER_BYTES) throw new ProtocolError('bad_envelope', 'the envelope is shorter than its trailer');
  const length = envelopeLength(bytes.subarray(bytes.length - ENVELOPE_TRAILER_BYTES));
  if (length !== bytes.length - ENVELOPE_TRAILER_BYTES)
    throw new ProtocolError(
      'bad_envelope',
      `the trailer says ${length} envelope bytes, there are ${bytes.length - ENVELOPE_TRAILER_BYTES}`,
    );
  const body = bytes.subarray(0, length);
  if (body.length < ENVELOPE_FIXED_BYTES) throw new ProtocolError('bad_envelope', 'the envelope is shorter than its header');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body[0] !== VERSION || body[1] !== 0) throw new ProtocolError('bad_envelope', `unsupported envelope version ${body[0]}`);
  const chunkBytes = view.getUint32(2);
  const plainBytes = Number(view.getBigUint64(6));
  const threshold = view.getUint16(14);
  const nodeCount = view.getUint16(16);
  if (chunkBytes === 0 || chunkBytes > MAX_CHUNK_BYTES || nodeCount === 0 || threshold === 0 || threshold > nodeCount) {
    throw new ProtocolError(
      'bad_envelope',
      `the envelope's chunk size must be 1 … ${MAX_CHUNK_BYTES}, its node count positive and its threshold at most that`,
    );
  }
  if (body.length !== ENVELOPE_FIXED_BYTES + nodeCount * SHARE_BOX_BYTES)
    throw new ProtocolError('bad_envelope', `an envelope for ${nodeCount} nodes is not ${body.length} bytes`);
  const cipherBytes = datasetSize - bytes.length;
  if (!Number.isSafeInteger(plainBytes) || plainSizeOf(cipherBytes, chunkBytes) !== plainBytes)
    throw new ProtocolError(
      'bad_envelope',
      `the ciphertext (${cipherBytes} bytes) does not hold ${plainBytes} bytes in ${chunkBytes}-byte chunks`,
    );
  const shareBoxes = Array.from({ length: nodeCount }, (_, i) =>
    body.slice(ENVELOPE_FIXED_BYTES + i * SHARE_BOX_BYTES, ENVELOPE_FIXED_BYTES + (i + 1) * SHARE_BOX_BYTES),
  );
  return { chunkBytes, plainBytes, threshold, keyCheck: body.slice(18, 50), shareBoxes };
}

/** The size of the encrypted dataset of a plain dataset of `plainBytes`. */
export function encryptedSize(plainBytes: number, chunkBytes: number, nodeCount: number): number {
  return streamLayout(plainBytes, chunkBytes).cipherBytes + ENVELOPE_FIXED_BYTES + nodeCount * SHARE_BOX_BYTES + ENVELOPE_TRAILER_BYTES;
}

/** Where licenses are kept: signatures over key requests bind the chain and the license registry. */
export interface LicenseDomain {
  chainId: bigint;
  licenses: string;
}

/**
 * What a licensee signs to ask one node for its share: keccak256(domain ‖ chainId ‖ licenses ‖
 * datasetId ‖ node's BLS key (48) ‖ ephemeral X25519 key ‖ block u64). Naming the node means a
 * request cannot be forwarded to another node (to spend it there first); a fresh ephemeral key
 * and a recent block keep it from being replayed, and each node refuses one it has answered.
 */
export function keyRequestDigest(
  domain: LicenseDomain,
  id: Uint8Array,
  nodeKey: Uint8Array,
  ephemeralKey: Uint8Array,
  block: number,
): Uint8Array {
  assertBytes('dataset id', id, 32);
  assertBytes('node key', nodeKey, BLS_PUBLIC_KEY_BYTES);
  assertBytes('ephemeral key', ephemeralKey, X25519_KEY_BYTES);
  return keccak256(
    concatBytes(utf8(KEY_REQUEST_DOMAIN), uint256(domain.chainId), fromHex(domain.licenses, 20), id, nodeKey, ephemeralKey, uint64(block)),
  );
}

/** What a released share is sealed to the ephemeral key with: the request it answers. */
export function releaseBoxContext(requestDigest: Uint8Array): Uint8Array {
  return concatBytes(utf8(KEY_RELEASE_DOMAIN), requestDigest);
}

/**
 * What a node BLS-signs as the receipt of a release: keccak256(domain ‖ chainId ‖ licenses ‖
 * datasetId ‖ licensee ‖ block u64 ‖ request digest ‖ keccak256(share box)). With the
 * licensee's signed request beside it, a release is evidence both ways: the licensee asked
 * for it, and the node delivered exactly that box.
 */
export function releaseReceiptMessage(
  domain: LicenseDomain,
  id: Uint8Array,
  release: { licensee: string; block: number; requestDigest: Uint8Array; shareBoxHash: Uint8Array },
): Uint8Array {
  assertBytes('dataset id', id, 32);
  assertBytes('request digest', release.requestDigest, 32);
  assertBytes('share box hash', release.shareBoxHash, 32);
  return keccak256(
    concatBytes(
      utf8(KEY_RELEASE_DOMAIN),
      uint256(domain.chainId),
      fromHex(domain.licenses, 20),
      id,
      fromHex(release.licensee, 20),
      uint64(release.block),
      release.requestDigest,
      release.shareBoxHash,
    ),
  );
}

/** What an owner signs to fetch a node's release receipts: keccak256(domain ‖ chainId ‖ licenses ‖ datasetId ‖ block u64). */
export function releasesRequestDigest(domain: LicenseDomain, id: Uint8Array, block: number): Uint8Array {
  assertBytes('dataset id', id, 32);
  return keccak256(concatBytes(utf8(RELEASES_REQUEST_DOMAIN), uint256(domain.chainId), fromHex(domain.licenses, 20), id, uint64(block)));
}
