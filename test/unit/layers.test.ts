import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** DESIGN.md's rule: imports only point up proofs → protocol → chain → {storage-node, client}. */
const ALLOWED: Record<string, string[]> = {
  proofs: ['proofs'],
  protocol: ['proofs', 'protocol'],
  chain: ['proofs', 'protocol', 'chain'],
  'storage-node': ['proofs', 'protocol', 'chain', 'storage-node'],
  client: ['proofs', 'protocol', 'chain', 'client'],
};
const ROOT = resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'artifacts' ? [] : tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('layering', () => {
  it.each(Object.keys(ALLOWED))('%s imports only from the layers below it', (layer) => {
    const violations: string[] = [];
    for (const file of tsFiles(join(ROOT, layer))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
        const target = relative(ROOT, resolve(join(file, '..'), match[1] ?? match[2]!)).split('/')[0]!;
        if (!ALLOWED[layer]!.includes(target)) violations.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
