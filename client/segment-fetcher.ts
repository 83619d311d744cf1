import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { equalBytes } from '../proofs/bytes.ts';
import { frCodeFor } from '../proofs/fr-code.ts';
import { sha256 } from '../proofs/hash.ts';
import { type MerkleVerifier, merkleLeaf } from '../proofs/merkle.ts';
import { shardPosition } from '../protocol/manifest.ts';
import { nodeForShard } from '../protocol/placement.ts';
import { blobsToSegment } from '../protocol/segment.ts';
import { DownloadError, NO_LONGER_NEEDED, RemoteError } from './errors.ts';
import type { ShardSource } from './shard-batcher.ts';
import type { NodeHealth, ShardFailure } from './node-health.ts';

/** What a segment fetch asks of and tells to node health, by node index in the node set. */
export interface ShardHealth {
  rank(node: number): number;
  hedgeDelayMs(): number;
  /** The longest a request waits before it is hedged, even when no other request of its segment has been answered. */
  maxHedgeMs(): number;
  served(node: number, ms: number): void;
  failed(node: number, reason: ShardFailure): void;
  hedged(node: number): void;
}

/** What a segment fetch needs to know of its dataset. */
export interface FetchTerms {
  contentRoot: Uint8Array;
  size: number;
  k: number;
  m: number;
  /** Nodes of the node set, in placement order. */
  nodeCount: number;
}

export interface FetchedSegment {
  payload: Uint8Array;
  /** Whether a data shard was missing, so the segment was rebuilt from parity. */
  reconstructed: boolean;
}

/** `health` seen by node index, for a reader whose nodes are `refs` (a node without a client ranks last). */
export function shardHealthOf(health: NodeHealth, refs: ReadonlyArray<{ publicKey: string; url: string } | undefined>): ShardHealth {
  return {
    rank: (node) => (refs[node] ? health.rank(refs[node]) : 3),
    hedgeDelayMs: () => health.hedgeDelayMs(),
    maxHedgeMs: () => health.maxHedgeMs,
    served: (node, ms) => refs[node] && health.served(refs[node], ms),
    failed: (node, reason) => refs[node] && health.failed(refs[node], reason),
    hedged: (node) => refs[node] && health.hedged(refs[node]),
  };
}

/**
 * Fetches one segment: any k shards, each checked against the content root alone (its SHA-256
 * is the one in the leaf the node sent, and that leaf sits at the shard's position under the
 * root), then decoded. Data shards are asked for first and nodes in bad standing last; k
 * requests go out at once, each failure launches the next candidate, and so does a request
 * still unanswered after the hedge delay once another of the segment's requests has been
 * answered, or after the longest hedge delay in any case (its node is told to `health` as
 * slow): when none has come back, the reader or every node is loaded, and more requests would
 * only add load (and rebuild segments for nothing). Once k are good the rest are cancelled.
 * Runs on the caller's thread or in a read worker alike.
 */
export async function fetchSegment(
  id: Uint8Array,
  terms: FetchTerms,
  s: number,
  deps: { clients: ReadonlyArray<ShardSource | undefined>; merkle: MerkleVerifier; health: ShardHealth; signal?: AbortSignal },
): Promise<FetchedSegment> {
  const { k, m } = terms;
  const candidates = candidateOrder(terms, s, deps.health);
  const blobs: Array<Uint8Array | undefined> = new Array(k + m).fill(undefined);
  const errors: string[] = [];
  const controller = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, controller.signal]) : controller.signal;
  let good = 0;
  let next = 0;
  let pending = 0;
  /** Requests of this segment answered, well or not: the measure of whether one still pending is late. */
  let answered = 0;

  await new Promise<void>((resolve, reject) => {
    const settleIfDone = () => {
      if (good >= k) {
        controller.abort(NO_LONGER_NEEDED);
        resolve();
      } else if (pending === 0 && next >= candidates.length) {
        reject(
          new DownloadError('segment_unrecoverable', `segment ${s} has only ${good} of the ${k} good shards it needs`, {
            details: errors.join('; '),
          }),
        );
      }
    };
    const launch = (): void => {
      if (next >= candidates.length) return;
      const i = candidates[next++]!;
      const node = nodeForShard(s, i, terms.nodeCount);
      const client = deps.clients[node];
      if (!client) {
        errors.push(`shard ${i}: node ${node} is not among the known nodes`);
        launch();
        return;
      }
      pending++;
      const launchedAt = performance.now();
      let hedge: NodeJS.Timeout | undefined;
      const armHedge = () => {
        hedge = setTimeout(() => {
          if (good >= k || next >= candidates.length) return;
          // No shard of this segment has come back either: every node is slow (a loaded reader,
          // not a slow node), and another request would only add load. Wait on, up to the cap.
          if (answered === 0 && performance.now() - launchedAt < deps.health.maxHedgeMs()) {
            armHedge();
            return;
          }
          deps.health.hedged(node);
          launch();
        }, deps.health.hedgeDelayMs());
      };
      armHedge();
      void fetchShard(id, terms, s, i, node, client, deps, signal).then((result) => {
        clearTimeout(hedge);
        pending--;
        answered++;
        if (deps.signal?.aborted) {
          reject(deps.signal.reason);
          return;
        }
        if (typeof result !== 'string' && good < k) {
          blobs[i] = result;
          good++;
        } else if (typeof result === 'string' && !controller.signal.aborted) {
          errors.push(result);
          if (good < k) launch();
        }
        settleIfDone();
      });
    };
    for (let j = 0; j < k; j++) launch();
    settleIfDone();
  });

  return { payload: blobsToSegment(frCodeFor(k, m), blobs), reconstructed: blobs.slice(0, k).some((b) => b === undefined) };
}

/** Shard indices of segment `s` in the order to ask for them: data first, nodes in bad standing last. */
function candidateOrder(terms: FetchTerms, s: number, health: ShardHealth): number[] {
  const rank = (i: number) => health.rank(nodeForShard(s, i, terms.nodeCount)) * 1000 + i;
  return Array.from({ length: terms.k + terms.m }, (_, i) => i).sort((a, b) => rank(a) - rank(b));
}

/** One shard from its node, checked against the content root; the blob, or why not (told to health). */
async function fetchShard(
  id: Uint8Array,
  terms: FetchTerms,
  s: number,
  i: number,
  node: number,
  client: ShardSource,
  deps: { merkle: MerkleVerifier; health: ShardHealth },
  signal: AbortSignal,
): Promise<Uint8Array | string> {
  const started = performance.now();
  try {
    const shard = await client.getShardWithProof(id, s, i, signal);
    if (
      shard.blob.length === BYTES_PER_BLOB &&
      equalBytes(sha256(shard.blob), shard.shardHash) &&
      deps.merkle.verify(merkleLeaf(shard.commitment, shard.shardHash), shardPosition(terms, s, i), shard.inclusionProof)
    ) {
      deps.health.served(node, performance.now() - started);
      return shard.blob;
    }
    deps.health.failed(node, 'corrupt');
    return `shard ${i} from node ${node}: bytes do not match the content root`;
  } catch (error) {
    if (signal.aborted) return `shard ${i} from node ${node}: cancelled`;
    deps.health.failed(node, failureOf(error));
    return `shard ${i} from node ${node}: ${(error as Error).message}`;
  }
}

function failureOf(error: unknown): ShardFailure {
  if (!(error instanceof RemoteError)) return 'error';
  if (error.code === 'unreachable' || error.code === 'timeout') return error.code;
  return error.code === 'bad_response' ? 'corrupt' : 'error';
}
