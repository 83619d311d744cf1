import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { g1FromEip2537, g1ToEip2537, g2ToEip2537 } from '../../chain/encoding.ts';
import { accountAddress, recoverAddress, signDigest } from '../../proofs/account.ts';
import { BYTES_PER_BLOB, findNonCanonicalElement, packBlob, unpackBlob } from '../../proofs/blob.ts';
import { blsPublicKey, blsSign, blsAggregateSignatures, blsProvePossession } from '../../proofs/bls.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { encodeColumns, evaluationPoints, FrCode, parityMatrix } from '../../proofs/fr-code.ts';
import { BLS_MODULUS, bytesToScalar, isFieldElement, scalarToBytes } from '../../proofs/field.ts';
import { keccak256, sha256 } from '../../proofs/hash.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { decodeMerkleProof, encodeMerkleProof, merkleDepth, merkleLeaf, MerkleTree, verifyMerkleProof } from '../../proofs/merkle.ts';
import { versionedHash } from '../../proofs/sampling.ts';
import {
  certificateFromJson,
  certificateToJson,
  indicesFromBitmap,
  bitmapFromIndices,
  quorumFor,
  verifyCertificate,
} from '../../protocol/certificate.ts';
import { ANNOUNCE_DOMAIN, ATTESTATION_DOMAIN, DATASET_DOMAIN } from '../../protocol/constants.ts';
import { datasetRoot, decodeManifest, encodeManifest, segmentCount, segmentPayloadBytes, shardPosition } from '../../protocol/manifest.ts';
import { announceDigest, attestationMessage, datasetId } from '../../protocol/messages.ts';
import { assignedShardCount, nodeForShard } from '../../protocol/placement.ts';
import { segmentToBlobs } from '../../protocol/segment.ts';
import { generateVectors, renderVectors, VECTORS_FILE, type ProtocolVectors } from '../vectors/generate.ts';
import * as ref from '../vectors/reference.ts';

/**
 * docs/protocol-vectors.json held three ways: (a) the independent reference implementation
 * of docs/protocol.md recomputes every vector from its inputs; (b) the project's code gets the
 * same bytes; (c) the generator, run again, writes exactly the checked-in file, so a change that
 * alters protocol bytes fails here until the vectors are regenerated on purpose. (d) records
 * why the tree is not padded to a power of two. The Solidity side is test/chain/protocol-vectors.test.ts.
 */
const fileText = readFileSync(VECTORS_FILE, 'utf8');
const vectors = JSON.parse(fileText) as ProtocolVectors;
const { unhex, hex } = ref;
const merkleRecords = (leafCount: number) =>
  Array.from({ length: leafCount }, (_, i) => ({
    commitment: ref.vectorBytes(`merkle/${leafCount}/${i}/commitment`, 48),
    shardHash: ref.vectorBytes(`merkle/${leafCount}/${i}/sha256`, 32),
  }));
const flip = (bytes: Uint8Array): Uint8Array => {
  const out = bytes.slice();
  out[out.length - 1]! ^= 1;
  return out;
};

describe('(a) the reference implementation reproduces every vector from its inputs', () => {
  it('constants and domain tags', () => {
    const c = vectors.constants;
    expect([c.fieldElementsPerBlob, c.bytesPerBlob, c.payloadBytesPerBlob]).toEqual([
      ref.FIELD_ELEMENTS_PER_BLOB,
      ref.BYTES_PER_BLOB,
      ref.PAYLOAD_BYTES_PER_BLOB,
    ]);
    expect(c.blsModulus).toBe(hex(ref.uintBE(ref.BLS_MODULUS, 32)));
    expect([c.datasetDomain, c.attestationDomain, c.announceDomain, c.signatureDst, c.popDst]).toEqual([
      ref.DATASET_DOMAIN,
      ref.ATTESTATION_DOMAIN,
      ref.ANNOUNCE_DOMAIN,
      ref.SIGNATURE_DST,
      ref.POP_DST,
    ]);
  });

  it('blob packing', () => {
    for (const v of vectors.blobs) {
      const blob = ref.packBlob(ref.vectorBytes(v.payload.label, v.payload.length));
      expect(hex(blob.subarray(0, 96))).toBe(v.first96Bytes);
      expect(hex(blob.subarray(ref.BYTES_PER_BLOB - 32))).toBe(v.last32Bytes);
      expect(hex(ref.sha256(blob))).toBe(v.sha256);
    }
  });

  it('the erasure code: evaluation points, parity rows and worked examples', () => {
    const scalars = (values: bigint[]) => values.map((v) => ref.hex(ref.uintBE(v, 32)));
    for (const v of vectors.erasureCode.matrices) {
      expect(scalars(ref.codePoints(v.k, v.m))).toEqual(v.points);
      expect(Array.from({ length: v.m }, (_, j) => scalars(ref.parityRow(v.k, v.m, j)))).toEqual(v.parityRows);
    }
    for (const v of vectors.erasureCode.examples) {
      const data = v.data.map((column) => column.map((x) => ref.toBigInt(unhex(x))));
      const parity = Array.from({ length: v.m }, (_, j) =>
        [0, 1].map((e) => ref.parityRow(v.k, v.m, j).reduce((sum, g, i) => sum + g * data[i]![e]!, 0n) % ref.BLS_MODULUS),
      );
      expect(parity.map(scalars)).toEqual(v.parity);
    }
  });

  it('Merkle leaves, roots and proofs, and proofs fail once a sibling is changed', () => {
    for (const tree of vectors.merkle) {
      const records = merkleRecords(tree.leafCount);
      if (tree.records) expect(tree.records).toEqual(records.map((r) => ({ commitment: hex(r.commitment), sha256: hex(r.shardHash) })));
      const leaves = records.map((r) => ref.leafHash(r.commitment, r.shardHash));
      expect(leaves.map(hex)).toEqual(tree.leaves);
      expect(ref.treeDepth(tree.leafCount)).toBe(tree.depth);
      expect(hex(ref.treeRoot(leaves))).toBe(tree.root);
      for (const p of tree.proofs) {
        const proof = ref.treeProof(leaves, p.index);
        expect(proof.map(hex)).toEqual(p.siblings);
        expect(ref.proofToWire(proof)).toBe(p.wire);
        const wire = ref.proofFromWire(p.wire);
        expect(ref.verifyProof(unhex(tree.root), leaves[p.index]!, p.index, tree.leafCount, wire)).toBe(true);
        for (let d = 0; d < wire.length; d++) {
          const tampered = wire.map((s, j) => (j === d ? flip(s) : s));
          expect(ref.verifyProof(unhex(tree.root), leaves[p.index]!, p.index, tree.leafCount, tampered)).toBe(false);
        }
        expect(ref.verifyProof(unhex(tree.root), leaves[p.index]!, p.index, tree.leafCount, [...wire, new Uint8Array(32)])).toBe(false);
      }
    }
  });

  it.each(vectors.datasets.map((d) => [d.name, d] as const))(
    'dataset %s: data blobs, manifest, ids, messages, signatures, certificate',
    (_, d) => {
      const data = ref.vectorBytes(d.payload.label, d.payload.size);
      const n = d.k + d.m;
      expect(d.segmentBytes).toBe(ref.segmentBytes(d.k));
      expect(d.segments).toBe(ref.segmentCount(d.payload.size, d.k));
      expect(d.leafCount).toBe(d.segments * n);
      // Data shards are packed payload; parity shards the reference's own code over Fr.
      for (let s = 0; s < d.segments; s++) {
        const blobs = ref.dataBlobs(data, s, d.k);
        [...blobs, ...ref.parityBlobs(blobs, d.m)].forEach((blob, i) => {
          const shard = d.shards[s * n + i]!;
          expect(hex(ref.sha256(blob))).toBe(shard.blobSha256);
          expect(hex(ref.kzgCommitment(blob))).toBe(shard.commitment);
        });
      }
      d.shards.forEach((shard, position) => {
        expect([shard.segment, shard.index, shard.position]).toEqual([Math.floor(position / n), position % n, position]);
        expect(shard.node).toBe(ref.nodeForShard(shard.segment, shard.index, d.nodeCount));
      });
      const leaves = d.shards.map((s) => ref.leafHash(unhex(s.commitment), unhex(s.blobSha256)));
      expect(leaves.map(hex)).toEqual(d.shards.map((s) => s.leaf));
      expect(hex(ref.treeRoot(leaves))).toBe(d.contentRoot);
      d.shards.forEach((shard, position) => {
        expect(ref.proofToWire(ref.treeProof(leaves, position))).toBe(shard.proof);
        expect(ref.verifyProof(unhex(d.contentRoot), leaves[position]!, position, d.leafCount, ref.proofFromWire(shard.proof))).toBe(true);
      });

      const secretKeys = d.nodes.map((node) => ref.toBigInt(unhex(node.secretKey)));
      d.nodes.forEach((node, i) => {
        expect(hex(ref.blsPublicKey(secretKeys[i]!))).toBe(node.publicKey);
        expect(hex(ref.blsProofOfPossession(secretKeys[i]!))).toBe(node.proofOfPossession);
        expect(hex(ref.g1Eip2537(unhex(node.publicKey)))).toBe(node.publicKeyEip2537);
        expect(hex(ref.g2Eip2537(unhex(node.proofOfPossession)))).toBe(node.proofOfPossessionEip2537);
        expect(node.assignedShards).toBe(ref.assignedShardCount(i, d.segments, n, d.nodeCount));
      });

      const manifest = ref.encodeManifest({
        size: d.payload.size,
        k: d.k,
        m: d.m,
        nodeKeys: d.nodes.map((node) => unhex(node.publicKey)),
        shards: d.shards.map((s) => ({ commitment: unhex(s.commitment), shardHash: unhex(s.blobSha256) })),
      });
      expect(hex(manifest)).toBe(d.manifest);
      expect(hex(ref.keccak256(manifest))).toBe(d.manifestKeccak256);

      expect(ref.ownerAddress(unhex(d.owner.secretKey))).toBe(d.owner.address);
      const id = ref.datasetId(d.owner.address, unhex(d.contentRoot));
      expect(hex(id)).toBe(d.datasetId);
      const digest = ref.announceDigest(id, manifest);
      expect(hex(digest)).toBe(d.announce.digest);
      expect(hex(ref.signAnnouncement(unhex(d.owner.secretKey), digest))).toBe(d.announce.signature);
      expect(ref.recoverSigner(digest, unhex(d.announce.signature))).toBe(d.owner.address);

      const message = ref.attestationMessage(BigInt(d.chainId), d.registryAddress, id);
      expect(hex(message)).toBe(d.attestationMessage);
      expect(d.attestations.map((a) => a.node)).toEqual(d.signers);
      for (const a of d.attestations) expect(hex(ref.blsSign(secretKeys[a.node]!, message))).toBe(a.signature);
      const aggregate = ref.blsAggregate(d.attestations.map((a) => unhex(a.signature)));
      expect(
        ref.blsVerifyAggregate(
          d.signers.map((i) => unhex(d.nodes[i]!.publicKey)),
          message,
          aggregate,
        ),
      ).toBe(true);
      expect(
        ref.blsVerifyAggregate(
          d.signers.map((i) => unhex(d.nodes[i]!.publicKey)),
          flip(message),
          aggregate,
        ),
      ).toBe(false);
      expect(d.quorum).toBe(ref.quorum(d.nodeCount, d.k, d.m));
      expect(d.signers.length).toBeGreaterThanOrEqual(d.quorum);
      expect(d.certificate).toEqual(
        ref.certificateJson({
          owner: d.owner.address,
          contentRoot: unhex(d.contentRoot),
          size: d.payload.size,
          k: d.k,
          m: d.m,
          chainId: BigInt(d.chainId),
          registryAddress: d.registryAddress,
          nodeCount: d.nodeCount,
          signers: d.signers,
          signature: aggregate,
        }),
      );
      expect(Object.keys(d.certificate)).toEqual([
        'version',
        'datasetId',
        'owner',
        'contentRoot',
        'size',
        'k',
        'm',
        'chainId',
        'registryAddress',
        'nodeCount',
        'signers',
        'signature',
      ]);
      expect(d.certifyCall).toEqual({
        datasetId: d.datasetId,
        signers: d.certificate.signers,
        signatureEip2537: hex(ref.g2Eip2537(aggregate)),
      });
    },
  );

  it('a sample answer checks against the content root alone', () => {
    const { sample } = vectors;
    const d = vectors.datasets.find((x) => x.name === sample.dataset)!;
    const a = sample.answer;
    const position = a.segment * (d.k + d.m) + a.index;
    const z = unhex(a.z);
    expect(ref.toBigInt(z) < ref.BLS_MODULUS).toBe(true);
    expect(sample.request.path).toBe(`/v1/datasets/${d.datasetId}/shards/${a.segment}/${a.index}/sample?z=${a.z}`);
    const commitment = unhex(a.commitment);
    expect(
      ref.verifyProof(
        unhex(d.contentRoot),
        ref.leafHash(commitment, unhex(a.shardHash)),
        position,
        d.leafCount,
        ref.proofFromWire(a.inclusionProof),
      ),
    ).toBe(true);
    expect(ref.kzgVerify(commitment, z, unhex(a.y), unhex(a.kzgProof))).toBe(true);
    expect(ref.kzgVerify(commitment, z, flip(unhex(a.y)), unhex(a.kzgProof))).toBe(false);
    expect(hex(ref.versionedHash(commitment))).toBe(sample.versionedHash);
    expect(hex(ref.pointEvaluationInput(commitment, z, unhex(a.y), unhex(a.kzgProof)))).toBe(sample.pointEvaluationInput);
    expect(sample.pointEvaluationOutput).toBe(hex(ref.concat(ref.uintBE(4096, 32), ref.uintBE(ref.BLS_MODULUS, 32))));
  });

  it('dataset ids, attestation messages and announcement digests', () => {
    const { messages } = vectors;
    for (const v of messages.datasetId) expect(hex(ref.datasetId(v.owner, unhex(v.contentRoot)))).toBe(v.datasetId);
    for (const v of messages.attestationMessage)
      expect(hex(ref.attestationMessage(BigInt(v.chainId), v.registryAddress, unhex(v.datasetId)))).toBe(v.message);
    for (const v of messages.announceDigest) expect(hex(ref.announceDigest(unhex(v.datasetId), unhex(v.manifest)))).toBe(v.digest);
  });

  it('EIP-2537 encodings of G1 keys and G2 signatures', () => {
    for (const v of vectors.eip2537.g1) {
      expect(hex(ref.blsPublicKey(ref.toBigInt(unhex(v.secretKey))))).toBe(v.compressed);
      expect(hex(ref.g1Eip2537(unhex(v.compressed)))).toBe(v.eip2537);
    }
    for (const v of vectors.eip2537.g2) expect(hex(ref.g2Eip2537(unhex(v.compressed)))).toBe(v.eip2537);
  });

  it('placement counts (by enumeration) and quorums', () => {
    for (const v of vectors.placement.assignedShardCounts) {
      expect(v.counts).toEqual(v.counts.map((_, node) => ref.assignedShardCount(node, v.segments, v.n, v.nodeCount)));
      expect(v.counts.reduce((a, b) => a + b, 0)).toBe(v.segments * v.n);
    }
    for (const v of vectors.placement.quorum) expect(ref.quorum(v.nodeCount, v.k, v.m)).toBe(v.quorum);
  });

  it('challenge derivation, byte for byte', () => {
    expect(vectors.challenges.map((c) => c.steps)).toEqual([0, 1, 3]);
    for (const c of vectors.challenges) {
      const code = { segments: c.segments, k: c.k, m: c.m, nodeCount: c.nodeCount };
      const preimage = ref.challengeSeedPreimage(unhex(c.blockHash), c.registryAddress, unhex(c.datasetId), c.epoch, c.member);
      expect(hex(preimage)).toBe(c.seedPreimage);
      const draw = ref.drawChallenge(unhex(c.blockHash), c.registryAddress, unhex(c.datasetId), c.epoch, c.member, code);
      expect(hex(draw.seed)).toBe(c.seed);
      expect(hex(ref.zPreimage(draw.seed))).toBe(c.zPreimage);
      expect([draw.drawnSegment, draw.segment, draw.index, hex(draw.z)]).toEqual([c.drawnSegment, c.segment, c.index, c.z]);
      expect((draw.segment - draw.drawnSegment + c.segments) % c.segments).toBe(c.steps);
    }
  });
});

describe('(b) the project code produces the same bytes', () => {
  it('blob packing (proofs/blob.ts)', () => {
    for (const v of vectors.blobs) {
      const payload = ref.vectorBytes(v.payload.label, v.payload.length);
      const blob = packBlob(payload);
      expect(toHex(sha256(blob))).toBe(v.sha256);
      expect(findNonCanonicalElement(blob)).toBe(-1);
      expect(toHex(unpackBlob(blob).subarray(0, payload.length))).toBe(toHex(payload));
    }
  });

  it('the erasure code (proofs/fr-code.ts) has the documented points, generator rows and parity', () => {
    const scalars = (values: bigint[]) => values.map((v) => toHex(scalarToBytes(v)));
    for (const v of vectors.erasureCode.matrices) {
      expect(scalars(evaluationPoints(v.k, v.m))).toEqual(v.points);
      expect(parityMatrix(v.k, v.m).map(scalars)).toEqual(v.parityRows);
    }
    for (const v of vectors.erasureCode.examples) {
      const data = v.data.map((column) => column.map((x) => bytesToScalar(fromHex(x))));
      expect(encodeColumns(data, v.m).map(scalars)).toEqual(v.parity);
    }
  });

  it('Merkle trees (proofs/merkle.ts)', () => {
    for (const tree of vectors.merkle) {
      const leaves = merkleRecords(tree.leafCount).map((r) => merkleLeaf(r.commitment, r.shardHash));
      expect(leaves.map(toHex)).toEqual(tree.leaves);
      const built = new MerkleTree(leaves);
      expect(toHex(built.root)).toBe(tree.root);
      expect(merkleDepth(tree.leafCount)).toBe(tree.depth);
      for (const p of tree.proofs) {
        expect(built.proof(p.index).map(toHex)).toEqual(p.siblings);
        expect(toHex(encodeMerkleProof(built.proof(p.index)))).toBe(p.wire);
        const decoded = decodeMerkleProof(fromHex(p.wire))!;
        expect(verifyMerkleProof(built.root, leaves[p.index]!, p.index, decoded, tree.leafCount)).toBe(true);
        if (decoded.length > 0)
          expect(verifyMerkleProof(built.root, leaves[p.index]!, p.index, [flip(decoded[0]!), ...decoded.slice(1)], tree.leafCount)).toBe(
            false,
          );
      }
    }
  });

  it.each(vectors.datasets.map((d) => [d.name, d] as const))('dataset %s through protocol/*.ts', (_, d) => {
    const data = ref.vectorBytes(d.payload.label, d.payload.size);
    const code = new FrCode(d.k, d.m);
    const n = d.k + d.m;
    expect(segmentCount(d.payload.size, d.k)).toBe(d.segments);
    expect(segmentPayloadBytes(d.k)).toBe(d.segmentBytes);
    // Every shard's SHA-256, parity included (the KZG commitments are covered by (c)).
    for (let s = 0; s < d.segments; s++) {
      const blobs = segmentToBlobs(code, data.subarray(s * d.segmentBytes, (s + 1) * d.segmentBytes));
      for (let i = 0; i < n; i++) {
        expect(toHex(sha256(blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB)))).toBe(
          d.shards[shardPosition(d, s, i)]!.blobSha256,
        );
      }
    }
    const manifestBytes = fromHex(d.manifest);
    const manifest = decodeManifest(manifestBytes);
    expect([manifest.size, manifest.k, manifest.m]).toEqual([d.payload.size, d.k, d.m]);
    expect(manifest.nodes.map(toHex)).toEqual(d.nodes.map((node) => node.publicKey));
    expect(manifest.shards.map((s) => [toHex(s.commitment), toHex(s.hash)])).toEqual(d.shards.map((s) => [s.commitment, s.blobSha256]));
    expect(toHex(encodeManifest(manifest))).toBe(d.manifest);
    expect(toHex(datasetRoot(manifest))).toBe(d.contentRoot);

    expect(accountAddress(fromHex(d.owner.secretKey))).toBe(d.owner.address);
    const id = datasetId(d.owner.address, fromHex(d.contentRoot));
    expect(toHex(id)).toBe(d.datasetId);
    const digest = announceDigest(id, manifestBytes);
    expect(toHex(digest)).toBe(d.announce.digest);
    expect(toHex(signDigest(fromHex(d.owner.secretKey), digest))).toBe(d.announce.signature);
    expect(recoverAddress(digest, fromHex(d.announce.signature))).toBe(d.owner.address);
    expect(toHex(keccak256(manifestBytes))).toBe(d.manifestKeccak256);

    const message = attestationMessage(BigInt(d.chainId), d.registryAddress, id);
    expect(toHex(message)).toBe(d.attestationMessage);
    d.nodes.forEach((node, i) => {
      expect(toHex(blsPublicKey(fromHex(node.secretKey)))).toBe(node.publicKey);
      expect(toHex(blsProvePossession(fromHex(node.secretKey)))).toBe(node.proofOfPossession);
      expect(toHex(g1ToEip2537(fromHex(node.publicKey)))).toBe(node.publicKeyEip2537);
      expect(toHex(g1FromEip2537(fromHex(node.publicKeyEip2537)))).toBe(node.publicKey);
      expect(toHex(g2ToEip2537(fromHex(node.proofOfPossession)))).toBe(node.proofOfPossessionEip2537);
      expect(assignedShardCount(i, d.segments, n, d.nodeCount)).toBe(node.assignedShards);
    });
    for (const s of d.shards) expect(nodeForShard(s.segment, s.index, d.nodeCount)).toBe(s.node);
    for (const a of d.attestations) expect(toHex(blsSign(fromHex(d.nodes[a.node]!.secretKey), message))).toBe(a.signature);
    expect(toHex(blsAggregateSignatures(d.attestations.map((a) => fromHex(a.signature))))).toBe(d.certificate.signature);

    const certificate = certificateFromJson(d.certificate);
    expect(certificateToJson(certificate)).toEqual(d.certificate);
    expect(indicesFromBitmap(certificate.signers, d.nodeCount)).toEqual(d.signers);
    expect(toHex(bitmapFromIndices(d.signers, d.nodeCount))).toBe(d.certificate.signers);
    expect(quorumFor(d.nodeCount, d.k, d.m)).toBe(d.quorum);
    const nodeSet = d.nodes.map((node) => ({ publicKey: fromHex(node.publicKey), proofOfPossession: fromHex(node.proofOfPossession) }));
    expect(verifyCertificate(certificate, nodeSet)).toBe(true);
    expect(verifyCertificate({ ...certificate, chainId: certificate.chainId + 1n }, nodeSet)).toBe(false);
    expect(toHex(g2ToEip2537(certificate.signature))).toBe(d.certifyCall.signatureEip2537);
  });

  it('the sample answer verifies with proofs/merkle.ts and proofs/kzg.ts', () => {
    const { sample } = vectors;
    const d = vectors.datasets.find((x) => x.name === sample.dataset)!;
    const a = sample.answer;
    const commitment = fromHex(a.commitment, 48);
    const z = fromHex(a.z, 32);
    expect(isFieldElement(z)).toBe(true);
    const position = shardPosition(d, a.segment, a.index);
    expect(
      verifyMerkleProof(
        fromHex(d.contentRoot),
        merkleLeaf(commitment, fromHex(a.shardHash)),
        position,
        decodeMerkleProof(fromHex(a.inclusionProof))!,
        d.leafCount,
      ),
    ).toBe(true);
    expect(loadCKzg().verifyProof(commitment, z, fromHex(a.y), fromHex(a.kzgProof))).toBe(true);
    expect(toHex(versionedHash(commitment))).toBe(sample.versionedHash);
  });

  it('messages, EIP-2537 encodings, placement and quorum', () => {
    const { messages } = vectors;
    for (const v of messages.datasetId) expect(toHex(datasetId(v.owner, fromHex(v.contentRoot)))).toBe(v.datasetId);
    for (const v of messages.attestationMessage)
      expect(toHex(attestationMessage(BigInt(v.chainId), v.registryAddress, fromHex(v.datasetId)))).toBe(v.message);
    for (const v of messages.announceDigest) expect(toHex(announceDigest(fromHex(v.datasetId), fromHex(v.manifest)))).toBe(v.digest);
    expect([DATASET_DOMAIN, ATTESTATION_DOMAIN, ANNOUNCE_DOMAIN]).toEqual([
      vectors.constants.datasetDomain,
      vectors.constants.attestationDomain,
      vectors.constants.announceDomain,
    ]);
    expect(vectors.constants.blsModulus).toBe(toHex(ref.uintBE(BLS_MODULUS, 32)));
    for (const v of vectors.eip2537.g1) expect(toHex(g1ToEip2537(fromHex(v.compressed)))).toBe(v.eip2537);
    for (const v of vectors.eip2537.g2) expect(toHex(g2ToEip2537(fromHex(v.compressed)))).toBe(v.eip2537);
    for (const v of vectors.placement.assignedShardCounts) {
      expect(v.counts.map((_, node) => assignedShardCount(node, v.segments, v.n, v.nodeCount))).toEqual(v.counts);
    }
    for (const v of vectors.placement.quorum) expect(quorumFor(v.nodeCount, v.k, v.m)).toBe(v.quorum);
    // No TypeScript draws challenges (nodes read them from the contract): the chain test checks these against SherdRegistry.
    for (const c of vectors.challenges) expect(bytesToScalar(fromHex(c.z)) < BLS_MODULUS).toBe(true);
  });
});

describe('(c) the checked-in vectors are exactly what the generator writes', () => {
  it('regenerates docs/protocol-vectors.json byte for byte (if this fails on purpose: npx tsx test/vectors/generate.ts)', () => {
    const regenerated = generateVectors();
    expect(JSON.parse(renderVectors(regenerated))).toEqual(vectors);
    expect(renderVectors(regenerated)).toBe(fileText);
  });
});

describe('(d) the padding rule: the last node of an odd level is paired with the zero hash, at every level', () => {
  /** The rule Sherd does NOT use: pad the leaves with zero leaves to a power of two, then a full tree. */
  function paddedToPowerOfTwoRoot(leaves: Uint8Array[]): Uint8Array {
    let level = [...leaves];
    while ((level.length & (level.length - 1)) !== 0) level.push(new Uint8Array(32));
    while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, i) => ref.innerHash(level[2 * i]!, level[2 * i + 1]!));
    return level[0]!;
  }

  it.each([5, 6, 9, 336])('%i leaves: the root is the zero-hash-per-level root, not the power-of-two-padded one', (leafCount) => {
    const tree = vectors.merkle.find((t) => t.leafCount === leafCount)!;
    const leaves = tree.leaves.map((l) => unhex(l));
    expect(hex(ref.treeRoot(leaves))).toBe(tree.root);
    expect(toHex(new MerkleTree(leaves).root)).toBe(tree.root);
    expect(hex(paddedToPowerOfTwoRoot(leaves))).not.toBe(tree.root);
  });

  it.each([1, 2])('%i leaves (a power of two): both rules agree; one leaf is its own root at depth 0', (leafCount) => {
    const tree = vectors.merkle.find((t) => t.leafCount === leafCount)!;
    const leaves = tree.leaves.map((l) => unhex(l));
    expect(hex(paddedToPowerOfTwoRoot(leaves))).toBe(tree.root);
    if (leafCount === 1) expect([tree.root, tree.depth, tree.proofs[0]!.wire]).toEqual([tree.leaves[0], 0, '0x']);
  });
});

describe('(e) docs/protocol.md shows what the vectors hold', () => {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const words = (h: string) => h.slice(2).match(/.{64}/g)!;
  const block = (label: string, hexWords: string[]) => `      ${label.padEnd(14)}= ${hexWords.join(`\n${' '.repeat(22)}`)}`;

  it('quotes the domain tags, DSTs, modulus and trusted-setup hash', () => {
    const c = vectors.constants;
    for (const value of [c.datasetDomain, c.attestationDomain, c.announceDomain, c.signatureDst, c.popDst, c.blsModulus])
      expect(doc).toContain(value);
    expect(doc).toContain(
      readFileSync(new URL('../../proofs/kzg.ts', import.meta.url), 'utf8').match(/TRUSTED_SETUP_SHA256 = '(0x[0-9a-f]{64})'/)![1]!,
    );
  });

  it('quotes the manifest header, the k = 2, m = 1 generator row and the challenge example exactly', () => {
    const d = vectors.datasets.find((x) => x.name === 'k2m1-two-segments-partial')!;
    const header = d.manifest.slice(2, 42);
    const fields = [
      header.slice(0, 8),
      header.slice(8, 10),
      header.slice(10, 12),
      header.slice(12, 16),
      header.slice(16, 20),
      header.slice(20, 36),
      header.slice(36, 40),
    ];
    expect(doc).toContain(`    ${fields.join(' ')}\n`);
    // For k = 1 the parity is a copy of the data; for k = 2 the row is ((1 + ω)/2, (1 − ω)/2), ω the 4th root of unity.
    expect(vectors.erasureCode.matrices[0]).toMatchObject({ k: 1, m: 1, parityRows: [[toHex(scalarToBytes(1n))]] });
    const [first, second] = vectors.erasureCode.matrices[1]!.parityRows[0]!;
    expect(doc).toContain(`    G[0][0] = ${first}\n    G[0][1] = ${second}\n`);
    const c = vectors.challenges[1]!;
    expect([c.datasetId, c.member, c.epoch, c.drawnSegment, c.segment, c.index]).toEqual([d.datasetId, 3, 1, 0, 1, 2]);
    expect(doc).toContain(
      [
        block('seed preimage', words(c.seedPreimage)),
        block('seed', words(c.seed)),
        block('z preimage', words(c.zPreimage)),
        block('z', words(c.z)),
      ].join('\n'),
    );
  });
});
