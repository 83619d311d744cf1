import type { Registry } from '../chain/registry.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { assertInteger, InvalidArgumentError } from '../proofs/errors.ts';
import { loadCKzg, type Kzg } from '../proofs/kzg.ts';
import { decodeMerkleProof, merkleLeaf, verifyMerkleProof } from '../proofs/merkle.ts';
import { randomFieldElement } from '../proofs/field.ts';
import { drawDistinct, samplesPerSegment, undetectedProbability } from '../proofs/sampling.ts';
import { segmentCount, shardPosition } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import { MAX_SAMPLES_PER_REQUEST, type SampleAnswer, type SampleFailure } from '../protocol/routes.ts';
import { RemoteError, SampleError, throwIfAborted } from './errors.ts';
import { NodeClient } from './node-client.ts';
import { datasetNodesFromChain } from './chain-context.ts';
import type { NodeEndpoint } from './types.ts';

export const DEFAULT_SAMPLE_CONFIDENCE = 0.99;

export interface SampleOptions {
  /** The registry the dataset is registered in: its content root, size and code come from there. */
  registry: Pick<Registry, 'dataset' | 'node' | 'datasetMembers'>;
  /** The dataset's node set, in placement order; read from the registry when omitted. */
  nodes?: NodeEndpoint[];
  /** Wanted probability of catching a lost segment (default 0.99); sets the samples per segment. */
  confidence?: number;
  /** Instead: this many samples in all, spread evenly over the segments (the confidence reached is reported). */
  samples?: number;
  kzg?: Kzg;
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (event: { checked: number; total: number }) => void;
}

export interface SampleFailureRecord {
  segment: number;
  index: number;
  node: number;
  /** The node's error code (shard_missing, unreachable, …) or what the check found (bad_opening, bad_inclusion_proof, …). */
  code: string;
  message: string;
}

export interface NodeSampleReport {
  index: number;
  url: string;
  samples: number;
  failed: number;
  errors: Record<string, number>;
}

export interface SampleReport {
  datasetId: Uint8Array;
  contentRoot: Uint8Array;
  certified: boolean;
  size: number;
  k: number;
  m: number;
  segments: number;
  /** Samples drawn per segment in the first round. */
  perSegment: number;
  samples: number;
  failed: number;
  /** Extra samples taken in segments where one failed, to judge them exactly. */
  followUpSamples: number;
  /** Probability that a lost segment would have been caught by these samples. */
  confidence: number;
  /** False when some segment was seen with fewer than k shards that answer. */
  recoverable: boolean;
  /** Segments with fewer than k shards answering. */
  lostSegments: number[];
  nodes: NodeSampleReport[];
  failures: SampleFailureRecord[];
  seconds: number;
}

interface Planned {
  segment: number;
  index: number;
  z: Uint8Array;
}

/**
 * Checks that a dataset can still be recovered, by random samples (the confidence formula is
 * in proofs/sampling.ts and docs/architecture.md). Every answer is checked against the content
 * root registered on chain alone: the leaf of the returned commitment and SHA-256 must sit at the
 * shard's position under the root, and the KZG proof must open that commitment to y at z. No
 * manifest is fetched. A segment where any sample fails is then sampled in full, so its
 * verdict is exact rather than probable.
 */
export async function sampleDataset(id: Uint8Array, options: SampleOptions): Promise<SampleReport> {
  const started = performance.now();
  const { registry } = options;
  const dataset = await registry.dataset(id);
  if (!dataset.registered) throw new SampleError('dataset_not_registered', `dataset ${toHex(id)} is not registered on chain`);
  const nodes = options.nodes ?? (await datasetNodesFromChain(registry, id));
  const { k, m, size } = dataset;
  const n = k + m;
  if (nodes.length < n) throw new InvalidArgumentError(`the dataset's code needs ${n} nodes, got ${nodes.length}`);
  const segments = segmentCount(size, k);
  const perSegment = samplesPerSegmentPlan(segments, k, n, options);
  // Where the spread is uneven, the first segments get one more.
  const firstRoundPerSegment = perSegment[0]!;
  const sampler = new Sampler(id, dataset.contentRoot, { k, m, segments }, nodes, options);
  try {
    await sampler.run(perSegment.flatMap((t, segment) => drawDistinct(n, t).map((index) => ({ segment, index, z: randomFieldElement() }))));
    const firstRound = sampler.checked;
    // Where a sample failed, ask for every other shard of the segment: the verdict becomes exact.
    const suspect = [...new Set(sampler.failures.map((f) => f.segment))];
    const followUp: Planned[] = [];
    for (const segment of suspect) {
      perSegment[segment] = n;
      for (let index = 0; index < n; index++)
        if (!sampler.wasTried(segment, index)) followUp.push({ segment, index, z: randomFieldElement() });
    }
    await sampler.run(followUp);
    const lostSegments = suspect.filter((segment) => sampler.passedIn(segment) < k).sort((a, b) => a - b);
    // The segment with the fewest samples bounds it (a loop: spreading 10^5 segments into Math.min overflows the stack).
    const confidence = perSegment.reduce((least, t) => Math.min(least, 1 - undetectedProbability(k, n, t)), 1);
    return {
      datasetId: id,
      contentRoot: dataset.contentRoot,
      certified: dataset.certified,
      size,
      k,
      m,
      segments,
      perSegment: firstRoundPerSegment,
      samples: sampler.checked,
      failed: sampler.failures.length,
      followUpSamples: sampler.checked - firstRound,
      confidence,
      recoverable: lostSegments.length === 0,
      lostSegments,
      nodes: sampler.nodeReports,
      failures: sampler.failures,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sampler.close();
  }
}

/** Samples per segment: enough for the confidence asked (the same in every segment), or `samples` spread evenly. */
function samplesPerSegmentPlan(segments: number, k: number, n: number, options: Pick<SampleOptions, 'samples' | 'confidence'>): number[] {
  const { samples } = options;
  if (samples === undefined)
    return new Array<number>(segments).fill(samplesPerSegment(k, n, options.confidence ?? DEFAULT_SAMPLE_CONFIDENCE));
  assertInteger('samples', samples, 1, segments * n);
  return Array.from({ length: segments }, (_, s) => Math.min(n, Math.floor(samples / segments) + (s < samples % segments ? 1 : 0)));
}

/** Asks the nodes for samples and checks every answer against the content root; keeps the tallies. */
class Sampler {
  readonly nodeReports: NodeSampleReport[];
  readonly failures: SampleFailureRecord[] = [];
  checked = 0;
  private total = 0;
  private readonly clients: NodeClient[];
  private readonly kzg: Kzg;
  private readonly passed = new Map<number, Set<number>>(); // segment → indices that answered
  private readonly tried = new Map<number, Set<number>>();

  constructor(
    private readonly id: Uint8Array,
    private readonly contentRoot: Uint8Array,
    private readonly code: { k: number; m: number; segments: number },
    nodes: NodeEndpoint[],
    private readonly options: Pick<SampleOptions, 'kzg' | 'timeoutMs' | 'signal' | 'onProgress'>,
  ) {
    this.kzg = options.kzg ?? loadCKzg();
    this.clients = nodes.map((node) => new NodeClient(node.url, { connections: 2, timeoutMs: options.timeoutMs ?? 60_000 }));
    this.nodeReports = nodes.map((node, index) => ({ index, url: node.url, samples: 0, failed: 0, errors: {} }));
  }

  wasTried(segment: number, index: number): boolean {
    return this.tried.get(segment)?.has(index) ?? false;
  }

  passedIn(segment: number): number {
    return this.passed.get(segment)?.size ?? 0;
  }

  /** Every node works at once; each gets one request at a time (its openings queue on its KZG threads anyway). */
  async run(plan: Planned[]): Promise<void> {
    this.total += plan.length;
    const byNode = new Map<number, Planned[]>();
    for (const p of plan) {
      const node = nodeForShard(p.segment, p.index, this.clients.length);
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node)!.push(p);
      if (!this.tried.has(p.segment)) this.tried.set(p.segment, new Set());
      this.tried.get(p.segment)!.add(p.index);
    }
    const { signal } = this.options;
    await Promise.all(
      [...byNode].map(async ([node, all]) => {
        for (let start = 0; start < all.length; start += MAX_SAMPLES_PER_REQUEST) {
          throwIfAborted(signal);
          const list = all.slice(start, start + MAX_SAMPLES_PER_REQUEST);
          this.record(node, list, await askNode(this.clients[node]!, this.id, list, signal));
        }
      }),
    );
  }

  private record(node: number, list: Planned[], outcomes: Array<SampleAnswer | SampleFailure>): void {
    const report = this.nodeReports[node]!;
    const leafCount = this.code.segments * (this.code.k + this.code.m);
    list.forEach((p, i) => {
      const outcome = outcomes[i]!;
      const problem = 'error' in outcome ? outcome : checkAnswer(this.kzg, this.contentRoot, p, outcome, this.code, leafCount);
      report.samples++;
      if (problem) {
        report.failed++;
        report.errors[problem.error] = (report.errors[problem.error] ?? 0) + 1;
        this.failures.push({ segment: p.segment, index: p.index, node, code: problem.error, message: problem.message });
      } else {
        if (!this.passed.has(p.segment)) this.passed.set(p.segment, new Set());
        this.passed.get(p.segment)!.add(p.index);
      }
      this.checked++;
      this.options.onProgress?.({ checked: this.checked, total: this.total });
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
  }
}

/** The node's answers in request order; a failed request fails each of its samples with the node's error. */
async function askNode(
  client: NodeClient,
  id: Uint8Array,
  list: Planned[],
  signal?: AbortSignal,
): Promise<Array<SampleAnswer | SampleFailure>> {
  try {
    const { answers } = await client.samples(
      id,
      list.map((p) => ({ segment: p.segment, index: p.index, z: toHex(p.z) })),
      signal,
    );
    if (answers.length !== list.length) {
      return list.map((p) => ({
        segment: p.segment,
        index: p.index,
        error: 'bad_response',
        message: `asked for ${list.length} samples, got ${answers.length} answers`,
      }));
    }
    return answers;
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    return list.map((p) => ({ segment: p.segment, index: p.index, error: error.code, message: error.message }));
  }
}

/** Why an answer does not prove the shard is held, or undefined when it does. */
function checkAnswer(
  kzg: Kzg,
  root: Uint8Array,
  asked: Planned,
  answer: SampleAnswer,
  code: { k: number; m: number },
  leafCount: number,
): SampleFailure | undefined {
  const fail = (error: string, message: string): SampleFailure => ({ segment: asked.segment, index: asked.index, error, message });
  if (answer.segment !== asked.segment || answer.index !== asked.index || answer.z !== toHex(asked.z)) {
    return fail('wrong_sample', 'the node answered a different sample than the one asked');
  }
  const commitment = fromHex(answer.commitment, 48);
  const proof = decodeMerkleProof(fromHex(answer.inclusionProof));
  const position = shardPosition(code, asked.segment, asked.index);
  if (!proof || !verifyMerkleProof(root, merkleLeaf(commitment, fromHex(answer.shardHash, 32)), position, proof, leafCount)) {
    return fail('bad_inclusion_proof', "the commitment and hash returned are not the shard's leaf under the dataset root");
  }
  if (!kzg.verifyProof(commitment, asked.z, fromHex(answer.y, 32), fromHex(answer.kzgProof, 48))) {
    return fail('bad_opening', "the KZG proof does not open the shard's commitment to y at z");
  }
  return undefined;
}
