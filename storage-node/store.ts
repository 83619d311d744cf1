import { Level } from 'level';
import { fromHex, toHex } from '../proofs/bytes.ts';
import type { KeyRelease } from '../protocol/routes.ts';

/**
 * Typed repository in front of LevelDB, the one place dataset ids become hex. Keys are
 * strings namespaced by kind and dataset id:
 *   d:<id>:manifest   encoded manifest
 *   d:<id>:meta       JSON {uploader, announcedAt}
 *   s:<id>:<segment, 10 digits>:<index, 3 digits>   the verified blob
 *   d:<id>:envelope   an encrypted dataset's envelope (its nodes' sealed key shares)
 *   a:<id>            this node's BLS attestation
 *   k:<id>:<request digest>   a key share released, with its receipt (the replay guard and the owner's audit log)
 * Only verified shards are written, each in one atomic put; so "present" means "verified".
 */
export interface DatasetMeta {
  uploader: string;
  announcedAt: string;
  /** The slot this node holds when it came to it as a replacement (not the manifest's place of its key). */
  slot?: number;
}

const datasetKey = (id: Uint8Array) => `d:${toHex(id)}`;
const releasePrefix = (id: Uint8Array) => `k:${toHex(id)}:`;
const shardPrefix = (id: Uint8Array) => `s:${toHex(id)}:`;
const shardKey = (id: Uint8Array, segment: number, index: number) =>
  `${shardPrefix(id)}${String(segment).padStart(10, '0')}:${String(index).padStart(3, '0')}`;

export class ShardStore {
  private constructor(private readonly db: Level<string, Uint8Array>) {}

  static async open(directory: string): Promise<ShardStore> {
    const db = new Level<string, Uint8Array>(directory, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new ShardStore(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async putDataset(id: Uint8Array, manifest: Uint8Array, meta: DatasetMeta, envelope?: Uint8Array): Promise<void> {
    await this.db.batch([
      { type: 'put', key: `${datasetKey(id)}:manifest`, value: manifest },
      { type: 'put', key: `${datasetKey(id)}:meta`, value: new TextEncoder().encode(JSON.stringify(meta)) },
      ...(envelope ? [{ type: 'put' as const, key: `${datasetKey(id)}:envelope`, value: envelope }] : []),
    ]);
  }

  /** Rewrites a dataset's meta (a replacement's slot), leaving its manifest as it is. */
  async putMeta(id: Uint8Array, meta: DatasetMeta): Promise<void> {
    await this.db.put(`${datasetKey(id)}:meta`, new TextEncoder().encode(JSON.stringify(meta)));
  }

  async getEnvelope(id: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(`${datasetKey(id)}:envelope`);
  }

  async hasRelease(id: Uint8Array, requestDigest: Uint8Array): Promise<boolean> {
    return (await this.db.has(`${releasePrefix(id)}${toHex(requestDigest)}`)) === true;
  }

  async putRelease(id: Uint8Array, requestDigest: Uint8Array, release: KeyRelease): Promise<void> {
    await this.db.put(`${releasePrefix(id)}${toHex(requestDigest)}`, new TextEncoder().encode(JSON.stringify(release)));
  }

  /** Every key share release of dataset `id`, oldest request block first. */
  async listReleases(id: Uint8Array): Promise<KeyRelease[]> {
    const prefix = releasePrefix(id);
    const releases: KeyRelease[] = [];
    for await (const value of this.db.values({ gte: prefix, lt: `${prefix.slice(0, -1)};` })) {
      releases.push(JSON.parse(new TextDecoder().decode(value)) as KeyRelease);
    }
    return releases.sort((a, b) => a.block - b.block || a.releasedAt.localeCompare(b.releasedAt));
  }

  async getManifest(id: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(`${datasetKey(id)}:manifest`);
  }

  async getMeta(id: Uint8Array): Promise<DatasetMeta | undefined> {
    const raw = await this.db.get(`${datasetKey(id)}:meta`);
    return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as DatasetMeta);
  }

  /** The ids of every announced dataset. */
  async listDatasets(): Promise<Uint8Array[]> {
    const ids: Uint8Array[] = [];
    for await (const key of this.db.keys({ gte: 'd:', lt: 'd;' })) {
      if (key.endsWith(':manifest')) ids.push(fromHex(key.slice(2, -':manifest'.length), 32));
    }
    return ids;
  }

  async putShard(id: Uint8Array, segment: number, index: number, blob: Uint8Array): Promise<void> {
    await this.db.put(shardKey(id, segment, index), blob);
  }

  async getShard(id: Uint8Array, segment: number, index: number): Promise<Uint8Array | undefined> {
    // A 128 KiB shard would push the index blocks out of LevelDB's 8 MiB block cache; the OS page cache holds it anyway.
    return this.db.get(shardKey(id, segment, index), { fillCache: false });
  }

  async hasShard(id: Uint8Array, segment: number, index: number): Promise<boolean> {
    return (await this.db.has(shardKey(id, segment, index))) === true;
  }

  async countShards(id: Uint8Array): Promise<number> {
    let count = 0;
    const prefix = shardPrefix(id);
    for await (const _ of this.db.keys({ gte: prefix, lt: `${prefix.slice(0, -1)};` })) count++;
    return count;
  }

  /** The (segment, index) of every shard held of dataset `id`, in key order. */
  async listShards(id: Uint8Array): Promise<Array<[number, number]>> {
    const prefix = shardPrefix(id);
    const held: Array<[number, number]> = [];
    for await (const key of this.db.keys({ gte: prefix, lt: `${prefix.slice(0, -1)};` })) {
      const [segment, index] = key.slice(prefix.length).split(':');
      held.push([Number(segment), Number(index)]);
    }
    return held;
  }

  /** Removes one stored shard (operator tooling and fault-injection tests). */
  async deleteShard(id: Uint8Array, segment: number, index: number): Promise<void> {
    await this.db.del(shardKey(id, segment, index));
  }

  async getAttestation(id: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(`a:${toHex(id)}`);
  }

  async putAttestation(id: Uint8Array, signature: Uint8Array): Promise<void> {
    await this.db.put(`a:${toHex(id)}`, signature);
  }
}
