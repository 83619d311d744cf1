import { Level } from 'level';

/**
 * Typed repository in front of LevelDB. Keys are strings namespaced by kind and dataset:
 *   d:<root>:manifest   encoded manifest
 *   d:<root>:meta       JSON {uploader, announcedAt}
 *   s:<root>:<segment, 10 digits>:<index, 3 digits>   the verified blob
 *   a:<root>            this node's BLS attestation
 * Only verified shards are written, each in one atomic put; so "present" means "verified".
 */
export interface DatasetMeta {
  uploader: string;
  announcedAt: string;
}

const shardKey = (root: string, segment: number, index: number) =>
  `s:${root}:${String(segment).padStart(10, '0')}:${String(index).padStart(3, '0')}`;

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

  async putDataset(root: string, manifest: Uint8Array, meta: DatasetMeta): Promise<void> {
    await this.db.batch([
      { type: 'put', key: `d:${root}:manifest`, value: manifest },
      { type: 'put', key: `d:${root}:meta`, value: new TextEncoder().encode(JSON.stringify(meta)) },
    ]);
  }

  async getManifest(root: string): Promise<Uint8Array | undefined> {
    return this.db.get(`d:${root}:manifest`);
  }

  async getMeta(root: string): Promise<DatasetMeta | undefined> {
    const raw = await this.db.get(`d:${root}:meta`);
    return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as DatasetMeta);
  }

  async listDatasets(): Promise<string[]> {
    const roots: string[] = [];
    for await (const key of this.db.keys({ gte: 'd:', lt: 'd;' })) {
      if (key.endsWith(':manifest')) roots.push(key.slice(2, -':manifest'.length));
    }
    return roots;
  }

  async putShard(root: string, segment: number, index: number, blob: Uint8Array): Promise<void> {
    await this.db.put(shardKey(root, segment, index), blob);
  }

  async getShard(root: string, segment: number, index: number): Promise<Uint8Array | undefined> {
    return this.db.get(shardKey(root, segment, index));
  }

  async hasShard(root: string, segment: number, index: number): Promise<boolean> {
    return (await this.db.has(shardKey(root, segment, index))) === true;
  }

  async countShards(root: string): Promise<number> {
    let count = 0;
    for await (const _ of this.db.keys({ gte: `s:${root}:`, lt: `s:${root};` })) count++;
    return count;
  }

  /** Removes one stored shard (operator tooling and fault-injection tests). */
  async deleteShard(root: string, segment: number, index: number): Promise<void> {
    await this.db.del(shardKey(root, segment, index));
  }

  async getAttestation(root: string): Promise<Uint8Array | undefined> {
    return this.db.get(`a:${root}`);
  }

  async putAttestation(root: string, signature: Uint8Array): Promise<void> {
    await this.db.put(`a:${root}`, signature);
  }
}
