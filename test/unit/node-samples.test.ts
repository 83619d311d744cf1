import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { generateBlsKeyPair } from '../../proofs/bls.ts';
import { toHex } from '../../proofs/bytes.ts';
import type { PointOpening } from '../../proofs/kzg.ts';
import { randomFieldElement } from '../../proofs/field.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../../protocol/constants.ts';
import { datasetId } from '../../protocol/messages.ts';
import { createNodeServer } from '../../storage-node/server.ts';
import { ShardStore } from '../../storage-node/store.ts';
import { buildDataset } from '../helpers/dataset.ts';

/**
 * The node's sample routes in process, with a real LevelDB and an opener the test controls:
 * openings wait until released, so the bound on pending openings can be reached.
 */
let dir: string;
let store: ShardStore;
let app: FastifyInstance;
let url: string;
const waiting: Array<() => void> = [];
const key = generateBlsKeyPair();
const other = generateBlsKeyPair();
// k = 1, m = 1 over two nodes; this node is node 0 and holds shard 0 of each even segment.
const dataset = buildDataset([key.publicKey, other.publicKey], 1, 1, 300_000);
const uploader = `0x${'11'.repeat(20)}`;
const id = datasetId(uploader, dataset.root);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-node-samples-'));
  store = await ShardStore.open(dir);
  await store.putDataset(id, dataset.manifestBytes, { uploader, announcedAt: new Date().toISOString() });
  await store.putShard(id, 0, 0, dataset.blobs[0]![0]!);
  const opener = {
    open: (_blob: Uint8Array, _z: Uint8Array) =>
      new Promise<PointOpening>((resolve) => {
        waiting.push(() => resolve({ y: new Uint8Array(32), proof: new Uint8Array(48) }));
      }),
  };
  app = await createNodeServer({
    store,
    opener,
    verifier: { verify: async () => true, close: async () => {} },
    encoding: { encodingConsistent: async () => true },
    blsSecretKey: key.secretKey,
    chainId: OFFCHAIN_CHAIN_ID,
    registryAddress: OFFCHAIN_REGISTRY,
    maxPendingOpenings: 3,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = async (count: number) => {
  const samples = Array.from({ length: count }, () => ({ segment: 0, index: 0, z: toHex(randomFieldElement()) }));
  const response = await request(`${url}/v1/datasets/${toHex(id)}/samples`, {
    method: 'POST',
    body: JSON.stringify({ samples }),
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
};

describe('sample back-pressure', () => {
  it('turns sample requests away with 503 while the pending openings would pass the bound, and serves them again after', async () => {
    const first = post(2);
    await vi.waitFor(() => expect(waiting).toHaveLength(2));
    const refused = await post(2);
    expect(refused).toEqual({ status: 503, json: { error: 'unavailable', message: '2 samples are being answered; try again shortly' } });
    const fits = post(1);
    await vi.waitFor(() => expect(waiting).toHaveLength(3));
    for (const release of waiting.splice(0)) release();
    expect((await first).status).toBe(200);
    expect((await fits).status).toBe(200);
    const again = post(3);
    await vi.waitFor(() => expect(waiting).toHaveLength(3));
    for (const release of waiting.splice(0)) release();
    const answered = await again;
    expect(answered.status).toBe(200);
    expect(answered.json.answers).toHaveLength(3);
  });
});
