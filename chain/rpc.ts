import { JsonRpcProvider } from 'ethers';
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
 * The latest block number, asked of the node every time: ethers' getBlockNumber() serves a
 * cached value for a while, which is wrong for anyone counting blocks to a deadline.
 */
export async function latestBlock(provider: JsonRpcProvider): Promise<number> {
  return Number(await provider.send('eth_blockNumber', []));
}

export async function openRpc(url: string): Promise<RpcConnection> {
  if (!/^https?:\/\//.test(url)) throw new InvalidArgumentError(`the RPC endpoint must be an http(s) URL, got ${url}`);
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
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
