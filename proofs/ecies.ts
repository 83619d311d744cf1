import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import { concatBytes } from './bytes.ts';
import { assertBytes, SherdError } from './errors.ts';

/**
 * ECIES over X25519 with Node's crypto: an ephemeral key pair, the X25519 shared secret run
 * through HKDF-SHA256 (salt: both public keys) into a one-time AES-256-GCM key, and the
 * caller's associated data bound into the tag. A box is ephemeral public key (32) ‖
 * ciphertext ‖ tag (16). The key is used once, so the nonce is fixed at zero.
 */
export const X25519_KEY_BYTES = 32;
export const BOX_OVERHEAD_BYTES = X25519_KEY_BYTES + 16;
const INFO = new TextEncoder().encode('SHERD_ECIES_V1');

/** A box could not be opened: it was not sealed to this key with this associated data, or was changed. */
export class BoxError extends SherdError {
  override name = 'BoxError';
}

// DER prefixes of X25519 keys (RFC 8410): Node imports raw keys only through them.
const PRIVATE_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const PUBLIC_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

const privateKeyObject = (secret: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([PRIVATE_PREFIX, secret]), format: 'der', type: 'pkcs8' });
const publicKeyObject = (key: Uint8Array) => createPublicKey({ key: Buffer.concat([PUBLIC_PREFIX, key]), format: 'der', type: 'spki' });

/** The X25519 public key of a 32-byte secret (any 32 bytes are a valid secret: X25519 clamps them). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  assertBytes('X25519 secret key', secret, X25519_KEY_BYTES);
  const der = createPublicKey(privateKeyObject(secret)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - X25519_KEY_BYTES));
}

export function generateX25519Secret(): Uint8Array {
  return new Uint8Array(randomBytes(X25519_KEY_BYTES));
}

function boxKey(shared: Buffer, ephemeral: Uint8Array, recipient: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, concatBytes(ephemeral, recipient), INFO, 32));
}

/** Seals `plaintext` to the holder of `recipient`'s secret, bound to `associatedData`. */
export function sealBox(recipient: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  assertBytes('X25519 public key', recipient, X25519_KEY_BYTES);
  const ephemeralSecret = generateX25519Secret();
  const ephemeral = x25519PublicKey(ephemeralSecret);
  const shared = diffieHellman({ privateKey: privateKeyObject(ephemeralSecret), publicKey: publicKeyObject(recipient) });
  const cipher = createCipheriv('aes-256-gcm', boxKey(shared, ephemeral, recipient), Buffer.alloc(12));
  cipher.setAAD(associatedData);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return concatBytes(ephemeral, body, cipher.getAuthTag());
}

/** Opens a box sealed to `secret`'s public key with `associatedData`; BoxError otherwise. */
export function openBox(secret: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Uint8Array {
  assertBytes('X25519 secret key', secret, X25519_KEY_BYTES);
  if (!(box instanceof Uint8Array) || box.length < BOX_OVERHEAD_BYTES) throw new BoxError('bad_box', 'a box is at least 48 bytes');
  const ephemeral = box.subarray(0, X25519_KEY_BYTES);
  try {
    const shared = diffieHellman({ privateKey: privateKeyObject(secret), publicKey: publicKeyObject(ephemeral) });
    const decipher = createDecipheriv('aes-256-gcm', boxKey(shared, ephemeral, x25519PublicKey(secret)), Buffer.alloc(12));
    decipher.setAAD(associatedData);
    decipher.setAuthTag(box.subarray(box.length - 16));
    return new Uint8Array(Buffer.concat([decipher.update(box.subarray(X25519_KEY_BYTES, box.length - 16)), decipher.final()]));
  } catch (cause) {
    throw new BoxError('bad_box', 'the box does not open with this key and associated data', { cause });
  }
}
