import { mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NonceManager, Wallet } from 'ethers';
import { Licenses } from '../chain/licenses.ts';
import { connectRegistry, latestBlock, type RegistryConnection } from '../chain/rpc.ts';
import type { Registry } from '../chain/registry.ts';
import { blsPublicKey, blsSign } from '../proofs/bls.ts';
import { toHex } from '../proofs/bytes.ts';
import { attestationMessage } from '../protocol/messages.ts';
import type { DamageReport } from './proving.ts';
import { type RepairReport, Repairer } from './repair.ts';
import { DEFAULT_SCRUB_MB_S, Scrubber } from './scrub.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { OFFCHAIN_CHAIN_ID, OFFCHAIN_REGISTRY } from '../protocol/constants.ts';
import { ChallengeResponder } from './challenger.ts';
import { DatasetCatalog } from './datasets.ts';
import { type Metrics, nodeMetrics } from './metrics.ts';
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
  /** Whether the node repairs itself (default true); an operator may turn it off, and is then slashed for what it loses. */
  repair?: boolean;
  /** Scrub rate: stored shards re-read and re-hashed per second, in MB (default 4; 0 turns the scrub off). */
  scrubMbPerSecond?: number;
  /** How often repair looks at the chain for departed members, new slots and new datasets (default 2000 ms). */
  repairPollMs?: number;
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
    // Samples report damaged shards to the repairer, which starts after the server listens.
    const damaged: { report?: DamageReport } = {};
    const server = await createNodeServer({
      store,
      verifier,
      opener: verifier,
      encoding: verifier,
      catalog,
      onDamaged: (state, segment, index) => damaged.report?.(state, segment, index),
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
    if (chain) {
      const services = startChainServices(chain, {
        options,
        store,
        catalog,
        verifier,
        metrics,
        log: (level, message) => server.log[level](message),
      });
      const { repairer } = services;
      if (repairer) damaged.report = (state, segment, index) => repairer.enqueue(state, segment, index, 'sample');
      opened.push(...services.closers);
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

interface ChainServiceDeps {
  options: NodeOptions;
  store: ShardStore;
  catalog: DatasetCatalog;
  verifier: BatchingVerifier;
  metrics: Metrics;
  log: (level: 'info' | 'warn', message: string) => void;
}

/**
 * What a node on chain runs beside its server: repair (a start-up pass, then a watch on the
 * chain), the scrub, and, with an operator key, the challenge responder. Returns their closers
 * in start order (closeAll stops them newest first, before the server and the store).
 */
function startChainServices(
  chain: RegistryConnection,
  { options, store, catalog, verifier, metrics, log }: ChainServiceDeps,
): { repairer: Repairer | undefined; closers: Array<() => Promise<void>> } {
  const { provider, registry } = chain;
  const { blsSecretKey, accountKey } = options;
  const publicKey = blsPublicKey(blsSecretKey);
  const blockNumber = () => latestBlock(provider);
  const writer = accountKey ? registry.connect(new NonceManager(new Wallet(accountKey, provider))) : undefined;
  const closers: Array<() => Promise<void>> = [];
  const repairer = options.repair === false ? undefined : startRepair();
  if (!writer) {
    log('warn', 'no --account-key: this node will not answer its storage challenges');
    return { repairer, closers };
  }
  const responder = new ChallengeResponder({
    registry,
    writer,
    blockNumber,
    catalog,
    store,
    opener: verifier,
    publicKey,
    metrics,
    pollMs: options.pollMs,
    onDamaged: repairer && ((state, segment, index) => repairer.enqueue(state, segment, index, 'challenge')),
    log,
  });
  responder.start();
  closers.push(() => responder.stop());
  return { repairer, closers };

  function startRepair(): Repairer {
    const repairer = repairerFor(chain, { store, catalog, verifier, metrics, log }, options, writer);
    repairer.start(options.repairPollMs);
    const certified = certifiedOnChain(registry);
    const scrubber = new Scrubber({
      store,
      catalog,
      repairer,
      certified,
      metrics,
      bytesPerSecond: (options.scrubMbPerSecond ?? DEFAULT_SCRUB_MB_S) * 1e6,
      log,
    });
    scrubber.start();
    closers.push(
      () => repairer.stop(),
      () => scrubber.stop(),
    );
    return repairer;
  }
}

/** The repairer of a node: its store and catalog, the chain it reads, its key to confirm replacements with. */
function repairerFor(
  { provider, registry, chainId }: RegistryConnection,
  { store, catalog, verifier, metrics, log }: Omit<ChainServiceDeps, 'options'>,
  { blsSecretKey }: Pick<NodeOptions, 'blsSecretKey'>,
  writer: Registry | undefined,
): Repairer {
  return new Repairer({
    store,
    catalog,
    chain: registry,
    writer,
    blockNumber: () => latestBlock(provider),
    publicKey: blsPublicKey(blsSecretKey),
    signAttestation: (id) => blsSign(blsSecretKey, attestationMessage(chainId, registry.address, id)),
    encoding: verifier,
    metrics,
    log,
  });
}

/** Whether a dataset is certified, asked of the chain until it is (certification is for good). */
function certifiedOnChain(registry: Pick<Registry, 'dataset'>): (id: Uint8Array) => Promise<boolean> {
  const known = new Set<string>();
  return async (id) => {
    const key = toHex(id);
    if (known.has(key)) return true;
    const certified = (await registry.dataset(id)).certified;
    if (certified) known.add(key);
    return certified;
  };
}

export interface RepairPassOptions {
  dataDir: string;
  blsSecretKey: Uint8Array;
  rpc: string;
  registry: string;
  /** To confirm a slot taken over as a replacement; without it, the pass rebuilds but does not confirm. */
  accountKey?: string;
  /** Only this dataset. */
  root?: Uint8Array;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * One repair pass over a stopped node's data directory (`sherd node repair`): what a running
 * node does at start-up, then exits. The store cannot be shared with a running node (LevelDB
 * holds a lock): a running node repairs by itself.
 */
export async function runRepairPass(options: RepairPassOptions): Promise<RepairReport> {
  const connection = await connectRegistry(options.rpc, options.registry);
  const { provider, registry } = connection;
  try {
    const store = await ShardStore.open(options.dataDir);
    const verifier = new BatchingVerifier({ threads: 1 });
    try {
      const catalog = new DatasetCatalog(store, blsPublicKey(options.blsSecretKey));
      const writer = options.accountKey ? registry.connect(new NonceManager(new Wallet(options.accountKey, provider))) : undefined;
      const log = options.log ?? (() => undefined);
      const repairer = repairerFor(connection, { store, catalog, verifier, metrics: nodeMetrics(), log }, options, writer);
      return await repairer.pass({ root: options.root });
    } finally {
      await verifier.close();
      await store.close();
    }
  } finally {
    await connection.close();
  }
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
