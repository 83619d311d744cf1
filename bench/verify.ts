/**
 * Node-side shard verification on one core, three ways over the same blobs:
 *  - one c-kzg commitment per shard (what a node would do without batching);
 *  - Sherd's random linear combination, batches of 32 (what nodes do);
 *  - c-kzg's batched blob-proof check, if the client sent a proof with each blob
 *    (cheap for the node, but costs the client a second KZG operation per blob).
 */
import { randomBytes } from 'node:crypto';
import { packBlob, PAYLOAD_BYTES_PER_BLOB, BYTES_PER_BLOB } from '../proofs/blob.ts';
import { loadCKzg } from '../proofs/kzg.ts';
import verifyBatch from '../storage-node/verify-worker.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

export async function benchVerify(quick: boolean): Promise<{ nodeVerifyMbps: number }> {
  const kzg = loadCKzg();
  const count = quick ? 64 : 256;
  const blobs = Array.from({ length: count }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
  const commitments = blobs.map((b) => kzg.blobToCommitment(b));
  const bytes = count * BYTES_PER_BLOB;

  const [, singleMs] = await timed(() => blobs.forEach((b, i) => kzg.blobToCommitment(b) && commitments[i]));
  const [ok, rlcMs] = await timed(() => {
    let all = true;
    for (let i = 0; i < count; i += 32) all &&= verifyBatch({ blobs: blobs.slice(i, i + 32), commitments: commitments.slice(i, i + 32) }).every(Boolean);
    return all;
  });
  if (!ok) throw new Error('benchmark blobs failed verification');
  const [proofs, proveMs] = await timed(() => blobs.map((b, i) => kzg.computeBlobProof(b, commitments[i]!)));
  const [, proofBatchMs] = await timed(() => {
    for (let i = 0; i < count; i += 32) kzg.verifyBlobProofBatch(blobs.slice(i, i + 32), commitments.slice(i, i + 32), proofs.slice(i, i + 32));
  });
  const rows = [
    { method: 'recompute each commitment', 'node MB/s per core': mbps(bytes, singleMs), 'extra client cost per blob (ms)': 0 },
    { method: 'random linear combination, batches of 32 (Sherd)', 'node MB/s per core': mbps(bytes, rlcMs), 'extra client cost per blob (ms)': 0 },
    { method: 'client blob proofs, batch-verified', 'node MB/s per core': mbps(bytes, proofBatchMs), 'extra client cost per blob (ms)': proveMs / count },
  ];
  table(`Node verification, ${count} shards, one core`, rows);
  const nodeVerifyMbps = mbps(bytes, rlcMs);
  await writeResult('verify', { count, singleMs, rlcMs, proofBatchMs, proveMs, nodeVerifyMbps });
  return { nodeVerifyMbps };
}
