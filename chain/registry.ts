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
  /** Wei per dataset byte, paid at registration. */
  feePerByte: bigint;
}

export const DEFAULT_REGISTRY_PARAMETERS: RegistryParameters = { minStake: 10n ** 18n, exitDelay: 7n * 86_400n, feePerByte: 1_000n };

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
      const contract = await factory.deploy(parameters.minStake, parameters.exitDelay, parameters.feePerByte);
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

  private async send(action: string, method: string, args: unknown[], value?: bigint): Promise<TransactionReceipt> {
    try {
      const tx = await this.contract.getFunction(method)(...args, value === undefined ? {} : { value });
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

  async parameters(): Promise<RegistryParameters> {
    const [minStake, exitDelay, feePerByte] = await Promise.all([
      this.read<bigint>('reading minStake', 'minStake', []),
      this.read<bigint>('reading exitDelay', 'exitDelay', []),
      this.read<bigint>('reading feePerByte', 'feePerByte', []),
    ]);
    return { minStake, exitDelay, feePerByte };
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

  registerDataset(root: Uint8Array, size: number, k: number, m: number, fee: bigint): Promise<TransactionReceipt> {
    return this.send('registerDataset', 'registerDataset', [root, size, k, m], fee);
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
