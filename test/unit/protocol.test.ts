import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { accountAddress, generateAccountKey, recoverAddress, signDigest } from '../../proofs/account.ts';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../../proofs/bls.ts';
import {
  bitmapFromIndices,
  certificateFromJson,
  certificateProblem,
  certificateToJson,
  indicesFromBitmap,
  quorumFor,
  type Certificate,
} from '../../protocol/certificate.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { datasetRoot, decodeManifest, encodeManifest, segmentCount, type Manifest } from '../../protocol/manifest.ts';
import { attestationMessage, datasetId } from '../../protocol/messages.ts';
import { defaultCodeParameters, nodeForShard, shardsOnNode } from '../../protocol/placement.ts';
import { registrationProblem, type RegisteredTerms } from '../../protocol/registration.ts';
import { toHex } from '../../proofs/bytes.ts';

function manifestOf(size: number, k: number, m: number, nodeCount: number): Manifest {
  const shards = Array.from({ length: segmentCount(size, k) * (k + m) }, () => ({
    commitment: new Uint8Array(randomBytes(48)),
    hash: new Uint8Array(randomBytes(32)),
  }));
  return { size, k, m, nodes: Array.from({ length: nodeCount }, () => new Uint8Array(randomBytes(48))), shards };
}

describe('manifest', () => {
  it('round-trips through its binary encoding and keeps its root', () => {
    const manifest = manifestOf(1_000_000, 3, 2, 6);
    const decoded = decodeManifest(encodeManifest(manifest));
    expect(decoded.size).toBe(1_000_000);
    expect(decoded.shards).toHaveLength(segmentCount(1_000_000, 3) * 5);
    expect(Buffer.compare(datasetRoot(decoded), datasetRoot(manifest))).toBe(0);
  });

  it('rejects truncated, foreign and inconsistent manifests with ProtocolError', () => {
    const bytes = encodeManifest(manifestOf(5000, 2, 2, 4));
    expect(() => decodeManifest(bytes.subarray(0, bytes.length - 1))).toThrowError(ProtocolError);
    expect(() => decodeManifest(new Uint8Array(10))).toThrowError('manifest is shorter than its header');
    const foreign = bytes.slice();
    foreign[0] = 0x00;
    expect(() => decodeManifest(foreign)).toThrowError('not a Sherd manifest (bad magic)');
    expect(() => encodeManifest({ ...manifestOf(5000, 2, 2, 4), nodes: [] })).toThrowError(
      'k + m = 4 shards per segment need at least 4 distinct nodes, have 0',
    );
    expect(() => encodeManifest({ ...manifestOf(5000, 2, 2, 4), size: 0 })).toThrowError('dataset size must be a positive integer, got 0');
  });
});

describe('placement', () => {
  it('puts every segment on distinct nodes and balances shards over every N segments', () => {
    for (const [nodes, n] of [
      [8, 8],
      [10, 6],
      [5, 5],
      [16, 12],
    ] as const) {
      const segments = 3 * nodes;
      const counts = new Array(nodes).fill(0);
      for (let s = 0; s < segments; s++) {
        const used = new Set<number>();
        for (let i = 0; i < n; i++) used.add(nodeForShard(s, i, nodes));
        expect(used.size).toBe(n);
        used.forEach((node) => {
          counts[node]++;
        });
      }
      expect(new Set(counts)).toEqual(new Set([3 * n]));
      for (let node = 0; node < nodes; node++) {
        const listed = [...shardsOnNode(node, segments, n, nodes)];
        expect(listed).toHaveLength(counts[node]);
        listed.forEach(([s, i]) => {
          expect(nodeForShard(s, i, nodes)).toBe(node);
        });
      }
    }
  });

  it('defaults to half parity, tolerating a third of the nodes or more', () => {
    expect(defaultCodeParameters(8)).toEqual({ k: 4, m: 4 });
    expect(defaultCodeParameters(3)).toEqual({ k: 2, m: 1 });
    for (let n = 3; n <= 64; n++) expect(defaultCodeParameters(n).m).toBeGreaterThanOrEqual(Math.floor(n / 3));
  });
});

describe('certificate', () => {
  const nodes = Array.from({ length: 6 }, () => {
    const { secretKey, publicKey } = generateBlsKeyPair();
    return { secretKey, publicKey, proofOfPossession: blsProvePossession(secretKey) };
  });
  const contentRoot = new Uint8Array(randomBytes(32));
  const owner = '0x00000000000000000000000000000000000000bb';
  const id = datasetId(owner, contentRoot);
  const registryAddress = '0x00000000000000000000000000000000000000aa';
  const certify = (signerIndices: number[], signedId = id): Certificate => ({
    datasetId: id,
    owner,
    contentRoot,
    size: 100,
    k: 3,
    m: 3,
    chainId: 7n,
    registryAddress,
    nodeCount: 6,
    signers: bitmapFromIndices(signerIndices, 6),
    signature: blsAggregateSignatures(
      signerIndices.map((i) => blsSign(nodes[i]!.secretKey, attestationMessage(7n, registryAddress, signedId))),
    ),
  });

  it('verifies at quorum and survives JSON', () => {
    expect(quorumFor(6, 3, 3)).toBe(4);
    const cert = certify([0, 2, 3, 5]);
    expect(certificateProblem(cert, nodes)).toBeUndefined();
    expect(certificateProblem(certificateFromJson(JSON.parse(JSON.stringify(certificateToJson(cert)))), nodes)).toBeUndefined();
    expect(indicesFromBitmap(cert.signers, 6)).toEqual([0, 2, 3, 5]);
  });

  it('says why a certificate fails: quorum, bitmap, other dataset, other deployment, an id its owner and root do not give', () => {
    expect(certificateProblem(certify([0, 1, 2]), nodes)).toBe('below quorum: 3 signers, 4 needed');
    expect(certificateProblem({ ...certify([0, 1, 2, 3]), signers: bitmapFromIndices([0, 1, 2, 4], 6) }, nodes)).toBe(
      'aggregate signature does not verify for the signers in the bitmap',
    );
    expect(certificateProblem(certify([0, 1, 2, 3], new Uint8Array(32)), nodes)).toBe(
      'aggregate signature does not verify for the signers in the bitmap',
    );
    expect(certificateProblem({ ...certify([0, 1, 2, 3]), chainId: 8n }, nodes)).toBe(
      'aggregate signature does not verify for the signers in the bitmap',
    );
    expect(certificateProblem({ ...certify([0, 1, 2, 3]), owner: '0x00000000000000000000000000000000000000cc' }, nodes)).toBe(
      'the dataset id is not the one its owner and content root give',
    );
    expect(() => certificateFromJson({ version: 1 })).toThrowError('not a version 2 Sherd certificate');
  });
});

describe('account signatures', () => {
  it('recover the signer address and nothing else', () => {
    const key = generateAccountKey();
    const digest = new Uint8Array(randomBytes(32));
    const signature = signDigest(key, digest);
    expect(recoverAddress(digest, signature)).toBe(accountAddress(key));
    expect(recoverAddress(new Uint8Array(randomBytes(32)), signature)).not.toBe(accountAddress(key));
    expect(recoverAddress(digest, signature.subarray(1))).toBeUndefined();
    const badV = signature.slice();
    badV[64] = 30;
    expect(recoverAddress(digest, badV)).toBeUndefined();
  });
});

describe('registrationProblem', () => {
  const keys = Array.from({ length: 3 }, () => generateBlsKeyPair().publicKey);
  const manifest: Manifest = {
    size: 1000,
    k: 2,
    m: 1,
    nodes: keys,
    shards: Array.from({ length: 3 }, () => ({ commitment: new Uint8Array(randomBytes(48)), hash: new Uint8Array(randomBytes(32)) })),
  };
  const root = datasetRoot(manifest);
  const registered: RegisteredTerms = { contentRoot: root, size: 1000, k: 2, m: 1, nodeKeys: keys.map(toHex) };

  it('accepts the registered manifest, and names what differs otherwise', () => {
    expect(registrationProblem(registered, manifest, root)).toBeUndefined();
    expect(
      registrationProblem({ ...registered, nodeKeys: keys.map((k) => toHex(k).toUpperCase().replace('0X', '0x')) }, manifest, root),
    ).toBeUndefined();
    expect(registrationProblem({ ...registered, contentRoot: new Uint8Array(32) }, manifest, root)?.code).toBe('content_root');
    expect(registrationProblem({ ...registered, size: 999 }, manifest, root)).toEqual({
      code: 'size_or_code',
      message: 'the manifest says size 1000, k=2, m=1; the chain says size 999, k=2, m=1',
    });
    expect(registrationProblem({ ...registered, m: 2 }, manifest, root)?.code).toBe('size_or_code');
    expect(registrationProblem({ ...registered, nodeKeys: [...registered.nodeKeys].reverse() }, manifest, root)?.code).toBe('node_set');
    expect(registrationProblem({ ...registered, nodeKeys: registered.nodeKeys.slice(1) }, manifest, root)).toEqual({
      code: 'node_set',
      message: "the manifest's 3 nodes are not the 2 of the node set on chain, in order",
    });
  });
});

describe('strict decoding', () => {
  it('refuses a manifest with a flag set, and a certificate with a signer past its node set', () => {
    const bytes = encodeManifest(manifestOf(1000, 2, 1, 3));
    bytes[5] = 1;
    expect(() => decodeManifest(bytes)).toThrowError(new ProtocolError('bad_manifest', 'unknown manifest flags 1'));
    const nodes = Array.from({ length: 3 }, () => {
      const { secretKey, publicKey } = generateBlsKeyPair();
      return { secretKey, publicKey, proofOfPossession: blsProvePossession(secretKey) };
    });
    const contentRoot = new Uint8Array(32).fill(3);
    const owner = `0x${'0c'.repeat(20)}`;
    const id = datasetId(owner, contentRoot);
    const message = attestationMessage(1n, `0x${'0d'.repeat(20)}`, id);
    const certificate: Certificate = {
      datasetId: id,
      owner,
      contentRoot,
      size: 10,
      k: 2,
      m: 1,
      chainId: 1n,
      registryAddress: `0x${'0d'.repeat(20)}`,
      nodeCount: 3,
      signers: new Uint8Array([0b0000_1111]),
      signature: blsAggregateSignatures(nodes.map((n) => blsSign(n.secretKey, message))),
    };
    expect(certificateProblem(certificate, nodes)).toBe('signer bitmap sets bits past the node set');
    expect(certificateProblem({ ...certificate, signers: new Uint8Array([0b0000_0111]) }, nodes)).toBeUndefined();
  });
});
