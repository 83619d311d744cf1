/**
 * Client write path against its bound: one fixed-base (BGMW) commitment per data blob, since
 * parity commitments derive from data commitments.
 *  - bare: the fixed-base commit loop over the segments' k data blobs, one thread (the baseline);
 *  - encode+commit: Sherd's encoder (packing, the code over Fr, data commitments, parity
 *    commitments by MSM, SHA-256 of every shard) in a 1-thread pool, then 2.
 * Both cover the same segments, so the ratio says how much of the encoder's time is not the
 * data's commitments.
 */
import { randomBytes } from 'node:crypto';
import { EncoderPool } from '../client/encoder.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { FrCode } from '../proofs/fr-code.ts';
import { loadFrBackend } from '../proofs/fr-backend.ts';
import { segmentPayloadBytes } from '../protocol/manifest.ts';
import { segmentToBlobs } from '../protocol/segment.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

export async function benchEncode(quick: boolean): Promise<{ encodeVsKzg: number; workers2v1: number }> {
  const k = 4;
  const m = 4;
  const segments = quick ? 24 : 32;
  const payloads = Array.from({ length: segments }, () => new Uint8Array(randomBytes(segmentPayloadBytes(k))));
  const shardBytes = segments * (k + m) * BYTES_PER_BLOB;

  const backend = loadFrBackend();
  const code = new FrCode(k, m);
  const blobs = payloads.map((p) => segmentToBlobs(code, p));
  backend.commitBlob(blobs[0]!.subarray(0, BYTES_PER_BLOB)); // warm: builds the fixed-base tables
  const bareLoop = async () =>
    (
      await timed(() => {
        for (const segment of blobs)
          for (let i = 0; i < k; i++) backend.commitBlob(segment.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
      })
    )[1];

  const runs: number[] = [];
  const run = async (threads: number) => {
    const pool = new EncoderPool(threads);
    await pool.commit(new Uint8Array(payloads[0]!), k, m); // load the setup in every worker before timing
    if (threads > 1) await Promise.all(Array.from({ length: threads }, () => pool.commit(new Uint8Array(payloads[0]!), k, m)));
    const [, ms] = await timed(async () => {
      const inFlight = new Set<Promise<unknown>>();
      for (const payload of payloads) {
        const task = pool.commit(new Uint8Array(payload), k, m);
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        if (inFlight.size > threads) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    });
    await pool.close();
    return ms;
  };
  // Best of two for the single-thread runs, interleaved: shared machines drift.
  const bareMs = Math.min(
    await bareLoop(),
    await (async () => {
      const one = await run(1);
      runs.push(one);
      return bareLoop();
    })(),
  );
  const oneMs = Math.min(runs[0]!, await run(1));
  const twoMs = Math.min(await run(2), await run(2));
  const rows = [
    {
      path: `bare ${backend.name} fixed-base commit loop over the data blobs, 1 thread`,
      'MB/s of shards': mbps(shardBytes, bareMs),
      'ms per blob': bareMs / (segments * (k + m)),
    },
    { path: 'Sherd encode+commit, 1 worker', 'MB/s of shards': mbps(shardBytes, oneMs), 'ms per blob': oneMs / (segments * (k + m)) },
    { path: 'Sherd encode+commit, 2 workers', 'MB/s of shards': mbps(shardBytes, twoMs), 'ms per blob': twoMs / (segments * (k + m)) },
  ];
  table(`Client encode+commit, k=${k} m=${m}, ${segments} segments (${(shardBytes / 1048576).toFixed(0)} MiB of shards)`, rows);
  const result = { encodeVsKzg: bareMs / oneMs, workers2v1: oneMs / twoMs };
  await writeResult('encode', { k, m, segments, shardBytes, bareMs, oneWorkerMs: oneMs, twoWorkersMs: twoMs, ...result });
  return result;
}
