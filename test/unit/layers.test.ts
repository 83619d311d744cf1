import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN.md's rule: imports only point up this list. proofs imports nothing of ours; protocol
 * imports proofs; chain imports proofs and protocol; storage-node and client import those
 * three and never each other; gateway and explorer import client and below, never
 * storage-node; cli (the tools: the `sherd` command, devnet, demo, local chain) may import
 * all of them. bench/ and test/ may import anything.
 */
const BELOW_NODE_AND_CLIENT = ['proofs', 'protocol', 'chain'];
const ALLOWED: Record<string, string[]> = {
  proofs: ['proofs'],
  protocol: ['proofs', 'protocol'],
  chain: ['proofs', 'protocol', 'chain'],
  'storage-node': [...BELOW_NODE_AND_CLIENT, 'storage-node'],
  client: [...BELOW_NODE_AND_CLIENT, 'client'],
  gateway: [...BELOW_NODE_AND_CLIENT, 'client', 'gateway'],
  explorer: [...BELOW_NODE_AND_CLIENT, 'client', 'explorer'],
  cli: [...BELOW_NODE_AND_CLIENT, 'storage-node', 'client', 'gateway', 'explorer', 'cli'],
};
const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function sourceFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // a layer that does not exist yet
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'artifacts' || name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

/** Every module specifier in a file: static, bare (`import 'x'`), type-only, `export … from`, dynamic with a literal, require. */
function importSpecifiers(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  // createRequire(import.meta.url)('x'), as native and CommonJS packages are loaded here, is an import too.
  const required = [...source.matchAll(/createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...info.importedFiles.map((f) => f.fileName), ...required];
}

function layerOf(file: string): string {
  return relative(ROOT, file).split('/')[0]!;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

describe('import specifiers', () => {
  it('are found in every form', () => {
    const source = [
      "import a from './a.ts';",
      "import './bare.ts';",
      "import type { T } from './types.ts';",
      "export { b } from './b.ts';",
      "export * from './star.ts';",
      "const c = await import('./dynamic.ts');",
      "const d = require('./required.cjs');",
      "const e = createRequire(import.meta.url)('./created.cjs');",
      "// import './commented.ts';",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(
      ['./a.ts', './b.ts', './bare.ts', './created.cjs', './dynamic.ts', './required.cjs', './star.ts', './types.ts'].sort(),
    );
  });
});

describe('layering', () => {
  it.each(Object.keys(ALLOWED))('%s imports only from the layers below it', (layer) => {
    const violations: string[] = [];
    for (const file of sourceFiles(join(ROOT, layer))) {
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = layerOf(resolve(dirname(file), specifier));
        if (!ALLOWED[layer]!.includes(target)) violations.push(`${relative(ROOT, file)} imports ${specifier}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the SDK entry reaches no tool and no devDependency', () => {
    // Walk everything client/index.ts pulls in, transitively.
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = [join(ROOT, 'client/index.ts')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
        else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) packages.add(packageName(specifier));
      }
    }
    const reached = [...seen].map((file) => relative(ROOT, file));
    expect(reached.filter((file) => file.startsWith('cli/'))).toEqual([]);
    expect(reached).not.toContain('chain/compile.ts');
    expect([...packages].filter((name) => !(name in PACKAGE.dependencies))).toEqual([]);
    for (const tool of ['hardhat', 'solc']) expect(packages).not.toContain(tool);
  });
});
