import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { licenseAccount } from '../../client/chain-context.ts';
import { accountAddress } from '../../proofs/account.ts';
import { fromHex } from '../../proofs/bytes.ts';
import { createChainGateway } from '../../gateway/server.ts';
import { CliError, integer, parse, positionals, UsageError, untilSignal } from '../args.ts';
import { chainFrom, chainOptions } from '../context.ts';
import { parseBytes } from '../progress.ts';

export const GATEWAY_USAGE =
  'sherd gateway [--port 8080] [--host 127.0.0.1] [--devnet F | --rpc URL --registry ADDR] [--cache 256MiB] [--read-ahead 8] [--read-threads N] [--account-key FILE [--token T]]';

/** Old space a read thread starts with (MiB): full GCs become rare, and the dead buffers between them stay few (docs/benchmarks.md). */
const READ_THREAD_OLD_SPACE_MIB = 32;

/** `sherd gateway`: serves every certified dataset of the registry over plain HTTP, checked, until SIGINT or SIGTERM. */
export async function cmdGateway(args: string[]): Promise<number> {
  const options = {
    ...chainOptions,
    port: { type: 'string' },
    host: { type: 'string' },
    cache: { type: 'string' },
    'read-ahead': { type: 'string' },
    'read-threads': { type: 'string' },
    'log-level': { type: 'string' },
    token: { type: 'string' },
  } as const;
  const { values, positionals: given } = parse(args, options, 'gateway');
  positionals(given, 0, GATEWAY_USAGE);
  const port = integer('port', values.port, { min: 0, max: 65_535 }, 8080)!;
  let cacheBytes: number;
  try {
    cacheBytes = parseBytes(values.cache ?? '256MiB');
  } catch {
    throw new UsageError(`--cache: not a size: ${values.cache} (try 256MiB)`);
  }
  const readAhead = integer('read-ahead', values['read-ahead'], { min: 1, max: 64 }, 8)!;
  const readThreads = integer('read-threads', values['read-threads'], { min: 0, max: 64 }, Math.max(1, availableParallelism() - 1))!;
  const stop = untilSignal();
  // From the environment too: a token on the command line shows in `ps`.
  values.token ??= process.env.SHERD_GATEWAY_TOKEN;
  if (values.token !== undefined && !/^\S{16,}$/.test(values.token))
    throw new UsageError('--token must be at least 16 characters without spaces');
  const { context, accountKey } = await chainFrom(values);
  // Only an account given on purpose: the devnet's default uploader key would put every gateway behind a token.
  const license = values['account-key'] && accountKey ? await licenseAccount(context, fromHex(accountKey, 32)) : undefined;
  const token = values.token ?? (license ? randomBytes(24).toString('base64url') : undefined);
  // Read threads move ~100 MB/s through short-lived segment buffers. With V8's default old-space
  // sizing, a heap this small runs a full GC about every 100 ms: a third of the gateway's CPU
  // (docs/benchmarks.md). Threads started from here on take the flag; this one was configured at start.
  setFlagsFromString(`--initial-old-space-size=${READ_THREAD_OLD_SPACE_MIB}`);
  const app = await createChainGateway(context.registry, {
    cacheBytes,
    readAhead,
    readThreads,
    license,
    token,
    logLevel: values['log-level'] ?? 'warn',
  });
  const host = values.host ?? '127.0.0.1';
  try {
    await app.listen({ port, host }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new CliError('port_in_use', `port ${port} is in use; choose another with --port`);
      throw error;
    });
    const address = app.server.address();
    const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
    process.stdout.write(`sherd gateway listening on ${url} (datasets at ${url}/datasets/DATASET/PATH)\n`);
    if (license) process.stdout.write(`serving encrypted datasets licensed to ${accountAddress(license.accountKey)}\n`);
    if (token !== undefined && token !== values.token) process.stdout.write(`token: ${token}\n`);
    if (token !== undefined) process.stdout.write('every dataset request needs the header Authorization: Bearer TOKEN\n');
    await stop;
    return 0;
  } finally {
    await app.close();
    context.close();
  }
}
