import { dirname, join } from 'node:path';
import { connectChain, type ChainContext } from '../client/chain-context.ts';
import { fromHex } from '../proofs/bytes.ts';
import { UsageError } from './args.ts';
import { DEFAULT_DEVNET_FILE, readDevnetFile } from './devnet-file.ts';
import { readAccountKey } from './keyfile.ts';

/** The flags that choose a chain, shared by every command that talks to one. */
export const chainOptions = {
  devnet: { type: 'string' },
  rpc: { type: 'string' },
  registry: { type: 'string' },
  'account-key': { type: 'string' },
} as const;

export interface ChainArgs {
  devnet?: string;
  rpc?: string;
  registry?: string;
  'account-key'?: string;
}

export interface CommandChain {
  context: ChainContext;
  /** The account key from --account-key, or the devnet's uploader key. */
  accountKey: string | undefined;
  /** Where this command keeps what it writes (certificates): beside the devnet file, or .sherd. */
  stateDir: string;
}

/** --rpc and --registry as the chain client will take them; bad values are bad usage. */
export function checkChainFlags(rpc: string | undefined, registry: string | undefined): void {
  if (rpc !== undefined && !/^https?:\/\/\S+$/.test(rpc)) throw new UsageError(`--rpc must be an http(s) URL, got ${rpc}`);
  if (registry !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(registry)) {
    throw new UsageError(`--registry must be an address, 0x followed by 40 hex digits, got ${registry}`);
  }
}

/** The chain to talk to: --rpc/--registry if given, else the devnet file's. */
export async function chainFrom(values: ChainArgs): Promise<CommandChain> {
  if (values.rpc || values.registry) {
    if (!values.rpc || !values.registry) throw new UsageError('--rpc and --registry go together');
    checkChainFlags(values.rpc, values.registry);
    const accountKey = await readAccountKey(values['account-key']);
    return { context: await connectChain(values.rpc, values.registry), accountKey, stateDir: '.sherd' };
  }
  const devnetPath = values.devnet ?? DEFAULT_DEVNET_FILE;
  const devnet = await readDevnetFile(devnetPath);
  const accountKey = (await readAccountKey(values['account-key'])) ?? devnet.uploaderKey;
  return { context: await connectChain(devnet.rpc, devnet.registryAddress), accountKey, stateDir: dirname(devnetPath) };
}

/** Where `sherd upload` saves a dataset's certificate. */
export function certificatePath(stateDir: string, datasetIdHex: string): string {
  return join(stateDir, 'certificates', `${datasetIdHex}.json`);
}

export function datasetArg(text: string | undefined): Uint8Array {
  if (!text || !/^0x[0-9a-fA-F]{64}$/.test(text)) {
    throw new UsageError(`DATASET must be a dataset id, 0x followed by 64 hex digits, got ${text ?? 'nothing'}`);
  }
  return fromHex(text, 32);
}
