/**
 * Node-side shard verification on one core, three ways over the same blobs:
 *  - one c-kzg commitment per shard (what a node would do without batching);
 *  - Sherd's random linear combination, batches of 64 (what nodes do);
 *  - c-kzg's batched blob-proof check, if the client sent a proof with each blob
 *    (cheap for the node, but costs the client a second KZG operation per blob).
 */
import { randomBytes } from 'node:crypto';
import { packBlob, PAYLOAD_BYTES_PER_BLOB, BYTES_PER_BLOB } from '../proofs/blob.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import verifyBatch from '../storage-node/kzg-worker.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

export async function benchVerify(quick: boolean): Promise<{ nodeVerifyMbps: number }> {
  const kzg = loadCKzg();
  const count = quick ? 192 : 640;
  const batch = 64; // the node's default batch (storage-node/verifier.ts)
  const blobs = Array.from({ length: count }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
  const commitments = blobs.map((b) => kzg.blobToCommitment(b));
  const bytes = count * BYTES_PER_BLOB;

  // Recomputing commitments is slow and steady: time it on 32 blobs and scale.
  const [, single32Ms] = await timed(() =>
    blobs.slice(0, 32).forEach((b) => {
      kzg.blobToCommitment(b);
    }),
  );
  const singleMs = (single32Ms * count) / 32;
  await verifyBatch({ blobs: blobs.slice(0, batch), commitments: commitments.slice(0, batch) }); // warm the JIT and wasm
  const [ok, rlcMs] = await timed(async () => {
    let all = true;
    for (let i = 0; i < count; i += batch)
      all &&= (await verifyBatch({ blobs: blobs.slice(i, i + batch), commitments: commitments.slice(i, i + batch) })).every(Boolean);
    return all;
  });
  if (!ok) throw new Error('benchmark blobs failed verification');
  const [proofs, proveMs] = await timed(() => blobs.map((b, i) => kzg.computeBlobProof(b, commitments[i]!)));
  const [, proofBatchMs] = await timed(() => {
    for (let i = 0; i < count; i += batch)
      kzg.verifyBlobProofBatch(blobs.slice(i, i + batch), commitments.slice(i, i + batch), proofs.slice(i, i + batch));
  });
  const rows = [
    { method: 'recompute each commitment', 'node MB/s per core': mbps(bytes, singleMs), 'extra client cost per blob (ms)': 0 },
    {
      method: `random linear combination, batches of ${batch} (Sherd)`,
      'node MB/s per core': mbps(bytes, rlcMs),
      'extra client cost per blob (ms)': 0,
    },
    {
      method: 'client blob proofs, batch-verified',
      'node MB/s per core': mbps(bytes, proofBatchMs),
      'extra client cost per blob (ms)': proveMs / count,
    },
  ];
  table(`Node verification, ${count} shards, one core`, rows);
  const nodeVerifyMbps = mbps(bytes, rlcMs);
  await writeResult('verify', { count, singleMs, rlcMs, proofBatchMs, proveMs, nodeVerifyMbps });
  return { nodeVerifyMbps };
}
