import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { accountAddress, signDigest } from '../proofs/account.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import type { Signer } from 'ethers';
import type { Registry } from '../chain/registry.ts';
import { blsAggregatePublicKeys, blsAggregateSignatures, blsVerify, blsVerifyPossession } from '../proofs/bls.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { assertInteger, InvalidArgumentError } from '../proofs/errors.ts';
import { bitmapFromIndices, quorumFor, type Certificate } from '../protocol/certificate.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../protocol/constants.ts';
import {
  checkCodeParameters, encodeManifest, hasNodeList, manifestTree, sameSizeAndCode, segmentCount, segmentPayloadBytes,
  type Manifest, type ShardRecord,
} from '../protocol/manifest.ts';
import { announceDigest, attestationMessage } from '../protocol/messages.ts';
import { checkPlacement, defaultCodeParameters, nodeForShard } from '../protocol/placement.ts';
import { ByteBudget, mapOrdered, sleep } from './concurrency.ts';
import { EncoderPool } from './encoder.ts';
import { RemoteError, throwIfAborted, UploadError } from './errors.ts';
import { NodeClient } from './node-client.ts';
import { fixedChunks, sourceSize, sourceStream, type UploadSource } from './source.ts';
import type { NodeEndpoint, UploadProgress } from './types.ts';

/** The on-chain side of an upload: a registry connected to the uploader's wallet. */
export interface UploadChain {
  registry: Registry;
  chainId: bigint;
}

/** Epochs of storage an upload pays for unless told otherwise. */
export const DEFAULT_STORAGE_EPOCHS = 30;

export interface UploadOptions {
  /** The nodes, in placement order. With `chain`, they must be the registry's active nodes (see nodesFromChain). */
  nodes: NodeEndpoint[];
  /** Register, pay for and certify the dataset on chain. */
  chain?: UploadChain;
  /** Epochs of storage to pay for at registration (default DEFAULT_STORAGE_EPOCHS). */
  epochs?: number;
  /** secp256k1 key that signs the announcement; identifies the uploader. */
  uploaderKey: Uint8Array;
  k?: number;
  m?: number;
  /** Signers required; defaults to quorumFor(N, k, m). */
  quorum?: number;
  chainId?: bigint;
  registry?: string;
  /** Encoder threads (default: all cores). Ignored when `encoder` is given. */
  workers?: number;
  encoder?: EncoderPool;
  /** Bound on shard bytes being sent at once (default 32 MiB: twice what 16 connections to 8 nodes keep busy). */
  maxBytesInFlight?: number;
  /** Attempts per request before a node is given up on (default 4). */
  attempts?: number;
  timeoutMs?: number;
  tmpDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: UploadProgress) => void;
}

export interface FailedNode {
  index: number;
  url: string;
  error: string;
}

export interface UploadResult {
  datasetRoot: string;
  size: number;
  k: number;
  m: number;
  segments: number;
  shards: number;
  nodes: number;
  signers: number[];
  quorum: number;
  failedNodes: FailedNode[];
  manifest: Manifest;
  certificate: Certificate;
  /** Present when the upload was registered and certified on chain. */
  chain?: { registerTx: string | null; certifiedTx: string; certifyGas: number };
}

/**
 * Uploads a dataset in two passes over the input, so memory stays bounded whatever its size:
 *  1. code every segment and commit to every shard (worker pool), keeping only 80 bytes per
 *     shard; streams that cannot be re-read are spooled to a temp file meanwhile;
 *  2. announce the signed manifest to every node, code the segments again (no KZG this
 *     time) and send each node its shards with inclusion proofs, in parallel, with a bound
 *     on bytes in flight; then gather, check and aggregate the nodes' attestations.
 * A node that keeps failing is routed around; the upload fails only below quorum.
 */
export async function upload(source: UploadSource, options: UploadOptions): Promise<UploadResult> {
  const { nodes, signal } = options;
  if (!Array.isArray(nodes) || nodes.length < 2) throw new InvalidArgumentError('upload needs at least 2 storage nodes');
  const defaults = defaultCodeParameters(nodes.length);
  const k = options.k ?? defaults.k;
  const m = options.m ?? (options.k === undefined ? defaults.m : Math.max(1, Math.min(nodes.length, 256) - k));
  checkCodeParameters(k, m);
  checkPlacement(k + m, nodes.length);
  if (options.epochs !== undefined) assertInteger('epochs', options.epochs, 1, 0xffffffff);
  const keys = nodes.map((node, i) => {
    const publicKey = fromHex(node.publicKey, 48);
    // On chain, the registry checked every key's proof of possession when the node registered.
    if (!options.chain && !(node.proofOfPossession && blsVerifyPossession(publicKey, fromHex(node.proofOfPossession, 96)))) {
      throw new InvalidArgumentError(`node ${i} (${node.url}) has no valid proof of possession for its BLS key`);
    }
    return { publicKey };
  });
  const quorum = options.quorum ?? quorumFor(nodes.length, k, m);
  const chainId = options.chain?.chainId ?? options.chainId ?? OFFCHAIN_CHAIN_ID;
  const registry = options.chain?.registry.address ?? options.registry ?? OFFCHAIN_REGISTRY;
  const emit = options.onProgress ?? (() => undefined);
  const attempts = options.attempts ?? 4;
  const segmentBytes = segmentPayloadBytes(k);

  const encoder = options.encoder ?? new EncoderPool(options.workers);
  // Enough connections per node that its verifier sees full batches (it checks up to 64 shards per commitment).
  const clients = nodes.map((node) => new NodeClient(node.url, { connections: 16, timeoutMs: options.timeoutMs ?? 60_000 }));
  const failed = new Map<number, FailedNode>();
  const markFailed = (index: number, error: unknown) => {
    if (!failed.has(index)) failed.set(index, { index, url: nodes[index]!.url, error: (error as Error).message ?? String(error) });
  };
  let spoolDir: string | undefined;
  let spool: ReturnType<typeof createWriteStream> | undefined;

  try {
    // Pass 1: code and commit.
    const totalBytes = await sourceSize(source);
    let reread: UploadSource = source;
    if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
      spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'sherd-upload-'));
      reread = join(spoolDir, 'input');
      spool = createWriteStream(reread);
    }
    const records: ShardRecord[] = [];
    let size = 0;
    let segments = 0;
    const commits = mapOrdered(fixedChunks(sourceStream(source), segmentBytes), encoder.threads + 1, async (chunk) => {
      size += chunk.length;
      // Copy for the spool: the chunk's buffer is transferred to the worker below.
      if (spool && !spool.write(Buffer.from(chunk))) await once(spool, 'drain');
      return encoder.commit(chunk, k, m, signal);
    }, signal);
    for await (const { commitments, hashes } of commits) {
      // Views into the worker's two buffers: 2 allocations per segment, not 2 per shard (2 GiB ≈ 135k shards).
      for (let i = 0; i < k + m; i++) {
        records.push({ commitment: commitments.subarray(i * 48, i * 48 + 48), hash: hashes.subarray(i * 32, i * 32 + 32) });
      }
      segments++;
      emit({ phase: 'encode', bytes: Math.min(size, segments * segmentBytes), totalBytes, segments });
    }
    if (spool) {
      spool.end();
      await once(spool, 'close');
    }
    if (size === 0) throw new UploadError('empty_dataset', 'the dataset is empty; there is nothing to store');
    if (segments !== segmentCount(size, k)) throw new UploadError('internal', 'segment count does not match the size');

    const manifest: Manifest = { size, k, m, nodes: keys.map((key) => key.publicKey), shards: records };
    const manifestBytes = encodeManifest(manifest);
    const tree = manifestTree(manifest);
    const root = tree.root;
    const uploader = accountAddress(options.uploaderKey);
    const announcement = signDigest(options.uploaderKey, announceDigest(root, manifestBytes));
    const registerTx = options.chain ? await registerOnChain(options.chain.registry, uploader, root, manifest, options.epochs ?? DEFAULT_STORAGE_EPOCHS) : null;

    // Announce to every node, with one shared body.
    const announceBody = NodeClient.announceBody(manifestBytes, uploader, announcement);
    await Promise.all(clients.map(async (client, i) => {
      try {
        await withRetries(() => client.announce(root, announceBody, signal), attempts, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        markFailed(i, error);
      }
    }));
    emit({ phase: 'announce', nodes: nodes.length, failed: failed.size });
    if (nodes.length - failed.size < quorum) {
      throw belowQuorum(nodes.length - failed.size, quorum, failed);
    }

    // Pass 2: code again and disperse.
    const budget = new ByteBudget(options.maxBytesInFlight ?? 32 * 1024 * 1024);
    const shardsTotal = segments * (k + m);
    let shardsSent = 0;
    const inFlight = new Set<Promise<void>>();
    const blobsBySegment = mapOrdered(fixedChunks(sourceStream(reread), segmentBytes), encoder.threads + 1,
      (chunk) => encoder.shard(chunk, k, m, signal), signal);
    let segment = 0;
    for await (const blobs of blobsBySegment) {
      for (let i = 0; i < k + m; i++) {
        const nodeIndex = nodeForShard(segment, i, nodes.length);
        if (failed.has(nodeIndex)) continue;
        throwIfAborted(signal);
        await budget.acquire(BYTES_PER_BLOB);
        const s = segment;
        const blob = blobs.subarray(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB);
        const proof = tree.proof(s * (k + m) + i);
        const put = (async () => {
          try {
            if (failed.has(nodeIndex)) return;
            await withRetries(() => clients[nodeIndex]!.putShard(root, s, i, blob, proof, signal), attempts, signal);
            shardsSent++;
            emit({ phase: 'disperse', shardsSent, shardsTotal, bytesSent: shardsSent * BYTES_PER_BLOB });
          } catch (error) {
            if (signal?.aborted) return;
            markFailed(nodeIndex, error);
          } finally {
            budget.release(BYTES_PER_BLOB);
          }
        })();
        inFlight.add(put);
        void put.finally(() => inFlight.delete(put));
      }
      segment++;
    }
    await Promise.all(inFlight);
    throwIfAborted(signal);

    // Gather attestations, check each, aggregate.
    const message = attestationMessage(chainId, registry, root);
    const signatures = new Map<number, Uint8Array>();
    await Promise.all(clients.map(async (client, i) => {
      if (failed.has(i)) return;
      try {
        const answer = await withRetries(() => client.attestation(root, signal), attempts, signal);
        const signature = fromHex(answer.signature, 96);
        if (answer.publicKey !== toHex(keys[i]!.publicKey) || !blsVerify(keys[i]!.publicKey, message, signature)) {
          throw new UploadError('bad_attestation', `node ${i} returned an attestation that does not verify`);
        }
        signatures.set(i, signature);
      } catch (error) {
        if (signal?.aborted) throw error;
        markFailed(i, error);
      }
    }));
    const signers = [...signatures.keys()].sort((a, b) => a - b);
    emit({ phase: 'certify', signers: signers.length, quorum });
    if (signers.length < quorum) throw belowQuorum(signers.length, quorum, failed);
    const certificate: Certificate = {
      datasetRoot: root,
      size,
      k,
      m,
      chainId,
      registry,
      nodeCount: nodes.length,
      signers: bitmapFromIndices(signers, nodes.length),
      signature: blsAggregateSignatures(signers.map((i) => signatures.get(i)!)),
    };
    // Every signature was checked on its own above, so this aggregate check needs no proofs of possession.
    if (!blsVerify(blsAggregatePublicKeys(signers.map((i) => keys[i]!.publicKey)), message, certificate.signature)) {
      throw new UploadError('bad_certificate', 'the aggregate signature does not verify');
    }
    let chainResult: UploadResult['chain'];
    if (options.chain) {
      const receipt = await options.chain.registry.certify(root, certificate.signers, certificate.signature);
      chainResult = { registerTx, certifiedTx: receipt.hash, certifyGas: Number(receipt.gasUsed) };
    }
    return {
      datasetRoot: toHex(root),
      size,
      k,
      m,
      segments,
      shards: shardsTotal,
      nodes: nodes.length,
      signers,
      quorum,
      failedNodes: [...failed.values()].sort((a, b) => a.index - b.index),
      manifest,
      certificate,
      ...(chainResult ? { chain: chainResult } : {}),
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    if (!options.encoder) await encoder.close();
    spool?.destroy();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

/**
 * Registers the dataset (paying its fee) unless this uploader already did, then checks that
 * the node set the chain fixed for it is the one the manifest was placed on.
 */
async function registerOnChain(registry: Registry, uploader: string, root: Uint8Array, manifest: Manifest, epochs: number): Promise<string | null> {
  const signer = registry.contract.runner as Signer | null;
  const wallet = signer && 'getAddress' in signer ? (await signer.getAddress()).toLowerCase() : undefined;
  if (wallet !== uploader) throw new InvalidArgumentError(`the registry must be connected to the uploader's wallet ${uploader}`);
  let registerTx: string | null = null;
  let registered = await registry.dataset(root);
  if (!registered.registered) {
    const fee = await registry.storageFee(manifest.size, epochs);
    registerTx = (await registry.registerDataset(root, manifest.size, manifest.k, manifest.m, epochs, fee)).hash;
    registered = await registry.dataset(root); // the node set the contract fixed for it
  } else if (registered.owner.toLowerCase() !== uploader || !sameSizeAndCode(registered, manifest)) {
    throw new UploadError('root_taken', `dataset ${toHex(root)} is already registered by ${registered.owner} with other parameters`);
  }
  if (!hasNodeList(manifest, await registry.nodeSetKeys(registered.nodeSet))) {
    throw new UploadError('node_set_changed', 'the active node set changed between reading it and registering the dataset; upload again');
  }
  return registerTx;
}

function belowQuorum(have: number, quorum: number, failed: Map<number, FailedNode>): UploadError {
  const reasons = [...failed.values()].map((f) => `node ${f.index} (${f.url}): ${f.error}`).join('; ');
  return new UploadError('below_quorum', `only ${have} nodes can sign, the certificate needs ${quorum}`, { details: reasons });
}

/** Retries transient failures (unreachable, timeout, 5xx) with exponential backoff; 4xx answers are final. */
async function withRetries<T>(fn: () => Promise<T>, attempts: number, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const transient = error instanceof RemoteError ? error.transient : false;
      if (!transient || attempt >= attempts || signal?.aborted) throw error;
      await sleep(100 * 2 ** (attempt - 1), signal);
    }
  }
}
