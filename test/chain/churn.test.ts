import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { JsonRpcSigner } from 'ethers';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../../proofs/bls.ts';
import { sha256 } from '../../proofs/hash.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { merkleLeaf, MerkleTree } from '../../proofs/merkle.ts';
import { bitmapFromIndices } from '../../protocol/certificate.ts';
import { nodeEncryptionKey } from '../../protocol/encryption.ts';
import { shardPosition } from '../../protocol/manifest.ts';
import { attestationMessage } from '../../protocol/messages.ts';
import { startLocalChain, type LocalChain } from '../../cli/local-chain.ts';
import { deployRegistry } from '../../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS, epochAt, type Registry, type RegistryParameters } from '../../chain/registry.ts';
import { rejection } from '../helpers/chain.ts';

/**
 * Member replacement on a real local chain: a dataset on nodes 0–3 (k = m = 2, every node one
 * shard of each of 2 segments); nodes registered later are the candidates. Replacing, the
 * paused challenges, the BLS confirmation, rewards going to the replacement, and a repair
 * window let lapse.
 */
const kzg = loadCKzg();
const PARAMETERS: RegistryParameters = {
  ...DEFAULT_REGISTRY_PARAMETERS,
  feePerByteEpoch: 1_000n,
  epochBlocks: 10n,
  challengeWindow: 4n,
  repairWindow: 15n,
};
const K = 2;
const M = 2;
const N = 4;
const SEGMENTS = 2;
const SIZE = 3 * PAYLOAD_BYTES_PER_BLOB;
const EPOCHS = 20;

let chain: LocalChain;
let funder: JsonRpcSigner;
let registry: Registry;
const keys = Array.from({ length: 8 }, () => generateBlsKeyPair());
const blobs = Array.from({ length: SEGMENTS * N }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
const commitments = blobs.map((blob) => kzg.blobToCommitment(blob));
const hashes = blobs.map((blob) => sha256(blob));
const tree = new MerkleTree(blobs.map((_, i) => merkleLeaf(commitments[i]!, hashes[i]!)));
let datasetId: Uint8Array;

async function registerNode(index: number): Promise<void> {
  const key = keys[index]!;
  await registry.registerNode(
    key.publicKey,
    blsProvePossession(key.secretKey),
    nodeEncryptionKey(key.secretKey),
    `http://127.0.0.1:${9200 + index}`,
    PARAMETERS.minStake,
  );
}

const confirmation = (node: number) => blsSign(keys[node]!.secretKey, attestationMessage(chain.chainId, registry.address, datasetId));

beforeAll(async () => {
  chain = await startLocalChain();
  funder = await chain.funder();
  registry = await deployRegistry(funder, PARAMETERS);
  for (let i = 0; i < N; i++) await registerNode(i);
  ({ datasetId } = await registry.registerDataset(tree.root, SIZE, K, M, EPOCHS, await registry.storageFee(SIZE, EPOCHS)));
  const message = attestationMessage(chain.chainId, registry.address, datasetId);
  await registry.certify(
    datasetId,
    bitmapFromIndices([0, 1, 2, 3], N),
    blsAggregateSignatures(keys.slice(0, N).map((k) => blsSign(k.secretKey, message))),
  );
  // Two candidates that hold nothing of the dataset.
  await registerNode(4);
  await registerNode(5);
}, 60_000);

afterAll(async () => {
  await chain?.close();
});

describe('member replacement', () => {
  it('refuses to replace an active member, a slot outside the node set, or in an uncertified dataset', async () => {
    const active = await rejection(registry.replaceMember(datasetId, 1));
    expect(active.code).toBe('MemberStillActive');
    expect(active.args).toEqual([1n, 1n]);
    expect((await rejection(registry.replaceMember(datasetId, 4))).code).toBe('UnknownSlot');
    const other = await registry.registerDataset(new Uint8Array(randomBytes(32)), SIZE, K, M, 1, await registry.storageFee(SIZE, 1));
    expect((await rejection(registry.replaceMember(other.datasetId, 0))).code).toBe('NotCertified');
    expect((await registry.datasetMembers(datasetId)).map((m) => [m.nodeId, m.state])).toEqual([
      [0, 'original'],
      [1, 'original'],
      [2, 'original'],
      [3, 'original'],
    ]);
  });

  it('replaces an exited member by the documented rule, pauses its challenges, and pays the replacement once it confirms', async () => {
    // Member 1 leaves its first challenge unanswered, then exits: replacing it must not wipe out that miss.
    const { startEpoch } = await registry.dataset(datasetId);
    const skipped = await registry.challenge(datasetId, startEpoch, 1);
    await chain.mineTo(skipped.closesAt + 1);
    expect((await registry.challenge(datasetId, startEpoch, 1)).status).toBe('expired');
    await registry.requestExit(1);
    const receipt = await registry.replaceMember(datasetId, 1);
    const block = receipt.blockNumber;
    const params = await registry.epochParameters();
    expect((await registry.challenge(datasetId, startEpoch, 1)).status).toBe('expired');
    await registry.reportMissed(datasetId, startEpoch, 1);
    expect(await registry.nodeEarnings(1)).toMatchObject({ missed: 1, slashed: PARAMETERS.slashAmount });
    // The rule: walk the active list from keccak256(id, slot, previous block's hash) mod its length to the first non-member.
    const active = await registry.activeNodeIds();
    const epoch = epochAt(params, block);
    const { AbiCoder, keccak256 } = await import('ethers');
    const previousHash = (await chain.provider.getBlock(block - 1))!.hash!;
    const seed = BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint32', 'bytes32'], [datasetId, 1, previousHash])));
    const start = Number(seed % BigInt(active.length));
    const expected = [...active.slice(start), ...active.slice(0, start)].find((id) => id === 4 || id === 5);
    const [replacement] = await registry.replacements({ fromBlock: block });
    expect(replacement).toMatchObject({ slot: 1, previousNodeId: 1, nodeId: expected, repairDeadline: block + 15 });
    const members = await registry.datasetMembers(datasetId);
    expect(members[1]).toEqual({
      nodeId: expected,
      state: 'repairing',
      repairDeadline: block + 15,
      challengedFrom: epochAt(params, block + 15) + 1,
      active: true,
    });
    // Readers follow the slot: its key is the replacement's now.
    expect((await registry.readerTerms(datasetId)).nodeKeys[1]).toBe((await registry.node(expected!)).publicKey);
    // The epoch of the replacement stays the leaving member's; while repairing, the next has no challenge for the slot, and
    // the replacement is still active, so no second replacement.
    expect((await registry.challenge(datasetId, epoch, 1)).nodeId).toBe(1);
    expect((await registry.challenge(datasetId, epoch + 1, 1)).status).toBe('none');
    expect((await rejection(registry.replaceMember(datasetId, 1))).code).toBe('MemberStillActive');

    // Only the replacement's own signature over the attestation message confirms.
    const other = expected === 4 ? 5 : 4;
    expect((await rejection(registry.confirmReplacement(datasetId, 1, confirmation(other)))).code).toBe('InvalidSignature');
    expect((await rejection(registry.confirmReplacement(datasetId, 0, confirmation(expected!)))).code).toBe('NotRepairing');
    const confirmed = await registry.confirmReplacement(datasetId, 1, confirmation(expected!));
    const next = epochAt(params, confirmed.blockNumber) + 1;
    expect((await registry.datasetMembers(datasetId))[1]).toMatchObject({ state: 'confirmed', challengedFrom: next });
    expect((await rejection(registry.confirmReplacement(datasetId, 1, confirmation(expected!)))).code).toBe('NotRepairing');

    // The next epoch challenges the replacement for the slot; its answer earns it the slot's reward.
    const first = await registry.challenge(datasetId, next, 1);
    await chain.mineTo(first.opensAfter + 1);
    const c = await registry.challenge(datasetId, next, 1);
    expect(c).toMatchObject({ status: 'open', nodeId: expected });
    const position = shardPosition({ k: K, m: M }, c.segment, c.index);
    const { proof, y } = kzg.computeProof(blobs[position]!, c.z);
    await registry.answerChallenge({
      datasetId,
      epoch: next,
      member: 1,
      commitment: commitments[position]!,
      shardHash: hashes[position]!,
      inclusionProof: tree.proof(position),
      z: c.z,
      y,
      kzgProof: proof,
    });
    expect(await registry.nodeEarnings(expected!)).toMatchObject({ answered: 1, earned: c.reward });
    expect(await registry.nodeEarnings(1)).toMatchObject({ answered: 0 });
  });

  it('lets a repair window lapse: the slot is challenged again and can be replaced again', async () => {
    await registry.requestExit(2);
    const receipt = await registry.replaceMember(datasetId, 2);
    const { nodeId, repairDeadline } = (await registry.replacements({ fromBlock: receipt.blockNumber }))[0]!;
    expect([4, 5]).toContain(nodeId);
    // No third candidate: every active node now holds a slot.
    await registry.requestExit(3);
    expect((await rejection(registry.replaceMember(datasetId, 3))).code).toBe('NoReplacementAvailable');
    await registerNode(6);
    await chain.mineTo(repairDeadline);
    // Mined past the deadline, a confirmation is too late and the slot is open to replacement again.
    await chain.mineTo(repairDeadline + 1);
    const late = await rejection(registry.confirmReplacement(datasetId, 2, confirmation(nodeId)));
    expect(late.code).toBe('RepairWindowClosed');
    const params = await registry.epochParameters();
    const resumed = epochAt(params, repairDeadline) + 1;
    expect((await registry.datasetMembers(datasetId))[2]!.challengedFrom).toBe(resumed);
    await chain.mineTo(Number((await registry.challenge(datasetId, resumed, 2)).opensAfter) + 1);
    expect(await registry.challenge(datasetId, resumed, 2)).toMatchObject({ status: 'open', nodeId });
    const stakeBefore = (await registry.node(nodeId)).stake;
    const again = await registry.replaceMember(datasetId, 2);
    const [second] = await registry.replacements({ fromBlock: again.blockNumber });
    expect(second).toMatchObject({ slot: 2, previousNodeId: nodeId, nodeId: 6 });
    // The lapsed replacement is slashed as for a missed challenge, and keeps its open challenge of the current epoch.
    expect((await registry.node(nodeId)).stake).toBe(stakeBefore - PARAMETERS.slashAmount);
    expect(await registry.challenge(datasetId, resumed, 2)).toMatchObject({ status: 'open', nodeId });
    expect((await registry.challenge(datasetId, resumed + 1, 2)).status).toBe('none');
  });
});
