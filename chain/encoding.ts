import { bls12_381 } from '@noble/curves/bls12-381.js';
import { concatBytes, fromHex } from '../proofs/bytes.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';

/**
 * Between Sherd's compressed BLS encodings (48-byte G1, 96-byte G2) and EIP-2537's
 * uncompressed ones (every Fp element as 64 bytes: 16 zero bytes ‖ 48-byte value). The chain
 * takes uncompressed points so it never has to decompress (a square root in Fp2).
 */
const fp = (value: bigint) => fromHex(value.toString(16).padStart(128, '0'), 64);

export function g1ToEip2537(compressed: Uint8Array): Uint8Array {
  try {
    const { x, y } = bls12_381.G1.Point.fromBytes(compressed).toAffine();
    return concatBytes(fp(x), fp(y));
  } catch (cause) {
    throw new InvalidArgumentError('not a compressed G1 point', { cause });
  }
}

export function g2ToEip2537(compressed: Uint8Array): Uint8Array {
  try {
    const { x, y } = bls12_381.G2.Point.fromBytes(compressed).toAffine();
    return concatBytes(fp(x.c0), fp(x.c1), fp(y.c0), fp(y.c1));
  } catch (cause) {
    throw new InvalidArgumentError('not a compressed G2 point', { cause });
  }
}

function readFp(bytes: Uint8Array, offset: number): bigint {
  const word = bytes.subarray(offset, offset + 64);
  if (word.subarray(0, 16).some((b) => b !== 0)) throw new InvalidArgumentError('EIP-2537 field element has non-zero padding');
  return BigInt(`0x${Buffer.from(word.subarray(16)).toString('hex')}`);
}

export function g1FromEip2537(encoded: Uint8Array): Uint8Array {
  if (encoded.length !== 128) throw new InvalidArgumentError(`an EIP-2537 G1 point is 128 bytes, got ${encoded.length}`);
  try {
    return bls12_381.G1.Point.fromAffine({ x: readFp(encoded, 0), y: readFp(encoded, 64) }).toBytes(true);
  } catch (cause) {
    throw new InvalidArgumentError('not a valid EIP-2537 G1 point', { cause });
  }
}

export function g2FromEip2537(encoded: Uint8Array): Uint8Array {
  if (encoded.length !== 256) throw new InvalidArgumentError(`an EIP-2537 G2 point is 256 bytes, got ${encoded.length}`);
  try {
    const { Fp2 } = bls12_381.fields;
    const x = Fp2.fromBigTuple([readFp(encoded, 0), readFp(encoded, 64)]);
    const y = Fp2.fromBigTuple([readFp(encoded, 128), readFp(encoded, 192)]);
    return bls12_381.G2.Point.fromAffine({ x, y }).toBytes(true);
  } catch (cause) {
    throw new InvalidArgumentError('not a valid EIP-2537 G2 point', { cause });
  }
}
