import { SHARD_LIST_PATTERN } from './shard-batch.ts';

/**
 * The node's HTTP API, defined once. storage-node registers each route with fastify from
 * this table (schemas validate requests at the edge); client builds paths from it and checks
 * every JSON response against the same response schema before trusting it.
 */
export const SHARD_CONTENT_TYPE = 'application/octet-stream';
/** A shard's inclusion proof: the hex of its Merkle siblings, bottom up (on PUT and on GET). */
export const PROOF_HEADER = 'x-sherd-proof';
/**
 * On GET of a shard, its KZG commitment and SHA-256 (hex): with the proof, its leaf, so a
 * reader checks the blob against the content root alone, without the manifest.
 */
export const COMMITMENT_HEADER = 'x-sherd-commitment';
export const SHARD_HASH_HEADER = 'x-sherd-shard-hash';

const hex = (bytes: number) => ({ type: 'string', pattern: `^0x[0-9a-f]{${bytes * 2}}$` }) as const;
/** Datasets are named by their id (protocol/messages.ts datasetId), never by their content root alone. */
const datasetParam = { type: 'object', required: ['dataset'], properties: { dataset: hex(32) } } as const;
const shardParams = {
  type: 'object',
  required: ['dataset', 'segment', 'index'],
  properties: {
    dataset: hex(32),
    segment: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    index: { type: 'integer', minimum: 0, maximum: 255 },
  },
} as const;

/** Samples one request may ask for: each costs the node one KZG opening (~65 ms of a core). */
export const MAX_SAMPLES_PER_REQUEST = 64;

const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' } as const;
const hexBytes = { type: 'string', pattern: '^0x([0-9a-f]{64})*$' } as const;
const sampleAnswer = {
  type: 'object',
  required: ['segment', 'index', 'z', 'y', 'kzgProof', 'commitment', 'shardHash', 'inclusionProof'],
  properties: {
    segment: { type: 'integer' },
    index: { type: 'integer' },
    z: hex(32),
    y: hex(32),
    kzgProof: hex(48),
    commitment: hex(48),
    shardHash: hex(32),
    inclusionProof: hexBytes,
  },
} as const;
const sampleFailure = {
  type: 'object',
  required: ['segment', 'index', 'error', 'message'],
  properties: { segment: { type: 'integer' }, index: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

/** One key release a node logged: who got its share, for the request at which block, when, and its BLS receipt. */
const keyRelease = {
  type: 'object',
  required: ['licensee', 'block', 'releasedAt', 'ephemeralKey', 'requestSignature', 'shareBoxHash', 'signature'],
  properties: {
    licensee: hex(20),
    block: { type: 'integer' },
    releasedAt: { type: 'string' },
    ephemeralKey: hex(32),
    requestSignature: hex(65),
    shareBoxHash: hex(32),
    signature: hex(96),
  },
} as const;

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** JSON schemas; `response` is the 2xx body. */
  schema: { params?: object; querystring?: object; body?: object; response?: object };
  /** Byte limit for the request body. */
  bodyLimit?: number;
}

export const routes = {
  health: {
    method: 'GET',
    url: '/health',
    schema: {
      response: { type: 'object', required: ['status'], properties: { status: { type: 'string' }, datasets: { type: 'integer' } } },
    },
  },
  metrics: { method: 'GET', url: '/metrics', schema: {} },
  info: {
    method: 'GET',
    url: '/v1/info',
    schema: {
      response: {
        type: 'object',
        required: ['publicKey', 'proofOfPossession', 'protocol', 'version'],
        properties: {
          publicKey: hex(48),
          proofOfPossession: hex(96),
          encryptionKey: hex(32),
          protocol: { type: 'integer' },
          version: { type: 'string' },
        },
      },
    },
  },
  announce: {
    method: 'POST',
    url: '/v1/datasets/:dataset',
    bodyLimit: 256 * 1024 * 1024,
    schema: {
      params: datasetParam,
      // `signature` is not required here: the node checks it itself so that a missing one
      // gets its own error code (missing_signature) rather than a schema error.
      body: {
        type: 'object',
        required: ['manifest', 'uploader'],
        additionalProperties: false,
        properties: {
          manifest: base64,
          uploader: hex(20),
          signature: hex(65),
          // An encrypted dataset's envelope (protocol/encryption.ts): the nodes' sealed key shares. The signature covers it.
          envelope: base64,
        },
      },
      response: {
        type: 'object',
        required: ['datasetId', 'contentRoot', 'uploader', 'assignedShards', 'created'],
        properties: {
          datasetId: hex(32),
          contentRoot: hex(32),
          uploader: hex(20),
          assignedShards: { type: 'integer' },
          created: { type: 'boolean' },
        },
      },
    },
  },
  datasetStatus: {
    method: 'GET',
    url: '/v1/datasets/:dataset',
    schema: {
      params: datasetParam,
      response: {
        type: 'object',
        required: ['datasetId', 'assignedShards', 'storedShards', 'complete'],
        properties: {
          datasetId: hex(32),
          assignedShards: { type: 'integer' },
          storedShards: { type: 'integer' },
          complete: { type: 'boolean' },
        },
      },
    },
  },
  /**
   * Which of its assigned shards the node holds: `held` is a bitmap (base64) over the node's
   * shards in upload order (protocol/placement.ts shardsOnNode), bit j of byte j >> 3, least
   * significant bit first. An uploader resuming a dataset sends only what is missing.
   */
  heldShards: {
    method: 'GET',
    url: '/v1/datasets/:dataset/shards',
    schema: {
      params: datasetParam,
      response: {
        type: 'object',
        required: ['datasetId', 'assignedShards', 'held'],
        properties: {
          datasetId: hex(32),
          assignedShards: { type: 'integer' },
          held: base64,
        },
      },
    },
  },
  manifest: { method: 'GET', url: '/v1/datasets/:dataset/manifest', schema: { params: datasetParam } },
  putShard: {
    method: 'PUT',
    url: '/v1/datasets/:dataset/shards/:segment/:index',
    bodyLimit: 131_072,
    schema: {
      params: shardParams,
      response: { type: 'object', required: ['stored'], properties: { stored: { type: 'boolean' } } },
    },
  },
  getShard: { method: 'GET', url: '/v1/datasets/:dataset/shards/:segment/:index', schema: { params: shardParams } },
  /**
   * Several shards this node holds in one answer (protocol/shard-batch.ts): `shards` is up to
   * 16 `SEGMENT.INDEX` pairs; the body has each with its leaf and proof, or a missing mark.
   * Readers ask with it to spend less per request on both sides.
   */
  getShardBatch: {
    method: 'GET',
    url: '/v1/datasets/:dataset/shard-batch',
    schema: {
      params: datasetParam,
      querystring: {
        type: 'object',
        required: ['shards'],
        properties: { shards: { type: 'string', pattern: SHARD_LIST_PATTERN } },
      },
    },
  },
  /** One sample: the shard opened at z, with what it takes to check it against the content root alone. */
  sample: {
    method: 'GET',
    url: '/v1/datasets/:dataset/shards/:segment/:index/sample',
    schema: {
      params: shardParams,
      querystring: { type: 'object', required: ['z'], properties: { z: hex(32) } },
      response: sampleAnswer,
    },
  },
  /**
   * Many samples of one dataset. Asking for a shard that is not placed on this node fails the
   * whole request; a shard the node should hold and cannot open is a per-sample failure.
   */
  samples: {
    method: 'POST',
    url: '/v1/datasets/:dataset/samples',
    bodyLimit: 64 * 1024,
    schema: {
      params: datasetParam,
      body: {
        type: 'object',
        required: ['samples'],
        additionalProperties: false,
        properties: {
          samples: {
            type: 'array',
            minItems: 1,
            maxItems: MAX_SAMPLES_PER_REQUEST,
            items: {
              type: 'object',
              required: ['segment', 'index', 'z'],
              additionalProperties: false,
              properties: { segment: shardParams.properties.segment, index: shardParams.properties.index, z: hex(32) },
            },
          },
        },
      },
      response: {
        type: 'object',
        required: ['answers'],
        properties: { answers: { type: 'array', items: { anyOf: [sampleAnswer, sampleFailure] } } },
      },
    },
  },
  attestation: {
    method: 'GET',
    url: '/v1/datasets/:dataset/attestation',
    schema: {
      params: datasetParam,
      response: {
        type: 'object',
        required: ['datasetId', 'publicKey', 'signature', 'chainId', 'registryAddress'],
        properties: { datasetId: hex(32), publicKey: hex(48), signature: hex(96), chainId: { type: 'string' }, registryAddress: hex(20) },
      },
    },
  },
  /**
   * A licensee asks for this node's share of an encrypted dataset's key (docs/licensing.md):
   * signed over (chain, licenses, dataset, ephemeral key, block); the share comes back sealed
   * to the ephemeral key with the node's BLS-signed receipt.
   */
  keyShare: {
    method: 'POST',
    url: '/v1/datasets/:dataset/key-share',
    bodyLimit: 4096,
    schema: {
      params: datasetParam,
      body: {
        type: 'object',
        required: ['licensee', 'ephemeralKey', 'block', 'signature'],
        additionalProperties: false,
        properties: {
          licensee: hex(20),
          ephemeralKey: hex(32),
          block: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          signature: hex(65),
        },
      },
      response: {
        type: 'object',
        required: ['datasetId', 'nodeIndex', 'shareBox', 'receipt'],
        properties: { datasetId: hex(32), nodeIndex: { type: 'integer' }, shareBox: hex(80), receipt: keyRelease },
      },
    },
  },
  /** The dataset's owner reads the node's log of key releases, with a request it signed over (chain, licenses, dataset, block). */
  keyReleases: {
    method: 'POST',
    url: '/v1/datasets/:dataset/key-releases',
    bodyLimit: 4096,
    schema: {
      params: datasetParam,
      body: {
        type: 'object',
        required: ['block', 'signature'],
        additionalProperties: false,
        properties: { block: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, signature: hex(65) },
      },
      response: {
        type: 'object',
        required: ['datasetId', 'nodeIndex', 'releases'],
        properties: { datasetId: hex(32), nodeIndex: { type: 'integer' }, releases: { type: 'array', items: keyRelease } },
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

export interface InfoResponse {
  publicKey: string;
  proofOfPossession: string;
  /** The X25519 key the node's key shares are sealed to (derived from its BLS key). */
  encryptionKey?: string;
  protocol: number;
  version: string;
}
export interface AnnounceResponse {
  datasetId: string;
  contentRoot: string;
  uploader: string;
  assignedShards: number;
  created: boolean;
}
export interface HeldShardsResponse {
  datasetId: string;
  assignedShards: number;
  held: string;
}
export interface DatasetStatusResponse {
  datasetId: string;
  assignedShards: number;
  storedShards: number;
  complete: boolean;
}
export interface PutShardResponse {
  stored: boolean;
}
export interface AttestationResponse {
  datasetId: string;
  publicKey: string;
  signature: string;
  chainId: string;
  registryAddress: string;
}
export interface HealthResponse {
  status: string;
  datasets?: number;
}
export interface SampleRequest {
  segment: number;
  index: number;
  z: string;
}
export interface SampleAnswer {
  segment: number;
  index: number;
  z: string;
  y: string;
  kzgProof: string;
  commitment: string;
  shardHash: string;
  /** The Merkle siblings, bottom up, concatenated. */
  inclusionProof: string;
}
export interface SampleFailure {
  segment: number;
  index: number;
  error: string;
  message: string;
}
export interface SamplesResponse {
  answers: Array<SampleAnswer | SampleFailure>;
}
/** A release as the node logs it: the licensee's signed request (so anyone can check it asked) and the node's receipt. */
export interface KeyRelease {
  licensee: string;
  block: number;
  releasedAt: string;
  ephemeralKey: string;
  /** The licensee's signature over protocol/encryption.ts keyRequestDigest for this node. */
  requestSignature: string;
  /** keccak256 of the share box sent. */
  shareBoxHash: string;
  /** The node's BLS signature over protocol/encryption.ts releaseReceiptMessage. */
  signature: string;
}
export interface KeyShareResponse {
  datasetId: string;
  nodeIndex: number;
  /** The share's y, sealed to the request's ephemeral key (proofs/ecies.ts). */
  shareBox: string;
  receipt: KeyRelease;
}
export interface KeyReleasesResponse {
  datasetId: string;
  nodeIndex: number;
  releases: KeyRelease[];
}
