import { decodeShardBatch } from '../../protocol/shard-batch.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { BYTES_PER_BLOB, packBlob } from '../../proofs/blob.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { accountAddress, generateAccountKey, signDigest } from '../../proofs/account.ts';
import { blsVerify } from '../../proofs/bls.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { sha256 } from '../../proofs/hash.ts';
import { decodeMerkleProof, encodeMerkleProof, merkleLeaf, verifyMerkleProof } from '../../proofs/merkle.ts';
import { BLS_MODULUS, randomFieldElement } from '../../proofs/field.ts';
import { shardPosition } from '../../protocol/manifest.ts';
import { announceDigest, attestationMessage, datasetId } from '../../protocol/messages.ts';
import { Devnet } from '../../cli/devnet.ts';
import { buildDataset, type BuiltDataset } from '../helpers/dataset.ts';

/** A real node process on loopback, driven with raw HTTP so every bad input can be sent as-is. */
let dir: string;
let devnet: Devnet;
let node0: string;
let dataset: BuiltDataset;
let uploaderKey: Uint8Array;
let uploader: string;

/** The id of a built dataset: its owner's address with its content root. */
const idOf = (d: BuiltDataset, owner = uploader) => datasetId(owner, d.root);
const path = (d: BuiltDataset, rest = '') => `/v1/datasets/${toHex(idOf(d))}${rest}`;
const JSON_TYPE: Record<string, string> = { 'content-type': 'application/json' };

/** Registers a built dataset on the devnet's chain, as its uploader, paying the fee. */
async function register(d: BuiltDataset, size = d.manifest.size, k = d.manifest.k, m = d.manifest.m): Promise<void> {
  await devnet.uploadChain().registry.registerDataset(d.root, size, k, m, 1, 10n ** 12n);
}

/** A fresh dataset of its own for a test, registered and announced to node 0. */
async function announced(size: number): Promise<BuiltDataset> {
  const d = buildDataset(dataset.manifest.nodes, 1, 1, size);
  await register(d);
  expect((await call('POST', path(d), announceBody(d), JSON_TYPE)).status).toBe(201);
  return d;
}

async function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) {
  const response = await request(`${node0}${path}`, { method, body, headers });
  const raw = new Uint8Array(await response.body.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, json: json as Record<string, unknown>, raw };
}

/** A counter's value in Prometheus text, 0 when it has not been counted yet. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

function announceBody(d: BuiltDataset, key = uploaderKey, claimed = uploader) {
  return JSON.stringify({
    manifest: Buffer.from(d.manifestBytes).toString('base64'),
    uploader: claimed,
    signature: toHex(signDigest(key, announceDigest(idOf(d, claimed), d.manifestBytes))),
  });
}

function putShard(d: BuiltDataset, segment: number, index: number, blob: Uint8Array, proof?: string) {
  const position = shardPosition(d.manifest, segment, index);
  return call('PUT', path(d, `/shards/${segment}/${index}`), blob, {
    'content-type': 'application/octet-stream',
    'x-sherd-proof': proof ?? toHex(encodeMerkleProof(d.tree.proof(position))),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-node-api-'));
  devnet = await Devnet.start({ nodes: 2, dir });
  node0 = devnet.endpoints[0]!.url;
  uploaderKey = devnet.uploaderKey;
  uploader = accountAddress(uploaderKey);
  // k = 1, m = 1 over 2 nodes: shard 0 of segment 0 is node 0's, shard 1 is node 1's.
  dataset = buildDataset(
    devnet.endpoints.map((e) => fromHex(e.publicKey, 48)),
    1,
    1,
    5000,
  );
  await register(dataset);
  // Announced here, not by a test: every test that sends its shards finds it, whichever runs.
  expect((await call('POST', path(dataset), announceBody(dataset), JSON_TYPE)).status).toBe(201);
});

afterAll(async () => {
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('storage node API over loopback', () => {
  it('accepts a signed announcement, idempotently', async () => {
    const fresh = buildDataset(dataset.manifest.nodes, 1, 1, 4500);
    await register(fresh);
    const first = await call('POST', path(fresh), announceBody(fresh), JSON_TYPE);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      datasetId: toHex(idOf(fresh)),
      contentRoot: toHex(fresh.root),
      uploader,
      assignedShards: 1,
      created: true,
    });
    const again = await call('POST', path(fresh), announceBody(fresh), JSON_TYPE);
    expect(again.status).toBe(200);
    expect(again.json.created).toBe(false);
  });

  it('refuses a dataset that is not registered on chain', async () => {
    const unregistered = buildDataset(dataset.manifest.nodes, 1, 1, 4000);
    const res = await call('POST', path(unregistered), announceBody(unregistered), JSON_TYPE);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({
      error: 'dataset_not_registered',
      message: `dataset ${toHex(idOf(unregistered))} is not registered on chain`,
    });
  });

  it('refuses a manifest that contradicts the registration on chain', async () => {
    const other = buildDataset(dataset.manifest.nodes, 1, 1, 4100);
    await register(other, 4100, 1, 1);
    const reordered = buildDataset([...dataset.manifest.nodes].reverse(), 1, 1, 4200);
    await register(reordered);
    const res = await call('POST', path(reordered), announceBody(reordered), JSON_TYPE);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'manifest_mismatch',
      message: "the manifest's 2 nodes are not the 2 of the node set on chain, in order (node set 0)",
    });
    // Someone else announcing the owner's content: under the owner's id it is not theirs, under their own it is not registered.
    const stranger = generateAccountKey();
    const strangerId = toHex(idOf(other, accountAddress(stranger)));
    const notOwner = await call('POST', path(other), announceBody(other, stranger, accountAddress(stranger)), JSON_TYPE);
    expect([notOwner.status, notOwner.json.error]).toEqual([400, 'dataset_id_mismatch']);
    expect(notOwner.json.message).toBe(
      `the manifest's content root and uploader ${accountAddress(stranger)} give dataset ${strangerId}, not ${toHex(idOf(other))}`,
    );
    const ownId = await call('POST', `/v1/datasets/${strangerId}`, announceBody(other, stranger, accountAddress(stranger)), JSON_TYPE);
    expect(ownId.json).toEqual({ error: 'dataset_not_registered', message: `dataset ${strangerId} is not registered on chain` });
  });

  it('refuses an unsigned announcement', async () => {
    const body = JSON.parse(announceBody(dataset)) as Record<string, string>;
    delete body.signature;
    const res = await call('POST', path(dataset), JSON.stringify(body), JSON_TYPE);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'missing_signature', message: 'announcements must be signed by the uploader (field "signature")' });
  });

  it('refuses an announcement signed by someone other than its uploader', async () => {
    const res = await call('POST', path(dataset), announceBody(dataset, generateAccountKey(), uploader), JSON_TYPE);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'bad_signature', message: `the announcement is not signed by its uploader ${uploader}` });
  });

  it('refuses malformed JSON', async () => {
    const res = await call('POST', path(dataset), '{"manifest": "AAAA",', JSON_TYPE);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'malformed_json', message: 'request body is not valid JSON' });
  });

  it('refuses a URL that does not decode, in the API error form', async () => {
    const res = await call('GET', path(dataset, '/shards/0/%zz'));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'bad_request', message: expect.stringContaining('is not a valid url component') });
  });

  it('refuses a manifest whose node list is too short for its code, as a bad manifest', async () => {
    // k + m = 2 shards per segment, but the header lists one node: drop the second key.
    const bytes = dataset.manifestBytes;
    const short = new Uint8Array(bytes.length - 48);
    short.set(bytes.subarray(0, 20 + 48), 0);
    short.set(bytes.subarray(20 + 96), 20 + 48);
    new DataView(short.buffer).setUint16(18, 1);
    const body = JSON.stringify({
      manifest: Buffer.from(short).toString('base64'),
      uploader,
      signature: toHex(signDigest(uploaderKey, announceDigest(idOf(dataset), short))),
    });
    const res = await call('POST', path(dataset), body, JSON_TYPE);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'bad_manifest', message: 'k + m = 2 shards per segment need at least 2 distinct nodes, have 1' });
  });

  it('refuses a manifest whose content root and uploader do not give the dataset id in the URL', async () => {
    const other = `0x${'ab'.repeat(32)}`;
    const res = await call('POST', `/v1/datasets/${other}`, announceBody(dataset), JSON_TYPE);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('dataset_id_mismatch');
    expect(res.json.message).toBe(
      `the manifest's content root and uploader ${uploader} give dataset ${toHex(idOf(dataset))}, not ${other}`,
    );
  });

  it('refuses shards of an unknown dataset', async () => {
    const unknown = { ...dataset, root: new Uint8Array(32).fill(9) };
    const res = await putShard(unknown, 0, 0, dataset.blobs[0]![0]!);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: 'unknown_dataset', message: `dataset ${toHex(idOf(unknown))} was not announced to this node` });
  });

  it('refuses a blob of the wrong length', async () => {
    const res = await putShard(dataset, 0, 0, dataset.blobs[0]![0]!.subarray(0, 1000));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'bad_blob_length', message: 'a shard is 131072 bytes, got 1000' });
  });

  it('refuses an oversized body', async () => {
    const res = await putShard(dataset, 0, 0, new Uint8Array(131_073));
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: 'body_too_large', message: 'request body is larger than this route accepts' });
  });

  it('refuses a non-canonical field element', async () => {
    const blob = dataset.blobs[0]![0]!.slice();
    blob[32 * 3] = 0x80;
    const res = await putShard(dataset, 0, 0, blob);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'non_canonical_field_element',
      message: 'field element 3 does not have a zero top byte (a data shard)',
    });
  });

  it('refuses a shard that is placed on another node', async () => {
    const res = await putShard(dataset, 0, 1, dataset.blobs[0]![1]!);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: 'shard_not_assigned', message: 'shard 0/1 is placed on node 1, this is node 0' });
  });

  it('refuses a bad inclusion proof', async () => {
    const proof = encodeMerkleProof(dataset.tree.proof(0));
    proof[5]! ^= 1;
    const res = await putShard(dataset, 0, 0, dataset.blobs[0]![0]!, toHex(proof));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('bad_inclusion_proof');
    const missing = await call('PUT', path(dataset, `/shards/0/0`), dataset.blobs[0]![0]!, { 'content-type': 'application/octet-stream' });
    expect(missing.json.error).toBe('bad_inclusion_proof');
  });

  it('refuses a shard that does not match its KZG commitment', async () => {
    // A manifest whose commitments belong to an unrelated blob: hash and proof line up, and
    // with k = 1 the parity commitment (1 · the data's) stays consistent, so the announcement
    // passes and only the KZG check of the shard can catch it.
    const unrelated = loadCKzg().blobToCommitment(packBlob(new Uint8Array(randomBytes(1000))));
    const lying = buildDataset(dataset.manifest.nodes, 1, 1, 3000, (records) => {
      records[0] = { ...records[0]!, commitment: unrelated };
      records[1] = { ...records[1]!, commitment: unrelated };
    });
    await register(lying);
    const announced = await call('POST', path(lying), announceBody(lying), JSON_TYPE);
    expect(announced.status).toBe(201);
    const res = await putShard(lying, 0, 0, lying.blobs[0]![0]!);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'commitment_mismatch', message: 'shard 0/0 does not match its KZG commitment' });
    const status = await call('GET', path(lying));
    expect(status.json.storedShards).toBe(0);
  });

  it('refuses a manifest whose parity is consistent with its own blob but not with the data (inconsistent_encoding)', async () => {
    // Shard 1 (parity) is a well-formed blob with its true commitment and hash, so the node
    // holding it would accept it; but it does not encode the data, and two readers would decode
    // different bytes from shard 0 and from shard 1. The announcement says so, and keeps nothing.
    const other = new Uint8Array(BYTES_PER_BLOB);
    for (let e = 0; e < 4096; e++) other.set(randomFieldElement(), e * 32);
    const forged = buildDataset(dataset.manifest.nodes, 1, 1, 3000, (records) => {
      records[1] = { commitment: loadCKzg().blobToCommitment(other), hash: sha256(other) };
    });
    await register(forged);
    const announced = await call('POST', path(forged), announceBody(forged), JSON_TYPE);
    expect(announced.status).toBe(400);
    expect(announced.json).toEqual({
      error: 'inconsistent_encoding',
      message:
        "the manifest's parity commitments are not the code's combinations of its data commitments: its shards would not decode to one dataset",
    });
    expect((await call('GET', path(forged))).status).toBe(404);
  });

  it('will not sign before it holds its shards, then stores, retries idempotently, serves and signs', async () => {
    const early = await call('GET', path(dataset, `/attestation`));
    expect(early.status).toBe(409);
    expect(early.json).toEqual({ error: 'dataset_incomplete', message: 'this node holds 0 of its 1 shards of the dataset' });

    const stored = await putShard(dataset, 0, 0, dataset.blobs[0]![0]!);
    expect(stored.status).toBe(200);
    expect(stored.json).toEqual({ stored: true });
    const retry = await putShard(dataset, 0, 0, dataset.blobs[0]![0]!);
    expect(retry.json).toEqual({ stored: false });

    const served = await call('GET', path(dataset, `/shards/0/0`));
    expect(Buffer.compare(sha256(served.raw), dataset.manifest.shards[0]!.hash)).toBe(0);

    const attestation = await call('GET', path(dataset, `/attestation`));
    expect(attestation.status).toBe(200);
    const message = attestationMessage(devnet.chain.chainId, devnet.registry.address, idOf(dataset));
    expect(blsVerify(fromHex(devnet.endpoints[0]!.publicKey), message, fromHex(attestation.json.signature as string))).toBe(true);
  });

  it('serves several shards in one batch, each as the single GET gives it, a missing one marked, and refuses bad lists exactly', async () => {
    // k = 1, m = 1: node 0 holds shard 0 of even segments and shard 1 of odd ones; segment 1's is not sent.
    const d = await announced(2 * 126_976 + 1000);
    for (const [segment, index] of [
      [0, 0],
      [2, 0],
    ] as const)
      expect((await putShard(d, segment, index, d.blobs[segment]![index]!)).status).toBe(200);
    const batch = await call('GET', path(d, '/shard-batch?shards=0.0,1.1,2.0'));
    expect(batch.status).toBe(200);
    const shards = decodeShardBatch(batch.raw, 3);
    expect(shards[1]).toBeUndefined();
    for (const [j, segment] of [
      [0, 0],
      [2, 2],
    ] as const) {
      const position = shardPosition(d.manifest, segment, 0);
      const single = await request(`${node0}${path(d, `/shards/${segment}/0`)}`);
      const blob = new Uint8Array(await single.body.arrayBuffer());
      expect(shards[j]).toEqual({
        blob,
        commitment: fromHex(single.headers['x-sherd-commitment'] as string),
        shardHash: d.manifest.shards[position]!.hash,
        inclusionProof: d.tree.proof(position),
      });
    }
    const refused: Array<[string, number, string]> = [
      ['/shard-batch?shards=0.1', 403, 'shard_not_assigned'],
      ['/shard-batch?shards=9.0', 404, 'unknown_shard'],
      ['/shard-batch?shards=0.0,zz', 400, 'bad_request'],
      ['/shard-batch', 400, 'bad_request'],
      [`/shard-batch?shards=${Array.from({ length: 17 }, () => '0.0').join(',')}`, 400, 'bad_request'],
    ];
    for (const [rest, status, error] of refused) {
      const answer = await call('GET', path(d, rest));
      expect([rest, answer.status, answer.json?.error]).toEqual([rest, status, error]);
    }
    const unknown = await call('GET', `/v1/datasets/0x${'ab'.repeat(32)}/shard-batch?shards=0.0`);
    expect([unknown.status, unknown.json?.error]).toEqual([404, 'unknown_dataset']);
  });

  it('answers samples of its shards with proofs that check against the content root alone, and refuses the rest exactly', async () => {
    // Two segments: node 0 holds 0/0 (stored below) and 1/1 (never sent: missing).
    const two = await announced(130_000);
    const root = toHex(idOf(two));
    const before = new TextDecoder().decode((await call('GET', '/metrics')).raw);
    expect((await putShard(two, 0, 0, two.blobs[0]![0]!)).json).toEqual({ stored: true });

    const kzg = loadCKzg();
    const z = randomFieldElement();
    const one = await call('GET', `/v1/datasets/${root}/shards/0/0/sample?z=${toHex(z)}`);
    expect(one.status).toBe(200);
    const answer = one.json as Record<string, string>;
    expect(answer).toMatchObject({ segment: 0, index: 0, z: toHex(z), commitment: toHex(two.manifest.shards[0]!.commitment) });
    const leaf = merkleLeaf(fromHex(answer.commitment!, 48), fromHex(answer.shardHash!, 32));
    expect(verifyMerkleProof(two.root, leaf, 0, decodeMerkleProof(fromHex(answer.inclusionProof!))!, 4)).toBe(true);
    expect(kzg.verifyProof(fromHex(answer.commitment!, 48), z, fromHex(answer.y!, 32), fromHex(answer.kzgProof!, 48))).toBe(true);
    expect(
      kzg.verifyProof(fromHex(answer.commitment!, 48), randomFieldElement(), fromHex(answer.y!, 32), fromHex(answer.kzgProof!, 48)),
    ).toBe(false);

    const z2 = randomFieldElement();
    const batch = await call(
      'POST',
      `/v1/datasets/${root}/samples`,
      JSON.stringify({
        samples: [
          { segment: 0, index: 0, z: toHex(z2) },
          { segment: 1, index: 1, z: toHex(z2) },
        ],
      }),
      JSON_TYPE,
    );
    expect(batch.status).toBe(200);
    const [held, missing] = batch.json.answers as Array<Record<string, unknown>>;
    expect(
      kzg.verifyProof(two.manifest.shards[0]!.commitment, z2, fromHex(held!.y as string, 32), fromHex(held!.kzgProof as string, 48)),
    ).toBe(true);
    expect(missing).toEqual({ segment: 1, index: 1, error: 'shard_missing', message: 'this node should hold shard 1/1 but does not' });

    const notMine = await call('GET', `/v1/datasets/${root}/shards/0/1/sample?z=${toHex(z)}`);
    expect([notMine.status, notMine.json]).toEqual([
      403,
      { error: 'shard_not_assigned', message: 'shard 0/1 is placed on node 1, this is node 0' },
    ]);
    const outside = await call('GET', `/v1/datasets/${root}/shards/5/0/sample?z=${toHex(z)}`);
    expect([outside.status, outside.json]).toEqual([404, { error: 'unknown_shard', message: 'dataset has no shard 5/0' }]);
    const modulus = toHex(fromHex(BLS_MODULUS.toString(16).padStart(64, '0'), 32));
    const badPoint = await call('GET', `/v1/datasets/${root}/shards/0/0/sample?z=${modulus}`);
    expect([badPoint.status, badPoint.json]).toEqual([
      400,
      { error: 'bad_point', message: 'z must be 32 bytes, big-endian, below the BLS12-381 scalar field order' },
    ]);
    const mixed = await call(
      'POST',
      `/v1/datasets/${root}/samples`,
      JSON.stringify({
        samples: [
          { segment: 0, index: 0, z: toHex(z) },
          { segment: 0, index: 1, z: toHex(z) },
        ],
      }),
      JSON_TYPE,
    );
    expect([mixed.status, mixed.json.error]).toEqual([403, 'shard_not_assigned']);
    const tooMany = await call(
      'POST',
      `/v1/datasets/${root}/samples`,
      JSON.stringify({ samples: Array.from({ length: 65 }, () => ({ segment: 0, index: 0, z: toHex(z) })) }),
      JSON_TYPE,
    );
    expect([tooMany.status, tooMany.json.error]).toEqual([400, 'bad_request']);
    expect(tooMany.json.message).toContain('must NOT have more than 64 items');
    const unknown = await call('GET', `/v1/datasets/0x${'ab'.repeat(32)}/shards/0/0/sample?z=${toHex(z)}`);
    expect([unknown.status, unknown.json.error]).toEqual([404, 'unknown_dataset']);
    const metrics = new TextDecoder().decode((await call('GET', '/metrics')).raw);
    expect(metric(metrics, 'sherd_samples_answered_total') - metric(before, 'sherd_samples_answered_total')).toBe(2);
    expect(
      metric(metrics, 'sherd_samples_failed_total{code="shard_missing"}') -
        metric(before, 'sherd_samples_failed_total{code="shard_missing"}'),
    ).toBe(1);
  });

  it('counts what it stores and what it refuses, by code, and keeps serving', async () => {
    const fresh = await announced(2000);
    const before = new TextDecoder().decode((await call('GET', '/metrics')).raw);
    expect((await putShard(fresh, 0, 0, fresh.blobs[0]![0]!.subarray(0, 10))).json.error).toBe('bad_blob_length');
    expect((await putShard(fresh, 0, 1, fresh.blobs[0]![1]!)).json.error).toBe('shard_not_assigned');
    expect((await putShard(fresh, 0, 0, fresh.blobs[0]![0]!)).json).toEqual({ stored: true });
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('ok');
    const served = await call('GET', path(fresh, `/shards/0/0`));
    expect(Buffer.compare(served.raw, fresh.blobs[0]![0]!)).toBe(0);
    // What it holds, as a bitmap over its assigned shards in upload order: one shard, held.
    const held = await call('GET', path(fresh, '/shards'));
    expect(held.json).toEqual({ datasetId: toHex(idOf(fresh)), assignedShards: 1, held: Buffer.from([1]).toString('base64') });
    const unknown = await call('GET', `/v1/datasets/0x${'cd'.repeat(32)}/shards`);
    expect([unknown.status, unknown.json.error]).toEqual([404, 'unknown_dataset']);
    const metrics = new TextDecoder().decode((await call('GET', '/metrics')).raw);
    const grew = (name: string) => metric(metrics, name) - metric(before, name);
    expect(grew('sherd_shards_rejected_total{code="bad_blob_length"}')).toBe(1);
    expect(grew('sherd_shards_rejected_total{code="shard_not_assigned"}')).toBe(1);
    expect(grew('sherd_shards_stored_total')).toBe(1);
    expect(grew('sherd_shards_served_total')).toBe(1);
    const unknownRoute = await call('GET', '/v2/nothing');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.json.error).toBe('not_found');
  });
});
