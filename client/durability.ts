import { InvalidArgumentError } from '../proofs/errors.ts';

/**
 * How likely a dataset is to be lost, and the code that keeps it below a target.
 *
 * Model (docs/architecture.md, "Repair and churn"): each node loses what it holds (a dead disk,
 * an operator who leaves without handing over) as a Poisson process of `nodeFailuresPerYear`;
 * each lost shard is rebuilt by repair after an exponential time of mean `repairHours`, all in
 * parallel. A segment's n = k + m shards sit on n distinct nodes, so it is a birth-death chain
 * over the number of its shards down: i → i + 1 at rate (n − i)·λ, i → i − 1 at rate i·μ; it is
 * lost on reaching m + 1. Segments placed on the same n nodes fail together; with N > n nodes
 * there are min(segments, N) distinct windows of n, counted by a union bound. Correlated
 * failures (a whole data centre, a bad release) are outside the model: it is a floor on risk.
 */
export interface DurabilityModel {
  /** Per node and year, the chance-rate of losing everything it stores. */
  nodeFailuresPerYear: number;
  /** Mean time from a loss to its shards being rebuilt elsewhere, detection included. */
  repairHours: number;
}

/**
 * 10% of nodes a year lose their data: ten times a data-centre disk's failure rate, for
 * operators who churn. A day to repair: a challenge epoch on a public chain to notice, then a
 * rebuild that takes minutes (bench/repair.ts).
 */
export const DEFAULT_DURABILITY_MODEL: DurabilityModel = { nodeFailuresPerYear: 0.1, repairHours: 24 };
/** Eleven nines per dataset-year, the target S3 and Storj publish. */
export const DEFAULT_DURABILITY = 0.999_999_999_99;

const HOURS_PER_YEAR = 8_766;

function checkModel(model: DurabilityModel): void {
  if (!(model.nodeFailuresPerYear > 0) || !Number.isFinite(model.nodeFailuresPerYear))
    throw new InvalidArgumentError(`node failures per year must be a positive number, got ${model.nodeFailuresPerYear}`);
  if (!(model.repairHours > 0) || !Number.isFinite(model.repairHours))
    throw new InvalidArgumentError(`repair hours must be a positive number, got ${model.repairHours}`);
}

/** log(e^a + e^b), exact for the huge and tiny terms of the hitting time. */
function logAdd(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/**
 * The natural log of a segment's mean time to data loss, in years: the expected hitting time of
 * state m + 1 from 0, T = Σ_{j=0..m} Σ_{i=0..j} (1/λ_i)·Π_{l=i+1..j} μ_l/λ_l, in log space
 * (with m in the dozens the products pass 10^300).
 */
export function logSegmentMttdlYears(n: number, m: number, model: DurabilityModel): number {
  checkModel(model);
  if (!Number.isInteger(n) || !Number.isInteger(m) || m < 0 || m >= n) throw new InvalidArgumentError(`need 0 ≤ m < n, got n=${n}, m=${m}`);
  const lambda = model.nodeFailuresPerYear;
  const mu = HOURS_PER_YEAR / model.repairHours;
  const logBirth = (i: number) => Math.log((n - i) * lambda);
  const logDeath = (i: number) => Math.log(i * mu);
  let total = Number.NEGATIVE_INFINITY;
  for (let j = 0; j <= m; j++) {
    // inner_i = −log λ_i + Σ_{l=i+1..j} (log μ_l − log λ_l), summed over i from j down to 0.
    let product = 0;
    for (let i = j; i >= 0; i--) {
      total = logAdd(total, product - logBirth(i));
      product += logDeath(i) - logBirth(i);
    }
  }
  return total;
}

/** The probability of losing a dataset of `segments` segments within a year, coded k + m over `nodeCount` nodes. */
export function lossPerDatasetYear(k: number, m: number, nodeCount: number, segments: number, model = DEFAULT_DURABILITY_MODEL): number {
  const n = k + m;
  if (nodeCount < n) throw new InvalidArgumentError(`k + m = ${n} needs at least ${n} nodes, have ${nodeCount}`);
  const windows = nodeCount > n ? Math.min(Math.max(1, segments), nodeCount) : 1;
  const rate = windows * Math.exp(-logSegmentMttdlYears(n, m, model));
  return -Math.expm1(-rate);
}

export interface CodeChoice {
  k: number;
  m: number;
  /** Expected probability of loss per dataset-year with this code. */
  lossPerYear: number;
  /** Whether it meets the target; false when even k = 1 cannot on so few nodes. */
  meetsTarget: boolean;
  durability: number;
  model: DurabilityModel;
}

/**
 * The code for a dataset on `nodeCount` nodes: every node holds a shard of each segment (n =
 * min(N, 256), which spreads load and lets reads use every node), with the fewest parity shards
 * m whose loss per dataset-year stays within 1 − `durability`: the least storage overhead n/k
 * that meets the target. With too few nodes for the target, k = 1 (replication), flagged.
 */
export function chooseCode(
  nodeCount: number,
  options: { durability?: number; model?: DurabilityModel; segments?: number } = {},
): CodeChoice {
  const durability = options.durability ?? DEFAULT_DURABILITY;
  const model = options.model ?? DEFAULT_DURABILITY_MODEL;
  if (!(durability > 0 && durability < 1)) throw new InvalidArgumentError(`durability must be between 0 and 1, got ${durability}`);
  const n = Math.min(nodeCount, 256);
  if (!Number.isInteger(nodeCount) || n < 2) throw new InvalidArgumentError(`Sherd needs at least 2 nodes, got ${nodeCount}`);
  const budget = 1 - durability;
  let choice: CodeChoice | undefined;
  for (let m = 1; m < n; m++) {
    const lossPerYear = lossPerDatasetYear(n - m, m, nodeCount, options.segments ?? 1, model);
    choice = { k: n - m, m, lossPerYear, meetsTarget: lossPerYear <= budget, durability, model };
    if (choice.meetsTarget) break;
  }
  return choice!;
}
