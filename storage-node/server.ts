import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { blsProvePossession, blsPublicKey } from '../proofs/bls.ts';
import { x25519PublicKey } from '../proofs/ecies.ts';
import { nodeEncryptionSecret } from '../protocol/encryption.ts';
import { ApiError, isApiErrorCode } from '../protocol/errors.ts';
import { SHARD_CONTENT_TYPE } from '../protocol/routes.ts';
import { DatasetCatalog } from './datasets.ts';
import { nodeMetrics, type Metrics } from './metrics.ts';
import { announceRoute, type NodeRegistryView } from './routes/announce.ts';
import { attestationRoute } from './routes/attestation.ts';
import { keyShareRoutes, type LicenseChainView } from './routes/key-shares.ts';
import { sampleRoutes } from './routes/samples.ts';
import { shardRoutes } from './routes/shards.ts';
import { statusRoutes } from './routes/status.ts';
import type { ShardStore } from './store.ts';
import type { EncodingChecker, ShardOpener, ShardVerifier } from './verifier.ts';

import type { DamageReport } from './proving.ts';

export type { NodeRegistryView } from './routes/announce.ts';
export type { LicenseChainView } from './routes/key-shares.ts';

export interface NodeServerDeps {
  store: ShardStore;
  verifier: ShardVerifier;
  /** Opens shards at a point for samples (the verifier's thread pool, in a running node). */
  opener: ShardOpener;
  /** Checks a new manifest's parity commitments against its data commitments (the same pool). */
  encoding: EncodingChecker;
  /** Shared with the challenge responder; made here when not given. */
  catalog?: DatasetCatalog;
  /** Sample openings that may wait for the KZG pool at once (default 256); more get 503. */
  maxPendingOpenings?: number;
  /** Hears of shards a sample found missing or damaged (the repairer, in a running node). */
  onDamaged?: DamageReport;
  blsSecretKey: Uint8Array;
  chainId: bigint;
  registryAddress: string;
  /** When set, only datasets registered there are accepted, with the node set fixed there. */
  registry?: NodeRegistryView;
  /** Where licenses are checked before key shares are released; without it none are. */
  licenses?: LicenseChainView;
  metrics?: Metrics;
  /** Request logging to stderr at this level; off when omitted. */
  logLevel?: string;
  version?: string;
}

/**
 * Builds the node's fastify app from the shared route table: one module per group of routes
 * (storage-node/routes/), each given only what it uses, and one error handler that maps typed
 * errors to status + JSON. Nothing is created here but the app, so tests hand in their own
 * store and verifier.
 */
export async function createNodeServer(deps: NodeServerDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? nodeMetrics();
  const publicKey = blsPublicKey(deps.blsSecretKey);
  const catalog = deps.catalog ?? new DatasetCatalog(deps.store, publicKey);
  const { store } = deps;
  const encryptionSecret = nodeEncryptionSecret(deps.blsSecretKey);

  const app = Fastify({
    logger: deps.logLevel ? { level: deps.logLevel, stream: process.stderr } : false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
    // A URL the router cannot decode (`%zz`) never reaches the error handler: said here in the API's form.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      metrics.inc('sherd_http_errors_total', 1, { code: 'bad_request' });
      void reply.status(400).send({ error: 'bad_request', message: error.message });
    },
  });
  app.addContentTypeParser(SHARD_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
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

  statusRoutes(app, {
    store,
    metrics,
    publicKey,
    proofOfPossession: blsProvePossession(deps.blsSecretKey),
    encryptionKey: x25519PublicKey(encryptionSecret),
    version: deps.version ?? '0.1.0',
  });
  announceRoute(app, { store, catalog, metrics, registry: deps.registry, encryptionSecret, encoding: deps.encoding });
  keyShareRoutes(app, { store, catalog, metrics, blsSecretKey: deps.blsSecretKey, publicKey, encryptionSecret, licenses: deps.licenses });
  shardRoutes(app, { store, catalog, metrics, verifier: deps.verifier });
  sampleRoutes(app, {
    store,
    catalog,
    metrics,
    opener: deps.opener,
    maxPendingOpenings: deps.maxPendingOpenings,
    onDamaged: deps.onDamaged,
  });
  attestationRoute(app, {
    store,
    catalog,
    metrics,
    blsSecretKey: deps.blsSecretKey,
    publicKey,
    chainId: deps.chainId,
    registryAddress: deps.registryAddress,
  });
  return app;
}

/** The one mapping from errors (ours and fastify's) to the API's stable codes. */
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
