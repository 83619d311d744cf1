import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
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
  chainId?: bigint;
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
    chainId: options.chainId ?? OFFCHAIN_CHAIN_ID,
    registry: options.registry ?? OFFCHAIN_REGISTRY,
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
    },
  };
}
