import { Piscina } from 'piscina';
import { MerkleVerifier } from '../proofs/merkle.ts';
import { segmentCount } from '../protocol/manifest.ts';
import { NodeClient } from './node-client.ts';
import { ShardBatcher } from './shard-batcher.ts';
import type { ShardFailure } from './node-health.ts';
import { type FetchedSegment, type FetchTerms, fetchSegment, type ShardHealth } from './segment-fetcher.ts';

/** One segment to fetch, with what the main thread knows of the nodes (their rank and the hedge delay). */
export interface ReadTask {
  id: Uint8Array;
  terms: FetchTerms;
  /** The node set's endpoints in placement order; undefined for a node without one. */
  urls: Array<string | undefined>;
  segment: number;
  ranks: number[];
  hedgeDelayMs: number;
  timeoutMs: number;
}

export type HealthEvent =
  | { kind: 'served'; node: number; ms: number }
  | { kind: 'failed'; node: number; reason: ShardFailure }
  | { kind: 'hedged'; node: number };

export interface ReadResult {
  /** Absent when the segment could not be read: then `error` says why (errors lose their class across threads). */
  payload?: Uint8Array;
  reconstructed: boolean;
  events: HealthEvent[];
  error?: { code: string; message: string; details?: string };
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
  const key = Buffer.from(task.id).toString('hex');
  let verifier = verifiers.get(key);
  if (!verifier) {
    if (verifiers.size >= MAX_VERIFIERS) verifiers.delete(verifiers.keys().next().value!);
    const leaves = segmentCount(task.terms.size, task.terms.k) * (task.terms.k + task.terms.m);
    verifier = new MerkleVerifier(task.terms.contentRoot, leaves);
    verifiers.set(key, verifier);
  }
  return verifier;
}

/**
 * Runs in a piscina worker (client/read-pool.ts): fetches, checks and decodes one segment off
 * the main thread, and hands back its payload (moved, not copied) with what it saw of the
 * nodes, which the main thread's NodeHealth applies.
 */
export default async function read(task: ReadTask): Promise<ReadResult> {
  const events: HealthEvent[] = [];
  const health: ShardHealth = {
    rank: (node) => task.ranks[node] ?? 3,
    hedgeDelayMs: () => task.hedgeDelayMs,
    served: (node, ms) => events.push({ kind: 'served', node, ms }),
    failed: (node, reason) => events.push({ kind: 'failed', node, reason }),
    hedged: (node) => events.push({ kind: 'hedged', node }),
  };
  const nodeClients = task.urls.map((url) => (url ? clientFor(url, task.timeoutMs) : undefined));
  let fetched: FetchedSegment;
  try {
    fetched = await fetchSegment(task.id, task.terms, task.segment, { clients: nodeClients, merkle: verifierFor(task), health });
  } catch (error) {
    const { code, message, details } = error as { code?: string; message: string; details?: string };
    return { reconstructed: false, events, error: { code: code ?? 'read_failed', message, details } };
  }
  const { payload, reconstructed } = fetched;
  // The payload's buffer is the segment's own (blobsToSegment allocates it): moved to the main thread, not copied.
  const result: ReadResult = { payload, reconstructed, events };
  const movable = { [Piscina.transferableSymbol]: [payload.buffer], [Piscina.valueSymbol]: result };
  return Piscina.move(movable as unknown as ArrayBuffer) as unknown as ReadResult;
}
