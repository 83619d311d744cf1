import type { FastifyInstance } from 'fastify';
import { fromHex } from '../../proofs/bytes.ts';
import { ApiError, type ApiErrorCode } from '../../protocol/errors.ts';
import { routes, type SampleAnswer, type SampleFailure, type SampleRequest, type SamplesResponse } from '../../protocol/routes.ts';
import type { DatasetCatalog, DatasetState } from '../datasets.ts';
import type { Metrics } from '../metrics.ts';
import { checkPoint, checkShardAddress, type DamageReport, openingToJson, openShard } from '../proving.ts';
import type { ShardStore } from '../store.ts';
import type { ShardOpener } from '../verifier.ts';
import { fastifyRoute } from './route.ts';

export interface SampleRouteDeps {
  store: Pick<ShardStore, 'getShard'>;
  catalog: Pick<DatasetCatalog, 'get'>;
  opener: ShardOpener;
  metrics: Metrics;
  /** Sample openings that may wait for the KZG pool at once (default 256); more get 503. */
  maxPendingOpenings?: number;
  /** Hears of a shard found missing or damaged. */
  onDamaged?: DamageReport;
}

type Planned = { segment: number; index: number; z: Uint8Array };

/**
 * Samples are open to anyone and cost ~65 ms of a core each, so past `maxPendingOpenings`
 * waiting for the KZG pool new requests are turned away (503) rather than queued without bound.
 */
function sampleAnswerer(deps: SampleRouteDeps) {
  const maxPending = deps.maxPendingOpenings ?? 256;
  let pending = 0;
  return async (state: DatasetState, samples: Planned[]): Promise<Array<SampleAnswer | SampleFailure>> => {
    if (pending + samples.length > maxPending)
      throw new ApiError('unavailable', `${pending} samples are being answered; try again shortly`);
    pending += samples.length;
    try {
      return await Promise.all(
        samples.map(async ({ segment, index, z }) => {
          try {
            const opening = openingToJson(await openShard(deps, state, segment, index, z));
            deps.metrics.inc('sherd_samples_answered_total');
            return opening;
          } catch (error) {
            if (!(error instanceof ApiError)) throw error;
            deps.metrics.inc('sherd_samples_failed_total', 1, { code: error.code });
            return { segment, index, error: error.code, message: error.message };
          }
        }),
      );
    } finally {
      pending -= samples.length;
    }
  };
}

/**
 * Asking for a shard that is not placed here is the requester's mistake and fails the request
 * before any work; a shard that should be here and is not is the node's failure, per sample.
 */
function plan(state: DatasetState, { segment, index, z }: SampleRequest): Planned {
  checkShardAddress(state, segment, index);
  const point = fromHex(z, 32);
  checkPoint(point);
  return { segment, index, z: point };
}

/** GET …/shards/:segment/:index/sample?z= (one) and POST …/samples (up to 64): KZG openings with their proofs. */
export function sampleRoutes(app: FastifyInstance, deps: SampleRouteDeps): void {
  const answer = sampleAnswerer(deps);
  app.route<{ Params: { dataset: string; segment: number; index: number }; Querystring: { z: string } }>({
    ...fastifyRoute(routes.sample),
    handler: async (request): Promise<SampleAnswer> => {
      const { dataset, segment, index } = request.params;
      const state = await deps.catalog.get(fromHex(dataset, 32));
      const [result] = await answer(state, [plan(state, { segment, index, z: request.query.z })]);
      if ('error' in result!) throw new ApiError(result.error as ApiErrorCode, result.message);
      return result!;
    },
  });
  app.route<{ Params: { dataset: string }; Body: { samples: SampleRequest[] } }>({
    ...fastifyRoute(routes.samples),
    handler: async (request): Promise<SamplesResponse> => {
      const state = await deps.catalog.get(fromHex(request.params.dataset, 32));
      const planned = request.body.samples.map((sample) => plan(state, sample));
      return { answers: await answer(state, planned) };
    },
  });
}
