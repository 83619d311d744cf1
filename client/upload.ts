import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from 'ethers';
import { ChainError, type DatasetRegistration, type Registry } from '../chain/registry.ts';
import { accountAddress, signDigest } from '../proofs/account.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { blsAggregatePublicKeys, blsAggregateSignatures, blsVerify, blsVerifyPossession } from '../proofs/bls.ts';
import { equalBytes, fromHex, toHex } from '../proofs/bytes.ts';
import { assertInteger, InvalidArgumentError } from '../proofs/errors.ts';
import type { MerkleTree } from '../proofs/merkle.ts';
import { bitmapFromIndices, indicesFromBitmap, quorumFor, type Certificate } from '../protocol/certificate.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../protocol/constants.ts';
import {
  checkCodeParameters,
  encodeManifest,
  segmentCount,
  segmentPayloadBytes,
  shardPosition,
  type Manifest,
} from '../protocol/manifest.ts';
import { announceDigest, attestationMessage, datasetId } from '../protocol/messages.ts';
import { checkPlacement, defaultCodeParameters, nodeForShard, shardsOnNode } from '../protocol/placement.ts';
import { registrationProblem } from '../protocol/registration.ts';
import { ByteBudget, mapOrdered, sleep } from './concurrency.ts';
import { EncoderPool } from './encoder.ts';
import { RemoteError, throwIfAborted, UploadError } from './errors.ts';
import { nodeSetFromChain } from './chain-context.ts';
import { NodeClient } from './node-client.ts';
import type { FileEntry } from '../protocol/file-index.ts';
import { DatasetSealer, type EncryptOptions } from './encryption.ts';
import { datasetBytes, prepareDataset } from './prepare.ts';
import { datasetFiles, datasetStream, fixedChunks, type DatasetFile, type UploadSource } from './source.ts';
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
  /**
   * Encrypt before coding (docs/licensing.md): the nodes store and sample only ciphertext, and
   * the key is shared among them, released to licensees. Every node must publish an
   * encryption key (nodes from the chain do). Each encrypted upload is a new dataset: its key is fresh.
   */
  encrypt?: boolean | EncryptOptions;
  /** The file name of a dataset made of bytes or a stream (default `data`); paths name their own files. */
  name?: string;
  /** secp256k1 key that signs the announcement; its address owns the dataset (and is part of its id). */
  uploaderKey: Uint8Array;
  k?: number;
  m?: number;
  /** Signers required; defaults to quorumFor(N, k, m). */
  quorum?: number;
  /** Off chain only: the chain id and registry address the nodes sign for (default: none). */
  chainId?: bigint;
  registryAddress?: string;
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
  /** The dataset's identity: keccak256(domain ‖ owner ‖ contentRoot) (protocol/messages.ts). */
  datasetId: Uint8Array;
  /** The Merkle root over the shard leaves. */
  contentRoot: Uint8Array;
  /** The dataset's files, as its file index lists them (paths, offsets, lengths, SHA-256s). */
  files: FileEntry[];
  /** Symbolic links under the paths given, not followed. */
  skippedLinks: string[];
  /** Present for an encrypted dataset: shares needed to rebuild its key, and its STREAM chunk size. */
  encryption?: { threshold: number; chunkBytes: number };
  owner: string;
  size: number;
  k: number;
  m: number;
  segments: number;
  shards: number;
  /** How many nodes the dataset was placed on. */
  nodeCount: number;
  signers: number[];
  quorum: number;
  failedNodes: FailedNode[];
  manifest: Manifest;
  certificate: Certificate;
  /** Present when the upload was registered and certified on chain. */
  chain?: { registerTx: string | null; certifiedTx: string; certifyGas: number };
  /** The dataset was already certified on chain: nothing was paid, sent or submitted (the certificate is the chain's). */
  alreadyCertified: boolean;
  /** The dataset was registered by this owner before but not certified: only the shards nodes lacked were sent. */
  resumed: boolean;
  /** Shards not sent because their node already held them. */
  shardsSkipped: number;
  /** Other owners' datasets of the same content: theirs, under their own ids (the identity rule); this upload is unaffected. */
  sameContent: Array<{ datasetId: Uint8Array; owner: string }>;
}

/** What every phase shares: the nodes and their clients, who has failed, progress, the code. */
interface UploadContext {
  nodes: NodeEndpoint[];
  keys: Uint8Array[];
  clients: NodeClient[];
  failed: Map<number, FailedNode>;
  encoder: EncoderPool;
  k: number;
  m: number;
  quorum: number;
  attempts: number;
  signal: AbortSignal | undefined;
  emit: (event: UploadProgress) => void;
}

/** The coded dataset once pass 1 is done: its manifest, tree, identity and a source to read again. */
interface CommittedDataset {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  tree: MerkleTree;
  id: Uint8Array;
  owner: string;
  /** The files as pass 2 reads them again (streams replaced by their spool files). */
  reread: DatasetFile[];
  /** An encrypted dataset's sealer: pass 2 seals with it again; its envelope goes to the nodes. */
  sealer: DatasetSealer | undefined;
  files: FileEntry[];
  skippedLinks: string[];
}

/**
 * Uploads a dataset in two passes over the input, so memory stays bounded whatever its size:
 * commit (code every segment and commit to every shard, keeping 80 bytes per shard), register
 * (on chain, paying the fee), announce (the signed manifest to every node), disperse (code
 * again, send each node its shards with inclusion proofs) and certify (gather, check and
 * aggregate the attestations; submit the certificate). A node that keeps failing is routed
 * around; the upload fails only below quorum.
 */
export async function upload(source: UploadSource, options: UploadOptions): Promise<UploadResult> {
  const context = prepare(options);
  if (options.chain) await checkWallet(options.chain, options.uploaderKey);
  let spoolDir: string | undefined;
  try {
    const { files, skippedLinks } = await datasetFiles(source, options.name);
    if (files.length === 0) throw new UploadError('empty_dataset', 'the dataset is empty; there is nothing to store');
    if (files.some((file) => isStream(file.source))) spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'sherd-upload-'));
    const sealer = options.encrypt
      ? new DatasetSealer(accountAddress(options.uploaderKey), context.nodes, context.m, options.encrypt === true ? {} : options.encrypt)
      : undefined;
    const dataset = { ...(await commitPhase(context, files, options.uploaderKey, sealer, spoolDir)), skippedLinks };
    const chainId = options.chain?.chainId ?? options.chainId ?? OFFCHAIN_CHAIN_ID;
    const registryAddress = options.chain?.registry.address ?? options.registryAddress ?? OFFCHAIN_REGISTRY;
    // Ask the chain first, before paying or sending anything: an upload run again is idempotent.
    const before = options.chain ? await options.chain.registry.dataset(dataset.id) : undefined;
    // A dataset registered before lives on the node set fixed then, whatever is active now.
    if (options.chain && before?.registered)
      await followNodeSet(context, dataset, options.chain.registry, before.nodeSet, options.timeoutMs);
    const sameContent = options.chain ? await otherRegistrations(options.chain.registry, dataset) : [];
    if (options.chain && before?.certified) {
      const outcome = await alreadyCertifiedPhase(context, dataset, options.chain, chainId);
      const shardsSkipped = dataset.manifest.shards.length;
      return uploadResult(context, dataset, { ...outcome, alreadyCertified: true, resumed: false, shardsSkipped, sameContent });
    }
    const registerTx = options.chain
      ? await registerPhase(options.chain, dataset, options.epochs ?? DEFAULT_STORAGE_EPOCHS, before!)
      : null;
    await announcePhase(context, dataset, options.uploaderKey);
    const resumed = before?.registered === true;
    const held = resumed ? await heldShards(context, dataset) : new Set<number>();
    await dispersePhase(context, dataset, options.maxBytesInFlight ?? 32 * 1024 * 1024, held);
    const { certificate, signers } = await certifyPhase(context, dataset, chainId, registryAddress);
    let chain: UploadResult['chain'];
    if (options.chain) {
      const receipt = await options.chain.registry.certify(dataset.id, certificate.signers, certificate.signature);
      chain = { registerTx, certifiedTx: receipt.hash, certifyGas: Number(receipt.gasUsed) };
    }
    const outcome = { certificate, signers, chain, alreadyCertified: false, resumed, shardsSkipped: held.size, sameContent };
    return uploadResult(context, dataset, outcome);
  } finally {
    await Promise.allSettled(context.clients.map((c) => c.close()));
    if (!options.encoder) await context.encoder.close();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

type Outcome = Pick<UploadResult, 'certificate' | 'signers' | 'chain' | 'alreadyCertified' | 'resumed' | 'shardsSkipped' | 'sameContent'>;

function uploadResult(context: UploadContext, dataset: CommittedDataset, outcome: Outcome): UploadResult {
  const { manifest } = dataset;
  const { chain, ...rest } = outcome;
  return {
    datasetId: dataset.id,
    contentRoot: dataset.tree.root,
    files: dataset.files,
    skippedLinks: dataset.skippedLinks,
    ...(dataset.sealer ? { encryption: { threshold: dataset.sealer.threshold, chunkBytes: dataset.sealer.chunkBytes } } : {}),
    owner: dataset.owner,
    size: manifest.size,
    k: manifest.k,
    m: manifest.m,
    segments: segmentCount(manifest.size, manifest.k),
    shards: manifest.shards.length,
    nodeCount: context.nodes.length,
    quorum: context.quorum,
    failedNodes: [...context.failed.values()].sort((a, b) => a.index - b.index),
    manifest,
    ...rest,
    ...(chain ? { chain } : {}),
  };
}

/** Other owners' registrations of the same content root. */
async function otherRegistrations(registry: Registry, dataset: CommittedDataset): Promise<UploadResult['sameContent']> {
  // Only a note for the user: a chain that will not serve the logs (a capped range) costs it, not the upload.
  const all = await registry.registrationsOf(dataset.tree.root).catch(() => []);
  return all.filter((r) => !equalBytes(r.datasetId, dataset.id));
}

/**
 * The dataset is already certified: nothing is paid or sent. Its registration must still be
 * this manifest, and the certificate is rebuilt from the certify transaction on chain (or, if
 * that went through another contract, from the nodes' stored attestations).
 */
async function alreadyCertifiedPhase(
  context: UploadContext,
  dataset: CommittedDataset,
  chain: UploadChain,
  chainId: bigint,
): Promise<Pick<Outcome, 'certificate' | 'signers' | 'chain'>> {
  const { registry } = chain;
  const problem = registrationProblem(await registry.registeredTerms(dataset.id), dataset.manifest, dataset.tree.root);
  if (problem) {
    throw new UploadError(
      'registration_mismatch',
      `dataset ${toHex(dataset.id)} is already certified with other parameters: ${problem.message}`,
    );
  }
  const certification = await registry.certification(dataset.id);
  if (!certification)
    throw new UploadError('internal', `dataset ${toHex(dataset.id)} is certified but its DatasetCertified event was not found`);
  const chainResult = { registerTx: null, certifiedTx: certification.txHash, certifyGas: Number(certification.gasUsed) };
  const signers = indicesFromBitmap(certification.signers, context.nodes.length);
  const message = attestationMessage(chainId, registry.address, dataset.id);
  // Checked like any aggregate (the keys' proofs of possession were checked on chain); failing that, the nodes' own attestations.
  const signature = certification.signature;
  const verified =
    signature !== undefined &&
    signers.length > 0 &&
    blsVerify(blsAggregatePublicKeys(signers.map((i) => context.keys[i]!)), message, signature);
  if (!verified) return { ...(await certifyPhase(context, dataset, chainId, registry.address)), chain: chainResult };
  return {
    certificate: certificateOf(context, dataset, chainId, registry.address, certification.signers, signature),
    signers,
    chain: chainResult,
  };
}

/** The certificate of `dataset` for these signers (a bitmap over the node set) and their aggregate signature. */
function certificateOf(
  context: UploadContext,
  dataset: CommittedDataset,
  chainId: bigint,
  registryAddress: string,
  signers: Uint8Array,
  signature: Uint8Array,
): Certificate {
  const { manifest } = dataset;
  return {
    datasetId: dataset.id,
    owner: dataset.owner,
    contentRoot: dataset.tree.root,
    size: manifest.size,
    k: manifest.k,
    m: manifest.m,
    chainId,
    registryAddress,
    nodeCount: context.nodes.length,
    signers,
    signature,
  };
}

/** Positions (segment · n + index) of the shards nodes already hold, for a resumed upload; a node that cannot say holds none. */
async function heldShards(context: UploadContext, dataset: CommittedDataset): Promise<Set<number>> {
  const { k, m, nodes } = context;
  const segments = segmentCount(dataset.manifest.size, k);
  const held = new Set<number>();
  await Promise.all(
    context.clients.map(async (client, node) => {
      if (context.failed.has(node)) return;
      try {
        const answer = await client.heldShards(dataset.id, context.signal);
        const assigned = [...shardsOnNode(node, segments, k + m, nodes.length)];
        if (answer.assignedShards !== assigned.length) return;
        for (const j of indicesFromBitmap(new Uint8Array(Buffer.from(answer.held, 'base64')), assigned.length)) {
          const [s, i] = assigned[j]!;
          held.add(shardPosition(dataset.manifest, s, i));
        }
      } catch {
        // Then every shard of that node is sent again; the node answers duplicates with stored: false.
      }
    }),
  );
  return held;
}

/**
 * Re-targets the upload at node set `nodeSet` (the one a dataset registered before was placed
 * on) when it is not the active nodes the upload started with: the shards and content root do
 * not depend on the node list, only the manifest's node list and the placement do.
 */
async function followNodeSet(
  context: UploadContext,
  dataset: CommittedDataset,
  registry: Registry,
  nodeSet: number,
  timeoutMs?: number,
): Promise<void> {
  const nodes = await nodeSetFromChain(registry, nodeSet);
  const keys = nodes.map((node) => fromHex(node.publicKey, 48));
  if (keys.length === context.keys.length && keys.every((key, i) => equalBytes(key, context.keys[i]!))) return;
  checkPlacement(context.k + context.m, nodes.length);
  await Promise.allSettled(context.clients.map((c) => c.close()));
  context.nodes = nodes;
  context.keys = keys;
  context.clients = clientsFor(nodes, timeoutMs);
  context.quorum = quorumFor(nodes.length, context.k, context.m);
  dataset.manifest = { ...dataset.manifest, nodes: keys };
  dataset.manifestBytes = encodeManifest(dataset.manifest);
}

/**
 * The code an upload uses on `nodeCount` nodes: the default (half parity, protocol/placement.ts),
 * or k as given with m filling the rest of the nodes (at least 1), or both as given.
 */
export function codeFor(nodeCount: number, k?: number, m?: number): { k: number; m: number } {
  const defaults = defaultCodeParameters(nodeCount);
  const chosenK = k ?? defaults.k;
  return { k: chosenK, m: m ?? (k === undefined ? defaults.m : Math.max(1, Math.min(nodeCount, 256) - chosenK)) };
}

/** The registry must send as the uploader: it registers, pays and owns the dataset. Checked before any work. */
async function checkWallet(chain: UploadChain, uploaderKey: Uint8Array): Promise<void> {
  const owner = accountAddress(uploaderKey);
  const signer = chain.registry.contract.runner as Signer | null;
  const wallet = signer && 'getAddress' in signer ? (await signer.getAddress()).toLowerCase() : undefined;
  if (wallet !== owner) throw new InvalidArgumentError(`the registry must be connected to the uploader's wallet ${owner}`);
}

/** Enough connections per node that its verifier sees full batches (it checks up to 64 shards per commitment). */
function clientsFor(nodes: NodeEndpoint[], timeoutMs = 60_000): NodeClient[] {
  return nodes.map((node) => new NodeClient(node.url, { connections: 16, timeoutMs }));
}

/** Checks the options and sets up what every phase shares. */
function prepare(options: UploadOptions): UploadContext {
  const { nodes } = options;
  if (!Array.isArray(nodes) || nodes.length < 2) throw new InvalidArgumentError('upload needs at least 2 storage nodes');
  const { k, m } = codeFor(nodes.length, options.k, options.m);
  checkCodeParameters(k, m);
  checkPlacement(k + m, nodes.length);
  if (options.epochs !== undefined) assertInteger('epochs', options.epochs, 1, 0xffffffff);
  const keys = nodes.map((node, i) => {
    const publicKey = fromHex(node.publicKey, 48);
    // On chain, the registry checked every key's proof of possession when the node registered.
    if (!options.chain && !(node.proofOfPossession && blsVerifyPossession(publicKey, fromHex(node.proofOfPossession, 96)))) {
      throw new InvalidArgumentError(`node ${i} (${node.url}) has no valid proof of possession for its BLS key`);
    }
    return publicKey;
  });
  return {
    nodes,
    keys,
    k,
    m,
    clients: clientsFor(nodes, options.timeoutMs),
    failed: new Map(),
    encoder: options.encoder ?? new EncoderPool(options.workers),
    quorum: options.quorum ?? quorumFor(nodes.length, k, m),
    attempts: options.attempts ?? 4,
    signal: options.signal,
    emit: options.onProgress ?? (() => undefined),
  };
}

function markFailed(context: UploadContext, index: number, error: unknown): void {
  if (!context.failed.has(index)) {
    context.failed.set(index, { index, url: context.nodes[index]!.url, error: (error as Error).message ?? String(error) });
  }
}

function isStream(source: DatasetFile['source']): source is AsyncIterable<Uint8Array> {
  return typeof source !== 'string' && !(source instanceof Uint8Array);
}

/** Passes a stream through while writing it to `path`, so the upload's second pass can read it again. */
async function* spooled(stream: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
  const spool = createWriteStream(path);
  try {
    for await (const chunk of stream) {
      if (!spool.write(chunk)) await once(spool, 'drain');
      yield chunk;
    }
    spool.end();
    await once(spool, 'close');
  } finally {
    spool.destroy();
  }
}

/**
 * Pass 1: prepares the dataset (client/prepare.ts: codes every segment and commits to every
 * shard in the worker pool, keeping 80 bytes per shard); a stream that cannot be read twice is
 * spooled to `spoolDir` meanwhile.
 */
async function commitPhase(
  context: UploadContext,
  files: DatasetFile[],
  uploaderKey: Uint8Array,
  sealer: DatasetSealer | undefined,
  spoolDir?: string,
): Promise<Omit<CommittedDataset, 'skippedLinks'>> {
  const spoolPath = (i: number) => join(spoolDir!, `file-${i}`);
  const passOne = files.map((f, i) => (isStream(f.source) ? { ...f, source: spooled(f.source, spoolPath(i)) } : f));
  const reread = files.map((f, i) => (isStream(f.source) ? { ...f, source: spoolPath(i) } : f));
  const prepared = await prepareDataset(passOne, {
    k: context.k,
    m: context.m,
    nodes: context.keys,
    encoder: context.encoder,
    sealer,
    signal: context.signal,
    onSegment: (progress) => context.emit({ phase: 'encode', ...progress }),
  });
  const owner = accountAddress(uploaderKey);
  const id = datasetId(owner, prepared.tree.root);
  return { ...prepared, id, owner, reread, sealer };
}

/**
 * Registers the dataset (paying its fee) unless this uploader already did, then checks that
 * the chain's registration is this manifest: content, size, code, and the node set it was placed on.
 */
async function registerPhase(
  chain: UploadChain,
  dataset: CommittedDataset,
  epochs: number,
  before: DatasetRegistration,
): Promise<string | null> {
  const { registry } = chain;
  const { manifest, tree, id } = dataset;
  let registerTx: string | null = null;
  if (!before.registered) {
    const fee = await registry.storageFee(manifest.size, epochs);
    const registered = await registry
      .registerDataset(tree.root, manifest.size, manifest.k, manifest.m, epochs, fee)
      .catch((error: unknown) => {
        // Another upload of the same dataset by the same owner got there first: go on with its registration.
        if (error instanceof ChainError && error.code === 'DatasetAlreadyRegistered') return undefined;
        throw error;
      });
    if (registered && !equalBytes(registered.datasetId, id)) {
      throw new UploadError('internal', `the registry gave dataset id ${toHex(registered.datasetId)}, not ${toHex(id)}`);
    }
    registerTx = registered?.receipt.hash ?? null;
  }
  // The node set the contract fixed for it, whether this upload or an earlier one registered it.
  const problem = registrationProblem(await registry.registeredTerms(id), manifest, tree.root);
  if (problem?.code === 'node_set') {
    throw new UploadError('node_set_changed', 'the active node set changed between reading it and registering the dataset; upload again');
  }
  if (problem)
    throw new UploadError('registration_mismatch', `dataset ${toHex(id)} is already registered with other parameters: ${problem.message}`);
  return registerTx;
}

/** Sends the signed manifest to every node, with one shared body; fails below quorum. */
async function announcePhase(context: UploadContext, dataset: CommittedDataset, uploaderKey: Uint8Array): Promise<void> {
  const envelope = dataset.sealer?.envelope;
  const signature = signDigest(uploaderKey, announceDigest(dataset.id, dataset.manifestBytes, envelope));
  const body = NodeClient.announceBody(dataset.manifestBytes, dataset.owner, signature, envelope);
  await Promise.all(
    context.clients.map(async (client, i) => {
      try {
        await withRetries(() => client.announce(dataset.id, body, context.signal), context.attempts, context.signal);
      } catch (error) {
        if (context.signal?.aborted) throw error;
        markFailed(context, i, error);
      }
    }),
  );
  context.emit({ phase: 'announce', nodes: context.nodes.length, failed: context.failed.size });
  const able = context.nodes.length - context.failed.size;
  if (able < context.quorum) throw belowQuorum(able, context.quorum, context.failed);
}

/**
 * Pass 2: codes the segments again (no KZG this time) and sends each node exactly its shards
 * with their inclusion proofs, every node at once, bounded by `maxBytesInFlight`.
 */
async function dispersePhase(
  context: UploadContext,
  dataset: CommittedDataset,
  maxBytesInFlight: number,
  held: Set<number>,
): Promise<void> {
  const { k, m, encoder, signal, nodes, failed } = context;
  const budget = new ByteBudget(maxBytesInFlight);
  const shardsTotal = dataset.manifest.shards.length - held.size;
  let shardsSent = 0;
  const inFlight = new Set<Promise<void>>();
  const send = async (nodeIndex: number, segment: number, index: number, blob: Uint8Array) => {
    try {
      if (failed.has(nodeIndex)) return;
      const proof = dataset.tree.proof(shardPosition(dataset.manifest, segment, index));
      await withRetries(
        () => context.clients[nodeIndex]!.putShard(dataset.id, segment, index, blob, proof, signal),
        context.attempts,
        signal,
      );
      shardsSent++;
      context.emit({ phase: 'disperse', shardsSent, shardsTotal, bytesSent: shardsSent * BYTES_PER_BLOB });
    } catch (error) {
      if (!signal?.aborted) markFailed(context, nodeIndex, error);
    } finally {
      budget.release(BYTES_PER_BLOB);
    }
  };
  const segments = mapOrdered(
    fixedChunks(datasetBytes(datasetStream(dataset.reread), dataset.sealer), segmentPayloadBytes(k)),
    encoder.threads + 1,
    (chunk) => encoder.shard(chunk, k, m, signal),
    signal,
  );
  let segment = 0;
  for await (const blobs of segments) {
    for (let i = 0; i < k + m; i++) {
      const nodeIndex = nodeForShard(segment, i, nodes.length);
      if (failed.has(nodeIndex) || held.has(shardPosition(dataset.manifest, segment, i))) continue;
      throwIfAborted(signal);
      await budget.acquire(BYTES_PER_BLOB);
      // A copy, not a view: a shard waiting for a slow node must pin its own 128 KiB, not its
      // whole segment, or the byte budget would not bound memory (a long upload met enough skew
      // between nodes to hold hundreds of segments).
      const put = send(nodeIndex, segment, i, blobs.slice(i * BYTES_PER_BLOB, (i + 1) * BYTES_PER_BLOB));
      inFlight.add(put);
      void put.finally(() => inFlight.delete(put));
    }
    segment++;
  }
  await Promise.all(inFlight);
  throwIfAborted(signal);
}

/** Gathers the nodes' attestations, checks each against its node's key, and aggregates them into the certificate. */
async function certifyPhase(
  context: UploadContext,
  dataset: CommittedDataset,
  chainId: bigint,
  registryAddress: string,
): Promise<{ certificate: Certificate; signers: number[] }> {
  const { keys, signal } = context;
  const message = attestationMessage(chainId, registryAddress, dataset.id);
  const signatures = new Map<number, Uint8Array>();
  await Promise.all(
    context.clients.map(async (client, i) => {
      if (context.failed.has(i)) return;
      try {
        const answer = await withRetries(() => client.attestation(dataset.id, signal), context.attempts, signal);
        const signature = fromHex(answer.signature, 96);
        if (answer.publicKey !== toHex(keys[i]!) || !blsVerify(keys[i]!, message, signature)) {
          throw new UploadError('bad_attestation', `node ${i} returned an attestation that does not verify`);
        }
        signatures.set(i, signature);
      } catch (error) {
        if (signal?.aborted) throw error;
        markFailed(context, i, error);
      }
    }),
  );
  const signers = [...signatures.keys()].sort((a, b) => a - b);
  context.emit({ phase: 'certify', signers: signers.length, quorum: context.quorum });
  if (signers.length < context.quorum) throw belowQuorum(signers.length, context.quorum, context.failed);
  const signature = blsAggregateSignatures(signers.map((i) => signatures.get(i)!));
  const certificate = certificateOf(
    context,
    dataset,
    chainId,
    registryAddress,
    bitmapFromIndices(signers, context.nodes.length),
    signature,
  );
  // Every signature was checked on its own above, so this aggregate check needs no proofs of possession.
  if (!blsVerify(blsAggregatePublicKeys(signers.map((i) => keys[i]!)), message, certificate.signature)) {
    throw new UploadError('bad_certificate', 'the aggregate signature does not verify');
  }
  return { certificate, signers };
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
