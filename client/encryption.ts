import { accountAddress, recoverAddress, signDigest } from '../proofs/account.ts';
import { blsVerify } from '../proofs/bls.ts';
import { collectBytes, equalBytes, fromHex, toHex } from '../proofs/bytes.ts';
import { generateX25519Secret, openBox, x25519PublicKey } from '../proofs/ecies.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { isFieldElement, randomFieldElement } from '../proofs/field.ts';
import { keccak256 } from '../proofs/hash.ts';
import { combineShares, type Share } from '../proofs/shamir.ts';
import { cipherRange, DEFAULT_STREAM_CHUNK_BYTES, openRange, sealStream } from '../proofs/stream-cipher.ts';
import {
  dataKeyOf,
  decodeEnvelope,
  ENVELOPE_TRAILER_BYTES,
  type Envelope,
  encodeEnvelope,
  envelopeLength,
  isEnvelopeTrailer,
  keyCheckOf,
  keyRequestDigest,
  keyThreshold,
  type LicenseDomain,
  releaseBoxContext,
  releaseReceiptMessage,
  releasesRequestDigest,
  sealEnvelope,
} from '../protocol/encryption.ts';
import type { KeyRelease } from '../protocol/routes.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { DownloadError, RemoteError, UploadError } from './errors.ts';
import { NodeClient } from './node-client.ts';
import type { KeyProgress, NodeEndpoint } from './types.ts';

/**
 * Client side of encrypted datasets (docs/licensing.md): sealing the dataset's bytes at
 * upload, getting the key back from the node set with a licensed account, and reading
 * plaintext ranges through a reader of the ciphertext.
 */
export interface EncryptOptions {
  /** Plaintext bytes per STREAM chunk (default 64 KiB): a range read decrypts whole chunks. */
  chunkBytes?: number;
}

/**
 * Seals a dataset's bytes for its node set: a fresh secret, shared t-of-N with one share
 * sealed to each node's X25519 key, and the data key derived from it. `seal` is
 * deterministic for one sealer, so the upload's two passes produce the same bytes.
 */
export class DatasetSealer {
  // The dataset secret never leaves the sealer: the nodes get shares of it, the owner gets it back as any licensee does.
  private readonly secret = randomFieldElement();
  readonly threshold: number;
  readonly chunkBytes: number;
  private readonly shareBoxes: Uint8Array[];
  private readonly keyCheck: Uint8Array;
  private readonly dataKey: Uint8Array;
  /** The envelope (‖ trailer) the last pass ended with: what the nodes get with the announcement. */
  envelope: Uint8Array | undefined;

  constructor(owner: string, nodes: NodeEndpoint[], m: number, options: EncryptOptions = {}) {
    const keys = nodes.map((node, i) => {
      const key = node.encryptionKey === undefined ? undefined : fromHex(node.encryptionKey, 32);
      if (!key || key.every((b) => b === 0)) {
        throw new UploadError(
          'node_without_encryption_key',
          `node ${i} (${node.url}) publishes no encryption key, so it cannot hold a key share`,
        );
      }
      return key;
    });
    this.threshold = keyThreshold(nodes.length, m);
    this.chunkBytes = options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES;
    // The plaintext size goes in at the end of each pass; the shares are sealed once, here.
    let sealed: Envelope;
    try {
      sealed = sealEnvelope(this.secret, owner, keys, this.threshold, 0, this.chunkBytes);
    } catch (cause) {
      // X25519 refuses a small-order point: a key some node published that nothing can be sealed to.
      throw new UploadError('bad_encryption_key', 'a node of the set publishes an encryption key no share can be sealed to', { cause });
    }
    this.shareBoxes = sealed.shareBoxes;
    this.keyCheck = sealed.keyCheck;
    this.dataKey = dataKeyOf(this.secret);
  }

  /** The dataset's bytes for `plaintext`: its STREAM ciphertext, then the envelope. */
  async *seal(plaintext: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let plainBytes = 0;
    const counted = (async function* () {
      for await (const piece of plaintext) {
        plainBytes += piece.length;
        yield piece;
      }
    })();
    yield* sealStream(this.dataKey, counted, this.chunkBytes);
    const { chunkBytes, threshold, keyCheck, shareBoxes } = this;
    const envelope = encodeEnvelope({ chunkBytes, plainBytes, threshold, keyCheck, shareBoxes });
    if (this.envelope && !equalBytes(this.envelope, envelope))
      throw new UploadError('input_changed', 'the input changed between the upload passes');
    this.envelope = envelope;
    yield envelope;
  }
}

/** What reading an encrypted dataset needs: an account that holds a license, and the chain to date its requests by. */
export interface LicenseAccount {
  /** secp256k1 key of the licensee's account. */
  accountKey: Uint8Array;
  domain: LicenseDomain;
  /** The chain's head block: requests must name a recent one. */
  blockNumber(): Promise<number>;
}

/** Where a key comes from: the dataset's node set, by placement index. */
export interface KeyHolders {
  id: Uint8Array;
  envelope: Envelope;
  /** Node URLs in placement order (undefined: not known). */
  urls: Array<string | undefined>;
  /** The nodes' BLS keys in placement order: every release's receipt is checked against them. */
  nodeKeys: readonly string[];
}

/** Subsets of t shares tried before giving up on finding t that agree with the key check. */
const MAX_COMBINATIONS = 2_000;

/** One node's share, asked with a request signed for that node: checked (its index, its receipt, a field element) and opened. */
async function askForShare(
  node: { url: string; index: number; key: Uint8Array },
  request: { id: Uint8Array; account: LicenseAccount; licensee: string; block: number; ephemeralSecret: Uint8Array },
  options: { timeoutMs?: number; signal: AbortSignal },
): Promise<Share> {
  const { id, account, licensee, block, ephemeralSecret } = request;
  const ephemeralKey = x25519PublicKey(ephemeralSecret);
  const digest = keyRequestDigest(account.domain, id, node.key, ephemeralKey, block);
  const body = { licensee, ephemeralKey: toHex(ephemeralKey), block, signature: toHex(signDigest(account.accountKey, digest)) };
  const client = new NodeClient(node.url, { connections: 1, timeoutMs: options.timeoutMs ?? 15_000 });
  try {
    const answer = await client.keyShare(id, body, options.signal);
    if (answer.nodeIndex !== node.index)
      throw new DownloadError('bad_key_share', `node ${node.index} answered as node ${answer.nodeIndex}`);
    const shareBox = fromHex(answer.shareBox, 80);
    const receipt = releaseReceiptMessage(account.domain, id, {
      licensee,
      block,
      requestDigest: digest,
      shareBoxHash: keccak256(shareBox),
    });
    if (!blsVerify(node.key, receipt, fromHex(answer.receipt.signature, 96)))
      throw new DownloadError('bad_key_share', `node ${node.index}'s release receipt does not verify`);
    const y = openBox(ephemeralSecret, shareBox, releaseBoxContext(digest));
    if (!isFieldElement(y)) throw new DownloadError('bad_key_share', `node ${node.index} released a share that is not a field element`);
    return { x: node.index + 1, y };
  } finally {
    await client.close();
  }
}

/**
 * Asks every node of the set for its key share (one fresh ephemeral key, a recent block, a
 * request signed for each node), and combines the first t that give the key check. A node that
 * refuses, fails or lies costs nothing while t others answer. DownloadError `no_license` when
 * the nodes say the account holds none, `key_unavailable` when fewer than t good shares came back.
 */
export async function fetchDatasetKey(
  holders: KeyHolders,
  account: LicenseAccount,
  options: { timeoutMs?: number; signal?: AbortSignal; onProgress?: (event: KeyProgress) => void } = {},
): Promise<Uint8Array> {
  const { id, envelope, urls, nodeKeys } = holders;
  const request = {
    id,
    account,
    licensee: accountAddress(account.accountKey),
    block: await account.blockNumber(),
    ephemeralSecret: generateX25519Secret(),
  };
  const shares: Share[] = [];
  const refusals: string[] = [];
  let refusedForLicense = 0;
  const budget = { left: MAX_COMBINATIONS };
  let secret: Uint8Array | undefined;
  const found = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, found.signal]) : found.signal;
  const ask = async (url: string, index: number) => {
    try {
      shares.push(await askForShare({ url, index, key: fromHex(nodeKeys[index]!, 48) }, request, { timeoutMs: options.timeoutMs, signal }));
      options.onProgress?.({ phase: 'key', shares: shares.length, threshold: envelope.threshold });
      secret ??= combination(shares, envelope, budget);
      if (secret) found.abort();
    } catch (error) {
      if (found.signal.aborted) return;
      if (error instanceof RemoteError && error.code === 'no_license') refusedForLicense++;
      refusals.push(`node ${index} (${url}): ${(error as Error).message}`);
    }
  };
  await Promise.all(urls.map((url, index) => (url ? ask(url, index) : undefined)));
  if (secret) return secret;
  options.signal?.throwIfAborted();
  // Only when no node released anything: one lying node's refusal does not make a licensee unlicensed.
  if (refusedForLicense > 0 && shares.length === 0) {
    throw new DownloadError('no_license', `${request.licensee} holds no license to dataset ${toHex(id)}`, { details: refusals.join('; ') });
  }
  throw new DownloadError(
    'key_unavailable',
    `${shares.length} nodes released a key share, and no ${envelope.threshold} of them agree with the key check`,
    { details: refusals.join('; ') },
  );
}

/**
 * The secret from t of `shares` that gives the envelope's key check: the newest share with
 * every (t − 1)-subset of the others, so each arrival tries only what it makes new; at most
 * `budget.left` combinations in all (lying nodes could otherwise make the search exponential).
 */
function combination(shares: Share[], envelope: Envelope, budget: { left: number }): Uint8Array | undefined {
  const t = envelope.threshold;
  if (shares.length < t) return undefined;
  const newest = shares.at(-1)!;
  const others = shares.slice(0, -1);
  const pick: Share[] = [];
  const search = (from: number): Uint8Array | undefined => {
    if (budget.left <= 0) return undefined;
    if (pick.length === t - 1) {
      budget.left--;
      const candidate = combineShares([...pick, newest]);
      return equalBytes(keyCheckOf(candidate), envelope.keyCheck) ? candidate : undefined;
    }
    for (let i = from; i <= others.length - (t - 1 - pick.length) && budget.left > 0; i++) {
      pick.push(others[i]!);
      const found = search(i + 1);
      pick.pop();
      if (found) return found;
    }
    return undefined;
  };
  return search(0);
}

/**
 * The envelope of an encrypted dataset, from its last bytes (the last segment, which a
 * reader keeps for the file index anyway); undefined when the dataset is not encrypted.
 */
export async function readEnvelope(reader: ByteView, tail?: Uint8Array): Promise<Envelope | undefined> {
  const size = reader.size;
  if (size < ENVELOPE_TRAILER_BYTES) return undefined;
  const end = tail ?? (await readTail(reader, ENVELOPE_TRAILER_BYTES));
  const trailer = end.subarray(end.length - ENVELOPE_TRAILER_BYTES);
  if (!isEnvelopeTrailer(trailer)) return undefined;
  const need = envelopeLength(trailer) + ENVELOPE_TRAILER_BYTES;
  if (need > size) throw new ProtocolError('bad_envelope', 'the envelope is longer than the dataset');
  return decodeEnvelope(await lastBytes(reader, end, need), size);
}

/** A view's bytes from its tail start (at least `atLeast` of them): the last segment or chunk, where its trailers are. */
export function readTail(view: ByteView, atLeast: number): Promise<Uint8Array> {
  return collectBytes(view.read(Math.max(0, Math.min(view.tailStart, view.size - atLeast)), view.size));
}

/** The last `count` bytes of `view`: from `tail` (its end, as readTail gave it) when that holds them, else read. */
export async function lastBytes(view: ByteView, tail: Uint8Array, count: number): Promise<Uint8Array> {
  return count <= tail.length ? tail.subarray(tail.length - count) : collectBytes(view.read(view.size - count, view.size));
}

/** Bytes of a dataset by range: what Dataset reads files through, plain or decrypted. */
export interface ByteView {
  readonly size: number;
  /** Where reading on to the end costs no more than reading the last byte (a segment, a chunk): the file index is read from there. */
  readonly tailStart: number;
  read(start?: number, end?: number): AsyncGenerator<Uint8Array>;
}

/** The plaintext of an encrypted dataset, read by range through a reader of its ciphertext; every chunk is authenticated. */
export class DecryptedView implements ByteView {
  private readonly dataKey: Uint8Array;

  constructor(
    private readonly ciphertext: ByteView,
    readonly envelope: Envelope,
    secret: Uint8Array,
  ) {
    this.dataKey = dataKeyOf(secret);
  }

  get size(): number {
    return this.envelope.plainBytes;
  }

  /** The last chunk's start: the file index is decrypted from there, not from the first byte. */
  get tailStart(): number {
    const { plainBytes, chunkBytes } = this.envelope;
    return plainBytes === 0 ? 0 : Math.floor((plainBytes - 1) / chunkBytes) * chunkBytes;
  }

  async *read(start = 0, end = this.size): AsyncGenerator<Uint8Array> {
    const { plainBytes, chunkBytes } = this.envelope;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > plainBytes || start > end) {
      throw new InvalidArgumentError(`byte range ${start}-${end} is outside the dataset (0-${plainBytes})`);
    }
    if (start === end) return;
    const { cipherStart, cipherEnd } = cipherRange(start, end, plainBytes, chunkBytes);
    yield* openRange(this.dataKey, this.ciphertext.read(cipherStart, cipherEnd), { start, end, plainBytes, chunkBytes });
  }
}

/**
 * Whether a logged release is evidence both ways: the licensee signed the request for this
 * node, and the node's BLS receipt covers that request and the box it sent.
 */
export function releaseProves(release: KeyRelease, id: Uint8Array, nodeKey: Uint8Array, domain: LicenseDomain): boolean {
  try {
    const digest = keyRequestDigest(domain, id, nodeKey, fromHex(release.ephemeralKey, 32), release.block);
    if (recoverAddress(digest, fromHex(release.requestSignature, 65)) !== release.licensee) return false;
    const receipt = releaseReceiptMessage(domain, id, {
      licensee: release.licensee,
      block: release.block,
      requestDigest: digest,
      shareBoxHash: fromHex(release.shareBoxHash, 32),
    });
    return blsVerify(nodeKey, receipt, fromHex(release.signature, 96));
  } catch {
    return false;
  }
}

/** One node's log of the key shares it released, or why it could not be read. */
export interface NodeReleases {
  nodeIndex: number;
  url: string | undefined;
  releases: KeyRelease[];
  error?: string;
}

/**
 * Every node's log of key releases of dataset `id`, asked with a request signed by `owner`
 * (the dataset's owner: nodes show it to no one else). Receipts that do not verify against the
 * node's BLS key are dropped; a node that cannot answer is reported with its error.
 */
export async function fetchKeyReleases(
  holders: Omit<KeyHolders, 'envelope'>,
  owner: LicenseAccount,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<NodeReleases[]> {
  const block = await owner.blockNumber();
  const signature = toHex(signDigest(owner.accountKey, releasesRequestDigest(owner.domain, holders.id, block)));
  return Promise.all(
    holders.urls.map(async (url, nodeIndex): Promise<NodeReleases> => {
      if (!url) return { nodeIndex, url, releases: [], error: 'the node has no known endpoint' };
      const client = new NodeClient(url, { connections: 1, timeoutMs: options.timeoutMs ?? 15_000 });
      try {
        const answer = await client.keyReleases(holders.id, { block, signature }, options.signal);
        const key = fromHex(holders.nodeKeys[nodeIndex]!, 48);
        return { nodeIndex, url, releases: answer.releases.filter((r) => releaseProves(r, holders.id, key, owner.domain)) };
      } catch (error) {
        return { nodeIndex, url, releases: [], error: (error as Error).message };
      } finally {
        await client.close();
      }
    }),
  );
}
