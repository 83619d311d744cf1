import { secp256k1 } from '@noble/curves/secp256k1.js';
import { toHex } from './bytes.ts';
import { assertBytes, InvalidArgumentError } from './errors.ts';
import { keccak256 } from './hash.ts';

/**
 * secp256k1 account keys, Ethereum style: uploaders and licensees are identified by the
 * address the chain knows them by. Signatures are 65 bytes r ‖ s ‖ v (v = 27 or 28).
 */
export const ACCOUNT_SIGNATURE_BYTES = 65;

export function generateAccountKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

export function accountAddress(secretKey: Uint8Array): `0x${string}` {
  assertBytes('account secret key', secretKey, 32);
  return addressOfPublicKey(secp256k1.getPublicKey(secretKey, false));
}

function addressOfPublicKey(uncompressed: Uint8Array): `0x${string}` {
  return toHex(keccak256(uncompressed.subarray(1)).subarray(12));
}

export function signDigest(secretKey: Uint8Array, digest: Uint8Array): Uint8Array {
  assertBytes('account secret key', secretKey, 32);
  assertBytes('digest', digest, 32);
  let recovered: Uint8Array;
  try {
    recovered = secp256k1.sign(digest, secretKey, { prehash: false, format: 'recovered' });
  } catch (cause) {
    throw new InvalidArgumentError('could not sign with this account key', { cause });
  }
  const out = new Uint8Array(ACCOUNT_SIGNATURE_BYTES);
  out.set(recovered.subarray(1), 0);
  out[64] = 27 + recovered[0]!;
  return out;
}

/** The signer's address, or undefined for any malformed or invalid signature. */
export function recoverAddress(digest: Uint8Array, signature: Uint8Array): `0x${string}` | undefined {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) return undefined;
  if (!(signature instanceof Uint8Array) || signature.length !== ACCOUNT_SIGNATURE_BYTES) return undefined;
  const v = signature[64]!;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) return undefined;
  const noble = new Uint8Array(65);
  noble[0] = recovery;
  noble.set(signature.subarray(0, 64), 1);
  try {
    const publicKey = secp256k1.recoverPublicKey(noble, digest, { prehash: false });
    return addressOfPublicKey(secp256k1.Point.fromBytes(publicKey).toBytes(false));
  } catch {
    return undefined;
  }
}
