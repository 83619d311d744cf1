import { Wallet } from 'ethers';
import { connectRegistry } from '../chain/rpc.ts';
import { blsProvePossession, blsPublicKey, generateBlsKeyPair } from '../proofs/bls.ts';
import { integer, parse, print, runCli, UsageError, wholeNumber } from '../protocol/cli.ts';
import { readAccountKey, readNodeKey, writeNodeKey } from '../protocol/keyfile.ts';
import { startNode } from './node.ts';

/** `sherd node start | keygen | register`: the operator's commands (bin/sherd.js routes `node` here). */
export async function cmdNode(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'keygen') {
    const { values } = parse(rest, { out: { type: 'string' } });
    if (!values.out) throw new UsageError('usage: sherd node keygen --out FILE');
    await writeNodeKey(values.out, generateBlsKeyPair().secretKey).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'EEXIST') throw new UsageError(`${values.out} exists; refusing to overwrite a key`);
      throw cause;
    });
    process.stdout.write(`wrote ${values.out}\n`);
    return 0;
  }
  if (sub === 'register') {
    const { values } = parse(rest, {
      rpc: { type: 'string' }, registry: { type: 'string' }, key: { type: 'string' }, 'account-key': { type: 'string' },
      endpoint: { type: 'string' }, stake: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.rpc || !values.registry || !values.key || !values['account-key'] || !values.endpoint) {
      throw new UsageError('usage: sherd node register --rpc URL --registry ADDR --key K --account-key FILE --endpoint URL');
    }
    const stakeArg = wholeNumber('stake', values.stake);
    const { provider, registry, close } = await connectRegistry(values.rpc, values.registry);
    try {
      const secretKey = await readNodeKey(values.key);
      const operator = new Wallet((await readAccountKey(values['account-key']))!, provider);
      const stake = stakeArg ?? (await registry.parameters()).minStake;
      const receipt = await registry.connect(operator).registerNode(blsPublicKey(secretKey), blsProvePossession(secretKey), values.endpoint, stake);
      print(values.json === true, { tx: receipt.hash, gas: Number(receipt.gasUsed), operator: operator.address },
        `registered node ${values.endpoint} (operator ${operator.address}); tx ${receipt.hash}, ${receipt.gasUsed} gas`);
      return 0;
    } finally {
      close();
    }
  }
  if (sub !== 'start') throw new UsageError('usage: sherd node start ... | sherd node keygen --out FILE | sherd node register ...');
  const { values } = parse(rest, {
    port: { type: 'string' }, 'data-dir': { type: 'string' }, key: { type: 'string' }, host: { type: 'string' },
    'verify-threads': { type: 'string' }, 'log-level': { type: 'string' }, json: { type: 'boolean' },
    rpc: { type: 'string' }, registry: { type: 'string' },
  });
  if (values.port === undefined || !values['data-dir'] || !values.key) {
    throw new UsageError('usage: sherd node start --port P --data-dir D --key K');
  }
  const node = await startNode({
    port: integer('port', values.port)!,
    host: values.host,
    dataDir: values['data-dir'],
    keyFile: values.key,
    verifyThreads: integer('verify-threads', values['verify-threads']),
    logLevel: values['log-level'],
    rpc: values.rpc,
    registry: values.registry,
  });
  // One line either way: supervisors (devnet) wait for it.
  process.stdout.write(values.json ? `${JSON.stringify({ event: 'listening', url: node.url })}\n` : `sherd node listening on ${node.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.close();
  return 0;
}

runCli((argv) => cmdNode(argv.slice(1)));
