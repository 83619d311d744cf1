import { equalBytes, toHex } from '../proofs/bytes.ts';
import { sha256 } from '../proofs/hash.ts';
import { encodeMerkleProof } from '../proofs/merkle.ts';
import { isFieldElement } from '../proofs/field.ts';
import { ApiError, type ApiErrorCode } from '../protocol/errors.ts';
import { manifestSegments, shardPosition, shardsPerSegment } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import type { SampleAnswer } from '../protocol/routes.ts';
import type { DatasetState } from './datasets.ts';
import type { ShardStore } from './store.ts';
import type { ShardOpener } from './verifier.ts';

/**
 * Everything a verifier needs to check a shard's opening at z against the content root alone:
 * the shard's commitment and SHA-256 (its Merkle leaf), the leaf's inclusion proof, and
 * y = p(z) with the KZG proof. Samples and on-chain challenges are answered with the same.
 */
export interface ShardOpening {
  segment: number;
  index: number;
  z: Uint8Array;
  y: Uint8Array;
  kzgProof: Uint8Array;
  commitment: Uint8Array;
  shardHash: Uint8Array;
  inclusionProof: Uint8Array[];
}

/** Why a requester cannot ask this node for shard segment/index, or undefined when it can. */
export function shardAddressProblem(
  state: DatasetState,
  segment: number,
  index: number,
): { code: ApiErrorCode; message: string } | undefined {
  const { manifest } = state;
  if (segment >= manifestSegments(manifest) || index >= shardsPerSegment(manifest)) {
    return { code: 'unknown_shard', message: `dataset has no shard ${segment}/${index}` };
  }
  const holder = nodeForShard(segment, index, manifest.nodes.length);
  if (holder !== state.nodeIndex) {
    return {
      code: 'shard_not_assigned',
      message: `shard ${segment}/${index} is placed on node ${holder}, this is node ${state.nodeIndex}`,
    };
  }
  return undefined;
}

/** Throws the ApiError a requester gets for a shard this node was never meant to hold. */
export function checkShardAddress(state: DatasetState, segment: number, index: number): void {
  const problem = shardAddressProblem(state, segment, index);
  if (problem) throw new ApiError(problem.code, problem.message);
}

export function checkPoint(z: Uint8Array): void {
  if (!isFieldElement(z)) throw new ApiError('bad_point', 'z must be 32 bytes, big-endian, below the BLS12-381 scalar field order');
}

/** A stored shard with its leaf (commitment, SHA-256) and the leaf's proof: all a reader needs to check it against the content root alone. */
export interface ProvenStoredShard {
  blob: Uint8Array;
  commitment: Uint8Array;
  shardHash: Uint8Array;
  inclusionProof: Uint8Array[];
}

/** Stored shard segment/index with what proves it, or undefined when this node does not hold it. */
export async function provenShard(
  store: Pick<ShardStore, 'getShard'>,
  state: DatasetState,
  segment: number,
  index: number,
): Promise<ProvenStoredShard | undefined> {
  const blob = await store.getShard(state.id, segment, index);
  if (!blob) return undefined;
  const position = shardPosition(state.manifest, segment, index);
  const record = state.manifest.shards[position]!;
  return { blob, commitment: record.commitment, shardHash: record.hash, inclusionProof: state.tree.proof(position) };
}

/** Told of a shard this node should hold and cannot open (gone, unreadable or changed): the repairer queues it. */
export type DamageReport = (state: DatasetState, segment: number, index: number) => void;

/**
 * Opens one stored shard at z, after checking it against its SHA-256 (a changed blob would only
 * give a proof that fails). ApiError shard_missing when the node should hold it and does not, or
 * holds it damaged; `onDamaged` hears of either, so that the shard gets rebuilt.
 */
export async function openShard(
  deps: { store: Pick<ShardStore, 'getShard'>; opener: ShardOpener; onDamaged?: DamageReport },
  state: DatasetState,
  segment: number,
  index: number,
  z: Uint8Array,
): Promise<ShardOpening> {
  const shard = await provenShard(deps.store, state, segment, index).catch(() => 'unreadable' as const);
  if (!shard || shard === 'unreadable' || !equalBytes(sha256(shard.blob), shard.shardHash)) {
    deps.onDamaged?.(state, segment, index);
    const what = shard ? 'holds it damaged; it is being repaired' : 'does not';
    throw new ApiError('shard_missing', `this node should hold shard ${segment}/${index} but ${what}`);
  }
  const { y, proof } = await deps.opener.open(shard.blob, z);
  return {
    segment,
    index,
    z,
    y,
    kzgProof: proof,
    commitment: shard.commitment,
    shardHash: shard.shardHash,
    inclusionProof: shard.inclusionProof,
  };
}

/** The wire form (protocol/routes.ts SampleAnswer). */
export function openingToJson(o: ShardOpening): SampleAnswer {
  return {
    segment: o.segment,
    index: o.index,
    z: toHex(o.z),
    y: toHex(o.y),
    kzgProof: toHex(o.kzgProof),
    commitment: toHex(o.commitment),
    shardHash: toHex(o.shardHash),
    inclusionProof: toHex(encodeMerkleProof(o.inclusionProof)),
  };
}
