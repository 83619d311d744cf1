import type { FastifyInstance } from 'fastify';
import { blsSign } from '../../proofs/bls.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { ApiError } from '../../protocol/errors.ts';
import { attestationMessage } from '../../protocol/messages.ts';
import { routes, type AttestationResponse } from '../../protocol/routes.ts';
import type { DatasetCatalog } from '../datasets.ts';
import type { Metrics } from '../metrics.ts';
import type { ShardStore } from '../store.ts';
import { fastifyRoute } from './route.ts';

export interface AttestationRouteDeps {
  store: Pick<ShardStore, 'getAttestation' | 'putAttestation' | 'countShards'>;
  catalog: Pick<DatasetCatalog, 'get'>;
  metrics: Metrics;
  blsSecretKey: Uint8Array;
  publicKey: Uint8Array;
  chainId: bigint;
  registryAddress: string;
}

/** GET …/attestation: the node's BLS signature over the dataset, only once it holds every shard placed on it; kept once made. */
export function attestationRoute(app: FastifyInstance, deps: AttestationRouteDeps): void {
  app.route<{ Params: { dataset: string } }>({
    ...fastifyRoute(routes.attestation),
    handler: async (request): Promise<AttestationResponse> => {
      const state = await deps.catalog.get(fromHex(request.params.dataset, 32));
      let signature = await deps.store.getAttestation(state.id);
      if (!signature) {
        const stored = await deps.store.countShards(state.id);
        if (stored < state.assignedShards) {
          throw new ApiError('dataset_incomplete', `this node holds ${stored} of its ${state.assignedShards} shards of the dataset`);
        }
        signature = blsSign(deps.blsSecretKey, attestationMessage(deps.chainId, deps.registryAddress, state.id));
        await deps.store.putAttestation(state.id, signature);
        deps.metrics.inc('sherd_attestations_signed_total');
      }
      return {
        datasetId: toHex(state.id),
        publicKey: toHex(deps.publicKey),
        signature: toHex(signature),
        chainId: deps.chainId.toString(),
        registryAddress: deps.registryAddress,
      };
    },
  });
}
