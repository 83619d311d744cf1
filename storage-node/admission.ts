import { BYTES_PER_BLOB, findElementAboveModulus, findNonCanonicalElement } from '../proofs/blob.ts';
import { equalBytes, fromHex } from '../proofs/bytes.ts';
import { sha256 } from '../proofs/hash.ts';
import { decodeMerkleProof, merkleLeaf, verifyMerkleProof } from '../proofs/merkle.ts';
import type { ApiErrorCode } from '../protocol/errors.ts';
import { shardPosition, type ShardRecord } from '../protocol/manifest.ts';
import { PROOF_HEADER, SHARD_CONTENT_TYPE } from '../protocol/routes.ts';
import { contentRoot, type DatasetState } from './datasets.ts';
import { shardAddressProblem } from './proving.ts';

/** A shard offered to the node: its address, the request body and the inclusion-proof header as received. */
export interface ShardOffer {
  segment: number;
  index: number;
  body: unknown;
  proofHeader: unknown;
}

export type Rejection = { status: 'rejected'; code: ApiErrorCode; message: string };
export type Admission = { status: 'stored' } | { status: 'duplicate' } | Rejection;

/** What admission needs besides the dataset: the store's shard slots and a KZG check. */
export interface AdmissionDeps {
  hasShard(id: Uint8Array, segment: number, index: number): Promise<boolean>;
  putShard(id: Uint8Array, segment: number, index: number, blob: Uint8Array): Promise<void>;
  verifyCommitment(blob: Uint8Array, commitment: Uint8Array): Promise<boolean>;
}

const reject = (code: ApiErrorCode, message: string): Rejection => ({ status: 'rejected', code, message });

/**
 * The checks that need no I/O, cheapest first (docs/architecture.md lists them): the shard is
 * placed on this node, is one canonical blob, matches its SHA-256 in the manifest, and its
 * inclusion proof puts (commitment, SHA-256) at its position under the content root.
 * Returns the accepted blob with its manifest record, or why it is refused.
 */
export function checkShardOffer(state: DatasetState, offer: ShardOffer): { blob: Uint8Array; record: ShardRecord } | Rejection {
  const { segment, index, body } = offer;
  const address = shardAddressProblem(state, segment, index);
  if (address) return reject(address.code, address.message);
  if (!(body instanceof Uint8Array)) return reject('unsupported_media_type', `shards must be sent as ${SHARD_CONTENT_TYPE}`);
  if (body.length !== BYTES_PER_BLOB) return reject('bad_blob_length', `a shard is ${BYTES_PER_BLOB} bytes, got ${body.length}`);
  const blob = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // Data shards carry 31 payload bytes an element under a zero byte; parity shards full field elements.
  const isData = index < state.manifest.k;
  const bad = isData ? findNonCanonicalElement(blob) : findElementAboveModulus(blob);
  if (bad >= 0) {
    const rule = isData ? 'does not have a zero top byte (a data shard)' : 'is not below the BLS12-381 scalar modulus';
    return reject('non_canonical_field_element', `field element ${bad} ${rule}`);
  }
  const position = shardPosition(state.manifest, segment, index);
  const record = state.manifest.shards[position]!;
  const hash = sha256(blob);
  if (!equalBytes(hash, record.hash))
    return reject('shard_hash_mismatch', `shard ${segment}/${index} does not match its SHA-256 in the manifest`);
  const proof = parseProofHeader(offer.proofHeader);
  if (
    !proof ||
    !verifyMerkleProof(contentRoot(state), merkleLeaf(record.commitment, hash), position, proof, state.manifest.shards.length)
  ) {
    return reject(
      'bad_inclusion_proof',
      `the inclusion proof in ${PROOF_HEADER} does not place shard ${segment}/${index} under the content root`,
    );
  }
  return { blob, record };
}

function parseProofHeader(header: unknown): Uint8Array[] | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return decodeMerkleProof(fromHex(header));
  } catch {
    return undefined;
  }
}

/**
 * Admits one shard: the checks above, then (unless it is already held: retries are
 * idempotent) the KZG check against its commitment, and one atomic put. Only verified shards
 * are ever written.
 */
export async function admitShard(state: DatasetState, offer: ShardOffer, deps: AdmissionDeps): Promise<Admission> {
  const checked = checkShardOffer(state, offer);
  if ('status' in checked) return checked;
  if (await deps.hasShard(state.id, offer.segment, offer.index)) return { status: 'duplicate' };
  if (!(await deps.verifyCommitment(checked.blob, checked.record.commitment))) {
    return reject('commitment_mismatch', `shard ${offer.segment}/${offer.index} does not match its KZG commitment`);
  }
  await deps.putShard(state.id, offer.segment, offer.index, checked.blob);
  return { status: 'stored' };
}
