import { describe, expect, it } from 'vitest';
import {
  blsAggregatePublicKeys,
  blsAggregateSignatures,
  blsProvePossession,
  blsPublicKey,
  blsSign,
  blsSubtractPublicKeys,
  blsVerify,
  blsVerifyAggregate,
  blsVerifyPossession,
  generateBlsKeyPair,
} from '../../proofs/bls.ts';
import { utf8 } from '../../proofs/bytes.ts';

const message = utf8('dataset root');
const signers = Array.from({ length: 4 }, () => {
  const { secretKey, publicKey } = generateBlsKeyPair();
  return { secretKey, publicKey, proofOfPossession: blsProvePossession(secretKey) };
});

describe('BLS (min-pk, proof of possession)', () => {
  it('signs and verifies; a changed message or key fails', () => {
    const [a, b] = signers;
    const sig = blsSign(a!.secretKey, message);
    expect(sig.length).toBe(96);
    expect(blsVerify(a!.publicKey, message, sig)).toBe(true);
    expect(blsVerify(a!.publicKey, utf8('other'), sig)).toBe(false);
    expect(blsVerify(b!.publicKey, message, sig)).toBe(false);
  });

  it('verifies an aggregate over one message from keys with proofs of possession', () => {
    const aggregate = blsAggregateSignatures(signers.map((s) => blsSign(s.secretKey, message)));
    expect(blsVerifyAggregate(signers, message, aggregate)).toBe(true);
    expect(blsVerifyAggregate(signers.slice(1), message, aggregate)).toBe(false);
  });

  it('refuses a key whose proof of possession is missing or belongs to another key', () => {
    const aggregate = blsAggregateSignatures(signers.map((s) => blsSign(s.secretKey, message)));
    const swapped = signers.map((s, i) => (i === 0 ? { ...s, proofOfPossession: signers[1]!.proofOfPossession } : s));
    expect(blsVerifyPossession(signers[0]!.publicKey, signers[1]!.proofOfPossession)).toBe(false);
    expect(blsVerifyAggregate(swapped, message, aggregate)).toBe(false);
    // A PoP is a signature under its own DST: an ordinary signature over the key is not one.
    const forgedPop = blsSign(signers[0]!.secretKey, signers[0]!.publicKey);
    expect(blsVerifyPossession(signers[0]!.publicKey, forgedPop)).toBe(false);
  });

  it('refuses a rogue-key aggregate that would verify without proofs of possession', () => {
    const honest = signers[0]!;
    const attacker = generateBlsKeyPair();
    // rogue = g^x − honest: the pair's aggregate key is g^x, which the attacker controls.
    const rogue = blsSubtractPublicKeys(attacker.publicKey, honest.publicKey);
    const forged = blsSign(attacker.secretKey, message);
    // Naive same-message aggregation accepts the forgery: this is the attack.
    expect(blsVerify(blsAggregatePublicKeys([honest.publicKey, rogue]), message, forged)).toBe(true);
    // The attacker cannot prove possession of the rogue key; any PoP it offers fails.
    const attemptedPop = blsProvePossession(attacker.secretKey);
    expect(blsVerifyPossession(rogue, attemptedPop)).toBe(false);
    expect(blsVerifyAggregate([honest, { publicKey: rogue, proofOfPossession: attemptedPop }], message, forged)).toBe(false);
  });

  it('returns false on malformed keys and signatures', () => {
    const sig = blsSign(signers[0]!.secretKey, message);
    expect(blsVerify(new Uint8Array(48), message, sig)).toBe(false);
    expect(blsVerify(signers[0]!.publicKey, message, new Uint8Array(96))).toBe(false);
    expect(blsVerify(signers[0]!.publicKey.subarray(1), message, sig)).toBe(false);
    expect(blsVerifyAggregate([], message, sig)).toBe(false);
    expect(() => blsPublicKey(new Uint8Array(31))).toThrowError('BLS secret key must be 32 bytes, got 31');
  });
});
