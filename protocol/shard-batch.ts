import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { HASH_BYTES } from '../proofs/merkle.ts';
import { ProtocolError } from './errors.ts';

/**
 * The body of GET /v1/datasets/:dataset/shard-batch (docs/protocol.md): the shards asked for,
 * in the order asked, each as
 *   0x00 ‖ commitment (48) ‖ SHA-256 (32) ‖ proof length p (1) ‖ p sibling hashes (32 each) ‖ blob (131,072)
 * or 0x01 alone for a shard the node should hold and does not. The same content as the
 * single-shard route's headers and body, so a reader checks each shard the same way.
 */
export const MAX_SHARDS_PER_BATCH = 16;
const HELD = 0x00;
const MISSING = 0x01;

/** The most bytes a batch of `count` shards can take: each held, with the longest proof a byte can count. */
export function maxShardBatchBytes(count: number): number {
  return count * (1 + 48 + 32 + 1 + 255 * HASH_BYTES + BYTES_PER_BLOB);
}

export interface BatchShard {
  commitment: Uint8Array;
  shardHash: Uint8Array;
  inclusionProof: Uint8Array[];
  blob: Uint8Array;
}

/** The `shards` query parameter's form (routes.getShardBatch checks it at the edge): 1 to 16 `SEGMENT.INDEX` pairs. */
export const SHARD_LIST_PATTERN = `^[0-9]{1,10}\\.[0-9]{1,3}(,[0-9]{1,10}\\.[0-9]{1,3}){0,${MAX_SHARDS_PER_BATCH - 1}}$`;

/** `segment.index` pairs joined by commas: the `shards` query parameter. */
export function formatShardList(shards: ReadonlyArray<readonly [segment: number, index: number]>): string {
  return shards.map(([s, i]) => `${s}.${i}`).join(',');
}

/** The `shards` query parameter back to pairs; ProtocolError `bad_shard_list` when it is not one. */
export function parseShardList(text: string): Array<[segment: number, index: number]> {
  const items = text.split(',');
  if (items.length === 0 || items.length > MAX_SHARDS_PER_BATCH) {
    throw new ProtocolError('bad_shard_list', `a batch names 1 to ${MAX_SHARDS_PER_BATCH} shards`);
  }
  return items.map((item) => {
    const match = /^(\d{1,10})\.(\d{1,3})$/.exec(item);
    if (!match) throw new ProtocolError('bad_shard_list', `not a shard (SEGMENT.INDEX): ${item.slice(0, 24)}`);
    return [Number(match[1]), Number(match[2])];
  });
}

export function encodeShardBatch(shards: ReadonlyArray<BatchShard | undefined>): Uint8Array {
  const size = shards.reduce(
    (sum, shard) => sum + (shard ? 1 + 48 + 32 + 1 + shard.inclusionProof.length * HASH_BYTES + BYTES_PER_BLOB : 1),
    0,
  );
  const out = new Uint8Array(size);
  let at = 0;
  for (const shard of shards) {
    if (!shard) {
      out[at++] = MISSING;
      continue;
    }
    if (shard.inclusionProof.length > 255) throw new ProtocolError('bad_shard_batch', 'an inclusion proof is at most 255 hashes');
    out[at++] = HELD;
    out.set(shard.commitment, at);
    out.set(shard.shardHash, at + 48);
    out[at + 80] = shard.inclusionProof.length;
    at += 81;
    for (const sibling of shard.inclusionProof) {
      out.set(sibling, at);
      at += HASH_BYTES;
    }
    out.set(shard.blob, at);
    at += BYTES_PER_BLOB;
  }
  return out;
}

/** `count` shards from a batch body (views into it, not copies); ProtocolError `bad_shard_batch` when it is malformed. */
export function decodeShardBatch(body: Uint8Array, count: number): Array<BatchShard | undefined> {
  const shards: Array<BatchShard | undefined> = [];
  let at = 0;
  const take = (length: number) => {
    if (at + length > body.length) throw new ProtocolError('bad_shard_batch', 'the shard batch ends early');
    const part = body.subarray(at, at + length);
    at += length;
    return part;
  };
  for (let j = 0; j < count; j++) {
    const status = take(1)[0];
    if (status === MISSING) {
      shards.push(undefined);
      continue;
    }
    if (status !== HELD) throw new ProtocolError('bad_shard_batch', `shard ${j} has status ${status}`);
    const commitment = take(48);
    const shardHash = take(32);
    const proofLength = take(1)[0]!;
    const inclusionProof = Array.from({ length: proofLength }, () => take(HASH_BYTES));
    shards.push({ commitment, shardHash, inclusionProof, blob: take(BYTES_PER_BLOB) });
  }
  if (at !== body.length) throw new ProtocolError('bad_shard_batch', `the shard batch has ${body.length - at} bytes too many`);
  return shards;
}
