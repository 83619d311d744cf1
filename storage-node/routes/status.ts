import type { FastifyInstance } from 'fastify';
import { toHex } from '../../proofs/bytes.ts';
import { PROTOCOL_VERSION } from '../../protocol/constants.ts';
import { routes, type HealthResponse, type InfoResponse } from '../../protocol/routes.ts';
import type { Metrics } from '../metrics.ts';
import type { ShardStore } from '../store.ts';
import { fastifyRoute } from './route.ts';

export interface StatusRouteDeps {
  store: Pick<ShardStore, 'listDatasets'>;
  metrics: Metrics;
  publicKey: Uint8Array;
  proofOfPossession: Uint8Array;
  encryptionKey: Uint8Array;
  version: string;
}

/** GET /health, /metrics and /v1/info: what the node is, and how it is doing. */
export function statusRoutes(app: FastifyInstance, deps: StatusRouteDeps): void {
  app.route({
    ...fastifyRoute(routes.health),
    handler: async (): Promise<HealthResponse> => ({ status: 'ok', datasets: (await deps.store.listDatasets()).length }),
  });
  app.route({
    ...fastifyRoute(routes.metrics),
    handler: async (_request, reply) => reply.type('text/plain; version=0.0.4').send(deps.metrics.render()),
  });
  const info: InfoResponse = {
    publicKey: toHex(deps.publicKey),
    proofOfPossession: toHex(deps.proofOfPossession),
    encryptionKey: toHex(deps.encryptionKey),
    protocol: PROTOCOL_VERSION,
    version: deps.version,
  };
  app.route({ ...fastifyRoute(routes.info), handler: async () => info });
}
