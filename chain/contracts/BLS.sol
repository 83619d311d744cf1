// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice BLS12-381 min-pk signatures (G1 keys, G2 signatures) over the EIP-2537 precompiles.
/// Points use the precompiles' encoding: every Fp element is 64 bytes (16 zero bytes and the
/// 48-byte big-endian value), i.e. two words (hi < 2^128, lo). A G1 point is 4 words, a G2
/// point 8 (x.c0, x.c1, y.c0, y.c1). Hash-to-G2 follows RFC 9380 (BLS12381G2_XMD:SHA-256_SSWU_RO_):
/// expand_message_xmd with SHA-256, two Fp2 elements, each mapped by MAP_FP2_TO_G2 (which also
/// clears the cofactor), then added. It matches the noble curves library byte for byte (tested).
library BLS {
    struct G1Point { uint256 xHi; uint256 xLo; uint256 yHi; uint256 yLo; }

    address private constant G1_ADD = address(0x0b);
    address private constant G2_ADD = address(0x0d);
    address private constant PAIRING = address(0x0f);
    address private constant MAP_FP2_TO_G2 = address(0x11);
    address private constant MODEXP = address(0x05);

    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant HALF_P_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    uint256 private constant G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    error PrecompileFailed(address precompile);

    function fromBytes(bytes memory encoded) internal pure returns (G1Point memory point) {
        require(encoded.length == 128, "BLS: G1 point must be 128 bytes");
        (point.xHi, point.xLo, point.yHi, point.yLo) = abi.decode(encoded, (uint256, uint256, uint256, uint256));
    }

    function isZero(G1Point memory a) internal pure returns (bool) {
        return a.xHi == 0 && a.xLo == 0 && a.yHi == 0 && a.yLo == 0;
    }

    function add(G1Point memory a, G1Point memory b) internal view returns (G1Point memory out) {
        bytes memory result = _call(G1_ADD, abi.encode(a.xHi, a.xLo, a.yHi, a.yLo, b.xHi, b.xLo, b.yHi, b.yLo), 128);
        (out.xHi, out.xLo, out.yHi, out.yLo) = abi.decode(result, (uint256, uint256, uint256, uint256));
    }

    /// @dev −(x, y) = (x, p − y); the point at infinity (all zero) is its own negation.
    function negate(G1Point memory a) internal pure returns (G1Point memory) {
        if (isZero(a)) return a;
        uint256 borrow = a.yLo > P_LO ? 1 : 0;
        uint256 lo;
        unchecked { lo = P_LO - a.yLo; }
        return G1Point(a.xHi, a.xLo, P_HI - a.yHi - borrow, lo);
    }

    /// @notice The 48-byte compressed (ZCash) encoding of a G1 point; proofs of possession sign it.
    function compress(G1Point memory a) internal pure returns (bytes memory) {
        if (isZero(a)) {
            bytes memory infinity = new bytes(48);
            infinity[0] = 0xc0;
            return infinity;
        }
        bool yIsLarger = a.yHi > HALF_P_HI || (a.yHi == HALF_P_HI && a.yLo > HALF_P_LO);
        bytes memory out = abi.encodePacked(bytes16(uint128(a.xHi)), bytes32(a.xLo));
        out[0] = out[0] | (yIsLarger ? bytes1(0xa0) : bytes1(0x80));
        return out;
    }

    /// @notice e(publicKey, H(message)) == e(g1, signature), as one pairing check with −g1.
    /// The pairing precompile rejects points off the curve or outside the subgroup.
    function verify(G1Point memory publicKey, bytes memory message, string memory dst, bytes memory signature)
        internal view returns (bool)
    {
        if (signature.length != 256 || isZero(publicKey)) return false;
        bytes memory hashed = hashToG2(message, dst);
        bytes memory input = abi.encodePacked(
            abi.encode(publicKey.xHi, publicKey.xLo, publicKey.yHi, publicKey.yLo), hashed,
            abi.encode(G1_X_HI, G1_X_LO, NEG_G1_Y_HI, NEG_G1_Y_LO), signature
        );
        (bool ok, bytes memory result) = PAIRING.staticcall(input);
        return ok && result.length == 32 && abi.decode(result, (uint256)) == 1;
    }

    function hashToG2(bytes memory message, string memory dst) internal view returns (bytes memory) {
        bytes memory uniform = expandMessageXmd(message, bytes(dst), 256);
        bytes memory q0 = _call(MAP_FP2_TO_G2, abi.encodePacked(_reduce(uniform, 0), _reduce(uniform, 64)), 256);
        bytes memory q1 = _call(MAP_FP2_TO_G2, abi.encodePacked(_reduce(uniform, 128), _reduce(uniform, 192)), 256);
        return _call(G2_ADD, abi.encodePacked(q0, q1), 256);
    }

    /// @dev RFC 9380 §5.3.1 with SHA-256 (b = 32 bytes, block r = 64 bytes); length is a multiple of 32 here.
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 length) internal pure returns (bytes memory out) {
        require(dst.length <= 255 && length <= 255 * 32 && length % 32 == 0, "BLS: bad expand_message_xmd arguments");
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        bytes32 b0 = sha256(abi.encodePacked(new bytes(64), message, uint16(length), uint8(0), dstPrime));
        bytes32 bi = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        out = new bytes(length);
        uint256 blocks = length / 32;
        for (uint256 i = 1; i <= blocks; i++) {
            if (i > 1) bi = sha256(abi.encodePacked(b0 ^ bi, uint8(i), dstPrime));
            assembly { mstore(add(out, mul(i, 32)), bi) }
        }
    }

    /// @dev OS2IP(64 bytes at offset) mod p through the modexp precompile (x^1 mod p), as a padded Fp element.
    function _reduce(bytes memory uniform, uint256 offset) private view returns (bytes memory) {
        bytes32 hi;
        bytes32 lo;
        assembly {
            hi := mload(add(add(uniform, 32), offset))
            lo := mload(add(add(uniform, 64), offset))
        }
        bytes memory input =
            abi.encodePacked(uint256(64), uint256(1), uint256(48), hi, lo, uint8(1), bytes16(uint128(P_HI)), bytes32(P_LO));
        bytes memory reduced = _call(MODEXP, input, 48);
        return abi.encodePacked(bytes16(0), reduced);
    }

    function _call(address precompile, bytes memory input, uint256 outputLength) private view returns (bytes memory result) {
        bool ok;
        (ok, result) = precompile.staticcall(input);
        if (!ok || result.length != outputLength) revert PrecompileFailed(precompile);
    }
}
