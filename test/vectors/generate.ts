import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AbiCoder } from 'ethers';
import { g1ToEip2537, g2ToEip2537 } from '../../chain/encoding.ts';
import { accountAddress, signDigest } from '../../proofs/account.ts';
import { BYTES_PER_BLOB, packBlob, PAYLOAD_BYTES_PER_BLOB } from '../../proofs/blob.ts';
import { blsAggregateSignatures, blsProvePossession, blsPublicKey, blsSign, POP_DST, SIGNATURE_DST } from '../../proofs/bls.ts';
import { concatBytes, fromHex, toHex, utf8 } from '../../proofs/bytes.ts';
import { BLS_MODULUS, bytesToScalar, scalarToBytes } from '../../proofs/field.ts';
import { encodeColumns, evaluationPoints, FrCode, parityMatrix } from '../../proofs/fr-code.ts';
import { keccak256, sha256 } from '../../proofs/hash.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { encodeMerkleProof, merkleDepth, merkleLeaf, MerkleTree } from '../../proofs/merkle.ts';
import { versionedHash } from '../../proofs/sampling.ts';
import { bitmapFromIndices, certificateToJson, quorumFor, type CertificateJson } from '../../protocol/certificate.ts';
import { ANNOUNCE_DOMAIN, ATTESTATION_DOMAIN, DATASET_DOMAIN, OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../../protocol/constants.ts';
import { encodeManifest, manifestTree, segmentCount, segmentPayloadBytes, shardPosition, type Manifest } from '../../protocol/manifest.ts';
import { announceDigest, attestationMessage, datasetId } from '../../protocol/messages.ts';
import { assignedShardCount, nodeForShard } from '../../protocol/placement.ts';
import type { SampleAnswer } from '../../protocol/routes.ts';
import { segmentToBlobs } from '../../protocol/segment.ts';
import { openingToJson } from '../../storage-node/proving.ts';

/**
 * Writes docs/protocol-vectors.json from small fixed inputs, through the project's own code
 * (the pipeline the client runs, the node's wire forms). Deterministic: BLS and RFC 6979
 * ECDSA signatures have no randomness, and every input is fixed here, so running it twice
 * gives the same bytes; test/unit/protocol-vectors.test.ts checks the file is what this
 * produces. Run: npx tsx test/vectors/generate.ts
 *
 * The challenge draw has no TypeScript implementation in the project (nodes read their draw
 * from the contract), so it is computed here with ethers' ABI coder, independently of
 * test/vectors/reference.ts, and checked against SherdRegistry on a local chain.
 */
export const VECTORS_FILE = fileURLToPath(new URL('../../docs/protocol-vectors.json', import.meta.url));

/** Deterministic bytes: SHA-256(ascii(label) ‖ u32be(0)) ‖ SHA-256(ascii(label) ‖ u32be(1)) ‖ …, cut to `length`. */
export function vectorBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const prefix = utf8(label);
  for (let block = 0; block * 32 < length; block++) {
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, block);
    out.set(sha256(concatBytes(prefix, counter)).subarray(0, Math.min(32, length - block * 32)), block * 32);
  }
  return out;
}

/** BLS secret key i (1, 2, …) as 32 big-endian bytes. */
const blsSecretKey = (i: number) => scalarToBytes(BigInt(i));

/**
 * The dataset owner: hardhat's (public, well-known) development account 0, so the chain test
 * can register the vector datasets under exactly the vector ids. Never fund this key anywhere real.
 */
export const OWNER_SECRET_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const VECTOR_CHAIN_ID = 1n;
export const VECTOR_REGISTRY = '0x5e4d00000000000000000000000000000000aa01';

interface DatasetSpec {
  name: string;
  description: string;
  size: number;
  k: number;
  m: number;
  nodeCount: number;
  signers: number[];
}

const DATASETS: DatasetSpec[] = [
  {
    name: 'k2m1-two-segments-partial',
    description:
      'k = 2, m = 1 on 4 nodes; 300,000 bytes: 2 segments, the second zero-padded (size not a multiple of the segment); 6 leaves',
    size: 300_000,
    k: 2,
    m: 1,
    nodeCount: 4,
    signers: [0, 1, 3],
  },
  {
    name: 'k2m1-three-segments-exact',
    description: 'k = 2, m = 1 on 3 nodes; 761,856 bytes = exactly 3 segments; 9 leaves',
    size: 3 * 2 * PAYLOAD_BYTES_PER_BLOB,
    k: 2,
    m: 1,
    nodeCount: 3,
    signers: [0, 2],
  },
  {
    name: 'k4m2-one-segment-ten-nodes',
    description:
      'k = 4, m = 2 on 10 nodes; 1,000 bytes: 1 segment, mostly padding; 6 leaves; nodes 6..9 hold nothing; a 2-byte signer bitmap',
    size: 1_000,
    k: 4,
    m: 2,
    nodeCount: 10,
    signers: [0, 1, 3, 4, 6, 7, 8, 9],
  },
];

const MERKLE_LEAF_COUNTS = [1, 2, 5, 6, 9, 336];
const LARGE_TREE_PROOFS = [0, 1, 2, 127, 128, 255, 256, 300, 320, 334, 335];

/** The (commitment, sha256) record of leaf i of the `leafCount`-leaf test tree. */
export function merkleRecord(leafCount: number, i: number): { commitment: Uint8Array; shardHash: Uint8Array } {
  return {
    commitment: vectorBytes(`merkle/${leafCount}/${i}/commitment`, 48),
    shardHash: vectorBytes(`merkle/${leafCount}/${i}/sha256`, 32),
  };
}

function merkleVectors() {
  return MERKLE_LEAF_COUNTS.map((leafCount) => {
    const records = Array.from({ length: leafCount }, (_, i) => merkleRecord(leafCount, i));
    const leaves = records.map((r) => merkleLeaf(r.commitment, r.shardHash));
    const tree = new MerkleTree(leaves);
    const proven = leafCount <= 16 ? leaves.map((_, i) => i) : LARGE_TREE_PROOFS;
    return {
      leafCount,
      depth: merkleDepth(leafCount),
      // Records of the 336-leaf tree are left out to keep the file small: merkle/<leafCount>/<i>/commitment|sha256.
      records: leafCount <= 16 ? records.map((r) => ({ commitment: toHex(r.commitment), sha256: toHex(r.shardHash) })) : undefined,
      leaves: leaves.map(toHex),
      root: toHex(tree.root),
      proofs: proven.map((index) => {
        const siblings = tree.proof(index);
        return { index, siblings: siblings.map(toHex), wire: toHex(encodeMerkleProof(siblings)) };
      }),
    };
  });
}

const scalarHex = (value: bigint) => toHex(scalarToBytes(value));

/** The code's evaluation points and generator parity rows for small (k, m), and short worked examples over field elements. */
function erasureVectors() {
  return {
    matrices: (
      [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ] as const
    ).map(([k, m]) => ({
      k,
      m,
      points: evaluationPoints(k, m).map(scalarHex),
      parityRows: parityMatrix(k, m).map((row) => row.map(scalarHex)),
    })),
    examples: (
      [
        [2, 1],
        [4, 2],
      ] as const
    ).map(([k, m]) => {
      // Two elements a column, each 0x00 ‖ 31 bytes, as in a data blob.
      const data = Array.from({ length: k }, (_, i) => [0, 1].map((e) => bytesToScalar(vectorBytes(`erasure/${k}/${m}/${i}/${e}`, 31))));
      return {
        k,
        m,
        data: data.map((column) => column.map(scalarHex)),
        parity: encodeColumns(data, m).map((column) => column.map(scalarHex)),
      };
    }),
  };
}

function blobVectors() {
  return [70, PAYLOAD_BYTES_PER_BLOB].map((length) => {
    const payload = vectorBytes(`blob/${length}`, length);
    const blob = packBlob(payload);
    return {
      payload: { label: `blob/${length}`, length },
      first96Bytes: toHex(blob.subarray(0, 96)),
      last32Bytes: toHex(blob.subarray(BYTES_PER_BLOB - 32)),
      sha256: toHex(sha256(blob)),
    };
  });
}

function datasetVector(spec: DatasetSpec) {
  const kzg = loadCKzg();
  const { size, k, m, nodeCount } = spec;
  const n = k + m;
  const data = vectorBytes(`dataset/${spec.name}`, size);
  const code = new FrCode(k, m);
  const segments = segmentCount(size, k);
  const secretKeys = Array.from({ length: nodeCount }, (_, i) => blsSecretKey(i + 1));
  const nodes = secretKeys.map((secretKey) => {
    const publicKey = blsPublicKey(secretKey);
    const proofOfPossession = blsProvePossession(secretKey);
    return { secretKey, publicKey, proofOfPossession };
  });
  const blobs: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const packed = segmentToBlobs(code, data.subarray(s * segmentPayloadBytes(k), (s + 1) * segmentPayloadBytes(k)));
    for (let i = 0; i < n; i++) blobs.push(packed.slice(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
  }
  const records = blobs.map((blob) => ({ commitment: kzg.blobToCommitment(blob), hash: sha256(blob) }));
  const manifest: Manifest = { size, k, m, nodes: nodes.map((node) => node.publicKey), shards: records };
  const manifestBytes = encodeManifest(manifest);
  const tree = manifestTree(manifest);
  const leaves = records.map((r) => merkleLeaf(r.commitment, r.hash));
  const ownerKey = fromHex(OWNER_SECRET_KEY, 32);
  const owner = accountAddress(ownerKey);
  const id = datasetId(owner, tree.root);
  const digest = announceDigest(id, manifestBytes);
  const message = attestationMessage(VECTOR_CHAIN_ID, VECTOR_REGISTRY, id);
  const signatures = spec.signers.map((i) => blsSign(secretKeys[i]!, message));
  const aggregate = blsAggregateSignatures(signatures);
  const certificate: CertificateJson = certificateToJson({
    datasetId: id,
    owner,
    contentRoot: tree.root,
    size,
    k,
    m,
    chainId: VECTOR_CHAIN_ID,
    registryAddress: VECTOR_REGISTRY,
    nodeCount,
    signers: bitmapFromIndices(spec.signers, nodeCount),
    signature: aggregate,
  });
  return {
    name: spec.name,
    description: spec.description,
    payload: { label: `dataset/${spec.name}`, size },
    k,
    m,
    nodeCount,
    segmentBytes: segmentPayloadBytes(k),
    segments,
    leafCount: blobs.length,
    nodes: nodes.map((node, i) => ({
      secretKey: toHex(node.secretKey),
      publicKey: toHex(node.publicKey),
      proofOfPossession: toHex(node.proofOfPossession),
      publicKeyEip2537: toHex(g1ToEip2537(node.publicKey)),
      proofOfPossessionEip2537: toHex(g2ToEip2537(node.proofOfPossession)),
      assignedShards: assignedShardCount(i, segments, n, nodeCount),
    })),
    owner: { secretKey: OWNER_SECRET_KEY, address: owner },
    shards: blobs.map((_, position) => {
      const segment = Math.floor(position / n);
      const index = position % n;
      return {
        segment,
        index,
        position: shardPosition(manifest, segment, index),
        node: nodeForShard(segment, index, nodeCount),
        blobSha256: toHex(records[position]!.hash),
        commitment: toHex(records[position]!.commitment),
        leaf: toHex(leaves[position]!),
        proof: toHex(encodeMerkleProof(tree.proof(position))),
      };
    }),
    contentRoot: toHex(tree.root),
    manifest: toHex(manifestBytes),
    manifestKeccak256: toHex(keccak256(manifestBytes)),
    datasetId: toHex(id),
    announce: { digest: toHex(digest), signature: toHex(signDigest(ownerKey, digest)) },
    chainId: VECTOR_CHAIN_ID.toString(),
    registryAddress: VECTOR_REGISTRY,
    attestationMessage: toHex(message),
    quorum: quorumFor(nodeCount, k, m),
    signers: spec.signers,
    attestations: spec.signers.map((node, i) => ({ node, signature: toHex(signatures[i]!) })),
    certificate,
    certifyCall: { datasetId: toHex(id), signers: certificate.signers, signatureEip2537: toHex(g2ToEip2537(aggregate)) },
    blobs,
  };
}

/** A sample answer as a node sends it (storage-node/proving.ts), and the precompile input it implies. */
function sampleVector(dataset: ReturnType<typeof datasetVector>, segment: number, index: number) {
  const kzg = loadCKzg();
  const position = segment * (dataset.k + dataset.m) + index;
  const blob = dataset.blobs[position]!;
  const z = scalarToBytes(bytesToScalar(vectorBytes('sample/z', 32)) % BLS_MODULUS);
  const { y, proof } = kzg.computeProof(blob, z);
  const shard = dataset.shards[position]!;
  const commitment = fromHex(shard.commitment, 48);
  const answer: SampleAnswer = openingToJson({
    segment,
    index,
    z,
    y,
    kzgProof: proof,
    commitment,
    shardHash: fromHex(shard.blobSha256, 32),
    inclusionProof: new MerkleTree(dataset.shards.map((s) => fromHex(s.leaf, 32))).proof(position),
  });
  return {
    dataset: dataset.name,
    request: { method: 'GET', path: `/v1/datasets/${dataset.datasetId}/shards/${segment}/${index}/sample?z=${toHex(z)}` },
    answer,
    versionedHash: toHex(versionedHash(commitment)),
    pointEvaluationInput: toHex(concatBytes(versionedHash(commitment), z, y, commitment, proof)),
    pointEvaluationOutput: toHex(concatBytes(scalarToBytes(4096n), scalarToBytes(BLS_MODULUS))),
  };
}

const abi = AbiCoder.defaultAbiCoder();

interface ChallengeCode {
  segments: number;
  k: number;
  m: number;
  nodeCount: number;
}

/** SherdRegistry._draw, with ethers' ABI coder. */
export function drawWithAbiCoder(blockHash: string, registry: string, id: string, epoch: number, member: number, code: ChallengeCode) {
  const seedPreimage = abi.encode(['bytes32', 'address', 'bytes32', 'uint32', 'uint32'], [blockHash, registry, id, epoch, member]);
  const seed = keccak256(fromHex(seedPreimage));
  const n = code.k + code.m;
  const N = code.nodeCount;
  const drawnSegment = Number(bytesToScalar(seed) % BigInt(code.segments));
  let segment = drawnSegment;
  let steps = 0;
  let index = (member + N - (segment % N)) % N;
  while (index >= n) {
    segment = (segment + 1) % code.segments;
    index = (member + N - (segment % N)) % N;
    steps++;
  }
  const zPreimage = abi.encode(['bytes32', 'string'], [toHex(seed), 'z']);
  const z = scalarToBytes(bytesToScalar(keccak256(fromHex(zPreimage))) % BLS_MODULUS);
  return { seedPreimage, seed: toHex(seed), drawnSegment, steps, segment, index, zPreimage, z: toHex(z) };
}

function challengeVectors(datasetA: ReturnType<typeof datasetVector>) {
  const blockHash = toHex(vectorBytes('challenge/blockhash', 32));
  const codeA = { segments: datasetA.segments, k: datasetA.k, m: datasetA.m, nodeCount: datasetA.nodeCount };
  const wide = { segments: 10, k: 2, m: 2, nodeCount: 7 };
  const wideId = toHex(vectorBytes('challenge/dataset', 32));
  const cases: Array<{ what: string; id: string; member: number; code: ChallengeCode; wanted: (steps: number) => boolean }> = [
    { what: 'the drawn shard is on the member: no move', id: datasetA.datasetId, member: 1, code: codeA, wanted: (steps) => steps === 0 },
    {
      what: 'the drawn index is ≥ n: the segment moves forward once',
      id: datasetA.datasetId,
      member: 3,
      code: codeA,
      wanted: (steps) => steps === 1,
    },
    {
      what: 'the segment moves forward three times, past segments with no shard on the member',
      id: wideId,
      member: 5,
      code: wide,
      wanted: (steps) => steps === 3,
    },
  ];
  return cases.map(({ what, id, member, code, wanted }) => {
    // The first epoch whose draw shows the case: a fixed search, so the output is fixed.
    for (let epoch = 1; ; epoch++) {
      const draw = drawWithAbiCoder(blockHash, VECTOR_REGISTRY, id, epoch, member, code);
      if (wanted(draw.steps)) return { what, blockHash, registryAddress: VECTOR_REGISTRY, datasetId: id, epoch, member, ...code, ...draw };
    }
  });
}

function messageVectors() {
  const owner = '0x00000000000000000000000000000000000000aa';
  const contentRoot = toHex(vectorBytes('messages/contentRoot', 32));
  const id = datasetId(owner, fromHex(contentRoot));
  const manifestBytes = vectorBytes('messages/manifest', 100);
  return {
    datasetId: [{ owner, contentRoot, datasetId: toHex(id) }],
    attestationMessage: [
      {
        what: 'off chain: chain id 0, zero registry',
        chainId: OFFCHAIN_CHAIN_ID.toString(),
        registryAddress: OFFCHAIN_REGISTRY,
        datasetId: toHex(id),
      },
      { what: 'the local chain', chainId: '31337', registryAddress: '0x5fbdb2315678afecb367f032d93f642f64180aa3', datasetId: toHex(id) },
      {
        what: 'a chain id above 2^64: all 32 bytes count',
        chainId: ((1n << 200n) + 7n).toString(),
        registryAddress: VECTOR_REGISTRY,
        datasetId: toHex(id),
      },
    ].map((c) => ({ ...c, message: toHex(attestationMessage(BigInt(c.chainId), c.registryAddress, id)) })),
    announceDigest: [{ datasetId: toHex(id), manifest: toHex(manifestBytes), digest: toHex(announceDigest(id, manifestBytes)) }],
  };
}

function eip2537Vectors(certificateSignature: string) {
  const g1 = [1, 2, 0x5e4d].map((sk) => {
    const secretKey = blsSecretKey(sk);
    const publicKey = blsPublicKey(secretKey);
    return { secretKey: toHex(secretKey), compressed: toHex(publicKey), eip2537: toHex(g1ToEip2537(publicKey)) };
  });
  const pop = blsProvePossession(blsSecretKey(1));
  const g2 = [
    { what: 'proof of possession of secret key 1', compressed: toHex(pop) },
    { what: 'the aggregate signature of dataset k2m1-two-segments-partial', compressed: certificateSignature },
  ].map((p) => ({ ...p, eip2537: toHex(g2ToEip2537(fromHex(p.compressed, 96))) }));
  return { g1, g2 };
}

function placementVectors() {
  const configs = [
    [1, 3, 3],
    [2, 3, 4],
    [3, 4, 6],
    [7, 3, 5],
    [10, 4, 7],
    [2, 6, 10],
  ] as const;
  return {
    assignedShardCounts: configs.map(([segments, n, nodeCount]) => ({
      segments,
      n,
      nodeCount,
      counts: Array.from({ length: nodeCount }, (_, node) => assignedShardCount(node, segments, n, nodeCount)),
    })),
    quorum: (
      [
        [3, 2, 1],
        [4, 2, 1],
        [8, 4, 4],
        [10, 4, 2],
        [10, 3, 3],
        [64, 32, 32],
        [7, 5, 2],
        [100, 2, 1],
      ] as const
    ).map(([nodeCount, k, m]) => ({ nodeCount, k, m, quorum: quorumFor(nodeCount, k, m) })),
  };
}

export function generateVectors() {
  const datasets = DATASETS.map(datasetVector);
  const datasetA = datasets[0]!;
  return {
    about: [
      'Test vectors for docs/protocol.md, written by test/vectors/generate.ts (npx tsx test/vectors/generate.ts); do not edit by hand.',
      'Bytes are lower-case 0x hex; integers that may exceed 2^53 (chain ids) are decimal strings.',
      'vectorBytes(label, length): SHA-256(ascii(label) ‖ u32be(0)) ‖ SHA-256(ascii(label) ‖ u32be(1)) ‖ …, cut to length bytes. ' +
        'Payloads, test-tree records and other fixed inputs are vectorBytes of the label given.',
      'BLS secret key i is the 32-byte big-endian integer i. The owner key is hardhat development account 0 (public: never fund it).',
      'Parity shards come from systematic Reed-Solomon over the BLS12-381 scalar field; ' +
        'see docs/protocol.md, "Shards and the erasure code".',
    ],
    constants: {
      fieldElementsPerBlob: 4096,
      bytesPerBlob: BYTES_PER_BLOB,
      payloadBytesPerBlob: PAYLOAD_BYTES_PER_BLOB,
      blsModulus: toHex(scalarToBytes(BLS_MODULUS)),
      datasetDomain: DATASET_DOMAIN,
      attestationDomain: ATTESTATION_DOMAIN,
      announceDomain: ANNOUNCE_DOMAIN,
      signatureDst: SIGNATURE_DST,
      popDst: POP_DST,
    },
    blobs: blobVectors(),
    erasureCode: erasureVectors(),
    merkle: merkleVectors(),
    datasets: datasets.map(({ blobs: _blobs, ...rest }) => rest),
    sample: sampleVector(datasetA, 1, 2),
    messages: messageVectors(),
    eip2537: eip2537Vectors(datasetA.certificate.signature),
    placement: placementVectors(),
    challenges: challengeVectors(datasetA),
  };
}

export type ProtocolVectors = ReturnType<typeof generateVectors>;

export const renderVectors = (vectors: ProtocolVectors): string => `${JSON.stringify(vectors, null, 2)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(VECTORS_FILE, renderVectors(generateVectors()));
  console.log(`wrote ${VECTORS_FILE}`);
}
