import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Devnet } from '../../cli/devnet.ts';
import { upload } from '../../client/upload.ts';
import { toHex } from '../../proofs/bytes.ts';
import { listeningGateway } from '../helpers/gateway.ts';
import { SYSTEM_PYTHON as PYTHON } from '../helpers/python.ts';

/**
 * The gateway's S3 facade on a devnet of real node processes, read with S3 clients no one
 * here wrote: the official AWS SDK for JavaScript, and Debian's boto3 under /usr/bin/python3.
 */
let dir: string;
let devnet: Devnet;
let gateway: FastifyInstance;
let base: string;
/** The multi-file dataset (past 1,000 keys, with folders) and a single-file one. */
let id: string;
let singleId: string;
const files = new Map<string, Buffer>();
const BIG = 'big/model.bin';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-s3-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  const tree = join(dir, 'tree');
  const add = async (path: string, bytes: Buffer) => {
    files.set(path, bytes);
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), bytes);
  };
  for (let i = 0; i < 1_100; i++) await add(`many/item-${String(i).padStart(4, '0')}.txt`, randomBytes(1 + (i % 97)));
  await add('dir-a/x.json', Buffer.from('{"a":1}'));
  await add('dir-b/deep/y.bin', randomBytes(5_000));
  await add('name with space+plus.txt', Buffer.from('spaces'));
  await add(BIG, randomBytes(3_000_000));
  const chain = devnet.uploadChain();
  const multi = await upload(tree, { nodes: devnet.endpoints, chain, uploaderKey: devnet.uploaderKey });
  id = toHex(multi.datasetId);
  const single = join(dir, 'single.bin');
  await writeFile(single, randomBytes(10_000));
  singleId = toHex((await upload(single, { nodes: devnet.endpoints, chain, uploaderKey: devnet.uploaderKey })).datasetId);
  [gateway, base] = await listeningGateway(devnet.registry);
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A client of the gateway: signed with made-up credentials (any signature is accepted), or unsigned. */
function s3(signed = true): S3Client {
  return new S3Client({
    endpoint: base,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'sherd', secretAccessKey: 'anything' },
    ...(signed ? {} : { signer: { sign: async (request) => request } }),
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sortedKeys = () => [...files.keys()].map((path) => `${id}/${path}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

async function failureOf(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as S3ServiceException;
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('the S3 facade, with @aws-sdk/client-s3', () => {
  it('lists its one bucket, and heads and locates it', async () => {
    const client = s3();
    const buckets = await client.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toEqual(['datasets']);
    const head = await client.send(new HeadBucketCommand({ Bucket: 'datasets' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    const location = await client.send(new GetBucketLocationCommand({ Bucket: 'datasets' }));
    expect(location.LocationConstraint ?? '').toBe('');
    expect(await failureOf(client.send(new HeadBucketCommand({ Bucket: 'other' })))).toEqual({ name: 'NotFound', status: 404 });
  });

  it('pages a listing past 1,000 keys with continuation tokens, every key once and in order', async () => {
    for (const [signed, pageSize] of [
      [true, undefined],
      [false, 250],
    ] as const) {
      const keys: string[] = [];
      const pages: number[] = [];
      for await (const page of paginateListObjectsV2({ client: s3(signed), pageSize }, { Bucket: 'datasets', Prefix: `${id}/` })) {
        pages.push(page.KeyCount ?? 0);
        for (const object of page.Contents ?? []) {
          keys.push(object.Key!);
          expect(object.Size).toBe(files.get(object.Key!.slice(id.length + 1))!.length);
        }
      }
      expect(keys).toEqual(sortedKeys());
      expect(pages).toEqual(pageSize ? [250, 250, 250, 250, 104] : [1000, 104]);
    }
  });

  it('rolls keys up into common prefixes with a delimiter, at the top and inside a dataset', async () => {
    const client = s3();
    const top = await client.send(new ListObjectsV2Command({ Bucket: 'datasets', Delimiter: '/' }));
    expect(top.Contents ?? []).toEqual([]);
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${id}/`, `${singleId}/`].sort());
    const inside = await client.send(new ListObjectsV2Command({ Bucket: 'datasets', Prefix: `${id}/`, Delimiter: '/' }));
    expect(inside.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['big/', 'dir-a/', 'dir-b/', 'many/'].map((p) => `${id}/${p}`));
    expect(inside.Contents?.map((c) => c.Key)).toEqual([`${id}/name with space+plus.txt`]);
    // A page boundary inside the prefixes: two, then the rest after the token.
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'datasets', Prefix: `${id}/`, Delimiter: '/', MaxKeys: 2 }));
    expect([first.IsTruncated, first.CommonPrefixes?.map((p) => p.Prefix)]).toEqual([true, [`${id}/big/`, `${id}/dir-a/`]]);
    const rest = await client.send(
      new ListObjectsV2Command({ Bucket: 'datasets', Prefix: `${id}/`, Delimiter: '/', ContinuationToken: first.NextContinuationToken }),
    );
    expect([rest.IsTruncated, rest.CommonPrefixes?.map((p) => p.Prefix), rest.KeyCount]).toEqual([
      false,
      [`${id}/dir-b/`, `${id}/many/`],
      3,
    ]);
  });

  it('heads and gets objects, whole and by range, with the HTTP path’s ETag and conditions', async () => {
    const client = s3();
    const head = await client.send(new HeadObjectCommand({ Bucket: 'datasets', Key: `${id}/${BIG}` }));
    const http = await fetch(`${base}/datasets/${id}/${BIG}`, { method: 'HEAD' });
    expect([head.ContentLength, head.ETag, head.LastModified?.toUTCString()]).toEqual([
      3_000_000,
      http.headers.get('etag'),
      http.headers.get('last-modified'),
    ]);
    const whole = await client.send(new GetObjectCommand({ Bucket: 'datasets', Key: `${id}/dir-b/deep/y.bin` }));
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(files.get('dir-b/deep/y.bin')!)).toBe(true);
    const part = await client.send(
      new GetObjectCommand({ Bucket: 'datasets', Key: `${id}/${BIG}`, Range: 'bytes=1000000-1000099', IfMatch: head.ETag }),
    );
    expect(part.ContentRange).toBe('bytes 1000000-1000099/3000000');
    expect(Buffer.from(await part.Body!.transformToByteArray()).equals(files.get(BIG)!.subarray(1_000_000, 1_000_100))).toBe(true);
    const single = await s3(false).send(new GetObjectCommand({ Bucket: 'datasets', Key: `${singleId}/single.bin` }));
    expect((await single.Body!.transformToByteArray()).length).toBe(10_000);
  });

  it('downloads a file in parallel ranged parts, each pinned to the first part’s ETag', async () => {
    const client = s3();
    const key = `${id}/${BIG}`;
    const partSize = 400_000;
    const first = await client.send(new GetObjectCommand({ Bucket: 'datasets', Key: key, Range: `bytes=0-${partSize - 1}` }));
    const size = Number(first.ContentRange!.split('/')[1]);
    const parts = [Buffer.from(await first.Body!.transformToByteArray())];
    const rest = await Promise.all(
      Array.from({ length: Math.ceil(size / partSize) - 1 }, async (_, j) => {
        const start = (j + 1) * partSize;
        const range = `bytes=${start}-${Math.min(size, start + partSize) - 1}`;
        const answer = await client.send(new GetObjectCommand({ Bucket: 'datasets', Key: key, Range: range, IfMatch: first.ETag }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      }),
    );
    expect(sha256(Buffer.concat([...parts, ...rest]))).toBe(sha256(files.get(BIG)!));
  });

  it('answers with S3 errors: NoSuchKey, NoSuchBucket, InvalidRange, PreconditionFailed, AccessDenied', async () => {
    const client = s3();
    const get = (input: { Bucket?: string; Key: string; Range?: string; IfMatch?: string; IfNoneMatch?: string }) =>
      client.send(new GetObjectCommand({ Bucket: 'datasets', ...input }));
    const etag = (await client.send(new HeadObjectCommand({ Bucket: 'datasets', Key: `${id}/${BIG}` }))).ETag;
    expect(await failureOf(get({ Key: `${id}/nope.bin` }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await failureOf(get({ Key: `0x${'00'.repeat(32)}/x` }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await failureOf(get({ Key: 'not-a-dataset/x' }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await failureOf(get({ Key: id }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await failureOf(get({ Bucket: 'other', Key: `${id}/${BIG}` }))).toEqual({ name: 'NoSuchBucket', status: 404 });
    expect(await failureOf(get({ Key: `${id}/${BIG}`, Range: 'bytes=3000000-' }))).toEqual({ name: 'InvalidRange', status: 416 });
    expect(await failureOf(get({ Key: `${id}/${BIG}`, IfMatch: '"elsewhere"' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect((await failureOf(get({ Key: `${id}/${BIG}`, IfNoneMatch: etag }))).status).toBe(304); // not modified
    const put = client.send(new PutObjectCommand({ Bucket: 'datasets', Key: `${id}/new.bin`, Body: 'data' }));
    expect(await failureOf(put)).toEqual({ name: 'AccessDenied', status: 403 });
    // Nothing was stored: the dataset still lists what it had.
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'datasets', Prefix: `${id}/new` }));
    expect(listed.KeyCount).toBe(0);
  });

  it('refuses a bad max-keys or continuation token with InvalidArgument, and keeps plain HTTP errors in JSON', async () => {
    const answer = await fetch(`${base}/datasets?list-type=2&max-keys=ten`, { headers: { 'x-amz-date': '20261201T000000Z' } });
    expect([answer.status, answer.headers.get('content-type')]).toEqual([400, 'application/xml']);
    expect(await answer.text()).toContain(
      '<Code>InvalidArgument</Code><Message>max-keys must be a non-negative integer, not ten</Message>',
    );
    for (const made of ['%24%24', 'c29tZWtleQ']) {
      const token = await fetch(`${base}/datasets?list-type=2&continuation-token=${made}`, { headers: { 'user-agent': 'Boto3/1.26' } });
      expect([token.status, await token.text()]).toEqual([
        400,
        expect.stringContaining(
          '<Code>InvalidArgument</Code><Message>the continuation token is not one this gateway gave</Message><Resource>/datasets</Resource>',
        ),
      ]);
    }
    const twice = await fetch(`${base}/datasets?list-type=2&prefix=a&prefix=b`, { headers: { 'x-amz-date': '20261201T000000Z' } });
    expect([twice.status, await twice.text()]).toEqual([
      400,
      expect.stringContaining('<Code>InvalidArgument</Code><Message>prefix is given more than once</Message>'),
    ]);
    const none = await fetch(`${base}/datasets?list-type=2&max-keys=0`, { headers: { 'x-amz-date': '20261201T000000Z' } });
    expect(await none.text()).toContain('<MaxKeys>0</MaxKeys><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>');
    const plain = await fetch(`${base}/elsewhere/x`);
    expect([plain.status, await plain.json()]).toEqual([404, { error: 'not_found', message: 'no route GET /elsewhere/x' }]);
    const write = await fetch(`${base}/datasets/${id}/x`, { method: 'PUT', body: 'x' });
    expect([write.status, await write.json()]).toEqual([
      403,
      { error: 'read_only', message: 'the gateway is read-only: PUT is not served' },
    ]);
  });
});

const S3_READ = fileURLToPath(new URL('./python/s3_read.py', import.meta.url));

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { maxBuffer: 16 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('the S3 facade, with boto3 (Debian python3-boto3)', () => {
  it('lists through a paginator, heads, gets ranges and downloads, byte for byte', async () => {
    const expected = Object.fromEntries([...files].map(([path, bytes]) => [`${id}/${path}`, sha256(bytes)]));
    const spec = join(dir, 'expected.json');
    await writeFile(spec, JSON.stringify({ endpoint: base, dataset: id, big: `${id}/${BIG}`, out: join(dir, 'downloaded.bin'), expected }));
    const result = await run(PYTHON, [S3_READ, spec]);
    expect(result.stderr.split('\n').filter((line) => /Error|Traceback/.test(line))).toEqual([]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toEqual({
      listed: files.size,
      pages: 2,
      headLength: 3_000_000,
      rangeMatches: true,
      downloadMatches: true,
      wholeGetsMatch: 20,
      noSuchKey: 'NoSuchKey',
    });
  }, 180_000);
});
