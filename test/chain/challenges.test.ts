import { nodeEncryptionKey } from '../../protocol/encryption.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { JsonRpcSigner } from 'ethers';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../../proofs/bls.ts';
import { toHex } from '../../proofs/bytes.ts';
import { sha256 } from '../../proofs/hash.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { merkleLeaf, MerkleTree } from '../../proofs/merkle.ts';
import { randomFieldElement } from '../../proofs/field.ts';
import { versionedHash } from '../../proofs/sampling.ts';
import { bitmapFromIndices } from '../../protocol/certificate.ts';
import { attestationMessage } from '../../protocol/messages.ts';
import { assignedShardCount, nodeForShard, shardsOnNode } from '../../protocol/placement.ts';
import { startLocalChain, type LocalChain } from '../../cli/local-chain.ts';
import { deployRegistry } from '../../chain/deploy.ts';
import {
  DEFAULT_REGISTRY_PARAMETERS,
  type ChallengeAnswer,
  type ChallengeInfo,
  type Registry,
  type RegistryParameters,
} from '../../chain/registry.ts';
import { shardPosition } from '../../protocol/manifest.ts';
import { rejection } from '../helpers/chain.ts';

/**
 * Challenges, rewards and slashing on a real local chain, with real KZG openings checked by
 * the real point-evaluation precompile. Four nodes, k = 2, m = 2, three segments: every node
 * holds one shard of every segment.
 */
const kzg = loadCKzg();
const PARAMETERS: RegistryParameters = {
  ...DEFAULT_REGISTRY_PARAMETERS,
  feePerByteEpoch: 1_000n,
  epochBlocks: 12n,
  challengeWindow: 4n,
  slashAmount: 10n ** 17n,
  reporterShareBps: 1_000n,
};
const SIZE = 5 * PAYLOAD_BYTES_PER_BLOB; // 3 segments of 2 data blobs
const K = 2;
const M = 2;
const N = 4;
const SEGMENTS = 3;
const EPOCHS = 5;

let chain: LocalChain;
let funder: JsonRpcSigner;
let registry: Registry;
const nodeKeys = Array.from({ length: N }, () => generateBlsKeyPair());
const blobs = Array.from({ length: SEGMENTS * N }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
const commitments = blobs.map((blob) => kzg.blobToCommitment(blob));
const hashes = blobs.map((blob) => sha256(blob));
const tree = new MerkleTree(blobs.map((_, i) => merkleLeaf(commitments[i]!, hashes[i]!)));
const contentRoot = tree.root;
const CODE = { k: 2, m: 2 };
let datasetId: Uint8Array;
let startEpoch: number;

/** Mines until the latest block is `target` (the next transaction lands in target + 1). */
const mineTo = (target: number) => chain.mineTo(target);

/** What an honest node sends for a drawn challenge. */
function honestAnswer(epoch: number, member: number, c: ChallengeInfo): ChallengeAnswer {
  const position = shardPosition(CODE, c.segment, c.index);
  const { proof, y } = kzg.computeProof(blobs[position]!, c.z);
  return {
    datasetId,
    epoch,
    member,
    commitment: commitments[position]!,
    shardHash: hashes[position]!,
    inclusionProof: tree.proof(position),
    z: c.z,
    y,
    kzgProof: proof,
  };
}

/**
 * Opens the challenges of `epoch` and returns member's. Calls run against the latest block,
 * transactions land in the next: the draw shows once the epoch's first block is not the latest.
 */
async function openEpoch(epoch: number, member: number): Promise<ChallengeInfo> {
  const first = await registry.challenge(datasetId, epoch, member);
  await mineTo(first.opensAfter);
  expect((await registry.challenge(datasetId, epoch, member)).status).toBe('pending');
  await mineTo(first.opensAfter + 1);
  const c = await registry.challenge(datasetId, epoch, member);
  expect(c.status).toBe('open');
  return c;
}

beforeAll(async () => {
  chain = await startLocalChain();
  funder = await chain.funder();
  registry = await deployRegistry(funder, PARAMETERS);
  for (const [i, key] of nodeKeys.entries()) {
    await registry.registerNode(
      key.publicKey,
      blsProvePossession(key.secretKey),
      nodeEncryptionKey(key.secretKey),
      `http://127.0.0.1:${9100 + i}`,
      PARAMETERS.minStake,
    );
  }
  ({ datasetId } = await registry.registerDataset(contentRoot, SIZE, K, M, EPOCHS, await registry.storageFee(SIZE, EPOCHS)));
  const message = attestationMessage(chain.chainId, registry.address, datasetId);
  await registry.certify(
    datasetId,
    bitmapFromIndices([0, 1, 2, 3], N),
    blsAggregateSignatures(nodeKeys.map((k) => blsSign(k.secretKey, message))),
  );
  ({ startEpoch } = await registry.dataset(datasetId));
}, 60_000);

afterAll(async () => {
  await chain?.close();
});

describe('placement counts (protocol/placement.ts and the contract agree)', () => {
  it('counts the shards on each node in O(1) exactly as enumerating them does', async () => {
    for (const [segments, n, nodeCount] of [
      [1, 4, 4],
      [3, 4, 6],
      [7, 3, 5],
      [10, 8, 11],
      [33, 16, 20],
      [2, 2, 9],
    ] as const) {
      for (let node = 0; node < nodeCount; node++) {
        const enumerated = [...shardsOnNode(node, segments, n, nodeCount)].length;
        expect(assignedShardCount(node, segments, n, nodeCount)).toBe(enumerated);
        expect(await registry.assignedShardCount(segments, n, nodeCount, node)).toBe(enumerated);
      }
    }
  });
});

describe('KZG openings: off chain and on chain agree', () => {
  it('every opening c-kzg makes verifies with c-kzg and with the point-evaluation precompile; a changed y fails both', async () => {
    for (let i = 0; i < 6; i++) {
      const blob = blobs[i]!;
      const z = randomFieldElement();
      const { proof, y } = kzg.computeProof(blob, z);
      expect(kzg.verifyProof(commitments[i]!, z, y, proof)).toBe(true);
      const input = (yValue: Uint8Array) =>
        toHex(new Uint8Array([...versionedHash(commitments[i]!), ...z, ...yValue, ...commitments[i]!, ...proof]));
      const out = await chain.provider.call({ to: '0x000000000000000000000000000000000000000a', data: input(y) });
      // FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS, as EIP-4844 specifies.
      expect(out).toBe(`0x${'1000'.padStart(64, '0')}73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001`);
      const badY = y.slice();
      badY[31]! ^= 1;
      expect(kzg.verifyProof(commitments[i]!, z, badY, proof)).toBe(false);
      await expect(chain.provider.call({ to: '0x000000000000000000000000000000000000000a', data: input(badY) })).rejects.toThrow();
    }
  });
});

describe('challenges', () => {
  it('starts with the epoch after certification and draws a shard placed on the member', async () => {
    expect(startEpoch).toBe((await registry.currentEpoch()) + 1);
    const pending = await registry.challenge(datasetId, startEpoch, 1);
    expect(pending.status).toBe('pending');
    expect((await registry.challenge(datasetId, startEpoch - 1, 1)).status).toBe('none');
    expect((await registry.challenge(datasetId, startEpoch + EPOCHS, 1)).status).toBe('none');
    expect((await registry.challenge(datasetId, startEpoch, N)).status).toBe('none');
    const early = await rejection(registry.answerChallenge(honestAnswer(startEpoch, 1, { ...pending, segment: 0, index: 1 })));
    expect(early.code).toBe('ChallengeNotOpen');
    const c = await openEpoch(startEpoch, 1);
    expect(nodeForShard(c.segment, c.index, N)).toBe(1);
    expect(c.segment).toBeLessThan(SEGMENTS);
  });

  it('pays an honest answer its share of the epoch, once', async () => {
    const c = await registry.challenge(datasetId, startEpoch, 1);
    // Equal shares here: every node holds one shard of each of the 3 segments.
    const fee = await registry.storageFee(SIZE, EPOCHS);
    expect(c.reward).toBe((fee * 3n) / (BigInt(EPOCHS) * 3n * 4n));
    const receipt = await registry.answerChallenge(honestAnswer(startEpoch, 1, c));
    expect(receipt.status).toBe(1);
    expect((await registry.challenge(datasetId, startEpoch, 1)).status).toBe('answered');
    expect(await registry.nodeEarnings(c.nodeId)).toEqual({ unclaimed: c.reward, earned: c.reward, slashed: 0n, answered: 1, missed: 0 });
    const twice = await rejection(registry.answerChallenge(honestAnswer(startEpoch, 1, c)));
    expect(twice.code).toBe('ChallengeAlreadySettled');
    expect((await registry.nodeEarnings(c.nodeId)).earned).toBe(c.reward);
  });

  it('rejects a proof for another z, a wrong y, another shard and a forged commitment', async () => {
    const c = await registry.challenge(datasetId, startEpoch, 2);
    expect(c.status).toBe('open');
    const honest = honestAnswer(startEpoch, 2, c);

    const otherZ = randomFieldElement();
    const atOtherZ = kzg.computeProof(blobs[shardPosition(CODE, c.segment, c.index)]!, otherZ);
    expect((await rejection(registry.answerChallenge({ ...honest, z: otherZ, y: atOtherZ.y, kzgProof: atOtherZ.proof }))).code).toBe(
      'WrongPoint',
    );
    expect((await rejection(registry.answerChallenge({ ...honest, y: atOtherZ.y, kzgProof: atOtherZ.proof }))).code).toBe(
      'InvalidOpeningProof',
    );
    const badY = honest.y.slice();
    badY[31]! ^= 1;
    expect((await rejection(registry.answerChallenge({ ...honest, y: badY }))).code).toBe('InvalidOpeningProof');

    // Another shard of the same node, with its own valid inclusion proof and opening.
    const [otherSegment, otherIndex] = [...shardsOnNode(2, SEGMENTS, K + M, N)].find(([segment]) => segment !== c.segment)!;
    const otherPosition = shardPosition(CODE, otherSegment, otherIndex);
    const other = kzg.computeProof(blobs[otherPosition]!, c.z);
    const anotherShard = {
      ...honest,
      commitment: commitments[otherPosition]!,
      shardHash: hashes[otherPosition]!,
      inclusionProof: tree.proof(otherPosition),
      y: other.y,
      kzgProof: other.proof,
    };
    expect((await rejection(registry.answerChallenge(anotherShard))).code).toBe('BadInclusionProof');

    // A blob the node made up: its opening is valid for its commitment, which is not in the tree.
    const forgedBlob = packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB)));
    const forgedCommitment = kzg.blobToCommitment(forgedBlob);
    const forged = kzg.computeProof(forgedBlob, c.z);
    expect(kzg.verifyProof(forgedCommitment, c.z, forged.y, forged.proof)).toBe(true);
    expect(
      (await rejection(registry.answerChallenge({ ...honest, commitment: forgedCommitment, y: forged.y, kzgProof: forged.proof }))).code,
    ).toBe('BadInclusionProof');
    expect((await rejection(registry.answerChallenge({ ...honest, inclusionProof: honest.inclusionProof.slice(1) }))).code).toBe(
      'BadInclusionProof',
    );

    expect((await registry.challenge(datasetId, startEpoch, 2)).status).toBe('open');
    expect((await registry.answerChallenge(honest)).status).toBe(1);
  });

  it('rejects a late answer; a report slashes the node, pays the reporter and refunds the owner', async () => {
    const c = await registry.challenge(datasetId, startEpoch, 3);
    expect(c.status).toBe('open');
    const answer = honestAnswer(startEpoch, 3, c);
    const stillOpen = await rejection(registry.reportMissed(datasetId, startEpoch, 3));
    expect(stillOpen.code).toBe('ChallengeStillOpen');
    // With block closesAt the latest, an answer sent now lands one block too late.
    await mineTo(c.closesAt);
    const late = await rejection(registry.answerChallenge(answer));
    expect(late.code).toBe('ChallengeClosed');
    expect(late.args).toEqual([BigInt(c.closesAt)]);
    await mineTo(c.closesAt + 1);
    expect((await registry.challenge(datasetId, startEpoch, 3)).status).toBe('expired');

    const reporter = await chain.provider.getSigner(1);
    const owner = await funder.getAddress();
    const before = {
      stake: (await registry.node(c.nodeId)).stake,
      owner: await registry.balanceOf(owner),
      burned: (await registry.contract.getFunction('burned')()) as bigint,
    };
    await registry.connect(reporter).reportMissed(datasetId, startEpoch, 3);
    const slash = PARAMETERS.slashAmount;
    expect((await registry.node(c.nodeId)).stake).toBe(before.stake - slash);
    expect(await registry.balanceOf(await reporter.getAddress())).toBe(slash / 10n);
    expect(await registry.balanceOf(owner)).toBe(before.owner + c.reward);
    expect(await registry.contract.getFunction('burned')()).toBe(before.burned + slash - slash / 10n);
    expect(await registry.nodeEarnings(c.nodeId)).toMatchObject({ slashed: slash, missed: 1, answered: 0 });
    expect((await registry.challenge(datasetId, startEpoch, 3)).status).toBe('missed');
    expect((await rejection(registry.reportMissed(datasetId, startEpoch, 3))).code).toBe('ChallengeAlreadySettled');
    // An answered challenge cannot be reported either.
    expect((await rejection(registry.reportMissed(datasetId, startEpoch, 1))).code).toBe('ChallengeAlreadySettled');
    // A slash takes the node below the minimum stake: it is no longer placed on new datasets.
    expect(await registry.activeNodeIds()).not.toContain(c.nodeId);
  });

  it('pays claimed rewards to the operator, and balances to their holders', async () => {
    const id = (await registry.challenge(datasetId, startEpoch, 1)).nodeId;
    const { unclaimed } = await registry.nodeEarnings(id);
    expect(unclaimed).toBeGreaterThan(0n);
    const operator = await funder.getAddress();
    const balance = (address: string) => chain.provider.getBalance(address);
    const before = { operator: await balance(operator), registry: await balance(registry.address) };
    const receipt = await registry.claimRewards(id);
    const gas = receipt.gasUsed * receipt.gasPrice;
    expect(await balance(registry.address)).toBe(before.registry - unclaimed);
    expect(await balance(operator)).toBe(before.operator + unclaimed - gas);
    expect((await registry.nodeEarnings(id)).unclaimed).toBe(0n);
    expect((await rejection(registry.claimRewards(id))).code).toBe('NothingToWithdraw');
    const stranger = await chain.provider.getSigner(2);
    expect((await rejection(registry.connect(stranger).claimRewards(id))).code).toBe('NotOperator');
    const reporter = await chain.provider.getSigner(1);
    expect((await registry.connect(reporter).withdraw()).status).toBe(1);
    expect(await registry.balanceOf(await reporter.getAddress())).toBe(0n);
  });
});
