import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toHex } from '../proofs/bytes.ts';
import { comparePaths } from '../protocol/file-index.ts';
import type { DatasetSource } from './datasets.ts';
import { GatewayError } from './datasets.ts';

/**
 * The gateway's S3-compatible face (read-only, path-style): bucket `datasets`, key
 * `ID/PATH`. An object's URL is the same as on the plain HTTP path (`/datasets/ID/PATH`), so
 * GetObject and HeadObject are the same routes, with the same checks; this module adds the
 * bucket-level calls (ListBuckets, HeadBucket, GetBucketLocation, ListObjects v1 and v2) and
 * S3's XML errors. Signatures are not checked: every dataset served so far is public, and an
 * S3 client cannot be told to stop signing, so a signed request and an unsigned one are
 * treated alike.
 */
export const S3_BUCKET = 'datasets';
const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_KEYS = 1000;
/** A dataset's keys all start with `0x…/`; the character after `/` bounds them from above. */
const AFTER_SLASH = String.fromCharCode('/'.charCodeAt(0) + 1);

/** Whether a request comes from an S3 client: signed (header or query), or carrying S3's headers or an S3 SDK's agent. */
export function isS3Request(request: FastifyRequest): boolean {
  const headers = request.headers;
  if (typeof headers.authorization === 'string' && headers.authorization.startsWith('AWS')) return true;
  if (Object.keys(headers).some((name) => name.startsWith('x-amz-') || name.startsWith('amz-sdk-'))) return true;
  if (/[?&]X-Amz-(Algorithm|Signature)=/i.test(request.url)) return true;
  return /\b(aws-sdk|aws-cli|Boto3|Botocore|s3fs|aiobotocore|MinIO)\b/i.test(headers['user-agent'] ?? '');
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `<name>value</name>`, or nothing when value is undefined. */
function element(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

function sendXml(reply: FastifyReply, status: number, root: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${body}</${root}>`);
}

/** The S3 error code and status for each of the gateway's (an id that is not one names no key). */
const S3_ERRORS: Record<string, [code: string, status: number]> = {
  no_such_file: ['NoSuchKey', 404],
  not_found: ['NoSuchKey', 404],
  bad_dataset_id: ['NoSuchKey', 404],
  dataset_not_registered: ['NoSuchKey', 404],
  dataset_not_certified: ['NoSuchKey', 404],
  no_such_bucket: ['NoSuchBucket', 404],
  range_not_satisfiable: ['InvalidRange', 416],
  precondition_failed: ['PreconditionFailed', 412],
  read_only: ['AccessDenied', 403],
  unauthorized: ['AccessDenied', 403],
  no_license: ['AccessDenied', 403],
  encrypted_dataset: ['AccessDenied', 403],
  invalid_argument: ['InvalidArgument', 400],
  not_implemented: ['NotImplemented', 501],
  overloaded: ['SlowDown', 503],
  unavailable: ['ServiceUnavailable', 503],
};

/** Sends the gateway error `code` as S3 does: an XML `<Error>` with the S3 code, the resource and a request id. */
export function sendS3Error(request: FastifyRequest, reply: FastifyReply, code: string, status: number, message: string): FastifyReply {
  const [s3Code, s3Status] = S3_ERRORS[code] ?? (status >= 500 ? ['InternalError', 500] : ['InvalidRequest', 400]);
  const resource = request.url.split('?')[0]!;
  // A bucket-level error names no key (`/datasets/` has an empty one).
  const key = resource.startsWith(`/${S3_BUCKET}/`) ? decodeURIComponentSafe(resource.slice(S3_BUCKET.length + 2)) || undefined : undefined;
  void reply.header('x-amz-request-id', request.id);
  const body = element('Code', s3Code) + element('Message', message) + element('Key', key) + element('Resource', resource);
  return reply
    .status(s3Status)
    .type('application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>${body}${element('RequestId', request.id)}</Error>`);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One entry of a listing: an object, or a common prefix that stands for every key under it. */
type ListEntry =
  | { kind: 'object'; key: string; size: number; etag: string; lastModified: Date | undefined }
  | { kind: 'prefix'; prefix: string };

interface ListQuery {
  prefix: string;
  delimiter: string | undefined;
  /** Entries at or before this one are left out (a continuation token, a marker or StartAfter). */
  after: string;
}

/**
 * Every entry matching `query`, in key order. A dataset's entries fold into one common prefix
 * without opening it when the delimiter falls inside its `ID/` (a top-level listing costs one
 * chain query); otherwise its file index is read, as any reader's.
 */
async function* listEntries(
  datasets: DatasetSource,
  query: ListQuery,
  etagOf: (id: Uint8Array, path: string) => string,
): AsyncGenerator<ListEntry> {
  const { prefix, delimiter, after } = query;
  const ids = (await datasets.list()).map((id) => ({ id, head: `${toHex(id)}/` })).sort((a, b) => comparePaths(a.head, b.head));
  // The last common prefix given: keys under one may span datasets (delimiter `x` folds every `0x…` into `0x`).
  let lastCommon: string | undefined;
  const common = (folded: string): ListEntry | undefined => {
    if (folded === lastCommon || comparePaths(folded, after) <= 0) return undefined;
    lastCommon = folded;
    return { kind: 'prefix', prefix: folded };
  };
  for (const { id, head } of ids) {
    if (prefix.length <= head.length ? !head.startsWith(prefix) : !prefix.startsWith(head)) continue;
    if (comparePaths(after, head.slice(0, -1) + AFTER_SLASH) >= 0) continue; // every key of this dataset is at or before `after`
    if (delimiter && prefix.length < head.length) {
      const at = head.indexOf(delimiter, prefix.length);
      if (at >= 0 && at + delimiter.length <= head.length) {
        const entry = common(head.slice(0, at + delimiter.length));
        if (entry) yield entry;
        continue;
      }
    }
    const served = await datasets.open(id);
    // The file index is in UTF-8 byte order of paths (comparePaths), S3's order of keys: a page
    // starts at the first key past both `after` and the prefix (no key at or before `after` can
    // fold into a prefix after it), and ends where the keys leave the prefix.
    const files = served.dataset.files;
    const past = (bound: string, strictly: boolean) =>
      firstIndex(files.length, (i) => comparePaths(head + files[i]!.path, bound) > (strictly ? 0 : -1));
    for (let i = Math.max(past(after, true), past(prefix, false)); i < files.length; i++) {
      const file = files[i]!;
      const key = head + file.path;
      if (!key.startsWith(prefix)) break;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const entry = common(key.slice(0, cut + delimiter!.length));
        if (entry) yield entry;
      } else if (comparePaths(key, after) > 0) {
        yield { kind: 'object', key, size: file.length, etag: etagOf(id, file.path), lastModified: served.certifiedAt };
      }
    }
  }
}

/** The first of 0..length-1 for which `holds` is true, where it is false up to some point and true after (length if never). */
function firstIndex(length: number, holds: (i: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (holds(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Up to `maxKeys` entries, and whether more follow. */
async function page(entries: AsyncGenerator<ListEntry>, maxKeys: number): Promise<{ taken: ListEntry[]; truncated: boolean }> {
  const taken: ListEntry[] = [];
  // max-keys=0 asks for nothing: an empty page, not a truncated one without a token to go on from.
  if (maxKeys === 0) return { taken, truncated: false };
  for await (const entry of entries) {
    if (taken.length === maxKeys) {
      await entries.return(undefined);
      return { taken, truncated: true };
    }
    taken.push(entry);
  }
  return { taken, truncated: false };
}

type Query = Record<string, string | undefined>;

function maxKeysOf(query: Query): number {
  const text = query['max-keys'];
  if (text === undefined) return MAX_KEYS;
  if (!/^\d{1,10}$/.test(text))
    throw new GatewayError('invalid_argument', `max-keys must be a non-negative integer, not ${text.slice(0, 20)}`, 400);
  return Math.min(Number(text), MAX_KEYS);
}

/**
 * A continuation token is the last entry sent, so a page picks up after it however the
 * datasets change between calls; it starts with a mark so that one made up is refused.
 */
const TOKEN_MARK = 'sherd1.';
function encodeToken(entry: ListEntry): string {
  return TOKEN_MARK + Buffer.from(entry.kind === 'object' ? entry.key : entry.prefix).toString('base64url');
}

function decodeToken(token: string): string {
  if (!token.startsWith(TOKEN_MARK) || !/^[A-Za-z0-9_-]*$/.test(token.slice(TOKEN_MARK.length)))
    throw new GatewayError('invalid_argument', 'the continuation token is not one this gateway gave', 400);
  return Buffer.from(token.slice(TOKEN_MARK.length), 'base64url').toString();
}

/** Keys and prefixes as the client asked: `encoding-type=url` (boto3's default) percent-encodes them, `/` kept. */
function encoderFor(query: Query): (text: string) => string {
  if (query['encoding-type'] === undefined) return (text) => text;
  if (query['encoding-type'] !== 'url') throw new GatewayError('invalid_argument', 'encoding-type can only be url', 400);
  return (text) => encodeURIComponent(text).replaceAll('%2F', '/');
}

function entriesXml(taken: ListEntry[], encode: (text: string) => string): string {
  const objects = taken.flatMap((entry) =>
    entry.kind === 'object'
      ? [
          `<Contents>${element('Key', encode(entry.key))}${element('LastModified', (entry.lastModified ?? new Date(0)).toISOString())}` +
            `${element('ETag', entry.etag)}${element('Size', entry.size)}${element('StorageClass', 'STANDARD')}</Contents>`,
        ]
      : [],
  );
  const prefixes = taken.flatMap((entry) =>
    entry.kind === 'prefix' ? [`<CommonPrefixes>${element('Prefix', encode(entry.prefix))}</CommonPrefixes>`] : [],
  );
  return objects.join('') + prefixes.join('');
}

/** GET /datasets?list-type=2: ListObjectsV2, paged by continuation token. */
async function listObjectsV2(datasets: DatasetSource, query: Query, etagOf: EtagOf, reply: FastifyReply) {
  const maxKeys = maxKeysOf(query);
  const encode = encoderFor(query);
  const token = query['continuation-token'];
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter || undefined;
  const after = token !== undefined ? decodeToken(token) : (query['start-after'] ?? '');
  const { taken, truncated } = await page(listEntries(datasets, { prefix, delimiter, after }, etagOf), maxKeys);
  const body =
    element('Name', S3_BUCKET) +
    element('Prefix', encode(prefix)) +
    element('Delimiter', delimiter && encode(delimiter)) +
    element('MaxKeys', maxKeys) +
    element('EncodingType', query['encoding-type']) +
    element('KeyCount', taken.length) +
    element('IsTruncated', truncated) +
    element('ContinuationToken', token) +
    element('NextContinuationToken', truncated ? encodeToken(taken.at(-1)!) : undefined) +
    element('StartAfter', query['start-after'] && encode(query['start-after'])) +
    entriesXml(taken, encode);
  return sendXml(reply, 200, 'ListBucketResult', body);
}

/** GET /datasets: ListObjects (v1), paged by marker. */
async function listObjectsV1(datasets: DatasetSource, query: Query, etagOf: EtagOf, reply: FastifyReply) {
  const maxKeys = maxKeysOf(query);
  const encode = encoderFor(query);
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter || undefined;
  const marker = query.marker ?? '';
  const { taken, truncated } = await page(listEntries(datasets, { prefix, delimiter, after: marker }, etagOf), maxKeys);
  const last = taken.at(-1);
  const body =
    element('Name', S3_BUCKET) +
    element('Prefix', encode(prefix)) +
    element('Marker', encode(marker)) +
    element('Delimiter', delimiter && encode(delimiter)) +
    element('MaxKeys', maxKeys) +
    element('EncodingType', query['encoding-type']) +
    element('IsTruncated', truncated) +
    // S3 gives NextMarker only with a delimiter; without one a client continues from the last key.
    element('NextMarker', truncated && delimiter && last ? encode(last.kind === 'object' ? last.key : last.prefix) : undefined) +
    entriesXml(taken, encode);
  return sendXml(reply, 200, 'ListBucketResult', body);
}

type EtagOf = (id: Uint8Array, path: string) => string;

/** Bucket subresources a client may ask for that a read-only, unversioned bucket does not have. */
const UNSUPPORTED_SUBRESOURCES = [
  'acl',
  'policy',
  'versioning',
  'versions',
  'uploads',
  'lifecycle',
  'cors',
  'tagging',
  'website',
  'encryption',
];

/** The bucket-level S3 routes, and the refusal of every write. */
export function s3Routes(app: FastifyInstance, deps: { datasets: DatasetSource; etagOf: EtagOf }): void {
  // Refused before any body is read: the gateway stores nothing.
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new GatewayError('read_only', `the gateway is read-only: ${request.method} is not served`, 403);
    }
  });

  app.get('/', async (_request, reply) => {
    const bucket = `<Bucket>${element('Name', S3_BUCKET)}${element('CreationDate', new Date(0).toISOString())}</Bucket>`;
    const owner = `<Owner>${element('ID', 'sherd')}${element('DisplayName', 'sherd')}</Owner>`;
    return sendXml(reply, 200, 'ListAllMyBucketsResult', `${owner}<Buckets>${bucket}</Buckets>`);
  });

  // SDKs ask for the bucket with a trailing slash, others without.
  for (const url of [`/${S3_BUCKET}`, `/${S3_BUCKET}/`])
    app.route<{ Querystring: Query }>({ method: ['GET', 'HEAD'], url, handler: bucket });
  async function bucket(request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
    void reply.header('x-amz-bucket-region', 'us-east-1');
    if (request.method === 'HEAD') return reply.status(200).send(); // HeadBucket
    const query = request.query;
    // A parameter given twice arrives as an array, which every use below would read as one joined string.
    const repeated = Object.entries(query).find(([, value]) => typeof value !== 'string');
    if (repeated) throw new GatewayError('invalid_argument', `${repeated[0]} is given more than once`, 400);
    if ('location' in query) return sendXml(reply, 200, 'LocationConstraint', ''); // us-east-1
    const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => name in query);
    if (unsupported) throw new GatewayError('not_implemented', `the bucket has no ${unsupported}`, 501);
    if (query['list-type'] === '2') return listObjectsV2(deps.datasets, query, deps.etagOf, reply);
    return listObjectsV1(deps.datasets, query, deps.etagOf, reply);
  }

  // To an S3 client any other first path segment is a bucket it does not have; to others, a path the gateway has not.
  const noSuchBucket = async (request: FastifyRequest<{ Params: { bucket: string } }>) => {
    if (!isS3Request(request)) throw new GatewayError('not_found', `no route ${request.method} ${request.url}`, 404);
    throw new GatewayError('no_such_bucket', `there is no bucket ${request.params.bucket}; datasets are in ${S3_BUCKET}`, 404);
  };
  app.route({ method: ['GET', 'HEAD'], url: '/:bucket', handler: noSuchBucket });
  app.route({ method: ['GET', 'HEAD'], url: '/:bucket/*', handler: noSuchBucket });
}
