import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../proofs/bytes.ts';
import { DecryptedView } from '../../client/encryption.ts';
import { openBox, sealBox, x25519PublicKey, generateX25519Secret } from '../../proofs/ecies.ts';
import { dataKeyOf } from '../../protocol/encryption.ts';
import { BLS_MODULUS, bytesToScalar, randomFieldElement, scalarToBytes } from '../../proofs/field.ts';
import { combineShares, splitSecret } from '../../proofs/shamir.ts';
import {
  cipherRange,
  DecryptionError,
  openChunk,
  openRange,
  plainSizeOf,
  sealChunk,
  sealStream,
  STREAM_TAG_BYTES,
  streamLayout,
} from '../../proofs/stream-cipher.ts';

const key = new Uint8Array(randomBytes(32));

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function seal(plain: Uint8Array, chunkBytes: number, pieceBytes = 1000): Promise<Uint8Array> {
  return collectBytes(sealStream(key, pieces(plain, pieceBytes), chunkBytes));
}

async function open(cipher: Uint8Array, plainBytes: number, chunkBytes: number, start = 0, end = plainBytes): Promise<Uint8Array> {
  const { cipherStart, cipherEnd } = cipherRange(start, end, plainBytes, chunkBytes);
  return collectBytes(openRange(key, pieces(cipher.subarray(cipherStart, cipherEnd), 777), { start, end, plainBytes, chunkBytes }));
}

describe('STREAM AES-256-GCM', () => {
  it('round-trips any byte range of any stream, and sizes agree with streamLayout and plainSizeOf', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 700 }), fc.nat(), fc.nat(), async (n, chunk, a, b) => {
        const plain = new Uint8Array(randomBytes(n));
        const cipher = await seal(plain, chunk);
        expect(cipher.length).toBe(streamLayout(n, chunk).cipherBytes);
        expect(plainSizeOf(cipher.length, chunk)).toBe(n);
        const start = n === 0 ? 0 : a % (n + 1);
        const end = start + (n === 0 ? 0 : b % (n - start + 1));
        expect(Buffer.from(await open(cipher, n, chunk, start, end)).equals(Buffer.from(plain.subarray(start, end)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a tampered chunk, and yields none of it', async () => {
    const plain = new Uint8Array(randomBytes(10_000));
    const cipher = await seal(plain, 1024);
    cipher[1024 + STREAM_TAG_BYTES + 5]! ^= 1; // inside chunk 1
    const out: Uint8Array[] = [];
    const read = async () => {
      for await (const piece of openRange(key, pieces(cipher, 4096), {
        start: 0,
        end: plain.length,
        plainBytes: plain.length,
        chunkBytes: 1024,
      }))
        out.push(piece);
    };
    await expect(read()).rejects.toThrow(/ciphertext chunk 1 failed authentication/);
    expect(Buffer.concat(out).equals(Buffer.from(plain.subarray(0, 1024)))).toBe(true);
  });

  it('refuses reordered chunks, a dropped last chunk and a truncated stream', async () => {
    const plain = new Uint8Array(randomBytes(3000));
    const cipher = await seal(plain, 1024);
    const sealed = 1024 + STREAM_TAG_BYTES;
    const chunk0 = cipher.subarray(0, sealed);
    const chunk1 = cipher.subarray(sealed, 2 * sealed);
    // Swapped: chunk 1's bytes at index 0.
    expect(() => openChunk(key, 0, false, chunk1)).toThrow(DecryptionError);
    expect(() => openChunk(key, 1, false, chunk0)).toThrow('ciphertext chunk 1 failed authentication');
    // Dropped last chunk: chunk 1 presented as the last one.
    expect(() => openChunk(key, 1, true, chunk1)).toThrow('ciphertext chunk 1 failed authentication');
    // Cut inside the stream: the range reader runs out.
    const cut = cipher.subarray(0, cipher.length - 10);
    const read = collectBytes(openRange(key, pieces(cut, 500), { start: 0, end: 3000, plainBytes: 3000, chunkBytes: 1024 }));
    await expect(read).rejects.toThrow('the ciphertext ended before chunk 2');
    // A wrong key opens nothing.
    expect(() => openChunk(new Uint8Array(32), 0, false, chunk0)).toThrow(DecryptionError);
  });

  it('seals an empty stream as one empty final chunk', () => {
    const sealed = sealChunk(key, 0, true, new Uint8Array(0));
    expect(sealed.length).toBe(STREAM_TAG_BYTES);
    expect(openChunk(key, 0, true, sealed).length).toBe(0);
    expect(plainSizeOf(STREAM_TAG_BYTES - 1, 64)).toBeUndefined();
    expect(plainSizeOf(64 + STREAM_TAG_BYTES + STREAM_TAG_BYTES, 64)).toBeUndefined();
  });
});

describe('DecryptedView', () => {
  it('reads only the chunks a range needs, and starts its tail at the last chunk', async () => {
    const plain = new Uint8Array(randomBytes(200_000));
    // The view derives the data key from the secret (here 32 zero bytes), as a reader does.
    const cipher = await collectBytes(sealStream(dataKeyOf(new Uint8Array(32)), pieces(plain, 5000), 65_536));
    const asked: Array<[number, number]> = [];
    const ciphertext = {
      size: cipher.length,
      tailStart: 0,
      async *read(start = 0, end = cipher.length) {
        asked.push([start, end]);
        yield cipher.subarray(start, end);
      },
    };
    const envelope = { chunkBytes: 65_536, plainBytes: plain.length, threshold: 1, keyCheck: new Uint8Array(32), shareBoxes: [] };
    const view = new DecryptedView(ciphertext, envelope, new Uint8Array(32));
    expect(view.tailStart).toBe(3 * 65_536);
    const tail = await collectBytes(view.read(view.tailStart, plain.length));
    expect(Buffer.from(tail).equals(Buffer.from(plain.subarray(3 * 65_536)))).toBe(true);
    expect(asked).toEqual([[3 * 65_552, cipher.length]]);
    await expect(collectBytes(view.read(0, plain.length + 1))).rejects.toThrow('byte range 0-200001 is outside the dataset (0-200000)');
  });
});

describe('Shamir over Fr', () => {
  it('any t of n shares give the secret; t − 1 give something else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 6 }), fc.nat(), (t, extra, seed) => {
        const n = t + extra;
        const secret = randomFieldElement();
        const shares = splitSecret(secret, t, n);
        const rotated = [...shares.slice(seed % n), ...shares.slice(0, seed % n)];
        expect(Buffer.from(combineShares(rotated.slice(0, t))).equals(Buffer.from(secret))).toBe(true);
        if (t > 1) expect(Buffer.from(combineShares(rotated.slice(0, t - 1))).equals(Buffer.from(secret))).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('t − 1 shares fit every secret: for any candidate, a t-th share exists that makes it the secret', () => {
    // Lagrange through (0, candidate) and the t − 1 shares, evaluated at a new x: the share that completes that polynomial.
    const at = (points: Array<[bigint, bigint]>, x: bigint): bigint => {
      let sum = 0n;
      for (const [i, [xi, yi]] of points.entries()) {
        let term = yi;
        for (const [j, [xj]] of points.entries()) {
          if (i !== j) term = (((term * (x - xj)) % BLS_MODULUS) * inverseOf(xi - xj)) % BLS_MODULUS;
        }
        sum = (sum + term) % BLS_MODULUS;
      }
      return (sum + BLS_MODULUS) % BLS_MODULUS;
    };
    const inverseOf = (a: bigint): bigint => {
      let [r, base, e] = [1n, ((a % BLS_MODULUS) + BLS_MODULUS) % BLS_MODULUS, BLS_MODULUS - 2n];
      for (; e > 0n; e >>= 1n, base = (base * base) % BLS_MODULUS) if (e & 1n) r = (r * base) % BLS_MODULUS;
      return r;
    };
    const shares = splitSecret(randomFieldElement(), 3, 5).slice(0, 2);
    for (const candidate of [randomFieldElement(), randomFieldElement()]) {
      const points: Array<[bigint, bigint]> = [
        [0n, bytesToScalar(candidate)],
        ...shares.map((s): [bigint, bigint] => [BigInt(s.x), bytesToScalar(s.y)]),
      ];
      const third = { x: 4, y: scalarToBytes(at(points, 4n)) };
      expect(Buffer.from(combineShares([...shares, third])).equals(Buffer.from(candidate))).toBe(true);
    }
  });

  it('rejects bad shares with a clear error', () => {
    const [a] = splitSecret(randomFieldElement(), 2, 3);
    expect(() => combineShares([a!, a!])).toThrow('share 1 is given twice');
    expect(() => combineShares([{ x: 0, y: a!.y }])).toThrow('share x must be an integer in [1, 65535], got 0');
    expect(() => splitSecret(new Uint8Array(32).fill(0xff), 2, 3)).toThrow('a secret to share must be 32 bytes below the field order');
    expect(() => splitSecret(randomFieldElement(), 4, 3)).toThrow('threshold must be an integer in [1, 3], got 4');
  });
});

describe('ECIES over X25519', () => {
  it('opens only with the recipient key and the same associated data', () => {
    const secret = generateX25519Secret();
    const other = generateX25519Secret();
    const ad = new TextEncoder().encode('context');
    const box = sealBox(x25519PublicKey(secret), new Uint8Array([1, 2, 3]), ad);
    expect([...openBox(secret, box, ad)]).toEqual([1, 2, 3]);
    expect(() => openBox(other, box, ad)).toThrow('the box does not open with this key and associated data');
    expect(() => openBox(secret, box, new TextEncoder().encode('other'))).toThrow('the box does not open');
    const tampered = box.slice();
    tampered[40]! ^= 1;
    expect(() => openBox(secret, tampered, ad)).toThrow('the box does not open');
    expect(() => openBox(secret, box.subarray(0, 47), ad)).toThrow('a box is at least 48 bytes');
  });
});
