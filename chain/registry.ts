import { Contract, ContractFactory, Interface, type ContractRunner, type Signer, type TransactionReceipt } from 'ethers';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';
import { loadArtifacts } from './compile.ts';
import { g1FromEip2537, g1ToEip2537, g2ToEip2537 } from './encoding.ts';

export interface RegistryParameters {
  /** Wei a node must stake to register. */
  minStake: bigint;
  /** Seconds between requestExit and withdrawStake. */
  exitDelay: bigint;
  /** Wei per dataset byte per epoch, paid at registration. */
  feePerByteEpoch: bigint;
  /** Blocks per epoch; each epoch challenges every member of every certified dataset once. */
  epochBlocks: bigint;
  /** Blocks after an epoch's first block in which its challenges can be answered (≤ 255). */
  challengeWindow: bigint;
  /** Wei slashed from a node's stake for each challenge it misses. */
  slashAmount: bigint;
  /** Part of a slash paid to whoever reports the miss, in basis points. */
  reporterShareBps: bigint;
}

/**
 * Defaults for a public chain with 12 s blocks: one-day epochs, a 20-minute answer window.
 * docs/economics.md explains the numbers.
 */
export const DEFAULT_REGISTRY_PARAMETERS: RegistryParameters = {
  minStake: 10n ** 18n,
  exitDelay: 7n * 86_400n,
  feePerByteEpoch: 100n,
  epochBlocks: 7_200n,
  challengeWindow: 100n,
  slashAmount: 10n ** 17n,
  reporterShareBps: 1_000n,
};

/**
 * The devnet's: one-minute epochs at `sherd devnet`'s one block a second; the demo and tests
 * mine through them. The window is wide because, without interval mining, blocks come only
 * with transactions: every answer moves the chain on by one.
 */
export const DEVNET_REGISTRY_PARAMETERS: RegistryParameters = { ...DEFAULT_REGISTRY_PARAMETERS, epochBlocks: 60n, challengeWindow: 40n };

export const CHALLENGE_STATUSES = ['none', 'pending', 'open', 'answered', 'missed', 'expired'] as const;
export type ChallengeStatus = (typeof CHALLENGE_STATUSES)[number];

/** One member's challenge for a dataset in an epoch (segment, index and z once drawn). */
export interface ChallengeInfo {
  status: ChallengeStatus;
  nodeId: number;
  segment: number;
  index: number;
  z: Uint8Array;
  /** Answers are accepted in blocks opensAfter + 1 … closesAt. */
  opensAfter: number;
  closesAt: number;
  /** Wei the answer earns. */
  reward: bigint;
}

/** An answer to a challenge, as the contract takes it. */
export interface ChallengeAnswer {
  root: Uint8Array;
  epoch: number;
  member: number;
  commitment: Uint8Array;
  shardHash: Uint8Array;
  inclusionProof: Uint8Array[];
  z: Uint8Array;
  y: Uint8Array;
  kzgProof: Uint8Array;
}

export interface NodeEarnings {
  unclaimed: bigint;
  earned: bigint;
  slashed: bigint;
  answered: number;
  missed: number;
}

export interface EpochParameters {
  genesisBlock: number;
  epochBlocks: number;
  challengeWindow: number;
}

/** The epoch block `block` falls in (the contract's currentEpoch, for any block). */
export function epochAt(p: EpochParameters, block: number): number {
  return Math.floor((block - p.genesisBlock) / p.epochBlocks);
}

/** Blocks of an epoch's challenges, as the contract sets them: drawn from block opensAfter, answered in opensAfter + 1 … closesAt. */
export function epochWindow(p: EpochParameters, epoch: number): { opensAfter: number; closesAt: number } {
  const opensAfter = p.genesisBlock + epoch * p.epochBlocks;
  return { opensAfter, closesAt: opensAfter + p.challengeWindow };
}

export interface DatasetTerms {
  epochs: number;
  /** First challenged epoch; 0 until certified. */
  startEpoch: number;
  segments: number;
}

export interface ChainNode {
  id: number;
  /** Compressed BLS key (48 bytes, hex). */
  publicKey: string;
  operator: string;
  stake: bigint;
  /** Unix time after which the stake can be withdrawn; 0 while active. */
  exitAt: number;
  active: boolean;
  endpoint: string;
}

export interface DatasetState {
  registered: boolean;
  certified: boolean;
  signers: number;
  size: number;
  k: number;
  m: number;
  nodeSet: number;
  owner: string;
  fee: bigint;
}

/** Above what an answer (~110k gas with a 2^20-leaf tree) and a report (~80k, more if it deactivates the node) cost; see bench/gas.ts. */
const ANSWER_GAS_LIMIT = 400_000n;
const REPORT_GAS_LIMIT = 300_000n;

/** A revert or transaction failure, with the contract's error name as `code` when there is one. */
export class ChainError extends SherdError {
  override name = 'ChainError';
  readonly args: readonly unknown[];
  constructor(code: string, message: string, options: { cause?: unknown; details?: string; args?: readonly unknown[] } = {}) {
    super(code, message, options);
    this.args = options.args ?? [];
  }
}

let registryInterface: Interface | undefined;

/** Maps an ethers error to ChainError named after the custom error the contract reverted with. */
export function decodeChainError(error: unknown, action: string): ChainError {
  const data = findRevertData(error);
  if (data && registryInterface) {
    try {
      const parsed = registryInterface.parseError(data);
      if (parsed) {
        const args = parsed.args.toArray();
        return new ChainError(parsed.name, `${action} reverted: ${parsed.name}(${args.map(String).join(', ')})`, { cause: error, args });
      }
    } catch {
      // not one of ours; fall through
    }
  }
  const short = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message;
  return new ChainError('chain_call_failed', `${action} failed: ${short}`, { cause: error });
}

/** Revert data sits at different depths depending on provider and call path; search for it. */
function findRevertData(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 6) return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === 'string' && /^0x[0-9a-fA-F]{8}/.test(data)) return data;
  for (const key of ['data', 'error', 'info', 'cause', 'revert']) {
    const found = findRevertData(record[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Typed access to a deployed SherdRegistry. */
export class Registry {
  private readonly keyCache = new Map<number, string>();

  private constructor(readonly contract: Contract, readonly address: string) {}

  static async deploy(signer: Signer, parameters: RegistryParameters = DEFAULT_REGISTRY_PARAMETERS): Promise<Registry> {
    const artifact = (await loadArtifacts()).SherdRegistry!;
    registryInterface ??= new Interface(artifact.abi as never);
    const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, signer);
    try {
      const p = parameters;
      const contract = await factory.deploy(p.minStake, p.exitDelay, p.feePerByteEpoch, p.epochBlocks, p.challengeWindow, p.slashAmount, p.reporterShareBps);
      await contract.waitForDeployment();
      return new Registry(contract as unknown as Contract, (await contract.getAddress()).toLowerCase());
    } catch (error) {
      throw decodeChainError(error, 'deploying SherdRegistry');
    }
  }

  static async at(address: string, runner: ContractRunner): Promise<Registry> {
    const artifact = (await loadArtifacts()).SherdRegistry!;
    registryInterface ??= new Interface(artifact.abi as never);
    return new Registry(new Contract(address, artifact.abi as never, runner), address.toLowerCase());
  }

  connect(runner: ContractRunner): Registry {
    return new Registry(this.contract.connect(runner) as Contract, this.address);
  }

  private async send(action: string, method: string, args: unknown[], value?: bigint, gasLimit?: bigint): Promise<TransactionReceipt> {
    try {
      const tx = await this.contract.getFunction(method)(...args, { ...(value === undefined ? {} : { value }), ...(gasLimit ? { gasLimit } : {}) });
      const receipt = (await tx.wait()) as TransactionReceipt | null;
      if (!receipt || receipt.status !== 1) throw new ChainError('transaction_failed', `${action}: transaction failed`);
      return receipt;
    } catch (error) {
      if (error instanceof ChainError) throw error;
      throw decodeChainError(error, action);
    }
  }

  private async read<T>(action: string, method: string, args: unknown[]): Promise<T> {
    try {
      return (await this.contract.getFunction(method)(...args)) as T;
    } catch (error) {
      throw decodeChainError(error, action);
    }
  }

  private parametersRead: Promise<RegistryParameters & { genesisBlock: bigint }> | undefined;

  /** The deployment's parameters (immutable, so read once). */
  parameters(): Promise<RegistryParameters & { genesisBlock: bigint }> {
    const names = ['minStake', 'exitDelay', 'feePerByteEpoch', 'epochBlocks', 'challengeWindow', 'slashAmount', 'reporterShareBps', 'genesisBlock'] as const;
    this.parametersRead ??= Promise.all(names.map((name) => this.read<bigint>(`reading ${name}`, name, [])))
      .then((values) => Object.fromEntries(names.map((name, i) => [name, values[i]!])) as unknown as RegistryParameters & { genesisBlock: bigint });
    this.parametersRead.catch(() => { this.parametersRead = undefined; });
    return this.parametersRead;
  }

  async epochParameters(): Promise<EpochParameters> {
    const p = await this.parameters();
    return { genesisBlock: Number(p.genesisBlock), epochBlocks: Number(p.epochBlocks), challengeWindow: Number(p.challengeWindow) };
  }

  /** Registers a node: compressed BLS key and PoP in, EIP-2537 encodings on chain. */
  registerNode(publicKey: Uint8Array, proofOfPossession: Uint8Array, endpoint: string, stake: bigint): Promise<TransactionReceipt> {
    return this.send('registerNode', 'registerNode', [g1ToEip2537(publicKey), g2ToEip2537(proofOfPossession), endpoint], stake);
  }

  /** Same, with already-encoded points: for tests that submit what no honest client would. */
  registerNodeRaw(publicKey128: Uint8Array, proofOfPossession256: Uint8Array, endpoint: string, stake: bigint): Promise<TransactionReceipt> {
    return this.send('registerNode', 'registerNode', [publicKey128, proofOfPossession256, endpoint], stake);
  }

  requestExit(id: number): Promise<TransactionReceipt> {
    return this.send('requestExit', 'requestExit', [id]);
  }

  withdrawStake(id: number): Promise<TransactionReceipt> {
    return this.send('withdrawStake', 'withdrawStake', [id]);
  }

  async activeNodeIds(): Promise<number[]> {
    return (await this.read<bigint[]>('reading active nodes', 'activeNodes', [])).map(Number);
  }

  async node(id: number): Promise<ChainNode> {
    const [publicKey, operator, stake, exitAt, active, endpoint] = await this.read<[string, string, bigint, bigint, boolean, string]>(
      `reading node ${id}`, 'getNode', [id]);
    const compressed = toHex(g1FromEip2537(fromHex(publicKey, 128)));
    this.keyCache.set(id, compressed);
    return { id, publicKey: compressed, operator, stake, exitAt: Number(exitAt), active, endpoint };
  }

  async nodeSetMembers(id: number): Promise<number[]> {
    return (await this.read<bigint[]>(`reading node set ${id}`, 'nodeSetMembers', [id])).map(Number);
  }

  /** The compressed keys of a node set, in placement order (keys are immutable, so cached). */
  async nodeSetKeys(id: number): Promise<string[]> {
    const members = await this.nodeSetMembers(id);
    return Promise.all(members.map(async (member) => this.keyCache.get(member) ?? (await this.node(member)).publicKey));
  }

  registerDataset(root: Uint8Array, size: number, k: number, m: number, epochs: number, fee: bigint): Promise<TransactionReceipt> {
    return this.send('registerDataset', 'registerDataset', [root, size, k, m, epochs], fee);
  }

  /** The fee for storing `size` bytes for `epochs` epochs. */
  async storageFee(size: number, epochs: number): Promise<bigint> {
    return BigInt(size) * BigInt(epochs) * (await this.parameters()).feePerByteEpoch;
  }

  async datasetTerms(root: Uint8Array): Promise<DatasetTerms> {
    const [epochs, startEpoch, segments] = await this.read<[bigint, bigint, bigint]>('reading dataset terms', 'datasetTerms', [root]);
    return { epochs: Number(epochs), startEpoch: Number(startEpoch), segments: Number(segments) };
  }

  async currentEpoch(): Promise<number> {
    return Number(await this.read<bigint>('reading the current epoch', 'currentEpoch', []));
  }

  async challenge(root: Uint8Array, epoch: number, member: number): Promise<ChallengeInfo> {
    const c = await this.read<[bigint, bigint, bigint, bigint, string, bigint, bigint, bigint]>(
      `reading challenge ${epoch}/${member}`, 'challenge', [root, epoch, member]);
    return {
      status: CHALLENGE_STATUSES[Number(c[0])]!, nodeId: Number(c[1]), segment: Number(c[2]), index: Number(c[3]), z: fromHex(c[4], 32),
      opensAfter: Number(c[5]), closesAt: Number(c[6]), reward: c[7],
    };
  }

  /**
   * Sends after a successful call against the latest block, with a fixed gas limit: no gas is
   * spent on an answer or report that would revert (say, one a peer already made), and no
   * eth_estimateGas runs (after one reverts, hardhat estimates against a stale block).
   */
  private async checkedSend(action: string, method: string, args: unknown[], gasLimit: bigint): Promise<TransactionReceipt> {
    try {
      await this.contract.getFunction(method).staticCall(...args);
    } catch (error) {
      throw decodeChainError(error, action);
    }
    return this.send(action, method, args, undefined, gasLimit);
  }

  answerChallenge(answer: ChallengeAnswer): Promise<TransactionReceipt> {
    return this.checkedSend(`answering challenge ${answer.epoch}/${answer.member}`, 'answerChallenge', [{
      root: answer.root, epoch: answer.epoch, member: answer.member, commitment: answer.commitment, shardHash: answer.shardHash,
      inclusionProof: answer.inclusionProof, z: answer.z, y: answer.y, kzgProof: answer.kzgProof,
    }], ANSWER_GAS_LIMIT);
  }

  reportMissed(root: Uint8Array, epoch: number, member: number): Promise<TransactionReceipt> {
    return this.checkedSend(`reporting challenge ${epoch}/${member}`, 'reportMissed', [root, epoch, member], REPORT_GAS_LIMIT);
  }

  async nodeEarnings(id: number): Promise<NodeEarnings> {
    const e = await this.read<[bigint, bigint, bigint, bigint, bigint]>(`reading node ${id}'s earnings`, 'nodeEarnings', [id]);
    return { unclaimed: e[0], earned: e[1], slashed: e[2], answered: Number(e[3]), missed: Number(e[4]) };
  }

  claimRewards(id: number): Promise<TransactionReceipt> {
    return this.send('claimRewards', 'claimRewards', [id]);
  }

  balanceOf(account: string): Promise<bigint> {
    return this.read<bigint>('reading a balance', 'balanceOf', [account]);
  }

  withdraw(): Promise<TransactionReceipt> {
    return this.send('withdraw', 'withdraw', []);
  }

  /** The registry id of the node with this compressed BLS key, or undefined. */
  async nodeIdByKey(publicKey: Uint8Array): Promise<number | undefined> {
    const [found, id] = await this.read<[boolean, bigint]>('looking up a node key', 'nodeIdByKey', [g1ToEip2537(publicKey)]);
    return found ? Number(id) : undefined;
  }

  async assignedShardCount(segments: number, n: number, nodeCount: number, member: number): Promise<number> {
    return Number(await this.read<bigint>('reading assigned shards', 'assignedShardCount', [segments, n, nodeCount, member]));
  }

  /** Submits a certificate: bitmap as is, the aggregate signature converted to EIP-2537 G2. */
  certify(root: Uint8Array, signers: Uint8Array, aggregateSignature: Uint8Array): Promise<TransactionReceipt> {
    return this.send('certify', 'certify', [root, signers, g2ToEip2537(aggregateSignature)]);
  }

  certifyRaw(root: Uint8Array, signers: Uint8Array, signature256: Uint8Array): Promise<TransactionReceipt> {
    return this.send('certify', 'certify', [root, signers, signature256]);
  }

  async dataset(root: Uint8Array): Promise<DatasetState> {
    const r = await this.read<[boolean, boolean, bigint, bigint, bigint, bigint, bigint, string, bigint]>(
      'reading dataset', 'getDataset', [root]);
    return {
      registered: r[0], certified: r[1], signers: Number(r[2]), size: Number(r[3]), k: Number(r[4]), m: Number(r[5]),
      nodeSet: Number(r[6]), owner: r[7], fee: r[8],
    };
  }

  async attestationMessage(root: Uint8Array): Promise<Uint8Array> {
    return fromHex(await this.read<string>('reading attestation message', 'attestationMessage', [root]), 32);
  }

  async quorum(nodeCount: number, k: number, m: number): Promise<number> {
    return Number(await this.read<bigint>('reading quorum', 'quorum', [nodeCount, k, m]));
  }
}
