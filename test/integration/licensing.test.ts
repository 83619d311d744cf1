import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Licenses } from '../../chain/licenses.ts';
import { latestBlock } from '../../chain/rpc.ts';
import { Devnet } from '../../cli/devnet.ts';
import { licenseAccount } from '../../client/chain-context.ts';
import { Dataset } from '../../client/dataset.ts';
import { DatasetReader } from '../../client/download.ts';
import { DecryptedView, fetchDatasetKey, type LicenseAccount, readEnvelope } from '../../client/encryption.ts';
import { EncoderPool } from '../../client/encoder.ts';
import { NodeClient } from '../../client/node-client.ts';
import { upload, type UploadResult } from '../../client/upload.ts';
import { accountAddress, generateAccountKey, signDigest } from '../../proofs/account.ts';
import { unpackBlob } from '../../proofs/blob.ts';
import { collectBytes, equalBytes, fromHex, toHex } from '../../proofs/bytes.ts';
import { generateX25519Secret, openBox, x25519PublicKey } from '../../proofs/ecies.ts';
import { combineShares } from '../../proofs/shamir.ts';
import { keyCheckOf, keyRequestDigest, releaseBoxContext, releasesRequestDigest } from '../../protocol/encryption.ts';
import { createChainGateway } from '../../gateway/server.ts';
import { ShardStore } from '../../storage-node/store.ts';
import { FaultyProxy } from '../helpers/faulty-proxy.ts';
import { installSherdData, SYSTEM_PYTHON } from '../helpers/python.ts';
import { sherd } from '../helpers/sherd.ts';

/**
 * Licensing end to end on six real node processes and the devnet chain (k = 3, m = 3, so the
 * key threshold is N − m = 3): an owner uploads encrypted and offers, a buyer buys and reads,
 * and everyone else is refused by every node.
 */
let dir: string;
let devnet: Devnet;
let encoder: EncoderPool;
let licenses: Licenses;
let encrypted: UploadResult;
/** The same text uploaded in the clear: the control of the LevelDB scan. */
let plain: UploadResult;
const MARKER = new TextEncoder().encode('SHERD-PLAINTEXT-MARKER-7f3a9c');
const files = new Map<string, Uint8Array>();

/** A funded account on the devnet chain, with its own wallet. */
async function fundedAccount(): Promise<{ key: Uint8Array; address: string; wallet: Wallet }> {
  const key = generateAccountKey();
  const funder = await devnet.chain.funder();
  await (await funder.sendTransaction({ to: accountAddress(key), value: 10n ** 20n })).wait();
  // A plain wallet: a NonceManager counts a send that failed (WrongPrice) and goes out of step.
  return { key, address: accountAddress(key), wallet: new Wallet(toHex(key), devnet.chain.provider) };
}

const accountOf = (key: Uint8Array): Promise<LicenseAccount> =>
  licenseAccount({ registry: devnet.registry, provider: devnet.chain.provider, chainId: devnet.chain.chainId }, key);

const open = (id: Uint8Array, license?: LicenseAccount, nodes = devnet.endpoints) =>
  Dataset.open(id, { nodes, registry: devnet.registry, license });

/** A key-share request signed by `key` for node `node` and `block`, with its ephemeral secret. */
async function signedRequest(id: Uint8Array, key: Uint8Array, options: { block?: number; node?: number } = {}) {
  const account = await accountOf(key);
  const ephemeral = generateX25519Secret();
  const at = options.block ?? (await account.blockNumber());
  const nodeKey = fromHex(devnet.endpoints[options.node ?? 0]!.publicKey, 48);
  const digest = keyRequestDigest(account.domain, id, nodeKey, x25519PublicKey(ephemeral), at);
  const body = {
    licensee: accountAddress(key),
    ephemeralKey: toHex(x25519PublicKey(ephemeral)),
    block: at,
    signature: toHex(signDigest(key, digest)),
  };
  return { body, ephemeral, digest };
}

/** The license registry as the dataset's owner, the devnet uploader, through its one nonce manager (until the CLI sends as it too). */
const asOwner = () => Licenses.at(licenses.address, devnet.uploadChain().registry.contract.runner!);

const clients = () => devnet.endpoints.map((node) => new NodeClient(node.url, { connections: 1 }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-licensing-test-'));
  devnet = await Devnet.start({ nodes: 6, dir: join(dir, 'devnet') });
  encoder = new EncoderPool(2);
  licenses = Licenses.at(await devnet.registry.licensesAddress(), devnet.chain.provider);
  const source = join(dir, 'source');
  await mkdir(join(source, 'train'), { recursive: true });
  // 1.4 MB of text with the marker all through it, and random bytes beside it.
  const text = new TextEncoder().encode(`${new TextDecoder().decode(MARKER)} line of training text\n`.repeat(24_000));
  files.set('train/text.txt', text);
  files.set('train/random.bin', new Uint8Array(randomBytes(700_001)));
  for (const [path, bytes] of files) await writeFile(join(source, path), bytes);
  encrypted = await upload(source, {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    encoder,
    encrypt: true,
  });
  plain = await upload(files.get('train/text.txt')!, {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    encoder,
  });
  await asOwner().offer(encrypted.datasetId, 10n ** 15n, 0, new Uint8Array(32).fill(7));
}, 240_000);

afterAll(async () => {
  await encoder?.close();
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an encrypted dataset on real nodes', () => {
  it('is certified like any other, with the threshold N − m', () => {
    expect(encrypted.encryption).toEqual({ threshold: 3, chunkBytes: 65_536 });
    expect(encrypted.signers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(encrypted.files.map((f) => f.path)).toEqual(['train/random.bin', 'train/text.txt']);
  });

  it('is refused to a reader without an account, and to an account without a license by every node', async () => {
    await expect(open(encrypted.datasetId)).rejects.toMatchObject({ code: 'encrypted_dataset' });
    const stranger = generateAccountKey();
    await expect(open(encrypted.datasetId, await accountOf(stranger))).rejects.toMatchObject({
      code: 'no_license',
      message: `${accountAddress(stranger)} holds no license to dataset ${toHex(encrypted.datasetId)}`,
    });
    for (const [node, client] of clients().entries()) {
      const { body } = await signedRequest(encrypted.datasetId, stranger, { node });
      await expect(client.keyShare(encrypted.datasetId, body)).rejects.toMatchObject({ status: 403, code: 'no_license' });
      await client.close();
    }
  });

  it('is read back equal by a buyer, whole and from the middle of a chunk, with the price credited to the owner', async () => {
    const buyer = await fundedAccount();
    await expect(Licenses.at(licenses.address, buyer.wallet).buy(encrypted.datasetId, 1n)).rejects.toMatchObject({ code: 'WrongPrice' });
    const before = await licenses.balanceOf(devnet.file.uploader);
    await Licenses.at(licenses.address, buyer.wallet).buy(encrypted.datasetId, 10n ** 15n);
    expect(await licenses.balanceOf(devnet.file.uploader)).toBe(before + 10n ** 15n);
    expect(await licenses.hasLicense(encrypted.datasetId, buyer.address)).toBe(true);
    const dataset = await open(encrypted.datasetId, await accountOf(buyer.key));
    try {
      expect(dataset.encrypted).toBe(true);
      for (const [path, bytes] of files) expect(equalBytes(await collectBytes(dataset.read(path)), bytes)).toBe(true);
      // 100,000 … 200,000 of the text: starts inside chunk 1 (of 64 KiB), ends inside chunk 3.
      const range = await collectBytes(dataset.read('train/text.txt', 100_000, 200_000));
      expect(equalBytes(range, files.get('train/text.txt')!.subarray(100_000, 200_000))).toBe(true);
    } finally {
      await dataset.close();
    }
  });

  it('releases its key with m nodes down, and past a node that refuses', async () => {
    const buyer = await fundedAccount();
    await Licenses.at(licenses.address, buyer.wallet).buy(encrypted.datasetId, 10n ** 15n);
    const proxy = await FaultyProxy.start(devnet.endpoints[0]!.url);
    proxy.refuseKeyShares = true;
    const nodes = devnet.endpoints.map((node, i) => (i === 0 ? { ...node, url: proxy.url } : node));
    await devnet.stopNode(4);
    await devnet.stopNode(5);
    try {
      // Node 0 refuses, nodes 4 and 5 are down: three of six left, the threshold.
      const dataset = await open(encrypted.datasetId, await accountOf(buyer.key), nodes);
      const random = files.get('train/random.bin')!;
      expect(equalBytes(await collectBytes(dataset.read('train/random.bin')), random)).toBe(true);
      await dataset.close();
      await devnet.stopNode(3);
      // Two left: the key cannot be had.
      await expect(open(encrypted.datasetId, await accountOf(buyer.key), nodes)).rejects.toMatchObject({ code: 'key_unavailable' });
    } finally {
      await proxy.close();
      for (const i of [3, 4, 5]) await devnet.restartNode(i);
    }
  });

  it('refuses a replayed, stale or forged key request', async () => {
    const { body } = await signedRequest(encrypted.datasetId, devnet.uploaderKey);
    const [client] = clients();
    try {
      const first = await client!.keyShare(encrypted.datasetId, body);
      expect(first.nodeIndex).toBe(0);
      await expect(client!.keyShare(encrypted.datasetId, body)).rejects.toMatchObject({ status: 409, code: 'replayed_request' });
      // Made for node 0, it cannot be spent at node 1 (to use it up there before the licensee's own request).
      const other = new NodeClient(devnet.endpoints[1]!.url, { connections: 1 });
      await expect(other.keyShare(encrypted.datasetId, body)).rejects.toMatchObject({ status: 401, code: 'bad_signature' });
      await other.close();
      // Two copies at once: one answer, one refusal.
      const twice = await signedRequest(encrypted.datasetId, devnet.uploaderKey);
      const outcomes = await Promise.allSettled([
        client!.keyShare(encrypted.datasetId, twice.body),
        client!.keyShare(encrypted.datasetId, twice.body),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      // An ephemeral key X25519 cannot use (zero, a small-order point) is refused before anything is logged.
      const zero = await signedRequest(encrypted.datasetId, devnet.uploaderKey);
      const account = await accountOf(devnet.uploaderKey);
      const digest = keyRequestDigest(
        account.domain,
        encrypted.datasetId,
        fromHex(devnet.endpoints[0]!.publicKey, 48),
        new Uint8Array(32),
        zero.body.block,
      );
      const bad = { ...zero.body, ephemeralKey: toHex(new Uint8Array(32)), signature: toHex(signDigest(devnet.uploaderKey, digest)) };
      await expect(client!.keyShare(encrypted.datasetId, bad)).rejects.toMatchObject({ status: 400, code: 'bad_request' });
      await expect(client!.keyShare(encrypted.datasetId, bad)).rejects.toMatchObject({ status: 400, code: 'bad_request' });
      // A block ahead of the head (mining 64 blocks past one would skip the nodes' challenge windows).
      const head = await latestBlock(devnet.chain.provider);
      const stale = await signedRequest(encrypted.datasetId, devnet.uploaderKey, { block: head + 5 });
      await expect(client!.keyShare(encrypted.datasetId, stale.body)).rejects.toMatchObject({ status: 400, code: 'stale_request' });
      const forged = await signedRequest(encrypted.datasetId, generateAccountKey());
      await expect(client!.keyShare(encrypted.datasetId, { ...forged.body, licensee: devnet.file.uploader })).rejects.toMatchObject({
        status: 401,
        code: 'bad_signature',
      });
    } finally {
      await client!.close();
    }
  });

  it('does not give the key from t − 1 shares', async () => {
    const shares = [];
    for (const [i, client] of clients().entries()) {
      if (i < 2) {
        const { body, ephemeral, digest } = await signedRequest(encrypted.datasetId, devnet.uploaderKey, { node: i });
        const answer = await client.keyShare(encrypted.datasetId, body);
        shares.push({ x: answer.nodeIndex + 1, y: openBox(ephemeral, fromHex(answer.shareBox), releaseBoxContext(digest)) });
      }
      await client.close();
    }
    const reader = await DatasetReader.open(encrypted.datasetId, { nodes: devnet.endpoints, registry: devnet.registry });
    const envelope = (await readEnvelope(reader))!;
    await reader.close();
    expect(envelope.threshold).toBe(3);
    expect(equalBytes(keyCheckOf(combineShares(shares)), envelope.keyCheck)).toBe(false);
  });

  it('fails authentication on tampered, reordered or cut ciphertext, yielding no plaintext of it', async () => {
    const account = await accountOf(devnet.uploaderKey);
    const reader = await DatasetReader.open(encrypted.datasetId, { nodes: devnet.endpoints, registry: devnet.registry });
    const dataset = await open(encrypted.datasetId, account);
    const envelope = (await readEnvelope(reader))!;
    const holders = { id: reader.id, envelope, urls: reader.nodeUrls, nodeKeys: reader.terms.nodeKeys };
    const secret = await fetchDatasetKey(holders, account);
    const ciphertext = await collectBytes(reader.read(0, 4 * 65_552));
    await reader.close();
    await dataset.close();
    const sealed = 65_536 + 16;
    const viewOf = (bytes: Uint8Array) => ({
      size: bytes.length,
      tailStart: 0,
      async *read(start = 0, end = bytes.length) {
        yield bytes.subarray(start, Math.min(end, bytes.length));
      },
    });
    const attempt = async (bytes: Uint8Array) => {
      const out: Uint8Array[] = [];
      const view = new DecryptedView(viewOf(bytes), envelope, secret);
      const error = await (async () => {
        for await (const piece of view.read(65_536 + 10, 3 * 65_536)) out.push(piece);
      })().catch((e: unknown) => e);
      return { error, bytes: out.reduce((n, p) => n + p.length, 0) };
    };
    const tampered = ciphertext.slice();
    tampered[sealed + 100]! ^= 1;
    const swapped = ciphertext.slice();
    swapped.set(ciphertext.subarray(2 * sealed, 3 * sealed), sealed);
    swapped.set(ciphertext.subarray(sealed, 2 * sealed), 2 * sealed);
    const cut = ciphertext.slice(0, 2 * sealed + 100);
    for (const bad of [tampered, swapped]) {
      const { error, bytes } = await attempt(bad);
      expect(error).toMatchObject({
        name: 'DecryptionError',
        code: 'decryption_failed',
        message: expect.stringContaining('ciphertext chunk 1 failed authentication'),
      });
      expect(bytes).toBe(0);
    }
    const truncated = await attempt(cut);
    expect(truncated.error).toMatchObject({ code: 'truncated_ciphertext' });
    // Chunk 1 was whole and authentic: its plaintext came out; nothing of the cut chunk did.
    expect(truncated.bytes).toBe(65_536 - 10);
  });

  it("keeps no plaintext in any node's LevelDB, and the owner reads who received keys", async () => {
    const owner = await accountOf(devnet.uploaderKey);
    const block = await owner.blockNumber();
    const signature = toHex(signDigest(devnet.uploaderKey, releasesRequestDigest(owner.domain, encrypted.datasetId, block)));
    const [client] = clients();
    const log = await client!.keyReleases(encrypted.datasetId, { block, signature });
    expect(log.releases.length).toBeGreaterThan(1);
    expect(log.releases.every((r) => /^0x[0-9a-f]{40}$/.test(r.licensee) && r.signature.length === 194)).toBe(true);
    const stranger = generateAccountKey();
    const foreign = toHex(signDigest(stranger, releasesRequestDigest(owner.domain, encrypted.datasetId, block)));
    await expect(client!.keyReleases(encrypted.datasetId, { block, signature: foreign })).rejects.toMatchObject({
      status: 403,
      code: 'not_owner',
    });
    await client!.close();

    // The plain upload of the same text is the control: the scan finds the marker there.
    await devnet.stopNode(1);
    try {
      const store = await ShardStore.open(devnet.file.nodes[1]!.dataDir);
      const found = { encrypted: 0, plain: 0 };
      for (const [id, name] of [
        [encrypted.datasetId, 'encrypted'],
        [plain.datasetId, 'plain'],
      ] as const) {
        for (const [segment, index] of await store.listShards(id)) {
          const payload = Buffer.from(unpackBlob((await store.getShard(id, segment, index))!));
          if (payload.includes(Buffer.from(MARKER))) found[name]++;
        }
      }
      await store.close();
      expect(found.plain).toBeGreaterThan(0);
      expect(found.encrypted).toBe(0);
    } finally {
      await devnet.restartNode(1);
    }
  });
});

describe('licensing from the command line, the gateway and Python', () => {
  const run = (args: string[]) => sherd([...args, '--devnet', devnet.path]);
  let id: string;
  let buyerKeyFile: string;
  let buyer: Awaited<ReturnType<typeof fundedAccount>>;

  it('uploads encrypted, offers, sells and decrypts for the buyer; refuses anyone else in one line', async () => {
    // An explicit code: without one the durability target would take m = 4 of 6, and the key threshold N − m to 2.
    const up = await run(['upload', join(dir, 'source'), '--encrypt', '--k', '3', '--m', '3', '--json']);
    expect(up.stderr).toBe('');
    const uploaded = JSON.parse(up.stdout) as { datasetId: string; encryption: { threshold: number } };
    id = uploaded.datasetId;
    expect(uploaded.encryption.threshold).toBe(3);
    const offer = await run(['license', 'offer', id, '--price', '5000', '--epochs', '10']);
    expect(offer.code).toBe(0);
    expect(offer.stdout).toMatch(new RegExp(`^offered licenses of 10 epochs to dataset ${id} at 5000 wei`));

    buyer = await fundedAccount();
    buyerKeyFile = join(dir, 'buyer.key');
    await writeFile(buyerKeyFile, `${toHex(buyer.key)}\n`);
    const bought = await run(['license', 'buy', id, '--account-key', buyerKeyFile, '--json']);
    expect(bought.code).toBe(0);
    expect(JSON.parse(bought.stdout)).toMatchObject({ datasetId: id, licensee: buyer.address, paidWei: '5000' });

    const out = join(dir, 'cli-out');
    const down = await run(['download', id, out, '--account-key', buyerKeyFile]);
    expect(down.code).toBe(0);
    for (const [path, bytes] of files) expect(equalBytes(new Uint8Array(await readFile(join(out, path))), bytes)).toBe(true);

    const strangerKeyFile = join(dir, 'stranger.key');
    const stranger = generateAccountKey();
    await writeFile(strangerKeyFile, `${toHex(stranger)}\n`);
    const refused = await run(['download', id, join(dir, 'refused'), '--account-key', strangerKeyFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`sherd: no_license: ${accountAddress(stranger)} holds no license to dataset ${id}\n`);
    expect(await readdir(dir)).not.toContain('refused');
  });

  it('shows the owner who holds licenses and which nodes released keys to whom', async () => {
    const status = await run(['license', 'status', id, '--json']);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      encrypted: boolean;
      offer: { priceWei: string; epochs: number };
      licenses: Array<{ licensee: string; paid: string; current: boolean }>;
      keyReleases: Array<{ nodeIndex: number; releases: Array<{ licensee: string }> }>;
    };
    expect(report.encrypted).toBe(true);
    expect(report.offer).toMatchObject({ priceWei: '5000', epochs: 10 });
    expect(report.licenses).toEqual([expect.objectContaining({ licensee: buyer.address, paid: '5000', current: true })]);
    // The buyer's download asked every node; at least t = 3 released before the rest were let go.
    const toBuyer = report.keyReleases.filter((node) => node.releases.some((r) => r.licensee === buyer.address));
    expect(toBuyer.length).toBeGreaterThanOrEqual(3);
    const human = await run(['license', 'status', id]);
    expect(human.stdout).toContain(`node ${toBuyer[0]!.nodeIndex} → ${buyer.address} at `);
  });

  it('serves the plaintext through a gateway holding the licence, only with its token, and to Python', async () => {
    const token = 'test-token-0123456789abcdef';
    const licensed = await createChainGateway(devnet.registry, { license: await accountOf(buyer.key), token, readThreads: 0 });
    const plainGateway = await createChainGateway(devnet.registry, { readThreads: 0 });
    await licensed.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(licensed.server.address() as { port: number }).port}`;
      const fileUrl = `${url}/datasets/${id}/train/text.txt`;
      const anonymous = await fetch(fileUrl);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: string }).error).toBe('unauthorized');
      const wrong = await fetch(fileUrl, { headers: { authorization: 'Bearer not-the-token-at-all' } });
      expect(wrong.status).toBe(401);
      const read = await fetch(fileUrl, { headers: { authorization: `Bearer ${token}`, range: 'bytes=70000-79999' } });
      expect(read.status).toBe(206);
      // Plaintext behind a token: no shared cache may keep it for callers without one.
      expect([read.headers.get('cache-control'), read.headers.get('vary')]).toEqual([
        'private, max-age=31536000, immutable',
        'authorization',
      ]);
      expect(equalBytes(new Uint8Array(await read.arrayBuffer()), files.get('train/text.txt')!.subarray(70_000, 80_000))).toBe(true);

      const refused = await plainGateway.inject({ method: 'GET', url: `/datasets/${id}/train/text.txt` });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: 'encrypted_dataset' });

      const site = await installSherdData(join(dir, 'py'));
      const script = [
        'import hashlib, sys',
        'from sherd_data import Gateway',
        `g = Gateway(${JSON.stringify(url)}, token=${JSON.stringify(token)})`,
        `print(hashlib.sha256(g.read(${JSON.stringify(id)}, "train/random.bin", 0, 700001)).hexdigest())`,
      ].join('\n');
      const digest = await new Promise<string>((resolve, reject) =>
        execFile(SYSTEM_PYTHON, ['-c', script], { env: { ...process.env, PYTHONPATH: site } }, (error, stdout, stderr) =>
          error ? reject(new Error(stderr)) : resolve(stdout.trim()),
        ),
      );
      expect(digest).toBe(createHash('sha256').update(files.get('train/random.bin')!).digest('hex'));
    } finally {
      await licensed.close();
      await plainGateway.close();
    }
  });
});

// Last: a challenge epoch passes, and the nodes may slash each other for challenges of the other datasets they had no time to answer.
describe('a license that expires', () => {
  it('refuses an expired license, and the buyer who let it lapse', async () => {
    const renter = await fundedAccount();
    // From the command line: the CLI has sent as the owner from its own process, so the in-process nonce manager is behind.
    const granted = await sherd([
      'license',
      'grant',
      toHex(encrypted.datasetId),
      '--to',
      renter.address,
      '--epochs',
      '1',
      '--devnet',
      devnet.path,
    ]);
    expect(granted.stdout).toMatch(
      new RegExp(`^granted ${renter.address} a license to ${toHex(encrypted.datasetId)}; it expires at the start of epoch \\d+`),
    );
    expect(await licenses.hasLicense(encrypted.datasetId, renter.address)).toBe(true);
    // One epoch on, run as the nodes live it (they answer its challenges), the license has lapsed.
    await devnet.runChallengeEpoch(encrypted.datasetId);
    expect(await licenses.hasLicense(encrypted.datasetId, renter.address)).toBe(false);
    await expect(open(encrypted.datasetId, await accountOf(renter.key))).rejects.toMatchObject({ code: 'no_license' });
  });
});
