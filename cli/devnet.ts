import { nodeEncryptionKey } from '../protocol/encryption.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NonceManager, Wallet } from 'ethers';
import { startLocalChain, type LocalChain } from './local-chain.ts';
import { deployRegistry } from '../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS, DEVNET_REGISTRY_PARAMETERS, epochAt, epochWindow, type Registry } from '../chain/registry.ts';
import { accountAddress, generateAccountKey } from '../proofs/account.ts';
import { blsProvePossession, blsPublicKey, generateBlsKeyPair } from '../proofs/bls.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { DEFAULT_SCRUB_MB_S } from '../storage-node/scrub.ts';
import { DevnetError, type DevnetFile, type DevnetNodeEntry } from './devnet-file.ts';
import { readNodeKey, writeNodeKey } from './keyfile.ts';
import type { NodeEndpoint } from '../client/types.ts';
import type { UploadChain } from '../client/upload.ts';

export const SHERD_BIN = fileURLToPath(new URL('../bin/sherd.js', import.meta.url));
export {
  DEFAULT_DEVNET_DIR,
  DEFAULT_DEVNET_FILE,
  DevnetError,
  readDevnetFile,
  type DevnetFile,
  type DevnetNodeEntry,
} from './devnet-file.ts';

/** Where a devnet node's process id is kept while it runs. */
export function nodePidFile(node: Pick<DevnetNodeEntry, 'logFile'>): string {
  return join(dirname(node.logFile), 'node.pid');
}

export interface DevnetOptions {
  nodes: number;
  dir: string;
  verifyThreads?: number;
  /** How often nodes look at the chain for challenges (default 250 ms: devnet epochs are short). */
  pollMs?: number;
  /**
   * Mine a block every this many seconds, so epochs pass on their own (`sherd devnet`); by
   * default blocks come only with transactions and chain.mineTo().
   */
  blockSeconds?: number;
  /** Seconds to wait for each node to listen. */
  startTimeoutSeconds?: number;
}

export interface ChallengeEpochReport {
  epoch: number;
  opensAfter: number;
  closesAt: number;
  /** Members with a challenge this epoch. */
  challenges: number;
  answered: number[];
  missed: number[];
  rewardsPaidWei: bigint;
  /** Per member: the shard drawn and how it ended. */
  challenged: Array<{ segment: number; index: number; nodeId: number; status: string }>;
}

/**
 * Node `index`'s files under `dir`: its BLS key (kept if one is there), its operator account
 * (funded here with twice the minimum stake), its LevelDB directory and log. Its URL is set
 * once it listens.
 */
async function createNodeEntry(dir: string, index: number, chain: LocalChain): Promise<DevnetNodeEntry> {
  const nodeDir = join(dir, `node-${index}`);
  await mkdir(nodeDir, { recursive: true });
  const keyFile = join(nodeDir, 'key.json');
  let secretKey: Uint8Array;
  try {
    secretKey = await readNodeKey(keyFile);
  } catch {
    secretKey = generateBlsKeyPair().secretKey;
    await writeNodeKey(keyFile, secretKey);
  }
  const funder = await chain.funder();
  const operator = new Wallet(toHex(generateAccountKey()), chain.provider);
  const operatorKeyFile = join(nodeDir, 'operator.key');
  await writeFile(operatorKeyFile, `${operator.privateKey}\n`, { mode: 0o600 });
  await (await funder.sendTransaction({ to: operator.address, value: DEFAULT_REGISTRY_PARAMETERS.minStake * 2n })).wait();
  return {
    index,
    // Port 0 until the node listens: it picks a free port itself and says which (no reserve-then-bind race).
    url: '',
    port: 0,
    publicKey: toHex(blsPublicKey(secretKey)),
    proofOfPossession: toHex(blsProvePossession(secretKey)),
    encryptionKey: toHex(nodeEncryptionKey(secretKey)),
    dataDir: join(nodeDir, 'db'),
    keyFile,
    logFile: join(nodeDir, 'node.log'),
    registryId: index, // a fresh registry numbers nodes in registration order
    operator: operator.address,
    operatorKeyFile,
  };
}

export interface ChallengeEpochOptions {
  answerTimeoutMs?: number;
  settleTimeoutMs?: number;
  onStep?: (message: string) => void;
}

/** Polls `done` every 200 ms; false if it is still not true after `timeoutMs`. */
async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * A local network on 127.0.0.1: a Prague EVM chain served from this process with the
 * registry deployed, and real storage-node processes, each with its own BLS key, operator
 * account (funded, staked, registered on chain), LevelDB directory and log file. Used by
 * `sherd devnet`, `sherd demo` and the integration tests.
 */
export class Devnet {
  private readonly children: Array<ChildProcess | undefined>;

  private constructor(
    readonly file: DevnetFile,
    readonly path: string,
    private readonly options: DevnetOptions,
    readonly chain: LocalChain,
    readonly registry: Registry,
  ) {
    this.children = file.nodes.map(() => undefined);
  }

  static async start(options: DevnetOptions): Promise<Devnet> {
    if (!Number.isInteger(options.nodes) || options.nodes < 2 || options.nodes > 256) {
      throw new DevnetError('devnet_invalid', `a devnet needs between 2 and 256 nodes, got ${options.nodes}`);
    }
    const dir = resolve(options.dir);
    await mkdir(dir, { recursive: true });
    let devnet: Devnet;
    const chain = await startLocalChain();
    try {
      const funder = await chain.funder();
      const registry = await deployRegistry(funder, DEVNET_REGISTRY_PARAMETERS);
      const uploaderKey = generateAccountKey();
      await (await funder.sendTransaction({ to: accountAddress(uploaderKey), value: 10n ** 22n })).wait();
      // A second funded account, to try buying a license to the uploader's datasets (README "License a dataset").
      const buyerKey = generateAccountKey();
      await (await funder.sendTransaction({ to: accountAddress(buyerKey), value: 10n ** 21n })).wait();
      await writeFile(join(dir, 'buyer.key'), `${toHex(buyerKey)}\n`, { mode: 0o600 });
      const nodes: DevnetNodeEntry[] = [];
      for (let i = 0; i < options.nodes; i++) nodes.push(await createNodeEntry(dir, i, chain));
      const file: DevnetFile = {
        version: 1,
        rpc: chain.url,
        chainId: chain.chainId.toString(),
        registryAddress: registry.address,
        uploaderKey: toHex(uploaderKey),
        uploader: accountAddress(uploaderKey),
        nodes,
      };
      devnet = new Devnet(file, join(dir, 'devnet.json'), options, chain, registry);
    } catch (error) {
      await chain.close();
      throw error;
    }
    try {
      if (options.blockSeconds) await chain.provider.send('evm_setIntervalMining', [options.blockSeconds * 1000]);
      await Promise.all(devnet.file.nodes.map((_, i) => devnet.startNode(i)));
      await devnet.registerNodes();
    } catch (error) {
      await devnet.stop();
      throw error;
    }
    await devnet.saveFile();
    return devnet;
  }

  get endpoints(): NodeEndpoint[] {
    return this.file.nodes.map(({ url, publicKey, proofOfPossession, encryptionKey }) => ({
      url,
      publicKey,
      proofOfPossession,
      encryptionKey,
    }));
  }

  get uploaderKey(): Uint8Array {
    return fromHex(this.file.uploaderKey, 32);
  }

  private uploaderChain: UploadChain | undefined;

  /** The upload's chain side: the registry connected to the devnet uploader's wallet (one nonce manager for all callers). */
  uploadChain(): UploadChain {
    this.uploaderChain ??= {
      registry: this.registry.connect(new NonceManager(new Wallet(this.file.uploaderKey, this.chain.provider))),
      chainId: this.chain.chainId,
    };
    return this.uploaderChain;
  }

  /**
   * Starts node `index` (again), on the same port and data directory; `args` go to its
   * `sherd node start` (say, --no-repair for a node that will not heal).
   */
  async startNode(index: number, options: { args?: string[] } = {}): Promise<void> {
    const node = this.file.nodes[index];
    if (!node) throw new DevnetError('devnet_invalid', `no node ${index}`);
    if (this.children[index]) return;
    const log = openSync(node.logFile, 'a');
    const args = [
      SHERD_BIN,
      'node',
      'start',
      '--port',
      String(node.port),
      '--data-dir',
      node.dataDir,
      '--key',
      node.keyFile,
      '--rpc',
      this.file.rpc,
      '--registry',
      this.file.registryAddress,
      '--account-key',
      node.operatorKeyFile,
      '--poll-ms',
      String(this.options.pollMs ?? 250),
      // The nodes share one machine and its disk, where each would have its own: one node's scrub rate in all.
      '--scrub-mb-s',
      String(DEFAULT_SCRUB_MB_S / this.file.nodes.length),
      '--json',
    ];
    if (this.options.verifyThreads) args.push('--verify-threads', String(this.options.verifyThreads));
    args.push(...(options.args ?? []));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', log] });
    closeSync(log);
    liveChildren.add(child);
    this.children[index] = child;
    // `sherd devnet stop` finds nodes by these files, even if this process died without stopping them.
    const pidFile = nodePidFile(node);
    writeFileSync(pidFile, `${child.pid}\n`);
    child.once('exit', () => {
      liveChildren.delete(child);
      if (this.children[index] === child) this.children[index] = undefined;
      rmSync(pidFile, { force: true });
    });
    await new Promise<void>((resolveReady, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(
        () => {
          child.kill('SIGKILL');
          reject(new DevnetError('node_start_timeout', `node ${index} did not start listening; see ${node.logFile}`));
        },
        (this.options.startTimeoutSeconds ?? 60) * 1000,
      );
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new DevnetError('node_exited', `node ${index} exited with code ${code} while starting; see ${node.logFile}`));
      };
      child.once('exit', onExit);
      lines.on('line', (line) => {
        if (line.includes('"listening"')) {
          const url = (JSON.parse(line) as { url: string }).url;
          if (node.port === 0) {
            node.url = url;
            node.port = Number(new URL(url).port);
          }
          clearTimeout(timer);
          child.off('exit', onExit);
          resolveReady();
        }
      });
    });
  }

  /** Stakes and registers every node with the endpoint it listens on, in index order (registry ids 0, 1, …). */
  async registerNodes(): Promise<void> {
    for (const node of this.file.nodes) await this.registerNode(node);
  }

  private async operator(node: DevnetNodeEntry): Promise<Wallet> {
    return new Wallet((await readFile(node.operatorKeyFile, 'utf8')).trim(), this.chain.provider);
  }

  private async registerNode(node: DevnetNodeEntry): Promise<void> {
    await this.registry
      .connect(await this.operator(node))
      .registerNode(
        fromHex(node.publicKey, 48),
        fromHex(node.proofOfPossession, 96),
        fromHex(node.encryptionKey, 32),
        node.url,
        DEFAULT_REGISTRY_PARAMETERS.minStake,
      );
  }

  /** A new node joins: its files, its process, and its registration (the next registry id); returns its index. */
  async addNode(options: { args?: string[] } = {}): Promise<number> {
    const index = this.file.nodes.length;
    const entry = await createNodeEntry(dirname(this.path), index, this.chain);
    entry.registryId = await this.registry.nodeCount();
    this.file.nodes.push(entry);
    this.children.push(undefined);
    await this.startNode(index, options);
    await this.registerNode(entry);
    await this.saveFile();
    return index;
  }

  /** Node `index`'s operator asks to leave the registry (requestExit): it is no longer active. The process keeps running. */
  async exitNode(index: number): Promise<void> {
    const node = this.file.nodes[index];
    if (!node) throw new DevnetError('devnet_invalid', `no node ${index}`);
    await this.registry.connect(await this.operator(node)).requestExit(node.registryId);
  }

  private async saveFile(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.file, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }

  /**
   * Freezes node `index` (SIGSTOP) or lets it go on (SIGCONT): a frozen node accepts
   * connections and answers nothing, as a hung disk or a long pause would.
   */
  pauseNode(index: number, paused: boolean): void {
    const child = this.children[index];
    if (!child) throw new DevnetError('devnet_invalid', `node ${index} is not running`);
    child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Stops node `index` gracefully (SIGTERM), or at once with `kill: true` (SIGKILL). */
  async stopNode(index: number, options: { kill?: boolean } = {}): Promise<void> {
    const child = this.children[index];
    if (!child) return;
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    child.kill('SIGCONT'); // a paused node could not act on SIGTERM
    child.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Runs one challenge epoch of a certified dataset with the nodes as they are: mines to the
   * next epoch whose challenges are not drawn yet, waits for the nodes to answer on their own,
   * mines past the window, and waits for the nodes to report whoever missed (reporting what is
   * left itself after `settleTimeoutMs`). Returns who answered, who missed, and the wei paid.
   */
  async runChallengeEpoch(id: Uint8Array, options: ChallengeEpochOptions = {}): Promise<ChallengeEpochReport> {
    return (await this.runChallengeEpochOf([id], options))[0]!;
  }

  /**
   * The same for several datasets in one epoch: the nodes answer the challenges of all of them
   * before the window is mined past (mining past one dataset's window closes every other's).
   */
  async runChallengeEpochOf(ids: Uint8Array[], options: ChallengeEpochOptions = {}): Promise<ChallengeEpochReport[]> {
    const registry = this.registry;
    const params = await registry.epochParameters();
    let epoch = epochAt(params, await this.chain.latestBlock()) + 1;
    const terms = await Promise.all(ids.map((id) => registry.dataset(id)));
    for (const [i, t] of terms.entries()) {
      if (t.startEpoch === 0) throw new DevnetError('devnet_invalid', `dataset ${toHex(ids[i]!)} is not certified: it has no challenges`);
      epoch = Math.max(epoch, t.startEpoch);
    }
    for (const [i, t] of terms.entries()) {
      if (epoch >= t.startEpoch + t.epochs) throw new DevnetError('devnet_invalid', `dataset ${toHex(ids[i]!)} has no epochs left`);
    }
    const { opensAfter, closesAt } = epochWindow(params, epoch);
    const members = await Promise.all(terms.map(async (t) => (await registry.nodeSetMembers(t.nodeSet)).length));
    const statuses = () =>
      Promise.all(
        ids.map((id, i) => Promise.all(Array.from({ length: members[i]! }, (_, member) => registry.challenge(id, epoch, member)))),
      );
    // Calls see the latest block: the draw shows once the epoch's first block is not the latest.
    await this.chain.mineTo(opensAfter + 1);
    options.onStep?.(`epoch ${epoch}: challenges drawn at block ${opensAfter}; nodes answer until block ${closesAt}`);
    await waitFor(async () => (await statuses()).flat().every((c) => c.status !== 'open'), options.answerTimeoutMs ?? 30_000);
    await this.chain.mineTo(closesAt + 1);
    const settled = await waitFor(
      async () => (await statuses()).flat().every((c) => c.status !== 'expired'),
      options.settleTimeoutMs ?? 20_000,
    );
    if (!settled) {
      const funder = await this.chain.funder();
      for (const [i, list] of (await statuses()).entries()) {
        for (const [member, c] of list.entries())
          if (c.status === 'expired') await registry.connect(funder).reportMissed(ids[i]!, epoch, member);
      }
    }
    return (await statuses()).map((final) => ({
      epoch,
      opensAfter,
      closesAt,
      challenges: final.filter((c) => c.status !== 'none').length,
      answered: final.flatMap((c, member) => (c.status === 'answered' ? [member] : [])),
      missed: final.flatMap((c, member) => (c.status === 'missed' ? [member] : [])),
      rewardsPaidWei: final.reduce((sum, c) => (c.status === 'answered' ? sum + c.reward : sum), 0n),
      challenged: final.map((c) => ({ segment: c.segment, index: c.index, nodeId: c.nodeId, status: c.status })),
    }));
  }

  async restartNode(index: number): Promise<void> {
    await this.stopNode(index);
    await this.startNode(index);
  }

  async stop(): Promise<void> {
    await Promise.all(this.file.nodes.map((_, i) => this.stopNode(i)));
    await this.chain.close();
  }
}
