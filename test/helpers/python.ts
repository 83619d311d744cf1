import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Python, which has torch, boto3 and fsspec (the `python3` first on PATH may be another build). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const PACKAGE = fileURLToPath(new URL('../../python', import.meta.url));

/**
 * `pip install ./python` into `dir`/site, offline (Debian's setuptools builds it), and that
 * folder for PYTHONPATH. From a copy in `dir`: pip builds in the source folder, and the
 * checkout is left as it was.
 */
export async function installSherdData(dir: string): Promise<string> {
  const source = join(dir, 'python');
  const site = join(dir, 'site');
  await cp(PACKAGE, source, { recursive: true });
  const args = [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--root-user-action=ignore',
    '--no-index',
    '--no-build-isolation',
    '--target',
    site,
    source,
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(SYSTEM_PYTHON, args, (error, _stdout, stderr) => {
      if (error || stderr) reject(new Error(`pip install ./python failed: ${stderr || error?.message}`));
      else resolve();
    });
  });
  return site;
}
