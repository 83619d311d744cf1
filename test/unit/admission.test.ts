import { describe, expect, it } from 'vitest';
import { generateBlsKeyPair } from '../../proofs/bls.ts';
import { toHex } from '../../proofs/bytes.ts';
import { BLS_MODULUS, scalarToBytes } from '../../proofs/field.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { encodeMerkleProof } from '../../proofs/merkle.ts';
import { shardPosition } from '../../protocol/manifest.ts';
import { datasetId } from '../../protocol/messages.ts';
import { shardsOnNode } from '../../protocol/placement.ts';
import { admitShard, type AdmissionDeps, type ShardOffer } from '../../storage-node/admission.ts';
import { DatasetCatalog, type DatasetState } from '../../storage-node/datasets.ts';
import { buildDataset, type BuiltDataset } from '../helpers/dataset.ts';

/** Shard admission as a function, without fastify or LevelDB: in-memory slots and the real c-kzg check. */
const kzg = loadCKzg();
const keys = Array.from({ length: 3 }, () => generateBlsKeyPair());
const uploader = `0x${'22'.repeat(20)}`;
const K = 2;
const M = 1;

function stateFor(dataset: BuiltDataset, node = 0): DatasetState {
  const catalog = new DatasetCatalog(
    { getManifest: async () => undefined, getMeta: async () => undefined, listDatasets: async () => [] },
    keys[node]!.publicKey,
  );
  return catalog.describe(datasetId(uploader, dataset.root), uploader, dataset.manifest);
}

function memoryDeps() {
  const slots = new Map<string, Uint8Array>();
  let verified = 0;
  const deps: AdmissionDeps = {
    hasShard: async (id, s, i) => slots.has(`${toHex(id)}/${s}/${i}`),
    putShard: async (id, s, i, blob) => void slots.set(`${toHex(id)}/${s}/${i}`, blob),
    verifyCommitment: async (blob, commitment) => {
      verified++;
      return toHex(kzg.blobToCommitment(blob)) === toHex(commitment);
    },
  };
  return { deps, slots, verifiedCount: () => verified };
}

const dataset = buildDataset(
  keys.map((k) => k.publicKey),
  K,
  M,
  3 * 126_976,
);
const state = stateFor(dataset);
const [[segment, index]] = [...shardsOnNode(0, 2, K + M, 3)] as [[number, number]];
const proofHeader = (s: number, i: number, built = dataset) =>
  toHex(encodeMerkleProof(built.tree.proof(shardPosition({ k: K, m: M }, s, i))));
const honest = (): ShardOffer => ({
  segment,
  index,
  body: Buffer.from(dataset.blobs[segment]![index]!),
  proofHeader: proofHeader(segment, index),
});

describe('admitShard', () => {
  it('stores a shard that checks out, once; a retry is a duplicate and costs no KZG check', async () => {
    const { deps, slots, verifiedCount } = memoryDeps();
    expect(await admitShard(state, honest(), deps)).toEqual({ status: 'stored' });
    expect(await admitShard(state, honest(), deps)).toEqual({ status: 'duplicate' });
    expect(verifiedCount()).toBe(1);
    expect([...slots.keys()]).toEqual([`${toHex(state.id)}/${segment}/${index}`]);
  });

  const blob = dataset.blobs[segment]![index]!;
  const flipped = (at: number) => {
    const copy = Buffer.from(blob);
    copy[at]! ^= 1;
    return copy;
  };
  const [otherSegment, otherIndex] = [...shardsOnNode(1, 2, K + M, 3)][0]!;
  const cases: Array<[string, ShardOffer, string]> = [
    ['a shard the dataset does not have', { ...honest(), segment: 7 }, 'unknown_shard'],
    ['a shard index past k + m', { ...honest(), index: K + M }, 'unknown_shard'],
    ['a shard placed on another node', { ...honest(), segment: otherSegment, index: otherIndex }, 'shard_not_assigned'],
    ['a body that is not bytes', { ...honest(), body: 'text' }, 'unsupported_media_type'],
    ['a short blob', { ...honest(), body: Buffer.from(blob.subarray(1)) }, 'bad_blob_length'],
    ['a field element with a top byte set', { ...honest(), body: flipped(32 * 5) }, 'non_canonical_field_element'],
    ['a payload byte changed', { ...honest(), body: flipped(1) }, 'shard_hash_mismatch'],
    ['no inclusion proof', { ...honest(), proofHeader: undefined }, 'bad_inclusion_proof'],
    ['an inclusion proof that is not hex', { ...honest(), proofHeader: 'zz' }, 'bad_inclusion_proof'],
    ['the inclusion proof of another shard', { ...honest(), proofHeader: proofHeader(otherSegment, otherIndex) }, 'bad_inclusion_proof'],
  ];
  it.each(cases)('refuses %s (%s) and stores nothing', async (_what, offer, code) => {
    const { deps, slots, verifiedCount } = memoryDeps();
    const admission = await admitShard(state, offer, deps);
    expect(admission).toMatchObject({ status: 'rejected', code });
    expect(slots.size).toBe(0);
    expect(verifiedCount()).toBe(0);
  });

  it('takes parity shards with full field elements, and refuses one with an element not below the modulus', async () => {
    const [s, i] = [...shardsOnNode(0, 2, K + M, 3)].find(([, index]) => index >= K)!;
    const parity = dataset.blobs[s]![i]!;
    expect(parity.some((_, at) => at % 32 === 0 && parity[at] !== 0)).toBe(true); // full elements, not 31-byte packing
    const { deps, slots } = memoryDeps();
    expect(await admitShard(state, { segment: s, index: i, body: Buffer.from(parity), proofHeader: proofHeader(s, i) }, deps)).toEqual({
      status: 'stored',
    });
    const tooBig = Buffer.from(parity);
    tooBig.set(scalarToBytes(BLS_MODULUS), 32 * 9);
    expect(await admitShard(state, { segment: s, index: i, body: tooBig, proofHeader: proofHeader(s, i) }, memoryDeps().deps)).toEqual({
      status: 'rejected',
      code: 'non_canonical_field_element',
      message: 'field element 9 is not below the BLS12-381 scalar modulus',
    });
    expect(slots.size).toBe(1);
  });

  it("refuses a shard whose manifest commitment is not its blob's (commitment_mismatch), after the cheap checks", async () => {
    // The uploader lies about one commitment; the hash, and so the inclusion proof, still match.
    const lying = buildDataset(
      keys.map((k) => k.publicKey),
      K,
      M,
      3 * 126_976,
      (records) => {
        records[shardPosition({ k: K, m: M }, segment, index)]!.commitment =
          records[shardPosition({ k: K, m: M }, segment, index) + 1]!.commitment;
      },
    );
    const { deps, slots } = memoryDeps();
    const offer = { segment, index, body: Buffer.from(lying.blobs[segment]![index]!), proofHeader: proofHeader(segment, index, lying) };
    const admission = await admitShard(stateFor(lying), offer, deps);
    expect(admission).toEqual({
      status: 'rejected',
      code: 'commitment_mismatch',
      message: `shard ${segment}/${index} does not match its KZG commitment`,
    });
    expect(slots.size).toBe(0);
  });
});
