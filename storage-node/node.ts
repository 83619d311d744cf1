import { mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NonceManager, Wallet } from 'ethers';
import { Licenses } from '../chain/licenses.ts';
import { connectRegistry, latestBlock, type RegistryConnection } from '../chain/rpc.ts';
import { blsPublicKey } from '../proofs/bls.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../protocol/constants.ts';
import { ChallengeResponder } from './challenger.ts';
import { DatasetCatalog } from './datasets.ts';
import { nodeMetrics } from './metrics.ts';
import { createNodeServer, type LicenseChainView } from './server.ts';
import { ShardStore } from './store.ts';
import { BatchingVerifier } from './verifier.ts';

export interface NodeOptions {
  port: number;
  host?: string;
  dataDir: string;
  /** The node's BLS secret key (32 bytes): it signs attestations. */
  blsSecretKey: Uint8Array;
  /** JSON-RPC URL of the chain holding the registry; without it the node runs off chain (development only). */
  rpc?: string;
  registry?: string;
  /**
   * The operator's secp256k1 key (0x hex): pays the gas of challenge answers and reports.
   * Without it, a node on chain serves data but does not answer its challenges (and will be slashed).
   */
  accountKey?: string;
  /** How often the challenge responder looks at the chain (default 1000 ms). */
  pollMs?: number;
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
  const { blsSecretKey, accountKey } = options;
  const host = options.host ?? '127.0.0.1';
  // Everything opened so far is closed, newest first, if a later step fails, and by close().
  const opened: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  let app: FastifyInstance;
  let chain: RegistryConnection | undefined;
  let createdDir: string | undefined;
  try {
    if (accountKey && !options.rpc) throw new InvalidArgumentError('--account-key needs --rpc and --registry');
    if (options.rpc) {
      if (!options.registry) throw new InvalidArgumentError('--rpc needs --registry ADDRESS');
      const connection = await connectRegistry(options.rpc, options.registry);
      chain = connection;
      opened.push(() => connection.close());
    }
    // mkdir returns the first directory it made: a node that fails to start removes it again (below).
    createdDir = await mkdir(options.dataDir, { recursive: true });
    const store = await ShardStore.open(options.dataDir);
    opened.push(() => store.close());
    const metrics = nodeMetrics();
    const verifier = new BatchingVerifier({
      threads: options.verifyThreads ?? 1,
      onBatch: (_size, seconds) => {
        metrics.inc('sherd_verify_batches_total');
        metrics.inc('sherd_verify_seconds_total', seconds);
      },
    });
    opened.push(() => verifier.close());
    await verifier.warmUp();
    const catalog = new DatasetCatalog(store, blsPublicKey(blsSecretKey));
    const server = await createNodeServer({
      store,
      verifier,
      opener: verifier,
      encoding: verifier,
      catalog,
      blsSecretKey,
      metrics,
      chainId: chain?.chainId ?? OFFCHAIN_CHAIN_ID,
      registryAddress: chain ? chain.registry.address : OFFCHAIN_REGISTRY,
      registry: chain?.registry,
      licenses: chain ? await licenseChainView(chain) : undefined,
      logLevel: options.logLevel ?? 'warn',
    });
    app = server;
    opened.push(() => server.close());
    await server.listen({ port: options.port, host });
    if (chain && accountKey) {
      const { provider, registry } = chain;
      const responder = new ChallengeResponder({
        registry,
        writer: registry.connect(new NonceManager(new Wallet(accountKey, provider))),
        blockNumber: () => latestBlock(provider),
        catalog,
        store,
        opener: verifier,
        publicKey: blsPublicKey(blsSecretKey),
        metrics,
        pollMs: options.pollMs,
        log: (level, message) => server.log[level](message),
      });
      responder.start();
      // Stopped before the server and the store it reads close (closeAll runs newest first).
      opened.push(() => responder.stop());
    } else if (chain) {
      server.log.warn('no --account-key: this node will not answer its storage challenges');
    }
  } catch (error) {
    await closeAll();
    // Only on a failed start, never on close(): the data dir holds nothing but what this attempt wrote. Its
    // parents that this attempt made go too, one by one and only while empty: another node may be using one.
    if (createdDir) await removeCreated(options.dataDir, createdDir);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://${host}:${port}`, app, close: closeAll };
}

/** The node's view of the deployment's license registry: licenses, and the head block that key requests must be recent to. */
async function licenseChainView({ registry, provider, chainId }: RegistryConnection): Promise<LicenseChainView> {
  const address = await registry.licensesAddress();
  const licenses = Licenses.at(address, provider);
  // The head, read at most once a second (every key request needs it, and a flood of requests should not become a flood of
  // RPCs), and again whenever a request names a block past the one remembered.
  let head: { at: number; block: number } | undefined;
  const blockNumber = async (atLeast = 0) => {
    if (head && head.block >= atLeast && performance.now() - head.at < 1_000) return head.block;
    const block = await latestBlock(provider);
    head = { at: performance.now(), block };
    return block;
  };
  return { domain: { chainId, licenses: address }, hasLicense: (id, account) => licenses.hasLicense(id, account), blockNumber };
}

/** Removes `dataDir`, then each parent up to `firstCreated` (the first directory mkdir made) while it is empty. */
async function removeCreated(dataDir: string, firstCreated: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  for (let dir = dirname(resolve(dataDir)); resolve(firstCreated).length <= dir.length && dir !== dirname(dir); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty, or gone: leave it
    }
  }
}
