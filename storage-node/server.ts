import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import { recoverAddress } from '../proofs/account.ts';
import { BYTES_PER_BLOB, findNonCanonicalElement } from '../proofs/blob.ts';
import { blsProvePossession, blsPublicKey, blsSign } from '../proofs/bls.ts';
import { equalBytes, fromHex, toHex } from '../proofs/bytes.ts';
import { sha256 } from '../proofs/hash.ts';
import { decodeMerkleProof, merkleLeaf, verifyMerkleProof } from '../proofs/merkle.ts';
import { ApiError, isApiErrorCode, ProtocolError, type ApiErrorCode } from '../protocol/errors.ts';
import { decodeManifest, hasNodeList, sameSizeAndCode, shardPosition, type Manifest } from '../protocol/manifest.ts';
import { announceDigest, attestationMessage } from '../protocol/messages.ts';
import { PROOF_HEADER, routes, SHARD_CONTENT_TYPE, type RouteDefinition, type SampleRequest } from '../protocol/routes.ts';
import { PROTOCOL_VERSION } from '../protocol/constants.ts';
import { nodeMetrics, type Metrics } from './metrics.ts';
import { DatasetCatalog, type DatasetState } from './datasets.ts';
import { checkPoint, checkShardAddress, openingToJson, openShard } from './proving.ts';
import type { ShardStore } from './store.ts';
import type { ShardOpener, ShardVerifier } from './verifier.ts';

/** What a node needs to know from the chain: the narrow read side of the registry. */
export interface DatasetRegistryView {
  dataset(root: Uint8Array): Promise<{ registered: boolean; size: number; k: number; m: number; nodeSet: number; owner: string }>;
  /** Compressed BLS keys of a node set, in placement order. */
  nodeSetKeys(nodeSet: number): Promise<string[]>;
}

export interface NodeServerDeps {
  store: ShardStore;
  verifier: ShardVerifier;
  /** Opens shards at a point for samples (the verifier's thread pool, in a running node). */
  opener: ShardOpener;
  /** Shared with the challenge responder; made here when not given. */
  catalog?: DatasetCatalog;
  /** Sample openings that may wait for the KZG pool at once (default 256); more get 503. */
  maxPendingOpenings?: number;
  blsSecretKey: Uint8Array;
  chainId: bigint;
  registry: string;
  /** When set, only datasets registered there are accepted, with the node set fixed there. */
  chain?: DatasetRegistryView;
  metrics?: Metrics;
  /** Request logging to stderr at this level; off when omitted. */
  logLevel?: string;
  version?: string;
}

/**
 * Builds the node's fastify app from the shared route table. Dependencies come in, nothing
 * is created here but the app, so tests can hand in their own store and verifier.
 */
export async function createNodeServer(deps: NodeServerDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? nodeMetrics();
  const publicKey = blsPublicKey(deps.blsSecretKey);
  const publicKeyHex = toHex(publicKey);
  const proofOfPossession = toHex(blsProvePossession(deps.blsSecretKey));
  const catalog = deps.catalog ?? new DatasetCatalog(deps.store, publicKey);

  const app = Fastify({
    logger: deps.logLevel ? { level: deps.logLevel, stream: process.stderr } : false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });

  app.addContentTypeParser(SHARD_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    metrics.inc('sherd_http_errors_total', 1, { code: apiError.code });
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(apiError.status).send({ error: apiError.code, message: apiError.message });
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.inc('sherd_http_errors_total', 1, { code: 'not_found' });
    void reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` });
  });

  // The shared table gives the 2xx body schema; fastify wants it keyed by status.
  const route = (def: RouteDefinition) => {
    const { response, ...rest } = def.schema;
    return { method: def.method, url: def.url, bodyLimit: def.bodyLimit, schema: response ? { ...rest, response: { '2xx': response } } : rest };
  };

  app.route({
    ...route(routes.health),
    handler: async () => ({ status: 'ok', datasets: (await deps.store.listDatasets()).length }),
  });

  app.route({
    ...route(routes.metrics),
    handler: async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()),
  });

  app.route({
    ...route(routes.info),
    handler: async () => ({ publicKey: publicKeyHex, proofOfPossession, protocol: PROTOCOL_VERSION, version: deps.version ?? '0.1.0' }),
  });

  app.route<{ Params: { root: string }; Body: { manifest: string; uploader: string; signature?: string } }>({
    ...route(routes.announce),
    handler: async (request, reply) => {
      const { root } = request.params;
      if (request.body.signature === undefined) {
        throw new ApiError('missing_signature', 'announcements must be signed by the uploader (field "signature")');
      }
      const manifestBytes = new Uint8Array(Buffer.from(request.body.manifest, 'base64'));
      let manifest: Manifest;
      try {
        manifest = decodeManifest(manifestBytes);
      } catch (cause) {
        if (cause instanceof ProtocolError) throw new ApiError('bad_manifest', cause.message, { cause });
        throw cause;
      }
      const state = catalog.describe(fromHex(root, 32), manifest);
      if (!equalBytes(state.tree.root, state.root)) {
        throw new ApiError('root_mismatch', `manifest hashes to ${toHex(state.tree.root)}, not ${root}`);
      }
      const uploader = request.body.uploader;
      if (recoverAddress(announceDigest(state.root, manifestBytes), fromHex(request.body.signature)) !== uploader) {
        throw new ApiError('bad_signature', `the announcement is not signed by its uploader ${uploader}`);
      }
      if (deps.chain) await checkRegistration(deps.chain, state.root, manifest, uploader);
      if (state.nodeIndex < 0) throw new ApiError('not_in_node_set', 'this node is not in the dataset\'s node set');
      const existing = await deps.store.getMeta(root);
      if (existing && existing.uploader !== uploader) {
        throw new ApiError('bad_signature', `dataset ${root} was announced by ${existing.uploader}`);
      }
      if (!existing) {
        await deps.store.putDataset(root, manifestBytes, { uploader, announcedAt: new Date().toISOString() });
        metrics.inc('sherd_datasets_announced_total');
      }
      catalog.remember(root, state);
      void reply.status(existing ? 200 : 201);
      return { root, uploader, assignedShards: state.assignedShards, created: !existing };
    },
  });

  app.route<{ Params: { root: string } }>({
    ...route(routes.datasetStatus),
    handler: async (request) => {
      const state = await catalog.get(request.params.root);
      const storedShards = await deps.store.countShards(request.params.root);
      return { root: request.params.root, assignedShards: state.assignedShards, storedShards, complete: storedShards >= state.assignedShards };
    },
  });

  app.route<{ Params: { root: string } }>({
    ...route(routes.manifest),
    handler: async (request, reply) => {
      const bytes = await deps.store.getManifest(request.params.root);
      if (!bytes) throw new ApiError('unknown_dataset', `dataset ${request.params.root} is not known to this node`);
      return reply.type(SHARD_CONTENT_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  });

  app.route<{ Params: { root: string; segment: number; index: number }; Body: Buffer }>({
    ...route(routes.putShard),
    handler: async (request) => {
      const { root, segment, index } = request.params;
      try {
        const state = await catalog.get(root);
        checkShardAddress(state, segment, index);
        const { manifest } = state;
        const body = request.body;
        if (!Buffer.isBuffer(body)) throw new ApiError('unsupported_media_type', `shards must be sent as ${SHARD_CONTENT_TYPE}`);
        if (body.length !== BYTES_PER_BLOB) throw new ApiError('bad_blob_length', `a shard is ${BYTES_PER_BLOB} bytes, got ${body.length}`);
        const blob = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
        const bad = findNonCanonicalElement(blob);
        if (bad >= 0) throw new ApiError('non_canonical_field_element', `field element ${bad} does not have a zero top byte`);
        const position = shardPosition(manifest, segment, index);
        const record = manifest.shards[position]!;
        const hash = sha256(blob);
        if (!equalBytes(hash, record.hash)) throw new ApiError('shard_hash_mismatch', `shard ${segment}/${index} does not match its SHA-256 in the manifest`);
        const proofHeader = request.headers[PROOF_HEADER];
        let proof: Uint8Array[] | undefined;
        try {
          proof = typeof proofHeader === 'string' ? decodeMerkleProof(fromHex(proofHeader)) : undefined;
        } catch {
          proof = undefined;
        }
        if (!proof || !verifyMerkleProof(state.root, merkleLeaf(record.commitment, hash), position, proof, manifest.shards.length)) {
          throw new ApiError('bad_inclusion_proof', `the inclusion proof in ${PROOF_HEADER} does not place shard ${segment}/${index} under the dataset root`);
        }
        if (await deps.store.hasShard(root, segment, index)) {
          metrics.inc('sherd_shards_duplicate_total');
          return { stored: false };
        }
        if (!(await deps.verifier.verify(blob, record.commitment))) {
          throw new ApiError('commitment_mismatch', `shard ${segment}/${index} does not match its KZG commitment`);
        }
        await deps.store.putShard(root, segment, index, blob);
        metrics.inc('sherd_shards_stored_total');
        metrics.inc('sherd_bytes_received_total', blob.length);
        return { stored: true };
      } catch (error) {
        if (error instanceof ApiError) metrics.inc('sherd_shards_rejected_total', 1, { code: error.code });
        throw error;
      }
    },
  });

  app.route<{ Params: { root: string; segment: number; index: number } }>({
    ...route(routes.getShard),
    handler: async (request, reply) => {
      const { root, segment, index } = request.params;
      const state = await catalog.get(root);
      checkShardAddress(state, segment, index);
      const blob = await deps.store.getShard(root, segment, index);
      if (!blob) throw new ApiError('unknown_shard', `this node does not hold shard ${segment}/${index}`);
      metrics.inc('sherd_shards_served_total');
      metrics.inc('sherd_bytes_served_total', blob.length);
      return reply.type(SHARD_CONTENT_TYPE).send(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
    },
  });

  // Samples are open to anyone and cost ~65 ms of a core each: past this many waiting for the
  // KZG pool, new sample requests are turned away (503) rather than queued without bound.
  const maxPendingOpenings = deps.maxPendingOpenings ?? 256;
  let pendingOpenings = 0;
  const answerSamples = async (state: DatasetState, samples: Array<{ segment: number; index: number; z: Uint8Array }>) => {
    if (pendingOpenings + samples.length > maxPendingOpenings) {
      throw new ApiError('unavailable', `${pendingOpenings} samples are being answered; try again shortly`);
    }
    pendingOpenings += samples.length;
    try {
      return await Promise.all(samples.map(async ({ segment, index, z }) => {
        try {
          const opening = openingToJson(await openShard({ store: deps.store, opener: deps.opener }, state, segment, index, z));
          metrics.inc('sherd_samples_answered_total');
          return opening;
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          metrics.inc('sherd_samples_failed_total', 1, { code: error.code });
          return { segment, index, error: error.code, message: error.message };
        }
      }));
    } finally {
      pendingOpenings -= samples.length;
    }
  };

  // Asking for a shard that is not placed here is the requester's mistake and fails the request,
  // before any work; a shard that should be here and is not is the node's failure, per sample.
  const sampleRequest = (state: DatasetState, segment: number, index: number, zHex: string) => {
    checkShardAddress(state, segment, index);
    const z = fromHex(zHex, 32);
    checkPoint(z);
    return { segment, index, z };
  };

  app.route<{ Params: { root: string; segment: number; index: number }; Querystring: { z: string } }>({
    ...route(routes.sample),
    handler: async (request) => {
      const { root, segment, index } = request.params;
      const state = await catalog.get(root);
      const [answer] = await answerSamples(state, [sampleRequest(state, segment, index, request.query.z)]);
      if ('error' in answer!) throw new ApiError(answer.error as ApiErrorCode, answer.message);
      return answer;
    },
  });

  app.route<{ Params: { root: string }; Body: { samples: SampleRequest[] } }>({
    ...route(routes.samples),
    handler: async (request) => {
      const state = await catalog.get(request.params.root);
      const samples = request.body.samples.map(({ segment, index, z }) => sampleRequest(state, segment, index, z));
      return { answers: await answerSamples(state, samples) };
    },
  });

  app.route<{ Params: { root: string } }>({
    ...route(routes.attestation),
    handler: async (request) => {
      const { root } = request.params;
      const state = await catalog.get(root);
      let signature = await deps.store.getAttestation(root);
      if (!signature) {
        const stored = await deps.store.countShards(root);
        if (stored < state.assignedShards) {
          throw new ApiError('dataset_incomplete', `this node holds ${stored} of its ${state.assignedShards} shards of the dataset`);
        }
        signature = blsSign(deps.blsSecretKey, attestationMessage(deps.chainId, deps.registry, state.root));
        await deps.store.putAttestation(root, signature);
        metrics.inc('sherd_attestations_signed_total');
      }
      return { root, publicKey: publicKeyHex, signature: toHex(signature), chainId: deps.chainId.toString(), registry: deps.registry };
    },
  });

  return app;
}

/** The chain is the source of truth: the dataset must be registered there, by this uploader, with this size, code and node set. */
async function checkRegistration(chain: DatasetRegistryView, root: Uint8Array, manifest: Manifest, uploader: string): Promise<void> {
  let registered;
  try {
    registered = await chain.dataset(root);
  } catch (cause) {
    throw new ApiError('unavailable', 'cannot read the dataset registry on chain', { cause });
  }
  if (!registered.registered) throw new ApiError('dataset_not_registered', `dataset ${toHex(root)} is not registered on chain`);
  if (registered.owner.toLowerCase() !== uploader.toLowerCase()) {
    throw new ApiError('bad_signature', `dataset ${toHex(root)} is registered by ${registered.owner.toLowerCase()}, not ${uploader}`);
  }
  if (!sameSizeAndCode(registered, manifest)) {
    throw new ApiError('manifest_mismatch', `manifest says size ${manifest.size}, k=${manifest.k}, m=${manifest.m}; the chain says size ${registered.size}, k=${registered.k}, m=${registered.m}`);
  }
  const keys = await chain.nodeSetKeys(registered.nodeSet).catch((cause: unknown) => {
    throw new ApiError('unavailable', 'cannot read the node set on chain', { cause });
  });
  if (!hasNodeList(manifest, keys)) {
    throw new ApiError('manifest_mismatch', `the manifest's node list is not node set ${registered.nodeSet} on chain`);
  }
}

function toApiError(error: FastifyError | ApiError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const e = error as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('body_too_large', 'request body is larger than this route accepts', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', e.message, { cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('malformed_json', 'request body is not valid JSON', { cause: error });
  }
  if (e.validation) return new ApiError('bad_request', e.message, { cause: error });
  if (e instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message))) {
    return new ApiError('malformed_json', 'request body is not valid JSON', { cause: error });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(isApiErrorCode(e.code) ? e.code : 'bad_request', e.message, { cause: error });
  }
  return new ApiError('internal_error', 'internal error', { cause: error });
}
