import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../proofs/errors.ts';

/**
 * What an epoch is made of and who reads what (docs/training.md): the files a glob matches,
 * their order in an epoch, and the share of each rank and worker. Pure functions, written to
 * give the same answers as python/sherd_data/plan.py, so a job gets the same order from either.
 */

/** A glob as a RegExp over whole paths: `*` and `?` stay within a path component, `**` crosses them, `[...]` is a class. */
export function globPattern(glob: string): RegExp {
  if (typeof glob !== 'string' || glob.length === 0) throw new InvalidArgumentError('a file pattern is a non-empty glob');
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no directory at all (`**/x` matches `x`).
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      // `[!…]` negates; a `]` right after `[` or `[!` is a member, not the end (as in fnmatch).
      const negated = glob[i + 1] === '!';
      const first = i + 1 + (negated ? 1 : 0);
      const close = glob.indexOf(']', first + 1);
      if (close < 0) throw new InvalidArgumentError(`the pattern ${glob} has a [ without its ]`);
      source += `[${negated ? '^' : ''}${glob.slice(first, close).replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  // `u`: `?` is one character (a code point), as in Python, not one UTF-16 unit.
  return new RegExp(`^${source}$`, 'su');
}

/** The files whose path matches `glob` (default every file), in the order given. */
export function matchingFiles<T extends { path: string }>(files: readonly T[], glob = '**'): T[] {
  const pattern = globPattern(glob);
  return files.filter((file) => pattern.test(file.path));
}

/** The first 8 bytes of SHA-256 of `sherd-shuffle:SEED:EPOCH:I`, as an integer. */
function draw(seed: string, epoch: number, i: number): bigint {
  return createHash('sha256').update(`sherd-shuffle:${seed}:${epoch}:${i}`).digest().readBigUInt64BE(0);
}

/** `items` in the order of `epoch` for `seed`: Fisher–Yates driven by SHA-256, the same for every reader. */
export function shuffled<T>(items: readonly T[], seed: string, epoch: number): T[] {
  checkCount('epoch', epoch);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Number(draw(seed, epoch, i) % BigInt(i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface Split {
  rank: number;
  worldSize: number;
  workerId: number;
  numWorkers: number;
}

function checkCount(name: string, value: number, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min)
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}, not ${value}`);
}

/** Checks a split's numbers: 1 ≤ worldSize, 0 ≤ rank < worldSize, and the same for workers. */
export function checkSplit(split: Split): void {
  checkCount('worldSize', split.worldSize, 1);
  checkCount('numWorkers', split.numWorkers, 1);
  checkCount('rank', split.rank);
  checkCount('workerId', split.workerId);
  if (split.rank >= split.worldSize) throw new InvalidArgumentError(`rank ${split.rank} is not below worldSize ${split.worldSize}`);
  if (split.workerId >= split.numWorkers)
    throw new InvalidArgumentError(`workerId ${split.workerId} is not below numWorkers ${split.numWorkers}`);
}

/** The items of an epoch's order that one worker of one rank reads: dealt to ranks in turn, then within the rank to workers in turn. */
export function shareOf<T>(epochOrder: readonly T[], split: Split): T[] {
  checkSplit(split);
  const rankShare = epochOrder.filter((_, j) => j % split.worldSize === split.rank);
  return rankShare.filter((_, j) => j % split.numWorkers === split.workerId);
}

/** A WebDataset member path's sample key and extension: split at the first `.` of its last component. */
export function sampleKeyOf(memberPath: string): { key: string; extension: string } {
  const slash = memberPath.lastIndexOf('/');
  const dot = memberPath.indexOf('.', slash + 1);
  return dot < 0 ? { key: memberPath, extension: '' } : { key: memberPath.slice(0, dot), extension: memberPath.slice(dot + 1) };
}
