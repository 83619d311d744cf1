import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ContractFactory, type BaseContract, type JsonRpcSigner } from 'ethers';
import { loadArtifacts } from '../../chain/compile.ts';
import { deployRegistry } from '../../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS, type Registry, type RegistryParameters } from '../../chain/registry.ts';
import { startLocalChain, type LocalChain } from '../../cli/local-chain.ts';
import { VECTORS_FILE, type ProtocolVectors } from '../vectors/generate.ts';
import * as ref from '../vectors/reference.ts';

/**
 * docs/protocol-vectors.json against the Solidity: Merkle.sol (through MerkleHarness) takes every
 * vector leaf and proof; SherdRegistry derives the vector dataset ids, the attestation message
 * the reference computes for this chain and deployment, the vector quorums and shard counts; the
 * vector EIP-2537 encodings register nodes and certify; and its challenge draws match the
 * reference's derivation (docs/protocol.md, "Challenges") on real block hashes.
 */
const vectors = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as ProtocolVectors;
const { hex, unhex } = ref;
const PARAMETERS: RegistryParameters = { ...DEFAULT_REGISTRY_PARAMETERS, feePerByteEpoch: 1n, epochBlocks: 8n, challengeWindow: 4n };
/** Paid for; the draws stop once both kinds were seen (all 40 epochs without a move: probability 4^-40). */
const EPOCHS = 40;

let chain: LocalChain;
let funder: JsonRpcSigner;
let harness: BaseContract;
let registry: Registry;

const flip = (value: string): string => hex(unhex(value).map((b, i, all) => (i === all.length - 1 ? b ^ 1 : b)));
const leafOnChain = (commitment: string, shardHash: string): Promise<string> => harness.getFunction('leaf')(commitment, shardHash);
const includedOnChain = (root: string, leaf: string, position: number, leafCount: number, siblings: string[]): Promise<boolean> =>
  harness.getFunction('included')(root, leaf, position, leafCount, siblings);

beforeAll(async () => {
  chain = await startLocalChain();
  funder = await chain.funder();
  const artifact = (await loadArtifacts()).MerkleHarness!;
  harness = await (await new ContractFactory(artifact.abi as never, artifact.bytecode, funder).deploy()).waitForDeployment();
  registry = await deployRegistry(funder, PARAMETERS);
});

afterAll(async () => {
  await chain?.close();
});

describe('Merkle.sol agrees with the vectors', () => {
  it('computes every vector leaf', async () => {
    for (const tree of vectors.merkle) {
      const records = Array.from(
        { length: tree.leafCount },
        (_, i) =>
          [
            hex(ref.vectorBytes(`merkle/${tree.leafCount}/${i}/commitment`, 48)),
            hex(ref.vectorBytes(`merkle/${tree.leafCount}/${i}/sha256`, 32)),
          ] as const,
      );
      const onChain = await Promise.all(records.map(([commitment, shardHash]) => leafOnChain(commitment, shardHash)));
      expect(onChain).toEqual(tree.leaves);
    }
    for (const d of vectors.datasets) {
      expect(await Promise.all(d.shards.map((s) => leafOnChain(s.commitment, s.blobSha256)))).toEqual(d.shards.map((s) => s.leaf));
    }
  });

  it('accepts every vector proof, and refuses it with a changed sibling, another position or one sibling too many', async () => {
    const cases = [
      ...vectors.merkle.flatMap((tree) =>
        tree.proofs.map((p) => ({
          root: tree.root,
          leafCount: tree.leafCount,
          leaf: tree.leaves[p.index]!,
          neighbour: tree.leaves[p.index ^ 1],
          position: p.index,
          siblings: p.siblings,
        })),
      ),
      ...vectors.datasets.flatMap((d) =>
        d.shards.map((s) => ({
          root: d.contentRoot,
          leafCount: d.leafCount,
          leaf: s.leaf,
          neighbour: d.shards[s.position ^ 1]?.leaf,
          position: s.position,
          siblings: ref.proofFromWire(s.proof).map(hex),
        })),
      ),
    ];
    expect(cases.length).toBeGreaterThan(40);
    for (const c of cases) {
      expect(await includedOnChain(c.root, c.leaf, c.position, c.leafCount, c.siblings)).toBe(true);
      if (c.siblings.length > 0) {
        const d = c.position % c.siblings.length;
        expect(
          await includedOnChain(
            c.root,
            c.leaf,
            c.position,
            c.leafCount,
            c.siblings.map((s, j) => (j === d ? flip(s) : s)),
          ),
        ).toBe(false);
        // Identical shards (all-padding data shards) have identical leaves, and then either position proves either.
        expect(await includedOnChain(c.root, c.leaf, c.position ^ 1, c.leafCount, c.siblings)).toBe(c.neighbour === c.leaf);
      }
      expect(await includedOnChain(c.root, c.leaf, c.position, c.leafCount, [...c.siblings, hex(new Uint8Array(32))])).toBe(false);
    }
  });
});

describe('SherdRegistry agrees with the vectors and the reference', () => {
  it('derives the vector dataset ids', async () => {
    const pairs = [
      ...vectors.datasets.map((d) => ({ owner: d.owner.address, contentRoot: d.contentRoot, datasetId: d.datasetId })),
      ...vectors.messages.datasetId,
    ];
    for (const p of pairs) expect(hex(await registry.datasetId(p.owner, unhex(p.contentRoot)))).toBe(p.datasetId);
  });

  it('signs the attestation message the reference computes for this chain id and deployment', async () => {
    expect(chain.chainId).toBe(31337n);
    const ids = [...vectors.datasets.map((d) => d.datasetId), ...vectors.messages.attestationMessage.map((m) => m.datasetId)];
    for (const id of ids) {
      expect(hex(await registry.attestationMessage(unhex(id)))).toBe(
        hex(ref.attestationMessage(chain.chainId, registry.address, unhex(id))),
      );
    }
  });

  it('computes the vector quorums and assigned shard counts', async () => {
    for (const q of vectors.placement.quorum) expect(await registry.quorum(q.nodeCount, q.k, q.m)).toBe(q.quorum);
    for (const v of vectors.placement.assignedShardCounts) {
      const counts = await Promise.all(v.counts.map((_, member) => registry.assignedShardCount(v.segments, v.n, v.nodeCount, member)));
      expect(counts).toEqual(v.counts);
    }
  });

  it('the point-evaluation precompile accepts the vector sample answer, and not with a changed y', async () => {
    const { sample } = vectors;
    const input = unhex(sample.pointEvaluationInput);
    expect(await chain.provider.call({ to: '0x000000000000000000000000000000000000000a', data: hex(input) })).toBe(
      sample.pointEvaluationOutput,
    );
    input[95]! ^= 1; // the last byte of y
    await expect(chain.provider.call({ to: '0x000000000000000000000000000000000000000a', data: hex(input) })).rejects.toThrow();
  });

  it('registers nodes and certifies with the vector EIP-2537 encodings, then draws challenges exactly as the reference does', async () => {
    const d = vectors.datasets.find((x) => x.name === 'k2m1-two-segments-partial')!;
    // The vectors' owner is this chain's funder, so the contract assigns exactly the vector id.
    expect((await funder.getAddress()).toLowerCase()).toBe(d.owner.address);
    for (const [i, node] of d.nodes.entries()) {
      await registry.registerNodeRaw(
        unhex(node.publicKeyEip2537),
        unhex(node.proofOfPossessionEip2537),
        new Uint8Array(32).fill(i + 1),
        `http://127.0.0.1:${9300 + i}`,
        PARAMETERS.minStake,
      );
    }
    const { datasetId } = await registry.registerDataset(
      unhex(d.contentRoot),
      d.payload.size,
      d.k,
      d.m,
      EPOCHS,
      BigInt(d.payload.size * EPOCHS),
    );
    expect(hex(datasetId)).toBe(d.datasetId);

    const message = ref.attestationMessage(chain.chainId, registry.address, datasetId);
    const signature = ref.blsAggregate(d.signers.map((i) => ref.blsSign(ref.toBigInt(unhex(d.nodes[i]!.secretKey)), message)));
    await registry.certifyRaw(datasetId, unhex(d.certificate.signers), ref.g2Eip2537(signature));
    const registration = await registry.dataset(datasetId);
    expect([registration.certified, registration.signers, registration.segments]).toEqual([true, d.signers.length, d.segments]);

    const code = { segments: d.segments, k: d.k, m: d.m, nodeCount: d.nodeCount };
    const challenged = d.nodes.map((_, member) => member).filter((member) => d.nodes[member]!.assignedShards > 0);
    // Epochs until both kinds of draw were seen on chain, the shard drawn first and one moved forward:
    // with N = 4 > n = 3, members 0 and 3 each move with probability 1/2 per epoch.
    const seen = { direct: 0, moved: 0 };
    for (
      let epoch = registration.startEpoch;
      epoch < registration.startEpoch + EPOCHS && (seen.direct === 0 || seen.moved === 0);
      epoch++
    ) {
      const { opensAfter } = await registry.challenge(datasetId, epoch, challenged[0]!);
      await chain.mineTo(opensAfter + 1);
      const blockHash = unhex((await chain.provider.getBlock(opensAfter))!.hash!);
      for (const member of challenged) {
        const onChain = await registry.challenge(datasetId, epoch, member);
        expect(onChain.status).toBe('open');
        const expected = ref.drawChallenge(blockHash, registry.address, datasetId, epoch, member, code);
        expect([onChain.segment, onChain.index, hex(onChain.z)]).toEqual([expected.segment, expected.index, hex(expected.z)]);
        seen[expected.segment === expected.drawnSegment ? 'direct' : 'moved']++;
      }
    }
    expect(seen.direct).toBeGreaterThan(0);
    expect(seen.moved).toBeGreaterThan(0);
  });
});
