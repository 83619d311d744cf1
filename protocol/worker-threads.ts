/**
 * How Sherd's worker threads (client encoder, node verifier) load their TypeScript module.
 * Sources run through tsx, and a worker needs the loader too. It is passed by absolute URL:
 * a bare `--import tsx` would be resolved from the process's working directory, which may
 * be anywhere.
 */
export function workerModule(file: URL): { filename: string; execArgv: string[] } {
  const needsLoader = file.pathname.endsWith('.ts');
  return { filename: file.href, execArgv: needsLoader ? ['--import', import.meta.resolve('tsx')] : [] };
}
