import { epochAt, epochWindow, type ChallengeInfo, type EpochParameters, type Registry } from '../chain/registry.ts';
import { toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';
import type { DatasetCatalog, DatasetState } from './datasets.ts';
import type { Metrics } from './metrics.ts';
import { type DamageReport, openShard, type ShardOpening } from './proving.ts';
import type { ShardStore } from './store.ts';
import type { ShardOpener } from './verifier.ts';

/** What the responder reads on chain. */
export type ChallengeRegistryView = Pick<Registry, 'epochParameters' | 'dataset' | 'challenge' | 'nodeIdByKey' | 'nodeEarnings'>;
/** What it sends: the registry connected to the operator's wallet. */
export type ChallengeRegistryWriter = Pick<Registry, 'answerChallenge' | 'reportMissed'>;

export interface ChallengeResponderDeps {
  registry: ChallengeRegistryView;
  writer: ChallengeRegistryWriter;
  /** The latest block number, asked of the chain every time. */
  blockNumber: () => Promise<number>;
  catalog: Pick<DatasetCatalog, 'list' | 'get'>;
  store: Pick<ShardStore, 'getShard'>;
  opener: ShardOpener;
  /** Hears of a challenged shard found missing or damaged (the repairer). */
  onDamaged?: DamageReport;
  publicKey: Uint8Array;
  metrics: Metrics;
  /** Where to say what went wrong (a node's log); silent when omitted. */
  log?: (level: 'info' | 'warn', message: string) => void;
  /** How often to look at the chain (default 1000 ms). */
  pollMs?: number;
}

/** Epochs looked back on at start-up: what happened while the node was down is mostly settled by then. */
const LOOKBACK_EPOCHS = 2;
/** Earnings change with this node's answers and misses, which refresh them at once; claims are read this often, at a new block. */
const EARNINGS_REFRESH_MS = 30_000;

/** Per dataset: epochs are handled in order, so the state is about epoch `next` only. */
interface Track {
  terms?: { epochs: number; startEpoch: number };
  /** The first epoch not yet fully handled. */
  next?: number;
  /** Epoch `next`'s own challenge is settled (answered, missed, or none): no need to ask again. */
  ownSettled: boolean;
  /** Epoch `next`'s challenge cannot be answered here (the shard is gone): do not try again. */
  unanswerable: boolean;
}

/**
 * Watches the chain and answers this node's challenges without help: every poll, for each
 * stored dataset and each epoch whose challenges are drawn, it opens the challenged shard
 * and submits the answer within the window. Once a window has closed it reports the node
 * set's unanswered challenges, which earns the reporter a share of the slash: nodes police
 * each other. /metrics counts answered, missed and reported challenges and the earnings.
 */
export class ChallengeResponder {
  private readonly tracks = new Map<string, Track>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private nodeId: number | undefined;
  private earningsReadAt = 0;
  private earningsChanged = true;
  /** Block and datasets of the last tick that went through without a failure (see tick). */
  private quietAt: string | undefined;
  /** Failures during the current tick: a tick with any is not quiet, and the next one looks again. */
  private failures = 0;

  constructor(private readonly deps: ChallengeResponderDeps) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((error: unknown) => this.failed('poll', error));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.deps.pollMs ?? 1000);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One pass over every stored dataset; exposed for tests. Challenges, windows and earnings
   * change only with blocks: once a pass at this block over these datasets went through without
   * a failure, the next ones wait for a new block (or other datasets) rather than ask the chain the same
   * questions every poll. A failure (chain trouble, a shard being repaired) is tried again at once.
   */
  async tick(): Promise<void> {
    const params = await this.deps.registry.epochParameters();
    const block = await this.deps.blockNumber();
    const ids = await this.deps.catalog.list();
    // The datasets themselves, not their count: one dropped and another stored at the same block is news.
    const at = `${block}:${ids.map(toHex).join(',')}`;
    if (at === this.quietAt) return;
    this.failures = 0;
    const epoch = epochAt(params, block);
    for (const id of ids) {
      if (this.stopped) return;
      await this.handleDataset(id, epoch, block, params);
    }
    if (this.earningsChanged || Date.now() - this.earningsReadAt > EARNINGS_REFRESH_MS) await this.refreshEarnings();
    this.quietAt = this.failures === 0 ? at : undefined;
  }

  private async handleDataset(id: Uint8Array, epoch: number, block: number, params: EpochParameters): Promise<void> {
    const key = toHex(id);
    let track = this.tracks.get(key);
    if (!track) {
      track = { ownSettled: false, unanswerable: false };
      this.tracks.set(key, track);
    }
    // Terms are fixed once the dataset is certified (startEpoch > 0); until then, ask again.
    if (!track.terms || track.terms.startEpoch === 0) track.terms = await this.deps.registry.dataset(id);
    const { startEpoch, epochs } = track.terms;
    if (startEpoch === 0) return;
    const state = await this.deps.catalog.get(id);
    if (state.nodeIndex < 0) return;
    track.next ??= Math.max(startEpoch, epoch - LOOKBACK_EPOCHS);
    const last = Math.min(epoch, startEpoch + epochs - 1);
    while (track.next <= last && !this.stopped) {
      if (!(await this.handleEpoch(state, track, track.next, block, params))) return;
      track.next++;
      track.ownSettled = false;
      track.unanswerable = false;
    }
  }

  /**
   * Returns true once nothing is left to do for this epoch. Asks the chain only what it does
   * not know: nothing before the draw, and its own challenge only until it is settled.
   */
  private async handleEpoch(state: DatasetState, track: Track, epoch: number, block: number, params: EpochParameters): Promise<boolean> {
    const { opensAfter, closesAt } = epochWindow(params, epoch);
    if (block <= opensAfter) return false;
    if (!track.ownSettled) {
      const own = await this.deps.registry.challenge(state.id, epoch, state.nodeIndex);
      this.nodeId ??= await this.deps.registry.nodeIdByKey(this.deps.publicKey);
      if (own.status !== 'none' && own.nodeId !== this.nodeId) {
        // The slot is another node's in this epoch (it was replaced): nothing of ours to answer or count.
        track.ownSettled = true;
      } else if (own.status === 'open') {
        // A transaction sent now lands in the next block; past closesAt it would only revert.
        if (block + 1 <= closesAt && !track.unanswerable) track.ownSettled = await this.answer(state, track, epoch, own);
      } else if (own.status === 'expired' || own.status === 'missed') {
        track.ownSettled = true;
        this.earningsChanged = true;
        this.deps.metrics.inc('sherd_challenges_missed_total');
        this.deps.log?.('warn', `missed the challenge of epoch ${epoch} for ${toHex(state.id)} (shard ${own.segment}/${own.index})`);
      } else {
        track.ownSettled = own.status !== 'pending';
      }
    }
    if (block <= closesAt) return false;
    await this.reportPeers(state, epoch);
    return true;
  }

  /** Whether the challenge got answered. */
  private async answer(state: DatasetState, track: Track, epoch: number, challenge: ChallengeInfo): Promise<boolean> {
    const { segment, index, z } = challenge;
    let opening: ShardOpening;
    try {
      opening = await openShard(this.deps, state, segment, index, z);
    } catch (error) {
      // Typically shard_missing. With a repairer told of it, the shard may be back before the window closes: try
      // again on the next poll. Without one, there is nothing to answer with, now or later; peers will report it.
      track.unanswerable = !this.deps.onDamaged;
      this.failed(`opening shard ${segment}/${index} for epoch ${epoch}`, error);
      return false;
    }
    try {
      await this.deps.writer.answerChallenge({
        datasetId: state.id,
        epoch,
        member: state.nodeIndex,
        commitment: opening.commitment,
        shardHash: opening.shardHash,
        inclusionProof: opening.inclusionProof,
        z,
        y: opening.y,
        kzgProof: opening.kzgProof,
      });
      this.deps.metrics.inc('sherd_challenges_answered_total');
      this.earningsChanged = true;
      this.deps.log?.(
        'info',
        `answered the challenge of epoch ${epoch} for ${toHex(state.id)} (shard ${segment}/${index}), earning ${challenge.reward} wei`,
      );
      return true;
    } catch (error) {
      // Chain trouble is worth another try on the next poll, while the window lasts.
      this.failed(`answering the challenge of epoch ${epoch}`, error);
      return false;
    }
  }

  /** Reports every other member whose challenge of `epoch` closed unanswered. */
  private async reportPeers(state: DatasetState, epoch: number): Promise<void> {
    for (let member = 0; member < state.manifest.nodes.length; member++) {
      if (member === state.nodeIndex || this.stopped) continue;
      const peer = await this.deps.registry.challenge(state.id, epoch, member);
      if (peer.status !== 'expired') continue;
      try {
        await this.deps.writer.reportMissed(state.id, epoch, member);
        this.deps.metrics.inc('sherd_challenges_reported_total');
        this.deps.log?.('info', `reported node ${peer.nodeId}'s missed challenge of epoch ${epoch} for ${toHex(state.id)}`);
      } catch (error) {
        // Another node may have reported it first.
        if (!(error instanceof SherdError && error.code === 'ChallengeAlreadySettled')) this.failed(`reporting member ${member}`, error);
      }
    }
  }

  private async refreshEarnings(): Promise<void> {
    this.nodeId ??= await this.deps.registry.nodeIdByKey(this.deps.publicKey);
    if (this.nodeId === undefined) return;
    const earnings = await this.deps.registry.nodeEarnings(this.nodeId);
    this.earningsChanged = false;
    this.earningsReadAt = Date.now();
    this.deps.metrics.set('sherd_rewards_earned_wei', Number(earnings.earned));
    this.deps.metrics.set('sherd_rewards_unclaimed_wei', Number(earnings.unclaimed));
    this.deps.metrics.set('sherd_stake_slashed_wei', Number(earnings.slashed));
  }

  private failed(what: string, error: unknown): void {
    this.failures++;
    const code = error instanceof SherdError ? error.code : 'error';
    this.deps.metrics.inc('sherd_challenge_errors_total', 1, { code });
    this.deps.log?.('warn', `${what} failed: ${(error as Error)?.message ?? String(error)}`);
  }
}
