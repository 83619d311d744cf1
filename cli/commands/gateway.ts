import { availableParallelism } from 'node:os';
import { createChainGateway } from '../../gateway/server.ts';
import { CliError, integer, parse, positionals, UsageError, untilSignal } from '../args.ts';
import { chainFrom, chainOptions } from '../context.ts';
import { parseBytes } from '../progress.ts';

export const GATEWAY_USAGE =
  'sherd gateway [--port 8080] [--host 127.0.0.1] [--devnet F | --rpc URL --registry ADDR] [--cache 256MiB] [--read-ahead 8] [--read-threads N]';

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
  const { context } = await chainFrom(values);
  const app = await createChainGateway(context.registry, { cacheBytes, readAhead, readThreads, logLevel: values['log-level'] ?? 'warn' });
  const host = values.host ?? '127.0.0.1';
  try {
    await app.listen({ port, host }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new CliError('port_in_use', `port ${port} is in use; choose another with --port`);
      throw error;
    });
    const address = app.server.address();
    const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
    process.stdout.write(`sherd gateway listening on ${url} (datasets at ${url}/datasets/DATASET/PATH)\n`);
    await stop;
    return 0;
  } finally {
    await app.close();
    context.close();
  }
}
