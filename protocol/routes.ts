/**
 * The node's HTTP API, defined once. storage-node registers each route with fastify from
 * this table (schemas validate requests at the edge); client builds paths from it and checks
 * every JSON response against the same response schema before trusting it.
 */
export const SHARD_CONTENT_TYPE = 'application/octet-stream';
export const PROOF_HEADER = 'x-sherd-proof';

const hex = (bytes: number) => ({ type: 'string', pattern: `^0x[0-9a-f]{${bytes * 2}}$` }) as const;
const rootParam = { type: 'object', required: ['root'], properties: { root: hex(32) } } as const;
const shardParams = {
  type: 'object',
  required: ['root', 'segment', 'index'],
  properties: { root: hex(32), segment: { type: 'integer', minimum: 0, maximum: 0xffffffff }, index: { type: 'integer', minimum: 0, maximum: 255 } },
} as const;

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** JSON schemas; `response` is the 2xx body. */
  schema: { params?: object; body?: object; response?: object };
  /** Byte limit for the request body. */
  bodyLimit?: number;
}

export const routes = {
  health: {
    method: 'GET',
    url: '/health',
    schema: { response: { type: 'object', required: ['status'], properties: { status: { type: 'string' }, datasets: { type: 'integer' } } } },
  },
  metrics: { method: 'GET', url: '/metrics', schema: {} },
  info: {
    method: 'GET',
    url: '/v1/info',
    schema: {
      response: {
        type: 'object',
        required: ['publicKey', 'proofOfPossession', 'protocol', 'version'],
        properties: { publicKey: hex(48), proofOfPossession: hex(96), protocol: { type: 'integer' }, version: { type: 'string' } },
      },
    },
  },
  announce: {
    method: 'POST',
    url: '/v1/datasets/:root',
    bodyLimit: 256 * 1024 * 1024,
    schema: {
      params: rootParam,
      // `signature` is not required here: the node checks it itself so that a missing one
      // gets its own error code (missing_signature) rather than a schema error.
      body: {
        type: 'object',
        required: ['manifest', 'uploader'],
        additionalProperties: false,
        properties: { manifest: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' }, uploader: hex(20), signature: hex(65) },
      },
      response: {
        type: 'object',
        required: ['root', 'uploader', 'assignedShards', 'created'],
        properties: { root: hex(32), uploader: hex(20), assignedShards: { type: 'integer' }, created: { type: 'boolean' } },
      },
    },
  },
  datasetStatus: {
    method: 'GET',
    url: '/v1/datasets/:root',
    schema: {
      params: rootParam,
      response: {
        type: 'object',
        required: ['root', 'assignedShards', 'storedShards', 'complete'],
        properties: { root: hex(32), assignedShards: { type: 'integer' }, storedShards: { type: 'integer' }, complete: { type: 'boolean' } },
      },
    },
  },
  manifest: { method: 'GET', url: '/v1/datasets/:root/manifest', schema: { params: rootParam } },
  putShard: {
    method: 'PUT',
    url: '/v1/datasets/:root/shards/:segment/:index',
    bodyLimit: 131_072,
    schema: {
      params: shardParams,
      response: { type: 'object', required: ['stored'], properties: { stored: { type: 'boolean' } } },
    },
  },
  getShard: { method: 'GET', url: '/v1/datasets/:root/shards/:segment/:index', schema: { params: shardParams } },
  attestation: {
    method: 'GET',
    url: '/v1/datasets/:root/attestation',
    schema: {
      params: rootParam,
      response: {
        type: 'object',
        required: ['root', 'publicKey', 'signature', 'chainId', 'registry'],
        properties: { root: hex(32), publicKey: hex(48), signature: hex(96), chainId: { type: 'string' }, registry: hex(20) },
      },
    },
  },
} as const satisfies Record<string, RouteDefinition>;

export type RouteId = keyof typeof routes;

/** Fills `:name` placeholders; values are URI-encoded. */
export function routePath(id: RouteId, params: Record<string, string | number> = {}): string {
  return routes[id].url.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`route ${id} needs parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

export interface InfoResponse { publicKey: string; proofOfPossession: string; protocol: number; version: string }
export interface AnnounceResponse { root: string; uploader: string; assignedShards: number; created: boolean }
export interface DatasetStatusResponse { root: string; assignedShards: number; storedShards: number; complete: boolean }
export interface PutShardResponse { stored: boolean }
export interface AttestationResponse { root: string; publicKey: string; signature: string; chainId: string; registry: string }
export interface HealthResponse { status: string; datasets?: number }
