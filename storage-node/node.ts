import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { connectRegistry, type RegistryConnection } from '../chain/rpc.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../protocol/constants.ts';
import { readNodeKey } from '../protocol/keyfile.ts';
import { nodeMetrics } from './metrics.ts';
import { createNodeServer } from './server.ts';
import { ShardStore } from './store.ts';
import { BatchingVerifier } from './verifier.ts';

export interface NodeOptions {
  port: number;
  host?: string;
  dataDir: string;
  keyFile: string;
  /** JSON-RPC URL of the chain holding the registry; without it the node runs off chain (development only). */
  rpc?: string;
  registry?: string;
  verifyThreads?: number;
  logLevel?: string;
}

export interface RunningNode {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Opens the store, starts the verifier pool and listens. Only loopback unless told otherwise. */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const blsSecretKey = await readNodeKey(options.keyFile);
  let chain: RegistryConnection | undefined;
  if (options.rpc) {
    if (!options.registry) throw new InvalidArgumentError('--rpc needs --registry ADDRESS');
    chain = await connectRegistry(options.rpc, options.registry);
  }
  await mkdir(options.dataDir, { recursive: true });
  const store = await ShardStore.open(options.dataDir);
  const metrics = nodeMetrics();
  const verifier = new BatchingVerifier({
    threads: options.verifyThreads ?? 1,
    onBatch: (_size, seconds) => {
      metrics.inc('sherd_verify_batches_total');
      metrics.inc('sherd_verify_seconds_total', seconds);
    },
  });
  try {
    await verifier.warmUp();
  } catch (error) {
    await verifier.close();
    await store.close();
    throw error;
  }
  const app = await createNodeServer({
    store,
    verifier,
    blsSecretKey,
    metrics,
    chainId: chain?.chainId ?? OFFCHAIN_CHAIN_ID,
    registry: chain ? chain.registry.address : OFFCHAIN_REGISTRY,
    chain: chain?.registry,
    logLevel: options.logLevel ?? 'warn',
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port, host });
  } catch (error) {
    await verifier.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  let closed = false;
  return {
    url: `http://${host}:${port}`,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await verifier.close();
      await store.close();
      chain?.close();
    },
  };
}
