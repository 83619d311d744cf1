import { Contract, Interface, type ContractRunner, type TransactionReceipt } from 'ethers';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';
import { sherdLicensesAbi, sherdRegistryAbi } from './abi.ts';
import { g1FromEip2537, g1ToEip2537, g2FromEip2537, g2ToEip2537 } from './encoding.ts';
import { TypedContract, type Arguments, type WriteName } from './typed-contract.ts';

type RegistryAbi = typeof sherdRegistryAbi;

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
  /** Blocks a replacement member has to rebuild its slot and confirm; the slot's challenges pause meanwhile. */
  repairWindow: bigint;
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
  repairWindow: 14_400n,
};

/**
 * The devnet's: one-minute epochs at `sherd devnet`'s one block a second; the demo and tests
 * mine through them. The window is wide because, without interval mining, blocks come only
 * with transactions: every answer moves the chain on by one.
 */
export const DEVNET_REGISTRY_PARAMETERS: RegistryParameters = {
  ...DEFAULT_REGISTRY_PARAMETERS,
  epochBlocks: 60n,
  challengeWindow: 40n,
  repairWindow: 120n,
};

export const SLOT_STATES = ['original', 'repairing', 'confirmed'] as const;
export type SlotState = (typeof SLOT_STATES)[number];

/** Who holds one slot of a dataset's node set now (SherdRegistry.datasetMembers). */
export interface DatasetMember {
  nodeId: number;
  state: SlotState;
  /** The last block in which a repairing replacement may confirm (0 for an original member). */
  repairDeadline: number;
  /** The slot's first challenged epoch under this member (0 for an original member). */
  challengedFrom: number;
  /** Whether the member is in the registry's active set. */
  active: boolean;
}

/** A MemberReplaced event. */
export interface MemberReplacement {
  datasetId: Uint8Array;
  slot: number;
  previousNodeId: number;
  nodeId: number;
  repairDeadline: number;
  block: number;
}

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
  datasetId: Uint8Array;
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

/** How a dataset was certified, read back from the chain: the certify transaction's bitmap and signature. */
export interface Certification {
  signers: Uint8Array;
  /** The aggregate BLS signature (96 bytes, compressed); undefined if certify was called through another contract. */
  signature: Uint8Array | undefined;
  txHash: string;
  gasUsed: bigint;
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
  /** X25519 key (32 bytes, hex) dataset key shares are encrypted to. */
  encryptionKey: string;
  endpoint: string;
}

/** A dataset as the chain records it: who registered which content with which code, on which node set, and its term. */
export interface DatasetRegistration {
  registered: boolean;
  certified: boolean;
  signers: number;
  size: number;
  k: number;
  m: number;
  nodeSet: number;
  /** Lower-case address. */
  owner: string;
  fee: bigint;
  /** The Merkle root over the dataset's shard leaves (zero when not registered). */
  contentRoot: Uint8Array;
  /** Epochs paid for. */
  epochs: number;
  /** First challenged epoch; 0 until certified. */
  startEpoch: number;
  segments: number;
}

/** Above what an answer (~110k gas with a 2^20-leaf tree) and a report (~80k, more if it deactivates the node) cost; see bench/gas.ts. */
const ANSWER_GAS_LIMIT = 400_000n;
const REPORT_GAS_LIMIT = 300_000n;
/** replaceMember: a slash, the new slot record and an event, then per slot two cold reads and per active node one. */
const REPLACE_BASE_GAS = 250_000n;
const REPLACE_GAS_PER_SLOT = 7_000n;
const REPLACE_GAS_PER_ACTIVE = 3_000n;
/** confirmReplacement verifies one BLS signature on chain (hash to G2 and a two-pair pairing, about 170k gas). */
const CONFIRM_GAS_LIMIT = 600_000n;

/** A revert or transaction failure, with the contract's error name as `code` when there is one. */
export class ChainError extends SherdError {
  override name = 'ChainError';
  readonly args: readonly unknown[];
  constructor(code: string, message: string, options: { cause?: unknown; details?: string; args?: readonly unknown[] } = {}) {
    super(code, message, options);
    this.args = options.args ?? [];
  }
}

const registryInterface = new Interface(sherdRegistryAbi);
/** Every custom error of the deployment's contracts (the registry and its license registry), for decoding reverts. */
const errorsInterface = new Interface(
  [...sherdRegistryAbi, ...sherdLicensesAbi].filter(
    (entry, i, all) => entry.type === 'error' && all.findIndex((e) => e.type === 'error' && e.name === entry.name) === i,
  ),
);

/** Sends a transaction and waits for its receipt; a revert becomes ChainError named after the contract's error. */
export async function sendTransaction<Abi extends readonly unknown[], Name extends WriteName<Abi>>(
  typed: TypedContract<Abi>,
  action: string,
  name: Name,
  args: Arguments<Abi, Name>,
  overrides: { value?: bigint; gasLimit?: bigint } = {},
): Promise<TransactionReceipt> {
  try {
    const tx = await typed.send(name, args, overrides);
    const receipt = (await tx.wait()) as TransactionReceipt | null;
    if (receipt?.status !== 1) throw new ChainError('transaction_failed', `${action}: transaction failed`);
    return receipt;
  } catch (error) {
    if (error instanceof ChainError) throw error;
    throw decodeChainError(error, action);
  }
}

/** A read; a failure becomes ChainError. */
export async function readCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw decodeChainError(error, action);
  }
}

/** Maps an ethers error to ChainError named after the custom error the contract reverted with. */
export function decodeChainError(error: unknown, action: string): ChainError {
  const data = findRevertData(error);
  if (data) {
    try {
      const parsed = errorsInterface.parseError(data);
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

/**
 * The aggregate signature of a certify transaction sent straight to this registry for `id`, or
 * undefined (sent through another contract, or not decodable). The caller still verifies it.
 */
function certifySignature(tx: { to: string | null; data: string } | null, registry: string, id: Uint8Array): Uint8Array | undefined {
  if (!tx || tx.to?.toLowerCase() !== registry) return undefined;
  try {
    const call = registryInterface.parseTransaction({ data: tx.data });
    if (call?.name !== 'certify' || (call.args.getValue('id') as string).toLowerCase() !== toHex(id)) return undefined;
    return g2FromEip2537(fromHex(call.args.getValue('signature') as string, 256));
  } catch {
    return undefined;
  }
}

/**
 * Typed access to a deployed SherdRegistry: every call and result is checked against the
 * checked-in ABI (chain/abi.ts), and results come back with named fields. Consumers that need
 * only part of it take a `Pick<Registry, ...>` of the methods they call.
 */
export class Registry {
  private readonly keyCache = new Map<number, string>();
  private readonly typed: TypedContract<RegistryAbi>;

  private constructor(
    readonly contract: Contract,
    readonly address: string,
  ) {
    this.typed = new TypedContract(contract, sherdRegistryAbi);
  }

  static at(address: string, runner: ContractRunner): Registry {
    return new Registry(new Contract(address, sherdRegistryAbi, runner), address.toLowerCase());
  }

  connect(runner: ContractRunner): Registry {
    return new Registry(this.contract.connect(runner) as Contract, this.address);
  }

  private send<Name extends WriteName<RegistryAbi>>(
    action: string,
    name: Name,
    args: Arguments<RegistryAbi, Name>,
    overrides: { value?: bigint; gasLimit?: bigint } = {},
  ): Promise<TransactionReceipt> {
    return sendTransaction(this.typed, action, name, args, overrides);
  }

  private read<T>(action: string, call: (typed: TypedContract<RegistryAbi>) => Promise<T>): Promise<T> {
    return readCall(action, () => call(this.typed));
  }

  private parametersRead: Promise<RegistryParameters & { genesisBlock: bigint }> | undefined;

  /** The deployment's parameters (immutable, so read once). */
  parameters(): Promise<RegistryParameters & { genesisBlock: bigint }> {
    const names = [
      'minStake',
      'exitDelay',
      'feePerByteEpoch',
      'epochBlocks',
      'challengeWindow',
      'slashAmount',
      'reporterShareBps',
      'repairWindow',
      'genesisBlock',
    ] as const;
    this.parametersRead ??= Promise.all(names.map((name) => this.read(`reading ${name}`, (c) => c.read(name)))).then(
      (values) => Object.fromEntries(names.map((name, i) => [name, values[i]!])) as Record<(typeof names)[number], bigint>,
    );
    this.parametersRead.catch(() => {
      this.parametersRead = undefined;
    });
    return this.parametersRead;
  }

  async epochParameters(): Promise<EpochParameters> {
    const p = await this.parameters();
    return { genesisBlock: Number(p.genesisBlock), epochBlocks: Number(p.epochBlocks), challengeWindow: Number(p.challengeWindow) };
  }

  /**
   * Registers a node: compressed BLS key and PoP in, EIP-2537 encodings on chain, with the
   * X25519 key its shares of encrypted datasets' keys are sealed to (protocol/encryption.ts
   * nodeEncryptionKey derives it from the BLS key).
   */
  registerNode(
    publicKey: Uint8Array,
    proofOfPossession: Uint8Array,
    encryptionKey: Uint8Array,
    endpoint: string,
    stake: bigint,
  ): Promise<TransactionReceipt> {
    return this.registerNodeRaw(g1ToEip2537(publicKey), g2ToEip2537(proofOfPossession), encryptionKey, endpoint, stake);
  }

  /** Same, with already-encoded points: for tests that submit what no honest client would. */
  registerNodeRaw(
    publicKey128: Uint8Array,
    proofOfPossession256: Uint8Array,
    encryptionKey: Uint8Array,
    endpoint: string,
    stake: bigint,
  ): Promise<TransactionReceipt> {
    return this.send('registerNode', 'registerNode', [publicKey128, proofOfPossession256, encryptionKey, endpoint], { value: stake });
  }

  /** The license registry created with this registry. */
  async licensesAddress(): Promise<string> {
    this.licensesRead ??= this.read('reading the license registry', (c) => c.read('licenses')).then((a) => a.toLowerCase());
    this.licensesRead.catch(() => {
      this.licensesRead = undefined;
    });
    return this.licensesRead;
  }

  private licensesRead: Promise<string> | undefined;

  requestExit(id: number): Promise<TransactionReceipt> {
    return this.send('requestExit', 'requestExit', [id]);
  }

  withdrawStake(id: number): Promise<TransactionReceipt> {
    return this.send('withdrawStake', 'withdrawStake', [id]);
  }

  /** Nodes ever registered: the next one gets this id. */
  async nodeCount(): Promise<number> {
    return Number(await this.read('reading the node count', (c) => c.read('nodeCount')));
  }

  async activeNodeIds(): Promise<number[]> {
    return (await this.read('reading active nodes', (c) => c.read('activeNodes'))).map(Number);
  }

  async node(id: number): Promise<ChainNode> {
    const node = await this.read(`reading node ${id}`, (c) => c.read('getNode', id));
    const compressed = toHex(g1FromEip2537(fromHex(node.publicKey, 128)));
    this.keyCache.set(id, compressed);
    return {
      id,
      publicKey: compressed,
      operator: node.operator.toLowerCase(),
      stake: node.stake,
      exitAt: Number(node.exitAt),
      active: node.active,
      encryptionKey: node.encryptionKey.toLowerCase(),
      endpoint: node.endpoint,
    };
  }

  async nodeSetMembers(id: number): Promise<number[]> {
    return (await this.read(`reading node set ${id}`, (c) => c.read('nodeSetMembers', id))).map(Number);
  }

  /** The compressed keys of a node set, in placement order (keys are immutable, so cached). */
  async nodeSetKeys(id: number): Promise<string[]> {
    const members = await this.nodeSetMembers(id);
    return Promise.all(members.map((member) => this.nodeKey(member)));
  }

  /**
   * Registers content under the sender's dataset id, paying `fee`. Returns the id the contract
   * assigned (from its DatasetRegistered event) with the receipt.
   */
  async registerDataset(
    contentRoot: Uint8Array,
    size: number,
    k: number,
    m: number,
    epochs: number,
    fee: bigint,
  ): Promise<{ datasetId: Uint8Array; receipt: TransactionReceipt }> {
    const receipt = await this.send('registerDataset', 'registerDataset', [contentRoot, size, k, m, epochs], { value: fee });
    for (const log of receipt.logs) {
      const parsed = registryInterface.parseLog(log);
      if (parsed?.name === 'DatasetRegistered') return { datasetId: fromHex(parsed.args.getValue('datasetId') as string, 32), receipt };
    }
    throw new ChainError('transaction_failed', 'registerDataset: the receipt has no DatasetRegistered event');
  }

  /** The fee for storing `size` bytes for `epochs` epochs. */
  async storageFee(size: number, epochs: number): Promise<bigint> {
    return BigInt(size) * BigInt(epochs) * (await this.parameters()).feePerByteEpoch;
  }

  /** The id the contract gives `owner`'s dataset of `contentRoot` (protocol/messages.ts datasetId computes the same). */
  async datasetId(owner: string, contentRoot: Uint8Array): Promise<Uint8Array> {
    return fromHex(await this.read('computing a dataset id', (c) => c.read('datasetId', owner, contentRoot)), 32);
  }

  async dataset(id: Uint8Array): Promise<DatasetRegistration> {
    const d = await this.read('reading dataset', (c) => c.read('getDataset', id));
    return {
      registered: d.registered,
      certified: d.certified,
      signers: Number(d.signers),
      size: Number(d.size),
      k: Number(d.k),
      m: Number(d.m),
      nodeSet: Number(d.nodeSet),
      owner: d.owner.toLowerCase(),
      fee: d.fee,
      contentRoot: fromHex(d.contentRoot, 32),
      epochs: Number(d.epochs),
      startEpoch: Number(d.startEpoch),
      segments: Number(d.segments),
    };
  }

  /**
   * The certification of dataset `id`, from its DatasetCertified event and the transaction
   * that emitted it, or undefined if it is not certified. Lets a client rebuild the
   * certificate of a dataset certified before (an upload run again).
   */
  async certification(id: Uint8Array): Promise<Certification | undefined> {
    const provider = this.contract.runner?.provider;
    if (!provider) throw new ChainError('chain_call_failed', 'reading a certification needs a provider');
    const log = await this.certificationLog(id);
    if (!log) return undefined;
    const [tx, receipt] = await Promise.all([
      provider.getTransaction(log.transactionHash),
      provider.getTransactionReceipt(log.transactionHash),
    ]);
    const parsed = registryInterface.parseLog(log);
    const signers = fromHex(parsed!.args.getValue('signerBitmap') as string);
    return { signers, signature: certifySignature(tx, this.address, id), txHash: log.transactionHash, gasUsed: receipt?.gasUsed ?? 0n };
  }

  /** When dataset `id` was certified (its certification block's time), or undefined if it is not or the provider cannot say. */
  async certifiedAt(id: Uint8Array): Promise<Date | undefined> {
    const log = await this.certificationLog(id);
    const block = log && (await this.contract.runner?.provider?.getBlock(log.blockNumber).catch(() => null));
    return block ? new Date(block.timestamp * 1000) : undefined;
  }

  /** The DatasetCertified event of `id`, if any. */
  private async certificationLog(id: Uint8Array) {
    const fromBlock = Number((await this.parameters()).genesisBlock);
    const [log] = await this.read('reading the certification', () =>
      this.contract.queryFilter(this.contract.getEvent('DatasetCertified')(id), fromBlock),
    );
    return log;
  }

  /** The id of every certified dataset, in the order they were certified (from DatasetCertified events from `fromBlock` on). */
  async certifiedDatasets(options: { fromBlock?: number } = {}): Promise<Uint8Array[]> {
    const fromBlock = options.fromBlock ?? Number((await this.parameters()).genesisBlock);
    const logs = await this.read('reading certifications', () =>
      this.contract.queryFilter(this.contract.getEvent('DatasetCertified')(), fromBlock),
    );
    const ids = new Map<string, Uint8Array>();
    for (const log of logs) {
      const id = registryInterface.parseLog(log)!.args.getValue('datasetId') as string;
      ids.set(id.toLowerCase(), fromHex(id, 32));
    }
    return [...ids.values()];
  }

  /** Every registration of `contentRoot`, by any owner (from DatasetRegistered events). */
  async registrationsOf(contentRoot: Uint8Array): Promise<Array<{ datasetId: Uint8Array; owner: string }>> {
    const filter = this.contract.getEvent('DatasetRegistered')(undefined, contentRoot);
    const fromBlock = Number((await this.parameters()).genesisBlock);
    const logs = await this.read('reading registrations', () => this.contract.queryFilter(filter, fromBlock));
    return logs.map((log) => {
      const args = registryInterface.parseLog(log)!.args;
      return { datasetId: fromHex(args.getValue('datasetId') as string, 32), owner: (args.getValue('owner') as string).toLowerCase() };
    });
  }

  /** The registration of `id` with its node set's keys: what a manifest, a reader or an upload must agree with. */
  async registeredTerms(id: Uint8Array): Promise<DatasetRegistration & { nodeKeys: string[] }> {
    const registration = await this.dataset(id);
    return { ...registration, nodeKeys: registration.registered ? await this.nodeSetKeys(registration.nodeSet) : [] };
  }

  /** Who holds each slot of dataset `id` now, in placement order; empty if it is unknown. */
  async datasetMembers(id: Uint8Array): Promise<DatasetMember[]> {
    const members = await this.read('reading dataset members', (c) => c.read('datasetMembers', id));
    return members.map((m) => ({
      nodeId: Number(m.nodeId),
      state: SLOT_STATES[Number(m.state)]!,
      repairDeadline: Number(m.repairDeadline),
      challengedFrom: Number(m.challengedFrom),
      active: m.active,
    }));
  }

  /**
   * The registration of `id` as a reader needs it: `nodeKeys` are the keys of the slots'
   * current holders (after any replacement), not of the node set the manifest names.
   */
  async readerTerms(id: Uint8Array): Promise<DatasetRegistration & { nodeKeys: string[] }> {
    const registration = await this.dataset(id);
    if (!registration.registered) return { ...registration, nodeKeys: [] };
    const members = await this.datasetMembers(id);
    return { ...registration, nodeKeys: await Promise.all(members.map((m) => this.nodeKey(m.nodeId))) };
  }

  private async nodeKey(id: number): Promise<string> {
    return this.keyCache.get(id) ?? (await this.node(id)).publicKey;
  }

  /** Replaces the member of `slot` of dataset `id`, which must have left the active set (or let its repair window pass). */
  async replaceMember(id: Uint8Array, slot: number): Promise<TransactionReceipt> {
    // It reads every slot (two cold storage reads each) and walks the active list: a limit that grows with both.
    const [members, active] = await Promise.all([this.datasetMembers(id), this.activeNodeIds()]);
    const gasLimit = REPLACE_BASE_GAS + REPLACE_GAS_PER_SLOT * BigInt(members.length) + REPLACE_GAS_PER_ACTIVE * BigInt(active.length);
    return this.checkedSend(`replacing member ${slot}`, 'replaceMember', [id, slot], gasLimit);
  }

  /** Confirms a replacement: `signature` is the replacement's BLS signature (96 bytes) over attestationMessage(id). */
  confirmReplacement(id: Uint8Array, slot: number, signature: Uint8Array): Promise<TransactionReceipt> {
    return this.checkedSend(`confirming slot ${slot}`, 'confirmReplacement', [id, slot, g2ToEip2537(signature)], CONFIRM_GAS_LIMIT);
  }

  /** Every MemberReplaced event from block `fromBlock` on (by default the registry's genesis), of node `nodeId` if given. */
  async replacements(options: { nodeId?: number; fromBlock?: number } = {}): Promise<MemberReplacement[]> {
    const fromBlock = options.fromBlock ?? Number((await this.parameters()).genesisBlock);
    // Filter arguments follow the event's inputs in order; only datasetId and nodeId are indexed.
    const filter = this.contract.getEvent('MemberReplaced')(undefined, undefined, undefined, options.nodeId);
    const logs = await this.read('reading replacements', () => this.contract.queryFilter(filter, fromBlock));
    return logs.map((log) => {
      const args = registryInterface.parseLog(log)!.args;
      return {
        datasetId: fromHex(args.getValue('datasetId') as string, 32),
        slot: Number(args.getValue('slot')),
        previousNodeId: Number(args.getValue('previousNodeId')),
        nodeId: Number(args.getValue('nodeId')),
        repairDeadline: Number(args.getValue('repairDeadline')),
        block: log.blockNumber,
      };
    });
  }

  async currentEpoch(): Promise<number> {
    return Number(await this.read('reading the current epoch', (c) => c.read('currentEpoch')));
  }

  async challenge(id: Uint8Array, epoch: number, member: number): Promise<ChallengeInfo> {
    const c = await this.read(`reading challenge ${epoch}/${member}`, (r) => r.read('challenge', id, epoch, member));
    return {
      status: CHALLENGE_STATUSES[Number(c.status)]!,
      nodeId: Number(c.nodeId),
      segment: Number(c.segment),
      index: Number(c.index),
      z: fromHex(c.z, 32),
      opensAfter: Number(c.opensAfter),
      closesAt: Number(c.closesAt),
      reward: c.reward,
    };
  }

  answerChallenge(answer: ChallengeAnswer): Promise<TransactionReceipt> {
    const args: Arguments<RegistryAbi, 'answerChallenge'> = [
      {
        datasetId: answer.datasetId,
        epoch: answer.epoch,
        member: answer.member,
        commitment: answer.commitment,
        shardHash: answer.shardHash,
        inclusionProof: answer.inclusionProof,
        z: answer.z,
        y: answer.y,
        kzgProof: answer.kzgProof,
      },
    ];
    return this.checkedSend(`answering challenge ${answer.epoch}/${answer.member}`, 'answerChallenge', args, ANSWER_GAS_LIMIT);
  }

  reportMissed(id: Uint8Array, epoch: number, member: number): Promise<TransactionReceipt> {
    return this.checkedSend(`reporting challenge ${epoch}/${member}`, 'reportMissed', [id, epoch, member], REPORT_GAS_LIMIT);
  }

  /**
   * Sends after a successful call against the latest block, with a fixed gas limit: no gas is
   * spent on an answer or report that would revert (say, one a peer already made), and no
   * eth_estimateGas runs (after one reverts, hardhat estimates against a stale block).
   */
  private async checkedSend<Name extends WriteName<RegistryAbi>>(
    action: string,
    name: Name,
    args: Arguments<RegistryAbi, Name>,
    gasLimit: bigint,
  ): Promise<TransactionReceipt> {
    await this.read(action, (c) => c.simulate(name, args));
    return this.send(action, name, args, { gasLimit });
  }

  async nodeEarnings(id: number): Promise<NodeEarnings> {
    const e = await this.read(`reading node ${id}'s earnings`, (c) => c.read('nodeEarnings', id));
    return { unclaimed: e.unclaimed, earned: e.earned, slashed: e.slashed, answered: Number(e.answered), missed: Number(e.missed) };
  }

  claimRewards(id: number): Promise<TransactionReceipt> {
    return this.send('claimRewards', 'claimRewards', [id]);
  }

  balanceOf(account: string): Promise<bigint> {
    return this.read('reading a balance', (c) => c.read('balanceOf', account));
  }

  withdraw(): Promise<TransactionReceipt> {
    return this.send('withdraw', 'withdraw', []);
  }

  /** The registry id of the node with this compressed BLS key, or undefined. */
  async nodeIdByKey(publicKey: Uint8Array): Promise<number | undefined> {
    const { found, id } = await this.read('looking up a node key', (c) => c.read('nodeIdByKey', g1ToEip2537(publicKey)));
    return found ? Number(id) : undefined;
  }

  async assignedShardCount(segments: number, n: number, nodeCount: number, member: number): Promise<number> {
    return Number(await this.read('reading assigned shards', (c) => c.read('assignedShardCount', segments, n, nodeCount, member)));
  }

  /** Submits a certificate: bitmap as is, the aggregate signature converted to EIP-2537 G2. */
  certify(id: Uint8Array, signers: Uint8Array, aggregateSignature: Uint8Array): Promise<TransactionReceipt> {
    return this.send('certify', 'certify', [id, signers, g2ToEip2537(aggregateSignature)]);
  }

  certifyRaw(id: Uint8Array, signers: Uint8Array, signature256: Uint8Array): Promise<TransactionReceipt> {
    return this.send('certify', 'certify', [id, signers, signature256]);
  }

  async attestationMessage(id: Uint8Array): Promise<Uint8Array> {
    return fromHex(await this.read('reading attestation message', (c) => c.read('attestationMessage', id)), 32);
  }

  async quorum(nodeCount: number, k: number, m: number): Promise<number> {
    return Number(await this.read('reading quorum', (c) => c.read('quorum', nodeCount, k, m)));
  }
}
