import { concatBytes, fromHex, utf8 } from '../proofs/bytes.ts';
import { keccak256 } from '../proofs/hash.ts';
import { assertBytes, InvalidArgumentError } from '../proofs/errors.ts';
import { ANNOUNCE_DOMAIN, ATTESTATION_DOMAIN } from './constants.ts';

function uint256(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 256n) throw new InvalidArgumentError('chain id out of range');
  return fromHex(value.toString(16).padStart(64, '0'), 32);
}

/**
 * What every node signs for a dataset: keccak256(domain ‖ chainId (uint256) ‖ registry
 * (address) ‖ root). Binding chain id and registry means a signature cannot be replayed on
 * another chain or deployment. Same packing as Solidity's abi.encodePacked.
 */
export function attestationMessage(chainId: bigint, registry: string, root: Uint8Array): Uint8Array {
  assertBytes('dataset root', root, 32);
  return keccak256(concatBytes(utf8(ATTESTATION_DOMAIN), uint256(chainId), fromHex(registry, 20), root));
}

/** What an uploader signs to announce a dataset to nodes. */
export function announceDigest(root: Uint8Array, manifestBytes: Uint8Array): Uint8Array {
  assertBytes('dataset root', root, 32);
  return keccak256(concatBytes(utf8(ANNOUNCE_DOMAIN), root, keccak256(manifestBytes)));
}
