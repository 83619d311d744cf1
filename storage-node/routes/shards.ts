import type { FastifyInstance } from 'fastify';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { ApiError } from '../../protocol/errors.ts';
import { bitmapFromIndices } from '../../protocol/bitmap.ts';
import { encodeMerkleProof } from '../../proofs/merkle.ts';
import { manifestSegments, shardsPerSegment } from '../../protocol/manifest.ts';
import { shardsOnNode } from '../../protocol/placement.ts';
import { encodeShardBatch, parseShardList } from '../../protocol/shard-batch.ts';
import {
  COMMITMENT_HEADER,
  PROOF_HEADER,
  SHARD_HASH_HEADER,
  routes,
  SHARD_CONTENT_TYPE,
  type DatasetStatusResponse,
  type HeldShardsResponse,
  type PutShardResponse,
} from '../../protocol/routes.ts';
import { admitShard } from '../admission.ts';
import type { DatasetCatalog } from '../datasets.ts';
import type { Metrics } from '../metrics.ts';
import { checkShardAddress, provenShard } from '../proving.ts';
import type { ShardStore } from '../store.ts';
import type { ShardVerifier } from '../verifier.ts';
import { fastifyRoute } from './route.ts';

export interface ShardRouteDeps {
  store: Pick<ShardStore, 'getManifest' | 'countShards' | 'hasShard' | 'putShard' | 'getShard' | 'listShards'>;
  catalog: Pick<DatasetCatalog, 'get'>;
  verifier: ShardVerifier;
  metrics: Metrics;
}

type ShardParams = { dataset: string; segment: number; index: number };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A dataset's manifest and status, and its shards in (PUT, checked by admitShard) and out (GET). */
export function shardRoutes(app: FastifyInstance, deps: ShardRouteDeps): void {
  const { store, catalog, metrics } = deps;

  app.route<{ Params: { dataset: string } }>({
    ...fastifyRoute(routes.datasetStatus),
    handler: async (request): Promise<DatasetStatusResponse> => {
      const state = await catalog.get(fromHex(request.params.dataset, 32));
      const storedShards = await store.countShards(state.id);
      return {
        datasetId: toHex(state.id),
        assignedShards: state.assignedShards,
        storedShards,
        complete: storedShards >= state.assignedShards,
      };
    },
  });

  heldShardsRoute(app, deps);
  shardBatchRoute(app, deps);

  app.route<{ Params: { dataset: string } }>({
    ...fastifyRoute(routes.manifest),
    handler: async (request, reply) => {
      const bytes = await store.getManifest(fromHex(request.params.dataset, 32));
      if (!bytes) throw new ApiError('unknown_dataset', `dataset ${request.params.dataset} is not known to this node`);
      return reply.type(SHARD_CONTENT_TYPE).send(asBuffer(bytes));
    },
  });

  const admissionDeps = {
    hasShard: (id: Uint8Array, segment: number, index: number) => store.hasShard(id, segment, index),
    putShard: (id: Uint8Array, segment: number, index: number, blob: Uint8Array) => store.putShard(id, segment, index, blob),
    verifyCommitment: (blob: Uint8Array, commitment: Uint8Array) => deps.verifier.verify(blob, commitment),
  };
  app.route<{ Params: ShardParams; Body: Buffer }>({
    ...fastifyRoute(routes.putShard),
    handler: async (request): Promise<PutShardResponse> => {
      const { dataset, segment, index } = request.params;
      const state = await catalog.get(fromHex(dataset, 32)).catch((error: unknown) => {
        if (error instanceof ApiError) metrics.inc('sherd_shards_rejected_total', 1, { code: error.code });
        throw error;
      });
      const admission = await admitShard(
        state,
        { segment, index, body: request.body, proofHeader: request.headers[PROOF_HEADER] },
        admissionDeps,
      );
      if (admission.status === 'rejected') {
        metrics.inc('sherd_shards_rejected_total', 1, { code: admission.code });
        throw new ApiError(admission.code, admission.message);
      }
      if (admission.status === 'duplicate') {
        metrics.inc('sherd_shards_duplicate_total');
        return { stored: false };
      }
      metrics.inc('sherd_shards_stored_total');
      metrics.inc('sherd_bytes_received_total', request.body.length);
      return { stored: true };
    },
  });

  app.route<{ Params: ShardParams }>({
    ...fastifyRoute(routes.getShard),
    handler: async (request, reply) => {
      const { dataset, segment, index } = request.params;
      const state = await catalog.get(fromHex(dataset, 32));
      checkShardAddress(state, segment, index);
      const shard = await provenShard(store, state, segment, index);
      if (!shard) throw new ApiError('unknown_shard', `this node does not hold shard ${segment}/${index}`);
      metrics.inc('sherd_shards_served_total');
      metrics.inc('sherd_bytes_served_total', shard.blob.length);
      // What a reader needs to check the blob against the content root alone: its leaf and the leaf's proof.
      void reply.header(COMMITMENT_HEADER, toHex(shard.commitment));
      void reply.header(SHARD_HASH_HEADER, toHex(shard.shardHash));
      void reply.header(PROOF_HEADER, toHex(encodeMerkleProof(shard.inclusionProof)));
      return reply.type(SHARD_CONTENT_TYPE).send(asBuffer(shard.blob));
    },
  });
}

/** GET …/shard-batch: several shards in one answer, each as GET …/shards/S/I would give it (a missing one marked, not failing the rest). */
function shardBatchRoute(app: FastifyInstance, deps: Pick<ShardRouteDeps, 'store' | 'catalog' | 'metrics'>): void {
  app.route<{ Params: { dataset: string }; Querystring: { shards: string } }>({
    ...fastifyRoute(routes.getShardBatch),
    handler: async (request, reply) => {
      const state = await deps.catalog.get(fromHex(request.params.dataset, 32));
      // The route's schema has checked the list's form (SHARD_LIST_PATTERN); its numbers are checked here.
      const wanted = parseShardList(request.query.shards);
      for (const [segment, index] of wanted) checkShardAddress(state, segment, index);
      const shards = await Promise.all(wanted.map(([segment, index]) => provenShard(deps.store, state, segment, index)));
      const served = shards.filter((shard) => shard !== undefined);
      deps.metrics.inc('sherd_shards_served_total', served.length);
      deps.metrics.inc(
        'sherd_bytes_served_total',
        served.reduce((sum, shard) => sum + shard.blob.length, 0),
      );
      return reply.type(SHARD_CONTENT_TYPE).send(asBuffer(encodeShardBatch(shards)));
    },
  });
}

/** GET …/shards: which of its assigned shards the node holds, as a bitmap in upload order (an upload run again sends the rest). */
function heldShardsRoute(app: FastifyInstance, deps: Pick<ShardRouteDeps, 'store' | 'catalog'>): void {
  app.route<{ Params: { dataset: string } }>({
    ...fastifyRoute(routes.heldShards),
    handler: async (request): Promise<HeldShardsResponse> => {
      const state = await deps.catalog.get(fromHex(request.params.dataset, 32));
      const { manifest } = state;
      const held = new Set((await deps.store.listShards(state.id)).map(([s, i]) => `${s}/${i}`));
      const assigned = [...shardsOnNode(state.nodeIndex, manifestSegments(manifest), shardsPerSegment(manifest), manifest.nodes.length)];
      const bits = assigned.flatMap(([s, i], j) => (held.has(`${s}/${i}`) ? [j] : []));
      const bitmap = bitmapFromIndices(bits, assigned.length);
      return { datasetId: toHex(state.id), assignedShards: assigned.length, held: Buffer.from(bitmap).toString('base64') };
    },
  });
}
