import type { RouteDefinition } from '../../protocol/routes.ts';

/** fastify's route options from the shared table: the table gives the 2xx body schema, fastify wants it keyed by status. */
export function fastifyRoute(def: RouteDefinition) {
  const { response, ...rest } = def.schema;
  return {
    method: def.method,
    url: def.url,
    bodyLimit: def.bodyLimit,
    schema: response ? { ...rest, response: { '2xx': response } } : rest,
  };
}
