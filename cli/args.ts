import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SherdError } from '../proofs/errors.ts';

/**
 * Command-line conventions shared by every `sherd` command (docs/cli.md is the table): bad
 * usage is a UsageError (exit 2) that names the flag and what it allows; an operational
 * failure is one line on stderr that says what to do (exit 1); --json prints one JSON object
 * on stdout.
 */
export class UsageError extends SherdError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

/** An operational failure the user can act on; the message says how. */
export class CliError extends SherdError {
  override name = 'CliError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` strictly; parseArgs' own messages become short ones that name the flag. */
export function parse<T extends Options>(args: string[], options: T, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const e = error as Error & { code?: string };
    const flag = /'(-[^' ]+)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag} for sherd ${command}; see sherd --help`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = flag ?? '';
      const boolean = options[name.replace(/^--/, '')]?.type === 'boolean';
      throw new UsageError(boolean ? `${name} takes no value` : `${name} needs a value`);
    }
    throw new UsageError(e.message);
  }
}

/** A whole-number option as bigint (wei, seconds), or undefined when absent. */
export function wholeNumber(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return BigInt(value);
}

/** An integer option within [min, max], or `fallback` when absent. */
export function integer(
  name: string,
  value: string | undefined,
  range: { min: number; max: number },
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= range.min && parsed <= range.max)) {
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, got ${value}`);
  }
  return parsed;
}

/** Exactly `count` positional arguments, or the command's usage line. */
export function positionals(values: string[], count: number, usage: string): string[] {
  if (values.length !== count) throw new UsageError(`usage: ${usage}`);
  return values;
}

/** Resolves on the first SIGINT or SIGTERM: how a long-running command (devnet, node, chain) learns to stop. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function print(json: boolean, object: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(object, null, 2)}\n` : `${human}\n`);
}

const ERRNO_SENTENCES: Record<string, (path: string) => string> = {
  ENOENT: (path) => `no such file: ${path}`,
  EISDIR: (path) => `${path} is a directory`,
  ENOTDIR: (path) => `${path} is not a directory`,
  EACCES: (path) => `permission denied: ${path}`,
  EPERM: (path) => `permission denied: ${path}`,
};

/** The one line a failure prints: ours as written, the system's as a sentence (never raw errno text). */
export function explain(error: unknown): string {
  if (error instanceof SherdError) return `${error.message}${error.details ? ` (${error.details})` : ''}`;
  const e = error as NodeJS.ErrnoException;
  const sentence = e?.code ? ERRNO_SENTENCES[e.code] : undefined;
  if (sentence && e.path) return sentence(e.path);
  return e?.message ?? String(error);
}

/**
 * Runs a command's main and exits with its status; errors become one line on stderr. When
 * stdout closes early (`| head`), the command stops and exits quietly with 0: the reader has
 * what it asked for (Sherd's choice; `cat` would die of SIGPIPE). Only a broken stdout counts:
 * an EPIPE from anywhere else is a failure like any other.
 */
export function runCli(main: (argv: string[]) => Promise<number>): void {
  let stdoutClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      process.stderr.write(`sherd: cannot write to stdout: ${error.message}\n`);
      process.exit(EXIT_FAILURE);
    }
    stdoutClosed = true;
    process.exit(EXIT_OK);
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (stdoutClosed || ((error as NodeJS.ErrnoException)?.code === 'EPIPE' && process.stdout.destroyed)) process.exit(EXIT_OK);
      process.stderr.write(`sherd: ${explain(error)}\n`);
      if (process.env.SHERD_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
      process.exit(error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE);
    },
  );
}
