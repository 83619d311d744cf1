import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { deployRegistry } from '../../chain/deploy.ts';
import { DEFAULT_REGISTRY_PARAMETERS, type RegistryParameters } from '../../chain/registry.ts';
import { openRpc } from '../../chain/rpc.ts';
import { CliError, integer, parse, positionals, print, untilSignal, UsageError, wholeNumber } from '../args.ts';
import { checkChainFlags } from '../context.ts';
import { readAccountKey } from '../keyfile.ts';
import { HARDHAT_ACCOUNTS, HARDHAT_MNEMONIC, startLocalChain } from '../local-chain.ts';

export const CHAIN_USAGE =
  'sherd chain deploy --rpc URL --account-key FILE [parameters] | sherd chain local [--port 8545] [--dir D] [--block-seconds S]';

/** feePerByteEpoch → fee-per-byte-epoch */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `sherd chain deploy`: SherdRegistry on any chain with the Prague precompiles. */
async function deploy(args: string[]): Promise<number> {
  const flags = Object.fromEntries(Object.keys(DEFAULT_REGISTRY_PARAMETERS).map((name) => [kebab(name), { type: 'string' as const }]));
  const { values, positionals: given } = parse(
    args,
    { rpc: { type: 'string' }, 'account-key': { type: 'string' }, json: { type: 'boolean' }, ...flags },
    'chain deploy',
  );
  positionals(given, 0, CHAIN_USAGE);
  if (typeof values.rpc !== 'string' || typeof values['account-key'] !== 'string') {
    throw new UsageError('usage: sherd chain deploy --rpc URL --account-key FILE');
  }
  const given_ = values as Record<string, string | boolean | undefined>;
  const parameters = Object.fromEntries(
    Object.entries(DEFAULT_REGISTRY_PARAMETERS).map(([name, fallback]) => [
      name,
      wholeNumber(kebab(name), given_[kebab(name)] as string | undefined) ?? fallback,
    ]),
  ) as unknown as RegistryParameters;
  const key = (await readAccountKey(values['account-key']))!;
  checkChainFlags(values.rpc, undefined);
  const { provider, chainId, close } = await openRpc(values.rpc);
  try {
    const registry = await deployRegistry(new Wallet(key, provider), parameters);
    const report = {
      registry: registry.address,
      chainId: chainId.toString(),
      ...Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.toString()])),
    };
    print(values.json === true, report, `SherdRegistry deployed at ${registry.address} on chain ${chainId}`);
    return 0;
  } finally {
    close();
  }
}

/**
 * `sherd chain local`: the embedded Prague chain (the one devnets use) as a JSON-RPC server on
 * 127.0.0.1 until SIGINT or SIGTERM, for trying "Running on another chain" on one machine.
 * Writes the key files of its funded development accounts (hardhat's well-known test keys,
 * never for real money) to DIR/account-I.key.
 */
async function local(args: string[]): Promise<number> {
  const options = {
    port: { type: 'string' },
    dir: { type: 'string' },
    'block-seconds': { type: 'string' },
    json: { type: 'boolean' },
  } as const;
  const { values, positionals: given } = parse(args, options, 'chain local');
  positionals(given, 0, CHAIN_USAGE);
  const port = integer('port', values.port, { min: 1, max: 65_535 }, 8545)!;
  const blockSeconds = integer('block-seconds', values['block-seconds'], { min: 1, max: 3600 });
  const dir = resolve(values.dir ?? '.sherd/local-chain');
  const stop = untilSignal();
  const chain = await startLocalChain({ port }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(error.message))) {
      throw new CliError('port_in_use', `port ${port} is in use; choose another with --port`);
    }
    throw error;
  });
  try {
    if (blockSeconds) await chain.provider.send('evm_setIntervalMining', [blockSeconds * 1000]);
    await mkdir(dir, { recursive: true });
    const mnemonic = Mnemonic.fromPhrase(HARDHAT_MNEMONIC);
    const accounts = await Promise.all(
      Array.from({ length: HARDHAT_ACCOUNTS }, async (_, i) => {
        const wallet = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
        const keyFile = join(dir, `account-${i}.key`);
        await writeFile(keyFile, `${wallet.privateKey}\n`, { mode: 0o600 });
        return { address: wallet.address.toLowerCase(), keyFile };
      }),
    );
    const human = [
      `local chain ${chain.chainId} (Prague) at ${chain.url}, ${blockSeconds ? `a block every ${blockSeconds} s` : 'a block per transaction'}`,
      `funded development accounts (test keys, never for real money):`,
      ...accounts.map((a, i) => `  ${i}  ${a.address}  ${a.keyFile}`),
      'Ctrl-C stops it.',
    ].join('\n');
    print(values.json === true, { rpc: chain.url, chainId: chain.chainId.toString(), accounts }, human);
    await stop;
    return 0;
  } finally {
    await chain.close();
  }
}

export async function cmdChain(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'deploy') return deploy(rest);
  if (sub === 'local') return local(rest);
  throw new UsageError(`usage: ${CHAIN_USAGE}`);
}
