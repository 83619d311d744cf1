import type { DatasetMember, Registry } from '../chain/registry.ts';
import { BYTES_PER_BLOB } from '../proofs/blob.ts';
import { equalBytes, toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';
import { frCodeFor } from '../proofs/fr-code.ts';
import { sha256 } from '../proofs/hash.ts';
import { decodeManifest, manifestCommitments, manifestSegments, shardPosition, shardsPerSegment } from '../protocol/manifest.ts';
import { nodeForShard, shardsOnNode } from '../protocol/placement.ts';
import { registrationProblem } from '../protocol/registration.ts';
import { contentRoot, type DatasetCatalog, type DatasetState } from './datasets.ts';
import type { Metrics } from './metrics.ts';
import type { DatasetMeta, ShardStore } from './store.ts';
import type { EncodingChecker } from './verifier.ts';

/** A repair that could not be made, with a stable code. */
export class RepairError extends SherdError {
  override name = 'RepairError';
}

/** What repair reads on chain: which datasets exist, who holds their slots, and where those nodes are. */
export type RepairChainView = Pick<
  Registry,
  'nodeIdByKey' | 'certifiedDatasets' | 'datasetMembers' | 'registeredTerms' | 'node' | 'replacements'
>;
/** What it sends: replacements of members that left, and its own confirmations. */
export type RepairChainWriter = Pick<Registry, 'replaceMember' | 'confirmReplacement'>;

export interface RepairLimits {
  /** Shards rebuilt at once (default 2). */
  shardsAtOnce: number;
  /** Bound on peer bytes in flight; each rebuild holds k shards (default 16 MiB). */
  maxBytesInFlight: number;
  /** Per peer request (default 10 s). */
  fetchTimeoutMs: number;
}

export interface RepairDeps {
  store: Pick<ShardStore, 'getShard' | 'putShard' | 'listShards' | 'getManifest' | 'getMeta' | 'putDataset' | 'putMeta'>;
  catalog: Pick<DatasetCatalog, 'get' | 'describe' | 'remember' | 'list'>;
  chain: RepairChainView;
  /** Without a writer (no operator key) the node repairs but neither replaces members nor confirms. */
  writer?: RepairChainWriter;
  /** The latest block number. */
  blockNumber: () => Promise<number>;
  publicKey: Uint8Array;
  /** This node's BLS signature over the attestation message of dataset `id`: what confirms a replacement. */
  signAttestation: (id: Uint8Array) => Uint8Array;
  /** Checks a manifest fetched from a peer as announcements are checked. */
  encoding: EncodingChecker;
  metrics: Metrics;
  log?: (level: 'info' | 'warn', message: string) => void;
  limits?: Partial<RepairLimits>;
  /** Fetches `path` from a peer, at most `maxBytes`; undefined on any failure (injectable for tests). */
  fetchPeer?: (url: string, path: string, timeoutMs: number, maxBytes?: number) => Promise<Uint8Array | undefined>;
}

/** What one repair pass did. */
export interface RepairReport {
  /** Datasets this node holds a slot of, looked at. */
  datasets: number;
  /** Manifests fetched from peers (datasets this node had no record of). */
  manifestsFetched: number;
  /** Shards this node should hold. */
  assigned: number;
  missing: number;
  repaired: number;
  failed: number;
  bytesFetched: number;
  /** Replacements confirmed on chain. */
  confirmed: number;
  seconds: number;
  errors: string[];
}

export type RepairReason = 'scan' | 'scrub' | 'corrupt' | 'challenge' | 'sample';

interface Task {
  state: DatasetState;
  segment: number;
  index: number;
  reason: RepairReason;
}

const DEFAULT_LIMITS: RepairLimits = { shardsAtOnce: 2, maxBytesInFlight: 16 * 1024 * 1024, fetchTimeoutMs: 10_000 };
/** How long the slots' holders and endpoints of a dataset are reused before asking the chain again. */
const PEER_TTL_MS = 5_000;

/** A manifest of 256 shards per segment over a 2^20-shard dataset is ~80 MiB; nothing a peer sends repair may be larger. */
const MAX_PEER_BODY = 96 * 1024 * 1024;

async function fetchFromPeer(url: string, path: string, timeoutMs: number, maxBytes = MAX_PEER_BODY): Promise<Uint8Array | undefined> {
  try {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    // A body is read only when it says how long it is, within the bound: a peer cannot make repair hold more.
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (response.status !== 200 || !Number.isSafeInteger(length) || length > maxBytes) {
      await response.body?.cancel();
      return undefined;
    }
    const body = new Uint8Array(await response.arrayBuffer());
    return body.length === length ? body : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds what this node should hold and does not. A shard is rebuilt from any k verified
 * shards of its segment fetched from the slots' current holders (each checked against its
 * SHA-256 in the manifest, whose root is the content root on chain), decoded, re-encoded when
 * it is parity, checked against its own hash and stored in one atomic put. A pass also finds
 * datasets the node holds a slot of but has no record of (an empty disk, or a slot taken over
 * as a replacement): it fetches their manifest from a peer and checks it as an announcement.
 * Repair traffic is bounded: `shardsAtOnce` rebuilds, each with k shards in flight, within
 * `maxBytesInFlight`.
 */
export class Repairer {
  private readonly limits: RepairLimits;
  private readonly queue = new Map<string, Task>();
  /** Keys being rebuilt: a shard reported again meanwhile (a challenge polled every second) is not rebuilt twice. */
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly peers = new Map<string, { at: number; members: DatasetMember[]; urls: Array<string | undefined> }>();
  private nodeId: number | undefined;
  private stopped = false;
  /** Outcome counters of the rebuilds since the last takeCounts(): what a pass reports. */
  private counts = { repaired: 0, failed: 0, bytesFetched: 0, errors: [] as string[] };

  constructor(private readonly deps: RepairDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
  }

  /** Rebuilds at once: within the bytes bound, k shards being fetched per rebuild. */
  private concurrency(k: number): number {
    return Math.max(1, Math.min(this.limits.shardsAtOnce, Math.floor(this.limits.maxBytesInFlight / (k * BYTES_PER_BLOB))));
  }

  /** This node's registry id, or undefined while it is not registered. */
  async ownNodeId(): Promise<number | undefined> {
    this.nodeId ??= await this.deps.chain.nodeIdByKey(this.deps.publicKey);
    return this.nodeId;
  }

  /** Queues shard segment/index of a dataset for rebuilding (once, however often it is reported). */
  enqueue(state: DatasetState, segment: number, index: number, reason: RepairReason): void {
    if (this.stopped) return;
    const key = `${toHex(state.id)}/${segment}/${index}`;
    if (this.queue.has(key) || this.inFlight.has(key)) return;
    this.queue.set(key, { state, segment, index, reason });
    this.pump();
  }

  /** Resolves once nothing is queued or being rebuilt. */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolveIdle) => this.idleWaiters.push(resolveIdle));
  }

  /**
   * Runs without help: one pass over everything at start-up, then every `pollMs` a look at the
   * chain (watch). Logs each pass that found something.
   */
  start(pollMs = 2_000): void {
    const loop = async () => {
      if (this.stopped) return;
      this.looping = (this.watchedTo === undefined ? this.startupPass() : this.watch()).catch((error: unknown) =>
        this.deps.log?.('warn', `repair: ${(error as Error).message}`),
      );
      await this.looping;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), pollMs);
    };
    void loop();
  }

  private timer: NodeJS.Timeout | undefined;
  private looping: Promise<unknown> | undefined;
  /** The last block the watch has seen events up to. */
  private watchedTo: number | undefined;
  /** Whether the last watch left something to try again before the next block. */
  private lookAgain = false;

  private async startupPass(): Promise<void> {
    const block = await this.deps.blockNumber();
    // A node starts before it registers (it needs its URL for that): until then it holds no slot, and waits.
    if ((await this.ownNodeId()) === undefined) return;
    const report = await this.pass();
    this.watchedTo = block;
    this.logPass('start-up scan', report);
  }

  /**
   * One look at the chain: departed members of this node's datasets replaced, then a pass over
   * each dataset certified or given to this node (a slot taken over) since the last look.
   */
  async watch(): Promise<void> {
    const block = await this.deps.blockNumber();
    // Members, replacements and certifications change only with blocks: at the block already
    // watched, only a slot still repairing or a replacement that failed needs another look.
    if (block === this.watchedTo && !this.lookAgain) return;
    const from = (this.watchedTo ?? block) + 1;
    const { repairing, failed } = await this.replaceDeparted();
    this.lookAgain = repairing.length > 0 || failed > 0;
    const ids = new Map<string, Uint8Array>(repairing.map((id) => [toHex(id), id]));
    for (const id of await this.replacementsSince(from)) ids.set(toHex(id), id);
    for (const id of await this.deps.chain.certifiedDatasets({ fromBlock: from })) ids.set(toHex(id), id);
    this.watchedTo = block;
    for (const id of ids.values()) {
      if (this.stopped) return;
      this.logPass(`pass over ${toHex(id)}`, await this.pass({ root: id }));
    }
  }

  private logPass(what: string, report: RepairReport): void {
    if (report.missing === 0 && report.errors.length === 0 && report.confirmed === 0) return;
    this.deps.log?.(report.failed || report.errors.length ? 'warn' : 'info', `repair ${what}: ${describeReport(report)}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.clear();
    await this.looping;
    await Promise.all([...this.running]);
  }

  private pump(): void {
    while (this.queue.size > 0 && !this.stopped) {
      const [key, task] = this.queue.entries().next().value!;
      if (this.running.size >= this.concurrency(task.state.manifest.k)) break;
      this.queue.delete(key);
      this.inFlight.add(key);
      const run = this.rebuild(task).finally(() => {
        this.inFlight.delete(key);
        this.running.delete(run);
        this.pump();
        if (this.queue.size === 0 && this.running.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
      this.running.add(run);
    }
  }

  private async rebuild(task: Task): Promise<void> {
    const { metrics } = this.deps;
    const { state } = task;
    const id = toHex(state.id);
    try {
      // Another rebuild or an upload may have stored it since it was queued.
      const stored = await this.deps.store.getShard(state.id, task.segment, task.index).catch(() => undefined);
      const record = state.manifest.shards[shardPosition(state.manifest, task.segment, task.index)]!;
      if (stored && equalBytes(sha256(stored), record.hash)) return;
      const fetched = await this.rebuildShard(state, task.segment, task.index);
      this.counts.repaired++;
      this.counts.bytesFetched += fetched;
      metrics.inc('sherd_repaired_shards_total', 1, { reason: task.reason });
      metrics.inc('sherd_repair_bytes_fetched_total', fetched);
      metrics.inc('sherd_repair_bytes_restored_total', BYTES_PER_BLOB);
      this.deps.log?.('info', `repaired shard ${task.segment}/${task.index} of ${id} (${task.reason}) from ${fetched} peer bytes`);
    } catch (error) {
      const code = error instanceof SherdError ? error.code : 'error';
      this.counts.failed++;
      if (this.counts.errors.length < 20) this.counts.errors.push(`${task.segment}/${task.index}: ${(error as Error).message}`);
      metrics.inc('sherd_repair_failures_total', 1, { code });
      this.deps.log?.('warn', `repairing shard ${task.segment}/${task.index} of ${id} failed: ${(error as Error).message}`);
    }
  }

  /** Rebuilds and stores one shard; returns the peer bytes it took. */
  private async rebuildShard(state: DatasetState, segment: number, index: number): Promise<number> {
    const { manifest } = state;
    const { k, m } = manifest;
    const n = k + m;
    const { urls } = await this.holders(state.id);
    const shards = new Array<Uint8Array | undefined>(n);
    // Data shards first: with all k of them present, a parity shard needs no decoding.
    const candidates = Array.from({ length: n }, (_, j) => j).filter((j) => j !== index);
    let have = 0;
    let fetched = 0;
    let next = 0;
    while (have < k && next < candidates.length && !this.stopped) {
      const wave = candidates.slice(next, next + (k - have));
      next += wave.length;
      const blobs = await Promise.all(wave.map((j) => this.fetchVerified(state, urls, segment, j)));
      for (const [w, blob] of blobs.entries()) {
        if (!blob) continue;
        shards[wave[w]!] = blob;
        have++;
        fetched += blob.length;
      }
    }
    if (have < k) throw new RepairError('too_few_shards', `found ${have} of the ${k} verified shards segment ${segment} needs`);
    const code = frCodeFor(k, m);
    const data = code.decode(shards);
    let blob: Uint8Array;
    if (index < k) {
      blob = data[index]!.slice();
    } else {
      const joined = new Uint8Array(k * BYTES_PER_BLOB);
      for (const [i, d] of data.entries()) joined.set(d, i * BYTES_PER_BLOB);
      const j = index - k;
      blob = code.encode(joined).slice(j * BYTES_PER_BLOB, (j + 1) * BYTES_PER_BLOB);
    }
    const record = manifest.shards[shardPosition(manifest, segment, index)]!;
    if (!equalBytes(sha256(blob), record.hash)) {
      throw new RepairError('rebuilt_mismatch', `shard ${segment}/${index} rebuilt does not match its hash in the manifest`);
    }
    await this.deps.store.putShard(state.id, segment, index, blob);
    return fetched;
  }

  /** Shard segment/j from its holder, if it answers with the bytes the manifest names. */
  private async fetchVerified(
    state: DatasetState,
    urls: Array<string | undefined>,
    segment: number,
    j: number,
  ): Promise<Uint8Array | undefined> {
    const holder = nodeForShard(segment, j, state.manifest.nodes.length);
    const url = holder === state.nodeIndex ? undefined : urls[holder];
    if (!url) return undefined;
    const blob = await this.fetchPeer(url, `/v1/datasets/${toHex(state.id)}/shards/${segment}/${j}`, BYTES_PER_BLOB);
    if (!blob) return undefined;
    const record = state.manifest.shards[shardPosition(state.manifest, segment, j)]!;
    if (blob.length !== BYTES_PER_BLOB || !equalBytes(sha256(blob), record.hash)) {
      this.deps.metrics.inc('sherd_repair_bad_peer_shards_total');
      return undefined;
    }
    return blob;
  }

  /** Each slot's current holder and its endpoint, asked of the chain at most every few seconds. */
  private async holders(id: Uint8Array): Promise<{ members: DatasetMember[]; urls: Array<string | undefined> }> {
    const key = toHex(id);
    const known = this.peers.get(key);
    if (known && performance.now() - known.at < PEER_TTL_MS) return known;
    const members = await this.deps.chain.datasetMembers(id);
    const urls = await Promise.all(
      members.map((member) =>
        this.deps.chain.node(member.nodeId).then(
          (node) => node.endpoint || undefined,
          () => undefined,
        ),
      ),
    );
    const entry = { at: performance.now(), members, urls };
    this.peers.set(key, entry);
    return entry;
  }

  /**
   * One pass: every certified dataset this node holds a slot of (or only `root`), its manifest
   * fetched if it has none, every assigned shard checked for presence and the missing ones
   * rebuilt; then each slot taken over as a replacement and now whole is confirmed on chain.
   */
  async pass(options: { root?: Uint8Array } = {}): Promise<RepairReport> {
    const started = performance.now();
    const report: RepairReport = {
      datasets: 0,
      manifestsFetched: 0,
      assigned: 0,
      missing: 0,
      repaired: 0,
      failed: 0,
      bytesFetched: 0,
      confirmed: 0,
      seconds: 0,
      errors: [],
    };
    this.counts = { repaired: 0, failed: 0, bytesFetched: 0, errors: [] };
    const nodeId = await this.ownNodeId();
    if (nodeId === undefined) throw new RepairError('not_registered', 'this node is not registered on chain: it holds no slot to repair');
    const ids = options.root ? [options.root] : await this.deps.chain.certifiedDatasets();
    const slots: Array<{ state: DatasetState; slot: number; member: DatasetMember }> = [];
    for (const id of ids) {
      if (this.stopped) break;
      try {
        this.peers.delete(toHex(id));
        const { members } = await this.holders(id);
        const slot = members.findIndex((member) => member.nodeId === nodeId);
        if (slot < 0) continue;
        report.datasets++;
        const { state, fetched } = await this.datasetState(id, slot);
        if (fetched) report.manifestsFetched++;
        const { assigned, missing } = await this.queueMissing(state, 'scan');
        report.assigned += assigned;
        report.missing += missing;
        slots.push({ state, slot, member: members[slot]! });
      } catch (error) {
        report.errors.push(`${toHex(id)}: ${(error as Error).message}`);
      }
    }
    await this.idle();
    for (const { state, slot, member } of slots) {
      if (member.state === 'repairing' && (await this.confirmIfWhole(state, slot, report.errors))) report.confirmed++;
    }
    Object.assign(report, { repaired: this.counts.repaired, failed: this.counts.failed, bytesFetched: this.counts.bytesFetched });
    report.errors.push(...this.counts.errors);
    report.seconds = (performance.now() - started) / 1000;
    this.deps.metrics.inc('sherd_repair_passes_total');
    return report;
  }

  /** Queues every assigned shard of `state` that is not stored. */
  async queueMissing(state: DatasetState, reason: RepairReason): Promise<{ assigned: number; missing: number }> {
    const { manifest } = state;
    const held = new Set((await this.deps.store.listShards(state.id)).map(([s, i]) => `${s}/${i}`));
    let assigned = 0;
    let missing = 0;
    for (const [s, i] of shardsOnNode(state.nodeIndex, manifestSegments(manifest), shardsPerSegment(manifest), manifest.nodes.length)) {
      assigned++;
      if (held.has(`${s}/${i}`)) continue;
      missing++;
      this.enqueue(state, s, i, reason);
    }
    return { assigned, missing };
  }

  /**
   * The dataset as this node holds it at `slot`: from its store, or, when it has no record of it,
   * with the manifest fetched from a holder of another slot and checked against the chain.
   */
  private async datasetState(id: Uint8Array, slot: number): Promise<{ state: DatasetState; fetched: boolean }> {
    const meta = await this.deps.store.getMeta(id);
    if (meta) {
      const state = await this.deps.catalog.get(id);
      if (state.nodeIndex === slot) return { state, fetched: false };
      // The node took over a slot of a dataset it already knew (it held another slot once): its place moves.
      const moved: DatasetMeta = { ...meta, slot };
      await this.deps.store.putMeta(id, moved);
      const next = this.deps.catalog.describe(id, meta.uploader, state.manifest, slot);
      this.deps.catalog.remember(next);
      return { state: next, fetched: false };
    }
    const terms = await this.deps.chain.registeredTerms(id);
    const { bytes, state, ownSlot } = await this.fetchManifest(id, slot, terms);
    const record: DatasetMeta = {
      uploader: terms.owner,
      announcedAt: new Date().toISOString(),
      ...(ownSlot === undefined ? {} : { slot }),
    };
    await this.deps.store.putDataset(id, bytes, record);
    this.deps.catalog.remember(state);
    this.deps.metrics.inc('sherd_repair_manifests_fetched_total');
    this.deps.log?.('info', `fetched the manifest of ${toHex(id)} from a peer: this node holds its slot ${slot}`);
    return { state, fetched: true };
  }

  /** The manifest from the first holder of another slot whose copy checks out; a peer that sends another is passed over. */
  private async fetchManifest(
    id: Uint8Array,
    slot: number,
    terms: Awaited<ReturnType<RepairChainView['registeredTerms']>>,
  ): Promise<{ bytes: Uint8Array; state: DatasetState; ownSlot: number | undefined }> {
    const { urls } = await this.holders(id);
    const problems: string[] = [];
    for (const [i, url] of urls.entries()) {
      if (i === slot || !url) continue;
      const bytes = await this.fetchPeer(url, `/v1/datasets/${toHex(id)}/manifest`);
      if (!bytes) continue;
      try {
        const manifest = decodeManifest(bytes);
        const ownSlot = manifest.nodes.findIndex((key) => equalBytes(key, this.deps.publicKey)) === slot ? undefined : slot;
        const state = this.deps.catalog.describe(id, terms.owner, manifest, ownSlot);
        const problem = registrationProblem(terms, manifest, contentRoot(state));
        if (problem) throw new RepairError('manifest_mismatch', `not the one on chain: ${problem.message}`);
        if (!(await this.deps.encoding.encodingConsistent(manifest.k, manifest.m, manifestCommitments(manifest)))) {
          throw new RepairError('inconsistent_encoding', 'its parity commitments do not derive from its data commitments');
        }
        return { bytes, state, ownSlot };
      } catch (error) {
        this.deps.metrics.inc('sherd_repair_bad_peer_manifests_total');
        problems.push(`${url}: ${(error as Error).message}`);
      }
    }
    const why = problems.length ? `: ${problems.join('; ')}` : '';
    throw new RepairError('manifest_unavailable', `no holder of dataset ${toHex(id)} served its manifest${why}`);
  }

  private fetchPeer(url: string, path: string, maxBytes?: number): Promise<Uint8Array | undefined> {
    return (this.deps.fetchPeer ?? fetchFromPeer)(url, path, this.limits.fetchTimeoutMs, maxBytes);
  }

  /** Confirms a replacement slot on chain once every assigned shard is stored; whether it did. */
  private async confirmIfWhole(state: DatasetState, slot: number, errors: string[]): Promise<boolean> {
    if (!this.deps.writer) {
      errors.push(`${toHex(state.id)}: slot ${slot} is rebuilt, but without an operator key this node cannot confirm it`);
      return false;
    }
    const { missing } = await this.queueMissing(state, 'scan');
    if (missing > 0) return false;
    try {
      await this.deps.writer.confirmReplacement(state.id, slot, this.deps.signAttestation(state.id));
      this.deps.metrics.inc('sherd_replacements_confirmed_total');
      this.deps.log?.('info', `confirmed slot ${slot} of ${toHex(state.id)} on chain`);
      return true;
    } catch (error) {
      errors.push(`${toHex(state.id)}: confirming slot ${slot} failed: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Replaces, on chain, every member of the node set of a dataset this node holds a slot of
   * that has left the active set (or let its repair window pass), as the contract allows
   * anyone to: nodes keep each other's datasets whole. Returns the replacements made and the
   * datasets whose slot this node holds unconfirmed, still in its window, and how many
   * replacements failed for a reason other than the chain's answer that none is due or possible.
   */
  async replaceDeparted(): Promise<{ replaced: number; repairing: Uint8Array[]; failed: number }> {
    const nodeId = await this.ownNodeId();
    if (nodeId === undefined) return { replaced: 0, repairing: [], failed: 0 };
    const block = await this.deps.blockNumber();
    let replaced = 0;
    let failed = 0;
    const repairing: Uint8Array[] = [];
    for (const id of await this.deps.catalog.list()) {
      const members = await this.deps.chain.datasetMembers(id);
      const own = members.find((member) => member.nodeId === nodeId);
      if (!own) continue;
      // A slot of ours still repairing (a rebuild or the confirmation failed): another pass, while the window lasts.
      if (own.state === 'repairing' && block <= own.repairDeadline && this.deps.writer) repairing.push(id);
      if (!this.deps.writer) continue;
      for (const [slot, member] of members.entries()) {
        const lapsed = member.state === 'repairing' && block > member.repairDeadline;
        if (member.active && !lapsed) continue;
        try {
          await this.deps.writer.replaceMember(id, slot);
          replaced++;
          this.peers.delete(toHex(id));
          this.deps.metrics.inc('sherd_members_replaced_total');
          this.deps.log?.('info', `replaced member ${slot} (node ${member.nodeId}) of ${toHex(id)}, which left the active set`);
        } catch (error) {
          // Another node replaced it first, or no active node is free to take the slot (asked again next time).
          const code = error instanceof SherdError ? error.code : 'error';
          if (code !== 'MemberStillActive' && code !== 'NoReplacementAvailable') {
            failed++;
            this.deps.metrics.inc('sherd_repair_failures_total', 1, { code });
          }
        }
      }
    }
    return { replaced, repairing, failed };
  }

  /** Datasets whose slot this node was given since block `fromBlock` (MemberReplaced events naming it). */
  async replacementsSince(fromBlock: number): Promise<Uint8Array[]> {
    const nodeId = await this.ownNodeId();
    if (nodeId === undefined) return [];
    const events = await this.deps.chain.replacements({ nodeId, fromBlock });
    return [...new Map(events.map((e) => [toHex(e.datasetId), e.datasetId])).values()];
  }
}

/** The report as one line for a log or the CLI. */
export function describeReport(report: RepairReport): string {
  return (
    `${report.datasets} datasets, ${report.assigned} shards assigned, ${report.missing} missing, ${report.repaired} repaired` +
    `${report.failed ? `, ${report.failed} failed` : ''} from ${report.bytesFetched} peer bytes in ${report.seconds.toFixed(1)} s` +
    `${report.confirmed ? `, ${report.confirmed} replacements confirmed` : ''}`
  );
}
