/**
 * Durability: the loss probability per dataset-year of client/durability.ts's model, as a
 * function of node failure rate, repair time, k and m, checked against a Monte Carlo simulation
 * of the same chain where losses are frequent enough to count. Run alone: `npx tsx bench/durability.ts`.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_DURABILITY_MODEL, type DurabilityModel, logSegmentMttdlYears, lossPerDatasetYear } from '../client/durability.ts';
import { table, writeResult } from './lib.ts';

const HOURS_PER_YEAR = 8_766;

/** xorshift128+: a seeded stream of uniforms in (0, 1), so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = BigInt(seed) | 1n;
  let b = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  return () => {
    let x = a;
    const y = b;
    a = y;
    x ^= (x << 23n) & mask;
    x ^= x >> 17n;
    x ^= y ^ (y >> 26n);
    b = x;
    return (Number((x + y) & ((1n << 53n) - 1n)) + 0.5) / 2 ** 53;
  };
}

/**
 * Mean time to data loss of one segment, in years, by simulating the chain event by event
 * (Gillespie): shards fail at (n − down)·λ, come back at down·μ; a run ends when m + 1 are down.
 */
export function simulateMttdlYears(n: number, m: number, model: DurabilityModel, runs: number, random = seededRandom(1)): number {
  const lambda = model.nodeFailuresPerYear;
  const mu = HOURS_PER_YEAR / model.repairHours;
  let total = 0;
  for (let run = 0; run < runs; run++) {
    let down = 0;
    let time = 0;
    while (down <= m) {
      const fail = (n - down) * lambda;
      const heal = down * mu;
      time += -Math.log(random()) / (fail + heal);
      down += random() * (fail + heal) < fail ? 1 : -1;
    }
    total += time;
  }
  return total / runs;
}

export interface DurabilityResult {
  /** Model against simulation where losses are common enough to simulate. */
  checks: Array<{ n: number; m: number; failuresPerYear: number; repairHours: number; model: number; simulated: number; ratio: number }>;
  /** Loss per dataset-year for the demo code (4 + 4 on 8 nodes) and 16 + 16 on 32, by failure rate and repair time. */
  grid: Array<{ code: string; failuresPerYear: number; repairHours: number; lossPerYear: number; nines: number }>;
}

export async function benchDurability(quick = false): Promise<DurabilityResult> {
  const runs = quick ? 2_000 : 20_000;
  const checks: DurabilityResult['checks'] = [];
  for (const [n, m, failuresPerYear, repairHours] of [
    [4, 1, 2, 500],
    [6, 2, 3, 800],
    [8, 4, 10, 2_000],
  ] as const) {
    const model = { nodeFailuresPerYear: failuresPerYear, repairHours };
    const exact = Math.exp(logSegmentMttdlYears(n, m, model));
    const simulated = simulateMttdlYears(n, m, model, runs);
    checks.push({ n, m, failuresPerYear, repairHours, model: exact, simulated, ratio: simulated / exact });
  }
  table(
    `Durability model against simulation (${runs} runs each): segment mean time to loss, years`,
    checks.map((c) => ({
      'k + m': `${c.n - c.m} + ${c.m}`,
      'failures/node-year': c.failuresPerYear,
      'repair h': c.repairHours,
      model: c.model.toPrecision(4),
      simulated: c.simulated.toPrecision(4),
      ratio: c.ratio.toFixed(3),
    })),
  );
  const grid: DurabilityResult['grid'] = [];
  for (const [code, k, m, nodes] of [
    ['4 + 4 on 8 (demo)', 4, 4, 8],
    ['16 + 16 on 32', 16, 16, 32],
  ] as const) {
    for (const failuresPerYear of [0.02, 0.1, 0.5]) {
      for (const repairHours of [1, 24, 24 * 7]) {
        const lossPerYear = lossPerDatasetYear(k, m, nodes, 1, { nodeFailuresPerYear: failuresPerYear, repairHours });
        grid.push({ code, failuresPerYear, repairHours, lossPerYear, nines: -Math.log10(lossPerYear) });
      }
    }
  }
  table(
    `Loss per dataset-year (default model: ${DEFAULT_DURABILITY_MODEL.nodeFailuresPerYear} failures/node-year, ${DEFAULT_DURABILITY_MODEL.repairHours} h repair)`,
    grid.map((g) => ({
      code: g.code,
      'failures/node-year': g.failuresPerYear,
      'repair h': g.repairHours,
      'loss / year': g.lossPerYear.toExponential(2),
      nines: g.nines.toFixed(1),
    })),
  );
  const result = { checks, grid };
  await writeResult('durability', result);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchDurability(process.argv.includes('--quick'));
