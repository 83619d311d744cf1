import { concatBytes, fromHex, utf8 } from '../proofs/bytes.ts';
import { keccak256 } from '../proofs/hash.ts';
import { assertBytes, InvalidArgumentError } from '../proofs/errors.ts';
import { ANNOUNCE_DOMAIN, ATTESTATION_DOMAIN, DATASET_DOMAIN } from './constants.ts';

/** 32 big-endian bytes, as Solidity packs a uint256. */
export function uint256(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 256n) throw new InvalidArgumentError('chain id out of range');
  return fromHex(value.toString(16).padStart(64, '0'), 32);
}

/** 8 big-endian bytes of a block number (or any count below 2^53). */
export function uint64(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${value} is not a u64 the protocol uses`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/**
 * A dataset's identity: keccak256("SHERD_DATASET_V1" ‖ owner (address) ‖ contentRoot). The
 * registry derives it from the registrant's address, so whoever sees a content root early can
 * only register it under an id of its own, never take the owner's. Nodes, readers, samples and
 * challenges all name a dataset by this id; the content root checks its shards.
 */
export function datasetId(owner: string, contentRoot: Uint8Array): Uint8Array {
  assertBytes('content root', contentRoot, 32);
  return keccak256(concatBytes(utf8(DATASET_DOMAIN), fromHex(owner, 20), contentRoot));
}

/**
 * What every node signs for a dataset: keccak256(domain ‖ chainId (uint256) ‖ registry
 * (address) ‖ datasetId). Binding chain id and registry means a signature cannot be replayed
 * on another chain or deployment. Same packing as Solidity's abi.encodePacked.
 */
export function attestationMessage(chainId: bigint, registryAddress: string, id: Uint8Array): Uint8Array {
  assertBytes('dataset id', id, 32);
  return keccak256(concatBytes(utf8(ATTESTATION_DOMAIN), uint256(chainId), fromHex(registryAddress, 20), id));
}

/**
 * What an uploader signs to announce a dataset to nodes: keccak256(domain ‖ datasetId ‖
 * keccak256(manifest)), followed by ‖ keccak256(envelope) for an encrypted dataset.
 */
export function announceDigest(id: Uint8Array, manifestBytes: Uint8Array, envelope?: Uint8Array): Uint8Array {
  assertBytes('dataset id', id, 32);
  const parts = [utf8(ANNOUNCE_DOMAIN), id, keccak256(manifestBytes)];
  if (envelope) parts.push(keccak256(envelope));
  return keccak256(concatBytes(...parts));
}
