import { nodeEncryptionKey } from '../protocol/encryption.ts';
import { formatEther, Wallet } from 'ethers';
import { connectRegistry } from '../chain/rpc.ts';
import { blsProvePossession, blsPublicKey, generateBlsKeyPair } from '../proofs/bls.ts';
import { CliError, integer, parse, print, untilSignal, UsageError, wholeNumber } from './args.ts';
import { checkChainFlags, datasetArg } from './context.ts';
import { DEFAULT_DEVNET_FILE, readDevnetFile } from './devnet-file.ts';
import { readAccountKey, readNodeKey, writeNodeKey } from './keyfile.ts';
import { runRepairPass, startNode } from '../storage-node/node.ts';
import { DEFAULT_SCRUB_MB_S } from '../storage-node/scrub.ts';
import { describeReport } from '../storage-node/repair.ts';

const USAGE = 'usage: sherd node start ... | keygen --out FILE | register ... | rewards [--claim] ... | repair ...';
const REPAIR_USAGE =
  'usage: sherd node repair (--data-dir D --key K --rpc URL --registry ADDR [--account-key FILE] | --devnet F --node I) [--root ID] [--json]';

/** A devnet node's files and chain, for `--devnet F --node I` (either flag alone means the other's default). */
async function devnetNode(values: { devnet?: string; node?: string }) {
  if (values.devnet === undefined && values.node === undefined) return undefined;
  const devnet = await readDevnetFile(values.devnet ?? DEFAULT_DEVNET_FILE);
  const index = integer('node', values.node, { min: 0, max: 255 }, 0)!;
  const entry = devnet.nodes[index];
  if (!entry) throw new UsageError(`the devnet has no node ${index} (it has ${devnet.nodes.length})`);
  return {
    dataDir: entry.dataDir,
    keyFile: entry.keyFile,
    accountKeyFile: entry.operatorKeyFile,
    rpc: devnet.rpc,
    registry: devnet.registryAddress,
  };
}

/**
 * `sherd node repair`: one repair pass over a stopped node's data directory, as a node makes at
 * start-up: every dataset it holds a slot of (or --root), manifests fetched when missing, every
 * missing shard rebuilt from peers, replacement slots confirmed; prints what it did, and exits 1
 * if anything could not be done.
 */
async function cmdRepair(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      'data-dir': { type: 'string' },
      key: { type: 'string' },
      rpc: { type: 'string' },
      registry: { type: 'string' },
      'account-key': { type: 'string' },
      devnet: { type: 'string' },
      node: { type: 'string' },
      root: { type: 'string' },
      json: { type: 'boolean' },
    },
    'node repair',
  );
  const fromDevnet = await devnetNode(values);
  const dataDir = values['data-dir'] ?? fromDevnet?.dataDir;
  const keyFile = values.key ?? fromDevnet?.keyFile;
  const rpc = values.rpc ?? fromDevnet?.rpc;
  const registry = values.registry ?? fromDevnet?.registry;
  const accountKeyFile = values['account-key'] ?? fromDevnet?.accountKeyFile;
  if (!dataDir || !keyFile || !rpc || !registry) throw new UsageError(REPAIR_USAGE);
  checkChainFlags(rpc, registry);
  const report = await runRepairPass({
    dataDir,
    blsSecretKey: await readNodeKey(keyFile),
    rpc,
    registry,
    accountKey: await readAccountKey(accountKeyFile),
    root: values.root === undefined ? undefined : datasetArg(values.root),
  }).catch((error: unknown) => {
    const e = error as { code?: string; cause?: { code?: string } };
    if (e?.code === 'LEVEL_DATABASE_NOT_OPEN' && e.cause?.code === 'LEVEL_LOCKED') {
      throw new CliError(
        'data_dir_locked',
        `data dir ${dataDir} is held by a running node, which repairs by itself (at start-up, by its scrub, for every new slot); stop it to run a pass by hand`,
      );
    }
    throw error;
  });
  print(values.json ?? false, report, `repair pass: ${describeReport(report)}${report.errors.map((e) => `\n  ${e}`).join('')}`);
  return report.failed > 0 || report.errors.length > 0 ? 1 : 0;
}

/**
 * `sherd node rewards`: what the node has earned, lost and not yet claimed; --claim pays the
 * unclaimed rewards to the operator. The node is named by its key file (--rpc/--registry/--key)
 * or by its index in a devnet (--devnet F --node I).
 */
async function cmdRewards(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      rpc: { type: 'string' },
      registry: { type: 'string' },
      key: { type: 'string' },
      'account-key': { type: 'string' },
      devnet: { type: 'string' },
      node: { type: 'string' },
      claim: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    'node rewards',
  );
  const fromDevnet = await devnetNode(values);
  const rpc = values.rpc ?? fromDevnet?.rpc;
  const registryAddress = values.registry ?? fromDevnet?.registry;
  const keyFile = values.key ?? fromDevnet?.keyFile;
  const accountKeyFile = values['account-key'] ?? fromDevnet?.accountKeyFile;
  if (!rpc || !registryAddress || !keyFile) {
    throw new UsageError(
      'usage: sherd node rewards (--rpc URL --registry ADDR --key K | --devnet F --node I) [--claim --account-key FILE] [--json]',
    );
  }
  if (values.claim && !accountKeyFile) throw new UsageError('--claim pays the operator: pass --account-key FILE');
  const publicKey = blsPublicKey(await readNodeKey(keyFile));
  checkChainFlags(rpc, registryAddress);
  const { provider, registry, close } = await connectRegistry(rpc, registryAddress);
  try {
    const id = await registry.nodeIdByKey(publicKey);
    if (id === undefined) throw new CliError('node_not_registered', `the key in ${keyFile} is not registered in ${registryAddress}`);
    const [node, before] = await Promise.all([registry.node(id), registry.nodeEarnings(id)]);
    let claimTx: string | null = null;
    if (values.claim) {
      const operator = new Wallet((await readAccountKey(accountKeyFile))!, provider);
      if (operator.address.toLowerCase() !== node.operator.toLowerCase()) {
        throw new CliError('not_operator', `node ${id} is operated by ${node.operator}, not by the key in ${accountKeyFile}`);
      }
      if (before.unclaimed === 0n) throw new CliError('nothing_to_claim', `node ${id} has no unclaimed rewards`);
      claimTx = (await registry.connect(operator).claimRewards(id)).hash;
    }
    const after = values.claim ? await registry.nodeEarnings(id) : before;
    const report = {
      nodeId: id,
      operator: node.operator,
      stakeWei: node.stake.toString(),
      active: node.active,
      earnedWei: after.earned.toString(),
      unclaimedWei: after.unclaimed.toString(),
      claimedNowWei: (before.unclaimed - after.unclaimed).toString(),
      slashedWei: after.slashed.toString(),
      challengesAnswered: after.answered,
      challengesMissed: after.missed,
      claimTx,
    };
    print(
      values.json === true,
      report,
      [
        `node ${id} (operator ${node.operator}${node.active ? '' : ', not active'})`,
        `  challenges  ${after.answered} answered, ${after.missed} missed`,
        `  earned      ${formatEther(after.earned)} ETH (${after.earned} wei), unclaimed ${after.unclaimed} wei`,
        `  slashed     ${after.slashed} wei; stake now ${formatEther(node.stake)} ETH`,
        ...(claimTx ? [`  claimed     ${before.unclaimed} wei to ${node.operator} (tx ${claimTx})`] : []),
      ].join('\n'),
    );
    return 0;
  } finally {
    close();
  }
}

/** `sherd node start | keygen | register | rewards`: the operator's commands. */
export async function cmdNode(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'keygen') {
    const { values } = parse(rest, { out: { type: 'string' } }, 'node keygen');
    if (!values.out) throw new UsageError('usage: sherd node keygen --out FILE');
    await writeNodeKey(values.out, generateBlsKeyPair().secretKey).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'EEXIST') throw new UsageError(`${values.out} exists; refusing to overwrite a key`);
      throw cause;
    });
    process.stdout.write(`wrote ${values.out}\n`);
    return 0;
  }
  if (sub === 'register') {
    const { values } = parse(
      rest,
      {
        rpc: { type: 'string' },
        registry: { type: 'string' },
        key: { type: 'string' },
        'account-key': { type: 'string' },
        endpoint: { type: 'string' },
        stake: { type: 'string' },
        json: { type: 'boolean' },
      },
      'node register',
    );
    if (!values.rpc || !values.registry || !values.key || !values['account-key'] || !values.endpoint) {
      throw new UsageError('usage: sherd node register --rpc URL --registry ADDR --key K --account-key FILE --endpoint URL');
    }
    const stakeArg = wholeNumber('stake', values.stake);
    checkChainFlags(values.rpc, values.registry);
    const { provider, registry, close } = await connectRegistry(values.rpc, values.registry);
    try {
      const secretKey = await readNodeKey(values.key);
      const operator = new Wallet((await readAccountKey(values['account-key']))!, provider);
      const stake = stakeArg ?? (await registry.parameters()).minStake;
      const receipt = await registry
        .connect(operator)
        .registerNode(blsPublicKey(secretKey), blsProvePossession(secretKey), nodeEncryptionKey(secretKey), values.endpoint, stake);
      print(
        values.json === true,
        { tx: receipt.hash, gas: Number(receipt.gasUsed), operator: operator.address },
        `registered node ${values.endpoint} (operator ${operator.address}); tx ${receipt.hash}, ${receipt.gasUsed} gas`,
      );
      return 0;
    } finally {
      close();
    }
  }
  if (sub === 'rewards') return cmdRewards(rest);
  if (sub === 'start') return cmdNodeStart(rest);
  if (sub === 'repair') return cmdRepair(rest);
  throw new UsageError(USAGE);
}

/** Why a node could not start, as a sentence the operator can act on. */
function startFailure(error: unknown, port: number, dataDir: string): unknown {
  const e = error as NodeJS.ErrnoException & { cause?: { code?: string } };
  if (e?.code === 'EADDRINUSE') return new CliError('port_in_use', `port ${port} is in use; choose another with --port`);
  if (e?.code === 'LEVEL_DATABASE_NOT_OPEN' && e.cause?.code === 'LEVEL_LOCKED') {
    return new CliError('data_dir_locked', `data dir ${dataDir} is held by another running node; stop it or choose another --data-dir`);
  }
  if (e?.code === 'LEVEL_DATABASE_NOT_OPEN')
    return new CliError(
      'data_dir_unusable',
      `cannot open the data dir ${dataDir}: ${e.cause ? String((e.cause as Error).message ?? e.cause) : e.message}`,
    );
  return error;
}

/** --scrub-mb-s: MB per second, fractions allowed; 0 turns the scrub off. */
function scrubRate(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SCRUB_MB_S;
  const rate = Number(text);
  if (text.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 10_000) {
    throw new UsageError(`--scrub-mb-s must be a number of MB per second from 0 (off) to 10000, got ${text}`);
  }
  return rate;
}

/** `sherd node start`: one storage node until SIGINT or SIGTERM. */
async function cmdNodeStart(args: string[]): Promise<number> {
  const options = {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    key: { type: 'string' },
    host: { type: 'string' },
    'verify-threads': { type: 'string' },
    'log-level': { type: 'string' },
    json: { type: 'boolean' },
    rpc: { type: 'string' },
    registry: { type: 'string' },
    'account-key': { type: 'string' },
    'poll-ms': { type: 'string' },
    'scrub-mb-s': { type: 'string' },
    'no-repair': { type: 'boolean' },
  } as const;
  const { values } = parse(args, options, 'node start');
  const dataDir = values['data-dir'];
  if (values.port === undefined || !dataDir || !values.key) throw new UsageError('usage: sherd node start --port P --data-dir D --key K');
  const port = integer('port', values.port, { min: 0, max: 65_535 })!;
  const scrubMbPerSecond = scrubRate(values['scrub-mb-s']);
  checkChainFlags(values.rpc, values.registry);
  const node = await startNode({
    port,
    host: values.host,
    dataDir,
    blsSecretKey: await readNodeKey(values.key),
    accountKey: await readAccountKey(values['account-key']),
    verifyThreads: integer('verify-threads', values['verify-threads'], { min: 1, max: 64 }),
    logLevel: values['log-level'],
    rpc: values.rpc,
    registry: values.registry,
    pollMs: integer('poll-ms', values['poll-ms'], { min: 10, max: 3_600_000 }),
    scrubMbPerSecond,
    repair: !values['no-repair'],
  }).catch((error: unknown) => {
    throw startFailure(error, port, dataDir);
  });
  // One line either way: supervisors (devnet) wait for it.
  process.stdout.write(
    values.json ? `${JSON.stringify({ event: 'listening', url: node.url })}\n` : `sherd node listening on ${node.url}\n`,
  );
  await untilSignal();
  await node.close();
  return 0;
}
