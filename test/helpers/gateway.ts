import type { FastifyInstance } from 'fastify';
import type { GatewayRegistry } from '../../gateway/datasets.ts';
import { createChainGateway } from '../../gateway/server.ts';

/** A gateway on 127.0.0.1 with a cache of its own of `cacheBytes` (a new one reads every segment from the nodes), and its URL. */
export async function listeningGateway(registry: GatewayRegistry, cacheBytes = 64 * 1024 * 1024): Promise<[FastifyInstance, string]> {
  const app = await createChainGateway(registry, { cacheBytes });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return [app, `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`];
}
