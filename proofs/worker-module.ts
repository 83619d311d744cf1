import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * How Sherd's worker threads (client encoder, node verifier) load their TypeScript module.
 * Sources run through tsx, and a worker needs the loader too. It is passed by absolute URL:
 * a bare `--import tsx` would be resolved from the process's working directory, which may
 * be anywhere.
 */
let tsxLoader: string | undefined;

function tsxLoaderUrl(): string {
  if (!tsxLoader) {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve('tsx/package.json');
    const entry = (require(packageJson) as { exports: { '.': string } }).exports['.'];
    tsxLoader = pathToFileURL(join(dirname(packageJson), entry)).href;
  }
  return tsxLoader;
}

export function workerModule(file: URL): { filename: string; execArgv: string[] } {
  const needsLoader = file.pathname.endsWith('.ts');
  return { filename: file.href, execArgv: needsLoader ? ['--import', tsxLoaderUrl()] : [] };
}
