/**
 * Peers preparing the same file for upload, and Reed-Solomon codecs at the same (k, m):
 *  - Sherd: RS over Fr + blob packing + a KZG commitment per data shard (parity commitments by MSM) + SHA-256 per shard (one worker);
 *  - 0G TypeScript SDK: its file Merkle tree (keccak over 256-byte chunks; no coding on the client);
 *  - BNB Greenfield (@bnb-chain/reed-solomon): RS(4, 2) over 16 MiB segments plus SHA-256
 *    checksums of every piece (integrity hashes only, nothing a sampler can check).
 */
import { randomBytes } from 'node:crypto';
import { MemData } from '@0glabs/0g-ts-sdk';
import { ReedSolomon } from '@bnb-chain/reed-solomon';
import { EncoderPool } from '../client/encoder.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { frMatrix, loadFrBackend } from '../proofs/fr-backend.ts';
import { encodesByFft, evaluationPoints, FrCode, fftParameters, parityMatrix } from '../proofs/fr-code.ts';
import { segmentToBlobs } from '../protocol/segment.ts';
import { segmentPayloadBytes } from '../protocol/manifest.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

export async function benchPeers(quick: boolean): Promise<void> {
  const size = (quick ? 4 : 32) * 1024 * 1024;
  const data = new Uint8Array(randomBytes(size));

  const pool = new EncoderPool(1);
  await pool.commit(new Uint8Array(segmentPayloadBytes(4)), 4, 4);
  const [, sherdMs] = await timed(async () => {
    const step = segmentPayloadBytes(4);
    const inFlight: Promise<unknown>[] = [];
    for (let offset = 0; offset < size; offset += step) {
      inFlight.push(pool.commit(data.slice(offset, offset + step), 4, 4));
      if (inFlight.length > 1) await inFlight.shift();
    }
    await Promise.all(inFlight);
  });
  await pool.close();
  const [tree, zgMs] = await timed(() => new MemData(data).merkleTree());
  if (tree[1]) throw tree[1];
  const [, bnbMs] = await timed(() => new ReedSolomon(4, 2).encode(data));

  table(`Preparing a ${(size / 1048576).toFixed(0)} MiB file for upload, one thread`, [
    { peer: 'Sherd: RS(4, 4) over Fr + packing + KZG commitment per data shard + SHA-256 per shard', 'MB/s of input': mbps(size, sherdMs) },
    { peer: '0G TS SDK 0.3.3: file Merkle tree (keccak, 256-byte leaves)', 'MB/s of input': mbps(size, zgMs) },
    { peer: 'BNB Greenfield reed-solomon 1.1.4: RS(4, 2) + SHA-256 checksums', 'MB/s of input': mbps(size, bnbMs) },
  ]);

  const codecRows: Array<Record<string, string | number>> = [];
  for (const [k, m] of [
    [4, 2],
    [16, 16],
  ] as const) {
    const segment = new Uint8Array(randomBytes(k * 126_976));
    const ours = new FrCode(k, m);
    const rounds = quick ? 10 : 40;
    const [, sherdCodecMs] = await timed(() => {
      for (let r = 0; r < rounds; r++) segmentToBlobs(ours, segment);
    });
    const theirs = new ReedSolomon(k, m, segment.length);
    const [, bnbCodecMs] = await timed(() => {
      for (let r = 0; r < rounds; r++) theirs.encodeSegment(segment);
    });
    codecRows.push({
      'k + m': `${k} + ${m}`,
      'shard bytes': 126_976,
      'Sherd (RS over Fr, native; packing included) MB/s': mbps(segment.length * rounds, sherdCodecMs),
      '@bnb-chain/reed-solomon (JS) MB/s': mbps(segment.length * rounds, bnbCodecMs),
    });
  }
  table('Reed-Solomon encode, MB/s of input, one thread', codecRows);
  const fftRows = fftAgainstMatrix(quick);
  table('Sherd parity by matrix and by FFT (native), ms per segment, one thread', fftRows);
  await writeResult('peers', { size, sherdMs, zgMs, bnbMs, codecs: codecRows, fft: fftRows });
}

/** The same parity by the k × m matrix and by FFTs, best of the rounds each (checked equal). */
function fftAgainstMatrix(quick: boolean): Array<Record<string, string | number>> {
  const backend = loadFrBackend('native');
  return (
    [
      [4, 4],
      [16, 3],
      [16, 16],
      [64, 64],
      [128, 128],
    ] as const
  ).map(([k, m]) => {
    const data = segmentToBlobs(new FrCode(k, m), new Uint8Array(randomBytes(k * 126_976))).subarray(0, k * BYTES_PER_BLOB);
    const matrix = frMatrix(parityMatrix(k, m));
    const params = fftParameters(k, m, evaluationPoints(k, m));
    if (!Buffer.from(backend.combineBlobs(data, matrix)).equals(Buffer.from(backend.fftEncode!(data, params, m)))) {
      throw new Error(`FFT parity differs from the matrix at ${k} + ${m}`);
    }
    const best = (fn: () => unknown) => {
      let ms = Number.POSITIVE_INFINITY;
      for (let r = 0; r < (quick ? 3 : 5); r++) {
        const started = performance.now();
        fn();
        ms = Math.min(ms, performance.now() - started);
      }
      return ms;
    };
    return {
      'k + m': `${k} + ${m}`,
      'matrix ms': best(() => backend.combineBlobs(data, matrix)),
      'FFT ms': best(() => backend.fftEncode!(data, params, m)),
      'FrCode uses': encodesByFft(k, m) ? 'FFT' : 'matrix',
    };
  });
}
