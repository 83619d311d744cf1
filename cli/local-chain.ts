import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { JsonRpcProvider, JsonRpcSigner } from 'ethers';
import { jsonRpcProvider, latestBlock } from '../chain/rpc.ts';

/**
 * A local Prague EVM chain: hardhat's in-process network behind its JSON-RPC server on
 * 127.0.0.1, so other processes (storage nodes) can reach it by URL. `sherd devnet`, the demo
 * and the tests use it; nothing outside the project is installed or started.
 */
export const HARDHAT_CONFIG = fileURLToPath(new URL('./hardhat.config.cjs', import.meta.url));

interface HardhatConfig {
  networks: { hardhat: { accounts: { mnemonic: string; count: number } } };
}
const hardhatAccounts = (createRequire(import.meta.url)(HARDHAT_CONFIG) as HardhatConfig).networks.hardhat.accounts;
/** The funded development accounts of the local chain: derived from this mnemonic (m/44'/60'/0'/0/i). */
export const HARDHAT_MNEMONIC = hardhatAccounts.mnemonic;
export const HARDHAT_ACCOUNTS = hardhatAccounts.count;

export interface LocalChain {
  url: string;
  chainId: bigint;
  provider: JsonRpcProvider;
  /** Hardhat's first development account, unlocked and rich: funds the local deployment. */
  funder(): Promise<JsonRpcSigner>;
  latestBlock(): Promise<number>;
  /** Mines empty blocks until `block` is the latest (at once: hardhat_mine). */
  mineTo(block: number): Promise<void>;
  close(): Promise<void>;
}

interface HardhatServer {
  listen(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

export async function startLocalChain(options: { port?: number } = {}): Promise<LocalChain> {
  process.env.HARDHAT_CONFIG = HARDHAT_CONFIG;
  process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true';
  const require = createRequire(import.meta.url);
  const hre = require('hardhat') as { network: { provider: unknown } };
  const { JsonRpcServer } = require('hardhat/internal/hardhat-network/jsonrpc/server') as {
    JsonRpcServer: new (config: { hostname: string; port: number; provider: unknown }) => HardhatServer;
  };
  const server = new JsonRpcServer({ hostname: '127.0.0.1', port: options.port ?? 0, provider: hre.network.provider });
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const provider = jsonRpcProvider(url, { batchMaxCount: 1 });
  const chainId = (await provider.getNetwork()).chainId;
  return {
    url,
    chainId,
    provider,
    funder: () => provider.getSigner(0),
    latestBlock: () => latestBlock(provider),
    async mineTo(block) {
      const latest = await latestBlock(provider);
      if (block > latest) await provider.send('hardhat_mine', [`0x${(block - latest).toString(16)}`]);
    },
    async close() {
      provider.destroy();
      await server.close();
    },
  };
}
