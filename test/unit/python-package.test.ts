import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globPattern, sampleKeyOf, shareOf, shuffled } from '../../client/epoch-plan.ts';

const PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../integration/python/plan_vectors.py', import.meta.url));
const CLIENT_SCRIPT = fileURLToPath(new URL('../integration/python/gateway_client.py', import.meta.url));

describe('python/sherd_data', () => {
  // The TypeScript and Python loaders must give a job the same epoch: the same cases through both.
  it('plans an epoch as client/epoch-plan.ts does: shuffles, deals, matches globs and keys members the same way', () => {
    const items = fc.array(fc.string({ maxLength: 12 }), { maxLength: 30 });
    const cases = {
      shuffled: fc.sample(fc.record({ items, seed: fc.string({ maxLength: 10 }), epoch: fc.nat(10_000) }), 60),
      shares: fc.sample(
        fc.record({ worldSize: fc.integer({ min: 1, max: 4 }), numWorkers: fc.integer({ min: 1, max: 4 }) }).chain((n) =>
          fc.record({
            items,
            worldSize: fc.constant(n.worldSize),
            numWorkers: fc.constant(n.numWorkers),
            rank: fc.integer({ min: 0, max: n.worldSize - 1 }),
            workerId: fc.integer({ min: 0, max: n.numWorkers - 1 }),
          }),
        ),
        60,
      ),
      globs: [
        ...[
          'train-*.tar',
          '**/*.tar',
          '**',
          'a?c',
          '[ab]*',
          '[!ab]*',
          'x/**/y',
          'a.b+(c)',
          '[]a]*',
          '[!]a]*',
          '[\\^]*',
          '?.txt',
          'a]b',
        ].flatMap((glob) =>
          [
            'train-1.tar',
            'a/b/c.tar',
            'c.tar',
            'abc',
            'a/c',
            'bz',
            'zz',
            'x/y',
            'x/1/2/y',
            'a.b+(c)',
            'axb+(c)',
            ']x',
            '^x',
            '\\x',
            '😀.txt',
            'a]b',
          ].map((path) => ({
            glob,
            path,
          })),
        ),
      ],
      keys: ['a/b.c.jpg', 'x.cls', 'dir.v2/sample', 'noext', '.hidden', 'a/.b'],
    };
    const python = JSON.parse(execFileSync('/usr/bin/python3', [SCRIPT, PYTHON_DIR], { input: JSON.stringify(cases) }).toString());
    expect(python).toEqual({
      shuffled: cases.shuffled.map((c) => shuffled(c.items, c.seed, c.epoch)),
      shares: cases.shares.map((c) => shareOf(c.items, c)),
      globs: cases.globs.map((c) => globPattern(c.glob).test(c.path)),
      keys: cases.keys.map((p) => {
        const { key, extension } = sampleKeyOf(p);
        return [key, extension];
      }),
    });
  });

  it('retries 429, 502 and 503 as Retry-After says (or with backoff), and raises other errors with URL and status', () => {
    const report = JSON.parse(
      execFileSync('/usr/bin/python3', [CLIENT_SCRIPT, PYTHON_DIR])
        .toString()
        .replace(/127\.0\.0\.1:\d+/g, 'HOST'),
    );
    expect(report).toEqual({
      // Retry-After: 2 (503), then an HTTP date in the past (429), then none (502: 0.5 s × 2²).
      busy: [200, 'payload', [2, 0, 2]],
      gone: ['http://HOST/datasets/d/gone: HTTP 404: scripted 404', 404, []],
      down: ['http://HOST/datasets/d/down: HTTP 503: scripted 503', 503, [1, 1, 1]],
      badUrl: "a gateway URL starts with http:// or https://, not 'ftp://x'",
    });
  });
});
