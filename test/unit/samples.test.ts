import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globPattern, sampleKeyOf, shareOf, shuffled } from '../../client/epoch-plan.ts';
import { type Sample, type SampleSource, samples, tarSampleCount } from '../../client/samples.ts';
import { rangedSource, streamedSource, tarEntries } from '../../client/tar.ts';
import type { FileEntry } from '../../protocol/file-index.ts';
import { comparePaths } from '../../protocol/file-index.ts';
import { makeTar } from '../helpers/tar-writer.ts';

/** Files in memory, read in chunks of `chunk` bytes; counts the bytes read. */
function memorySource(contents: Map<string, Uint8Array>, chunk = 1000): SampleSource & { bytesRead: number } {
  const files: FileEntry[] = [...contents.keys()]
    .sort(comparePaths)
    .map((path) => ({ path, offset: 0, length: contents.get(path)!.length, sha256: new Uint8Array(32) }));
  const source = {
    bytesRead: 0,
    files,
    file: (path: string) => files.find((f) => f.path === path),
    async *read(path: string, start = 0, end?: number) {
      const bytes = contents.get(path)!;
      const stop = end ?? bytes.length;
      for (let at = start; at < stop; at += chunk) {
        const part = bytes.subarray(at, Math.min(stop, at + chunk));
        source.bytesRead += part.length;
        yield part;
      }
    },
  };
  return source as SampleSource & { bytesRead: number };
}

/** `files` tars of `perFile[i]` samples, each an `img` and a `cls` member. */
function tarDataset(perFile: number[]): { contents: Map<string, Uint8Array>; keys: string[] } {
  const contents = new Map<string, Uint8Array>();
  const keys: string[] = [];
  perFile.forEach((count, f) => {
    const members: Array<[string, Uint8Array]> = [];
    for (let s = 0; s < count; s++) {
      const key = `shard${f}/sample${String(s).padStart(3, '0')}`;
      keys.push(key);
      members.push([`${key}.img`, randomBytes(1 + ((s * 37) % 1500))], [`${key}.cls`, Buffer.from(String(s))]);
    }
    contents.set(`train-${String(f).padStart(4, '0')}.tar`, makeTar(members));
  });
  return { contents, keys };
}

async function all(iterator: AsyncIterable<Sample>, limit = Number.POSITIVE_INFINITY): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const sample of iterator) {
    out.push(sample);
    if (out.length >= limit) break;
  }
  return out;
}

const splitArbitrary = fc.record({ worldSize: fc.integer({ min: 1, max: 3 }), numWorkers: fc.integer({ min: 1, max: 3 }) }).chain((sizes) =>
  fc.record({
    worldSize: fc.constant(sizes.worldSize),
    numWorkers: fc.constant(sizes.numWorkers),
    rank: fc.integer({ min: 0, max: sizes.worldSize - 1 }),
    workerId: fc.integer({ min: 0, max: sizes.numWorkers - 1 }),
  }),
);

describe('the epoch plan', () => {
  it('matches globs: * and ? within a component, ** across, classes', () => {
    const cases: Array<[string, string, boolean]> = [
      ['train-*.tar', 'train-000001.tar', true],
      ['train-*.tar', 'val/train-1.tar', false],
      ['**/*.tar', 'a/b/c.tar', true],
      ['**/*.tar', 'c.tar', true],
      ['**', 'anything/at/all', true],
      ['train-00000?.tar', 'train-000009.tar', true],
      ['train-00000[0-4].tar', 'train-000005.tar', false],
      ['train-00000[!0-4].tar', 'train-000005.tar', true],
      ['a.b', 'axb', false],
      ['(x)+', '(x)+', true],
      ['[]a]x', ']x', true],
      ['[!]a]x', 'bx', true],
      ['[!]a]x', ']x', false],
      ['?.txt', '😀.txt', true],
    ];
    expect(cases.map(([glob, path]) => globPattern(glob).test(path))).toEqual(cases.map(([, , matches]) => matches));
    expect(() => globPattern('train-[0-9.tar')).toThrow('the pattern train-[0-9.tar has a [ without its ]');
  });

  it('shuffles into a permutation, the same for a seed and epoch, another for the next epoch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.string(), fc.nat(1000), (n, seed, epoch) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const order = shuffled(items, seed, epoch);
        expect([...order].sort((a, b) => a - b)).toEqual(items);
        expect(shuffled(items, seed, epoch)).toEqual(order);
      }),
    );
    const items = Array.from({ length: 10 }, (_, i) => i);
    const orders = new Set([0, 1, 2, 3].map((epoch) => shuffled(items, 'seed', epoch).join(',')));
    expect(orders.size).toBe(4);
  });

  it('deals an epoch to ranks and workers without overlap or gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (n, worldSize, numWorkers) => {
          const items = Array.from({ length: n }, (_, i) => i);
          const shares = [];
          for (let rank = 0; rank < worldSize; rank++)
            for (let workerId = 0; workerId < numWorkers; workerId++)
              shares.push(...shareOf(items, { rank, worldSize, workerId, numWorkers }));
          expect(shares.sort((a, b) => a - b)).toEqual(items);
        },
      ),
    );
    expect(() => shareOf([1], { rank: 2, worldSize: 2, workerId: 0, numWorkers: 1 })).toThrow('rank 2 is not below worldSize 2');
    expect(() => shareOf([1], { rank: 0, worldSize: 0, workerId: 0, numWorkers: 1 })).toThrow(
      'worldSize must be an integer of at least 1, not 0',
    );
  });

  it('keys WebDataset members at the first dot of their last component', () => {
    expect(['a/b.c.jpg', 'x.cls', 'dir.v2/sample', 'noext'].map(sampleKeyOf)).toEqual([
      { key: 'a/b', extension: 'c.jpg' },
      { key: 'x', extension: 'cls' },
      { key: 'dir.v2/sample', extension: '' },
      { key: 'noext', extension: '' },
    ]);
  });
});

describe('tar reading', () => {
  it('reads what GNU tar and Python tarfile (pax) write, long names included, streamed or by ranges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sherd-tar-'));
    try {
      const long = `${'d'.repeat(60)}/${'n'.repeat(80)}.bin`;
      const names = ['a.txt', 'sub/b.json', long];
      for (const sub of ['sub', 'd'.repeat(60)]) mkdirSync(join(dir, 'in', sub), { recursive: true });
      for (const [i, name] of names.entries()) writeFileSync(join(dir, 'in', name), Buffer.alloc(700 * i + 3, i + 1));
      execFileSync('tar', ['-cf', join(dir, 'gnu.tar'), '-C', join(dir, 'in'), ...names]);
      execFileSync('/usr/bin/python3', [
        '-c',
        `import tarfile,sys\nwith tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:\n  [t.add(sys.argv[2] + "/" + n, arcname=n) for n in sys.argv[3:]]`,
        join(dir, 'pax.tar'),
        join(dir, 'in'),
        ...names,
      ]);
      for (const archive of ['gnu.tar', 'pax.tar']) {
        const bytes = new Uint8Array(readFileSync(join(dir, archive)));
        const streamed = [];
        for await (const entry of tarEntries(streamedSource(memoryChunks(bytes, 333))))
          streamed.push([entry.path, (await entry.read()).length]);
        expect(streamed).toEqual(names.map((name, i) => [name, 700 * i + 3]));
        const ranged = [];
        const source = rangedSource(async (start, end) => bytes.subarray(start, end), bytes.length, 1024);
        for await (const entry of tarEntries(source)) ranged.push(entry.path);
        expect(ranged).toEqual(names);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what is not a tar with bad_tar', async () => {
    const notTar = new Uint8Array(1024).fill(7);
    await expect(async () => {
      for await (const _ of tarEntries(streamedSource(memoryChunks(notTar, 100)))) void _;
    }).rejects.toThrow('a tar header fails its checksum: this is not a tar, or it is damaged');
    const cut = makeTar([['x.bin', new Uint8Array(2000)]]).subarray(0, 1200);
    await expect(async () => {
      for await (const entry of tarEntries(streamedSource(memoryChunks(cut, 100)))) await entry.read();
    }).rejects.toThrow('the tar ends inside x.bin');
    // Cut inside a member that is passed over, streamed or by ranges: not taken for a complete archive.
    await expect(async () => {
      for await (const _ of tarEntries(streamedSource(memoryChunks(cut, 100)))) void _;
    }).rejects.toThrow('the tar ends inside x.bin');
    await expect(async () => {
      for await (const _ of tarEntries(rangedSource(async (start, end) => cut.subarray(start, end), cut.length))) void _;
    }).rejects.toThrow('the tar ends inside x.bin');
  });
});

async function* memoryChunks(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('samples()', () => {
  it('gives every sample of an epoch to exactly one worker of one rank, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        async (perFile, worldSize, numWorkers) => {
          const { contents, keys } = tarDataset(perFile);
          const seen: string[] = [];
          for (let rank = 0; rank < worldSize; rank++) {
            for (let workerId = 0; workerId < numWorkers; workerId++) {
              const source = memorySource(contents);
              for (const sample of await all(samples(source, { shuffleSeed: 7, epoch: 1, rank, worldSize, workerId, numWorkers }))) {
                seen.push(sample.key);
                expect(sample.kind).toBe('tar');
                if (sample.kind === 'tar') expect(Object.keys(sample.members).sort()).toEqual(['cls', 'img']);
              }
            }
          }
          expect(seen.sort()).toEqual([...keys].sort());
        },
      ),
      { numRuns: 40 },
    );
  });

  it('repeats its order for a seed and epoch and changes it with the epoch', async () => {
    const { contents } = tarDataset([3, 3, 3, 3, 3, 3]);
    const order = async (epoch: number, seed = 'a') =>
      (await all(samples(memorySource(contents), { shuffleSeed: seed, epoch }))).map((s) => s.key).join();
    expect(await order(0)).toBe(await order(0));
    expect(new Set([await order(0), await order(1), await order(2)]).size).toBe(3);
    expect(await order(0, 'b')).not.toBe(await order(0, 'a'));
  });

  it('resumes from any checkpoint with exactly the samples after it, again and again, and across epochs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
        splitArbitrary,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        async (perFile, split, cut1, cut2, tar) => {
          const { contents } = tarDataset(perFile);
          const options = { shuffleSeed: 'resume', epoch: 2, tar, ...split };
          const full = (await all(samples(memorySource(contents), options))).map((s) => s.key);
          if (full.length === 0) return;
          const first = Math.min(cut1 % (full.length + 1), full.length);
          const head = await all(samples(memorySource(contents), options), first);
          let keys = head.map((s) => s.key);
          let checkpoint = head.at(-1)?.checkpoint ?? { epoch: 2, consumed: 0 };
          // A second stop, then a resume from there: the two resumes give the rest, no more, no less.
          const second = await all(
            samples(memorySource(contents), { ...options, resumeFrom: checkpoint }),
            cut2 % (full.length - first + 1),
          );
          keys = [...keys, ...second.map((s) => s.key)];
          checkpoint = second.at(-1)?.checkpoint ?? checkpoint;
          const rest = await all(samples(memorySource(contents), { ...options, resumeFrom: checkpoint }));
          expect([...keys, ...rest.map((s) => s.key)]).toEqual(full);
          // After the last sample the epoch has nothing left; the next epoch starts from its beginning.
          const last = rest.at(-1)?.checkpoint ?? checkpoint;
          expect(await all(samples(memorySource(contents), { ...options, resumeFrom: last }))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('skips the files a resume has read by counting their samples from headers, not reading their bodies', async () => {
    const contents = new Map<string, Uint8Array>();
    for (let f = 0; f < 4; f++) {
      const members = Array.from({ length: 30 }, (_, s): [string, Uint8Array] => [`f${f}/s${s}.img`, randomBytes(100_000)]);
      contents.set(`train-${f}.tar`, makeTar(members));
    }
    const total = [...contents.values()].reduce((sum, bytes) => sum + bytes.length, 0);
    const whole = memorySource(contents, 64 * 1024);
    const epoch = await all(samples(whole, { shuffleSeed: 1 }));
    expect([epoch.length, whole.bytesRead]).toEqual([120, total]);
    const resumed = memorySource(contents, 64 * 1024);
    const rest = await all(samples(resumed, { shuffleSeed: 1, resumeFrom: epoch[94]!.checkpoint }));
    expect(rest.map((s) => s.key)).toEqual(epoch.slice(95).map((s) => s.key));
    // The last file is read whole; the three before it only by their headers (8 KiB windows).
    expect(resumed.bytesRead).toBeLessThan(total / 3);
    expect(await tarSampleCount(resumed, epoch[0]!.file)).toBe(30);
  });

  it('gives one sample per file when the files are not tars, and refuses bad arguments', async () => {
    const contents = new Map([
      ['a.jsonl', Buffer.from('{"a":1}\n')],
      ['b.jsonl', Buffer.from('{"b":2}\n')],
      ['c.bin', Buffer.from('c')],
    ]);
    const got = await all(samples(memorySource(contents), { files: '*.jsonl' }));
    expect(got.map((s) => s.key).sort()).toEqual(['a.jsonl', 'b.jsonl']);
    for (const sample of got) {
      expect(sample.kind).toBe('file');
      if (sample.kind === 'file') expect(Buffer.from(sample.data).equals(contents.get(sample.key)!)).toBe(true);
    }
    await expect(all(samples(memorySource(contents), { rank: 1 }))).rejects.toThrow('rank 1 is not below worldSize 1');
    await expect(all(samples(memorySource(contents), { epoch: 1, resumeFrom: { epoch: 0, consumed: 1 } }))).rejects.toThrow(
      'resumeFrom is a checkpoint of epoch 0, not of epoch 1',
    );
    await expect(all(samples(memorySource(contents), { resumeFrom: { epoch: 0, consumed: -1 } }))).rejects.toThrow(
      "a checkpoint's consumed count must be an integer ≥ 0, not -1",
    );
  });
});
