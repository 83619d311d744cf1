import type { Registry } from '../chain/registry.ts';
import { type NodeDirectory, registeredDataset } from '../client/chain-context.ts';
import { DownloadError } from '../client/errors.ts';
import { Dataset } from '../client/dataset.ts';
import type { SegmentCache } from '../client/download.ts';
import type { LicenseAccount } from '../client/encryption.ts';
import type { NodeHealth } from '../client/node-health.ts';
import type { ReadPool } from '../client/read-pool.ts';
import { toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';

/** A dataset the gateway serves: its files, and when it was certified (Last-Modified). */
export interface ServedDataset {
  dataset: Dataset;
  certifiedAt: Date | undefined;
}

/** Why a dataset cannot be served; `status` is the HTTP status the gateway answers with. */
export class GatewayError extends SherdError {
  override name = 'GatewayError';
  constructor(
    code: string,
    message: string,
    readonly status: number,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

/** Where the gateway finds datasets; `open` is cached by the caller's choice. */
export interface DatasetSource {
  open(id: Uint8Array): Promise<ServedDataset>;
  /** The ids of the datasets there are to serve (for listings), in no particular order. */
  list(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/** How long a list of the certified datasets is reused. */
const LIST_TTL_MS = 5_000;

/** Opened datasets kept at once (each holds connection pools to its nodes). */
const MAX_OPEN_DATASETS = 32;

/** What the gateway reads on chain: registrations, node sets and endpoints, and when a dataset was certified. */
export type GatewayRegistry = NodeDirectory & Pick<Registry, 'certifiedAt' | 'certifiedDatasets'>;

export interface ChainDatasetsOptions {
  /** The decoded segments every reader shares. */
  cache: SegmentCache;
  /** What every reader learns about the nodes (slow, down, lying), shared. */
  health: NodeHealth;
  /** Segments each read fetches ahead of the bytes it sends (default 8). */
  readAhead?: number;
  /** Worker threads that fetch, check and decode segments; without one, the gateway's own thread does. */
  pool?: ReadPool;
  /** The account encrypted datasets are read with; without it, they are refused (403 encrypted_dataset). */
  license?: LicenseAccount;
}

/**
 * Datasets registered and certified on chain, opened without their manifest and kept open
 * (least recently used closed first), all reading through one segment cache and one view of
 * the nodes' health.
 */
export function chainDatasets(
  registry: GatewayRegistry,
  { cache, health, pool, license, readAhead = 8 }: ChainDatasetsOptions,
): DatasetSource {
  const open = new Map<string, Promise<ServedDataset>>();
  let listed: { at: number; ids: Promise<Uint8Array[]> } | undefined;
  const load = async (id: Uint8Array): Promise<ServedDataset> => {
    const { terms, nodes } = await registeredDataset(registry, id).catch((error: unknown) => {
      if (error instanceof DownloadError && error.code === 'dataset_not_registered') throw new GatewayError(error.code, error.message, 404);
      throw error;
    });
    if (!terms.certified) throw new GatewayError('dataset_not_certified', `dataset ${toHex(id)} is registered but not certified`, 404);
    const [dataset, certifiedAt] = await Promise.all([
      Dataset.open(id, { nodes, registration: terms, cache, health, pool, concurrency: readAhead, license }).catch((error: unknown) => {
        if (error instanceof DownloadError && (error.code === 'encrypted_dataset' || error.code === 'no_license'))
          throw new GatewayError(error.code, error.message, 403, { cause: error });
        // Too few nodes released the key now: like too few shards, a wait may help.
        if (error instanceof DownloadError && error.code === 'key_unavailable')
          throw new GatewayError('unavailable', error.message, 503, { cause: error });
        throw error;
      }),
      // Last-Modified only: a chain that cannot say leaves it out rather than failing the read.
      registry.certifiedAt(id).catch(() => undefined),
    ]);
    return { dataset, certifiedAt };
  };
  return {
    open(id) {
      const key = toHex(id);
      let entry = open.get(key);
      if (entry) {
        open.delete(key);
      } else {
        entry = load(id);
        // A failure is not kept: the next request asks the chain again.
        entry.catch(() => open.delete(key));
      }
      open.set(key, entry);
      for (const [oldest, evicted] of open) {
        if (open.size <= MAX_OPEN_DATASETS) break;
        open.delete(oldest);
        void evicted.then(
          (served) => served.dataset.close(),
          () => undefined,
        );
      }
      return entry;
    },
    list() {
      // A listing asks once a page: the chain is asked at most every few seconds (a new dataset shows within them).
      if (!listed || performance.now() - listed.at > LIST_TTL_MS) {
        const ids = registry.certifiedDatasets();
        listed = { at: performance.now(), ids };
        ids.catch(() => {
          if (listed?.ids === ids) listed = undefined;
        });
      }
      return listed.ids;
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      await Promise.allSettled(all.map(async (entry) => (await entry).dataset.close()));
    },
  };
}
