import { bls12_381 } from '@noble/curves/bls12-381.js';
import { toHex } from './bytes.ts';
import { assertBytes, InvalidArgumentError } from './errors.ts';

/**
 * BLS12-381 min-pk (G1 public keys of 48 bytes, G2 signatures of 96 bytes), the Ethereum
 * convention. Aggregation over one message is safe only with proofs of possession, so every
 * aggregate check here takes keys with their PoP. DSTs are those of the IETF POP scheme and
 * match the Solidity verifier.
 */
export const SIGNATURE_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const BLS_SECRET_KEY_BYTES = 32;
export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;

const bls = bls12_381.longSignatures;
const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;

export interface BlsKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface PossessedKey {
  publicKey: Uint8Array;
  proofOfPossession: Uint8Array;
}

export function generateBlsKeyPair(): BlsKeyPair {
  const secretKey = bls12_381.utils.randomSecretKey();
  return { secretKey, publicKey: blsPublicKey(secretKey) };
}

export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  assertBytes('BLS secret key', secretKey, BLS_SECRET_KEY_BYTES);
  try {
    return bls.getPublicKey(secretKey).toBytes(true);
  } catch (cause) {
    throw new InvalidArgumentError('invalid BLS secret key', { cause });
  }
}

export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  assertBytes('message', message);
  return bls.sign(bls.hash(message, SIGNATURE_DST), secretKey).toBytes(true);
}

/** Signs the key's own compressed encoding under the PoP DST. */
export function blsProvePossession(secretKey: Uint8Array): Uint8Array {
  const publicKey = blsPublicKey(secretKey);
  return bls.sign(bls.hash(publicKey, POP_DST), secretKey).toBytes(true);
}

function parsePublicKey(publicKey: Uint8Array) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== BLS_PUBLIC_KEY_BYTES) return undefined;
  try {
    const point = G1.fromBytes(publicKey);
    point.assertValidity();
    if (point.is0() || !point.isTorsionFree()) return undefined;
    return point;
  } catch {
    return undefined;
  }
}

function parseSignature(signature: Uint8Array) {
  if (!(signature instanceof Uint8Array) || signature.length !== BLS_SIGNATURE_BYTES) return undefined;
  try {
    const point = G2.fromBytes(signature);
    point.assertValidity();
    if (!point.isTorsionFree()) return undefined;
    return point;
  } catch {
    return undefined;
  }
}

export function blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = parsePublicKey(publicKey);
  const sig = parseSignature(signature);
  if (!pk || !sig || !(message instanceof Uint8Array)) return false;
  try {
    return bls.verify(sig, bls.hash(message, SIGNATURE_DST), pk);
  } catch {
    return false;
  }
}

const verifiedPossession = new Set<string>();

export function blsVerifyPossession(publicKey: Uint8Array, proofOfPossession: Uint8Array): boolean {
  const pk = parsePublicKey(publicKey);
  const pop = parseSignature(proofOfPossession);
  if (!pk || !pop) return false;
  const cacheKey = toHex(publicKey) + toHex(proofOfPossession);
  if (verifiedPossession.has(cacheKey)) return true;
  let ok = false;
  try {
    ok = bls.verify(pop, bls.hash(publicKey, POP_DST), pk);
  } catch {
    ok = false;
  }
  if (ok) verifiedPossession.add(cacheKey);
  return ok;
}

export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new InvalidArgumentError('cannot aggregate zero signatures');
  const points = signatures.map((sig, i) => {
    const point = parseSignature(sig);
    if (!point) throw new InvalidArgumentError(`signature ${i} is not a valid G2 point`);
    return point;
  });
  return bls.aggregateSignatures(points).toBytes(true);
}

export function blsAggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array {
  if (publicKeys.length === 0) throw new InvalidArgumentError('cannot aggregate zero public keys');
  const points = publicKeys.map((pk, i) => {
    const point = parsePublicKey(pk);
    if (!point) throw new InvalidArgumentError(`public key ${i} is not a valid G1 point`);
    return point;
  });
  return bls.aggregatePublicKeys(points).toBytes(true);
}

/**
 * Verifies one aggregate signature by `signers` over the same message. Returns false if any
 * key lacks a valid proof of possession: without it, a rogue key (g^x − Σ honest keys) would
 * let one party forge the aggregate.
 */
export function blsVerifyAggregate(signers: PossessedKey[], message: Uint8Array, aggregateSignature: Uint8Array): boolean {
  if (!Array.isArray(signers) || signers.length === 0) return false;
  if (!signers.every((s) => blsVerifyPossession(s.publicKey, s.proofOfPossession))) return false;
  try {
    return blsVerify(blsAggregatePublicKeys(signers.map((s) => s.publicKey)), message, aggregateSignature);
  } catch {
    return false;
  }
}

/** Used by tests that build a rogue key: exposes point arithmetic without leaking noble types. */
export function blsSubtractPublicKeys(minuend: Uint8Array, subtrahend: Uint8Array): Uint8Array {
  const a = parsePublicKey(minuend);
  const b = parsePublicKey(subtrahend);
  if (!a || !b) throw new InvalidArgumentError('not a valid G1 public key');
  return a.subtract(b).toBytes(true);
}
