import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SherdError } from '../proofs/errors.ts';

/**
 * Compiles chain/contracts with the `solc` npm package (soljson ships inside it: nothing is
 * downloaded), evmVersion prague. Artifacts go to chain/artifacts (not committed) and are
 * reused while the sources' hash is unchanged. `npm install` runs this once (prepare).
 *
 * Only tools need this (deploying takes the bytecode): applications read the checked-in typed
 * ABI, chain/abi.ts, which `npm run abi` writes from the same compilation and
 * test/chain/abi.test.ts keeps in step with the Solidity.
 */
export const CONTRACTS_DIR = fileURLToPath(new URL('./contracts/', import.meta.url));
export const ARTIFACTS_FILE = fileURLToPath(new URL('./artifacts/contracts.json', import.meta.url));
export const ABI_FILE = fileURLToPath(new URL('./abi.ts', import.meta.url));
/** The contracts applications talk to; harnesses under contracts/test are for tests only. */
const ABI_CONTRACTS = { SherdRegistry: 'sherdRegistryAbi', SherdLicenses: 'sherdLicensesAbi' } as const;
export const SOLC_SETTINGS = { evmVersion: 'prague', optimizer: { enabled: true, runs: 200 }, viaIR: true } as const;

export interface Artifact {
  abi: unknown[];
  bytecode: string;
}

export type Artifacts = Record<string, Artifact>;

export class CompileError extends SherdError {
  override name = 'CompileError';
}

async function sources(dir = CONTRACTS_DIR): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(out, await sources(path));
    else if (entry.name.endsWith('.sol')) out[relative(CONTRACTS_DIR, path)] = await readFile(path, 'utf8');
  }
  return out;
}

function hashSources(files: Record<string, string>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(SOLC_SETTINGS));
  for (const name of Object.keys(files).sort()) hash.update(name).update('\0').update(files[name]!).update('\0');
  return hash.digest('hex');
}

let cached: Promise<Artifacts> | undefined;

/** Compiled contracts by name, compiling only when the sources changed. */
export function loadArtifacts(): Promise<Artifacts> {
  cached ??= (async () => {
    const files = await sources();
    const sourceHash = hashSources(files);
    try {
      const stored = JSON.parse(await readFile(ARTIFACTS_FILE, 'utf8')) as { sourceHash: string; contracts: Artifacts };
      if (stored.sourceHash === sourceHash) return stored.contracts;
    } catch {
      // no artifacts yet
    }
    const contracts = compile(files);
    await mkdir(dirname(ARTIFACTS_FILE), { recursive: true });
    const tmp = `${ARTIFACTS_FILE}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ sourceHash, solc: solcVersion(), contracts }));
    await rename(tmp, ARTIFACTS_FILE);
    return contracts;
  })();
  return cached;
}

function solcModule(): { compile(input: string): string; version(): string } {
  return createRequire(import.meta.url)('solc') as { compile(input: string): string; version(): string };
}

export function solcVersion(): string {
  return solcModule().version();
}

function compile(files: Record<string, string>): Artifacts {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, { content }])),
    settings: { ...SOLC_SETTINGS, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const output = JSON.parse(solcModule().compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0)
    throw new CompileError('compile_failed', 'Solidity compilation failed', { details: errors.map((e) => e.formattedMessage).join('\n') });
  const contracts: Artifacts = {};
  for (const file of Object.values(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(file))
      contracts[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  return contracts;
}

/** The text of chain/abi.ts for these artifacts: each application-facing ABI `as const`, so calls and results are typed. */
export function renderAbiModule(contracts: Artifacts): string {
  const parts = Object.entries(ABI_CONTRACTS).map(([contract, constant]) => {
    const artifact = contracts[contract];
    if (!artifact) throw new CompileError('compile_failed', `no contract ${contract} in chain/contracts`);
    return `export const ${constant} = ${JSON.stringify(artifact.abi, null, 2)} as const;\n`;
  });
  const header = [
    '// Generated from chain/contracts by `npm run abi` (chain/compile.ts); do not edit.',
    '// test/chain/abi.test.ts fails when the Solidity changes and this file does not.',
  ];
  return `${header.join('\n')}\n\n${parts.join('\n')}`;
}

// `tsx chain/compile.ts` (npm's prepare step) compiles ahead of time; `--abi` also rewrites chain/abi.ts.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const contracts = await loadArtifacts();
  const sizes = Object.entries(contracts)
    .map(([name, c]) => `${name} ${(c.bytecode.length - 2) / 2} B`)
    .join(', ');
  process.stdout.write(
    `compiled with solc ${solcVersion()} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${sizes} of init code\n`,
  );
  if (process.argv.includes('--abi')) {
    await writeFile(ABI_FILE, renderAbiModule(contracts));
    process.stdout.write(`wrote ${relative(process.cwd(), ABI_FILE)}\n`);
  }
}
