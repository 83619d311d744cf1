import { JsonRpcProvider, type JsonRpcApiProviderOptions } from 'ethers';
import { InvalidArgumentError } from '../proofs/errors.ts';
import { ChainError, Registry } from './registry.ts';

/** A JSON-RPC endpoint (any chain with the Prague precompiles) and its chain id. */
export interface RpcConnection {
  provider: JsonRpcProvider;
  chainId: bigint;
  close(): void;
}

/** The same, with a SherdRegistry deployed on it. */
export interface RegistryConnection extends RpcConnection {
  registry: Registry;
}

/**
 * A provider for `url` that asks the chain every time. ethers by default shares identical
 * requests made within 250 ms, a rejection included: a read right after a transaction would see
 * the state before it, and a transaction sent again once the state allows it would get its
 * first estimate's revert back. The network is fixed (no chain-id request before each call).
 */
export function jsonRpcProvider(url: string, options: JsonRpcApiProviderOptions = {}): JsonRpcProvider {
  return new JsonRpcProvider(url, undefined, { ...options, staticNetwork: true, cacheTimeout: -1 });
}

/**
 * The latest block number, asked of the node every time, whatever provider it is given: with
 * ethers' defaults getBlockNumber() serves a cached value for a while, which is wrong for anyone
 * counting blocks to a deadline.
 */
export async function latestBlock(provider: JsonRpcProvider): Promise<number> {
  return Number(await provider.send('eth_blockNumber', []));
}

export async function openRpc(url: string): Promise<RpcConnection> {
  if (!/^https?:\/\//.test(url)) throw new InvalidArgumentError(`the RPC endpoint must be an http(s) URL, got ${url}`);
  const provider = jsonRpcProvider(url);
  try {
    const chainId = (await provider.getNetwork()).chainId;
    return { provider, chainId, close: () => provider.destroy() };
  } catch (cause) {
    provider.destroy();
    throw new ChainError('rpc_unreachable', `cannot reach the chain at ${url}; check that it runs and that the URL is right`, { cause });
  }
}

export async function connectRegistry(url: string, registryAddress: string): Promise<RegistryConnection> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(registryAddress))
    throw new InvalidArgumentError(`the registry must be a 0x address, got ${registryAddress}`);
  const rpc = await openRpc(url);
  return { ...rpc, registry: await Registry.at(registryAddress, rpc.provider) };
}
