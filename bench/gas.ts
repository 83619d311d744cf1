/**
 * Gas of the on-chain verification channel, on the local Prague chain (EIP-2537 precompiles):
 * registerNode, registerDataset and certify with 8, 16, 32 and 64 nodes, with every node
 * signing and with a third not signing; then one challenge answer (inclusion proof + the
 * EIP-4844 point-evaluation precompile) and one missed-challenge report, for datasets of
 * 2^7 to 2^20 shards. Prints tables, writes bench/results/gas.json.
 * Run: npm run bench:gas
 */
import { nodeEncryptionKey } from '../protocol/encryption.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { startLocalChain } from '../cli/local-chain.ts';
import { deployRegistry } from '../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS } from '../chain/registry.ts';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../proofs/blob.ts';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../proofs/bls.ts';
import { sha256 } from '../proofs/hash.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import { merkleLeaf, merkleNode } from '../proofs/merkle.ts';
import { bitmapFromIndices } from '../protocol/certificate.ts';
import { attestationMessage } from '../protocol/messages.ts';

interface Row {
  nodes: number;
  k: number;
  m: number;
  registerNodeGas: number;
  registerDatasetGas: number;
  registerDatasetWithSnapshotGas: number;
  certifyAllGas: number;
  nonSigners: number;
  certifyThirdMissingGas: number;
}

interface ChallengeRow {
  shards: number;
  depth: number;
  answerGas: number;
  reportGas: number;
}

const chain = await startLocalChain();
const funder = await chain.funder();
const rows: Row[] = [];
const challengeRows: ChallengeRow[] = [];
try {
  for (const count of [8, 16, 32, 64]) {
    const registry = await deployRegistry(funder, { ...DEFAULT_REGISTRY_PARAMETERS, minStake: 1n, exitDelay: 1n, feePerByteEpoch: 1n });
    const keys = Array.from({ length: count }, () => generateBlsKeyPair());
    const registerGas: number[] = [];
    for (const [i, key] of keys.entries()) {
      const receipt = await registry.registerNode(
        key.publicKey,
        blsProvePossession(key.secretKey),
        nodeEncryptionKey(key.secretKey),
        `http://127.0.0.1:${10_000 + i}`,
        1n,
      );
      registerGas.push(Number(receipt.gasUsed));
    }
    const k = count / 2;
    const m = count / 2;
    const certifyWith = async (signers: number[]) => {
      const root = new Uint8Array(randomBytes(32));
      const { datasetId: id, receipt: registered } = await registry.registerDataset(root, 1_000_000, k, m, 1, 1_000_000n);
      const message = attestationMessage(chain.chainId, registry.address, id);
      const signature = blsAggregateSignatures(signers.map((i) => blsSign(keys[i]!.secretKey, message)));
      const certified = await registry.certify(id, bitmapFromIndices(signers, count), signature);
      return { register: Number(registered.gasUsed), certify: Number(certified.gasUsed) };
    };
    // The first dataset also snapshots the node set; measure its registration separately from the steady state.
    const first = await certifyWith(keys.map((_, i) => i));
    const all = await certifyWith(keys.map((_, i) => i));
    const nonSigners = Math.floor(count / 3);
    const third = await certifyWith(keys.map((_, i) => i).filter((i) => i % 3 !== 1 || i >= 3 * nonSigners));
    rows.push({
      nodes: count,
      k,
      m,
      registerNodeGas: Math.round(registerGas.slice(1).reduce((a, b) => a + b, 0) / (count - 1)),
      registerDatasetGas: all.register,
      registerDatasetWithSnapshotGas: first.register,
      certifyAllGas: all.certify,
      nonSigners,
      certifyThirdMissingGas: third.certify,
    });
  }

  // Challenges: 8 nodes, k = m = 4, datasets of 2^depth shards. Stakes of twice the minimum: a
  // report slashes without taking the node below it (deactivation would cost more, once). Every leaf is the same real
  // shard, so the tree of any size is cheap to build and any drawn position can be answered.
  const kzg = loadCKzg();
  const blob = packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB)));
  const commitment = kzg.blobToCommitment(blob);
  const shardHash = sha256(blob);
  const leaf = merkleLeaf(commitment, shardHash);
  const registry = await deployRegistry(funder, {
    ...DEFAULT_REGISTRY_PARAMETERS,
    feePerByteEpoch: 1n,
    epochBlocks: 30n,
    challengeWindow: 20n,
  });
  const keys = Array.from({ length: 8 }, () => generateBlsKeyPair());
  for (const [i, key] of keys.entries()) {
    await registry.registerNode(
      key.publicKey,
      blsProvePossession(key.secretKey),
      nodeEncryptionKey(key.secretKey),
      `http://127.0.0.1:${11_000 + i}`,
      2n * DEFAULT_REGISTRY_PARAMETERS.minStake,
    );
  }
  for (const depth of [7, 10, 14, 20]) {
    const siblings = [leaf];
    for (let d = 1; d <= depth; d++) siblings.push(merkleNode(siblings[d - 1]!, siblings[d - 1]!));
    const root = siblings[depth]!;
    const size = (2 ** depth / 8) * 4 * PAYLOAD_BYTES_PER_BLOB;
    const { datasetId: id } = await registry.registerDataset(root, size, 4, 4, 3, await registry.storageFee(size, 3));
    const message = attestationMessage(chain.chainId, registry.address, id);
    await registry.certify(
      id,
      bitmapFromIndices(
        keys.map((_, i) => i),
        8,
      ),
      blsAggregateSignatures(keys.map((k) => blsSign(k.secretKey, message))),
    );
    const { startEpoch } = await registry.dataset(id);
    const drawn = await registry.challenge(id, startEpoch, 0);
    await chain.mineTo(drawn.opensAfter + 1);
    const c = await registry.challenge(id, startEpoch, 0);
    const { y, proof } = kzg.computeProof(blob, c.z);
    const answered = await registry.answerChallenge({
      datasetId: id,
      epoch: startEpoch,
      member: 0,
      commitment,
      shardHash,
      inclusionProof: siblings.slice(0, depth),
      z: c.z,
      y,
      kzgProof: proof,
    });
    await chain.mineTo(c.closesAt + 1);
    const reported = await registry.reportMissed(id, startEpoch, 1);
    challengeRows.push({ shards: 2 ** depth, depth, answerGas: Number(answered.gasUsed), reportGas: Number(reported.gasUsed) });
  }
} finally {
  await chain.close();
}

const perKey =
  (rows.at(-1)!.certifyThirdMissingGas - rows[0]!.certifyThirdMissingGas - (rows.at(-1)!.certifyAllGas - rows[0]!.certifyAllGas)) /
  (rows.at(-1)!.nonSigners - rows[0]!.nonSigners);
const gas = (value: number) => value.toLocaleString('en');
const header =
  '| nodes | k + m | registerNode | registerDataset (first after a node-set change) | certify, all sign | certify, ⌊N/3⌋ do not |';
const lines = [
  header,
  '|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.nodes} | ${r.k} + ${r.m} | ${gas(r.registerNodeGas)} ` +
      `| ${gas(r.registerDatasetGas)} (${gas(r.registerDatasetWithSnapshotGas)}) ` +
      `| ${gas(r.certifyAllGas)} | ${gas(r.certifyThirdMissingGas)} (${r.nonSigners} missing) |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n\nper non-signing key subtracted: ~${Math.round(perKey).toLocaleString('en')} gas\n`);
const challengeLines = [
  '| shards in the dataset | inclusion proof depth | answerChallenge | reportMissed (slash) |',
  '|---:|---:|---:|---:|',
  ...challengeRows.map(
    (r) => `| ${r.shards.toLocaleString('en')} | ${r.depth} | ${r.answerGas.toLocaleString('en')} | ${r.reportGas.toLocaleString('en')} |`,
  ),
];
process.stdout.write(`\n${challengeLines.join('\n')}\n(answerChallenge includes the point-evaluation precompile's 50,000 gas)\n`);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/gas.json', import.meta.url),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      chain: 'hardhat (EDR), hardfork prague',
      rows,
      gasPerSubtractedKey: Math.round(perKey),
      challengeRows,
    },
    null,
    2,
  )}\n`,
);
