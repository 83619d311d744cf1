import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { NonceManager, Wallet } from 'ethers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { accountAddress, generateAccountKey } from '../../proofs/account.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { sha256 } from '../../proofs/hash.ts';
import { certificateProblem } from '../../protocol/certificate.ts';
import { shardPosition } from '../../protocol/manifest.ts';
import { datasetId } from '../../protocol/messages.ts';
import { shardsOnNode } from '../../protocol/placement.ts';
import { Devnet } from '../../cli/devnet.ts';
import { Dataset, download } from '../../client/dataset.ts';
import { EncoderPool } from '../../client/encoder.ts';
import { NodeClient } from '../../client/node-client.ts';
import { upload, type UploadOptions, type UploadResult } from '../../client/upload.ts';
import { ShardStore } from '../../storage-node/store.ts';

/** Six real node processes on loopback; k = 3, m = 3, so any three may fail. */
let dir: string;
let devnet: Devnet;
let encoder: EncoderPool;
let data: Uint8Array;
let uploaded: UploadResult;

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Uploads `bytes` as the devnet's uploader, or as `uploaderKey` with its own wallet. */
function uploadAs(bytes: Uint8Array, uploaderKey = devnet.uploaderKey, extra: Partial<UploadOptions> = {}): Promise<UploadResult> {
  const chain =
    uploaderKey === devnet.uploaderKey
      ? devnet.uploadChain()
      : {
          registry: devnet.registry.connect(new NonceManager(new Wallet(toHex(uploaderKey), devnet.chain.provider))),
          chainId: devnet.chain.chainId,
        };
  return upload(bytes, { nodes: devnet.endpoints, chain, uploaderKey, encoder, ...extra });
}

const readBack = (id: Uint8Array, range: { start?: number; end?: number } = {}) =>
  readAll(download(id, { nodes: devnet.endpoints, registry: devnet.registry, ...range }));

const keysOf = (d: Devnet) =>
  d.file.nodes.map((n) => ({ publicKey: fromHex(n.publicKey, 48), proofOfPossession: fromHex(n.proofOfPossession, 96) }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-devnet-test-'));
  devnet = await Devnet.start({ nodes: 6, dir });
  encoder = new EncoderPool(2);
  data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 12_345));
  // A stream source: upload must spool it to read it twice.
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += 65_536) yield data.subarray(i, i + 65_536);
    })(),
  );
  uploaded = await upload(source, {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    encoder,
    tmpDir: dir,
  });
});

afterAll(async () => {
  await encoder?.close();
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a devnet of real storage-node processes', () => {
  it('stores a streamed dataset and certifies it on chain with every node signing', async () => {
    // One file named `data` (a stream has no name), then its index entry and the 20-byte trailer.
    const size = data.length + (2 + 'data'.length + 48) + 20;
    expect(uploaded.files).toEqual([
      { path: 'data', offset: 0, length: data.length, sha256: new Uint8Array(createHash('sha256').update(data).digest()) },
    ]);
    expect(uploaded).toMatchObject({
      size,
      k: 3,
      m: 3,
      nodeCount: 6,
      quorum: 4,
      failedNodes: [],
      owner: devnet.file.uploader,
    });
    expect(uploaded.chain!.certifyGas).toBeGreaterThan(100_000);
    expect(toHex(uploaded.datasetId)).toBe(toHex(datasetId(devnet.file.uploader, uploaded.contentRoot)));
    expect(await devnet.registry.dataset(uploaded.datasetId)).toMatchObject({
      registered: true,
      certified: true,
      signers: 6,
      size,
      k: 3,
      m: 3,
      contentRoot: uploaded.contentRoot,
    });
    expect(uploaded.segments).toBe(Math.ceil(size / (3 * 126_976)));
    expect(uploaded.shards).toBe(uploaded.segments * 6);
    expect(uploaded.signers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(certificateProblem(uploaded.certificate, keysOf(devnet))).toBeUndefined();
  });

  it('reads back the same bytes, whole and by byte range', async () => {
    const whole = await readBack(uploaded.datasetId);
    expect(Buffer.compare(whole, data)).toBe(0);
    const start = 380_000;
    const end = 1_500_001;
    const range = await readBack(uploaded.datasetId, { start, end });
    expect(Buffer.compare(range, data.subarray(start, end))).toBe(0);
  });

  it('reads back with a third of the nodes killed, rebuilding from parity', async () => {
    await devnet.stopNode(1, { kill: true });
    await devnet.stopNode(4, { kill: true });
    try {
      const dataset = await Dataset.open(uploaded.datasetId, { nodes: devnet.endpoints, registry: devnet.registry });
      const chunks: Uint8Array[] = [];
      for await (const chunk of dataset.read(dataset.single!.path)) chunks.push(chunk);
      await dataset.close();
      expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0);
      // Nodes 1 and 4 hold a data shard of most segments, so most need parity.
      expect(dataset.reader.reconstructedSegments).toBeGreaterThan(uploaded.segments / 2);
    } finally {
      await devnet.startNode(1);
      await devnet.startNode(4);
    }
  });

  it('detects a node that serves corrupted bytes and routes around it', async () => {
    // A dataset of its own, so the corruption stays out of every other test.
    const bytes = new Uint8Array(randomBytes(1_500_000));
    const victim = 2;
    const corrupted = await uploadAs(bytes);
    await devnet.stopNode(victim);
    const store = await ShardStore.open(devnet.file.nodes[victim]!.dataDir);
    const held = [...shardsOnNode(victim, corrupted.segments, 6, 6)];
    for (const [s, i] of held) {
      const blob = (await store.getShard(corrupted.datasetId, s, i))!.slice();
      blob[1000]! ^= 0xff; // bit rot on disk
      await store.putShard(corrupted.datasetId, s, i, blob);
    }
    await store.close();
    await devnet.startNode(victim);

    // The node really does serve bad bytes now.
    const client = new NodeClient(devnet.endpoints[victim]!.url);
    const [s0, i0] = held[0]!;
    const served = await client.getShard(corrupted.datasetId, s0, i0);
    await client.close();
    expect(Buffer.compare(sha256(served), corrupted.manifest.shards[shardPosition(corrupted.manifest, s0, i0)]!.hash)).not.toBe(0);

    const dataset = await Dataset.open(corrupted.datasetId, { nodes: devnet.endpoints, registry: devnet.registry });
    const chunks: Uint8Array[] = [];
    for await (const chunk of dataset.read(dataset.single!.path)) chunks.push(chunk);
    await dataset.close();
    expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0);
    // Exactly the segments where the victim holds a data shard were rebuilt, each once.
    expect(dataset.reader.reconstructedSegments).toBe(held.filter(([, i]) => i < corrupted.k).length);
  });

  it('lets nobody take a content root: a squatter registering it first gets its own dataset; the owner still certifies', async () => {
    const bytes = new Uint8Array(randomBytes(800_000));
    const squatterKey = generateAccountKey();
    await (await (await devnet.chain.funder()).sendTransaction({ to: accountAddress(squatterKey), value: 10n ** 20n })).wait();
    // The squatter saw the content early (say, a public dataset) and uploads it first, under its own account.
    const squatted = await uploadAs(bytes, squatterKey);
    const owned = await uploadAs(bytes);
    expect(toHex(owned.contentRoot)).toBe(toHex(squatted.contentRoot));
    expect(toHex(owned.datasetId)).not.toBe(toHex(squatted.datasetId));
    // The owner is told, and goes on under its own id.
    expect(owned.sameContent.map((other) => [toHex(other.datasetId), other.owner])).toEqual([
      [toHex(squatted.datasetId), accountAddress(squatterKey)],
    ]);
    for (const [result, owner] of [
      [squatted, accountAddress(squatterKey)],
      [owned, devnet.file.uploader],
    ] as const) {
      expect(await devnet.registry.dataset(result.datasetId)).toMatchObject({
        registered: true,
        certified: true,
        owner,
        contentRoot: owned.contentRoot,
      });
      expect(Buffer.compare(await readBack(result.datasetId), bytes)).toBe(0);
    }
  });

  it('reports a dataset uploaded again as already certified: nothing paid, sent or submitted, the same certificate', async () => {
    const balance = () => devnet.chain.provider.getBalance(devnet.file.uploader);
    const before = await balance();
    const again = await uploadAs(data);
    expect(await balance()).toBe(before);
    expect(again).toMatchObject({ alreadyCertified: true, resumed: false, shardsSkipped: uploaded.shards, signers: [0, 1, 2, 3, 4, 5] });
    expect(toHex(again.datasetId)).toBe(toHex(uploaded.datasetId));
    expect(again.chain).toEqual({ registerTx: null, certifiedTx: uploaded.chain!.certifiedTx, certifyGas: uploaded.chain!.certifyGas });
    expect(toHex(again.certificate.signature)).toBe(toHex(uploaded.certificate.signature));
    expect(certificateProblem(again.certificate, keysOf(devnet))).toBeUndefined();
  });

  it('resumes an upload that stopped part way: only the shards the nodes lack are sent, then it certifies', async () => {
    const bytes = new Uint8Array(randomBytes(2_500_000));
    const stop = new AbortController();
    const first = await uploadAs(bytes, devnet.uploaderKey, {
      signal: stop.signal,
      maxBytesInFlight: 131_072,
      onProgress: (e) => {
        if (e.phase === 'disperse' && e.shardsSent === 10) stop.abort();
      },
    }).catch((error: unknown) => error);
    expect(first).toMatchObject({ name: 'AbortedError' });
    const resumed = await uploadAs(bytes);
    expect(resumed).toMatchObject({ alreadyCertified: false, resumed: true, signers: [0, 1, 2, 3, 4, 5] });
    expect(resumed.shardsSkipped).toBeGreaterThanOrEqual(10);
    expect(resumed.shardsSkipped).toBeLessThan(resumed.shards);
    expect(resumed.chain?.registerTx).toBeNull(); // registered (and paid) by the first attempt
    expect((await devnet.registry.dataset(resumed.datasetId)).certified).toBe(true);
    expect(Buffer.compare(await readBack(resumed.datasetId), bytes)).toBe(0);
  });

  it('keeps every shard across a restart of every node', async () => {
    for (let i = 0; i < 6; i++) await devnet.restartNode(i);
    for (let i = 0; i < 6; i++) {
      const client = new NodeClient(devnet.endpoints[i]!.url);
      const status = await client.datasetStatus(uploaded.datasetId);
      await client.close();
      expect(status.storedShards).toBe(status.assignedShards);
      expect(status.assignedShards).toBe(uploaded.segments);
    }
    expect(Buffer.compare(await readBack(uploaded.datasetId), data)).toBe(0);
  });

  it('uploads around a dead node and still reaches quorum', async () => {
    await devnet.stopNode(5, { kill: true });
    try {
      const small = new Uint8Array(randomBytes(700_000));
      const result = await uploadAs(small, devnet.uploaderKey, { attempts: 2 });
      expect(result.failedNodes.map((f) => f.index)).toEqual([5]);
      expect(result.signers).toEqual([0, 1, 2, 3, 4]);
      expect(certificateProblem(result.certificate, keysOf(devnet))).toBeUndefined();
      expect((await devnet.registry.dataset(result.datasetId)).signers).toBe(5);
      expect(Buffer.compare(await readBack(result.datasetId), small)).toBe(0);
    } finally {
      await devnet.startNode(5);
    }
  });

  it('refuses an empty dataset with a typed error', async () => {
    const err = await upload([], { nodes: devnet.endpoints, uploaderKey: devnet.uploaderKey, encoder }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UploadError', code: 'empty_dataset', message: 'the dataset is empty; there is nothing to store' });
  });

  it('fails below quorum with a typed error that names the nodes', async () => {
    await Promise.all([3, 4, 5].map((i) => devnet.stopNode(i, { kill: true })));
    try {
      const small = new Uint8Array(randomBytes(10_000));
      const err = await uploadAs(small, devnet.uploaderKey, { attempts: 1 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'UploadError', code: 'below_quorum', message: 'only 3 nodes can sign, the certificate needs 4' });
      expect((err as { details: string }).details).toContain(devnet.endpoints[3]!.url);
    } finally {
      for (const i of [3, 4, 5]) await devnet.startNode(i);
    }
  });
});
