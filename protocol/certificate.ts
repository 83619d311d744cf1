import { equalBytes, fromHex, toHex } from '../proofs/bytes.ts';
import { BLS_SIGNATURE_BYTES, blsVerifyAggregate, type PossessedKey } from '../proofs/bls.ts';
import { ProtocolError } from './errors.ts';
import { checkCodeParameters } from './manifest.ts';
import { attestationMessage, datasetId } from './messages.ts';
import { indicesFromBitmap } from './bitmap.ts';

/**
 * A certificate: enough nodes signed that they hold their shards of the dataset. Its size is
 * constant in the data: the dataset id with the owner and content root it derives from, size,
 * code, a signer bitmap over the node set (bit i of byte i >> 3, least significant bit first)
 * and one aggregate BLS signature.
 */
export interface Certificate {
  datasetId: Uint8Array;
  owner: string;
  contentRoot: Uint8Array;
  size: number;
  k: number;
  m: number;
  chainId: bigint;
  registryAddress: string;
  nodeCount: number;
  signers: Uint8Array;
  signature: Uint8Array;
}

export interface CertificateJson {
  version: 2;
  datasetId: string;
  owner: string;
  contentRoot: string;
  size: number;
  k: number;
  m: number;
  chainId: string;
  registryAddress: string;
  nodeCount: number;
  signers: string;
  signature: string;
}

export { bitmapFromIndices, indicesFromBitmap } from './bitmap.ts';

/**
 * Signers needed for a certificate over N nodes with n = k + m shards per segment. A segment
 * lives on n of the N nodes, so at least q − (N − n) of the q signers hold each segment's
 * shards; the data is recoverable while no more than q − (N − n) − k signers lie. Sherd
 * asks for two thirds of the nodes, and never fewer than k + (N − n).
 */
export function quorumFor(nodeCount: number, k: number, m: number): number {
  return Math.min(nodeCount, Math.max(k + (nodeCount - (k + m)), Math.ceil((2 * nodeCount) / 3)));
}

/** Why the certificate does not hold, or undefined when it does. */
export function certificateProblem(certificate: Certificate, nodes: PossessedKey[], quorum?: number): string | undefined {
  if (!equalBytes(datasetId(certificate.owner, certificate.contentRoot), certificate.datasetId)) {
    return 'the dataset id is not the one its owner and content root give';
  }
  if (nodes.length !== certificate.nodeCount) return `certificate is over ${certificate.nodeCount} nodes, the node set has ${nodes.length}`;
  if (certificate.signers.length !== Math.ceil(nodes.length / 8)) return 'signer bitmap has the wrong length';
  // As the contract does (BitmapOutOfRange): a bit past the node set is a malformed certificate, not an ignored one.
  if (nodes.length % 8 !== 0 && certificate.signers[certificate.signers.length - 1]! >> (nodes.length % 8) !== 0) {
    return 'signer bitmap sets bits past the node set';
  }
  const signerIndices = indicesFromBitmap(certificate.signers, nodes.length);
  const needed = quorum ?? quorumFor(nodes.length, certificate.k, certificate.m);
  if (signerIndices.length < needed) return `below quorum: ${signerIndices.length} signers, ${needed} needed`;
  const message = attestationMessage(certificate.chainId, certificate.registryAddress, certificate.datasetId);
  if (
    !blsVerifyAggregate(
      signerIndices.map((i) => nodes[i]!),
      message,
      certificate.signature,
    )
  ) {
    return 'aggregate signature does not verify for the signers in the bitmap';
  }
  return undefined;
}

export function verifyCertificate(certificate: Certificate, nodes: PossessedKey[], quorum?: number): boolean {
  try {
    return certificateProblem(certificate, nodes, quorum) === undefined;
  } catch {
    return false;
  }
}

export function certificateToJson(c: Certificate): CertificateJson {
  return {
    version: 2,
    datasetId: toHex(c.datasetId),
    owner: c.owner.toLowerCase(),
    contentRoot: toHex(c.contentRoot),
    size: c.size,
    k: c.k,
    m: c.m,
    chainId: c.chainId.toString(),
    registryAddress: c.registryAddress.toLowerCase(),
    nodeCount: c.nodeCount,
    signers: toHex(c.signers),
    signature: toHex(c.signature),
  };
}

export function certificateFromJson(json: unknown): Certificate {
  const j = json as Partial<CertificateJson> | null;
  if (!j || typeof j !== 'object' || j.version !== 2) throw new ProtocolError('bad_certificate', 'not a version 2 Sherd certificate');
  try {
    if (typeof j.size !== 'number' || typeof j.nodeCount !== 'number' || typeof j.chainId !== 'string') throw new Error('missing fields');
    checkCodeParameters(j.k as number, j.m as number);
    return {
      datasetId: fromHex(String(j.datasetId), 32),
      owner: toHex(fromHex(String(j.owner), 20)),
      contentRoot: fromHex(String(j.contentRoot), 32),
      size: j.size,
      k: j.k as number,
      m: j.m as number,
      chainId: BigInt(j.chainId),
      registryAddress: toHex(fromHex(String(j.registryAddress), 20)),
      nodeCount: j.nodeCount,
      signers: fromHex(String(j.signers), Math.ceil(j.nodeCount / 8)),
      signature: fromHex(String(j.signature), BLS_SIGNATURE_BYTES),
    };
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause;
    throw new ProtocolError('bad_certificate', 'malformed certificate', { cause });
  }
}
