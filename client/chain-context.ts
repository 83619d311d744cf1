import { JsonRpcProvider, Wallet } from 'ethers';
import { Registry } from '../chain/registry.ts';
import { InvalidArgumentError } from '../proofs/errors.ts';
import type { UploadChain } from './upload.ts';

/** A connection to a chain holding a SherdRegistry, for the CLI: any JSON-RPC endpoint with the Prague precompiles. */
export interface ChainContext {
  provider: JsonRpcProvider;
  chainId: bigint;
  registry: Registry;
  close(): void;
}

export async function connectChain(rpc: string, registryAddress: string): Promise<ChainContext> {
  if (!/^https?:\/\//.test(rpc)) throw new InvalidArgumentError(`--rpc must be an http(s) URL, got ${rpc}`);
  if (!/^0x[0-9a-fA-F]{40}$/.test(registryAddress)) throw new InvalidArgumentError(`--registry must be a 0x address, got ${registryAddress}`);
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  const chainId = (await provider.getNetwork()).chainId;
  const registry = await Registry.at(registryAddress, provider);
  return { provider, chainId, registry, close: () => provider.destroy() };
}

export function uploadChainFor(context: ChainContext, uploaderKey: string): UploadChain {
  return { registry: context.registry.connect(new Wallet(uploaderKey, context.provider)), chainId: context.chainId };
}
