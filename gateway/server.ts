import { availableParallelism } from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Dataset } from '../client/dataset.ts';
import type { LicenseAccount } from '../client/encryption.ts';
import { NodeHealth } from '../client/node-health.ts';
import { ReadPool } from '../client/read-pool.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { pathProblem, type FileEntry } from '../protocol/file-index.ts';
import { SegmentLru } from './cache.ts';
import { chainDatasets, GatewayError, type DatasetSource, type GatewayRegistry, type ServedDataset } from './datasets.ts';
import { parseRangeHeader } from './ranges.ts';
import { isS3Request, S3_BUCKET, s3Routes, sendS3Error } from './s3.ts';

export interface GatewayDeps {
  datasets: DatasetSource;
  /** The segment cache and the node health the datasets read through, for /metrics. */
  cache: SegmentLru;
  health: NodeHealth;
  /** Responses streaming at once; past this, 503 with Retry-After (default 64). */
  maxStreams?: number;
  /**
   * When set, every dataset request must carry `Authorization: Bearer <token>`: a gateway that
   * holds a licensee's account hands out plaintext of encrypted datasets (docs/licensing.md).
   */
  token?: string;
  logLevel?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  tar: 'application/x-tar',
  json: 'application/json',
  jsonl: 'application/jsonl',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
  gz: 'application/gzip',
  zst: 'application/zstd',
  npy: 'application/octet-stream',
  mds: 'application/octet-stream',
  html: 'text/html; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
};

function contentType(path: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && CONTENT_TYPES[extension]) ?? 'application/octet-stream';
}

/** Strong, from the dataset id and the path: the bytes at that address never change. */
function etagOf(id: Uint8Array, path: string): string {
  return `"${createHash('sha256').update(id).update(path).digest('hex').slice(0, 32)}"`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whether an If-Match / If-None-Match list names `etag` (or is `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === etag);
}

interface Counters {
  requests: Map<number, number>;
  bytesServed: number;
  verifyFailures: number;
  /** Bodies streaming now. */
  streams: number;
}

/**
 * A read gateway over HTTP: every file of every certified dataset at /datasets/ID/PATH (and a
 * single-file dataset at /datasets/ID), with exact lengths, ranges, strong ETags and immutable
 * caching, every byte checked against the content root on chain before it is sent. A read
 * that cannot be served checked ends with an error: a 5xx before the first byte, an aborted
 * body after it.
 */
export async function createGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel ? { level: deps.logLevel, stream: process.stderr } : false,
    // A URL the router cannot decode (`%zz`) is the client's mistake, said in the gateway's own error form.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      void sendError(request, reply, 400, 'bad_request', error.message),
  });
  const counters: Counters = { requests: new Map(), bytesServed: 0, verifyFailures: 0, streams: 0 };
  const maxStreams = deps.maxStreams ?? 64;

  app.addHook('onResponse', async (_request, reply) => {
    counters.requests.set(reply.statusCode, (counters.requests.get(reply.statusCode) ?? 0) + 1);
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, code } = statusOf(error);
    if (status >= 500) counters.verifyFailures++;
    void sendError(request, reply, status, code, (error as Error).message);
  });
  app.setNotFoundHandler((request, reply) => void sendError(request, reply, 404, 'not_found', `no route ${request.method} ${request.url}`));

  if (deps.token !== undefined) app.addHook('onRequest', bearerCheck(deps.token));
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(metricsText(counters, deps.cache, deps.health)),
  );

  // The same URL is an object's on the HTTP path and, path-style, on the S3 one (bucket `datasets`, key ID/PATH).
  const serve = async (request: FastifyRequest<{ Params: { id: string; '*'?: string } }>, reply: FastifyReply) => {
    const served = await openDataset(deps.datasets, request.params.id);
    const path = request.params['*'];
    const s3 = isS3Request(request);
    if (path === undefined) {
      const single = served.dataset.single;
      if (single) return serveFile(served, single, request, reply, counters, maxStreams);
      if (s3) throw new GatewayError('no_such_file', `dataset ${request.params.id} has several files; name one in the key`, 404);
      return reply.redirect(`/datasets/${request.params.id}/`, 301);
    }
    if (path === '') {
      if (s3)
        throw new GatewayError('no_such_file', `no key ${request.params.id}/; list the bucket with prefix ${request.params.id}/`, 404);
      return listing(served.dataset, request, reply);
    }
    // pathProblem refuses `..`, empty and absolute paths, which no dataset can hold.
    const file = pathProblem(path) ? undefined : served.dataset.file(path);
    if (!file) throw new GatewayError('no_such_file', `dataset ${request.params.id} has no file ${path}`, 404);
    return serveFile(served, file, request, reply, counters, maxStreams);
  };

  app.route({ method: ['GET', 'HEAD'], url: `/${S3_BUCKET}/:id`, handler: serve });
  app.route({ method: ['GET', 'HEAD'], url: `/${S3_BUCKET}/:id/*`, handler: serve });
  s3Routes(app, { datasets: deps.datasets, etagOf });
  app.addHook('onClose', () => deps.datasets.close());
  return app;
}

export interface ChainGatewayOptions {
  /** Bytes of decoded segments kept for all readers (default 256 MiB). */
  cacheBytes?: number;
  /** Segments each read fetches ahead (default 8). */
  readAhead?: number;
  /** Threads that fetch, check and decode segments (default: one per core but one, left to sending; 0: the main thread does). */
  readThreads?: number;
  maxStreams?: number;
  /** A licensed account: encrypted datasets it holds licenses to are served decrypted. Give `token` with it. */
  license?: LicenseAccount;
  token?: string;
  logLevel?: string;
}

/** A gateway over every certified dataset of `registry`, with one segment cache, one view of node health and one read pool. */
export async function createChainGateway(registry: GatewayRegistry, options: ChainGatewayOptions = {}): Promise<FastifyInstance> {
  const cache = new SegmentLru(options.cacheBytes ?? 256 * 1024 * 1024);
  const health = new NodeHealth();
  const pool =
    options.readThreads === 0 ? undefined : new ReadPool({ threads: options.readThreads ?? Math.max(1, availableParallelism() - 1) });
  if (options.license && options.token === undefined)
    throw new InvalidArgumentError('a gateway with a licensed account hands out plaintext: give it a token too');
  const datasets = chainDatasets(registry, { cache, health, pool, readAhead: options.readAhead, license: options.license });
  const app = await createGateway({ datasets, cache, health, ...options });
  if (pool) app.addHook('onClose', () => pool.close());
  return app;
}

/** Refuses every request but /health and /metrics that does not bear `token`, compared in constant time. */
function bearerCheck(token: string) {
  const expected = createHash('sha256').update(token).digest();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === '/health' || request.url === '/metrics') return;
    const given = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), expected)) return;
    void reply.header('www-authenticate', 'Bearer realm="sherd"');
    throw new GatewayError(
      'unauthorized',
      'this gateway serves licensed data: send Authorization: Bearer TOKEN (the token it was started with)',
      401,
    );
  };
}

/** Headers, conditions and the range first; the body starts only once its first bytes are checked. */
async function serveFile(
  served: ServedDataset,
  file: FileEntry,
  request: FastifyRequest,
  reply: FastifyReply,
  counters: Counters,
  maxStreams: number,
) {
  const authorized = request.headers.authorization !== undefined;
  const etag = etagOf(served.dataset.id, file.path);
  void reply.header('etag', etag).header('accept-ranges', 'bytes').header('content-type', contentType(file.path));
  // Behind a token (a gateway that decrypts), no shared cache may keep an answer for callers without it.
  void reply.header('cache-control', `${authorized ? 'private' : 'public'}, max-age=31536000, immutable`);
  if (authorized) void reply.header('vary', 'authorization');
  if (served.certifiedAt) void reply.header('last-modified', served.certifiedAt.toUTCString());
  const headers = request.headers;
  if (headers['if-match'] !== undefined && !matches(headers['if-match'], etag)) {
    throw new GatewayError('precondition_failed', 'If-Match does not name this file', 412);
  }
  if (matches(headers['if-none-match'], etag)) return reply.status(304).send();
  // If-Range with another validator asks for the whole file.
  const ifRange = headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? headers.range : undefined;
  const range = parseRangeHeader(rangeHeader, file.length);
  if (range.kind === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${file.length}`);
    throw new GatewayError('range_not_satisfiable', `the range is outside ${file.path} (${file.length} bytes)`, 416);
  }
  const { start, end } = range.kind === 'single' ? range : { start: 0, end: file.length };
  if (range.kind === 'single') void reply.status(206).header('content-range', `bytes ${start}-${end - 1}/${file.length}`);
  void reply.header('content-length', String(end - start));
  if (request.method === 'HEAD' || start === end) return reply.send();
  if (counters.streams >= maxStreams) {
    void reply.header('retry-after', '1');
    throw new GatewayError('overloaded', `${counters.streams} reads are being served; try again shortly`, 503);
  }
  return reply.send(await checkedStream(served.dataset, file.path, start, end, counters));
}

/** The bytes as a stream whose first chunk is already read (and so checked): a failure before it is a 5xx. */
async function checkedStream(dataset: Dataset, path: string, start: number, end: number, counters: Counters): Promise<Readable> {
  counters.streams++;
  const chunks = dataset.read(path, start, end);
  let first: IteratorResult<Uint8Array>;
  try {
    first = await chunks.next();
  } catch (cause) {
    counters.streams--;
    throw new GatewayError('unavailable', `cannot read ${path} checked: ${(cause as Error).message}`, 503, { cause });
  }
  const body = Readable.from(
    (async function* () {
      try {
        if (!first.done) {
          counters.bytesServed += first.value.length;
          yield first.value;
        }
        for await (const chunk of chunks) {
          counters.bytesServed += chunk.length;
          yield chunk;
        }
      } catch (error) {
        counters.verifyFailures++;
        throw error; // aborts the body: never an unchecked byte
      }
    })(),
    { objectMode: false, highWaterMark: 1 },
  );
  body.once('close', () => counters.streams--);
  return body;
}

/** An error in the form the client reads: S3's XML to an S3 client, the gateway's JSON to anyone else. */
function sendError(request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  if (isS3Request(request)) return sendS3Error(request, reply, code, status, message);
  return reply.status(status).send({ error: code, message });
}

/** The status and stable code of an error: ours say; fastify's 4xx are the client's (`bad_request`); anything else is the nodes' or chain's (502). */
function statusOf(error: unknown): { status: number; code: string } {
  if (error instanceof GatewayError) return { status: error.status, code: error.code };
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return { status: statusCode, code: 'bad_request' };
  return { status: 502, code: 'unavailable' };
}

async function openDataset(datasets: DatasetSource, idText: string): Promise<ServedDataset> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(idText))
    throw new GatewayError('bad_dataset_id', `${idText} is not a dataset id (0x and 64 hex digits)`, 400);
  return datasets.open(fromHex(idText, 32));
}

/** GET /datasets/ID/: the files, as `<a href>` links (which fsspec's HTTP filesystem lists and globs) or JSON. */
function listing(dataset: Dataset, request: FastifyRequest, reply: FastifyReply) {
  const files = dataset.files.map((f) => ({ path: f.path, length: f.length, sha256: toHex(f.sha256) }));
  if ((request.headers.accept ?? '').includes('application/json')) return reply.send({ datasetId: toHex(dataset.id), files });
  const rows = files.map(
    (f) => `<li><a href="${escapeHtml(f.path.split('/').map(encodeURIComponent).join('/'))}">${escapeHtml(f.path)}</a> ${f.length}</li>`,
  );
  const title = `Sherd dataset ${toHex(dataset.id)}`;
  return reply
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><ul>\n${rows.join('\n')}\n</ul></body></html>\n`,
    );
}

function metricsText(counters: Counters, cache: SegmentLru, health: NodeHealth): string {
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[labels: string, value: number]>) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.map(([labels, value]) => `${name}${labels} ${value}`),
  ];
  const nodes = [...health.nodes()];
  const label = (key: string, url: string, extra = '') => `{node="${key}",url="${url}"${extra}}`;
  const lines = [
    ...metric('sherd_gateway_bytes_served_total', 'counter', 'File bytes sent, every one checked.', [['', counters.bytesServed]]),
    ...metric('sherd_gateway_cache_hits_total', 'counter', 'Segments read from the cache.', [['', cache.hits]]),
    ...metric('sherd_gateway_cache_misses_total', 'counter', 'Segments fetched from the nodes.', [['', cache.misses]]),
    ...metric('sherd_gateway_cache_promotions_total', 'counter', 'Segments read again while in probation, now kept longer.', [
      ['', cache.promotions],
    ]),
    ...metric('sherd_gateway_cache_bytes', 'gauge', 'Bytes of decoded segments in the cache.', [['', cache.size]]),
    ...metric('sherd_gateway_reconstructed_segments_total', 'counter', 'Segments rebuilt from parity shards.', [
      ['', health.reconstructedSegments],
    ]),
    ...metric('sherd_gateway_hedged_requests_total', 'counter', 'Shard requests that also went to another node.', [
      ['', health.hedgedRequests],
    ]),
    ...metric('sherd_gateway_read_failures_total', 'counter', 'Reads that could not be served checked.', [['', counters.verifyFailures]]),
    ...metric(
      'sherd_gateway_requests_total',
      'counter',
      'Responses by status.',
      [...counters.requests].map(([status, count]) => [`{status="${status}"}`, count]),
    ),
    ...metric(
      'sherd_gateway_node_shards_total',
      'counter',
      'Checked shards received, per node.',
      nodes.map(([key, node]) => [label(key, node.url), node.shards]),
    ),
    ...metric(
      'sherd_gateway_node_failures_total',
      'counter',
      'Shards a node did not deliver good, per node and reason.',
      nodes.flatMap(([key, node]) =>
        Object.entries(node.failures).map(([reason, count]): [string, number] => [label(key, node.url, `,reason="${reason}"`), count]),
      ),
    ),
    ...metric(
      'sherd_gateway_node_hedged_total',
      'counter',
      'Requests to a node that were hedged (it was slow), per node.',
      nodes.map(([key, node]) => [label(key, node.url), node.hedged]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
