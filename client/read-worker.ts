import { Piscina } from 'piscina';
import { MerkleVerifier } from '../proofs/merkle.ts';
import { segmentCount } from '../protocol/manifest.ts';
import { NodeClient } from './node-client.ts';
import { ShardBatcher } from './shard-batcher.ts';
import type { ShardFailure } from './node-health.ts';
import { type FetchTerms, fetchSegment, type ShardHealth } from './segment-fetcher.ts';

/** Segments of one dataset to fetch, with what the main thread knows of the nodes (their rank and the hedge delay). */
export interface ReadTask {
  id: Uint8Array;
  terms: FetchTerms;
  /** The node set's endpoints in placement order; undefined for a node without one. */
  urls: Array<string | undefined>;
  segments: number[];
  ranks: number[];
  hedgeDelayMs: number;
  maxHedgeMs: number;
  timeoutMs: number;
}

export type HealthEvent =
  | { kind: 'served'; node: number; ms: number }
  | { kind: 'failed'; node: number; reason: ShardFailure }
  | { kind: 'hedged'; node: number };

/** One segment's outcome: its payload, or why not (errors lose their class across threads, so it is sent as fields). */
export type SegmentOutcome =
  | { payload: Uint8Array; reconstructed: boolean }
  | { error: { code: string; message: string; details?: string } };

export interface ReadResult {
  outcomes: SegmentOutcome[];
  events: HealthEvent[];
}

/** Connection pools by node URL and proven Merkle nodes by dataset, kept across tasks (bounded). */
const clients = new Map<string, ShardBatcher>();
const verifiers = new Map<string, MerkleVerifier>();
const MAX_VERIFIERS = 64;

function clientFor(url: string, timeoutMs: number): ShardBatcher {
  let client = clients.get(url);
  if (!client) {
    client = new ShardBatcher(new NodeClient(url, { connections: 4, timeoutMs }));
    clients.set(url, client);
  }
  return client;
}

function verifierFor(task: ReadTask): MerkleVerifier {
  // By content root as well as id: a verifier's proven nodes hold for its root only.
  const key = `${Buffer.from(task.id).toString('hex')}:${Buffer.from(task.terms.contentRoot).toString('hex')}:${task.terms.size}`;
  let verifier = verifiers.get(key);
  if (!verifier) {
    if (verifiers.size >= MAX_VERIFIERS) verifiers.delete(verifiers.keys().next().value!);
    const leaves = segmentCount(task.terms.size, task.terms.k) * (task.terms.k + task.terms.m);
    verifier = new MerkleVerifier(task.terms.contentRoot, leaves);
    verifiers.set(key, verifier);
  }
  return verifier;
}

function outcomeOfError(error: unknown): SegmentOutcome {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
    stack?: unknown;
  };
  return {
    error: {
      code: typeof fields.code === 'string' ? fields.code : 'read_failed',
      message: typeof fields.message === 'string' ? fields.message : String(error),
      details: typeof fields.details === 'string' ? fields.details : typeof fields.stack === 'string' ? fields.stack : undefined,
    },
  };
}

/**
 * Runs in a piscina worker (client/read-pool.ts): fetches, checks and decodes a group of
 * segments off the main thread, all at once (so the shards each node holds for them go out as
 * one batch request), and hands back their payloads (moved, not copied) with what it saw of
 * the nodes, which the main thread's NodeHealth applies.
 */
export default async function read(task: ReadTask): Promise<ReadResult> {
  const events: HealthEvent[] = [];
  const health: ShardHealth = {
    rank: (node) => task.ranks[node] ?? 3,
    hedgeDelayMs: () => task.hedgeDelayMs,
    maxHedgeMs: () => task.maxHedgeMs,
    served: (node, ms) => events.push({ kind: 'served', node, ms }),
    failed: (node, reason) => events.push({ kind: 'failed', node, reason }),
    hedged: (node) => events.push({ kind: 'hedged', node }),
  };
  const clients = task.urls.map((url) => (url ? clientFor(url, task.timeoutMs) : undefined));
  const merkle = verifierFor(task);
  const outcomes = await Promise.all(
    task.segments.map((segment) =>
      fetchSegment(task.id, task.terms, segment, { clients, merkle, health }).then((fetched): SegmentOutcome => fetched, outcomeOfError),
    ),
  );
  // Each payload's buffer is the segment's own (blobsToSegment allocates it): moved to the main thread, not copied.
  const buffers = outcomes.flatMap((outcome) => ('payload' in outcome ? [outcome.payload.buffer] : []));
  const result: ReadResult = { outcomes, events };
  const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: result };
  return Piscina.move(movable as unknown as ArrayBuffer) as unknown as ReadResult;
}
