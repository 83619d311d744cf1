import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SherdError } from '../proofs/errors.ts';

/**
 * Command-line conventions shared by the client's and the node's commands: bad usage is a
 * UsageError (exit 2), any other failure one line on stderr (exit 1), --json prints one
 * JSON object on stdout.
 */
export class UsageError extends SherdError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function integer(name: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return Number(value);
}

export function print(json: boolean, object: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(object, null, 2)}\n` : `${human}\n`);
}

/** Reads an account (secp256k1) private key file: 0x followed by 64 hex digits. */
export async function readAccountKey(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const text = (await readFile(path, 'utf8')).trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new UsageError(`${path} must hold a 0x-prefixed 32-byte hex private key`);
  return text;
}

/** Runs a command's main and exits with its status; errors become one line on stderr. */
export function runCli(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const e = error as SherdError;
      const details = e instanceof SherdError && e.details ? ` (${e.details})` : '';
      process.stderr.write(`sherd: ${e?.message ?? String(error)}${details}\n`);
      if (process.env.SHERD_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
