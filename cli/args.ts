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

/** A whole-number option as bigint (wei, seconds), or undefined when absent. */
export function wholeNumber(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return BigInt(value);
}

export function integer(name: string, value: string | undefined, fallback?: number): number | undefined {
  const whole = wholeNumber(name, value);
  return whole === undefined ? fallback : Number(whole);
}

export function print(json: boolean, object: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(object, null, 2)}\n` : `${human}\n`);
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
