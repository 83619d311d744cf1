import { describe, expect, it } from 'vitest';
import { seededRandom, simulateMttdlYears } from '../../bench/durability.ts';
import { chooseCode, DEFAULT_DURABILITY_MODEL, logSegmentMttdlYears, lossPerDatasetYear } from '../../client/durability.ts';

const model = { nodeFailuresPerYear: 0.1, repairHours: 24 };
const mu = 8_766 / 24;
const lambda = 0.1;

describe('durability model', () => {
  it('matches the closed forms of small chains', () => {
    // A mirror: MTTDL = (3λ + μ) / (2λ²).
    expect(Math.exp(logSegmentMttdlYears(2, 1, model))).toBeCloseTo((3 * lambda + mu) / (2 * lambda ** 2), 6);
    // Three shards, one parity: 1/(3λ) + 1/(2λ) + μ/(6λ²).
    expect(Math.exp(logSegmentMttdlYears(3, 1, model))).toBeCloseTo(1 / (3 * lambda) + 1 / (2 * lambda) + mu / (6 * lambda ** 2), 6);
    // No parity: the first failure loses it.
    expect(Math.exp(logSegmentMttdlYears(5, 0, model))).toBeCloseTo(1 / (5 * lambda), 9);
  });

  it('agrees with a simulation of the same chain where losses are common', () => {
    const fast = { nodeFailuresPerYear: 4, repairHours: 600 };
    const exact = Math.exp(logSegmentMttdlYears(5, 2, fast));
    const simulated = simulateMttdlYears(5, 2, fast, 6_000, seededRandom(7));
    expect(Math.abs(simulated / exact - 1)).toBeLessThan(0.05);
  });

  it('loses less with more parity, faster repair and rarer failures; more windows of nodes lose more', () => {
    const loss = (k: number, m: number, extra: Partial<typeof model> = {}, nodes = k + m, segments = 1) =>
      lossPerDatasetYear(k, m, nodes, segments, { ...model, ...extra });
    for (let m = 1; m < 6; m++) expect(loss(8, m + 1)).toBeLessThan(loss(8, m));
    expect(loss(4, 4, { repairHours: 1 })).toBeLessThan(loss(4, 4));
    expect(loss(4, 4, { nodeFailuresPerYear: 0.02 })).toBeLessThan(loss(4, 4));
    expect(loss(4, 4, {}, 16, 100)).toBeCloseTo(16 * loss(4, 4), 20);
  });

  it('chooses the fewest parity shards that meet the target, over every node', () => {
    const eight = chooseCode(8);
    expect(eight).toMatchObject({ k: 4, m: 4, meetsTarget: true, durability: 0.99999999999, model: DEFAULT_DURABILITY_MODEL });
    expect(eight.lossPerYear).toBeLessThanOrEqual(1e-11);
    expect(lossPerDatasetYear(5, 3, 8, 1)).toBeGreaterThan(1e-11);
    expect(chooseCode(32)).toMatchObject({ k: 27, m: 5 });
    expect(chooseCode(8, { durability: 0.999 })).toMatchObject({ k: 6, m: 2 });
    expect(chooseCode(300).k + chooseCode(300).m).toBe(256);
    // Three nodes cannot hold eleven nines under this model: replication, flagged.
    expect(chooseCode(3)).toMatchObject({ k: 1, m: 2, meetsTarget: false });
  });

  it('refuses impossible arguments with a sentence', () => {
    expect(() => chooseCode(1)).toThrow('Sherd needs at least 2 nodes, got 1');
    expect(() => chooseCode(8, { durability: 1 })).toThrow('durability must be between 0 and 1, got 1');
    expect(() => lossPerDatasetYear(4, 4, 6, 1)).toThrow('k + m = 8 needs at least 8 nodes, have 6');
    expect(() => logSegmentMttdlYears(4, 1, { nodeFailuresPerYear: 0, repairHours: 1 })).toThrow(
      'node failures per year must be a positive number, got 0',
    );
    expect(() => logSegmentMttdlYears(4, 4, model)).toThrow('need 0 ≤ m < n, got n=4, m=4');
  });
});
