import { Ajv, type ValidateFunction } from 'ajv';
import { Pool, type Dispatcher } from 'undici';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { decodeMerkleProof, encodeMerkleProof } from '../proofs/merkle.ts';
import { decodeShardBatch, formatShardList, maxShardBatchBytes } from '../protocol/shard-batch.ts';
import {
  COMMITMENT_HEADER,
  PROOF_HEADER,
  SHARD_HASH_HEADER,
  routePath,
  routes,
  SHARD_CONTENT_TYPE,
  type AnnounceResponse,
  type AttestationResponse,
  type DatasetStatusResponse,
  type HeldShardsResponse,
  type HealthResponse,
  type InfoResponse,
  type KeyReleasesResponse,
  type KeyShareResponse,
  type PutShardResponse,
  type RouteId,
  type SampleAnswer,
  type SampleRequest,
  type SamplesResponse,
} from '../protocol/routes.ts';
import { RemoteError } from './errors.ts';

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map<RouteId, ValidateFunction>();

function responseValidator(id: RouteId): ValidateFunction | undefined {
  const schema = (routes[id].schema as { response?: object }).response;
  if (!schema) return undefined;
  let validate = validators.get(id);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(id, validate);
  }
  return validate;
}

/** Answers larger than this are cut off: a node cannot make a client hold more than it asked for. */
const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

interface RequestOptions {
  /** The most bytes the answer may have (default 16 MiB). */
  maxBytes?: number;
  method?: 'GET' | 'POST' | 'PUT';
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** A shard as a node serves it, with the leaf and proof that tie it to the content root. */
export interface ProvenShard {
  blob: Uint8Array;
  commitment: Uint8Array;
  shardHash: Uint8Array;
  inclusionProof: Uint8Array[];
}

export interface NodeClientOptions {
  /** Connections kept to the node. */
  connections?: number;
  /** Per-request deadline. */
  timeoutMs?: number;
}

/**
 * HTTP client for one storage node, built on the same route table as the server. JSON
 * responses are checked against the route's response schema before they are returned.
 */
export class NodeClient {
  private readonly pool: Pool;
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    options: NodeClientOptions = {},
  ) {
    this.pool = new Pool(url, { connections: options.connections ?? 8, pipelining: 1 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  health(signal?: AbortSignal): Promise<HealthResponse> {
    return this.json('health', routePath('health'), { signal });
  }

  info(signal?: AbortSignal): Promise<InfoResponse> {
    return this.json('info', routePath('info'), { signal });
  }

  /** The announcement body; build it once and send it to every node (a 2 GiB dataset's is ~14 MB). */
  static announceBody(manifest: Uint8Array, uploader: string, signature: Uint8Array, envelope?: Uint8Array): string {
    return JSON.stringify({
      manifest: Buffer.from(manifest).toString('base64'),
      uploader,
      signature: toHex(signature),
      ...(envelope ? { envelope: Buffer.from(envelope).toString('base64') } : {}),
    });
  }

  announce(id: Uint8Array, body: string, signal?: AbortSignal): Promise<AnnounceResponse> {
    return this.json('announce', routePath('announce', { dataset: toHex(id) }), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      signal,
    });
  }

  datasetStatus(id: Uint8Array, signal?: AbortSignal): Promise<DatasetStatusResponse> {
    return this.json('datasetStatus', routePath('datasetStatus', { dataset: toHex(id) }), { signal });
  }

  /** Which of its assigned shards the node holds (a bitmap in upload order; see routes.heldShards). */
  heldShards(id: Uint8Array, signal?: AbortSignal): Promise<HeldShardsResponse> {
    return this.json('heldShards', routePath('heldShards', { dataset: toHex(id) }), { signal });
  }

  putShard(
    id: Uint8Array,
    segment: number,
    index: number,
    blob: Uint8Array,
    proof: Uint8Array[],
    signal?: AbortSignal,
  ): Promise<PutShardResponse> {
    return this.json('putShard', routePath('putShard', { dataset: toHex(id), segment, index }), {
      method: 'PUT',
      body: blob,
      headers: { 'content-type': SHARD_CONTENT_TYPE, [PROOF_HEADER]: toHex(encodeMerkleProof(proof)) },
      signal,
    });
  }

  getShard(id: Uint8Array, segment: number, index: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.request(routePath('getShard', { dataset: toHex(id), segment, index }), { signal, maxBytes: BYTES_PER_BLOB });
  }

  /**
   * A shard with what proves it: its commitment, SHA-256 and inclusion proof, from the
   * response's headers. Only parsed here (RemoteError `bad_response` when missing or
   * malformed); the reader checks them against the content root.
   */
  async getShardWithProof(id: Uint8Array, segment: number, index: number, signal?: AbortSignal): Promise<ProvenShard> {
    const path = routePath('getShard', { dataset: toHex(id), segment, index });
    const { body, headers } = await this.exchange(path, { signal, maxBytes: BYTES_PER_BLOB });
    try {
      const header = (name: string) => {
        const value = headers[name];
        if (typeof value !== 'string') throw new Error(`no ${name} header`);
        return value;
      };
      const inclusionProof = decodeMerkleProof(fromHex(header(PROOF_HEADER)));
      if (!inclusionProof) throw new Error(`${PROOF_HEADER} is not a list of 32-byte hashes`);
      return {
        blob: body,
        commitment: fromHex(header(COMMITMENT_HEADER), 48),
        shardHash: fromHex(header(SHARD_HASH_HEADER), 32),
        inclusionProof,
      };
    } catch (cause) {
      throw new RemoteError('bad_response', `${this.url}${path} answered without a valid proof: ${(cause as Error).message}`, this.url, {
        cause,
      });
    }
  }

  /**
   * Several shards in one request (routes.getShardBatch), each with its commitment, SHA-256 and
   * inclusion proof, or undefined for one the node should hold and does not. Parsed only
   * (RemoteError `bad_response` when malformed); the reader checks them.
   */
  async getShardBatch(
    id: Uint8Array,
    shards: ReadonlyArray<readonly [segment: number, index: number]>,
    signal?: AbortSignal,
  ): Promise<Array<ProvenShard | undefined>> {
    const path = `${routePath('getShardBatch', { dataset: toHex(id) })}?shards=${formatShardList(shards)}`;
    const { body } = await this.exchange(path, { signal, maxBytes: maxShardBatchBytes(shards.length) });
    try {
      return decodeShardBatch(body, shards.length);
    } catch (cause) {
      throw new RemoteError(
        'bad_response',
        `${this.url}${path.split('?')[0]} answered a malformed batch: ${(cause as Error).message}`,
        this.url,
        {
          cause,
        },
      );
    }
  }

  getManifest(id: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    // 80 bytes a shard: 256 MiB is a manifest of about 45 TB at k = m.
    return this.request(routePath('manifest', { dataset: toHex(id) }), { signal, maxBytes: 256 * 1024 * 1024 });
  }

  /** One sample: the shard opened at z (the answer is checked for shape only; see client/sample.ts). */
  sample(id: Uint8Array, segment: number, index: number, z: Uint8Array, signal?: AbortSignal): Promise<SampleAnswer> {
    return this.json('sample', `${routePath('sample', { dataset: toHex(id), segment, index })}?z=${toHex(z)}`, { signal });
  }

  /** Up to MAX_SAMPLES_PER_REQUEST samples in one request. */
  samples(id: Uint8Array, samples: SampleRequest[], signal?: AbortSignal): Promise<SamplesResponse> {
    return this.json('samples', routePath('samples', { dataset: toHex(id) }), {
      method: 'POST',
      body: JSON.stringify({ samples }),
      headers: { 'content-type': 'application/json' },
      signal,
    });
  }

  /** Asks for this node's share of dataset `id`'s key, with a request the licensee signed (client/encryption.ts). */
  keyShare(
    id: Uint8Array,
    request: { licensee: string; ephemeralKey: string; block: number; signature: string },
    signal?: AbortSignal,
  ): Promise<KeyShareResponse> {
    return this.json('keyShare', routePath('keyShare', { dataset: toHex(id) }), {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
      signal,
    });
  }

  /** The node's log of key releases of dataset `id`, for its owner's signed request. */
  keyReleases(id: Uint8Array, request: { block: number; signature: string }, signal?: AbortSignal): Promise<KeyReleasesResponse> {
    return this.json('keyReleases', routePath('keyReleases', { dataset: toHex(id) }), {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
      signal,
    });
  }

  attestation(id: Uint8Array, signal?: AbortSignal): Promise<AttestationResponse> {
    return this.json('attestation', routePath('attestation', { dataset: toHex(id) }), { signal });
  }

  async metrics(signal?: AbortSignal): Promise<string> {
    return new TextDecoder().decode(await this.bytes(routePath('metrics'), signal));
  }

  private async json<T>(id: RouteId, path: string, init: RequestOptions): Promise<T> {
    const body = await this.request(path, init);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch (cause) {
      throw new RemoteError('bad_response', `${this.url}${path} answered with invalid JSON`, this.url, { cause });
    }
    const validate = responseValidator(id);
    if (validate && !validate(parsed)) {
      throw new RemoteError('bad_response', `${this.url}${path} answered with an unexpected body`, this.url, {
        details: ajv.errorsText(validate.errors),
      });
    }
    return parsed as T;
  }

  private bytes(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.request(path, { signal });
  }

  private async request(path: string, init: RequestOptions): Promise<Uint8Array> {
    return (await this.exchange(path, init)).body;
  }

  private async exchange(path: string, init: RequestOptions): Promise<{ body: Uint8Array; headers: Dispatcher.ResponseData['headers'] }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        path,
        method: init.method ?? 'GET',
        body: init.body,
        headers: init.headers,
        signal,
      });
    } catch (cause) {
      if (timeout.aborted && !init.signal?.aborted) {
        throw new RemoteError('timeout', `${this.url} did not answer within ${this.timeoutMs} ms`, this.url, { cause });
      }
      if (init.signal?.aborted) throw cause;
      throw new RemoteError('unreachable', `cannot reach ${this.url}: ${(cause as Error).message}`, this.url, { cause });
    }
    let body: Uint8Array;
    try {
      body = await readAtMost(response.body, init.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES);
    } catch (cause) {
      if (cause instanceof RemoteError) throw new RemoteError(cause.code, `${this.url}${path}: ${cause.message}`, this.url, { cause });
      throw new RemoteError(timeout.aborted ? 'timeout' : 'unreachable', `${this.url} broke off its answer`, this.url, { cause });
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return { body, headers: response.headers };
    let code = 'http_error';
    let message = `${this.url}${path} answered HTTP ${response.statusCode}`;
    try {
      const error = JSON.parse(new TextDecoder().decode(body)) as { error?: unknown; message?: unknown };
      if (typeof error.error === 'string') code = error.error;
      if (typeof error.message === 'string') message = `${this.url}: ${error.message}`;
    } catch {
      // not a JSON error body; keep the generic message
    }
    throw new RemoteError(code, message, this.url, { status: response.statusCode });
  }
}

/** The whole body, or RemoteError `bad_response` as soon as it passes `limit` bytes (the rest is not read). */
async function readAtMost(body: Dispatcher.ResponseData['body'], limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += (chunk as Buffer).length;
    if (length > limit) {
      body.destroy();
      throw new RemoteError('bad_response', `the answer is larger than the ${limit} bytes expected`, '');
    }
    chunks.push(chunk as Buffer);
  }
  const whole = Buffer.concat(chunks, length);
  // Small Buffers share Node's pool, which a caller could not transfer to a worker: those are copied; shards are not.
  return whole.byteLength < Buffer.poolSize ? new Uint8Array(whole) : new Uint8Array(whole.buffer, whole.byteOffset, whole.length);
}
